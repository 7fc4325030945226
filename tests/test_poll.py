"""The poll job on real loopback feeds and a real SQLite file: scheduling, health, dedup, OPML."""

from __future__ import annotations

import asyncio
import os
import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from core.dedup import SAME_STORY_DISTANCE, RecentStories
from core.models import Feed, Subscription
from core.opml import OpmlFeed, build_opml, parse_opml
from core.query import parse_query
from core.subscriptions import SubscriptionBook
from feeds.fetch import Fetcher, FetchResult
from intake.poll import WRITE_BATCH, WRITE_ITEMS, WRITE_SECONDS, PollReport, _Outcome
from intake.prepare import PARSE_WORKER_NICENESS, Prepared, parse_and_prepare, parse_pool
from intake.store import Intake
from storage import articles as article_store
from storage import chats as chat_store
from storage import feeds as feed_store
from tests.feedserver import FeedServer, make_rss, sample_items
from tests.pipeline import Pipeline
from tests.support import article
from tests.timing import eventually, within

BASE = 300.0
START = datetime(2026, 3, 24, 12, 0, tzinfo=UTC).timestamp()  # sample_items are from that morning
CHAT = 77


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class NoJitter(random.Random):
    """uniform() gives the low end, so schedules are exact."""

    def uniform(self, a: float, b: float) -> float:
        return a


def story(number: int, title: str, text: str, hours_ago: float = 1.0) -> dict:
    return {
        "title": title,
        "link": f"https://news.example/{number}",
        "guid": f"news-{number}",
        "content": f"<p>{text}</p>",
        "pubDate": datetime.fromtimestamp(START - hours_ago * 3600, UTC),
    }


FLOOD = story(
    1,
    "فيضانات تجتاح مدينة الرباط بعد أمطار غزيرة",
    "اجتاحت الفيضانات أحياء واسعة من مدينة الرباط بعد أمطار غزيرة استمرت يومين، "
    "وأعلنت السلطات إجلاء مئات الأسر من المناطق المنخفضة وفتح مراكز إيواء مؤقتة.",
)
OIL = story(
    2,
    "أسعار النفط ترتفع في الأسواق العالمية",
    "ارتفعت أسعار النفط اليوم في الأسواق العالمية بعد تراجع المخزونات الأمريكية "
    "للأسبوع الثالث على التوالي، وقال محللون إن الأسعار قد تواصل الصعود.",
)


@pytest.fixture
async def server():
    async with FeedServer() as feed_server:
        yield feed_server


@pytest.fixture
async def fetcher():
    async with Fetcher(allow_private=True, timeout=2.0, max_bytes=1_000_000) as client:
        yield client


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def book(db, clock):
    """A chat following الرباط."""
    chat_store.touch_chat(db, CHAT, type="private", title="", language="ar", now=clock())
    query = parse_query("الرباط")
    sub_id = chat_store.add_subscription(db, CHAT, query.raw, query.key, clock())
    subscriptions = SubscriptionBook()
    subscriptions.add(Subscription(sub_id, CHAT, query.raw, query.key), query)
    return subscriptions


def poller_for(db, fetcher, book, clock, **options) -> Pipeline:
    return Pipeline(
        db, fetcher, book, clock=clock, interval_seconds=BASE, rng=NoJitter(), **options
    )


def primed_feed(db, url: str, clock: Clock) -> int:
    """A feed whose current items are news (no baseline)."""
    return feed_store.add_feed(db, url, title="", interval_seconds=BASE, now=clock(), primed=True)


def outbox_count(db) -> int:
    return db.execute("SELECT count(*) FROM outbox").fetchone()[0]


# --- new items, 304 and unchanged bodies ----------------------------------------------------


async def test_baseline_then_new_item_alerts_then_304_parses_nothing(server, db, fetcher, book):
    clock = Clock()
    poller = poller_for(db, fetcher, book, clock)
    server.set_feed("/rss", make_rss("أخبار", [OIL]), etag='"v1"')
    added = await poller.add_feed(server.url("/rss"), added_by=1)
    assert (added.title, added.item_count, added.error) == ("أخبار", 1, None)

    server.set_feed("/rss", make_rss("أخبار", [OIL, FLOOD]), etag='"v2"')
    clock.advance(BASE)
    assert (await poller.run_once()).feeds_checked == 0  # one item a day: checked half-hourly
    clock.advance(5 * BASE)
    report = await poller.run_once()
    assert (report.feeds_checked, report.feeds_parsed, report.articles_new) == (1, 1, 1)
    assert report.alerts_queued == 1
    assert outbox_count(db) == 1

    clock.advance(3600)
    report = await poller.run_once()
    assert report.feeds_not_modified == 1
    assert report.feeds_parsed == 0
    assert server.requests_to("/rss")[-1].headers["if-none-match"] == '"v2"'
    assert outbox_count(db) == 1


