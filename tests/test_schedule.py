"""The scheduling policy, table by table: adaptive intervals, server hints, backoff, jitter."""

import random

import pytest

from core.schedule import (
    MAX_BACKOFF_SECONDS,
    MAX_CONSECUTIVE_FAILURES,
    adaptive_interval,
    backoff_seconds,
    items_per_day,
    next_check,
    quiet_interval,
    server_min_seconds,
    should_disable,
)

DAY = 86_400.0
NOW = 1_800_000_000.0


class NoJitter(random.Random):
    """A generator whose uniform() always gives the low end: schedules without jitter."""

    def uniform(self, a: float, b: float) -> float:
        return a


class FullJitter(random.Random):
    """A generator whose uniform() always gives the high end: the latest a check may be."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        (300, 1800),  # 6x the poll interval
        (60, 360),
        (1, 6),
        (900, 3600),  # capped at an hour...
        (7200, 7200),  # ...unless the poll interval itself is longer
        (0, 0),  # the demo polls every tick
    ],
)
def test_quiet_interval(base, expected):
    assert quiet_interval(base) == expected


@pytest.mark.parametrize(
    ("count", "oldest_days_ago", "expected"),
    [
        (0, None, 0.0),
        (30, 2.0, 15.0),  # a feed that keeps its last 30 items, two days of them
        (105, 7.0, 15.0),  # the same feed a week later
        (3, 0.01, 3.0),  # a burst of three: counted over at least a day
        (7, 7.0, 1.0),
    ],
)
def test_items_per_day(count, oldest_days_ago, expected):
    oldest = None if oldest_days_ago is None else NOW - oldest_days_ago * DAY
    assert items_per_day(count, oldest, NOW) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("rate", "base", "expected"),
    [
        (None, 300, 300),  # unknown: the poll interval
        (0.0, 300, 1800),  # nothing published lately: the quiet interval
        (500.0, 300, 300),  # busier than the poll interval: never below it
        (72.0, 300, 300),  # an item every 20 minutes: check every 5
        (24.0, 300, 900),  # hourly: every 15 minutes
        (10.0, 300, 1800),  # every 2.4 hours: capped at the quiet interval
        (1.0, 300, 1800),
        (24.0, 1, 6),  # tests poll every second: quiet is 6 s
    ],
)
def test_adaptive_interval(rate, base, expected):
    assert adaptive_interval(rate, base) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("max_age", "ttl", "retry_after", "expected"),
    [
        (None, None, None, 0.0),
        (0.0, None, None, 0.0),  # no-cache
        (600.0, None, None, 600.0),
        (None, 15, None, 900.0),  # <ttl>15</ttl>
        (600.0, 15, None, 900.0),  # the longer of the two
        (86_400.0, None, None, 3600.0),  # a day of max-age on a news feed: an hour at most
        (None, 1440, None, 3600.0),
        (None, None, 120.0, 120.0),  # Retry-After
        (None, None, 86_400.0, 6 * 3600.0),  # explicit Retry-After: up to six hours
        (600.0, None, 7200.0, 7200.0),
    ],
)
def test_server_min_seconds(max_age, ttl, retry_after, expected):
    assert server_min_seconds(max_age=max_age, ttl_minutes=ttl, retry_after=retry_after) == expected


@pytest.mark.parametrize(
    ("errors", "base", "expected"),
    [
        (0, 300, 300),
        (1, 300, 600),
        (2, 300, 1200),
        (3, 300, 2400),
        (6, 300, 19_200),
        (7, 300, MAX_BACKOFF_SECONDS),  # 38,400 s capped at six hours
        (1_000, 300, MAX_BACKOFF_SECONDS),
        (1, 1, 2),
        (3, 1, 8),
        (1, 86_400, 86_400),  # never shorter than the poll interval
    ],
)
def test_backoff_doubles_up_to_a_cap(errors, base, expected):
    assert backoff_seconds(errors, base) == expected


@pytest.mark.parametrize(
    ("rate", "errors", "server", "expected_interval"),
    [
        (None, 0, 0.0, 300),
        (24.0, 0, 0.0, 900),
        (24.0, 0, 3600.0, 3600),  # the server asks for longer than we would wait
        (500.0, 0, 60.0, 300),  # a shorter server hint never brings a check forward
        (500.0, 2, 0.0, 1200),  # failing: backoff, whatever the rate
        (500.0, 1, 7200.0, 7200),  # Retry-After beyond the backoff
    ],
)
def test_next_check_without_jitter(rate, errors, server, expected_interval):
    when = next_check(
        NOW,
        base_interval=300,
        items_per_day=rate,
        error_count=errors,
        server_min_seconds=server,
        rng=NoJitter(),
    )
    assert when == pytest.approx(NOW + expected_interval)


def test_jitter_only_delays_and_spreads_feeds_apart():
    rng = random.Random(5)
    times = [
        next_check(
            NOW,
            base_interval=300,
            items_per_day=None,
            error_count=0,
            server_min_seconds=600,
            rng=rng,
        )
        for _ in range(200)
    ]
    assert all(NOW + 600 <= t <= NOW + 660 for t in times)  # never before the server's 600 s
    assert len({round(t) for t in times}) > 40  # not all at once
    latest = next_check(
        NOW,
        base_interval=300,
        items_per_day=None,
        error_count=0,
        server_min_seconds=0,
        rng=FullJitter(),
    )
    assert latest == pytest.approx(NOW + 330)


def test_same_seed_same_schedule():
    def schedule(seed):
        rng = random.Random(seed)
        return [
            next_check(
                NOW,
                base_interval=300,
                items_per_day=10,
                error_count=0,
                server_min_seconds=0,
                rng=rng,
            )
            for _ in range(5)
        ]

    assert schedule(1) == schedule(1)
    assert schedule(1) != schedule(2)


@pytest.mark.parametrize(
    ("errors", "limit", "expected"),
    [
        (0, 10, False),
        (9, 10, False),
        (10, 10, True),
        (11, 10, True),
        (3, 3, True),
        (MAX_CONSECUTIVE_FAILURES - 1, MAX_CONSECUTIVE_FAILURES, False),
    ],
)
def test_should_disable(errors, limit, expected):
    assert should_disable(errors, limit) is expected


def test_default_disable_limit_is_about_a_day_and_a_half_of_failures():
    total = sum(backoff_seconds(n, 300) for n in range(1, MAX_CONSECUTIVE_FAILURES))
    assert should_disable(MAX_CONSECUTIVE_FAILURES)
    assert 1 * DAY < total < 2 * DAY


@pytest.mark.parametrize(
    ("base", "cap", "expected"),
    [
        (300, 600, 600),  # the operator's cap, below 6x the poll interval
        (300, 7200, 1800),  # a higher cap leaves 6x the poll interval
        (1, 1, 1),  # the tests: every feed every second
        (900, 60, 900),  # never below the poll interval
    ],
)
def test_quiet_interval_under_the_operator_s_cap(base, cap, expected):
    assert quiet_interval(base, cap) == expected
    assert adaptive_interval(0.0, base, cap) == expected
