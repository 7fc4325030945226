"""`bot.py --demo`: the whole pipeline offline, bundled sample feeds served on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import sys
import tempfile
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from app.bootstrap import Rasd, bootstrap
from core.models import Subscription
from core.query import parse_query
from core.render import plain_text, replace_links
from core.settings import load_settings
from delivery.ratelimit import SendBudget
from storage import chats as chat_store
from storage import outbox

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "feeds"
DEMO_KEYWORDS = ["لبنان", "إيران", "المغرب", "رمضان", "ترامب"]
DEMO_CHAT_ID = 1
HELD_BACK = 3  # the newest items of each feed "appear" after the feed is added
_ITEM = re.compile(r"<item>.*?</item>", re.DOTALL)
_DATE = re.compile(r"<pubDate>(.*?)</pubDate>", re.DOTALL)


@dataclass
class SampleFeed:
    """A bundled feed file split into what is published now and what comes later."""

    head: str
    items: list[str]
    tail: str
    shown: int = 0
    released: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> SampleFeed:
        text = path.read_text(encoding="utf-8")
        items = _ITEM.findall(text)
        first, last = text.index(items[0]), text.rindex(items[-1]) + len(items[-1])
        items.sort(key=_item_time)
        return cls(text[:first], items, text[last:], shown=max(len(items) - HELD_BACK, 0))

    def body(self) -> str:
        return self.head + "\n".join(self.items[: self.shown]) + self.tail

    def publish_next(self) -> bool:
        if self.shown >= len(self.items):
            return False
        self.shown += 1
        return True


def _item_time(item: str) -> float:
    match = _DATE.search(item)
    try:
        return parsedate_to_datetime(match.group(1).strip()).timestamp() if match else 0.0
    except (TypeError, ValueError):
        return 0.0


class ConsoleBot:
    """Stands in for Telegram: prints each message the sender would send."""

    def __init__(self, out=sys.stdout) -> None:
        self.out = out
        self.sent = 0

    async def send_message(self, chat_id: int, text: str, **_: object) -> _Sent:
        self.sent += 1
        bold = self.out.isatty()
        shown = (
            re.sub(r"</?b>", lambda m: "\033[0m" if m.group(0) == "</b>" else "\033[1m", text)
            if bold
            else text
        )
        print(f"─── alert #{self.sent} to chat {chat_id} " + "─" * 30, file=self.out)
        print(plain_text(_console_links(shown, clickable=bold)), file=self.out, flush=True)
        print(file=self.out)
        return _Sent(self.sent)


def _console_links(message_html: str, *, clickable: bool) -> str:
    """Links as a phone shows them, their words, with the site after them: "اقرأ في هسبريس
    ⟨hespress.com⟩"; on a terminal, a clickable hyperlink (OSC 8) as well."""

    def shown(url: str, words: str) -> str:
        host = urlsplit(url).hostname or url
        if clickable:
            words = f"\033]8;;{url}\033\\{words}\033]8;;\033\\"
        return f"{words} ⟨{html.escape(host, quote=False)}⟩"

    return replace_links(message_html, shown)


@dataclass(frozen=True)
class _Sent:
    message_id: int


async def run_demo(*, once: bool, cycle_seconds: float = 3.0, out=sys.stdout) -> int:
    """Add the sample feeds (their current items are not alerts), then publish and alert."""
    feeds = {path.stem: SampleFeed.load(path) for path in sorted(SAMPLES.glob("*.xml"))}

    async def serve(request: web.Request) -> web.Response:
        feed = feeds.get(request.match_info["name"])
        if feed is None:
            raise web.HTTPNotFound()
        return web.Response(body=feed.body().encode(), content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/{name}.xml", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]

    with tempfile.TemporaryDirectory(prefix="rasd-demo-") as tmp:
        settings = replace(
            load_settings({}),
            database_path=Path(tmp) / "demo.db",
            allow_private_feed_urls=True,  # the sample feeds are served on loopback
            poll_interval_seconds=0,  # every feed is due at every cycle
            parse_workers=0,
            full_text=False,  # offline: the sample items' pages are out on the web
        )
        # A console: nothing to pace.
        unpaced = SendBudget(1e6, private_gap=0, group_gap=0)
        rasd = bootstrap(settings, bot=ConsoleBot(out), budget=unpaced)
        follow_demo_keywords(rasd)
        print(f"Rasd demo: keywords {'، '.join(DEMO_KEYWORDS)}", file=out)
        for name in feeds:
            url = f"http://127.0.0.1:{port}/{name}.xml"
            result = await rasd.feeds.add_feed(url, added_by=None)
            print(
                f"  feed added: {result.title} ({result.item_count} items already "
                f"published, not alerted)"
                if not result.error
                else f"  feed refused: {result.error}",
                file=out,
            )
        print(file=out)
        with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
            await publish_and_alert(rasd, feeds, once=once, cycle_seconds=cycle_seconds, out=out)
        counts = outbox.status_counts(rasd.db)
        print(f"Done: {counts.get('sent', 0)} alerts sent to the console.", file=out)
        await rasd.aclose()
    await runner.cleanup()
    return 0


def follow_demo_keywords(rasd: Rasd) -> None:
    """The demo chat follows DEMO_KEYWORDS."""
    now = rasd.clock()
    chat_store.touch_chat(
        rasd.db, DEMO_CHAT_ID, type="private", title="demo", language="ar", now=now
    )
    for keyword in DEMO_KEYWORDS:
        query = parse_query(keyword)
        sub_id = chat_store.add_subscription(rasd.db, DEMO_CHAT_ID, query.raw, query.key, now)
        rasd.book.add(Subscription(sub_id, DEMO_CHAT_ID, query.raw, query.key), query)


async def publish_and_alert(
    rasd: Rasd, feeds: dict[str, SampleFeed], *, once: bool, cycle_seconds: float, out
) -> None:
    """Each cycle: the sample feeds publish an item more, the bot polls and alerts."""
    assert rasd.sender is not None
    while True:
        published = sum(feed.publish_next() for feed in feeds.values())
        if once:
            while any(feed.publish_next() for feed in feeds.values()):
                published += 1
        report = await rasd.poller.run_once()
        await rasd.sender.drain()
        print(
            f"[poll] {report.feeds_checked} feeds, {published} new items "
            f"published, {report.articles_new} stored, "
            f"{report.alerts_queued} alerts",
            file=out,
            flush=True,
        )
        if once:
            return
        await asyncio.sleep(cycle_seconds)
