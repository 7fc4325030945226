"""Buttons act on the chat they were shown for, for whom they may, once, with plain labels."""

from __future__ import annotations

import pytest

from storage.db import open_database
from tests.feedserver import make_rss
from tests.support import ADMIN, USER, bot_settings, item, running_bot, say

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

ENGLISH = 333
CHANNEL = -1_005_000_000_091
WORLD = -1_005_000_000_092
GROUP = -4_005_000_091
GROUP_ADMIN, MEMBER = 591, 592
COUNTRIES = ("لبنان", "سوريا", "العراق", "الأردن", "مصر", "ليبيا")
COUNTRIES += ("تونس", "الجزائر", "المغرب", "اليمن", "السودان")
ODD = "غزة|<b>AT&T</b>"  # a keyword with every character HTML escapes


def keywords(db, chat_id: int) -> list[str]:
    """A chat's keywords as stored, oldest first."""
    rows = db.execute("SELECT keyword FROM subscriptions WHERE chat_id = ? ORDER BY id", (chat_id,))
    return [row[0] for row in rows]


def follow_button(message) -> str:
    return next(d for d in message.callback_data if d.startswith("add:"))


async def test_a_follow_button_adds_to_the_chat_it_was_shown_for(api, tmp_path):
    api.private_chat(ENGLISH, "Sam", language_code="en")
    api.channel(CHANNEL, "قناة الأخبار", "akhbar_news", admins=[USER])
    api.channel(WORLD, "World News", "world_news", admins=[ENGLISH])
    async with running_bot(bot_settings(api, tmp_path)):
        db = open_database(tmp_path / "rasd.db")
        offer = await say(api, USER, "لبنان")
        welcome = await say(api, USER, "/start")
        await say(api, USER, "/channel @akhbar_news", expect="رُبطت")
        for message in (offer, welcome):
            query_id = await api.press_button(USER, message, follow_button(message))
            stale = await api.wait_for_callback_answer(query_id, timeout=10)
            assert stale.show_alert
            assert stale.text == (
                "عُرض هذا الزر لمحادثة غير التي تعمل عليها أوامرك الآن، فلم يُضف شيء. "
                "أرسل الكلمة من جديد."
            )
        assert keywords(db, CHANNEL) == keywords(db, USER) == []

        await say(api, USER, "/channel off", expect="عادت")
        await api.press_button(USER, offer, follow_button(offer))
        await api.wait_for_edit(USER, offer.message_id, lambda m: "بدأت متابعة" in m.text)
        assert keywords(db, USER) == ["لبنان"]
        assert keywords(db, CHANNEL) == []

        offer = await say(api, ENGLISH, "Gaza")
        await say(api, ENGLISH, "/channel @world_news", expect="Linked")
        query_id = await api.press_button(ENGLISH, offer, follow_button(offer))
        stale = await api.wait_for_callback_answer(query_id, timeout=10)
        assert stale.text.startswith("This button was shown for another chat")
        assert keywords(db, WORLD) == keywords(db, ENGLISH) == []


async def test_every_member_pages_a_group_s_list_but_only_admins_change_it(api, tmp_path):
    api.group(GROUP, "مجموعة الأخبار", admins=[GROUP_ADMIN], members=[MEMBER])
    async with running_bot(bot_settings(api, tmp_path)):
        await api.send_text(GROUP_ADMIN, GROUP, "/add " + "\n".join(COUNTRIES))
        await api.wait_for_message(GROUP, lambda m: "بدأت متابعة" in m.text, timeout=10)
        await api.send_text(MEMBER, GROUP, "/list")
        listing = await api.wait_for_message(GROUP, lambda m: "كلمات" in m.text, timeout=10)
        assert "📄 الصفحة 1 من 2" in listing.text
        turn = next(d for d in listing.callback_data if d.startswith("kw:page:1"))
        query_id = await api.press_button(MEMBER, listing, turn)
        assert not (await api.wait_for_callback_answer(query_id, timeout=10)).show_alert
        second = await api.wait_for_edit(GROUP, listing.message_id, timeout=10)
        assert "📄 الصفحة 2 من 2" in second.text
        assert "• السودان" in second.text

        db = open_database(tmp_path / "rasd.db")
        for data in [d for d in second.callback_data if not d.startswith("kw:page:")]:
            query_id = await api.press_button(MEMBER, second, data)
            refused = await api.wait_for_callback_answer(query_id, timeout=10)
            assert refused.text == "تغيير كلمات هذه المجموعة وإعداداتها متاح لمشرفيها فقط."
        assert keywords(db, GROUP) == list(COUNTRIES)
        paused = db.execute("SELECT COUNT(*) FROM subscriptions WHERE paused = 1").fetchone()[0]
        assert paused == 0


