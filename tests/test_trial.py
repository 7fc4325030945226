"""/test's scan: the query's index reused, a cap, a time budget, a cooldown, off the event loop."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from core.matcher import find_matches
from core.models import Article
from core.query import parse_query
from core.trial import Trial
from intake.prepare import parse_pool
from service.trials import PAGE, Trials
from storage import articles as article_store
from storage import feeds as feed_store
from tests.data import ARABIC_FEEDS
from tests.support import feed_texts

NOW = 1_800_000_000.0


@dataclass(frozen=True)
class Told:
    title: str
    text: str
    story_id: int
    id: int = 0


class Ticks:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_a_trial_agrees_with_find_matches_story_by_story():
    texts = [text for path in ARABIC_FEEDS for text in feed_texts(path)]
    articles = [Told("", text, story_id=index // 2) for index, text in enumerate(texts)]
    for keyword in ("المغرب", "وزير الخارجية", "غزة|لبنان", "الرئيس -ترامب"):
        query = parse_query(keyword)
        trial: Trial[Told] = Trial(query)
        assert trial.scan(articles[:40], lambda: False)
        assert trial.scan(articles[40:], lambda: False)  # a second page, the same index
        expected, seen = [], set()
        for article in articles:
            if article.story_id not in seen and find_matches(query, article.text):
                seen.add(article.story_id)
                expected.append(article)
        assert trial.hits == expected, keyword
        assert trial.scanned == len(articles)
        assert trial.stories == {a.story_id for a in articles}


def test_a_trial_stops_when_its_time_is_up():
    articles = [Told("", text, story_id=i) for i, text in enumerate(feed_texts(ARABIC_FEEDS[0]))]
    clock = Ticks()
    deadline = clock() + 5
    trial: Trial[Told] = Trial(parse_query("المغرب"))
    assert not trial.scan(articles, lambda: clock() >= deadline)
    assert trial.scanned == 4  # the clock read before each article: 2, 3, 4, 5, then 6


def store_articles(db, count: int) -> None:
    feed_id = feed_store.add_feed(
        db, "http://x.example/feed", title="أخبار", interval_seconds=300, now=NOW, added_by=None
    )
    texts = [text for path in ARABIC_FEEDS for text in feed_texts(path)]  # the 70 real items
    for number in range(count):
        text = texts[number % len(texts)]
        article = Article(
            f"k{number}", f"https://x.example/{number}", f"خبر {number}", text, "ar", ""
        )
        article_store.store_article(db, feed_id, article, NOW)


def reader(db):
    def read(before_id, limit):
        return article_store.recent_articles(db, NOW - 86400, limit, before_id=before_id)

    return read


async def test_the_scan_reads_pages_up_to_the_cap_and_says_when_more_were_left(db):
    store_articles(db, PAGE + 50)
    trials = Trials()
    whole: Trial = Trial(parse_query("المغرب"))
    assert await trials.run(whole, reader(db), cap=10_000, budget=60)
    assert whole.scanned == PAGE + 50
    capped: Trial = Trial(parse_query("المغرب"))
    assert not await trials.run(capped, reader(db), cap=PAGE + 10, budget=60)
    assert capped.scanned == PAGE + 10
    assert capped.hits == whole.hits[: len(capped.hits)]  # the newest first, in both
    exact: Trial = Trial(parse_query("المغرب"))
    assert await trials.run(exact, reader(db), cap=PAGE + 50, budget=60)  # nothing was left
    assert (trials.started, trials.finished, trials.stopped_early) == (3, 3, 1)


async def test_the_scan_stops_at_its_budget_and_runs_outside_the_event_loop_thread(db):
    store_articles(db, PAGE * 3)
    trials = Trials(monotonic=Ticks())
    threads = []
    trials.on_page = lambda scanned: threads.append(threading.get_ident())
    trial: Trial = Trial(parse_query("المغرب"))
    assert not await trials.run(trial, reader(db), cap=10_000, budget=10)
    assert 0 < trial.scanned < PAGE
    assert threads
    assert threading.get_ident() not in threads


def test_one_test_per_chat_at_a_time_and_per_cooldown():
    trials = Trials()
    assert trials.claim(1, NOW, cooldown=10) == 0
    assert trials.claim(2, NOW, cooldown=10) == 0  # another chat is not held up
    assert trials.claim(1, NOW + 3, cooldown=10) == 7
    trials.release(1)
    assert trials.claim(1, NOW + 3, cooldown=10) == 7
    assert trials.claim(1, NOW + 10, cooldown=10) == 0
    assert trials.claim(1, NOW + 30, cooldown=10) == 1  # still running: wait at least a second
    trials.release(1)
    assert trials.claim(1, NOW + 30, cooldown=0) == 0


def test_cooldowns_that_ended_are_forgotten():
    trials = Trials()
    for chat_id in range(1500):
        trials.claim(chat_id, NOW, cooldown=10)
        trials.release(chat_id)
    trials.claim(99_999, NOW + 60, cooldown=10)
    assert list(trials.last_started) == [99_999]


async def test_in_the_process_pool_the_scan_finds_what_a_thread_finds(db):
    store_articles(db, PAGE + 50)
    pool = parse_pool(1)
    try:
        in_threads, in_pool = Trials(), Trials(executor=pool)
        for keyword in ("المغرب", "وزير الخارجية", "الرئيس -ترامب"):
            threaded: Trial = Trial(parse_query(keyword))
            pooled: Trial = Trial(parse_query(keyword))
            assert await in_threads.run(threaded, reader(db), cap=10_000, budget=600)
            assert await in_pool.run(pooled, reader(db), cap=10_000, budget=600)
            assert [a.id for a in pooled.hits] == [a.id for a in threaded.hits], keyword
            assert (pooled.scanned, pooled.stories) == (threaded.scanned, threaded.stories)
    finally:
        pool.shutdown()


async def test_in_the_process_pool_the_scan_stops_at_its_budget(db):
    store_articles(db, PAGE * 2)
    pool = parse_pool(1)
    try:
        trials = Trials(executor=pool)
        trial: Trial = Trial(parse_query("المغرب"))
        assert not await trials.run(trial, reader(db), cap=10_000, budget=0)
        assert trial.scanned < PAGE
        assert trials.stopped_early == 1
    finally:
        pool.shutdown()