async def test_settled_waits_for_a_cycle_someone_else_started(server, db, fetcher, book):
    clock = Clock()
    pipeline = poller_for(db, fetcher, book, clock)
    server.set_feed("/rss", make_rss("أخبار", [OIL]))
    await pipeline.add_feed(server.url("/rss"), added_by=1)
    server.set_feed("/rss", make_rss("أخبار", [OIL, FLOOD]))
    clock.advance(6 * BASE)
    poller = pipeline.poller
    cycle = asyncio.create_task(poller.run_once())  # the bot's poll job, say
    await asyncio.sleep(0)  # its first step: the cycle begun, its fetch awaited
    assert poller.running
    await within(poller.settled(), "settled")
    assert not poller.running
    assert outbox_count(db) == 1  # its new item stored and alerted before settled returned
    assert (await cycle).articles_new == 1


async def test_a_server_ignoring_validators_is_not_parsed_again(server, db, fetcher, book, clock):
    poller = poller_for(db, fetcher, book, clock)
    server.set_feed("/rss", make_rss("أخبار", [OIL]), etag='"v1"', ignore_conditional=True)
    await poller.add_feed(server.url("/rss"), added_by=1)
    clock.advance(3600)
    report = await poller.run_once()
    assert server.requests_to("/rss")[-1].headers["if-none-match"] == '"v1"'
    assert (report.feeds_unchanged, report.feeds_parsed, report.feeds_not_modified) == (1, 0, 0)

    server.set_feed("/rss", make_rss("أخبار", [OIL, FLOOD]), etag='"v1"', ignore_conditional=True)
    clock.advance(3600)
    report = await poller.run_once()
    assert (report.feeds_unchanged, report.feeds_parsed, report.articles_new) == (0, 1, 1)
    assert report.parse_cpu_seconds > 0


async def test_the_same_story_in_two_feeds_alerts_once(server, db, fetcher, book, clock):
    poller = poller_for(db, fetcher, book, clock)
    copy = dict(FLOOD, link="https://other.example/flood-rabat", guid="other-1")
    server.set_feed("/a", make_rss("أ", [FLOOD]))
    server.set_feed("/b", make_rss("ب", [copy]))
    primed_feed(db, server.url("/a"), clock)
    primed_feed(db, server.url("/b"), clock)
    report = await poller.run_once()
    assert report.articles_new == 2
    assert report.alerts_queued == 1
    stories = db.execute("SELECT DISTINCT story_id FROM articles").fetchall()
    assert len(stories) == 1


# --- scheduling ---------------------------------------------------------------------------


async def test_backoff_doubles_then_disables_once_then_an_admin_re_enables(
    server, db, fetcher, book, clock
):
    disabled = []
    poller = poller_for(
        db,
        fetcher,
        book,
        clock,
        max_failures=3,
        on_feed_disabled=lambda f, n, kind, error: disabled.append((f, n, kind, error)),
    )
    server.set_feed("/rss", "server error", status=500)
    feed_id = primed_feed(db, server.url("/rss"), clock)

    gaps = []
    for _ in range(3):
        report = await poller.run_once()
        assert report.errors == {server.url("/rss"): "HTTP 500"}
        feed = feed_store.get_feed(db, feed_id)
        gaps.append(feed.next_check_at - clock())
        clock.advance(feed.next_check_at - clock())
    assert gaps == [2 * BASE, 4 * BASE, 8 * BASE]
    assert feed.error_count == 3
    assert feed.disabled
    assert len(disabled) == 1
    feed_then, failures, kind, error = disabled[0]
    assert feed_then.id == feed_id
    assert feed_then.disabled
    assert (failures, kind, error) == (3, "http", "HTTP 500")

    requests = len(server.requests_to("/rss"))
    clock.advance(10 * 86_400)
    report = await poller.run_once()
    assert report.feeds_checked == 0
    assert len(server.requests_to("/rss")) == requests
    assert len(disabled) == 1  # told once

    server.set_feed("/rss", make_rss("عاد", [OIL]))
    feed_store.set_feed_disabled(db, feed_id, False, clock())
    report = await poller.run_once()  # due at once, without waiting for the backoff
    assert (report.feeds_checked, report.feeds_failed, report.articles_new) == (1, 0, 1)
    feed = feed_store.get_feed(db, feed_id)
    assert (feed.disabled, feed.error_count, feed.last_error) == (False, 0, None)
    stats = {s.id: s for s in feed_store.feed_stats(db, clock())}[feed_id]
    assert stats.disabled_at is None


