"""The first minutes: /start, /help, the command menu, a group that adds the bot, a user who
blocks it, and which language each chat is answered in (tests/offline.py: no network)."""

from __future__ import annotations

from storage import chats as chat_store
from tests.offline import Button, ar, en, offline_bot
from tests.support import USER

MENU = ["add", "list", "remove", "test", "settings", "pause", "resume", "channel", "stats"]
MENU += ["mydata", "stop", "help"]
GROUP, GROUP_ADMIN, MEMBER = -4_005_000_001, 501, 502


async def test_start_greets_with_example_keywords_as_buttons(sara):
    welcome = (await sara.send("/start")).message
    assert welcome.text == ar("welcome")
    assert welcome.buttons == (
        (
            Button("➕ المغرب", f"add:المغرب|{USER}"),
            Button("➕ الهجرة", f"add:الهجرة|{USER}"),
            Button("➕ وزير الداخلية", f"add:وزير الداخلية|{USER}"),
        ),
        (Button(ar("button_help"), "help"),),
    )
    helped = await sara.press(welcome, "help")
    assert helped.message.message_id != welcome.message_id  # help comes as a new message
    assert helped.text == ar("help")
    followed = await sara.press(welcome, f"add:الهجرة|{USER}")
    assert followed.message.message_id == welcome.message_id  # the welcome says it is done
    assert followed.text == "✅ بدأت متابعة: الهجرة"
    assert followed.message.buttons == ()


async def test_help_lists_admin_commands_to_admins_only(sara, admin):
    assert (await sara.send("/help")).text == ar("help")
    assert (await admin.send("/help")).text == ar("help") + "\n\n" + ar("admin_help")
    for command in ("/add", "/list", "/remove", "/test", "/stop", "/help"):
        assert command in ar("help")
    assert "/addfeed" not in ar("help")
    assert "/addfeed" in ar("admin_help")


async def test_the_command_menu_is_set_in_arabic_and_english(bot):
    arabic = [{"command": name, "description": ar(f"cmd_{name}")} for name in MENU]
    english = [{"command": name, "description": en(f"cmd_{name}")} for name in MENU]
    assert bot.world.commands == {("default", ""): arabic, ("default", "en"): english}
    assert {"command": "add", "description": "follow a keyword"} in english
    assert {"command": "add", "description": "إضافة كلمة للمتابعة"} in arabic


async def test_english_speakers_are_welcomed_and_helped_in_english(tmp_path):
    async with offline_bot(tmp_path) as bot:
        sam = bot.private(333, "Sam", language="en")
        assert (await sam.send("/start")).text == en("welcome")
        assert (await sam.send("/help")).text == en("help")


async def test_a_group_that_adds_the_bot_is_greeted(bot):
    group = bot.group(GROUP, "مجموعة الأخبار", admins=[GROUP_ADMIN], members=[MEMBER])
    greeted = await group.bot_added(by=GROUP_ADMIN)
    assert greeted.text == ar("welcome_group")
    assert greeted.message.chat_id == GROUP


async def test_a_user_who_blocks_the_bot_is_inactive_until_they_unblock_it(bot, sara):
    await sara.send("/start")
    assert (await sara.block()).messages == []
    assert not chat_store.get_chat(bot.db, USER).active
    assert (await sara.unblock()).messages == []
    assert chat_store.get_chat(bot.db, USER).active


async def test_a_group_keeps_its_language_whatever_a_member_s_telegram_says(bot, sara):
    bot.user(MEMBER, "Sam", language="en")
    group = bot.group(GROUP, "مجموعة الأخبار", admins=[GROUP_ADMIN], members=[MEMBER])
    await group.bot_added(by=GROUP_ADMIN)  # an Arabic-speaking admin sets it up
    assert (await group.send("/help", by=MEMBER)).text == en("help")  # asked in English
    assert chat_store.get_chat(bot.db, GROUP).language == "ar"  # its alerts stay Arabic
    await sara.send("/help")
    assert chat_store.get_chat(bot.db, USER).language == "ar"
    bot.user(USER, "سارة", language="en")  # a private chat follows its user's Telegram
    assert (await sara.send("/help")).text == en("help")
    assert chat_store.get_chat(bot.db, USER).language == "en"
