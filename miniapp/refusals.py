"""Refused Mini App sign-ins in the log: at most one line a minute per client address.

Anyone can call the API without initData, so a line per refusal would let anyone fill the log;
/metrics counts every refusal instead, and the log keeps one line a minute per address, the
next of which says how many were left out.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

LOG_EVERY_SECONDS = 60.0
MAX_ADDRESSES = 10_000  # addresses remembered; beyond this the longest unlogged go first


@dataclass
class _Quiet:
    logged_at: float
    suppressed: int = 0


class RefusalLog:
    """Which refusals to log, by client address (the caller passes `now`)."""

    def __init__(
        self, every: float = LOG_EVERY_SECONDS, max_addresses: int = MAX_ADDRESSES
    ) -> None:
        self.every = every
        self.max_addresses = max_addresses
        self._addresses: OrderedDict[str, _Quiet] = OrderedDict()  # oldest line first

    def __len__(self) -> int:
        return len(self._addresses)

    def admit(self, address: str, now: float) -> int | None:
        """None: leave this refusal out of the log; else log it, saying how many were left out."""
        quiet = self._addresses.get(address)
        if quiet is not None and now - quiet.logged_at < self.every:
            quiet.suppressed += 1
            return None
        self._addresses.pop(address, None)
        self._addresses[address] = _Quiet(now)
        while len(self._addresses) > self.max_addresses:
            self._addresses.popitem(last=False)
        return quiet.suppressed if quiet is not None else 0