@pytest.mark.parametrize(("status", "seconds"), [(429, 7200), (503, 90)])
async def test_retry_after_is_honoured(server, db, fetcher, book, clock, status, seconds):
    poller = poller_for(db, fetcher, book, clock)
    server.set_hostile("/rss", "retry_after", status=status, retry_after=seconds)
    feed_id = primed_feed(db, server.url("/rss"), clock)
    await poller.run_once()
    feed = feed_store.get_feed(db, feed_id)
    assert feed.last_error == f"HTTP {status}"
    # The longer of the backoff (2 x 300 s) and what the server asked for.
    assert feed.next_check_at - clock() == max(seconds, 2 * BASE)


async def test_ttl_and_max_age_are_honoured_even_on_304(server, db, fetcher, book, clock):
    poller = poller_for(db, fetcher, book, clock)
    with_ttl = make_rss("أخبار", [OIL]).replace("<language>ar</language>", "<ttl>60</ttl>")
    server.set_feed("/ttl", with_ttl, etag='"t"')
    server.set_feed(
        "/cached", make_rss("أخبار", [FLOOD]), headers={"Cache-Control": "max-age=3000"}
    )
    ttl_id = primed_feed(db, server.url("/ttl"), clock)
    cached_id = primed_feed(db, server.url("/cached"), clock)
    await poller.run_once()
    assert feed_store.get_feed(db, ttl_id).next_check_at - clock() == 3600
    # One item a day would mean every 30 minutes; the server asks for 50.
    assert feed_store.get_feed(db, cached_id).next_check_at - clock() == 3000

    clock.advance(3600)
    report = await poller.run_once()
    assert report.feeds_not_modified == 1  # the ttl feed: not parsed, its <ttl> still holds
    assert feed_store.get_feed(db, ttl_id).next_check_at - clock() == 3600


async def test_quiet_feeds_are_checked_less_often_than_busy_ones(server, db, fetcher, book, clock):
    poller = poller_for(db, fetcher, book, clock)
    busy = [
        story(100 + n, f"خبر عاجل رقم {n}", f"نص الخبر العاجل رقم {n}.", n * 0.25)
        for n in range(40)
    ]
    quiet = [story(200 + n, f"مقال أسبوعي {n}", f"نص المقال رقم {n}.", n * 72) for n in range(3)]
    server.set_feed("/busy", make_rss("عاجل", busy))
    server.set_feed("/quiet", make_rss("أسبوعي", quiet))
    busy_id = (await poller.add_feed(server.url("/busy"), added_by=1)).feed_id
    quiet_id = (await poller.add_feed(server.url("/quiet"), added_by=1)).feed_id
    stats = {s.id: s for s in feed_store.feed_stats(db, clock())}
    assert stats[busy_id].items_per_day == pytest.approx(40.0)  # 40 items within 10 hours
    assert stats[quiet_id].items_per_day == pytest.approx(3 / 6)  # one every three days
    assert feed_store.get_feed(db, busy_id).next_check_at - clock() == pytest.approx(540)
    assert feed_store.get_feed(db, quiet_id).next_check_at - clock() == 6 * BASE


# --- redirects and charsets ---------------------------------------------------------------


async def test_permanent_redirect_moves_the_feed_unless_the_url_is_taken(
    server, db, fetcher, book, clock
):
    poller = poller_for(db, fetcher, book, clock)
    server.set_feed("/new", make_rss("أخبار", [OIL]))
    server.set_feed("/taken", make_rss("أخبار", [FLOOD]))
    server.set_redirect("/old", "/new", status=301)
    server.set_redirect("/dup", "/taken", status=308)
    moved_id = primed_feed(db, server.url("/old"), clock)
    dup_id = primed_feed(db, server.url("/dup"), clock)
    taken_id = primed_feed(db, server.url("/taken"), clock)
    report = await poller.run_once()
    assert report.feeds_failed == 0
    moved = feed_store.get_feed(db, moved_id)
    assert moved.url == server.url("/new")
    dup = feed_store.get_feed(db, dup_id)
    assert dup.url == server.url("/dup")  # kept: another feed has the target URL
    assert feed_store.get_feed(db, taken_id).url == server.url("/taken")
    notes = {s.id: s.note for s in feed_store.feed_stats(db, clock())}
    assert notes[moved_id] == f"moved permanently from {server.url('/old')}"
    assert notes[dup_id] == (
        f"moved permanently to {server.url('/taken')}, which is already feed #{taken_id}: "
        "kept the old URL"
    )


