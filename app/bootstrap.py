"""The composition root: every long-lived part of Rasd, built once, in one place."""

from __future__ import annotations

import asyncio
import gc
import random
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from core.i18n import Catalog, load_catalog
from core.models import Feed
from core.schedule import MAX_CONSECUTIVE_FAILURES
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from core.write_health import WriteHealth
from delivery.compose import Composer
from delivery.notices import AdminNotices
from delivery.paid import PAID_KINDS, PaidLane
from delivery.ratelimit import GROUP_GAP, PRIVATE_GAP, SendBudget
from delivery.refused import RefusedWrites
from delivery.sender import Sender, SendPolicy
from delivery.transport import MAX_ATTEMPTS, MessageBot, PlainBot, Transport
from feeds.fetch import Fetcher
from feeds.pages import PageFetcher
from handlers.context import Services
from handlers.jobs import BackgroundJobs
from intake.feed_admin import DEFAULT_IMPORT_CONCURRENCY, FeedAdmin
from intake.foreground import Foreground
from intake.fulltext import FullText
from intake.poll import DEFAULT_MAX_FEEDS_PER_CYCLE, Poller
from intake.prepare import Preparer, parse_pool
from intake.store import FeedSchedule, FeedWork, Intake
from service.base import Backend
from service.sources import load_scopes
from service.trials import Trials
from storage import chats as chat_store
from storage import stats as stats_store
from storage.checkpoint import Checkpointer
from storage.db import Database, open_database
from web.metrics import Metrics

Clock = Callable[[], float]
# Rows claimed a round with the paid lane on: up to twice this many in flight, enough for
# 1,000 messages a second at Telegram's round trip of a tenth of a second.
PAID_BATCH = 100
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Rasd:
    """Every long-lived part of the bot; `bootstrap` builds it, `aclose` releases it."""

    settings: Settings
    clock: Clock
    catalog: Catalog
    db: Database
    book: SubscriptionBook  # every active keyword, matched against each new article
    fetcher: Fetcher
    executor: Executor | None  # the parse pool (None: threads)
    writes: WriteHealth  # whether the database takes writes
    metrics: Metrics
    notices: AdminNotices
    poller: Poller
    feeds: FeedAdmin
    sender: Sender | None  # None without a bot to send with (the CLI's feed commands)
    budget: SendBudget  # shared by the sender and the bot's rate limiter
    services: Services  # what handlers see
    foreground: Foreground  # the updates being answered, which the poll cycle lets go first
    checkpointer: Checkpointer | None = None  # the WAL's checkpoints, off the event loop

    async def aclose(self) -> None:
        """Close the fetcher, the parse pool, the checkpoints and the database."""
        try:
            await self.fetcher.aclose()
            if self.executor is not None:
                self.executor.shutdown(wait=True, cancel_futures=True)
        finally:
            if self.checkpointer is not None:
                self.checkpointer.close()
            self.db.conn.close()


@dataclass(frozen=True)
class SendSettings:
    """Telegram's limits and our volume rules; build_sender hands each to the part that
    applies it (the budget, the transport, the composer, the sender's policy)."""

    overall_per_second: float = 30.0
    private_gap: float = PRIVATE_GAP
    group_gap: float = GROUP_GAP
    max_attempts: int = MAX_ATTEMPTS
    summary_words: int = 50
    shortlink_base_url: str | None = None  # our redirector; None: the publisher's shortest link
    alerts_per_hour: int = SendPolicy.alerts_per_hour
    digest_max_items: int = SendPolicy.digest_max_items
    default_timezone: str = SendPolicy.default_timezone
    batch: int = SendPolicy.batch


def send_settings(settings: Settings) -> SendSettings:
    """Telegram's limits and our volume rules, from the settings."""
    return SendSettings(
        overall_per_second=settings.send_rate_per_second,
        summary_words=settings.summary_words,
        alerts_per_hour=settings.alerts_per_hour,
        default_timezone=settings.default_timezone,
        shortlink_base_url=settings.shortlink_base_url,
        batch=PAID_BATCH if settings.paid_broadcast != "off" else SendPolicy.batch,
    )


def send_budget(settings: Settings) -> SendBudget:
    """The one budget replies and the outbox spend (the bot's rate limiter serves it)."""
    return SendBudget(settings.send_rate_per_second)


def guarded_fetcher(settings: Settings) -> Fetcher:
    """The one HTTP client for feeds and article pages, with the settings' limits."""
    return Fetcher(
        allow_private=settings.allow_private_feed_urls,
        timeout=settings.fetch_timeout_seconds,
        max_bytes=settings.fetch_max_bytes,
        page_timeout=settings.page_timeout_seconds,
        page_max_bytes=settings.page_max_bytes,
    )


