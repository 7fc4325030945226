"""A million subscriptions on one machine: 1,000,000 subscriptions of 200,000 chats, beside
100,000 of 20,000 in the same run, each against its target (issue #30).

For each size, one bot process (a child of this one, so that its memory is its own):
- start: the production Application (app.telegram_app.build_application, as tests/offline.py's
  `offline_bot` starts it: initialize, post_init, which runs app.bootstrap.bootstrap and builds
  the SubscriptionBook from storage, start) on a database that already holds the subscriptions,
  then one update (/list from a subscribed chat) through Application.process_update. Measured
  from the moment this process launches the child (Python's imports included) to the answer.
  Only the HTTP transport is left out (a request class answers the Bot API from memory): what
  a getUpdates round trip adds is network time, not Rasd's.
- memory: the child's peak RSS (VmHWM) after the start, after the routing run, and after /add
  during a poll cycle. The parse workers (2 processes, as in production) are not counted.
- routing, on 1,000 news items (a title and three sentences, built as bench/poll.py builds its
  feeds' items) and on the long articles (the even-numbered EASC articles, 115–985 words), the
  memos warmed by 200 other items first:
  - the routing decision (the target): MatchIndex.matched_ids, which distinct keywords match.
    At first sight (the texts in order, the memos warmed by the 200 items and the texts before,
    never by this text); read again just after an /add of a new distinct keyword (the memo
    forgets only the words that keyword reads as; it used to forget them all); and with every
    memo emptied, as the first texts after a start meet it. Each text's time is the least of
    three runs: a per-article figure on a shared machine otherwise measures its hiccups.
  - with the fan-out: SubscriptionBook.match(match_text(title, text)), what intake/store.py
    runs per new article: the decision, then every subscription of every matched keyword
    grouped by chat. Its cost follows the chats alerted (µs per chat is printed): the long
    articles alert thousands, since the live keywords were drawn from these very articles.
    Seen once, then again (the book's rows of each query are built when it first matches).
- /add during a poll cycle: 200 primed feeds of 3 items (bench/poll.py's loopback web, 200 ms
  per response) polled by the bot's own Poller, its parse pool of 2 workers and its fetcher
  (4 connections per host: all "sites" are 127.0.0.1); while the cycle stores and matches its
  600 new items (a steady cycle's worth: of 10,000 feeds, a tenth bring an item or two) and
  until the last item that waited for its page is stored too, a subscribed chat sends /add
  with a new keyword 0.2 s after each answer: the time from when it was due until the answer
  (the index update included; a late event loop counts, as an update from Telegram would wait
  it out) and the cycle's own figures. Beside them, how late the bot's event loop runs a 20 ms
  sleep all the while. The outbox sender runs
  meanwhile at production's 30 messages a second, and the bot's jobs as they come: the daily
  maintenance runs 60 s after the start (its two parts are timed again after the cycle).

The poll cycle of 10,000 feeds (90% answering 304) is bench/poll.py's, with 3 items per feed:
its first cycle stores every item; the second, the one with the target, finds 9,000 feeds
answering 304 and 1,000 resending the same body (not parsed again). Beside it, 1,000 feeds.

Keywords: a chat follows five. LIVE_SHARE of them come from bench/match.py's keyword_drawer
(its held-out vocabulary: words, phrases, alternatives, exclusions, prefixes, exact forms and
Latin names, drawn from the even EASC articles and the Arabic feed captures, so they appear in
the news items above); the rest are quiet keywords of the same kinds made of bench/poll.py's
quiet words (names and topics these items never mention). Keywords repeat across chats: the
million subscriptions hold about 260,000 distinct ones (most quiet phrases are one chat's
own). With every keyword drawn live, an item would alert 3.5% of all chats (7,000 at a
million) and a long article 14%: no alert bot's users follow that much, and the cost would be
the fan-out, not the index.

Beside them, the book's load alone (what bootstrap does before anything else: read the
subscriptions, build the index, freeze it), in a process of its own with this code and with the
code before (commit BEFORE, checked out for the run): seconds and peak RSS.

The generated databases are cached in $TMPDIR/rasd-scale/, named by their sizes and a version:
the first run builds them (about 15 s for a million, one executemany in one transaction), a
second run reuses them. Each bot runs on a copy.

Run: nice -n 10 .venv/bin/python bench/scale.py          (about 6 minutes; 2 once cached)
     nice -n 10 .venv/bin/python bench/scale.py --quick  (100,000 only, 1,000 feeds)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import core  # noqa: E402
from bench import match, poll  # noqa: E402
from bench.shared import EASC, checkout, require_shared  # noqa: E402
from core import arabic  # noqa: E402
from core.articles import match_text  # noqa: E402
from core.models import Subscription  # noqa: E402
from core.query import QueryError, parse_query  # noqa: E402
from storage import chats as chat_store  # noqa: E402
from storage import feeds as feed_store  # noqa: E402
from storage import maintenance, outbox  # noqa: E402
from storage.db import open_database  # noqa: E402

SIZES = ((100_000, 20_000), (1_000_000, 200_000))  # subscriptions, chats
KEYWORDS_PER_CHAT = 5
LIVE_SHARE = poll.LIVE_SHARE
SEED = 30
VERSION = 1  # of the generated databases: bump when keywords() changes
CACHE = Path(tempfile.gettempdir()) / "rasd-scale"
ITEMS, WARM_ITEMS = 1_000, 200
RUNS = 3  # of each routing decision; its least is kept
ADDED_IDS = 10**9  # subscription ids of the keywords the routing figures add (none stored)
ADD_WEB = poll.Web(feeds=200, items=3, conditional=0)
ADD_EVERY = 0.2
LAG_TICK = 0.02  # the event loop's lag is sampled this often during the /add phase
POLL_WEBS = (poll.Web(1_000, 3, 900), poll.Web(10_000, 3, 9_000))
BEFORE = "081788a"  # the code before the start path read the book row by row (issue #30)
# Load the book as the given tree's bootstrap does; print seconds and peak RSS in MB.
LOAD_BOOK = """
import gc, resource, sys, time
sys.path.insert(0, ".")
started = time.perf_counter()
from storage.db import open_database
db = open_database(sys.argv[1])
try:
    from app.bootstrap import load_book
