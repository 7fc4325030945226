"""A reference matcher: what a keyword means, written as plainly as possible.

It shares only the word-level rules with the bot (core.arabic: how a text word may be read;
core.forms: which readings a keyword word accepts, its plurals and variants included) and none of core.matcher's index, groups, postings or
memos. Slow on purpose: every term is tried at every position. tests/test_matcher_reference.py
checks that MatchIndex, with many queries in one index, agrees with it.
"""

from __future__ import annotations

import re

from core.arabic import CANDIDATES, CORES, WORD_NORMS, prefix_rules, split_words
from core.forms import word_rules
from core.query import Query, Term, Word

Span = tuple[int, int]

# What may stand between two words of a phrase (README, "Keyword syntax"): spaces, dashes,
# quotes, tatweel and invisible marks; "." "," "٫" "٬" only between two numbers or two letters.
_JOINING = re.compile(
    "[ \t\u00a0\u2000-\u200f\u202a-\u202f\u2066-\u2069\u061c\ufeff"
    "\\-\u2010-\u2015\u0640\"'«»“”„‘’]*"
)


def word_matches(word: Word, norm: str) -> bool:
    """Whether a normalized text word is a form of this keyword word."""
    if not norm:
        return False
    if word.mode == "exact":
        return any(key == word.text and p & 1 and s & 1 for key, p, s in CANDIDATES[norm])
    if word.mode == "prefix":
        return any(
            pmask & pbit and core.startswith(prefix)
            for prefix, pmask in prefix_rules(word.text)
            for core, pbit in CORES[norm]
        )
    accepted = word_rules(word.text)
    return any(
        key == stem and pmask & pbit and smask & sbit
        for key, pbit, sbit in CANDIDATES[norm]
        for stem, pmask, smask, *_ in accepted
    )


def joined(gap: str, left: str, right: str) -> bool:
    """Whether two text words with `gap` between them may be two words of one phrase."""
    if _JOINING.fullmatch(gap):
        return True
    numbers = left.isdigit() and right.isdigit()
    letters = len(left) == 1 and len(right) == 1
    return gap in {".", ",", "٫", "٬"} and (numbers or letters)


def occurrences(term: Term, norms: list[str], gaps: list[str]) -> list[tuple[int, int]]:
    """(first, last) word positions of every place the term's words stand, joined, in order."""
    size = len(term.words)
    found = []
    for i in range(len(norms) - size + 1):
        words_match = all(word_matches(w, norms[i + j]) for j, w in enumerate(term.words))
        gaps_join = all(
            joined(gaps[i + j], norms[i + j], norms[i + j + 1]) for j in range(size - 1)
        )
        if words_match and gaps_join:
            found.append((i, i + size - 1))
    return found


def reference_match(query: Query, text: str) -> list[Span]:
    """Sorted spans of the words that make `query` match `text` (overlaps merged), or []."""
    raw_words, starts, ends, gaps = split_words(text)
    norms = [WORD_NORMS[w] for w in raw_words]
    if any(occurrences(term, norms, gaps) for term in query.exclusions):
        return []
    spans = sorted(
        {
            (starts[first], ends[last])
            for term in query.terms
            for first, last in occurrences(term, norms, gaps)
        }
    )
    merged: list[Span] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
