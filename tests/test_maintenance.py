"""Retention on an aged database, a simulated year of daily runs, and backups while writing."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from storage import chats as chat_store
from storage import maintenance, shortlinks
from storage import outbox as outbox_store
from storage.db import open_database
from tests.support import NOW, add_article, add_feed

DAY = 86_400.0
OLD = NOW - 40 * DAY
RECENT = NOW - 2 * DAY


def owe(db, chat_id: int, article_id: int, story_id: int, now: float, status: str) -> int:
    """An alert row for a chat, put in a given state."""
    chat_store.touch_chat(db, chat_id, type="private", title="", language="ar", now=now)
    assert outbox_store.queue_alert(
        db, chat_id, story_id=story_id, article_id=article_id, keywords=["خبر"], now=now
    )
    row_id = db.execute("SELECT max(id) FROM outbox").fetchone()[0]
    db.execute("UPDATE outbox SET status = ? WHERE id = ?", (status, row_id))
    return row_id


def ids(db, table: str) -> set[int]:
    return {row[0] for row in db.execute(f"SELECT id FROM {table}").fetchall()}  # noqa: S608


def count(db, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


def test_prune_an_aged_database(db):
    feed = add_feed(db, now=OLD)
    old_sent = add_article(db, feed, 1, now=OLD)
    old_failed = add_article(db, feed, 2, now=OLD)
    old_pending = add_article(db, feed, 3, now=OLD)
    old_sending = add_article(db, feed, 4, now=OLD)
    old_first_telling = add_article(db, feed, 5, now=OLD)
    recent_retelling = add_article(db, feed, 6, now=RECENT, story_id=old_first_telling)
    old_story_a = add_article(db, feed, 7, now=OLD)
    old_story_b = add_article(db, feed, 8, now=OLD + 60, story_id=old_story_a)
    recent = add_article(db, feed, 9, now=RECENT)

    rows = {
        "old_sent": owe(db, 1, old_sent, old_sent, OLD, "sent"),
        "old_failed": owe(db, 1, old_failed, old_failed, OLD, "failed"),
        "old_pending": owe(db, 1, old_pending, old_pending, OLD, "pending"),
        "old_sending": owe(db, 1, old_sending, old_sending, OLD, "sending"),
        "old_story": owe(db, 1, old_first_telling, old_first_telling, OLD, "sent"),
        "story_b_pending": owe(db, 2, old_story_b, old_story_a, OLD, "pending"),
        "recent_sent": owe(db, 1, recent, recent, RECENT, "sent"),
    }
    for article_id in (old_sent, old_failed, old_pending, recent):
        shortlinks.code_for_article(db, article_id, now=OLD)
    for article_id, day in [
        (old_sent, "2026-10-09"),
        (old_sent, "2026-10-10"),
        (recent, "2026-11-16"),
    ]:
        shortlinks.record_click(db, article_id, day)
    broadcast_old, _ = outbox_store.create_broadcast(
        db, "قديم", created_by=1, source_chat_id=1, source_message_id=1, chat_ids=[1], now=OLD
    )
    db.execute("UPDATE outbox SET status = 'sent' WHERE broadcast_id = ?", (broadcast_old,))
    broadcast_owed, _ = outbox_store.create_broadcast(
        db, "معلق", created_by=1, source_chat_id=1, source_message_id=2, chat_ids=[1, 2], now=OLD
    )
    broadcast_new, _ = outbox_store.create_broadcast(
        db, "جديد", created_by=1, source_chat_id=1, source_message_id=3, chat_ids=[1], now=RECENT
    )
    db.execute("UPDATE outbox SET status = 'sent' WHERE broadcast_id = ?", (broadcast_new,))
    subscriptions_before = count(db, "subscriptions")

    report = maintenance.prune(db, now=NOW, retention_days=30, keep_per_feed=0)

    assert ids(db, "articles") == {
        old_pending,  # owed
        old_sending,  # in flight
        old_first_telling,  # its story was told again recently
        recent_retelling,
        old_story_a,  # a later telling of the story is still owed
        old_story_b,
        recent,
    }
    assert ids(db, "outbox") == {
        rows["old_pending"],
        rows["old_sending"],
        rows["old_story"],
        rows["story_b_pending"],
        rows["recent_sent"],
    } | {
        row
        for (row,) in db.execute(
            "SELECT id FROM outbox WHERE broadcast_id IN (?, ?)", (broadcast_owed, broadcast_new)
        ).fetchall()
    }
    assert ids(db, "broadcasts") == {broadcast_owed, broadcast_new}
    assert report.articles == 2
    assert report.outbox_rows == 3  # old_sent, old_failed, and the old broadcast's copy
    assert report.broadcasts == 1
    assert report.shortlinks == 2
    assert report.click_rows == 2
    assert report.cutoff == NOW - 30 * DAY
    # Per-article clicks went with their article; the daily totals stay.
    assert db.execute("SELECT article_id FROM clicks").fetchall() == [(recent,)]
    assert shortlinks.clicks_per_day(db, "2026-01-01") == [
        ("2026-10-09", 1),
        ("2026-10-10", 1),
        ("2026-11-16", 1),
    ]
    assert {row[0] for row in db.execute("SELECT article_id FROM shortlinks")} == {
        old_pending,
        recent,
    }
    assert count(db, "chats") == 2
    assert count(db, "feeds") == 1
    assert count(db, "subscriptions") == subscriptions_before
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    # A second run finds nothing more.
    again = maintenance.prune(db, now=NOW, retention_days=30, keep_per_feed=0)
    assert (again.articles, again.outbox_rows, again.broadcasts) == (0, 0, 0)


def test_the_newest_articles_of_each_feed_are_kept_whatever_their_age(db):
    slow, busy = add_feed(db, "https://slow.example/feed", now=OLD), add_feed(db, now=OLD)
    slow_ids = [add_article(db, slow, n, now=OLD - n * DAY) for n in range(5)]
    busy_ids = [add_article(db, busy, 100 + n, now=OLD + n) for n in range(10)]
    maintenance.prune(db, now=NOW, retention_days=30, keep_per_feed=3)
    # Newest means last stored (highest id): what the feed lists now.
    assert ids(db, "articles") == set(slow_ids[-3:]) | set(busy_ids[-3:])


def test_prune_if_due_runs_at_most_once_a_day_and_remembers_it(tmp_path):
    path = tmp_path / "rasd.db"
    db = open_database(path)
    feed = add_feed(db, now=OLD)
    add_article(db, feed, 1, now=OLD)
    first = maintenance.prune_if_due(db, now=NOW, retention_days=30, keep_per_feed=0)
    assert first is not None
    assert first.articles == 1
    add_article(db, feed, 2, now=OLD)
    assert maintenance.prune_if_due(db, now=NOW + DAY - 1, retention_days=30) is None
    db.conn.close()

    db = open_database(path)  # a restart does not make it due again
    assert maintenance.last_run(db, maintenance.PRUNE_TASK) == NOW
    assert maintenance.prune_if_due(db, now=NOW + 3600, retention_days=30) is None
    second = maintenance.prune_if_due(db, now=NOW + DAY, retention_days=30, keep_per_feed=0)
    assert second is not None
    assert second.articles == 1
    assert count(db, "maintenance") == 1
    # A clock that jumped back does not stop pruning for good.
    assert maintenance.prune_if_due(db, now=NOW - 5 * DAY, retention_days=30) is not None
    db.conn.close()


def test_a_simulated_year_of_daily_runs_stays_bounded(db):
    per_day, retention, keep = 6, 30, 10
    feeds = [add_feed(db, "https://a.example/feed", now=NOW), add_feed(db, now=NOW)]
    for chat_id in (1, 2, 3):
        chat_store.touch_chat(db, chat_id, type="private", title="", language="ar", now=NOW)
    counts: list[dict[str, int]] = []
    pages: list[int] = []
    number = 0
    for day in range(365):
        today = NOW + day * DAY
        with db.atomic():
            for _ in range(per_day):
                number += 1
                article = add_article(db, feeds[number % 2], number, now=today)
                for chat_id in (1, 2, 3):
                    outbox_store.queue_alert(
                        db, chat_id, story_id=article, article_id=article, keywords=[], now=today
                    )
                shortlinks.code_for_article(db, article, now=today)
                shortlinks.record_click(db, article, f"day-{day:03d}")
            # Yesterday's alerts were delivered (one failed); today's are still owed.
            db.execute(
                "UPDATE outbox SET status = 'sent' WHERE status = 'pending' AND created_at < ?",
                (today,),
            )
            db.execute(
                """UPDATE outbox SET status = 'failed'
                   WHERE id = (SELECT max(id) - 1 FROM outbox WHERE status = 'sent')"""
            )
        # The job ticks twice a day; only one tick prunes.
        ran = [
            maintenance.prune_if_due(
                db, now=today + hour * 3600, retention_days=retention, keep_per_feed=keep
            )
            for hour in (1, 13)
        ]
        assert ran[1] is None
        assert ran[0] is not None or day == 0
        counts.append({t: count(db, t) for t in ("articles", "outbox", "shortlinks", "clicks")})
        pages.append(db.execute("PRAGMA page_count").fetchone()[0])

    most_articles = (retention + 1) * per_day
    for later in counts[60:]:
        assert later["articles"] <= most_articles
        assert later["outbox"] <= most_articles * 3
        assert later["shortlinks"] <= most_articles
        assert later["clicks"] <= most_articles
    assert counts[-1]["articles"] >= retention * per_day  # and it does keep a month
    assert count(db, "click_days") == 365  # daily totals outlive their articles
    assert count(db, "maintenance") == 1
    # Freed pages are reused: the file stops growing once retention is reached.
    assert pages[-1] <= pages[90] * 1.2


def fill(path, rows: int) -> None:
    db = open_database(path)
    feed = add_feed(db)
    text = "نص الخبر الطويل " * 40
    with db.atomic():
        db.conn.executemany(
            """INSERT INTO articles (feed_id, item_key, url, title, text, fetched_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [
                (feed, f"seed-{n}", f"https://x.example/{n}", "عنوان", text, NOW)
                for n in range(rows)
            ],
        )
    db.conn.close()


