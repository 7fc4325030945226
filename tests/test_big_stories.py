"""Only the big stories (issue #31) in the pure rules and storage: outlets counted by site within
a window, the threshold reached by a new outlet only, the outlets named within Telegram's
limits, and a story's tellings read from the database."""

from __future__ import annotations

from dataclasses import replace

from core.i18n import load_catalog
from core.models import Article, Subscription
from core.query import parse_query
from core.render import MAX_MESSAGE_CHARS, AlertContent, message_length, render_alert
from core.story_ways import Telling, big_threshold, newly_reached, outlet_names, outlets_within
from core.subscriptions import SubscriptionBook
from storage import articles as article_store
from storage import feeds as feed_store

CATALOG = load_catalog()
HOUR = 3600.0
T0 = 1_796_637_600.0


def told(article_id: int, feed_id: int, title: str, url: str, after_hours: float) -> Telling:
    return Telling(article_id, feed_id, title, url, T0 + after_hours * HOUR)


STORY = [
    told(1, 1, "هسبريس", "https://www.hespress.example/a", 0),
    told(2, 1, "هسبريس", "https://hespress.example/a-updated", 0.5),  # the same outlet again
    told(3, 2, "هسبريس اقتصاد", "https://hespress.example/eco/a", 1),  # another feed, one site
    told(4, 3, "الجزيرة", "https://aljazeera.example/a", 2),
    told(5, 4, "بي بي سي", "https://bbc.example/a", 7),
]


def test_outlets_are_sites_counted_within_the_window_of_the_first_article():
    assert [t.article_id for t in outlets_within(STORY, 6)] == [1, 4]
    assert [t.article_id for t in outlets_within(STORY, 12)] == [1, 4, 5]
    assert outlets_within([], 6) == []
    no_link = [told(1, 1, "أ", "", 0), told(2, 2, "ب", "", 1)]  # counted by their feeds
    assert len(outlets_within(no_link, 6)) == 2


def test_the_threshold_is_reached_only_by_the_article_of_a_new_outlet():
    assert newly_reached(STORY[:4], 4, [6, 12]) == {6: 2, 12: 2}
    assert newly_reached(STORY[:3], 3, [6]) == {}  # a second feed of the same site
    assert newly_reached(STORY, 5, [6, 12]) == {12: 3}  # past the 6-hour window
    assert newly_reached(STORY[:1], 1, [6]) == {}  # one outlet is no threshold
    many = [told(n, n, f"م{n}", f"https://s{n}.example/a", 0) for n in range(1, 8)]
    assert newly_reached(many, 6, [6]) == {}  # past five, every threshold was met before


def test_outlets_are_named_by_their_feeds_and_a_shared_title_with_its_site():
    aggregator = [
        told(1, 9, "أخبار جوجل", "https://hespress.example/a", 0),
        told(2, 9, "أخبار جوجل", "https://aljazeera.example/a", 0),
        told(3, 4, "", "https://bbc.example/a", 0),
    ]
    assert outlet_names(aggregator) == [
        "أخبار جوجل (hespress.example)",
        "أخبار جوجل (aljazeera.example)",
        "bbc.example",
    ]
    assert outlet_names(outlets_within(STORY, 6)) == ["هسبريس", "الجزيرة"]


def test_an_alert_names_the_outlets_only_for_a_keyword_waiting_for_big_stories():
    thresholds = {"ترامب": (3, 6)}
    assert big_threshold(["غزة", "ترامب"], thresholds) == (3, 6)
    assert big_threshold(["غزة"], thresholds) is None


def test_the_outlets_line_stays_within_telegram_s_limit():
    names = [f"مصدر {n} " + "ب" * 200 for n in range(30)]
    content = AlertContent(
        title="ت" * 300,
        summary=["جملة طويلة جداً. " * 300],
        sources=names,
        keywords=["ترامب"],
        link="https://example.com/a",
        outlets=names,
        outlets_hours=24,
    )
    for language in ("ar", "en"):
        text = render_alert(CATALOG, language, content)
        assert message_length(text) <= MAX_MESSAGE_CHARS
        (line,) = [line for line in text.split("\n") if line.startswith("📰")]
        assert line.count("مصدر ") == 8  # eight named, the rest "…"
        assert line.endswith("، …")
    english = render_alert(CATALOG, "en", content)
    assert "📰 A big story: 30 outlets carried it within 24 hours: مصدر 0" in english


def test_a_story_s_tellings_are_read_within_a_window_of_its_first(db):
    feeds = [
        feed_store.add_feed(db, f"https://s{n}.example/feed", title=f"م{n}", interval_seconds=300,
                            now=1)
        for n in range(3)
    ]  # fmt: skip
    ids = []
    for n, (feed_id, after) in enumerate(zip(feeds, (0, 2, 7), strict=True)):
        article = Article(
            item_key=f"k{n}", url=f"https://s{n}.example/a", title="خبر", text="نص الخبر",
            language="ar", content_hash=f"h{n}",
        )  # fmt: skip
        _, article_id = article_store.store_article(db, feed_id, article, now=T0 + after * HOUR)
        article_store.set_story(db, article_id, ids[0] if ids else article_id)
        ids.append(article_id)
    within = article_store.story_tellings(db, ids[0], 6 * HOUR)
    assert within == [
        Telling(ids[0], feeds[0], "م0", "https://s0.example/a", T0),
        Telling(ids[1], feeds[1], "م1", "https://s1.example/a", T0 + 2 * HOUR),
    ]
    assert len(article_store.story_tellings(db, ids[0], 24 * HOUR)) == 3
    assert article_store.story_tellings(db, 999, 24 * HOUR) == []


def test_the_book_knows_which_windows_big_stories_keywords_count_in():
    book = SubscriptionBook()
    for sub_id, chat_id, keyword in ((1, 5, "الذهب"), (2, 6, "الذهب"), (3, 6, "ترامب")):
        query = parse_query(keyword)  # ways are kept for the keywords the book indexes
        book.add(Subscription(sub_id, chat_id, query.raw, query.key), query)
    gold = Subscription(1, 5, "الذهب", "ذهب", min_outlets=2, window_hours=6)
    book.set_ways(gold)
    book.set_ways(Subscription(2, 6, "الذهب", "ذهب", min_outlets=3, window_hours=6))
    book.set_ways(Subscription(3, 6, "ترامب", "ترامب", pace="daily"))
    assert book.big_story_windows() == [6]
    book.set_ways(replace(gold, window_hours=12))
    assert book.big_story_windows() == [6, 12]
    book.set_ways(Subscription(2, 6, "الذهب", "ذهب"))  # every story again
    book.set_ways(replace(gold, min_outlets=1, pace="hourly"))
    assert book.big_story_windows() == []
    assert book.ways_of(5, "الذهب") == replace(gold, min_outlets=1, pace="hourly")
