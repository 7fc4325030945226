"""The poll job: due feeds → fetch → parse → clean → store → match → outbox.

Each due feed goes through its own pipeline (fetch, then parse in the executor, then store on the
event loop thread), so fetching, parsing and storing of different feeds overlap. Parsing and
preparing (`parse_and_prepare`) is picklable and runs in whatever executor the caller gives: a
process pool spreads it over the cores; matching against the SubscriptionBook stays here. Each
feed is stored in its own savepoint; feeds that are ready together share one transaction.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import multiprocessing
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import chain

from core.articles import ARTICLE_MAX_CHARS, TITLE_MAX_CHARS, match_text, prepare_article
from core.dedup import SAME_STORY_DISTANCE, SIMHASH_BITS
from core.models import Article, Chat, Feed
from core.opml import OpmlError, build_opml, parse_opml
from core.safety import has_credentials, without_credentials
from core.schedule import MAX_CONSECUTIVE_FAILURES, next_check, server_min_seconds, should_disable
from core.subscriptions import SubscriptionBook
from core.write_health import WriteHealth, backoff
from feeds.fetch import Fetcher, FetchResult
from feeds.parse import parse_feed
from storage import articles as article_store
from storage import chats as chat_store
from storage import feeds as feed_store
from storage import outbox
from storage.db import Database, is_refused_write, transaction

log = logging.getLogger(__name__)

STORY_WINDOW_SECONDS = 48 * 3600
DEFAULT_MAX_FEEDS_PER_CYCLE = 5000
DEFAULT_IMPORT_CONCURRENCY = 8
# Feed URLs are shown in /feeds, exported in OPML, logged and kept in backups: no place for a
# password (feeds added before this was refused are masked wherever they are shown).
CREDENTIALS_REFUSED = (
    "the address carries a user name or password (user:pass@host); Rasd refuses it, because feed"
    " addresses are shown in /feeds, exported and logged"
)
EXPORT_TITLE = "Rasd feeds"
# Parse workers run this much nicer than the event loop: on a busy machine the loop (storing,
# matching, answering users) is the serial part, and losing the CPU to a worker stalls it.
PARSE_WORKER_NICENESS = 10
WRITE_BATCH = 16  # feeds stored per transaction when several are ready at once
CHAT_BATCH = 500  # chat ids per query (SQLite's limit on parameters is far above)


def parse_pool(workers: int) -> ProcessPoolExecutor:
    """The process pool that parses feeds: forkserver (forking a process with running threads is
    unsafe), its workers at a lower priority than the event loop."""
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_lower_priority,
    )


def _lower_priority() -> None:
    """Make the calling worker process nicer by PARSE_WORKER_NICENESS."""
    try:
        os.nice(PARSE_WORKER_NICENESS)
    except OSError:
        log.warning("could not lower the parse worker's priority")


@dataclass(frozen=True)
class Prepared:
    """A parsed feed with its items made into articles (computed off the event loop).

    Only what the parent needs crosses the process boundary: not the raw items.
    """

    title: str = ""
    error: str | None = None
    ttl_minutes: int | None = None
    item_count: int = 0
    articles: list[Article] = field(default_factory=list)
    cpu_seconds: float = 0.0  # CPU time the parse took, in whichever process ran it


def parse_and_prepare(
    body: bytes,
    headers: dict[str, str],
    url: str,
    charset: str | None,
    site_name: str,
    max_text_chars: int = ARTICLE_MAX_CHARS,
    max_title_chars: int = TITLE_MAX_CHARS,
) -> Prepared:
    """Parse a body and prepare every item; top-level and picklable so a process pool can run it.

    Each item's title and text are capped here, in the worker, before anything stores, matches
    or summarises them (core.articles.prepare_article).
    """
    started = time.process_time()
    parsed = parse_feed(body, headers, url, charset_override=charset)
    if parsed.error:
        return Prepared(error=parsed.error, cpu_seconds=time.process_time() - started)
    name = site_name or parsed.title
    articles = [
        prepare_article(
            item, site_name=name, max_text_chars=max_text_chars, max_title_chars=max_title_chars
        )
        for item in parsed.items
    ]
    return Prepared(
        title=parsed.title,
        ttl_minutes=parsed.ttl_minutes,
        item_count=len(parsed.items),
        articles=articles,
        cpu_seconds=time.process_time() - started,
    )


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
    errors: dict[str, str] = field(default_factory=dict)  # url -> reason
    # url -> what failed: the fetch's error kind, "not_feed" or "internal"
    error_kinds: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AddFeedResult:
    """The answer to /addfeed: the stored feed's title and item count, or why not."""

    feed_id: int | None = None
    title: str = ""
    item_count: int = 0
    error: str | None = None
    already: bool = False


