"""/settings: per-chat choices, changed with buttons and confirmed in place (the message is
edited, never a new one sent)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from core.delivery_time import MODES
from core.models import ALL_LANGUAGES, EVERY_LANGUAGE
from handlers.common import (
    Turn,
    app_buttons,
    button_press,
    changes_chat,
    edit,
    for_stamped_target,
    pop_up,
    quiet_hours_text,
    record_turn,
    reply,
    stamped,
    unstamped,
)
from handlers.context import Context
from service import preferences
from service.base import Refusal
from service.preferences import ARTICLE_LANGUAGES


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
        t.text(
            "settings_timezone", timezone=chat.timezone or t.svc.backend.settings.default_timezone
        ),
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
    timezone = chat.timezone or t.svc.backend.settings.default_timezone
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
    rows.append(
        [_button(t, _mark(everything, t.text("language_all")), f"set:lang:{EVERY_LANGUAGE}")]
    )
    return rows


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
    wanted = preferences.pressed(t.target, kind, value, t.svc.backend.settings.default_timezone)
    target = preferences.change_settings(t.svc.backend, t.target.id, wanted)
    if isinstance(target, Refusal):  # a button the panel never shows
        await pop_up(query, t.refused(target))
        return
    if target is None:  # forgotten meanwhile: nothing left to show
        await query.answer()
        return
    await query.answer(t.text("settings_saved"))
    text, buttons = settings_view(Turn(t.svc, t.chat, target, t.language))
    await edit(query, text, reply_markup=buttons)
