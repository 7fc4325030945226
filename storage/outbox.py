"""The outbox: every message owed to a chat is a row before anything is sent.

Kinds: 'alert' (an article for a chat), 'broadcast' (an admin's notice to every chat), 'notice'
(a message to one chat with its text rendered when queued: an admin told a feed was disabled).

Row states: pending → sending → sent; or failed (after bounded retries, reason kept),
undeliverable (the chat blocked or removed the bot), cancelled (a broadcast stopped, a chat
paused). A pending row held until not_before (a 429, quiet hours, a digest's hour) gets
not_before = 0 back once that time has come (due_heads wakes it). A row folded into a digest or "N more alerts" message is sent with folded_into set to
the row whose message carried it.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from core.delivery_time import DeliveryMode
from core.keyword_ways import row_pace
from core.models import OutboxRow, OutboxStatus
from core.safety import safe_error
from storage.db import IDS_PER_QUERY, Database, fetch_rows, inserted_id


def _marks(values: list) -> str:
    return ",".join("?" * len(values))


def queue_alert(
    db: Database,
    chat_id: int,
    *,
    story_id: int,
    article_id: int,
    keywords: list[str],
    now: float,
    not_before: float = 0.0,
    turn: int = 0,
    pace: DeliveryMode | None = None,
) -> bool:
    """Owe a chat one alert for a story (`turn`: its place in the story's line of chats; `pace`:
    its keywords' own, None for the chat's mode). A second match of a pending alert adds its
    keywords, and speeds it up when it comes at a faster pace (one story, one alert, at the
    fastest pace of its keywords)."""
    values = (chat_id, story_id, article_id, _keywords_json(tuple(keywords)), now, not_before, turn)
    params = values if pace is None else (*values, pace)
    cursor = db.execute(_insert_alerts(with_pace=pace is not None), params)
    if cursor.rowcount > 0:
        return True
    row = db.execute(
        """SELECT id, keywords, pace FROM outbox
           WHERE chat_id = ? AND story_id = ? AND kind = 'alert' AND status = 'pending'""",
        (chat_id, story_id),
    ).fetchone()
    if row is not None:
        row_id, stored, was = row
        known = json.loads(stored)
        merged = known + [k for k in keywords if k not in known]
        if merged != known:
            db.execute(
                "UPDATE outbox SET keywords = ? WHERE id = ?",
                (_keywords_json(tuple(merged)), row_id),
            )
        if was != pace:  # one of them is a pace of its own: the faster goes
            _speed_up(db, row_id, chat_id, was, pace)
    return False


def _speed_up(
    db: Database, row_id: int, chat_id: int, was: DeliveryMode | None, pace: DeliveryMode | None
) -> None:
    """A pending alert goes at `pace` (None: the chat's mode) when that is faster than it was
    going; woken, to be decided again."""
    found = db.execute("SELECT delivery_mode FROM chats WHERE id = ?", (chat_id,)).fetchone()
    mode: DeliveryMode = found[0] if found else "instant"
    faster = row_pace((was or mode, pace or mode), mode)
    if faster != was:
        set_pace(db, row_id, faster)


def pending_alert_paces(db: Database, chat_id: int) -> list[tuple[int, list[str], str | None]]:
    """A chat's pending alerts: (row id, its keywords as typed, its pace; None: the chat's)."""
    rows = db.execute(
        """SELECT id, keywords, pace FROM outbox
           WHERE chat_id = ? AND kind = 'alert' AND status = 'pending'""",
        (chat_id,),
    )
    return [(row_id, json.loads(keywords), pace) for row_id, keywords, pace in rows]


def set_pace(db: Database, row_id: int, pace: DeliveryMode | None) -> None:
    """A pending alert goes at `pace` now (None: the chat's mode); woken, to be decided again."""
    db.execute(
        "UPDATE outbox SET pace = ?, not_before = 0 WHERE id = ? AND status = 'pending'",
        (pace, row_id),
    )


def queue_alerts(
    db: Database,
    chat_keywords: dict[int, list[str]],
    *,
    story_id: int,
    article_id: int,
    now: float,
    not_before: float = 0.0,
    new_story: bool = False,
    first_turn: int = 0,
    paces: Mapping[int, DeliveryMode] | None = None,
) -> int:
    """queue_alert for many chats and one story at once; how many new alerts were queued.
    `first_turn`: the first chat's place in the story's line (a later chunk of its chats);
    `paces`: the chats whose keywords give the story a pace of its own (the others: none).

    Chats that already have an alert for the story go through queue_alert (a pending one gets
    the new keywords); the rest are inserted with one executemany. `new_story`: the story was
    first seen in this transaction, so no chat has an alert for it yet (nothing to look up).
    """
    if not chat_keywords:
        return 0
    paces = paces or {}
    known = set() if new_story else _chats_with_alert(db, story_id, list(chat_keywords))
    with_pace = bool(paces)
    fresh = [
        (chat_id, story_id, article_id, _keywords_json(tuple(keywords)), now, not_before, turn)
        + ((paces.get(chat_id),) if with_pace else ())
        for turn, (chat_id, keywords) in enumerate(
            (
                (chat_id, keywords)
                for chat_id, keywords in chat_keywords.items()
                if chat_id not in known
            ),
            start=first_turn,
        )
    ]
    queued = 0
    if fresh:
        queued = db.conn.executemany(_insert_alerts(with_pace=with_pace), fresh).rowcount
    for chat_id in known:
        queue_alert(
            db,
            chat_id,
            story_id=story_id,
            article_id=article_id,
            keywords=chat_keywords[chat_id],
            now=now,
            not_before=not_before,
            pace=paces.get(chat_id),
        )
    return queued


@functools.cache
def _insert_alerts(*, with_pace: bool) -> str:
    """The statement that owes chats alerts; with their own paces when some have one (else the
    column is left to its NULL: the chat's mode). A chat gone since it was matched (its data
    erased during the cycle that matched it) is owed nothing, silently: so is a chat that was
    never stored, which a test must create first."""
    pace = (", pace", ", ?8") if with_pace else ("", "")
    return f"""INSERT INTO outbox (chat_id, kind, story_id, article_id, keywords, created_at,
                                   not_before, turn{pace[0]})
               SELECT ?1, 'alert', ?2, ?3, ?4, ?5, ?6, ?7{pace[1]}
               WHERE EXISTS (SELECT 1 FROM chats WHERE id = ?1)
               ON CONFLICT DO NOTHING"""  # noqa: S608


def queue_notice(
    db: Database, chat_id: int, text: str, *, now: float, keywords: tuple[str, ...] = ()
) -> int:
    """Owe one chat a message whose text is already rendered (about `keywords`: it goes to
    their forum topic, as their alerts do); its row id."""
    cursor = db.execute(
        """INSERT INTO outbox (chat_id, kind, text, created_at, keywords)
           VALUES (?, 'notice', ?, ?, ?)""",
        (chat_id, text, now, _keywords_json(keywords)),
    )
    return inserted_id(cursor)


def create_broadcast(
    db: Database,
    text: str,
    *,
    created_by: int,
    source_chat_id: int,
    source_message_id: int,
    chat_ids: Iterable[int] = (),
    now: float,
    draft: bool = False,
) -> tuple[int, int] | None:
    """Store a broadcast (a draft, or owed at once to `chat_ids`); None if this message was seen."""
    with db.atomic():
        cursor = db.execute(
            """INSERT INTO broadcasts (text, created_by, source_chat_id, source_message_id,
                                       created_at, status)
               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            (
                text,
                created_by,
                source_chat_id,
                source_message_id,
                now,
                "draft" if draft else "sending",
            ),
        )
        if cursor.rowcount == 0:
            return None
        broadcast_id = inserted_id(cursor)
        if draft:
            return broadcast_id, 0
        return broadcast_id, _owe_broadcast(db, broadcast_id, chat_ids, now)


def _owe_broadcast(db: Database, broadcast_id: int, chat_ids: Iterable[int], now: float) -> int:
    ids = list(chat_ids)
    db.conn.executemany(
        """INSERT INTO outbox (chat_id, kind, broadcast_id, created_at, turn)
           VALUES (?, 'broadcast', ?, ?, ?) ON CONFLICT DO NOTHING""",
        [(chat_id, broadcast_id, now, turn) for turn, chat_id in enumerate(ids)],
    )
    return len(ids)


@dataclass(frozen=True, slots=True)
class Broadcast:
    """An admin notice and where its progress is shown."""

    id: int
    text: str
    status: str  # draft | sending | done | cancelled
    silent: bool
    created_by: int
    progress_chat_id: int | None
    progress_message_id: int | None
    started_at: float | None


def get_broadcast(db: Database, broadcast_id: int) -> Broadcast | None:
    """One broadcast."""
    rows = fetch_rows(db, "SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
    if not rows:
        return None
    row = rows[0]
    return Broadcast(
        row["id"],
        row["text"],
        row["status"],
        bool(row["silent"]),
        row["created_by"],
        row["progress_chat_id"],
        row["progress_message_id"],
        row["started_at"],
    )


def start_broadcast(
    db: Database,
    broadcast_id: int,
    *,
    chat_ids: Iterable[int],
    silent: bool,
    progress_chat_id: int,
    progress_message_id: int,
    now: float,
) -> int | None:
    """Confirm a draft: owe it to every chat; None if it was not a draft (a repeated press)."""
    with db.atomic():
        cursor = db.execute(
            """UPDATE broadcasts SET status = 'sending', silent = ?, progress_chat_id = ?,
                   progress_message_id = ?, started_at = ?
               WHERE id = ? AND status = 'draft'""",
            (int(silent), progress_chat_id, progress_message_id, now, broadcast_id),
        )
        if cursor.rowcount == 0:
            return None
        return _owe_broadcast(db, broadcast_id, chat_ids, now)


def discard_draft(db: Database, broadcast_id: int, now: float) -> bool:
    """Cancel a draft before it is sent."""
    return (
        db.execute(
            "UPDATE broadcasts SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'draft'",
            (now, broadcast_id),
        ).rowcount
        > 0
    )


def cancel_broadcasts(db: Database, now: float) -> list[int]:
    """Stop every broadcast being sent: rows not yet sent are cancelled."""
    with db.atomic():
        ids = [
            row[0]
            for row in db.execute("SELECT id FROM broadcasts WHERE status = 'sending'").fetchall()
        ]
        if ids:
            db.execute(
                f"""UPDATE outbox SET status = 'cancelled', last_error = 'broadcast cancelled'
                    WHERE broadcast_id IN ({_marks(ids)}) AND status = 'pending'""",  # noqa: S608
                ids,
            )
            db.execute(
                f"UPDATE broadcasts SET status = 'cancelled', finished_at = ? "  # noqa: S608
                f"WHERE id IN ({_marks(ids)})",
                (now, *ids),
            )
    return ids


def active_broadcasts(db: Database) -> list[Broadcast]:
    """Broadcasts being sent, and cancelled ones whose last report is still owed."""
    rows = fetch_rows(
        db,
        "SELECT id FROM broadcasts WHERE status IN ('sending', 'cancelled') "
        "AND started_at IS NOT NULL AND reported = 0 ORDER BY id",
    )
    return [b for b in (get_broadcast(db, row["id"]) for row in rows) if b is not None]


def broadcast_counts(db: Database, broadcast_id: int) -> dict[str, int]:
    """Rows of one broadcast by status."""
    return dict(
        db.execute(
            "SELECT status, count(*) FROM outbox WHERE broadcast_id = ? GROUP BY status",
            (broadcast_id,),
        ).fetchall()
    )


def finish_broadcast(db: Database, broadcast_id: int, now: float) -> None:
    """Every row of a broadcast is settled: it is done (a cancelled one stays cancelled)."""
    db.execute(
        """UPDATE broadcasts SET status = CASE status WHEN 'sending' THEN 'done' ELSE status END,
               finished_at = COALESCE(finished_at, ?), reported = 1 WHERE id = ?""",
        (now, broadcast_id),
    )


def reset_in_flight(db: Database) -> int:
    """At start: rows claimed by a process that died are owed again."""
    return db.execute(
        "UPDATE outbox SET status = 'pending', claimed_at = NULL WHERE status = 'sending'"
    ).rowcount


class DueHead(NamedTuple):
    """A chat owed something now: its oldest due row, and that row's place in its story's line."""

    chat_id: int
    row_id: int
    turn: int


def due_heads(
    db: Database,
    now: float,
    *,
    skip_chats: Iterable[int] = (),
    limit: int = 5000,
    enough: int | None = None,
) -> list[DueHead]:
    """Each chat owed something now, once (its oldest due row: a chat's messages keep their
    order), in fair order: the first chats of every story, broadcast and notice, then the
    second ones, and so on; so a story for ten chats is not held behind one for 50,000.

    `enough`: stop once that many are read and the turn of the last is read whole (a caller
    that reorders by turn and takes `enough` gets what it would from the whole list). Reads
    the chats' heads (m015) in turn order: the cost follows the heads read, not the queue."""
    wake_due(db, now)
    skip = set(skip_chats)
    heads: list[DueHead] = []
    sql = "SELECT chat_id, row_id, turn FROM outbox_heads ORDER BY turn, row_id"
    with contextlib.closing(db.execute(sql)) as cursor:  # read only as far as needed
        for head in map(DueHead._make, cursor):
            if len(heads) >= limit or (
                enough is not None and len(heads) >= enough and head.turn != heads[-1].turn
            ):
                break
            if head.chat_id not in skip:
                heads.append(head)
    return heads


def wake_due(db: Database, now: float) -> int:
    """Rows whose hold (a 429, quiet hours, a digest's hour) has passed are due again: their
    time is cleared (not_before = 0), which makes each its chat's head if it is the oldest."""
    woken = db.execute(
        "SELECT 1 FROM outbox WHERE status = 'pending' AND not_before > 0 AND not_before <= ?"
        " LIMIT 1",
        (now,),
    ).fetchone()
    if woken is None:  # the usual round: no write
        return 0
    return db.execute(
        """UPDATE outbox SET not_before = 0
           WHERE status = 'pending' AND not_before > 0 AND not_before <= ?""",
        (now,),
    ).rowcount


def _outbox_row(row: dict) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        chat_id=row["chat_id"],
        kind=row["kind"],
        article_id=row["article_id"],
        broadcast_id=row["broadcast_id"],
        keywords=tuple(json.loads(row["keywords"])),
        attempts=row["attempts"],
        created_at=row["created_at"],
        text=row["text"],
        pace=row["pace"],
    )


def claim(db: Database, row_ids: list[int], now: float) -> list[OutboxRow]:
    """Mark rows as being sent (only those still pending) and return them."""
    if not row_ids:
        return []
    with db.atomic():
        # By rowid: given 20 ids or more, the planner (no ANALYZE statistics) would rather walk
        # every pending row of the outbox_due index, 900,000 steps with 100,000 rows queued.
        rows = fetch_rows(
            db,
            f"SELECT * FROM outbox NOT INDEXED WHERE id IN ({_marks(row_ids)}) "  # noqa: S608
            "AND status = 'pending' ORDER BY id",
            row_ids,
        )
        ids = [row["id"] for row in rows]
        if ids:
            db.execute(
                f"UPDATE outbox SET status = 'sending', claimed_at = ? WHERE id IN ({_marks(ids)})",  # noqa: S608
                (now, *ids),
            )
    return [_outbox_row(row) for row in rows]


def claim_more_alerts(
    db: Database, chat_id: int, now: float, *, exclude: int, limit: int
) -> list[OutboxRow]:
    """Claim a chat's other due alerts, oldest first, to fold them into one message."""
    ids = [
        row[0]
        for row in db.execute(
            """SELECT id FROM outbox WHERE chat_id = ? AND kind = 'alert' AND status = 'pending'
               AND not_before <= ? AND id != ? ORDER BY id LIMIT ?""",
            (chat_id, now, exclude, limit),
        ).fetchall()
    ]
    return claim(db, ids, now)


def pending_alert_count(db: Database, chat_id: int, now: float) -> int:
    """How many alerts a chat is owed now (not counting held ones)."""
    return db.execute(
        """SELECT count(*) FROM outbox WHERE chat_id = ? AND kind = 'alert'
               AND status IN ('pending', 'sending') AND not_before <= ?""",
        (chat_id, now),
    ).fetchone()[0]


def alert_messages_since(db: Database, chat_id: int, since: float) -> tuple[int, float | None]:
    """Alert messages a chat received since a time (a folded message counts once), and the
    oldest of them."""
    row = db.execute(
        """SELECT count(*), min(sent_at) FROM outbox
           WHERE chat_id = ? AND kind = 'alert' AND status = 'sent' AND folded_into IS NULL
             AND sent_at >= ?""",
        (chat_id, since),
    ).fetchone()
    return row[0], row[1]


def mark_sent(db: Database, row_id: int, *, message_id: int, now: float) -> None:
    """Telegram accepted the message."""
    db.execute(
        """UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, attempts = attempts + 1
           WHERE id = ?""",
        (now, message_id, row_id),
    )


def mark_folded(
    db: Database, row_ids: list[int], *, carrier_id: int, message_id: int, now: float
) -> None:
    """Rows delivered inside the message of another row."""
    if row_ids:
        db.execute(
            f"""UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, folded_into = ?
                WHERE id IN ({_marks(row_ids)})""",  # noqa: S608
            (now, message_id, carrier_id, *row_ids),
        )


def release(db: Database, row_ids: list[int]) -> None:
    """Put claimed rows back, unchanged (they were not sent)."""
    if row_ids:
        db.execute(
            f"UPDATE outbox SET status = 'pending', claimed_at = NULL WHERE id IN ({_marks(row_ids)})",  # noqa: S608
            row_ids,
        )


def mark_retry(
    db: Database,
    row_id: int,
    *,
    not_before: float,
    error: str | None,
    count_attempt: bool = True,
) -> None:
    """Send again later (a 429 or a hold does not count as an attempt)."""
    db.execute(
        """UPDATE outbox SET status = 'pending', not_before = ?, last_error = COALESCE(?, last_error),
               attempts = attempts + ?, claimed_at = NULL WHERE id = ?""",
        (not_before, safe_error(error), int(count_attempt), row_id),
    )


def mark_failed(db: Database, row_id: int, error: str, *, status: OutboxStatus = "failed") -> None:
    """Give up on a row; it stays, with the reason, for admins."""
    db.execute(
        """UPDATE outbox SET status = ?, last_error = ?, attempts = attempts + 1
           WHERE id = ?""",
        (status, safe_error(error), row_id),
    )


def next_due_at(db: Database) -> float | None:
    """When the earliest pending row becomes due, or None when nothing is owed."""
    row = db.execute("SELECT min(not_before) FROM outbox WHERE status = 'pending'").fetchone()
    return row[0]


def status_counts(db: Database) -> dict[str, int]:
    """Rows by status."""
    return dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())


