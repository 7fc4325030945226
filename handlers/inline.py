"""Inline search: `@bot keyword` in any chat lists the recent stories the keyword matches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from babel.dates import format_date
from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode

from core.i18n import pick_language
from core.render import (
    SHOWN_SOURCE_CHARS,
    SHOWN_TITLE_CHARS,
    plain_text,
    render_headline,
    shorten,
)
from handlers.context import Context, services
from service import keywords
from service.base import Refusal
from service.keywords import StoredArticle

RESULTS = 10  # stories listed; Telegram takes up to 50
SETTLE_SECONDS = 0.6  # a query typed a letter at a time: only the last one is searched
# Telegram may reuse an answer this long, for the asker only (is_personal): answers are in the
# asker's language (texts, dates), so a shared cache would show one user's language to another.
CACHE_SECONDS = 60


async def inline_search(update: Update, context: Context) -> None:
    """Answer an inline query with the newest stories its keyword matches (or why it cannot)."""
    inline = update.inline_query
    if inline is None:
        return
    svc = services(context)
    user_id = inline.from_user.id
    language = pick_language(inline.from_user.language_code)
    svc.inline_latest[user_id] = inline.id
    await asyncio.sleep(SETTLE_SECONDS)
    if svc.inline_latest.get(user_id) != inline.id:
        return  # a newer query from the same user replaces this one; it is left unanswered
    del svc.inline_latest[user_id]  # the newest: forgotten once taken, so the map stays small
    if not inline.query.strip():
        return
    query = keywords.parse(svc.backend, inline.query)
    if isinstance(query, Refusal):
        reason = svc.catalog.refusal(language, query)
        await inline.answer([_note("refused", reason)], cache_time=0)
        return
    if user_id in svc.inline_running:
        return  # this user's previous search is still running
    svc.inline_running.add(user_id)  # apart from /test's cooldown: a search does not delay it
    try:
        scan = await keywords.scan_recent(svc.backend, svc.trials, query)
    finally:
        svc.inline_running.discard(user_id)
    results = [_story(context, article, language) for article in scan.hits[:RESULTS]]
    if not results:
        none = svc.catalog.text(language, "inline_none", keyword=query.raw)
        results = [_note("none", none)]
    await inline.answer(results, cache_time=CACHE_SECONDS, is_personal=True)


def _story(context: Context, article: StoredArticle, language: str) -> InlineQueryResultArticle:
    """One matching story: title, source and date; sending it posts the title and its link."""
    svc = services(context)
    link = keywords.story_link(svc.backend, article)
    source = shorten(article.feed_title, SHOWN_SOURCE_CHARS)
    when = article.published_at or article.fetched_at
    date = format_date(datetime.fromtimestamp(when, UTC), "d MMMM y", locale=language)
    title = shorten(article.title, SHOWN_TITLE_CHARS)
    message = render_headline(svc.catalog, language, title, article.feed_title, link)
    return InlineQueryResultArticle(
        id=str(article.id),
        title=title,
        description=f"{source} · {date}",
        input_message_content=InputTextMessageContent(message, parse_mode=ParseMode.HTML),
        url=link or None,
    )


def _note(result_id: str, message_html: str) -> InlineQueryResultArticle:
    """A result that only says something (no story matched, or the keyword is refused)."""
    return InlineQueryResultArticle(
        id=result_id,
        title=shorten(plain_text(message_html), SHOWN_TITLE_CHARS),
        input_message_content=InputTextMessageContent(message_html, parse_mode=ParseMode.HTML),
    )
