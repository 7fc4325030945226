"""Rasd under python-telegram-bot: the Application, its jobs, and how it starts and stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeDefault,
    LinkPreviewOptions,
    MenuButtonWebApp,
    Update,
    WebAppInfo,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
)
from telegram.request import BaseRequest

from app.bootstrap import Clock, Rasd, bootstrap, send_budget
from core.i18n import LANGUAGES, Catalog, pick_language
from core.settings import Settings, SettingsError, is_loopback_url
from delivery.broadcasts import report_broadcasts
from delivery.ratelimit import BotRateLimiter, SendBudget
from delivery.sender import Sender
from handlers import USER_COMMANDS, register
from handlers.context import BotData, TurnContext
from intake.foreground import Foreground
from intake.poll import PollReport
from miniapp import PREFIX as MINIAPP_PREFIX
from miniapp import make_miniapp
from service.surges import CHECK_SECONDS as SURGE_CHECK_SECONDS
from service.surges import SurgeWatch
from storage import chats as chat_store
from storage import maintenance
from web.metrics import Metrics
from web.server import HealthSource, Webhook, WebServer, make_web_app, start_web, webhook_name

log = logging.getLogger("rasd")

MENU_BUTTON_TASK = "menu_button"  # in the maintenance table while the bot's button is set
MENU_COMMANDS = [
    "add",
    "list",
    "remove",
    "test",
    "settings",
    "pause",
    "resume",
    "channel",
    "stats",
    "mydata",
    "stop",
    "help",
]


class AppData(BotData):
    """application.bot_data of the running bot: what handlers see, and the parts behind it."""

    rasd: Rasd
    web: WebServer
    sender_task: asyncio.Task[None]
    surges: SurgeWatch  # the last hour's stories, weighed for surges by surge_tick

    @property
    def sender(self) -> Sender:
        """The outbox sender (the running bot always has one)."""
        assert self.rasd.sender is not None
        return self.rasd.sender


AppContext = TurnContext[AppData]
RasdApplication = Application[Any, AppContext, dict[Any, Any], dict[Any, Any], AppData, Any]


class ForegroundApplication(RasdApplication):
    """The Application, each update counted as someone being answered while it is handled: the
    poll cycle takes no new turn at the database meanwhile (intake.foreground)."""

    def __init__(self, *, foreground: Foreground, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.foreground = foreground

    async def process_update(self, update: object) -> None:
        """Handle one update as python-telegram-bot does, counted while it runs."""
        with self.foreground.handling():
            await super().process_update(update)


def file_base_url(api_base_url: str) -> str:
    """Telegram serves files under /file/bot<token>/ beside /bot<token>/."""
    base = api_base_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("bot")] + "file/bot"
    return base + "/file/bot"


async def poll_tick(context: AppContext) -> None:
    """The one repeating job: poll whatever feeds are due (a tick that comes while the last
    cycle still runs finds run_once return at once: that cycle says once, when it ends, that it
    ran long)."""
    rasd = context.bot_data.rasd
    for paged in rasd.poller.take_paged():  # teaser feeds stored once their pages came
        record_poll_metrics(rasd.metrics, paged)
    started = rasd.clock()
    report = await rasd.poller.run_once()
    record_poll_metrics(rasd.metrics, report)
    took, interval = rasd.clock() - started, rasd.settings.poll_interval_seconds
    if took > interval and not report.stopped:
        log.info(
            "poll cycle longer than POLL_INTERVAL_SECONDS: feeds are checked late",
            extra={"seconds": round(took, 1), "interval_seconds": interval},
        )
    if report.feeds_checked:
        log.info(
            "poll cycle",
            extra={
                "feeds": report.feeds_checked,
                "failed": report.feeds_failed,
                "new_articles": report.articles_new,
                "alerts_queued": report.alerts_queued,
                "not_stored": report.database_refused,
            },
        )


def every(
    application: RasdApplication, callback, interval: float, *, first: float, overlap: int = 1
) -> None:
    """A repeating job that never skips a late run (PTB sets no job defaults, and APScheduler's
    own would drop a run more than a second late) and runs at most `overlap` times at once
    (APScheduler warns at each tick that finds that many running)."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without its [job-queue] extra")
    job_queue.run_repeating(
        callback,
        interval=interval,
        first=first,
        name=callback.__name__,
        job_kwargs={"max_instances": overlap, "coalesce": True, "misfire_grace_time": None},
    )


def record_poll_metrics(metrics: Metrics, report: PollReport) -> None:
    """Count one poll cycle in /metrics."""
    for _ in range(report.feeds_checked - report.feeds_failed - report.database_refused):
        metrics.feed_polled(None)
    for kind in report.error_kinds.values():
        metrics.feed_polled(kind)
    metrics.articles_stored(report.articles_new)
    metrics.alert_queued(report.alerts_queued)


