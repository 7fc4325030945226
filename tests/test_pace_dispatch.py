"""A keyword's own pace (issue #31) in the pure rules and the outbox: core.dispatch with the
row's pace as a table, core.story_ways.alerting, the pending alert a faster keyword speeds up,
and a digest that leaves out the alerts not due by their own pace."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from app.bootstrap import SendSettings, build_sender
from core.dispatch import AlertLoad, Decision, decide, goes_now, pace_of_row
from core.i18n import load_catalog
from core.models import Chat, OutboxRow, Subscription
from core.story_ways import alerting
from storage import chats, outbox
from storage.db import Database
from tests.support import add_site_article
from tests.timing import FakeClock

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC).timestamp()  # a Thursday, 12:00 UTC
HOUR = 3600.0
CAP = 20
CHAT = Chat(id=5)
DAILY = replace(CHAT, delivery_mode="daily")
CATALOG = load_catalog()


def at(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC).timestamp()


def alert(pace: str | None, created_at: float = NOON) -> OutboxRow:
    return OutboxRow(1, 5, "alert", 7, None, ("الذهب",), 0, created_at, pace=pace)  # type: ignore[arg-type]


CASES = [
    # (what, row, chat, now, load, decision)
    ("daily keyword, instant chat: held to 8:00", alert("daily"), CHAT, NOON, AlertLoad(),
     Decision("hold", until=at(4, 8))),
    ("daily keyword at its hour: a digest", alert("daily", at(3, 12)), CHAT, at(4, 8),
     AlertLoad(), Decision("fold", digest=True)),
    ("hourly keyword: held to the next full hour", alert("hourly", at(3, 12, 10)), CHAT,
     at(3, 12, 30), AlertLoad(), Decision("hold", until=at(3, 13))),
    ("instant keyword in a daily chat: sent at once", alert("instant"), DAILY, NOON,
     AlertLoad(), Decision("send")),
    ("instant keyword in a daily chat: the hourly cap holds it", alert("instant"), DAILY, NOON,
     AlertLoad(CAP, NOON - 1000, 3), Decision("hold", until=NOON - 1000 + HOUR + 1)),
    ("instant keyword in a daily chat: the last of the hour folds the rest", alert("instant"),
     DAILY, NOON, AlertLoad(CAP - 1, NOON - 1000, 3), Decision("fold")),
    ("no pace of its own: the chat's daily digest", alert(None), DAILY, NOON, AlertLoad(),
     Decision("hold", until=at(4, 8))),
    ("daily keyword, digest hour 6 in Casablanca", alert("daily"),
     replace(CHAT, digest_hour=6, timezone="Africa/Casablanca"), NOON, AlertLoad(),
     Decision("hold", until=at(4, 5))),
    ("daily keyword in quiet hours that hold: held to their end first", alert("daily", at(3, 1)),
     replace(CHAT, quiet_start=7, quiet_end=9, quiet_mode="hold"), at(3, 8), AlertLoad(),
     Decision("hold", until=at(3, 9))),
    ("daily keyword in silent quiet hours: its digest without sound", alert("daily", at(3, 1)),
     replace(CHAT, quiet_start=7, quiet_end=9), at(3, 8), AlertLoad(),
     Decision("fold", silent=True, digest=True)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("message", "chat", "now", "load", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decision_at_the_row_s_pace(message, chat, now, load, expected):
    decision = decide(message, chat, now, default_timezone="UTC", alerts_per_hour=CAP, load=load)
    assert decision == expected


def test_a_row_goes_at_its_own_pace_or_the_chat_s():
    assert pace_of_row(alert("hourly"), DAILY) == "hourly"
    assert pace_of_row(alert(None), DAILY) == "daily"
    prefs = CHAT.delivery("UTC")
    assert goes_now(alert("instant"), CHAT, NOON, prefs)
    assert goes_now(alert("hourly", at(3, 11, 50)), CHAT, NOON, prefs)  # its hour has come
    assert not goes_now(alert("daily", at(3, 11, 50)), CHAT, NOON, prefs)
    assert goes_now(alert("daily", at(2, 20)), CHAT, at(3, 8), prefs)


def ways(keyword: str, **own: Any) -> Subscription:
    return Subscription(1, 5, keyword, keyword, **own)


def test_the_alert_goes_at_the_fastest_pace_of_the_keywords_that_alert():
    gold, rabat = ways("الذهب", pace="daily"), ways("الرباط", pace="hourly")
    assert alerting(["الذهب"], [gold], "instant", {}) == (["الذهب"], "daily")
    assert alerting(["الذهب", "الرباط"], [gold, rabat], "instant", {}) == (
        ["الذهب", "الرباط"],
        "hourly",
    )
    # A keyword without a pace of its own goes at the chat's: the alert is simply the chat's.
    assert alerting(["الذهب", "المغرب"], [gold, None], "instant", {}) == (
        ["الذهب", "المغرب"],
        None,
    )
    assert alerting(["الذهب"], [ways("الذهب", pace="daily")], "daily", {}) == (["الذهب"], None)


def test_a_big_stories_keyword_alerts_once_its_outlets_reached_its_threshold():
    big = ways("ترامب", min_outlets=3, window_hours=6)
    assert alerting(["ترامب"], [big], "instant", {6: 2}) == ([], None)
    assert alerting(["ترامب"], [big], "instant", {6: 3}) == (["ترامب"], None)
    assert alerting(["ترامب"], [big], "instant", {12: 5}) == ([], None)  # another window
    daily_big = replace(big, pace="daily")
    assert alerting(["ترامب", "غزة"], [daily_big, None], "instant", {6: 1}) == (["غزة"], None)
    assert alerting(["ترامب"], [daily_big], "instant", {6: 4}) == (["ترامب"], "daily")


def pace_of(db: Database, row_id: int) -> tuple[str | None, float]:
    return db.execute("SELECT pace, not_before FROM outbox WHERE id = ?", (row_id,)).fetchone()


def test_a_pending_alert_a_faster_keyword_reaches_is_sped_up_never_slowed(db):
    chats.touch_chat(db, 5, type="private", title="", language="ar", now=1)
    article_id, story_id = add_site_article(db, 1)
    first = {"story_id": story_id, "article_id": article_id, "now": 1}
    assert outbox.queue_alert(db, 5, keywords=["الذهب"], pace="daily", **first)
    (row_id,) = [row[0] for row in db.execute("SELECT id FROM outbox")]
    outbox.mark_retry(db, row_id, not_before=NOON, error=None, count_attempt=False)  # held
    assert not outbox.queue_alert(db, 5, keywords=["الرباط"], pace="daily", **first)
    assert pace_of(db, row_id) == ("daily", NOON)  # as slow: left as it was
    assert not outbox.queue_alert(db, 5, keywords=["الرباط"], pace="hourly", **first)
    assert pace_of(db, row_id) == ("hourly", 0)  # woken, to be decided again
    assert not outbox.queue_alert(db, 5, keywords=["الجزائر"], pace="daily", **first)
    assert pace_of(db, row_id) == ("hourly", 0)
    assert not outbox.queue_alert(db, 5, keywords=["المغرب"], **first)  # the chat's: instant
    assert pace_of(db, row_id) == (None, 0)
    row = outbox.claim(db, [row_id], now=2)[0]
    assert (row.keywords, row.pace) == (("الذهب", "الرباط", "الجزائر", "المغرب"), None)


def test_alerts_without_a_pace_of_their_own_are_queued_as_before(db):
    for chat_id in (5, 6, 7, 8):
        chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
    article_id, story_id = add_site_article(db, 1)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    outbox.queue_alerts(
        db, {5: ["الذهب"], 6: ["الذهب"]}, story_id=story_id, article_id=article_id, now=1,
        new_story=True,
    )  # fmt: skip
    db.conn.set_trace_callback(None)
    assert not any("pace" in sql for sql in statements)
    outbox.queue_alerts(
        db, {7: ["الذهب"], 8: ["الذهب"]}, story_id=story_id, article_id=article_id, now=1,
        new_story=True, paces={8: "daily"},
    )  # fmt: skip
    paces = db.execute("SELECT chat_id, pace FROM outbox ORDER BY chat_id").fetchall()
    assert paces == [(5, None), (6, None), (7, None), (8, "daily")]


class Telegram:
    """Stands in for the Bot API: records each message."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
        self.sent.append((text, kwargs))
        return type("Sent", (), {"message_id": len(self.sent)})()


