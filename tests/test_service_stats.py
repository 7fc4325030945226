"""service.stats: the figures /stats shows a chat (its keywords) and the bot's admins (the bot)."""

from __future__ import annotations

import pytest

from core import links
from core.models import Article
from core.settings import load_settings
from core.subscriptions import SubscriptionBook
from service import stats
from service.base import Backend
from service.stats import BotFigures
from storage import articles, bans, chats, outbox, shortlinks
from storage import feeds as feed_store
from storage import stats as stats_store
from storage.feedback import KeywordFeedback
from storage.stats import Stats

DAY = 86400
NOW = 1_700_000_000.0
ADMIN = 900
SARA, GONE, BANNED = 101, 102, 103


@pytest.fixture
def backend(db):
    return Backend(db, SubscriptionBook(), load_settings({"ADMIN_IDS": str(ADMIN)}), lambda: NOW)


def story(db, feed_id: int, key: str, title: str) -> int:
    article = Article(key, f"https://site/{key}", title, "نص الخبر", "ar", key, published_at=NOW)
    return articles.store_article(db, feed_id, article, now=NOW - 9 * DAY)[1]


def alert(db, chat_id: int, article_id: int, keywords: list[str], sent_at: float | None) -> int:
    """An alert owed to a chat; sent at `sent_at` (None: still pending)."""
    outbox.queue_alert(
        db, chat_id, story_id=article_id, article_id=article_id, keywords=keywords, now=NOW - DAY
    )
    row_id = db.execute("SELECT max(id) FROM outbox").fetchone()[0]
    if sent_at is not None:
        outbox.mark_sent(db, row_id, message_id=row_id, now=sent_at)
    return row_id


def seed(backend) -> None:
    db = backend.db
    for chat_id in (SARA, GONE, BANNED):
        chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
    chats.deactivate_chat(db, GONE, "bot blocked", 2)
    bans.ban(db, BANNED, banned_by=ADMIN, now=2)
    chats.add_subscription(db, SARA, "المغرب", "المغرب", now=1)
    chats.add_subscription(db, SARA, "تونس", "تونس", now=2)
    chats.add_subscription(db, GONE, "المغرب", "المغرب", now=3)
    healthy, failing, paused = (
        feed_store.add_feed(db, f"https://site/{n}.xml", title=n, interval_seconds=300, now=1)
        for n in ("healthy", "failing", "paused")
    )
    feed_store.record_failure(db, failing, now=NOW, next_check_at=NOW + 600, error="HTTP 500")
    feed_store.set_feed_disabled(db, paused, True, NOW)
    rabat = story(db, healthy, "rabat", "الرباط تستضيف النهائي")
    tunis = story(db, healthy, "tunis", "انتخابات في تونس")
    old = story(db, healthy, "old", "خبر قديم")
    alert(db, SARA, rabat, ["المغرب"], sent_at=NOW - 3600)  # today
    alert(db, SARA, tunis, ["تونس", "المغرب"], sent_at=NOW - 3 * DAY)  # this week
    alert(db, SARA, old, ["المغرب"], sent_at=NOW - 8 * DAY)  # before the week
    alert(db, GONE, tunis, ["المغرب"], sent_at=None)  # the backlog
    outbox.mark_failed(db, alert(db, BANNED, rabat, ["المغرب"], None), "Forbidden: bot blocked")
    for article_id, day, clicks in (
        (rabat, NOW, 3),
        (tunis, NOW - 2 * DAY, 1),
        (old, NOW - 8 * DAY, 9),
    ):
        for _ in range(clicks):
            shortlinks.record_click(db, article_id, links.day_of(day))


def test_the_bot_s_figures_count_the_day_the_week_and_what_is_owed(backend):
    seed(backend)
    stats_store.count_sends(backend.db, links.day_of(backend.clock()), free=7, paid=3)
    stats_store.count_sends(backend.db, links.day_of(backend.clock() - 86400), free=1, paid=1)
    assert stats.bot_figures(backend) == BotFigures(
        counts=Stats(
            chats_active=1,
            chats_inactive=1,
            chats_banned=1,
            keywords=3,
            top_keywords=[("المغرب", 2), ("تونس", 1)],
            feeds_healthy=1,
            feeds_failing=1,
            feeds_disabled=1,
            alerts_today=1,
            alerts_week=2,
            backlog=1,
            failed=1,
        ),
        top_clicked=[("الرباط تستضيف النهائي", 3), ("انتخابات في تونس", 1)],  # this week's
        failures=[(BANNED, "Forbidden: bot blocked")],
        sends_today={"free": 7, "paid": 3},  # this UTC day's; the paid lane is off
        paid_ceiling=None,
    )


def test_an_empty_bot_has_nothing_to_rank(backend):
    assert stats.bot_figures(backend) == BotFigures(
        Stats(0, 0, 0, 0, [], 0, 0, 0, 0, 0, 0, 0),
        top_clicked=[],
        failures=[],
        sends_today={"free": 0, "paid": 0},
        paid_ceiling=None,
    )


def test_a_chat_s_keywords_count_the_alerts_of_the_week(backend):
    seed(backend)
    assert stats.keyword_figures(backend, SARA) == [
        KeywordFeedback("المغرب", alerts=2, likes=0, dislikes=0),
        KeywordFeedback("تونس", alerts=1, likes=0, dislikes=0),
    ]
    assert stats.keyword_figures(backend, ADMIN) == []
