"""Helpers shared by test files: who is who, settings for a test bot, feed items, stored rows.

Test files import from here (and from the other support modules: botapi, feedserver, offline,
data, timing, pipeline), never from one another: tests/test_layers.py checks it.
"""

from __future__ import annotations

import asyncio
import atexit
import html
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# PTB 22 warns when it builds RetryAfter unless it may use timedelta; warnings are errors here.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Bot  # noqa: E402
from telegram.ext import Application  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from app import telegram_app  # noqa: E402
from core.models import Article  # noqa: E402
from core.settings import Settings, load_settings  # noqa: E402
from delivery.sender import Sender  # noqa: E402
from storage import articles as article_store  # noqa: E402
from storage import chats as chat_store  # noqa: E402
from storage import feeds as feed_store  # noqa: E402
from storage import outbox  # noqa: E402
from storage.db import Database, open_database  # noqa: E402
from tests.botapi import BotApiServer, ChatMessage  # noqa: E402
from tests.timing import eventually  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ADMIN = 900  # the bot's admin (ADMIN_IDS), an Arabic speaker
USER = 111  # سارة, an Arabic-speaking user
NOW = 1_795_000_000.0  # 2026-11-18: "now" of the storage-level article helpers
START = datetime(2026, 3, 24, 8, 30, tzinfo=UTC).timestamp()  # the sender tests' fake clock


# ---------------------------------------------------------------- a database, the bot, the CLI

_template: list[Path] = []  # this process's migrated database, made on first use


