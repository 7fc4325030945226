"""Long admin work (adding a feed, importing OPML) as tracked background tasks.

The handler answers at once with a "⏳ …" message and returns, so every other update is handled
meanwhile; the work runs here and edits that message with its progress and result. Our own
tasks rather than PTB's alternatives: `concurrent_updates` would reorder every chat's commands,
and `block=False` tasks are awaited by Application.stop() without a limit (an import of 1,000
slow feeds would hold a restart for many minutes) while their errors reach only the generic
error handler. Here a few jobs run at once, a failure is reported on the job's own message, and
shutdown waits a little, then cancels what is left, each job telling its admin so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Message
from telegram.error import BadRequest, TelegramError

from core.render import fit_message

log = logging.getLogger(__name__)
_T = TypeVar("_T")

JOB_CONCURRENCY = 4  # jobs running at once; the others wait their turn
# A stop takes at most a few seconds (README, Running): the jobs' share of it.
SHUTDOWN_GRACE_SECONDS = 1.0  # how long a stopping bot lets running jobs finish
REPORT_SECONDS = 1.5  # then how long the cancelled ones get to tell their admins
# What to say when a job fails (the exception) or is interrupted by shutdown (None).
Report = Callable[[BaseException | None], Awaitable[None]]


class BackgroundJobs:
    """Runs jobs as asyncio tasks, a few at a time, and keeps them until they are done."""

    def __init__(self, concurrency: int = JOB_CONCURRENCY) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.failures = 0  # jobs that raised (each reported to its admin)

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, name: str, work: Callable[[], Awaitable[None]], report: Report) -> None:
        """Run `work()` in the background; RuntimeError once shut down."""
        if self._closed:
            raise RuntimeError("background jobs are shut down")
        task = asyncio.create_task(self._run(name, work, report), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, name: str, work: Callable[[], Awaitable[None]], report: Report) -> None:
        try:
            async with self._slots:
                await work()
        except asyncio.CancelledError:
            log.warning("background job interrupted", extra={"job": name})
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # the report's own requests must not see a pending cancel
            await _report(name, report, None)
            raise
        except Exception as error:
            self.failures += 1
            log.exception("background job failed", extra={"job": name})
            await _report(name, report, error)

    async def wait(self) -> None:
        """Until every job started so far is done (for tests and shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def shutdown(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Take no more jobs; give the running ones `grace` seconds, then cancel the rest."""
        self._closed = True
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            _, stuck = await asyncio.wait(pending, timeout=REPORT_SECONDS)
            if stuck:
                log.error("background jobs did not stop", extra={"jobs": len(stuck)})


async def _report(name: str, report: Report, error: BaseException | None) -> None:
    try:
        await report(error)
    except Exception:
        log.exception("could not report on a background job", extra={"job": name})


async def ticking(work: Awaitable[_T], tick: Callable[[], Awaitable[None]], every: float) -> _T:
    """Await `work`, calling `tick()` every `every` seconds until it is done."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=every)
            if done:
                return task.result()
            await tick()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class Progress:
    """The message a job edits as it goes: "⏳ …", maybe a count, then the result."""

    def __init__(self, message: Message) -> None:
        self.message = message
        self._shown: str | None = None

    async def show(self, text: str) -> None:
        """A progress step, best effort: a failed edit is only logged."""
        text = fit_message(text)
        if text == self._shown:
            return
        try:
            await self.message.edit_text(text)
        except TelegramError as error:
            log.warning("could not edit a progress message: %s", error)
            return
        self._shown = text

    async def finish(self, text: str) -> None:
        """The result: edited in, or sent anew when the progress message cannot be edited."""
        text = fit_message(text)
        try:
            await self.message.edit_text(text)
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return
            log.warning("could not edit a progress message: %s", error)
            await self.message.get_bot().send_message(self.message.chat_id, text)
        self._shown = text
