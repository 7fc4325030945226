"""Chats and their subscriptions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import TypedDict

from core.models import LINK_PREVIEWS, Chat, Subscription
from core.safety import safe_error
from storage import bans
from storage.db import IDS_PER_QUERY, Database, fetch_rows, inserted_id


class KeywordExists(Exception):
    """The chat already follows a keyword with the same normalized key."""


def _chat(row: dict) -> Chat:
    return Chat(
        id=row["id"],
        type=row["type"],
        title=row["title"],
        language=row["language"],
        article_languages=languages_of(row["article_languages"]),
        active=bool(row["active"]),
        paused=bool(row["paused"]),
        banned=bool(row["is_banned"]),
        delivery_mode=row["delivery_mode"],
        digest_hour=row["digest_hour"],
        timezone=row["timezone"],
        quiet_start=row["quiet_start"],
        quiet_end=row["quiet_end"],
        quiet_mode=row["quiet_mode"],
        link_previews=LINK_PREVIEWS[row["link_previews"]]
        if 0 <= row["link_previews"] < 3
        else "off",
        silent=bool(row["silent"]),
        linked_by=row["linked_by"],
        managing_chat_id=row["managing_chat_id"],
    )


# Chat rows with whether the chat is banned: bans live in their own table, which /stop keeps.
_CHATS = "SELECT chats.*, EXISTS (SELECT 1 FROM bans WHERE bans.chat_id = chats.id) AS is_banned FROM chats"
_NOT_BANNED = "NOT EXISTS (SELECT 1 FROM bans WHERE bans.chat_id = chats.id)"


def touch_chat(
    db: Database, chat_id: int, *, type: str, title: str, language: str, now: float
) -> Chat:
    """Create the chat or refresh it; a chat that writes to us is active again. `language` is
    the sender's: a private chat follows it, a group or channel keeps the one it was set up in
    (a member's Telegram must not switch everyone's alerts)."""
    db.execute(
        """
        INSERT INTO chats (id, type, title, language, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET type = excluded.type, title = excluded.title,
            language = CASE WHEN excluded.type = 'private' THEN excluded.language
                            ELSE chats.language END,
            active = 1, inactive_reason = NULL,
            inactive_since = NULL,
            updated_at = excluded.updated_at
        """,
        (chat_id, type, title, language, now, now),
    )
    chat = get_chat(db, chat_id)
    assert chat is not None
    return chat


def get_chat(db: Database, chat_id: int) -> Chat | None:
    """The chat, or None when the bot keeps nothing about it."""
    rows = fetch_rows(db, f"{_CHATS} WHERE id = ?", (chat_id,))  # noqa: S608
    return _chat(rows[0]) if rows else None


def delete_chat(db: Database, chat_id: int) -> None:
    """Forget everything about a chat (its keywords and pending messages too)."""
    with db.atomic():
        db.execute("DELETE FROM outbox WHERE chat_id = ?", (chat_id,))
        db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
        db.execute("DELETE FROM chats WHERE id = ?", (chat_id,))
        # What else names the chat: channels it linked (they stay, unlinked), chats managing
        # it, feeds and notices an admin made (they stay, without who made them).
        db.execute("UPDATE chats SET linked_by = NULL WHERE linked_by = ?", (chat_id,))
        db.execute(
            "UPDATE chats SET managing_chat_id = NULL WHERE managing_chat_id = ?", (chat_id,)
        )
        db.execute("UPDATE feeds SET added_by = NULL WHERE added_by = ?", (chat_id,))
        db.execute(
            """UPDATE broadcasts SET created_by = 0, source_chat_id = 0, source_message_id = -id
               WHERE created_by = ? OR source_chat_id = ?""",
            (chat_id, chat_id),
        )
        db.execute(
            """UPDATE broadcasts SET progress_chat_id = NULL, progress_message_id = NULL
               WHERE progress_chat_id = ?""",
            (chat_id,),
        )


def deactivate_chat(db: Database, chat_id: int, reason: str, now: float) -> None:
    """Stop sending to a chat that blocked or removed the bot; keep its keywords."""
    with db.atomic():
        db.execute(
            """UPDATE chats SET active = 0, inactive_reason = ?, updated_at = ?,
                   inactive_since = COALESCE(inactive_since, ?) WHERE id = ?""",
            (safe_error(reason), now, now, chat_id),
        )
        db.execute(
            """UPDATE outbox SET status = 'undeliverable', last_error = ?
               WHERE chat_id = ? AND status IN ('pending', 'sending')""",
            (reason, chat_id),
        )


def migrate_chat(db: Database, old_id: int, new_id: int, now: float) -> None:
    """Move a group that became a supergroup to its new id, keywords, pending rows and ban too."""
    with db.atomic():
        bans.carry(db, old_id, new_id)
        if get_chat(db, new_id) is not None:
            # The new id already wrote to us: merge the old chat's data into it.
            db.execute(
                """UPDATE OR IGNORE subscriptions SET chat_id = ? WHERE chat_id = ?""",
                (new_id, old_id),
            )
            db.execute(
                "UPDATE OR IGNORE outbox SET chat_id = ? WHERE chat_id = ?", (new_id, old_id)
            )
            db.execute("DELETE FROM outbox WHERE chat_id = ?", (old_id,))
            db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (old_id,))
            db.execute("DELETE FROM chats WHERE id = ?", (old_id,))
        else:
            # ON UPDATE CASCADE carries subscriptions and outbox rows along.
            db.execute(
                "UPDATE chats SET id = ?, type = 'supergroup', updated_at = ? WHERE id = ?",
                (new_id, now, old_id),
            )


def languages_of(text: str) -> frozenset[str]:
    """A chat's article languages as stored ("ar,en", or "*" for every language)."""
    return frozenset(filter(None, text.split(","))) or frozenset({"ar"})


def _stored(value: object) -> object:
    """A flag's value as a column holds it (a set of languages as "ar,en")."""
    return ",".join(sorted(value)) if isinstance(value, frozenset) else value


def preview_stored(mode: str) -> int:
    """How the link_previews column holds a preview choice (0 off, 1 below, 2 above)."""
    return LINK_PREVIEWS.index(mode) if mode in LINK_PREVIEWS else 0


def set_chat_flags(db: Database, chat_id: int, **flags: object) -> None:
    """Update some of the chat's flags and delivery choices."""
    allowed = {
        "paused",
        "article_languages",
        "language",
        "delivery_mode",
        "digest_hour",
        "timezone",
        "quiet_start",
        "quiet_end",
        "quiet_mode",
        "link_previews",
        "silent",
        "linked_by",
        "managing_chat_id",
    }
    unknown = set(flags) - allowed
    if unknown:
        raise ValueError(f"unknown chat flags: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ?" for name in flags)
    db.execute(
        f"UPDATE chats SET {assignments} WHERE id = ?",  # noqa: S608 (names are whitelisted)
        (*map(_stored, flags.values()), chat_id),
    )


def active_chat_ids(db: Database) -> list[int]:
    """Chats that receive messages: active and not banned."""
    sql = f"SELECT id FROM chats WHERE active = 1 AND {_NOT_BANNED} ORDER BY id"  # noqa: S608
    return [row[0] for row in db.execute(sql).fetchall()]


def chats_by_id(db: Database, chat_ids: list[int]) -> dict[int, Chat]:
    """Load several chats at once."""
    if not chat_ids:
        return {}
    marks = ",".join("?" * len(chat_ids))
    rows = fetch_rows(db, f"{_CHATS} WHERE id IN ({marks})", chat_ids)  # noqa: S608
    return {row["id"]: _chat(row) for row in rows}


def _subscription(row: dict) -> Subscription:
    return Subscription(
        id=row["id"],
        chat_id=row["chat_id"],
        keyword=row["keyword"],
        key=row["key"],
        paused=bool(row["paused"]),
        thread_id=row["thread_id"],
        topic=row["topic"],
        likes=row["likes"],
        dislikes=row["dislikes"],
        scoped=bool(row["scoped"]),
        sites=tuple(row["sites"].split()),
        pace=row["pace"],
        min_outlets=row["min_outlets"],
        window_hours=row["window_hours"],
        surges=None if row["surges"] is None else bool(row["surges"]),
    )


def add_subscription(
    db: Database,
    chat_id: int,
    keyword: str,
    key: str,
    now: float,
    *,
    thread_id: int | None = None,
    topic: str | None = None,
    sites: tuple[str, ...] = (),
) -> int:
    """Store a keyword for a chat (in a forum topic; limited to `sites` when given) and return
    its id; KeywordExists if already followed."""
    cursor = db.execute(
        """INSERT INTO subscriptions (chat_id, keyword, key, created_at, thread_id, topic,
                                      scoped, sites)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, key) DO NOTHING""",
        (chat_id, keyword, key, now, thread_id, topic, int(bool(sites)), " ".join(sites)),
    )
    if cursor.rowcount == 0:
        raise KeywordExists(keyword)
    return inserted_id(cursor)


def remove_subscription(db: Database, chat_id: int, key: str) -> Subscription | None:
    """Delete a chat's keyword by its normalized key; the removed one, or None."""
    rows = fetch_rows(
        db, "SELECT * FROM subscriptions WHERE chat_id = ? AND key = ?", (chat_id, key)
    )
    if not rows:
        return None
    db.execute("DELETE FROM subscriptions WHERE id = ?", (rows[0]["id"],))
    return _subscription(rows[0])


_WAYS = frozenset({"scoped", "sites", "pace", "min_outlets", "window_hours", "surges"})


def set_subscription_ways(
    db: Database, chat_id: int, sub_id: int, **ways: object
) -> Subscription | None:
    """Change some of a keyword's own ways (core.keyword_ways: scoped, sites, pace,
    min_outlets, window_hours, surges); the keyword as it is now, None if not the chat's."""
    unknown = set(ways) - _WAYS
    if unknown:
        raise ValueError(f"not a keyword's way: {sorted(unknown)}")
    stored = {
        name: " ".join(value) if name == "sites" else value  # type: ignore[arg-type]
        for name, value in ways.items()
    }
    assignments = ", ".join(f"{name} = ?" for name in stored)
    cursor = db.execute(
        f"UPDATE subscriptions SET {assignments} WHERE id = ? AND chat_id = ?",  # noqa: S608
        (*stored.values(), sub_id, chat_id),
    )
    if cursor.rowcount == 0:
        return None
    return subscription(db, chat_id, sub_id)


def subscriptions_with_ways(db: Database) -> list[Subscription]:
    """Active keywords with a pace or a big-stories threshold of their own (the book keeps
    them at hand for queueing)."""
    rows = fetch_rows(
        db,
        """SELECT * FROM subscriptions
           WHERE paused = 0 AND (pace IS NOT NULL OR min_outlets > 1) ORDER BY id""",
    )
    return [_subscription(row) for row in rows]


def scoped_subscriptions(db: Database) -> list[Subscription]:
    """Every keyword limited to some sources, paused or not."""
    rows = fetch_rows(db, "SELECT * FROM subscriptions WHERE scoped = 1 ORDER BY id")
    return [_subscription(row) for row in rows]


def chat_subscriptions(db: Database, chat_id: int) -> list[Subscription]:
    """A chat's keywords, oldest first."""
    rows = fetch_rows(db, "SELECT * FROM subscriptions WHERE chat_id = ? ORDER BY id", (chat_id,))
    return [_subscription(row) for row in rows]


def count_subscriptions(db: Database, chat_id: int) -> int:
    """How many keywords a chat follows."""
    return db.execute(
        "SELECT count(*) FROM subscriptions WHERE chat_id = ?", (chat_id,)
    ).fetchone()[0]


def active_keywords(db: Database) -> Iterator[tuple[int, int, str]]:
    """(id, chat id, keyword) of every subscription not paused, by id, read row by row: the
    match index is built from it at start (a million rows as dicts would take 650 MB)."""
    return iter(
        db.execute("SELECT id, chat_id, keyword FROM subscriptions WHERE paused = 0 ORDER BY id")
    )


def purge_inactive(db: Database, *, before: float) -> list[int]:
    """Forget chats unreachable since before a time (blocked, kicked); their ids."""
    ids = [
        row[0]
        for row in db.execute(
            "SELECT id FROM chats WHERE active = 0 AND inactive_since < ?", (before,)
        ).fetchall()
    ]
    for chat_id in ids:
        delete_chat(db, chat_id)
    return ids


def set_subscription_paused(
    db: Database, chat_id: int, subscription_id: int, paused: bool
) -> Subscription | None:
    """Pause or resume one keyword of a chat; the subscription, or None if not the chat's."""
    db.execute(
        "UPDATE subscriptions SET paused = ? WHERE id = ? AND chat_id = ?",
        (int(paused), subscription_id, chat_id),
    )
    return subscription(db, chat_id, subscription_id)


def set_keyword(
    db: Database, chat_id: int, subscription_id: int, keyword: str, key: str
) -> Subscription | None:
    """Change what one keyword of a chat says; its counts and topic stay, and the chat's alerts
    that name it name it anew (reactions, topics and /stats find it by that name). The
    subscription, None if not the chat's, KeywordExists if the chat follows the new one."""
    old = subscription(db, chat_id, subscription_id)
    if old is None:
        return None
    with db.atomic():
        try:
            db.execute(
                "UPDATE subscriptions SET keyword = ?, key = ? WHERE id = ?",
                (keyword, key, subscription_id),
            )
        except sqlite3.IntegrityError:
            raise KeywordExists(keyword) from None
        db.execute(
            """UPDATE outbox SET keywords = (
                   SELECT json_group_array(CASE WHEN value = ? THEN ? ELSE value END)
                   FROM json_each(outbox.keywords))
               WHERE chat_id = ? AND kind = 'alert'
                 AND EXISTS (SELECT 1 FROM json_each(outbox.keywords) WHERE value = ?)""",
            (old.keyword, keyword, chat_id, old.keyword),
        )
    return subscription(db, chat_id, subscription_id)


def subscription(db: Database, chat_id: int, subscription_id: int) -> Subscription | None:
    """One keyword of a chat, by id; None if not the chat's."""
    rows = fetch_rows(
        db, "SELECT * FROM subscriptions WHERE id = ? AND chat_id = ?", (subscription_id, chat_id)
    )
    return _subscription(rows[0]) if rows else None


def keyword_threads(db: Database, chat_id: int) -> dict[str, int]:
    """The forum topic of each of a chat's keywords that has one (keyword as typed → thread)."""
    rows = db.execute(
        "SELECT keyword, thread_id FROM subscriptions WHERE chat_id = ? AND thread_id IS NOT NULL",
        (chat_id,),
    ).fetchall()
    return {keyword: thread for keyword, thread in rows}


def keyword_threads_of(db: Database, chat_ids: list[int]) -> dict[int, dict[str, int]]:
    """keyword_threads for several chats at once (a chat without topics is left out)."""
    threads: dict[int, dict[str, int]] = {}
    for start in range(0, len(chat_ids), IDS_PER_QUERY):
        batch = chat_ids[start : start + IDS_PER_QUERY]
        marks = ",".join("?" * len(batch))
        for chat_id, keyword, thread in db.execute(
            f"""SELECT chat_id, keyword, thread_id FROM subscriptions
                WHERE chat_id IN ({marks}) AND thread_id IS NOT NULL""",  # noqa: S608
            batch,
        ):
            threads.setdefault(chat_id, {})[keyword] = thread
    return threads


def topic_name(db: Database, chat_id: int, thread_id: int) -> str | None:
    """The name a chat's keywords know a forum topic by, if any."""
    row = db.execute(
        """SELECT topic FROM subscriptions WHERE chat_id = ? AND thread_id = ? AND topic IS NOT NULL
           LIMIT 1""",
        (chat_id, thread_id),
    ).fetchone()
    return row[0] if row else None


def leave_topic(db: Database, chat_id: int, thread_id: int) -> list[Subscription]:
    """A topic is gone or closed: its keywords now send to General; those keywords."""
    rows = fetch_rows(
        db,
        "SELECT * FROM subscriptions WHERE chat_id = ? AND thread_id = ? ORDER BY id",
        (chat_id, thread_id),
    )
    db.execute(
        "UPDATE subscriptions SET thread_id = NULL, topic = NULL WHERE chat_id = ? AND thread_id = ?",
        (chat_id, thread_id),
    )
    return [_subscription(row) for row in rows]


def remove_subscription_by_id(
    db: Database, chat_id: int, subscription_id: int
) -> Subscription | None:
    """Delete one keyword of a chat by id; the removed one, or None."""
    removed = subscription(db, chat_id, subscription_id)
    if removed is not None:
        db.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))
    return removed


