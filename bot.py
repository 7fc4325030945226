"""Rasd (رصد): a Telegram alert bot for Arabic news. The composition root and command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from telegram import BotCommand, BotCommandScopeDefault, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults

from core.i18n import LANGUAGES, Catalog, load_catalog
from core.settings import Settings, SettingsError, load_settings, read_dotenv
from core.subscriptions import SubscriptionBook
from delivery.broadcasts import report_broadcasts
from delivery.logs import setup_logging
from delivery.poll import Poller
from delivery.sender import Sender, SendPolicy
from feeds.fetch import Fetcher
from handlers import USER_COMMANDS, register
from handlers.services import Services
from storage import chats as chat_store
from storage.db import open_database

log = logging.getLogger("rasd")

ROOT = Path(__file__).resolve().parent
MENU_COMMANDS = ["add", "list", "remove", "test", "settings", "stop", "help"]

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
    dotenv = root / ".env"
    values = read_dotenv(dotenv.read_text(encoding="utf-8")) if dotenv.exists() else {}
    return {**values, **os.environ}


def file_base_url(api_base_url: str) -> str:
    """Telegram serves files under /file/bot<token>/ beside /bot<token>/."""
    base = api_base_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("bot")] + "file/bot"
    return base + "/file/bot"


async def poll_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one repeating job: poll whatever feeds are due."""
    report = await context.application.bot_data["poller"].run_once()
    if report.feeds_checked:
        log.info(
            "poll cycle",
            extra={
                "feeds": report.feeds_checked,
                "failed": report.feeds_failed,
                "new_articles": report.articles_new,
                "alerts_queued": report.alerts_queued,
            },
        )


async def broadcast_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edit the progress message of running broadcasts; summarize finished ones."""
    data = context.application.bot_data
    svc: Services = data["services"]
    await report_broadcasts(
        svc.db, context.bot, svc.catalog, clock=svc.clock, rate=svc.settings.send_rate_per_second
    )


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log a handler's failure and tell the user kindly that nothing was lost."""
    log.error("handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        svc: Services = context.application.bot_data["services"]
        language = "ar"
        if update.effective_user and update.effective_user.language_code:
            from core.i18n import pick_language

            language = pick_language(update.effective_user.language_code)
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

    async def post_init(application: Application) -> None:
        db = open_database(settings.database_path)
        book = SubscriptionBook.build(chat_store.all_subscriptions(db))
        fetcher = Fetcher(
            allow_private=settings.allow_private_feed_urls,
            timeout=settings.fetch_timeout_seconds,
            max_bytes=settings.fetch_max_bytes,
        )
        sender = Sender(
            db,
            application.bot,
            catalog,
            clock=clock,
            policy=SendPolicy(
                overall_per_second=settings.send_rate_per_second,
                summary_words=settings.summary_words,
            ),
            on_chat_moved=book.move_chat,
        )
        poller = Poller(
            db,
            fetcher,
            book,
            clock=clock,
            interval_seconds=settings.poll_interval_seconds,
            on_queued=sender.wake,
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
            ),
            poller=poller,
            sender=sender,
            fetcher=fetcher,
            db=db,
        )
        application.job_queue.run_repeating(
            poll_tick,
            interval=min(settings.poll_interval_seconds, 10.0),
            first=0.1,
            name="poll",
            job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )
        application.job_queue.run_repeating(
            broadcast_tick,
            interval=3.0,
            first=1.0,
            name="broadcast-progress",
            job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )
        application.bot_data["sender_task"] = asyncio.create_task(sender.run(), name="sender")
        await set_commands(application, catalog)
        log.info(
            "Rasd started",
            extra={"subscriptions": len(book), "database": str(settings.database_path)},
        )

    async def post_stop(application: Application) -> None:
        sender: Sender = application.bot_data["sender"]
        sender.stop()
        await application.bot_data["sender_task"]

    async def post_shutdown(application: Application) -> None:
        await application.bot_data["fetcher"].aclose()
        application.bot_data["db"].conn.close()

    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_base_url(settings.telegram_api_base_url))
        .rate_limiter(AIORateLimiter(overall_max_rate=settings.send_rate_per_second, max_retries=0))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        )
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    register(application)
    application.add_error_handler(on_error)
    return application


def run_bot(settings: Settings) -> int:
    """Run with long polling until interrupted."""
    if not settings.has_token:
        print(NO_TOKEN_HELP, file=sys.stderr)
        return 2
    application = build_application(settings)
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    return 0


def run_match(keyword: str, lines: list[str], out) -> int:
    """`match`: 1<TAB>matched words, or 0, for each input line (the bot's own code path)."""
    from core.matcher import find_matches
    from core.models import Subscription
    from core.query import QueryError, parse_query

    try:
        query = parse_query(keyword)
    except QueryError as error:
        print(f"refused keyword {keyword!r}: {error.code} {error.params}", file=sys.stderr)
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
    if args.demo:
        from delivery.demo import run_demo

        return asyncio.run(run_demo(once=args.once))
    return run_bot(settings)


if __name__ == "__main__":
    sys.exit(main())
