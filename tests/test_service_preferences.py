"""service.preferences: one validator for a chat's settings, whether a /settings button, a
command or the Mini App asks."""

from __future__ import annotations

import dataclasses

import pytest

from core.delivery_time import is_valid_timezone
from core.models import ALL_LANGUAGES, Chat
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from service import preferences
from service.base import Backend, Refusal
from service.preferences import SettingRefused
from storage import chats as chat_store

NOW = 1_800_000_000.0
CHAT = 111
DEFAULTS = {
    "delivery_mode": "instant",
    "digest_hour": 8,
    "quiet_start": None,
    "quiet_end": None,
    "quiet_mode": "silent",
    "timezone": "UTC",
    "link_previews": "off",
    "silent": False,
    "article_languages": ["ar"],
}


@pytest.fixture
def backend(db) -> Backend:
    chat_store.touch_chat(db, CHAT, type="private", title="", language="ar", now=NOW)
    return Backend(db, SubscriptionBook(), Settings(), lambda: NOW)


@pytest.mark.parametrize(
    ("wanted", "flags"),
    [
        ({}, {}),
        ({"delivery_mode": "daily"}, {"delivery_mode": "daily"}),
        ({"digest_hour": 0}, {"digest_hour": 0}),
        ({"digest_hour": 23}, {"digest_hour": 23}),
        ({"quiet_start": 22, "quiet_end": 7}, {"quiet_start": 22, "quiet_end": 7}),
        ({"quiet_start": None, "quiet_end": None}, {"quiet_start": None, "quiet_end": None}),
        ({"quiet_start": None}, {"quiet_start": None, "quiet_end": None}),  # quiet hours off
        ({"quiet_mode": "hold"}, {"quiet_mode": "hold"}),
        ({"timezone": "Africa/Cairo"}, {"timezone": "Africa/Cairo"}),
        ({"link_previews": "off"}, {"link_previews": 0}),
        ({"link_previews": "below"}, {"link_previews": 1}),
        ({"link_previews": "above"}, {"link_previews": 2}),
        ({"silent": True}, {"silent": 1}),
        ({"silent": False}, {"silent": 0}),
        ({"article_languages": ["ar", "fr"]}, {"article_languages": frozenset({"ar", "fr"})}),
        ({"article_languages": ["*"]}, {"article_languages": ALL_LANGUAGES}),
        ({"article_languages": ["en", "*"]}, {"article_languages": ALL_LANGUAGES}),
        ({"unknown": 1}, {}),  # a field the bot does not know is left out
    ],
)
def test_settings_the_bot_takes(wanted, flags):
    assert preferences.checked(wanted) == flags


@pytest.mark.parametrize(
    ("wanted", "field"),
    [
        ({"delivery_mode": "x"}, "delivery_mode"),
        ({"delivery_mode": None}, "delivery_mode"),
        ({"digest_hour": 24}, "digest_hour"),
        ({"digest_hour": -1}, "digest_hour"),
        ({"digest_hour": True}, "digest_hour"),  # a bool is an int in Python, not an hour
        ({"digest_hour": "8"}, "digest_hour"),
        ({"digest_hour": None}, "digest_hour"),
        ({"quiet_start": 3}, "quiet_end"),  # one end only
        ({"quiet_end": 3}, "quiet_end"),
        ({"quiet_start": 5, "quiet_end": 5}, "quiet_end"),  # no hours between
        ({"quiet_start": 24, "quiet_end": 6}, "quiet_start"),
        ({"quiet_mode": "loud"}, "quiet_mode"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "Asia"}, "timezone"),
        ({"timezone": "x" * 300}, "timezone"),
        ({"timezone": 3}, "timezone"),
        ({"link_previews": "side"}, "link_previews"),
        ({"link_previews": 1}, "link_previews"),
        ({"silent": "yes"}, "silent"),
        ({"silent": 1}, "silent"),
        ({"article_languages": []}, "article_languages"),
        ({"article_languages": "ar"}, "article_languages"),
        ({"article_languages": ["de"]}, "article_languages"),
        ({"article_languages": [1]}, "article_languages"),
        ({"digest_hour": 6, "silent": "yes"}, "silent"),  # one bad field refuses them all
    ],
)
def test_settings_the_bot_refuses_name_the_field(wanted, field):
    with pytest.raises(SettingRefused) as refused:
        preferences.checked(wanted)
    assert str(refused.value) == field


def test_a_change_is_stored_and_the_chat_returned_as_it_is_now(backend):
    changed = preferences.change_settings(
        backend, CHAT, {"delivery_mode": "daily", "digest_hour": 6, "article_languages": ["*"]}
    )
    assert isinstance(changed, Chat)
    assert changed == chat_store.get_chat(backend.db, CHAT)
    assert preferences.settings_of(changed, "UTC") == {
        **DEFAULTS,
        "delivery_mode": "daily",
        "digest_hour": 6,
        "article_languages": ["*"],
    }


