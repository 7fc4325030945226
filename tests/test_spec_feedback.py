"""Reactions on alerts: 👍 and 👎 counted per keyword; the first 👎 answered with what to change
(exclude a word of the story, pause the keyword, or nothing), undone as easily; in a group only
an admin's; a channel's anonymous totals (tests/offline.py).

The alert is queued in the outbox and sent by the bot's own sender, which runs offline as it
runs in production; how a feed's story becomes an alert is tested end to end."""

from __future__ import annotations

from core.i18n import Raw
from core.query import parse_query
from storage import chats as chat_store
from storage import outbox
from tests.offline import Button, PopUp, Sent, ar
from tests.support import USER, store_articles, story
from tests.timing import eventually

FINAL = ("الرباط تستضيف نهائي كأس أفريقيا", "تستضيف الرباط نهائي كأس أفريقيا. ويتوقع أن يحضر")
FINAL_TEXT = FINAL[1] + " النهائي آلاف المشجعين."
GROUP, GROUP_ADMIN, MEMBER = -1_001_800_000_001, 301, 302
CHANNEL, READERS = -1_001_900_000_001, (401, 402, 403)


async def delivered(bot, chat_id: int, keyword: str, title: str, text: str) -> Sent:
    """A story about `keyword` alerted to a chat: queued, then sent by the bot's sender."""
    now = bot.clock()
    [article_id] = store_articles(
        bot.db, "https://news.example.org/feed", "أخبار", [story(1, title, text, now)], now
    )
    outbox.queue_alert(
        bot.db, chat_id, story_id=article_id, article_id=article_id, keywords=[keyword], now=now
    )
    bot.application.bot_data.services.wake_sender()

    def alert() -> Sent | None:
        return next((m for m in bot.messages(chat_id) if m.text.startswith("🔔")), None)

    return await eventually(alert, "the alert sent")


def follows(bot, chat_id: int, keyword: str, kind: str = "private", title: str = "سارة") -> None:
    """A chat that follows `keyword` (stored here rather than by /add: the bot's answer to a
    command would hold the alert back for the chat's pace, a second or three)."""
    chat_store.touch_chat(bot.db, chat_id, type=kind, title=title, language="ar", now=bot.clock())
    chat_store.add_subscription(bot.db, chat_id, keyword, parse_query(keyword).key, bot.clock())


def keywords(bot, chat_id: int) -> list[str]:
    return [s.keyword for s in chat_store.chat_subscriptions(bot.db, chat_id)]


def stats_line(keyword: str, alerts: int, likes: int, dislikes: int) -> str:
    return f"• {keyword}: 🔔 {alerts} · 👍 {likes} · 👎 {dislikes}"


async def test_a_thumbs_down_is_answered_once_with_what_to_change(bot, sara):
    follows(bot, USER, "الرباط")
    alert = await delivered(bot, USER, "الرباط", FINAL[0], FINAL_TEXT)
    assert (await sara.react(alert, ["👍"])).messages == []  # counted, never answered
    asked = (await sara.react(alert, ["👎"])).message  # the 👍 taken back, a 👎 instead
    assert asked.text == ar("feedback_ask", keyword="الرباط")
    assert asked.reply_to == alert.message_id
    assert asked.buttons[0] == (Button("🚫 بلا «نهائي»", asked.data[0]),)  # most repeated first
    assert asked.buttons[-2:] == (
        (Button("⏸ أوقف «الرباط»", "fb:p:1:1"),),
        (Button(ar("feedback_keep"), "fb:n:1"),),
    )
    await sara.react(alert, [])
    assert (await sara.react(alert, ["👎"])).messages == []  # asked once per alert
    stats = (await sara.send("/stats")).text
    assert stats.startswith(ar("keyword_stats", lines=Raw(stats_line("الرباط", 1, 0, 1))))