except ImportError:  # before: every row as a dict, then the book, then gc.freeze()
    from core.subscriptions import SubscriptionBook
    from storage.chats import all_subscriptions
    def load_book(db):
        book = SubscriptionBook.build(all_subscriptions(db))
        gc.freeze()
        return book
book = load_book(db)
print(len(book), time.perf_counter() - started,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
BEFORE_ROUTE = "62c892c"  # the matcher before its stems' buckets and shared parts (issue #30)
# The routing decision at first sight with the given tree's code, as `decisions` measures it:
# the book loaded, then long articles and items in order; prints their p99s in ms.
ROUTE_FIRST = """
import math, random, sys, time
sys.path.insert(0, ".")
from app.bootstrap import load_book
from bench import match, poll
from core import arabic
from core.articles import match_text
from storage.db import open_database
index = load_book(open_database(sys.argv[1]))._index
rng = random.Random(int(sys.argv[2]))
pool = poll.sentences()
stories = [poll.make_story(rng, pool) for _ in range(int(sys.argv[3]))]
items = [match_text(title, " ".join(text)) for title, text in stories]
warming, long = items[:200], match.articles()[0::2]
def p99(texts):
    least = [math.inf] * len(texts)
    for _ in range(int(sys.argv[4])):
        index._forget_hits()
        for memo in (arabic.CANDIDATES, arabic.CORES, arabic.WORD_NORMS):
            memo.clear()
        for text in warming:
            index.matched_ids(text)
        for number, text in enumerate(texts):
            started = time.perf_counter()
            index.matched_ids(text)
            least[number] = min(least[number], time.perf_counter() - started)
    least.sort()
    return least[round(0.99 * (len(least) - 1))] * 1e3
print(p99(long), p99(items[200:]))
"""
TARGETS = {
    "start_s": 30.0,
    "rss_mb": 1_500.0,
    "route_p99_ms": 5.0,
    "add_max_s": 1.0,
    "cycle_s": 60.0,
}


def quiet_drawer(words: Sequence[str], rng: random.Random) -> Callable[[], str]:
    """Keywords no bench text mentions: quiet words alone, in phrases, alternatives, exclusions."""
    makers: list[tuple[float, Callable[[], str]]] = [
        (0.75, lambda: rng.choice(words)),
        (0.15, lambda: f"{rng.choice(words)} {rng.choice(words)}"),
        (0.05, lambda: f"{rng.choice(words)}|{rng.choice(words)}"),
        (0.05, lambda: f"{rng.choice(words)} -{rng.choice(words)}"),
    ]
    weights = [w for w, _ in makers]
    return lambda: rng.choices(makers, weights)[0][1]()


def keywords(subscriptions: int, chats: int) -> list[tuple[int, str, str]]:
    """(chat, keyword as typed, key) for `subscriptions` keywords, five distinct per chat."""
    live = match.keyword_drawer(match.articles()[0::2])
    rng = random.Random(SEED)
    quiet = quiet_drawer(poll.quiet_words(), rng)
    keys: dict[str, str | None] = {}

    def key_of(raw: str) -> str | None:
        if raw not in keys:
            try:
                keys[raw] = parse_query(raw).key
            except QueryError:  # the bot refuses it: redrawn
                keys[raw] = None
        return keys[raw]

    rows: list[tuple[int, str, str]] = []
    for chat in range(1, chats + 1):
        taken: set[str] = set()
        while len(taken) < subscriptions // chats:
            raw = live() if rng.random() < LIVE_SHARE else quiet()
            key = key_of(raw)
            if key is not None and key not in taken:
                taken.add(key)
                rows.append((chat, raw, key))
    return rows


def database(subscriptions: int, chats: int) -> Path:
    """A migrated database holding the chats and their subscriptions (cached, see above)."""
    path = CACHE / f"subs{subscriptions}-chats{chats}-v{VERSION}.db"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows = keywords(subscriptions, chats)
    drawn = time.perf_counter() - started
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    db = open_database(partial)
    with db.conn:
        db.conn.executemany(
            "INSERT INTO chats (id, type, title, language, created_at, updated_at) "
            "VALUES (?, 'private', '', 'ar', 0, 0)",
            ((chat,) for chat in range(1, chats + 1)),
        )
        db.conn.executemany(
            "INSERT INTO subscriptions (chat_id, keyword, key, created_at) VALUES (?, ?, ?, 0)",
            rows,
        )
    db.conn.close()
    partial.rename(path)
    print(f"generated {subscriptions:,} subscriptions ({len({r[2] for r in rows}):,} distinct) of "
          f"{chats:,} chats: drawn in {drawn:.1f} s, stored in "
          f"{time.perf_counter() - started - drawn:.1f} s -> {path}")  # fmt: skip
    return path


# ------------------------------------------------------------------ the bot process


def rss_mb() -> dict[str, float]:
    """This process's resident memory now and at its peak, in MB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            found[line[:5]] = int(line.split()[1]) / 1024
    return {"now": found["VmRSS"], "peak": found["VmHWM"]}


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def routing(book, chats: int) -> dict[str, float]:  # noqa: ANN001
    """Per-text times of the routing decision (MatchIndex.matched_ids: which distinct keywords
    match) and of SubscriptionBook.match (the decision and its fan-out to chats), in ms."""
    rng = random.Random(SEED)
    pool = poll.sentences()
    stories = [poll.make_story(rng, pool) for _ in range(WARM_ITEMS + ITEMS)]
    items = [match_text(title, " ".join(text)) for title, text in stories]
    long = match.articles()[0::2]
    for text in items[:WARM_ITEMS]:
        book.match(text)
    new_keyword = quiet_drawer(poll.quiet_words(), rng)
    figures: dict[str, float] = {}
    for name, texts in (("item", items[WARM_ITEMS:]), ("long", long), ("again", long)):
        times, hits = [], []
        for text in texts:
            started = time.perf_counter()
            hits.append(len(book.match(text)))
            times.append(time.perf_counter() - started)
        figures |= {
            f"{name}_p50": quantile(times, 0.5) * 1e3,
            f"{name}_p99": quantile(times, 0.99) * 1e3,
            f"{name}_chats": statistics.mean(hits),
            f"{name}_share": statistics.mean(hits) / chats * 100,
            f"{name}_us_per_chat": sum(times) / max(1, sum(hits)) * 1e6,
        }
        if name != "again":
            figures |= decisions(book, texts, name, items[:WARM_ITEMS], new_keyword)
    figures["long_n"] = len(long)
    figures["route_p99_ms"] = max(figures["item_first_p99"], figures["long_first_p99"])
    return figures


def decisions(
    book, texts: Sequence[str], name: str, warming: Sequence[str], new_keyword
) -> dict[str, float]:  # noqa: ANN001, E501
    """p99 of the routing decision, ms, each text's time the least of RUNS runs (the machine is
    shared: this keeps its hiccups out of a per-article figure):
    - first sight: the texts in order, the memos warmed by the texts before, never this one;
    - read again just after an /add of a new distinct keyword (the memo forgets only the words
      that keyword reads as: before, it forgot them all);
    - every memo emptied, as the first texts after a start meet it."""
    index = book._index  # noqa: SLF001
    first, added, emptied = ([math.inf] * len(texts) for _ in range(3))
    for _ in range(RUNS):
        forget_every_memo(index)  # this text's words are new to every memo, as in a running bot
        for text in warming:
            index.matched_ids(text)
        for number, text in enumerate(texts):
            first[number] = min(first[number], timed(index.matched_ids, text))
        for number, text in enumerate(texts):
            query = None
            while query is None:
                with contextlib.suppress(QueryError):
                    query = parse_query(new_keyword())
            book.add(Subscription(ADDED_IDS + number, 1, query.raw, query.key), query)
            added[number] = min(added[number], timed(index.matched_ids, text))
            book.remove(ADDED_IDS + number)
        for number, text in enumerate(texts):
            forget_every_memo(index)
            emptied[number] = min(emptied[number], timed(index.matched_ids, text))
    return {
        f"{name}_first_p99": quantile(first, 0.99) * 1e3,
        f"{name}_add_p99": quantile(added, 0.99) * 1e3,
        f"{name}_ids_p99": quantile(emptied, 0.99) * 1e3,
    }


def forget_every_memo(index) -> None:  # noqa: ANN001
    """Empty what the index and core.arabic memoize of text words, as a start leaves them (what
    the index's stems and prefixes hit stays made: a start makes it, `prepare` remakes what a
    change forgot). ROUTE_FIRST does the same by hand: it runs against the code before too."""
    index._forget_hits()  # noqa: SLF001
    index.prepare()
    for memo in (arabic.CANDIDATES, arabic.CORES, arabic.WORD_NORMS):
        memo.clear()


def timed(read: Callable[[str], object], text: str) -> float:
    """Seconds `read(text)` takes."""
    started = time.perf_counter()
    read(text)
    return time.perf_counter() - started


async def add_during_poll(bot, rasd, quiet: Sequence[str]) -> dict[str, float]:  # noqa: ANN001
    """/add answered while the bot's poller stores and matches a cycle's new items."""
    with poll.web_server(ADD_WEB) as base_url:
        now = rasd.clock()
        with rasd.db.atomic():
            for feed in range(ADD_WEB.feeds):
                feed_store.add_feed(rasd.db, f"{base_url}/feed/{feed}.xml", title="",
                                    interval_seconds=300, now=now - 1, primed=True)  # fmt: skip
        articles_before = rasd.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        alerts_before = rasd.db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        started = time.monotonic()
        cycle = asyncio.create_task(cycle_and_pages(rasd.poller))
        await asyncio.sleep(1.0)  # fetches and parses under way, the first feeds being stored
        latencies: list[float] = []
        slowest_at = 0.0
        lags: list[float] = []
        watcher = asyncio.create_task(watch_loop(lags))
        rng = random.Random(SEED)
        due = time.monotonic()
        while not cycle.done():
            chat = bot.private(2 + len(latencies), "ليلى")  # subscribed chats, one /add each
            keyword = f"{rng.choice(quiet)} {rng.choice(quiet)}"  # a new distinct query
            # Timed from when it was due, not from when this loop got round to sending it: an
            # update from Telegram waits out the event loop's lag before its handler starts.
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            reply = await chat.send(f"/add {keyword}")
            latencies.append(time.monotonic() - due)
            if latencies[-1] == max(latencies):
                slowest_at = due
            assert reply.messages, reply
            due = time.monotonic() + ADD_EVERY
        watcher.cancel()
        await cycle  # (the bot's own poll job may have started it: counted in the database)
        articles = rasd.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        alerts = rasd.db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        return {
            "add_n": len(latencies),
            "add_p50_s": quantile(latencies, 0.5) if latencies else float("nan"),
            "add_max_s": max(latencies, default=float("nan")),
            "poll_s": time.monotonic() - started,
            "poll_new": articles - articles_before,
            "poll_alerts": alerts - alerts_before,
            "slowest_at": slowest_at,
            "lag_p99_s": quantile(lags, 0.99) if lags else float("nan"),
            "lag_max_s": max(lags, default=float("nan")),
            "wal_mb": wal_mb(rasd),
        } | after_cycle(rasd)


def wal_mb(rasd) -> float:  # noqa: ANN001
    """The WAL at its longest while the bot ran, in MB (0: no checkpoint thread)."""
    if rasd.checkpointer is None:
        return 0.0
    page_size = rasd.db.execute("PRAGMA page_size").fetchone()[0]
    return rasd.checkpointer.most_wal_pages * page_size / 1e6


def after_cycle(rasd) -> dict[str, float]:  # noqa: ANN001
    """The rows still owed, and how long the sender's claim and the daily maintenance take."""
    db, clock, days = rasd.db, rasd.clock, rasd.settings.retention_days
    return {
        "pending": db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0],
        # what the sender asks before each batch
        "due_heads_s": match.timed(lambda: outbox.due_heads(db, clock())),
        "prune_s": match.timed(lambda: maintenance.prune(db, now=clock(), retention_days=days)),
        "purge_s": match.timed(lambda: chat_store.purge_inactive(db, before=clock())),
    }


