"""Where new articles enter the database: stored, grouped into stories, matched, and queued as
alerts; and where a feed's schedule is kept after each check. Shared by the poll cycle and by
feed administration (a feed's baseline items go the same way, without alerts)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from core.articles import match_text
from core.dedup import RecentStories
from core.delivery_time import DeliveryMode
from core.keyword_ways import feeds_of_sites, host_of
from core.models import Article, Chat, Feed
from core.schedule import (
    MAX_CONSECUTIVE_FAILURES,
    QUIET_CAP_SECONDS,
    next_check,
    server_min_seconds,
    should_disable,
)
from core.story_ways import HOUR, Telling, alerting, newly_reached, outlets_within
from core.subscriptions import SubscriptionBook
from core.surge import hour_of, story_time
from feeds.fetch import Fetcher, FetchResult
from intake.foreground import Foreground
from intake.prepare import Prepared, Preparer
from storage import articles as article_store
from storage import chats as chat_store
from storage import feeds as feed_store
from storage import keyword_hours, outbox, scopes
from storage.db import IDS_PER_QUERY, Database

log = logging.getLogger(__name__)

STORY_WINDOW_SECONDS = 48 * 3600
# Alerts of one article queued in one turn at the database: each costs ~65 µs there (the
# outbox's indexes and its heads trigger), so 2,000 held the event loop ~0.15 s a turn.
ALERT_CHUNK = 500
EARLIER_MATCHED = 20  # a story's earlier articles matched again when it reaches a new outlet


@dataclass
class OwedAlerts:
    """An article's alerts still to queue, a chunk a turn: the chats its keywords matched, in
    line from `turn`; each chunk's chats are read (active? its language?) when it is queued."""

    article_id: int
    story_id: int
    chats: list[tuple[int, list[str]]]
    turn: int
    language: str  # the article's: each chat takes the languages it chose
    # the story's outlets within each big-stories window (hours); None: not counted yet
    outlets: dict[int, int] | None = None


