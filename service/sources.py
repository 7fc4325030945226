"""A keyword's sources (issue #31): all feeds, or only those ticked for it and those whose site
is one of its site: hosts (core.keyword_ways). The book is told each keyword's feeds whenever
they change: a keyword's choice, a feed added or removed, a new site seen for a feed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from core.keyword_ways import feeds_of_sites
from core.models import Feed, Subscription
from core.subscriptions import SubscriptionBook
from service.base import Backend, Refusal
from storage import chats as chat_store
from storage import feeds as feed_store
from storage import scopes
from storage.db import Database


@dataclass(frozen=True)
class Source:
    """A feed as a keyword's source: whether the keyword reads it, and why (ticked, or its
    site named by a site: host)."""

    feed: Feed
    ticked: bool
    by_site: bool

    @property
    def read(self) -> bool:
        """Whether the keyword reads this feed."""
        return self.ticked or self.by_site


def resolve(
    subscription: Subscription, ticked: set[int], hosts: dict[int, set[str]]
) -> frozenset[int] | None:
    """The feeds a keyword reads: None (every feed) unless it is limited to some."""
    if not subscription.scoped:
        return None
    return frozenset(ticked | feeds_of_sites(subscription.sites, hosts))


def load_scopes(db: Database, book: SubscriptionBook) -> None:
    """Tell the book the feeds of every keyword limited to some (at a start, after a change to
    the feeds)."""
    hosts, ticked = scopes.feed_hosts(db), scopes.all_ticked(db)
    for subscription in chat_store.scoped_subscriptions(db):
        book.set_sites(subscription.id, subscription.sites)
        book.set_scope(
            subscription.id, resolve(subscription, ticked.get(subscription.id, set()), hosts)
        )


def unknown_site(backend: Backend, sites: tuple[str, ...]) -> Refusal | None:
    """Refused when a site: host covers none of the bot's feeds (a scope that could never
    match), naming the sites the bot has that are spelled closest to it."""
    hosts = scopes.feed_hosts(backend.db)
    for site in sites:
        if feeds_of_sites((site,), hosts):
            continue
        known = sorted(set().union(*hosts.values()))
        near = difflib.get_close_matches(site, known, n=3, cutoff=0.6)
        if near:
            return Refusal("refused_site_unknown_near", {"site": site, "near": "، ".join(near)})
        return Refusal("refused_site_unknown", {"site": site})
    return None


def set_sites(
    backend: Backend, chat_id: int, sub_id: int, sites: tuple[str, ...]
) -> Subscription | None:
    """Limit a keyword to the feeds of these site: hosts (replacing those it had; the feeds
    ticked for it stay); None if not the chat's."""
    return _rescoped(backend, chat_id, sub_id, scoped=True, sites=sites)


def shown(subscription: Subscription) -> str:
    """A keyword as typed with its site: words, as a list shows it."""
    return " ".join((subscription.keyword, *(f"site:{site}" for site in subscription.sites)))


def sources(
    backend: Backend, chat_id: int, sub_id: int
) -> tuple[Subscription, list[Source]] | None:
    """A keyword and every feed as its possible source, by title; None if not the chat's."""
    subscription = chat_store.subscription(backend.db, chat_id, sub_id)
    if subscription is None:
        return None
    ticked = scopes.ticked_feeds(backend.db, sub_id)
    by_site = feeds_of_sites(subscription.sites, scopes.feed_hosts(backend.db))
    feeds = sorted(
        feed_store.all_feeds(backend.db), key=lambda feed: (feed.title or feed.url).casefold()
    )
    return subscription, [Source(feed, feed.id in ticked, feed.id in by_site) for feed in feeds]


def set_ticked(
    backend: Backend, chat_id: int, sub_id: int, feed_ids: set[int]
) -> Subscription | Refusal | None:
    """Limit a keyword to these feeds (with its site: hosts' feeds); an empty set and no sites
    reads every feed again. Refused when a feed does not exist."""
    known = {feed.id for feed in feed_store.all_feeds(backend.db)}
    unknown = feed_ids - known
    if unknown:
        return Refusal("source_unknown", {"feed": min(unknown)})
    subscription = chat_store.subscription(backend.db, chat_id, sub_id)
    if subscription is None:
        return None
    scopes.set_ticked(backend.db, sub_id, feed_ids)
    scoped = bool(feed_ids or subscription.sites)
    return _rescoped(backend, chat_id, sub_id, scoped=scoped)


def toggle(
    backend: Backend, chat_id: int, sub_id: int, feed_id: int
) -> Subscription | Refusal | None:
    """Tick a feed for a keyword, or untick it."""
    ticked = scopes.ticked_feeds(backend.db, sub_id)
    return set_ticked(backend, chat_id, sub_id, ticked ^ {feed_id})


def every_source(backend: Backend, chat_id: int, sub_id: int) -> Subscription | None:
    """Read every feed again: no feed ticked, no site: host."""
    if chat_store.subscription(backend.db, chat_id, sub_id) is None:
        return None
    scopes.set_ticked(backend.db, sub_id, ())
    return _rescoped(backend, chat_id, sub_id, scoped=False, sites=())


def _rescoped(backend: Backend, chat_id: int, sub_id: int, **ways: object) -> Subscription | None:
    """Store a keyword's scope and tell the book its feeds now."""
    subscription = chat_store.set_subscription_ways(backend.db, chat_id, sub_id, **ways)
    if subscription is not None:
        tell_book(backend, subscription)
    return subscription


def tell_book(backend: Backend, subscription: Subscription) -> None:
    """Tell the book the feeds a keyword reads now."""
    ticked = scopes.ticked_feeds(backend.db, subscription.id)
    backend.book.set_sites(subscription.id, subscription.sites if subscription.scoped else ())
    backend.book.set_scope(
        subscription.id, resolve(subscription, ticked, scopes.feed_hosts(backend.db))
    )


def feeds_by_site(backend: Backend, subscription: Subscription) -> dict[str, set[int]]:
    """Each site: host of a keyword, in its order, and the feeds whose site it covers (a host
    no feed is known under yet has none)."""
    hosts = scopes.feed_hosts(backend.db)
    return {site: feeds_of_sites((site,), hosts) for site in subscription.sites}
