"""/settings: per-chat choices, changed with buttons and confirmed in place (the message is
edited, never a new one sent)."""

from __future__ import annotations

from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from core.delivery_time import MODES, QUIET_HOLD, QUIET_SILENT, is_valid_timezone
from core.models import ALL_LANGUAGES, LINK_PREVIEWS, Chat
from handlers.common import (
    Turn,
    app_buttons,
    button_press,
    changes_chat,
    edit,
    for_stamped_target,
    quiet_hours_text,
    record_turn,
    reply,
    stamped,
    unstamped,
)
from handlers.context import Context
from storage import chats as chat_store

_T = TypeVar("_T")
ARTICLE_LANGUAGES = ("ar", "en", "fr", "fa", "ur")
ALL = "*"
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


def toggle_language(current: frozenset[str], language: str) -> frozenset[str]:
    """The chat's article languages after tapping one (never empty: Arabic is the fallback)."""
    if language == ALL:
        return ALL_LANGUAGES if current != ALL_LANGUAGES else frozenset({"ar"})
    chosen = set() if current == ALL_LANGUAGES else set(current)
    chosen ^= {language}
    return frozenset(chosen & set(ARTICLE_LANGUAGES)) or frozenset({"ar"})


def _next(options: tuple[_T, ...], current: object) -> _T:
    return (
        options[(options.index(current) + 1) % len(options)] if current in options else options[0]
    )


def settings_view(t: Turn) -> tuple[str, InlineKeyboardMarkup]:
    """The settings message and its buttons for the chat's current state."""
    rows = [*_delivery_buttons(t), *_language_buttons(t), *app_buttons(t)]
    return t.about_target("\n".join(_settings_lines(t))), InlineKeyboardMarkup(rows)


def _settings_lines(t: Turn) -> list[str]:
    """Each setting in words."""
    chat = t.target
    if chat.article_languages == ALL_LANGUAGES:
        names = t.text("language_all")
    else:
        chosen = [c for c in ARTICLE_LANGUAGES if c in chat.article_languages]
        names = "، ".join(t.text(f"language_{c}") for c in chosen)
    on_off = {True: t.text("on"), False: t.text("off")}
    return [
        t.text("settings_title"),
        "",
        t.text("settings_mode", mode=t.text(f"mode_{chat.delivery_mode}")),
        t.text("settings_digest_hour", hour=f"{chat.digest_hour:02d}:00"),
        t.text("settings_quiet", quiet=quiet_hours_text(t, chat)),
        t.text("settings_timezone", timezone=chat.timezone or t.svc.settings.default_timezone),
        t.text("settings_previews", state=t.text(f"preview_{chat.link_previews}")),
        t.text("settings_silent", state=on_off[chat.silent]),
        t.text("settings_languages", languages=names),
    ]


def _mark(selected: bool, label: str) -> str:
    return ("✅ " if selected else "") + label


def _button(t: Turn, label: str, data: str) -> InlineKeyboardButton:
    """A settings button, stamped with the chat it changes."""
    return InlineKeyboardButton(label, callback_data=stamped(t, data))


def _delivery_buttons(t: Turn) -> list[list[InlineKeyboardButton]]:
    """Mode, digest hour, quiet hours, time zone, previews, sound."""
    chat = t.target
    on_off = {True: t.text("on"), False: t.text("off")}
    timezone = chat.timezone or t.svc.settings.default_timezone
    quiet = quiet_hours_text(t, chat).split(" (")[0]
    return [
        [
            _button(
                t,
                _mark(chat.delivery_mode == mode, t.text(f"button_mode_{mode}")),
                f"set:mode:{mode}",
            )
            for mode in MODES
        ],
        [
            _button(
                t, t.text("button_digest_hour", hour=f"{chat.digest_hour:02d}:00"), "set:hour:next"
            )
        ],
        [
            _button(t, t.text("button_quiet", quiet=quiet), "set:quiet:next"),
            _button(
                t,
                t.text("button_quiet_mode", how=t.text(f"quiet_{chat.quiet_mode}")),
                "set:quietmode:next",
            ),
        ],
        [_button(t, t.text("button_timezone", timezone=timezone), "set:tz:next")],
        [
            _button(
                t,
                t.text("button_previews", state=t.text(f"preview_{chat.link_previews}")),
                "set:previews:toggle",
            ),
            _button(t, t.text("button_silent", state=on_off[chat.silent]), "set:silent:toggle"),
        ],
    ]


def _language_buttons(t: Turn) -> list[list[InlineKeyboardButton]]:
    """Which languages of articles the chat gets: three a row, then "all"."""
    current = t.target.article_languages
    everything = current == ALL_LANGUAGES
    rows = [
        [
            _button(
                t,
                _mark(code in current and not everything, t.text(f"language_{code}")),
                f"set:lang:{code}",
            )
            for code in ARTICLE_LANGUAGES[i : i + 3]
        ]
        for i in range(0, len(ARTICLE_LANGUAGES), 3)
    ]
    rows.append([_button(t, _mark(everything, t.text("language_all")), f"set:lang:{ALL}")])
    return rows


