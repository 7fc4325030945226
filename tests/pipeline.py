"""The poll cycle and feed administration over one database, built by app.bootstrap's own
feed_pipeline, for tests and benchmarks that drive them without a bot."""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import Executor

from app.bootstrap import feed_pipeline
from core.models import Feed
from core.schedule import MAX_CONSECUTIVE_FAILURES
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from core.write_health import WriteHealth
from feeds.fetch import Fetcher
from intake.feed_admin import DEFAULT_IMPORT_CONCURRENCY
from intake.poll import DEFAULT_MAX_FEEDS_PER_CYCLE
from storage.db import Database


class Pipeline:
    """`run_once` polls; `add_feed`, `import_opml` and `export_opml` administer feeds."""

    def __init__(
        self,
        db: Database,
        fetcher: Fetcher,
        book: SubscriptionBook,
        *,
        clock: Callable[[], float],
        interval_seconds: float,
        executor: Executor | None = None,
        rng: random.Random | None = None,
        max_failures: int = MAX_CONSECUTIVE_FAILURES,
        on_feed_disabled: Callable[[Feed, int, str, str], None] = lambda *why: None,
        on_queued: Callable[[], None] = lambda: None,
        writes: WriteHealth | None = None,
        max_feeds_per_cycle: int = DEFAULT_MAX_FEEDS_PER_CYCLE,
        import_concurrency: int = DEFAULT_IMPORT_CONCURRENCY,
    ) -> None:
        # The settings' defaults, but no page stage: these feeds' items are whole.
        settings = Settings(poll_interval_seconds=interval_seconds, full_text=False)
        self.poller, self.feeds = feed_pipeline(
            settings,
            db,
            book,
            fetcher,
            clock=clock,
            executor=executor,
            writes=writes,
            wake=on_queued,
            on_feed_disabled=on_feed_disabled,
            rng=rng,
            max_failures=max_failures,
            max_feeds_per_cycle=max_feeds_per_cycle,
            import_concurrency=import_concurrency,
        )
        self.run_once = self.poller.run_once
        self.add_feed = self.feeds.add_feed
        self.import_opml = self.feeds.import_opml
        self.export_opml = self.feeds.export_opml

    @property
    def paused_until(self) -> float:
        """Until when the poll cycle waits after the database refused writes."""
        return self.poller.paused_until
