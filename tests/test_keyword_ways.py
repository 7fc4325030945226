"""Each keyword its own way (issue #31): the pure rules and how a keyword's ways are stored."""

from __future__ import annotations

import pytest

from app.bootstrap import load_book
from core.keyword_ways import (
    SiteError,
    covers,
    fastest,
    feeds_of_sites,
    host_of,
    split_sites,
    surges_on,
    valid_outlets,
)
from core.models import Chat, Subscription
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from service import keyword_ways as ways
from service import keywords, sources
from service.base import Backend, Refusal
from service.keywords import add_keyword
from service.sources import load_scopes
from storage import articles as article_store
from storage import chats as chat_store
from storage import feeds as feed_store
from storage import outbox, scopes
from tests.support import article

CHAT = 42


def test_site_words_are_taken_out_of_the_keyword_as_bare_hosts():
    assert split_sites("الذهب site:hespress.com site:https://www.AlJazeera.net/news") == (
        "الذهب",
        ("hespress.com", "aljazeera.net"),
    )
    assert split_sites("الذهب") == ("الذهب", ())
    assert split_sites("ترامب site:bbc.com SITE:bbc.com") == ("ترامب", ("bbc.com",))


@pytest.mark.parametrize("typed", ["site:", "site:foo", "site:1.2.3.4", "site:x..y", "site:-a.com"])
def test_a_site_that_is_not_a_host_name_is_refused(typed):
    with pytest.raises(SiteError) as refused:
        split_sites(f"الذهب {typed}")
    assert refused.value.code == "bad_site"


def test_more_than_ten_sites_are_refused():
    typed = " ".join(f"site:s{n}.com" for n in range(11))
    with pytest.raises(SiteError) as refused:
        split_sites(f"الذهب {typed}")
    assert refused.value.code == "too_many_sites"


def test_a_site_covers_its_own_host_and_those_under_it():
    assert covers("bbc.com", "bbc.com")
    assert covers("bbc.com", "feeds.bbc.com")
    assert not covers("bbc.com", "notbbc.com")
    assert host_of("https://WWW.Hespress.com:443/x") == "hespress.com"
    assert host_of("not a url") == ""
    hosts = {1: {"feeds.bbci.co.uk", "bbc.com"}, 2: {"hespress.com"}, 3: {"aljazeera.net"}}
    assert feeds_of_sites(["bbc.com", "hespress.com"], hosts) == {1, 2}
    assert feeds_of_sites([], hosts) == set()


def test_a_story_goes_at_the_fastest_pace_of_its_keywords():
    assert fastest(["daily", "hourly"]) == "hourly"
    assert fastest(["daily", "instant"]) == "instant"
    assert fastest([]) == "instant"


def test_surges_are_on_by_default_for_digest_and_big_stories_keywords_only():
    plain = Subscription(1, CHAT, "الذهب", "k")
    assert not surges_on(plain, "instant")
    assert surges_on(plain, "daily")  # the chat's pace is a digest
    assert not surges_on(Subscription(1, CHAT, "الذهب", "k", pace="instant"), "daily")
    assert surges_on(Subscription(1, CHAT, "الذهب", "k", pace="hourly"), "instant")
    assert surges_on(Subscription(1, CHAT, "الذهب", "k", min_outlets=3), "instant")
    assert not surges_on(Subscription(1, CHAT, "الذهب", "k", pace="daily", surges=False), "daily")
    assert surges_on(Subscription(1, CHAT, "الذهب", "k", surges=True), "instant")
    assert [n for n in range(0, 8) if valid_outlets(n)] == [1, 2, 3, 4, 5]


def test_a_keywords_ways_are_stored_and_read_back(db):
    chat_store.touch_chat(db, CHAT, type="private", title="", language="ar", now=1.0)
    sub_id = chat_store.add_subscription(db, CHAT, "الذهب", "k", 1.0, sites=("hespress.com",))
    stored = chat_store.subscription(db, CHAT, sub_id)
    assert stored is not None
    assert (stored.scoped, stored.sites, stored.pace, stored.min_outlets) == (
        True,
        ("hespress.com",),
        None,
        1,
    )
    changed = chat_store.set_subscription_ways(
        db, CHAT, sub_id, pace="daily", min_outlets=3, window_hours=12, surges=False
    )
    assert changed is not None
    assert (changed.pace, changed.min_outlets, changed.window_hours, changed.surges) == (
        "daily",
        3,
        12,
        False,
    )
    assert chat_store.set_subscription_ways(db, CHAT + 1, sub_id, pace="hourly") is None
    with pytest.raises(ValueError, match="not a keyword's way"):
        chat_store.set_subscription_ways(db, CHAT, sub_id, keyword="x")


