"""Small helpers every handler uses: who is talking, in which language, and replying."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ContextTypes

from core.i18n import pick_language
from core.models import Chat
from handlers.services import Services, services
from storage import chats as chat_store

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


@dataclass(frozen=True)
class Turn:
    """One update as handlers see it: the services, the chat, and the reply language."""

    svc: Services
    chat: Chat
    language: str

    def text(self, message_id: str, /, **params: object) -> str:
        """A catalog message in this turn's language."""
        return self.svc.catalog.text(self.language, message_id, **params)


def turn(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Turn:
    """Record the chat (a chat that writes is active again) and pick the reply language."""
    svc = services(context)
    tg_chat = update.effective_chat
    user = update.effective_user
    language = pick_language(user.language_code if user else None)
    title = tg_chat.title or tg_chat.full_name or tg_chat.username or ""
    chat = chat_store.touch_chat(
        svc.db, tg_chat.id, type=tg_chat.type, title=title, language=language, now=svc.clock()
    )
    return Turn(svc, chat, language)


def command_argument(update: Update) -> str:
    """Everything after the command word, newlines kept (context.args loses them)."""
    text = update.effective_message.text or ""
    _, _, rest = text.partition(" ") if " " in text.split("\n", 1)[0] else text.partition("\n")
    return rest.strip()


async def reply(update: Update, text: str, **kwargs: object) -> None:
    """Answer in the chat the update came from."""
    await update.effective_message.reply_text(text, **kwargs)


def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the sender is one of the bot's admins (ADMIN_IDS)."""
    user = update.effective_user
    return user is not None and user.id in services(context).settings.admin_ids


def admin_only(handler: Handler) -> Handler:
    """Refuse politely unless the sender is a bot admin."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not is_admin(update, context):
            t = turn(update, context)
            await reply(update, t.text("admin_only"))
            return
        await handler(update, context)

    guarded.admin_only = True  # type: ignore[attr-defined]
    return guarded
