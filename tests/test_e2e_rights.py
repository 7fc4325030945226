"""Rights that hold at the moment of the action: forged and stale buttons, bans, channel rights."""

from __future__ import annotations

import pytest

from core.flood import FloodGuard, FloodPolicy
from handlers import BUTTONS
from storage.db import open_database
from tests.botapi import ApiError
from tests.feedserver import make_rss
from tests.support import ADMIN, BASELINE, USER, bot_settings, item, running_bot, say

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

ATTACKER = 666
STRANGER = 424_242  # a user the bot has never met
GROUP = -4_005_000_077
MOROCCO = item(9, "زيارة وزير إلى المغرب", ["وصل الوزير إلى المغرب صباح اليوم في زيارة رسمية."])
CHANNEL = -1_005_000_000_077
VICTIM_TEXT = "أخبار المغرب وتونس اليوم"


def victim_state(db, chat_id: int) -> tuple:
    """Everything a button could change about a chat: its row, its keywords."""
    chat = db.execute(
        """SELECT type, language, paused, delivery_mode, digest_hour, quiet_start, quiet_end,
                  quiet_mode, timezone, link_previews, silent, article_languages, active,
                  managing_chat_id, linked_by
           FROM chats WHERE id = ?""",
        (chat_id,),
    ).fetchall()
    keywords = db.execute(
        "SELECT id, keyword, key, paused FROM subscriptions WHERE chat_id = ? ORDER BY id",
        (chat_id,),
    ).fetchall()
    return chat, keywords


def forged_presses(victim: int, victim_subs: list[int], own: int) -> list[str]:
    """Callback data a modified client could send: every button prefix, with the victim's ids,
    the victim's stamp, no stamp, and garbage."""
    data = []
    for sub in victim_subs:
        for action in ("del", "pause", "resume"):
            for stamp in ("", f"|{victim}", f"|{own}", "|x"):
                data.append(f"kw:{action}:{sub}:0{stamp}")
        for row in (1, 2, 3):  # a 👎's buttons: outbox rows and keywords of the victim's
            data += [f"fb:x:{row}:{sub}:0", f"fb:ux:{row}:{sub}:0", f"fb:p:{row}:{sub}"]
            data += [f"fb:up:{row}:{sub}", f"fb:n:{row}"]
    for stamp in ("", f"|{victim}", f"|{own}"):
        data += [
            f"set:mode:daily{stamp}",
            f"set:silent:toggle{stamp}",
            f"set:lang:en{stamp}",
            f"stop:yes{stamp}",
            f"kw:page:0{stamp}",
        ]
    data += [
        "kw:",
        "kw:del:abc",
        "kw:del",
        "set:",
        "set:x",
        "stop:",
        f"ch:{victim}",
        "ch:abc",
        "ch:",
        "bc:send:1",
        "bc:cancel:1",
        "feed:del:1",
        "feed:pause:1",
        "feed:list:0",
        "test:المغرب",
        "fb:",
        "fb:x",
        "fb:p:abc:def",
        "add:",
        "help",
        "nonsense",
        "",
    ]
    prefixes = {d.partition(":")[0] + ":" for d in data}
    assert set(BUTTONS) <= prefixes, "a registered button prefix is not walked"
    return data


async def test_forged_buttons_change_nothing_of_another_chat(api, tmp_path):
    api.private_chat(ATTACKER, "Mallory")
    async with running_bot(bot_settings(api, tmp_path)) as application:
        book = application.bot_data.services.book
        # The forger's presses are rights questions here, not a flood (tests/test_e2e_fair.py).
        application.bot_data.flood = FloodGuard(FloodPolicy(burst=1000))
        await say(api, USER, "/add المغرب\nتونس")
        await say(api, ADMIN, "/add المغرب")
        await say(api, ATTACKER, "/add الجزائر")
        listing = await say(api, ATTACKER, "/list")
        db = open_database(tmp_path / "rasd.db")
        subs = [r[0] for r in db.execute("SELECT id FROM subscriptions WHERE chat_id = ?", (USER,))]
        before = victim_state(db, USER)
        matched_before = book.match(VICTIM_TEXT)
        assert sorted(matched_before) == sorted([USER, ADMIN])

        for data in forged_presses(USER, subs, ATTACKER):
            query_id = await api.press_button(ATTACKER, listing, data, forged=True)
            answer = await api.wait_for_callback_answer(query_id, timeout=10)
            assert answer is not None, f"{data!r} got no answer"

        assert victim_state(db, USER) == before
        assert book.match(VICTIM_TEXT) == matched_before
        assert "المغرب" in (await say(api, USER, "/list")).text
        assert "الجزائر" in (await say(api, ATTACKER, "/list")).text  # "stop:" forged: kept too


