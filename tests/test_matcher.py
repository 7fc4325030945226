"""Keyword matching rules, highlighting spans, and the subscription index."""

from __future__ import annotations

import re

import pytest

from core.arabic import CANDIDATES, tokenize, words_read_as
from core.matcher import MatchIndex, find_matches
from core.query import QueryError, parse_query, parse_stored
from tests.data import feed_file
from tests.support import feed_texts


def matched_words(query: str, text: str) -> list[str]:
    """The original text under each span find_matches returns."""
    return [text[start:end] for start, end in find_matches(parse_query(query), text)]


# (query, text, the words of the text that must be highlighted; [] = no match)
CASES = [
    # proclitics and the article, with or without it in the keyword
    (
        "المغرب",
        "زار وبالمغرب وللمغرب والمغرب فالمغرب",
        ["وبالمغرب", "وللمغرب", "والمغرب", "فالمغرب"],
    ),
    ("مغرب", "وبالمغرب وللمغرب", ["وبالمغرب", "وللمغرب"]),
    ("المغرب", "المنتخب المغربي والجالية المغربية", ["المغربي", "المغربية"]),
    ("الرباط", "وصل للرباط أمس", ["للرباط"]),
    ("إرهاب", "مكافحة الإرهاب والإرهابيين", ["الإرهاب", "والإرهابيين"]),
    ("الإرهاب", "عمل إرهابي", ["إرهابي"]),
    ("وزير", "الوزيرة ووزيرا وزيرتها", ["الوزيرة", "ووزيرا", "وزيرتها"]),
    (
        "حكومة",
        "الحكومات وحكومتها الحكومية حكومتان",
        ["الحكومات", "وحكومتها", "الحكومية", "حكومتان"],
    ),
    ("سوريا", "السوريين في سورية وسوريا", ["السوريين", "سورية", "وسوريا"]),
    ("مستشفى", "المستشفيات ومستشفاها", ["المستشفيات", "ومستشفاها"]),
    ("مستوى", "بلغ مستواه", ["مستواه"]),
    ("مسؤول", "قال المسئولون إن مسؤولين", ["المسئولون", "مسؤولين"]),  # hamza seats
    (
        "ألمانيا",
        "سافر لألمانيا مع وفد ألماني والسفارة الألمانية",
        ["لألمانيا", "ألماني", "الألمانية"],
    ),
    ("التزام", "الالتزام بالتزامات للالتزام", ["الالتزام", "بالتزامات", "للالتزام"]),
    ("الله", "والله بالله الله", ["والله", "بالله", "الله"]),
    ("أمن", "الأمن الأمني للأمن أمنها", ["الأمن", "الأمني", "للأمن", "أمنها"]),
    ("يعلن", "سيعلن ويعلنها غدا", ["سيعلن", "ويعلنها"]),
    ("يقع", "سيقع الحادث", ["سيقع"]),
    ("قتل", "فقتله وقتلهم", ["فقتله", "وقتلهم"]),
    ("غزة", "في غزة وغزه وقطاع غزّة", ["غزة", "وغزه", "غزّة"]),
    ("عمان", "سلطنة عُمان والعاصمة الأردنية عمّان", ["عُمان", "عمّان"]),  # Oman and Amman: both
    ("المَغرب", "ﺍﻟﻤﻐﺮﺏ", ["ﺍﻟﻤﻐﺮﺏ"]),  # presentation forms
    ("المغرب", "بـالمـغـرب", ["بـالمـغـرب"]),  # tatweel inside
    ("المغرب", "بال\u200cمغرب", ["بال\u200cمغرب"]),  # zero-width non-joiner inside
    # unrelated longer words
    ("مغرب", "سياسة التغريب والغرب", []),
    ("مغرب", "والمغاربة", ["والمغاربة"]),  # the lexicon's plural (the Moroccans): issue #17
    ("عمر", "عمران وعمرو والمعمر", []),
    ("عمر", "قال عمر وعمره", ["عمر", "وعمره"]),
    ("أمن", "الثامن والإيمان والمؤمن", []),
    ("أمن", "طاقة كامنة كالأمن", ["كالأمن"]),  # bare ك only before 4+ letter stems
    ("رئيس", "عمل كرئيس", ["كرئيس"]),
    ("قطر", "قطرات القطار", []),
    ("سلم", "الملك سلمان", []),
    ("دم", "بالدم والدم", ["بالدم", "والدم"]),
    ("دم", "ودم بدم", []),  # 2-letter stem: only the article may be attached
    ("تين", "ستين عاما", []),  # future س is read only before ي on 3-letter stems
    # Latin words and digits
    ("ISIS", "the crisis of ISIS and isis", ["ISIS", "isis"]),
    ("Trump", "Trump's plan, TRUMP", ["Trump", "TRUMP"]),
    ("CIA", "تقرير الـCIA", ["CIA"]),
    ("2024", "عام 2024م وفي ٢٠٢٤", ["2024", "٢٠٢٤"]),
    ("2024", "20245 و12024", []),
    ("كوفيد-19", "وباء كوفيد-19 وكوفيد 19", ["كوفيد-19", "وكوفيد 19"]),
    ("3.5", "نمو 3.5% و3,5 و٣٫٥ لا 3. 5", ["3.5", "3,5", "٣٫٥"]),
    ("U.S.", "the U.S. and US", ["U.S"]),
    ("وزير الداخلية", "عاد الوزير. الداخلية", []),
    # phrases: in order, next to each other, each word with its clitics
    ("وزير الداخلية", "ووزير الداخلية الفرنسي", ["ووزير الداخلية"]),
    ("وزير الداخلية", "وزيرُ الداخليّة", ["وزيرُ الداخليّة"]),
    ("وزير الداخلية", "وزير «الداخلية»", ["وزير «الداخلية"]),
    ("وزير الداخلية", "الداخلية وزير", []),
    ("وزير الداخلية", "وزير، الداخلية", []),
    ("وزير الداخلية", "وزير\nالداخلية", []),
    ("وزير الداخلية", "وزير الخارجية والداخلية", []),
    ("وزير الداخلية الفرنسي", "قال وزير الداخلية الفرنسي", ["وزير الداخلية الفرنسي"]),
    ("وزير الداخلية الفرنسي", "وزير الداخلية المغربي", []),
    ("مجلس الأمن الدولي اليوم", "عقد مجلس الأمن الدولي اليوم جلسة", ["مجلس الأمن الدولي اليوم"]),
    ("مجلس الأمن الدولي اليوم", "عقد مجلس الأمن الدولي، اليوم جلسة", []),
    ("مجلس الأمن الدولي اليوم", "بيان مجلس الأمن الدولي", []),  # the text ends first
    (
        "مجلس الأمن الدولي اليوم",
        "مجلس الأمن الدولي أمس ومجلس الأمن الدولي اليوم",  # one run, two next words
        ["ومجلس الأمن الدولي اليوم"],
    ),
    # exact, prefix, alternatives, exclusions
    ('"المغرب"', "المغرب وبالمغرب المغربية", ["المغرب"]),
    ('"المغرب"', "بالمغرب", []),
    ("عمر*", "عمران وعمرو والعمر", ["عمران", "وعمرو", "والعمر"]),
    ("الجزائر|تونس", "تونس والجزائر", ["تونس", "والجزائر"]),
    ("الجزائر أو تونس", "من تونس", ["تونس"]),
    ("المغرب -كرة", "المغرب وكرة القدم", []),
    ("المغرب -كرة", "المغرب والسياحة", ["المغرب"]),
    ('المغرب -"كرة القدم"', "المغرب وكرة السلة", ["المغرب"]),
    ('المغرب -"كرة القدم"', "المغرب في كرة القدم", []),
    ('المغرب -"كرة القدم"', "المغرب وكرة القدم", ["المغرب"]),  # exact: "وكرة" is not "كرة"
    ("المغرب -كرة القدم", "المغرب وكرة القدم", []),  # an unquoted phrase keeps its clitics
    ("المغرب -كرة القدم", "المغرب وكرة السلة", ["المغرب"]),
    ("المغرب -مجلس الأمن الدولي", "المغرب ومجلس الأمن الدولي", []),
    ("المغرب -مجلس الأمن الدولي", "المغرب ومجلس الأمن الوطني", ["المغرب"]),
    ("وزير الداخلية -فرنسا", "وزير الداخلية في فرنسا", []),
    ("وزير الداخلية -فرنسا", "وزير الداخلية في المغرب", ["وزير الداخلية"]),
    ("وزير|وزير الداخلية", "قال وزير الداخلية", ["وزير الداخلية"]),  # overlapping spans merge
]


