"""One bot per database: an exclusive lock on a file beside it, held while the bot runs.

`flock` belongs to the open file, and the kernel drops it when the process ends however it ends,
so a lock left by a killed bot never blocks a restart. The file is opened close-on-exec and the
parse pool starts its workers through a fresh interpreter (forkserver), so no worker keeps the
lock after the bot is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


class DatabaseBusy(Exception):
    """Another process holds the database's lock."""

    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        self.holder = holder  # the pid written by the process that holds it, or ""
        super().__init__(f"{path} is locked by process {holder or '(unknown)'}")


def lock_path(database_path: Path | str) -> Path:
    """The lock file of a database: `rasd.db` → `rasd.db.lock`."""
    return Path(f"{database_path}.lock")


class DatabaseLock:
    """The exclusive lock of one database, taken without waiting."""

    def __init__(self, database_path: Path | str) -> None:
        self.path = lock_path(database_path)
        self._fd: int | None = None

    def acquire(self) -> DatabaseLock:
        """Take the lock, or raise DatabaseBusy at once (nothing else is touched)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            raise DatabaseBusy(self.path, holder) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd
        return self

    def release(self) -> None:
        """Let the next process take it (the file stays: removing it would race a new taker)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DatabaseLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
