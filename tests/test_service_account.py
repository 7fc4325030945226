"""service.account: a chat's alerts paused, its data shown and forgotten, its move to a
supergroup and the bot's removal, on a real database and the live index."""

from __future__ import annotations

import dataclasses

import pytest

from core.models import Chat, Subscription
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from service import account, channels, keywords
from service.base import Backend, Refusal
from storage import bans as ban_store
from storage import chats as chat_store
from storage import feeds as feed_store

NOW = 1_800_000_000.0
CHAT = 111
GROUP = -100
SUPERGROUP = -1_001_000_000_100
CHANNEL = -1_002_000_000_000


@pytest.fixture
def backend(db) -> Backend:
    chat_store.touch_chat(db, CHAT, type="private", title="سارة", language="ar", now=NOW)
    return Backend(db, SubscriptionBook(), Settings(), lambda: NOW)


def stored(backend: Backend, chat_id: int = CHAT) -> Chat | None:
    return chat_store.get_chat(backend.db, chat_id)


def follow(backend: Backend, chat_id: int, raw: str) -> Subscription:
    chat = stored(backend, chat_id)
    assert chat is not None
    added = keywords.add_keyword(backend, chat, raw)
    assert isinstance(added, Subscription)
    return added


def test_alerts_are_paused_and_resumed_once_each(backend):
    chat = stored(backend)
    assert chat is not None
    assert account.pause_alerts(backend, chat, True) is None
    paused = stored(backend)
    assert paused == dataclasses.replace(chat, paused=True)
    assert account.pause_alerts(backend, paused, True) == Refusal("already_paused")
    assert account.pause_alerts(backend, paused, False) is None
    assert stored(backend) == chat
    assert account.pause_alerts(backend, chat, False) == Refusal("not_paused")


def test_my_data_is_everything_kept_about_the_chat(backend):
    follow(backend, CHAT, "الرباط")
    follow(backend, CHAT, "غزة")
    channels.link(backend, CHAT, CHANNEL, title="قناتي", language="ar", user_id=CHAT)
    feed_store.add_feed(
        backend.db, "http://x.example/feed", title="أخبار", interval_seconds=300, now=NOW,
        added_by=CHAT,
    )  # fmt: skip
    data = account.my_data(backend, CHAT)
    assert data["chat"] is not None
    assert (data["chat"]["id"], data["chat"]["title"]) == (CHAT, "سارة")
    assert {key: value for key, value in data.items() if key != "chat"} == {
        "keywords": ["الرباط", "غزة"],
        "messages_sent": 0,
        "messages_owed": 0,
        "channels_linked": ["قناتي"],
        "feeds_added": 1,
        "broadcasts_sent": 0,
    }


def test_a_forgotten_chat_keeps_nothing_and_matches_nothing(backend):
    follow(backend, CHAT, "الرباط")
    account.forget(backend, CHAT, asked_from=CHAT)
    assert stored(backend) is None
    assert keywords.keywords(backend, CHAT) == []
    assert backend.book.match("زيارة إلى الرباط") == {}


def test_a_channel_forgotten_from_the_chat_that_manages_it(backend):
    channels.link(backend, CHAT, CHANNEL, title="قناتي", language="ar", user_id=CHAT)
    follow(backend, CHANNEL, "الرباط")
    follow(backend, CHAT, "غزة")
    account.forget(backend, CHANNEL, asked_from=CHAT)
    assert stored(backend, CHANNEL) is None
    manager = stored(backend)
    assert manager is not None
    assert manager.managing_chat_id is None  # the chat acts on itself again
    assert backend.book.match("الرباط وغزة") == {CHAT: ["غزة"]}


def test_a_group_that_becomes_a_supergroup_takes_its_keywords_along(backend):
    chat_store.touch_chat(backend.db, GROUP, type="group", title="مجموعة", language="ar", now=NOW)
    added = follow(backend, GROUP, "الرباط")
    account.migrate(backend, GROUP, SUPERGROUP)
    assert stored(backend, GROUP) is None
    moved = stored(backend, SUPERGROUP)
    assert moved is not None
    assert (moved.type, moved.title) == ("supergroup", "مجموعة")
    assert keywords.keywords(backend, SUPERGROUP) == [
        dataclasses.replace(added, chat_id=SUPERGROUP)
    ]
    assert backend.book.match("زيارة إلى الرباط") == {SUPERGROUP: ["الرباط"]}


def test_an_unknown_banned_group_stays_banned_under_its_new_id(backend):
    ban_store.ban(backend.db, GROUP, banned_by=900, now=NOW)
    account.migrate(backend, GROUP, SUPERGROUP)
    assert ban_store.banned_among(backend.db, [SUPERGROUP]) == SUPERGROUP
    assert stored(backend, SUPERGROUP) is None  # nothing else is made up for it


def test_a_chat_that_removed_the_bot_is_inactive_with_its_keywords_kept(backend):
    added = follow(backend, CHAT, "الرباط")
    account.bot_removed(backend, CHAT, "bot kicked")
    gone = stored(backend)
    assert gone is not None
    assert gone.active is False
    assert keywords.keywords(backend, CHAT) == [added]
    account.bot_removed(backend, 999, "bot kicked")
    assert stored(backend, 999) is None  # a chat never seen is not recorded


def test_a_first_visit_makes_the_user_s_chat_and_a_later_one_changes_nothing(backend):
    made = account.own_chat(backend, 333, "en")
    assert made == Chat(333, language="en")
    assert stored(backend, 333) == made
    account.bot_removed(backend, CHAT, "bot blocked")
    gone = stored(backend)
    assert account.own_chat(backend, CHAT, "en") == gone  # still inactive, still Arabic


def test_a_chat_that_speaks_is_recorded_and_acts_on_the_channel_its_speaker_linked(backend):
    chat_store.touch_chat(backend.db, CHANNEL, type="channel", title="قناة", language="ar", now=NOW)
    chat_store.set_chat_flags(backend.db, CHANNEL, linked_by=CHAT)
    chat_store.set_chat_flags(backend.db, CHAT, managing_chat_id=CHANNEL)

    speaker = account.spoke(
        backend, CHAT, type="private", title="سارة", language="ar", user_id=CHAT
    )
    assert (speaker.chat.id, speaker.target.id) == (CHAT, CHANNEL)
    assert speaker.target.title == "قناة"
    # Anyone else writing in that chat acts on the chat itself, never on the channel.
    other = account.spoke(backend, CHAT, type="private", title="سارة", language="ar", user_id=7)
    assert (other.chat.id, other.target.id) == (CHAT, CHAT)


def test_a_new_chat_is_created_active_when_it_first_speaks(backend):
    speaker = account.spoke(backend, GROUP, type="group", title="نادي", language="en", user_id=5)
    assert speaker.chat == speaker.target
    assert (speaker.chat.id, speaker.chat.type, speaker.chat.title) == (GROUP, "group", "نادي")
    assert stored(backend, GROUP) == speaker.chat
