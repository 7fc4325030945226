"""The WAL is folded into the database file by a thread of its own (storage.checkpoint), not
inside one of the bot's commits on the event loop."""

from __future__ import annotations

import asyncio
import sqlite3

from prometheus_client.parser import text_string_to_metric_families

from storage.checkpoint import RESTART_PAGES, Checkpointer
from tests.offline import offline_bot
from tests.timing import HANG_SECONDS, eventually
from web.metrics import Metrics

NOTES_BYTES = 20_000 * 200


def write_notes(db, count: int) -> None:
    with db.atomic():
        db.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
        db.conn.executemany("INSERT INTO notes VALUES (?)", [("x" * 200,)] * count)


async def test_the_bot_connection_never_checkpoints_and_the_thread_folds_its_writes_in(
    db, tmp_path
):
    path = tmp_path / "rasd.db"
    idle = Checkpointer(path, every=HANG_SECONDS)
    idle.start(db)
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    write_notes(db, 20_000)  # 4 MB, past the 1,000 pages a commit would have checkpointed at
    assert path.stat().st_size < NOTES_BYTES  # the commit left them in the WAL
    idle.close()
    checkpointer = Checkpointer(path, every=0.01)
    checkpointer.start(db)
    try:
        await eventually(
            lambda: checkpointer.checkpoints and path.stat().st_size > NOTES_BYTES,
            "never folded in",
        )
        assert checkpointer.failures == 0
    finally:
        checkpointer.close()
    assert not checkpointer.running


def test_a_failed_checkpoint_is_counted_and_the_next_one_tries_again(db, tmp_path):
    checkpointer = Checkpointer(tmp_path / "rasd.db")
    closed = sqlite3.connect(tmp_path / "rasd.db")
    closed.close()
    checkpointer.checkpoint(closed)  # a connection that cannot run it
    checkpointer.checkpoint(closed)
    assert checkpointer.failures == 2
    assert checkpointer.checkpoints == 0
    working = sqlite3.connect(tmp_path / "rasd.db", isolation_level=None)
    try:
        checkpointer.checkpoint(working)
    finally:
        working.close()
    assert (checkpointer.failures, checkpointer.checkpoints) == (0, 1)


async def test_the_bot_checkpoints_from_its_thread_until_it_stops(tmp_path):
    async with offline_bot(tmp_path) as bot:
        rasd = bot.application.bot_data.rasd
        checkpointer = rasd.checkpointer
        assert checkpointer is not None
        assert checkpointer.running
        assert rasd.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    assert not checkpointer.running


def test_a_database_the_thread_cannot_open_keeps_checkpointing_in_its_commits(db, tmp_path):
    checkpointer = Checkpointer(tmp_path / "no such folder" / "rasd.db")
    checkpointer.start(db)
    assert not checkpointer.running
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    checkpointer.close()


def wal_pages(path) -> int:
    """The frames in the database's log now (a PASSIVE checkpoint's answer: it copies them)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    finally:
        conn.close()


async def test_a_long_log_starts_over_though_the_bot_keeps_writing(db, tmp_path):
    """A PASSIVE checkpoint alone never lets the log start over while writes go on; past
    RESTART_PAGES the thread restarts it, and the bot's next write begins the log anew."""
    path = tmp_path / "rasd.db"
    checkpointer = Checkpointer(path, every=0.01)
    checkpointer.start(db)
    try:
        write_notes(db, 100_000)  # 20 MB: past RESTART_PAGES (16 MB)
        await eventually(lambda: checkpointer.restarts >= 1, "the log never started over")
        assert checkpointer.most_wal_pages >= RESTART_PAGES
        write_notes(db, 10)
        assert wal_pages(path) < 100  # the few pages of the last write, from the log's start
    finally:
        checkpointer.close()


async def test_a_transaction_that_reads_first_waits_for_a_restart_instead_of_failing(db, tmp_path):
    """RESTART holds the log's write lock while it waits for readers; a transaction that has
    read already is refused at once by SQLite rather than waiting, unless it took the lock at
    BEGIN (IMMEDIATE), which waits like any other write."""
    path = tmp_path / "rasd.db"
    write_notes(db, 10)
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM notes").fetchone()  # an old snapshot, held
    write_notes(db, 10)
    checkpointing = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=2)
    restart = asyncio.create_task(
        asyncio.to_thread(checkpointing.execute, "PRAGMA wal_checkpoint(RESTART)")
    )
    await asyncio.sleep(0.3)  # it holds the write lock, waiting for the reader
    release = asyncio.get_running_loop().call_later(0.3, reader.execute, "COMMIT")
    try:
        with db.atomic():
            assert db.execute("SELECT count(*) FROM notes").fetchone()[0] == 20
            db.execute("INSERT INTO notes VALUES ('after the checkpoint')")
    finally:
        release.cancel()
        await restart
        for conn in (reader, checkpointing):
            conn.close()
    assert db.execute("SELECT count(*) FROM notes").fetchone()[0] == 21


def wal_gauges(metrics: Metrics) -> dict[str, float]:
    """The checkpoint gauges of a /metrics page."""
    text = metrics.render()[0].decode()
    return {
        family.name: family.samples[0].value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("rasd_wal_")
    }


def test_metrics_show_checkpoints_failing_in_a_row_and_no_thread_running(tmp_path):
    checkpointer = Checkpointer(tmp_path / "rasd.db")
    metrics = Metrics()
    metrics.watch_checkpoints(checkpointer)
    closed = sqlite3.connect(tmp_path / "rasd.db")
    closed.close()
    checkpointer.checkpoint(closed)
    checkpointer.checkpoint(closed)

    assert wal_gauges(metrics) == {
        "rasd_wal_checkpointer_running": 0,
        "rasd_wal_pages": 0,
        "rasd_wal_checkpoint_failures": 2,
    }


async def test_the_bots_metrics_show_its_checkpoint_thread_and_the_log_it_found(tmp_path):
    async with offline_bot(tmp_path) as bot:
        rasd = bot.application.bot_data.rasd
        checkpointer = rasd.checkpointer
        write_notes(rasd.db, 10_000)  # ~2 MB: about 500 pages in the log
        done = checkpointer.checkpoints  # the next round may have begun before they were in
        await eventually(lambda: checkpointer.checkpoints >= done + 2, "a round after them")

        gauges = wal_gauges(rasd.metrics)

    assert gauges["rasd_wal_checkpointer_running"] == 1
    assert gauges["rasd_wal_checkpoint_failures"] == 0
    assert gauges["rasd_wal_pages"] == checkpointer.wal_pages >= 400
