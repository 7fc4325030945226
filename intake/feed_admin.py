"""What admins do with feeds: add one (/addfeed), import and export OPML, pause, set a charset.
A feed is fetched once when added; the items it has then are stored as seen, never alerted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from core.keyword_ways import host_of
from core.opml import OpmlError, build_opml, parse_opml
from core.safety import has_credentials, without_credentials
from feeds.fetch import FetchResult
from intake.prepare import Prepared
from intake.store import FeedWork, body_hash
from storage import feeds as feed_store

log = logging.getLogger(__name__)

DEFAULT_IMPORT_CONCURRENCY = 8
EXPORT_TITLE = "Rasd feeds"
# Feed URLs are shown in /feeds, exported in OPML, logged and kept in backups: no place for a
# password (feeds added before this was refused are masked wherever they are shown).
CREDENTIALS_REFUSED = (
    "the address carries a user name or password (user:pass@host); Rasd refuses it, because feed"
    " addresses are shown in /feeds, exported and logged"
)


@dataclass(frozen=True)
class AddFeedResult:
    """The answer to /addfeed: the stored feed's title and item count, or why not."""

    feed_id: int | None = None
    title: str = ""
    item_count: int = 0
    error: str | None = None  # in English, for admins and logs
    already: bool = False
    error_kind: str | None = None  # what failed (catalog: error_kind_<kind>)


@dataclass
class ImportReport:
    """What importing an OPML file did; `error` is set when the file itself is unusable."""

    added: list[tuple[str, str]] = field(default_factory=list)  # (url, title)
    already: list[str] = field(default_factory=list)  # urls
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (url, kind, reason)
    error: str | None = None


class FeedAdmin:
    """Adds, imports, exports, pauses and re-encodes feeds; handlers and the CLI use it."""

    def __init__(
        self,
        work: FeedWork,
        *,
        clock: Callable[[], float],
        import_concurrency: int = DEFAULT_IMPORT_CONCURRENCY,
    ) -> None:
        self.work = work
        self.clock = clock
        self.import_concurrency = import_concurrency

    async def add_feed(self, url: str, *, added_by: int | None) -> AddFeedResult:
        """Fetch a URL once; if it is a feed, store it with its current items as seen."""
        return await self._add(url.strip(), added_by=added_by, fallback_title="")

    async def _add(self, url: str, *, added_by: int | None, fallback_title: str) -> AddFeedResult:
        if has_credentials(url):
            return AddFeedResult(error=CREDENTIALS_REFUSED, error_kind="credentials")
        existing = feed_store.feed_by_url(self.work.db, url)
        if existing is not None:
            return AddFeedResult(existing.id, existing.title, already=True)
        result = await self.work.fetcher.fetch(url)
        if result.error:
            return AddFeedResult(error=result.error, error_kind=result.error_kind or "fetch")
        prepared = await self.work.preparer.prepare(result, None, "")
        if prepared.error:
            return AddFeedResult(error=prepared.error, error_kind="not_feed")
        title = prepared.title or fallback_title or url
        try:
            async with self.work.db_turn:
                feed_id = self._store_new_feed(url, title, added_by, result, prepared)
        except feed_store.FeedExists:
            feed = feed_store.feed_by_url(self.work.db, url)
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
            with self.work.db.atomic():
                feed_id = feed_store.add_feed(
                    self.work.db,
                    url,
                    title=title,
                    interval_seconds=self.work.schedule.interval_seconds,
                    now=now,
                    added_by=added_by,
                )
                # Its site, for keywords limited to some sites (its items' are seen as stored).
                self.work.intake.sites_seen(feed_id, [host_of(prepared.link)])
                # The items present now are the baseline: stored, never alerted.
                self.work.intake.store(feed_id, prepared.articles, now, alert=False)
                self.work.schedule.succeeded(feed_id, result, prepared, body_hash(result.body), now)
        except feed_store.FeedExists:
            raise
        except Exception:
            self.work.intake.forget_stories()
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
        results = [AddFeedResult(error="not tried", error_kind="internal")] * len(entries)
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
                kind = result.error_kind or "fetch"
                report.failed.append((without_credentials(entry.url), kind, result.error))
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
            return AddFeedResult(
                error=f"internal error: {type(error).__name__}", error_kind="internal"
            )

    def export_opml(self) -> bytes:
        """Every stored feed (disabled ones too) as an OPML 2.0 document."""
        feeds = feed_store.all_feeds(self.work.db)
        return build_opml(
            [(without_credentials(feed.url), feed.title) for feed in feeds], EXPORT_TITLE
        )

    def set_paused(self, feed_id: int, paused: bool) -> None:
        """Pause a feed, or re-enable it (due now, its error count cleared)."""
        feed_store.set_feed_disabled(self.work.db, feed_id, paused, self.clock())

    def delete(self, feed_id: int) -> None:
        """Forget a feed and its articles."""
        feed_store.delete_feed(self.work.db, feed_id)

    def set_charset(self, feed_id: int, wanted: str | None) -> str | None:
        """Decode a feed with this charset from now on (None: detect); the codec's name.
        Raises storage.feeds.UnknownCharset for a name Python does not know."""
        return feed_store.set_feed_charset(self.work.db, feed_id, wanted)

    def set_fulltext(self, feed_id: int, mode: str) -> None:
        """Read the feed's new items from their pages: auto (when they are teasers), on, off."""
        feed_store.set_fulltext(self.work.db, feed_id, mode)
