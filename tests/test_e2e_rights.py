"""Rights that hold at the moment of the action: forged and stale buttons, bans, channel rights."""

from __future__ import annotations

import pytest

from storage.db import open_database
from tests.feedserver import make_rss
from tests.support import ADMIN, BASELINE, USER, bot_settings, item, running_bot, say

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

STRANGER = 424_242  # a user the bot has never met
GROUP = -4_005_000_077
MOROCCO = item(9, "زيارة وزير إلى المغرب", ["وصل الوزير إلى المغرب صباح اليوم في زيارة رسمية."])


def sent_to(api, chat_id: int, contains: str) -> int:
    return len([m for m in api.sent_messages(chat_id) if contains in m.text])


async def test_a_ban_outlives_stop_and_covers_chats_never_met(api, feeds, tmp_path):
    api.private_chat(STRANGER, "Eve")
    api.group(GROUP, "مجموعة", admins=[STRANGER])
    feeds.set_feed("/feed.xml", make_rss("أخبار", BASELINE))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add المغرب")
        await say(api, ADMIN, "/add المغرب")
        assert "أُوقفت المحادثة" in (await say(api, ADMIN, f"/ban {USER}")).text
        assert "موقوفة من قبل" in (await say(api, ADMIN, f"/ban {USER}")).text
        assert "أُوقفت المحادثة" in (await say(api, ADMIN, f"/ban {STRANGER}")).text  # never met
        assert "من مشرفي البوت" in (await say(api, ADMIN, f"/ban {ADMIN}")).text

        told = await say(api, USER, "/add تونس")
        assert "أوقف مشرفو البوت" in told.text
        for command in ("/stop", "/start", "/add تونس"):  # told once, then ignored
            await api.send_text(USER, USER, command)
        await api.send_text(STRANGER, STRANGER, "/start")
        assert "أوقف مشرفو البوت" in (await api.wait_for_message(STRANGER, timeout=10)).text
        await api.send_text(STRANGER, GROUP, "/add المغرب")  # a banned user, in a group

        feeds.set_feed("/feed.xml", make_rss("أخبار", [*BASELINE, MOROCCO]))
        await api.wait_for_message(ADMIN, lambda m: "زيارة وزير" in m.text, timeout=20)
        await say(api, ADMIN, "/help")  # every update sent before it has been handled
        assert sent_to(api, USER, "زيارة وزير") == 0
        assert sent_to(api, USER, "أوقف مشرفو البوت") == 1
        assert len(api.sent_messages(USER)) == 2  # "now following", and the ban, once
        assert len(api.sent_messages(GROUP)) == 0
        db = open_database(tmp_path / "rasd.db")
        assert (
            db.execute("SELECT count(*) FROM subscriptions WHERE chat_id = ?", (USER,)).fetchone()[
                0
            ]
            == 1
        )
        assert (
            db.execute("SELECT count(*) FROM subscriptions WHERE chat_id = ?", (GROUP,)).fetchone()[
                0
            ]
            == 0
        )

        assert "ليست موقوفة" in (await say(api, ADMIN, "/unban 777")).text
        assert "رُفع الإيقاف" in (await say(api, ADMIN, f"/unban {USER}")).text
        assert "بدأت متابعة" in (await say(api, USER, "/add تونس")).text


LEAVER = 777_123  # an id no counter or clock in the database comes near
LEAVERS_CHANNEL = -1_005_000_000_078


async def test_stop_leaves_no_row_that_names_the_chat(api, feeds, tmp_path):
    api.private_chat(LEAVER, "Leila")
    api.channel(LEAVERS_CHANNEL, "قناة ليلى", "leilas_channel", admins=[LEAVER])
    feeds.set_feed("/feed.xml", make_rss("أخبار", BASELINE))
    settings = bot_settings(api, tmp_path, ADMIN_IDS=f"{ADMIN},{LEAVER}")
    async with running_bot(settings):
        await say(api, LEAVER, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, LEAVER, "/add المغرب")
        await say(api, LEAVER, "/channel @leilas_channel")
        await say(api, LEAVER, "/add تونس")
        await say(api, LEAVER, "/channel off")
        preview = await say(api, LEAVER, "/broadcast صيانة الليلة", expect="معاينة")
        await api.press_button(LEAVER, preview, preview.callback_data[0])
        await api.wait_for_message(LEAVER, lambda m: "صيانة الليلة" in m.text, timeout=15)
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*BASELINE, MOROCCO]))
        await api.wait_for_message(LEAVER, lambda m: "زيارة وزير" in m.text, timeout=20)
        mine = await say(api, LEAVER, "/mydata")
        question = await say(api, LEAVER, "/stop")
        await api.press_button(LEAVER, question, question.button("stop:yes"))
        await api.wait_for_edit(LEAVER, question.message_id, lambda m: "تم حذف" in m.text)

    assert "قنوات ربطتها: قناة ليلى" in mine.text
    assert "مصادر أضفتها: 1 · إعلانات أرسلتها: 1" in mine.text
    assert "الاسم: Leila" in mine.text
    db = open_database(tmp_path / "rasd.db")
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    naming = []
    for table in tables:
        if table == "bans":  # a ban outlives /stop by design
            continue
        for column in [r[1] for r in db.execute(f"PRAGMA table_info({table})")]:
            sql = f'SELECT count(*) FROM "{table}" WHERE "{column}" IN (?, ?)'  # noqa: S608
            if db.execute(sql, (LEAVER, str(LEAVER))).fetchone()[0]:
                naming.append(f"{table}.{column}")
    assert naming == []
    assert "subscriptions" in tables
    assert db.execute("SELECT count(*) FROM broadcasts").fetchone()[0] == 1  # kept, anonymous
    channel = db.execute("SELECT linked_by FROM chats WHERE id = ?", (LEAVERS_CHANNEL,)).fetchone()
    assert channel == (None,)  # the channel keeps its keywords; nobody manages it any more


def linked_by(db, channel_id: int):
    return db.execute("SELECT linked_by FROM chats WHERE id = ?", (channel_id,)).fetchone()[0]