def test_backup_while_writes_go_on(tmp_path):
    path, copy = tmp_path / "rasd.db", tmp_path / "backups" / "rasd-copy.db"
    fill(path, 20_000)
    stop, started, errors = threading.Event(), threading.Event(), []

    def writer() -> None:
        conn = sqlite3.connect(path, timeout=30)
        try:
            n = 0
            while not stop.is_set():
                with conn:
                    conn.execute(
                        """INSERT INTO articles (feed_id, item_key, url, title, text, fetched_at)
                           VALUES (1, ?, '', 'جديد', 'نص', ?)""",
                        (f"live-{n}", NOW),
                    )
                n += 1
                if n == 20:
                    started.set()
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
            started.set()
        finally:
            conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert started.wait(10)
        reader = sqlite3.connect(path)
        before = reader.execute("SELECT count(*) FROM articles").fetchone()[0]
        maintenance.backup(path, copy)
        after = reader.execute("SELECT count(*) FROM articles").fetchone()[0]
        reader.close()
        time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert after > before  # the writer really wrote while the backup ran

    backup = sqlite3.connect(copy)
    assert backup.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert backup.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    copied = backup.execute("SELECT count(*) FROM articles").fetchone()[0]
    backup.close()
    assert before <= copied <= after
    assert not (tmp_path / "backups" / "rasd-copy.db-wal").exists()
    assert not list((tmp_path / "backups").glob("*.partial"))
    restored = open_database(copy)  # the bot can start on it
    assert restored.execute("SELECT count(*) FROM feeds").fetchone()[0] == 1
    restored.conn.close()


def test_backup_replaces_an_old_copy_and_refuses_a_missing_source(tmp_path):
    path, copy = tmp_path / "rasd.db", tmp_path / "copy.db"
    fill(path, 10)
    copy.write_bytes(b"an older, broken copy")
    maintenance.backup(path, copy)
    conn = sqlite3.connect(copy)
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 10
    conn.close()
    with pytest.raises(FileNotFoundError):
        maintenance.backup(tmp_path / "missing.db", tmp_path / "never.db")
    assert not (tmp_path / "missing.db").exists()
    assert not (tmp_path / "never.db").exists()
