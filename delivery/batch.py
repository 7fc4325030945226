"""What one round of claimed outbox rows needs, read from the database once for them all and
handed down: deciding, composing and sending read none of it again."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Chat, OutboxRow
from storage import articles as article_store
from storage import chats as chat_store
from storage import outbox
from storage.articles import StoredArticle
from storage.db import Database


@dataclass(frozen=True)
class Batch:
    """The rows' chats and broadcasts, their alerts' articles and the feeds that told each
    story, and each chat's keywords in forum topics."""

    chats: dict[int, Chat]
    broadcasts: dict[int, outbox.Broadcast]
    articles: dict[int, StoredArticle]
    sources: dict[int, list[str]]  # story → its feeds, first teller first
    threads: dict[int, dict[str, int]]  # chat → keyword as typed → forum topic

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
    return Batch(
        chats=chat_store.chats_by_id(db, sorted({row.chat_id for row in rows})),
        broadcasts=broadcasts,
        articles=articles,
        sources=article_store.story_sources(db, sorted({a.story_id for a in articles.values()})),
        threads=chat_store.keyword_threads_of(db, sorted({row.chat_id for row in alerts})),
    )
