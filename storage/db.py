"""Opening the database: WAL, foreign keys, and the schema migrations."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations


class Database(sqlite_utils.Database):
    """sqlite-utils' Database whose transactions take the write lock when they begin.

    A transaction begun DEFERRED that has read already is refused at once, without waiting, if
    another connection holds the write lock when it first writes: the WAL's checkpoints (a
    thread of their own, storage.checkpoint) hold it for a moment. BEGIN IMMEDIATE waits for
    it like any other write (the busy timeout).
    """

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        """A transaction (BEGIN IMMEDIATE), or a savepoint inside one."""
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.conn.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.rollback()
            raise


migrations = Migrations("rasd")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
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


@migrations()
def m002_links_and_clicks(db: sqlite_utils.Database) -> None:
    """Short-link codes, click counts per article and day, daily totals, and maintenance runs."""
    db.executescript(
        """
        CREATE TABLE shortlinks (
            code TEXT PRIMARY KEY,               -- 7 characters of base62, case-sensitive
            article_id INTEGER NOT NULL UNIQUE REFERENCES articles(id) ON DELETE CASCADE,
            created_at REAL NOT NULL
        );
        CREATE TABLE clicks (                    -- no user, no IP: a count per article and day
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            day TEXT NOT NULL,                   -- UTC, YYYY-MM-DD
            clicks INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (article_id, day)
        );
        CREATE INDEX clicks_day ON clicks(day);
        CREATE TABLE click_days (                -- daily totals; outlive pruned articles
            day TEXT PRIMARY KEY,
            clicks INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE maintenance (
            task TEXT PRIMARY KEY,
            last_run_at REAL NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX articles_feed_shortlink ON articles(feed_id, shortlink)
            WHERE shortlink IS NOT NULL;
        CREATE INDEX outbox_article ON outbox(article_id);  -- deleting an article finds its rows
        """
    )


@migrations()
def m003_feed_health(db: sqlite_utils.Database) -> None:
    """Feed health for /feeds and the scheduler: notes, when a feed was disabled, and indexes."""
    db.executescript(
        """
        ALTER TABLE feeds ADD COLUMN note TEXT;            -- e.g. a redirect we could not follow
        ALTER TABLE feeds ADD COLUMN disabled_at REAL;
        ALTER TABLE feeds ADD COLUMN ttl_minutes INTEGER;  -- the feed's own <ttl>, honoured
        CREATE INDEX feeds_due ON feeds(disabled, next_check_at);
        -- items per day of one feed: a range scan instead of every article it ever had
        CREATE INDEX articles_feed_time ON articles(feed_id, COALESCE(published_at, fetched_at));
        """
    )


@migrations()
def m004_delivery(db: sqlite_utils.Database) -> None:
    """Per-chat delivery choices, broadcast progress, and folded/cancelled outbox rows."""
    db.executescript(
        """
        ALTER TABLE chats ADD COLUMN delivery_mode TEXT NOT NULL DEFAULT 'instant';
        ALTER TABLE chats ADD COLUMN digest_hour INTEGER NOT NULL DEFAULT 8;
        ALTER TABLE chats ADD COLUMN timezone TEXT;                -- NULL: the DEFAULT_TIMEZONE setting
        ALTER TABLE chats ADD COLUMN quiet_start INTEGER;
        ALTER TABLE chats ADD COLUMN quiet_end INTEGER;
        ALTER TABLE chats ADD COLUMN quiet_mode TEXT NOT NULL DEFAULT 'silent';
        ALTER TABLE chats ADD COLUMN link_previews INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE chats ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE chats ADD COLUMN inactive_since REAL;
        ALTER TABLE broadcasts ADD COLUMN status TEXT NOT NULL DEFAULT 'sending';
        ALTER TABLE broadcasts ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE broadcasts ADD COLUMN progress_chat_id INTEGER;
        ALTER TABLE broadcasts ADD COLUMN progress_message_id INTEGER;
        ALTER TABLE broadcasts ADD COLUMN started_at REAL;
        ALTER TABLE broadcasts ADD COLUMN finished_at REAL;
        ALTER TABLE broadcasts ADD COLUMN reported INTEGER NOT NULL DEFAULT 0; -- final summary shown
        ALTER TABLE outbox ADD COLUMN folded_into INTEGER;         -- the row whose message carried it
        CREATE INDEX outbox_chat_status ON outbox(chat_id, status);
        CREATE INDEX outbox_broadcast ON outbox(broadcast_id, status);
        """
    )


@migrations()
def m005_chat_experience(db: sqlite_utils.Database) -> None:
    """Channels linked by a user, and which chat a private chat is managing."""
    db.executescript(
        """
        ALTER TABLE chats ADD COLUMN linked_by INTEGER;         -- a channel: the user who linked it
        ALTER TABLE chats ADD COLUMN managing_chat_id INTEGER;  -- a private chat managing a channel
        """
    )


@migrations()
def m006_lighter_outbox_indexes(db: sqlite_utils.Database) -> None:
    """Alert rows no longer enter the broadcast index: one b-tree fewer on every queued alert."""
    db.executescript(
        """
        DROP INDEX outbox_broadcast;
        CREATE INDEX outbox_broadcast ON outbox(broadcast_id, status) WHERE broadcast_id IS NOT NULL;
        """
    )


@migrations()
def m007_notices(db: sqlite_utils.Database) -> None:
    """Notices to one chat (an admin told a feed was disabled) carry their own rendered text."""
    db.executescript(
        """
        ALTER TABLE outbox ADD COLUMN text TEXT;  -- kind 'notice': the message, in the chat's language
        """
    )


@migrations()
def m008_bans(db: sqlite_utils.Database) -> None:
    """Bans move to their own table: /stop deletes the chat's row, and must not lift its ban."""
    db.executescript(
        """
        CREATE TABLE bans (
            chat_id INTEGER PRIMARY KEY,  -- a chat or a user, met or not
            banned_by INTEGER,
            created_at REAL NOT NULL,
            told_at REAL  -- when the banned chat was told, once
        );
        INSERT INTO bans (chat_id, created_at) SELECT id, updated_at FROM chats WHERE banned = 1;
        -- chats.banned stays (SQLite before 3.35 cannot drop it); nothing reads it any more.
        """
    )


@migrations()
def m009_topics(db: sqlite_utils.Database) -> None:
    """In a forum group, a keyword remembers the topic it was added in: its alerts go there."""
    db.executescript(
        """
        ALTER TABLE subscriptions ADD COLUMN thread_id INTEGER;  -- NULL: General, or not a forum
        ALTER TABLE subscriptions ADD COLUMN topic TEXT;         -- the topic's name, when known
        """
    )


@migrations()
def m010_feedback(db: sqlite_utils.Database) -> None:
    """Reactions on alerts: counted per keyword, and the alert a reaction is on found by its
    message."""
    db.executescript(
        """
        ALTER TABLE subscriptions ADD COLUMN likes INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE subscriptions ADD COLUMN dislikes INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE outbox ADD COLUMN feedback_asked INTEGER NOT NULL DEFAULT 0;  -- 👎 answered
        CREATE INDEX outbox_message ON outbox(chat_id, message_id) WHERE message_id IS NOT NULL;
        """
    )


@migrations()
def m011_reaction_totals(db: sqlite_utils.Database) -> None:
    """A channel's reactions are anonymous, told as totals: the last ones seen on each alert."""
    db.executescript(
        """
        ALTER TABLE outbox ADD COLUMN likes_seen INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE outbox ADD COLUMN dislikes_seen INTEGER NOT NULL DEFAULT 0;
        """
    )


@migrations()
def m012_full_text(db: sqlite_utils.Database) -> None:
    """Full text: each feed's mode and how its pages fared; each article, what its page gave."""
    db.executescript(
        """
        ALTER TABLE feeds ADD COLUMN fulltext TEXT NOT NULL DEFAULT 'auto';  -- auto, on, off
        ALTER TABLE feeds ADD COLUMN page_status TEXT;      -- the latest page's result
        ALTER TABLE feeds ADD COLUMN page_checked_at REAL;  -- when that page was tried
        ALTER TABLE feeds ADD COLUMN page_failures INTEGER NOT NULL DEFAULT 0;  -- in a row
        ALTER TABLE feeds ADD COLUMN page_backoff_until REAL;  -- auto stops trying until then
        ALTER TABLE articles ADD COLUMN page TEXT;  -- NULL: not tried; "ok" or why not
        """
    )


@migrations()
def m013_outbox_turn(db: sqlite_utils.Database) -> None:
    """Each row's place in its story's (or broadcast's) line of chats, written when it is queued:
    the sender serves every story's first chats, then their second... (storage.outbox.due_heads),
    so a story for ten chats is not held behind one for 50,000. Old rows are all first (0)."""
    db.execute("ALTER TABLE outbox ADD COLUMN turn INTEGER NOT NULL DEFAULT 0")


@migrations()
def m014_send_days(db: sqlite_utils.Database) -> None:
    """Messages Telegram accepted each UTC day, free and paid (allow_paid_broadcast): the paid
    lane's daily ceiling survives a restart, and /stats and /metrics show both."""
    db.execute(
        """CREATE TABLE send_days (
            day TEXT NOT NULL, lane TEXT NOT NULL, messages INTEGER NOT NULL,
            PRIMARY KEY (day, lane)
        ) WITHOUT ROWID"""
    )


# A row is ready when it is pending and due with no time attached (not_before = 0: queued so, or
# woken by storage.outbox.due_heads once its hold passed). Ready rows of a chat, oldest first.
_READY = "status = 'pending' AND not_before = 0"


@migrations()
def m015_outbox_heads(db: sqlite_utils.Database) -> None:
    """One row per chat with something ready to send: its oldest ready row and that row's turn,
    kept by triggers on every change to the outbox. The sender reads the first few in turn order
    instead of grouping every pending row each round (104 ms at 200,000 rows, every second)."""
    db.executescript(
        f"""
        CREATE TABLE outbox_heads (
            chat_id INTEGER PRIMARY KEY,
            row_id INTEGER NOT NULL,
            turn INTEGER NOT NULL
        );
        CREATE INDEX outbox_heads_turn ON outbox_heads(turn, row_id);
        CREATE INDEX outbox_ready ON outbox(chat_id, id) WHERE {_READY};
        INSERT INTO outbox_heads (chat_id, row_id, turn)
            SELECT chat_id, min(id), turn FROM outbox WHERE {_READY} GROUP BY chat_id;
        {_head_triggers()}
        """
    )


def _head_triggers() -> str:
    """A row becoming ready may be its chat's oldest; a head leaving is replaced by the next."""
    ready_new = "new.status = 'pending' AND new.not_before = 0"
    ready_old = "old.status = 'pending' AND old.not_before = 0"
    moved = "(new.chat_id != old.chat_id OR new.turn != old.turn)"
    # No conflict clauses: an outer UPDATE OR IGNORE (chats.migrate_chat) would override them.
    enter = """DELETE FROM outbox_heads WHERE chat_id = new.chat_id AND row_id >= new.id;
        INSERT INTO outbox_heads (chat_id, row_id, turn) SELECT new.chat_id, new.id, new.turn
            WHERE NOT EXISTS (SELECT 1 FROM outbox_heads WHERE chat_id = new.chat_id);"""
    leave = f"""DELETE FROM outbox_heads WHERE chat_id = old.chat_id AND row_id = old.id;
        INSERT INTO outbox_heads (chat_id, row_id, turn)
            SELECT chat_id, id, turn FROM outbox INDEXED BY outbox_ready
            WHERE chat_id = old.chat_id AND {_READY}
              AND NOT EXISTS (SELECT 1 FROM outbox_heads WHERE chat_id = old.chat_id)
            ORDER BY id LIMIT 1;"""
    return f"""
        CREATE TRIGGER outbox_heads_insert AFTER INSERT ON outbox WHEN {ready_new}
        BEGIN {enter} END;
        CREATE TRIGGER outbox_heads_enter AFTER UPDATE OF status, not_before, chat_id, turn
            ON outbox WHEN {ready_new} AND (NOT ({ready_old}) OR {moved})
        BEGIN {enter} END;
        CREATE TRIGGER outbox_heads_leave AFTER UPDATE OF status, not_before, chat_id, turn
            ON outbox WHEN {ready_old} AND (NOT ({ready_new}) OR {moved})
        BEGIN {leave} END;
        CREATE TRIGGER outbox_heads_delete AFTER DELETE ON outbox WHEN {ready_old}
        BEGIN {leave} END;
        """


@migrations()
def m016_chat_links_indexed(db: sqlite_utils.Database) -> None:
    """Forgetting a chat clears what names it in other chats (the channels it linked, the
    chat managing it): without these, each forgotten chat read the whole chats table twice,
    and the daily purge held the bot 1.4 s at 200,000 chats."""
    db.executescript(
        """
        CREATE INDEX chats_linked_by ON chats(linked_by) WHERE linked_by IS NOT NULL;
        CREATE INDEX chats_managing ON chats(managing_chat_id) WHERE managing_chat_id IS NOT NULL;
        """
    )


@migrations()
def m017_alerts_owed(db: sqlite_utils.Database) -> None:
    """An article whose alerts go to many thousands of chats is queued a chunk a turn, so the
    bot answers meanwhile; until its last chunk is in, it is marked, and a start queues what a
    stop left owed (alerts already queued are not queued twice)."""
    db.executescript(
        """
        ALTER TABLE articles ADD COLUMN alerts_owed INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX articles_alerts_owed ON articles(id) WHERE alerts_owed = 1;
        """
    )


@migrations()
def m018_keyword_ways(db: sqlite_utils.Database) -> None:
    """Each keyword its own way (issue #31): its sources (feeds ticked in /list, and hosts typed
    as site:), its pace (NULL: the chat's), only the stories N outlets carry within a window,
    and surge notices (NULL: on for a digest or big-stories keyword, off for one sent at once).
    Each feed's sites (the hosts of its <link> and of its items' links) are kept as seen; each
    keyword's stories per hour feed surges and the Mini App's chart, which marks the surges
    noticed; an alert row carries the pace its keywords give it."""
    db.executescript(
        """
        ALTER TABLE subscriptions ADD COLUMN scoped INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE subscriptions ADD COLUMN sites TEXT NOT NULL DEFAULT '';
        ALTER TABLE subscriptions ADD COLUMN pace TEXT;
        ALTER TABLE subscriptions ADD COLUMN min_outlets INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE subscriptions ADD COLUMN window_hours INTEGER NOT NULL DEFAULT 6;
        ALTER TABLE subscriptions ADD COLUMN surges INTEGER;
        CREATE TABLE subscription_feeds (
            subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
            feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
            PRIMARY KEY (subscription_id, feed_id)
        ) WITHOUT ROWID;
        CREATE INDEX subscription_feeds_feed ON subscription_feeds(feed_id);
        CREATE TABLE feed_sites (
            feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
            host TEXT NOT NULL,
            PRIMARY KEY (feed_id, host)
        ) WITHOUT ROWID;
        CREATE INDEX feed_sites_host ON feed_sites(host);
        CREATE TABLE keyword_hours (
            key TEXT NOT NULL,
            hour INTEGER NOT NULL,
            stories INTEGER NOT NULL,
            PRIMARY KEY (key, hour)
        ) WITHOUT ROWID;
        CREATE TABLE surges (
            id INTEGER PRIMARY KEY,
            subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
            at REAL NOT NULL,
            stories INTEGER NOT NULL,          -- in the hour that surged
            usual REAL NOT NULL                -- its usual hourly count then
        );
        CREATE INDEX surges_subscription ON surges(subscription_id, at);
        ALTER TABLE outbox ADD COLUMN pace TEXT;
        """
    )


# SQLite's answers that mean "cannot write now" rather than a mistake in a statement.
_REFUSED_WRITE_CODES = {
    5,  # SQLITE_BUSY: another connection holds the write lock
    6,  # SQLITE_LOCKED
    7,  # SQLITE_NOMEM
    8,  # SQLITE_READONLY
    10,  # SQLITE_IOERR
    13,  # SQLITE_FULL: database or disk is full
    14,  # SQLITE_CANTOPEN
    15,  # SQLITE_PROTOCOL
}
IDS_PER_QUERY = 500  # ids in one IN (...) list (SQLite's limit on parameters is far above)
BUSY_TIMEOUT_SECONDS = 5.0  # a write waits this long for another connection's lock, then fails


def is_refused_write(error: BaseException) -> bool:
    """Whether an error is the database refusing work (disk full, locked, read-only, I/O):
    trouble of the database that passes, not of the feed, chat or statement at hand."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _REFUSED_WRITE_CODES


def open_database(path: Path | str, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> Database:
    """Open (creating if needed) the database file, turn WAL on and apply migrations."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # The busy wait blocks the event loop: kept short, so a lock held elsewhere stalls nothing long.
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=busy_timeout)
    db = Database(conn)
    if str(path) != ":memory:":
        db.enable_wal()
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    migrations.apply(db)
    return db


def fetch_rows(db: Database, sql: str, params: tuple | list = ()) -> list[dict]:
    """The rows of a query as dicts by column name."""
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The rowid an INSERT just made (sqlite3 types `lastrowid` as int | None)."""
    rowid = cursor.lastrowid
    if rowid is None:
        raise sqlite3.InterfaceError("the statement inserted no row")
    return rowid
