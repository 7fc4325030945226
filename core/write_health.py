"""Whether the database takes writes: the poller and sender report, /healthz and /metrics read.

A refused write (disk full, a lock held elsewhere) starts an episode; the next write that goes
through ends it. `on_start(error, since)` and `on_end(error, since, now)` are called once each per
episode (the bot tells admins through them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

BACKOFF_FIRST_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0


def backoff(refusals: int) -> float:
    """How long to wait before trying again after `refusals` refused attempts in a row."""
    return min(BACKOFF_FIRST_SECONDS * 2 ** max(refusals - 1, 0), BACKOFF_MAX_SECONDS)


def _ignore_start(error: str, since: float) -> None:
    return None


def _ignore_end(error: str, since: float, now: float) -> None:
    return None


@dataclass
class WriteHealth:
    """The current episode of refused writes, if any, and how many writes were ever refused."""

    on_start: Callable[[str, float], None] = field(default=_ignore_start, repr=False)
    on_end: Callable[[str, float, float], None] = field(default=_ignore_end, repr=False)
    failing_since: float | None = None
    last_error: str | None = None
    refused: int = 0  # refused attempts, ever
    episodes: int = 0

    @property
    def failing(self) -> bool:
        """Whether the last attempt to write was refused."""
        return self.failing_since is not None

    def refusing(self) -> tuple[float, str] | None:
        """(since, the last error) while writes are refused, else None."""
        if self.failing_since is None:
            return None
        return self.failing_since, self.last_error or ""

    def failed(self, error: str, now: float) -> None:
        """A write was refused."""
        self.refused += 1
        self.last_error = error
        if self.failing_since is None:
            self.failing_since = now
            self.episodes += 1
            self.on_start(error, now)

    def succeeded(self, now: float) -> None:
        """A write went through: an episode of refusals, if any, is over."""
        since = self.failing_since
        if since is None:
            return
        self.failing_since = None
        self.on_end(self.last_error or "", since, now)
