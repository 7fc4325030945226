"""Crash safety: a real bot process killed with SIGKILL mid-broadcast, then started again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import pytest

from storage import chats
from storage.db import open_database
from tests.botapi import BotApiServer
from tests.support import ADMIN

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

ROOT = Path(__file__).resolve().parents[1]
CHATS = 2000
NOTICE = "إعلان مهم للمشتركين"
T = TypeVar("T")


def start_bot(api: BotApiServer, database: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "ADMIN_IDS": str(ADMIN),
        "DATABASE_PATH": str(database),
        "POLL_INTERVAL_SECONDS": "60",
        "SEND_RATE_PER_SECOND": "300",
        "WEB_PORT": "0",  # any free port: another bot on this machine may hold 8080
        "LOG_LEVEL": "WARNING",
    }
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "bot.py"], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
    )


async def with_log(waiting: Awaitable[T], log: Path) -> T:
    """Await a hang-guarded wait; if it times out, say what the bot process printed."""
    try:
        return await waiting
    except TimeoutError as error:
        printed = log.read_text(errors="replace")[-3000:]  # noqa: ASYNC240 (test failing)
        raise TimeoutError(f"{error}\nthe bot printed:\n{printed or '(nothing)'}") from None


def copies(api: BotApiServer) -> Counter:
    return Counter(r.chat_id for r in api.send_log if NOTICE in r.text)


async def test_sigkill_during_a_broadcast_loses_nothing_and_repeats_only_in_flight(tmp_path):
    database, log = tmp_path / "rasd.db", tmp_path / "bot.log"
    async with BotApiServer() as api:
        api.private_chat(ADMIN, "Admin", language_code="ar")
        db = open_database(database)
        chats.touch_chat(db, ADMIN, type="private", title="Admin", language="ar", now=1)
        users = range(10_000, 10_000 + CHATS - 1)
        for user in users:
            api.private_chat(user, f"u{user}", language_code="ar")
            chats.touch_chat(db, user, type="private", title="", language="ar", now=1)
        db.conn.close()

        bot = start_bot(api, database, log)
        try:
            await api.send_text(ADMIN, ADMIN, f"/broadcast {NOTICE}")
            preview = await with_log(
                api.wait_for_message(ADMIN, lambda m: "معاينة" in m.text, timeout=120), log
            )
            await api.press_button(ADMIN, preview, preview.callback_data[0])
            await api.wait_until(
                lambda: len(copies(api)) >= 500, timeout=120, what="a quarter of the broadcast"
            )
        finally:
            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=30)
        at_kill = len(copies(api))
        assert at_kill < CHATS, "the broadcast finished before the kill: nothing was tested"

        bot = start_bot(api, database, log)
        try:
            await api.wait_until(
                lambda: len(copies(api)) == CHATS,
                timeout=120,
                what="every chat's copy after the restart",
            )
            await asyncio.sleep(1.0)  # anything sent twice would arrive now
        finally:
            bot.terminate()
            bot.wait(timeout=30)

    received = copies(api)
    duplicated = sum(1 for count in received.values() if count > 1)
    print(
        f"\nkilled after {at_kill} of {CHATS} copies; after restart every chat has one, "
        f"{duplicated} sent twice (in flight at the kill)"
    )
    assert len(received) == CHATS  # nobody lost
    assert max(received.values()) <= 2
    # Only rows that were in flight at the kill may be sent twice: at most two sending rounds.
    assert duplicated <= 60, f"{duplicated} duplicates"
    db = open_database(database)
    assert db.execute("SELECT count(*) FROM outbox WHERE status != 'sent'").fetchone()[0] == 0
    db.conn.close()
