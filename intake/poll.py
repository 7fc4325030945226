"""The poll cycle: due feeds → fetch → parse → store → match → outbox.

Each due feed goes through its own pipeline (fetch, then parse in the parse pool, then store on
the event loop thread), so fetching, parsing and storing of different feeds overlap. Each feed is
stored in its own savepoint; feeds that are ready together share one transaction. What storing
means (stories, matching, alerts) is intake.store's; adding feeds is intake.feed_admin's.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.keyword_ways import host_of
from core.models import Article, Feed
from core.write_health import WriteHealth, backoff
from feeds.fetch import FetchResult
from intake.fulltext import FullText, PageTally
from intake.prepare import Prepared
from intake.store import FeedWork, Intake, OwedAlerts, body_hash, in_order
from storage import feeds as feed_store
from storage.db import is_refused_write

log = logging.getLogger(__name__)

DEFAULT_MAX_FEEDS_PER_CYCLE = 5000
WRITE_BATCH = 16  # feeds stored per transaction when several are ready at once
# Items stored per transaction at most (a feed's are never split): each turn at the database
# holds the event loop, and the bot's answers wait for it (16 feeds of 30 new items held it
# for ~0.7 s at 100,000 subscriptions).
WRITE_ITEMS = 64
# ... and no further feed once a turn has taken this long: at a million subscriptions an item
# alerts ~550 chats, and 64 items' alerts held the loop for 1.4 s.
WRITE_SECONDS = 0.1


@dataclass
class PollReport:
    """What one poll cycle did, for logs and health."""

    feeds_checked: int = 0
    feeds_failed: int = 0
    feeds_not_modified: int = 0  # 304: nothing read, nothing parsed
    feeds_unchanged: int = 0  # the same body again (the server ignored our validators): not parsed
    feeds_parsed: int = 0
    feeds_disabled: int = 0
    articles_new: int = 0
    alerts_queued: int = 0
    parse_cpu_seconds: float = 0.0
    # Feeds whose results the database refused to store (disk full, locked): not the feeds'
    # fault, so not counted against them; they stay due and are checked again.
    database_refused: int = 0
    database_error: str | None = None
    paused: bool = False  # the cycle did not run: the database refused writes lately
    stopped: bool = False  # the bot is stopping: the cycle was cut short
    errors: dict[str, str] = field(default_factory=dict)  # url -> reason
    # url -> what failed: the fetch's error kind, "not_feed" or "internal"
    error_kinds: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class _Outcome:
    """What checking one feed produced, waiting for its turn at the database."""

    feed: Feed
    result: FetchResult
    ready: Prepared | None
    body_hash: str | None
    report: PollReport
    pages: PageTally | None = None
    written: bool = False
    error: Exception | None = None
    unstored: list[Article] | None = None  # its articles still to store (None: not begun)
    owed: OwedAlerts | None = None  # an article's alerts still to queue, before the rest


class Poller:
    """Checks due feeds and stores what they bring, one cycle at a time.

    When the database refuses a write, the feed is left as it was (no error counted, still
    due), the cycle stops for a backoff, and `writes` is told (it feeds /healthz, /metrics and
    the admins' notice).
    """

    def __init__(
        self,
        work: FeedWork,
        *,
        clock: Callable[[], float],
        on_queued: Callable[[], None] = lambda: None,
        max_feeds_per_cycle: int = DEFAULT_MAX_FEEDS_PER_CYCLE,
        writes: WriteHealth | None = None,
        fulltext: FullText | None = None,
    ) -> None:
        self.work = work
        self.fulltext = fulltext
        self.clock = clock
        self.on_queued = on_queued
        self.max_feeds_per_cycle = max_feeds_per_cycle
        self.writes = writes if writes is not None else WriteHealth()
        self.last_success_at: float | None = None
        self.paused_until = 0.0
        self._refusals = 0  # cycles in a row whose writes the database refused
        self._unwritten: list[_Outcome] = []  # fetched (and parsed) feeds waiting for storage
        self._cycle: asyncio.Future | None = None  # the feeds of the cycle running now
        self._stopped = False
        # Teaser feeds whose items wait for their pages: stored when those come (or the bound
        # passes), while the next cycles go on; each such feed is left out of them meanwhile.
        self._paging: dict[int, asyncio.Task[None]] = {}
        self._paged: list[PollReport] = []  # what they stored, for the metrics
        self.turn_clock: Callable[[], float] = time.monotonic  # times a turn (WRITE_SECONDS)

    @property
    def running(self) -> bool:
        """Whether a cycle is under way."""
        return self._cycle is not None

    def stop(self) -> None:
        """Cut the running cycle short and start no other: a feed whose fetch or parse is cut
        is left as it was, due, and polled again at the next start; stored feeds stay stored."""
        self._stopped = True
        if self._cycle is not None:
            self._cycle.cancel()
        for task in self._paging.values():
            task.cancel()

    async def settled(self) -> None:
        """Until the cycle under way and the feeds waiting for their pages are stored
        (benchmarks, tests)."""
        if self._cycle is not None:
            await asyncio.wait([self._cycle])
        while self._paging:
            await asyncio.wait(list(self._paging.values()))

    def take_paged(self) -> list[PollReport]:
        """What the feeds that waited for their pages stored since the last call."""
        reports, self._paged = self._paged, []
        return reports

    async def run_once(self) -> PollReport:
        """One cycle over every due feed (at most max_feeds_per_cycle, most overdue first)."""
        report = PollReport()
        if self._stopped or self.running:
            return report
        if self.clock() < self.paused_until:
            report.paused = True
            return report
        self.work.intake.new_cycle()
        if self.fulltext is not None:
            self.fulltext.new_cycle()
        feeds = feed_store.due_feeds(self.work.db, self.clock(), limit=self.max_feeds_per_cycle)
        feeds = [feed for feed in feeds if feed.id not in self._paging]
        self._cycle = asyncio.gather(*(self._check(feed, report) for feed in feeds))
        try:
            await self._cycle
        except asyncio.CancelledError:
            if not self._stopped:
                raise
            report.stopped = True
            return report
        finally:
            self._cycle = None
        healthy = report.feeds_checked - report.feeds_failed - report.database_refused
        if healthy > 0:
            self.last_success_at = self.clock()
        if report.database_error is not None:
            self._refused(report.database_error)
        elif report.feeds_checked:
            self._refusals = 0
            self.writes.succeeded(self.clock())
        if report.alerts_queued:
            self.on_queued()
        return report

    def _refused(self, error: str) -> None:
        """The database refused this cycle's writes: wait longer each time before the next."""
        now = self.clock()
        self._refusals += 1
        self.paused_until = now + backoff(self._refusals)
        self.writes.failed(error, now)
        log.error(
            "the database refused writes; polling pauses",
            extra={"error": error, "retry_in_seconds": self.paused_until - now},
        )

    async def _check(self, feed: Feed, report: PollReport) -> None:
        """One feed, start to finish; whatever goes wrong stays with this feed."""
        report.feeds_checked += 1
        try:
            result = await self.work.fetcher.fetch(
                feed.url, etag=feed.etag, last_modified=feed.last_modified
            )
            fetched_at = self.clock()
            digest = body_hash(result.body)
            ready = None
            if result.ok and not result.not_modified and digest != feed.body_hash:
                ready = await self.work.preparer.prepare(result, feed.charset, feed.title)
            outcome = _Outcome(feed, result, ready, digest, report)
            if self._wants_pages(outcome):
                self._start_paging(outcome, fetched_at)
                return
            await self._store(outcome)
        except Exception as error:  # one broken feed must not stop the others
            self._broken(feed, error, report)

    def _wants_pages(self, outcome: _Outcome) -> bool:
        ready = outcome.ready
        if self.fulltext is None or ready is None or ready.error:
            return False
        return self.fulltext.wanted(outcome.feed, ready)

    def _start_paging(self, outcome: _Outcome, fetched_at: float) -> None:
        """Read the feed's new items from their pages apart from this cycle, then store it."""
        feed_id = outcome.feed.id
        outcome.report = PollReport(feeds_checked=1)  # its own: this cycle may end before
        task = asyncio.create_task(self._with_pages(outcome, fetched_at))
        self._paging[feed_id] = task
        task.add_done_callback(lambda _: self._paging.pop(feed_id, None))

    async def _with_pages(self, outcome: _Outcome, fetched_at: float) -> None:
        assert self.fulltext is not None
        assert outcome.ready is not None
        report = outcome.report
        try:
            outcome.ready, outcome.pages = await self.fulltext.enrich(
                outcome.feed, outcome.ready, fetched_at
            )
            await self._store(outcome)
        except Exception as error:
            self._broken(outcome.feed, error, report)
        if report.database_error is not None:
            self._refused(report.database_error)
        self._paged.append(report)
        if report.alerts_queued:
            self.on_queued()

    async def _store(self, outcome: _Outcome) -> None:
        """Wait for the feed's turn at the database and store it (raises what storing raised)."""
        self._unwritten.append(outcome)
        while not outcome.written:
            async with self.work.db_turn:
                # Once the lock is had: the tasks queued for it passed any earlier check while
                # nobody was being answered, and would take their turns one after another.
                await self.work.foreground.wait_turn()
                if not outcome.written:
                    self._write_some()
                # Held across one pass of the event loop: a free lock is taken without a pause,
                # so without this the feeds ready together would run their turns back to back
                # in one pass, and whatever else is ready (an update, a reply) would wait for
                # them all.
                await asyncio.sleep(0)
        if outcome.error is not None:
            raise outcome.error

    def _broken(self, feed: Feed, error: Exception, report: PollReport) -> None:
        """What went wrong with one feed: counted against it, or, when it is the database's
        refusal, not (the feed stays due)."""
        self.work.intake.forget_stories()
        if is_refused_write(error):
            _not_stored(error, report)
            return
        log.exception("feed processing failed", extra={"feed_url": feed.url}, exc_info=error)
        try:
            self._fail(feed, f"internal error: {type(error).__name__}", report, kind="internal")
        except Exception as again:
            if not is_refused_write(again):
                raise
            _not_stored(again, report)

    def _write_some(self) -> None:
        """Store the oldest waiting outcomes, up to WRITE_BATCH feeds and about WRITE_ITEMS
        items in one transaction, taking no further feed after WRITE_SECONDS (the rest wait for
        the next turn).

        One commit per feed rewrites the same index pages over and over: batching feeds that
        are ready anyway is ~2x cheaper. Each feed has its own savepoint, so one feed's failure
        leaves the others' work in place.
        """
        batch = self._next_batch()
        started = self.turn_clock()
        later: list[_Outcome] = []  # the turn ran out: these wait for the next, first in line
        try:
            with self.work.db.atomic():
                for number, outcome in enumerate(batch):
                    if number and self._turn_spent(started):
                        later = batch[number:]
                        break
                    try:
                        with self.work.db.atomic():
                            finished = self._finish_feed(outcome, started)
                    except Exception as error:
                        self.work.intake.forget_stories()  # it may remember rolled-back articles
                        outcome.error = error
                        continue
                    if not finished:  # its other articles at the next turn
                        later = batch[number:]
                        break
            self._unwritten[:0] = later
            del batch[len(batch) - len(later) :]
        except Exception as error:  # the whole transaction failed (at commit, say)
            for outcome in batch:
                outcome.error = outcome.error or error
        finally:
            for outcome in batch:
                outcome.written = True

    def _turn_spent(self, started: float) -> bool:
        """Whether a turn at the database that began at `started` has had its time."""
        return self.turn_clock() - started >= WRITE_SECONDS

    def _next_batch(self) -> list[_Outcome]:
        """The oldest waiting outcomes for one transaction (at least one)."""
        taken = items = 0
        for outcome in self._unwritten:
            if taken == WRITE_BATCH or (taken and items >= WRITE_ITEMS):
                break
            taken += 1
            items += len(outcome.ready.articles) if outcome.ready is not None else 0
        batch = self._unwritten[:taken]
        del self._unwritten[:taken]
        return batch

    def _finish_feed(self, outcome: _Outcome, turn_started: float) -> bool:
        """Store what checking a feed brought and settle the feed; False when the turn ran
        out with some of its articles still to store (a feed whose items alert thousands of
        chats must not hold the event loop: /add is answered meanwhile)."""
        feed, result, ready, report = outcome.feed, outcome.result, outcome.ready, outcome.report
        body_hash = outcome.body_hash
        if result.error:
            self._fail(
                feed,
                result.error,
                report,
                retry_after=result.retry_after,
                kind=result.error_kind or "fetch",
            )
            return True
        if ready is not None and ready.error:
            report.parse_cpu_seconds += ready.cpu_seconds
            self._fail(feed, ready.error, report, kind="not_feed")
            return True
        now = self.clock()
        enough = functools.partial(self._turn_spent, turn_started)
        if ready is not None and not store_articles(self.work.intake, outcome, now, enough):
            return False
        if ready is not None and ready.link:  # a feed added before sites were kept has none
            self.work.intake.sites_seen(feed.id, [host_of(ready.link)])
        self.work.schedule.succeeded(feed.id, result, ready, body_hash or feed.body_hash, now)
        if self.fulltext is not None and outcome.pages is not None:
            self.fulltext.record(feed, outcome.pages, now)
        if ready is not None:
            report.feeds_parsed += 1
            report.parse_cpu_seconds += ready.cpu_seconds
        elif result.not_modified:
            report.feeds_not_modified += 1
        else:
            report.feeds_unchanged += 1
        return True

    def _fail(
        self,
        feed: Feed,
        error: str,
        report: PollReport,
        *,
        retry_after: float | None = None,
        kind: str = "fetch",
    ) -> None:
        report.feeds_failed += 1
        report.errors[feed.url] = error
        report.error_kinds[feed.url] = kind
        if self.work.schedule.failed(feed, error, self.clock(), kind=kind, retry_after=retry_after):
            report.feeds_disabled += 1


def _not_stored(error: Exception, report: PollReport) -> None:
    """The database refused a feed's results: the feed stays as it was, due again."""
    report.database_refused += 1
    report.database_error = f"{type(error).__name__}: {error}"


def store_articles(
    intake: Intake, outcome: _Outcome, now: float, enough: Callable[[], bool]
) -> bool:
    """Store the feed's articles (and an article's owed alerts first) that this turn has time
    for; True once all are. The feed is settled only then: a stop meanwhile leaves it due, its
    stored articles unchanged, and an article's owed alerts marked (Intake.requeue_owed)."""
    assert outcome.ready is not None
    report = outcome.report
    if outcome.unstored is None:
        outcome.unstored = in_order(outcome.ready.articles)
    while outcome.owed is not None:  # a chunk, at least, of what an article owes
        queued, outcome.owed = intake.queue_owed(outcome.owed, now)
        report.alerts_queued += queued
        if outcome.owed is not None and enough():
            return False
    new, queued, outcome.unstored, outcome.owed = intake.store_some(
        outcome.feed.id, outcome.unstored, now, alert=outcome.feed.primed, enough=enough
    )
    # Counted as stored (a feed whose storage fails is counted as failed only).
    report.articles_new += new
    report.alerts_queued += queued
    return not outcome.unstored and outcome.owed is None