async def test_charset_override_is_validated_and_re_parses_the_feed(
    server, db, fetcher, book, clock
):
    poller = poller_for(db, fetcher, book, clock)
    server.set_feed("/rss", make_rss("أخبار", [OIL]), etag='"v1"')
    feed_id = (await poller.add_feed(server.url("/rss"), added_by=1)).feed_id
    with pytest.raises(feed_store.UnknownCharset, match="unknown charset: 'klingon'"):
        feed_store.set_feed_charset(db, feed_id, "klingon")
    with pytest.raises(feed_store.UnknownCharset, match="not a text encoding"):
        feed_store.set_feed_charset(db, feed_id, "base64")
    assert feed_store.set_feed_charset(db, feed_id, " Windows-1256 ") == "cp1256"
    assert feed_store.get_feed(db, feed_id).charset == "cp1256"
    clock.advance(3600)
    report = await poller.run_once()
    assert "if-none-match" not in server.requests_to("/rss")[-1].headers  # a full fetch...
    assert report.feeds_parsed == 1  # ...parsed again with the new charset
    assert feed_store.set_feed_charset(db, feed_id, None) is None
    assert feed_store.get_feed(db, feed_id).charset is None


# --- hostile feeds in one cycle -----------------------------------------------------------


@pytest.mark.slow  # the hang and trickle feeds run into the fetch timeout
async def test_hostile_feeds_fail_alone_and_are_cut_off(server, db, book, clock):
    server.set_feed("/good", make_rss("أخبار", [FLOOD]))
    server.set_hostile("/hang", "hang")
    server.set_hostile("/flaky", "flaky", failures=1, body=make_rss("متقطع", [OIL]))
    server.set_hostile("/html", "html")
    server.set_hostile("/bomb", "gzip_bomb")
    server.set_hostile("/private", "redirect_private", location="http://10.1.2.3/feed.xml")
    ids = {path: primed_feed(db, server.url(path), clock) for path in
           ("/good", "/hang", "/flaky", "/html", "/bomb", "/private")}  # fmt: skip
    # The SSRF guard on, with only this test server's address let through.
    async with Fetcher(
        allow_private=False, allowed_networks=["127.0.0.1/32"], timeout=1.0, max_bytes=500_000
    ) as guarded:
        poller = poller_for(db, guarded, book, clock)
        report = await within(poller.run_once(), "the poll cycle")
        assert report.feeds_checked == 6
        assert report.feeds_failed == 5
        assert report.articles_new == 1
        assert report.alerts_queued == 1  # the good feed's story about الرباط
        errors = {
            path: feed_store.get_feed(db, feed_id).last_error for path, feed_id in ids.items()
        }
        assert errors["/good"] is None
        assert errors["/hang"] == "timed out after 1 s"
        assert errors["/flaky"] == "HTTP 500"
        assert errors["/html"] == "not a feed: the server sent an HTML page"
        assert errors["/bomb"] == "body larger than 500 kB"
        assert errors["/private"].startswith("refused: ")
        assert errors["/private"].endswith("private address 10.1.2.3")
        assert all(
            feed_store.get_feed(db, feed_id).error_count == (path != "/good")
            for path, feed_id in ids.items()
        )

        clock.advance(2 * BASE)
        report = await poller.run_once()
        assert feed_store.get_feed(db, ids["/flaky"]).error_count == 0  # recovered
        assert report.articles_new == 1


