"""The write-ahead log copied back into the database file by a thread of its own.

SQLite's automatic checkpoint runs inside whichever commit takes the log past 1,000 pages; at a
million subscriptions a turn of intake writes ~1,500 pages (the outbox's indexes), so every
commit on the event loop copied them and synced the file, holding every answer meanwhile (40 ms
on average, up to a second). The bot turns it off on its connection and checkpoints here, on a
connection of this thread's: first PASSIVE, which waits for nobody and nobody waits for, and
copies nearly everything; then, once the log is long, RESTART, which copies what the writes
meanwhile added and lets the log start over (a PASSIVE checkpoint alone never catches up with a
bot that writes without a pause: the log grew to 2.4 GB in one busy cycle). While RESTART runs,
the bot's next write waits for it: only the few pages written since the PASSIVE pass. SQLite lets
go of the GIL while it copies, so the event loop runs meanwhile.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from storage.db import Database

log = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 1.0  # how often the log is copied back
RESTART_PAGES = 4_096  # a log this long (16 MB) starts over after the PASSIVE pass
RESTART_WAIT_MS = 2_000  # how long RESTART waits for a writer or a reader before the next round
CLOSE_SECONDS = 5.0  # a stop waits this long at most for a checkpoint under way
# The log's file is cut back to this when it starts over (it never shrinks by itself, so one busy
# spell would keep its size on disk for good).
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024


class Checkpointer:
    """Checkpoints one database's WAL every `every` seconds until closed."""

    def __init__(self, path: Path | str, *, every: float = CHECKPOINT_SECONDS) -> None:
        self.path = str(path)
        self.every = every
        self.checkpoints = 0  # rounds that ran (tests)
        self.restarts = 0  # rounds whose log started over (tests)
        self.failures = 0  # rounds failed in a row (/metrics)
        self.wal_pages = 0  # the log's length at the last round that worked (/metrics)
        self.most_wal_pages = 0  # the longest the log was at a round (benchmarks)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, db: Database) -> None:
        """Take over checkpointing from `db`'s commits (the bot's connection); if this thread's
        connection cannot be opened, the commits keep checkpointing."""
        try:
            conn = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None,
                timeout=RESTART_WAIT_MS / 1000,
            )  # fmt: skip
        except sqlite3.Error as error:
            log.warning("WAL checkpoints stay in commits", extra={"error": str(error)})
            return
        db.execute("PRAGMA wal_autocheckpoint = 0")
        db.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
        self._thread = threading.Thread(
            target=self._run, args=(conn,), name="wal-checkpoint", daemon=True
        )
        self._thread.start()

    @property
    def running(self) -> bool:
        """Whether the thread is checkpointing."""
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Stop (before the bot's connection closes: the last connection closed folds the log
        in and removes it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(CLOSE_SECONDS)

    def _run(self, conn: sqlite3.Connection) -> None:
        try:
            while not self._stop.wait(self.every):
                self.checkpoint(conn)
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        """One round: PASSIVE, then RESTART if the log is long; a failure is logged once in a
        row and tried again at the next round."""
        try:
            _, pages, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.wal_pages = pages
            self.most_wal_pages = max(self.most_wal_pages, pages)
            if pages >= RESTART_PAGES:
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
                self.restarts += not busy  # busy: a writer or reader held on; next round
        except Exception as error:  # the thread must not die: the log would grow without end
            self.failures += 1
            if self.failures == 1:
                log.warning("WAL checkpoint failed; retrying", extra={"error": str(error)})
            return
        if self.failures:
            log.info("WAL checkpoints work again", extra={"after_failures": self.failures})
            self.failures = 0
        self.checkpoints += 1
