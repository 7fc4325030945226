"""A keyword's own ways (issue #31, core.keyword_ways): its pace, big stories only, surge
notices. Sources (feeds ticked, site: hosts) are service.sources'. Each change is stored and
the live book told at once."""

from __future__ import annotations

from core.keyword_ways import PACES, WINDOWS_HOURS, pace_of, row_pace, valid_outlets
from core.models import Subscription
from service.base import Backend, Refusal
from storage import chats as chat_store
from storage import outbox

PACE_CHOICES = (*PACES, "chat")  # "chat": the chat's own delivery mode


def keyword(backend: Backend, chat_id: int, sub_id: int) -> Subscription | None:
    """One of the chat's keywords by id; None if not its."""
    return chat_store.subscription(backend.db, chat_id, sub_id)


def set_pace(
    backend: Backend, chat_id: int, sub_id: int, pace: str
) -> Subscription | Refusal | None:
    """Send a keyword's stories at once, hourly or daily ("chat": as the chat's mode says),
    those already owed too."""
    if pace not in PACE_CHOICES:
        return Refusal("way_bad_pace", {"value": pace[:20]})
    changed = _changed(backend, chat_id, sub_id, pace=None if pace == "chat" else pace)
    if changed is not None:
        _repace_owed(backend, chat_id)
    return changed


def _repace_owed(backend: Backend, chat_id: int) -> None:
    """The chat's owed alerts go at the fastest pace of their keywords as they are now: a
    story held for a digest goes at once when its keyword is sent at once from now on."""
    chat = chat_store.get_chat(backend.db, chat_id)
    if chat is None:
        return
    mode = chat.delivery_mode
    own = {s.keyword: pace_of(s, mode) for s in chat_store.chat_subscriptions(backend.db, chat_id)}
    for row_id, keywords, was in outbox.pending_alert_paces(backend.db, chat_id):
        stored = row_pace((own.get(keyword, mode) for keyword in keywords), mode)
        if stored != was:
            outbox.set_pace(backend.db, row_id, stored)


def set_big_stories(
    backend: Backend, chat_id: int, sub_id: int, outlets: int, window_hours: int | None = None
) -> Subscription | Refusal | None:
    """Alert a keyword's stories only once `outlets` outlets (2-5) carry them within
    `window_hours` (kept as it was when None); 1 alerts every story again."""
    if not valid_outlets(outlets):
        return Refusal("way_bad_outlets", {"value": outlets})
    if window_hours is not None and window_hours not in WINDOWS_HOURS:
        return Refusal("way_bad_window", {"value": window_hours})
    ways: dict[str, object] = {"min_outlets": outlets}
    if window_hours is not None:
        ways["window_hours"] = window_hours
    return _changed(backend, chat_id, sub_id, **ways)


def set_surges(backend: Backend, chat_id: int, sub_id: int, on: bool | None) -> Subscription | None:
    """Turn a keyword's surge notices on or off (None: the default for its pace)."""
    return _changed(backend, chat_id, sub_id, surges=on)


def _changed(backend: Backend, chat_id: int, sub_id: int, **ways: object) -> Subscription | None:
    """Store some of a keyword's ways and tell the book; the keyword now, None if not the chat's."""
    sub = chat_store.set_subscription_ways(backend.db, chat_id, sub_id, **ways)
    if sub is not None:
        backend.book.set_ways(sub)
    return sub