@dataclass
class ImportReport:
    """What importing an OPML file did; `error` is set when the file itself is unusable."""

    added: list[tuple[str, str]] = field(default_factory=list)  # (url, title)
    already: list[str] = field(default_factory=list)  # urls
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    error: str | None = None


class RecentStories:
    """Recent (story, fingerprint) pairs, found again by SimHash distance in tens of microseconds.

    Multi-index hashing: the 64 bits are cut into blocks; two fingerprints within `distance`
    bits agree within distance // blocks bits on at least one block (pigeonhole), so a lookup
    probes each block's table with every value that close to its own block, then checks the
    few candidates exactly. Tables are flat lists indexed by the block's value and hold the
    fingerprints themselves: a probe is one list index and no hashing, and the ~550 probes
    and their candidates are all walked by map/filter rather than by the interpreter loop.
    """

    BLOCKS = 4

    def __init__(self, pairs: list[tuple[int, int]], distance: int = SAME_STORY_DISTANCE) -> None:
        self.distance = distance
        self._width = SIMHASH_BITS // self.BLOCKS
        self._block_mask = (1 << self._width) - 1
        self._probes = _masks_within(self._width, distance // self.BLOCKS)
        size = 1 << self._width
        self._tables: list[list[list[int] | None]] = [[None] * size for _ in range(self.BLOCKS)]
        self._story: dict[int, int] = {}  # fingerprint -> its oldest story
        for story_id, fingerprint in pairs:
            self.add(story_id, fingerprint)

    def __len__(self) -> int:
        return len(self._story)  # distinct fingerprints

    def add(self, story_id: int, fingerprint: int) -> None:
        """Remember one article's fingerprint under its story."""
        known = self._story.get(fingerprint)
        if known is not None:
            self._story[fingerprint] = min(known, story_id)
            return  # already in the tables
        self._story[fingerprint] = story_id
        for block, table in enumerate(self._tables):
            key = fingerprint >> (block * self._width) & self._block_mask
            bucket = table[key]
            if bucket is None:
                table[key] = [fingerprint]
            else:
                bucket.append(fingerprint)

    def find(self, fingerprint: int) -> int | None:
        """The story of the nearest remembered fingerprint within `distance` (oldest on ties)."""
        exact = self._story.get(fingerprint)
        if exact is not None:
            return exact
        buckets: list[list[int]] = []
        for block, table in enumerate(self._tables):
            key = fingerprint >> (block * self._width) & self._block_mask
            buckets += filter(None, map(table.__getitem__, map(key.__xor__, self._probes)))
        candidates = list(chain.from_iterable(buckets))
        if not candidates:
            return None
        bits = list(map(int.bit_count, map(fingerprint.__xor__, candidates)))
        nearest = min(bits)
        if nearest > self.distance:
            return None
        story = self._story
        return min(story[fp] for fp, b in zip(candidates, bits, strict=True) if b == nearest)


@dataclass(eq=False)
class _Outcome:
    """What checking one feed produced, waiting for its turn at the database."""

    feed: Feed
    result: FetchResult
    ready: Prepared | None
    body_hash: str | None
    report: PollReport
    written: bool = False
    error: Exception | None = None


class Poller:
    """Fetches due feeds, turns new items into outbox rows, and keeps each feed's schedule.

    `on_feed_disabled(feed, reason)` is called once when a feed is disabled after
    `max_failures` consecutive failures (an admin re-enables it with set_feed_disabled).
    `rng` draws the schedule jitter (pass a seeded one for repeatable runs). When the database
    refuses a write, the feed is left as it was (no error counted, still due), the cycle stops
    for a backoff, and `writes` is told (it feeds /healthz, /metrics and the admins' notice).
    """

    def __init__(
        self,
        db: Database,
        fetcher: Fetcher,
        book: SubscriptionBook,
        *,
        clock: Callable[[], float],
        interval_seconds: float,
        executor: Executor | None = None,
        on_queued: Callable[[], None] = lambda: None,
        on_feed_disabled: Callable[[Feed, str], None] = lambda feed, reason: None,
        rng: random.Random | None = None,
        max_failures: int = MAX_CONSECUTIVE_FAILURES,
        max_feeds_per_cycle: int = DEFAULT_MAX_FEEDS_PER_CYCLE,
        import_concurrency: int = DEFAULT_IMPORT_CONCURRENCY,
        max_text_chars: int = ARTICLE_MAX_CHARS,
        max_title_chars: int = TITLE_MAX_CHARS,
        writes: WriteHealth | None = None,
    ) -> None:
        self.db = db
        self.fetcher = fetcher
        self.book = book
        self.clock = clock
        self.interval_seconds = interval_seconds
        self.executor = executor
        self.on_queued = on_queued
        self.on_feed_disabled = on_feed_disabled
        self.rng = rng if rng is not None else random.Random()
        self.max_failures = max_failures
        self.max_feeds_per_cycle = max_feeds_per_cycle
        self.import_concurrency = import_concurrency
        self.max_text_chars = max_text_chars
        self.max_title_chars = max_title_chars
        self.last_success_at: float | None = None
        self.writes = writes if writes is not None else WriteHealth()
        self.paused_until = 0.0
        self._refusals = 0  # cycles in a row whose writes the database refused
        self._stories: RecentStories | None = None
        self._chats: dict[int, Chat | None] = {}  # chats seen this cycle (None: not stored)
        # Database work takes turns: one batch of feeds per event-loop turn, so fetches in
        # flight are served between them (a cycle full of new articles must not starve
        # connections into timeouts).
        self._db_turn = asyncio.Lock()
        self._unwritten: list[_Outcome] = []  # fetched (and parsed) feeds waiting for storage

    # --- adding feeds ----------------------------------------------------------------------

    async def add_feed(self, url: str, *, added_by: int | None) -> AddFeedResult:
        """Fetch a URL once; if it is a feed, store it with its current items as seen."""
        return await self._add(url.strip(), added_by=added_by, fallback_title="")

    async def _add(self, url: str, *, added_by: int | None, fallback_title: str) -> AddFeedResult:
        if has_credentials(url):
            return AddFeedResult(error=CREDENTIALS_REFUSED)
        existing = feed_store.feed_by_url(self.db, url)
        if existing is not None:
            return AddFeedResult(existing.id, existing.title, already=True)
        result = await self.fetcher.fetch(url)
        if result.error:
            return AddFeedResult(error=result.error)
        prepared = await self._prepare(result, None, "")
        if prepared.error:
            return AddFeedResult(error=prepared.error)
        title = prepared.title or fallback_title or url
        try:
            async with self._db_turn:
                feed_id = self._store_new_feed(url, title, added_by, result, prepared)
        except feed_store.FeedExists:
            feed = feed_store.feed_by_url(self.db, url)
            return AddFeedResult(feed.id if feed else None, title, already=True)
        return AddFeedResult(feed_id, title, prepared.item_count)

    def _store_new_feed(
        self,
        url: str,
        title: str,
        added_by: int | None,
        result: FetchResult,
        prepared: Prepared,
    ) -> int:
        """Store a feed and its baseline items in one transaction; FeedExists if it is there."""
        now = self.clock()
        try:
            with transaction(self.db):
                feed_id = feed_store.add_feed(
                    self.db,
                    url,
                    title=title,
                    interval_seconds=self.interval_seconds,
                    now=now,
                    added_by=added_by,
                )
                # The items present now are the baseline: stored, never alerted.
                self._store(feed_id, prepared.articles, now, alert=False)
                self._record_success(feed_id, result, prepared, _body_hash(result.body), now)
        except feed_store.FeedExists:
            raise
        except Exception:
            self._stories = None  # it may remember stories of rolled-back articles
            raise
        return feed_id

    async def import_opml(
        self,
        data: bytes,
        *,
        added_by: int | None,
        on_progress: Callable[[int, int], None] = lambda done, total: None,
    ) -> ImportReport:
        """Add every feed of an OPML file the way add_feed does, a few at a time; after each one
        `on_progress(done, total)` says how far it has got."""
        try:
            entries = parse_opml(data)
        except OpmlError as error:
            return ImportReport(error=str(error))
        results = [AddFeedResult(error="not tried")] * len(entries)
        todo = iter(enumerate(entries))  # shared by the workers: each entry is taken once
        done = 0
        on_progress(done, len(entries))

        async def worker() -> None:
            nonlocal done
            for index, entry in todo:
                results[index] = await self._import_one(entry.url, entry.title, added_by)
                done += 1
                on_progress(done, len(entries))

        await asyncio.gather(*(worker() for _ in range(min(self.import_concurrency, len(entries)))))
        report = ImportReport()
        for entry, result in zip(entries, results, strict=True):
            if result.error:  # shown to the admin: a password in the address is masked
                report.failed.append((without_credentials(entry.url), result.error))
            elif result.already:
                report.already.append(entry.url)
            else:
                report.added.append((entry.url, result.title))
        return report

    async def _import_one(self, url: str, title: str, added_by: int | None) -> AddFeedResult:
        try:
            return await self._add(url, added_by=added_by, fallback_title=title)
        except Exception as error:  # one bad entry must not stop the import
            log.exception("OPML import of a feed failed", extra={"feed_url": url})
            return AddFeedResult(error=f"internal error: {type(error).__name__}")

    def export_opml(self) -> bytes:
        """Every stored feed (disabled ones too) as an OPML 2.0 document."""
        feeds = feed_store.all_feeds(self.db)
        return build_opml(
            [(without_credentials(feed.url), feed.title) for feed in feeds], EXPORT_TITLE
        )

    # --- the poll cycle --------------------------------------------------------------------

    async def run_once(self) -> PollReport:
        """One cycle over every due feed (at most max_feeds_per_cycle, most overdue first)."""
        report = PollReport()
        if self.clock() < self.paused_until:
            report.paused = True
            return report
        self._stories = None  # rebuilt from the database when this cycle first needs it
        self._chats = {}
        feeds = feed_store.due_feeds(self.db, self.clock(), limit=self.max_feeds_per_cycle)
        await asyncio.gather(*(self._check(feed, report) for feed in feeds))
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
            result = await self.fetcher.fetch(
                feed.url, etag=feed.etag, last_modified=feed.last_modified
            )
            body_hash = _body_hash(result.body)
            ready = None
            if result.ok and not result.not_modified and body_hash != feed.body_hash:
                ready = await self._prepare(result, feed.charset, feed.title)
            outcome = _Outcome(feed, result, ready, body_hash, report)
            self._unwritten.append(outcome)
            while not outcome.written:
                async with self._db_turn:
                    if not outcome.written:
                        self._write_some()
            if outcome.error is not None:
                raise outcome.error
        except Exception as error:  # one broken feed must not stop the others
            self._stories = None
            if is_refused_write(error):
                self._not_stored(error, report)
                return
            log.exception("feed processing failed", extra={"feed_url": feed.url})
            try:
                self._fail(feed, f"internal error: {type(error).__name__}", report, kind="internal")
            except Exception as again:
                if not is_refused_write(again):
                    raise
                self._not_stored(again, report)

    @staticmethod
    def _not_stored(error: Exception, report: PollReport) -> None:
        """The database refused a feed's results: the feed stays as it was, due again."""
        report.database_refused += 1
        report.database_error = f"{type(error).__name__}: {error}"

    def _write_some(self) -> None:
        """Store the oldest waiting outcomes, up to WRITE_BATCH feeds in one transaction.

        One commit per feed rewrites the same index pages over and over: batching feeds that
        are ready anyway is ~2x cheaper. Each feed has its own savepoint, so one feed's failure
        leaves the others' work in place.
        """
        batch = self._unwritten[:WRITE_BATCH]
        del self._unwritten[:WRITE_BATCH]
        try:
            with transaction(self.db):
                for outcome in batch:
                    try:
                        with transaction(self.db):
                            self._finish_feed(
                                outcome.feed,
                                outcome.result,
                                outcome.ready,
                                outcome.body_hash,
                                outcome.report,
                            )
                    except Exception as error:
                        self._stories = None  # it may remember rolled-back articles
                        outcome.error = error
        except Exception as error:  # the whole transaction failed (at commit, say)
            for outcome in batch:
                outcome.error = outcome.error or error
        finally:
            for outcome in batch:
                outcome.written = True

    async def _prepare(
        self, result: FetchResult, feed_charset: str | None, site_name: str
    ) -> Prepared:
        loop = asyncio.get_running_loop()
        args = (
            result.body or b"",
            result.headers,
            result.final_url or result.url,
            feed_charset,
            site_name,
            self.max_text_chars,
            self.max_title_chars,
        )
        try:
            return await loop.run_in_executor(self.executor, parse_and_prepare, *args)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): parse in threads from now on.
            log.error("the parse process pool broke; parsing in threads from now on")
            self.executor = None
            return await loop.run_in_executor(None, parse_and_prepare, *args)

    def _finish_feed(
        self,
        feed: Feed,
        result: FetchResult,
        ready: Prepared | None,
        body_hash: str | None,
        report: PollReport,
    ) -> None:
        if result.error:
            self._fail(
                feed,
                result.error,
                report,
                retry_after=result.retry_after,
                kind=result.error_kind or "fetch",
            )
            return
        if ready is not None and ready.error:
            report.parse_cpu_seconds += ready.cpu_seconds
            self._fail(feed, ready.error, report, kind="not_feed")
            return
        now = self.clock()
        new = queued = 0
        if ready is not None:
            new, queued = self._store(feed.id, ready.articles, now, alert=feed.primed)
        self._record_success(feed.id, result, ready, body_hash or feed.body_hash, now)
        # Counted once stored: a feed whose storage fails is counted as failed only.
        report.articles_new += new
        report.alerts_queued += queued
        if ready is not None:
            report.feeds_parsed += 1
            report.parse_cpu_seconds += ready.cpu_seconds
        elif result.not_modified:
            report.feeds_not_modified += 1
        else:
            report.feeds_unchanged += 1

    def _record_success(
        self,
        feed_id: int,
        result: FetchResult,
        ready: Prepared | None,
        body_hash: str | None,
        now: float,
    ) -> None:
        """Store the validators and schedule the next check (inside the caller's transaction)."""
        if ready is not None:
            feed_store.set_feed_ttl(self.db, feed_id, ready.ttl_minutes)
            ttl = ready.ttl_minutes
        else:
            ttl = feed_store.feed_ttl(self.db, feed_id)
        next_at = next_check(
            now,
            base_interval=self.interval_seconds,
            items_per_day=feed_store.items_per_day(self.db, feed_id, now),
            error_count=0,
            server_min_seconds=server_min_seconds(max_age=result.max_age, ttl_minutes=ttl),
            rng=self.rng,
        )
        feed_store.record_success(
            self.db,
            feed_id,
            now=now,
            next_check_at=next_at,
            etag=result.etag,
            last_modified=result.last_modified,
            body_hash=body_hash,
            title=ready.title if ready else None,
            url=result.permanent_redirect,
        )

    def _fail(
        self,
        feed: Feed,
        error: str,
        report: PollReport,
        *,
        retry_after: float | None = None,
        kind: str = "fetch",
    ) -> None:
        now = self.clock()
        failures = feed.error_count + 1
        disable = should_disable(failures, self.max_failures)
        next_at = next_check(
            now,
            base_interval=self.interval_seconds,
            items_per_day=None,
            error_count=failures,
            server_min_seconds=server_min_seconds(retry_after=retry_after),
            rng=self.rng,
        )
        feed_store.record_failure(
            self.db, feed.id, now=now, next_check_at=next_at, error=error, disable=disable
        )
        report.feeds_failed += 1
        report.errors[feed.url] = error
        report.error_kinds[feed.url] = kind
        log.warning("feed failed: %s", error, extra={"feed_url": feed.url})
        if disable:
            report.feeds_disabled += 1
            reason = f"{failures} consecutive failures; the last one: {error}"
            log.error("feed disabled: %s", reason, extra={"feed_url": feed.url})
            try:
                self.on_feed_disabled(feed_store.get_feed(self.db, feed.id) or feed, reason)
            except Exception:
                log.exception("on_feed_disabled failed", extra={"feed_url": feed.url})

    # --- storing and matching --------------------------------------------------------------

    def _store(
        self, feed_id: int, articles: list[Article], now: float, *, alert: bool
    ) -> tuple[int, int]:
        """Store articles (inside the caller's transaction); queue alerts for new matches."""
        new = queued = 0
        # Oldest first, so alerts arrive in publishing order.
        for article in sorted(articles, key=lambda a: a.published_at or 0):
            stored, article_id = article_store.store_article(self.db, feed_id, article, now)
            if stored is article_store.Stored.UNCHANGED:
                continue
            if stored is article_store.Stored.NEW:
                new += 1
                story_id = self._story_of(article, article_id, now)
                article_store.set_story(self.db, article_id, story_id)
            else:
                known = article_store.get_article(self.db, article_id)
                story_id = known.story_id if known is not None else article_id
            if alert:
                new_story = stored is article_store.Stored.NEW and story_id == article_id
                queued += self._queue_matches(article, article_id, story_id, now, new_story)
        return new, queued

    def _story_of(self, article: Article, article_id: int, now: float) -> int:
        """The story an article tells: an earlier one with its URL, or a near-identical text."""
        if article.url:
            same_url = article_store.story_by_url(self.db, article.url, exclude_id=article_id)
            if same_url is not None:
                self._remember(same_url, article.fingerprint, now)
                return same_url
        story_id = article_id
        if article.fingerprint is not None:
            story_id = self._recent_stories(now).find(article.fingerprint) or article_id
        self._remember(story_id, article.fingerprint, now)
        return story_id

    def _recent_stories(self, now: float) -> RecentStories:
        if self._stories is None:
            self._stories = RecentStories(
                article_store.recent_fingerprints(self.db, since=now - STORY_WINDOW_SECONDS)
            )
        return self._stories

    def _remember(self, story_id: int, fingerprint: int | None, now: float) -> None:
        if fingerprint is not None:
            self._recent_stories(now).add(story_id, fingerprint)

    def _chats_of(self, chat_ids: list[int]) -> dict[int, Chat | None]:
        """The chats, each read from the database once per cycle."""
        missing = [chat_id for chat_id in chat_ids if chat_id not in self._chats]
        for start in range(0, len(missing), CHAT_BATCH):
            batch = missing[start : start + CHAT_BATCH]
            loaded = chat_store.chats_by_id(self.db, batch)
            self._chats.update((chat_id, loaded.get(chat_id)) for chat_id in batch)
        return {chat_id: self._chats[chat_id] for chat_id in chat_ids}

    def _queue_matches(
        self, article: Article, article_id: int, story_id: int, now: float, new_story: bool
    ) -> int:
        matches = self.book.match(match_text(article.title, article.text))
        if not matches:
            return 0
        chats = self._chats_of(list(matches))
        wanted = {}
        for chat_id, keywords in matches.items():
            chat = chats[chat_id]
            if chat is None or not chat.active or chat.paused or chat.banned:
                continue
            if chat.wants_language(article.language):
                wanted[chat_id] = keywords
        return outbox.queue_alerts(
            self.db, wanted, story_id=story_id, article_id=article_id, now=now, new_story=new_story
        )


@functools.cache
def _masks_within(width: int, radius: int) -> tuple[int, ...]:
    """Every `width`-bit value with at most `radius` bits set (XOR masks to probe with)."""
    return tuple(mask for mask in range(1 << width) if mask.bit_count() <= radius)


def _body_hash(body: bytes | None) -> str | None:
    return hashlib.blake2b(body, digest_size=16).hexdigest() if body else None
