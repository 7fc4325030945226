"""The in-memory book of active subscriptions: one match index for all chats."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from itertools import chain
from operator import itemgetter
from typing import cast

from core.matcher import MatchIndex
from core.models import Subscription
from core.query import Query, QueryError, parse_stored

_Row = tuple[int, int, str]  # subscription id, chat id, keyword as typed
_SUBSCRIPTION_ID = itemgetter(0)
_UNSEEN = Query(raw="", key="", terms=())  # not parsed yet, in `build`'s memo


class SubscriptionBook:
    """All active (not paused) subscriptions, matched against an article in one pass.

    The index answers per distinct query (by entry id); each keeps its followers as ready rows, so
    a match costs one index lookup plus one row per matching subscription. Per subscription the
    book holds its chat (one int object per chat) and its place in the chat's tuple; the index
    holds its query, one object per distinct keyword when built by `build`.

    A subscription limited to some feeds (`set_scope`) is kept apart in its query's rows: an
    article matches it only when it comes from one of them (issue #31).
    """

    def __init__(self) -> None:
        self._index = MatchIndex()
        self._owner: dict[int, int] = {}  # subscription id -> chat id
        # chat id -> its subscription ids: a tuple, as most chats follow a few (a set costs 216 B)
        self._by_chat: dict[int, tuple[int, ...]] = {}
        self._rows: dict[int, tuple[_Row, ...]] = {}  # entry id -> followers by id; rebuilt lazily
        self._scopes: dict[int, frozenset[int]] = {}  # subscription id -> the feeds it reads
        # site: hosts: each one's subscriptions, and each subscription's (a feed seen under a
        # new host widens the scopes that cover it, found here without reading the database)
        self._by_site: dict[str, set[int]] = {}
        self._sites: dict[int, tuple[str, ...]] = {}
        # entry id -> its scoped followers' rows, each with its feeds (only entries that have some)
        self._scoped: dict[int, tuple[tuple[_Row, frozenset[int]], ...]] = {}
        self._ways = _Ways()  # the keywords with a pace or big-stories threshold of their own

    def __len__(self) -> int:
        return len(self._owner)

    def __contains__(self, subscription_id: object) -> bool:
        return subscription_id in self._owner

    def add(self, subscription: Subscription, query: Query) -> None:
        """Index a subscription (replacing it if present). A scoped one whose feeds were never
        set (`set_scope`) matches nothing until they are."""
        if subscription.scoped and subscription.id not in self._scopes:
            self._scopes[subscription.id] = frozenset()
        self._add(subscription.id, subscription.chat_id, query)

    def set_scope(self, subscription_id: int, feeds: frozenset[int] | None) -> None:
        """Limit a subscription to these feeds (None: every feed, the default); kept while it
        is paused, for when it is resumed."""
        if feeds is None:
            self._scopes.pop(subscription_id, None)
        else:
            self._scopes[subscription_id] = feeds
        self._ways.set_scope(subscription_id, feeds)
        query = self._index.query_of(subscription_id)
        if query is not None:
            self._forget_rows(query)

    def set_ways(self, subscription: Subscription) -> None:
        """Remember a subscription's pace and big-stories threshold when it has its own (after
        `add`: removing it forgets them)."""
        query = self._index.query_of(subscription.id)
        if query is None:  # paused: resuming it tells the book again
            return
        self._ways.set(subscription, query, self._scopes.get(subscription.id))

    def ways_of(self, chat_id: int, keyword: str) -> Subscription | None:
        """The subscription behind a matched keyword (as typed) of a chat, when it has a pace or
        big-stories threshold of its own; None: it goes the chat's way."""
        return self._ways.by_place.get((chat_id, keyword))

    def match_big(self, text: str, feed_id: int) -> dict[int, list[str]]:
        """`match` for the keywords that wait for big stories alone."""
        return self._ways.big.match(text, feed_id) if self._ways.big is not None else {}

    def set_sites(self, subscription_id: int, sites: tuple[str, ...]) -> None:
        """Remember a subscription's site: hosts (none: it names no site)."""
        for site in self._sites.pop(subscription_id, ()):
            self._by_site[site].discard(subscription_id)
            if not self._by_site[site]:
                del self._by_site[site]
        if sites:
            self._sites[subscription_id] = sites
            for site in sites:
                self._by_site.setdefault(site, set()).add(subscription_id)

    def sites_of(self, subscription_id: int) -> tuple[str, ...]:
        """A subscription's site: hosts."""
        return self._sites.get(subscription_id, ())

    def covering(self, host: str) -> set[int]:
        """The subscriptions with a site: host that covers `host` (it, or a domain above it)."""
        labels = host.split(".")
        found: set[int] = set()
        for start in range(len(labels) - 1):
            found |= self._by_site.get(".".join(labels[start:]), set())
        return found

    def big_story_windows(self) -> list[int]:
        """The windows (hours) that keywords waiting for big stories count outlets in; empty
        when none does."""
        return sorted(self._ways.windows)

    def drop_feed(self, feed_id: int) -> None:
        """A feed is gone: it leaves every scope that had it (one left empty matches nothing)."""
        for subscription_id, feeds in list(self._scopes.items()):
            if feed_id in feeds:
                self.set_scope(subscription_id, feeds - {feed_id})

    def scope_of(self, subscription_id: int) -> frozenset[int] | None:
        """The feeds a subscription is limited to; None: every feed."""
        return self._scopes.get(subscription_id)

    def _add(self, subscription_id: int, chat_id: int, query: Query) -> None:
        """Index one subscription of a chat (replacing it if present)."""
        self.remove(subscription_id)
        self._attach(subscription_id, chat_id, query)
        self._forget_rows(query)

    def _attach(self, subscription_id: int, chat_id: int, query: Query) -> None:
        """Index a subscription the book does not hold, leaving the cached rows alone."""
        self._index.add(subscription_id, query)
        held = self._by_chat.get(chat_id)
        if held is None:
            self._by_chat[chat_id] = (subscription_id,)
            self._owner[subscription_id] = chat_id
        else:
            self._by_chat[chat_id] = (*held, subscription_id)
            self._owner[subscription_id] = self._owner[held[0]]  # the chat's one int object

    def remove(self, subscription_id: int) -> None:
        """Drop a subscription from the index; unknown ids are ignored."""
        chat_id = self._owner.pop(subscription_id, None)
        if chat_id is None:
            return
        query = self._index.query_of(subscription_id)
        if query is not None:
            self._forget_rows(query)
            way = self._ways.by_place.get((chat_id, query.raw))
            if way is not None and way.id == subscription_id:
                self._ways.forget((chat_id, query.raw))  # its text may change (👎), or go
        self._index.remove(subscription_id)
        left = tuple(i for i in self._by_chat[chat_id] if i != subscription_id)
        if left:
            self._by_chat[chat_id] = left
        else:
            del self._by_chat[chat_id]

    def remove_chat(self, chat_id: int) -> None:
        """Drop every subscription of a chat, for good."""
        for subscription_id in self._by_chat.get(chat_id, ()):
            self.forget(subscription_id)

    def forget(self, subscription_id: int) -> None:
        """Drop a subscription for good (deleted, not paused): its scope and sites too."""
        self.remove(subscription_id)
        self._scopes.pop(subscription_id, None)
        self.set_sites(subscription_id, ())

    def move_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: its subscriptions now belong to the new id."""
        moved = self._by_chat.pop(old_id, ())
        if not moved:
            return
        self._by_chat[new_id] = (*self._by_chat.get(new_id, ()), *moved)
        for subscription_id in moved:
            self._owner[subscription_id] = new_id
            query = cast("Query", self._index.query_of(subscription_id))
            self._forget_rows(query)
            way = self._ways.by_place.get((old_id, query.raw))
            if way is not None:
                self._ways.forget((old_id, query.raw))
                self.set_ways(replace(way, chat_id=new_id))

    def match(self, text: str, feed_id: int | None = None) -> dict[int, list[str]]:
        """Chats whose keywords match `text` (an article of `feed_id`: scoped keywords that do
        not read it are left out; None: every scope taken), each with its matched keywords as
        typed. Chats come in the order of their first matching subscription, keywords in id
        order."""
        return self.route(text, feed_id)[0]

    def route(self, text: str, feed_id: int | None = None) -> tuple[dict[int, list[str]], set[int]]:
        """`match`, and the ids of the distinct keywords that match (whoever follows them, see
        `keys_of`): what intake needs from one reading of an article."""
        ids = self._index.matched_ids(text)
        return self._fan_out(ids, feed_id), ids

    def keys_of(self, entry_ids: set[int]) -> list[str]:
        """The keys of distinct keywords by the ids `route` gave."""
        return list(map(self._index.key_of, entry_ids))

    def _fan_out(self, ids: set[int], feed_id: int | None) -> dict[int, list[str]]:
        """The chats that follow these distinct keywords (within their scopes), each with its
        keywords as typed."""
        if not ids:
            return {}
        cached = list(map(self._rows.get, ids))
        rows: list[Sequence[_Row]] = (
            [
                self._rows_of(i) if found is None else found
                for found, i in zip(cached, ids, strict=True)
            ]
            if None in cached  # queries whose followers changed since they last matched
            else cast("list[Sequence[_Row]]", cached)
        )
        scoped = self._scoped
        if scoped and (hit := scoped.keys() & ids):
            # one pass over every scoped follower hit (not a tuple per query): bench/match.py
            if feed_id is None:
                rows.append([row for entry_id in hit for row, _ in scoped[entry_id]])
            else:
                rows.append(
                    [row for entry_id in hit for row, feeds in scoped[entry_id] if feed_id in feeds]
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

    def matched_keys(self, text: str) -> set[str]:
        """The keys of the distinct keywords that match `text`, whoever follows them."""
        return self._index.matched_keys(text)

    def _rows_of(self, entry_id: int) -> tuple[_Row, ...]:
        """The followers of one distinct query as (subscription id, chat id, keyword), cached;
        its scoped followers' rows go apart, with their feeds."""
        query_of, owner, scopes = self._index.query_of, self._owner, self._scopes
        rows = tuple(
            (sub_id, owner[sub_id], cast("Query", query_of(sub_id)).raw)
            for sub_id in self._index.followers(entry_id)
        )
        if scopes and any(row[0] in scopes for row in rows):
            self._scoped[entry_id] = tuple(
                (row, scopes[row[0]]) for row in rows if row[0] in scopes
            )
            rows = tuple(row for row in rows if row[0] not in scopes)
        self._rows[entry_id] = rows
        return rows

    def _forget_rows(self, query: Query) -> None:
        """Drop the cached rows of a query whose followers change (its id may be reused after)."""
        entry_id = self._index.entry_id(query.key)
        if entry_id is not None:
            self._rows.pop(entry_id, None)
            self._scoped.pop(entry_id, None)

    @classmethod
    def build(cls, rows: Iterable[tuple[int, int, str]]) -> SubscriptionBook:
        """A book from stored active subscriptions as (id, chat id, keyword as typed), read as
        they come; keywords that no longer parse are left out. Each distinct keyword is parsed
        once and its query shared: a million subscriptions repeat some 130,000 keywords."""
        book = cls()
        parsed: dict[str, Query | None] = {}
        for subscription_id, chat_id, keyword in rows:
            query = parsed.get(keyword, _UNSEEN)
            if query is _UNSEEN:
                try:
                    query = parsed[keyword] = parse_stored(keyword)
                except QueryError:
                    query = parsed[keyword] = None  # stored under older rules; it stays in /list
            if query is not None:  # ids are unique and no rows are cached yet
                book._attach(subscription_id, chat_id, query)
        book._index.prepare()
        return book


