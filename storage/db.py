"""Opening the database: WAL, foreign keys, and the schema migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("rasd")


@migrations()
def m001_initial(db: Database) -> None:
    """Chats, subscriptions, feeds, articles, broadcasts and the outbox."""
    db.executescript(
        """
        CREATE TABLE chats (
            id INTEGER PRIMARY KEY,              -- Telegram chat id (int64)
            type TEXT NOT NULL DEFAULT 'private',
            title TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL DEFAULT 'ar', -- language of the bot's texts
            article_languages TEXT NOT NULL DEFAULT 'ar',
            active INTEGER NOT NULL DEFAULT 1,   -- 0 when blocked/kicked/not found
            inactive_reason TEXT,
            paused INTEGER NOT NULL DEFAULT 0,
            banned INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE ON UPDATE CASCADE,
            keyword TEXT NOT NULL,               -- as the user typed it
            key TEXT NOT NULL,                   -- normalized, to refuse duplicates
            paused INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            UNIQUE (chat_id, key)
        );
        CREATE TABLE feeds (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            url TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL DEFAULT '',
            site_url TEXT,
            etag TEXT,
            last_modified TEXT,
            body_hash TEXT,
            charset TEXT,                        -- override for feeds that lie
            interval_seconds REAL NOT NULL DEFAULT 300,
            next_check_at REAL NOT NULL DEFAULT 0,
            last_checked_at REAL,
            last_success_at REAL,
            last_error TEXT,
            error_count INTEGER NOT NULL DEFAULT 0,
            disabled INTEGER NOT NULL DEFAULT 0,
            primed INTEGER NOT NULL DEFAULT 0,   -- 1 once the items present at adding are stored
            added_by INTEGER,
            created_at REAL NOT NULL
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
            item_key TEXT NOT NULL,
            url TEXT NOT NULL DEFAULT '',
            shortlink TEXT,
            title TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL DEFAULT 'und',
            content_hash TEXT NOT NULL DEFAULT '',
            fingerprint INTEGER,                 -- simhash, signed 64-bit
            story_id INTEGER,                    -- id of the first article of the same story
            published_at REAL,
            fetched_at REAL NOT NULL,
            UNIQUE (feed_id, item_key)
        );
        CREATE INDEX articles_fetched ON articles(fetched_at);
        CREATE INDEX articles_url ON articles(url);
        CREATE INDEX articles_story ON articles(story_id);
        CREATE TABLE broadcasts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            text TEXT NOT NULL,
            created_by INTEGER NOT NULL,
            source_chat_id INTEGER NOT NULL,
            source_message_id INTEGER NOT NULL,
            created_at REAL NOT NULL,
            UNIQUE (source_chat_id, source_message_id)
        );
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE ON UPDATE CASCADE,
            kind TEXT NOT NULL,                  -- 'alert' | 'broadcast'
            story_id INTEGER,
            article_id INTEGER REFERENCES articles(id) ON DELETE CASCADE,
            broadcast_id INTEGER REFERENCES broadcasts(id) ON DELETE CASCADE,
            keywords TEXT NOT NULL DEFAULT '[]', -- JSON list of matched keywords as typed
            status TEXT NOT NULL DEFAULT 'pending', -- pending|sending|sent|failed|undeliverable
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before REAL NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            claimed_at REAL,
            sent_at REAL,
            message_id INTEGER,
            last_error TEXT
        );
        CREATE UNIQUE INDEX outbox_one_alert_per_story ON outbox(chat_id, story_id)
            WHERE kind = 'alert';
        CREATE UNIQUE INDEX outbox_one_copy_per_broadcast ON outbox(chat_id, broadcast_id)
            WHERE kind = 'broadcast';
        CREATE INDEX outbox_due ON outbox(status, not_before);
        """
    )


def open_database(path: Path | str) -> Database:
    """Open (creating if needed) the database file, turn WAL on and apply migrations."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    db = Database(conn)
    if str(path) != ":memory:":
        db.enable_wal()
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    migrations.apply(db)
    return db


def transaction(db: Database):
    """One atomic unit of work (nested calls become savepoints)."""
    return db.atomic()
