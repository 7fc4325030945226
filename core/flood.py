"""The flood guard's arithmetic: a token bucket per (chat, user), in bounded memory.

Each sender in each chat has a bucket of `burst` tokens that refills by one every
`refill_seconds`; a command costs one token, an expensive one (/test, /addfeed, the 🔍 button)
more. A sender whose bucket runs dry is warned once, then ignored until it has been quiet long
enough for the bucket to fill again: only then does a new burst (and a new warning) begin. A
full bucket is the same as no bucket, so a bucket idle that long is forgotten.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from enum import Enum

EXPENSIVE_COMMANDS = frozenset({"test", "addfeed"})
EXPENSIVE_BUTTONS = ("test:",)  # callback data prefixes


@dataclass(frozen=True)
class FloodPolicy:
    """How much one sender may send: `burst` at once, then one command every `refill_seconds`."""

    burst: float = 20.0
    refill_seconds: float = 1.0  # what Telegram lets the bot answer in a private chat
    expensive_cost: float = 4.0
    max_buckets: int = 100_000  # beyond this, the longest idle buckets go first

    @property
    def full_after(self) -> float:
        """Seconds of quiet after which any bucket is full again."""
        return self.burst * self.refill_seconds


class Verdict(Enum):
    """What to do with one command."""

    ALLOW = "allow"
    WARN = "warn"  # drop it, and say so (the first drop of a burst)
    DROP = "drop"  # drop it silently


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


def command_cost(policy: FloodPolicy, text: str | None, callback_data: str | None) -> float:
    """What one update costs: an expensive command or button more than anything else."""
    if callback_data is not None:
        return policy.expensive_cost if callback_data.startswith(EXPENSIVE_BUTTONS) else 1.0
    if text and text.startswith("/"):
        words = text[1:].split(maxsplit=1)
        if words and words[0].split("@", 1)[0].lower() in EXPENSIVE_COMMANDS:
            return policy.expensive_cost
    return 1.0


class FloodGuard:
    """Token buckets by key (the caller passes `now`); least recently used first in memory."""

    def __init__(self, policy: FloodPolicy | None = None) -> None:
        self.policy = policy or FloodPolicy()
        self._buckets: OrderedDict[Hashable, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def check(self, key: Hashable, now: float, cost: float = 1.0) -> Verdict:
        """Take `cost` tokens from the key's bucket, or say why not."""
        policy = self.policy
        self.forget_idle(now)
        bucket = self._buckets.pop(key, None) or _Bucket(policy.burst, now)
        elapsed = max(now - bucket.updated, 0.0)
        bucket.tokens = min(policy.burst, bucket.tokens + elapsed / policy.refill_seconds)
        bucket.updated = now
        if bucket.tokens >= policy.burst:
            bucket.warned = False  # quiet long enough: this is a new burst
        self._buckets[key] = bucket  # now the most recently used
        while len(self._buckets) > policy.max_buckets:
            self._buckets.popitem(last=False)
        if bucket.tokens >= min(cost, policy.burst):
            bucket.tokens -= min(cost, policy.burst)
            return Verdict.ALLOW
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.WARN

    def forget_idle(self, now: float) -> None:
        """Drop the buckets that have refilled completely (they hold nothing a new one lacks)."""
        horizon = now - self.policy.full_after
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if oldest.updated > horizon:
                break
            self._buckets.popitem(last=False)
