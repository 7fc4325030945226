"""What one round of claimed outbox rows needs, read from the database once for them all and
handed down: deciding, composing and sending read none of it again."""

from __future__ import annotations

from dataclasses import dataclass

from core.keyword_ways import WINDOWS_HOURS
from core.models import Chat, OutboxRow
from core.story_ways import HOUR, Telling, big_threshold, outlet_names, outlets_within
from storage import articles as article_store
from storage import chats as chat_store
from storage import outbox
from storage.articles import StoredArticle
from storage.db import Database

MAX_WINDOW_HOURS = max(WINDOWS_HOURS)


@dataclass(frozen=True)
class Batch:
    """The rows' chats and broadcasts, their alerts' articles and the feeds that told each
    story, and each chat's keywords in forum topics."""

    chats: dict[int, Chat]
    broadcasts: dict[int, outbox.Broadcast]
    articles: dict[int, StoredArticle]
    sources: dict[int, list[str]]  # story → its feeds, first teller first
    threads: dict[int, dict[str, int]]  # chat → keyword as typed → forum topic
    # alert row → the outlets that carried its story and the window, when a keyword that waits
    # for big stories brought it (its threshold reached)
    outlets: dict[int, tuple[list[str], int]]

    def article(self, row: OutboxRow) -> StoredArticle | None:
        """The row's article, None when it has none or it is no longer stored."""
        return self.articles.get(row.article_id) if row.article_id is not None else None


def read_batch(db: Database, rows: list[OutboxRow]) -> Batch:
    """Everything the rows need, a query for each kind of thing."""
    alerts = [row for row in rows if row.kind == "alert"]
    articles = article_store.articles_by_id(
        db, sorted({row.article_id for row in alerts if row.article_id is not None})
    )
    broadcast_ids = {row.broadcast_id for row in rows if row.broadcast_id is not None}
    found = (outbox.get_broadcast(db, broadcast_id) for broadcast_id in broadcast_ids)
    broadcasts = {broadcast.id: broadcast for broadcast in found if broadcast is not None}
    alert_chats = sorted({row.chat_id for row in alerts})
    topic_chats = sorted({row.chat_id for row in rows if row.keywords})
    return Batch(
        chats=chat_store.chats_by_id(db, sorted({row.chat_id for row in rows})),
        broadcasts=broadcasts,
        articles=articles,
        sources=article_store.story_sources(db, sorted({a.story_id for a in articles.values()})),
        threads=chat_store.keyword_threads_of(db, topic_chats),
        outlets=big_outlets(db, alerts, articles, alert_chats),
    )


def big_outlets(
    db: Database, alerts: list[OutboxRow], articles: dict[int, StoredArticle], chat_ids: list[int]
) -> dict[int, tuple[list[str], int]]:
    """For each alert a big-stories keyword brought, the outlets that carried its story within
    the keyword's window (their names) and that window; a story's articles read once."""
    thresholds = outbox.big_story_keywords(db, chat_ids) if chat_ids else {}
    outlets: dict[int, tuple[list[str], int]] = {}
    tellings: dict[int, list[Telling]] = {}
    for row in alerts:
        found = big_threshold(row.keywords, thresholds.get(row.chat_id, {}))
        article = articles.get(row.article_id) if row.article_id is not None else None
        if found is None or article is None:
            continue
        needed, hours = found
        if article.story_id not in tellings:  # the longest window a keyword may choose
            tellings[article.story_id] = article_store.story_tellings(
                db, article.story_id, MAX_WINDOW_HOURS * HOUR
            )
        told = outlets_within(tellings[article.story_id], hours)
        if len(told) >= needed:
            outlets[row.id] = (outlet_names(told), hours)
    return outlets
