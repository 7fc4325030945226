"""Reactions on alerts: 👍 and 👎 counted per keyword, and a 👎 answered with what to change."""

from __future__ import annotations

import dataclasses

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageReactionCountUpdated,
    MessageReactionUpdated,
    ReactionTypeEmoji,
    ReplyParameters,
    Update,
)

from core.feedback import DISLIKE, LIKE, salient_words, with_exclusion, without_exclusion
from core.models import Subscription
from core.query import QueryError, parse_stored
from core.render import SHOWN_KEYWORD_CHARS, shorten
from handlers.common import (
    Turn,
    button_press,
    edit,
    is_chat_admin,
    number,
    pop_up,
    record_turn,
    refuse,
)
from handlers.context import Context, Services, services
from handlers.user import (
    BUTTON_KEYWORD_CHARS,
    parse_for,
    refusal,
    reindex,
    set_keyword_paused,
)
from storage import articles as article_store
from storage import chats as chat_store
from storage import feedback as feedback_store
from storage.feedback import SentAlert

PAUSE_BUTTONS = 3  # keywords of one alert offered to pause


def _emoji(reactions: tuple[object, ...]) -> set[str]:
    return {r.emoji for r in reactions if isinstance(r, ReactionTypeEmoji)}


async def reaction(update: Update, context: Context) -> None:
    """A 👍 or 👎 on an alert counts for its keywords (taking it back uncounts it); the first 👎
    on an alert (in a group, the first of an admin's) is answered under it with buttons. A
    channel's reactions come as totals: what changed is counted, nothing is answered."""
    if update.message_reaction_count is not None:
        _count_totals(update.message_reaction_count, services(context))
    elif update.message_reaction is not None:
        await _reacted(update.message_reaction, update, context)


def _count_totals(totals: MessageReactionCountUpdated, svc: Services) -> None:
    """A channel's anonymous totals on a message."""
    counts = {
        r.type.emoji: r.total_count
        for r in totals.reactions
        if isinstance(r.type, ReactionTypeEmoji)
    }
    feedback_store.count_totals(
        svc.db,
        totals.chat.id,
        totals.message_id,
        likes=counts.get(LIKE, 0),
        dislikes=counts.get(DISLIKE, 0),
    )


async def _reacted(change: MessageReactionUpdated, update: Update, context: Context) -> None:
    """One person's reaction changed on a message of a private chat or a group."""
    svc = services(context)
    alerts = feedback_store.alerts_on_message(svc.db, change.chat.id, change.message_id)
    if not alerts:
        return
    old, new = _emoji(change.old_reaction), _emoji(change.new_reaction)
    likes, dislikes = (LIKE in new) - (LIKE in old), (DISLIKE in new) - (DISLIKE in old)
    if likes or dislikes:
        keywords = feedback_store.keywords_of(alerts)
        feedback_store.count_reactions(
            svc.db, change.chat.id, keywords, likes=likes, dislikes=dislikes
        )
    # In a group only an admin's 👎 is answered: only they may press what the answer offers,
    # and members' reactions would otherwise fill the group with questions.
    if dislikes <= 0 or not await is_chat_admin(update, context):
        return
    if feedback_store.ask_once(svc.db, alerts[0].row_id):
        t = _turn(update, context)
        text, buttons = _choices(t, alerts[0])
        await context.bot.send_message(
            change.chat.id,
            text,
            reply_markup=buttons,
            reply_parameters=ReplyParameters(change.message_id, allow_sending_without_reply=True),
        )


def _turn(update: Update, context: Context) -> Turn:
    """The turn, acting on the chat the alert is in (not a channel it manages)."""
    t = record_turn(update, context)
    return dataclasses.replace(t, target=t.chat)


def _subscriptions(t: Turn, alert: SentAlert) -> list[Subscription]:
    """The chat's keywords an alert names, in its order (those since removed are left out)."""
    by_keyword = {s.keyword: s for s in chat_store.chat_subscriptions(t.svc.db, t.chat.id)}
    return [by_keyword[k] for k in alert.keywords if k in by_keyword]


def _words(t: Turn, alert: SentAlert, sub: Subscription) -> list[str]:
    """The story's salient words that one keyword could exclude."""
    article = article_store.get_article(t.svc.db, alert.article_id) if alert.article_id else None
    if article is None:
        return []
    try:
        return salient_words(article.title, article.text, parse_stored(sub.keyword))
    except QueryError:
        return []


