"""service.feedback: what a reaction counts and what a 👎 may change, on a real database and the
live index."""

from __future__ import annotations

import pytest

from core.feedback import DISLIKE, LIKE
from core.models import Article, Subscription
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from service import feedback, keywords
from service.base import Backend, Refusal
from storage import articles, chats, feeds, outbox
from storage import feedback as feedback_store

NOW = 1_800_000_000.0
CHAT = 111
MESSAGE = 40
TITLE = "الرباط تستضيف نهائي كأس أفريقيا"
TEXT = "تستضيف الرباط نهائي كأس أفريقيا. ويحضر النهائي آلاف المشجعين."


@pytest.fixture
def backend(db) -> Backend:
    chats.touch_chat(db, CHAT, type="private", title="سارة", language="ar", now=NOW)
    return Backend(db, SubscriptionBook(), Settings(), lambda: NOW)


def follow(backend: Backend, raw: str) -> Subscription:
    chat = chats.get_chat(backend.db, CHAT)
    assert chat is not None
    added = keywords.add_keyword(backend, chat, raw)
    assert isinstance(added, Subscription)
    return added


def sent(backend: Backend, names: list[str]) -> int:
    """An alert about the final in Rabat, naming `names`, sent as message MESSAGE: its row id."""
    db = backend.db
    feed_id = feeds.add_feed(db, "https://site/feed", title="Site", interval_seconds=300, now=1)
    story = Article("k1", "https://site/a", TITLE, TEXT, "ar", "h1", None, 100.0)
    _, article_id = articles.store_article(db, feed_id, story, now=2)
    outbox.queue_alert(db, CHAT, story_id=article_id, article_id=article_id, keywords=names, now=2)
    (row,) = outbox.claim(db, [head.row_id for head in outbox.due_heads(db, 3)], 3)
    outbox.mark_sent(db, row.id, message_id=MESSAGE, now=3)
    return row.id


def counts(backend: Backend) -> list[tuple[str, int, int]]:
    stats = feedback_store.keyword_feedback(backend.db, CHAT, since=0)
    return [(s.keyword, s.likes, s.dislikes) for s in stats]


def test_a_thumbs_down_is_counted_and_answered_once_a_thumbs_up_only_counted(backend):
    follow(backend, "الرباط")
    row_id = sent(backend, ["الرباط"])

    assert feedback.reacted(backend, CHAT, MESSAGE, set(), {LIKE}) is None
    disliked = feedback.reacted(backend, CHAT, MESSAGE, {LIKE}, {DISLIKE})
    assert disliked is not None
    assert disliked.row_id == row_id
    assert counts(backend) == [("الرباط", 0, 1)]
    assert feedback.ask_once(backend, disliked)
    assert not feedback.ask_once(backend, disliked)  # a second 👎 is counted, never asked again
    assert feedback.reacted(backend, CHAT, MESSAGE + 1, set(), {DISLIKE}) is None  # no alert


def test_the_story_s_words_are_offered_and_an_exclusion_holds_and_is_undone(backend):
    sub = follow(backend, "الرباط")
    alert = feedback.sent_alert(backend, CHAT, sent(backend, ["الرباط"]))
    assert alert is not None
    assert feedback.named_keywords(backend, CHAT, alert) == [sub]
    words = feedback.story_words(backend, alert, sub)
    assert words[:2] == ["نهائي", "أفريقيا"]

    excluded = feedback.exclude(backend, CHAT, sub, "نهائي")
    assert isinstance(excluded, Subscription)
    assert excluded.keyword == "الرباط -نهائي"
    assert feedback.excludes(excluded.keyword, "نهائي")
    assert backend.book.match(TITLE) == {}  # the index follows the stored keyword at once
    assert feedback.story_words(backend, alert, excluded) == words  # buttons keep their places

    restored = feedback.exclude(backend, CHAT, excluded, "نهائي", undo=True)
    assert isinstance(restored, Subscription)
    assert restored.keyword == "الرباط"
    assert list(backend.book.match(TITLE)) == [CHAT]


def test_a_change_into_a_keyword_the_chat_has_or_a_gone_keyword_is_refused(backend):
    first = follow(backend, "الرباط")
    follow(backend, "الرباط -نهائي")
    assert feedback.exclude(backend, CHAT, first, "نهائي") == Refusal(
        "already", {"keyword": "الرباط -نهائي"}
    )
    keywords.delete_keyword(backend, CHAT, first.id)
    assert feedback.change_keyword(backend, CHAT, first, "الرباط -كأس") == feedback.GONE
    assert feedback.keyword(backend, CHAT, first.id) is None
