"""Keeping the database bounded (retention), online backups, and the facts /healthz reports."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path

from storage import keyword_hours
from storage.db import Database

DAY_SECONDS = 86_400.0
PRUNE_TASK = "prune"
# Rows still owed to a chat: their article (and its whole story) is never pruned.
OWED_STATUSES = ("pending", "sending")
# The newest articles of each feed are kept whatever their age: a slow feed still lists them,
# and an item pruned while its feed still lists it would come back as news.
KEEP_NEWEST_PER_FEED = 500


@dataclass(frozen=True)
class PruneReport:
    """What one retention run removed."""

    cutoff: float
    articles: int = 0
    outbox_rows: int = 0
    broadcasts: int = 0
    shortlinks: int = 0
    click_rows: int = 0  # per-article daily counts; the daily totals (click_days) stay
    keyword_hours: int = 0  # keywords' stories per hour older than keyword_hours.KEEP_HOURS


@dataclass(frozen=True)
class HealthFacts:
    """What the database says about polling and the outbox."""

    enabled_feeds: int
    last_feed_success_at: float | None
    outbox: dict[str, int]
    pages_paused: list[int] = field(default_factory=list)  # feeds whose pages auto stopped trying

    @property
    def backlog(self) -> int:
        """Rows still owed to chats."""
        return sum(self.outbox.get(status, 0) for status in OWED_STATUSES)


_OWED = ",".join(f"'{status}'" for status in OWED_STATUSES)

# Articles whose whole story is older than the cutoff, not among their feed's newest, and not
# owed to anyone. A story goes as a whole, so no kept article points at a pruned first telling
# and a later edit of a kept article can never re-alert a story whose sent rows are gone.
_DOOMED_ARTICLES = f"""
    WITH ranked AS (
        SELECT id, fetched_at, COALESCE(story_id, id) AS story,
               ROW_NUMBER() OVER (PARTITION BY feed_id ORDER BY id DESC) AS recency
        FROM articles
    ),
    kept_stories AS (
        SELECT story FROM ranked WHERE fetched_at >= :cutoff OR recency <= :keep
        UNION
        SELECT COALESCE(a.story_id, a.id) FROM outbox o JOIN articles a ON a.id = o.article_id
        WHERE o.status IN ({_OWED})
        UNION
        SELECT story_id FROM outbox WHERE status IN ({_OWED}) AND story_id IS NOT NULL
    )
    SELECT id FROM ranked WHERE story NOT IN (SELECT story FROM kept_stories)
