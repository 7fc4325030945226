"""The outbox's claim reads chats' heads (m015), kept by triggers: the same heads, in the same
order, as the query that grouped every pending row, and a cost that does not follow the queue."""

import random
import sqlite3

import pytest

from storage import articles, chats, feeds, outbox
from storage.db import Database, migrations, open_database
from tests.support import article

# The claim before m015 (storage.outbox.due_heads): every due pending row, grouped by chat.
GROUPED = """SELECT chat_id, min(id), turn FROM outbox
             WHERE status = 'pending' AND not_before <= ? {skip}
             GROUP BY chat_id ORDER BY turn, min(id) LIMIT ?"""


def grouped_heads(
    db: Database, now: float, skip: set[int] = frozenset(), limit: int = 5000
) -> list[outbox.DueHead]:
    """What due_heads answered before m015."""
    marks = ",".join("?" * len(skip))
    sql = GROUPED.format(skip=f"AND chat_id NOT IN ({marks})" if skip else "")
    return [outbox.DueHead(*row) for row in db.execute(sql, (now, *skip, limit))]


def stored_heads(db: Database) -> list[tuple[int, int, int]]:
    return db.execute("SELECT chat_id, row_id, turn FROM outbox_heads ORDER BY chat_id").fetchall()


def ready_heads(db: Database) -> list[tuple[int, int, int]]:
    """The heads as their definition says: each chat's oldest pending row with no hold."""
    return db.execute(
        """SELECT chat_id, min(id), turn FROM outbox WHERE status = 'pending' AND not_before = 0
           GROUP BY chat_id ORDER BY chat_id"""
    ).fetchall()


def first_of_round(heads: list[outbox.DueHead], served: dict[int, float], batch: int) -> list[int]:
    """The rows a sender round claims from these heads (delivery.sender.Sender.send_due)."""
    ordered = sorted(heads, key=lambda head: (head.turn, served.get(head.chat_id, 0.0)))
    return [head.row_id for head in ordered[:batch]]


def add_articles(db: Database, count: int) -> list[int]:
    feed_id = feeds.add_feed(db, "https://site/feed", title="Site", interval_seconds=300, now=1)
    return [
        articles.store_article(db, feed_id, article(f"k{n}", f"h{n}", url=f"https://s/{n}"), now=1)[
            1
        ]
        for n in range(count)
    ]