def bootstrap(
    settings: Settings,
    *,
    clock: Clock = time.time,
    bot: MessageBot | None = None,
    fetcher: Fetcher | None = None,
    budget: SendBudget | None = None,
    catalog: Catalog | None = None,
    foreground: Foreground | None = None,
) -> Rasd:
    """Open the database and build the index, fetcher, poll cycle, feed administration and
    (given a bot) the sender; `fetcher` replaces the settings' one (benchmarks). `bot` sends
    within `budget` (its rate limiter spends it: app.telegram_app), or needs no pacing (the
    demo's console); `foreground` counts the updates being answered (app.telegram_app)."""
    catalog = catalog or load_catalog()
    budget = budget or send_budget(settings)
    foreground = foreground or Foreground()
    db = open_database(settings.database_path)
    book = load_book(db)
    fetcher = fetcher or guarded_fetcher(settings)
    # Parsing, cleaning, language detection and /test matching spread over the cores.
    executor = parse_pool(settings.parse_workers) if settings.parse_workers else None
    notices = AdminNotices(db, catalog, settings.admin_ids, clock=clock)
    # Disk full or a lock held elsewhere: polling pauses, admins are told, /healthz shows it.
    writes = WriteHealth(on_start=notices.database_failing, on_end=notices.database_recovered)
    metrics = Metrics(db, writes)
    sender = None
    if bot is not None:
        paid = paid_lane(settings, db, clock, notices, bot)
        sender = build_sender(
            db, bot, catalog, clock=clock, sending=send_settings(settings), budget=budget,
            paid=paid, writes=writes, on_chat_moved=book.move_chat,
            on_sent=metrics.message_sent, on_failed=metrics.message_failed,
        )  # fmt: skip
        notices.wake = sender.wake
    wake = sender.wake if sender is not None else _nothing
    poller, feeds = feed_pipeline(
        settings, db, book, fetcher, clock=clock, executor=executor, writes=writes, wake=wake,
        on_feed_disabled=notices.feed_disabled, foreground=foreground,
    )  # fmt: skip
    services = Services(
        backend=Backend(db, book, settings, clock),
        catalog=catalog,
        feeds=feeds,
        wake_sender=wake,
        jobs=BackgroundJobs(),
        trials=Trials(executor=executor),
    )
    return Rasd(
        settings, clock, catalog, db, book, fetcher, executor, writes, metrics, notices,
        poller, feeds, sender, budget, services, foreground, _checkpointer(settings, db, metrics),
    )  # fmt: skip


def _checkpointer(settings: Settings, db: Database, metrics: Metrics) -> Checkpointer | None:
    """The thread that checkpoints the database's WAL, started last, once nothing else in the
    building can fail (none in memory); /metrics shows its health."""
    if str(settings.database_path) == ":memory:":
        return None
    checkpointer = Checkpointer(settings.database_path)
    checkpointer.start(db)
    metrics.watch_checkpoints(checkpointer)
    return checkpointer


def paid_lane(
    settings: Settings, db: Database, clock: Clock, notices: AdminNotices, bot: object
) -> PaidLane | None:
    """The paid lane the operator turned on (None: off, or a bot that cannot pay: the demo's
    console), its day's count kept in the database."""
    kinds = PAID_KINDS[settings.paid_broadcast]
    balance = getattr(bot, "get_my_star_balance", None)
    if not kinds or balance is None:
        return None
    return PaidLane(
        kinds,
        settings.paid_broadcast_stars_per_day,
        balance=balance,
        clock=clock,
        paid_on=lambda day: stats_store.sends_on(db, day)["paid"],
        on_closed=notices.paid_lane_closed,
    )


def load_book(db: Database) -> SubscriptionBook:
    """The index of every active keyword, built with the cyclic GC paused, then frozen."""
    # Every object the build makes lives as long as the bot: collections during the build only
    # walk them (7 s of 24 at a million subscriptions), and full ones after it would pause the
    # bot (318 ms at 100,000 subscriptions).
    collecting = gc.isenabled()
    gc.disable()
    try:
        book = SubscriptionBook.build(chat_store.active_keywords(db))
        for subscription in chat_store.subscriptions_with_ways(db):
            book.set_ways(subscription)
        load_scopes(db, book)
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    return book