@pytest.mark.parametrize(("query", "text", "expected"), CASES)
def test_matching_rules(query: str, text: str, expected: list[str]) -> None:
    assert matched_words(query, text) == expected


def test_spans_are_sorted_original_offsets() -> None:
    text = "قالَ وزيرُ الداخليّة إنّ المغرب… ثم عاد إلى «المغرب» وبالمغرب."
    spans = find_matches(parse_query("المغرب"), text)
    assert spans == sorted(spans)
    assert [text[s:e] for s, e in spans] == ["المغرب", "المغرب", "وبالمغرب"]
    assert all(text[s - 1] in " «" for s, _ in spans)


def test_index_add_remove_contains_len() -> None:
    index = MatchIndex()
    morocco, again, algeria = parse_query("المغرب"), parse_query("المَغرب"), parse_query("الجزائر")
    index.add(1, morocco)
    index.add(2, again)  # same key: one entry, two subscribers
    index.add(3, algeria)
    assert len(index) == 3
    assert 1 in index
    assert 4 not in index
    assert index.distinct_queries == 2
    text = "بين المغرب والجزائر"
    assert index.match(text) == {1: [(4, 10)], 2: [(4, 10)], 3: [(11, 19)]}
    assert index.remove(1) is True
    assert index.remove(1) is False
    assert index.match(text) == {2: [(4, 10)], 3: [(11, 19)]}
    index.add(3, parse_query("تونس"))  # re-adding a sub replaces its query
    assert index.match(text) == {2: [(4, 10)]}
    assert index.match("زيارة إلى تونس") == {3: [(10, 14)]}
    for sub_id in (2, 3):
        index.remove(sub_id)
    assert len(index) == 0
    assert index.match(text) == {}
    assert index._slots == {}
    assert index._groups == {}
    assert index._prefixes == {}


