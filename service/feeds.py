"""What the bot's admins do with feeds: add, import, export, list, pause, delete, re-encode,
and whether new items are read from their pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from core.models import Feed
from service.base import Backend, Refusal
from storage import feeds as feed_store
from storage import stats

FULLTEXT_MODES = feed_store.FULLTEXT_MODES
FULLTEXT_NEXT = {"auto": "on", "on": "off", "off": "auto"}  # what a press of the mode turns to
DETECT_CHARSET = frozenset({"auto", "none", "-"})  # /charset values: detect it again


class FeedAdded(Protocol):
    """The answer of the feed adder (see intake.feed_admin.AddFeedResult, a frozen dataclass)."""

    @property
    def feed_id(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def item_count(self) -> int: ...
    @property
    def error(self) -> str | None: ...
    @property
    def error_kind(self) -> str | None: ...
    @property
    def already(self) -> bool: ...


class FeedsImported(Protocol):
    """The answer of the OPML importer (see intake.feed_admin.ImportReport, a dataclass)."""

    @property
    def added(self) -> list[tuple[str, str]]: ...  # (url, title)
    @property
    def already(self) -> list[str]: ...
    @property
    def failed(self) -> list[tuple[str, str, str]]: ...  # (url, kind, reason)
    @property
    def error(self) -> str | None: ...


class FeedAdministration(Protocol):
    """The port to the feed pipeline for what admins do with feeds (intake.feed_admin.FeedAdmin:
    adding one fetches and stores it the way the poll cycle does)."""

    async def add_feed(self, url: str, *, added_by: int | None) -> FeedAdded: ...
    async def import_opml(
        self,
        data: bytes,
        *,
        added_by: int | None,
        on_progress: Callable[[int, int], None] = ...,
    ) -> FeedsImported: ...
    def export_opml(self) -> bytes: ...
    def set_paused(self, feed_id: int, paused: bool) -> None: ...
    def delete(self, feed_id: int) -> None: ...
    def set_charset(self, feed_id: int, wanted: str | None) -> str | None: ...
    def set_fulltext(self, feed_id: int, mode: str) -> None: ...


@dataclass(frozen=True)
class FeedDetails:
    """One feed in full, with the new items it published per day over the last week."""

    feed: Feed
    per_day: float


@dataclass(frozen=True)
class CharsetSet:
    """The feed whose charset was set, and the codec's name (None: detected again)."""

    feed: Feed
    charset: str | None


@dataclass(frozen=True)
class FeedsExport:
    """Every feed as an OPML document, and how many it holds."""

    opml: bytes
    count: int


FEED_GONE = Refusal("feed_gone")


def health(feed: Feed) -> str:
    """A feed's state: "disabled" (paused, or by its errors), "failing" or "ok"."""
    if feed.disabled:
        return "disabled"
    return "failing" if feed.error_count else "ok"


async def add_feed(feeds: FeedAdministration, url: str, *, added_by: int) -> FeedAdded:
    """Fetch a URL once and, when it is a feed, store it with its current items as seen."""
    return await feeds.add_feed(url, added_by=added_by)


async def import_feeds(
    feeds: FeedAdministration,
    data: bytes,
    *,
    added_by: int | None,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> FeedsImported:
    """Add every feed of an OPML file as `add_feed` does; `on_progress(done, total)` on the way."""
    return await feeds.import_opml(data, added_by=added_by, on_progress=on_progress)


def export_feeds(backend: Backend, feeds: FeedAdministration) -> FeedsExport:
    """Every feed (paused ones too) as OPML."""
    return FeedsExport(feeds.export_opml(), len(feed_store.all_feeds(backend.db)))


def all_feeds(backend: Backend) -> list[Feed]:
    """Every feed, in the order they were added."""
    return feed_store.all_feeds(backend.db)


def find_feed(backend: Backend, feed_id: int) -> Feed | Refusal:
    """A feed; refused when it is gone (deleted meanwhile, or never there)."""
    return feed_store.get_feed(backend.db, feed_id) or FEED_GONE


def feed_details(backend: Backend, feed_id: int) -> FeedDetails | Refusal:
    """One feed and its items per day; refused when it is gone."""
    feed = find_feed(backend, feed_id)
    if isinstance(feed, Refusal):
        return feed
    return FeedDetails(feed, stats.items_per_day(backend.db, feed.id, now=backend.clock()))


def pause_feed(
    backend: Backend, feeds: FeedAdministration, feed_id: int, *, paused: bool
) -> Feed | Refusal:
    """Pause a feed, or re-enable it (due at once, its errors forgotten)."""
    feed = find_feed(backend, feed_id)
    if isinstance(feed, Refusal):
        return feed
    feeds.set_paused(feed_id, paused)
    return _stored(backend, feed)


def delete_feed(backend: Backend, feeds: FeedAdministration, feed_id: int) -> Refusal | None:
    """Forget a feed and its articles; it drops out of every keyword's sources (a keyword left
    with none matches nothing, and /list says so)."""
    feed = find_feed(backend, feed_id)
    if isinstance(feed, Refusal):
        return feed
    feeds.delete(feed_id)
    backend.book.drop_feed(feed_id)
    return None


def set_fulltext(
    backend: Backend, feeds: FeedAdministration, feed_id: int, mode: str
) -> Feed | Refusal:
    """Whether a feed's new items are read from their pages: auto (when they are teasers), on
    or off; any other word is refused with the command's usage."""
    mode = mode.lower()
    if mode not in FULLTEXT_MODES:
        return Refusal("fulltext_usage")
    feed = find_feed(backend, feed_id)
    if isinstance(feed, Refusal):
        return feed
    feeds.set_fulltext(feed_id, mode)
    return _stored(backend, feed)


def next_fulltext(backend: Backend, feeds: FeedAdministration, feed_id: int) -> Feed | Refusal:
    """Turn a feed's full-text mode to the next one: auto → on → off → auto."""
    feed = find_feed(backend, feed_id)
    if isinstance(feed, Refusal):
        return feed
    feeds.set_fulltext(feed_id, FULLTEXT_NEXT.get(feed.fulltext, "auto"))
    return _stored(backend, feed)


def set_charset(
    backend: Backend, feeds: FeedAdministration, feed_id: int, value: str
) -> CharsetSet | Refusal:
    """Decode a feed that lies about its encoding with `value` from now on ("auto": detect it
    again); refused when Python knows no such codec."""
    feed = find_feed(backend, feed_id)
    if isinstance(feed, Refusal):
        return feed
    wanted = None if value.lower() in DETECT_CHARSET else value
    try:
        name = feeds.set_charset(feed_id, wanted)
    except feed_store.UnknownCharset:
        return Refusal("charset_unknown", {"charset": value})
    return CharsetSet(_stored(backend, feed), name)


def _stored(backend: Backend, feed: Feed) -> Feed:
    """The feed as stored after a change (as it was, should it be gone meanwhile)."""
    return feed_store.get_feed(backend.db, feed.id) or feed