def build_sender(
    db: Database,
    bot: MessageBot,
    catalog: Catalog,
    *,
    clock: Clock,
    sleep: Sleep = asyncio.sleep,
    sending: SendSettings = SendSettings(),
    budget: SendBudget | None = None,
    paid: PaidLane | None = None,
    writes: WriteHealth | None = None,
    on_chat_moved: Callable[[int, int], None] = lambda old, new: None,
    on_sent: Callable[[str, float], None] = lambda kind, seconds: None,
    on_failed: Callable[[str, str], None] = lambda kind, reason: None,
) -> Sender:
    """The outbox sender and its parts (the bot's, and the one tests and benchmarks drive).
    `budget`: the one the bot's rate limiter spends, so alerts and replies share Telegram's
    limits and replies go first; without it (a plain Bot) the bot is paced by a budget of its
    own. `paid`: the paid lane, when on (the budget hands out its slots). `writes` hears when
    the database refuses writes; the `on_*` callables feed metrics and the subscription
    index."""
    if budget is None:
        budget = SendBudget(
            sending.overall_per_second,
            clock=clock,
            sleep=sleep,
            private_gap=sending.private_gap,
            group_gap=sending.group_gap,
        )
        bot = PlainBot(bot, budget)
    budget.paid = paid  # built before the database it counts in: handed over here
    refused = RefusedWrites(db, writes if writes is not None else WriteHealth(), clock)
    composer = Composer(
        db,
        catalog,
        clock=clock,
        summary_words=sending.summary_words,
        shortlink_base_url=sending.shortlink_base_url,
    )
    transport = Transport(
        db,
        bot,
        refused,
        budget,
        clock=clock,
        paid=paid,
        max_attempts=sending.max_attempts,
        on_chat_moved=on_chat_moved,
        on_sent=on_sent,
        on_failed=on_failed,
    )
    policy = SendPolicy(
        alerts_per_hour=sending.alerts_per_hour,
        digest_max_items=sending.digest_max_items,
        default_timezone=sending.default_timezone,
        batch=sending.batch,
    )
    return Sender(db, composer, transport, refused, budget, clock=clock, sleep=sleep, policy=policy)


def feed_pipeline(
    settings: Settings,
    db: Database,
    book: SubscriptionBook,
    fetcher: Fetcher,
    *,
    clock: Clock,
    executor: Executor | None = None,
    writes: WriteHealth | None = None,
    wake: Callable[[], None] = lambda: None,
    on_feed_disabled: Callable[[Feed, int, str, str], None] = lambda *why: None,
    rng: random.Random | None = None,
    max_failures: int = MAX_CONSECUTIVE_FAILURES,
    max_feeds_per_cycle: int = DEFAULT_MAX_FEEDS_PER_CYCLE,
    import_concurrency: int = DEFAULT_IMPORT_CONCURRENCY,
    foreground: Foreground | None = None,
) -> tuple[Poller, FeedAdmin]:
    """The poll cycle and feed administration, sharing parsing, intake, schedule and turns
    (the bot's, and the one tests and benchmarks drive without a bot); `wake` hears when
    alerts were queued; `rng`, `max_failures`, `max_feeds_per_cycle` and
    `import_concurrency` replace the defaults (tests); `foreground` counts the updates being
    answered, which the cycle lets go first."""
    preparer = Preparer(
        executor,
        max_text_chars=settings.article_max_chars,
        max_title_chars=settings.title_max_chars,
    )
    schedule = FeedSchedule(
        db,
        interval_seconds=settings.poll_interval_seconds,
        quiet_cap_seconds=settings.quiet_feed_max_seconds,
        rng=rng,
        max_failures=max_failures,
        on_feed_disabled=on_feed_disabled,
    )
    intake = Intake(db, book)
    with db.atomic():
        intake.requeue_owed(clock())  # the alerts a stop left owed (none, nearly always)
    work = FeedWork(db, fetcher, preparer, intake, schedule, foreground=foreground or Foreground())
    fulltext = page_stage(settings, db, fetcher, executor, clock) if settings.full_text else None
    poller = Poller(
        work,
        clock=clock,
        on_queued=wake,
        writes=writes,
        fulltext=fulltext,
        max_feeds_per_cycle=max_feeds_per_cycle,
    )
    return poller, FeedAdmin(work, clock=clock, import_concurrency=import_concurrency)


def _nothing() -> None:
    """Nothing to wake: no sender in this process."""


def page_stage(
    settings: Settings, db: Database, fetcher: Fetcher, executor: Executor | None, clock: Clock
) -> FullText:
    """Teaser feeds' new items read from their pages, politely and within a bound."""
    pages = PageFetcher(fetcher, pages_per_cycle=settings.pages_per_cycle, clock=time.monotonic)
    return FullText(
        db,
        pages,
        executor,
        clock=clock,
        max_text_chars=settings.article_max_chars,
        bound_seconds=settings.page_wait_seconds,
    )
