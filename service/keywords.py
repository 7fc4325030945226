"""A chat's keywords: follow, stop following, pause and resume, list, and try one on recent news
before following it (/test). The database and the live index change together."""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass

from core.keyword_ways import MAX_SITES, SiteError, feeds_of_sites, split_sites
from core.models import Chat, Subscription
from core.query import Query, QueryError, parse_query, parse_stored
from core.settings import Settings
from core.story_ways import HOUR, outlets_within
from core.trial import Trial
from service import sources
from service.base import Backend, Refusal
from service.trials import Trials
from storage import articles as article_store
from storage import chats as chat_store
from storage import scopes, shortlinks
from storage.articles import StoredArticle

_SEPARATORS = re.compile(r"[\n,،]+")
PREVIEW_BUDGET_SECONDS = 2.0  # the Mini App's as-you-type /test: the newest stories it reaches


@dataclass(frozen=True)
class Added:
    """What adding several keywords did: those followed now, and why each other one was not
    (a too_many refusal ends the list: the keywords after it were not tried)."""

    added: tuple[Subscription, ...]
    refused: tuple[Refusal, ...]


@dataclass(frozen=True)
class Scan:
    """A keyword tried on recent stories: the trial (hits newest first, stories looked at), and
    whether every story of the period was read."""

    trial: Trial[StoredArticle]
    complete: bool

    @property
    def hits(self) -> list[StoredArticle]:
        """The newest article of each story the keyword matched."""
        return self.trial.hits

    @property
    def total(self) -> int:
        """How many stories were looked at."""
        return len(self.trial.stories)


def split_keywords(text: str) -> list[str]:
    """Several keywords at once: one per line (commas also separate)."""
    return [part.strip() for part in _SEPARATORS.split(text) if part.strip()]


def parse_keyword(settings: Settings, raw: str) -> Query:
    """Parse a keyword with these settings' limits (QueryError when refused)."""
    return parse_query(
        raw, min_letters=settings.keyword_min_letters, max_length=settings.keyword_max_length
    )


def refused(raw: str, error: QueryError) -> Refusal:
    """Why a keyword was refused, as the catalog says it (refused_<code>)."""
    return Refusal(f"refused_{error.code}", {"keyword": raw, **error.params})


def parse(backend: Backend, raw: str) -> Query | Refusal:
    """The keyword parsed with the bot's limits, or why it is refused."""
    try:
        return parse_keyword(backend.settings, raw)
    except QueryError as error:
        return refused(raw, error)


def add_keyword(
    backend: Backend,
    chat: Chat,
    raw: str,
    *,
    thread_id: int | None = None,
    topic: str | None = None,
) -> Subscription | Refusal:
    """Follow one keyword for `chat` (its alerts in a forum topic when `thread_id` is given):
    parsed, within the limits, stored and in the index at once. Its `site:` words limit it to
    the feeds of those sites (typed again on a keyword already followed, they replace its
    sites); they are kept apart from the keyword's text."""
    if chat.banned:
        return Refusal("banned_notice")
    parsed = _parse_with_sites(backend, raw)
    if isinstance(parsed, Refusal):
        return parsed
    query, sites = parsed
    if sites:
        existing = _followed(backend, chat.id, query.key)
        if existing is not None:
            return _resited(backend, existing, sites)
    limit = backend.settings.max_keywords_per_chat
    if chat_store.count_subscriptions(backend.db, chat.id) >= limit:
        return Refusal("too_many", {"max": limit})
    try:
        sub_id = chat_store.add_subscription(
            backend.db, chat.id, query.raw, query.key, backend.clock(),
            thread_id=thread_id, topic=topic, sites=sites,
        )  # fmt: skip
    except chat_store.KeywordExists:
        return Refusal("already", {"keyword": query.raw})
    subscription = Subscription(
        sub_id, chat.id, query.raw, query.key, thread_id=thread_id, topic=topic,
        scoped=bool(sites), sites=sites,
    )  # fmt: skip
    backend.book.add(subscription, query)
    if sites:
        sources.tell_book(backend, subscription)
    return subscription