class Intake:
    """Stores articles (inside the caller's transaction) and queues alerts for new matches.

    It remembers, for one poll cycle, the recent stories (to group a new article with an
    earlier telling) and the chats it has read; `new_cycle` starts afresh, and `forget_stories`
    drops what a rolled-back transaction may have added.
    """

    def __init__(
        self, db: Database, book: SubscriptionBook, *, alert_chunk: int = ALERT_CHUNK
    ) -> None:
        self.db = db
        self.book = book
        self.alert_chunk = alert_chunk
        self._stories: RecentStories | None = None  # read from the database when first needed
        self._chats: dict[int, Chat | None] = {}  # chats read this cycle (None: not stored)

    def new_cycle(self) -> None:
        """A new poll cycle: stories and chats are read again from the database."""
        self._stories = None
        self._chats = {}

    def forget_stories(self) -> None:
        """A transaction rolled back: the stories it remembered may not exist."""
        self._stories = None

    def store(
        self, feed_id: int, articles: list[Article], now: float, *, alert: bool
    ) -> tuple[int, int]:
        """(new articles, alerts queued) for a feed's articles, oldest first so that alerts
        arrive in publishing order."""
        new, queued, _, owed = self.store_some(feed_id, in_order(articles), now, alert=alert)
        return new, queued + self._queue_all(owed, now)  # no turns here: all at once

    def store_some(
        self,
        feed_id: int,
        articles: list[Article],
        now: float,
        *,
        alert: bool,
        enough: Callable[[], bool] = lambda: False,
    ) -> tuple[int, int, list[Article], OwedAlerts | None]:
        """store() for articles already `in_order`, stopping after any article once `enough()`
        says so, or once an article's alerts are too many for one turn: (new articles, alerts
        queued, the articles left for later, the alerts owed first)."""
        new = queued = 0
        self.sites_seen(feed_id, {host_of(article.url) for article in articles})
        for done, article in enumerate(articles):
            if done and enough():
                return new, queued, articles[done:], None
            stored, article_id = article_store.store_article(self.db, feed_id, article, now)
            if stored is article_store.Stored.UNCHANGED:
                continue
            if stored is article_store.Stored.NEW:
                new += 1
                story_id = self._story_of(article, article_id, now)
                article_store.set_story(self.db, article_id, story_id)
            else:
                story_id = article_store.story_of(self.db, article_id) or article_id
            if alert:
                new_story = stored is article_store.Stored.NEW and story_id == article_id
                text = match_text(article.title, article.text)
                matched, ids = self.book.route(text, feed_id)  # one reading for both
                if new_story:  # each keyword's stories per hour, for surges (core.surge)
                    hour = hour_of(story_time(article.published_at, now))
                    keyword_hours.count_story(self.db, self.book.keys_of(ids), hour)
                alerts = OwedAlerts(
                    article_id, story_id, list(matched.items()), 0, article.language
                )
                more, owed = self._queue(alerts, now, new_story)
                queued += more
                if owed is not None:
                    return new, queued, articles[done + 1 :], owed
        return new, queued, [], None

    def queue_owed(self, owed: OwedAlerts, now: float) -> tuple[int, OwedAlerts | None]:
        """Queue the next chunk of an article's owed alerts: (how many, what is still owed)."""
        chunk, rest = owed.chats[: self.alert_chunk], owed.chats[self.alert_chunk :]
        wanted, paces = self._wanted(chunk, owed)
        queued = outbox.queue_alerts(
            self.db, wanted, story_id=owed.story_id, article_id=owed.article_id, now=now,
            first_turn=owed.turn, paces=paces,
        )  # fmt: skip
        if not rest:
            article_store.set_alerts_owed(self.db, owed.article_id, False)
            return queued, None
        return queued, replace(owed, chats=rest, turn=owed.turn + len(chunk))

    def requeue_owed(self, now: float) -> int:
        """At start: queue every alert a stop left owed (those queued are not queued twice)."""
        queued = 0
        for stored in article_store.alerts_owed(self.db):
            article = Article(
                item_key="", url=stored.url, title=stored.title, text=stored.text,
                language=stored.language, content_hash="",
            )  # fmt: skip
            matched = self._matched(article, stored.feed_id)
            owed = OwedAlerts(stored.id, stored.story_id, matched, 0, stored.language)
            queued += self._queue_all(owed, now)
        return queued

    def _queue_all(self, owed: OwedAlerts | None, now: float) -> int:
        """Queue every chunk still owed, at once; how many alerts."""
        queued = 0
        while owed is not None:
            more, owed = self.queue_owed(owed, now)
            queued += more
        return queued

    def _queue(
        self, owed: OwedAlerts, now: float, new_story: bool
    ) -> tuple[int, OwedAlerts | None]:
        """Queue an article's alerts, all at once or (past a chunk) the first chunk, the rest
        owed and the article marked until they are in."""
        owed = self._grown_story(owed, new_story)
        if len(owed.chats) <= self.alert_chunk:
            wanted, paces = self._wanted(owed.chats, owed)
            return outbox.queue_alerts(
                self.db, wanted, story_id=owed.story_id, article_id=owed.article_id, now=now,
                new_story=new_story, paces=paces,
            ), None  # fmt: skip
        article_store.set_alerts_owed(self.db, owed.article_id, True)
        return self.queue_owed(owed, now)

    def _grown_story(self, owed: OwedAlerts, new_story: bool) -> OwedAlerts:
        """Count the story's outlets for the keywords that wait for big stories; when this
        article is an outlet new to it, the chats whose such keywords matched its earlier
        articles and wait for just this many outlets join (the story matched once is enough)."""
        windows = self.book.big_story_windows()
        if not windows or new_story:
            owed.outlets = {}  # nobody waits, or the story has one outlet in every window
            return owed
        tellings = article_store.story_tellings(self.db, owed.story_id, max(windows) * HOUR)
        owed.outlets = {window: len(outlets_within(tellings, window)) for window in windows}
        reached = newly_reached(tellings, owed.article_id, windows)
        earlier = [t for t in tellings if t.article_id != owed.article_id][:EARLIER_MATCHED]
        joining = self._matched_before(earlier, reached) if reached else {}
        if not joining:
            return owed
        chats = [
            (chat_id, keywords + [k for k in joining.pop(chat_id) if k not in keywords])
            if chat_id in joining
            else (chat_id, keywords)
            for chat_id, keywords in owed.chats
        ]
        return replace(owed, chats=[*chats, *joining.items()])

    def _matched_before(
        self, earlier: list[Telling], reached: dict[int, int]
    ) -> dict[int, list[str]]:
        """The chats whose big-stories keywords match the story's `earlier` articles and wait
        for the outlets just `reached` (window → count), each with those keywords."""
        found: dict[int, list[str]] = {}
        stored = article_store.articles_by_id(self.db, [t.article_id for t in earlier])
        for telling in earlier:
            article = stored.get(telling.article_id)
            if article is None:
                continue
            text = match_text(article.title, article.text)
            for chat_id, keywords in self.book.match_big(text, telling.feed_id).items():
                for keyword in keywords:
                    own = self.book.ways_of(chat_id, keyword)
                    waits = own is not None and reached.get(own.window_hours) == own.min_outlets
                    if waits and keyword not in found.get(chat_id, ()):
                        found.setdefault(chat_id, []).append(keyword)
        return found

    def _outlets(self, owed: OwedAlerts) -> dict[int, int]:
        """The story's outlets per big-stories window, counted once per article."""
        if owed.outlets is None:
            windows = self.book.big_story_windows()
            tellings = (
                article_store.story_tellings(self.db, owed.story_id, max(windows) * HOUR)
                if windows
                else []
            )
            owed.outlets = {window: len(outlets_within(tellings, window)) for window in windows}
        return owed.outlets

    def _story_of(self, article: Article, article_id: int, now: float) -> int:
        """The story an article tells: an earlier one with its URL, or a near-identical text."""
        if article.url:
            same_url = article_store.story_by_url(self.db, article.url, exclude_id=article_id)
            if same_url is not None:
                self._remember(same_url, article.fingerprint, now)
                return same_url
        story_id = article_id
        if article.fingerprint is not None:
            story_id = self._recent_stories(now).find(article.fingerprint) or article_id
        self._remember(story_id, article.fingerprint, now)
        return story_id

    def _recent_stories(self, now: float) -> RecentStories:
        if self._stories is None:
            self._stories = RecentStories(
                article_store.recent_fingerprints(self.db, since=now - STORY_WINDOW_SECONDS)
            )
        return self._stories

    def _remember(self, story_id: int, fingerprint: int | None, now: float) -> None:
        if fingerprint is not None:
            self._recent_stories(now).add(story_id, fingerprint)

    def _chats_of(self, chat_ids: list[int]) -> dict[int, Chat | None]:
        """The chats, each read from the database once per cycle."""
        missing = [chat_id for chat_id in chat_ids if chat_id not in self._chats]
        for start in range(0, len(missing), IDS_PER_QUERY):
            batch = missing[start : start + IDS_PER_QUERY]
            loaded = chat_store.chats_by_id(self.db, batch)
            self._chats.update((chat_id, loaded.get(chat_id)) for chat_id in batch)
        return {chat_id: self._chats[chat_id] for chat_id in chat_ids}

    def _matched(self, article: Article, feed_id: int) -> list[tuple[int, list[str]]]:
        """The chats whose keywords match an article of a feed (keywords limited to other
        feeds left out), each with those keywords."""
        return list(self.book.match(match_text(article.title, article.text), feed_id).items())

    def sites_seen(self, feed_id: int, hosts: Iterable[str]) -> None:
        """Remember hosts a feed's site goes by (its <link>, its items' links): a keyword whose
        site: hosts cover one new for it reads the feed from now on, the book told at once."""
        new = scopes.record_sites(self.db, feed_id, hosts)
        if not new:
            return
        widened = {sub_id for host in new for sub_id in self.book.covering(host)}
        hosts_now = scopes.feed_hosts(self.db) if widened else {}
        for sub_id in widened:
            sites = self.book.sites_of(sub_id)
            feeds = scopes.ticked_feeds(self.db, sub_id) | feeds_of_sites(sites, hosts_now)
            self.book.set_scope(sub_id, frozenset(feeds))

    def _wanted(
        self, matched: list[tuple[int, list[str]]], owed: OwedAlerts
    ) -> tuple[dict[int, list[str]], dict[int, DeliveryMode]]:
        """Of some matched chats, those to alert: active, not paused, taking the language, with
        a keyword that alerts for the story now (core.story_ways); and the chats whose keywords
        give the alert a pace of its own."""
        if not matched:
            return {}, {}
        chats = self._chats_of([chat_id for chat_id, _ in matched])
        wanted: dict[int, list[str]] = {}
        paces: dict[int, DeliveryMode] = {}
        for chat_id, keywords in matched:
            chat = chats[chat_id]
            if chat is None or not chat.active or chat.paused or chat.banned:
                continue
            if not chat.wants_language(owed.language):
                continue
            ways = [self.book.ways_of(chat_id, keyword) for keyword in keywords]
            if not any(ways):
                wanted[chat_id] = keywords
                continue
            kept, pace = alerting(keywords, ways, chat.delivery_mode, self._outlets(owed))
            if kept:
                wanted[chat_id] = kept
                if pace is not None:
                    paces[chat_id] = pace
        return wanted, paces


