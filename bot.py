"""Rasd (رصد): a Telegram alert bot for Arabic news. The composition root and command line."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from dotenv import dotenv_values
from telegram import BotCommand, BotCommandScopeDefault, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from core.i18n import LANGUAGES, Catalog, load_catalog, pick_language
from core.settings import Settings, SettingsError, load_settings
from core.subscriptions import SubscriptionBook
from core.write_health import WriteHealth
from delivery.broadcasts import report_broadcasts
from delivery.logs import setup_logging
from delivery.notices import AdminNotices
from delivery.poll import Poller, PollReport, parse_pool
from delivery.ratelimit import BotRateLimiter, SendBudget
from delivery.sender import Sender, SendPolicy
from feeds.fetch import Fetcher
from handlers import USER_COMMANDS, register
from handlers.jobs import BackgroundJobs
from handlers.services import Services
from handlers.trial import Trials
from storage import chats as chat_store
from storage import maintenance
from storage.db import open_database
from web.metrics import Metrics
from web.server import HealthSource, Webhook, make_web_app, start_web, webhook_name

log = logging.getLogger("rasd")

ROOT = Path(__file__).resolve().parent
MENU_COMMANDS = [
    "add",
    "list",
    "remove",
    "test",
    "settings",
    "pause",
    "resume",
    "channel",
    "mydata",
    "stop",
    "help",
]

NO_TOKEN_HELP = """\
Rasd needs a Telegram bot token to run for real.

  1. Talk to @BotFather in Telegram, send /newbot, and copy the token it gives you.
  2. Put it in the environment or in a .env file next to bot.py:
        TELEGRAM_BOT_TOKEN=123456789:AA...
        ADMIN_IDS=<your numeric Telegram user id>
  3. Run: python bot.py

To see what Rasd does without a token, run the offline demo over bundled sample feeds:
        python bot.py --demo
"""


def environment(root: Path = ROOT) -> dict[str, str]:
    """The process environment over the values of a .env file, if there is one."""
    values = dotenv_values(root / ".env", encoding="utf-8")  # {} when there is no such file
    return {**{k: v for k, v in values.items() if v is not None}, **os.environ}


def file_base_url(api_base_url: str) -> str:
    """Telegram serves files under /file/bot<token>/ beside /bot<token>/."""
    base = api_base_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("bot")] + "file/bot"
    return base + "/file/bot"


async def poll_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one repeating job: poll whatever feeds are due."""
    data = context.application.bot_data
    report = await data["poller"].run_once()
    record_poll_metrics(data["metrics"], report)
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


def every(application: Application, callback, interval: float, *, first: float) -> None:
    """A repeating job that never runs twice at once and never skips a late run: PTB sets no
    job defaults, and APScheduler's own would drop a run more than a second late."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without its [job-queue] extra")
    job_queue.run_repeating(
        callback,
        interval=interval,
        first=first,
        name=callback.__name__,
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )


def record_poll_metrics(metrics: Metrics, report: PollReport) -> None:
    """Count one poll cycle in /metrics."""
    for _ in range(report.feeds_checked - report.feeds_failed - report.database_refused):
        metrics.feed_polled(None)
    for kind in report.error_kinds.values():
        metrics.feed_polled(kind)
    metrics.articles_stored(report.articles_new)
    metrics.alert_queued(report.alerts_queued)


async def broadcast_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edit the progress message of running broadcasts; summarize finished ones."""
    data = context.application.bot_data
    svc: Services = data["services"]
    await report_broadcasts(
        svc.db, context.bot, svc.catalog, clock=svc.clock, rate=svc.settings.send_rate_per_second
    )


