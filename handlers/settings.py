"""/settings: per-chat choices, changed with buttons and confirmed in place."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers.common import Turn, reply, turn
from storage import chats as chat_store

ARTICLE_LANGUAGES = ("ar", "en", "fr", "fa", "ur")
ALL = "*"


def toggle_language(current: str, language: str) -> str:
    """The chat's article languages after tapping one (never empty: Arabic is the fallback)."""
    if language == ALL:
        return ALL if current != ALL else "ar"
    chosen = set() if current == ALL else set(filter(None, current.split(",")))
    chosen ^= {language}
    return ",".join(code for code in ARTICLE_LANGUAGES if code in chosen) or "ar"


def settings_view(t: Turn) -> tuple[str, InlineKeyboardMarkup]:
    """The settings message and its buttons for the chat's current state."""
    current = t.chat.article_languages
    chosen = set(ARTICLE_LANGUAGES) if current == ALL else set(current.split(","))
    names = (
        t.text("language_all")
        if current == ALL
        else "، ".join(t.text(f"language_{code}") for code in ARTICLE_LANGUAGES if code in chosen)
    )
    text = t.text("settings_title") + "\n\n" + t.text("settings_languages", languages=names)
    rows = [
        [
            InlineKeyboardButton(
                ("✅ " if code in chosen and current != ALL else "") + t.text(f"language_{code}"),
                callback_data=f"set:lang:{code}",
            )
            for code in ARTICLE_LANGUAGES[i : i + 3]
        ]
        for i in range(0, len(ARTICLE_LANGUAGES), 3)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                ("✅ " if current == ALL else "") + t.text("language_all"),
                callback_data=f"set:lang:{ALL}",
            )
        ]
    )
    return text, InlineKeyboardMarkup(rows)


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/settings: show the chat's settings with buttons."""
    t = turn(update, context)
    text, buttons = settings_view(t)
    await reply(update, text, reply_markup=buttons)


async def settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A settings button: change the setting, then edit the same message to show it."""
    query = update.callback_query
    t = turn(update, context)
    _, kind, value = (query.data or "").split(":", 2)
    if kind == "lang" and (value in ARTICLE_LANGUAGES or value == ALL):
        chat_store.set_chat_flags(
            t.svc.db, t.chat.id, article_languages=toggle_language(t.chat.article_languages, value)
        )
    await query.answer(t.text("settings_saved"))
    t = Turn(t.svc, chat_store.get_chat(t.svc.db, t.chat.id), t.language)
    text, buttons = settings_view(t)
    await query.edit_message_text(text, reply_markup=buttons)
