"""Plain data that flows through the pipeline; no behaviour beyond small helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from core.delivery_time import DeliveryMode, DeliveryPrefs, QuietMode

ChatType = Literal["private", "group", "supergroup", "channel"]
OutboxKind = Literal["alert", "broadcast", "notice"]
# owed: pending (due at not_before) or sending (claimed); settled: the rest
OutboxStatus = Literal["pending", "sending", "sent", "failed", "undeliverable", "cancelled"]
LinkPreview = Literal["off", "below", "above"]
LINK_PREVIEWS: tuple[LinkPreview, ...] = ("off", "below", "above")  # as stored: 0, 1, 2
EVERY_LANGUAGE = "*"  # the choice "all languages", as buttons, the Mini App and storage say it
ALL_LANGUAGES = frozenset({EVERY_LANGUAGE})  # a chat that wants articles in every language


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry as a feed gives it, before cleaning."""

    guid: str | None
    link: str | None
    title: str
    html: str  # the richest body the feed gives: content:encoded before description
    published: datetime | None = None  # timezone-aware UTC when the feed gives a date
    shortlink: str | None = None  # publisher's short link candidate (WordPress ?p=ID)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed body; `error` is set when the body is not a usable feed."""

    title: str = ""
    link: str | None = None
    items: list[FeedItem] = field(default_factory=list)
    error: str | None = None
    ttl_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat the bot talks to: a private chat, a group or a channel."""

    id: int
    type: ChatType = "private"
    title: str = ""
    language: str = "ar"
    article_languages: frozenset[str] = frozenset({"ar"})  # ISO codes, or ALL_LANGUAGES
    active: bool = True
    paused: bool = False
    banned: bool = False
    delivery_mode: DeliveryMode = "instant"
    digest_hour: int = 8
    timezone: str | None = None  # None: the DEFAULT_TIMEZONE setting
    quiet_start: int | None = None
    quiet_end: int | None = None
    quiet_mode: QuietMode = "silent"
    link_previews: LinkPreview = "off"  # off, or the article's preview below or above the text
    silent: bool = False
    linked_by: int | None = None  # a channel: the user who linked it
    managing_chat_id: int | None = None  # a private chat: the channel its commands act on

    def delivery(self, default_timezone: str) -> DeliveryPrefs:
        """The chat's delivery choices, its time zone resolved."""
        return DeliveryPrefs(
            mode=self.delivery_mode,
            digest_hour=self.digest_hour,
            timezone=self.timezone or default_timezone,
            quiet_start=self.quiet_start,
            quiet_end=self.quiet_end,
            quiet_mode=self.quiet_mode,
        )

    @property
    def is_group(self) -> bool:
        """Groups, supergroups and channels share Telegram's per-minute limit."""
        return self.type != "private"

    def wants_language(self, language: str) -> bool:
        """Whether alerts for an article in `language` go to this chat."""
        return self.article_languages == ALL_LANGUAGES or language in self.article_languages


@dataclass(frozen=True, slots=True)
class Subscription:
    """One keyword query a chat follows."""

    id: int
    chat_id: int
    keyword: str
    key: str
    paused: bool = False
    thread_id: int | None = None  # the forum topic its alerts go to (None: General)
    topic: str | None = None  # that topic's name, when known
    likes: int = 0  # 👍 on its alerts
    dislikes: int = 0  # 👎 on its alerts
    # Its own way (issue #31; core.keyword_ways): sources, pace, big stories only, surges.
    scoped: bool = False  # limited to some sources: the feeds ticked and those of `sites`
    sites: tuple[str, ...] = ()  # hosts typed as site: (www. dropped, lowercase)
    pace: DeliveryMode | None = None  # None: the chat's delivery mode
    min_outlets: int = 1  # 1: every story; 2-5: only stories that many outlets carry
    window_hours: int = 6  # within this many hours
    surges: bool | None = None  # None: the default for its pace (core.keyword_ways)


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed as stored, with its schedule and health."""

    id: int
    url: str
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    charset: str | None = None
    interval_seconds: float = 300.0
    next_check_at: float = 0.0
    last_checked_at: float | None = None
    last_success_at: float | None = None
    last_error: str | None = None
    error_count: int = 0
    disabled: bool = False
    primed: bool = False
    fulltext: str = "auto"  # whether new items' pages are fetched: auto, on, off
    page_status: str | None = None  # the latest page's result: "ok" or why not
    page_checked_at: float | None = None
    page_failures: int = 0  # pages that failed in a row
    page_backoff_until: float | None = None  # in auto, no page is tried before this


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned article ready to store and match."""

    item_key: str
    url: str
    title: str
    text: str
    language: str
    content_hash: str
    fingerprint: int | None = None
    published_at: float | None = None
    shortlink: str | None = None
    page: str | None = None  # the item's web page: None (not tried), "ok", or why it failed


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A message owed to a chat."""

    id: int
    chat_id: int
    kind: OutboxKind
    article_id: int | None
    broadcast_id: int | None
    keywords: tuple[str, ...]
    attempts: int
    created_at: float = 0.0
    text: str | None = None  # a notice's own text
    pace: DeliveryMode | None = None  # an alert's own pace (issue #31); None: the chat's mode