def change(chat: Chat, kind: str, value: str, default_timezone: str) -> dict[str, object]:
    """The new values one settings button sets (empty when the button is unknown)."""
    if kind == "lang" and (value in ARTICLE_LANGUAGES or value == ALL):
        return {"article_languages": toggle_language(chat.article_languages, value)}
    if kind == "mode" and value in MODES:
        return {"delivery_mode": value}
    if kind == "hour":
        return {"digest_hour": _next(DIGEST_HOURS, chat.digest_hour)}
    if kind == "quiet":
        current = (
            None
            if chat.quiet_start is None or chat.quiet_end is None
            else (chat.quiet_start, chat.quiet_end)
        )
        preset = _next(QUIET_PRESETS, current)
        return {
            "quiet_start": preset[0] if preset else None,
            "quiet_end": preset[1] if preset else None,
        }
    if kind == "quietmode":
        return {"quiet_mode": QUIET_HOLD if chat.quiet_mode == QUIET_SILENT else QUIET_SILENT}
    if kind == "tz":
        return {"timezone": _next(TIMEZONES, chat.timezone or default_timezone)}
    if kind == "previews":  # off → below the text → above it → off
        return {
            "link_previews": chat_store.preview_stored(_next(LINK_PREVIEWS, chat.link_previews))
        }
    if kind == "silent":
        return {"silent": int(not chat.silent)}
    return {}


async def settings(update: Update, context: Context) -> None:
    """/settings: show the chat's settings with buttons."""
    t = record_turn(update, context)
    text, buttons = settings_view(t)
    await reply(update, text, reply_markup=buttons)


@changes_chat
@for_stamped_target
async def settings_button(update: Update, context: Context) -> None:
    """A settings button: change the setting, then edit the same message to show it."""
    query, data = button_press(update)
    t = record_turn(update, context)
    _, kind, value = (unstamped(data).split(":", 2) + ["", ""])[:3]
    values = change(t.target, kind, value, t.svc.settings.default_timezone)
    if values:
        chat_store.set_chat_flags(t.svc.db, t.target.id, **values)
    target = chat_store.get_chat(t.svc.db, t.target.id)
    if target is None:  # forgotten meanwhile: nothing left to show
        await query.answer()
        return
    await query.answer(t.text("settings_saved"))
    text, buttons = settings_view(Turn(t.svc, t.chat, target, t.language))
    await edit(query, text, reply_markup=buttons)


class SettingRefused(ValueError):
    """A setting the Mini App sent that the bot does not take; names the field."""


def settings_of(chat: Chat, default_timezone: str) -> dict[str, object]:
    """A chat's settings as the Mini App reads and writes them."""
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
        "article_languages": [ALL]
        if everything
        else [c for c in ARTICLE_LANGUAGES if c in chat.article_languages],
    }


def _hour(payload: dict[str, object], name: str, *, optional: bool = False) -> int | None:
    value = payload[name]
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
        raise SettingRefused(name)
    return value


def _choice(payload: dict[str, object], name: str, options: tuple[str, ...]) -> str:
    value = payload[name]
    if value not in options:
        raise SettingRefused(name)
    return str(value)


def settings_change(payload: dict[str, object]) -> dict[str, object]:
    """The chat flags a settings object sets (only the fields it has): the settings /settings
    changes, with any hour, hour pair and IANA zone where its buttons cycle through presets;
    SettingRefused naming the first field the bot does not take."""
    values: dict[str, object] = {}
    if "delivery_mode" in payload:
        values["delivery_mode"] = _choice(payload, "delivery_mode", MODES)
    if "digest_hour" in payload:
        values["digest_hour"] = _hour(payload, "digest_hour")
    if "quiet_start" in payload or "quiet_end" in payload:
        payload = {"quiet_start": None, "quiet_end": None, **payload}
        start = _hour(payload, "quiet_start", optional=True)
        end = _hour(payload, "quiet_end", optional=True)
        if (start is None) != (end is None) or (start is not None and start == end):
            raise SettingRefused("quiet_end")
        values.update(quiet_start=start, quiet_end=end)
    if "quiet_mode" in payload:
        values["quiet_mode"] = _choice(payload, "quiet_mode", (QUIET_SILENT, QUIET_HOLD))
    if "timezone" in payload:
        if not isinstance(payload["timezone"], str) or not is_valid_timezone(payload["timezone"]):
            raise SettingRefused("timezone")
        values["timezone"] = payload["timezone"]
    if "link_previews" in payload:
        mode = _choice(payload, "link_previews", LINK_PREVIEWS)
        values["link_previews"] = chat_store.preview_stored(mode)
    if "silent" in payload:
        if not isinstance(payload["silent"], bool):
            raise SettingRefused("silent")
        values["silent"] = int(payload["silent"])
    if "article_languages" in payload:
        values["article_languages"] = _languages(payload["article_languages"])
    return values


def _languages(value: object) -> frozenset[str]:
    if not isinstance(value, list) or not value or not all(isinstance(c, str) for c in value):
        raise SettingRefused("article_languages")
    if ALL in value:
        return ALL_LANGUAGES
    if not set(value) <= set(ARTICLE_LANGUAGES):
        raise SettingRefused("article_languages")
    return frozenset(value)
