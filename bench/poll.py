"""Poll cycles over 1,000 feeds on loopback, against a naive feedparser loop in the same run.

Setup: one aiohttp server (its own process, standing for the web) serves /feed/N.xml for 1,000
feeds of 30 Arabic items each, every response delayed by 200 ms to stand for the network. Items
are built from EASC sentences (../shared/data/easc): a title and three sentences each; 15% of
items are agency stories that several feeds publish word for word under their own links. Feeds
0-799 answer conditional GETs with 304; feeds 800-999 ignore them and resend the same body.

Rasd: the real Poller, a Fetcher (allow_private=True, max_connections=500, max_per_host=500:
the per-host limit is keyed by host name, and here every "site" is 127.0.0.1, so the bench raises
it) and the bot's process pool of 2 workers for parsing (forkserver, run
nicer than the event loop). 10,000 subscriptions (2,000 chats x 5)
of real Arabic words and phrases are matched in the parent. The feeds are stored "primed" with no
articles, so the first cycle stores, deduplicates and matches every item; the second finds
nothing new (304, or an unchanged body that must not be parsed again).

Baseline: feedparser.parse(url) for each feed in turn, timed on 50 random feeds and extrapolated
to 1,000 (to keep the run short).

Run: .venv/bin/python bench/poll.py            (about 1-2 minutes)
     --feeds N --items N --conditional-share S change the web (bench/scale.py: 10,000 feeds)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import random
import re
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import feedparser  # noqa: E402
from aiohttp import web  # noqa: E402

from app.bootstrap import load_book  # noqa: E402
from bench.shared import EASC as SHARED_EASC  # noqa: E402
from bench.shared import require_shared  # noqa: E402
from core.arabic import tokenize  # noqa: E402
from core.models import Subscription  # noqa: E402
from core.query import QueryError, parse_query  # noqa: E402
from core.subscriptions import SubscriptionBook  # noqa: E402
from feeds.fetch import Fetcher  # noqa: E402
from intake.prepare import parse_pool  # noqa: E402
from storage import chats as chat_store  # noqa: E402
from storage import feeds as feed_store  # noqa: E402
from storage.db import open_database  # noqa: E402
from tests.pipeline import Pipeline  # noqa: E402

EASC = SHARED_EASC / "Articles"
FEEDS = 1_000
ITEMS = 30
CONDITIONAL_SHARE = 0.8  # of the feeds; the rest ignore If-None-Match
DELAY_SECONDS = 0.2
SHARED_SHARE = 0.15  # items that are agency copy published by several feeds
SHARED_STORIES = 1_500
CHATS = 2_000
KEYWORDS_PER_CHAT = 5
LIVE_SHARE = 0.05  # keywords drawn from the feeds' own words (see subscriptions())
BASELINE_SAMPLE = 50
WORKERS = 2
MAX_CONNECTIONS = 500
SEED = 20_261_128
NOW = time.time()
_SENTENCE_END = re.compile(r"(?<=[.!؟?])\s+|\n+")


def _easc_files() -> list[Path]:
    return sorted(p for p in EASC.rglob("*") if p.is_file())


def _sentences_of(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        for sentence in _SENTENCE_END.split(text):
            words = sentence.split()
            if 8 <= len(words) <= 60:
                found.append(" ".join(words))
    return found


def sentences() -> list[str]:
    """What the feeds say: EASC sentences of 8 to 60 words, from every other article."""
    return _sentences_of(_easc_files()[::2])


def held_out_sentences() -> list[str]:
    """Sentences of the other EASC articles, which the feeds never use."""
    return _sentences_of(_easc_files()[1::2])


def make_story(rng: random.Random, pool: list[str]) -> tuple[str, list[str]]:
    """A title (the start of one sentence) and three sentences of text."""
    title = " ".join(rng.choice(pool).split()[: rng.randint(6, 10)])
    return title, rng.sample(pool, 3)


@dataclass(frozen=True)
class Web:
    """What the loopback web serves: how many feeds, items per feed, and how many feeds (the
    first ones) answer conditional GETs with 304."""

    feeds: int = FEEDS
    items: int = ITEMS
    conditional: int = round(FEEDS * CONDITIONAL_SHARE)


def feed_bodies(spec: Web) -> list[bytes]:
    """The RSS documents (deterministic: the server and the checks build the same)."""
    rng = random.Random(SEED)
    pool = sentences()
    shared = [make_story(rng, pool) for _ in range(SHARED_STORIES)]
    bodies = []
    for feed in range(spec.feeds):
        site = f"https://site{feed}.example"
        items = []
        for number in range(spec.items):
            title, text = (
                rng.choice(shared) if rng.random() < SHARED_SHARE else make_story(rng, pool)
            )
            when = NOW - number * 5400 - rng.randint(0, 600)  # one every ~1.5 hours
            published = format_datetime(datetime.fromtimestamp(when, UTC), usegmt=True)
            items.append(
                "<item>"
                f"<title>{escape(title, quote=False)}</title>"
                f"<link>{site}/news/{feed * 100 + number}/?utm_source=rss</link>"
                f'<guid isPermaLink="false">{site}/?p={feed * 100 + number}</guid>'
                f"<pubDate>{published}</pubDate>"
                f"<description><![CDATA[<p>{text[0]}</p>]]></description>"
                "<content:encoded><![CDATA["
                + "".join(f"<p>{sentence}</p>" for sentence in text)
                + "]]></content:encoded>"
                "</item>"
            )
        bodies.append(
            (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
                f"<channel><title>موقع {feed}</title><link>{site}/</link>"
                "<description>أخبار</description><language>ar</language>"
                + "".join(items)
                + "</channel></rss>"
            ).encode()
        )
    return bodies


def serve(port_pipe, spec: Web) -> None:
    """The loopback web: every feed, 200 ms late; ETags honoured for the conditional feeds."""
    bodies = feed_bodies(spec)
    etags = [f'"v{n}"' for n in range(spec.feeds)]

    async def handle(request: web.Request) -> web.Response:
        number = int(request.match_info["number"])
        await asyncio.sleep(DELAY_SECONDS)
        if number >= spec.feeds:
            return web.Response(status=404)
        headers = {"ETag": etags[number]}
        conditional = number < spec.conditional
        if conditional and request.headers.get("If-None-Match") == etags[number]:
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=bodies[number], headers=headers, content_type="application/rss+xml"
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{number}.xml", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        port_pipe.send(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


def _words(texts: list[str]) -> list[str]:
    """Distinct words (as written) of at least four letters once normalized."""
    return sorted(
        {text[t.start : t.end] for text in texts for t in tokenize(text) if len(t.norm) >= 4}
    )


def quiet_words() -> list[str]:
    """Words of the held-out articles that no feed sentence matches (names, places and topics
    these feeds never mention)."""
    held_out = _words(held_out_sentences())
    probe = SubscriptionBook()
    for number, word in enumerate(held_out):
        with contextlib.suppress(QueryError):
            query = parse_query(word)
            probe.add(Subscription(number, number, query.raw, query.key), query)
    matching = {chat for text in sentences() for chat in probe.match(text)}
    return [word for number, word in enumerate(held_out) if number not in matching]


def subscriptions(rng: random.Random) -> list[tuple[int, str]]:
    """(chat, keyword) pairs: real Arabic words and two-word phrases from EASC.

    People follow specific names, places and topics, so a story alerts a few chats, not half of
    them. With a corpus this small, drawing every keyword from the feeds' own words would make
    each item match ~60 chats; so LIVE_SHARE of the keywords come from the feeds' sentences
    (80% words, 20% phrases) and the rest from held-out articles, among the words that no
    feed sentence matches.
    """
    live_texts = sentences()
    quiet = quiet_words()
    live = _words(live_texts)
    phrases = [run for run in (text.split() for text in live_texts) if len(run) > 3]

    def draw() -> str:
        if rng.random() >= LIVE_SHARE:
            return rng.choice(quiet)
        if rng.random() < 0.8:
            return rng.choice(live)
        run = rng.choice(phrases)
        start = rng.randrange(len(run) - 2)
        return " ".join(run[start : start + 2])

    chosen: list[tuple[int, str]] = []
    for chat in range(1, CHATS + 1):
        keys: set[str] = set()
        while len(keys) < KEYWORDS_PER_CHAT:
            keyword = draw()
            try:
                query = parse_query(keyword)
            except QueryError:
                continue
            if query.key not in keys:
                keys.add(query.key)
                chosen.append((chat, keyword))
    return chosen


def warm_worker(_: int) -> float:
    """Load the parser and langdetect's profiles in a worker before timing anything.

    The bench's items are all Arabic, which never needs langdetect; a real bot's feeds are not,
    so its workers hold the profiles: an English item loads them here, as in a bot.
    """
    from core.language import detect_language
    from intake.prepare import parse_and_prepare

    body = feed_bodies_sample()
    started = time.perf_counter()
    parse_and_prepare(body, {}, "http://warm/", None, "")
    assert detect_language("", "The ministry announced a new vaccination campaign today.") == "en"
    time.sleep(0.3)  # so both workers take one
    return time.perf_counter() - started


def feed_bodies_sample() -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>خبر</title><guid>w</guid><description>نص قصير للتسخين فقط، "
        "لا أكثر ولا أقل من ذلك في هذا المكان.</description></item></channel></rss>"
    ).encode()


def peak_rss_mb(pid: int) -> float:
    """A live process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run_rasd(base_url: str, db_path: Path, spec: Web) -> dict[str, float]:
    """Prime the database, then time two poll cycles."""
    rng = random.Random(SEED)
    db = open_database(db_path)
    started = time.perf_counter()
    with db.atomic():
        for chat in range(1, CHATS + 1):
            chat_store.touch_chat(db, chat, type="private", title="", language="ar", now=NOW)
        for chat, keyword in subscriptions(rng):
            query = parse_query(keyword)
            chat_store.add_subscription(db, chat, query.raw, query.key, NOW)
        for feed in range(spec.feeds):
            feed_store.add_feed(
                db,
                f"{base_url}/feed/{feed}.xml",
                title="",
                interval_seconds=300,
                now=NOW - 1,
                primed=True,
            )
    book = load_book(db)  # as the bot loads it (and freezes it out of the GC's walks)
    print(f"setup: {len(book):,} subscriptions of {CHATS:,} chats, {spec.feeds:,} primed feeds "
          f"({time.perf_counter() - started:.1f} s)")  # fmt: skip

    offset = 0.0  # moves the poller's clock, to make every feed due again for cycle 2
    with parse_pool(WORKERS) as pool:  # the bot's own pool: forkserver, workers niced
        warm = list(pool.map(warm_worker, range(WORKERS)))
        print(f"process pool: {WORKERS} forkserver workers warmed in {max(warm):.2f} s")
        fetcher = Fetcher(
            allow_private=True,
            timeout=60,
            max_connections=MAX_CONNECTIONS,
            max_per_host=MAX_CONNECTIONS,
        )
        poller = Pipeline(
            db,
            fetcher,
            book,
            clock=lambda: time.time() + offset,
            interval_seconds=300,
            executor=pool,
            rng=random.Random(SEED),
            max_feeds_per_cycle=spec.feeds,  # the bot's default is 5,000 a cycle
        )
        figures: dict[str, float] = {}
        for cycle in (1, 2):
            cpu = time.process_time()
            started = time.perf_counter()
            report = await poller.run_once()
            elapsed = time.perf_counter() - started
            parent_cpu = time.process_time() - cpu
            figures[f"cycle{cycle}"] = elapsed
            stories = db.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone()[0]
            print(
                f"cycle {cycle}: {elapsed:6.2f} s  {report.feeds_checked / elapsed:7.0f} req/s  "
                f"checked {report.feeds_checked}, failed {report.feeds_failed}, "
                f"304 {report.feeds_not_modified}, same body {report.feeds_unchanged}, "
                f"parsed {report.feeds_parsed}; new articles {report.articles_new:,} "
                f"({stories:,} stories), alerts queued {report.alerts_queued:,}; "
                f"CPU: parsing {report.parse_cpu_seconds:.1f} s (workers), "
                f"parent {parent_cpu:.1f} s"
            )
            if report.errors:
                print("  errors:", list(report.errors.items())[:3])
            figures[f"parsed{cycle}"] = report.feeds_parsed
            figures[f"parent_mb{cycle}"] = peak_rss_mb(os.getpid())
            figures[f"cpu{cycle}"] = report.parse_cpu_seconds + parent_cpu
            offset += 2 * 3600  # past every schedule (the longest is an hour plus jitter)
        figures["worker_peak_mb"] = max(peak_rss_mb(pid) for pid in pool._processes)  # noqa: SLF001
        await fetcher.aclose()
    db.conn.close()
    return figures


