"""core.fulltext: which feeds are teasers, and what an article becomes with its page."""

from __future__ import annotations

import pytest

from core.articles import prepare_article
from core.fulltext import (
    PAGE_BACKOFF_SECONDS,
    PAGE_FAILURES_BEFORE_BACKOFF,
    TEASER_WORDS,
    ends_with_excerpt_mark,
    is_teaser,
    page_backoff,
    same_site,
    with_page,
    without_page,
)
from core.models import FeedItem
from feeds.parse import parse_feed
from tests.data import ARABIC_FEEDS

SENTENCE = "قال وزير الخارجية إن المحادثات مع الوفد الزائر تناولت ملفات التعاون الاقتصادي والأمني. "


@pytest.mark.parametrize("path", ARABIC_FEEDS, ids=lambda p: p.stem)
def test_every_real_arabic_feed_we_bundle_is_a_teaser_feed(path):
    parsed = parse_feed(path.read_bytes(), {}, "https://example.com/")
    articles = [prepare_article(item) for item in parsed.items]
    words = [len(article.text.split()) for article in articles]
    assert is_teaser(words, [item.html for item in parsed.items])


def test_whole_articles_are_not_teasers_and_a_long_excerpt_cut_with_a_mark_is():
    assert not is_teaser([600, 450, 800], ["</p>", "</p>", "</p>"])
    assert is_teaser([TEASER_WORDS - 1] * 3, ["</p>"] * 3)
    assert is_teaser([400, 400, 400], ["… [&#8230;]", "[…]</p>", "end"])
    assert not is_teaser([], [])


def test_excerpt_marks_before_wordpress_s_read_more_line():
    assert ends_with_excerpt_mark("<p>نص المقتطف […]</p><p>The post X appeared first on Y.</p>")
    assert ends_with_excerpt_mark("نص المقتطف...")
    assert ends_with_excerpt_mark("نص المقتطف …")
    assert not ends_with_excerpt_mark("<p>نص كامل ينتهي بنقطة.</p>")


def _article(text: str, link: str = "https://www.example.com/news/1", published=None):
    item = FeedItem(guid="g1", link=link, title="محادثات في الرباط", html=text, published=published)
    return prepare_article(item)


def test_an_article_with_its_page_takes_the_page_s_text_language_and_fingerprint():
    teaser = _article("مقتطف قصير عن المحادثات")
    told = with_page(
        teaser,
        SENTENCE * 20,
        published_at=1_700_000_000.0,
        canonical="https://example.com/news/1?ref=home",
    )
    assert told.text == (SENTENCE * 20).strip() or told.text.startswith(SENTENCE.strip())
    assert told.page == "ok"
    assert told.language == "ar"
    assert told.fingerprint != teaser.fingerprint
    assert told.content_hash == teaser.content_hash  # still the feed's item, recognised as such
    assert told.published_at == 1_700_000_000.0
    assert told.url == "https://example.com/news/1"


def test_a_page_shorter_than_the_teaser_or_a_canonical_elsewhere_changes_neither():
    teaser = _article(SENTENCE * 3)
    told = with_page(teaser, "نص قصير", canonical="https://other.example/x")
    assert told.text == teaser.text
    assert told.url == teaser.url


def test_an_article_without_its_page_says_why():
    teaser = _article("مقتطف")
    failed = without_page(teaser, "timeout")
    assert (failed.text, failed.page) == (teaser.text, "timeout")


def test_same_site_ignores_www_and_refuses_what_is_not_a_web_link():
    assert same_site("https://www.example.com/a", "http://example.com/b")
    assert not same_site("https://example.com/a", "https://example.org/a")
    assert not same_site("javascript:alert(1)", "https://example.com/")


def test_auto_pauses_a_feed_only_after_many_failed_pages_in_a_row():
    assert page_backoff(PAGE_FAILURES_BEFORE_BACKOFF - 1, now=100.0) is None
    assert page_backoff(PAGE_FAILURES_BEFORE_BACKOFF, now=100.0) == 100.0 + PAGE_BACKOFF_SECONDS
