"""Feeds: adding, scheduling and health."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from core.models import Feed
from core.safety import has_credentials, safe_error, without_credentials
from core.schedule import items_per_day as rate_per_day
from storage.db import Database, fetch_rows, inserted_id

RATE_WINDOW_SECONDS = 7 * 86_400.0
FUTURE_SLACK_SECONDS = 86_400.0  # items dated up to a day ahead (time zone mistakes) still count
_ITEM_TIME = "COALESCE(published_at, fetched_at)"  # the expression indexed by articles_feed_time


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
        fulltext=row["fulltext"],
        page_status=row["page_status"],
        page_checked_at=row["page_checked_at"],
        page_failures=row["page_failures"],
        page_backoff_until=row["page_backoff_until"],
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
    primed: bool = False,
) -> int:
    """Store a new feed, due now; FeedExists if the URL is already there.

    `primed` says its current items need no baseline (they are news): tests and benchmarks.
    """
    cursor = db.execute(
        """INSERT INTO feeds (url, title, interval_seconds, next_check_at, added_by, charset,
                              primed, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO NOTHING""",
        (url, title, interval_seconds, now, added_by, charset, int(primed), now),
    )
    if cursor.rowcount == 0:
        raise FeedExists(url)
    return inserted_id(cursor)


def get_feed(db: Database, feed_id: int) -> Feed | None:
    """One feed by id."""
    rows = fetch_rows(db, "SELECT * FROM feeds WHERE id = ?", (feed_id,))
    return _feed(rows[0]) if rows else None


def feed_by_url(db: Database, url: str) -> Feed | None:
    """One feed by its URL."""
    rows = fetch_rows(db, "SELECT * FROM feeds WHERE url = ?", (url,))
    return _feed(rows[0]) if rows else None


def all_feeds(db: Database) -> list[Feed]:
    """Every feed, in the order they were added."""
    return [_feed(row) for row in fetch_rows(db, "SELECT * FROM feeds ORDER BY id")]


def due_feeds(db: Database, now: float, limit: int = 1000) -> list[Feed]:
    """Enabled feeds whose next check time has come, most overdue first."""
    rows = fetch_rows(
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
    site_url: str | None = None,
) -> None:
    """A fetch that worked (new items or not): reset errors and schedule the next one; the
    feed's own <link> (`site_url`) is kept when it gave one.

    `url` is where the feed moved permanently; if another feed already has that URL, the old
    one is kept and the feed's note says why.
    """
    note = None
    if url is not None:
        url, note = _moved_url(db, feed_id, url)
    db.execute(
        """UPDATE feeds SET last_checked_at = ?, last_success_at = ?, next_check_at = ?,
               etag = ?, last_modified = ?, body_hash = ?, error_count = 0, last_error = NULL,
               primed = 1, title = CASE WHEN ? IS NOT NULL AND ? != '' THEN ? ELSE title END,
               url = COALESCE(?, url), note = COALESCE(?, note),
               site_url = COALESCE(?, site_url)
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
            note,
            site_url,
            feed_id,
        ),
    )


def _moved_url(db: Database, feed_id: int, url: str) -> tuple[str | None, str | None]:
    """(the URL to store or None to keep the old one, a note for the admins or None)."""
    row = db.execute("SELECT url FROM feeds WHERE id = ?", (feed_id,)).fetchone()
    if row is None or row[0] == url:
        return None, None
    if has_credentials(url):
        return None, "moved permanently to an address with a password in it: kept the old URL"
    other = db.execute("SELECT id FROM feeds WHERE url = ? AND id != ?", (url, feed_id)).fetchone()
    if other is not None:
        return None, (
            f"moved permanently to {url}, which is already feed #{other[0]}: kept the old URL"
        )
    return url, f"moved permanently from {without_credentials(row[0])}"


def record_failure(
    db: Database,
    feed_id: int,
    *,
    now: float,
    next_check_at: float,
    error: str,
    disable: bool = False,
) -> None:
    """A fetch or parse that failed: count it, keep the reason, back off (or disable)."""
    db.execute(
        """UPDATE feeds SET last_checked_at = ?, next_check_at = ?, last_error = ?,
               error_count = error_count + 1, disabled = MAX(disabled, ?),
               disabled_at = CASE WHEN ? AND disabled_at IS NULL THEN ? ELSE disabled_at END
           WHERE id = ?""",
        (now, next_check_at, safe_error(error), int(disable), int(disable), now, feed_id),
    )


def set_feed_disabled(db: Database, feed_id: int, disabled: bool, now: float) -> None:
    """Pause or re-enable a feed; re-enabling makes it due now with a clean error count."""
    if disabled:
        db.execute(
            "UPDATE feeds SET disabled = 1, disabled_at = COALESCE(disabled_at, ?) WHERE id = ?",
            (now, feed_id),
        )
    else:
        db.execute(
            """UPDATE feeds SET disabled = 0, disabled_at = NULL, error_count = 0,
                   next_check_at = ? WHERE id = ?""",
            (now, feed_id),
        )


