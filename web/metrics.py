"""Prometheus metrics with their own registry: counters the bot feeds, gauges read at scrape time."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from core.links import day_of
from core.write_health import WriteHealth
from storage import outbox
from storage import stats as stats_store
from storage.checkpoint import Checkpointer
from storage.db import Database

log = logging.getLogger(__name__)

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "undeliverable", "cancelled")
SEND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
MINIAPP_REFUSALS = ("missing", "bad", "stale")
MAX_LABEL_VALUES = 30  # per label: free-form values beyond this become "other"
_LABEL = re.compile(r"[a-z0-9_]{1,40}")


class _BoundedLabel:
    """Keeps a label's values few and tidy, so a stray string cannot explode the series count."""

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def __call__(self, value: str | None) -> str:
        text = (value or "unknown").strip().lower().replace(" ", "_").replace("-", "_")
        if not _LABEL.fullmatch(text):
            return "other"
        if text not in self.seen:
            if len(self.seen) >= self.limit:
                return "other"
            self.seen.add(text)
        return text


class _OutboxCollector(Collector):
    """Outbox rows by status, counted in the database when Prometheus scrapes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("rasd_database_up", "1 when the database answered the scrape")
        try:
            counts = outbox.status_counts(self.db)
        except Exception as error:  # a scrape must answer even when the database does not
            log.warning("metrics: database unreachable: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        rows = GaugeMetricFamily("rasd_outbox_rows", "Outbox rows by status", labels=["status"])
        for status in sorted(set(OUTBOX_STATUSES) | set(counts)):
            rows.add_metric([status], counts.get(status, 0))
        yield rows
        depth = GaugeMetricFamily(
            "rasd_outbox_depth", "Messages still owed to chats (pending or sending)"
        )
        depth.add_metric([], counts.get("pending", 0) + counts.get("sending", 0))
        yield depth
        yield from self._sends_today()

    def _sends_today(self) -> Iterator[GaugeMetricFamily]:
        """Messages Telegram accepted this UTC day by lane, and the Stars the paid ones cost."""
        sends = stats_store.sends_on(self.db, day_of(time.time()))
        today = GaugeMetricFamily(
            "rasd_messages_today",
            "Messages Telegram accepted this UTC day, at the free rate or paid",
            labels=["lane"],
        )
        for lane in ("free", "paid"):
            today.add_metric([lane], sends[lane])
        yield today
        stars = GaugeMetricFamily(
            "rasd_paid_stars_today", "Telegram Stars spent on paid sends this UTC day"
        )
        stars.add_metric([], sends["paid"] / 10)
        yield stars


class _WritesCollector(Collector):
    """Whether the database takes writes, and how many it refused (disk full, locked)."""

    def __init__(self, writes: WriteHealth) -> None:
        self.writes = writes

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        writable = GaugeMetricFamily(
            "rasd_database_writable", "0 while the database refuses writes (disk full, locked)"
        )
        writable.add_metric([], 0 if self.writes.failing else 1)
        yield writable
        yield CounterMetricFamily(
            "rasd_database_refused_writes",
            "Writes the database refused (each retried later)",
            value=self.writes.refused,
        )


class _CheckpointCollector(Collector):
    """The thread that checkpoints the WAL: whether it runs, the log's length, failures."""

    def __init__(self, checkpointer: Checkpointer) -> None:
        self.checkpointer = checkpointer

    def collect(self) -> Iterator[GaugeMetricFamily]:
        checkpointer = self.checkpointer
        for name, help_text, value in (
            ("rasd_wal_checkpointer_running", "1 while the checkpoint thread runs (0: the "
             "commits checkpoint, as SQLite does by default)", int(checkpointer.running)),
            ("rasd_wal_pages", "Pages in the write-ahead log at the last checkpoint round",
             checkpointer.wal_pages),
            ("rasd_wal_checkpoint_failures", "Checkpoint rounds failed in a row (the log grows "
             "meanwhile)", checkpointer.failures),
        ):  # fmt: skip
            gauge = GaugeMetricFamily(name, help_text)
            gauge.add_metric([], value)
            yield gauge