async def maintenance_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Once a day: prune old articles and chats that have been unreachable for too long."""
    svc: Services = context.application.bot_data["services"]
    now = svc.clock()
    report = maintenance.prune_if_due(svc.db, now=now, retention_days=svc.settings.retention_days)
    if report is not None:
        gone = chat_store.purge_inactive(
            svc.db, before=now - svc.settings.inactive_retention_days * 86400
        )
        for chat_id in gone:
            svc.book.remove_chat(chat_id)
        log.info(
            "maintenance",
            extra={
                "articles_pruned": report.articles,
                "outbox_pruned": report.outbox_rows,
                "inactive_chats_removed": len(gone),
            },
        )


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log a handler's failure and tell the user kindly that nothing was lost."""
    log.error("handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        svc: Services = context.application.bot_data["services"]
        user = update.effective_user
        language = pick_language(user.language_code if user else None)
        await update.effective_message.reply_text(svc.catalog.text(language, "error_generic"))


async def set_commands(application: Application, catalog: Catalog) -> None:
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


def build_application(settings: Settings, *, clock: Callable[[], float] = time.time) -> Application:
    """The python-telegram-bot Application with every part of Rasd wired in."""
    catalog = load_catalog()
    # One budget for replies and the outbox, so together they keep Telegram's limits.
    budget = SendBudget(settings.send_rate_per_second)

    async def post_init(application: Application) -> None:
        db = open_database(settings.database_path)
        book = SubscriptionBook.build(chat_store.all_subscriptions(db))
        # A large index is a million long-lived objects: keep them out of full collections
        # (a 318 ms pause at 100,000 subscriptions otherwise).
        gc.freeze()
        fetcher = Fetcher(
            allow_private=settings.allow_private_feed_urls,
            timeout=settings.fetch_timeout_seconds,
            max_bytes=settings.fetch_max_bytes,
        )
        notices = AdminNotices(db, catalog, settings.admin_ids, clock=clock)
        # Disk full or a lock held elsewhere: polling pauses, admins are told, /healthz shows it.
        writes = WriteHealth(on_start=notices.database_failing, on_end=notices.database_recovered)
        metrics = Metrics(db, writes)
        sender = Sender(
            db,
            application.bot,
            catalog,
            clock=clock,
            policy=SendPolicy(
                overall_per_second=settings.send_rate_per_second,
                summary_words=settings.summary_words,
                alerts_per_hour=settings.alerts_per_hour,
                default_timezone=settings.default_timezone,
                shortlink_base_url=settings.shortlink_base_url,
            ),
            on_chat_moved=book.move_chat,
            on_sent=metrics.message_sent,
            on_failed=metrics.message_failed,
            budget=budget,
            writes=writes,
        )
        notices.wake = sender.wake
        executor = None
        if settings.parse_workers:
            # Parsing, cleaning and language detection spread over the cores.
            executor = parse_pool(settings.parse_workers)

        poller = Poller(
            db,
            fetcher,
            book,
            clock=clock,
            interval_seconds=settings.poll_interval_seconds,
            executor=executor,
            on_queued=sender.wake,
            on_feed_disabled=notices.feed_disabled,
            writes=writes,
            max_text_chars=settings.article_max_chars,
            max_title_chars=settings.title_max_chars,
        )
        application.bot_data.update(
            services=Services(
                db=db,
                settings=settings,
                catalog=catalog,
                book=book,
                clock=clock,
                add_feed=poller.add_feed,
                wake_sender=sender.wake,
                import_opml=poller.import_opml,
                export_opml=poller.export_opml,
                jobs=BackgroundJobs(),
                trials=Trials(executor=executor),
            ),
            poller=poller,
            sender=sender,
            fetcher=fetcher,
            db=db,
            metrics=metrics,
            writes=writes,
            executor=executor,
        )
        webhook = None
        if settings.webhook_url:

            async def on_update(data: dict) -> None:
                await application.update_queue.put(Update.de_json(data, application.bot))

            webhook = Webhook(
                webhook_name(settings.webhook_url), settings.webhook_secret, on_update
            )
        health = HealthSource(
            settings.poll_interval_seconds,
            clock(),
            last_poll_success=lambda: poller.last_success_at,
            last_telegram_error=lambda: sender.last_error,
            refused_writes=writes.refusing,
        )
        web_app = make_web_app(
            db=db,
            metrics=metrics,
            health=health,
            clock=clock,
            webhook=webhook,
            allow_private_targets=settings.allow_private_feed_urls,
        )
        try:
            application.bot_data["web"] = await start_web(
                web_app, settings.web_host, settings.web_port
            )
        except OSError as error:
            raise SettingsError(
                f"cannot listen on WEB_HOST:WEB_PORT ({settings.web_host}:{settings.web_port}): "
                f"{error.strerror or error}; choose another WEB_PORT"
            ) from None
        every(application, poll_tick, min(settings.poll_interval_seconds, 10.0), first=0.1)
        every(application, broadcast_tick, 3.0, first=1.0)
        every(application, maintenance_tick, 3600.0, first=60.0)
        application.bot_data["sender_task"] = asyncio.create_task(sender.run(), name="sender")
        await set_commands(application, catalog)
        log.info(
            "Rasd started",
            extra={"subscriptions": len(book), "database": str(settings.database_path)},
        )

    async def post_stop(application: Application) -> None:
        # No update is handled any more: let admin jobs finish briefly, then cancel them
        # (each says so on its message) while the bot, fetcher and database are still open.
        await application.bot_data["services"].jobs.shutdown()
        sender: Sender = application.bot_data["sender"]
        sender.stop()
        await application.bot_data["sender_task"]
        await application.bot_data["web"].stop()

    async def post_shutdown(application: Application) -> None:
        await application.bot_data["fetcher"].aclose()
        if application.bot_data["executor"] is not None:
            application.bot_data["executor"].shutdown(wait=True, cancel_futures=True)
        application.bot_data["db"].conn.close()

    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_base_url(settings.telegram_api_base_url))
        .rate_limiter(BotRateLimiter(budget))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        )
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    if settings.webhook_url:
        builder = builder.updater(None)  # updates arrive on our web server's webhook route
    application = builder.build()
    register(application)
    application.add_error_handler(on_error)
    return application


