"""Background jobs: a few at a time, failures reported, shutdown waits then cancels, told."""

from __future__ import annotations

import asyncio

import pytest

from handlers.jobs import BackgroundJobs, ticking
from tests.timing import eventually, within


class Reports:
    """What the jobs said about themselves: ("failed", error) or ("interrupted", None)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, BaseException | None]] = []

    def on(self, name: str):
        async def report(error: BaseException | None) -> None:
            self.seen.append((name, "interrupted" if error is None else "failed", error))

        return report


async def test_only_a_few_jobs_run_at_once_and_all_of_them_run():
    jobs = BackgroundJobs(concurrency=3)
    reports = Reports()
    release = asyncio.Event()
    running = peak = finished = 0

    async def work() -> None:
        nonlocal running, peak, finished
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1
        finished += 1

    for n in range(10):
        jobs.start(f"job {n}", work, reports.on(f"job {n}"))
    await eventually(lambda: running == 3, "three jobs running")
    assert len(jobs) == 10
    release.set()
    await within(jobs.wait(), "every job")
    assert (finished, peak, len(jobs), reports.seen) == (10, 3, 0, [])


async def test_a_failing_job_is_reported_and_the_others_carry_on():
    jobs = BackgroundJobs()
    reports = Reports()
    done = []

    async def broken() -> None:
        raise ValueError("bad feed")

    async def fine() -> None:
        done.append("fine")

    jobs.start("broken", broken, reports.on("broken"))
    jobs.start("fine", fine, reports.on("fine"))
    await within(jobs.wait(), "both jobs")
    ((name, what, error),) = reports.seen
    assert (name, what, str(error)) == ("broken", "failed", "bad feed")
    assert done == ["fine"]
    assert jobs.failures == 1


async def test_a_report_that_fails_too_is_only_logged(caplog):
    jobs = BackgroundJobs()

    async def broken() -> None:
        raise ValueError("bad feed")

    async def report(error: BaseException | None) -> None:
        raise ConnectionError("Telegram is away")

    jobs.start("broken", broken, report)
    await within(jobs.wait(), "the job")
    assert "could not report on a background job" in caplog.text


async def test_shutdown_lets_a_finishing_job_finish_and_interrupts_a_stuck_one():
    jobs = BackgroundJobs()
    reports = Reports()
    almost, never = asyncio.Event(), asyncio.Event()
    finished = []

    async def finishing() -> None:
        await almost.wait()
        finished.append("finishing")

    async def stuck() -> None:
        await never.wait()

    jobs.start("finishing", finishing, reports.on("finishing"))
    stopping = asyncio.create_task(jobs.shutdown(grace=60))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        jobs.start("late", finishing, reports.on("late"))  # no new jobs while stopping
    almost.set()
    await within(stopping, "shutdown with nothing left to wait for")
    assert (finished, reports.seen) == (["finishing"], [])

    jobs = BackgroundJobs()
    jobs.start("stuck", stuck, reports.on("stuck"))
    await asyncio.sleep(0)
    await within(jobs.shutdown(grace=0), "shutdown of a stuck job")
    assert reports.seen == [("stuck", "interrupted", None)]
    assert len(jobs) == 0


async def test_a_job_waiting_for_its_turn_is_interrupted_too():
    jobs = BackgroundJobs(concurrency=1)
    reports = Reports()
    never = asyncio.Event()

    async def stuck() -> None:
        await never.wait()

    jobs.start("first", stuck, reports.on("first"))
    jobs.start("second", stuck, reports.on("second"))
    await asyncio.sleep(0)
    await within(jobs.shutdown(grace=0), "shutdown")
    assert sorted(name for name, _, _ in reports.seen) == ["first", "second"]


async def test_ticking_ticks_until_the_work_is_done_and_returns_its_result():
    ticks = []
    ticked = asyncio.Event()
    release = asyncio.Event()

    async def tick() -> None:
        ticks.append(len(ticks))
        if len(ticks) == 3:
            ticked.set()

    async def work() -> str:
        await release.wait()
        return "report"

    async def release_after_three_ticks() -> None:
        await ticked.wait()
        release.set()

    helper = asyncio.create_task(release_after_three_ticks())
    assert await within(ticking(work(), tick, 0.001), "the work") == "report"
    await helper
    assert len(ticks) >= 3


async def test_ticking_cancels_its_work_when_cancelled():
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def work() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    async def tick() -> None:
        pass

    task = asyncio.create_task(ticking(work(), tick, 60))
    await within(started.wait(), "the work to start")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled.is_set()
