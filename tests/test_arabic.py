"""Normalization, tokenization and clitic analysis of Arabic text."""

from __future__ import annotations

import pytest

from core.arabic import (
    P_ARTICLE,
    P_CLITIC,
    P_NONE,
    Token,
    _Memo,
    is_arabic,
    normalize,
    stem_rules,
    tokenize,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("المَغْرِبُ", "المغرب"),  # harakat
        ("فإنّ", "فان"),  # shadda, hamza under alef
        ("هٰذا", "هذا"),  # superscript alef
        ("بـ", "ب"),  # tatweel
        ("الـمـغـرب", "المغرب"),
        ("أحمد إبراهيم آمنة ٱلله", "احمد ابراهيم امنه الله"),  # alef forms, ة → ه
        ("مصطفى على", "مصطفي علي"),  # ى → ي
        ("مدرسة", "مدرسه"),
        ("مسؤول مسئول", "مسءول مسءول"),  # hamza seats → ء
        ("أبناؤه أبنائه", "ابناءه ابناءه"),
        ("ایران کشور", "ايران كشور"),  # Persian ی ک
        ("پاکستان ہے", "پاكستان هي"),  # Urdu ہ ے; پ stays
        ("ﻻ ﺍﻟﻤﻐﺮﺏ", "لا المغرب"),  # presentation forms
        ("١٩٤٨ ۲۰۲۴", "1948 2024"),  # Arabic-Indic and Persian digits
        ("الم\u200cغرب\u200f", "المغرب"),  # ZWNJ, RLM
        ("\u202bالرباط\u202c \u2067غزة\u2069 \ufeffx", "الرباط غزه x"),  # embeddings, isolates, BOM
        ("co\u00adoperation", "cooperation"),  # soft hyphen
        ("ISIS Trump", "isis trump"),  # Latin case-folding
        ("Straße", "strasse"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_is_idempotent_on_real_text() -> None:
    text = "قالَ وزيرُ الداخليّة إنّ «الإرهاب» لا دينَ له، في ١٢ مارس ٢٠٢٤."
    once = normalize(text)
    assert normalize(once) == once
    assert "ّ" not in once
    assert "٢" not in once


def test_tokenize_spans_point_into_the_original_text() -> None:
    text = "وبالمَغرب، قال «المسؤول» إنّ…"
    tokens = tokenize(text)
    assert [t.norm for t in tokens] == ["وبالمغرب", "قال", "المسءول", "ان"]
    assert [text[t.start : t.end] for t in tokens] == ["وبالمَغرب", "قال", "المسؤول", "إنّ"]


@pytest.mark.parametrize(
    ("text", "norms"),
    [
        ("عام 2024م", ["عام", "2024", "م"]),  # digits and Arabic letters are separate words
        ("G20 وF-16", ["g20", "و", "f", "16"]),  # Latin with digits stays one word
        ("الـCIA", ["ال", "cia"]),
        ("نسبة 0.6%", ["نسبه", "0", "6"]),
        ("ـــ ،،", []),  # tatweel alone is no word
        ("x_y", ["x", "y"]),  # underscore separates
        ("ﷲ أكبر", ["الله", "اكبر"]),
        ("cafe\u0301", ["café"]),  # decomposed accent stays inside the word
        ("", []),
    ],
)
def test_tokenize_words(text: str, norms: list[str]) -> None:
    assert [t.norm for t in tokenize(text)] == norms


def test_token_is_a_named_tuple() -> None:
    token = tokenize("المغرب")[0]
    assert token == Token("المغرب", 0, 6)
    assert token.norm == "المغرب"
    assert token.start == 0
    assert token.end == 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("وزير الداخلية", True),
        ("Trump في الرياض", True),
        ("Oil prices rise", False),
        ("2024", False),
        ("", False),
        ("ﺍﻟﻤﻐﺮﺏ", True),
    ],
)
def test_is_arabic(text: str, expected: bool) -> None:
    assert is_arabic(text) is expected


def test_stem_rules_strip_the_keyword_article() -> None:
    rules = stem_rules(normalize("المغرب"))
    assert rules[0][0] == "مغرب"
    assert rules[0][1] & P_NONE
    assert rules[0][1] & P_CLITIC
    assert rules[0][1] & P_ARTICLE


def test_stem_rules_short_stems() -> None:
    (two,) = stem_rules("دم")
    assert two[1] == P_NONE | P_ARTICLE  # الدم، بالدم; never ودم or بدم
    (allah,) = stem_rules(normalize("الله"))
    assert allah[0] == "له"
    assert allah[1] == P_ARTICLE
    assert stem_rules("isis") == [("isis", P_NONE, 1)]


class _CountingMemo(_Memo[str]):
    """A memo of upper-cased words that counts what it makes."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.made: list[str] = []

    def make(self, key: str) -> str:
        self.made.append(key)
        return key.upper()


def test_a_full_memo_keeps_what_it_held_a_generation_longer():
    memo = _CountingMemo(limit=2)
    assert [memo[w] for w in ("a", "b", "c")] == ["A", "B", "C"]  # "c" starts a new generation
    assert memo["a"] == "A"  # from the generation before: moved back, not made again
    assert memo.made == ["a", "b", "c"]
    assert memo["d"] == "D"  # full again: "c" and "a" become the older generation, "b" goes
    assert memo["b"] == "B"  # dropped: made again
    assert memo["c"] == "C"  # moved back
    assert memo.made == ["a", "b", "c", "d", "b"]


def test_clearing_a_memo_forgets_both_generations():
    memo = _CountingMemo(limit=1)
    memo["a"], memo["b"]  # noqa: B018  "a" is in the older generation now
    memo.clear()
    assert memo["a"] == "A"
    assert memo.made == ["a", "b", "a"]
