"""What handlers need from the rest of the bot, wired once in bot.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from telegram.ext import ContextTypes

from core.i18n import Catalog
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from handlers.jobs import BackgroundJobs
from handlers.trial import Trials
from storage.db import Database


class FeedAdded(Protocol):
    """The answer of the feed adder (see delivery.poll.AddFeedResult, a frozen dataclass)."""

    @property
    def feed_id(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def item_count(self) -> int: ...
    @property
    def error(self) -> str | None: ...
    @property
    def already(self) -> bool: ...


class FeedsImported(Protocol):
    """The answer of the OPML importer (see delivery.poll.ImportReport, a dataclass)."""

    @property
    def added(self) -> list[tuple[str, str]]: ...  # (url, title)
    @property
    def already(self) -> list[str]: ...
    @property
    def failed(self) -> list[tuple[str, str]]: ...  # (url, reason)
    @property
    def error(self) -> str | None: ...


@dataclass
class Services:
    """Shared objects for handlers; stored in application.bot_data["services"]."""

    db: Database
    settings: Settings
    catalog: Catalog
    book: SubscriptionBook
    clock: Callable[[], float]
    add_feed: Callable[..., Awaitable[FeedAdded]]
    wake_sender: Callable[[], None]
    import_opml: Callable[..., Awaitable[FeedsImported]]
    export_opml: Callable[[], bytes]
    jobs: BackgroundJobs  # long admin work: /addfeed, OPML import
    trials: Trials = field(default_factory=Trials)  # /test's cooldowns, slots and counters


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The Services object of the running application."""
    return context.application.bot_data["services"]
