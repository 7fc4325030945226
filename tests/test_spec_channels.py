"""Channels: an administrator links one from their private chat, manages its keywords there, and
loses it as soon as Telegram says they (or the bot) may no longer (tests/offline.py)."""

from __future__ import annotations

from storage import chats as chat_store
from tests.botapi import ApiError
from tests.offline import BOT_USER, Button, PopUp, ar, offline_bot, sara_mydata
from tests.support import USER

CHANNEL = -1_005_000_000_077
TITLE = "قناة الأخبار"


def about_channel(text: str) -> str:
    """An answer about the linked channel: it says so first."""
    return ar("managing", title=TITLE) + "\n" + text


def linked_by(bot, channel_id: int = CHANNEL) -> int | None:
    return chat_store.get_chat(bot.db, channel_id).linked_by


def getchatmember_calls(bot) -> int:
    return sum(call.method == "getChatMember" for call in bot.world.calls)


async def test_a_channel_s_admin_links_it_and_the_commands_act_on_it(bot, sara, admin):
    bot.channel(CHANNEL, TITLE, "news_channel", admins=[USER])
    refused = await admin.send("/channel @news_channel")
    assert refused.text == ar("channel_not_admin", title=TITLE)
    assert (await sara.send("/channel @news_channel")).text == ar("channel_linked", title=TITLE)
    assert (await sara.send("/add لبنان")).text == about_channel("✅ بدأت متابعة: لبنان")
    listing = await sara.send("/list")
    assert listing.text.startswith(about_channel(ar("list_header", count=1)))
    assert listing.message.data == [
        f"kw:pause:1:0|{CHANNEL}",
        f"kw:del:1:0|{CHANNEL}",
        f"kwx:show:1:0:0|{CHANNEL}",
    ]
    assert (await sara.send("/pause")).text == about_channel(ar("paused_all"))
    assert chat_store.get_chat(bot.db, CHANNEL).paused

    assert (await sara.send("/channel off")).text == ar("channel_off")
    assert (await sara.send("/list")).text == ar("list_empty")  # the user's own: nothing
    assert chat_store.chat_subscriptions(bot.db, CHANNEL)[0].keyword == "لبنان"
    assert (await sara.send("/mydata")).text == sara_mydata(
        channels=TITLE
    )  # the channels this user linked


async def test_what_stops_a_link(bot, sara):
    bot.channel(CHANNEL, TITLE, "news_channel", admins=[USER])
    assert (await sara.send("/channel @nowhere")).text == ar("channel_not_found")
    bot.set_status(CHANNEL, BOT_USER["id"], "member")  # the bot may not post there
    assert (await sara.send("/channel news_channel")).text == ar(
        "channel_bot_not_admin", title=TITLE
    )
    group = bot.group(-4_005_000_001, "مجموعة", admins=[USER])
    assert (await group.send("/channel @news_channel", by=USER)).text == ar("channel_usage")
    assert chat_store.get_chat(bot.db, CHANNEL) is None


async def test_channel_alone_explains_and_switches_with_buttons(bot, sara):
    bot.channel(CHANNEL, TITLE, "news_channel", admins=[USER])
    assert (await sara.send("/channel")).message.buttons == ()  # nothing linked yet
    await sara.send("/channel @news_channel")
    shown = (await sara.send("/channel")).message
    assert shown.text == ar("channel_usage")
    assert shown.buttons == (
        (Button(f"✅ 📢 {TITLE}", f"ch:{CHANNEL}"),),
        (Button("👤", "ch:off"),),
    )
    back = await sara.press(shown, "ch:off")
    assert back.popup == PopUp(None)
    assert back.text == ar("channel_off")
    assert back.message.buttons == (
        (Button(f"📢 {TITLE}", f"ch:{CHANNEL}"),),
        (Button("✅ 👤", "ch:off"),),
    )
    again = await sara.press(shown, f"ch:{CHANNEL}")
    assert again.text == ar("channel_linked", title=TITLE)
    assert chat_store.get_chat(bot.db, USER).managing_chat_id == CHANNEL


async def test_forwarding_a_channel_post_links_the_channel(bot, sara):
    channel = bot.channel(CHANNEL, TITLE, "news_channel", admins=[USER])
    linked = await sara.forward(channel, "منشور من القناة")
    assert linked.text == ar("channel_linked", title=TITLE)
    assert linked_by(bot) == USER


async def test_channel_rights_are_checked_again_and_trusted_for_a_while(bot, sara):
    bot.channel(CHANNEL, TITLE, "news_channel", admins=[USER])
    await sara.send("/channel @news_channel")
    linking = getchatmember_calls(bot)
    for command in ("/add لبنان", "/add سوريا", "/pause"):
        await sara.send(command)
    # one check of the user and of the bot, trusted for CHANNEL_RIGHTS_CACHE_SECONDS (300)
    assert getchatmember_calls(bot) == linking + 2


async def test_a_demoted_channel_admin_is_unlinked_and_told(tmp_path):
    async with offline_bot(tmp_path, CHANNEL_RIGHTS_CACHE_SECONDS="0") as bot:
        sara = bot.private(USER, "سارة")
        bot.channel(CHANNEL, TITLE, "news_channel", admins=[USER])
        await sara.send("/channel @news_channel")
        assert (await sara.send("/add لبنان")).text == about_channel("✅ بدأت متابعة: لبنان")
        bot.set_status(CHANNEL, USER, "member")
        told = await sara.send("/add سوريا")
        assert told.text == ar("channel_rights_gone", title=TITLE)
        assert (await sara.send("/list")).text == ar("list_empty")  # back to the user's own
        assert linked_by(bot) is None
        assert bot.db.execute("SELECT chat_id, keyword FROM subscriptions").fetchall() == [
            (CHANNEL, "لبنان")
        ]


async def test_a_failed_check_changes_nothing_and_a_bot_that_may_not_post_unlinks(tmp_path):
    async with offline_bot(tmp_path, CHANNEL_RIGHTS_CACHE_SECONDS="0") as bot:
        sara = bot.private(USER, "سارة")
        bot.channel(CHANNEL, TITLE, "news_channel", admins=[USER])
        await sara.send("/channel @news_channel")
        bot.world.fail_next("getChatMember", ApiError(502, "Bad Gateway"))
        assert (await sara.send("/pause")).text == ar("channel_check_failed")
        assert linked_by(bot) == USER  # Telegram could not say: the link stays
        bot.set_status(CHANNEL, BOT_USER["id"], "left")
        assert (await sara.send("/pause")).text == ar("channel_rights_gone", title=TITLE)
        assert linked_by(bot) is None
        assert not chat_store.get_chat(bot.db, CHANNEL).paused
