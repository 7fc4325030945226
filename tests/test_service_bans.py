"""service.bans: /ban and /unban, and what becomes of a banned chat's updates."""

from __future__ import annotations

import pytest

from core.settings import load_settings
from core.subscriptions import SubscriptionBook
from service import bans
from service.bans import Admission
from service.base import Backend, Refusal

NOW = 1_700_000_000.0
ADMIN = 900


@pytest.fixture
def backend(db):
    return Backend(db, SubscriptionBook(), load_settings({"ADMIN_IDS": str(ADMIN)}), lambda: NOW)


def stored_bans(backend):
    return backend.db.execute(
        "SELECT chat_id, banned_by, created_at, told_at FROM bans ORDER BY chat_id"
    ).fetchall()


def test_a_ban_is_kept_once_and_never_for_an_admin(backend):
    answers = [
        bans.ban(backend, 111, banned_by=ADMIN),
        bans.ban(backend, 111, banned_by=ADMIN),  # banned already
        bans.ban(backend, -4_000_000_001, banned_by=ADMIN),  # a group the bot never met
        bans.ban(backend, ADMIN, banned_by=ADMIN),
    ]
    assert answers == [True, False, True, Refusal("ban_admin_refused", {"chat_id": ADMIN})]
    assert stored_bans(backend) == [(-4_000_000_001, ADMIN, NOW, None), (111, ADMIN, NOW, None)]


def test_unban_lifts_a_ban_once(backend):
    bans.ban(backend, 111, banned_by=ADMIN)
    assert [bans.unban(backend, 111), bans.unban(backend, 111), bans.unban(backend, 7)] == [
        True,
        False,
        False,
    ]
    assert stored_bans(backend) == []


def test_a_banned_chat_or_user_is_told_once_then_ignored(backend):
    bans.ban(backend, 111, banned_by=ADMIN)
    seen = [
        bans.admission(backend, [222, 333]),  # neither is banned
        bans.admission(backend, [-100, 111]),  # a banned user writing in a group
        bans.admission(backend, [111, 111]),  # their own chat: told already
        bans.admission(backend, []),
    ]
    assert seen == [Admission.WELCOME, Admission.TELL, Admission.IGNORE, Admission.WELCOME]
    assert stored_bans(backend) == [(111, ADMIN, NOW, NOW)]
    bans.unban(backend, 111)
    assert bans.admission(backend, [111]) is Admission.WELCOME
