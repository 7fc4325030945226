"""Surge notices (issue #31, core.surge): when a followed keyword is in many more stories than
usual, each chat that wants to know gets one short notice with the three stories the most
outlets carry, queued as a notice (quiet hours hold it like any other).

The check is cheap however many keywords are followed: each new story is matched once, when the
check first sees it, and kept for an hour with its keyword keys; only the keys that got a new
story since the last check are weighed, and only those past the rule's floor read their usual
(storage.keyword_hours) and their followers.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.articles import match_text
from core.i18n import Catalog, Plural, Raw
from core.keyword_ways import surges_on
from core.models import Chat, Subscription
from core.query import QueryError, parse_stored
from core.render import (
    SHOWN_KEYWORD_CHARS,
    SHOWN_SOURCE_CHARS,
    SHOWN_TITLE_CHARS,
    anchor_html,
    escape,
    fit_message,
    shorten,
)
from core.surge import (
    HOUR,
    RULE,
    Surge,
    SurgeRule,
    shown_usual,
    spaced_since,
    story_time,
    surge,
    usual_hours,
    usual_of,
)
from service.base import Backend
from storage import articles as article_store
from storage import chats as chat_store
from storage import keyword_hours, outbox, shortlinks
from storage.articles import StoredArticle
from storage.db import IDS_PER_QUERY

TOP_STORIES = 3
SHOWN_SOURCES = 3
CHECK_SECONDS = 600.0  # how often the bot looks (app.telegram_app)


@dataclass(frozen=True)
class _Seen:
    at: float  # when the story counts (core.surge.story_time)
    article_id: int
    keys: frozenset[str]


class SurgeWatch:
    """The last hour's new stories with their keyword keys, and the check that weighs them."""

    def __init__(self, rule: SurgeRule = RULE) -> None:
        self.rule = rule
        self._window: list[_Seen] = []
        self._last_id: int | None = None  # the newest article seen (None: none read yet)

    def check(self, backend: Backend, catalog: Catalog) -> int:
        """Weigh the keywords that got new stories since the last check; notices queued."""
        now = backend.clock()
        moved = self._read_new(backend, now)
        self._window = [seen for seen in self._window if seen.at > now - HOUR]
        # each moved key's stories of the hour, in one pass over the window (not a pass a key:
        # tens of thousands of keys move in a busy hour)
        stories: dict[str, list[int]] = {}
        for seen in self._window:
            for key in seen.keys & moved:
                stories.setdefault(key, []).append(seen.article_id)
        queued = 0
        for key in sorted(stories):
            ids = stories[key]
            if len(ids) < self.rule.floor:
                continue
            found = self._weigh(backend, key, len(ids), now)
            if found is not None:
                queued += notify(backend, catalog, key, found, ids, now, self.rule)
        return queued

    def _read_new(self, backend: Backend, now: float) -> set[str]:
        """Match the stories stored since the last check; the keys they moved."""
        rows = keyword_hours.new_stories(backend.db, since=now - HOUR, after_id=self._last_id)
        moved: set[str] = set()
        fresh = []
        for article_id, title, text, published_at, fetched_at in rows:
            self._last_id = article_id
            at = story_time(published_at, fetched_at)
            if at <= now - HOUR:
                continue
            keys = frozenset(backend.book.matched_keys(match_text(title, text)))
            fresh.append(_Seen(at, article_id, keys))
            moved |= keys
        self._window.extend(fresh)
        if self._last_id is None:  # nothing in the last hour: start after the newest
            self._last_id = keyword_hours.newest_article_id(backend.db)
        return moved

    def _weigh(self, backend: Backend, key: str, stories: int, now: float) -> Surge | None:
        """The keyword's surge, if its last hour makes one against its usual."""
        hours = usual_hours(now, keyword_hours.first_hour(backend.db, key), self.rule)
        if hours is None:
            return None
        by_hour = keyword_hours.hours_of(backend.db, key, hours.start, hours.stop)
        return surge(stories, usual_of(by_hour, hours, self.rule), self.rule)


