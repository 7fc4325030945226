"""Channels managed from a private chat: linked by an administrator of the channel (Telegram
is asked who administers it before `link`), then chosen as the chat the commands act on."""

from __future__ import annotations

import dataclasses

from core.models import Chat
from service.base import Backend
from storage import chats as chat_store


def link(
    backend: Backend, chat_id: int, channel_id: int, *, title: str, language: str, user_id: int
) -> Chat:
    """Remember the channel as linked by `user_id`, whose private chat `chat_id` now acts on
    it; the channel."""
    channel = chat_store.touch_chat(
        backend.db, channel_id, type="channel", title=title, language=language, now=backend.clock()
    )
    chat_store.set_chat_flags(backend.db, channel_id, linked_by=user_id)
    chat_store.set_chat_flags(backend.db, chat_id, managing_chat_id=channel_id)
    return dataclasses.replace(channel, linked_by=user_id)


def unlink(backend: Backend, chat_id: int, channel_id: int) -> None:
    """The user no longer administers the channel (or the bot may no longer post there): it is
    no one's to manage, and their chat acts on itself again."""
    chat_store.set_chat_flags(backend.db, channel_id, linked_by=None)
    manage_own(backend, chat_id)


def linked(backend: Backend, user_id: int) -> list[Chat]:
    """The channels a user linked."""
    return chat_store.linked_channels(backend.db, user_id)


def switch(backend: Backend, chat_id: int, user_id: int, channel: str) -> Chat | None:
    """Make the commands of the user's chat act on one of the channels they linked (named by
    its id, as text); the channel, or None when `channel` is not one of theirs ("off", another
    user's, garbage): then the chat acts on itself."""
    target = next((c for c in linked(backend, user_id) if str(c.id) == channel), None)
    chat_store.set_chat_flags(
        backend.db, chat_id, managing_chat_id=target.id if target is not None else None
    )
    return target


def manage_own(backend: Backend, chat_id: int) -> None:
    """The chat's commands act on the chat itself again (/channel off)."""
    chat_store.set_chat_flags(backend.db, chat_id, managing_chat_id=None)
