"""/test off the event loop: pages read on the loop, matched in a worker process (a thread when
there is no pool), within limits."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool

from core.query import Query
from core.trial import Trial, matching_ids
from storage.articles import StoredArticle

log = logging.getLogger(__name__)

PAGE = 200  # articles read from the database per step: a few milliseconds on the loop
SCANS_AT_ONCE = 2  # /test scans running bot-wide; more wait their turn, none starves the loop
FORGET_AFTER = 1000  # cooldown entries kept before the expired ones are dropped

PageReader = Callable[[int | None, int], list[StoredArticle]]  # (before id, limit) -> newest first


def match_in_worker(
    query: Query, rows: list[tuple[int, str, str]], seconds: float
) -> tuple[int, list[int]]:
    """In a pool process: (articles looked at, ids matched) within `seconds` of its own clock."""
    deadline = time.monotonic() + seconds
    return matching_ids(query, rows, lambda: time.monotonic() >= deadline)


class Trials:
    """What every /test shares: one scan per chat at a time, a cooldown, a few scans bot-wide,
    and counters that tests and logs read."""

    def __init__(
        self,
        scans_at_once: int = SCANS_AT_ONCE,
        monotonic: Callable[[], float] = time.monotonic,  # the budget's clock
        executor: Executor | None = None,  # the parse pool: matching holds no GIL of the loop
    ) -> None:
        self.executor = executor
        self.slots = asyncio.Semaphore(scans_at_once)
        self.monotonic = monotonic
        self.last_started: dict[int, float] = {}
        self.running: set[int] = set()
        self.started = 0
        self.finished = 0
        self.stopped_early = 0
        # Called before each page (on the loop with a pool, else in the worker thread), with the articles scanned so far.
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

    def has_free_slot(self) -> bool:
        """Whether a scan started now would run at once rather than wait its turn."""
        return not self.slots.locked()

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
            if not await self._match(trial, page, deadline, expired):
                return False
            before = page[-1].id

    async def _match(
        self,
        trial: Trial[StoredArticle],
        page: list[StoredArticle],
        deadline: float,
        expired: Callable[[], bool],
    ) -> bool:
        """One page matched in the pool (or a thread); False when the budget ran out in it."""
        if self.executor is not None:
            self.on_page(trial.scanned)
            rows = [(a.id, a.title, a.text) for a in page]
            seconds = deadline - self.monotonic()
            loop = asyncio.get_running_loop()
            try:
                scanned, matched = await loop.run_in_executor(
                    self.executor, match_in_worker, trial.query, rows, seconds
                )
            except BrokenProcessPool:
                log.error("the process pool broke; /test matches in threads from now on")
                self.executor = None
            else:
                trial.absorb(page, scanned, set(matched))
                return scanned == len(page)
        return await asyncio.to_thread(self._scan_page, trial, page, expired)

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
