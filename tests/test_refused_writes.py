"""A database that refuses writes (full, or locked by another connection) is not feed trouble:
polling pauses with a backoff, feeds keep their health, the outbox loses and repeats nothing,
admins are told once, and everything resumes by itself. Real SQLite refusals, no mocks."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.bootstrap import build_sender
from core.i18n import load_catalog
from core.models import Subscription
from core.query import parse_query
from core.subscriptions import SubscriptionBook
from core.write_health import WriteHealth
from delivery.notices import AdminNotices
from feeds.fetch import Fetcher
from storage import chats as chat_store
from storage import feeds as feed_store
from storage import outbox
from storage.db import Database, open_database
from tests.botapi import BotApiServer
from tests.feedserver import FeedServer, make_rss
from tests.pipeline import Pipeline
from tests.support import add_private_chats, make_bot, network_idle, queue
from tests.timing import FakeClock, eventually

CATALOG = load_catalog()
START = datetime(2026, 3, 24, 12, 0, tzinfo=UTC).timestamp()
CHAT = 77
PARAGRAPH = (
    "اجتاحت الفيضانات أحياء واسعة من مدينة الرباط بعد أمطار غزيرة استمرت يومين، "
    "وأعلنت السلطات إجلاء مئات الأسر من المناطق المنخفضة وفتح مراكز إيواء مؤقتة. "
)


def long_item(number: int) -> dict:
    """An item of a few kilobytes: storing it needs new database pages."""
    return {
        "title": f"فيضانات في الرباط، الحصيلة رقم {number}",
        "link": f"https://news.example/{number}",
        "guid": f"news-{number}",
        "content": f"<p>{PARAGRAPH * 30}</p>",
        "pubDate": datetime.fromtimestamp(START - 3600 + number, UTC),
    }


@contextlib.contextmanager
def full(db: Database) -> Iterator[None]:
    """The database file may not grow: SQLite answers "database or disk is full"."""
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    try:
        yield
    finally:
        db.execute("PRAGMA max_page_count = 1073741823")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another connection holds the write lock: SQLite answers "database is locked"."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.fixture
def quick_db(tmp_path: Path) -> Iterator[Database]:
    """A database whose writes give up on a lock after 50 ms instead of seconds."""
    database = open_database(tmp_path / "rasd.db", busy_timeout=0.05)
    yield database
    database.conn.close()


@pytest.fixture
async def server() -> FeedServer:
    async with FeedServer() as feed_server:
        yield feed_server


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def following_rabat(db: Database) -> SubscriptionBook:
    chat_store.touch_chat(db, CHAT, type="private", title="", language="ar", now=START)
    query = parse_query("الرباط")
    sub_id = chat_store.add_subscription(db, CHAT, query.raw, query.key, START)
    book = SubscriptionBook()
    book.add(Subscription(sub_id, CHAT, query.raw, query.key), query)
    return book


@pytest.mark.parametrize("trouble", ["full", "locked"])
async def test_refused_writes_pause_polling_and_leave_feeds_alone_then_resume(
    server, quick_db, tmp_path, trouble
):
    db, clock = quick_db, Clock()
    episodes: list[tuple[str, str]] = []
    writes = WriteHealth(
        on_start=lambda error, since: episodes.append(("start", error)),
        on_end=lambda error, since, now: episodes.append(("end", error)),
    )
    book = following_rabat(db)
    server.set_feed("/rss", make_rss("أخبار", [long_item(n) for n in range(3)]))
    async with Fetcher(allow_private=True, timeout=5.0, max_bytes=1_000_000) as fetcher:
        poller = Pipeline(
            db, fetcher, book, clock=clock, interval_seconds=300, writes=writes, max_failures=2
        )
        feed_id = feed_store.add_feed(
            db, server.url("/rss"), title="", interval_seconds=300, now=START, primed=True
        )
        refusal = full(db) if trouble == "full" else locked(tmp_path / "rasd.db")
        pauses = []
        with refusal:
            for _ in range(4):  # twice max_failures: a feed would be disabled by now
                report = await poller.run_once()
                assert (report.database_refused, report.feeds_failed) == (1, 0)
                feed = feed_store.get_feed(db, feed_id)
                assert (feed.error_count, feed.disabled, feed.last_error) == (0, False, None)
                assert feed.next_check_at <= clock()  # still due: checked again after the pause
                fetched = len(server.requests_to("/rss"))
                assert (await poller.run_once()).paused  # within the pause: nothing is fetched
                assert len(server.requests_to("/rss")) == fetched
                pauses.append(poller.paused_until - clock())
                clock.now = poller.paused_until
        assert pauses == [2.0, 4.0, 8.0, 16.0]
        assert writes.refused == 4
        expected = "database or disk is full" if trouble == "full" else "database is locked"
        assert episodes == [("start", f"OperationalError: {expected}")]

        report = await poller.run_once()  # the database takes writes again
    assert (report.database_refused, report.feeds_failed) == (0, 0)
    assert (report.articles_new, report.alerts_queued) == (3, 1)  # one story, told three times
    assert [kind for kind, _ in episodes] == ["start", "end"]
    assert not writes.failing
    feed = feed_store.get_feed(db, feed_id)
    assert (feed.error_count, feed.disabled) == (0, False)
    assert feed.last_success_at == clock()


async def test_the_sender_loses_and_repeats_nothing_while_the_database_is_locked(
    quick_db, tmp_path
):
    db, clock = quick_db, FakeClock(START)
    writes = WriteHealth()
    async with BotApiServer(clock=clock) as api:
        add_private_chats(api, db, [1, 2, 3])
        for chat in (1, 2, 3):
            queue(db, chat, chat)
        bot = await make_bot(api)
        # The first send is slow: the lock is taken while it is in flight, so the database
        # refuses to mark it sent once Telegram has accepted it.
        api.inject("sendMessage", delay=0.3)
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep, writes=writes)
        async with clock.running(idle=lambda: network_idle(bot)):
            task = asyncio.create_task(sender.run())
            await eventually(lambda: bot.request.in_flight, "the first send")
            with locked(tmp_path / "rasd.db"):
                await eventually(lambda: writes.refused >= 3, "the sender to meet the lock")
                assert writes.failing
                sent_while_locked = len(api.send_log)
            await eventually(
                lambda: outbox.status_counts(db) == {"sent": 3}, "every row marked sent"
            )
            sender.stop()
            await task
        await bot.shutdown()
    assert sent_while_locked >= 1  # Telegram took the slow one while its row could not be marked
    assert sorted(r.chat_id for r in api.send_log) == [1, 2, 3]  # each once: none lost, none twice
    rows = db.execute("SELECT chat_id, message_id FROM outbox ORDER BY chat_id").fetchall()
    assert rows == [
        (r.chat_id, r.message_id) for r in sorted(api.send_log, key=lambda r: r.chat_id)
    ]
    assert not writes.failing


def test_admins_hear_of_a_refusing_database_once_even_when_the_notice_cannot_be_stored(
    quick_db, tmp_path
):
    db, clock = quick_db, Clock()
    chat_store.touch_chat(db, 900, type="private", title="", language="en", now=START)
    notices = AdminNotices(db, CATALOG, [900, 901], clock=clock)  # 901 never wrote to the bot
    writes = WriteHealth(on_start=notices.database_failing, on_end=notices.database_recovered)

    def texts() -> list[str]:
        return [row[0] for row in db.execute("SELECT text FROM outbox WHERE kind = 'notice'")]

    with locked(tmp_path / "rasd.db"):
        writes.failed("OperationalError: database is locked", clock())
        writes.failed("OperationalError: database is locked", clock() + 2)
    assert texts() == []  # refused too: the admin will hear of it once writes work
    clock.now += 600
    writes.succeeded(clock())
    (recovered,) = texts()
    assert recovered.startswith("✅ The database takes writes again")
    assert "about 10 minutes (since 2026-03-24 12:00 UTC)" in recovered
    assert "database is locked" in recovered

    clock.now += 60  # again within the hour: logged, not told again
    writes.failed("OperationalError: database or disk is full", clock())
    writes.succeeded(clock() + 5)
    assert len(texts()) == 1
    clock.now += 3600  # an hour later, and the notice can be stored: told at once, then recovery
    writes.failed("OperationalError: database or disk is full", clock())
    writes.succeeded(clock() + 5)
    assert [t[:2] for t in texts()] == ["✅ ", "🗄 ", "✅ "]
    assert "database or disk is full" in texts()[1]