async def cycle_and_pages(poller) -> None:  # noqa: ANN001
    """One poll cycle, then until the teaser feeds whose items waited for their pages are
    stored: /add is timed while any of the cycle's items is still being stored."""
    await poller.run_once()
    await poller.settled()  # the cycle too, if the bot's own poll job had started it


async def watch_loop(lags: list[float]) -> None:
    """How late the event loop runs a LAG_TICK sleep, each time, into `lags`: what an update
    from Telegram would wait before its handler starts (each /add's figure counts it too)."""
    while True:
        before = time.monotonic()
        await asyncio.sleep(LAG_TICK)
        lags.append(time.monotonic() - before - LAG_TICK)


async def bot_process(directory: Path, chats: int) -> dict[str, float]:
    """Start the bot on the database in `directory`, answer, route, /add during a cycle."""
    from tests.offline import offline_bot  # noqa: PLC0415  after the timer's start
    from tests.timing import FakeClock  # noqa: PLC0415

    clock = FakeClock(time.time())
    production = {"PARSE_WORKERS": "2", "SEND_RATE_PER_SECOND": "30"}
    async with offline_bot(directory, clock=clock, **production) as bot:
        figures: dict[str, float] = {"ready_at": time.monotonic()}
        reply = await bot.private(1, "سارة").send("/list")
        figures["answered_at"] = time.monotonic()
        assert reply.messages, reply
        figures["rss_start_mb"] = rss_mb()["peak"]
        rasd = bot.application.bot_data.rasd
        figures["subscriptions"] = len(rasd.book)
        figures["distinct"] = rasd.book._index.distinct_queries  # noqa: SLF001
        figures |= routing(rasd.book, chats)
        figures["rss_route_mb"] = rss_mb()["peak"]
        figures |= await add_during_poll(bot, rasd, poll.quiet_words())
        figures["rss_add_mb"] = rss_mb()["peak"]
        bot.application.bot_data.rasd.poller.stop()
    return figures


