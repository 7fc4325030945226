"""The subscription book: chats and keywords as typed, matched per distinct query."""

from __future__ import annotations

import gc
import random
import re
from dataclasses import replace

import pytest

from app.bootstrap import load_book
from core.matcher import find_matches
from core.models import Subscription
from core.query import Query, QueryError, parse_query
from core.subscriptions import SubscriptionBook
from storage import chats as chat_store
from tests.data import feed_file
from tests.support import feed_texts

TEXT = "قال وزير الداخلية في المغرب إن الحكومة المغربية تدرس الأمر"


def subscribe(book: SubscriptionBook, sub_id: int, chat_id: int, keyword: str) -> Query:
    """Add one subscription to the book and return its query."""
    query = parse_query(keyword)
    book.add(Subscription(sub_id, chat_id, query.raw, query.key), query)
    return query


def test_same_query_in_two_chats_reaches_both_until_one_leaves() -> None:
    book = SubscriptionBook()
    subscribe(book, 1, 100, "المغرب")
    subscribe(book, 2, 200, "المَغرب")  # same key, another spelling
    subscribe(book, 3, 200, "الحكومة")
    assert book._index.distinct_queries == 2
    assert book.match(TEXT) == {100: ["المغرب"], 200: ["المَغرب", "الحكومة"]}
    book.remove(1)
    assert book.match(TEXT) == {200: ["المَغرب", "الحكومة"]}
    book.remove(2)
    assert book.match(TEXT) == {200: ["الحكومة"]}
    book.remove(3)
    book.remove(3)  # unknown ids are ignored
    assert len(book) == 0
    assert book.match(TEXT) == {}


def test_chats_come_in_order_of_their_first_matching_subscription() -> None:
    book = SubscriptionBook()
    subscribe(book, 5, 300, "الحكومة")
    subscribe(book, 2, 100, "وزير الداخلية")
    subscribe(book, 9, 100, "المغرب")
    subscribe(book, 7, 200, "المغرب")
    subscribe(book, 1, 300, "تونس")  # does not match
    result = book.match(TEXT)
    assert list(result.items()) == [
        (100, ["وزير الداخلية", "المغرب"]),
        (300, ["الحكومة"]),
        (200, ["المغرب"]),
    ]


def test_changes_after_matching_are_seen() -> None:
    book = SubscriptionBook()
    subscribe(book, 1, 100, "المغرب")
    assert book.match(TEXT) == {100: ["المغرب"]}
    subscribe(book, 2, 200, "المغرب")  # a new follower of a query already matched
    subscribe(book, 3, 200, "مغرب")  # a new query in the same index group
    assert book.match(TEXT) == {100: ["المغرب"], 200: ["المغرب", "مغرب"]}
    subscribe(book, 1, 100, "تونس")  # re-adding an id replaces its keyword
    assert book.match(TEXT) == {200: ["المغرب", "مغرب"]}
    book.move_chat(200, 201)  # a group became a supergroup
    assert book.match(TEXT) == {201: ["المغرب", "مغرب"]}
    subscribe(book, 4, 100, "المغرب -الحكومة")
    assert 100 not in book.match(TEXT)
    book.remove_chat(201)
    assert book.match(TEXT) == {}
    assert len(book) == 2


def test_a_reused_query_id_does_not_keep_the_old_followers() -> None:
    book = SubscriptionBook()
    subscribe(book, 1, 100, "المغرب")
    assert book.match(TEXT) == {100: ["المغرب"]}  # rows of the query's id are cached
    book.remove(1)
    subscribe(book, 2, 200, "الحكومة")  # a new distinct query takes the freed id
    assert book.match(TEXT) == {200: ["الحكومة"]}
    subscribe(book, 3, 300, "المغرب")
    assert book.match(TEXT) == {200: ["الحكومة"], 300: ["المغرب"]}


def test_build_leaves_out_unparsable_keywords_and_parses_each_keyword_once() -> None:
    book = SubscriptionBook.build(
        [
            (1, 100, "المغرب"),
            (3, 300, '"المغرب'),  # unbalanced quotes: stored under older rules
            (4, 400, "م"),  # one letter is allowed for stored keywords
            (5, 500, "المغرب"),
            (6, 100, "م"),
        ]
    )
    assert len(book) == 4
    assert book.match("زار المغرب م") == {100: ["المغرب", "م"], 400: ["م"], 500: ["المغرب"]}
    index = book._index
    assert index.query_of(1) is index.query_of(5)  # one Query for every copy of a keyword
    assert index.query_of(3) is None