class Churn:
    """Random work on a real outbox: what intake, the sender, admins and chats do to it."""

    def __init__(self, db: Database, seed: int) -> None:
        self.db = db
        self.rng = random.Random(seed)
        self.now = 1000.0
        self.chats = list(range(1, 41))
        for chat_id in self.chats:
            chats.touch_chat(db, chat_id, type="group", title="", language="ar", now=1)
        self.stories = add_articles(db, 30)
        self.served: dict[int, float] = {}
        self.messages = 0

    def step(self) -> str:
        action = self.rng.choice(
            ["story", "story", "notice", "broadcast", "round", "round", "round", "settle",
             "settle", "fold", "cancel", "delete", "migrate", "restart", "clock"]
        )  # fmt: skip
        getattr(self, action)()
        return action

    def story(self) -> None:
        if not self.stories:
            return
        story = self.stories.pop()
        chosen = self.rng.sample(self.chats, self.rng.randint(1, len(self.chats)))
        held = self.now + self.rng.choice([0, 0, 0, 30])
        outbox.queue_alerts(
            self.db,
            {chat_id: ["k"] for chat_id in chosen},
            story_id=story,
            article_id=story,
            now=self.now,
            not_before=held if held > self.now else 0.0,
        )

    def notice(self) -> None:
        outbox.queue_notice(self.db, self.rng.choice(self.chats), "⚠️", now=self.now)

    def broadcast(self) -> None:
        self.messages += 1
        outbox.create_broadcast(
            self.db,
            "📢",
            created_by=9,
            source_chat_id=9,
            source_message_id=self.messages,
            chat_ids=self.rng.sample(self.chats, len(self.chats) // 2),
            now=self.now,
        )

    def round(self) -> None:
        skip = set(self.rng.sample(self.chats, 3))
        heads = outbox.due_heads(self.db, self.now, skip_chats=skip, enough=5)
        for row in outbox.claim(self.db, first_of_round(heads, self.served, 5), self.now):
            self.served[row.chat_id] = self.now

    def _sending(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM outbox WHERE status = 'sending'")]

    def settle(self) -> None:
        for row_id in self._sending():
            fate = self.rng.choice(["sent", "sent", "release", "retry", "hold", "failed"])
            if fate == "sent":
                outbox.mark_sent(self.db, row_id, message_id=1, now=self.now)
            elif fate == "release":
                outbox.release(self.db, [row_id])
            elif fate == "failed":
                outbox.mark_failed(self.db, row_id, "gone")
            else:
                wait = 5 if fate == "retry" else 50
                outbox.mark_retry(self.db, row_id, not_before=self.now + wait, error="429")

    def fold(self) -> None:
        heads = outbox.due_heads(self.db, self.now)
        if heads:
            head = heads[0]
            outbox.claim(self.db, [head.row_id], self.now)
            outbox.claim_more_alerts(self.db, head.chat_id, self.now, exclude=head.row_id, limit=3)

    def cancel(self) -> None:
        if self.rng.random() < 0.3:
            outbox.cancel_broadcasts(self.db, self.now)

    def delete(self) -> None:
        chat_id = self.rng.choice(self.chats)
        chats.delete_chat(self.db, chat_id)
        chats.touch_chat(self.db, chat_id, type="group", title="", language="ar", now=self.now)

    def migrate(self) -> None:
        old = self.rng.choice(self.chats)
        into_known = self.rng.random() < 0.5  # merged into a chat that exists, or renamed
        new = self.rng.choice([c for c in self.chats if c != old]) if into_known else -old
        chats.migrate_chat(self.db, old, new, self.now)
        self.chats.remove(old)
        if not into_known:
            self.chats.append(new)

    def restart(self) -> None:
        outbox.reset_in_flight(self.db)

    def clock(self) -> None:
        self.now += self.rng.choice([1, 10, 40])


@pytest.mark.parametrize("seed", range(6))
def test_heads_are_those_of_the_grouping_query_through_every_change(db, seed):
    churn = Churn(db, seed)
    for _ in range(150):
        action = churn.step()
        old = grouped_heads(db, churn.now)  # read first: due_heads wakes rows, changing them
        assert outbox.due_heads(db, churn.now) == old, action
        assert stored_heads(db) == ready_heads(db), action
        skip = set(churn.rng.sample(churn.chats, 4))
        assert outbox.due_heads(db, churn.now, skip_chats=skip) == grouped_heads(
            db, churn.now, skip
        )
        assert outbox.due_heads(db, churn.now, limit=3) == old[:3]
        for batch in (1, 5, 30):
            fewer = outbox.due_heads(db, churn.now, skip_chats=skip, enough=batch)
            assert first_of_round(fewer, churn.served, batch) == first_of_round(
                grouped_heads(db, churn.now, skip), churn.served, batch
            ), action
    assert outbox.status_counts(db).get("sent", 0) > 10  # the churn did send


def test_enough_stops_at_the_end_of_a_turn(db):
    ids = add_articles(db, 2)
    for chat_id in range(1, 7):
        chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
    for story, line in zip(ids, ([1, 2, 3], [4, 5, 6]), strict=True):
        outbox.queue_alerts(db, {c: ["k"] for c in line}, story_id=story, article_id=story, now=2)
    heads = outbox.due_heads(db, 5, enough=3)
    assert [(h.chat_id, h.turn) for h in heads] == [(1, 0), (4, 0), (2, 1), (5, 1)]
    assert [h.chat_id for h in outbox.due_heads(db, 5, enough=2)] == [1, 4]
    assert [h.chat_id for h in outbox.due_heads(db, 5, skip_chats=[1, 4], enough=1)] == [2, 5]


def test_a_hold_that_ends_makes_the_older_row_the_head_again(db):
    first, second = add_articles(db, 2)
    chats.touch_chat(db, 1, type="private", title="", language="ar", now=1)
    outbox.queue_alerts(db, {1: ["k"]}, story_id=first, article_id=first, now=1)
    outbox.queue_alerts(db, {1: ["k"]}, story_id=second, article_id=second, now=1)
    (head,) = outbox.due_heads(db, 10)
    outbox.claim(db, [head.row_id], 10)
    outbox.mark_retry(db, head.row_id, not_before=60, error="429")
    assert [h.row_id for h in outbox.due_heads(db, 59)] == [head.row_id + 1]
    assert outbox.next_due_at(db) == 0  # the second is due at once
    assert [h.row_id for h in outbox.due_heads(db, 60)] == [head.row_id]  # oldest first again
    assert db.execute("SELECT not_before FROM outbox WHERE id = ?", (head.row_id,)).fetchone() == (
        0,
    )


def test_m015_finds_the_heads_of_a_queue_written_before_it(tmp_path):
    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m015_outbox_heads")
    db.execute("PRAGMA foreign_keys = ON")
    story, other = add_articles(db, 2)
    for chat_id in (1, 2, 3):
        chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
    outbox.queue_alerts(db, {3: ["k"], 2: ["k"], 1: ["k"]}, story_id=story, article_id=story, now=1)
    outbox.queue_alerts(db, {1: ["k"], 2: ["k"]}, story_id=other, article_id=other, now=1)
    db.execute("UPDATE outbox SET status = 'sent' WHERE chat_id = 3")
    db.execute("UPDATE outbox SET not_before = 50 WHERE chat_id = 2 AND story_id = ?", (story,))
    db.conn.commit()
    before = {at: grouped_heads(db, at) for at in (10, 60)}
    db.conn.close()

    db = open_database(path)
    assert stored_heads(db) == ready_heads(db) == [(1, 3, 2), (2, 5, 1)]
    assert outbox.due_heads(db, 10) == before[10]
    assert outbox.due_heads(db, 60) == before[60]  # the hold that ended is woken


def fill(db: Database, pending: int) -> None:
    """`pending` rows owed to as many chats: one story, queued as intake queues one."""
    db["chats"].insert_all(
        ({"id": c, "created_at": 1, "updated_at": 1} for c in range(1, pending + 1)),
        batch_size=10_000,
    )
    (story,) = add_articles(db, 1)
    keywords = {chat_id: ["k"] for chat_id in range(1, pending + 1)}
    with db.atomic():
        outbox.queue_alerts(db, keywords, story_id=story, article_id=story, now=1, new_story=True)


def round_steps(db: Database, skip: set[int]) -> int:
    """SQLite virtual-machine steps of one sender round of 30: due_heads, then claim."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    db.conn.set_progress_handler(count, 1)
    heads = outbox.due_heads(db, 5, skip_chats=skip, enough=30)
    claimed = outbox.claim(db, first_of_round(heads, {}, 30), 5)
    db.conn.set_progress_handler(None, 1)
    assert len(claimed) == 30
    return steps


@pytest.mark.slow
def test_a_claim_reads_as_much_with_100000_rows_queued_as_with_10000(tmp_path):
    skip = set(range(1, 2000, 40))  # 50 chats in flight or held back by the budget
    steps = {}
    for pending in (10_000, 100_000):
        db = open_database(tmp_path / f"{pending}.db")
        fill(db, pending)
        round_steps(db, skip)  # the first round wakes nothing and warms the statement cache
        steps[pending] = round_steps(db, skip)
        grouped = db.execute("EXPLAIN QUERY PLAN " + GROUPED.format(skip=""), (5, 5000))
        assert "TEMP B-TREE" in " ".join(row[3] for row in grouped)  # what m015 replaced
        db.conn.close()
    assert steps[100_000] == steps[10_000]
    assert steps[10_000] < 20_000  # some 90 rows read, 30 claimed, their heads replaced


def test_a_round_reads_the_heads_from_their_index_and_wakes_from_the_due_index(db):
    first, second = add_articles(db, 2)
    chats.touch_chat(db, 1, type="private", title="", language="ar", now=1)
    outbox.queue_alerts(db, {1: ["k"]}, story_id=first, article_id=first, now=1, not_before=3)
    outbox.queue_alerts(db, {1: ["k"]}, story_id=second, article_id=second, now=1)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    assert [h.row_id for h in outbox.due_heads(db, 5, enough=30)] == [1]  # the hold ended
    db.conn.set_trace_callback(None)
    plans = [
        (sql.split()[0], [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql)])
        for sql in dict.fromkeys(statements)  # a trigger's statements trace their parent's
    ]
    due = (
        "SEARCH outbox USING COVERING INDEX outbox_due (status=? AND not_before>? AND not_before<?)"
    )
    assert plans == [
        ("SELECT", [due]),  # a hold that ended? (one probe; the usual round stops here)
        ("UPDATE", [due]),  # wake the rows whose hold ended, and only them
        ("SELECT", ["SCAN outbox_heads USING COVERING INDEX outbox_heads_turn"]),  # no B-tree
    ]
