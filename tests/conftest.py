"""Shared fixtures: a test Bot API server, a loopback feed server, a database, an offline bot.

Shared helpers live in tests/support.py (and the other support modules), not here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from storage.db import Database
from tests.botapi import BotApiServer
from tests.feedserver import FeedServer
from tests.offline import Chat, OfflineBot, offline_bot
from tests.support import ADMIN, USER, fresh_database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """An end-to-end test is also a slow one: -m "not slow" leaves both out."""
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
async def api() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as server:
        server.private_chat(ADMIN, "Admin", language_code="ar")
        server.private_chat(USER, "سارة", language_code="ar")
        yield server


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database in a file of its own."""
    database = fresh_database(tmp_path / "rasd.db")
    yield database
    database.conn.close()


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[OfflineBot]:
    """The production Application without a network (tests/offline.py), default settings."""
    async with offline_bot(tmp_path) as running:
        yield running


@pytest.fixture
def sara(bot: OfflineBot) -> Chat:
    """An Arabic-speaking user's private chat with the offline bot."""
    return bot.private(USER, "سارة")


@pytest.fixture
def admin(bot: OfflineBot) -> Chat:
    """The bot admin's private chat with the offline bot."""
    return bot.private(ADMIN, "Admin")
