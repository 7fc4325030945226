"""Reactions on alerts: 👍 and 👎 counted for the keywords an alert names, and what a 👎 may
change (exclude one of the story's words from a keyword, pause a keyword, undo either)."""

from __future__ import annotations

from dataclasses import dataclass

from core.feedback import DISLIKE, LIKE, salient_words, with_exclusion, without_exclusion
from core.models import Subscription
from core.query import QueryError, parse_stored
from service.base import Backend, Refusal
from service.keywords import parse, reindex
from storage import articles as article_store
from storage import chats as chat_store
from storage import feedback as feedback_store
from storage.feedback import SentAlert

GONE = Refusal("feedback_keyword_gone")


@dataclass(frozen=True)
class Disliked:
    """A 👎 newly put on an alert that was not answered yet: the alert to answer under."""

    alert: SentAlert


def count_totals(backend: Backend, chat_id: int, message_id: int, counts: dict[str, int]) -> None:
    """A channel's anonymous totals on a message (emoji -> count)."""
    feedback_store.count_totals(
        backend.db,
        chat_id,
        message_id,
        likes=counts.get(LIKE, 0),
        dislikes=counts.get(DISLIKE, 0),
    )


def reacted(
    backend: Backend, chat_id: int, message_id: int, old: set[str], new: set[str]
) -> SentAlert | None:
    """One person's reaction changed on a message: counted for the keywords of the alerts it
    carried (taking one back uncounts it); the first alert when the change added a 👎."""
    alerts = feedback_store.alerts_on_message(backend.db, chat_id, message_id)
    if not alerts:
        return None
    likes, dislikes = (LIKE in new) - (LIKE in old), (DISLIKE in new) - (DISLIKE in old)
    if likes or dislikes:
        keywords = feedback_store.keywords_of(alerts)
        feedback_store.count_reactions(
            backend.db, chat_id, keywords, likes=likes, dislikes=dislikes
        )
    return alerts[0] if dislikes > 0 else None


def ask_once(backend: Backend, alert: SentAlert) -> bool:
    """Whether this alert's 👎 is to be answered now (only the first is)."""
    return feedback_store.ask_once(backend.db, alert.row_id)


def sent_alert(backend: Backend, chat_id: int, row_id: int) -> SentAlert | None:
    """One alert sent to this chat, as stored now (a changed keyword renames itself in it)."""
    return feedback_store.sent_alert(backend.db, chat_id, row_id)


def keyword(backend: Backend, chat_id: int, sub_id: int) -> Subscription | None:
    """One of the chat's keywords, by id."""
    return chat_store.subscription(backend.db, chat_id, sub_id)


def named_keywords(backend: Backend, chat_id: int, alert: SentAlert) -> list[Subscription]:
    """The chat's keywords an alert names, in its order (those since removed are left out)."""
    by_keyword = {s.keyword: s for s in chat_store.chat_subscriptions(backend.db, chat_id)}
    return [by_keyword[k] for k in alert.keywords if k in by_keyword]


def story_words(backend: Backend, alert: SentAlert, sub: Subscription) -> list[str]:
    """The story's salient words that one keyword could exclude."""
    if not alert.article_id:
        return []
    article = article_store.get_article(backend.db, alert.article_id)
    if article is None:
        return []
    try:
        return salient_words(article.title, article.text, parse_stored(sub.keyword))
    except QueryError:
        return []


def excludes(raw: str, word: str) -> bool:
    """Whether a keyword already leaves out `word` (excluding it again would change nothing)."""
    try:
        return parse_stored(with_exclusion(raw, word)).key == parse_stored(raw).key
    except QueryError:
        return False


def exclude(
    backend: Backend, chat_id: int, sub: Subscription, word: str, *, undo: bool = False
) -> Subscription | Refusal:
    """The keyword with `word` left out (or, undoing, back in): stored and in the index."""
    raw = without_exclusion(sub.keyword, word) if undo else with_exclusion(sub.keyword, word)
    return change_keyword(backend, chat_id, sub, raw)


def change_keyword(
    backend: Backend, chat_id: int, sub: Subscription, raw: str
) -> Subscription | Refusal:
    """One keyword made to say `raw`, in storage and in the index; or why not."""
    query = parse(backend, raw)
    if isinstance(query, Refusal):
        return query
    try:
        changed = chat_store.set_keyword(backend.db, chat_id, sub.id, query.raw, query.key)
    except chat_store.KeywordExists:
        return Refusal("already", {"keyword": query.raw})
    if changed is None:
        return GONE
    reindex(backend, changed, query)
    return changed
