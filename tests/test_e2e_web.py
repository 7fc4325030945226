"""End to end: short links in alerts, clicks in /stats, health and metrics, webhook mode."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from storage.db import open_database
from tests.feedserver import make_rss
from tests.support import (
    ADMIN,
    BASELINE,
    NEW_ITEM,
    TRICKY_TITLE,
    USER,
    bot_settings,
    free_port,
    run_cli,
    running_bot,
    say,
)

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

ROOT = Path(__file__).resolve().parents[1]


async def test_short_link_redirects_counts_and_shows_in_stats(api, feeds, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    settings = bot_settings(api, tmp_path, WEB_PORT=str(port), SHORTLINK_BASE_URL=base)
    feeds.set_feed("/feed.xml", make_rss("أخبار", BASELINE))
    async with running_bot(settings), aiohttp.ClientSession() as http:
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add المغرب")
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*BASELINE, NEW_ITEM]))
        alert = await api.wait_for_message(USER, lambda m: m.text.startswith("🔔"), timeout=20)
        ((words, link),) = alert.links()
        assert words == "اقرأ في أخبار"
        assert link.startswith(base)
        code = link.removeprefix(base)
        assert len(code) == 7
        assert code.isalnum()

        async with http.get(link, allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"] == "https://news.example.org/3/"
        async with http.head(link, allow_redirects=False) as response:
            assert response.status == 302
        async with http.get(base + "zzzzzzz", allow_redirects=False) as response:
            assert response.status == 404
            assert 'dir="rtl"' in await response.text()

        stats = await say(api, ADMIN, "/stats", expect="📊")
        assert f"{TRICKY_TITLE} (1)" in stats.text  # one click: HEAD is not a reader
        assert "المحادثات: 2 نشطة" in stats.text

        async with http.get(base + "healthz") as response:
            health = json.loads(await response.text())
            assert response.status == 200, health
            assert health["database"] == "ok"
        async with http.get(base + "metrics") as response:
            families = {f.name: f for f in text_string_to_metric_families(await response.text())}
        sent = [
            s.value
            for s in families["rasd_messages_sent"].samples
            if s.name.endswith("_total") and s.labels.get("kind") == "alert"
        ]
        assert sent == [1.0]


async def test_webhook_mode_receives_updates_and_refuses_a_wrong_secret(api, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/rasd"
    secret = "a-long-enough-secret-123"
    settings = bot_settings(
        api, tmp_path, WEB_PORT=str(port), WEBHOOK_URL=url, WEBHOOK_SECRET=secret
    )
    async with running_bot(settings), aiohttp.ClientSession() as http:
        welcome = await say(api, USER, "/start")
        assert "مرحباً بك في «رصد»" in welcome.text
        assert api.calls_to("getUpdates") == []  # nothing polled: updates came by webhook
        update = {
            "update_id": 999,
            "message": {
                "message_id": 1,
                "date": 0,
                "text": "/help",
                "chat": {"id": USER, "type": "private"},
            },
        }
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with http.post(url, json=update, headers=headers) as response:
                assert response.status == 403
    assert not [m for m in api.sent_messages(USER) if "/remove" in m.text]  # /help never ran


def test_backup_command_copies_a_consistent_database(tmp_path):
    source = tmp_path / "rasd.db"
    db = open_database(source)
    db.execute("INSERT INTO chats (id, created_at, updated_at) VALUES (5, 1, 1)")
    db.conn.close()
    copy = tmp_path / "backup.db"
    env = {"DATABASE_PATH": str(source), "PATH": "/usr/bin:/bin"}

    def backup(path: Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "bot.py", "backup", str(path)]
        return subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )

    result = backup(copy)
    assert result.returncode == 0, result.stderr
    assert copy.stat().st_mode & 0o777 == 0o600  # every chat's keywords: the owner's eyes only
    restored = open_database(copy)
    assert restored.execute("SELECT id FROM chats").fetchall() == [(5,)]
    assert restored.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for live in (source, tmp_path / "." / "rasd.db-wal", tmp_path / "rasd.db-shm"):
        refused = backup(live)
        assert refused.returncode == 2
        assert "is the live database" in refused.stderr
    assert open_database(source).execute("SELECT id FROM chats").fetchall() == [(5,)]


async def test_a_busy_web_port_is_a_clear_configuration_error(api, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "WEB_PORT": str(port),
            "DATABASE_PATH": str(tmp_path / "rasd.db"),
            "PARSE_WORKERS": "0",
            "PATH": "/usr/bin:/bin",
        }
        code, out, err = await run_cli(env=env)
    assert code == 2
    assert f"WEB_HOST:WEB_PORT (127.0.0.1:{port})" in err
    assert api.token not in out + err
