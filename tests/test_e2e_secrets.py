"""Never shown: the token in stored errors and /healthz, passwords in feed addresses, and
bidi controls or other invisible characters in keywords, titles and feed names."""

from __future__ import annotations

import json

import aiohttp
import pytest

from core.opml import build_opml, parse_opml
from storage.db import open_database
from tests.botapi import ApiError
from tests.feedserver import make_rss
from tests.support import (
    ADMIN,
    BASELINE,
    NEW_ITEM,
    USER,
    bot_settings,
    free_port,
    item,
    running_bot,
    say,
)

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server


async def test_an_error_that_echoes_the_token_is_stored_and_shown_without_it(api, feeds, tmp_path):
    port = free_port()
    settings = bot_settings(api, tmp_path, WEB_PORT=str(port))
    feeds.set_feed("/feed.xml", make_rss("أخبار", BASELINE))
    # A proxy's error page that repeats the request path, token and all.
    echo = f"Bad Gateway: upstream failed for POST /bot{api.token}/sendMessage " + "x" * 2000
    async with running_bot(settings), aiohttp.ClientSession() as http:
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add المغرب")
        api.inject("sendMessage", chat_id=USER, count=1000, error=ApiError(502, echo))
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*BASELINE, NEW_ITEM]))
        db = open_database(tmp_path / "rasd.db")
        await api.wait_until(
            lambda: (
                db.execute("SELECT last_error FROM outbox WHERE chat_id = ?", (USER,)).fetchone()
                not in (None, (None,))
            ),
            10,
            "the failed send recorded",
        )
        stored = db.execute("SELECT last_error FROM outbox WHERE chat_id = ?", (USER,)).fetchone()[
            0
        ]
        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
            health = json.loads(await response.text())
    secret = api.token.split(":")[1]
    assert "Bad Gateway" in stored
    assert secret not in stored
    assert len(stored) <= 300
    assert health["last_telegram_error"]
    assert secret not in json.dumps(health)


async def test_feed_addresses_with_a_password_are_refused_and_old_ones_masked(api, feeds, tmp_path):
    feeds.set_feed("/feed.xml", make_rss("أخبار", BASELINE))
    with_password = feeds.url("/feed.xml").replace("http://", "http://reader:s3cret@")
    db = open_database(tmp_path / "rasd.db")
    db.execute(  # a feed added before such addresses were refused
        """INSERT INTO feeds (url, title, interval_seconds, next_check_at, created_at)
           VALUES (?, '', 3600, 9e12, 0)""",
        ("https://old:hunter2@example.org/rss",),
    )
    async with running_bot(bot_settings(api, tmp_path)):
        refused = await say(api, ADMIN, f"/addfeed {with_password}", expect="password")
        assert "s3cret" not in refused.text
        opml = build_opml([(with_password, "محمي")], "مصادر")
        await api.send_document(ADMIN, ADMIN, "feeds.opml", opml)
        report = await api.wait_for_message(ADMIN, lambda m: "📥" in m.text, timeout=30)
        assert "تعذّر 1" in report.text
        assert "s3cret" not in report.text
        listing = await say(api, ADMIN, "/feeds", expect="📡")
        await api.send_text(ADMIN, ADMIN, "/export_feeds")
        exported = await api.wait_for_message(ADMIN, lambda m: m.document is not None, timeout=10)
        urls = {f.url for f in parse_opml(api.file_bytes(exported.document["file_id"]))}
    assert db.execute("SELECT count(*) FROM feeds").fetchone()[0] == 1
    assert "hunter2" not in listing.text
    assert "https://***@example.org/rss" in listing.text
    assert urls == {"https://***@example.org/rss"}


HIDDEN = "\u202e\u2066\u200b\u200f"  # right-to-left override, isolate, zero-width space, RLM


async def test_invisible_characters_are_never_displayed(api, feeds, tmp_path):
    tricky = item(
        8,
        f"عاجل{HIDDEN[0]} من المغرب{HIDDEN[1:]}",
        ["وصل الوفد إلى المغرب اليوم في زيارة رسمية تستمر يومين."],
    )
    feeds.set_feed("/feed.xml", make_rss(f"أخبار{HIDDEN}", BASELINE))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        added = await say(api, USER, f"/add {HIDDEN[0]}المغرب{HIDDEN[2]}")
        listing = await say(api, USER, "/list")
        feeds.set_feed("/feed.xml", make_rss(f"أخبار{HIDDEN}", [*BASELINE, tricky]))
        alert = await api.wait_for_message(USER, lambda m: m.text.startswith("🔔"), timeout=20)
        listed = await say(api, ADMIN, "/feeds", expect="📡")
    db = open_database(tmp_path / "rasd.db")
    assert db.execute("SELECT keyword FROM subscriptions").fetchone()[0] == "المغرب"
    assert added.text.endswith(": المغرب")
    assert "عاجل من المغرب" in alert.text
    for message in (added, listing, alert, listed):
        shown = message.text + "".join(b["text"] for b in message.buttons)
        assert not any(char in shown for char in HIDDEN), message.text
