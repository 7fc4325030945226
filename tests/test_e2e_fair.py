"""No admin job stalls the bot: /addfeed and OPML imports run in the background while everyone
else is answered (the flood guard: tests/test_spec_rights.py)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from core.opml import build_opml
from storage.db import open_database
from tests.feedserver import make_rss, sample_items
from tests.support import ADMIN, USER, bot_settings, running_bot
from tests.timing import within

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

HELP = "أوامر «رصد»"
TOO_FAST = "مهلاً"
CHECKING = "⏳ أتحقق من المصدر"
ADDED, EXISTS, REFUSED = "✅ أضفت المصدر", "هذا المصدر مضاف من قبل", "تعذّر استخدام هذا المصدر"


def count(api, chat_id: int, text: str) -> int:
    return sum(text in message.text for message in api.sent_messages(chat_id))


async def test_sixty_addfeeds_at_once_are_all_carried_out(api, feeds, tmp_path):
    held = asyncio.Event()
    feeds.set_feed("/slow.xml", make_rss("بطيء", sample_items(2)), hold=held)
    urls = [feeds.url("/slow.xml")]
    for n in range(40):
        feeds.set_feed(f"/f{n}.xml", make_rss(f"مصدر {n}", sample_items(2, start=10 * n)))
        urls.append(feeds.url(f"/f{n}.xml"))
    feeds.set_hostile("/page.html", "html")
    urls += [feeds.url("/f0.xml")] * 9 + [feeds.url("/page.html")] * 5 + [feeds.url("/gone")] * 5
    assert len(urls) == 60
    async with running_bot(bot_settings(api, tmp_path)) as application:
        for url in urls:
            await api.send_text(ADMIN, ADMIN, f"/addfeed {url}")
        # The first feed does not answer yet; a user is answered meanwhile.
        await api.send_text(USER, USER, "/help")
        await api.wait_for_message(USER, lambda m: HELP in m.text, timeout=30)
        await api.wait_until(lambda: len(api.sent_messages(ADMIN)) == 60, 30, "60 ⏳ answers")
        assert CHECKING in api.sent_messages(ADMIN)[0].text  # the held one: still checking
        held.set()
        await api.wait_until(lambda: count(api, ADMIN, CHECKING) == 0, 60, "60 results")
        jobs = application.bot_data.services.jobs
        await within(jobs.wait(), "the jobs to be done")
        assert len(jobs) == 0  # finished jobs are not kept
    answers = [m.text for m in api.sent_messages(ADMIN)]
    assert len(answers) == 60  # one message per command, edited from ⏳ to its result
    assert sum(ADDED in a for a in answers) == 41
    assert sum(EXISTS in a for a in answers) == 9
    assert sum(REFUSED in a and "HTML" in a for a in answers) == 5
    assert sum(REFUSED in a and "404" in a for a in answers) == 5
    assert count(api, ADMIN, TOO_FAST) == 0
    db = open_database(tmp_path / "rasd.db")
    assert db.execute("SELECT count(*) FROM feeds").fetchone()[0] == 41


def refused_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_an_opml_import_of_a_thousand_dead_urls_runs_while_others_are_answered(
    api, feeds, tmp_path
):
    held = asyncio.Event()
    feeds.set_feed("/held.xml", "Service unavailable", status=503, hold=held)
    port = refused_port()
    dead = [(feeds.url("/held.xml"), "معلّق")]
    dead += [(f"http://127.0.0.1:{port}/feed/{n}.xml", f"ميت {n}") for n in range(999)]
    opml = build_opml(dead, title="ألف مصدر")
    settings = bot_settings(api, tmp_path, FETCH_TIMEOUT_SECONDS="120")
    async with running_bot(settings):
        await api.send_document(ADMIN, ADMIN, "feeds.opml", opml)
        started = await api.wait_for_message(ADMIN, lambda m: "⏳" in m.text, timeout=30)
        # The 999 refusals are done; only the held one keeps the import running.
        await api.wait_for_edit(
            ADMIN, started.message_id, lambda m: "فُحص 999 من 1000" in m.text, timeout=60
        )
        await api.send_text(USER, USER, "/help")
        await api.wait_for_message(USER, lambda m: HELP in m.text, timeout=30)
        assert "📥" not in api.sent_messages(ADMIN)[-1].text  # answered before the import ended
        held.set()
        summary = await api.wait_for_edit(
            ADMIN, started.message_id, lambda m: "📥" in m.text, timeout=60
        )
    assert summary.text.startswith("📥 الاستيراد: أُضيف 0 · موجود من قبل 0 · تعذّر 1000")
    lines = summary.text.split("\n")
    assert (
        lines[1] == f"• {feeds.url('/held.xml')}: ردّ الموقع بخطأ (HTTP 503)"
    )  # the kind, in Arabic
    assert len(lines) == 22  # the counts, 20 failures with their reasons, how many more
    assert lines[-1] == "… و980 غيرها تعذّر"
    assert len(summary.text) <= 4096
    assert len(api.sent_messages(ADMIN)) == 1  # progress and summary: the same message


async def test_a_failing_import_is_reported_to_the_admin(api, tmp_path):
    async with running_bot(bot_settings(api, tmp_path)) as application:
        api.fail_next("getFile", 500, description="Internal Server Error")
        await api.send_document(ADMIN, ADMIN, "feeds.opml", build_opml([], title="x"))
        failed = await api.wait_for_message(ADMIN, lambda m: "⚠️" in m.text, timeout=30)
        assert "خطأ داخلي" in failed.text
        assert application.bot_data.services.jobs.failures == 1
        # The bot carries on.
        await api.send_text(USER, USER, "/help")
        await api.wait_for_message(USER, lambda m: HELP in m.text, timeout=30)


async def test_stopping_the_bot_mid_job_tells_the_admin(api, feeds, tmp_path):
    held = asyncio.Event()
    feeds.set_feed("/held.xml", make_rss("معلّق", sample_items(1)), hold=held)
    async with running_bot(bot_settings(api, tmp_path, FETCH_TIMEOUT_SECONDS="120")):
        await api.send_text(ADMIN, ADMIN, f"/addfeed {feeds.url('/held.xml')}")
        await api.wait_for_message(ADMIN, lambda m: CHECKING in m.text, timeout=30)
        await api.wait_until(lambda: feeds.requests_to("/held.xml"), 30, "the fetch")
    # Shutdown waited a little, then cancelled the job, which said so on its message.
    (message,) = api.sent_messages(ADMIN)
    assert message.text.startswith("⛔ توقّف العمل")
    db = open_database(tmp_path / "rasd.db")
    assert db.execute("SELECT count(*) FROM feeds").fetchone()[0] == 0