def child_main(directory: Path, chats: int) -> None:
    """The bot process: its figures as one JSON line on stdout."""
    figures = asyncio.run(bot_process(directory, chats))
    print(json.dumps(figures), flush=True)


# ------------------------------------------------------------------ the run


def run_bot(subscriptions: int, chats: int) -> dict[str, float]:
    """One bot process on a copy of the cached database; its figures."""
    source = database(subscriptions, chats)
    with tempfile.TemporaryDirectory(prefix="rasd-scale-") as tmp:
        shutil.copyfile(source, Path(tmp) / "rasd.db")
        command = [sys.executable, __file__, "--child", tmp, "--chats", str(chats)]
        launched = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"the bot process failed ({done.returncode})")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["start_s"] = figures["answered_at"] - launched
    figures["ready_s"] = figures["ready_at"] - launched
    figures["slowest_after_start"] = figures["slowest_at"] - figures["ready_at"]
    figures["rss_mb"] = max(figures["rss_start_mb"], figures["rss_route_mb"])
    return figures


def book_load(root: Path, source: Path) -> dict[str, float]:
    """Seconds and peak MB to load the book from a copy of `source` with the code in `root`."""
    with tempfile.TemporaryDirectory(prefix="rasd-scale-") as tmp:
        shutil.copyfile(source, Path(tmp) / "rasd.db")
        command = [sys.executable, "-c", LOAD_BOOK, str(Path(tmp) / "rasd.db")]
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=True)
    count, seconds, peak = done.stdout.split()
    return {"book_n": float(count), "book_s": float(seconds), "book_mb": float(peak)}


