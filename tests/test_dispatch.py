"""core.dispatch as a table: row, chat, load and the clock in; drop, hold, send or fold out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from core.dispatch import AlertLoad, Decision, decide
from core.models import Chat, OutboxRow

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC).timestamp()  # a Thursday, 12:00 UTC
HOUR = 3600.0
CAP = 20
CHAT = Chat(id=5)


def row(kind: str = "alert", created_at: float = NOON) -> OutboxRow:
    return OutboxRow(1, 5, kind, 7 if kind == "alert" else None, None, (), 0, created_at)


def at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 12, 3, hour, minute, tzinfo=UTC).timestamp()


CASES = [
    # (what, row, chat, now, load, broadcast cancelled, decision)
    (
        "unknown chat",
        row(),
        None,
        NOON,
        AlertLoad(),
        False,
        Decision("drop", status="undeliverable", reason="chat inactive"),
    ),
    (
        "inactive chat",
        row(),
        replace(CHAT, active=False),
        NOON,
        AlertLoad(),
        False,
        Decision("drop", status="undeliverable", reason="chat inactive"),
    ),
    (
        "banned chat, even a notice",
        row("notice"),
        replace(CHAT, banned=True),
        NOON,
        AlertLoad(),
        False,
        Decision("drop", status="cancelled", reason="chat banned or paused"),
    ),
    (
        "paused chat: no alert",
        row(),
        replace(CHAT, paused=True),
        NOON,
        AlertLoad(),
        False,
        Decision("drop", status="cancelled", reason="chat banned or paused"),
    ),
    (
        "paused chat: notices still go",
        row("broadcast"),
        replace(CHAT, paused=True),
        NOON,
        AlertLoad(),
        False,
        Decision("send"),
    ),
    (
        "cancelled broadcast",
        row("broadcast"),
        CHAT,
        NOON,
        AlertLoad(),
        True,
        Decision("drop", status="cancelled", reason="broadcast cancelled"),
    ),
    ("plain alert", row(), CHAT, NOON, AlertLoad(3, NOON - HOUR / 2, 1), False, Decision("send")),
    (
        "silent chat",
        row(),
        replace(CHAT, silent=True),
        NOON,
        AlertLoad(),
        False,
        Decision("send", silent=True),
    ),
    (
        "quiet hours, silent mode: sent without sound",
        row(),
        replace(CHAT, quiet_start=22, quiet_end=7),
        at(23),
        AlertLoad(),
        False,
        Decision("send", silent=True),
    ),
    (
        "quiet hours, hold mode: held to their end",
        row(),
        replace(CHAT, quiet_start=22, quiet_end=7, quiet_mode="hold"),
        at(23),
        AlertLoad(),
        False,
        Decision("hold", until=datetime(2026, 12, 4, 7, tzinfo=UTC).timestamp()),
    ),
    (
        "cap reached: held until the oldest is an hour old",
        row(),
        CHAT,
        NOON,
        AlertLoad(CAP, NOON - 1000, 5),
        False,
        Decision("hold", until=NOON - 1000 + HOUR + 1),
    ),
    (
        "last message of the hour with more waiting: fold",
        row(),
        CHAT,
        NOON,
        AlertLoad(CAP - 1, NOON - 1000, 4),
        False,
        Decision("fold"),
    ),
    (
        "last message of the hour, nothing else waiting: send",
        row(),
        CHAT,
        NOON,
        AlertLoad(CAP - 1, NOON - 1000, 1),
        False,
        Decision("send"),
    ),
    (
        "hourly digest, before the hour: held",
        row(created_at=at(12, 10)),
        replace(CHAT, delivery_mode="hourly"),
        at(12, 30),
        AlertLoad(),
        False,
        Decision("hold", until=at(13)),
    ),
    (
        "hourly digest, past the hour: fold as a digest",
        row(created_at=at(12, 10)),
        replace(CHAT, delivery_mode="hourly"),
        at(13, 0),
        AlertLoad(),
        False,
        Decision("fold", digest=True),
    ),
    (
        "daily digest at 08:00 Casablanca",
        row(created_at=at(9)),
        replace(CHAT, delivery_mode="daily", timezone="Africa/Casablanca"),
        at(10),
        AlertLoad(),
        False,
        Decision("hold", until=datetime(2026, 12, 4, 7, tzinfo=UTC).timestamp()),
    ),
]


@pytest.mark.parametrize(
    ("message", "chat", "now", "load", "cancelled", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decision(message, chat, now, load, cancelled, expected):
    decision = decide(
        message,
        chat,
        now,
        default_timezone="UTC",
        alerts_per_hour=CAP,
        load=load,
        broadcast_cancelled=cancelled,
    )
    assert decision == expected


@pytest.mark.parametrize("mode", ["hourly", "daily"])
def test_a_notice_about_a_keyword_goes_at_once_whatever_the_chats_digest(mode):
    """A surge notice carries its keyword (for its forum topic) but is no alert: a digest chat
    gets it now, not at its digest hour."""
    notice = replace(row("notice"), keywords=("ترامب",), text="📈 …")
    chat = replace(CHAT, delivery_mode=mode)
    decided = decide(notice, chat, NOON, default_timezone="UTC", alerts_per_hour=CAP)
    assert decided == Decision("send")