def run_baseline(base_url: str, spec: Web) -> float:
    """Seconds for feedparser.parse(url) over a sample of feeds, in turn."""
    sample = random.Random(SEED).sample(range(spec.feeds), BASELINE_SAMPLE)
    started = time.perf_counter()
    entries = 0
    for feed in sample:
        entries += len(feedparser.parse(f"{base_url}/feed/{feed}.xml").entries)
    elapsed = time.perf_counter() - started
    assert entries == BASELINE_SAMPLE * spec.items, entries
    return elapsed


@contextlib.contextmanager
def web_server(spec: Web) -> Iterator[str]:
    """The loopback web in its own process, for the time of the block; its base URL."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    server = context.Process(target=serve, args=(send, spec), daemon=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{receive.recv()}"
    finally:
        server.terminate()
        server.join()


def measure(spec: Web) -> dict[str, float]:
    """Both cycles over `spec`'s web on a fresh database (bench/scale.py calls this too)."""
    with web_server(spec) as base_url:
        print(f"{spec.feeds:,} feeds x {spec.items} items on {base_url}, "
              f"{DELAY_SECONDS * 1000:.0f} ms per response; feeds 0-{spec.conditional - 1} "
              "answer 304, the rest ignore validators")  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="rasd-bench-") as tmp:
            return asyncio.run(run_rasd(base_url, Path(tmp) / "bench.db", spec))