async def test_a_feed_whose_storage_fails_leaves_the_others_stored(
    server, db, fetcher, book, clock
):
    # A real SQLite trigger makes storing one feed's article fail mid-transaction.
    db.execute(
        """CREATE TRIGGER poison BEFORE INSERT ON articles WHEN NEW.title LIKE '%سموم%'
           BEGIN SELECT RAISE(ABORT, 'poisoned article'); END"""
    )
    poisoned = story(9, "سموم في الرباط", "خبر عن الرباط لا يمكن تخزينه بسبب خلل.")
    server.set_feed("/bad", make_rss("سيئ", [FLOOD, poisoned]))
    ids = [primed_feed(db, server.url("/bad"), clock)]
    texts = [
        "افتتح في الرباط معرض دولي للكتاب بمشاركة ناشرين من عشرين بلدا.",
        "شهدت الرباط أمس مباراة حاسمة في دوري كرة السلة انتهت بالتعادل.",
        "أعلنت بلدية الرباط عن خطة لتوسيع شبكة الترامواي نحو الأحياء الجنوبية.",
        "استقبلت الرباط وفدا برلمانيا أوروبيا لبحث ملفات الهجرة والتعاون الأمني.",
        "ارتفعت أسعار العقار في الرباط بنسبة ملحوظة خلال الربع الأخير من السنة.",
        "نظمت جامعة في الرباط ندوة علمية حول الذكاء الاصطناعي وتطبيقاته الطبية.",
    ]
    for n, text in enumerate(texts):
        item = story(20 + n, text[:30], text)
        server.set_feed(f"/ok{n}", make_rss(f"جيد {n}", [item]))
        ids.append(primed_feed(db, server.url(f"/ok{n}"), clock))
    report = await poller_for(db, fetcher, book, clock).run_once()
    assert report.errors == {server.url("/bad"): "internal error: IntegrityError"}
    stored = dict(db.execute("SELECT feed_id, count(*) FROM articles GROUP BY feed_id").fetchall())
    assert ids[0] not in stored  # the bad feed's first article was rolled back with it
    assert all(stored[feed_id] == 1 for feed_id in ids[1:])
    assert outbox_count(db) == 6
    assert feed_store.get_feed(db, ids[0]).error_count == 1


# --- OPML -----------------------------------------------------------------------------------


async def test_import_opml_adds_feeds_with_baselines(server, db, fetcher, book, clock):
    poller = poller_for(db, fetcher, book, clock, import_concurrency=2)
    for n in range(3):
        server.set_feed(f"/f{n}", make_rss(f"موجز {n}", sample_items(4, start=10 * n + 1)))
    existing = await poller.add_feed(server.url("/f0"), added_by=1)
    document = build_opml(
        [
            (server.url("/f0"), "موجز 0"),
            (server.url("/f1"), "الأول"),
            (server.url("/missing"), "غائب"),
            (server.url("/f2"), "الثاني"),
        ],
        "قائمتي",
    )
    progress = []
    report = await poller.import_opml(
        document, added_by=1, on_progress=lambda done, total: progress.append((done, total))
    )
    assert progress == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert server.peak_in_flight <= 2  # import_concurrency
    assert report.error is None
    assert report.already == [server.url("/f0")]
    assert report.added == [(server.url("/f1"), "موجز 1"), (server.url("/f2"), "موجز 2")]
    assert report.failed == [(server.url("/missing"), "http", "HTTP 404")]
    counts = dict(db.execute("SELECT feed_id, count(*) FROM articles GROUP BY feed_id").fetchall())
    assert sorted(counts.values()) == [4, 4, 4]  # baselines stored...
    assert outbox_count(db) == 0  # ...and never alerted
    assert all(feed_store.get_feed(db, fid).primed for fid in counts)
    assert existing.feed_id in counts

    exported = poller.export_opml()
    assert sorted(parse_opml(exported), key=lambda f: f.url) == [
        OpmlFeed(server.url(f"/f{n}"), f"موجز {n}") for n in range(3)
    ]
    bad = await poller.import_opml(b"<html><body>not opml</body></html>", added_by=1)
    assert bad.error == "not an OPML file: the document is <html>, not <opml>"
    assert (bad.added, bad.already, bad.failed) == ([], [], [])


# --- parsing in a process pool, and the story index ----------------------------------------


async def test_parsing_in_a_process_pool(server, db, fetcher, book, clock):
    with parse_pool(1) as pool:
        poller = poller_for(db, fetcher, book, clock, executor=pool)
        server.set_feed("/rss", make_rss("أخبار", [FLOOD, OIL]))
        primed_feed(db, server.url("/rss"), clock)
        report = await poller.run_once()
        # the worker yields the CPU to the event loop
        (worker,) = pool._processes  # noqa: SLF001
        niceness = os.getpriority(os.PRIO_PROCESS, worker)
        assert niceness == min(19, os.getpriority(os.PRIO_PROCESS, 0) + PARSE_WORKER_NICENESS)
    assert (report.feeds_parsed, report.articles_new, report.alerts_queued) == (1, 2, 1)
    assert report.parse_cpu_seconds > 0
    local = parse_and_prepare(make_rss("أخبار", [FLOOD]).encode(), {}, "http://x/", None, "")
    stored = article_store.recent_articles(db, since=0)
    assert local.articles[0].title in {a.title for a in stored}