def book_loads(sizes: Sequence[tuple[int, int]]) -> dict[int, dict[str, float]]:
    """The book's load at each size, with this tree and with the code before (BEFORE)."""
    loads: dict[int, dict[str, float]] = {}
    with checkout(BEFORE, Path(tempfile.mkdtemp(prefix="rasd-before-")) / "tree") as before:
        for subscriptions, chats in sizes:
            source = database(subscriptions, chats)
            now, then = book_load(ROOT, source), book_load(before, source)
            loads[subscriptions] = now | {f"before_{k}": v for k, v in then.items()}
    return loads


def routes_first(sizes: Sequence[tuple[int, int]]) -> dict[int, dict[str, float]]:
    """The routing decision at first sight (ROUTE_FIRST) with this tree (compiled when
    tools/native.py built it), this tree as Python (RASD_NATIVE=0) and BEFORE_ROUTE's code, each
    in a process of its own."""
    figures: dict[int, dict[str, float]] = {}
    beside = Path(tempfile.mkdtemp(prefix="rasd-before-route-"))
    (beside / "shared").symlink_to(ROOT.parent / "shared")  # its bench reads ../shared/data
    before_root = beside / "tree"
    with checkout(BEFORE_ROUTE, before_root) as before:
        for subscriptions, chats in sizes:
            source = database(subscriptions, chats)
            found = {}
            for name, root, native in (
                ("now", ROOT, "1"),
                ("py", ROOT, "0"),
                ("before", before, "1"),
            ):
                with tempfile.TemporaryDirectory(prefix="rasd-scale-") as tmp:
                    shutil.copyfile(source, Path(tmp) / "rasd.db")
                    args = [str(Path(tmp) / "rasd.db"), str(SEED), str(WARM_ITEMS + ITEMS)]
                    command = [sys.executable, "-c", ROUTE_FIRST, *args, str(RUNS)]
                    env = {**os.environ, "RASD_NATIVE": native}
                    done = subprocess.run(
                        command, cwd=root, env=env, capture_output=True, text=True, check=True
                    )
                long, item = map(float, done.stdout.split())
                found |= {f"{name}_route_long": long, f"{name}_route_item": item}
            figures[subscriptions] = found
    return figures