def main() -> None:
    """Start the server, run both cycles and the baseline, print the figures."""
    parser = argparse.ArgumentParser(description="Poll cycles over feeds on loopback.")
    parser.add_argument("--feeds", type=int, default=FEEDS)
    parser.add_argument("--items", type=int, default=ITEMS, help="per feed")
    parser.add_argument("--conditional-share", type=float, default=CONDITIONAL_SHARE,
                        help="share of the feeds that answer 304")  # fmt: skip
    args = parser.parse_args()
    spec = Web(args.feeds, args.items, round(args.feeds * args.conditional_share))
    require_shared(EASC, "the EASC articles (the feeds' sentences)")
    load_before = Path("/proc/loadavg").read_text().split()[0]
    figures = measure(spec)
    with web_server(spec) as base_url:
        baseline_sample = run_baseline(base_url, spec)
    baseline = baseline_sample * spec.feeds / BASELINE_SAMPLE
    parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"baseline: feedparser.parse(url) in turn: {baseline_sample:.1f} s for "
        f"{BASELINE_SAMPLE} feeds, extrapolated to {spec.feeds:,}: {baseline:.0f} s "
        f"({BASELINE_SAMPLE / baseline_sample:.1f} req/s)"
    )
    speedup = baseline / figures["cycle1"]
    floor = figures["cpu1"] / WORKERS
    print(
        f"first cycle {speedup:.1f}x faster than the baseline (its CPU alone, parse workers + "
        f"parent, needs {floor:.1f} s on {WORKERS} cores: {baseline / floor:.1f}x at best); "
        f"second cycle {figures['cycle2']:.2f} s with {figures['parsed2']:.0f} feeds parsed"
    )
    workers_mb = figures["worker_peak_mb"]
    print(
        f"peak memory: parent {parent_mb:.0f} MB ({figures['parent_mb1']:.0f} MB after cycle 1); "
        f"each parse worker at most {workers_mb:.0f} MB "
        f"(langdetect's profiles are ~63 MB of it); all together "
        f"{parent_mb + WORKERS * workers_mb:.0f} MB (the server process not counted)"
    )
    print(f"load average of the machine: {load_before} before the run (other processes share "
          "its cores: times vary with them)")  # fmt: skip
    targets = (
        speedup >= 10,
        figures["cycle2"] < 3,
        figures["parsed2"] == 0,
        parent_mb < 250,
    )
    print(
        "targets (cycle 1 >= 10x baseline, cycle 2 < 3 s, nothing re-parsed, parent < 250 MB):",
        " ".join("ok" if t else "MISSED" for t in targets),
    )


if __name__ == "__main__":
    main()