def test_index_changes_after_matching_are_seen() -> None:
    index = MatchIndex()
    index.add(1, parse_query("المغرب"))
    text = "وزير الداخلية في المغرب يزور تونس"
    assert set(index.match(text)) == {1}
    index.add(2, parse_query("تونس"))
    index.add(3, parse_query("وزير الداخلية -فرنسا"))
    index.add(4, parse_stored("يز*"))  # saved before short prefixes were refused
    assert set(index.match(text)) == {1, 2, 3, 4}
    index.add(5, parse_query("المغرب -تونس"))
    assert 5 not in index.match(text)
    index.remove(2)
    index.remove(4)
    assert set(index.match(text)) == {1, 3}


def test_a_keyword_added_after_a_text_was_read_meets_its_every_form() -> None:
    index = MatchIndex()
    index.add(1, parse_query("فرنسا"))
    text = "زيارة لألمانيا ثم الالتزام بالإلغاء ومملكتيه وبالمغرب"
    assert index.matched_keys(text) == set()  # each word is memoized as hitting nothing
    for sub_id, raw in enumerate(["ألمانيا", "التزام", "الإلغاء", "مملكة", "المغرب"], start=2):
        index.add(sub_id, parse_query(raw))
    assert len(index.matched_keys(text)) == 5


def test_the_words_a_stem_change_forgets_include_every_word_read_as_it() -> None:
    texts = feed_texts(feed_file("hespress_transcribed.xml"))[:20]
    words = {token.norm for text in texts for token in tokenize(text)}
    words |= {"لالمانيا", "الالتزام", "بالالغاء", "ومملكتيه", "وبالمغرب", "للمدرسه", "ABC"}
    forms: dict[str, set[str]] = {}
    for word in words:
        for key, _, _ in CANDIDATES[word]:
            if key not in forms:
                forms[key] = set(words_read_as(key))
            assert word in forms[key], (word, key)
    assert len(forms) > 300


def test_every_kind_of_posting_is_removed() -> None:
    index = MatchIndex()
    queries = [
        "المغرب",
        '"المغرب"',
        "عمر*",
        "وزير الداخلية",
        "وزير عمر*",
        "الجزائر|تونس",
        "المغرب -كرة",
    ]
    for sub_id, raw in enumerate(queries):
        index.add(sub_id, parse_query(raw))
    for sub_id in range(len(queries)):
        index.remove(sub_id)
    assert index._slots == {}
    assert index._prefixes == {}
    assert index._groups == {}
    assert index._lengths == ()
    assert index.distinct_queries == 0


def test_index_agrees_with_find_matches_on_a_real_feed() -> None:
    texts = feed_texts(feed_file("hespress_transcribed.xml"))
    assert len(texts) >= 5
    raws = []
    for text in texts:
        words = [w for w in re.findall(r"\w+", text) if len(w) >= 4]
        raws += words[:6]
        raws += [f"{a} {b}" for a, b in zip(words[:5], words[1:6], strict=False)]
        raws += [
            f"{words[0]}|{words[-1]}",
            f"{words[1]} -{words[2]}",
            f"{words[3][:3]}*",
            f'"{words[4]}"',
        ]
    queries = [parse_stored(raw) for raw in raws]  # the matcher, not the refusals
    index = MatchIndex()
    for sub_id, query in enumerate(queries):
        index.add(sub_id, query)
    matched = 0
    for text in texts:
        result = index.match(text)
        for sub_id, query in enumerate(queries):
            assert result.get(sub_id, []) == find_matches(query, text), query.raw
        matched += len(result)
    assert matched > len(texts) * 5


