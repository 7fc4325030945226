"""A chat's life with the bot: each time it speaks, its alerts paused and resumed, what is kept about it (/mydata),
everything forgotten (/stop), a group's move to a supergroup, and the bot removed."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Chat
from service.base import Backend, Refusal
from storage import bans as ban_store
from storage import chats as chat_store
from storage.chats import ChatData


def pause_alerts(backend: Backend, chat: Chat, paused: bool) -> Refusal | None:
    """Hold every alert of the chat until resumed (its keywords are kept), or send them again;
    a Refusal when it already was so."""
    if chat.paused == paused:
        return Refusal("already_paused" if paused else "not_paused")
    chat_store.set_chat_flags(backend.db, chat.id, paused=int(paused))
    return None


def my_data(backend: Backend, chat_id: int) -> ChatData:
    """Everything stored about the chat."""
    return chat_store.chat_data(backend.db, chat_id)


def forget(backend: Backend, chat_id: int, *, asked_from: int) -> None:
    """Delete everything about the chat: its settings, keywords (in the index too) and owed
    messages. `asked_from` is the chat the user asked in (the chat itself, or the private chat
    that manages a channel): it acts on itself again."""
    backend.book.remove_chat(chat_id)
    chat_store.delete_chat(backend.db, chat_id)
    if asked_from != chat_id:
        chat_store.set_chat_flags(backend.db, asked_from, managing_chat_id=None)


def migrate(backend: Backend, old_id: int, new_id: int) -> None:
    """A group became a supergroup: its keywords, owed messages and ban move to the new id
    (only its ban when the bot keeps nothing else about it)."""
    if chat_store.get_chat(backend.db, old_id) is None:
        ban_store.carry(backend.db, old_id, new_id)
        return
    chat_store.migrate_chat(backend.db, old_id, new_id, backend.clock())
    backend.book.move_chat(old_id, new_id)


def bot_removed(backend: Backend, chat_id: int, reason: str) -> None:
    """The bot was blocked or removed: nothing is sent to the chat (what it owes is dropped)
    until it writes again; its keywords are kept."""
    if chat_store.get_chat(backend.db, chat_id) is not None:
        chat_store.deactivate_chat(backend.db, chat_id, reason, backend.clock())


def own_chat(backend: Backend, user_id: int, language: str) -> Chat:
    """A user's private chat as the bot knows it, made on a first visit (the Mini App): a visit
    neither brings back a chat Telegram said is gone nor changes what the chat recorded."""
    return chat_store.get_chat(backend.db, user_id) or chat_store.touch_chat(
        backend.db, user_id, type="private", title="", language=language, now=backend.clock()
    )


@dataclass(frozen=True)
class Speaker:
    """A chat that has just spoken to the bot, and the chat its commands act on: itself, or the
    channel it manages when the one speaking linked it."""

    chat: Chat
    target: Chat


def spoke(
    backend: Backend, chat_id: int, *, type: str, title: str, language: str, user_id: int | None
) -> Speaker:
    """Record that a chat spoke (a chat that writes is active again): once per update."""
    chat = chat_store.touch_chat(
        backend.db, chat_id, type=type, title=title, language=language, now=backend.clock()
    )
    return acting_on(backend, chat, user_id)


def acting_on(backend: Backend, chat: Chat, user_id: int | None) -> Speaker:
    """The chat the commands act on: the channel `chat` manages when this user linked it."""
    if chat.managing_chat_id is not None and user_id is not None:
        channel = chat_store.get_chat(backend.db, chat.managing_chat_id)
        if channel is not None and channel.linked_by == user_id:
            return Speaker(chat, channel)
    return Speaker(chat, chat)


def as_stored(backend: Backend, chat: Chat, user_id: int | None) -> Speaker:
    """The speaker again from the stored chat (read, not written), after a change of target."""
    return acting_on(backend, chat_store.get_chat(backend.db, chat.id) or chat, user_id)


def topic_name(backend: Backend, chat_id: int, thread_id: int) -> str | None:
    """A forum topic's name, when the bot has seen it."""
    return chat_store.topic_name(backend.db, chat_id, thread_id)