async def test_an_hourly_digest_leaves_a_daily_keyword_s_story_for_its_own_digest(db):
    clock = FakeClock(at(3, 12))
    chats.touch_chat(db, 5, type="supergroup", title="", language="ar", now=1)
    chats.add_subscription(db, 5, "المغرب", "مغرب", now=1, thread_id=9, topic="الأخبار")
    queued = []
    for number, (pace, created) in enumerate(
        [("hourly", at(3, 11, 30)), ("daily", at(3, 11, 45)), ("hourly", at(3, 11, 50))]
    ):
        article_id, story_id = add_site_article(db, number)
        outbox.queue_alert(
            db, 5, story_id=story_id, article_id=article_id, keywords=["المغرب"],
            now=created, pace=pace,  # type: ignore[arg-type]
        )  # fmt: skip
        queued.append(article_id)
    bot = Telegram()
    sending = SendSettings(overall_per_second=1000, private_gap=0, group_gap=0)
    sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep, sending=sending)
    await sender.drain()
    ((text, sent),) = bot.sent
    assert text.startswith(CATALOG.text("ar", "digest_header", count=2))
    assert re.findall(r'">([^<]*)</a>', text) == ["خبر رقم 0", "خبر رقم 2"]
    assert sent["message_thread_id"] == 9  # forum topics keep working
    held = db.execute("SELECT pace, not_before FROM outbox WHERE status = 'pending'").fetchall()
    assert held == [("daily", at(4, 8))]
