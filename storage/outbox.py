"""The outbox: every message owed to a chat is a row before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlite_utils import Database

from core.models import OutboxRow
from storage.chats import _rows


def queue_alert(
    db: Database,
    chat_id: int,
    *,
    story_id: int,
    article_id: int,
    keywords: list[str],
    now: float,
) -> bool:
    """Owe a chat one alert for a story; False if that chat already has one for it."""
    cursor = db.execute(
        """INSERT INTO outbox (chat_id, kind, story_id, article_id, keywords, created_at)
           VALUES (?, 'alert', ?, ?, ?, ?)
           ON CONFLICT DO NOTHING""",
        (chat_id, story_id, article_id, json.dumps(keywords, ensure_ascii=False), now),
    )
    return cursor.rowcount > 0


def create_broadcast(
    db: Database,
    text: str,
    *,
    created_by: int,
    source_chat_id: int,
    source_message_id: int,
    chat_ids: Iterable[int],
    now: float,
) -> tuple[int, int] | None:
    """Store a broadcast and owe it to every chat, once; None if this message was handled."""
    with db.atomic():
        cursor = db.execute(
            """INSERT INTO broadcasts (text, created_by, source_chat_id, source_message_id,
                                       created_at)
               VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            (text, created_by, source_chat_id, source_message_id, now),
        )
        if cursor.rowcount == 0:
            return None
        broadcast_id = int(cursor.lastrowid)  # type: ignore[arg-type]
        ids = list(chat_ids)
        db.conn.executemany(
            """INSERT INTO outbox (chat_id, kind, broadcast_id, created_at)
               VALUES (?, 'broadcast', ?, ?) ON CONFLICT DO NOTHING""",
            [(chat_id, broadcast_id, now) for chat_id in ids],
        )
        return broadcast_id, len(ids)


def broadcast_text(db: Database, broadcast_id: int) -> str:
    """The text of a broadcast."""
    return db.execute("SELECT text FROM broadcasts WHERE id = ?", (broadcast_id,)).fetchone()[0]


def reset_in_flight(db: Database) -> int:
    """At start: rows claimed by a process that died are owed again."""
    return db.execute(
        "UPDATE outbox SET status = 'pending', claimed_at = NULL WHERE status = 'sending'"
    ).rowcount


def claim_due(
    db: Database, now: float, *, limit: int, skip_chats: Iterable[int] = ()
) -> list[OutboxRow]:
    """Claim the oldest due row of up to `limit` chats (one per chat, so no chat starves)."""
    skip = list(skip_chats)
    skip_sql = f"AND chat_id NOT IN ({','.join('?' * len(skip))})" if skip else ""
    with db.atomic():
        ids = [
            row[0]
            for row in db.execute(
                f"""SELECT min(id) FROM outbox
                    WHERE status = 'pending' AND not_before <= ? {skip_sql}
                    GROUP BY chat_id ORDER BY min(id) LIMIT ?""",  # noqa: S608
                (now, *skip, limit),
            ).fetchall()
        ]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        db.execute(
            f"UPDATE outbox SET status = 'sending', claimed_at = ? WHERE id IN ({marks})",  # noqa: S608
            (now, *ids),
        )
        rows = _rows(db, f"SELECT * FROM outbox WHERE id IN ({marks}) ORDER BY id", ids)  # noqa: S608
    return [
        OutboxRow(
            id=row["id"],
            chat_id=row["chat_id"],
            kind=row["kind"],
            article_id=row["article_id"],
            broadcast_id=row["broadcast_id"],
            keywords=tuple(json.loads(row["keywords"])),
            attempts=row["attempts"],
        )
        for row in rows
    ]


def mark_sent(db: Database, row_id: int, *, message_id: int, now: float) -> None:
    """Telegram accepted the message."""
    db.execute(
        """UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, attempts = attempts + 1
           WHERE id = ?""",
        (now, message_id, row_id),
    )


def mark_retry(
    db: Database, row_id: int, *, not_before: float, error: str, count_attempt: bool = True
) -> None:
    """Send again later (a 429 does not count as an attempt)."""
    db.execute(
        """UPDATE outbox SET status = 'pending', not_before = ?, last_error = ?,
               attempts = attempts + ? WHERE id = ?""",
        (not_before, error, int(count_attempt), row_id),
    )


def mark_failed(db: Database, row_id: int, error: str) -> None:
    """Give up on a row after bounded retries; it stays, with the reason, for admins."""
    db.execute(
        """UPDATE outbox SET status = 'failed', last_error = ?, attempts = attempts + 1
           WHERE id = ?""",
        (error, row_id),
    )


def next_due_at(db: Database) -> float | None:
    """When the earliest pending row becomes due, or None when nothing is owed."""
    row = db.execute("SELECT min(not_before) FROM outbox WHERE status = 'pending'").fetchone()
    return row[0]


def status_counts(db: Database) -> dict[str, int]:
    """Rows by status."""
    return dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