def fresh_database(path: Path, **options: Any) -> Database:
    """A migrated SQLite database at `path`: a copy of one this test process migrated once
    (running every migration again for each test costs some 60 ms; tests/test_storage.py
    runs them on fresh files)."""
    if not _template:
        directory = Path(tempfile.mkdtemp(prefix="rasd-template-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        open_database(directory / "rasd.db").conn.close()  # closed: its WAL merged in
        _template.append(directory / "rasd.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_template[0], path)
    return open_database(path, **options)


def bot_env(**extra: str) -> dict[str, str]:
    """The environment of a test bot without its Telegram address: the admin, fast polling,
    loopback feeds, any free web port, threads instead of a parse pool."""
    return {
        "ADMIN_IDS": str(ADMIN),
        "POLL_INTERVAL_SECONDS": "1",
        "QUIET_FEED_MAX_SECONDS": "1",  # every feed checked each second, dated items or not
        "ALLOW_PRIVATE_FEED_URLS": "true",
        "WEB_PORT": "0",
        "PARSE_WORKERS": "0",  # threads: a process pool per test bot is slow to start
        **extra,
    }


def bot_settings(api: BotApiServer, tmp_path: Path, **extra: str) -> Settings:
    """Settings that point the bot at the test server, a temporary database and fast polling."""
    env = {
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_PATH": str(tmp_path / "rasd.db"),
        **bot_env(**extra),
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


async def say(api: BotApiServer, user: int, text: str, expect: str | None = None) -> ChatMessage:
    """A user sends text; return the bot's next message in that chat (optionally matching)."""
    await api.send_text(user, user, text)
    return await api.wait_for_message(
        user, (lambda m: expect in m.text) if expect else None, timeout=15
    )


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


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- feed items


def item(number: int, title: str, paragraphs: list[str]) -> dict:
    """One RSS item for tests.feedserver.make_rss, with a tracking-laden link."""
    return {
        "title": title,
        "link": f"https://news.example.org/{number}/?utm_source=rss&traffic_source=rss",
        "guid": f"https://news.example.org/?p={number}",
        "content": "".join(f"<p>{p}</p>" for p in paragraphs),
        "pubDate": datetime(2026, 11, 28, 8, number, tzinfo=UTC),
    }


TRICKY_TITLE = "وفد <رسمي> & اقتصادي يزور الرباط"
BASELINE = [  # a feed's items when it is added: stored, never alerted
    item(
        1,
        "المغرب يستضيف مؤتمراً دولياً حول المناخ",
        [
            "يستضيف المغرب الأسبوع المقبل مؤتمراً دولياً حول التغيرات المناخية.",
            "ويشارك في المؤتمر وزراء من أكثر من ثلاثين دولة.",
        ],
    ),
    item(
        2,
        "ارتفاع أسعار النفط في الأسواق العالمية",
        [
            "ارتفعت أسعار النفط اليوم بعد تراجع المخزونات.",
            "وقال محللون إن الأسعار قد تواصل الصعود.",
        ],
    ),
]
NEW_ITEM = item(  # published after the baseline; it mentions وبالمغرب
    3,
    TRICKY_TITLE,
    [
        "وصل وفد اقتصادي رفيع إلى العاصمة اليوم في زيارة تستمر ثلاثة أيام.",
        "وقال رئيس الوفد إن الاستثمارات الجديدة وبالمغرب خصوصاً ستتضاعف خلال العام المقبل.",
        "وتأتي الزيارة بعد توقيع اتفاقيات للتعاون في مجالات الطاقة والنقل.",
    ],
)


def feed_texts(path: Path) -> list[str]:
    """Title + description of each item of an RSS file, tags stripped."""
    texts = []
    for entry in ET.parse(path).getroot().iter("item"):
        parts = [entry.findtext("title") or "", entry.findtext("description") or ""]
        texts.append(html.unescape(re.sub("<[^>]+>", " ", "\n".join(parts))))
    return texts


# ---------------------------------------------------------------- rows in a real database


def article(
    key: str = "k1",
    content: str = "h1",
    fingerprint: str | None = None,
    url: str = "https://site/a",
) -> Article:
    """A small Arabic article, not stored."""
    return Article(
        item_key=key,
        url=url,
        title="عنوان",
        text="نص الخبر",
        language="ar",
        content_hash=content,
        fingerprint=fingerprint,
        published_at=100.0,
    )


def add_feed(db: Database, url: str = "https://news.example.org/feed", now: float = NOW) -> int:
    """A feed called أخبار; its id."""
    return feed_store.add_feed(db, url, title="أخبار", interval_seconds=300, now=now)


def add_article(
    db: Database,
    feed_id: int,
    number: int,
    *,
    now: float = NOW,
    url: str | None = None,
    shortlink: str | None = None,
    story_id: int | None = None,
) -> int:
    """Store one article the way the poller does (its own story unless told otherwise)."""
    stored_article = Article(
        item_key=f"item-{feed_id}-{number}",
        url=url if url is not None else f"https://news.example.org/2026/11/story-{number}/",
        title=f"خبر رقم {number}",
        text="نص الخبر " * 20,
        language="ar",
        content_hash=f"hash-{number}",
        published_at=now,
        shortlink=shortlink,
    )
    stored, article_id = article_store.store_article(db, feed_id, stored_article, now)
    assert stored is article_store.Stored.NEW
    article_store.set_story(db, article_id, story_id or article_id)
    return article_id


def store_articles(
    db: Database, feed_url: str, source: str, stored: list[Article], now: float | None = None
) -> list[int]:
    """Store recent articles of one feed (added, not due for a check), each its own story;
    their ids."""
    now = time.time() if now is None else now
    feed_id = feed_store.add_feed(db, feed_url, title=source, interval_seconds=300, now=now + 1e6)
    ids = []
    for each in stored:
        _, article_id = article_store.store_article(db, feed_id, each, now=now)
        article_store.set_story(db, article_id, article_id)
        ids.append(article_id)
    return ids


def story(number: int, title: str, text: str, now: float, *, language: str = "ar") -> Article:
    """An article, not stored: its link https://news.example.org/<number>/."""
    return Article(
        item_key=f"story-{number}",
        url=f"https://news.example.org/{number}/",
        title=title,
        text=text,
        language=language,
        content_hash=f"story-{number}",
        published_at=now,
    )


def add_site_article(db: Database, number: int, title: str | None = None) -> tuple[int, int]:
    """A recent article about المغرب from https://site/feed (added when missing): its id and its
    story's (the same: it is a story of its own)."""
    feed = feed_store.feed_by_url(db, "https://site/feed")
    feed_id = (
        feed.id
        if feed
        else feed_store.add_feed(
            db, "https://site/feed", title="المصدر", interval_seconds=300, now=1
        )
    )
    text = (
        f"هذا نص الخبر رقم {number} عن المغرب وتفاصيله الكاملة. "
        "وقال مسؤولون إن التطورات ستتواصل خلال الأيام المقبلة في عدة مدن."
    )
    _, article_id = article_store.store_article(
        db,
        feed_id,
        Article(
            item_key=f"k{number}",
            url=f"https://site/{number}",
            title=title or f"خبر رقم {number}",
            text=text,
            language="ar",
            content_hash=f"h{number}",
            published_at=time.time(),
        ),
        now=1,
    )
    article_store.set_story(db, article_id, article_id)
    return article_id, article_id


def queue(db: Database, chat_id: int, number: int, **kwargs: Any) -> int | None:
    """An alert about article `number` (see add_site_article) waiting in the outbox."""
    article_id, story_id = add_site_article(db, number)
    return outbox.queue_alert(
        db, chat_id, story_id=story_id, article_id=article_id, keywords=["المغرب"], now=1, **kwargs
    )


def add_private_chats(api: BotApiServer, db: Database, ids: list[int], language: str = "ar"):
    """Users the test server knows, each with a private chat the bot has stored."""
    for chat_id in ids:
        api.private_chat(chat_id, f"u{chat_id}", language_code=language)
        chat_store.touch_chat(db, chat_id, type="private", title="", language=language, now=1)


# ---------------------------------------------------------------- a bare Bot and the sender


class CountingRequest(HTTPXRequest):
    """PTB's own HTTPX transport, counting the requests in flight."""

    def __init__(self) -> None:
        super().__init__(connection_pool_size=64)
        self.in_flight = 0

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        self.in_flight += 1
        try:
            return await super().do_request(*args, **kwargs)
        finally:
            self.in_flight -= 1


async def make_bot(api: BotApiServer, request: HTTPXRequest | None = None) -> Bot:
    """A PTB Bot of the test server's, initialised."""
    bot = Bot(api.token, base_url=api.base_url, request=request or CountingRequest())
    await bot.initialize()
    return bot


def network_idle(bot: Bot) -> bool:
    """No request in flight: the fake clock may move (the network takes no fake time)."""
    return bot.request.in_flight == 0


async def drain_until(sender: Sender, done: Callable[[], object]) -> None:
    """Run the sender until done() is true."""
    task = asyncio.create_task(sender.run())
    try:
        await eventually(done, "the sender")
    finally:
        sender.stop()
        await task