def test_story_index_agrees_with_brute_force():
    rng = random.Random(3)
    stored = [(story_id, rng.getrandbits(64)) for story_id in range(1, 3001)]
    index = RecentStories(stored)
    probes = [rng.getrandbits(64) for _ in range(200)]
    for fingerprint in probes:
        for flips in (0, 3, SAME_STORY_DISTANCE, SAME_STORY_DISTANCE + 1):
            target = stored[rng.randrange(len(stored))][1]
            near = target
            for bit in rng.sample(range(64), flips):
                near ^= 1 << bit
            for query in (near, fingerprint):
                distances = [
                    ((fp ^ query).bit_count(), story_id)
                    for story_id, fp in stored
                    if (fp ^ query).bit_count() <= SAME_STORY_DISTANCE
                ]
                assert index.find(query) == (min(distances)[1] if distances else None)


async def test_feeds_in_one_cycle_are_fetched_concurrently(db, book, clock):
    release = asyncio.Event()
    async with FeedServer() as slow, Fetcher(allow_private=True) as fetcher:
        for n in range(20):
            slow.set_feed(f"/f{n}", make_rss("أخبار", [OIL]), hold=release)
            primed_feed(db, slow.url(f"/f{n}"), clock)
        poller = poller_for(db, fetcher, book, clock)
        cycle = asyncio.create_task(poller.run_once())
        # Not one after another: four feeds (the fetcher's per-host limit) wait at once.
        await eventually(lambda: slow.in_flight == 4, "four feeds fetched at once")
        release.set()
        report = await within(cycle, "the poll cycle")
        assert report.feeds_parsed == 20
        assert slow.peak_in_flight == 4


def test_a_turn_at_the_database_stores_a_bounded_number_of_items(db, fetcher, book, clock):
    """Each turn holds the event loop (the bot's answers wait): feeds full of new items are
    stored a few at a time, feeds without new items many at a time, a big feed alone."""
    poller = poller_for(db, fetcher, book, clock).poller
    report = PollReport()

    def waiting(item_counts: list[int | None]) -> list[_Outcome]:
        outcomes = []
        for number, count in enumerate(item_counts):
            url = f"http://site/{number}"
            ready = (
                None
                if count is None
                else Prepared(articles=[article(str(i)) for i in range(count)])
            )
            outcomes.append(
                _Outcome(Feed(number, url), FetchResult(url, url, 304), ready, None, report)
            )
        return outcomes

    poller._unwritten = waiting([30, 30, 30, 5, 500, *[None] * 20])
    batches = []
    while poller._unwritten:
        batches.append([o.feed.id for o in poller._next_batch()])
    assert batches == [[0, 1, 2], [3, 4], list(range(5, 21)), list(range(21, 25))]
    assert max(len(b) for b in batches) <= WRITE_BATCH
    assert WRITE_ITEMS < 3 * 30


def test_a_turn_at_the_database_takes_no_further_feed_once_it_has_taken_long(
    db, fetcher, book, clock
):
    """A turn's feeds may alert thousands of chats each: after WRITE_SECONDS the rest wait for
    the next turn, in their order, and every feed is stored once."""
    poller = poller_for(db, fetcher, book, clock).poller
    ticks = iter(range(1000))
    poller.turn_clock = lambda: next(ticks) * WRITE_SECONDS * 0.6  # each look: 0.6 of the budget
    report = PollReport()
    waiting = []
    for number in range(5):
        url = f"http://site/{number}.xml"
        feed = feed_store.get_feed(db, primed_feed(db, url, clock))
        waiting.append(_Outcome(feed, FetchResult(url, url, 304), None, None, report))
    poller._unwritten = list(waiting)
    turns = []
    while poller._unwritten:
        poller._write_some()
        turns.append([o.feed.id for o in waiting if o.written])
    ids = [o.feed.id for o in waiting]
    assert turns == [ids[:2], ids[:4], ids]  # two feeds a turn: the second look finds 1.2x
    assert report.feeds_unchanged == 5  # each feed stored once


def feed_about_rabat(db, clock, count: int, report: PollReport) -> _Outcome:
    """A primed feed's check that brought `count` new items about الرباط, waiting to be stored."""
    url = "http://site/big.xml"
    feed = feed_store.get_feed(db, primed_feed(db, url, clock))
    items = [
        replace(article(f"k{n}", f"h{n}", url=f"https://site/{n}"), text=f"في الرباط خبر {n}")
        for n in range(count)
    ]
    return _Outcome(feed, FetchResult(url, url, 200), Prepared(articles=items), None, report)


