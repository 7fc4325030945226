"""Feeds end to end: OPML in and out through the bot and the CLI, failing feeds disabled with a
notice to the admins, and the process pool that parses in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.opml import build_opml, parse_opml
from storage import feeds as feed_store
from storage.db import open_database
from tests.feedserver import make_rss
from tests.support import (
    ADMIN,
    BASELINE,
    NEW_ITEM,
    TRICKY_TITLE,
    USER,
    bot_settings,
    run_cli,
    running_bot,
    say,
)

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

ROOT = Path(__file__).resolve().parents[1]


async def test_opml_import_by_document_and_export(api, feeds, tmp_path):
    feeds.set_feed("/a.xml", make_rss("المصدر أ", BASELINE))
    feeds.set_feed("/b.xml", make_rss("المصدر ب", BASELINE))
    feeds.set_hostile("/broken.xml", "html")
    opml = build_opml(
        [
            (feeds.url("/a.xml"), "أ"),
            (feeds.url("/b.xml"), "ب"),
            (feeds.url("/broken.xml"), "معطوب"),
        ],
        title="مصادري",
    )
    async with running_bot(bot_settings(api, tmp_path)):
        await api.send_document(ADMIN, ADMIN, "feeds.opml", opml)
        report = await api.wait_for_message(ADMIN, lambda m: "📥" in m.text, timeout=30)
        assert "أُضيف 2" in report.text
        assert "تعذّر 1" in report.text
        assert feeds.url("/broken.xml") in report.text
        await api.send_text(ADMIN, ADMIN, "/export_feeds")
        exported = await api.wait_for_message(ADMIN, lambda m: m.document is not None, timeout=10)
        urls = {feed.url for feed in parse_opml(api.file_bytes(exported.document["file_id"]))}
        assert urls == {feeds.url("/a.xml"), feeds.url("/b.xml")}
        # A user's document is not an admin's: refused, nothing imported.
        await api.send_document(USER, USER, "feeds.opml", opml)
        refusal = await api.wait_for_message(USER, timeout=10)
        assert refusal.text == "هذا الأمر متاح لمشرفي البوت فقط."


async def test_a_feed_that_keeps_failing_is_disabled_and_admins_are_told(api, feeds, tmp_path):
    feeds.set_feed("/feed.xml", make_rss("مصدر متعثر", BASELINE))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        feeds.set_feed("/feed.xml", "Internal error", status=500)
        db = open_database(tmp_path / "rasd.db")
        feed_id = db.execute("SELECT id FROM feeds").fetchone()[0]
        # Nine failures are on the record; make the tenth due now instead of hours away.
        db.execute("UPDATE feeds SET error_count = 9, next_check_at = 0 WHERE id = ?", (feed_id,))
        notice = await api.wait_for_message(ADMIN, lambda m: "⛔" in m.text, timeout=20)
        assert "عُطّل المصدر «مصدر متعثر»" in notice.text
        assert "HTTP 500" in notice.text
        assert feed_store.get_feed(db, feed_id).disabled
        listing = await say(api, ADMIN, "/feeds", expect="📡")
        enable = [d for d in listing.callback_data if d.startswith("feed:enable:")]
        assert enable
        feeds.set_feed("/feed.xml", make_rss("مصدر متعثر", [*BASELINE, NEW_ITEM]))
        await say(api, USER, "/add المغرب")
        await api.press_button(ADMIN, listing, enable[0])
        alert = await api.wait_for_message(USER, lambda m: m.text.startswith("🔔"), timeout=20)
        assert TRICKY_TITLE in alert.text


async def test_the_process_pool_parses_in_production_mode(api, feeds, tmp_path):
    feeds.set_feed("/feed.xml", make_rss("أخبار", BASELINE))
    async with running_bot(bot_settings(api, tmp_path, PARSE_WORKERS="2")) as application:
        assert application.bot_data.rasd.executor is not None
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add المغرب")
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*BASELINE, NEW_ITEM]))
        alert = await api.wait_for_message(USER, lambda m: m.text.startswith("🔔"), timeout=30)
        assert "وبالمغرب" in alert.entity_texts("bold")


async def test_cli_import_and_export_opml(feeds, tmp_path):
    feeds.set_feed("/feed.xml", make_rss("أخبار", BASELINE))
    url = feeds.url("/feed.xml")
    opml = tmp_path / "in.opml"
    opml.write_bytes(build_opml([(url, "أخبار")], title="x"))
    env = {
        "DATABASE_PATH": str(tmp_path / "rasd.db"),
        "ALLOW_PRIVATE_FEED_URLS": "true",
        "PATH": "/usr/bin:/bin",
    }
    code, out, err = await run_cli("import-opml", str(opml), env=env)
    assert code == 0, err
    assert "1 added" in out
    code, out, _ = await run_cli("export-opml", env=env)
    assert [f.url for f in parse_opml(out.encode())] == [url]
    bad = tmp_path / "bad.opml"
    bad.write_text("<html>not opml</html>")
    code, _, err = await run_cli("import-opml", str(bad), env=env)
    assert code == 2
    assert "not an OPML file" in err
