"""A chat's settings: delivery mode, digest hour, quiet hours, time zone, link previews, sound
and the languages of its articles. One validator for every way of changing them: /settings'
buttons (which cycle through presets), the Mini App (any hour, any IANA zone) and commands."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from core.delivery_time import MODES, QUIET_HOLD, QUIET_SILENT, is_valid_timezone
from core.models import ALL_LANGUAGES, EVERY_LANGUAGE, LINK_PREVIEWS, Chat
from service.base import Backend, Refusal
from storage import chats as chat_store

_T = TypeVar("_T")
ARTICLE_LANGUAGES = ("ar", "en", "fr", "fa", "ur")
LANGUAGE_CHOICES = (*ARTICLE_LANGUAGES, EVERY_LANGUAGE)
QUIET_MODES = (QUIET_SILENT, QUIET_HOLD)
# What /settings' buttons step through, one press at a time.
DIGEST_HOURS = (6, 8, 12, 18, 21)
QUIET_PRESETS = (None, (22, 7), (23, 6), (0, 8))
TIMEZONES = (
    "Africa/Casablanca",
    "Africa/Algiers",
    "Africa/Tunis",
    "Africa/Cairo",
    "Asia/Beirut",
    "Asia/Amman",
    "Asia/Baghdad",
    "Asia/Riyadh",
    "Asia/Dubai",
    "Europe/London",
    "UTC",
)


class SettingRefused(ValueError):
    """A setting the bot does not take; names the field."""


def settings_of(chat: Chat, default_timezone: str) -> dict[str, object]:
    """A chat's settings as plain values: what the Mini App reads, and what `change_settings`
    takes (any part of it)."""
    everything = chat.article_languages == ALL_LANGUAGES
    return {
        "delivery_mode": chat.delivery_mode,
        "digest_hour": chat.digest_hour,
        "quiet_start": chat.quiet_start,
        "quiet_end": chat.quiet_end,
        "quiet_mode": chat.quiet_mode,
        "timezone": chat.timezone or default_timezone,
        "link_previews": chat.link_previews,
        "silent": chat.silent,
        "article_languages": [EVERY_LANGUAGE]
        if everything
        else [c for c in ARTICLE_LANGUAGES if c in chat.article_languages],
    }


def change_settings(
    backend: Backend, chat_id: int, wanted: Mapping[str, object]
) -> Chat | Refusal | None:
    """Store the settings given (only those; see `settings_of`); the chat as it is now, None
    when it was forgotten meanwhile, or a Refusal naming the first field not taken (and
    nothing changed)."""
    try:
        flags = checked(wanted)
    except SettingRefused as refused:
        return Refusal("app_bad_setting", {"field": str(refused)})
    if flags:
        chat_store.set_chat_flags(backend.db, chat_id, **flags)
    return chat_store.get_chat(backend.db, chat_id)


def checked(wanted: Mapping[str, object]) -> dict[str, object]:
    """The chat flags to store for the settings given: any hour, hour pair and IANA zone where
    the buttons cycle through presets; SettingRefused naming the first field the bot does not
    take."""
    flags: dict[str, object] = {}
    if "delivery_mode" in wanted:
        flags["delivery_mode"] = _choice(wanted, "delivery_mode", MODES)
    if "digest_hour" in wanted:
        flags["digest_hour"] = _hour(wanted, "digest_hour")
    if "quiet_start" in wanted or "quiet_end" in wanted:
        wanted = {"quiet_start": None, "quiet_end": None, **wanted}
        start = _hour(wanted, "quiet_start", optional=True)
        end = _hour(wanted, "quiet_end", optional=True)
        if (start is None) != (end is None) or (start is not None and start == end):
            raise SettingRefused("quiet_end")
        flags.update(quiet_start=start, quiet_end=end)
    if "quiet_mode" in wanted:
        flags["quiet_mode"] = _choice(wanted, "quiet_mode", QUIET_MODES)
    if "timezone" in wanted:
        zone = wanted["timezone"]
        if not isinstance(zone, str) or not is_valid_timezone(zone):
            raise SettingRefused("timezone")
        flags["timezone"] = zone
    if "link_previews" in wanted:
        mode = _choice(wanted, "link_previews", LINK_PREVIEWS)
        flags["link_previews"] = chat_store.preview_stored(mode)
    if "silent" in wanted:
        if not isinstance(wanted["silent"], bool):
            raise SettingRefused("silent")
        flags["silent"] = int(wanted["silent"])
    if "article_languages" in wanted:
        flags["article_languages"] = _languages(wanted["article_languages"])
    return flags


def _hour(wanted: Mapping[str, object], name: str, *, optional: bool = False) -> int | None:
    value = wanted[name]
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
        raise SettingRefused(name)
    return value


def _choice(wanted: Mapping[str, object], name: str, options: tuple[str, ...]) -> str:
    value = wanted[name]
    if value not in options:
        raise SettingRefused(name)
    return str(value)


def _languages(value: object) -> frozenset[str]:
    if not isinstance(value, list) or not value or not all(isinstance(c, str) for c in value):
        raise SettingRefused("article_languages")
    if EVERY_LANGUAGE in value:
        return ALL_LANGUAGES
    if not set(value) <= set(ARTICLE_LANGUAGES):
        raise SettingRefused("article_languages")
    return frozenset(value)


def pressed(chat: Chat, kind: str, value: str, default_timezone: str) -> dict[str, object]:
    """The settings one /settings button asks for (see `settings_of`), given the chat's
    current ones: a choice, the next preset, or the other state; empty for an unknown button."""
    if kind == "lang" and value in LANGUAGE_CHOICES:
        chosen = toggle_language(chat.article_languages, value)
        return {"article_languages": sorted(chosen)}
    if kind == "mode":
        return {"delivery_mode": value}
    if kind == "hour":
        return {"digest_hour": _next(DIGEST_HOURS, chat.digest_hour)}
    if kind == "quiet":
        start, end = chat.quiet_start, chat.quiet_end
        preset = _next(QUIET_PRESETS, None if start is None or end is None else (start, end))
        return {
            "quiet_start": preset[0] if preset else None,
            "quiet_end": preset[1] if preset else None,
        }
    if kind == "quietmode":
        return {"quiet_mode": QUIET_HOLD if chat.quiet_mode == QUIET_SILENT else QUIET_SILENT}
    if kind == "tz":
        return {"timezone": _next(TIMEZONES, chat.timezone or default_timezone)}
    if kind == "previews":  # off → below the text → above it → off
        return {"link_previews": _next(LINK_PREVIEWS, chat.link_previews)}
    if kind == "silent":
        return {"silent": not chat.silent}
    return {}


def toggle_language(current: frozenset[str], language: str) -> frozenset[str]:
    """The chat's article languages after tapping one (never empty: Arabic is the fallback)."""
    if language == EVERY_LANGUAGE:
        return ALL_LANGUAGES if current != ALL_LANGUAGES else frozenset({"ar"})
    chosen = set() if current == ALL_LANGUAGES else set(current)
    chosen ^= {language}
    return frozenset(chosen & set(ARTICLE_LANGUAGES)) or frozenset({"ar"})


def _next(options: tuple[_T, ...], current: object) -> _T:
    return (
        options[(options.index(current) + 1) % len(options)] if current in options else options[0]
    )
