"""Admin notices to every chat: queued as a draft, confirmed (or discarded) with a button, and
cancelled while they are being sent. The outbox sends them (delivery.broadcasts)."""

from __future__ import annotations

from dataclasses import dataclass

from service.base import Backend
from storage import chats as chat_store
from storage import outbox


@dataclass(frozen=True)
class Draft:
    """A notice waiting for its admin's confirmation, and how many chats it would reach now."""

    broadcast_id: int
    audience: int


def queue_broadcast(
    backend: Backend, text: str, *, created_by: int, source_chat_id: int, source_message_id: int
) -> Draft | None:
    """Keep `text` as a draft to confirm; None when the message that asked for it was queued
    already (the same update delivered again after a restart)."""
    created = outbox.create_broadcast(
        backend.db,
        text,
        created_by=created_by,
        source_chat_id=source_chat_id,
        source_message_id=source_message_id,
        now=backend.clock(),
        draft=True,
    )
    if created is None:
        return None
    return Draft(created[0], len(chat_store.active_chat_ids(backend.db)))


def confirm_broadcast(
    backend: Backend,
    broadcast_id: int,
    *,
    silent: bool,
    progress_chat_id: int,
    progress_message_id: int,
) -> int | None:
    """Owe a draft to every chat that receives messages, its progress shown on that message:
    how many chats; None when it was no longer a draft (a second press)."""
    return outbox.start_broadcast(
        backend.db,
        broadcast_id,
        chat_ids=chat_store.active_chat_ids(backend.db),
        silent=silent,
        progress_chat_id=progress_chat_id,
        progress_message_id=progress_message_id,
        now=backend.clock(),
    )


def discard_draft(backend: Backend, broadcast_id: int) -> bool:
    """Drop a draft before it is sent; False when it was not one any more."""
    return outbox.discard_draft(backend.db, broadcast_id, backend.clock())


def cancel_broadcasts(backend: Backend) -> list[int]:
    """Stop every notice being sent (what is not sent yet never is); the ones stopped."""
    return outbox.cancel_broadcasts(backend.db, backend.clock())
