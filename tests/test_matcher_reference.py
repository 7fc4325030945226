"""MatchIndex against the reference matcher (tests/reference_matcher.py) on generated keywords
and texts: many queries in one index, the memos warm from earlier texts, removals in between."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.matcher import MatchIndex
from core.query import QueryError, parse_stored
from tests.reference_matcher import reference_match

STEMS = [
    "مغرب", "وزير", "وزراء", "وزارة", "أمن", "امن", "ثامن", "عمر", "عمران", "قطر", "كتب",
    "كتاب", "ألمانيا", "الله", "دم", "لبنان", "رئيس", "حكومة", "انتخابات", "يقع", "ستين",
    "داخلية", "الداخلية", "مؤتمر", "مؤتمرات", "غزة", "مصر", "إيران",
]  # fmt: skip
PROCLITICS = ["", "", "", "و", "ف", "ب", "ل", "ك", "ال", "وال", "بال", "لل", "وب", "س", "فس"]
SUFFIXES = ["", "", "", "ة", "ه", "ها", "هم", "ي", "ية", "ين", "ون", "ات", "ان", "اً", "يا"]
OTHER_WORDS = ["3", "5", "٢", "U", "S", "Iran", "news", "ـ", "َ", "في", "من", "و"]
GAPS = [" ", " ", " ", " ", "، ", ". ", "-", "\n", " «", "» ", ".", ",", " ـ ", "  "]


@st.composite
def cases(draw: st.DrawFn, most_keywords: int) -> tuple[list[str], list[str]]:
    """(keywords, texts) over a few stems, so that texts often hold forms of the keywords."""
    stems = draw(st.lists(st.sampled_from(STEMS), min_size=2, max_size=5, unique=True))
    raws = draw(st.lists(keyword(stems), min_size=1, max_size=most_keywords))
    samples = draw(st.lists(text(stems), min_size=1, max_size=4))
    return raws, samples


@st.composite
def text(draw: st.DrawFn, stems: list[str]) -> str:
    """Words made of a proclitic, a stem and a suffix (or digits, Latin, marks), and gaps."""
    word = st.one_of(
        st.builds(
            lambda p, s, x: p + s + x,
            st.sampled_from(PROCLITICS),
            st.sampled_from(stems),
            st.sampled_from(SUFFIXES),
        ),
        st.sampled_from(OTHER_WORDS),
    )
    words = draw(st.lists(word, min_size=1, max_size=14))
    gaps = draw(st.lists(st.sampled_from(GAPS), min_size=len(words), max_size=len(words)))
    return "".join(w + g for w, g in zip(words, gaps, strict=True)).strip()


def keyword_word(word: str, mode: str) -> str:
    return {"plain": word, "exact": f'"{word}"', "prefix": word + "*"}[mode]


@st.composite
def keyword(draw: st.DrawFn, stems: list[str]) -> str:
    """A keyword as a user types it: phrases, alternatives, exclusions, exact forms, prefixes."""
    vocabulary = stems + ["ال" + s for s in stems] + OTHER_WORDS[:3]

    def phrase() -> str:
        words = draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=3))
        modes = [draw(st.sampled_from(["plain", "plain", "exact", "prefix"])) for _ in words]
        return " ".join(keyword_word(w, m) for w, m in zip(words, modes, strict=True))

    raw = "|".join(phrase() for _ in range(draw(st.integers(1, 3))))
    if draw(st.integers(0, 3)) == 0:
        raw += " -" + phrase().replace('"', "")
    return raw


def queries_of(raws: list[str]):
    parsed = []
    for raw in raws:
        try:
            parsed.append(parse_stored(raw))
        except QueryError:
            continue
    return parsed


@pytest.mark.slow  # a few seconds: hundreds of generated cases
@settings(
    max_examples=400,
    deadline=None,  # no test asserts speed
    database=None,  # nothing written beside the checkout
    derandomize=True,  # the same examples on every machine
    suppress_health_check=[HealthCheck.too_slow],
)
@given(cases(most_keywords=12))
def test_the_index_agrees_with_the_reference(case):
    raws, samples = case
    queries = queries_of(raws)
    index = MatchIndex()
    for sub_id, query in enumerate(queries):
        index.add(sub_id, query)
    for text in samples + samples:  # the second time through, the memos answer
        found = index.match_keys(text)
        for query in queries:
            assert found.get(query.key, []) == reference_match(query, text), (query.raw, text)
        assert index.matched_keys(text) == set(found)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(cases(most_keywords=8))
def test_the_index_agrees_after_removals(case):
    raws, samples = case
    queries = queries_of(raws)
    index = MatchIndex()
    for sub_id, query in enumerate(queries):
        index.add(sub_id, query)
    for text in samples:
        index.match_keys(text)  # warm the memos, then change the index under them
    kept = queries[::2]
    for sub_id in range(1, len(queries), 2):
        index.remove(sub_id)
    for text in samples:
        found = index.match_keys(text)
        assert set(found) <= {q.key for q in kept}
        for query in kept:
            assert found.get(query.key, []) == reference_match(query, text), (query.raw, text)


@pytest.mark.slow
@pytest.mark.parametrize("hit_limit", [50_000, 3], ids=["one generation", "rotating"])
@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(cases(most_keywords=10), st.randoms(use_true_random=False))
def test_the_index_agrees_after_each_change_with_its_memos_warm(hit_limit, case, rng):
    """A change forgets only the memoized words (and prepared stems) it may touch: each add or
    removal, one at a time, is seen by the next text while every other word stays memoized. With
    three words a generation, words also move between generations all along, and a change must
    reach them in either."""
    raws, samples = case
    queries = queries_of(raws)
    index = MatchIndex(hit_limit=hit_limit)
    followed: dict[int, object] = {}
    changes = [("add", sub_id) for sub_id in range(len(queries))]
    changes += [("remove", sub_id) for sub_id in rng.sample(range(len(queries)), len(queries) // 2)]
    for change, sub_id in changes:
        index.prepare()  # every stem's buckets answer from what they hit before the change
        for text in samples:
            index.match_keys(text)  # memoized before the change
        if change == "add":
            index.add(sub_id, queries[sub_id])
            followed[sub_id] = queries[sub_id]
        else:
            index.remove(sub_id)
            del followed[sub_id]
        for text in samples:
            found = index.match_keys(text)
            keys = {query.key for query in followed.values()}  # type: ignore[attr-defined]
            assert set(found) <= keys, (change, text)
            for query in followed.values():
                assert found.get(query.key, []) == reference_match(query, text), (query, text)
            assert index.matched_keys(text) == set(found)


def test_the_reference_reads_the_examples_of_the_readme():
    cases = {
        ("المغرب", "أخبار وبالمغرب اليوم"): [(6, 14)],
        ("وزير", "اجتمع الوزير أمس"): [(6, 12)],
        ("وزير", "اجتمع الوزراء أمس"): [(6, 13)],  # a broken plural, from the lexicon
        ("أمن", "في اليوم الثامن"): [],
        ("وزير الداخلية", "قال وزير الداخلية إن"): [(4, 17)],
        ("وزير الداخلية", "قال وزير، الداخلية إن"): [],
    }
    for (raw, text), spans in cases.items():
        assert reference_match(parse_stored(raw), text) == spans, (raw, text)