def verdict(name: str, value: float) -> str:
    """The target of a figure and ok / MISSED."""
    target = TARGETS[name]
    return f"≤ {target:g}  {'ok' if value <= target else 'MISSED'}"


def _cell(figures: dict[str, float], key: str, form: str) -> str:
    """One figure as printed (a few carry a second one in brackets)."""
    text = form.format(figures[key])
    if key == "item_chats":
        text += f" ({figures['item_share']:.2f}%)"
    elif key == "poll_s":
        text += f" ({figures['poll_new']:,.0f} / {figures['poll_alerts']:,.0f})"
    return text


def report(bots: dict[int, dict[str, float]], polls: list[dict[str, float]]) -> None:
    """Every figure, the small size beside the large one, with the large one's target."""
    sizes = list(bots)
    rows = [
        ("subscriptions in the book", "subscriptions", "{:,.0f}", None),
        ("distinct queries", "distinct", "{:,.0f}", None),
        ("loading the book alone (app.bootstrap), s", "book_s", "{:.1f}", None),
        (f"  the code before ({BEFORE}), s", "before_book_s", "{:.1f}", None),
        ("  its peak RSS, MB", "book_mb", "{:.0f}", None),
        ("  the code before, peak RSS, MB", "before_book_mb", "{:.0f}", None),
        ("start -> first answer, s", "start_s", "{:.1f}", "start_s"),
        ("  of it: process start -> bot started, s", "ready_s", "{:.1f}", None),
        ("peak RSS after start, MB", "rss_start_mb", "{:.0f}", None),
        ("peak RSS after routing, MB", "rss_route_mb", "{:.0f}", "rss_mb"),
        ("peak RSS after /add during a cycle, MB", "rss_add_mb", "{:.0f}", None),
        ("routing decision, news item, p99 ms: first sight", "item_first_p99", "{:.2f}", None),
        ("  read again just after an /add", "item_add_p99", "{:.2f}", None),
        ("  every memo emptied (after a start)", "item_ids_p99", "{:.2f}", None),
        ("routing decision, long article: first sight", "long_first_p99", "{:.2f}", None),
        ("  read again just after an /add", "long_add_p99", "{:.2f}", None),
        ("  every memo emptied (after a start)", "long_ids_p99", "{:.2f}", None),
        ("  first sight, a process of its own: this tree", "now_route_long", "{:.2f}", None),
        ("    this tree as Python (RASD_NATIVE=0)", "py_route_long", "{:.2f}", None),
        (f"    the code before ({BEFORE_ROUTE})", "before_route_long", "{:.2f}", None),
        ("  the same for news items: this tree", "now_route_item", "{:.2f}", None),
        ("    this tree as Python (RASD_NATIVE=0)", "py_route_item", "{:.2f}", None),
        (f"    the code before ({BEFORE_ROUTE})", "before_route_item", "{:.2f}", None),
        (
            "routing decision p99 at first sight, worse, ms",
            "route_p99_ms",
            "{:.2f}",
            "route_p99_ms",
        ),
        ("with the fan-out to chats, news item: p50 ms", "item_p50", "{:.2f}", None),
        ("  p99 ms", "item_p99", "{:.2f}", None),
        ("  chats alerted per item", "item_chats", "{:,.0f}", None),
        ("  us per chat alerted", "item_us_per_chat", "{:.2f}", None),
        ("with the fan-out to chats, long article: p50 ms", "long_p50", "{:.2f}", None),
        ("  p99 ms", "long_p99", "{:.2f}", None),
        ("  chats alerted per article", "long_chats", "{:,.0f}", None),
        ("  us per chat alerted", "long_us_per_chat", "{:.2f}", None),
        ("  seen again (rows built): p99 ms", "again_p99", "{:.2f}", None),
        ("/add during a cycle: answers timed", "add_n", "{:.0f}", None),
        ("/add during a cycle: p50 s", "add_p50_s", "{:.3f}", None),
        ("/add during a cycle: slowest s", "add_max_s", "{:.3f}", "add_max_s"),
        ("  the event loop late meanwhile: p99 s", "lag_p99_s", "{:.3f}", None),
        ("  the event loop late meanwhile: most s", "lag_max_s", "{:.3f}", None),
        ("  the WAL at its longest, MB", "wal_mb", "{:.0f}", None),
        ("  the cycle: s (new items / alerts queued)", "poll_s", "{:.1f}", None),
        ("  then: outbox.due_heads (the sender's), s", "due_heads_s", "{:.3f}", None),
        ("    over pending outbox rows", "pending", "{:,.0f}", None),
        ("  then: maintenance.prune, s", "prune_s", "{:.3f}", None),
        ("  then: chats.purge_inactive, s", "purge_s", "{:.3f}", None),
        ("  the slowest /add came, s after the start", "slowest_after_start", "{:.1f}", None),
    ]
    print(f"\n{'figure (subscriptions ->)':44}" + "".join(f"{s:>26,}" for s in sizes))
    for label, key, form, target in rows:
        values = "".join(f"{_cell(bots[s], key, form):>26}" for s in sizes)
        tail = f"   target {verdict(target, bots[sizes[-1]][target])}" if target else ""
        print(f"{label:44}{values}{tail}")
    if polls:
        webs = POLL_WEBS[: len(polls)]
        print(f"\n{'poll cycle (feeds ->)':44}" + "".join(f"{w.feeds:>26,}" for w in webs))
        for label, key, form in (
            ("first cycle, every item new: s", "cycle1", "{:.1f}"),
            ("steady cycle (90% 304, rest same body): s", "cycle2", "{:.1f}"),
            ("  feeds parsed again in it", "parsed2", "{:.0f}"),
            ("  parent peak RSS, MB", "parent_mb1", "{:.0f}"),
        ):
            values = "".join(f"{form.format(p[key]):>26}" for p in polls)
            tail = f"   target {verdict('cycle_s', polls[-1][key])}" if key == "cycle2" else ""
            print(f"{label:44}{values}{tail}")


