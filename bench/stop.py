"""How long bot.py takes to stop, and what it leaves running, against a baseline checkout.

Each scenario runs the real bot.py (this tree, then `--baseline DIR`, a checkout of older code,
e.g. `git worktree add /tmp/rasd-before 7c14d4d`) against the test Bot API server and a loopback
feed server in this process:
  idle       nothing in flight
  hang       one feed whose server sends a few bytes and then nothing (FETCH_TIMEOUT 20 s)
  broadcast  a notice to 2,000 chats under way at 100 messages a second
and reports the seconds from SIGTERM to exit, then, after a SIGKILL of a bot whose parse pool
has started, how many of its processes are still alive 5 s later.

Run: .venv/bin/python bench/stop.py [--baseline DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from storage import chats  # noqa: E402
from storage import feeds as feed_store  # noqa: E402
from storage.db import open_database  # noqa: E402
from tests.botapi import BotApiServer  # noqa: E402
from tests.feedserver import FeedServer, make_rss, sample_items  # noqa: E402

ADMIN = 900
GUARD = 120.0


async def until(condition: Callable[[], bool], within: float = GUARD) -> None:
    """Wait for `condition`, or raise after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the bench waited too long")
        await asyncio.sleep(0.02)


def marked(token: str, *, kill: bool = False) -> int:
    """Live processes whose environment carries `token` (each killed, if asked)."""
    marker, count = f"RASD_BENCH={token}".encode(), 0
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                continue
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                count += 1
                if kill:
                    os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            continue
    return count


class Run:
    """One bot.py of one checkout, on a database of its own."""

    def __init__(self, tree: Path, api: BotApiServer, folder: Path, feeds: list[str]) -> None:
        self.tree, self.token, self.log = tree, uuid.uuid4().hex, folder / "bot.log"
        self.database = folder / "rasd.db"
        db = open_database(self.database)
        chats.touch_chat(db, ADMIN, type="private", title="", language="ar", now=1)
        for url in feeds:
            feed_store.add_feed(db, url, title=url, interval_seconds=1, now=1, primed=True)
        db.conn.close()
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "ADMIN_IDS": str(ADMIN),
            "DATABASE_PATH": str(self.database),
            "POLL_INTERVAL_SECONDS": "1",
            "ALLOW_PRIVATE_FEED_URLS": "true",
            "WEB_PORT": "0",
            "LOG_LEVEL": "INFO",
            "SEND_RATE_PER_SECOND": "100",
            "RASD_BENCH": self.token,
        }
        self.popen: subprocess.Popen | None = None

    def spawn(self) -> None:
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "bot.py"], cwd=self.tree, env=self.env, stdout=handle,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    async def start(self) -> None:
        self.spawn()
        await until(lambda: "Rasd started" in self.log.read_text(errors="replace"))

    async def stop_seconds(self) -> float:
        assert self.popen is not None
        started = time.monotonic()
        self.popen.send_signal(signal.SIGTERM)
        await until(lambda: self.popen is not None and self.popen.poll() is not None)
        return time.monotonic() - started


async def idle(run: Run, api: BotApiServer, feeds: FeedServer) -> None:
    """Nothing to wait for."""


async def hang(run: Run, api: BotApiServer, feeds: FeedServer) -> None:
    """The hanging feed's fetch is under way."""
    await until(lambda: bool(feeds.requests_to("/hang.xml")))


async def broadcast(run: Run, api: BotApiServer, feeds: FeedServer) -> None:
    """A notice to 2,000 chats, a tenth of it sent."""
    db = open_database(run.database)
    for user in range(30_000, 32_000):
        api.private_chat(user, f"u{user}", language_code="ar")
        chats.touch_chat(db, user, type="private", title="", language="ar", now=1)
    db.conn.close()
    sent_before = len(api.send_log)
    await api.send_text(ADMIN, ADMIN, "/broadcast إعلان")
    preview = await api.wait_for_message(ADMIN, lambda m: "معاينة" in m.text, timeout=GUARD)
    await api.press_button(ADMIN, preview, preview.callback_data[0])
    await until(lambda: len(api.send_log) - sent_before >= 200)


Scenario = Callable[[Run, BotApiServer, FeedServer], Awaitable[None]]


async def measure(tree: Path, name: str, scenario: Scenario) -> float:
    """Seconds from SIGTERM to exit in one scenario."""
    async with BotApiServer() as api, FeedServer() as feeds:
        api.private_chat(ADMIN, "Admin", language_code="ar")
        feeds.set_hostile("/hang.xml", "hang")
        urls = [feeds.url("/hang.xml")] if name == "hang" else []
        with tempfile.TemporaryDirectory() as folder:
            run = Run(tree, api, Path(folder), urls)
            await run.start()
            await scenario(run, api, feeds)
            return await run.stop_seconds()


async def left_after_kill(tree: Path) -> int:
    """Processes of a SIGKILLed bot (its parse pool started) still alive 5 s later."""
    async with BotApiServer() as api, FeedServer() as feeds:
        api.private_chat(ADMIN, "Admin", language_code="ar")
        feeds.set_feed("/one.xml", make_rss("أخبار", sample_items(5)))
        with tempfile.TemporaryDirectory() as folder:
            run = Run(tree, api, Path(folder), [feeds.url("/one.xml")])
            run.env["PARSE_WORKERS"] = "2"
            await run.start()
            await until(lambda: marked(run.token) >= 4)  # bot, forkserver, tracker, a worker
            assert run.popen is not None
            run.popen.kill()
            run.popen.wait()
            await asyncio.sleep(5.0)
            left = marked(run.token)
            marked(run.token, kill=True)  # the baseline's orphans: end them
            return left


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with")
    args = parser.parse_args()
    trees = [("this tree", ROOT)] + ([("baseline", args.baseline)] if args.baseline else [])
    scenarios: list[tuple[str, Scenario]] = [
        ("idle", idle), ("hang", hang), ("broadcast", broadcast)
    ]  # fmt: skip
    print(f"{'':16}" + "".join(f"{label:>14}" for label, _ in trees))
    for name, scenario in scenarios:
        cells = [await measure(tree, name, scenario) for _, tree in trees]
        print(f"{'stop ' + name:16}" + "".join(f"{c:>12.2f} s" for c in cells))
    cells = [await left_after_kill(tree) for _, tree in trees]
    print(f"{'left (kill)':16}" + "".join(f"{c:>14}" for c in cells))


if __name__ == "__main__":
    asyncio.run(main())
