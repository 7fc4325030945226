"""The poll job: due feeds → fetch → parse → clean → store → match → outbox, in one transaction."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from core.articles import match_text, prepare_article
from core.dedup import same_story
from core.models import Article, Feed, ParsedFeed
from core.subscriptions import SubscriptionBook
from feeds.fetch import Fetcher, FetchResult
from feeds.parse import parse_feed
from storage import articles as article_store
from storage import chats as chat_store
from storage import feeds as feed_store
from storage import outbox
from storage.db import Database, transaction

log = logging.getLogger(__name__)

STORY_WINDOW_SECONDS = 48 * 3600
MAX_BACKOFF_SECONDS = 6 * 3600


@dataclass(frozen=True)
class Prepared:
    """A parsed feed with its items made into articles (computed off the event loop)."""

    feed: ParsedFeed
    articles: list[Article]


def parse_and_prepare(
    body: bytes, headers: dict[str, str], url: str, charset: str | None, site_name: str
) -> Prepared:
    """Parse a body and prepare every item; top-level so a process pool can run it."""
    parsed = parse_feed(body, headers, url, charset_override=charset)
    if parsed.error:
        return Prepared(parsed, [])
    name = site_name or parsed.title
    return Prepared(parsed, [prepare_article(item, site_name=name) for item in parsed.items])


@dataclass
class PollReport:
    """What one poll cycle did, for logs and health."""

    feeds_checked: int = 0
    feeds_failed: int = 0
    articles_new: int = 0
    alerts_queued: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # url -> reason


@dataclass(frozen=True)
class AddFeedResult:
    """The answer to /addfeed: the stored feed's title and item count, or why not."""

    feed_id: int | None = None
    title: str = ""
    item_count: int = 0
    error: str | None = None
    already: bool = False


