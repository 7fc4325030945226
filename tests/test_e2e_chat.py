"""Alerts end to end in a chat: the first one without typing a command, in a group, in a channel."""

from __future__ import annotations

import pytest

from tests.feedserver import make_rss
from tests.support import ADMIN, BASELINE, USER, bot_settings, item, running_bot, say

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

GROUP_ADMIN, MEMBER = 501, 502
GROUP = -4_005_000_001
CHANNEL = -1_005_000_000_001

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
