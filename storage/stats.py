"""Figures for the admins' /stats."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class Stats:
    """What /stats shows."""

    chats_active: int
    chats_inactive: int
    chats_banned: int
    keywords: int
    top_keywords: list[tuple[str, int]]
    feeds_healthy: int
    feeds_failing: int
    feeds_disabled: int
    alerts_today: int
    alerts_week: int
    backlog: int
    failed: int


def _one(db: Database, sql: str, params: tuple = ()) -> int:
    return db.execute(sql, params).fetchone()[0] or 0


def collect(db: Database, *, now: float) -> Stats:
    """Count chats, keywords, feeds and alerts."""
    return Stats(
        chats_active=_one(
            db,
            """SELECT count(*) FROM chats WHERE active = 1
               AND NOT EXISTS (SELECT 1 FROM bans WHERE bans.chat_id = chats.id)""",
        ),
        chats_inactive=_one(db, "SELECT count(*) FROM chats WHERE active = 0"),
        chats_banned=_one(db, "SELECT count(*) FROM bans"),
        keywords=_one(db, "SELECT count(*) FROM subscriptions"),
        top_keywords=[
            (row[0], row[1])
            for row in db.execute(
                """SELECT min(keyword), count(*) AS n FROM subscriptions GROUP BY key
               ORDER BY n DESC, min(id) LIMIT 20"""
            ).fetchall()
        ],
        feeds_healthy=_one(db, "SELECT count(*) FROM feeds WHERE disabled = 0 AND error_count = 0"),
        feeds_failing=_one(db, "SELECT count(*) FROM feeds WHERE disabled = 0 AND error_count > 0"),
        feeds_disabled=_one(db, "SELECT count(*) FROM feeds WHERE disabled = 1"),
        alerts_today=_one(
            db,
            """SELECT count(*) FROM outbox WHERE kind = 'alert'
                                 AND status = 'sent' AND sent_at >= ?""",
            (now - 86400,),
        ),
        alerts_week=_one(
            db,
            """SELECT count(*) FROM outbox WHERE kind = 'alert'
                                AND status = 'sent' AND sent_at >= ?""",
            (now - 7 * 86400,),
        ),
        backlog=_one(db, "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"),
        failed=_one(db, "SELECT count(*) FROM outbox WHERE status = 'failed'"),
    )


def items_per_day(db: Database, feed_id: int, *, now: float, days: int = 7) -> float:
    """New items a feed published per day over the last days."""
    count = _one(
        db,
        "SELECT count(*) FROM articles WHERE feed_id = ? AND fetched_at >= ?",
        (feed_id, now - days * 86400),
    )
    return count / days


def count_sends(db: Database, day: str, *, free: int, paid: int) -> None:
    """Add messages Telegram accepted on a UTC day, by lane."""
    for lane, messages in (("free", free), ("paid", paid)):
        if messages:
            db.execute(
                """INSERT INTO send_days (day, lane, messages) VALUES (?, ?, ?)
                   ON CONFLICT (day, lane) DO UPDATE SET messages = messages + excluded.messages""",
                (day, lane, messages),
            )


def sends_on(db: Database, day: str) -> dict[str, int]:
    """Messages Telegram accepted on a UTC day: {"free": n, "paid": m}."""
    counts = {"free": 0, "paid": 0}
    for lane, messages in db.execute(
        "SELECT lane, messages FROM send_days WHERE day = ?", (day,)
    ).fetchall():
        counts[lane] = messages
    return counts
