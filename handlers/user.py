"""Commands and buttons for everyone: start, help, keywords, test, stop."""

from __future__ import annotations

import contextlib
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from core.articles import match_text
from core.matcher import find_matches
from core.models import Subscription
from core.query import QueryError, parse_query
from handlers.common import Turn, command_argument, is_admin, reply, turn
from handlers.services import services
from storage import articles as article_store
from storage import chats as chat_store

_KEYWORD_SEPARATORS = re.compile(r"[\n,،]+")
CALLBACK_DATA_BYTES = 64  # Telegram's limit on callback_data


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet, explain in three lines, offer example keywords."""
    t = turn(update, context)
    examples = ["المغرب", "الهجرة", "وزير الداخلية"]
    buttons = [
        [InlineKeyboardButton(f"➕ {word}", callback_data=f"add:{word}") for word in examples],
        [InlineKeyboardButton(t.text("button_help"), callback_data="help")],
    ]
    await reply(update, t.text("welcome"), reply_markup=InlineKeyboardMarkup(buttons))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every command and the keyword syntax."""
    t = turn(update, context)
    text = t.text("help")
    if is_admin(update, context):
        text += "\n\n" + t.text("admin_help")
    await reply(update, text)


def split_keywords(text: str) -> list[str]:
    """Several keywords at once: one per line (commas also separate)."""
    return [part.strip() for part in _KEYWORD_SEPARATORS.split(text) if part.strip()]


def refusal(t: Turn, raw: str, error: QueryError) -> str:
    """The catalog message that explains why a keyword was refused."""
    return t.text(f"refused_{error.code}", keyword=raw, **error.params)


def parse_for(t: Turn, raw: str):
    """Parse a keyword with this bot's limits."""
    settings = t.svc.settings
    return parse_query(
        raw, min_letters=settings.keyword_min_letters, max_length=settings.keyword_max_length
    )


def add_keywords(t: Turn, raws: list[str]) -> str:
    """Store each keyword that is valid and new; one answer that covers them all."""
    svc = t.svc
    added, answers = [], []
    for raw in raws:
        try:
            query = parse_for(t, raw)
        except QueryError as error:
            answers.append(refusal(t, raw, error))
            continue
        limit = svc.settings.max_keywords_per_chat
        if chat_store.count_subscriptions(svc.db, t.chat.id) >= limit:
            answers.append(t.text("too_many", max=limit))
            break
        try:
            sub_id = chat_store.add_subscription(
                svc.db, t.chat.id, query.raw, query.key, svc.clock()
            )
        except chat_store.KeywordExists:
            answers.append(t.text("already", keyword=query.raw))
            continue
        svc.book.add(Subscription(sub_id, t.chat.id, query.raw, query.key), query)
        added.append(query.raw)
    if added:
        answers.insert(0, t.text("added", keywords="، ".join(added)))
    return "\n".join(answers)


async def add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/add: follow one or several keywords."""
    t = turn(update, context)
    raws = split_keywords(command_argument(update))
    if not raws:
        await reply(update, t.text("add_usage"))
        return
    await reply(update, add_keywords(t, raws))


def keyword_list(t: Turn) -> str:
    """The chat's keywords, one per line."""
    subscriptions = chat_store.chat_subscriptions(t.svc.db, t.chat.id)
    if not subscriptions:
        return t.text("list_empty")
    lines = [t.text("list_header", count=len(subscriptions))]
    lines += [t.text("list_line", keyword=s.keyword) for s in subscriptions]
    return "\n".join(lines)