def main() -> None:
    """Both sizes (or the small one), then the poll cycles; print the table."""
    parser = argparse.ArgumentParser(description="A million subscriptions on one machine.")
    parser.add_argument("--quick", action="store_true", help="100,000 subscriptions only")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--chats", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child_main(args.child, args.chats)
        return
    require_shared(EASC / "Articles", "the EASC articles")
    print(f"load average before the run: {os.getloadavg()[0]:.2f} (2 cores, shared)")
    matcher = f"compiled ({core.NATIVE_DIR.parent})" if core.NATIVE else core.NATIVE_ERROR
    print(f"matcher: {matcher}; tools/native.py builds it, RASD_NATIVE=0 runs the Python")
    sizes = SIZES[:1] if args.quick else SIZES
    bots = {}
    for subscriptions, chats in sizes:
        print(f"--- bot with {subscriptions:,} subscriptions of {chats:,} chats", flush=True)
        bots[subscriptions] = run_bot(subscriptions, chats)
    for subscriptions, load in book_loads(sizes).items():
        bots[subscriptions] |= load
    for subscriptions, routes in routes_first(sizes).items():
        bots[subscriptions] |= routes
    polls = []
    for web in POLL_WEBS[:1] if args.quick else POLL_WEBS:
        print(f"--- poll cycles over {web.feeds:,} feeds (bench/poll.py)", flush=True)
        polls.append(poll.measure(web))
    report(bots, polls)


if __name__ == "__main__":
    main()
