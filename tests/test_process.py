"""The bot as a process: one per database, stops that are quick and leave nothing behind.

Each test runs bot.py against the test Bot API server and a loopback feed server. The bot's
processes (main, parse workers, forkserver, resource tracker) are found by a token in their
environment, which every one of them inherits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from storage import chats
from storage import feeds as feed_store
from storage.db import open_database
from tests.botapi import BotApiServer
from tests.feedserver import FeedServer, make_rss, sample_items
from tests.support import ADMIN, USER, bot_settings, running_bot

pytestmark = pytest.mark.e2e  # bot.py in a subprocess

ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD = 60.0  # seconds: generous, only so that a broken stop fails instead of hanging


class BotProcess:
    """bot.py in a subprocess with its own marker in the environment."""

    def __init__(self, api: BotApiServer, database: Path, log: Path, **extra: str) -> None:
        self.token = uuid.uuid4().hex
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "ADMIN_IDS": str(ADMIN),
            "DATABASE_PATH": str(database),
            "POLL_INTERVAL_SECONDS": "1",
            "ALLOW_PRIVATE_FEED_URLS": "true",
            "WEB_PORT": "0",
            "LOG_LEVEL": "INFO",
            "RASD_TEST_PROCESS": self.token,
            **extra,
        }
        self.log = log
        handle = log.open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "bot.py"], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
        )

    def printed(self) -> str:
        return self.log.read_text(errors="replace")

    async def wait_for_log(self, needle: str, within: float = HANG_GUARD) -> None:
        deadline = time.monotonic() + within
        while needle not in self.printed():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r}; the bot printed:\n{self.printed()[-3000:]}")
            await asyncio.sleep(0.05)

    async def exit_code(self, within: float = HANG_GUARD) -> int:
        deadline = time.monotonic() + within
        while self.popen.poll() is None:
            if time.monotonic() > deadline:
                self.popen.kill()
                raise AssertionError(f"still running; it printed:\n{self.printed()[-3000:]}")
            await asyncio.sleep(0.05)
        return self.popen.returncode

    def processes(self) -> list[int]:
        """Every live process carrying this bot's marker (zombies are gone already)."""
        return processes_marked(self.token)


