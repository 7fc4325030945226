"""Reactions on alerts: 👍 and 👎 counted per keyword, and a 👎 answered with what to change."""

from __future__ import annotations

import dataclasses

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageReactionUpdated,
    ReactionTypeEmoji,
    ReplyParameters,
    Update,
)

from core.models import Subscription
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
from handlers.context import Context, services
from handlers.user import BUTTON_KEYWORD_CHARS
from service import feedback, keywords
from service.base import Refusal
from service.feedback import SentAlert

PAUSE_BUTTONS = 3  # keywords of one alert offered to pause


def _emoji(reactions: tuple[object, ...]) -> set[str]:
    return {r.emoji for r in reactions if isinstance(r, ReactionTypeEmoji)}


async def reaction(update: Update, context: Context) -> None:
    """A 👍 or 👎 on an alert counts for its keywords (taking it back uncounts it); the first 👎
    on an alert (in a group, the first of an admin's) is answered under it with buttons. A
    channel's reactions come as totals: what changed is counted, nothing is answered."""
    backend = services(context).backend
    if (totals := update.message_reaction_count) is not None:
        counts = {
            r.type.emoji: r.total_count
            for r in totals.reactions
            if isinstance(r.type, ReactionTypeEmoji)
        }
        feedback.count_totals(backend, totals.chat.id, totals.message_id, counts)
    elif (change := update.message_reaction) is not None:
        old, new = _emoji(change.old_reaction), _emoji(change.new_reaction)
        disliked = feedback.reacted(backend, change.chat.id, change.message_id, old, new)
        # In a group only an admin's 👎 is answered: only they may press what the answer offers,
        # and members' reactions would otherwise fill the group with questions.
        if disliked is None or not await is_chat_admin(update, context):
            return
        if feedback.ask_once(backend, disliked):
            await _ask(update, context, change, disliked)


async def _ask(
    update: Update, context: Context, change: MessageReactionUpdated, alert: SentAlert
) -> None:
    """Answer a 👎 under the alert with what it may change."""
    text, buttons = _choices(_turn(update, context), alert)
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


def _choices(t: Turn, alert: SentAlert) -> tuple[str, InlineKeyboardMarkup | None]:
    """What a 👎 offers: exclude one of the story's words from its first keyword, pause one of
    its keywords, or leave things as they are."""
    backend = t.svc.backend
    subs = feedback.named_keywords(backend, t.chat.id, alert)
    if not subs:
        return t.text("feedback_keyword_gone"), None
    first = subs[0]
    rows = [
        [_button(t, "feedback_exclude", f"x:{alert.row_id}:{first.id}:{i}", word=word)]
        for i, word in enumerate(feedback.story_words(backend, alert, first))
        if not feedback.excludes(first.keyword, word)
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
    alert = feedback.sent_alert(t.svc.backend, t.chat.id, ids[0])
    sub = feedback.keyword(t.svc.backend, t.chat.id, ids[1])
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
    backend, keyword = t.svc.backend, shorten(sub.keyword, SHOWN_KEYWORD_CHARS)
    if action in ("p", "up"):
        keywords.set_keyword_paused(backend, t.chat.id, sub.id, action == "p")
        if action == "p":
            text = t.text("feedback_paused", keyword=keyword)
            return text, text, _undo(t, f"up:{alert.row_id}:{sub.id}")
        text, buttons = _choices(t, _reread(t, alert))
        return t.text("feedback_undone"), text, buttons
    words = feedback.story_words(backend, alert, sub)
    if not 0 <= word_index < len(words) or action not in ("x", "ux"):
        return t.refused(feedback.GONE), t.refused(feedback.GONE), None
    word = words[word_index]
    if action == "x" and feedback.excludes(sub.keyword, word):  # pressed again: the first holds
        return t.text("feedback_already_excluded", word=word, keyword=keyword), None, None
    changed = feedback.exclude(backend, t.chat.id, sub, word, undo=action == "ux")
    if isinstance(changed, Refusal):
        return t.refused(changed), t.refused(changed), None
    if action == "ux":
        text, buttons = _choices(t, _reread(t, alert))
        return t.text("feedback_undone"), text, buttons
    text = t.text("feedback_excluded", keyword=keyword, word=word, now=changed.keyword)
    return text, text, _undo(t, f"ux:{alert.row_id}:{sub.id}:{word_index}")


def _reread(t: Turn, alert: SentAlert) -> SentAlert:
    """The alert as stored now (a changed keyword renames itself in the alerts that name it)."""
    return feedback.sent_alert(t.svc.backend, t.chat.id, alert.row_id) or alert