def test_a_keywords_pace_big_stories_and_surges_are_set_and_the_book_told(db):
    backend = Backend(db, SubscriptionBook(), Settings(), lambda: 1.0)
    chat = Chat(CHAT)
    chat_store.touch_chat(db, CHAT, type="private", title="", language="ar", now=1.0)
    added = add_keyword(backend, chat, "الذهب")
    assert isinstance(added, Subscription)
    paced = ways.set_pace(backend, CHAT, added.id, "daily")
    assert isinstance(paced, Subscription)
    assert paced.pace == "daily"
    assert backend.book.ways_of(CHAT, "الذهب") == paced
    big = ways.set_big_stories(backend, CHAT, added.id, 3, 12)
    assert isinstance(big, Subscription)
    assert (big.min_outlets, big.window_hours) == (3, 12)
    assert ways.set_big_stories(backend, CHAT, added.id, 6) == Refusal(
        "way_bad_outlets", {"value": 6}
    )
    assert ways.set_big_stories(backend, CHAT, added.id, 2, 5) == Refusal(
        "way_bad_window", {"value": 5}
    )
    assert ways.set_pace(backend, CHAT, added.id, "weekly") == Refusal(
        "way_bad_pace", {"value": "weekly"}
    )
    assert ways.set_pace(backend, CHAT + 1, added.id, "daily") is None  # not that chat's
    back = ways.set_pace(backend, CHAT, added.id, "chat")
    assert isinstance(back, Subscription)
    assert back.pace is None
    assert backend.book.ways_of(CHAT, "الذهب") == back  # still big stories only
    ways.set_big_stories(backend, CHAT, added.id, 1)
    assert backend.book.ways_of(CHAT, "الذهب") is None  # the chat's way again
    off = ways.set_surges(backend, CHAT, added.id, False)
    assert off is not None
    assert off.surges is False
    assert load_book(db).ways_of(CHAT, "الذهب") is None
    ways.set_pace(backend, CHAT, added.id, "hourly")
    assert load_book(db).ways_of(CHAT, "الذهب") is not None  # read back at a start


def test_a_keyword_reads_the_feeds_ticked_and_those_of_its_sites(db):
    backend = Backend(db, SubscriptionBook(), Settings(), lambda: 1.0)
    chat_store.touch_chat(db, CHAT, type="private", title="", language="ar", now=1.0)
    hespress = feed_store.add_feed(
        db, "https://hespress.com/feed", title="هسبريس", interval_seconds=300, now=1.0
    )
    bbc = feed_store.add_feed(
        db, "https://feeds.bbci.co.uk/arabic/rss.xml", title="BBC", interval_seconds=300, now=1.0
    )
    jazeera = feed_store.add_feed(
        db, "https://aljazeera.net/rss", title="الجزيرة", interval_seconds=300, now=1.0
    )
    scopes.record_sites(db, bbc, ["feeds.bbci.co.uk", "bbc.com"])
    added = add_keyword(backend, Chat(CHAT), "الذهب")
    assert isinstance(added, Subscription)
    text = "ارتفع سعر الذهب اليوم"
    assert backend.book.match(text, feed_id=jazeera) == {CHAT: ["الذهب"]}
    ticked = sources.toggle(backend, CHAT, added.id, hespress)
    assert isinstance(ticked, Subscription)
    assert ticked.scoped
    assert backend.book.match(text, feed_id=jazeera) == {}
    assert backend.book.match(text, feed_id=hespress) == {CHAT: ["الذهب"]}
    chat_store.set_subscription_ways(db, CHAT, added.id, sites=("bbc.com",))
    load_scopes(db, backend.book)  # as at a start
    assert backend.book.scope_of(added.id) == frozenset({hespress, bbc})
    listed = sources.sources(backend, CHAT, added.id)
    assert listed is not None
    assert [(s.feed.id, s.ticked, s.by_site) for s in listed[1]] == [
        (bbc, False, True),
        (jazeera, False, False),
        (hespress, True, False),
    ]
    assert sources.set_ticked(backend, CHAT, added.id, {999}) == Refusal(
        "source_unknown", {"feed": 999}
    )
    assert sources.toggle(backend, CHAT + 1, added.id, bbc) is None  # not that chat's
    everything = sources.every_source(backend, CHAT, added.id)
    assert everything is not None
    assert (everything.scoped, everything.sites) == (False, ())
    assert backend.book.match(text, feed_id=jazeera) == {CHAT: ["الذهب"]}
    assert scopes.ticked_feeds(db, added.id) == set()