def notify(
    backend: Backend,
    catalog: Catalog,
    key: str,
    found: Surge,
    article_ids: list[int],
    now: float,
    rule: SurgeRule = RULE,
) -> int:
    """Queue a keyword's surge notice to each chat that follows it with surges on, not paused,
    and not told of it within the rule's spacing; how many. A keyword limited to some sources
    is told only when its feeds' stories make a surge of their own, and shown only those."""
    db = backend.db
    ranked = ranked_stories(backend, article_ids)
    if not ranked:
        return 0
    subscriptions = _followers(backend, key, ranked[0][0])
    chats = _chats(backend, sorted({sub.chat_id for sub in subscriptions}))
    recent = keyword_hours.noticed_since(
        db, [sub.id for sub in subscriptions], spaced_since(now, rule)
    )
    queued, told = 0, set()
    texts: dict[tuple[str, str, int, tuple[int, ...]], str] = {}  # built once for each
    for sub in subscriptions:
        chat = chats.get(sub.chat_id)
        if chat is None or not chat.active or chat.paused or chat.banned or sub.chat_id in told:
            continue
        if not surges_on(sub, chat.delivery_mode) or sub.id in recent:
            continue
        mine, share = _own_surge(backend.book.scope_of(sub.id), ranked, found, rule)
        if share is None:
            continue
        place = (chat.language, sub.keyword, share.stories, tuple(e[0].id for e in mine))
        if place not in texts:
            texts[place] = surge_text(backend, catalog, chat.language, sub.keyword, share, mine)
        text = texts[place]
        outbox.queue_notice(db, chat.id, text, now=now, keywords=(sub.keyword,))
        keyword_hours.record_surge(db, sub.id, now, share.stories, share.usual)
        told.add(sub.chat_id)
        queued += 1
    return queued


def _own_surge(
    scope: frozenset[int] | None,
    ranked: list[tuple[StoredArticle, list[str]]],
    found: Surge,
    rule: SurgeRule,
) -> tuple[list[tuple[StoredArticle, list[str]]], Surge | None]:
    """A keyword's share of a surge: every story, or, limited to some feeds, the stories of its
    feeds, which must make a surge of their own against the keyword's usual; its top stories."""
    if scope is None:
        return ranked[:TOP_STORIES], found
    own = [entry for entry in ranked if entry[0].feed_id in scope]
    return own[:TOP_STORIES], surge(len(own), found.usual, rule)


def top_stories(backend: Backend, article_ids: list[int]) -> list[tuple[StoredArticle, list[str]]]:
    """The TOP_STORIES stories carried by the most outlets (see `ranked_stories`)."""
    return ranked_stories(backend, article_ids)[:TOP_STORIES]


def ranked_stories(
    backend: Backend, article_ids: list[int]
) -> list[tuple[StoredArticle, list[str]]]:
    """The stories, those carried by the most outlets first (the newest first among equals),
    each with its outlets, first teller first."""
    articles = article_store.articles_by_id(backend.db, article_ids)
    sources = article_store.story_sources(backend.db, list(articles))
    ranked = sorted(
        articles.values(), key=lambda article: (-len(sources.get(article.id, ())), -article.id)
    )
    return [(article, sources.get(article.id, [])) for article in ranked]


def _followers(backend: Backend, key: str, article: StoredArticle) -> list[Subscription]:
    """The active subscriptions to a keyword key: its followers are the chats whose keywords of
    that key match one of its stories (every scope taken), read back from storage."""
    matched = backend.book.match(match_text(article.title, article.text))
    keys: dict[str, str | None] = {}
    chat_ids = []
    for chat_id, keywords in matched.items():
        for keyword in keywords:
            if keyword not in keys:
                keys[keyword] = _key_of(keyword)
            if keys[keyword] == key:
                chat_ids.append(chat_id)
                break
    return keyword_hours.followers(backend.db, chat_ids, key)


def _key_of(keyword: str) -> str | None:
    try:
        return parse_stored(keyword).key
    except QueryError:
        return None


def _chats(backend: Backend, chat_ids: list[int]) -> dict[int, Chat]:
    chats: dict[int, Chat] = {}
    for start in range(0, len(chat_ids), IDS_PER_QUERY):
        chats.update(chat_store.chats_by_id(backend.db, chat_ids[start : start + IDS_PER_QUERY]))
    return chats


def surge_text(
    backend: Backend,
    catalog: Catalog,
    language: str,
    keyword: str,
    found: Surge,
    top: list[tuple[StoredArticle, list[str]]],
) -> str:
    """The notice: the keyword, its count against the usual, and the top stories as links."""
    usual = shown_usual(found.usual)
    head = catalog.text(
        language,
        "surge_notice" if usual else "surge_notice_rare",
        keyword=shorten(keyword, SHOWN_KEYWORD_CHARS),
        stories=Plural("n_stories", found.stories),
        usual=usual,
    )
    lines = [head, "", catalog.text(language, "surge_top")]
    for article, sources in top:
        title = escape(shorten(article.title, SHOWN_TITLE_CHARS)) or escape(article.url)
        link = shortlinks.alert_link(
            backend.db, article, base_url=backend.settings.shortlink_base_url, now=backend.clock()
        )
        shown = [shorten(source, SHOWN_SOURCE_CHARS) for source in sources[:SHOWN_SOURCES]]
        lines.append(
            catalog.text(
                language,
                "surge_line",
                title=Raw(anchor_html(link, title) if link else title),
                sources="، ".join(shown) + ("…" if len(sources) > SHOWN_SOURCES else ""),
            )
        )
    return fit_message("\n".join(lines))
