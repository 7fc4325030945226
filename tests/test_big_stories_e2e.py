"""Only the big stories (issue #31), end to end: a keyword set to wait for N outlets alerts when
the N-th outlet's article is stored, names the outlets, and still sends one alert per story.
The bot's own poll cycle reads loopback feeds and its sender sends; the injected clock stands
in for the hours (nothing waits)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage import articles as article_store
from tests.feedserver import FeedServer
from tests.newsroom import HOUR, START, Newsroom, alerts
from tests.offline import ar, offline_bot
from tests.support import USER
from tests.timing import FakeClock

OTHER = 222  # another reader of the same news
HESPRESS, JAZEERA, BBC = "hespress.example", "aljazeera.example", "bbc.example"
BODY = (
    "سجلت الأسواق المحلية اليوم ارتفاعا ملحوظا في أسعار المعادن النفيسة بعد قرار البنك المركزي "
    "رفع سعر الفائدة. وقال تجار في الدار البيضاء إن الطلب تراجع خلال الأسبوع الماضي بسبب "
    "ارتفاع الأسعار. ويتوقع خبراء أن تستمر الأسعار في الصعود حتى نهاية الشهر الجاري مع استمرار "
    "التوترات في الأسواق العالمية."
)
GOLD = "ارتفاع أسعار الذهب في المغرب"
METALS = "ارتفاع أسعار المعادن النفيسة في المغرب"  # the same story, without the keyword


@pytest.fixture
async def room(tmp_path, feeds: FeedServer) -> AsyncIterator[Newsroom]:
    async with offline_bot(tmp_path, clock=FakeClock(START), FULL_TEXT="false") as bot:
        room = Newsroom(bot, feeds)
        room.outlet("/hespress.xml", "هسبريس", HESPRESS)
        room.outlet("/jazeera.xml", "الجزيرة", JAZEERA)
        room.outlet("/bbc.xml", "بي بي سي", BBC)
        yield room


async def tell(room: Newsroom, path: str, host: str, title: str = GOLD) -> None:
    """An outlet carries the story now; the bot polls and sends what is due."""
    room.publish(path, room.story(1, host, title, BODY))
    await room.poll()
    await room.settled()


def big_line(outlets: list[str], hours: str = "6 ساعات") -> str:
    """The alert's line that names the outlets, as the bot writes it on 7 December."""
    count = "مصدران" if len(outlets) == 2 else f"{len(outlets)} مصادر"
    line = ar("alert_big_story", count=count, hours=hours, outlets="، ".join(outlets))
    return line + " · 7 ديسمبر 2026"


def lines(text: str) -> list[str]:
    return text.split("\n")


def stories(room: Newsroom) -> set[int]:
    """The stories the stored articles tell."""
    ids = [row[0] for row in room.bot.db.execute("SELECT id FROM articles")]
    return {article_store.story_of(room.bot.db, article_id) or 0 for article_id in ids}


async def test_an_alert_comes_when_the_second_outlet_carries_the_story_and_names_both(room):
    sara = room.bot.private(USER, "سارة")
    await sara.send("/add الذهب")
    room.big_stories(USER, "الذهب", 2)
    await tell(room, "/hespress.xml", HESPRESS)
    assert alerts(room.bot, USER) == []
    assert (
        room.bot.db.execute("SELECT count(*) FROM outbox WHERE kind = 'alert'").fetchone()[0] == 0
    )

    room.bot.clock.advance(HOUR)
    await tell(room, "/jazeera.xml", JAZEERA)
    (alert,) = alerts(room.bot, USER)
    assert lines(alert.text) == [
        f"🔔 <b>{GOLD}</b>",
        "",
        BODY,  # its summary: the keyword is in the title alone
        "",
        big_line(["هسبريس", "الجزيرة"]),
        ar("alert_keywords", keywords="الذهب"),
        f'🔗 <a href="https://{JAZEERA}/?p=1">{ar("alert_read_on", source="الجزيرة")}</a>',
    ]

    room.bot.clock.advance(HOUR)
    await tell(room, "/bbc.xml", BBC)  # a third outlet: still one alert for the story
    assert len(alerts(room.bot, USER)) == 1
    assert len(stories(room)) == 1


