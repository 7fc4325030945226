"""Replies under load: 100 users send /start at once to a Bot API server stricter than the bot's
budget, while alerts go out of the outbox; every reply and every alert arrives, once."""

from __future__ import annotations

import asyncio

import pytest

from core.models import Article
from storage import articles, chats, feeds, outbox
from storage.db import open_database
from tests.botapi import RateLimits
from tests.support import bot_settings, running_bot

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

USERS = range(2000, 2100)
ALERTED = range(3000, 3050)
WELCOME = "مرحباً بك في «رصد»"


def queue_alerts(path, chat_ids) -> None:
    """One pending alert for each chat, in the bot's database before it starts."""
    db = open_database(path)
    feed_id = feeds.add_feed(db, "https://site/feed", title="المصدر", interval_seconds=300, now=1)
    for chat_id in chat_ids:
        chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
        _, article_id = articles.store_article(
            db,
            feed_id,
            Article(
                item_key=f"k{chat_id}",
                url=f"https://site/{chat_id}",
                title=f"خبر عن المغرب رقم {chat_id}",
                text="نص الخبر عن المغرب وتفاصيله الكاملة كما نشرها المصدر صباح اليوم.",
                language="ar",
                content_hash=f"h{chat_id}",
            ),
            now=1,
        )
        articles.set_story(db, article_id, article_id)
        outbox.queue_alert(
            db, chat_id, story_id=article_id, article_id=article_id, keywords=["المغرب"], now=1
        )
    db.conn.close()


async def test_100_simultaneous_starts_all_answered_through_429s_with_alerts(api, tmp_path):
    for chat_id in [*USERS, *ALERTED]:
        api.private_chat(chat_id, f"u{chat_id}", language_code="ar")
    settings = bot_settings(api, tmp_path)  # the bot budgets 30 messages a second
    queue_alerts(settings.database_path, ALERTED)
    # Half the bot's budget: the server must answer 429, to replies and alerts alike.
    api.rate_limits = RateLimits(overall_per_second=15, private_chat_per_second=1)
    async with running_bot(settings) as application:
        await asyncio.gather(*(api.send_text(user, user, "/start") for user in USERS))

        def welcomed() -> list[int]:
            return [sum(WELCOME in m.text for m in api.sent_messages(user)) for user in USERS]

        def alerted() -> list[int]:
            return [
                sum(m.text.startswith("🔔") for m in api.sent_messages(chat)) for chat in ALERTED
            ]

        await api.wait_until(
            lambda: all(welcomed()) and all(alerted()), timeout=120, what="every reply and alert"
        )
        await asyncio.sleep(1.0)  # anything sent twice would arrive now
        db = application.bot_data.rasd.db
        assert outbox.status_counts(db) == {"sent": len(ALERTED)}
        retried = application.bot.rate_limiter.retried
    assert welcomed() == [1] * len(USERS)
    assert alerted() == [1] * len(ALERTED)
    refused = [c for c in api.calls_to("sendMessage") if c.status == 429]
    assert any(WELCOME in str(c.params.get("text")) for c in refused)  # replies met 429s...
    assert any(str(c.params.get("text", "")).startswith("🔔") for c in refused)  # alerts too
    assert retried >= sum(WELCOME in str(c.params.get("text")) for c in refused)  # ...and waited