def test_a_feed_whose_items_take_long_is_stored_over_several_turns_each_item_once(
    db, fetcher, book, clock
):
    """One feed's items may each alert thousands of chats: the turn stops after an item once
    WRITE_SECONDS have passed and the feed's other items wait for the next turn, first in line;
    the feed is settled (its next check set) only once all are stored."""
    poller = poller_for(db, fetcher, book, clock).poller
    ticks = iter(range(1000))
    poller.turn_clock = lambda: next(ticks) * WRITE_SECONDS * 0.6  # each look: 0.6 of the budget
    report = PollReport()
    big = feed_about_rabat(db, clock, 5, report)
    feed = big.feed
    other_url = "http://site/other.xml"
    other_feed = feed_store.get_feed(db, primed_feed(db, other_url, clock))
    other = _Outcome(other_feed, FetchResult(other_url, other_url, 304), None, None, report)
    poller._unwritten = [big, other]
    stored, settled = [], []
    while poller._unwritten:
        poller._write_some()
        stored.append(db.execute("SELECT count(*) FROM articles").fetchone()[0])
        settled.append(feed_store.get_feed(db, feed.id).last_success_at is not None)
    assert stored == [2, 4, 5]  # two items a turn: the second look finds the budget spent
    assert settled == [False, False, True]
    assert other.written  # it waited behind the big feed, then went in the last turn
    assert report.articles_new == 5
    assert report.alerts_queued == 5  # one chat follows الرباط: one alert an item, none twice
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 5


def followers_of_rabat(db, clock, count: int) -> SubscriptionBook:
    """`count` chats following الرباط, stored and in a book."""
    book = SubscriptionBook()
    query = parse_query("الرباط")
    for chat_id in range(1000, 1000 + count):
        chat_store.touch_chat(db, chat_id, type="private", title="", language="ar", now=clock())
        sub_id = chat_store.add_subscription(db, chat_id, query.raw, query.key, clock())
        book.add(Subscription(sub_id, chat_id, query.raw, query.key), query)
    return book


def test_an_article_for_many_chats_queues_its_alerts_a_chunk_a_turn(db, fetcher, clock):
    """Its alerts past a chunk wait for the next turn (the bot answers meanwhile), in line
    after the first chunk; the feed's next article comes after them, and each alert once."""
    book = followers_of_rabat(db, clock, 25)
    pipeline = poller_for(db, fetcher, book, clock)
    pipeline.poller.work.intake.alert_chunk = 10
    poller = pipeline.poller
    ticks = iter(range(1000))
    poller.turn_clock = lambda: next(ticks) * WRITE_SECONDS * 2  # each look spends it all
    report = PollReport()
    poller._unwritten = [feed_about_rabat(db, clock, 2, report)]
    feed = poller._unwritten[0].feed
    queued, owed = [], []
    while poller._unwritten:
        poller._write_some()
        queued.append(db.execute("SELECT count(*) FROM outbox").fetchone()[0])
        owed.append(db.execute("SELECT count(*) FROM articles WHERE alerts_owed").fetchone()[0])
    # A turn queues a chunk, or ends an article's alerts and starts the next article's.
    assert queued == [10, 20, 35, 45, 50]
    assert owed == [1, 1, 1, 1, 0]
    assert report.alerts_queued == 50
    first = db.execute(
        "SELECT turn FROM outbox WHERE article_id = (SELECT min(id) FROM articles) ORDER BY id"
    ).fetchall()
    assert [turn for (turn,) in first] == list(range(25))  # one line, across the chunks
    assert feed_store.get_feed(db, feed.id).last_success_at is not None


def test_each_chunk_reads_its_own_chats_when_it_is_queued(db, fetcher, clock):
    """A turn reads the chats of its chunk only (thousands of matched chats are not all read
    up front): a chat that pauses before its chunk's turn is not alerted."""
    book = followers_of_rabat(db, clock, 25)
    intake = poller_for(db, fetcher, book, clock).poller.work.intake
    intake.alert_chunk = 10
    feed_id = primed_feed(db, "http://site/big.xml", clock)
    item = replace(article("k", "h"), text="في الرباط خبر")
    with db.atomic():
        _, queued, _, owed = intake.store_some(feed_id, [item], clock(), alert=True)
    assert queued == 10
    assert owed is not None
    late = [chat_id for chat_id, _ in owed.chats[-3:]]  # in the last chunk
    for chat_id in late:
        chat_store.set_chat_flags(db, chat_id, paused=True)
    while owed is not None:
        more, owed = intake.queue_owed(owed, clock())
        queued += more
    assert queued == 22
    alerted = {chat_id for (chat_id,) in db.execute("SELECT chat_id FROM outbox")}
    assert alerted == set(range(1000, 1025)) - set(late)