async def broadcast_tick(context: AppContext) -> None:
    """Edit the progress message of running broadcasts; summarize finished ones."""
    rasd = context.bot_data.rasd
    await report_broadcasts(
        rasd.db,
        context.bot,
        rasd.catalog,
        clock=rasd.clock,
        rate=rasd.settings.send_rate_per_second,
    )


async def surge_tick(context: AppContext) -> None:
    """Every ten minutes: notices for the followed keywords that surge (service.surges)."""
    data = context.bot_data
    if data.surges.check(data.rasd.services.backend, data.rasd.catalog):
        data.sender.wake()


async def maintenance_tick(context: AppContext) -> None:
    """Once a day: prune old articles and chats that have been unreachable for too long."""
    rasd = context.bot_data.rasd
    now, settings = rasd.clock(), rasd.settings
    report = maintenance.prune_if_due(rasd.db, now=now, retention_days=settings.retention_days)
    if report is not None:
        gone = chat_store.purge_inactive(
            rasd.db, before=now - settings.inactive_retention_days * 86400
        )
        for chat_id in gone:
            rasd.book.remove_chat(chat_id)
        log.info(
            "maintenance",
            extra={
                "articles_pruned": report.articles,
                "outbox_pruned": report.outbox_rows,
                "inactive_chats_removed": len(gone),
            },
        )


async def on_error(update: object, context: AppContext) -> None:
    """Log a handler's failure and tell the user kindly that nothing was lost."""
    log.error("handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        user = update.effective_user
        language = pick_language(user.language_code if user else None)
        catalog = context.bot_data.rasd.catalog
        await update.effective_message.reply_text(catalog.text(language, "error_generic"))


async def set_menus(application: RasdApplication, rasd: Rasd) -> None:
    """The command menu, and (with WEBAPP_URL) the menu button that opens the Mini App."""
    await set_commands(application, rasd.catalog)
    await set_menu_button(application, rasd)


async def set_commands(application: RasdApplication, catalog: Catalog) -> None:
    """Register the command menu with Arabic descriptions (English for English clients)."""
    for language in LANGUAGES:
        commands = [
            BotCommand(name, catalog.text(language, f"cmd_{name}"))
            for name in MENU_COMMANDS
            if name in USER_COMMANDS
        ]
        await application.bot.set_my_commands(
            commands,
            scope=BotCommandScopeDefault(),
            language_code=None if language == "ar" else language,
        )


async def set_menu_button(application: RasdApplication, rasd: Rasd) -> None:
    """With WEBAPP_URL, the menu button of private chats opens the Mini App; once it is unset,
    the button the bot set goes back to Telegram's default (one set in BotFather is left)."""
    url, db = rasd.settings.webapp_url, rasd.db
    if not url:
        if maintenance.last_run(db, MENU_BUTTON_TASK) is not None:
            with contextlib.suppress(TelegramError):  # tried again at the next start
                await application.bot.set_chat_menu_button()
                maintenance.forget(db, MENU_BUTTON_TASK)
        return
    if is_loopback_url(url) and url.startswith("http:"):
        log.warning(
            "WEBAPP_URL is plain http on a loopback address: fine for tests, "
            "but Telegram opens Mini Apps over https only"
        )
    button = MenuButtonWebApp(text="رصد", web_app=WebAppInfo(url))
    try:
        await application.bot.set_chat_menu_button(menu_button=button)
    except TelegramError as error:  # Telegram refuses http: the bot runs on without the button
        log.warning("the menu button could not be set", extra={"error": str(error)})
    else:
        maintenance.remember(db, MENU_BUTTON_TASK, rasd.clock(), url)


async def start_web_face(application: RasdApplication, rasd: Rasd) -> WebServer:
    """Short links, /healthz, /metrics and (with WEBHOOK_URL) the webhook route."""
    settings, sender = rasd.settings, application.bot_data.sender
    webhook = None
    if settings.webhook_url:

        async def on_update(data: dict) -> None:
            await application.update_queue.put(Update.de_json(data, application.bot))

        webhook = Webhook(webhook_name(settings.webhook_url), settings.webhook_secret, on_update)
    health = HealthSource(
        settings.poll_interval_seconds,
        rasd.clock(),
        last_poll_success=lambda: rasd.poller.last_success_at,
        last_telegram_error=lambda: sender.transport.last_error,
        refused_writes=rasd.writes.refusing,
    )
    web_app = make_web_app(
        db=rasd.db,
        catalog=rasd.catalog,
        metrics=rasd.metrics,
        health=health,
        clock=rasd.clock,
        webhook=webhook,
        allow_private_targets=settings.allow_private_feed_urls,
        mounted={
            MINIAPP_PREFIX: make_miniapp(
                rasd.services.backend,
                rasd.catalog,
                rasd.services.trials,
                settings.telegram_bot_token,
                rasd.metrics.miniapp_auth_refused,
                handling=rasd.foreground.handling,
            )
        },
    )
    try:
        return await start_web(web_app, settings.web_host, settings.web_port)
    except OSError as error:
        raise SettingsError(
            f"cannot listen on WEB_HOST:WEB_PORT ({settings.web_host}:{settings.web_port}): "
            f"{error.strerror or error}; choose another WEB_PORT"
        ) from None


def schedule_jobs(application: RasdApplication, settings: Settings) -> None:
    """The repeating jobs: polling, broadcast progress, daily maintenance."""
    # A tick during a long cycle returns at once (Poller.run_once), instead of a warning a tick.
    every(application, poll_tick, min(settings.poll_interval_seconds, 10.0), first=0.1, overlap=2)
    every(application, broadcast_tick, 3.0, first=1.0)
    every(application, maintenance_tick, 3600.0, first=60.0)
    every(application, surge_tick, SURGE_CHECK_SECONDS, first=30.0)


def application_builder(
    settings: Settings, budget: SendBudget, foreground: Foreground
) -> ApplicationBuilder:
    """PTB's builder with our Application, token, API server, context types, rate limiter
    (spending `budget`) and defaults (HTML, no link previews)."""
    return (
        ApplicationBuilder()
        .application_class(ForegroundApplication, kwargs={"foreground": foreground})
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_base_url(settings.telegram_api_base_url))
        .context_types(ContextTypes(context=TurnContext, bot_data=AppData))
        .rate_limiter(BotRateLimiter(budget))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        )
    )