async def test_excluding_a_word_twice_adds_it_once_and_undo_restores_the_keyword(
    api, feeds, tmp_path
):
    baseline = [item(1, "ارتفاع أسعار النفط", ["ارتفعت أسعار النفط اليوم."])]
    football = item(
        2,
        "الرباط تستضيف نهائي كأس أفريقيا",
        ["تستضيف الرباط نهائي كأس أفريقيا. ويتوقع أن يحضر النهائي آلاف المشجعين."],
    )
    feeds.set_feed("/feed.xml", make_rss("أخبار", baseline))
    async with running_bot(bot_settings(api, tmp_path)):
        db = open_database(tmp_path / "rasd.db")
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add الرباط")
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*baseline, football]))
        alert = await api.wait_for_message(USER, lambda m: "نهائي" in m.text, timeout=20)
        await api.react(USER, alert, ["👎"])
        asked = await api.wait_for_message(USER, lambda m: m.text.startswith("👎"), timeout=10)
        exclude = asked.callback_data[0]
        assert asked.buttons[0]["text"] == "🚫 بلا «نهائي»"

        await api.press_button(USER, asked, exclude)
        done = await api.wait_for_edit(USER, asked.message_id, timeout=10)
        assert keywords(db, USER) == ["الرباط -نهائي"]
        again = await api.press_button(USER, asked, exclude, forged=True)  # a stale second tap
        answer = await api.wait_for_callback_answer(again, timeout=10)
        assert answer.text == "الكلمة «نهائي» مستبعدة من «الرباط -نهائي» من قبل."
        assert keywords(db, USER) == ["الرباط -نهائي"]

        await api.press_button(USER, done, done.callback_data[0])  # ↩️
        await api.wait_for_edit(USER, asked.message_id, lambda m: m.text.startswith("👎"))
        assert keywords(db, USER) == ["الرباط"]


async def test_labels_and_pop_ups_show_user_text_as_typed(api, feeds, tmp_path):
    baseline = [item(1, "ارتفاع أسعار النفط", ["ارتفعت أسعار النفط اليوم."])]
    story = item(2, "قصف على غزة", ["تعرضت غزة لقصف عنيف اليوم."])
    feeds.set_feed("/feed.xml", make_rss("AT&T <b>أخبار</b>", baseline))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        listing = await say(api, ADMIN, "/feeds", expect="📡")
        assert listing.buttons[0]["text"] == "📄 AT&T أخبار"  # the feed's title, tags left out

        await say(api, USER, f"/add {ODD}\nAT&T")
        listing = await say(api, USER, "/list")
        labels = [b["text"] for b in listing.buttons]
        assert f"⏸ {ODD}" in labels
        assert "⏸ AT&T" in labels
        pause = next(d for d in listing.callback_data if d.startswith("kw:pause:"))
        answer = await api.wait_for_callback_answer(await api.press_button(USER, listing, pause))
        assert answer.text == f"• {ODD} ⏸ (موقوفة مؤقتاً)"
        listing = await api.wait_for_edit(USER, listing.message_id, timeout=10)
        resume = next(d for d in listing.callback_data if d.startswith("kw:resume:"))
        assert f"▶️ {ODD}" in [b["text"] for b in listing.buttons]
        await api.wait_for_callback_answer(await api.press_button(USER, listing, resume))
        listing = await api.wait_for_edit(USER, listing.message_id, timeout=10)
        delete = [d for d in listing.callback_data if d.startswith("kw:del:")][-1]
        answer = await api.wait_for_callback_answer(await api.press_button(USER, listing, delete))
        assert answer.text == "🗑 حذفت «AT&T»."

        feeds.set_feed("/feed.xml", make_rss("AT&T <b>أخبار</b>", [*baseline, story]))
        alert = await api.wait_for_message(USER, lambda m: "قصف" in m.text, timeout=20)
        await api.react(USER, alert, ["👎"])
        asked = await api.wait_for_message(USER, lambda m: m.text.startswith("👎"), timeout=10)
        assert f"⏸ أوقف «{ODD}»" in [b["text"] for b in asked.buttons]
        pause = next(d for d in asked.callback_data if d.startswith("fb:p:"))
        answer = await api.wait_for_callback_answer(await api.press_button(USER, asked, pause))
        assert answer.text == f"⏸ أُوقفت «{ODD}» مؤقتًا. تستأنفها من /list."
