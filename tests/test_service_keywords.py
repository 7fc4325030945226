"""service.keywords: a chat's keywords followed, refused, removed, paused and tried, on a real
database and the live index."""

from __future__ import annotations

import pytest

from core.models import Article, Chat, Subscription
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from service import keywords
from service.base import Backend, Refusal
from service.keywords import Added
from service.trials import Trials
from storage import articles as article_store
from storage import chats as chat_store
from storage import feeds as feed_store

NOW = 1_800_000_000.0
CHAT = 111
OTHER = 222


@pytest.fixture
def backend(db) -> Backend:
    """Two chats the bot knows, an empty index, at most three keywords a chat."""
    for chat_id in (CHAT, OTHER):
        chat_store.touch_chat(db, chat_id, type="private", title="", language="ar", now=NOW)
    return Backend(db, SubscriptionBook(), Settings(max_keywords_per_chat=3), lambda: NOW)


def chat(backend: Backend, chat_id: int = CHAT) -> Chat:
    found = chat_store.get_chat(backend.db, chat_id)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("المغرب", ["المغرب"]),
        ("غزة، لبنان,سوريا", ["غزة", "لبنان", "سوريا"]),
        ("وزير الداخلية\n\n  الهجرة  \n", ["وزير الداخلية", "الهجرة"]),
        (" ,، \n", []),
        ("غزة|لبنان", ["غزة|لبنان"]),  # | is the keyword's own "or"
    ],
)
def test_split_keywords(text, expected):
    assert keywords.split_keywords(text) == expected


def test_a_keyword_is_stored_and_matched_at_once(backend):
    added = keywords.add_keyword(backend, chat(backend), "الرباط")
    assert isinstance(added, Subscription)
    assert added == Subscription(added.id, CHAT, "الرباط", added.key)
    assert keywords.keywords(backend, CHAT) == [added]
    assert backend.book.match("زيارة إلى الرباط") == {CHAT: ["الرباط"]}


def test_a_keyword_added_in_a_forum_topic_keeps_the_topic(backend):
    added = keywords.add_keyword(backend, chat(backend), "غزة", thread_id=7, topic="أخبار")
    assert isinstance(added, Subscription)
    assert (added.thread_id, added.topic) == (7, "أخبار")
    assert keywords.keywords(backend, CHAT) == [added]


@pytest.mark.parametrize(
    ("raw", "refusal"),
    [
        ("في", Refusal("refused_stop_word", {"keyword": "في", "word": "في"})),
        ("ا", Refusal("refused_too_short", {"keyword": "ا", "min": 2})),
        ("ب" * 101, Refusal("refused_too_long", {"keyword": "ب" * 101, "max": 100})),
        ('""', Refusal("refused_empty", {"keyword": '""'})),
    ],
)
def test_a_keyword_the_matcher_refuses_says_why(backend, raw, refusal):
    assert keywords.add_keyword(backend, chat(backend), raw) == refusal
    assert keywords.parse(backend, raw) == refusal
    assert keywords.keywords(backend, CHAT) == []


def test_a_keyword_followed_already_or_past_the_limit_is_refused(backend):
    for raw in ("غزة", "لبنان", "سوريا"):
        assert isinstance(keywords.add_keyword(backend, chat(backend), raw), Subscription)
    assert keywords.add_keyword(backend, chat(backend), "غزة") == Refusal("too_many", {"max": 3})
    keywords.remove_keyword(backend, CHAT, "سوريا")
    assert keywords.add_keyword(backend, chat(backend), "غزة") == Refusal(
        "already", {"keyword": "غزة"}
    )


def test_a_banned_chat_adds_nothing(backend):
    banned = Chat(CHAT, banned=True)
    assert keywords.add_keyword(backend, banned, "غزة") == Refusal("banned_notice")
    assert keywords.add_keywords(backend, banned, ["غزة"]) == Refusal("banned_notice")
    assert keywords.keywords(backend, CHAT) == []
    assert len(backend.book) == 0


def test_several_keywords_are_added_in_order_until_the_limit(backend):
    result = keywords.add_keywords(backend, chat(backend), ["غزة", "في", "غزة", "لبنان"])
    assert isinstance(result, Added)
    assert [s.keyword for s in result.added] == ["غزة", "لبنان"]
    assert result.refused == (
        Refusal("refused_stop_word", {"keyword": "في", "word": "في"}),
        Refusal("already", {"keyword": "غزة"}),
    )
    ended = keywords.add_keywords(backend, chat(backend), ["سوريا", "العراق", "ليبيا"])
    assert isinstance(ended, Added)
    assert [s.keyword for s in ended.added] == ["سوريا"]
    assert ended.refused == (Refusal("too_many", {"max": 3}),)  # ليبيا was not tried


