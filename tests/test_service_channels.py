"""service.channels: a channel linked by its administrator, and which chat the commands of
their private chat act on."""

from __future__ import annotations

import pytest

from core.models import Chat
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from service import channels
from service.base import Backend
from storage import chats as chat_store

NOW = 1_800_000_000.0
USER = 111
OTHER = 222
NEWS = -1_001_000_000_001
SPORT = -1_001_000_000_002


@pytest.fixture
def backend(db) -> Backend:
    for user in (USER, OTHER):
        chat_store.touch_chat(db, user, type="private", title="", language="ar", now=NOW)
    return Backend(db, SubscriptionBook(), Settings(), lambda: NOW)


def managing(backend: Backend, chat_id: int = USER) -> int | None:
    chat = chat_store.get_chat(backend.db, chat_id)
    assert chat is not None
    return chat.managing_chat_id


def test_a_linked_channel_is_recorded_and_managed_from_the_user_s_chat(backend):
    channel = channels.link(backend, USER, NEWS, title="أخبار", language="en", user_id=USER)
    assert channel == Chat(NEWS, type="channel", title="أخبار", language="en", linked_by=USER)
    assert channels.linked(backend, USER) == [channel]
    assert managing(backend) == NEWS


def test_the_commands_switch_between_the_user_s_channels_and_their_own_chat(backend):
    channels.link(backend, USER, NEWS, title="أخبار", language="ar", user_id=USER)
    channels.link(backend, USER, SPORT, title="رياضة", language="ar", user_id=USER)
    assert [c.id for c in channels.linked(backend, USER)] == [SPORT, NEWS]  # by id
    assert managing(backend) == SPORT
    switched = channels.switch(backend, USER, USER, str(NEWS))
    assert switched is not None
    assert (switched.id, managing(backend)) == (NEWS, NEWS)
    assert channels.switch(backend, USER, USER, "off") is None
    assert managing(backend) is None


@pytest.mark.parametrize("value", ["", "abc", str(NEWS), str(-NEWS), "off"])
def test_another_user_s_channel_or_garbage_switches_back_to_the_own_chat(backend, value):
    channels.link(backend, USER, NEWS, title="أخبار", language="ar", user_id=USER)
    channels.link(backend, OTHER, SPORT, title="رياضة", language="ar", user_id=OTHER)
    assert channels.switch(backend, OTHER, OTHER, value) is None
    assert managing(backend, OTHER) is None
    assert managing(backend, USER) == NEWS  # the channel's own admin is unaffected


def test_an_unlinked_channel_is_no_one_s_and_the_chat_acts_on_itself(backend):
    channels.link(backend, USER, NEWS, title="أخبار", language="ar", user_id=USER)
    channels.unlink(backend, USER, NEWS)
    assert channels.linked(backend, USER) == []
    assert managing(backend) is None
    channels.link(backend, USER, NEWS, title="أخبار", language="ar", user_id=USER)
    channels.manage_own(backend, USER)
    assert (managing(backend), [c.id for c in channels.linked(backend, USER)]) == (None, [NEWS])
