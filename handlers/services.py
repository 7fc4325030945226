"""What handlers need from the rest of the bot, wired once in bot.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from telegram.ext import ContextTypes

from core.i18n import Catalog
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from storage.db import Database


class FeedAdded(Protocol):
    """The answer of the feed adder (see delivery.poll.AddFeedResult)."""

    feed_id: int | None
    title: str
    item_count: int
    error: str | None
    already: bool


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
    import_opml: Callable[..., Awaitable[Any]]  # delivery.poll.ImportReport
    export_opml: Callable[[], bytes]


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The Services object of the running application."""
    return context.application.bot_data["services"]
