"""The chat experience end to end: buttons edit in place, groups, channels, admin tools."""

from __future__ import annotations

import pytest

from tests.feedserver import make_rss
from tests.support import ADMIN, BASELINE, USER, bot_settings, item, running_bot, say

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

GROUP_ADMIN, MEMBER = 501, 502
GROUP = -4_005_000_001
CHANNEL = -1_005_000_000_001
ENGLISH = 333

LEBANON = item(
    7,
    "غارات على جنوب لبنان",
    [
        "شنت طائرات غارات على مناطق في جنوب لبنان فجر اليوم.",
        "وقالت مصادر محلية إن الغارات لم تسفر عن إصابات.",
    ],
)


async def edited(api, chat, message, contains):
    """The same message once an edit made it contain `contains`."""
    return await api.wait_for_edit(
        chat, message.message_id, lambda m: contains in m.text, timeout=10
    )


async def test_from_start_to_a_first_alert_without_typing_a_command(api, feeds, tmp_path):
    feeds.set_feed("/feed.xml", make_rss("أخبار", BASELINE))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        welcome = await say(api, USER, "/start")
        assert welcome.callback_data == [
            *(f"add:{word}|{USER}" for word in ("المغرب", "الهجرة", "وزير الداخلية")),
            "help",
        ]
        # A plain message offers buttons; tapping "follow" edits that same message.
        offer = await say(api, USER, "لبنان")
        assert offer.text == "هل تريد متابعة «لبنان»؟"
        assert offer.callback_data == [f"add:لبنان|{USER}", "test:لبنان"]
        await api.press_button(USER, offer, "test:لبنان")
        tested = await edited(api, USER, offer, "🔍")
        assert "لم تظهر «لبنان»" in tested.text
        await api.press_button(USER, tested, f"add:لبنان|{USER}")
        followed = await edited(api, USER, offer, "بدأت متابعة")
        assert followed.message_id == offer.message_id
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*BASELINE, LEBANON]))
        alert = await api.wait_for_message(USER, lambda m: m.text.startswith("🔔"), timeout=20)
        assert "لبنان" in alert.entity_texts("bold")


async def test_english_speaker_gets_english_everywhere(api, tmp_path):
    api.private_chat(ENGLISH, "Sam", language_code="en")
    async with running_bot(bot_settings(api, tmp_path)):
        assert (await say(api, ENGLISH, "/start")).text.startswith("Welcome to «Rasd»")
        assert "Now following: غزة" in (await say(api, ENGLISH, "/add غزة")).text
        assert "Your keywords (1)" in (await say(api, ENGLISH, "/list")).text
        panel = await say(api, ENGLISH, "/settings")
        assert "📬 Delivery: instant" in panel.text
        await api.press_button(ENGLISH, panel, panel.button("set:mode:hourly"))
        assert "hourly digest" in (await edited(api, ENGLISH, panel, "hourly")).text
        assert "too common" in (await say(api, ENGLISH, "/add the")).text
        assert (
            await say(api, ENGLISH, "/feeds")
        ).text == "This command is for the bot's admins only."
        stats = await say(api, ENGLISH, "/stats")
        assert "• غزة: 🔔 0 · 👍 0 · 👎 0" in stats.text
        assert "Rasd statistics" not in stats.text  # the bot's figures are for admins
    english_commands = api.commands(None, "en")
    arabic_commands = api.commands(None, "")
    assert {"command": "add", "description": "follow a keyword"} in english_commands
    assert {"command": "add", "description": "إضافة كلمة للمتابعة"} in arabic_commands


async def test_group_admins_manage_members_are_refused_and_alerts_arrive(api, feeds, tmp_path):
    api.group(GROUP, "مجموعة الأخبار", admins=[GROUP_ADMIN], members=[MEMBER])
    feeds.set_feed("/feed.xml", make_rss("أخبار", BASELINE))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await api.send_text(MEMBER, GROUP, "/add لبنان")
        refused = await api.wait_for_message(GROUP, timeout=10)
        assert refused.text == "تغيير كلمات هذه المجموعة وإعداداتها متاح لمشرفيها فقط."
        await api.send_text(GROUP_ADMIN, GROUP, "/add لبنان")
        assert "بدأت متابعة" in (await api.wait_for_message(GROUP, timeout=10)).text
        await api.send_text(MEMBER, GROUP, "/list")  # anyone may look
        assert "لبنان" in (await api.wait_for_message(GROUP, timeout=10)).text
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*BASELINE, LEBANON]))
        alert = await api.wait_for_message(GROUP, lambda m: m.text.startswith("🔔"), timeout=20)
        assert "غارات على جنوب لبنان" in alert.text


async def test_channel_linked_from_a_private_chat_receives_alerts(api, feeds, tmp_path):
    api.channel(CHANNEL, "قناة الأخبار", "news_channel", admins=[USER])
    feeds.set_feed("/feed.xml", make_rss("أخبار", BASELINE))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        refused = await say(api, ADMIN, "/channel @news_channel", expect="القناة")
        assert "يجب أن تكون مشرفاً" in refused.text
        linked = await say(api, USER, "/channel @news_channel")
        assert "رُبطت القناة «قناة الأخبار»" in linked.text
        added = await say(api, USER, "/add لبنان")
        assert added.text.startswith("📢 «قناة الأخبار»:")
        assert "📢 «قناة الأخبار»:" in (await say(api, USER, "/list")).text
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*BASELINE, LEBANON]))
        alert = await api.wait_for_message(CHANNEL, lambda m: m.text.startswith("🔔"), timeout=20)
        assert "غارات على جنوب لبنان" in alert.text
        assert not [m for m in api.sent_messages(USER) if m.text.startswith("🔔")]
        assert "عادت الأوامر" in (await say(api, USER, "/channel off")).text
        assert "لا تتابع أي كلمة" in (await say(api, USER, "/list")).text


async def test_feeds_buttons_show_details_pause_and_delete(api, feeds, tmp_path):
    feeds.set_feed("/feed.xml", make_rss("أخبار الاختبار", BASELINE))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        listing = await say(api, ADMIN, "/feeds", expect="📡")
        info, pause, delete = listing.callback_data
        await api.press_button(ADMIN, listing, info)
        details = await edited(api, ADMIN, listing, "أخبار في اليوم")
        assert "الحالة: سليم" in details.text
        await api.press_button(ADMIN, details, "feed:list:0")
        listing = await edited(api, ADMIN, listing, "📡")
        await api.press_button(ADMIN, listing, pause)
        paused = await edited(api, ADMIN, listing, "⛔")
        assert any(d.startswith("feed:enable:") for d in paused.callback_data)
        await api.press_button(ADMIN, paused, delete)
        assert "لا توجد مصادر" in (await edited(api, ADMIN, listing, "لا توجد مصادر")).text