def _parse_with_sites(backend: Backend, raw: str) -> tuple[Query, tuple[str, ...]] | Refusal:
    """A keyword as typed parsed without its site: words, and the hosts they name; refused
    when one is not a host name, names no site of the bot's feeds, or stands alone."""
    try:
        text, sites = split_sites(raw)
    except SiteError as error:
        return Refusal(f"refused_{error.code}", {"site": error.site, "max": MAX_SITES})
    if sites and not text:
        return Refusal("refused_sites_alone", {"site": sites[0]})
    query = parse(backend, text)
    if isinstance(query, Refusal):
        return query
    unknown = sources.unknown_site(backend, sites) if sites else None
    return unknown or (query, sites)


def _followed(backend: Backend, chat_id: int, key: str) -> Subscription | None:
    """The chat's keyword with this normalized form, if it follows it."""
    return next((s for s in keywords(backend, chat_id) if s.key == key), None)


def _resited(
    backend: Backend, existing: Subscription, sites: tuple[str, ...]
) -> Subscription | Refusal:
    """A followed keyword typed again with site: words: limited to those sites from now on
    ("already" when they are the ones it has)."""
    if existing.scoped and existing.sites == sites:
        return Refusal("already", {"keyword": existing.keyword})
    changed = sources.set_sites(backend, existing.chat_id, existing.id, sites)
    return changed or Refusal("keyword_gone")


def add_keywords(
    backend: Backend,
    chat: Chat,
    raws: list[str],
    *,
    thread_id: int | None = None,
    topic: str | None = None,
) -> Added | Refusal:
    """Follow each keyword that is valid and new, in order, until the chat's limit; a banned
    chat adds none."""
    if chat.banned:
        return Refusal("banned_notice")
    added: list[Subscription] = []
    refusals: list[Refusal] = []
    for raw in raws:
        result = add_keyword(backend, chat, raw, thread_id=thread_id, topic=topic)
        if isinstance(result, Subscription):
            added.append(result)
            continue
        refusals.append(result)
        if result.message_id == "too_many":
            break
    return Added(tuple(added), tuple(refusals))


def keywords(backend: Backend, chat_id: int) -> list[Subscription]:
    """The chat's keywords, oldest first."""
    return chat_store.chat_subscriptions(backend.db, chat_id)


def remove_keyword(backend: Backend, chat_id: int, raw: str) -> Subscription | None:
    """Stop following a keyword named by its normalized form (or exactly as typed, its site:
    words aside); the removed one, or None when the chat does not follow it."""
    with contextlib.suppress(SiteError):
        raw = split_sites(raw)[0] or raw
    keys = []
    with contextlib.suppress(QueryError):
        keys.append(parse_stored(raw).key)
    keys += [s.key for s in keywords(backend, chat_id) if s.keyword == raw]
    for key in keys:
        removed = chat_store.remove_subscription(backend.db, chat_id, key)
        if removed:
            backend.book.forget(removed.id)
            return removed
    return None


def delete_keyword(backend: Backend, chat_id: int, sub_id: int) -> Subscription | None:
    """Stop following one of the chat's keywords by id; the removed one, None if not its."""
    removed = chat_store.remove_subscription_by_id(backend.db, chat_id, sub_id)
    if removed:
        backend.book.forget(removed.id)
    return removed


def set_keyword_paused(
    backend: Backend, chat_id: int, sub_id: int, paused: bool
) -> Subscription | None:
    """Pause or resume one of the chat's keywords; the keyword as it is now, None if not its."""
    sub = chat_store.set_subscription_paused(backend.db, chat_id, sub_id, paused)
    if sub is not None:
        reindex(backend, sub)
    return sub


def reindex(backend: Backend, sub: Subscription, query: Query | None = None) -> None:
    """The index as the stored keyword now says: matched (by `query`, or its text parsed)
    unless paused."""
    if sub.paused:
        backend.book.remove(sub.id)
    else:
        backend.book.add(sub, query or parse_stored(sub.keyword))
        backend.book.set_ways(sub)