def test_a_chat_erased_during_a_cycle_is_owed_nothing_and_fails_no_feed(db, fetcher, clock):
    """A cycle reads each chat once: one that erases its data after an earlier article read it
    is skipped when a later article matches it, not an error that fails the feed."""
    book = followers_of_rabat(db, clock, 5)
    intake = poller_for(db, fetcher, book, clock).poller.work.intake
    feed_id = primed_feed(db, "http://site/big.xml", clock)
    first, second = (
        replace(article(f"k{n}", f"h{n}", url=f"https://site/{n}"), text=f"في الرباط خبر {n}")
        for n in range(2)
    )
    with db.atomic():
        assert intake.store(feed_id, [first], clock(), alert=True) == (1, 5)
    with db.atomic():
        chat_store.delete_chat(db, 1004)  # the book still has it until the use case tells it
    with db.atomic():
        assert intake.store(feed_id, [second], clock(), alert=True) == (1, 4)
    second_alerts = db.execute(
        "SELECT chat_id FROM outbox WHERE article_id = (SELECT max(id) FROM articles)"
    ).fetchall()
    assert sorted(chat_id for (chat_id,) in second_alerts) == [1000, 1001, 1002, 1003]


def test_alerts_a_stop_left_owed_are_queued_at_the_next_start_each_once(db, fetcher, clock):
    book = followers_of_rabat(db, clock, 25)
    pipeline = poller_for(db, fetcher, book, clock)
    intake = pipeline.poller.work.intake
    intake.alert_chunk = 10
    feed_id = primed_feed(db, "http://site/big.xml", clock)
    item = replace(article("k", "h"), text="في الرباط خبر")
    with db.atomic():  # the first turn: the article, its first ten alerts; then the bot stops
        _, _, _, owed = intake.store_some(feed_id, [item], clock(), alert=True)
    assert owed is not None
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 10
    restarted = Intake(db, book)
    with db.atomic():
        assert restarted.requeue_owed(clock()) == 15
    assert db.execute("SELECT count(DISTINCT chat_id) FROM outbox").fetchone()[0] == 25
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 25
    assert db.execute("SELECT count(*) FROM articles WHERE alerts_owed").fetchone()[0] == 0
    assert restarted.requeue_owed(clock()) == 0


async def test_a_feed_stored_over_several_turns_lets_the_bot_answer_between_them(
    db, fetcher, book, clock
):
    """Each turn at the database holds the event loop; between two turns of the same feed (the
    lock free, so taken again without a pause) the bot's other work runs."""
    poller = poller_for(db, fetcher, book, clock).poller
    ticks = iter(range(1000))
    poller.turn_clock = lambda: next(ticks) * WRITE_SECONDS * 2  # one article a turn
    outcome = feed_about_rabat(db, clock, 3, PollReport())
    seen: list[int] = []  # articles stored each time the other task ran

    async def other_work() -> None:
        while not outcome.written:
            seen.append(db.execute("SELECT count(*) FROM articles").fetchone()[0])
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    await poller._store(outcome)
    await other
    assert {1, 2} <= set(seen)  # it ran after the first turn and after the second
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 3


async def test_feeds_ready_together_take_their_turns_one_event_loop_pass_apart(
    db, fetcher, book, clock
):
    """A free lock is taken without a pause: feeds whose checks end together would run their
    turns back to back in one pass of the event loop, and an update would wait for them all."""
    poller = poller_for(db, fetcher, book, clock).poller
    passes = 0
    starts: list[int] = []  # the pass each turn began in
    ticks = iter(range(1000))

    def turn_clock() -> float:
        starts.append(passes)
        return next(ticks) * WRITE_SECONDS * 2  # each look spends the turn: one feed a turn

    poller.turn_clock = turn_clock
    outcomes = []
    for n in range(3):
        url = f"http://site/{n}.xml"
        feed = feed_store.get_feed(db, primed_feed(db, url, clock))
        item = replace(article(f"k{n}", f"h{n}", url=f"https://site/{n}"), text="خبر")
        outcomes.append(
            _Outcome(
                feed, FetchResult(url, url, 200), Prepared(articles=[item]), None, PollReport()
            )
        )

    async def count_passes() -> None:
        nonlocal passes
        while not all(outcome.written for outcome in outcomes):
            passes += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count_passes())
    await asyncio.gather(*(poller._store(outcome) for outcome in outcomes))
    await counter
    turn_passes = sorted(set(starts))
    assert len(turn_passes) == 3  # three turns, none sharing a pass with another
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 3