def recent_failures(db: Database, limit: int = 5) -> list[tuple[int, str]]:
    """The latest failed rows (chat, reason), for admins."""
    return [
        (row[0], row[1])
        for row in db.execute(
            "SELECT chat_id, last_error FROM outbox WHERE status = 'failed' ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
    ]


@functools.lru_cache(maxsize=4096)
def _keywords_json(keywords: tuple[str, ...]) -> str:
    """The stored form of an alert's keywords; popular keywords recur in every poll."""
    return json.dumps(list(keywords), ensure_ascii=False)


def big_story_keywords(db: Database, chat_ids: list[int]) -> dict[int, dict[str, tuple[int, int]]]:
    """The keywords of these chats that wait for big stories: chat → keyword as typed →
    (outlets, window hours); an alert they brought names the outlets that carried its story."""
    found: dict[int, dict[str, tuple[int, int]]] = {}
    for start in range(0, len(chat_ids), IDS_PER_QUERY):
        batch = chat_ids[start : start + IDS_PER_QUERY]
        for chat_id, keyword, outlets, hours in db.execute(
            f"""SELECT chat_id, keyword, min_outlets, window_hours FROM subscriptions
                WHERE chat_id IN ({_marks(batch)}) AND min_outlets > 1""",  # noqa: S608
            batch,
        ):
            found.setdefault(chat_id, {})[keyword] = (outlets, hours)
    return found


def _chats_with_alert(db: Database, story_id: int, chat_ids: list[int]) -> set[int]:
    """Which of these chats already have an alert row for the story."""
    return {
        row[0]
        for start in range(0, len(chat_ids), IDS_PER_QUERY)
        for row in db.execute(
            f"""SELECT chat_id FROM outbox WHERE kind = 'alert' AND story_id = ?
                AND chat_id IN ({_marks(chat_ids[start : start + IDS_PER_QUERY])})""",
            [story_id, *chat_ids[start : start + IDS_PER_QUERY]],
        )
    }
