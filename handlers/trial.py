"""/test off the event loop: pages read on the loop, matched in a worker thread, within limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from core.trial import Trial
from storage.articles import StoredArticle

PAGE = 200  # articles read from the database per step: a few milliseconds on the loop
SCANS_AT_ONCE = 2  # /test scans running bot-wide; more wait their turn, none starves the loop
FORGET_AFTER = 1000  # cooldown entries kept before the expired ones are dropped

PageReader = Callable[[int | None, int], list[StoredArticle]]  # (before id, limit) -> newest first


class Trials:
    """What every /test shares: one scan per chat at a time, a cooldown, a few scans bot-wide,
    and counters that tests and logs read."""

    def __init__(
        self,
        scans_at_once: int = SCANS_AT_ONCE,
        monotonic: Callable[[], float] = time.monotonic,  # the budget's clock
    ) -> None:
        self.slots = asyncio.Semaphore(scans_at_once)
        self.monotonic = monotonic
        self.last_started: dict[int, float] = {}
        self.running: set[int] = set()
        self.started = 0
        self.finished = 0
        self.stopped_early = 0
        # Called in the worker thread before each page, with the articles scanned so far.
        self.on_page: Callable[[int], None] = lambda scanned: None

    def claim(self, chat_id: int, now: float, cooldown: float) -> float:
        """Reserve the chat's next /test: 0.0 when it may start now (run, then release), else
        the seconds it must wait."""
        wait = self.last_started.get(chat_id, now - cooldown) + cooldown - now
        if chat_id in self.running:
            wait = max(wait, 1.0)
        if wait > 0:
            return wait
        self._forget(now - cooldown)
        self.last_started[chat_id] = now
        self.running.add(chat_id)
        return 0.0

    def release(self, chat_id: int) -> None:
        """The chat's /test is over (answered, or failed)."""
        self.running.discard(chat_id)

    async def run(
        self, trial: Trial[StoredArticle], read: PageReader, *, cap: int, budget: float
    ) -> bool:
        """Scan pages until the articles end, `cap` articles or `budget` seconds; True if none
        were left unread."""
        self.started += 1
        try:
            async with self.slots:
                complete = await self._scan(trial, read, cap, self.monotonic() + budget)
        finally:
            self.finished += 1
        if not complete:
            self.stopped_early += 1
        return complete

    async def _scan(
        self, trial: Trial[StoredArticle], read: PageReader, cap: int, deadline: float
    ) -> bool:
        def expired() -> bool:
            return self.monotonic() >= deadline

        before = None
        while True:
            room = cap - trial.scanned
            page = read(before, min(PAGE, room) if room > 0 else 1)
            if not page:
                return True
            if room <= 0 or expired():
                return False  # articles left unread
            if not await asyncio.to_thread(self._scan_page, trial, page, expired):
                return False
            before = page[-1].id

    def _scan_page(
        self, trial: Trial[StoredArticle], page: list[StoredArticle], expired: Callable[[], bool]
    ) -> bool:
        """In the worker thread: one page matched."""
        self.on_page(trial.scanned)
        return trial.scan(page, expired)

    def _forget(self, before: float) -> None:
        """Once there are many, drop the cooldowns that ended (chats that started before)."""
        if len(self.last_started) > FORGET_AFTER:
            for chat_id in [c for c, t in self.last_started.items() if t < before]:
                del self.last_started[chat_id]
