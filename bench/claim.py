"""Claim benchmark: the cost of one sender round (due_heads, order, claim) as the outbox grows.

For each queue length and shape it builds one outbox, copies it, and takes the copy back to the
schema before m015 (no heads table, no triggers). On the copy it runs the claim as it was before
issue #30's part 3 (the SQL kept below: every due pending row grouped by chat, then the claim
whose id lookup the planner turned into a walk of every pending row); on the original it runs
storage.outbox today. Each round claims 30 (or 100) rows as Sender.send_due does, 1% of the
chats skipped as busy, and the claimed rows are marked sent outside the timing. Prints p50 and
p99 per round in milliseconds, the SQLite steps of one round, and what queueing a story costs
with the triggers and without.

    nice -n 10 .venv/bin/python bench/claim.py                   # 10k, 50k, 200k, 1M pending
    nice -n 10 .venv/bin/python bench/claim.py --pending 200000 --rounds 100

Shapes: "one story" (a story for as many chats as rows pending), "100 stories" (sizes falling
as 1/k over a pool of at most 200,000 chats, so a chat follows several: its later stories wait
behind its first). bench/scale.py calls claim_figures(pending).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.models import Article  # noqa: E402
from storage import articles, feeds, outbox  # noqa: E402
from storage.db import Database, open_database  # noqa: E402

# The claim before part 3 of issue #30, as storage/outbox.py had it.
OLD_DUE_HEADS = """SELECT chat_id, min(id), turn FROM outbox
                   WHERE status = 'pending' AND not_before <= ? {skip}
                   GROUP BY chat_id ORDER BY turn, min(id) LIMIT ?"""
OLD_CLAIM = "SELECT * FROM outbox WHERE id IN ({ids}) AND status = 'pending' ORDER BY id"
OLD_MARK = "UPDATE outbox SET status = 'sending', claimed_at = ? WHERE id IN ({ids})"
# What m015 added: gone from the baseline's copy.
M015_OBJECTS = """DROP TRIGGER outbox_heads_insert; DROP TRIGGER outbox_heads_enter;
                  DROP TRIGGER outbox_heads_leave; DROP TRIGGER outbox_heads_delete;
                  DROP TABLE outbox_heads; DROP INDEX outbox_ready;
                  DELETE FROM _sqlite_migrations WHERE name = 'm015_outbox_heads';"""
Claimed = list[tuple[int, int]]  # (row id, chat id) of the rows a round claimed
POOL = 200_000  # chats of the 100-story shape, at most
NOW = 10.0
SHAPES = ("one story", "100 stories")


@dataclass
class Queue:
    """A built outbox: its chats and the 1% skipped as busy each round."""

    path: Path
    chat_ids: list[int]
    skip: set[int]


def story_lines(shape: str, pending: int, rng: random.Random) -> list[list[int]]:
    """Each story's chats in queue order, `pending` rows in all."""
    if shape == "one story":
        return [list(range(1, pending + 1))]
    pool = min(pending, POOL)
    weights = [1 / k for k in range(1, 101)]
    sizes = [max(1, min(pool, round(pending * w / sum(weights)))) for w in weights]
    sizes[-1] += pending - sum(sizes)
    return [rng.sample(range(1, pool + 1), size) for size in sizes]


