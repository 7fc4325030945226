"""A digest of many alerts arrives whole through the real bot, in messages that each fit
(the chat's own long answers: tests/test_spec_fit.py and tests/test_spec_admin.py)."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from core.models import Article
from storage import chats, outbox
from storage.db import open_database
from tests.botapi import MESSAGE_LIMIT, BotApiServer, utf16_len
from tests.support import USER, bot_settings, running_bot, store_articles

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server


def assert_everything_fits(api: BotApiServer, chat_id: int) -> None:
    """Every version of every bot message fits, and Telegram refused nothing for its length."""
    for message in api.sent_messages(chat_id):
        for version in message.versions:
            assert utf16_len(version.text) <= MESSAGE_LIMIT
    refused = [c for c in api.calls if c.status == 400]
    assert refused == [], [c.description for c in refused]


async def test_a_40_item_hourly_digest_arrives_whole_through_the_bot(api, tmp_path):
    db = open_database(tmp_path / "rasd.db")
    chats.touch_chat(db, USER, type="private", title="سارة", language="ar", now=1)
    chats.set_chat_flags(db, USER, delivery_mode="hourly")
    two_hours_ago = time.time() - 7200
    for article_id in store_digest_articles(db, 40):
        outbox.queue_alert(
            db,
            USER,
            story_id=article_id,
            article_id=article_id,
            keywords=["الهجرة"],
            now=two_hours_ago,
        )
    db.conn.close()
    async with running_bot(bot_settings(api, tmp_path)):
        await api.wait_until(
            lambda: sum(m.text.count("الخبر رقم") for m in api.sent_messages(USER)) == 40,
            what="all 40 alerts",
        )
        db = open_database(tmp_path / "rasd.db")
        await api.wait_until(lambda: outbox.status_counts(db) == {"sent": 40}, what="all settled")
        db.conn.close()
    digests = api.sent_messages(USER)
    assert len(digests) >= 2  # 40 such items need several messages
    assert all(m.text.startswith("📬 ملخص الأخبار") for m in digests)
    shown = "\n".join(m.text for m in digests)
    assert all(shown.count(f"الخبر رقم {n}:") == 1 for n in range(40))  # each once
    quotes = [q for m in digests for q in m.entity_texts("expandable_blockquote")]
    assert len(quotes) == 40  # each story's summary, folded in an expandable quote
    assert_everything_fits(api, USER)


def store_digest_articles(db, count: int) -> list[int]:
    """Ordinary Arabic headlines with the long percent-encoded URLs Arabic sites use."""
    slug = quote("المغرب-يستضيف-مؤتمرا-دوليا-حول-التغيرات-المناخية-بمشاركة-وزراء-من-ثلاثين-دولة")
    return store_articles(
        db,
        "http://d.example.org/feed",
        "هسبريس",
        [
            Article(
                item_key=f"d{number}",
                url=f"https://www.hespress.com/{slug}-{number}.html",
                title=f"الخبر رقم {number}: وزير الداخلية يعلن إجراءات جديدة لتنظيم الهجرة "
                "وتعزيز التعاون مع دول الجوار في مجال الأمن ومكافحة التهريب عبر الحدود",
                text="وقال مسؤولون إن الإجراءات ستدخل حيز التنفيذ الشهر المقبل.",
                language="ar",
                content_hash=f"d{number}",
                published_at=time.time(),
            )
            for number in range(count)
        ],
    )