def _choices(t: Turn, alert: SentAlert) -> tuple[str, InlineKeyboardMarkup | None]:
    """What a 👎 offers: exclude one of the story's words from its first keyword, pause one of
    its keywords, or leave things as they are."""
    subs = _subscriptions(t, alert)
    if not subs:
        return t.text("feedback_keyword_gone"), None
    first = subs[0]
    rows = [
        [_button(t, "feedback_exclude", f"x:{alert.row_id}:{first.id}:{i}", word=word)]
        for i, word in enumerate(_words(t, alert, first))
        if not _excludes(first.keyword, word)
    ]
    rows += [
        [_button(t, "feedback_pause", f"p:{alert.row_id}:{sub.id}", keyword=sub.keyword)]
        for sub in subs[:PAUSE_BUTTONS]
        if not sub.paused
    ]
    rows.append([_button(t, "feedback_keep", f"n:{alert.row_id}")])
    keyword = shorten(first.keyword, SHOWN_KEYWORD_CHARS)
    return t.text("feedback_ask", keyword=keyword), InlineKeyboardMarkup(rows)


def _button(t: Turn, label: str, data: str, **params: str) -> InlineKeyboardButton:
    shown = {name: shorten(value, BUTTON_KEYWORD_CHARS) for name, value in params.items()}
    return InlineKeyboardButton(t.label(label, **shown), callback_data=f"fb:{data}")


def _excludes(raw: str, word: str) -> bool:
    """Whether a keyword already leaves out `word` (excluding it again would change nothing)."""
    try:
        return parse_stored(with_exclusion(raw, word)).key == parse_stored(raw).key
    except QueryError:
        return False


def _undo(t: Turn, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(t, "feedback_undo", data)]])


async def feedback_button(update: Update, context: Context) -> None:
    """A button under a 👎: exclude a word, pause a keyword, undo that, or change nothing. Only
    this chat's alerts and keywords are touched, and in a group only by its admins."""
    if not await is_chat_admin(update, context):
        await refuse(update, context, "group_admins_only")
        return
    query, data = button_press(update)
    t = _turn(update, context)
    action, *numbers = data.removeprefix("fb:").split(":")
    ids = [number(n, default=-1) for n in numbers] + [-1, -1, -1]
    alert = feedback_store.sent_alert(t.svc.db, t.chat.id, ids[0])
    sub = chat_store.subscription(t.svc.db, t.chat.id, ids[1])
    if alert is None or (action != "n" and sub is None):
        await pop_up(query, t.text("feedback_keyword_gone"), alert=True)
        return
    if action == "n":
        await query.answer()
        await edit(query, t.text("feedback_kept"))
        return
    assert sub is not None
    answer, text, markup = _act(t, action, alert, sub, ids[2])
    await pop_up(query, answer)
    if text is not None:
        await edit(query, text, markup)


def _act(
    t: Turn, action: str, alert: SentAlert, sub: Subscription, word_index: int
) -> tuple[str, str | None, InlineKeyboardMarkup | None]:
    """Do what a button says: (the button's answer, the message's new text or None to leave it
    as it is, its buttons)."""
    keyword = shorten(sub.keyword, SHOWN_KEYWORD_CHARS)
    if action in ("p", "up"):
        set_keyword_paused(t, sub.id, action == "p")
        if action == "p":
            text = t.text("feedback_paused", keyword=keyword)
            return text, text, _undo(t, f"up:{alert.row_id}:{sub.id}")
        text, buttons = _choices(t, _reread(t, alert))
        return t.text("feedback_undone"), text, buttons
    words = _words(t, alert, sub)
    if not 0 <= word_index < len(words) or action not in ("x", "ux"):
        return t.text("feedback_keyword_gone"), t.text("feedback_keyword_gone"), None
    word = words[word_index]
    if action == "x" and _excludes(sub.keyword, word):  # pressed again: the first press holds
        return t.text("feedback_already_excluded", word=word, keyword=keyword), None, None
    if action == "x":
        raw = with_exclusion(sub.keyword, word)
    else:
        raw = without_exclusion(sub.keyword, word)
    changed = _set_keyword(t, sub, raw)
    if isinstance(changed, str):
        return changed, changed, None
    if action == "ux":
        text, buttons = _choices(t, _reread(t, alert))
        return t.text("feedback_undone"), text, buttons
    text = t.text("feedback_excluded", keyword=keyword, word=word, now=changed.keyword)
    return text, text, _undo(t, f"ux:{alert.row_id}:{sub.id}:{word_index}")


def _reread(t: Turn, alert: SentAlert) -> SentAlert:
    """The alert as stored now (a changed keyword renames itself in the alerts that name it)."""
    return feedback_store.sent_alert(t.svc.db, t.chat.id, alert.row_id) or alert


def _set_keyword(t: Turn, sub: Subscription, raw: str) -> Subscription | str:
    """The keyword changed to `raw` in storage and in the index; or why not, in words."""
    try:
        query = parse_for(t, raw)
    except QueryError as error:
        return refusal(t, raw, error)
    try:
        changed = chat_store.set_keyword(t.svc.db, t.chat.id, sub.id, query.raw, query.key)
    except chat_store.KeywordExists:
        return t.text("already", keyword=query.raw)
    if changed is None:
        return t.text("feedback_keyword_gone")
    reindex(t, changed, query)
    return changed
