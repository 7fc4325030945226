"""Each keyword's stories per hour (issue #31: surges and the Mini App's chart), the new stories
surges read, and the surge notices given."""

from __future__ import annotations

from collections.abc import Iterable

from core.models import Subscription
from storage.db import IDS_PER_QUERY, Database, fetch_rows

KEEP_HOURS = 15 * 24  # the chart shows two weeks; the usual needs one


def count_story(db: Database, keys: Iterable[str], hour: int) -> None:
    """One more story in `hour` for each of these keyword keys."""
    db.conn.executemany(
        """INSERT INTO keyword_hours (key, hour, stories) VALUES (?, ?, 1)
           ON CONFLICT (key, hour) DO UPDATE SET stories = stories + 1""",
        [(key, hour) for key in keys],
    )


def hours_of(db: Database, key: str, start: int, stop: int) -> dict[int, int]:
    """A keyword's stories by hour, for the hours in [start, stop) that had any."""
    rows = db.execute(
        "SELECT hour, stories FROM keyword_hours WHERE key = ? AND hour >= ? AND hour < ?",
        (key, start, stop),
    )
    return dict(rows.fetchall())


def first_hour(db: Database, key: str) -> int | None:
    """The earliest hour still kept in which a keyword had a story (None: none kept)."""
    return db.execute("SELECT min(hour) FROM keyword_hours WHERE key = ?", (key,)).fetchone()[0]


def prune(db: Database, *, now: float) -> int:
    """Forget the hours and surge notices older than KEEP_HOURS; how many hour rows went."""
    before_hour = int(now // 3600) - KEEP_HOURS
    db.execute("DELETE FROM surges WHERE at < ?", (before_hour * 3600.0,))
    return db.execute("DELETE FROM keyword_hours WHERE hour < ?", (before_hour,)).rowcount


def new_stories(
    db: Database, *, since: float, after_id: int | None
) -> list[tuple[int, str, str, float | None, float]]:
    """Articles that started a story, fetched since `since` (and after article `after_id`):
    (id, title, text, published_at, fetched_at), oldest first."""
    where = "fetched_at >= ?" if after_id is None else "id > ? AND fetched_at >= ?"
    params = (since,) if after_id is None else (after_id, since)
    rows = db.execute(
        f"""SELECT id, title, text, published_at, fetched_at FROM articles
            WHERE {where} AND COALESCE(story_id, id) = id ORDER BY id""",  # noqa: S608
        params,
    )
    return rows.fetchall()


def followers(db: Database, chat_ids: list[int], key: str) -> list[Subscription]:
    """The active subscriptions to a keyword key among some chats."""
    found: list[Subscription] = []
    for start in range(0, len(chat_ids), IDS_PER_QUERY):
        batch = chat_ids[start : start + IDS_PER_QUERY]
        marks = ",".join("?" * len(batch))
        rows = fetch_rows(
            db,
            f"""SELECT id, chat_id, keyword, key, pace, min_outlets, surges FROM subscriptions
                WHERE chat_id IN ({marks}) AND key = ? AND paused = 0""",  # noqa: S608
            (*batch, key),
        )
        found.extend(
            Subscription(
                id=row["id"], chat_id=row["chat_id"], keyword=row["keyword"], key=row["key"],
                pace=row["pace"], min_outlets=row["min_outlets"],
                surges=None if row["surges"] is None else bool(row["surges"]),
            )
            for row in rows
        )  # fmt: skip
    return found


def noticed_since(db: Database, subscription_ids: list[int], since: float) -> set[int]:
    """Of some subscriptions, those that got a surge notice at or after `since`."""
    noticed: set[int] = set()
    for start in range(0, len(subscription_ids), IDS_PER_QUERY):
        batch = subscription_ids[start : start + IDS_PER_QUERY]
        marks = ",".join("?" * len(batch))
        rows = db.execute(
            f"""SELECT DISTINCT subscription_id FROM surges
                WHERE subscription_id IN ({marks}) AND at >= ?""",  # noqa: S608
            (*batch, since),
        )
        noticed.update(row[0] for row in rows)
    return noticed


def record_surge(db: Database, subscription_id: int, at: float, stories: int, usual: float) -> None:
    """Remember a surge notice given for a subscription."""
    db.execute(
        "INSERT INTO surges (subscription_id, at, stories, usual) VALUES (?, ?, ?, ?)",
        (subscription_id, at, stories, usual),
    )


def surges_of(db: Database, subscription_id: int) -> list[tuple[float, int, float]]:
    """A subscription's surge notices: (at, stories, usual), oldest first."""
    rows = db.execute(
        "SELECT at, stories, usual FROM surges WHERE subscription_id = ? ORDER BY at",
        (subscription_id,),
    )
    return rows.fetchall()


def stories_by_hour(
    db: Database, keys: Iterable[str], since_hour: int
) -> dict[str, dict[int, int]]:
    """Stories per hour of some keys (normalized keywords) from `since_hour` on; a key without
    stories is left out."""
    wanted = sorted(set(keys))
    counts: dict[str, dict[int, int]] = {}
    for start in range(0, len(wanted), IDS_PER_QUERY):
        batch = wanted[start : start + IDS_PER_QUERY]
        marks = ",".join("?" * len(batch))
        rows = db.execute(
            f"SELECT key, hour, stories FROM keyword_hours WHERE key IN ({marks}) AND hour >= ?",
            (*batch, since_hour),
        )
        for key, hour, stories in rows:
            counts.setdefault(key, {})[hour] = stories
    return counts


def surge_times(
    db: Database, subscription_ids: Iterable[int], since: float
) -> dict[int, list[float]]:
    """When each keyword's surge notices were given from `since` on, oldest first; a keyword
    without any is left out."""
    wanted = sorted(set(subscription_ids))
    times: dict[int, list[float]] = {}
    for start in range(0, len(wanted), IDS_PER_QUERY):
        batch = wanted[start : start + IDS_PER_QUERY]
        marks = ",".join("?" * len(batch))
        rows = db.execute(
            f"SELECT subscription_id, at FROM surges WHERE subscription_id IN ({marks})"
            " AND at >= ? ORDER BY at",
            (*batch, since),
        )
        for sub_id, at in rows:
            times.setdefault(sub_id, []).append(at)
    return times


def newest_article_id(db: Database) -> int:
    """The id of the newest article stored (0: none)."""
    return db.execute("SELECT max(id) FROM articles").fetchone()[0] or 0
