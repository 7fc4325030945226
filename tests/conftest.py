"""Shared fixtures: a test Bot API server, a loopback feed server, and a running Rasd bot."""

from __future__ import annotations

import asyncio
import html
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from telegram.ext import Application

# PTB 22 warns when it builds RetryAfter unless it may use timedelta; warnings are errors here.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from app import telegram_app  # noqa: E402
from core.settings import Settings, load_settings  # noqa: E402
from storage.db import Database, open_database  # noqa: E402
from tests.botapi import BotApiServer  # noqa: E402
from tests.feedserver import FeedServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ADMIN = 900
USER = 111


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """An end-to-end test is also a slow one: -m "not slow" leaves both out."""
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.slow)


def feed_texts(path: Path) -> list[str]:
    """Title + description of each item of an RSS file, tags stripped."""
    texts = []
    for item in ET.parse(path).getroot().iter("item"):
        parts = [item.findtext("title") or "", item.findtext("description") or ""]
        texts.append(html.unescape(re.sub("<[^>]+>", " ", "\n".join(parts))))
    return texts


@pytest.fixture
async def api() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as server:
        server.private_chat(ADMIN, "Admin", language_code="ar")
        server.private_chat(USER, "سارة", language_code="ar")
        yield server


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database in a file of its own."""
    database = open_database(tmp_path / "rasd.db")
    yield database
    database.conn.close()


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


def bot_settings(api: BotApiServer, tmp_path: Path, **extra: str) -> Settings:
    """Settings that point the bot at the test server, a temporary database and fast polling."""
    env = {
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "ADMIN_IDS": str(ADMIN),
        "DATABASE_PATH": str(tmp_path / "rasd.db"),
        "POLL_INTERVAL_SECONDS": "1",
        "QUIET_FEED_MAX_SECONDS": "1",  # every feed checked each second, dated items or not
        "ALLOW_PRIVATE_FEED_URLS": "true",
        "WEB_PORT": "0",
        "PARSE_WORKERS": "0",  # threads: a process pool per test bot is slow to start
        **extra,
    }
    return load_settings(env)


@asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[Application]:
    """The real Application, started the way run_polling starts it, stopped the same way."""
    application = telegram_app.build_application(settings)
    await telegram_app.start_application(application, settings, poll_timeout=1)
    try:
        yield application
    finally:
        await telegram_app.stop_application(application)


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """bot.py in a subprocess, while this event loop keeps serving the feeds."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "bot.py",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), err.decode()
