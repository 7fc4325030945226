"""No user and no feed stalls the bot: a /test storm and a 2 MB item, through the real bot."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest

from core.models import Article
from core.query import parse_query
from core.render import MAX_MESSAGE_CHARS
from service.trials import PAGE
from storage import articles as article_store
from storage import chats as chat_store
from storage import feeds as feed_store
from storage.db import open_database
from tests.data import easc_texts, needs_shared
from tests.feedserver import make_rss
from tests.support import ADMIN, BASELINE, USER, bot_settings, running_bot, say
from tests.timing import HANG_SECONDS, eventually, within

# The real bot against the test Bot API server, with real-length articles (EASC, in ../shared).
pytestmark = [pytest.mark.e2e, needs_shared]

OTHER = 333


def store_recent_articles(settings, count: int) -> None:
    """`count` real-length articles fetched just now, in the bot's database before it starts."""
    easc = easc_texts()
    db = open_database(settings.database_path)
    now = time.time()
    with db.atomic():
        feed_id = feed_store.add_feed(
            db, "http://feeds.example/old", title="أرشيف", interval_seconds=300, now=now
        )
        feed_store.set_feed_disabled(db, feed_id, True, now)  # stored, never polled
        for number in range(count):
            text = easc[number % len(easc)]
            title = f"{text.split('.')[0][:80]} ({number})"
            article = Article(f"k{number}", f"https://x.example/{number}", title, text, "ar", "")
            article_store.store_article(db, feed_id, article, now)
    db.conn.close()


class Gate:
    """Holds a /test scan inside its worker thread at its second page until released."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self.release = threading.Event()

    def __call__(self, scanned: int) -> None:
        if scanned >= PAGE:
            self.holding.set()
            self.release.wait(HANG_SECONDS)


async def test_a_test_storm_does_not_hold_up_another_user(api, tmp_path):
    api.private_chat(OTHER, "Other", language_code="en")
    settings = bot_settings(api, tmp_path, TEST_COOLDOWN_SECONDS="600", TEST_BUDGET_SECONDS="600")
    store_recent_articles(settings, 3000)
    async with running_bot(settings) as application:
        trials = application.bot_data.services.trials
        gate = Gate()
        trials.on_page = gate
        try:
            await storm(api, trials, gate)
        finally:
            gate.release.set()
        result = await api.wait_for_message(USER, lambda m: m.text.startswith("🔍"), timeout=30)
        assert "من أصل 3000" in result.text  # every stored story looked at
        assert "توقفت" not in result.text
        await eventually(lambda: trials.finished == 1, "the scan counted as finished")
        # Every other /test of the storm was turned away, none scanned (the flood guard may
        # also have silenced some of them).
        answers = [m.text for m in api.sent_messages(USER)]
        assert sum(text.startswith("🔍") for text in answers) == 1
        assert trials.started == 1
        assert all(len(text) <= MAX_MESSAGE_CHARS for text in answers)


async def storm(api, trials, gate: Gate) -> None:
    """Ten /test at once; while the first is held mid-scan in its thread, others are answered."""
    for _ in range(10):
        await api.send_text(USER, USER, "/test مصر")
    await eventually(gate.holding.is_set, "the first /test scanning its second page")
    help_reply = await say(api, OTHER, "/help")
    assert "/test" in help_reply.text
    cooldown = await api.wait_for_message(USER, lambda m: "⏳" in m.text, timeout=15)
    assert "تجربة واحدة في كل مرة" in cooldown.text
    assert (trials.started, trials.finished) == (1, 0)
    assert not [m for m in api.sent_messages(USER) if m.text.startswith("🔍")]


async def test_a_test_that_stops_early_says_so_and_the_button_keeps_the_cooldown(api, tmp_path):
    settings = bot_settings(api, tmp_path, TEST_MAX_ARTICLES="50", TEST_COOLDOWN_SECONDS="600")
    store_recent_articles(settings, 120)
    async with running_bot(settings) as application:
        result = await say(api, USER, "/test مصر", expect="🔍")
        assert "⏱ توقفت بعد فحص 50 من أحدث الأخبار" in result.text
        assert "من أصل 50" in result.text
        offer = await say(api, USER, "تونس")
        query_id = await api.press_button(USER, offer, "test:تونس")
        answer = await api.wait_until(lambda: api.callback_answer(query_id), timeout=15)
        assert answer.show_alert
        assert "تجربة واحدة في كل مرة" in (answer.text or "")
        assert offer.text == "هل تريد متابعة «تونس»؟"  # the offer is left as it was
        trials = application.bot_data.services.trials
        assert (trials.started, trials.stopped_early) == (1, 1)


def big_item(number: int, keyword: str) -> dict:
    """A 2 MB item with a 700-character title; the keyword in its title and first paragraph."""
    easc = easc_texts()
    paragraphs = [f"<p>{keyword} يضرب المنطقة فجر اليوم وفق مصادر محلية.</p>"]
    while sum(map(len, paragraphs)) < 2_000_000:
        paragraphs += [f"<p>{line}</p>" for line in easc[len(paragraphs) % len(easc)].split("\n")]
    return {
        "title": (f"{keyword} قوي يضرب المنطقة " * 40)[:700],
        "link": f"https://news.example.org/{number}/",
        "guid": f"https://news.example.org/?p={number}",
        "content": "".join(paragraphs),
        "pubDate": datetime(2026, 11, 28, 9, number, tzinfo=UTC),
    }


async def test_a_2_mb_item_for_30_chats_is_summarised_once_and_reaches_all(api, feeds, tmp_path):
    readers = list(range(5000, 5030))
    for reader in readers:
        api.private_chat(reader, f"قارئ {reader}")
    feeds.set_feed("/feed.xml", make_rss("أخبار", BASELINE))
    settings = bot_settings(api, tmp_path, ARTICLE_MAX_CHARS="8000", TITLE_MAX_CHARS="120")
    db = open_database(settings.database_path)
    now = time.time()
    query = parse_query("زلزال")
    with db.atomic():
        for reader in readers:
            chat_store.touch_chat(db, reader, type="private", title="", language="ar", now=now)
            chat_store.add_subscription(db, reader, query.raw, query.key, now)
    db.conn.close()
    async with running_bot(settings) as application:
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*BASELINE, big_item(9, "زلزال")]))
        alerts = await within(
            asyncio.gather(
                *(
                    api.wait_for_message(reader, lambda m: m.text.startswith("🔔"), timeout=60)
                    for reader in readers
                )
            ),
            "30 alerts",
            seconds=90,
        )
        sender = application.bot_data.sender
        assert sender.composer.summaries.computed == 1
        services = application.bot_data.services
        (stored,) = [
            a
            for a in article_store.recent_articles(services.backend.db, now - 60)
            if a.url.endswith("/9/")
        ]
        assert 4000 < len(stored.text) <= 8000  # the settings, applied in the parse worker
        assert len(stored.title) <= 120
    for alert in alerts:
        assert "زلزال" in alert.entity_texts("bold")
        assert alert.text.split("\n")[0] == "🔔 " + stored.title
    for reader in readers:
        assert all(len(m.text) <= MAX_MESSAGE_CHARS for m in api.sent_messages(reader))