def build(directory: Path, shape: str, pending: int) -> Queue:
    """An outbox owing `pending` alerts, queued story after story as intake queues them."""
    rng = random.Random(pending)
    lines = story_lines(shape, pending, rng)
    chat_ids = sorted({chat for line in lines for chat in line})
    db = open_database(directory / "new.db")
    db["chats"].insert_all(
        ({"id": c, "created_at": 1, "updated_at": 1} for c in chat_ids), batch_size=20_000
    )
    feed = feeds.add_feed(db, "https://bench/feed", title="f", interval_seconds=300, now=1)
    for number, line in enumerate(lines):
        story = Article(f"k{number}", f"https://b/{number}", "t", "", "ar", str(number))
        with db.atomic():
            _, article = articles.store_article(db, feed, story, now=1)
            outbox.queue_alerts(
                db, {c: ["k"] for c in line}, story_id=article, article_id=article, now=1,
                new_story=True,
            )  # fmt: skip
    db.conn.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    skip = set(rng.sample(chat_ids, len(chat_ids) // 100))
    return Queue(directory / "new.db", chat_ids, skip)


def old_schema(queue: Queue) -> Path:
    """A copy of the outbox as it was before m015."""
    path = queue.path.with_name("old.db")
    shutil.copyfile(queue.path, path)
    conn = sqlite3.connect(path)
    conn.executescript(M015_OBJECTS)
    conn.close()
    return path


def old_round(db: Database, skip: set[int], served: dict[int, float], batch: int) -> Claimed:
    """Sender.send_due's reads and claim before part 3."""
    marks = ",".join("?" * len(skip))
    sql = OLD_DUE_HEADS.format(skip=f"AND chat_id NOT IN ({marks})" if skip else "")
    heads = [outbox.DueHead(*row) for row in db.execute(sql, (NOW, *skip, 5000))]
    heads.sort(key=lambda head: (head.turn, served.get(head.chat_id, 0.0)))
    ids = [head.row_id for head in heads[:batch]]
    with db.atomic():
        rows = db.execute(OLD_CLAIM.format(ids=",".join("?" * len(ids))), ids).fetchall()
        db.execute(OLD_MARK.format(ids=",".join("?" * len(rows))), (NOW, *(r[0] for r in rows)))
    return [(row[0], row[1]) for row in rows]  # id, chat_id


def new_round(db: Database, skip: set[int], served: dict[int, float], batch: int) -> Claimed:
    """Sender.send_due's reads and claim today."""
    heads = outbox.due_heads(db, NOW, skip_chats=skip, enough=batch)
    heads.sort(key=lambda head: (head.turn, served.get(head.chat_id, 0.0)))
    rows = outbox.claim(db, [head.row_id for head in heads[:batch]], NOW)
    return [(row.id, row.chat_id) for row in rows]


Round = Callable[[Database, set[int], dict[int, float], int], Claimed]


def measure(path: Path, skip: set[int], run: Round, batch: int, rounds: int) -> dict[str, float]:
    """p50 and p99 of `rounds` rounds in ms, and the SQLite steps (thousands) of one more, on a
    copy of the outbox at `path` (every measure starts from the same queue)."""
    work = path.with_name("work.db")
    shutil.copyfile(path, work)
    db = open_database(work)
    served: dict[int, float] = {}
    times: list[float] = []
    ticks = itertools.count()

    def tick() -> int:
        next(ticks)
        return 0  # go on

    for number in range(rounds + 1):
        if number == rounds:  # counted apart: the handler slows what it counts
            db.conn.set_progress_handler(tick, 1000)
        started = time.perf_counter()
        claimed = run(db, skip, served, batch)
        times.append((time.perf_counter() - started) * 1000)
        db.conn.set_progress_handler(None, 1000)
        assert len(claimed) == batch, "the queue ran dry"
        for row_id, chat_id in claimed:  # settled while the next round waits: not timed
            outbox.mark_sent(db, row_id, message_id=1, now=NOW)
            served[chat_id] = NOW + number  # as the sender's last_served
    db.conn.close()
    ordered = sorted(times[:rounds])
    return {
        "p50": ordered[len(ordered) // 2],
        "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "ksteps": float(next(ticks)),
    }


def queue_cost(directory: Path, rows: int = 50_000) -> dict[str, float]:
    """Seconds to queue one story for `rows` chats, with m015's triggers and without."""
    figures = {}
    for name in ("old", "new"):
        queue = build(directory / name, "one story", 1)  # an empty outbox but for one row
        path = old_schema(queue) if name == "old" else queue.path
        db = open_database(path)
        db["chats"].insert_all(
            ({"id": c, "created_at": 1, "updated_at": 1} for c in range(2, rows + 2)),
            batch_size=20_000,
        )
        started = time.perf_counter()
        with db.atomic():
            outbox.queue_alerts(
                db, {c: ["k"] for c in range(2, rows + 2)}, story_id=1, article_id=1, now=1,
                new_story=True,
            )  # fmt: skip
        figures[name] = time.perf_counter() - started
        db.conn.close()
    return figures


def index_walk_visits(pending: int, batch: int = 30, samples: int = 20) -> list[int]:
    """The design not taken, counted in Python: an index of pending rows in (turn, id) order,
    walked until `batch` chats' oldest rows turn up. While the 100-story queue drains (in the
    order the sender keeps), the rows such a walk would visit per round, at `samples` moments.

    A chat's later stories wait behind its first, and their rows sit early in the index."""
    lines = story_lines("100 stories", pending, random.Random(pending))
    rows, own = [], {}  # (turn, id, chat) of every row; each chat's rows, oldest first
    for turn, row_id, chat in (
        (turn, len(rows) + 1, chat) for line in lines for turn, chat in enumerate(line)
    ):
        rows.append((turn, row_id, chat))
        own.setdefault(chat, []).append((turn, row_id))
    rows.sort()
    owed = [list(reversed(chat_rows)) for chat_rows in own.values()]
    head = {chat: own[chat][0][1] for chat in own}
    queue = [(*chat_rows[-1], index) for index, chat_rows in enumerate(owed)]
    heapq.heapify(queue)
    chats = list(own)
    sent = bytearray(len(rows) + 1)
    visits: list[int] = []
    every = max(1, pending // batch // samples)
    for number in range(pending // batch):
        if number % every == 0:
            visits.append(walk_length(rows, sent, head, batch))
        for _ in range(min(batch, len(queue))):  # a round: the first heads in (turn, id) order
            _, row_id, index = heapq.heappop(queue)
            sent[row_id] = 1
            owed[index].pop()
            if owed[index]:
                heapq.heappush(queue, (*owed[index][-1], index))
                head[chats[index]] = owed[index][-1][1]
    return visits


def walk_length(rows: list[tuple[int, int, int]], sent: bytearray, head: dict, batch: int) -> int:
    """Pending rows read in (turn, id) order until `batch` of them are their chat's oldest."""
    visited = found = 0
    for _, row_id, chat in rows:
        if not sent[row_id]:
            visited += 1
            found += head[chat] == row_id
            if found == batch:
                break
    return visited


def claim_figures(
    pending: int, *, shape: str = "100 stories", rounds: int = 100
) -> dict[str, float]:
    """One round's cost at `pending` rows queued, before part 3 and now: keys like
    `new_30_p99_ms`, `old_100_p50_ms`, `new_30_ksteps` (SQLite steps, thousands)."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="rasd-claim-") as tmp:
        queue = build(Path(tmp), shape, pending)
        old_path = old_schema(queue)
        for batch in (30, 100):
            most = pending // (2 * batch)  # the queue stays at least half full
            for name, path, run, count in (
                ("old", old_path, old_round, min(most, max(10, 2_000_000 // pending), rounds)),
                ("new", queue.path, new_round, min(most, rounds)),  # the old round is the slow one
            ):
                result = measure(path, queue.skip, run, batch, count)
                figures[f"{name}_{batch}_p50_ms"] = result["p50"]
                figures[f"{name}_{batch}_p99_ms"] = result["p99"]
                figures[f"{name}_{batch}_ksteps"] = result["ksteps"]
                figures[f"{name}_{batch}_rounds"] = count
    return figures


def line(pending: int, shape: str, batch: int, figures: dict[str, float]) -> str:
    old, new = (
        {key: figures[f"{name}_{batch}_{key}"] for key in ("p50_ms", "p99_ms", "ksteps", "rounds")}
        for name in ("old", "new")
    )
    return (
        f"{pending:>9,} {shape:<12} {batch:>5}  "
        f"old p50 {old['p50_ms']:8.2f} p99 {old['p99_ms']:8.2f} ({old['ksteps']:8.0f}k steps,"
        f" {old['rounds']:3.0f} rounds)   "
        f"new p50 {new['p50_ms']:6.2f} p99 {new['p99_ms']:6.2f} ({new['ksteps']:4.0f}k steps,"
        f" {new['rounds']:3.0f} rounds)   x{old['p50_ms'] / new['p50_ms']:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pending", type=int, nargs="+", default=[10_000, 50_000, 200_000, 1_000_000]
    )
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--shape", choices=SHAPES, nargs="+", default=list(SHAPES))
    args = parser.parse_args()
    print(f"SQLite {sqlite3.sqlite_version}; one round = due_heads, order, claim; ms per round")
    print("  pending shape        batch  old (the claim before part 3, same run)   new (today)")
    for pending in args.pending:
        for shape in args.shape:
            figures = claim_figures(pending, shape=shape, rounds=args.rounds)
            for batch in (30, 100):
                print(line(pending, shape, batch, figures), flush=True)
    for pending in args.pending:
        visits = sorted(index_walk_visits(pending))
        print(
            f"{pending:>9,} 100 stories: an index walk in (turn, id) order (not taken) would read "
            f"p50 {visits[len(visits) // 2]:,} max {visits[-1]:,} pending rows per round of 30 "
            f"while the queue drains; the heads table reads the heads of the turns it returns"
        )
    with tempfile.TemporaryDirectory(prefix="rasd-claim-") as tmp:
        cost = queue_cost(Path(tmp))
    print(
        f"queueing a story for 50,000 chats: {cost['new']:.2f} s with m015's triggers, "
        f"{cost['old']:.2f} s without (same run)"
    )


if __name__ == "__main__":
    main()