async def test_the_story_matched_once_is_enough_when_the_second_outlet_omits_the_keyword(room):
    sara = room.bot.private(USER, "سارة")
    await sara.send("/add الذهب")
    room.big_stories(USER, "الذهب", 2)
    await tell(room, "/hespress.xml", HESPRESS)
    await tell(room, "/jazeera.xml", JAZEERA, METALS)
    assert len(stories(room)) == 1  # told twice, one story
    (alert,) = alerts(room.bot, USER)
    assert lines(alert.text)[0] == f"🔔 <b>{METALS}</b>"  # the second outlet's telling
    assert big_line(["هسبريس", "الجزيرة"]) in lines(alert.text)
    assert ar("alert_keywords", keywords="الذهب") in lines(alert.text)


async def test_three_outlets_wanted_and_two_within_the_window_never_alert(room):
    sara = room.bot.private(USER, "سارة")
    await sara.send("/add الذهب")
    room.big_stories(USER, "الذهب", 3, hours=6)
    other = room.bot.private(OTHER, "ليلى")
    await other.send("/add الذهب")
    room.big_stories(OTHER, "الذهب", 3, hours=12)
    await tell(room, "/hespress.xml", HESPRESS)
    room.bot.clock.advance(HOUR)
    await tell(room, "/jazeera.xml", JAZEERA)
    room.bot.clock.advance(6 * HOUR)  # seven hours after the first: past a 6-hour window
    await tell(room, "/bbc.xml", BBC)
    assert len(stories(room)) == 1
    assert alerts(room.bot, USER) == []
    outbox_chats = room.bot.db.execute("SELECT chat_id FROM outbox WHERE kind = 'alert'")
    assert [row[0] for row in outbox_chats] == [OTHER]  # within her 12 hours: it alerts
    (alert,) = alerts(room.bot, OTHER)
    outlets = ["هسبريس", "الجزيرة", "بي بي سي"]
    assert lines(alert.text)[-3] == big_line(outlets, hours="12 ساعة")


async def test_two_feeds_of_one_site_are_one_outlet(room):
    room.outlet("/hespress-eco.xml", "هسبريس اقتصاد", HESPRESS)
    sara = room.bot.private(USER, "سارة")
    await sara.send("/add الذهب")
    room.big_stories(USER, "الذهب", 2)
    await tell(room, "/hespress.xml", HESPRESS)
    room.publish("/hespress-eco.xml", {**room.story(1, HESPRESS, GOLD, BODY), "guid": "eco-1"})
    await room.poll()
    await room.settled()
    assert alerts(room.bot, USER) == []
    await tell(room, "/jazeera.xml", JAZEERA)
    (alert,) = alerts(room.bot, USER)
    assert big_line(["هسبريس", "الجزيرة"]) in lines(alert.text)


async def test_a_keyword_without_a_threshold_brings_the_story_at_once_and_once(room):
    sara = room.bot.private(USER, "سارة")
    await sara.send("/add الذهب")
    await sara.send("/add المغرب")
    room.big_stories(USER, "الذهب", 2)
    await tell(room, "/hespress.xml", HESPRESS)
    (alert,) = alerts(room.bot, USER)
    assert ar("alert_keywords", keywords="المغرب") in lines(alert.text)
    assert ar("alert_source", source="هسبريس") + " · 7 ديسمبر 2026" in lines(alert.text)
    await tell(room, "/jazeera.xml", JAZEERA)
    assert len(alerts(room.bot, USER)) == 1


async def test_a_daily_big_stories_keyword_names_the_outlets_in_its_digest(room):
    sara = room.bot.private(USER, "سارة")
    await sara.send("/add الذهب")
    room.big_stories(USER, "الذهب", 2)
    room.pace(USER, "الذهب", "daily")
    await tell(room, "/hespress.xml", HESPRESS)
    room.bot.clock.advance(HOUR)
    await tell(room, "/jazeera.xml", JAZEERA)
    assert alerts(room.bot, USER) == []  # held for the daily digest
    await room.at(START + 22 * HOUR)  # the next 8:00, the chat's digest hour
    (digest,) = alerts(room.bot, USER)
    assert lines(digest.text)[0] == ar("digest_header", count=1)
    assert lines(digest.text)[2].endswith("</a></b> — هسبريس، الجزيرة")
