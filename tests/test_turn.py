"""Per-update facts once: an update that talks to the bot writes its chat's row once, before any
handler reads it; one that only reports something writes none."""

from __future__ import annotations

import re

import pytest
from telegram.ext import Application

from tests.support import USER, bot_settings, running_bot

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

GROUP = -4_005_000_029
MEMBER = 529
CHANNEL = -1_005_000_000_029
WRITES_CHATS = re.compile(r"\s*(INSERT INTO|UPDATE|DELETE FROM) chats\b", re.IGNORECASE)


def chat_writes(application: Application) -> list[str]:
    """Every statement that writes the chats table from now on, as the bot's own connection
    runs it (SQLite's trace callback on the real database)."""
    statements: list[str] = []

    def trace(sql: str) -> None:
        if WRITES_CHATS.match(sql):
            statements.append(sql)

    application.bot_data.rasd.db.conn.set_trace_callback(trace)
    return statements


async def test_each_update_writes_its_chat_once(api, tmp_path):
    async with running_bot(bot_settings(api, tmp_path)) as application:
        await api.send_text(USER, USER, "/stop")
        question = await api.wait_for_message(USER, timeout=10)
        writes = chat_writes(application)
        await api.send_text(USER, USER, "/mydata")  # a command
        await api.wait_for_message(USER, lambda m: m.text.startswith("🗂"), timeout=10)
        assert len(writes) == 1
        await api.send_text(USER, USER, "لبنان")  # a plain message
        await api.wait_for_message(USER, lambda m: "لبنان" in m.text, timeout=10)
        assert len(writes) == 2
        # Checked as a change of the chat, as a stamped button and by the handler: once.
        await api.press_button(USER, question, f"stop:no|{USER}")
        kept = await api.wait_for_edit(USER, question.message_id, timeout=10)
        assert kept.text == "لم يُحذف شيء، وتستمر التنبيهات كما هي."
        assert len(writes) == 3
        assert all(w.lstrip().startswith("INSERT INTO chats") for w in writes)


async def test_a_group_s_chatter_writes_nothing_and_its_command_once(api, tmp_path):
    api.group(GROUP, "مجموعة", admins=[USER], members=[MEMBER])
    async with running_bot(bot_settings(api, tmp_path)) as application:
        writes = chat_writes(application)
        await api.send_text(MEMBER, GROUP, "صباح الخير")  # no handler takes it
        await api.send_text(USER, GROUP, "/help")  # handled after the chatter
        await api.wait_for_message(GROUP, timeout=10)
        assert len(writes) == 1


async def test_switching_to_a_channel_answers_about_the_channel(api, tmp_path):
    api.channel(CHANNEL, "قناة الأخبار", "news_channel", admins=[USER])
    async with running_bot(bot_settings(api, tmp_path)):
        await api.send_text(USER, USER, "/channel @news_channel")
        await api.wait_for_message(USER, lambda m: m.text.startswith("📢"), timeout=10)
        await api.send_text(USER, USER, "/channel")
        switch = await api.wait_for_message(USER, lambda m: bool(m.callback_data), timeout=10)
        assert switch.callback_data == [f"ch:{CHANNEL}", "ch:off"]
        await api.press_button(USER, switch, "ch:off")
        back = await api.wait_for_edit(
            USER, switch.message_id, lambda m: m.text.startswith("👤"), timeout=10
        )
        assert back.text == "👤 عادت الأوامر هنا لتخص محادثتك."
        await api.press_button(USER, back, f"ch:{CHANNEL}")
        linked = await api.wait_for_edit(
            USER, switch.message_id, lambda m: m.text.startswith("📢"), timeout=10
        )
        # The answer names the channel the commands act on now: the turn read after the switch.
        assert linked.text == (
            "📢 رُبطت القناة «قناة الأخبار». الأوامر هنا (/add و/list و/remove و/settings) تخص "
            "القناة الآن، والتنبيهات تُنشر فيها.\nللعودة إلى محادثتك: /channel off"
        )
        assert linked.callback_data == [f"ch:{CHANNEL}", "ch:off"]


async def test_a_turn_the_database_refuses_is_reported_once(api, tmp_path):
    async with running_bot(bot_settings(api, tmp_path)) as application:
        db = application.bot_data.rasd.db
        db.execute("PRAGMA query_only = 1")  # every write refused, as by a full disk
        await api.send_text(USER, USER, "/mydata")
        failed = await api.wait_for_message(USER, timeout=10)
        db.execute("PRAGMA query_only = 0")
        await api.send_text(USER, USER, "/mydata")  # handled once the first is done with
        answered = await api.wait_for_message(USER, lambda m: m.text.startswith("🗂"), timeout=10)
    assert failed.text == "حدث خطأ غير متوقع، ولم يُفقد شيء. حاول مرة أخرى بعد قليل."
    # The failed update went no further than its turn: its handler did not run (or fail) too.
    assert api.sent_messages(USER) == [failed, answered]
