"""What a 👎 on an alert offers: the story's salient words, to exclude one from a keyword."""

from __future__ import annotations

import re
from collections import Counter

from core.arabic import P_ARTICLE, PROCLITICS, normalize, split_words
from core.lexicon import lexicon
from core.matcher import find_matches
from core.query import STOP_WORDS, Query

LIKE, DISLIKE = "👍", "👎"
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # tashkeel, tatweel
_ARTICLE_CLITICS = sorted(
    (p for p, bit in PROCLITICS.items() if bit == P_ARTICLE and p != "ال"),
    key=len,
    reverse=True,
)
MIN_LETTERS = 3
# Lemmas this frequent (رئيس، دولة، جديد: the top 35 or so) say little about one story;
# names stay offered however frequent (لبنان).
COMMON_FREQUENCY = 1_500_000


def shown_word(word: str) -> str:
    """A text word as an exclusion shows it: marks dropped, and a conjunction or preposition
    before the article taken off ("والجيش" → "الجيش"); what is left is the word."""
    plain = _MARKS.sub("", word)
    norm = normalize(plain)
    if len(norm) != len(plain):
        return plain
    for clitic in _ARTICLE_CLITICS:
        if norm.startswith(clitic) and len(norm) - len(clitic) >= MIN_LETTERS:
            return "ال" + plain[len(clitic) :]
    return plain


def _is_name(norm: str) -> bool:
    names = lexicon().names
    return norm in names or norm.removeprefix("ال") in names


def _is_common(norm: str) -> bool:
    if norm in STOP_WORDS:
        return True
    if _is_name(norm):
        return False
    words, bare = lexicon(), norm.removeprefix("ال")
    return max(words.frequency.get(norm, 0), words.frequency.get(bare, 0)) >= COMMON_FREQUENCY


def salient_words(title: str, text: str, query: Query, limit: int = 3) -> list[str]:
    """Up to `limit` words of the title that say what the story is about: nouns (written with
    the article somewhere in the story, or names) before other words, the most repeated first;
    never the keyword itself, a function word or a very common word."""
    story = [normalize(shown_word(w)) for w in split_words(f"{title} {text}")[0]]
    counts = Counter(norm.removeprefix("ال") for norm in story)
    with_article = {norm.removeprefix("ال") for norm in story if norm.startswith("ال")}
    # Only the terms: the words stay the same once one of them is excluded (buttons name them
    # by their place in this list).
    terms = Query(query.raw, query.key, query.terms)
    chosen: dict[str, tuple[bool, int, int, str]] = {}
    for position, word in enumerate(split_words(title)[0]):
        shown = shown_word(word)
        norm = normalize(shown)
        bare = norm.removeprefix("ال")
        if len(bare) < MIN_LETTERS or not norm.isalpha() or bare in chosen:
            continue
        if _is_common(norm) or find_matches(terms, word):
            continue
        noun = bare in with_article or _is_name(norm)
        chosen[bare] = (not noun, -counts[bare], position, shown)
    return [shown for *_, shown in sorted(chosen.values())[:limit]]


def with_exclusion(raw: str, word: str) -> str:
    """The keyword as typed, now excluding one more word."""
    return f"{raw} -{word}"


def without_exclusion(raw: str, word: str) -> str:
    """The keyword as typed, the exclusion `with_exclusion` added taken back."""
    suffix = f" -{word}"
    head, found, tail = raw.rpartition(suffix)
    return head + tail if found else raw
