"""People first: the poll cycle takes no new turn at the database while an update or a Mini App
request is being answered (intake.foreground), and never waits for them past a bound."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient, TestServer
from telegram import Update
from telegram.ext import TypeHandler

from core.i18n import load_catalog
from core.models import Subscription
from core.query import parse_query
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from feeds.fetch import Fetcher, FetchResult
from intake.foreground import Foreground
from intake.poll import PollReport, _Outcome
from intake.prepare import Prepared
from miniapp import make_miniapp
from service.base import Backend
from service.trials import Trials
from storage import chats as chat_store
from storage import feeds as feed_store
from tests.offline import offline_bot
from tests.pipeline import Pipeline
from tests.support import article
from tests.timing import HANG_SECONDS, eventually, within

TOKEN = "123456:" + "A" * 35


async def test_a_turn_waits_while_someone_is_answered_then_goes():
    foreground = Foreground(longest_wait=HANG_SECONDS)
    turn = asyncio.create_task(foreground.wait_turn())
    await asyncio.sleep(0)
    assert turn.done()
    assert foreground.waits == 0
    with foreground.handling():
        turn = asyncio.create_task(foreground.wait_turn())
        await eventually(lambda: foreground.waits == 1, "the turn never began to wait")
        with foreground.handling():  # a second update while the first is still handled
            assert foreground.serving == 2
        await asyncio.sleep(0)
        assert not turn.done()  # the first is still being answered
    await within(turn, "the turn after the answer")
    assert foreground.serving == 0


async def test_a_steady_stream_of_updates_slows_the_cycle_but_never_stops_it():
    foreground = Foreground(longest_wait=0.01)
    with foreground.handling():
        await within(foreground.wait_turn(), "a turn past the longest wait")
    assert foreground.waits == 1


async def test_the_bound_is_one_per_busy_spell_so_queued_turns_do_not_wait_it_each():
    """Turns wait one after another (each once it has the lock): a bound each would let one
    turn through a second while the bot is never idle."""
    now = 0.0
    foreground = Foreground(longest_wait=1.0, clock=lambda: now)
    with foreground.handling():
        now = 0.5
        early = asyncio.create_task(foreground.wait_turn())
        await eventually(lambda: foreground.waits == 1, "a turn within the bound did not wait")
        now = 1.0  # someone has been answered for the whole bound without a pause
        for _ in range(5):
            await within(foreground.wait_turn(), "a turn past the spell's bound")
        assert foreground.waits == 1
    await within(early, "the waiting turn once nobody is answered")
    with foreground.handling():  # a new spell, a new bound
        now = 1.2
        late = asyncio.create_task(foreground.wait_turn())
        await eventually(lambda: foreground.waits == 2, "a turn in a new spell did not wait")
    await within(late, "the turn after the new spell")


@pytest.fixture
async def fetcher():
    async with Fetcher(allow_private=True, timeout=2.0, max_bytes=1_000_000) as client:
        yield client


async def test_the_cycle_stores_nothing_while_an_update_is_answered(db, fetcher):
    now = time.time()
    chat_store.touch_chat(db, 7, type="private", title="", language="ar", now=now)
    query = parse_query("الرباط")
    sub_id = chat_store.add_subscription(db, 7, query.raw, query.key, now)
    book = SubscriptionBook()
    book.add(Subscription(sub_id, 7, query.raw, query.key), query)
    poller = Pipeline(db, fetcher, book, clock=time.time, interval_seconds=600).poller
    foreground = poller.work.foreground
    foreground.longest_wait = HANG_SECONDS
    url = "http://site/feed.xml"
    feed = feed_store.get_feed(
        db, feed_store.add_feed(db, url, title="", interval_seconds=600, now=now, primed=True)
    )
    item = replace(article("k", "h", url="https://site/1"), text="في الرباط خبر")
    outcome = _Outcome(
        feed, FetchResult(url, url, 200), Prepared(articles=[item]), None, PollReport()
    )
    with foreground.handling():
        storing = asyncio.create_task(poller._store(outcome))
        await eventually(lambda: foreground.waits == 1, "the cycle did not wait its turn")
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
    await within(storing, "storing after the answer")
    assert outcome.written
    assert outcome.error is None
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1


async def test_feeds_queued_for_the_database_before_an_update_still_let_it_go_first(db, fetcher):
    """Tasks already waiting for the turn lock passed their look at the foreground while nobody
    was answered: each looks again once it has the lock."""
    now = time.time()
    poller = Pipeline(db, fetcher, SubscriptionBook(), clock=time.time, interval_seconds=600).poller
    foreground = poller.work.foreground
    foreground.longest_wait = HANG_SECONDS
    outcomes = []
    for n in range(2):
        url = f"http://site/{n}.xml"
        feed_id = feed_store.add_feed(db, url, title="", interval_seconds=600, now=now, primed=True)
        item = replace(article(f"k{n}", f"h{n}", url=f"https://site/{n}"), text="خبر")
        outcomes.append(
            _Outcome(
                feed_store.get_feed(db, feed_id),
                FetchResult(url, url, 200),
                Prepared(articles=[item]),
                None,
                PollReport(),
            )  # fmt: skip
        )
    async with poller.work.db_turn:  # a turn under way: both queue for the lock
        storing = [asyncio.create_task(poller._store(outcome)) for outcome in outcomes]
        await asyncio.sleep(0)
    with foreground.handling():  # an update arrives as that turn ends
        await eventually(lambda: foreground.waits == 1, "the queued turn did not wait")
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
    await within(asyncio.gather(*storing), "storing after the answer")
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 2


async def test_the_bot_counts_each_update_while_it_handles_it(tmp_path):
    async with offline_bot(tmp_path) as bot:
        application = bot.application
        seen: list[int] = []

        async def look(update: Update, context: object) -> None:
            seen.append(application.foreground.serving)

        application.add_handler(TypeHandler(Update, look), group=-100)
        reply = await bot.private(5, "سارة").send("/help")
        assert reply.messages
        assert seen == [1]
        assert application.foreground.serving == 0
        # The poll cycle waits on the very counter the updates keep.
        assert application.bot_data.rasd.poller.work.foreground is application.foreground


async def test_a_mini_app_request_is_counted_while_it_is_answered(db):
    foreground = Foreground()
    seen: list[int] = []

    def handling():
        seen.append(foreground.serving)
        return foreground.handling()

    backend = Backend(db, SubscriptionBook(), Settings(), time.time)
    app = make_miniapp(backend, load_catalog(), Trials(), TOKEN, lambda why: None, handling)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/api/keywords")).status == 401  # answered, though refused
    assert seen == [0]
    assert foreground.serving == 0
