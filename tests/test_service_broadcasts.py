"""service.broadcasts: a notice is queued as a draft, confirmed once to every chat that receives
messages (or discarded), and cancelled while it is being sent."""

from __future__ import annotations

import pytest

from core.settings import load_settings
from core.subscriptions import SubscriptionBook
from service import bans, broadcasts
from service.base import Backend
from service.broadcasts import Draft
from storage import chats, outbox
from storage.outbox import Broadcast

NOW = 1_700_000_000.0
ADMIN = 900
ACTIVE, ALSO_ACTIVE, BLOCKED, BANNED = 101, 102, 103, 104


@pytest.fixture
def backend(db):
    backend = Backend(db, SubscriptionBook(), load_settings({"ADMIN_IDS": str(ADMIN)}), lambda: NOW)
    for chat_id in (ACTIVE, ALSO_ACTIVE, BLOCKED, BANNED):
        chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
    chats.deactivate_chat(db, BLOCKED, "bot blocked", 2)
    bans.ban(backend, BANNED, banned_by=ADMIN)
    return backend


def queue(backend, text="تنبيه للجميع", message_id=50):
    return broadcasts.queue_broadcast(
        backend, text, created_by=ADMIN, source_chat_id=ADMIN, source_message_id=message_id
    )


def owed(backend):
    return backend.db.execute(
        "SELECT chat_id, kind, broadcast_id, status FROM outbox ORDER BY id"
    ).fetchall()


def test_a_draft_reaches_only_chats_that_receive_messages_once_confirmed(backend):
    assert queue(backend) == Draft(1, 2)
    assert queue(backend) is None  # the same /broadcast delivered again after a restart
    assert owed(backend) == []  # a draft owes nothing yet
    confirmed = broadcasts.confirm_broadcast(
        backend, 1, silent=True, progress_chat_id=ADMIN, progress_message_id=51
    )
    again = broadcasts.confirm_broadcast(
        backend, 1, silent=False, progress_chat_id=ADMIN, progress_message_id=51
    )
    assert (confirmed, again) == (2, None)  # the second press does nothing
    assert owed(backend) == [
        (ACTIVE, "broadcast", 1, "pending"),
        (ALSO_ACTIVE, "broadcast", 1, "pending"),
    ]
    assert outbox.get_broadcast(backend.db, 1) == Broadcast(
        1, "تنبيه للجميع", "sending", True, ADMIN, ADMIN, 51, NOW
    )


def test_a_draft_is_discarded_once_and_a_sent_one_not_at_all(backend):
    queue(backend, message_id=50)
    queue(backend, message_id=60)
    broadcasts.confirm_broadcast(
        backend, 2, silent=False, progress_chat_id=ADMIN, progress_message_id=61
    )
    assert [
        broadcasts.discard_draft(backend, 1),
        broadcasts.discard_draft(backend, 1),
        broadcasts.discard_draft(backend, 2),  # being sent: /broadcast_cancel stops it
    ] == [True, False, False]
    stored = [outbox.get_broadcast(backend.db, i) for i in (1, 2)]
    assert [(b.id, b.status) for b in stored] == [(1, "cancelled"), (2, "sending")]


def test_cancelling_stops_what_is_not_sent_yet(backend):
    assert broadcasts.cancel_broadcasts(backend) == []  # nothing being sent
    queue(backend)
    broadcasts.confirm_broadcast(
        backend, 1, silent=False, progress_chat_id=ADMIN, progress_message_id=51
    )
    assert broadcasts.cancel_broadcasts(backend) == [1]
    assert owed(backend) == [
        (ACTIVE, "broadcast", 1, "cancelled"),
        (ALSO_ACTIVE, "broadcast", 1, "cancelled"),
    ]
    assert outbox.get_broadcast(backend.db, 1).status == "cancelled"
