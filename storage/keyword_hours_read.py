"""Reading each keyword's stories per hour and the surge notices given (issue #31), for the Mini
App's chart. Intake and the surge watch write these tables; this module only reads them.

An hour is the hour since the Unix epoch in UTC: `int(at // 3600)`."""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from storage.db import IDS_PER_QUERY

HOUR_SECONDS = 3600


def hour_of(at: float) -> int:
    """The hour a moment falls in, as keyword_hours counts it."""
    return int(at // HOUR_SECONDS)


def stories_by_hour(
    db: Database, keys: Iterable[str], since_hour: int
) -> dict[str, dict[int, int]]:
    """Stories per hour of some keys (normalized keywords) from `since_hour` on; a key without
    stories is left out."""
    wanted = sorted(set(keys))
    counts: dict[str, dict[int, int]] = {}
    for start in range(0, len(wanted), IDS_PER_QUERY):
        batch = wanted[start : start + IDS_PER_QUERY]
        marks = ",".join("?" * len(batch))
        rows = db.execute(
            f"SELECT key, hour, stories FROM keyword_hours WHERE key IN ({marks}) AND hour >= ?",
            (*batch, since_hour),
        )
        for key, hour, stories in rows:
            counts.setdefault(key, {})[hour] = stories
    return counts


def surge_times(
    db: Database, subscription_ids: Iterable[int], since: float
) -> dict[int, list[float]]:
    """When each keyword's surge notices were given from `since` on, oldest first; a keyword
    without any is left out."""
    wanted = sorted(set(subscription_ids))
    times: dict[int, list[float]] = {}
    for start in range(0, len(wanted), IDS_PER_QUERY):
        batch = wanted[start : start + IDS_PER_QUERY]
        marks = ",".join("?" * len(batch))
        rows = db.execute(
            f"SELECT subscription_id, at FROM surges WHERE subscription_id IN ({marks})"
            " AND at >= ? ORDER BY at",
            (*batch, since),
        )
        for sub_id, at in rows:
            times.setdefault(sub_id, []).append(at)
    return times
