"""What keywords' own paces and big-stories thresholds (issue #31) cost when intake queues alerts.

Two books over the same chats in one run: the baseline, where no keyword has a way of its own
(every alert goes at the chat's mode, as before), and one where a share of the chats' keywords
have a pace of their own and a share wait for big stories. Each article is matched by every chat
and stored through intake.store.Intake as feed administration stores it (every chunk of
ALERT_CHUNK chats at once); each story is told by two outlets (its second telling counts outlets
and, with big-stories keywords, matches the first telling again). Prints the milliseconds per
article (p50, p99) for both, on fresh databases.

    nice -n 10 .venv/bin/python bench/pace_queue.py
    nice -n 10 .venv/bin/python bench/pace_queue.py --chats 2000 --stories 100 --paced 0.2 --big 0.05
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.models import Article, Subscription  # noqa: E402
from core.query import parse_query  # noqa: E402
from core.subscriptions import SubscriptionBook  # noqa: E402
from intake.store import Intake  # noqa: E402
from storage import chats as chat_store  # noqa: E402
from storage import feeds as feed_store  # noqa: E402
from storage.db import Database, open_database  # noqa: E402

KEYWORD = "الذهب"
NOW = 1_796_637_600.0


def book_for(chats: int, paced: float, big: float, rng: random.Random) -> SubscriptionBook:
    """Every chat follows KEYWORD; `paced` of them at a pace of their own, `big` waiting for
    two outlets within 6 hours."""
    book = SubscriptionBook()
    query = parse_query(KEYWORD)
    for chat_id in range(1, chats + 1):
        sub = Subscription(chat_id, chat_id, query.raw, query.key)
        book.add(sub, query)
        draw = rng.random()
        if draw < big:
            book.set_ways(replace(sub, min_outlets=2, window_hours=6))
        elif draw < big + paced:
            book.set_ways(replace(sub, pace=rng.choice(["hourly", "daily"])))  # type: ignore[arg-type]
    return book


def database(directory: Path, name: str, chats: int) -> tuple[Database, list[int]]:
    """A migrated database with the chats and two outlets."""
    db = open_database(directory / f"{name}.db")
    with db.atomic():
        for chat_id in range(1, chats + 1):
            chat_store.touch_chat(db, chat_id, type="private", title="", language="ar", now=NOW)
        outlets = [
            feed_store.add_feed(db, f"https://o{n}.example/feed", title=f"o{n}",
                                interval_seconds=300, now=NOW)
            for n in range(2)
        ]  # fmt: skip
    return db, outlets


def article(story: int, outlet: int) -> Article:
    text = f"ارتفعت أسعار {KEYWORD} اليوم في الخبر رقم {story} وتفاصيله الكاملة في الأسواق."
    return Article(
        item_key=f"{story}-{outlet}", url=f"https://o{outlet}.example/{story}",
        title=f"خبر {story} عن {KEYWORD}", text=text, language="ar",
        content_hash=f"{story}-{outlet}", fingerprint=random.Random(story).getrandbits(64),
    )  # fmt: skip


def run(db: Database, outlets: list[int], book: SubscriptionBook, stories: int) -> list[float]:
    """Milliseconds to store and queue each telling."""
    intake = Intake(db, book)
    times = []
    for outlet_index, feed_id in enumerate(outlets):
        for story in range(stories):
            started = time.perf_counter()
            with db.atomic():
                intake.store(feed_id, [article(story, outlet_index)], NOW + story, alert=True)
            times.append((time.perf_counter() - started) * 1000)
    return times


def RUNS(args: argparse.Namespace) -> list[tuple[str, float, float]]:  # noqa: N802
    """Each book twice, interleaved: a shared machine's noise shows as the gap between twins."""
    ways = ("ways", args.paced, args.big)
    return [("baseline", 0.0, 0.0), ways, ("baseline 2", 0.0, 0.0), (ways[0] + " 2", *ways[1:])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--stories", type=int, default=100)
    parser.add_argument("--paced", type=float, default=0.2, help="share with a pace of their own")
    parser.add_argument("--big", type=float, default=0.05, help="share waiting for big stories")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = {}
        for name, paced, big in RUNS(args):
            db, outlets = database(Path(tmp), name, args.chats)
            book = book_for(args.chats, paced, big, random.Random(7))
            times = run(db, outlets, book, args.stories)
            rows = db.execute("SELECT count(*), count(pace) FROM outbox").fetchone()
            figures[name] = (times, rows)
    print(f"{args.chats} chats match each article; {args.stories} stories told by 2 outlets")
    for name, (times, (rows, paced_rows)) in figures.items():
        p50 = statistics.median(times)
        p99 = statistics.quantiles(times, n=100)[98]
        print(f"  {name:9} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  rows {rows} ({paced_rows} paced)")


if __name__ == "__main__":
    main()
