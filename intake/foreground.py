"""People first: while the bot answers someone, the poll cycle takes no new turn at the database.

Storing a cycle's articles runs on the event loop, one bounded turn at a time. An answer to
/add awaits a few times (the database, Telegram); without this, each of those awaits could let
one more turn run first, and the answer would wait for all of them. Here a turn already begun
finishes, then intake waits until no update is being handled. The wait is bounded per busy
spell, not per turn: once someone has been answered without a pause for `longest_wait` seconds,
turns go on until the bot is idle again, so a steady stream of updates slows the cycle but never
stops it (turns wait one after another: a bound each would let one turn through a second).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator

LONGEST_WAIT_SECONDS = 1.0


class Foreground:
    """Counts the updates being handled; intake waits for none before each turn."""

    def __init__(
        self,
        longest_wait: float = LONGEST_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.longest_wait = longest_wait
        self.clock = clock
        self._serving = 0
        self._busy_since = 0.0  # when the bot last went from idle to answering someone
        self._idle = asyncio.Event()
        self._idle.set()
        self.waits = 0  # turns that waited for someone to be answered

    @property
    def serving(self) -> int:
        """Updates being handled now."""
        return self._serving

    @contextlib.contextmanager
    def handling(self) -> Iterator[None]:
        """Around the handling of one update (or one Mini App request)."""
        if not self._serving:
            self._busy_since = self.clock()
        self._serving += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._serving -= 1
            if not self._serving:
                self._idle.set()

    async def wait_turn(self) -> None:
        """Return once nobody is being answered, or once the bot has been answering without a
        pause for `longest_wait` seconds."""
        if not self._serving:
            return
        left = self._busy_since + self.longest_wait - self.clock()
        if left <= 0:
            return
        self.waits += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), left)
