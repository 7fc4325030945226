"""Bans: a banned chat or user gets no alerts and no answers, after one polite notice."""

from __future__ import annotations

from enum import Enum

from service.base import Backend, Refusal
from storage import bans as ban_store


class Admission(Enum):
    """What becomes of an update from these chat and user ids."""

    WELCOME = "welcome"  # none of them is banned
    TELL = "tell"  # banned: told so now, the first time since the ban
    IGNORE = "ignore"  # banned, and told already


def ban(backend: Backend, chat_id: int, *, banned_by: int) -> bool | Refusal:
    """Ban a chat or user, met or not: whether it changed anything (False: banned already);
    the bot's own admins are refused."""
    if chat_id in backend.settings.admin_ids:
        return Refusal("ban_admin_refused", {"chat_id": chat_id})
    return ban_store.ban(backend.db, chat_id, banned_by=banned_by, now=backend.clock())


def unban(backend: Backend, chat_id: int) -> bool:
    """Lift a ban; False when there was none."""
    return ban_store.unban(backend.db, chat_id)


def admission(backend: Backend, ids: list[int]) -> Admission:
    """Whether an update from these chat and user ids is handled, answered once, or ignored."""
    banned = ban_store.banned_among(backend.db, ids)
    if banned is None:
        return Admission.WELCOME
    if ban_store.tell_once(backend.db, banned, backend.clock()):
        return Admission.TELL
    return Admission.IGNORE
