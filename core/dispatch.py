"""What to do with one owed message now: drop it, hold it, send it, or fold it with others.

An alert goes at its own pace when its keywords have one (issue #31: the row's `pace`), else
at the chat's delivery mode; quiet hours and the hourly cap are the chat's, whatever the pace.
Pure: the caller reads the chat, the row and the chat's recent alerts, and passes `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from core.delivery_time import (
    INSTANT,
    DeliveryMode,
    DeliveryPrefs,
    digest_due_at,
    hold_until,
    send_silently,
)
from core.models import Chat, OutboxRow, OutboxStatus

Action = Literal["drop", "hold", "send", "fold"]
HOUR = 3600.0


@dataclass(frozen=True)
class AlertLoad:
    """A chat's alerts lately: messages in the last hour (the oldest at `oldest_at`) and how
    many are owed now."""

    sent_last_hour: int = 0
    oldest_at: float | None = None
    pending: int = 1


@dataclass(frozen=True)
class Decision:
    """`drop` with an outbox `status` and `reason`; `hold` until `until`; `send` one message;
    `fold` several alerts into one (a `digest`, or the "more alerts" message past the cap)."""

    action: Action
    until: float = 0.0
    status: OutboxStatus = "failed"  # a drop: how the row is settled
    reason: str = ""
    silent: bool = False
    digest: bool = False


def decide(
    row: OutboxRow,
    chat: Chat | None,
    now: float,
    *,
    default_timezone: str,
    alerts_per_hour: int,
    load: AlertLoad = AlertLoad(),
    broadcast_cancelled: bool = False,
) -> Decision:
    """The decision for `row` in `chat` at `now` (module docstring)."""
    if chat is None or not chat.active:
        return Decision("drop", status="undeliverable", reason="chat inactive")
    if chat.banned or (row.kind == "alert" and chat.paused):
        return Decision("drop", status="cancelled", reason="chat banned or paused")
    if row.kind == "broadcast" and broadcast_cancelled:
        return Decision("drop", status="cancelled", reason="broadcast cancelled")
    prefs = chat.delivery(default_timezone)
    held = hold_until(prefs, now)
    if held is not None:  # quiet hours that hold messages back
        return Decision("hold", until=held)
    silent = chat.silent or send_silently(prefs, now)
    if row.kind != "alert":
        return Decision("send", silent=silent)
    pace = pace_of_row(row, chat)
    if pace != INSTANT:
        due = digest_due_at(replace(prefs, mode=pace), row.created_at)
        if due > now:  # a digest pace: the alert waits for the next full hour or digest hour
            return Decision("hold", until=due)
        return Decision("fold", silent=silent, digest=True)
    if load.sent_last_hour >= alerts_per_hour:
        # A second past the hour: at the hour itself the oldest message still counts.
        return Decision("hold", until=(load.oldest_at or now) + HOUR + 1)
    if load.sent_last_hour >= alerts_per_hour - 1 and load.pending > 1:
        return Decision("fold", silent=silent)  # the last message this hour carries the rest
    return Decision("send", silent=silent)


def pace_of_row(row: OutboxRow, chat: Chat) -> DeliveryMode:
    """The pace an alert goes at: its own (its keywords' fastest, set when it was queued), or
    the chat's delivery mode."""
    return row.pace or chat.delivery_mode


def goes_now(row: OutboxRow, chat: Chat, now: float, prefs: DeliveryPrefs) -> bool:
    """Whether an alert folded into another's message is due by its own pace: sent at once, or
    its digest's hour has come (a daily keyword's story never rides in an hourly digest)."""
    pace = pace_of_row(row, chat)
    return pace == INSTANT or digest_due_at(replace(prefs, mode=pace), row.created_at) <= now


def topic_of(row: OutboxRow, threads: dict[str, int]) -> int | None:
    """The forum topic an alert (or a notice about keywords: a surge) goes to: that of the
    first of its keywords added in one (one story, one alert, however many topics its keywords
    were added in); None: General."""
    if row.kind not in ("alert", "notice"):
        return None
    return next((threads[keyword] for keyword in row.keywords if keyword in threads), None)