async def start_application(
    application: Application, settings: Settings, *, poll_timeout: int = 10
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


async def stop_application(application: Application) -> None:
    """Stop in the order run_polling uses, so the sender finishes what is in flight."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    await application.stop()
    if application.post_stop is not None:
        await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


async def serve(application: Application, settings: Settings) -> None:
    """Run until SIGINT or SIGTERM."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await start_application(application, settings)
    mode = "webhook" if settings.webhook_url else "polling"
    log.info("Rasd running", extra={"mode": mode, "web": application.bot_data["web"].url})
    try:
        await stopping.wait()
    finally:
        await stop_application(application)


def run_bot(settings: Settings) -> int:
    """Run with long polling (or a webhook when WEBHOOK_URL is set) until interrupted."""
    if not settings.has_token:
        print(NO_TOKEN_HELP, file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(build_application(settings), settings))
    except SettingsError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    except InvalidToken:
        print("Telegram refused TELEGRAM_BOT_TOKEN: check it with @BotFather.", file=sys.stderr)
        return 2
    except NetworkError as error:
        print(
            f"Error: cannot reach the Bot API at {settings.telegram_api_base_url} "
            f"({type(error).__name__}); check TELEGRAM_API_BASE_URL and the network.",
            file=sys.stderr,
        )
        return 2
    return 0


async def run_opml(settings: Settings, args: argparse.Namespace) -> int:
    """`import-opml FILE` adds feeds (each fetched once, like /addfeed); `export-opml` prints."""
    db = open_database(settings.database_path)
    async with Fetcher(
        allow_private=settings.allow_private_feed_urls,
        timeout=settings.fetch_timeout_seconds,
        max_bytes=settings.fetch_max_bytes,
    ) as fetcher:
        poller = Poller(
            db,
            fetcher,
            SubscriptionBook(),
            clock=time.time,
            interval_seconds=settings.poll_interval_seconds,
            max_text_chars=settings.article_max_chars,
            max_title_chars=settings.title_max_chars,
        )
        if args.command == "export-opml":
            sys.stdout.write(poller.export_opml().decode("utf-8"))
            return 0
        try:
            data = Path(args.file).read_bytes()  # noqa: ASYNC240 (a CLI, nothing else runs)
        except OSError as error:
            print(f"cannot read {args.file}: {error}", file=sys.stderr)
            return 2
        report = await poller.import_opml(data, added_by=None)
    if report.error:
        print(f"not an OPML file: {report.error}", file=sys.stderr)
        return 2
    for url, title in report.added:
        print(f"added  {url}  ({title})")
    for url in report.already:
        print(f"known  {url}")
    for url, reason in report.failed:
        print(f"failed {url}: {reason}")
    print(
        f"{len(report.added)} added, {len(report.already)} already there, "
        f"{len(report.failed)} failed"
    )
    return 1 if report.failed and not report.added else 0


def run_backup(settings: Settings, destination: str) -> int:
    """`backup`: a consistent copy of the database, even while the bot writes to it."""
    try:
        maintenance.backup(settings.database_path, Path(destination))
    except FileNotFoundError:
        print(f"no database at {settings.database_path}", file=sys.stderr)
        return 2
    except maintenance.BackupRefused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 2
    print(f"backed up {settings.database_path} to {destination}")
    return 0


def run_match(keyword: str, lines: list[str], out) -> int:
    """`match`: 1<TAB>matched words, or 0, for each input line (the bot's own code path)."""
    from core.matcher import find_matches
    from core.models import Subscription
    from core.query import QueryError, parse_query

    try:
        query = parse_query(keyword)
    except QueryError as error:
        why = load_catalog().text("en", f"refused_{error.code}", keyword=keyword, **error.params)
        print(f"refused keyword {keyword!r} ({error.code}): {why}", file=sys.stderr)
        return 2
    book = SubscriptionBook()
    book.add(Subscription(1, 1, query.raw, query.key), query)
    for line in lines:
        text = line.rstrip("\n")
        if book.match(text):
            words = [text[start:end] for start, end in find_matches(query, text)]
            out.write("1\t" + " ".join(words) + "\n")
        else:
            out.write("0\n")
    return 0


def run_summarize(source: str | None, words: int, title: str, out) -> int:
    """`summarize`: the summary of a text or HTML file (or standard input), as alerts make it."""
    from core.summary import summarize
    from core.text import clean_article

    try:
        raw = sys.stdin.read() if source in (None, "-") else Path(source).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"cannot read {source}: {error}", file=sys.stderr)
        return 2
    sentences = summarize(clean_article(title, raw), title=title, max_words=words)
    if not sentences:
        print("(no summary: the text is too short or a placeholder)", file=sys.stderr)
        return 1
    out.write("\n".join(sentences) + "\n")
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="bot.py",
        description="Rasd (رصد): Telegram alerts for Arabic news keywords.",
        epilog="Settings come from the environment or a .env file; see README.md.",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run offline over bundled sample feeds and print the alerts",
    )
    parser.add_argument(
        "--once", action="store_true", help="with --demo: one poll cycle, then exit"
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    match = sub.add_parser("match", help="match a keyword against lines of standard input")
    match.add_argument("keyword")
    summary = sub.add_parser("summarize", help="print the summary of a text or HTML file")
    summary.add_argument("file", nargs="?", help="a UTF-8 file; standard input when omitted")
    summary.add_argument("--words", type=int, default=50, help="word budget (default 50)")
    summary.add_argument("--title", default="", help="the article's title, never repeated")
    importer = sub.add_parser("import-opml", help="add every feed of an OPML file")
    importer.add_argument("file")
    sub.add_parser("export-opml", help="print every feed as OPML")
    backup = sub.add_parser("backup", help="copy the database consistently, even while running")
    backup.add_argument("path", help="where to write the copy")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Entry point."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Opt in to PTB 23's timedelta durations now (RetryAfter.retry_after), without warnings.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    if args.command == "match":
        return run_match(args.keyword, sys.stdin.readlines(), sys.stdout)
    if args.command == "summarize":
        return run_summarize(args.file, args.words, args.title, sys.stdout)
    try:
        settings = load_settings(environment() if env is None else env)
    except SettingsError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.telegram_bot_token)
    if args.command == "backup":
        return run_backup(settings, args.path)
    if args.command in ("import-opml", "export-opml"):
        return asyncio.run(run_opml(settings, args))
    if args.demo:
        from delivery.demo import run_demo

        return asyncio.run(run_demo(once=args.once))
    return run_bot(settings)


if __name__ == "__main__":
    sys.exit(main())
