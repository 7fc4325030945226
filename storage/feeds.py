"""Feeds: adding, scheduling and health."""

from __future__ import annotations

from sqlite_utils import Database

from core.models import Feed
from storage.chats import _rows


class FeedExists(Exception):
    """A feed with this URL is already stored."""


def _feed(row: dict) -> Feed:
    return Feed(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        body_hash=row["body_hash"],
        charset=row["charset"],
        interval_seconds=row["interval_seconds"],
        next_check_at=row["next_check_at"],
        last_checked_at=row["last_checked_at"],
        last_success_at=row["last_success_at"],
        last_error=row["last_error"],
        error_count=row["error_count"],
        disabled=bool(row["disabled"]),
        primed=bool(row["primed"]),
    )


def add_feed(
    db: Database,
    url: str,
    *,
    title: str,
    interval_seconds: float,
    now: float,
    added_by: int | None = None,
    charset: str | None = None,
) -> int:
    """Store a new feed, due now; FeedExists if the URL is already there."""
    cursor = db.execute(
        """INSERT INTO feeds (url, title, interval_seconds, next_check_at, added_by, charset,
                              created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO NOTHING""",
        (url, title, interval_seconds, now, added_by, charset, now),
    )
    if cursor.rowcount == 0:
        raise FeedExists(url)
    return int(cursor.lastrowid)  # type: ignore[arg-type]


def get_feed(db: Database, feed_id: int) -> Feed | None:
    """One feed by id."""
    rows = _rows(db, "SELECT * FROM feeds WHERE id = ?", (feed_id,))
    return _feed(rows[0]) if rows else None


def feed_by_url(db: Database, url: str) -> Feed | None:
    """One feed by its URL."""
    rows = _rows(db, "SELECT * FROM feeds WHERE url = ?", (url,))
    return _feed(rows[0]) if rows else None


def all_feeds(db: Database) -> list[Feed]:
    """Every feed, in the order they were added."""
    return [_feed(row) for row in _rows(db, "SELECT * FROM feeds ORDER BY id")]


def due_feeds(db: Database, now: float, limit: int = 1000) -> list[Feed]:
    """Enabled feeds whose next check time has come, most overdue first."""
    rows = _rows(
        db,
        """SELECT * FROM feeds WHERE disabled = 0 AND next_check_at <= ?
           ORDER BY next_check_at LIMIT ?""",
        (now, limit),
    )
    return [_feed(row) for row in rows]


def record_success(
    db: Database,
    feed_id: int,
    *,
    now: float,
    next_check_at: float,
    etag: str | None,
    last_modified: str | None,
    body_hash: str | None,
    title: str | None = None,
    url: str | None = None,
) -> None:
    """A fetch that worked (new items or not): reset errors and schedule the next one."""
    db.execute(
        """UPDATE feeds SET last_checked_at = ?, last_success_at = ?, next_check_at = ?,
               etag = ?, last_modified = ?, body_hash = ?, error_count = 0, last_error = NULL,
               primed = 1, title = CASE WHEN ? IS NOT NULL AND ? != '' THEN ? ELSE title END,
               url = COALESCE(?, url)
           WHERE id = ?""",
        (
            now,
            now,
            next_check_at,
            etag,
            last_modified,
            body_hash,
            title,
            title,
            title,
            url,
            feed_id,
        ),
    )


def record_failure(
    db: Database,
    feed_id: int,
    *,
    now: float,
    next_check_at: float,
    error: str,
    disable: bool = False,
) -> None:
    """A fetch or parse that failed: count it, keep the reason, back off."""
    db.execute(
        """UPDATE feeds SET last_checked_at = ?, next_check_at = ?, last_error = ?,
               error_count = error_count + 1, disabled = MAX(disabled, ?)
           WHERE id = ?""",
        (now, next_check_at, error, int(disable), feed_id),
    )


def set_feed_disabled(db: Database, feed_id: int, disabled: bool, now: float) -> None:
    """Pause or re-enable a feed; re-enabling makes it due now with a clean error count."""
    if disabled:
        db.execute("UPDATE feeds SET disabled = 1 WHERE id = ?", (feed_id,))
    else:
        db.execute(
            "UPDATE feeds SET disabled = 0, error_count = 0, next_check_at = ? WHERE id = ?",
            (now, feed_id),
        )


def delete_feed(db: Database, feed_id: int) -> None:
    """Remove a feed and its articles."""
    db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
