"""detect_language on real feed items (whose <language> tags lie) and on short or odd input."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest

from core.language import (
    _ARABIC_ALPHABET,
    SAMPLE_CHARS,
    SHORT_INPUT_LETTERS,
    _langdetect,
    detect_language,
)
from core.text import clean_article
from tests.data import ARABIC_FEEDS, easc_articles, feed_file, needs_shared


def parsed(feed: str | Path) -> feedparser.FeedParserDict:
    return feedparser.parse(str(feed if isinstance(feed, Path) else feed_file(feed)))


def languages(feed: feedparser.FeedParserDict) -> list[str]:
    """The detected language of every item, from its title and clean text."""
    detected = []
    for item in feed.entries:
        content = item.get("content")
        html = content[0].value if content else item.get("summary", "")
        detected.append(detect_language(item.title, clean_article(item.title, html)))
    return detected


@pytest.mark.parametrize("path", ARABIC_FEEDS, ids=lambda path: path.stem)
def test_arabic_feeds_that_claim_english(path):
    feed = parsed(path)
    assert feed.feed.language == "en"  # the lie
    assert languages(feed) == ["ar"] * len(feed.entries)


@needs_shared
def test_persian_blog_that_claims_en_us():
    feed = parsed("hoder-persian-blog/hoder.xml")
    assert feed.feed.language == "en-us"
    assert languages(feed) == ["fa"] * len(feed.entries)


@needs_shared
def test_bbc_urdu_rss():
    feed = parsed("bbc-urdu/bbc_urdu_rss_2018.xml")
    assert languages(feed) == ["ur"] * len(feed.entries)


@needs_shared
def test_bbc_urdu_atom_items_with_text():
    feed = parsed("bbc-urdu/bbc_urdu_atom_2014.xml")
    with_text = [
        detect_language(item.title, text)
        for item in feed.entries
        if (text := clean_article(item.title, item.summary))
    ]
    assert len(with_text) > 40
    assert with_text == ["ur"] * len(with_text)


@needs_shared
def test_urdu_titles_alone():
    titles = [item.title for item in parsed("bbc-urdu/bbc_urdu_rss_2018.xml").entries]
    assert [detect_language(title, "") for title in titles] == ["ur"] * len(titles)


@needs_shared
def test_french_latin1_feed():
    feed = parsed("cercle-psy/cercle_psy_no_decl_iso-8859-1.xml")
    detected = languages(feed)
    titles = [item.title for item in feed.entries]
    assert detected == ["und" if not title else "fr" for title in titles]  # one item is empty
    assert "und" in detected


@needs_shared
@pytest.mark.parametrize(
    "relative",
    [
        "aljazeera-english/aljazeera_com_all_2026-08-13.xml",
        "aljazeera-english/aljazeera_com_all_2026-08-13_earlier.xml",
    ],
)
def test_english_feed(relative):
    feed = parsed(relative)
    assert languages(feed) == ["en"] * len(feed.entries)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("وزير", "ar"),  # langdetect alone says fa
        ("عاجل", "ar"),
        ("ﺍﻟﻤﻐﺮﺏ", "ar"),  # presentation forms: NFKC first, or langdetect raises
        ("جہاں نما", "ur"),
        ("ایف ایم بلیٹن", "ur"),
        ("پروژه\u200cی هاروارد، قدم دوم", "fa"),
        ("Oil prices rise", "en"),  # langdetect alone says fr
        ("Trump", "en"),  # langdetect alone says vi
        ("Migrants : l'urgence thérapeutique", "fr"),
        ("Grève à la SNCF", "fr"),  # short, but the accents say enough
        ("Über uns", "de"),
        ("Москва сегодня", "ru"),
        ("שלום עולם", "he"),
        ("Psy en prison, une mission impossible ?", "fr"),
        ("Leavitt to leave as White House press secretary", "en"),
        ("", "und"),
        ("2024", "und"),
        ("!!! ... ؟", "und"),
    ],
)
def test_short_titles(title, expected):
    assert detect_language(title, "") == expected


def test_only_the_start_of_the_text_counts():
    arabic = "أعلنت وزارة الصحة اليوم عن حملة وطنية جديدة للتلقيح ضد الأنفلونزا الموسمية. " * 10
    english = "The ministry of health announced a new national vaccination campaign today. " * 40
    assert len(arabic) > 600
    assert detect_language("حملة تلقيح", arabic + english) == "ar"
    assert detect_language("", english + arabic) == "en"


def test_same_answer_every_time():
    text = "Perturbateurs endocriniens : quels effets sur le cerveau ?"
    assert {detect_language(text, "") for _ in range(20)} == {"fr"}


def test_arabic_text_with_english_names():
    title = "ترامب: سننسحب من إيران سريعا"
    text = "قال الرئيس الأميركي Donald Trump إن الولايات المتحدة ستنسحب من إيران، حسب CNN."
    assert detect_language(title, text) == "ar"


@needs_shared
def test_arabic_alphabet_shortcut_agrees_with_langdetect():
    """Text in the Arabic alphabet alone is answered "ar" without langdetect: it would agree."""
    paragraphs = [
        line
        for path in easc_articles()
        for line in path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
        if len(line) > 40
    ]
    shortcut = [
        p
        for p in paragraphs
        if len(letters := [c for c in p[:SAMPLE_CHARS] if c.isalpha()]) >= SHORT_INPUT_LETTERS
        and _ARABIC_ALPHABET.issuperset(letters)
    ]
    assert len(shortcut) > 500
    assert {_langdetect(p[:SAMPLE_CHARS]) for p in shortcut} == {"ar"}
    assert {detect_language("", p) for p in shortcut} == {"ar"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Persian typed with the Arabic ي and ك (as cp1256 sites do) still has its گ چ پ
        ("گفت كه اين كتاب را براي پدرش خريده است و چند روز پيش به خانه برد", "fa"),
        # Arabic typed on a Persian keyboard (ی ک): langdetect decides, and says Arabic
        ("قالت وزارة الخارجیة إن المحادثات مع الجانب الأمریکی ستستأنف الأسبوع المقبل", "ar"),
        ("وزیر خارجه ایران گفت که مذاکرات هسته‌ای هفته آینده از سر گرفته می‌شود", "fa"),
    ],
)
def test_letters_beyond_the_arabic_alphabet_go_to_langdetect(text, expected):
    assert detect_language("", text) == expected
