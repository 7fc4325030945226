"""Each keyword its own pace (issue #31), end to end: the bot's own poll cycle reads loopback
feeds, its sender sends, and the injected clock stands in for the hours (nothing waits).

Sara's chat sends at once (the default) unless a test says otherwise; the digest hour is 8:00,
the time zone UTC, and the day starts on Monday at 10:00."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.i18n import Raw
from core.render import anchor_html
from service.keywords import add_keyword
from storage import chats as chat_store
from tests.feedserver import FeedServer
from tests.newsroom import HOUR, START, Newsroom, Owed, alerts
from tests.offline import ar, offline_bot
from tests.support import USER
from tests.timing import FakeClock

HESPRESS = "hespress.example"
GOLD = ("ارتفاع أسعار الذهب في الأسواق", "ارتفعت أسعار الذهب اليوم في الأسواق المحلية.")
RABAT = ("وفد رسمي يزور الرباط", "وصل وفد رسمي إلى الرباط اليوم في زيارة تستمر يومين.")
MOROCCO = ("ذهب المغرب في المعارض", "عرضت المغرب حليها من الذهب في معرض دولي بالرباط.")
IN_RABAT = [  # four stories of one day in Rabat
    RABAT,
    ("افتتاح معرض الكتاب", "افتتح في الرباط معرض الكتاب بمشاركة مئات الناشرين."),
    ("أمطار غزيرة على العاصمة", "هطلت أمطار غزيرة على الرباط وضواحيها طوال الليل."),
    ("مباراة ودية للمنتخب", "يلعب المنتخب مباراة ودية في الرباط مساء السبت."),
]
TOMORROW_8 = START + 22 * HOUR  # Tuesday 8:00 UTC, the next digest hour
FORUM = -1_001_700_000_001


async def newsroom(tmp_path, feeds: FeedServer, **env: str) -> AsyncIterator[Newsroom]:
    async with offline_bot(tmp_path, clock=FakeClock(START), FULL_TEXT="false", **env) as bot:
        room = Newsroom(bot, feeds)
        room.outlet("/hespress.xml", "هسبريس", HESPRESS)
        yield room


@pytest.fixture
async def room(tmp_path, feeds: FeedServer) -> AsyncIterator[Newsroom]:
    async for each in newsroom(tmp_path, feeds):
        yield each


def digest(*lines: tuple[int, str]) -> str:
    """A digest of stories of hespress (number, title) without a summary, as the bot sends it."""
    shown = [
        ar(
            "digest_line",
            title=Raw(anchor_html(f"https://{HESPRESS}/?p={number}", title)),
            source="هسبريس",
        )
        for number, title in lines
    ]
    return "\n\n".join([ar("digest_header", count=len(lines)), *shown])


def keywords_line(*keywords: str) -> str:
    return ar("alert_keywords", keywords="، ".join(keywords))


async def test_a_daily_keyword_sends_nothing_at_once_and_lands_in_the_digest_at_its_hour(room):
    sara = room.bot.private(USER, "سارة")
    await sara.send("/add الذهب")
    room.pace(USER, "الذهب", "daily")
    room.publish("/hespress.xml", room.story(1, HESPRESS, *GOLD))
    await room.poll()
    assert await room.settled() == [Owed(USER, ("الذهب",), "daily", TOMORROW_8)]
    assert alerts(room.bot, USER) == []
    await room.at(TOMORROW_8 - 1)
    assert alerts(room.bot, USER) == []
    await room.at(TOMORROW_8)
    assert [m.text for m in alerts(room.bot, USER)] == [digest((1, GOLD[0]))]
    assert await room.settled() == []


async def test_an_hourly_keyword_waits_for_the_hour_while_the_chat_s_others_go_at_once(room):
    sara = room.bot.private(USER, "سارة")
    await sara.send("/add الذهب")
    await sara.send("/add الرباط")
    room.pace(USER, "الذهب", "hourly")
    room.publish("/hespress.xml", room.story(1, HESPRESS, *GOLD), room.story(2, HESPRESS, *RABAT))
    await room.poll()
    assert await room.settled() == [Owed(USER, ("الذهب",), "hourly", START + HOUR)]
    (rabat,) = alerts(room.bot, USER)
    assert rabat.text.split("\n")[0] == f"🔔 <b>{RABAT[0]}</b>"
    await room.at(START + HOUR)
    assert [m.text for m in alerts(room.bot, USER)[1:]] == [digest((1, GOLD[0]))]


async def test_a_story_of_a_daily_and_an_instant_keyword_goes_at_once_and_once(room):
    sara = room.bot.private(USER, "سارة")
    await sara.send("/add الذهب")
    await sara.send("/add المغرب")
    room.pace(USER, "الذهب", "daily")
    room.publish("/hespress.xml", room.story(1, HESPRESS, *MOROCCO))
    await room.poll()
    assert await room.settled() == []
    (alert,) = alerts(room.bot, USER)
    assert alert.text.split("\n")[0] == f"🔔 <b>{MOROCCO[0]}</b>"
    assert keywords_line("الذهب", "المغرب") in alert.text.split("\n")
    await room.at(TOMORROW_8)
    assert len(alerts(room.bot, USER)) == 1  # nothing more in the digest


async def test_a_held_story_that_an_instant_keyword_reaches_later_goes_at_once(room):
    """One story, one alert, at the fastest pace of its keywords: a later telling of the story
    that an instant keyword matches speeds up the alert a daily keyword holds."""
    room.outlet("/akhbar.xml", "أخبار", "akhbar.example")
    sara = room.bot.private(USER, "سارة")
    await sara.send("/add الذهب")
    await sara.send("/add المغرب")
    room.pace(USER, "الذهب", "daily")
    room.publish("/hespress.xml", room.story(1, HESPRESS, *GOLD))
    await room.poll()
    assert await room.settled() == [Owed(USER, ("الذهب",), "daily", TOMORROW_8)]
    # An aggregator tells it again, linking to the same article: the same story.
    again = room.story(1, HESPRESS, GOLD[0], GOLD[1] + " وفي المغرب أيضاً.")
    room.publish("/akhbar.xml", {**again, "guid": "akhbar-1"})
    await room.poll()
    assert await room.settled() == []
    (alert,) = alerts(room.bot, USER)
    assert alert.text.split("\n")[0] == f"🔔 <b>{GOLD[0]}</b>"
    assert keywords_line("الذهب", "المغرب") in alert.text.split("\n")
    await room.at(TOMORROW_8)
    assert len(alerts(room.bot, USER)) == 1


async def test_quiet_hours_hold_a_daily_keyword_s_digest_until_they_end(room):
    sara = room.bot.private(USER, "سارة")
    await sara.send("/add الذهب")
    room.pace(USER, "الذهب", "daily")
    chat_store.set_chat_flags(room.bot.db, USER, quiet_start=7, quiet_end=9, quiet_mode="hold")
    room.publish("/hespress.xml", room.story(1, HESPRESS, *GOLD))
    await room.poll()
    await room.settled()
    await room.at(TOMORROW_8)
    assert alerts(room.bot, USER) == []
    assert await room.settled() == [Owed(USER, ("الذهب",), "daily", TOMORROW_8 + HOUR)]
    await room.at(TOMORROW_8 + HOUR)
    assert [m.text for m in alerts(room.bot, USER)] == [digest((1, GOLD[0]))]


async def test_an_instant_keyword_in_a_daily_chat_goes_at_once_silently_in_quiet_hours(room):
    sara = room.bot.private(USER, "سارة")
    await sara.send("/add الذهب")
    await sara.send("/add الرباط")
    room.pace(USER, "الرباط", "instant")
    quiet = {"quiet_start": 9, "quiet_end": 11, "quiet_mode": "silent"}
    chat_store.set_chat_flags(room.bot.db, USER, delivery_mode="daily", **quiet)
    room.publish("/hespress.xml", room.story(1, HESPRESS, *GOLD), room.story(2, HESPRESS, *RABAT))
    await room.poll()
    assert await room.settled() == [Owed(USER, ("الذهب",), None, TOMORROW_8)]  # the chat's
    (rabat,) = alerts(room.bot, USER)
    assert rabat.text.split("\n")[0] == f"🔔 <b>{RABAT[0]}</b>"
    assert rabat.params["disable_notification"] is True


async def test_the_hourly_cap_folds_an_instant_keyword_s_alerts_but_not_a_daily_one_s(
    tmp_path, feeds
):
    async for room in newsroom(tmp_path, feeds, ALERTS_PER_HOUR="2"):
        sara = room.bot.private(USER, "سارة")
        await sara.send("/add الرباط")
        await sara.send("/add الذهب")
        room.pace(USER, "الرباط", "instant")
        chat_store.set_chat_flags(room.bot.db, USER, delivery_mode="daily")
        visits = [room.story(n, HESPRESS, *told) for n, told in enumerate(IN_RABAT, 1)]
        room.publish("/hespress.xml", visits[0], room.story(9, HESPRESS, *GOLD), *visits[1:])
        await room.poll()
        assert await room.settled() == [Owed(USER, ("الذهب",), None, TOMORROW_8)]
        first, fold = alerts(room.bot, USER)
        assert first.text.split("\n")[0] == f"🔔 <b>{IN_RABAT[0][0]}</b>"
        lines = fold.text.split("\n\n")
        assert lines[0] == ar("fold_header", count=3)
        assert [line.split("</a>")[0].rpartition(">")[2] for line in lines[1:]] == [
            title for title, _ in IN_RABAT[1:]
        ]  # the gold story waits for its digest
        await room.at(TOMORROW_8)
        assert alerts(room.bot, USER)[2].text == digest((9, GOLD[0]))


async def test_in_a_forum_each_keyword_s_topic_gets_its_stories_at_its_pace(room):
    group = room.bot.group(FORUM, "منتدى", admins=[USER], kind="supergroup")
    await group.bot_added(by=USER)
    chat = chat_store.get_chat(room.bot.db, FORUM)
    assert chat is not None
    add_keyword(room.backend, chat, "الذهب", thread_id=5, topic="الاقتصاد")
    add_keyword(room.backend, chat, "الرباط", thread_id=7, topic="السياسة")
    room.pace(FORUM, "الذهب", "daily")
    room.publish("/hespress.xml", room.story(1, HESPRESS, *GOLD), room.story(2, HESPRESS, *RABAT))
    await room.poll()
    await room.settled()
    (rabat,) = alerts(room.bot, FORUM)
    assert (rabat.thread_id, rabat.text.split("\n")[0]) == (7, f"🔔 <b>{RABAT[0]}</b>")
    await room.at(TOMORROW_8)
    gold = alerts(room.bot, FORUM)[1]
    assert (gold.thread_id, gold.text) == (5, digest((1, GOLD[0])))