class Poller:
    """Fetches due feeds and turns new items into outbox rows."""

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
    ) -> None:
        self.db = db
        self.fetcher = fetcher
        self.book = book
        self.clock = clock
        self.interval_seconds = interval_seconds
        self.executor = executor
        self.on_queued = on_queued
        self.last_success_at: float | None = None

    async def _prepare(
        self, result: FetchResult, feed_charset: str | None, site_name: str
    ) -> Prepared:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.executor,
            parse_and_prepare,
            result.body or b"",
            result.headers,
            result.final_url or result.url,
            feed_charset,
            site_name,
        )

    async def add_feed(self, url: str, *, added_by: int | None) -> AddFeedResult:
        """Fetch a URL once; if it is a feed, store it with its current items as seen."""
        url = url.strip()
        existing = feed_store.feed_by_url(self.db, url)
        if existing is not None:
            return AddFeedResult(existing.id, existing.title, already=True)
        result = await self.fetcher.fetch(url)
        if result.error:
            return AddFeedResult(error=result.error)
        prepared = await self._prepare(result, None, "")
        if prepared.feed.error:
            return AddFeedResult(error=prepared.feed.error)
        title = prepared.feed.title or url
        now = self.clock()
        with transaction(self.db):
            try:
                feed_id = feed_store.add_feed(
                    self.db,
                    url,
                    title=title,
                    interval_seconds=self.interval_seconds,
                    now=now,
                    added_by=added_by,
                )
            except feed_store.FeedExists:
                feed = feed_store.feed_by_url(self.db, url)
                return AddFeedResult(feed.id if feed else None, title, already=True)
            # The items present now are the baseline: stored, never alerted.
            self._store(feed_id, prepared.articles, now, alert=False)
            feed_store.record_success(
                self.db,
                feed_id,
                now=now,
                next_check_at=now + self.interval_seconds,
                etag=result.etag,
                last_modified=result.last_modified,
                body_hash=_body_hash(result.body),
                title=title,
            )
        return AddFeedResult(feed_id, title, len(prepared.feed.items))

    async def run_once(self) -> PollReport:
        """One cycle over every due feed."""
        report = PollReport()
        feeds = feed_store.due_feeds(self.db, self.clock())
        results = await asyncio.gather(
            *(self.fetcher.fetch(f.url, etag=f.etag, last_modified=f.last_modified) for f in feeds)
        )
        prepared = await asyncio.gather(
            *(self._prepare_if_changed(f, r) for f, r in zip(feeds, results, strict=True))
        )
        for feed, result, ready in zip(feeds, results, prepared, strict=True):
            report.feeds_checked += 1
            try:
                self._finish_feed(feed, result, ready, report)
            except Exception as error:  # one broken feed must not stop the others
                log.exception("feed processing failed", extra={"feed_url": feed.url})
                self._fail(feed, f"internal error: {type(error).__name__}", report)
        if report.feeds_checked and report.feeds_failed < report.feeds_checked:
            self.last_success_at = self.clock()
        if report.alerts_queued:
            self.on_queued()
        return report

    async def _prepare_if_changed(self, feed: Feed, result: FetchResult) -> Prepared | None:
        if result.error or result.not_modified or _body_hash(result.body) == feed.body_hash:
            return None
        return await self._prepare(result, feed.charset, feed.title)

    def _finish_feed(
        self, feed: Feed, result: FetchResult, ready: Prepared | None, report: PollReport
    ) -> None:
        now = self.clock()
        if result.error:
            self._fail(feed, result.error, report)
            return
        if ready is not None and ready.feed.error:
            self._fail(feed, ready.feed.error, report)
            return
        with transaction(self.db):
            if ready is not None:
                new, queued = self._store(feed.id, ready.articles, now, alert=feed.primed)
                report.articles_new += new
                report.alerts_queued += queued
            feed_store.record_success(
                self.db,
                feed.id,
                now=now,
                next_check_at=now + self.interval_seconds,
                etag=result.etag,
                last_modified=result.last_modified,
                body_hash=_body_hash(result.body) if result.body else feed.body_hash,
                title=ready.feed.title if ready else None,
                url=result.permanent_redirect,
            )

    def _fail(self, feed: Feed, error: str, report: PollReport) -> None:
        now = self.clock()
        backoff = min(self.interval_seconds * 2 ** min(feed.error_count, 10), MAX_BACKOFF_SECONDS)
        feed_store.record_failure(
            self.db,
            feed.id,
            now=now,
            next_check_at=now + max(backoff, self.interval_seconds),
            error=error,
        )
        report.feeds_failed += 1
        report.errors[feed.url] = error
        log.warning("feed failed: %s", error, extra={"feed_url": feed.url})

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
                story_id = article_store.get_article(self.db, article_id).story_id
            if alert:
                queued += self._queue_matches(article, article_id, story_id, now)
        return new, queued

    def _story_of(self, article: Article, article_id: int, now: float) -> int:
        same_url, recent = article_store.story_candidates(
            self.db, url=article.url, since=now - STORY_WINDOW_SECONDS, exclude_id=article_id
        )
        if same_url is not None:
            return same_url
        if article.fingerprint is not None:
            for story_id, fingerprint in recent:
                if same_story(article.fingerprint, fingerprint):
                    return story_id
        return article_id

    def _queue_matches(self, article: Article, article_id: int, story_id: int, now: float) -> int:
        matches = self.book.match(match_text(article.title, article.text))
        if not matches:
            return 0
        chats = chat_store.chats_by_id(self.db, list(matches))
        queued = 0
        for chat_id, keywords in matches.items():
            chat = chats.get(chat_id)
            if chat is None or not chat.active or chat.paused or chat.banned:
                continue
            if not chat.wants_language(article.language):
                continue
            if outbox.queue_alert(
                self.db,
                chat_id,
                story_id=story_id,
                article_id=article_id,
                keywords=keywords,
                now=now,
            ):
                queued += 1
        return queued


def _body_hash(body: bytes | None) -> str | None:
    return hashlib.blake2b(body, digest_size=16).hexdigest() if body else None
