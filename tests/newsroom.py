"""Outlets on loopback feeds for the offline bot (tests/offline.py), polled when a test says so
on the bot's injected clock: keywords' own paces and big stories (issue #31) end to end.

    async with offline_bot(tmp_path, clock=FakeClock(START), FULL_TEXT="false") as bot:
        room = Newsroom(bot, feeds)
        room.outlet("/hespress.xml", "هسبريس", "hespress.example")
        room.publish("/hespress.xml", room.story(1, "hespress.example", TITLE, TEXT))
        await room.poll()                # one poll cycle, as the bot's job runs it
        await room.settled()             # until the sender has nothing due
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service import keyword_ways as ways
from service.base import Backend
from storage import chats as chat_store
from storage import feeds as feed_store
from tests.feedserver import FeedServer, make_rss
from tests.offline import OfflineBot, Sent
from tests.timing import eventually

START = datetime(2026, 12, 7, 10, 0, tzinfo=UTC).timestamp()  # a Monday, 10:00 UTC
HOUR = 3600.0


class Newsroom:
    """Feeds served on loopback and stored as the bot's feeds; each outlet keeps its items."""

    def __init__(self, bot: OfflineBot, feeds: FeedServer) -> None:
        self.bot = bot
        self.feeds = feeds
        self._outlets: dict[str, tuple[str, str, list[dict[str, Any]]]] = {}

    @property
    def backend(self) -> Backend:
        """The use cases' backend of the running bot (its database, its live book)."""
        return self.bot.application.bot_data.services.backend

    def outlet(self, path: str, title: str, host: str) -> int:
        """A feed whose items link to `host`, added as news (its first items alert); its id."""
        self._outlets[path] = (title, host, [])
        self.feeds.set_feed(path, make_rss(title, [], link=f"https://{host}/"))
        return feed_store.add_feed(
            self.bot.db,
            self.feeds.url(path),
            title=title,
            interval_seconds=300,
            now=self.bot.clock(),
            primed=True,
        )

    def publish(self, path: str, *items: dict[str, Any]) -> None:
        """The outlet's feed now also carries `items`."""
        title, host, carried = self._outlets[path]
        carried.extend(items)
        self.feeds.set_feed(path, make_rss(title, carried, link=f"https://{host}/"))

    def story(self, number: int, host: str, title: str, text: str) -> dict[str, Any]:
        """An item of `host` published now on the bot's clock."""
        return {
            "title": title,
            "link": f"https://{host}/news/{number}",
            "guid": f"https://{host}/?p={number}",
            "content": f"<p>{text}</p>",
            "pubDate": datetime.fromtimestamp(self.bot.clock(), UTC),
        }

    async def poll(self) -> None:
        """One poll cycle over every feed, as the bot's job runs it (one under way is waited
        out first: it may have read the feeds before they changed)."""
        poller = self.bot.application.bot_data.rasd.poller
        self.bot.db.execute("UPDATE feeds SET next_check_at = 0")
        await eventually(lambda: not poller.running, "the poll cycle under way")
        await poller.run_once()
        await poller.settled()  # a teaser feed's items wait for their pages

    def wake(self) -> None:
        """Have the sender look at the outbox now (the clock moved, or rows were queued)."""
        self.bot.application.bot_data.services.wake_sender()

    async def settled(self) -> list[Owed]:
        """Until nothing is due now: every alert sent or held; the rows still pending."""
        self.wake()

        def settled() -> bool:
            now = self.bot.clock()
            return not self.bot.db.execute(
                "SELECT 1 FROM outbox WHERE status = 'sending' OR "
                "(status = 'pending' AND not_before <= ?) LIMIT 1",
                (now,),
            ).fetchone()

        await eventually(settled, "the sender to send or hold what is due")
        return pending(self.bot)

    async def at(self, when: float) -> None:
        """Move the bot's clock on to `when` and let the sender send what came due."""
        self.bot.clock.advance(when - self.bot.clock())
        await self.settled()

    def keyword_id(self, chat_id: int, keyword: str) -> int:
        """The id of one of a chat's keywords."""
        return next(
            sub.id for sub in chat_store.chat_subscriptions(self.bot.db, chat_id)
            if sub.keyword == keyword
        )  # fmt: skip

    def pace(self, chat_id: int, keyword: str, pace: str) -> None:
        """Give a keyword its own pace, as the /list ⚙️ panel does (service.keyword_ways)."""
        assert ways.set_pace(self.backend, chat_id, self.keyword_id(chat_id, keyword), pace)

    def big_stories(self, chat_id: int, keyword: str, outlets: int, hours: int = 6) -> None:
        """Have a keyword alert only the stories `outlets` outlets carry within `hours`."""
        sub_id = self.keyword_id(chat_id, keyword)
        assert ways.set_big_stories(self.backend, chat_id, sub_id, outlets, hours)


@dataclass(frozen=True)
class Owed:
    """An alert still owed: its keywords, its own pace (None: the chat's) and until when it
    waits (0: due)."""

    chat_id: int
    keywords: tuple[str, ...]
    pace: str | None
    not_before: float


def pending(bot: OfflineBot) -> list[Owed]:
    """The alerts still owed, oldest first."""
    rows = bot.db.execute(
        "SELECT chat_id, keywords, pace, not_before FROM outbox "
        "WHERE kind = 'alert' AND status = 'pending' ORDER BY id"
    ).fetchall()
    return [Owed(chat, tuple(json.loads(words)), pace, until) for chat, words, pace, until in rows]


def alerts(bot: OfflineBot, chat_id: int) -> list[Sent]:
    """The alerts, digests and folds the bot sent a chat, oldest first."""
    return [m for m in bot.messages(chat_id) if m.text.startswith(("🔔", "📬"))]