def build_application(
    settings: Settings, *, clock: Clock = time.time, request: BaseRequest | None = None
) -> RasdApplication:
    """The python-telegram-bot Application with every part of Rasd wired in (built by
    app.bootstrap when it starts); `request` replaces PTB's HTTP transport (tests/offline.py)."""
    # PTB 23's timedelta durations (RetryAfter.retry_after) now, without warnings; the bot
    # reads either form, so this only keeps the logs quiet.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    # One budget for replies and the outbox, so together they keep Telegram's limits.
    budget = send_budget(settings)
    foreground = Foreground()  # the updates being answered: the poll cycle lets them go first

    async def post_init(application: RasdApplication) -> None:
        rasd = bootstrap(
            settings, clock=clock, bot=application.bot, budget=budget, foreground=foreground
        )
        data = application.bot_data
        data.rasd, data.services = rasd, rasd.services
        data.surges = SurgeWatch()
        data.web = await start_web_face(application, rasd)
        schedule_jobs(application, settings)
        data.sender_task = asyncio.create_task(data.sender.run(), name="sender")
        await set_menus(application, rasd)
        log.info(
            "Rasd started",
            extra={"subscriptions": len(rasd.book), "database": str(settings.database_path)},
        )

    async def post_stop(application: RasdApplication) -> None:
        # No update is handled any more: let admin jobs finish briefly, then cancel them
        # (each says so on its message) while the bot, fetcher and database are still open.
        data = application.bot_data
        data.sender.stop()
        await asyncio.gather(data.services.jobs.shutdown(), data.sender_task, data.web.stop())

    async def post_shutdown(application: RasdApplication) -> None:
        await application.bot_data.rasd.aclose()

    builder = (
        application_builder(settings, budget, foreground)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if settings.webhook_url:
        builder = builder.updater(None)  # updates arrive on our web server's webhook route
    application = builder.build()
    register(application)
    application.add_error_handler(on_error)
    return application


async def start_application(
    application: RasdApplication, settings: Settings, *, poll_timeout: int = 10
) -> None:
    """Start the way run_polling does; with WEBHOOK_URL, register the webhook instead."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    if settings.webhook_url:
        await application.bot.set_webhook(
            settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    elif application.updater is None:
        raise RuntimeError("polling without WEBHOOK_URL needs the application's Updater")
    else:
        await application.updater.start_polling(
            poll_interval=0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
        )
    await application.start()


async def stop_application(application: RasdApplication) -> None:
    """Stop in the order run_polling uses, so the sender finishes what is in flight; the poll
    cycle is cut short first (PTB's stop would wait for it, and a fetch may hang)."""
    rasd: Rasd | None = getattr(application.bot_data, "rasd", None)
    if rasd is not None:
        rasd.poller.stop()
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    await application.stop()
    if application.post_stop is not None:
        await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)
