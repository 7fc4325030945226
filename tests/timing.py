"""Time in tests without timing anything: a fake clock with its own sleep, and hang guards.

    clock = FakeClock(START)
    window = SlidingWindow(10, clock, sleep=clock.sleep)
    async with clock.running():  # time jumps to each sleeper's deadline, earliest first
        await clock.sleep(window.ready_in())
    clock.advance(60)            # or moves by hand, waking the sleepers that are due

A hang guard fails a test that would otherwise wait forever. It says nothing about speed, so its
limit (HANG_SECONDS) is generous enough for a slow, shared machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import pytest

T = TypeVar("T")
HANG_SECONDS = 30.0


async def within(awaitable: Awaitable[T], what: str, seconds: float = HANG_SECONDS) -> T:
    """Await `awaitable`; fail the test, naming `what`, if it is still not done after `seconds`."""
    scope = asyncio.timeout(seconds)
    try:
        async with scope:
            return await awaitable
    except TimeoutError:
        if not scope.expired():
            raise
    pytest.fail(f"hung: {what} still not done after {seconds:g} s")


async def eventually(condition: Callable[[], T], what: str, seconds: float = HANG_SECONDS) -> T:
    """Poll condition() until it is truthy and return it; fail the test if it never is."""

    async def poll() -> T:
        while not (value := condition()):  # noqa: ASYNC110 (the state signals nothing)
            await asyncio.sleep(0.005)
        return value

    return await within(poll(), what, seconds)


class FakeClock:
    """A clock (call it for the time) and `sleep` on that clock; time moves only by advance(),
    or inside running(), where it jumps to the earliest sleeper's deadline whenever idle()."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._new_sleeper = asyncio.Event()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Return once the clock has moved `seconds` on (like asyncio.sleep, on this clock)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), future))
        self._new_sleeper.set()
        try:
            await future
        finally:
            future.cancel()  # a cancelled sleeper stays in the heap until it reaches the top

    def deadlines(self) -> list[float]:
        """When the current sleepers are due, earliest first."""
        return sorted(deadline for deadline, _, f in self._sleepers if not f.done())

    def advance(self, seconds: float) -> None:
        """Move the clock on by hand and wake every sleeper that is due."""
        self.now += seconds
        while self._sleepers and self._sleepers[0][0] <= self.now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    def _wake_next(self) -> None:
        while self._sleepers:
            deadline, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                self.now = max(self.now, deadline)
                future.set_result(None)
                return

    @contextlib.asynccontextmanager
    async def running(self, idle: Callable[[], bool] = lambda: True) -> AsyncIterator[None]:
        """Inside, whenever idle() holds, jump to the earliest sleeper's deadline and wake it.

        One sleeper at a time, and only once every task that can run has run (say, sent its
        request, or gone to sleep itself): time moves only when everything waits. An idle() of
        "no request in flight" makes the network take no fake time.
        """
        loop = asyncio.get_running_loop()

        async def run() -> None:
            while True:
                if not any(not f.done() for _, _, f in self._sleepers):
                    self._new_sleeper.clear()
                    await self._new_sleeper.wait()
                await asyncio.sleep(0)
                # asyncio keeps the callbacks ready to run in loop._ready; while any is there,
                # some task has work to do before time may move.
                if idle() and not getattr(loop, "_ready", ()):
                    self._wake_next()

        task = asyncio.create_task(run())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