async def list_keywords(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/list: the chat's keywords."""
    t = turn(update, context)
    await reply(update, keyword_list(t))


async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remove: stop following one or several keywords."""
    t = turn(update, context)
    raws = split_keywords(command_argument(update))
    if not raws:
        await reply(update, t.text("remove_usage"))
        return
    answers = []
    for raw in raws:
        removed = remove_keyword(t, raw)
        answers.append(
            t.text("removed", keyword=removed) if removed else t.text("not_following", keyword=raw)
        )
    await reply(update, "\n".join(answers))


def remove_keyword(t: Turn, raw: str) -> str | None:
    """Remove by the keyword's normalized key (or exactly as typed); the removed keyword."""
    keys = []
    with contextlib.suppress(QueryError):
        keys.append(parse_query(raw, min_letters=1, max_length=10_000).key)
    keys += [s.key for s in chat_store.chat_subscriptions(t.svc.db, t.chat.id) if s.keyword == raw]
    for key in keys:
        removed = chat_store.remove_subscription(t.svc.db, t.chat.id, key)
        if removed:
            t.svc.book.remove(removed.id)
            return removed.keyword
    return None


def test_keyword(t: Turn, raw: str) -> str:
    """How many recent stories a keyword would have matched, with up to three titles."""
    try:
        query = parse_for(t, raw)
    except QueryError as error:
        return refusal(t, raw, error)
    days = t.svc.settings.test_days
    articles = article_store.recent_articles(t.svc.db, t.svc.clock() - days * 86400)
    seen_stories, hits = set(), []
    for article in articles:
        if article.story_id in seen_stories:
            continue
        if find_matches(query, match_text(article.title, article.text)):
            seen_stories.add(article.story_id)
            hits.append(article)
    total = len({a.story_id for a in articles})
    if not hits:
        return t.text("test_none", keyword=query.raw, days=days, total=total)
    titles = "\n".join(f"• {a.title}" for a in hits[:3])
    return t.text(
        "test_result", keyword=query.raw, count=len(hits), total=total, days=days, titles=titles
    )


async def test(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/test: try a keyword on recent news before saving it."""
    t = turn(update, context)
    raw = command_argument(update)
    if not raw:
        await reply(update, t.text("test_usage"))
        return
    await reply(update, test_keyword(t, raw))


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stop: delete everything about this chat and confirm."""
    t = turn(update, context)
    t.svc.book.remove_chat(t.chat.id)
    chat_store.delete_chat(t.svc.db, t.chat.id)
    await reply(update, t.text("stopped"))


async def plain_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A plain message in a private chat: offer to follow it or test it first."""
    t = turn(update, context)
    text = " ".join((update.effective_message.text or "").split())
    if len(f"test:{text}".encode()) > CALLBACK_DATA_BYTES:
        await reply(update, t.text("plain_text_hint", text=text[:100]))
        return
    buttons = [
        [
            InlineKeyboardButton(t.text("button_follow"), callback_data=f"add:{text}"),
            InlineKeyboardButton(t.text("button_test"), callback_data=f"test:{text}"),
        ]
    ]
    await reply(
        update, t.text("offer_follow", text=text), reply_markup=InlineKeyboardMarkup(buttons)
    )


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Buttons under the welcome and under a plain message: follow, test, help."""
    query = update.callback_query
    t = turn(update, context)
    action, _, value = (query.data or "").partition(":")
    await query.answer()
    if action == "add":
        await query.edit_message_text(add_keywords(t, [value]))
    elif action == "test":
        follow = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t.text("button_follow"), callback_data=f"add:{value}")]]
        )
        await query.edit_message_text(test_keyword(t, value), reply_markup=follow)
    elif action == "help":
        await query.message.reply_text(t.text("help"))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have."""
    t = turn(update, context)
    await reply(update, t.text("unknown_command"))


async def chat_migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its keywords and pending messages move to the new id."""
    message = update.effective_message
    svc = services(context)
    if message.migrate_to_chat_id:
        old_id, new_id = message.chat_id, message.migrate_to_chat_id
    else:
        old_id, new_id = message.migrate_from_chat_id, message.chat_id
    if chat_store.get_chat(svc.db, old_id) is None:
        return
    chat_store.migrate_chat(svc.db, old_id, new_id, svc.clock())
    svc.book.move_chat(old_id, new_id)
