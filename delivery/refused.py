"""Writes the database refused (disk full, a lock held elsewhere), kept to be made again."""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.write_health import WriteHealth, backoff
from storage.db import Database, is_refused_write

log = logging.getLogger(__name__)


class RefusedWrites:
    """One component's refused writes: owed until the database takes writes again, retried
    after a backoff that grows with each refusal in a row; `health` hears of each."""

    def __init__(self, db: Database, health: WriteHealth, clock: Callable[[], float]) -> None:
        self.db = db
        self.health = health
        self.clock = clock
        self.refusing = False
        self.refusals = 0  # in a row
        self._owed: list[Callable[[], object]] = []

    def refused(self, error: Exception) -> None:
        """The database refused a write: wait and retry (see retry())."""
        if not self.refusing:
            log.error("the database refused a write", extra={"error": str(error)})
        self.refusing = True
        self.refusals += 1
        self.health.failed(f"{type(error).__name__}: {error}", self.clock())

    def attempt(self, write: Callable[[], object]) -> None:
        """Make a write now; if the database refuses it, owe it (other errors propagate)."""
        try:
            write()
        except Exception as error:
            if not is_refused_write(error):
                raise
            self._owed.append(write)
            self.refused(error)

    def backoff(self) -> float:
        """How long to wait before the next retry()."""
        return backoff(self.refusals)

    def retry(self, then: Callable[[], object] = lambda: None) -> bool:
        """Make the owed writes, then `then`, in one transaction; True if the database took them."""
        try:
            with self.db.atomic():
                for write in self._owed:
                    write()
                then()
        except Exception as error:
            if not is_refused_write(error):
                raise
            self.refused(error)
            return False
        self._owed.clear()
        self.refusing = False
        self.refusals = 0
        self.health.succeeded(self.clock())
        return True
