"""Bounded input: an item's text and title are capped in the worker, before anything uses them."""

from __future__ import annotations

import unicodedata

import pytest

from core.articles import ARTICLE_MAX_CHARS, TITLE_MAX_CHARS, prepare_article
from core.models import FeedItem
from core.settings import SettingsError, load_settings
from core.text import cap_text
from intake.prepare import parse_and_prepare
from tests.data import ARABIC_FEEDS, easc_texts, needs_shared
from tests.feedserver import make_rss
from tests.support import feed_texts

SAMPLES = [text for path in ARABIC_FEEDS for text in feed_texts(path)]


def test_a_text_within_the_limit_is_untouched():
    assert cap_text("قصير.", 10) == "قصير."
    for text in SAMPLES:
        assert cap_text(text, len(text)) == text


def test_a_long_text_is_cut_after_its_last_whole_sentence():
    text = "الجملة الأولى هنا. الجملة الثانية هنا؟ والجملة الثالثة طويلة جداً ولا تتسع"
    assert cap_text(text, 45) == "الجملة الأولى هنا. الجملة الثانية هنا؟"


def test_a_paragraph_break_is_a_sentence_end():
    text = "سطر أول بلا نقطة في آخره\nسطر ثان طويل لا يتسع كله في الحد المسموح"
    assert cap_text(text, 40) == "سطر أول بلا نقطة في آخره"


def test_without_a_sentence_end_it_is_cut_at_a_word_with_an_ellipsis():
    title = "وزير الخارجية يلتقي نظيره في العاصمة لبحث التعاون الاقتصادي"
    capped = cap_text(title, 30)
    assert capped.endswith("…")
    assert len(capped) <= 30
    assert title.startswith(capped[:-1])
    assert title[len(capped) - 1] == " "  # the cut fell between two words


def test_a_hard_cut_never_splits_a_letter_from_its_marks_nor_a_surrogate_pair():
    voweled = "كَتَبَ" * 20  # no space anywhere: only a hard cut is possible
    for limit in range(2, 40):
        capped = cap_text(voweled, limit)
        assert len(capped) <= limit
        kept = capped[:-1]
        assert not unicodedata.combining(voweled[len(kept)])  # the first dropped is a letter
    pairs = "\ud83d\ude00" * 30  # surrogate pairs, as surrogatepass decoding leaves them
    for limit in range(2, 20):
        kept = cap_text(pairs, limit)[:-1]
        assert len(kept) % 2 == 0


@needs_shared
@pytest.mark.parametrize("limit", [50, 300, 1000, 1500])
def test_every_real_text_fits_its_cap_and_is_a_prefix(limit):
    for text in easc_texts()[:20]:
        capped = cap_text(text, limit)
        assert len(capped) <= limit
        assert text.startswith(capped.removesuffix("…").rstrip())
        assert len(capped) >= limit // 2 - 1 or len(text) <= limit  # never throws most away


def big_item(text_chars: int, title_chars: int) -> FeedItem:
    """An item of EASC paragraphs, real-length articles one after another (needs ../shared)."""
    easc = easc_texts()[:20]
    paragraphs = []
    while sum(map(len, paragraphs)) < text_chars:
        paragraphs += [f"<p>{line}</p>" for line in easc[len(paragraphs) % len(easc)].split("\n")]
    title = ("زلزال قوي يضرب المنطقة " * (title_chars // 20 + 1))[:title_chars]
    return FeedItem(guid="g1", link="https://x.example/1", title=title, html="".join(paragraphs))


@needs_shared
def test_prepare_article_caps_text_and_title_before_anything_else_sees_them():
    item = big_item(2_000_000, 2_000)
    article = prepare_article(item)
    assert len(article.text) <= ARTICLE_MAX_CHARS
    assert len(article.text) > ARTICLE_MAX_CHARS // 2
    assert len(article.title) <= TITLE_MAX_CHARS
    assert article.title.endswith("…")
    assert "<" not in article.text  # no half tag left by cutting the HTML
    small = prepare_article(item, max_text_chars=1000, max_title_chars=60)
    assert len(small.text) <= 1000
    assert len(small.title) <= 60
    assert small.item_key == article.item_key  # identity is the item's, not the capped text's
    assert small.content_hash != article.content_hash  # the hash covers what is stored


def test_an_ordinary_item_is_unchanged_by_the_caps():
    for text in SAMPLES:
        item = FeedItem(guid="g", link=None, title="عنوان عادي", html=f"<p>{text}</p>")
        assert prepare_article(item).text == prepare_article(item, max_text_chars=10**9).text


@needs_shared
@pytest.mark.slow  # feedparser reads the 2 MB body whole
def test_the_worker_caps_a_2_mb_item_of_a_real_feed_body():
    item = big_item(2_000_000, 600)
    body = make_rss("أخبار", [{"title": item.title, "guid": "g1", "content": item.html}])
    assert len(body) > 2_000_000
    prepared = parse_and_prepare(body.encode(), {}, "http://x/", None, "", 5000, 100)
    (article,) = prepared.articles
    assert len(article.text) <= 5000
    assert len(article.title) <= 100


def test_the_caps_are_settings():
    settings = load_settings({"ARTICLE_MAX_CHARS": "5000", "TITLE_MAX_CHARS": "120"})
    assert (settings.article_max_chars, settings.title_max_chars) == (5000, 120)
    defaults = load_settings({})
    assert (defaults.article_max_chars, defaults.title_max_chars) == (
        ARTICLE_MAX_CHARS,
        TITLE_MAX_CHARS,
    )
    with pytest.raises(SettingsError, match="ARTICLE_MAX_CHARS"):
        load_settings({"ARTICLE_MAX_CHARS": "10"})
    with pytest.raises(SettingsError, match="TITLE_MAX_CHARS"):
        load_settings({"TITLE_MAX_CHARS": "many"})