class UnknownCharset(ValueError):
    """Not the name of a text encoding Python knows."""


def set_feed_charset(db: Database, feed_id: int, charset: str | None) -> str | None:
    """Override (or with None, stop overriding) the charset a feed's bytes are decoded with.

    Returns the codec's canonical name; UnknownCharset for anything that is not a text
    encoding. The stored validators and body hash are cleared, so the next check fetches and
    parses the whole feed again with the new charset (changed texts update stored articles).
    """
    canonical = None
    if charset is not None and charset.strip():
        try:
            info = codecs.lookup(charset.strip())
        except (LookupError, ValueError):
            raise UnknownCharset(f"unknown charset: {charset.strip()!r}") from None
        if not getattr(info, "_is_text_encoding", True):  # base64, zlib, rot13...
            raise UnknownCharset(f"not a text encoding: {charset.strip()!r}")
        canonical = info.name
    db.execute(
        """UPDATE feeds SET charset = ?, etag = NULL, last_modified = NULL, body_hash = NULL
           WHERE id = ?""",
        (canonical, feed_id),
    )
    return canonical


def set_feed_ttl(db: Database, feed_id: int, ttl_minutes: int | None) -> None:
    """Remember the RSS <ttl> the feed gave when it was last parsed (None: it gave none)."""
    db.execute("UPDATE feeds SET ttl_minutes = ? WHERE id = ?", (ttl_minutes, feed_id))


def feed_ttl(db: Database, feed_id: int) -> int | None:
    """The RSS <ttl> (minutes) of the feed's last parsed body."""
    row = db.execute("SELECT ttl_minutes FROM feeds WHERE id = ?", (feed_id,)).fetchone()
    return row[0] if row else None


def items_per_day(db: Database, feed_id: int, now: float) -> float:
    """How many items a feed published per day over the last week (by item date)."""
    count, oldest = db.execute(
        f"""SELECT count(*), min({_ITEM_TIME}) FROM articles
            WHERE feed_id = ? AND {_ITEM_TIME} BETWEEN ? AND ?""",
        (feed_id, now - RATE_WINDOW_SECONDS, now + FUTURE_SLACK_SECONDS),
    ).fetchone()
    return rate_per_day(count, oldest, now)


@dataclass(frozen=True, slots=True)
class FeedStats:
    """A feed's health for /feeds."""

    id: int
    url: str
    title: str
    disabled: bool
    disabled_at: float | None
    last_success_at: float | None
    last_checked_at: float | None
    last_error: str | None
    error_count: int  # consecutive failures
    items_per_day: float  # over the last 7 days, by item date
    next_check_at: float
    charset: str | None
    ttl_minutes: int | None
    note: str | None


def feed_stats(db: Database, now: float) -> list[FeedStats]:
    """Every feed with its health, in the order they were added."""
    rates = {
        feed_id: rate_per_day(count, oldest, now)
        for feed_id, count, oldest in db.execute(
            f"""SELECT feed_id, count(*), min({_ITEM_TIME}) FROM articles
                WHERE {_ITEM_TIME} BETWEEN ? AND ? GROUP BY feed_id""",
            (now - RATE_WINDOW_SECONDS, now + FUTURE_SLACK_SECONDS),
        ).fetchall()
    }
    rows = fetch_rows(
        db,
        """SELECT id, url, title, disabled, disabled_at, last_success_at, last_checked_at,
                  last_error, error_count, next_check_at, charset, ttl_minutes, note
           FROM feeds ORDER BY id""",
    )
    return [
        FeedStats(
            **{**row, "disabled": bool(row["disabled"])}, items_per_day=rates.get(row["id"], 0.0)
        )
        for row in rows
    ]


def site_url(db: Database, feed_id: int) -> str | None:
    """A feed's own <link> as it last gave it."""
    row = db.execute("SELECT site_url FROM feeds WHERE id = ?", (feed_id,)).fetchone()
    return row[0] if row else None


def delete_feed(db: Database, feed_id: int) -> None:
    """Remove a feed and its articles."""
    db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))


FULLTEXT_MODES = ("auto", "on", "off")


def set_fulltext(db: Database, feed_id: int, mode: str) -> None:
    """Whether new items' pages are fetched: auto, on or off (a new mode starts afresh)."""
    if mode not in FULLTEXT_MODES:
        raise ValueError(f"full-text mode must be one of {FULLTEXT_MODES}, not {mode!r}")
    db.execute(
        """UPDATE feeds SET fulltext = ?, page_failures = 0, page_backoff_until = NULL
           WHERE id = ?""",
        (mode, feed_id),
    )


def record_pages(
    db: Database,
    feed_id: int,
    *,
    status: str,
    at: float,
    failures: int,
    backoff_until: float | None,
) -> None:
    """How a feed's latest pages fared: the last result, failures in a row, any backoff."""
    db.execute(
        """UPDATE feeds SET page_status = ?, page_checked_at = ?, page_failures = ?,
               page_backoff_until = ? WHERE id = ?""",
        (status, at, failures, backoff_until, feed_id),
    )