def linked_channels(db: Database, user_id: int) -> list[Chat]:
    """Channels a user linked to manage from their private chat."""
    rows = fetch_rows(
        db,
        f"{_CHATS} WHERE linked_by = ? AND type = 'channel' ORDER BY id",  # noqa: S608
        (user_id,),
    )
    return [_chat(row) for row in rows]


class ChatData(TypedDict):
    """Everything stored about a chat, for /mydata."""

    chat: dict | None  # its row
    keywords: list[str]
    messages_sent: int
    messages_owed: int
    channels_linked: list[str]  # titles of the channels this user linked
    feeds_added: int  # by this user, as a bot admin
    broadcasts_sent: int  # by this user, as a bot admin


def chat_data(db: Database, chat_id: int) -> ChatData:
    """Everything stored about a chat, for /mydata."""
    rows = fetch_rows(db, "SELECT * FROM chats WHERE id = ?", (chat_id,))
    return {
        "chat": rows[0] if rows else None,
        "keywords": [s.keyword for s in chat_subscriptions(db, chat_id)],
        "messages_sent": db.execute(
            "SELECT count(*) FROM outbox WHERE chat_id = ? AND status = 'sent'", (chat_id,)
        ).fetchone()[0],
        "messages_owed": db.execute(
            "SELECT count(*) FROM outbox WHERE chat_id = ? AND status IN ('pending', 'sending')",
            (chat_id,),
        ).fetchone()[0],
        "channels_linked": [c.title for c in linked_channels(db, chat_id)],
        "feeds_added": db.execute(
            "SELECT count(*) FROM feeds WHERE added_by = ?", (chat_id,)
        ).fetchone()[0],
        "broadcasts_sent": db.execute(
            "SELECT count(*) FROM broadcasts WHERE created_by = ?", (chat_id,)
        ).fetchone()[0],
    }
