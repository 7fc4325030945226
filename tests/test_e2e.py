"""End to end: the real Application polls the test Bot API server and real feeds on loopback."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from storage.db import open_database
from tests.feedserver import make_rss
from tests.support import (
    ADMIN,
    BASELINE,
    NEW_ITEM,
    TRICKY_TITLE,
    USER,
    bot_settings,
    item,
    running_bot,
    say,
)

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server


async def test_from_addfeed_to_alert_and_broadcast(api, feeds, tmp_path):
    feeds.set_feed("/feed.xml", make_rss("أخبار الاختبار", BASELINE))
    async with running_bot(bot_settings(api, tmp_path)):
        added = await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        assert "أخبار الاختبار" in added.text
        assert "2" in added.text
        listed = await say(api, ADMIN, "/feeds", expect="📡")
        assert feeds.url("/feed.xml") in listed.text

        welcome = await say(api, USER, "/start")
        assert "مرحباً بك في «رصد»" in welcome.text
        assert welcome.callback_data  # example keywords as buttons
        help_text = await say(api, USER, "/help")
        for command in ("/add", "/list", "/remove", "/test", "/stop", "/help"):
            assert command in help_text.text
        assert "/addfeed" not in help_text.text  # admin commands only for admins

        added_kw = await say(api, USER, "/add المغرب")
        assert "بدأت متابعة" in added_kw.text
        assert "المغرب" in added_kw.text
        assert "المغرب" in (await say(api, USER, "/list")).text

        # The feed publishes a new item; the baseline items (one mentions المغرب) stay silent.
        feeds.set_feed("/feed.xml", make_rss("أخبار الاختبار", [*BASELINE, NEW_ITEM]))
        alert = await api.wait_for_message(USER, lambda m: m.text.startswith("🔔"), timeout=20)

        lines = alert.text.split("\n")
        assert lines[0] == f"🔔 {TRICKY_TITLE}"  # < and & arrive intact
        assert TRICKY_TITLE in alert.entity_texts("bold")
        assert "وبالمغرب" in alert.entity_texts("bold")  # the matched word, highlighted
        assert "الاستثمارات الجديدة" in alert.text  # the sentence with the keyword
        assert "📰 أخبار الاختبار" in alert.text
        assert "🔑 المغرب" in alert.text
        assert "🔗 اقرأ في أخبار الاختبار" in alert.text  # the link is words, not a URL
        assert alert.links() == [("اقرأ في أخبار الاختبار", "https://news.example.org/3/")]
        assert "https://" not in alert.text
        assert "utm_source" not in alert.current.source
        assert alert.current.parse_mode == "HTML"
        assert html.escape(TRICKY_TITLE, quote=False) in alert.current.source

        notice_text = "صيانة قصيرة الليلة"
        preview = await say(api, ADMIN, f"/broadcast {notice_text}", expect="معاينة")
        assert "(عدد المحادثات: 2)" in preview.text
        await api.press_button(ADMIN, preview, preview.callback_data[0])  # 📣 Send
        for chat in (USER, ADMIN):
            await api.wait_for_message(
                chat, lambda m: notice_text in m.text and m is not preview, timeout=15
            )
        summary = await api.wait_for_edit(
            ADMIN, preview.message_id, lambda m: "انتهى إرسال الإعلان" in m.text, timeout=15
        )
        assert "أُرسل: 2" in summary.text
        assert summary.buttons == []  # no second Send

    alerts = [m for m in api.sent_messages(USER) if m.text.startswith("🔔")]
    assert len(alerts) == 1
    notices = [m for m in api.sent_messages(USER) if notice_text in m.text]
    assert len(notices) == 1


async def test_restart_sends_what_was_owed_and_nothing_twice(api, feeds, tmp_path):
    feeds.set_feed("/feed.xml", make_rss("أخبار", BASELINE))
    settings = bot_settings(api, tmp_path)
    async with running_bot(settings):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add الرباط")
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*BASELINE, NEW_ITEM]))
        await api.wait_for_message(USER, lambda m: m.text.startswith("🔔"), timeout=20)
        # The next alert cannot be delivered before the bot stops: Telegram keeps failing.
        api.fail_next("sendMessage", status=500, count=50, chat_id=USER)
        later = item(
            4,
            "الرباط تحتضن معرضاً للكتاب",
            ["افتتح في الرباط اليوم معرض دولي للكتاب بمشاركة واسعة.", "ويستمر المعرض عشرة أيام."],
        )
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*BASELINE, NEW_ITEM, later]))
        db = open_database(tmp_path / "rasd.db")
        await api.wait_until(
            lambda: db.execute(
                "SELECT count(*) FROM outbox WHERE last_error IS NOT NULL"
            ).fetchone()[0],
            timeout=20,
            what="a failed send attempt",
        )
    api.faults.clear()
    async with running_bot(settings):
        second = await api.wait_for_message(USER, lambda m: "معرضاً للكتاب" in m.text, timeout=20)
        assert second.text.startswith("🔔")
    alerts = [m.text.split("\n")[0] for m in api.sent_messages(USER) if m.text.startswith("🔔")]
    assert alerts == [f"🔔 {TRICKY_TITLE}", "🔔 الرباط تحتضن معرضاً للكتاب"]


ENGLISH_ITEM = {
    "title": "Morocco hosts an international climate conference",
    "link": "https://news.example.org/en/1",
    "guid": "en-1",
    "content": "<p>Morocco will host an international conference on climate change next week, "
    "with ministers from more than thirty countries.</p><p>The talks in Rabat will "
    "focus on water and energy.</p>",
    "pubDate": datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
}


async def test_article_languages_from_settings_buttons(api, feeds, tmp_path):
    feeds.set_feed("/feed.xml", make_rss("Mixed", BASELINE))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add Morocco")
        panel = await say(api, USER, "/settings")
        assert "🌐 لغات الأخبار التي تصلك: العربية" in panel.text
        # Arabic only by default: an English story about Morocco is not sent.
        feeds.set_feed("/feed.xml", make_rss("Mixed", [*BASELINE, ENGLISH_ITEM]))
        db = open_database(tmp_path / "rasd.db")
        await api.wait_until(
            lambda: db.execute(
                "SELECT language FROM articles WHERE item_key != '' AND title LIKE 'Morocco%'"
            ).fetchone(),
            timeout=20,
            what="the English story",
        )
        assert (
            db.execute("SELECT language FROM articles WHERE title LIKE 'Morocco%'").fetchone()[0]
            == "en"
        )
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0

        await api.press_button(USER, panel, panel.button("set:lang:en"))
        edited = await api.wait_for_edit(USER, panel.message_id, timeout=10)
        assert edited.message_id == panel.message_id  # confirmed in place, not a new message
        assert "العربية، الإنجليزية" in edited.text
        assert "✅ الإنجليزية" in [b["text"] for b in edited.buttons]

        second = dict(
            ENGLISH_ITEM,
            guid="en-2",
            link="https://news.example.org/en/2",
            title="Morocco and Spain sign a water agreement",
            content="<p>Morocco and Spain signed an agreement on water sharing on "
            "Friday after months of talks between the two governments.</p>",
        )
        feeds.set_feed("/feed.xml", make_rss("Mixed", [*BASELINE, ENGLISH_ITEM, second]))
        alert = await api.wait_for_message(USER, lambda m: m.text.startswith("🔔"), timeout=20)
        assert "Morocco and Spain sign a water agreement" in alert.text
        assert "Morocco" in alert.entity_texts("bold")


async def test_placeholder_item_then_real_text_alerts_once(api, feeds, tmp_path):
    feeds.set_feed("/feed.xml", make_rss("عاجل", BASELINE))
    breaking = item(5, "عاجل: زلزال يضرب شمال المغرب", ["التفاصيل بعد قليل.."])
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add زلزال")
        feeds.set_feed("/feed.xml", make_rss("عاجل", [*BASELINE, breaking]))
        alert = await api.wait_for_message(USER, lambda m: m.text.startswith("🔔"), timeout=20)
        assert "⚡ خبر عاجل، لا تتوفر تفاصيل بعد." in alert.text
        assert "التفاصيل بعد قليل" not in alert.text
        updated = dict(
            breaking,
            content="<p>ضرب زلزال بقوة 5.8 درجات شمال المغرب فجر اليوم "
            "دون أن يسفر عن إصابات حسب السلطات المحلية.</p>",
        )
        feeds.set_feed("/feed.xml", make_rss("عاجل", [*BASELINE, updated]))
        db = open_database(tmp_path / "rasd.db")
        await api.wait_until(
            lambda: db.execute("SELECT count(*) FROM articles WHERE text LIKE '%5.8%'").fetchone()[
                0
            ],
            timeout=20,
            what="the updated item",
        )
        await say(api, USER, "/list")  # one more round trip after the update was processed
    assert len([m for m in api.sent_messages(USER) if m.text.startswith("🔔")]) == 1
