"""The page stage of intake: a teaser feed's new items are told by their web pages.

Between parsing a feed and storing it, each new item of a feed whose items are teasers (or whose
admin said `on`) has its page fetched (feeds.pages: the guarded fetcher, two requests a host, a
budget per cycle) and its main text extracted in the parse pool (feeds.extract). Whatever is not
had within the bound (PAGE_WAIT_SECONDS) of the feed's fetch, or cannot be had at all, is stored and
matched from the feed's own text: nothing waits longer, nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace

from core.fulltext import page_backoff, without_page
from core.models import Article, Feed
from feeds.extract import told_by_page
from feeds.pages import PageFetcher
from intake.prepare import Prepared
from storage import articles as article_store
from storage import feeds as feed_store
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class PageTally:
    """How one feed's pages fared in one cycle."""

    ok: int = 0
    failed: int = 0
    last: str | None = None  # the latest result: "ok" or why not
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, result: str) -> None:
        """Count one page's result (one left out for the cycle's budget is no failure)."""
        if result == "budget":
            return
        self.last = result
        if result == "ok":
            self.ok += 1
        else:
            self.failed += 1
            self.reasons[result] = self.reasons.get(result, 0) + 1


class FullText:
    """Fetches and extracts the pages of a feed's new items, within a bound."""

    def __init__(
        self,
        db: Database,
        pages: PageFetcher,
        executor: Executor | None,
        *,
        clock: Callable[[], float],
        max_text_chars: int,
        bound_seconds: float,
    ) -> None:
        self.db = db
        self.pages = pages
        self.executor = executor
        self.clock = clock
        self.max_text_chars = max_text_chars
        self.bound_seconds = bound_seconds

    def new_cycle(self) -> None:
        """A new poll cycle: a new page budget."""
        self.pages.new_cycle()

    def wanted(self, feed: Feed, ready: Prepared) -> bool:
        """Whether this feed's new items get their pages now."""
        if not feed.primed or not ready.articles:
            return False  # a feed's first items are its baseline: never alerted, never fetched
        if feed.fulltext != "auto":
            return feed.fulltext == "on"
        in_backoff = feed.page_backoff_until is not None and feed.page_backoff_until > self.clock()
        return ready.teaser and not in_backoff

    async def enrich(
        self, feed: Feed, ready: Prepared, started: float
    ) -> tuple[Prepared, PageTally]:
        """The feed's articles, new ones told by their pages where they could be had by
        `started` + the bound; and how the pages fared (for a feed the caller found `wanted`)."""
        tally = PageTally()
        known = article_store.known_item_keys(
            self.db, feed.id, [article.item_key for article in ready.articles]
        )
        # Only new items, and only web links (the parser keeps no other).
        chosen = {a.item_key: a for a in ready.articles if a.item_key not in known and a.url}
        tasks = {
            key: asyncio.create_task(self._told(feed.id, article))
            for key, article in chosen.items()
        }
        try:
            if tasks:
                remaining = max(0.0, started + self.bound_seconds - self.clock())
                await asyncio.wait(tasks.values(), timeout=remaining)
            told = {key: self._outcome(chosen[key], task) for key, task in tasks.items()}
        finally:  # late, or the cycle was cut short: no page outlives it
            late = [task for task in tasks.values() if not task.done()]
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        for article in told.values():
            tally.add(article.page or "ok")
        articles = [told.get(a.item_key, a) for a in ready.articles]
        return replace(ready, articles=articles), tally

    @staticmethod
    def _outcome(article: Article, task: asyncio.Task[Article]) -> Article:
        """The article its page told, or the feed's own when the page was late or failed."""
        if not task.done() or task.cancelled():
            return without_page(article, "late")
        if (error := task.exception()) is not None:
            log.error("a page could not be made into text", exc_info=error)
            return without_page(article, "internal")
        return task.result()

    async def _told(self, feed_id: int, article: Article) -> Article:
        """One item's page: fetched, extracted, and made into the article."""
        result = await self.pages.fetch_page(article.url, feed=feed_id)
        if not result.ok or result.body is None:
            return without_page(article, result.error_kind or "fetch")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.executor,
            told_by_page,
            article,
            result.body,
            result.headers,
            result.final_url or article.url,
            self.max_text_chars,
        )

    def record(self, feed: Feed, tally: PageTally, now: float) -> None:
        """Keep how the feed's pages fared (inside the caller's transaction): the latest
        result, failures in a row, and in auto a pause after too many."""
        if tally.last is None:
            return
        failures = 0 if tally.ok else feed.page_failures + tally.failed
        backoff = page_backoff(failures, now) if feed.fulltext != "on" else None
        if backoff is not None and feed.page_backoff_until is None:
            log.warning(
                "the feed's pages keep failing: full text pauses",
                extra={"feed_url": feed.url, "failures": failures, "reasons": tally.reasons},
            )
        feed_store.record_pages(
            self.db, feed.id, status=tally.last, at=now, failures=failures, backoff_until=backoff
        )