"""  # noqa: S608 (constants only)


def prune(
    db: Database, *, now: float, retention_days: int = 30, keep_per_feed: int = KEEP_NEWEST_PER_FEED
) -> PruneReport:
    """Delete articles older than the retention with their finished outbox rows, codes and
    per-article clicks; and finished broadcasts and notices older than it. Owed rows keep
    everything."""
    cutoff = now - retention_days * DAY_SECONDS
    with db.atomic():
        db.execute("CREATE TEMP TABLE IF NOT EXISTS doomed_articles (id INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM doomed_articles")
        db.execute(
            f"INSERT INTO doomed_articles (id) {_DOOMED_ARTICLES}",  # noqa: S608
            {"cutoff": cutoff, "keep": keep_per_feed},
        )
        doomed = "SELECT id FROM doomed_articles"
        outbox_rows = db.execute(f"DELETE FROM outbox WHERE article_id IN ({doomed})").rowcount
        shortlinks = db.execute(f"DELETE FROM shortlinks WHERE article_id IN ({doomed})").rowcount
        click_rows = db.execute(f"DELETE FROM clicks WHERE article_id IN ({doomed})").rowcount
        articles = db.execute(f"DELETE FROM articles WHERE id IN ({doomed})").rowcount
        db.execute("DELETE FROM doomed_articles")
        old_broadcasts = f"""SELECT b.id FROM broadcasts b WHERE b.created_at < :cutoff
            AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.broadcast_id = b.id
                            AND o.status IN ({_OWED}))"""  # noqa: S608
        outbox_rows += db.execute(
            f"DELETE FROM outbox WHERE broadcast_id IN ({old_broadcasts})",  # noqa: S608
            {"cutoff": cutoff},
        ).rowcount
        broadcasts = db.execute(
            f"DELETE FROM broadcasts WHERE id IN ({old_broadcasts})",  # noqa: S608
            {"cutoff": cutoff},
        ).rowcount
        outbox_rows += db.execute(
            f"DELETE FROM outbox WHERE kind = 'notice' AND created_at < ? "  # noqa: S608
            f"AND status NOT IN ({_OWED})",
            (cutoff,),
        ).rowcount
        hours = keyword_hours.prune(db, now=now)
    return PruneReport(cutoff, articles, outbox_rows, broadcasts, shortlinks, click_rows, hours)


def last_run(db: Database, task: str) -> float | None:
    """When a maintenance task last ran, or None if never."""
    row = db.execute("SELECT last_run_at FROM maintenance WHERE task = ?", (task,)).fetchone()
    return row[0] if row else None


def remember(db: Database, task: str, now: float, detail: str = "") -> None:
    """Record that a task ran (or a state was set), with what it says about it."""
    db.execute(
        """INSERT INTO maintenance (task, last_run_at, detail) VALUES (?, ?, ?)
           ON CONFLICT (task) DO UPDATE SET last_run_at = excluded.last_run_at,
               detail = excluded.detail""",
        (task, now, detail),
    )


def forget(db: Database, task: str) -> None:
    """Drop what `remember` recorded for a task."""
    db.execute("DELETE FROM maintenance WHERE task = ?", (task,))


def prune_if_due(
    db: Database,
    *,
    now: float,
    retention_days: int = 30,
    every_seconds: float = DAY_SECONDS,
    keep_per_feed: int = KEEP_NEWEST_PER_FEED,
) -> PruneReport | None:
    """Prune at most once per `every_seconds` (remembered in the database across restarts)."""
    last = last_run(db, PRUNE_TASK)
    if last is not None and 0 <= now - last < every_seconds:
        return None  # a clock that went backwards makes it due rather than stuck
    report = prune(db, now=now, retention_days=retention_days, keep_per_feed=keep_per_feed)
    remember(db, PRUNE_TASK, now, json.dumps(asdict(report)))
    return report


def health_facts(db: Database, now: float) -> HealthFacts:
    """Enabled feeds, the newest successful fetch, outbox rows by status, and the feeds whose
    pages keep failing (full text paused until later)."""
    enabled, last_success = db.execute(
        "SELECT count(*), max(last_success_at) FROM feeds WHERE disabled = 0"
    ).fetchone()
    outbox = dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
    paused = [
        row[0]
        for row in db.execute(
            "SELECT id FROM feeds WHERE page_backoff_until > ? ORDER BY id", (now,)
        )
    ]
    return HealthFacts(int(enabled), last_success, outbox, paused)


_SIDE_FILES = ("-wal", "-shm", "-journal")


class BackupRefused(ValueError):
    """The destination is the live database (or its -wal, -shm or -journal file)."""


def backup(db_path: Path, dest: Path) -> None:
    """Copy a live database with SQLite's online backup API: one consistent snapshot, written
    beside `dest` and renamed over it, as a single file (no -wal needed to open it), readable by
    its owner only (it holds every chat's keywords)."""
    db_path, dest = Path(db_path), Path(dest)
    if not db_path.is_file():
        raise FileNotFoundError(f"no database at {db_path}")
    live = db_path.resolve()
    if dest.resolve() in {live, *(live.with_name(live.name + s) for s in _SIDE_FILES)}:
        raise BackupRefused(f"{dest} is the live database: choose another path")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(str(db_path), timeout=30)
    try:
        target = sqlite3.connect(str(partial))
        try:
            # pages=-1: all pages in one step, inside one read transaction, so the copy is a
            # snapshot; in WAL mode the bot's writes go on meanwhile.
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
    finally:
        source.close()
    with open(partial, "rb") as copied:
        os.fsync(copied.fileno())
    os.replace(partial, dest)
    with contextlib.suppress(OSError):  # make the rename itself durable where the OS allows
        directory = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
