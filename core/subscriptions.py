"""The in-memory book of active subscriptions: one match index for all chats."""

from __future__ import annotations

from collections import defaultdict
from itertools import chain
from operator import itemgetter
from typing import cast

from core.matcher import MatchIndex
from core.models import Subscription
from core.query import Query, QueryError, parse_stored

_Row = tuple[int, int, str]  # subscription id, chat id, keyword as typed
_SUBSCRIPTION_ID = itemgetter(0)


class SubscriptionBook:
    """All active (not paused) subscriptions, matched against an article in one pass.

    The index answers per distinct query (by entry id); each keeps its followers as ready rows, so
    a match costs one index lookup plus one row per matching subscription.
    """

    def __init__(self) -> None:
        self._index = MatchIndex()
        self._owner: dict[int, int] = {}  # subscription id -> chat id
        self._queries: dict[int, Query] = {}
        self._by_chat: dict[int, set[int]] = defaultdict(set)
        self._rows: dict[int, tuple[_Row, ...]] = {}  # entry id -> followers by id; rebuilt lazily

    def __len__(self) -> int:
        return len(self._owner)

    def add(self, subscription: Subscription, query: Query) -> None:
        """Index a subscription (replacing it if present)."""
        self.remove(subscription.id)
        self._index.add(subscription.id, query)
        self._owner[subscription.id] = subscription.chat_id
        self._queries[subscription.id] = query
        self._by_chat[subscription.chat_id].add(subscription.id)
        self._forget_rows(query)

    def remove(self, subscription_id: int) -> None:
        """Drop a subscription from the index; unknown ids are ignored."""
        chat_id = self._owner.pop(subscription_id, None)
        if chat_id is None:
            return
        self._forget_rows(self._queries.pop(subscription_id))
        self._index.remove(subscription_id)
        self._by_chat[chat_id].discard(subscription_id)
        if not self._by_chat[chat_id]:
            del self._by_chat[chat_id]

    def remove_chat(self, chat_id: int) -> None:
        """Drop every subscription of a chat."""
        for subscription_id in list(self._by_chat.get(chat_id, ())):
            self.remove(subscription_id)

    def move_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: its subscriptions now belong to the new id."""
        for subscription_id in self._by_chat.pop(old_id, set()):
            self._owner[subscription_id] = new_id
            self._by_chat[new_id].add(subscription_id)
            self._forget_rows(self._queries[subscription_id])

    def match(self, text: str) -> dict[int, list[str]]:
        """Chats whose keywords match `text`, each with its matched keywords as typed.

        Chats come in the order of their first matching subscription, keywords in id order.
        """
        ids = self._index.matched_ids(text)
        if not ids:
            return {}
        cached = list(map(self._rows.get, ids))
        rows = (
            [found or self._rows_of(i) for found, i in zip(cached, ids, strict=True)]
            if None in cached  # queries whose followers changed since they last matched
            else cast("list[tuple[_Row, ...]]", cached)
        )
        hits: dict[int, list[str]] = {}
        # by subscription id alone: ids are unique, and comparing ints is cheaper than tuples
        by_id = sorted(chain.from_iterable(rows), key=_SUBSCRIPTION_ID)
        for _, chat_id, keyword in by_id:
            found = hits.get(chat_id)
            if found is None:
                hits[chat_id] = [keyword]
            else:
                found.append(keyword)
        return hits

    def _rows_of(self, entry_id: int) -> tuple[_Row, ...]:
        """The followers of one distinct query as (subscription id, chat id, keyword), cached."""
        rows = tuple(
            (sub_id, self._owner[sub_id], self._queries[sub_id].raw)
            for sub_id in self._index.followers(entry_id)
        )
        self._rows[entry_id] = rows
        return rows

    def _forget_rows(self, query: Query) -> None:
        """Drop the cached rows of a query whose followers change (its id may be reused after)."""
        entry_id = self._index.entry_id(query.key)
        if entry_id is not None:
            self._rows.pop(entry_id, None)

    @classmethod
    def build(cls, subscriptions: list[Subscription]) -> SubscriptionBook:
        """A book from stored subscriptions; paused ones and unparsable ones are left out."""
        book = cls()
        for subscription in subscriptions:
            if subscription.paused:
                continue
            try:
                query = parse_stored(subscription.keyword)
            except QueryError:
                continue  # stored under older rules; it stays visible in /list
            book.add(subscription, query)
        return book
