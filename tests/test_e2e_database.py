"""End to end: the bot's database refuses writes ("database or disk is full"), then recovers.

Feeds are not blamed, /healthz and /metrics say so, admins are told through the outbox, and once
the database takes writes again the alerts that were waiting in the feed arrive by themselves.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from storage import feeds as feed_store
from tests.feedserver import make_rss
from tests.support import ADMIN, BASELINE, USER, bot_settings, running_bot, say

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

PARAGRAPH = (
    "اجتاحت الفيضانات أحياء واسعة من مدينة الرباط بعد أمطار غزيرة استمرت يومين، "
    "وأعلنت السلطات إجلاء مئات الأسر من المناطق المنخفضة وفتح مراكز إيواء مؤقتة. "
)
FLOOD = {  # a few kilobytes: storing it needs new pages, which the full database refuses
    "title": "فيضانات تجتاح مدينة الرباط",
    "link": "https://news.example.org/flood",
    "guid": "https://news.example.org/?p=77",
    "content": f"<p>{PARAGRAPH * 30}</p>",
    "pubDate": datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
}


async def health(http: aiohttp.ClientSession, base: str) -> tuple[int, dict, dict]:
    """/healthz's status and report, and /metrics' samples by name."""
    async with http.get(base + "/healthz") as response:
        status, report = response.status, json.loads(await response.text())
    async with http.get(base + "/metrics") as response:
        text = await response.text()
    samples = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
    return status, report, samples


async def test_a_full_database_is_not_feed_trouble_and_everything_resumes(api, feeds, tmp_path):
    feeds.set_feed("/feed.xml", make_rss("أخبار الاختبار", BASELINE))
    async with (
        running_bot(bot_settings(api, tmp_path)) as application,
        aiohttp.ClientSession() as http,
    ):
        base = application.bot_data.web.url
        db, writes = application.bot_data.rasd.db, application.bot_data.rasd.writes
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add الرباط", expect="بدأت متابعة")
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")  # the file may not grow: "full"

        feeds.set_feed("/feed.xml", make_rss("أخبار الاختبار", [*BASELINE, FLOOD]))
        await api.wait_until(lambda: writes.refused >= 2, timeout=30, what="two refused cycles")
        status, report, samples = await health(http, base)
        assert status == 503
        assert "database refuses writes" in report["problems"]
        assert report["database"] == "refusing writes: OperationalError: database or disk is full"
        assert samples["rasd_database_writable"] == 0
        assert samples["rasd_database_refused_writes_total"] >= 2
        (feed,) = feed_store.all_feeds(db)
        assert (feed.error_count, feed.disabled, feed.last_error) == (0, False, None)
        assert not [m for m in api.sent_messages(USER) if m.text.startswith("🔔")]

        db.execute("PRAGMA max_page_count = 1073741823")  # room again
        alert = await api.wait_for_message(USER, lambda m: m.text.startswith("🔔"), timeout=30)
        assert "فيضانات تجتاح مدينة الرباط" in alert.text
        recovered = await api.wait_for_message(ADMIN, lambda m: m.text.startswith("✅ عادت"))
        assert "database or disk is full" in recovered.text
        status, report, samples = await health(http, base)
        assert status == 200, report
        assert samples["rasd_database_writable"] == 1
        (feed,) = feed_store.all_feeds(db)
        assert (feed.error_count, feed.disabled) == (0, False)
        notices = db.execute(
            "SELECT status, message_id FROM outbox WHERE kind = 'notice' AND chat_id = ?",
            (ADMIN,),
        ).fetchall()
    told = [m for m in api.sent_messages(ADMIN) if "قاعدة البيانات" in m.text]
    assert len(told) in (1, 2)  # the notice if it could be stored then, and the recovery
    assert told[-1].message_id == recovered.message_id
    assert notices == [("sent", m.message_id) for m in told]  # each one through the outbox
    assert not [m for m in api.sent_messages(ADMIN) if "⛔" in m.text or "internal" in m.text]
    assert len([m for m in api.sent_messages(USER) if m.text.startswith("🔔")]) == 1
