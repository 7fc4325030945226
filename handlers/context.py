"""What handlers need from the rest of the bot, wired once by app.bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telegram.ext import Application, CallbackContext, ExtBot

from core.flood import FloodGuard
from core.i18n import Catalog
from core.models import Chat
from core.render import plain_text
from handlers.jobs import BackgroundJobs
from service.base import Backend, Refusal
from service.feeds import FeedAdministration
from service.trials import Trials


@dataclass
class Services:
    """Shared objects for handlers (application.bot_data.services)."""

    backend: Backend  # what the use cases (service/) work on: database, index, settings, clock
    catalog: Catalog
    feeds: FeedAdministration
    wake_sender: Callable[[], None]
    jobs: BackgroundJobs = field(default_factory=BackgroundJobs)  # /addfeed, OPML import
    trials: Trials = field(default_factory=Trials)  # /test's cooldowns, slots and counters
    inline_latest: dict[int, str] = field(default_factory=dict)  # user -> newest inline query
    inline_running: set[int] = field(default_factory=set)  # users whose search is running


class BotData:
    """What application.bot_data holds (python-telegram-bot makes one with no arguments; the
    composition root sets `services` before the first update)."""

    services: Services

    def __init__(self) -> None:
        self.flood = FloodGuard()  # per chat and sender: see handlers.common.flood_guard
        # (channel, user) -> when their channel rights were last confirmed
        self.channel_rights: dict[tuple[int, int], float] = {}


_BotData = TypeVar("_BotData", bound=BotData)


@dataclass(frozen=True)
class Turn:
    """One update as handlers see it: the conversation, the chat it acts on, the language."""

    svc: Services
    chat: Chat  # where the conversation happens
    target: Chat  # whose keywords and settings change: the chat itself, or a linked channel
    language: str

    def text(self, message_id: str, /, **params: object) -> str:
        """A catalog message in this turn's language."""
        return self.svc.catalog.text(self.language, message_id, **params)

    def label(self, message_id: str, /, **params: object) -> str:
        """A catalog message as plain text, for a button's label: user text in it shows as
        typed (only what is sent as HTML is escaped)."""
        return plain_text(self.text(message_id, **params))

    def refused(self, refusal: Refusal) -> str:
        """Why a use case did nothing, in this turn's language."""
        return self.svc.catalog.refusal(self.language, refusal)

    def about_target(self, text: str) -> str:
        """Say which channel an answer is about when the commands act on one."""
        if self.target.id == self.chat.id:
            return text
        return self.text("managing", title=self.target.title) + "\n" + text


class TurnContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], _BotData]):
    """python-telegram-bot's context of one update (one object for all its handler groups),
    with the turn recorded for it (see handlers.common.record_turn); registered through
    ContextTypes where the Application is built."""

    __slots__ = ("turn",)

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self.turn: Turn | None = None


Context = TurnContext[BotData]  # what handlers are given (the running bot's bot_data is more)


def services(context: Context) -> Services:
    """The Services object of the running application."""
    return context.bot_data.services