class Metrics:
    """The bot's counters; the poller and sender call these, /metrics renders them."""

    def __init__(self, db: Database | None = None, writes: WriteHealth | None = None) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._polls = Counter(
            "rasd_feed_polls", "Feed checks by outcome", ["outcome"], registry=registry
        )
        self._fetch_errors = Counter(
            "rasd_fetch_errors", "Failed feed checks by kind of error", ["kind"], registry=registry
        )
        self._articles = Counter("rasd_articles_stored", "New articles stored", registry=registry)
        self._queued = Counter("rasd_alerts_queued", "Alerts queued for chats", registry=registry)
        self._sent = Counter(
            "rasd_messages_sent", "Messages Telegram accepted", ["kind"], registry=registry
        )
        self._failed = Counter(
            "rasd_messages_failed",
            "Send attempts that did not deliver",
            ["kind", "reason"],
            registry=registry,
        )
        self._latency = Histogram(
            "rasd_send_seconds",
            "Time of one sendMessage call that succeeded",
            ["kind"],
            buckets=SEND_BUCKETS,
            registry=registry,
        )
        self._clicks = Counter(
            "rasd_link_clicks", "Short-link visits redirected", registry=registry
        )
        self._webhook = Counter(
            "rasd_webhook_updates", "Webhook requests by outcome", ["outcome"], registry=registry
        )
        self._app_refused = Counter(
            "rasd_miniapp_auth_refused",
            "Mini App calls refused for their sign-in, by reason",
            ["reason"],
            registry=registry,
        )
        for reason in MINIAPP_REFUSALS:  # each shown from the start, at 0
            self._app_refused.labels(reason)
        self._error_kind = _BoundedLabel()
        self._message_kind = _BoundedLabel(limit=8)
        self._fail_reason = _BoundedLabel()
        if db is not None:
            registry.register(_OutboxCollector(db))
        if writes is not None:
            registry.register(_WritesCollector(writes))

    def watch_checkpoints(self, checkpointer: Checkpointer) -> None:
        """Show the WAL checkpoint thread's health (it starts after the rest is built)."""
        self.registry.register(_CheckpointCollector(checkpointer))

    def feed_polled(self, error_kind: str | None = None) -> None:
        """One feed was checked; error_kind (e.g. "timeout", "http") when it failed."""
        if error_kind is None:
            self._polls.labels("ok").inc()
        else:
            self._polls.labels("error").inc()
            self._fetch_errors.labels(self._error_kind(error_kind)).inc()

    def articles_stored(self, count: int) -> None:
        """New articles were stored."""
        self._articles.inc(max(count, 0))

    def alert_queued(self, count: int = 1) -> None:
        """Alerts were queued in the outbox."""
        self._queued.inc(max(count, 0))

    def message_sent(self, kind: str, seconds: float) -> None:
        """Telegram accepted a message ("alert", "broadcast", ...) after `seconds`."""
        label = self._message_kind(kind)
        self._sent.labels(label).inc()
        self._latency.labels(label).observe(max(seconds, 0.0))

    def message_failed(self, kind: str, reason: str) -> None:
        """A send did not deliver; reason is a short token ("rate_limited", "blocked", ...)."""
        self._failed.labels(self._message_kind(kind), self._fail_reason(reason)).inc()

    def link_clicked(self) -> None:
        """A short link redirected a reader."""
        self._clicks.inc()

    def webhook_update(self, outcome: str) -> None:
        """A webhook request: "accepted", "forbidden", "bad_request" or "failed"."""
        self._webhook.labels(outcome).inc()

    def miniapp_auth_refused(self, reason: str) -> None:
        """A Mini App call was refused: its initData was "missing", "bad" or "stale"."""
        self._app_refused.labels(reason if reason in MINIAPP_REFUSALS else "bad").inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its Content-Type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