def test_a_refused_change_changes_nothing_and_says_which_field(backend):
    before = chat_store.get_chat(backend.db, CHAT)
    refused = preferences.change_settings(backend, CHAT, {"digest_hour": 6, "silent": "yes"})
    assert refused == Refusal("app_bad_setting", {"field": "silent"})
    assert chat_store.get_chat(backend.db, CHAT) == before


def test_a_forgotten_chat_has_no_settings_to_show(backend):
    assert preferences.change_settings(backend, 999, {"silent": True}) is None


def test_settings_of_a_chat_show_its_time_zone_or_the_default():
    chat = Chat(CHAT, article_languages=frozenset({"fr", "ar"}), link_previews="above")
    assert preferences.settings_of(chat, "Africa/Cairo") == {
        **DEFAULTS,
        "timezone": "Africa/Cairo",
        "link_previews": "above",
        "article_languages": ["ar", "fr"],  # in the order the buttons show them
    }


@pytest.mark.parametrize(
    ("current", "tapped", "after"),
    [
        ({"ar"}, "en", {"ar", "en"}),
        ({"ar", "en"}, "ar", {"en"}),
        ({"ar"}, "ar", {"ar"}),  # never empty: Arabic is the fallback
        ({"en"}, "en", {"ar"}),
        ({"ar"}, "*", {"*"}),
        ({"*"}, "*", {"ar"}),
        ({"*"}, "fr", {"fr"}),  # from every language to one
    ],
)
def test_tapping_a_language(current, tapped, after):
    assert preferences.toggle_language(frozenset(current), tapped) == frozenset(after)


CAIRO = Chat(CHAT, timezone="Africa/Cairo")


@pytest.mark.parametrize(
    ("chat", "kind", "value", "wanted"),
    [
        (Chat(CHAT), "mode", "daily", {"delivery_mode": "daily"}),
        (Chat(CHAT), "hour", "next", {"digest_hour": 12}),
        (Chat(CHAT, digest_hour=21), "hour", "next", {"digest_hour": 6}),
        (Chat(CHAT, digest_hour=7), "hour", "next", {"digest_hour": 6}),  # set in the Mini App
        (Chat(CHAT), "quiet", "next", {"quiet_start": 22, "quiet_end": 7}),
        (Chat(CHAT, quiet_start=0, quiet_end=8), "quiet", "next", {"quiet_start": None, "quiet_end": None}),
        (Chat(CHAT, quiet_start=23, quiet_end=6), "quiet", "next", {"quiet_start": 0, "quiet_end": 8}),
        (Chat(CHAT), "quietmode", "next", {"quiet_mode": "hold"}),
        (Chat(CHAT, quiet_mode="hold"), "quietmode", "next", {"quiet_mode": "silent"}),
        (Chat(CHAT), "tz", "next", {"timezone": "Africa/Casablanca"}),  # after UTC, the default
        (CAIRO, "tz", "next", {"timezone": "Asia/Beirut"}),
        (Chat(CHAT, timezone="Asia/Tokyo"), "tz", "next", {"timezone": "Africa/Casablanca"}),
        (Chat(CHAT), "previews", "toggle", {"link_previews": "below"}),
        (Chat(CHAT, link_previews="above"), "previews", "toggle", {"link_previews": "off"}),
        (Chat(CHAT), "silent", "toggle", {"silent": True}),
        (Chat(CHAT), "lang", "en", {"article_languages": ["ar", "en"]}),
        (Chat(CHAT), "lang", "*", {"article_languages": ["*"]}),
        (Chat(CHAT), "lang", "de", {}),
        (Chat(CHAT), "x", "", {}),
        (Chat(CHAT), "", "", {}),
    ],
)  # fmt: skip
def test_what_a_settings_button_asks_for(chat, kind, value, wanted):
    assert preferences.pressed(chat, kind, value, "UTC") == wanted


@pytest.mark.parametrize("kind", ["hour", "quiet", "quietmode", "tz", "previews", "silent"])
def test_every_button_press_passes_the_validator_all_the_way_round(kind):
    chat, seen = Chat(CHAT), []
    for _ in range(12):
        flags = preferences.checked(preferences.pressed(chat, kind, "next", "UTC"))
        assert flags
        seen.append(flags)
        values = {**flags, "silent": bool(flags.get("silent", chat.silent))}
        if "link_previews" in flags:
            values["link_previews"] = ("off", "below", "above")[flags["link_previews"]]
        chat = dataclasses.replace(chat, **values)
    assert seen[-1] in seen[:-1]  # a cycle


def test_the_buttons_time_zones_are_all_real():
    assert all(is_valid_timezone(zone) for zone in preferences.TIMEZONES)


def test_a_forged_mode_button_is_refused_by_the_validator(backend):
    wanted = preferences.pressed(Chat(CHAT), "mode", "weekly", "UTC")
    refused = preferences.change_settings(backend, CHAT, wanted)
    assert refused == Refusal("app_bad_setting", {"field": "delivery_mode"})
