"""Admin notices go through the outbox like every other message: stored, then sent, in each
admin's language; an admin who never wrote to the bot is skipped (Telegram would refuse)."""

from __future__ import annotations

import time

from app.bootstrap import build_sender
from core.i18n import load_catalog
from core.models import Feed
from delivery.notices import AdminNotices
from storage import chats, outbox
from tests.botapi import BotApiServer
from tests.support import drain_until, make_bot

CATALOG = load_catalog()


async def test_a_disabled_feed_notice_is_queued_then_sent_to_each_admin_in_their_language(db):
    async with BotApiServer() as api:
        for admin, language in ((900, "ar"), (901, "en")):
            api.private_chat(admin, f"admin{admin}", language_code=language)
            chats.touch_chat(db, admin, type="private", title="", language=language, now=1)
        woken = []
        notices = AdminNotices(
            db, CATALOG, [900, 901, 902], clock=time.time, wake=lambda: woken.append(1)
        )
        feed = Feed(id=1, url="https://site/feed", title="أخبار <عاجلة> & محلية")
        notices.feed_disabled(feed, 10, "http", "HTTP 500")
        assert woken == [1]
        rows = db.execute("SELECT chat_id, kind, status FROM outbox ORDER BY chat_id").fetchall()
        assert rows == [(900, "notice", "pending"), (901, "notice", "pending")]  # 902: never wrote

        bot = await make_bot(api)
        sender = build_sender(db, bot, CATALOG, clock=time.time)
        await drain_until(sender, lambda: len(api.send_log) == 2)
        await bot.shutdown()
    arabic, english = (api.sent_messages(admin)[0] for admin in (900, 901))
    assert arabic.text.startswith("⛔ عُطّل المصدر «أخبار <عاجلة> & محلية»")
    assert english.text.startswith("⛔ The feed «أخبار <عاجلة> & محلية» was disabled")
    assert (
        "after 10 errors in a row; the last one:\nthe site answered with an error (HTTP 500)"
        in english.text
    )
    assert "بعد 10 أخطاء متتالية، آخرها:\nردّ الموقع بخطأ (HTTP 500)" in arabic.text
    assert outbox.status_counts(db) == {"sent": 2}
