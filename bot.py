"""Rasd (رصد): a Telegram alert bot for Arabic news. The command line (the parts are built in
app.bootstrap, run under python-telegram-bot by app.telegram_app)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from telegram.error import InvalidToken, NetworkError

import core
from app.bootstrap import bootstrap
from app.logs import setup_logging
from app.telegram_app import RasdApplication, build_application, start_application, stop_application
from core.i18n import load_catalog
from core.settings import Settings, SettingsError, load_settings
from core.subscriptions import SubscriptionBook
from service import feeds
from storage import maintenance
from storage.lock import DatabaseBusy, DatabaseLock

log = logging.getLogger("rasd")

ROOT = Path(__file__).resolve().parent
STOP_DEADLINE_SECONDS = 4.5  # from SIGINT/SIGTERM to exit, whatever is in flight
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


async def serve(application: RasdApplication, settings: Settings) -> None:
    """Run until SIGINT or SIGTERM."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await start_application(application, settings)
    mode = "webhook" if settings.webhook_url else "polling"
    matcher = "compiled (mypyc)" if core.NATIVE else f"Python ({core.NATIVE_ERROR})"
    log.info(
        "Rasd running",
        extra={"mode": mode, "web": application.bot_data.web.url, "matcher": matcher},
    )
    try:
        await stopping.wait()
    finally:
        await _stop_within(application, STOP_DEADLINE_SECONDS)


async def _stop_within(application: RasdApplication, seconds: float) -> None:
    """Stop cleanly; if that takes longer than `seconds`, exit at once. Nothing is lost that
    way: the database is crash-safe, rows claimed for sending are queued again at the next
    start, and the parse workers end with this process."""
    try:
        await asyncio.wait_for(stop_application(application), seconds)
    except TimeoutError:
        log.error("stopping took too long; exiting now", extra={"seconds": seconds})
        logging.shutdown()
        os._exit(1)


def busy_message(busy: DatabaseBusy, database_path: Path) -> str:
    """What a second process on the same database is told."""
    return (
        f"Another Rasd{_holder(busy)} is running on {database_path}: one bot per database. "
        "Stop it first, or give this one another DATABASE_PATH."
    )


def _holder(busy: DatabaseBusy) -> str:
    """« (process N)» for the process that holds the lock, when it wrote its pid."""
    return f" (process {busy.holder})" if busy.holder else ""


def run_bot(settings: Settings) -> int:
    """Run with long polling (or a webhook when WEBHOOK_URL is set) until interrupted."""
    if not settings.has_token:
        print(NO_TOKEN_HELP, file=sys.stderr)
        return 2
    # Before migrations and before Telegram: a second bot on this database changes nothing.
    lock = DatabaseLock(settings.database_path)
    try:
        lock.acquire()
    except DatabaseBusy as busy:
        print(busy_message(busy, settings.database_path), file=sys.stderr)
        return 3
    try:
        return _serve_until_stopped(settings)
    finally:
        lock.release()


def _serve_until_stopped(settings: Settings) -> int:
    """Run the application; a clear line and code 2 for what the operator must fix."""
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
    """`import-opml FILE` adds feeds (each fetched once, like /addfeed); `export-opml` prints.
    An import writes feeds and their first items, so it takes the database's lock like the bot:
    beside a running bot it is refused (the chat's import does the same inside the bot)."""
    lock = DatabaseLock(settings.database_path)
    if args.command == "import-opml":
        try:
            lock.acquire()
        except DatabaseBusy as busy:
            print(
                f"The bot is running on {settings.database_path}{_holder(busy)}: stop it first, "
                "or send the .opml file to the bot in a chat as an admin, which imports it.",
                file=sys.stderr,
            )
            return 3
    try:
        return await _opml(settings, args)
    finally:
        lock.release()


async def _opml(settings: Settings, args: argparse.Namespace) -> int:
    """The import or export itself."""
    rasd = bootstrap(settings)
    try:
        if args.command == "export-opml":
            exported = feeds.export_feeds(rasd.services.backend, rasd.feeds)
            sys.stdout.write(exported.opml.decode("utf-8"))
            return 0
        try:
            data = Path(args.file).read_bytes()  # noqa: ASYNC240 (a CLI, nothing else runs)
        except OSError as error:
            print(f"cannot read {args.file}: {error}", file=sys.stderr)
            return 2
        report = await feeds.import_feeds(rasd.feeds, data, added_by=None)
    finally:
        await rasd.aclose()
    if report.error:
        print(f"not an OPML file: {report.error}", file=sys.stderr)
        return 2
    for url, title in report.added:
        print(f"added  {url}  ({title})")
    for url in report.already:
        print(f"known  {url}")
    for url, _, reason in report.failed:
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
    """`match`: 1<TAB>matched words[<TAB>forms], or 0, for each input line (the bot's own
    code path; forms says which other form of a keyword matched: «وزراء ← وزير»)."""
    from core.forms import explain, matched_forms
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
            spans = find_matches(query, text)
            words = " ".join(text[start:end] for start, end in spans)
            notes = "؛ ".join(explain(matched_forms(query, text, spans)))
            out.write(f"1\t{words}\t{notes}\n" if notes else f"1\t{words}\n")
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
        from app.demo import run_demo

        return asyncio.run(run_demo(once=args.once))
    return run_bot(settings)


if __name__ == "__main__":
    sys.exit(main())