def processes_marked(token: str) -> list[int]:
    marker = f"RASD_TEST_PROCESS={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if _is_zombie(entry):
                continue
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def _is_zombie(entry: Path) -> bool:
    stat = (entry / "stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


async def wait_for(condition, what: str, within: float = HANG_GUARD) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def seeded_database(path: Path, feed_urls: Sequence[str] = ()) -> None:
    """A database with the test chats and the given feeds (primed: their items are news)."""
    db = open_database(path)
    for chat_id in (ADMIN, USER):
        chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
    for url in feed_urls:
        feed_store.add_feed(db, url, title=url, interval_seconds=1, now=1, primed=True)
    db.conn.close()


@pytest.fixture
async def api():
    async with BotApiServer() as server:
        server.private_chat(ADMIN, "Admin", language_code="ar")
        server.private_chat(USER, "سارة", language_code="ar")
        yield server


@pytest.fixture
async def feeds():
    async with FeedServer() as server:
        yield server


async def test_a_second_bot_on_the_same_database_exits_at_once_and_touches_nothing(api, tmp_path):
    database = tmp_path / "rasd.db"
    seeded_database(database)
    first = BotProcess(api, database, tmp_path / "first.log")
    try:
        await first.wait_for_log("Rasd started")
        said_hello = len(api.calls_to("getMe"))
        second = BotProcess(api, database, tmp_path / "second.log")
        code = await second.exit_code()
        assert code == 3
        assert second.printed().strip() == (
            f"Another Rasd (process {first.popen.pid}) is running on {database}: one bot per "
            "database. Stop it first, or give this one another DATABASE_PATH."
        )
        assert len(api.calls_to("getMe")) == said_hello  # it never spoke to Telegram
        # The first one still answers.
        await api.send_text(USER, USER, "/help")
        await api.wait_for_message(USER, lambda m: "/add" in m.text, timeout=HANG_GUARD)
    finally:
        first.popen.terminate()
        await first.exit_code()


async def test_a_killed_bot_never_blocks_a_restart(api, tmp_path):
    database = tmp_path / "rasd.db"
    seeded_database(database)
    first = BotProcess(api, database, tmp_path / "first.log")
    await first.wait_for_log("Rasd started")
    first.popen.kill()
    assert await first.exit_code() == -signal.SIGKILL
    again = BotProcess(api, database, tmp_path / "again.log")
    try:
        await again.wait_for_log("Rasd started")
        await api.send_text(USER, USER, "/help")
        await api.wait_for_message(USER, lambda m: "/add" in m.text, timeout=HANG_GUARD)
    finally:
        again.popen.terminate()
        assert await again.exit_code() == 0


async def test_backup_and_export_work_beside_a_running_bot_and_import_is_refused(
    api, feeds, tmp_path
):
    feeds.set_feed("/one.xml", make_rss("أخبار", sample_items(2)))
    database = tmp_path / "rasd.db"
    seeded_database(database, [feeds.url("/one.xml")])
    bot = BotProcess(api, database, tmp_path / "bot.log")
    try:
        await bot.wait_for_log("Rasd started")
        env = {**os.environ, "DATABASE_PATH": str(database), "ALLOW_PRIVATE_FEED_URLS": "true"}

        def cli(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [sys.executable, "bot.py", *args], cwd=ROOT, env=env, capture_output=True,
                text=True, timeout=HANG_GUARD,
            )  # fmt: skip

        backup = await asyncio.to_thread(cli, "backup", str(tmp_path / "copy.db"))
        assert backup.returncode == 0, backup.stderr
        exported = await asyncio.to_thread(cli, "export-opml")
        assert exported.returncode == 0
        assert feeds.url("/one.xml") in exported.stdout
        opml = tmp_path / "feeds.opml"
        opml.write_text(exported.stdout, encoding="utf-8")
        imported = await asyncio.to_thread(cli, "import-opml", str(opml))
        assert imported.returncode == 3
        assert imported.stderr.strip() == (
            f"The bot is running on {database} (process {bot.popen.pid}): stop it first, or "
            "send the .opml file to the bot in a chat as an admin, which imports it."
        )
    finally:
        bot.popen.terminate()
        assert await bot.exit_code() == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_does_not_wait_for_a_hanging_feed_and_leaves_no_process(
    api, feeds, tmp_path, signum
):
    feeds.set_hostile("/hang.xml", "hang")
    database = tmp_path / "rasd.db"
    seeded_database(database, [feeds.url("/hang.xml")])
    # A fetch that would hang for ten minutes: a stop that waited for it fails the hang guard.
    bot = BotProcess(
        api, database, tmp_path / "bot.log", FETCH_TIMEOUT_SECONDS="600", PARSE_WORKERS="2"
    )
    await bot.wait_for_log("Rasd started")
    await wait_for(lambda: feeds.requests_to("/hang.xml"), "the feed's fetch to start")
    signalled = time.monotonic()
    bot.popen.send_signal(signum)
    assert await bot.exit_code(within=30) == 0
    print(f"\nstopped {time.monotonic() - signalled:.2f} s after {signum.name}")
    assert "Traceback" not in bot.printed()
    # the forkserver and resource tracker end on their own once the bot's end of their pipes
    # closes: a few milliseconds after it, so wait as the test below does
    await wait_for(lambda: bot.processes() == [], "the bot's other processes to exit")


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
async def test_the_parse_pools_processes_end_with_the_bot(api, feeds, tmp_path, signum):
    feeds.set_feed("/one.xml", make_rss("أخبار", sample_items(5)))
    database = tmp_path / "rasd.db"
    seeded_database(database, [feeds.url("/one.xml")])
    bot = BotProcess(api, database, tmp_path / "bot.log", PARSE_WORKERS="2")
    await bot.wait_for_log("Rasd started")
    # Parsing the feed starts the pool: its forkserver, resource tracker and workers.
    await wait_for(lambda: len(bot.processes()) >= 3, "the parse pool's processes")
    bot.popen.send_signal(signum)
    assert await bot.exit_code() == (0 if signum == signal.SIGTERM else -signal.SIGKILL)
    # After a stop at once; after a SIGKILL the workers notice within a second or so.
    await wait_for(lambda: bot.processes() == [], "the bot's other processes to exit")


async def test_a_stop_mid_broadcast_sends_each_copy_once(api, tmp_path):
    database = tmp_path / "rasd.db"
    seeded_database(database)
    db = open_database(database)
    users = range(20_000, 20_300)
    for user in users:
        api.private_chat(user, f"u{user}", language_code="ar")
        chats.touch_chat(db, user, type="private", title="", language="ar", now=1)
    db.conn.close()
    notice = "إعلان للمشتركين"

    def copies() -> Counter:  # the admin's preview names the notice too: users only
        return Counter(r.chat_id for r in api.send_log if notice in r.text and r.chat_id != ADMIN)

    bot = BotProcess(api, database, tmp_path / "bot.log", SEND_RATE_PER_SECOND="100")
    await bot.wait_for_log("Rasd started")
    await api.send_text(ADMIN, ADMIN, f"/broadcast {notice}")
    preview = await api.wait_for_message(ADMIN, lambda m: "معاينة" in m.text, timeout=HANG_GUARD)
    await api.press_button(ADMIN, preview, preview.callback_data[0])
    await wait_for(lambda: len(copies()) >= 50, "some of the broadcast")
    signalled = time.monotonic()
    bot.popen.send_signal(signal.SIGTERM)
    assert await bot.exit_code() == 0
    print(f"\nstopped mid-broadcast {time.monotonic() - signalled:.2f} s after SIGTERM")
    assert len(copies()) < len(users) + 1, "the broadcast finished before the stop"

    again = BotProcess(api, database, tmp_path / "again.log", SEND_RATE_PER_SECOND="100")
    try:
        await wait_for(lambda: len(copies()) == len(users) + 1, "every chat's copy")
        await asyncio.sleep(1.0)  # anything sent twice would arrive now
    finally:
        again.popen.terminate()
        assert await again.exit_code() == 0
    assert max(copies().values()) == 1


async def test_a_long_poll_cycle_says_so_once_instead_of_a_warning_a_tick(
    api, feeds, tmp_path, caplog
):
    feeds.set_hostile("/hang.xml", "hang")
    settings = bot_settings(api, tmp_path, FETCH_TIMEOUT_SECONDS="3")  # ticks every second
    seeded_database(settings.database_path, [feeds.url("/hang.xml")])

    def said(text: str) -> list[logging.LogRecord]:
        return [r for r in caplog.records if text in r.getMessage()]

    with caplog.at_level(logging.INFO):
        async with running_bot(settings):
            await wait_for(lambda: said("poll cycle longer"), "the long cycle's line")
            assert said("maximum number of running instances") == []
            assert len(said("poll cycle longer")) == 1
            line = said("poll cycle longer")[0]
            assert line.levelno == logging.INFO
            assert line.interval_seconds == 1.0  # type: ignore[attr-defined]