def test_a_chats_subscriptions_share_one_chat_id_object() -> None:
    book = SubscriptionBook.build([(1, 10**12, "المغرب"), (2, 10**12, "تونس")])
    assert book._owner[1] is book._owner[2]


def test_chats_keep_their_subscriptions_through_removes_and_moves() -> None:
    book = SubscriptionBook()
    for sub_id, chat_id, keyword in ((1, 100, "المغرب"), (2, 100, "تونس"), (3, 200, "ليبيا")):
        subscribe(book, sub_id, chat_id, keyword)
    book.remove(1)
    assert book.match("المغرب تونس ليبيا") == {100: ["تونس"], 200: ["ليبيا"]}
    book.move_chat(100, 200)
    assert book.match("المغرب تونس ليبيا") == {200: ["تونس", "ليبيا"]}
    subscribe(book, 4, 200, "المغرب")
    book.remove_chat(200)
    assert len(book) == 0
    assert book.match("المغرب تونس ليبيا") == {}
    book.move_chat(300, 301)  # a chat without subscriptions: nothing to move
    assert len(book) == 0


@pytest.mark.slow  # every real feed, every keyword
def test_book_agrees_with_find_matches_on_real_feeds() -> None:
    texts = feed_texts(feed_file("sky-news-arabia.xml"))
    texts += feed_texts(feed_file("al-jazeera_transcribed.xml"))
    assert len(texts) >= 20
    rng = random.Random(3)
    keywords: list[str] = []
    for text in texts:
        words = [w for w in re.findall(r"\w+", text) if len(w) >= 3]
        keywords += rng.sample(words, min(8, len(words)))
        keywords += [f"{a} {b}" for a, b in zip(words[:4], words[1:5], strict=False)]
        keywords += [
            f"{rng.choice(words)}|{rng.choice(words)}",
            f"{rng.choice(words)} -{rng.choice(words)}",
            f"{rng.choice(words)[:3]}*",
            f'"{rng.choice(words)}"',
        ]
    book = SubscriptionBook()
    subscriptions: list[tuple[int, int, Query]] = []
    for sub_id, keyword in enumerate(keywords, start=1):
        try:
            query = parse_query(keyword)
        except QueryError:
            continue  # a stop word or a short fragment: the bot refuses it too
        chat_id = rng.randrange(40)
        book.add(Subscription(sub_id, chat_id, query.raw, query.key), query)
        subscriptions.append((sub_id, chat_id, query))
    assert len(subscriptions) > 300
    assert book._index.distinct_queries < len(subscriptions)  # some queries are shared
    matched = 0
    for text in texts:
        expected: dict[int, list[str]] = {}
        for _, chat_id, query in subscriptions:
            if find_matches(query, text):
                expected.setdefault(chat_id, []).append(query.raw)
        assert list(book.match(text).items()) == list(expected.items())
        matched += sum(map(len, expected.values()))
    assert matched > len(texts) * 10


def test_load_book_reads_the_active_keywords_and_leaves_the_gc_as_it_was(db) -> None:
    chat_store.touch_chat(db, 100, type="private", title="", language="ar", now=1)
    chat_store.add_subscription(db, 100, "المغرب", "المغرب", now=1)
    paused = chat_store.add_subscription(db, 100, "الحكومة", "الحكومة", now=1)
    chat_store.set_subscription_paused(db, 100, paused, True)
    try:
        for collecting in (True, False):
            (gc.enable if collecting else gc.disable)()
            book = load_book(db)
            assert gc.isenabled() is collecting
            assert book.match(TEXT) == {100: ["المغرب"]}
    finally:
        gc.enable()
        gc.unfreeze()


def test_a_scoped_keyword_matches_only_articles_of_its_feeds() -> None:
    book = SubscriptionBook()
    subscribe(book, 1, 100, "المغرب")
    subscribe(book, 2, 200, "المغرب")
    book.set_scope(2, frozenset({7, 8}))
    assert book.match(TEXT, feed_id=7) == {100: ["المغرب"], 200: ["المغرب"]}
    assert book.match(TEXT, feed_id=9) == {100: ["المغرب"]}
    assert book.match(TEXT) == {100: ["المغرب"], 200: ["المغرب"]}  # no feed: every scope
    book.set_scope(2, frozenset())  # its feeds were all removed: it matches nothing
    assert book.match(TEXT, feed_id=7) == {100: ["المغرب"]}
    book.set_scope(2, None)  # every feed again
    assert book.match(TEXT, feed_id=9) == {100: ["المغرب"], 200: ["المغرب"]}
    assert book.matched_keys(TEXT) >= {parse_query("المغرب").key}


