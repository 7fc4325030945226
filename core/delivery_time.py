"""When an alert may go out: digests, quiet hours, time zones. Pure: callers pass `now`."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DeliveryMode = Literal["instant", "hourly", "daily"]
QuietMode = Literal["silent", "hold"]  # quiet hours: sent without sound, or held back

INSTANT: Final = "instant"
HOURLY: Final = "hourly"
DAILY: Final = "daily"
MODES: tuple[DeliveryMode, ...] = (INSTANT, HOURLY, DAILY)
QUIET_SILENT: Final = "silent"
QUIET_HOLD: Final = "hold"


@dataclass(frozen=True, slots=True)
class DeliveryPrefs:
    """A chat's delivery choices."""

    mode: DeliveryMode = INSTANT
    digest_hour: int = 8  # local hour of the daily digest
    timezone: str = "UTC"
    quiet_start: int | None = None  # local hour quiet hours begin, e.g. 23
    quiet_end: int | None = None  # local hour they end, e.g. 7
    quiet_mode: QuietMode = QUIET_SILENT


# What ZoneInfo raises for a name it has no zone for (OSError: "Asia", a name too long).
_NO_ZONE = (ZoneInfoNotFoundError, ValueError, OSError)


def zone(name: str) -> ZoneInfo:
    """A time zone by IANA name; UTC for an unknown name."""
    try:
        return ZoneInfo(name)
    except _NO_ZONE:
        return ZoneInfo("UTC")


def is_valid_timezone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except _NO_ZONE:
        return False
    return True


@functools.cache
def all_timezones() -> list[str]:
    """Every IANA time zone this machine knows, for a picker: areas first, legacy names out."""
    names = {
        n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/"))
    }
    return sorted(names | {"UTC"})


def _local(now: float, prefs: DeliveryPrefs) -> datetime:
    return datetime.fromtimestamp(now, UTC).astimezone(zone(prefs.timezone))


def in_quiet_hours(prefs: DeliveryPrefs, now: float) -> bool:
    """Whether `now` falls inside the chat's quiet hours (which may span midnight)."""
    if prefs.quiet_start is None or prefs.quiet_end is None or prefs.quiet_start == prefs.quiet_end:
        return False
    hour = _local(now, prefs).hour
    if prefs.quiet_start < prefs.quiet_end:
        return prefs.quiet_start <= hour < prefs.quiet_end
    return hour >= prefs.quiet_start or hour < prefs.quiet_end


def _next_local_hour(local: datetime, hour: int) -> datetime:
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
        candidate = candidate.replace(hour=hour)  # keep the wall-clock hour across DST
    return candidate


def quiet_end_at(prefs: DeliveryPrefs, now: float) -> float:
    """When the current quiet hours end (only meaningful inside them)."""
    assert prefs.quiet_end is not None
    return _next_local_hour(_local(now, prefs), prefs.quiet_end).timestamp()


def digest_due_at(prefs: DeliveryPrefs, now: float) -> float:
    """When an alert queued `now` goes out: now, at the next full hour, or at the digest hour."""
    if prefs.mode == HOURLY:
        local = _local(now, prefs)
        return (local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).timestamp()
    if prefs.mode == DAILY:
        return _next_local_hour(_local(now, prefs), prefs.digest_hour).timestamp()
    return now


def hold_until(prefs: DeliveryPrefs, now: float) -> float | None:
    """When a message due now should wait for (quiet hours in hold mode), or None to send now."""
    if prefs.quiet_mode == QUIET_HOLD and in_quiet_hours(prefs, now):
        return quiet_end_at(prefs, now)
    return None


def send_silently(prefs: DeliveryPrefs, now: float) -> bool:
    """Quiet hours in silent mode: deliver without sound."""
    return prefs.quiet_mode == QUIET_SILENT and in_quiet_hours(prefs, now)
