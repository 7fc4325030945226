"""When to check a feed next: as often as it publishes, never sooner than its server asks,
less and less often while it fails, and never all feeds at the same instant. Pure: the caller
passes `now` and a random generator."""

from __future__ import annotations

import random

DAY_SECONDS = 86_400.0
QUIET_FACTOR = 6  # a quiet feed is checked up to 6x less often than the poll interval...
QUIET_CAP_SECONDS = 3_600.0  # ...but still hourly (unless the poll interval itself is longer)
CHECKS_PER_ITEM = 4  # checks per average gap between items: ~1/8 of the gap as extra delay
MIN_RATE_SPAN_DAYS = 1.0  # a burst of items in a few minutes is not "thousands per day"
CACHE_HINT_CAP_SECONDS = 3_600.0  # max-age / Expires / <ttl> are honoured up to an hour
RETRY_AFTER_CAP_SECONDS = 6 * 3_600.0  # an explicit Retry-After, up to six hours
MAX_BACKOFF_SECONDS = 6 * 3_600.0
JITTER_FRACTION = 0.1  # up to 10% later, so feeds added together drift apart
MAX_CONSECUTIVE_FAILURES = 10  # ~1.5 days of failures at a 5-minute interval


def quiet_interval(base_interval: float, cap: float = QUIET_CAP_SECONDS) -> float:
    """The longest interval a healthy feed gets: 6x the base, at most `cap` (an hour unless the
    operator says otherwise), never < base."""
    return max(base_interval, min(QUIET_FACTOR * base_interval, cap))


def items_per_day(count: int, oldest: float | None, now: float) -> float:
    """Publishing rate from `count` items dated from `oldest` to now (a span of at least a day)."""
    if count <= 0 or oldest is None:
        return 0.0
    span_days = max((now - oldest) / DAY_SECONDS, MIN_RATE_SPAN_DAYS)
    return count / span_days


def adaptive_interval(
    items_per_day: float | None, base_interval: float, quiet_cap: float = QUIET_CAP_SECONDS
) -> float:
    """Check about CHECKS_PER_ITEM times per average gap between items, within the bounds.

    None (rate unknown) keeps the base interval; 0 (nothing published lately) the quiet one.
    """
    if items_per_day is None:
        return base_interval
    longest = quiet_interval(base_interval, quiet_cap)
    if items_per_day <= 0:
        return longest
    gap = DAY_SECONDS / items_per_day
    return min(max(gap / CHECKS_PER_ITEM, base_interval), longest)


def server_min_seconds(
    *,
    max_age: float | None = None,
    ttl_minutes: int | None = None,
    retry_after: float | None = None,
) -> float:
    """The earliest next check the server asked for, in seconds from now, with sane caps.

    Cache freshness (Cache-Control max-age, Expires, RSS <ttl>) is a hint meant for caches and
    is often set far too long for news: it counts up to an hour. Retry-After on 429/503 is an
    explicit request: it counts up to six hours.
    """
    cache = max(max_age or 0.0, (ttl_minutes or 0) * 60.0)
    return max(min(cache, CACHE_HINT_CAP_SECONDS), min(retry_after or 0.0, RETRY_AFTER_CAP_SECONDS))


def backoff_seconds(error_count: int, base_interval: float) -> float:
    """Doubling delay after `error_count` consecutive failures (1 -> 2x base), capped."""
    if error_count <= 0:
        return base_interval
    doubled = base_interval * 2 ** min(error_count, 30)
    return max(base_interval, min(doubled, MAX_BACKOFF_SECONDS))


def next_check(
    now: float,
    *,
    base_interval: float,
    items_per_day: float | None,
    error_count: int,
    server_min_seconds: float,
    rng: random.Random,
    jitter: float = JITTER_FRACTION,
    quiet_cap: float = QUIET_CAP_SECONDS,
) -> float:
    """The time of the next check: adaptive when healthy, backed off when failing.

    Never earlier than the server asked; jitter only ever delays.
    """
    if error_count > 0:
        interval = backoff_seconds(error_count, base_interval)
    else:
        interval = adaptive_interval(items_per_day, base_interval, quiet_cap)
    interval = max(interval, server_min_seconds)
    return now + interval * (1.0 + rng.uniform(0.0, jitter))


def should_disable(error_count: int, limit: int = MAX_CONSECUTIVE_FAILURES) -> bool:
    """True once a feed has failed `limit` times in a row."""
    return error_count >= limit
