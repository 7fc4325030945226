"""Broken plurals, duals, accusative, name variants, and the notes that say which form matched."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.arabic import normalize
from core.forms import explain, keyword_shown, matched_forms, name_variants
from core.lexicon import lexicon
from core.matcher import find_matches
from core.query import parse_query

ROOT = Path(__file__).resolve().parents[1]


def matched(keyword: str, text: str) -> list[str]:
    return [text[start:end] for start, end in find_matches(parse_query(keyword), text)]


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        # broken plurals, with clitics and pronouns
        ("وزير", "اجتمع الوزراء ووزراء الخارجية ووزراؤه", ["الوزراء", "ووزراء", "ووزراؤه"]),
        ("دولة", "قادة الدول ودول الخليج للدول", ["الدول", "ودول", "للدول"]),
        ("طفل", "الأطفال وأطفالهم", ["الأطفال", "وأطفالهم"]),
        ("جائزة", "جوائز المهرجان", ["جوائز"]),
        ("رئيس", "رؤساء الحكومات", ["رؤساء"]),
        ("فيلم", "أفلام الموسم", ["أفلام"]),
        ("مشكلة", "مشاكل كثيرة", ["مشاكل"]),
        ("امرأة", "حقوق النساء", ["النساء"]),
        # and the other way: a plural keyword takes its singular
        ("الأطفال", "الطفل وطفلها", ["الطفل", "وطفلها"]),
        ("وزراء", "قال الوزير", ["الوزير"]),
        ("مدن", "مدينة كبيرة", ["مدينة"]),
        # duals, accusative, combined proclitics on three-letter stems
        ("جيش", "الجيشين والجيشان جيشاً وكجيش", ["الجيشين", "والجيشان", "جيشاً", "وكجيش"]),
        ("حزب", "حزبين وحزبيها", ["حزبين", "وحزبيها"]),
        ("مملكة", "مملكتيه ومملكتين", ["مملكتيه", "ومملكتين"]),
        ("عضو", "انتخب عضواً", ["عضواً"]),
        # name variants
        ("ترامب", "قال ترمب ولترمب", ["ترمب", "ولترمب"]),
        ("ترمب", "قال ترامب", ["ترامب"]),
        ("أمريكا", "أميركا والأميركية", ["أميركا", "والأميركية"]),
        ("أوروبا", "شرق أوربا", ["أوربا"]),
        ("إسرائيل", "اسرائيل وإسرائيل", ["اسرائيل", "وإسرائيل"]),
    ],
)
def test_other_forms_match(keyword: str, text: str, expected: list[str]) -> None:
    assert matched(keyword, text) == expected


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("أمن", "الثامن والإيمان"),
        ("عمر", "عمران والعمران"),  # a name and a noun far more frequent than a dual of عمر
        ("بحر", "مملكة البحرين"),  # Bahrain, not two seas
        ("قطر", "قطرات"),
        ("نار", "دينار"),
        ("فريق", "إفريقية"),
        ("دولة", "الدولار والجدول"),
        ("مدينة", "المجتمع المدني والمدنيين"),  # مدن is a plural of مدينة, مدني is "civil"
        ("جزيرة", "الجزائر"),  # Algeria: a frequent other word, not the plural جزائر
        ("عالم", "العلماء"),  # scholars belong to another عالم than the world
        ("شعب", "الشعاب المرجانية"),  # reefs: a classical plural left out
        ("طفل", "طفول"),
        ("ساق", "السوق"),  # the market, not legs
        ("العراق", "عرق"),  # names take no lexicon plural
        ("شهر", "أشهر الفنانين"),  # "most famous": left out of the lexicon
        ("بيروت", "البروتين بالبروتين"),  # a variant takes no plural ending
        ("سوريا", "سرياً وسريا"),  # secretly: the variant reads as another word
        ("السعودية", "السعدية"),
    ],
)
def test_guards_hold(keyword: str, text: str) -> None:
    assert matched(keyword, text) == []


def test_exact_takes_no_other_form() -> None:
    assert matched('"أمريكا"', "أميركا والأمريكية وأمريكا") == []
    assert matched('"أمريكا"', "أمريكا") == ["أمريكا"]
    assert matched('"وزير"', "الوزراء") == []


def test_name_variants_are_names_only() -> None:
    assert "ترمب" in name_variants("ترامب")
    assert normalize("أميركا") in name_variants(normalize("أمريكا"))
    assert name_variants("وزير") == []  # a common word keeps its spelling
    assert name_variants(normalize("مصر")) == []  # too short
    assert all(len(v) >= 4 for v in name_variants(normalize("لبنان")))


def test_notes_say_which_form_matched() -> None:
    query = parse_query("وزير")
    text = "اجتمع الوزراء ووزراء الخارجية مع الوزير"
    pairs = matched_forms(query, text, find_matches(query, text))
    assert pairs == [("وزراء", "وزير")]  # the lexicon's spelling, once
    assert explain(pairs) == ["وزراء ← وزير"]
    assert keyword_shown("وزير", explain(pairs)) == "«وزراء ← وزير»"


def test_variant_notes_keep_the_text_spelling() -> None:
    query = parse_query("أمريكا")
    text = "لأميركا والأمريكية"
    notes = explain(matched_forms(query, text, find_matches(query, text)))
    assert notes == ["أميركا ← أمريكا"]  # the nisba الأمريكية is the keyword's own form
    phrase = parse_query("وزير الخارجية")
    text = "وزراء الخارجية العرب"
    notes = explain(matched_forms(phrase, text, find_matches(phrase, text)))
    assert keyword_shown("وزير الخارجية", notes) == "وزير الخارجية («وزراء ← وزير»)"


def test_own_forms_have_no_note() -> None:
    query = parse_query("جيش")
    text = "الجيش والجيشين"
    assert matched_forms(query, text, find_matches(query, text)) == []
    assert keyword_shown("جيش", []) == "جيش"


def test_lexicon_files_and_their_provenance() -> None:
    words = lexicon()
    assert words.plurals[normalize("وزير")] == (normalize("وزراء"),)
    assert normalize("وزير") in words.singulars[normalize("وزراء")]
    assert words.spelling(normalize("جوائز")) == "جوائز"  # hamza seat kept for display
    assert len(words.plurals) > 3_000
    provenance = (ROOT / "core" / "data" / "PROVENANCE.md").read_text(encoding="utf-8")
    for needed in ("arramooz-pysqlite", "GPL-3.0", "tools/build_lexicon.py"):
        assert needed in provenance