def test_a_new_pace_applies_to_the_stories_already_owed(db):
    backend = Backend(db, SubscriptionBook(), Settings(), lambda: 1.0)
    chat_store.touch_chat(db, CHAT, type="private", title="", language="ar", now=1.0)
    gold = add_keyword(backend, Chat(CHAT), "الذهب")
    oil = add_keyword(backend, Chat(CHAT), "النفط")
    assert isinstance(gold, Subscription)
    assert isinstance(oil, Subscription)
    feed_id = feed_store.add_feed(
        db, "https://x.example/rss", title="x", interval_seconds=300, now=1.0
    )
    ways.set_pace(backend, CHAT, gold.id, "daily")
    ways.set_pace(backend, CHAT, oil.id, "daily")
    for number, matched in enumerate((["الذهب"], ["الذهب", "النفط"]), start=1):
        _, article_id = article_store.store_article(
            db, feed_id, article(f"k{number}", f"h{number}"), 1.0
        )
        outbox.queue_alert(
            db, CHAT, story_id=article_id, article_id=article_id, keywords=matched, now=1.0,
            not_before=99.0, pace="daily",
        )  # fmt: skip

    def owed() -> list[tuple]:
        return db.execute("SELECT keywords, pace, not_before FROM outbox ORDER BY id").fetchall()

    ways.set_pace(backend, CHAT, oil.id, "instant")  # the second story goes at once now
    assert owed() == [('["الذهب"]', "daily", 99.0), ('["الذهب", "النفط"]', None, 0.0)]
    ways.set_pace(backend, CHAT, oil.id, "hourly")  # slower again: hourly, its fastest
    assert owed()[1] == ('["الذهب", "النفط"]', "hourly", 0.0)


def test_test_counts_the_stories_big_stories_only_would_have_let_through(db):
    backend = Backend(db, SubscriptionBook(), Settings(), lambda: 1.0)
    hespress = feed_store.add_feed(
        db, "https://hespress.com/rss", title="هسبريس", interval_seconds=300, now=1.0
    )
    jazeera = feed_store.add_feed(
        db, "https://aljazeera.net/rss", title="الجزيرة", interval_seconds=300, now=1.0
    )
    told = {}
    for key, feed_id, url in (
        ("a", hespress, "https://hespress.com/1"),
        ("b", jazeera, "https://aljazeera.net/1"),  # the same story, another outlet
        ("c", hespress, "https://hespress.com/2"),  # a story only one outlet told
    ):
        _, told[key] = article_store.store_article(db, feed_id, article(key, key, url=url), 1.0)
    for key in told:
        article_store.set_story(db, told[key], told["a"] if key in "ab" else told[key])
    hits = article_store.articles_by_id(db, [told["b"], told["c"]])
    newest = [hits[told["b"]], hits[told["c"]]]
    assert keywords.big_stories(backend, newest, 2, 6) == 1
    assert keywords.big_stories(backend, newest, 3, 6) == 0


def test_ways_set_while_paused_are_not_inherited_by_the_keyword_followed_anew(db):
    backend = Backend(db, SubscriptionBook(), Settings(), lambda: 1.0)
    chat_store.touch_chat(db, CHAT, type="private", title="", language="ar", now=1.0)
    gold = add_keyword(backend, Chat(CHAT), "الذهب")
    assert isinstance(gold, Subscription)
    keywords.set_keyword_paused(backend, CHAT, gold.id, True)
    ways.set_pace(backend, CHAT, gold.id, "daily")
    ways.set_big_stories(backend, CHAT, gold.id, 3)
    resumed = keywords.set_keyword_paused(backend, CHAT, gold.id, False)
    assert resumed is not None
    assert backend.book.ways_of(CHAT, "الذهب") == resumed  # resumed: its ways apply
    keywords.set_keyword_paused(backend, CHAT, gold.id, True)
    keywords.delete_keyword(backend, CHAT, gold.id)  # deleted while paused
    again = add_keyword(backend, Chat(CHAT), "الذهب")
    assert isinstance(again, Subscription)
    assert backend.book.ways_of(CHAT, "الذهب") is None
    assert backend.book.big_story_windows() == []