def claim_test(backend: Backend, trials: Trials, chat_id: int) -> Refusal | None:
    """Reserve the chat's next /test (release it with trials.release once answered), or say how
    long to wait."""
    wait = trials.claim(chat_id, backend.clock(), backend.settings.test_cooldown_seconds)
    return Refusal("test_cooldown", {"seconds": math.ceil(wait)}) if wait else None


@dataclass(frozen=True)
class TestPlan:
    """What /test tries: the keyword, the feeds it reads (its site: words, or the scope of the
    chat's keyword with the same words; None: every feed) and that keyword, if followed."""

    query: Query
    feeds: frozenset[int] | None
    sites: tuple[str, ...]
    followed: Subscription | None


def plan_test(backend: Backend, chat_id: int, raw: str) -> TestPlan | Refusal:
    """/test's keyword as typed (site: words taken as /add takes them), with its sources."""
    parsed = _parse_with_sites(backend, raw)
    if isinstance(parsed, Refusal):
        return parsed
    query, sites = parsed
    followed = _followed(backend, chat_id, query.key)
    feeds = None
    if sites:
        feeds = frozenset(feeds_of_sites(sites, scopes.feed_hosts(backend.db)))
    elif followed is not None and followed.scoped:
        ticked = scopes.ticked_feeds(backend.db, followed.id)
        feeds = sources.resolve(followed, ticked, scopes.feed_hosts(backend.db))
    return TestPlan(query, feeds, sites, followed)


BIG_STORIES_LOOKED_AT = 200  # /test counts the big ones among this many of its newest hits


def big_stories(backend: Backend, hits: list[StoredArticle], outlets: int, hours: int) -> int:
    """How many of a keyword's matched stories `outlets` outlets carried within `hours` (what
    "big stories only" would have let through), among its newest hits."""
    return sum(
        len(
            outlets_within(
                article_store.story_tellings(backend.db, hit.story_id, hours * HOUR), hours
            )
        )
        >= outlets
        for hit in hits[:BIG_STORIES_LOOKED_AT]
    )


async def scan_recent(
    backend: Backend,
    trials: Trials,
    query: Query,
    *,
    budget: float | None = None,
    feeds: frozenset[int] | None = None,
) -> Scan:
    """The keyword tried on the stories of the last TEST_DAYS days (of `feeds` only, when
    given), within /test's cap and budget (or a smaller one), a page at a time in the parse
    pool (see service.trials)."""
    settings = backend.settings
    since = backend.clock() - settings.test_days * 86400

    def read(before_id: int | None, limit: int) -> list[StoredArticle]:
        if feeds is not None and not feeds:
            return []
        return article_store.recent_articles(
            backend.db, since, limit, before_id=before_id, feed_ids=feeds
        )

    trial: Trial[StoredArticle] = Trial(query)
    complete = await trials.run(
        trial,
        read,
        cap=settings.test_max_articles,
        budget=settings.test_budget_seconds if budget is None else budget,
    )
    return Scan(trial, complete)


async def preview(backend: Backend, trials: Trials, chat_id: int, plan: TestPlan) -> Scan | None:
    """/test as the user types (the Mini App): never waits for /test's slots nor its cooldown,
    one per chat at a time (shared with /test), a shorter budget; None when busy, so typing
    cannot queue up behind itself nor in front of a chat's /test."""
    if not trials.has_free_slot() or trials.claim(chat_id, backend.clock(), 0.0) > 0:
        return None
    budget = min(backend.settings.test_budget_seconds, PREVIEW_BUDGET_SECONDS)
    try:
        return await scan_recent(backend, trials, plan.query, budget=budget, feeds=plan.feeds)
    finally:
        trials.release(chat_id)


def story_link(backend: Backend, article: StoredArticle) -> str:
    """The link an alert gives a story: its short link when SHORTLINK_BASE_URL is set."""
    return shortlinks.alert_link(
        backend.db, article, base_url=backend.settings.shortlink_base_url, now=backend.clock()
    )
