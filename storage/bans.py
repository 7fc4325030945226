"""Bans: chats (and users) an admin shut out. Their own table, so /stop cannot lift one."""

from __future__ import annotations

from storage.db import Database


def ban(db: Database, chat_id: int, *, banned_by: int, now: float) -> bool:
    """Ban a chat or user, met or not; False when it was already banned."""
    cursor = db.execute(
        """INSERT INTO bans (chat_id, banned_by, created_at) VALUES (?, ?, ?)
           ON CONFLICT (chat_id) DO NOTHING""",
        (chat_id, banned_by, now),
    )
    return cursor.rowcount > 0


def unban(db: Database, chat_id: int) -> bool:
    """Lift a ban; False when there was none."""
    return db.execute("DELETE FROM bans WHERE chat_id = ?", (chat_id,)).rowcount > 0


def banned_among(db: Database, ids: list[int]) -> int | None:
    """The first of these chat or user ids that is banned, or None."""
    for chat_id in ids:
        if db.execute("SELECT 1 FROM bans WHERE chat_id = ?", (chat_id,)).fetchone():
            return chat_id
    return None


def tell_once(db: Database, chat_id: int, now: float) -> bool:
    """True the first time a banned chat writes after its ban: it is told once, then ignored."""
    cursor = db.execute(
        "UPDATE bans SET told_at = ? WHERE chat_id = ? AND told_at IS NULL", (now, chat_id)
    )
    return cursor.rowcount > 0


def carry(db: Database, old_id: int, new_id: int) -> None:
    """A group that became a supergroup stays banned under its new id."""
    db.execute(
        """INSERT OR IGNORE INTO bans (chat_id, banned_by, created_at, told_at)
           SELECT ?, banned_by, created_at, told_at FROM bans WHERE chat_id = ?""",
        (new_id, old_id),
    )