async def test_excluding_a_word_twice_adds_it_once_and_undo_restores_the_keyword(bot, sara):
    follows(bot, USER, "الرباط")
    alert = await delivered(bot, USER, "الرباط", FINAL[0], FINAL_TEXT)
    asked = (await sara.react(alert, ["👎"])).message
    exclude = asked.data[0]
    done = await sara.press(asked, exclude)
    excluded = ar("feedback_excluded", keyword="الرباط", word="نهائي", now="الرباط -نهائي")
    assert done.popup == PopUp(excluded)
    assert done.text == excluded
    assert done.message.buttons == ((Button(ar("feedback_undo"), "fb:ux:1:1:0"),),)
    assert keywords(bot, USER) == ["الرباط -نهائي"]

    again = await sara.press(asked, exclude, forged=True)  # a stale second tap
    assert again.popup == PopUp("الكلمة «نهائي» مستبعدة من «الرباط -نهائي» من قبل.")
    assert again.messages == []
    assert keywords(bot, USER) == ["الرباط -نهائي"]

    undone = await sara.press(asked, "fb:ux:1:1:0")
    assert undone.popup == PopUp(ar("feedback_undone"))
    assert undone.text == ar("feedback_ask", keyword="الرباط")
    assert undone.message.buttons[0] == (Button("🚫 بلا «نهائي»", exclude),)
    assert keywords(bot, USER) == ["الرباط"]


async def test_pausing_from_a_thumbs_down_and_changing_nothing(bot, sara):
    odd = "غزة|<b>AT&T</b>"  # shown as typed on a label and a pop-up
    follows(bot, USER, odd)
    alert = await delivered(bot, USER, odd, "قصف على غزة", "تعرضت غزة لقصف عنيف اليوم.")
    asked = (await sara.react(alert, ["👎"])).message
    assert f"⏸ أوقف «{odd}»" in asked.labels
    paused = await sara.press(asked, asked.button("fb:p:"))
    assert paused.popup == PopUp(f"⏸ أُوقفت «{odd}» مؤقتًا. تستأنفها من /list.")
    assert paused.text == ar("feedback_paused", keyword=odd)
    assert chat_store.chat_subscriptions(bot.db, USER)[0].paused
    resumed = await sara.press(asked, paused.message.button("fb:up:"))
    assert resumed.text == ar("feedback_ask", keyword=odd)
    assert not chat_store.chat_subscriptions(bot.db, USER)[0].paused
    kept = await sara.press(asked, resumed.message.button("fb:n:"))
    assert kept.text == ar("feedback_kept")


async def test_in_a_group_members_reactions_count_and_only_an_admin_s_is_answered(bot):
    group = bot.group(GROUP, "مجموعة", admins=[GROUP_ADMIN], members=[MEMBER], kind="supergroup")
    follows(bot, GROUP, "الرباط", "supergroup", "مجموعة")
    alert = await delivered(bot, GROUP, "الرباط", "وفد يزور الرباط", "وصل وفد رسمي إلى الرباط.")
    assert (await group.react(alert, ["👍"], by=MEMBER)).messages == []
    assert (await group.react(alert, ["👎"], by=MEMBER)).messages == []  # counted, not answered
    stats = (await group.send("/stats", by=MEMBER)).text
    assert stats_line("الرباط", 1, 0, 1) in stats.split("\n")

    asked = (await group.react(alert, ["👎"], by=GROUP_ADMIN)).message
    pause = asked.button("fb:p:")
    refused = await group.press(asked, pause, by=MEMBER)
    assert refused.popup == PopUp(ar("group_admins_only"), alert=True)
    assert not chat_store.chat_subscriptions(bot.db, GROUP)[0].paused
    paused = await group.press(asked, pause, by=GROUP_ADMIN)
    assert paused.text == "⏸ أُوقفت «الرباط» مؤقتًا. تستأنفها من /list."
    listing = (await group.send("/list", by=MEMBER)).text
    assert ar("list_line_paused", keyword="الرباط") in listing.split("\n")


async def test_a_channel_s_anonymous_reaction_totals_are_counted(bot, sara):
    channel = bot.channel(CHANNEL, "قناة الأخبار", "akhbar", admins=[USER])
    for reader in READERS:
        bot.user(reader, f"u{reader}")
    await sara.send("/channel @akhbar")
    await sara.send("/add الرباط")
    alert = await delivered(bot, CHANNEL, "الرباط", "وفد يزور الرباط", "وصل وفد رسمي إلى الرباط.")
    first, second, third = READERS
    await channel.react(alert, ["👍"], by=first)
    await channel.react(alert, ["👍"], by=second)
    assert (await channel.react(alert, ["👎"], by=third)).messages == []  # never answered
    await channel.react(alert, [], by=second)  # taken back: the totals fall
    stats = (await sara.send("/stats")).text
    assert stats_line("الرباط", 1, 1, 1) in stats.split("\n")