def test_match_keys_answer_per_distinct_query() -> None:
    index = MatchIndex()
    morocco, again = parse_query("المغرب"), parse_query("المَغرب")
    phrase = parse_query("وزير الداخلية")
    index.add(1, morocco)
    index.add(2, again)  # same key
    index.add(3, phrase)
    index.add(4, parse_query("تونس"))
    text = "وزير الداخلية في المغرب"
    assert index.match_keys(text) == {"المغرب": [(17, 23)], phrase.key: [(0, 13)]}
    assert index.matched_keys(text) == {"المغرب", phrase.key}
    assert index.subscribers("المغرب") == (1, 2)
    assert index.subscribers("تونس") == (4,)
    assert index.subscribers("الجزاءر") == ()
    index.remove(1)
    assert index.subscribers("المغرب") == (2,)
    assert index.matched_keys(text) == {"المغرب", phrase.key}
    index.remove(2)
    assert index.subscribers("المغرب") == ()
    assert index.matched_keys(text) == {phrase.key}
    assert MatchIndex().matched_keys(text) == set()
    assert MatchIndex().match_keys(text) == {}


def test_ids_name_distinct_queries_and_are_reused_without_stale_matches() -> None:
    index = MatchIndex()
    index.add(1, parse_query("المغرب"))
    index.add(2, parse_query("المَغرب"))  # same key: same id
    index.add(3, parse_query("وزير الداخلية"))
    morocco, phrase = index.entry_id("المغرب"), index.entry_id("وزير الداخليه")
    assert morocco is not None
    assert phrase is not None
    assert morocco != phrase
    assert index.entry_id("تونس") is None
    text = "وزير الداخلية في المغرب"
    assert index.matched_ids(text) == {morocco, phrase}
    assert index.key_of(morocco) == "المغرب"
    assert index.followers(morocco) == (1, 2)
    for sub_id in (1, 2):
        index.remove(sub_id)
    assert index.followers(morocco) == ()
    index.add(4, parse_query("تونس"))  # takes the freed id
    assert index.entry_id("تونس") == morocco
    assert index.matched_ids(text) == {phrase}
    assert index.matched_ids("من تونس") == {morocco}
    assert index.key_of(morocco) == "تونس"


def test_new_queries_in_a_matched_group_or_pair_are_seen() -> None:
    index = MatchIndex()
    index.add(1, parse_query("المغرب"))
    index.add(2, parse_query("وزير"))
    text = "قال وزير الداخلية في المغرب"
    assert index.matched_keys(text) == {"المغرب", "وزير"}
    index.add(3, parse_query("مغرب"))  # posts the same stems as المغرب: joins its group
    assert len(index._groups) == 2
    assert index.matched_keys(text) == {"المغرب", "مغرب", "وزير"}
    index.add(4, parse_query("وزير الداخلية"))  # a phrase on a word pair already looked up
    index.add(5, parse_query("المغرب -الداخلية في"))
    assert index.matched_keys(text) == {"المغرب", "مغرب", "وزير", "وزير الداخليه"}
    index.remove(1)
    index.remove(4)
    assert index.matched_keys(text) == {"مغرب", "وزير"}
    assert index.match_keys(text) == {"مغرب": [(21, 27)], "وزير": [(4, 8)]}


def test_every_path_agrees_on_a_real_feed() -> None:
    texts = feed_texts(feed_file("rt-arabic.xml"))
    assert len(texts) >= 5
    raws = []
    for text in texts:
        words = [w for w in re.findall(r"\w+", text) if len(w) >= 3]
        raws += words[:8]
        raws += [f"{a} {b}" for a, b in zip(words[:6], words[1:7], strict=False)]
        raws += [f"{a} {b} {c}" for a, b, c in zip(words[:3], words[1:4], words[2:5], strict=False)]
        raws += [f"{words[0]} -{words[1]} {words[2]}", f"{words[3]}|{words[4]} {words[5]}"]
    queries = []
    for raw in raws:
        try:
            queries.append(parse_query(raw))
        except QueryError:
            continue
    index = MatchIndex()
    for sub_id, query in enumerate(queries):
        index.add(sub_id, query)
    matched = 0
    for text in texts:
        by_key = index.match_keys(text)
        assert index.matched_keys(text) == set(by_key)
        for query in queries:
            assert by_key.get(query.key, []) == find_matches(query, text), query.raw
        matched += len(by_key)
    assert matched > len(texts) * 5


def test_queries_share_the_compiled_form_of_a_word() -> None:
    index = MatchIndex()
    phrase, excluding = parse_query("وزير الداخلية"), parse_query("الداخلية -المغرب")
    index.add(1, phrase)
    index.add(2, excluding)
    first = index._entries[phrase.key].postings[0][3][-1]
    second = index._entries[excluding.key].postings[0][3][-1]
    assert first.words[1] is second.words[0]  # compiled once (~40 µs a word)
    assert index.matched_keys("قال وزير الداخلية") == {phrase.key, excluding.key}
    assert index.matched_keys("وزير الداخلية في المغرب") == {phrase.key}
