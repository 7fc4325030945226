"""The write-ahead log copied back into the database file by a thread of its own.

SQLite's automatic checkpoint runs inside whichever commit takes the log past 1,000 pages; on the
event loop, that commit then holds every answer for as long as the copy and its fsync take (up to
0.4 s at a million subscriptions). The bot turns it off on its connection and checkpoints here,
on a connection of this thread's, PASSIVE: it never waits for a reader or a writer, and none waits
for it. SQLite lets go of the GIL while it copies, so the event loop runs meanwhile.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from storage.db import Database

log = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 1.0  # the log grows by at most this long's writes between checkpoints


class Checkpointer:
    """Checkpoints one database's WAL every `every` seconds until closed."""

    def __init__(self, path: Path | str, *, every: float = CHECKPOINT_SECONDS) -> None:
        self.path = str(path)
        self.every = every
        self.checkpoints = 0  # rounds that ran (tests)
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, db: Database) -> None:
        """Take over checkpointing from `db`'s commits (the bot's connection); if this thread's
        connection cannot be opened, the commits keep checkpointing."""
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as error:
            log.warning("WAL checkpoints stay in commits", extra={"error": str(error)})
            return
        db.execute("PRAGMA wal_autocheckpoint = 0")
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
            self._thread.join()

    def _run(self, conn: sqlite3.Connection) -> None:
        try:
            while not self._stop.wait(self.every):
                self.checkpoint(conn)
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        """One PASSIVE checkpoint; a failure is logged once in a row and tried again later."""
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:
            self.failures += 1
            if self.failures == 1:
                log.warning("WAL checkpoint failed; retrying", extra={"error": str(error)})
            return
        if self.failures:
            log.info("WAL checkpoints work again", extra={"after_failures": self.failures})
            self.failures = 0
        self.checkpoints += 1