class _Ways:
    """The subscriptions with a pace or big-stories threshold of their own (core.keyword_ways),
    by (chat id, keyword as typed), read when their matches are queued. Those that wait for big
    stories are also in a book of their own: a story's earlier articles are matched again
    against them alone when it reaches a new outlet."""

    def __init__(self) -> None:
        self.by_place: dict[tuple[int, str], Subscription] = {}
        # window hours -> how many wait for big stories within it (intake counts a story's
        # outlets only while some do)
        self.windows: Counter[int] = Counter()
        self.big: SubscriptionBook | None = None

    def set(self, subscription: Subscription, query: Query, scope: frozenset[int] | None) -> None:
        """Keep a subscription's own ways (none: forget them)."""
        place = (subscription.chat_id, subscription.keyword)
        self.forget(place)
        if subscription.pace is None and subscription.min_outlets == 1:
            return
        self.by_place[place] = subscription
        if subscription.min_outlets > 1:
            self.windows[subscription.window_hours] += 1
            if self.big is None:
                self.big = SubscriptionBook()
            self.big.add(subscription, query)
            if scope is not None:
                self.big.set_scope(subscription.id, scope)

    def forget(self, place: tuple[int, str]) -> None:
        """Forget the ways kept for a (chat, keyword as typed)."""
        before = self.by_place.pop(place, None)
        if before is None or before.min_outlets == 1:
            return
        self.windows[before.window_hours] -= 1
        if self.windows[before.window_hours] <= 0:
            del self.windows[before.window_hours]
        if self.big is not None:
            self.big.forget(before.id)

    def set_scope(self, subscription_id: int, feeds: frozenset[int] | None) -> None:
        """A big-stories subscription's feeds, in its own book too."""
        if self.big is not None and subscription_id in self.big:
            self.big.set_scope(subscription_id, feeds)