async def test_buttons_shown_for_a_channel_do_nothing_after_switching_back(api, tmp_path):
    api.channel(CHANNEL, "قناة الأخبار", "news_channel", admins=[USER])
    async with running_bot(bot_settings(api, tmp_path)) as application:
        book = application.bot_data.services.book
        await say(api, USER, "/add تونس")  # the user's own keyword
        await say(api, USER, "/channel @news_channel")
        await say(api, USER, "/add المغرب")  # the channel's
        listing = await say(api, USER, "/list")
        panel = await say(api, USER, "/settings")
        question = await say(api, USER, "/stop")
        await say(api, USER, "/channel off")
        db = open_database(tmp_path / "rasd.db")
        own, channel = victim_state(db, USER), victim_state(db, CHANNEL)
        matched = book.match(VICTIM_TEXT)
        assert sorted(matched) == sorted([USER, CHANNEL])

        presses = [
            (question, question.button("stop:yes")),
            (panel, panel.button("set:mode:daily")),
            *((listing, d) for d in listing.callback_data if d.startswith("kw:del:")),
        ]
        for message, data in presses:
            query_id = await api.press_button(USER, message, data)
            answer = await api.wait_for_callback_answer(query_id, timeout=10)
            assert answer.show_alert
            assert "أرسل الأمر من جديد" in (answer.text or "")

        assert victim_state(db, USER) == own
        assert victim_state(db, CHANNEL) == channel
        assert book.match(VICTIM_TEXT) == matched


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


async def test_channel_rights_are_checked_again_and_cached_for_a_while(api, tmp_path):
    api.channel(CHANNEL, "قناة الأخبار", "news_channel", admins=[USER])
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, USER, "/channel @news_channel")
        linking = len(api.calls_to("getChatMember"))
        await say(api, USER, "/add لبنان")
        await say(api, USER, "/add سوريا")
        await say(api, USER, "/pause")
    # one check of the user and of the bot, trusted for CHANNEL_RIGHTS_CACHE_SECONDS (300)
    assert len(api.calls_to("getChatMember")) == linking + 2


async def test_a_demoted_channel_admin_is_unlinked_and_told(api, tmp_path):
    api.channel(CHANNEL, "قناة الأخبار", "news_channel", admins=[USER])
    settings = bot_settings(api, tmp_path, CHANNEL_RIGHTS_CACHE_SECONDS="0")
    async with running_bot(settings):
        await say(api, USER, "/channel @news_channel")
        assert "بدأت متابعة" in (await say(api, USER, "/add لبنان")).text
        api.set_member_status(CHANNEL, USER, "member")
        told = await say(api, USER, "/add سوريا")
        after = await say(api, USER, "/list")
    assert "لم تعد مشرفاً في القناة «قناة الأخبار»" in told.text
    assert "قناة الأخبار" not in after.text  # back to the user's own chat, which follows nothing
    db = open_database(tmp_path / "rasd.db")
    assert linked_by(db, CHANNEL) is None
    keywords = db.execute("SELECT chat_id, keyword FROM subscriptions").fetchall()
    assert keywords == [(CHANNEL, "لبنان")]


async def test_a_bot_that_may_no_longer_post_unlinks_and_a_failed_check_changes_nothing(
    api, tmp_path
):
    api.channel(CHANNEL, "قناة الأخبار", "news_channel", admins=[USER])
    settings = bot_settings(api, tmp_path, CHANNEL_RIGHTS_CACHE_SECONDS="0")
    async with running_bot(settings):
        await say(api, USER, "/channel @news_channel")
        api.inject("getChatMember", count=1, error=ApiError(502, "Bad Gateway"))
        later = await say(api, USER, "/pause")
        db = open_database(tmp_path / "rasd.db")
        assert linked_by(db, CHANNEL) == USER  # Telegram could not say: the link stays
        api.chat(CHANNEL).bot_status = "left"
        told = await say(api, USER, "/pause")
    assert "حاول بعد قليل" in later.text
    assert "لم يعد البوت قادراً على النشر" in told.text
    assert linked_by(db, CHANNEL) is None
    assert db.execute("SELECT paused FROM chats WHERE id = ?", (CHANNEL,)).fetchone()[0] == 0