def test_a_keyword_is_removed_by_its_normalized_form_or_as_typed(backend):
    added = keywords.add_keyword(backend, chat(backend), "الرباط")
    assert keywords.remove_keyword(backend, OTHER, "الرباط") is None  # not that chat's
    assert keywords.remove_keyword(backend, CHAT, "رباط") is None
    assert keywords.remove_keyword(backend, CHAT, "الرباط") == added
    assert keywords.remove_keyword(backend, CHAT, "الرباط") is None
    assert backend.book.match("زيارة إلى الرباط") == {}
    odd = keywords.add_keyword(backend, chat(backend), "غزة")
    assert isinstance(odd, Subscription)
    assert keywords.remove_keyword(backend, CHAT, "غزة") == odd


def test_only_the_chat_s_own_keyword_is_deleted_by_id(backend):
    added = keywords.add_keyword(backend, chat(backend), "الرباط")
    assert isinstance(added, Subscription)
    assert keywords.delete_keyword(backend, OTHER, added.id) is None
    assert keywords.keywords(backend, CHAT) == [added]
    assert keywords.delete_keyword(backend, CHAT, added.id) == added
    assert keywords.keywords(backend, CHAT) == []
    assert backend.book.match("زيارة إلى الرباط") == {}


def test_a_paused_keyword_leaves_the_index_and_comes_back_when_resumed(backend):
    added = keywords.add_keyword(backend, chat(backend), "الرباط")
    assert isinstance(added, Subscription)
    assert keywords.set_keyword_paused(backend, OTHER, added.id, True) is None
    paused = keywords.set_keyword_paused(backend, CHAT, added.id, True)
    assert paused == Subscription(added.id, CHAT, "الرباط", added.key, paused=True)
    assert backend.book.match("زيارة إلى الرباط") == {}
    assert keywords.set_keyword_paused(backend, CHAT, added.id, False) == added
    assert backend.book.match("زيارة إلى الرباط") == {CHAT: ["الرباط"]}


def test_test_has_a_cooldown_per_chat(backend):
    trials = Trials()
    assert keywords.claim_test(backend, trials, CHAT) is None
    trials.release(CHAT)
    assert keywords.claim_test(backend, trials, CHAT) == Refusal("test_cooldown", {"seconds": 10})
    assert keywords.claim_test(backend, trials, OTHER) is None


def store_stories(backend: Backend, titles: list[str], *, age: float = 3600) -> None:
    feed_id = feed_store.add_feed(
        backend.db, "http://x.example/feed", title="أخبار", interval_seconds=300, now=NOW,
        added_by=None,
    )  # fmt: skip
    for number, title in enumerate(titles):
        article = Article(f"k{number}", f"https://x.example/{number}", title, title, "ar", "")
        article_store.store_article(backend.db, feed_id, article, NOW - age)


async def test_a_scan_finds_recent_stories_newest_first(backend):
    store_stories(backend, ["وفد يزور الرباط", "ارتفاع أسعار النفط", "مؤتمر في الرباط"])
    query = keywords.parse(backend, "الرباط")
    assert not isinstance(query, Refusal)
    scan = await keywords.scan_recent(backend, Trials(), query)
    assert [a.title for a in scan.hits] == ["مؤتمر في الرباط", "وفد يزور الرباط"]
    assert (scan.total, scan.complete) == (3, True)


async def test_a_scan_leaves_out_stories_older_than_test_days(backend):
    store_stories(backend, ["وفد يزور الرباط"], age=8 * 86400)
    query = keywords.parse(backend, "الرباط")
    assert not isinstance(query, Refusal)
    scan = await keywords.scan_recent(backend, Trials(), query)
    assert (scan.hits, scan.total, scan.complete) == ([], 0, True)


async def test_a_preview_never_waits_for_a_busy_chat_or_a_full_pool(backend):
    store_stories(backend, ["وفد يزور الرباط"])
    query = keywords.plan_test(backend, CHAT, "الرباط")
    assert not isinstance(query, Refusal)
    trials = Trials(scans_at_once=1)
    assert keywords.claim_test(backend, trials, CHAT) is None  # the chat's /test is running
    assert await keywords.preview(backend, trials, CHAT, query) is None
    trials.release(CHAT)
    scan = await keywords.preview(backend, trials, CHAT, query)  # no /test cooldown for it
    assert scan is not None
    assert [a.title for a in scan.hits] == ["وفد يزور الرباط"]
    assert CHAT not in trials.running
    async with trials.slots:  # every scan slot taken
        assert await keywords.preview(backend, trials, OTHER, query) is None