def test_a_scope_outlives_a_pause_and_an_unresolved_scope_matches_nothing() -> None:
    book = SubscriptionBook()
    query = parse_query("الحكومة")
    scoped = Subscription(5, 300, query.raw, query.key, scoped=True)
    book.add(scoped, query)
    assert book.match(TEXT, feed_id=1) == {}  # scoped, its feeds not set yet
    book.set_scope(5, frozenset({1}))
    assert book.match(TEXT, feed_id=1) == {300: ["الحكومة"]}
    book.remove(5)  # paused
    assert book.match(TEXT, feed_id=1) == {}
    book.add(scoped, query)  # resumed: its feeds are still known
    assert book.match(TEXT, feed_id=1) == {300: ["الحكومة"]}
    assert book.match(TEXT, feed_id=2) == {}
    assert book.scope_of(5) == frozenset({1})


def test_a_keywords_own_ways_go_with_it_when_its_text_changes_or_it_goes() -> None:
    book = SubscriptionBook()
    query = parse_query("الذهب")
    daily = Subscription(1, 100, query.raw, query.key, pace="daily")
    book.add(daily, query)
    book.set_ways(daily)
    assert book.ways_of(100, "الذهب") == daily
    narrowed = parse_query("الذهب -سعر")  # 👎 rewrote it: the same subscription, new text
    changed = Subscription(1, 100, narrowed.raw, narrowed.key, pace="daily")
    book.add(changed, narrowed)
    book.set_ways(changed)
    assert book.ways_of(100, "الذهب") is None
    assert book.ways_of(100, "الذهب -سعر") == changed
    book.remove(1)
    assert book.ways_of(100, "الذهب -سعر") is None
    again = Subscription(2, 100, query.raw, query.key)  # followed anew: the chat's way
    book.add(again, query)
    assert book.ways_of(100, "الذهب") is None


def test_the_book_finds_the_keywords_whose_sites_cover_a_host() -> None:
    book = SubscriptionBook()
    book.set_sites(1, ("hespress.com",))
    book.set_sites(2, ("bbc.com", "hespress.com"))
    assert book.covering("fr.hespress.com") == {1, 2}
    assert book.covering("hespress.com") == {1, 2}
    assert book.covering("nothespress.com") == set()
    assert book.covering("feeds.bbc.com") == {2}
    book.set_sites(2, ())  # every source again
    assert book.covering("feeds.bbc.com") == set()
    assert book.sites_of(1) == ("hespress.com",)
    assert book.sites_of(2) == ()


def test_a_keywords_own_ways_move_with_its_group_to_the_supergroup() -> None:
    book = SubscriptionBook()
    query = parse_query("الذهب")
    big = Subscription(1, -100, query.raw, query.key, min_outlets=2)
    book.add(big, query)
    book.set_ways(big)
    assert book.big_story_windows() == [6]
    book.move_chat(-100, -1001)
    assert book.ways_of(-100, "الذهب") is None
    moved = book.ways_of(-1001, "الذهب")
    assert moved is not None
    assert (moved.id, moved.chat_id, moved.min_outlets) == (1, -1001, 2)
    assert book.big_story_windows() == [6]  # counted once, not twice
    book.remove(1)
    assert book.big_story_windows() == []


def test_the_keywords_waiting_for_big_stories_are_matched_apart_within_their_scope() -> None:
    book = SubscriptionBook()
    subscribe(book, 1, 100, "المغرب")  # every story: not in the big-stories book
    query = parse_query("الحكومة")
    big = Subscription(2, 200, query.raw, query.key, min_outlets=2)
    book.add(big, query)
    book.set_ways(big)
    assert book.match_big(TEXT, 7) == {200: ["الحكومة"]}
    book.set_scope(2, frozenset({7}))
    assert book.match_big(TEXT, 8) == {}
    assert book.match_big(TEXT, 7) == {200: ["الحكومة"]}
    book.set_ways(replace(big, min_outlets=1))  # every story again
    assert book.match_big(TEXT, 7) == {}
    assert book.big_story_windows() == []
