"""A picture of each keyword (issue #31): its stories per day over the last two weeks and the
days a surge notice was given, for the Mini App's chart.

Days are the chat's days: midnight to midnight in its time zone (its /settings choice, else
DEFAULT_TIMEZONE), the zone its daily digest and quiet hours already keep. An hour of
keyword_hours counts on the day its first minute falls in (a zone half an hour off UTC puts the
hour across midnight on the earlier day)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.delivery_time import zone
from core.models import Chat, Subscription
from core.surge import HOUR, hour_of
from service.base import Backend
from storage import chats as chat_store
from storage.keyword_hours import stories_by_hour, surge_times

DAYS = 14


@dataclass(frozen=True)
class KeywordHistory:
    """One keyword's days, oldest first: stories on each, and which had a surge notice."""

    subscription: Subscription
    counts: tuple[int, ...]
    surge_days: tuple[int, ...]  # indices into counts

    @property
    def total(self) -> int:
        """Stories in all the days."""
        return sum(self.counts)


@dataclass(frozen=True)
class History:
    """The chat's keywords over the same days (today last, so far), in its time zone."""

    days: tuple[date, ...]
    timezone: str
    keywords: tuple[KeywordHistory, ...]


def day_starts(now: float, timezone: str, days: int = DAYS) -> list[float]:
    """The local midnights opening each of the last `days` days (today last), and tomorrow's."""
    tz = zone(timezone)
    today = datetime.fromtimestamp(now, tz).date()
    first = today - timedelta(days=days - 1)
    return [
        datetime.combine(first + timedelta(days=i), time(0), tzinfo=tz).timestamp()
        for i in range(days + 1)
    ]


def day_index(starts: list[float], at: float) -> int | None:
    """Which day (index into starts) a moment falls on; None when outside them."""
    index = bisect_right(starts, at) - 1
    return index if 0 <= index < len(starts) - 1 else None


def per_day(starts: list[float], hours: dict[int, int]) -> tuple[int, ...]:
    """Stories per hour summed into the days that `starts` open."""
    counts = [0] * (len(starts) - 1)
    for hour, stories in hours.items():
        index = day_index(starts, hour * HOUR)
        if index is not None:
            counts[index] += stories
    return tuple(counts)


def surge_days(starts: list[float], times: Iterable[float]) -> tuple[int, ...]:
    """The days (indices) on which a surge notice was given, each once."""
    found = {day_index(starts, at) for at in times}
    return tuple(sorted(index for index in found if index is not None))


def history(backend: Backend, chat: Chat, days: int = DAYS) -> History:
    """Every keyword of the chat over its last `days` days."""
    timezone = chat.timezone or backend.settings.default_timezone
    starts = day_starts(backend.clock(), timezone, days)
    subscriptions = chat_store.chat_subscriptions(backend.db, chat.id)
    hours = stories_by_hour(backend.db, (s.key for s in subscriptions), hour_of(starts[0]))
    surges = surge_times(backend.db, (s.id for s in subscriptions), starts[0])
    first = datetime.fromtimestamp(starts[0], zone(timezone)).date()
    return History(
        days=tuple(first + timedelta(days=i) for i in range(days)),
        timezone=timezone,
        keywords=tuple(
            KeywordHistory(
                s, per_day(starts, hours.get(s.key, {})), surge_days(starts, surges.get(s.id, ()))
            )
            for s in subscriptions
        ),
    )