class FeedSchedule:
    """When each feed is checked next: after a success (its pace, the server's wishes) or a
    failure (backing off, disabling after `max_failures` in a row, when
    `on_feed_disabled(feed, failures, kind, error)` tells the admins)."""

    def __init__(
        self,
        db: Database,
        *,
        interval_seconds: float,
        quiet_cap_seconds: float = QUIET_CAP_SECONDS,
        rng: random.Random | None = None,
        max_failures: int = MAX_CONSECUTIVE_FAILURES,
        on_feed_disabled: Callable[[Feed, int, str, str], None] = lambda *why: None,
    ) -> None:
        self.db = db
        self.interval_seconds = interval_seconds
        self.quiet_cap_seconds = quiet_cap_seconds
        self.rng = rng if rng is not None else random.Random()
        self.max_failures = max_failures
        self.on_feed_disabled = on_feed_disabled

    def succeeded(
        self,
        feed_id: int,
        result: FetchResult,
        ready: Prepared | None,
        body_hash: str | None,
        now: float,
    ) -> None:
        """Store the validators and schedule the next check (inside the caller's transaction)."""
        if ready is not None:
            feed_store.set_feed_ttl(self.db, feed_id, ready.ttl_minutes)
            ttl = ready.ttl_minutes
        else:
            ttl = feed_store.feed_ttl(self.db, feed_id)
        next_at = next_check(
            now,
            base_interval=self.interval_seconds,
            items_per_day=feed_store.items_per_day(self.db, feed_id, now),
            error_count=0,
            server_min_seconds=server_min_seconds(max_age=result.max_age, ttl_minutes=ttl),
            rng=self.rng,
            quiet_cap=self.quiet_cap_seconds,
        )
        feed_store.record_success(
            self.db,
            feed_id,
            now=now,
            next_check_at=next_at,
            etag=result.etag,
            last_modified=result.last_modified,
            body_hash=body_hash,
            title=ready.title if ready else None,
            url=result.permanent_redirect,
            site_url=ready.link if ready else None,
        )

    def failed(
        self,
        feed: Feed,
        error: str,
        now: float,
        *,
        kind: str = "fetch",
        retry_after: float | None = None,
    ) -> bool:
        """Count a failure and back off; True when it disabled the feed (admins are told)."""
        failures = feed.error_count + 1
        disable = should_disable(failures, self.max_failures)
        next_at = next_check(
            now,
            base_interval=self.interval_seconds,
            items_per_day=None,
            error_count=failures,
            server_min_seconds=server_min_seconds(retry_after=retry_after),
            rng=self.rng,
        )
        feed_store.record_failure(
            self.db, feed.id, now=now, next_check_at=next_at, error=error, disable=disable
        )
        log.warning("feed failed: %s", error, extra={"feed_url": feed.url})
        if disable:
            reason = f"{failures} consecutive failures; the last one: {error}"
            log.error("feed disabled: %s", reason, extra={"feed_url": feed.url})
            try:
                stored = feed_store.get_feed(self.db, feed.id) or feed
                self.on_feed_disabled(stored, failures, kind, error)
            except Exception:
                log.exception("on_feed_disabled failed", extra={"feed_url": feed.url})
        return disable


@dataclass(frozen=True)
class FeedWork:
    """What the poll cycle and feed administration share: the database, the fetcher, the parse
    pool, the intake and the schedule, and the turns they take at the database (one batch of
    feeds per event-loop turn, so fetches in flight are served between them)."""

    db: Database
    fetcher: Fetcher
    preparer: Preparer
    intake: Intake
    schedule: FeedSchedule
    db_turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    foreground: Foreground = field(default_factory=Foreground)  # updates answered before turns


def body_hash(body: bytes | None) -> str | None:
    """A short digest of a feed body: the same body again is not parsed again."""
    return hashlib.blake2b(body, digest_size=16).hexdigest() if body else None


def in_order(articles: list[Article]) -> list[Article]:
    """A feed's articles oldest first, the order they are stored and alerted in."""
    return sorted(articles, key=lambda a: a.published_at or 0)
