"""Fetching article pages politely: few requests per site, spaced, within a budget per cycle.

One `PageFetcher` lives as long as the bot and wraps the feeds' `Fetcher` (its client, address
guard and limits; `Fetcher.fetch_page` does the HTTP). On top it keeps, per site (the hostname
without "www."), at most `per_host` requests in flight and `spacing` seconds between two starts,
and per poll cycle (`new_cycle()`) at most `pages_per_cycle` pages in all and `pages_per_feed`
for any one feed: beyond them `fetch_page` answers at once with error kind "budget", so a feed
with 500 new items cannot hold up the others (their teasers stand in for the text).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from core.links import site_host
from feeds.fetch import Fetcher, FetchResult

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]
FeedKey = int | str  # a feed's id or URL: whatever the caller counts feeds by

# Two in flight and half a second between starts: a site sees at most about two page requests
# a second from us, the rate of a polite crawler, and a typical burst (10-20 new items of one
# feed) is fetched in 5-10 s, well within a poll interval.
PER_HOST = 2
SPACING_SECONDS = 0.5
# A feed polled every few minutes brings a few new items; 20 covers a busy burst, while the
# first poll of a new feed (50-500 items) gets teasers beyond it. 200 a cycle bounds the pages
# one cycle waits for whatever the number of due feeds.
PAGES_PER_FEED = 20
PAGES_PER_CYCLE = 200


@dataclass(slots=True)
class _Site:
    """One site's turn-taking: slots for requests in flight, a lock to space their starts."""

    slots: asyncio.Semaphore
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = float("-inf")  # on the PageFetcher's clock
    users: int = 0


def site_of(url: str) -> str | None:
    """The politeness key of an http(s) URL: its lowercase hostname without "www."; None for
    anything else (the fetcher refuses those without a request)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return None
    return site_host(parsed.host)


class PageFetcher:
    """The bot's one page fetcher (see the module docstring); `clock` and `sleep` are
    injectable so tests need not wait for the spacing."""

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        per_host: int = PER_HOST,
        spacing: float = SPACING_SECONDS,
        pages_per_cycle: int = PAGES_PER_CYCLE,
        pages_per_feed: int = PAGES_PER_FEED,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.fetcher = fetcher
        self.per_host = per_host
        self.spacing = spacing
        self.pages_per_cycle = pages_per_cycle
        self.pages_per_feed = pages_per_feed
        self._clock = clock
        self._sleep = sleep
        self._sites: dict[str, _Site] = {}
        self._spent = 0
        self._spent_by_feed: Counter[FeedKey] = Counter()

    @property
    def remaining(self) -> int:
        """Pages this cycle may still fetch (over all feeds)."""
        return max(0, self.pages_per_cycle - self._spent)

    def new_cycle(self) -> None:
        """A new poll cycle: the budgets start again; sites with nothing pending are forgotten."""
        self._spent = 0
        self._spent_by_feed.clear()
        now = self._clock()
        for name, site in list(self._sites.items()):
            if site.users == 0 and site.next_start <= now:
                del self._sites[name]

    async def fetch_page(
        self, url: str, *, feed: FeedKey | None = None, site_root: str | None = None
    ) -> FetchResult:
        """Fetcher.fetch_page's result, after waiting for the site's turn; "budget" at once when
        this cycle's pages, or `feed`'s, are spent. The budget is taken when called, not when
        the request starts, so the first pages asked for are the ones fetched."""
        name = site_of(url)
        if name is None:  # refused by the fetcher before any request: costs no budget
            return await self.fetcher.fetch_page(url, site_root=site_root)
        refusal = self._take_budget(feed)
        if refusal is not None:
            return FetchResult(url, url, error=refusal, error_kind="budget")
        site = self._sites.get(name)
        if site is None:
            site = self._sites[name] = _Site(asyncio.Semaphore(self.per_host))
        site.users += 1
        try:
            async with site.slots:
                async with site.turn:
                    wait = site.next_start - self._clock()
                    if wait > 0:
                        await self._sleep(wait)
                    site.next_start = self._clock() + self.spacing
                return await self.fetcher.fetch_page(url, site_root=site_root)
        finally:
            site.users -= 1

    def _take_budget(self, feed: FeedKey | None) -> str | None:
        if self._spent >= self.pages_per_cycle:
            return f"page budget of this cycle spent ({self.pages_per_cycle} pages)"
        if feed is not None and self._spent_by_feed[feed] >= self.pages_per_feed:
            return f"this feed's page budget of this cycle spent ({self.pages_per_feed} pages)"
        self._spent += 1
        if feed is not None:
            self._spent_by_feed[feed] += 1
        return None
