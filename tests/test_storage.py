"""Storage on a real SQLite file: schema, chats, keywords, feeds, articles, outbox."""

import sqlite3

import pytest

from storage import articles, bans, chats, feeds, outbox
from storage.db import Database, migrations, open_database
from tests.support import article


def test_open_is_idempotent_and_uses_wal(tmp_path):
    path = tmp_path / "sub" / "rasd.db"
    open_database(path).conn.close()
    db = open_database(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    applied = [m.name for m in migrations.applied(db)]
    assert applied[0] == "m001_initial"
    assert applied == [m.name for m in migrations.pending(Database(memory=True))]  # all, once
    assert {"chats", "subscriptions", "feeds", "articles", "outbox", "broadcasts"} <= set(
        db.table_names()
    )


def test_migrations_are_defined_and_numbered_in_the_order_they_run():
    names = [m.name for m in migrations.pending(Database(memory=True))]
    numbers = [int(name[1:4]) for name in names]
    assert all(name[0] == "m" and name[4] == "_" for name in names)
    assert numbers == list(range(1, len(names) + 1)), "a new migration takes the next number"


def test_a_database_migrated_in_the_old_order_opens_unchanged(tmp_path):
    """Before they were reordered, m004 ran before m003; such a database has both, once."""
    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m003_feed_health")
    old_order = {m.name: m for m in migrations.pending(db)}
    old_order["m004_delivery"].fn(db)
    db["_sqlite_migrations"].insert(
        {"migration_set": "rasd", "name": "m004_delivery", "applied_at": "2026-01-01"}
    )
    db.conn.commit()
    db.conn.close()
    reopened = open_database(path)
    applied = [m.name for m in migrations.applied(reopened)]
    assert sorted(applied) == sorted(m.name for m in migrations.pending(Database(memory=True)))
    assert len(applied) == len(set(applied))
    assert "delivery_mode" in reopened["chats"].columns_dict
    assert "note" in reopened["feeds"].columns_dict


def test_chat_touch_and_reactivate(db):
    chat = chats.touch_chat(db, 42, type="private", title="Ali", language="ar", now=1)
    assert chat.active
    assert chat.language == "ar"
    chats.deactivate_chat(db, 42, "Forbidden: bot was blocked by the user", now=2)
    assert chats.get_chat(db, 42).active is False
    assert chats.active_chat_ids(db) == []
    chats.touch_chat(db, 42, type="private", title="Ali", language="en", now=3)
    assert chats.get_chat(db, 42).active is True
    assert chats.active_chat_ids(db) == [42]


def test_subscriptions_refuse_duplicates_by_key(db):
    chats.touch_chat(db, 1, type="private", title="", language="ar", now=1)
    first = chats.add_subscription(db, 1, "المغرب", "مغرب", now=1)
    with pytest.raises(chats.KeywordExists):
        chats.add_subscription(db, 1, "المَغرب", "مغرب", now=2)
    assert [s.keyword for s in chats.chat_subscriptions(db, 1)] == ["المغرب"]
    assert chats.remove_subscription(db, 1, "مغرب").id == first
    assert chats.remove_subscription(db, 1, "مغرب") is None
    assert chats.count_subscriptions(db, 1) == 0


def test_active_keywords_are_read_row_by_row_in_id_order_without_paused_ones(db):
    for chat_id in (1, 2):
        chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
    rabat = chats.add_subscription(db, 2, "الرباط", "رباط", now=1)
    tunis = chats.add_subscription(db, 1, "تونس", "تونس", now=1)
    paused = chats.add_subscription(db, 1, "غزة", "غزه", now=1)
    chats.set_subscription_paused(db, 1, paused, True)
    plans = []
    db.conn.set_trace_callback(plans.append)
    rows = chats.active_keywords(db)
    assert not isinstance(rows, list)  # a cursor: a million rows are never held at once
    assert list(rows) == [(rabat, 2, "الرباط"), (tunis, 1, "تونس")]
    db.conn.set_trace_callback(None)
    assert len(plans) == 1
    plan = db.execute("EXPLAIN QUERY PLAN " + plans[0]).fetchall()
    assert [row[-1] for row in plan] == ["SCAN subscriptions"]  # in rowid order: nothing sorted


def test_delete_chat_removes_everything(db, tmp_path):
    chats.touch_chat(db, 1, type="private", title="", language="ar", now=1)
    chats.add_subscription(db, 1, "غزة", "غزه", now=1)
    outbox.create_broadcast(
        db, "hello", created_by=9, source_chat_id=9, source_message_id=1, chat_ids=[1], now=1
    )
    chats.delete_chat(db, 1)
    assert chats.get_chat(db, 1) is None
    for table in ("subscriptions", "outbox"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


def test_migrate_group_moves_keywords_and_pending_rows(db):
    chats.touch_chat(db, -100, type="group", title="g", language="ar", now=1)
    chats.add_subscription(db, -100, "لبنان", "لبنان", now=1)
    outbox.create_broadcast(
        db, "x", created_by=9, source_chat_id=9, source_message_id=1, chat_ids=[-100], now=1
    )
    chats.migrate_chat(db, -100, -1001234567890, now=2)
    assert chats.get_chat(db, -100) is None
    moved = chats.get_chat(db, -1001234567890)
    assert moved.type == "supergroup"
    assert [s.keyword for s in chats.chat_subscriptions(db, -1001234567890)] == ["لبنان"]
    assert db.execute("SELECT chat_id FROM outbox").fetchall() == [(-1001234567890,)]


def test_feed_lifecycle(db):
    feed_id = feeds.add_feed(db, "https://site/feed", title="Site", interval_seconds=300, now=10)
    with pytest.raises(feeds.FeedExists):
        feeds.add_feed(db, "https://site/feed", title="Site", interval_seconds=300, now=10)
    assert [f.id for f in feeds.due_feeds(db, now=10)] == [feed_id]
    feeds.record_failure(db, feed_id, now=10, next_check_at=700, error="HTTP 500")
    feed = feeds.get_feed(db, feed_id)
    assert (feed.error_count, feed.last_error, feed.primed) == (1, "HTTP 500", False)
    assert feeds.due_feeds(db, now=699) == []
    feeds.record_success(
        db,
        feed_id,
        now=700,
        next_check_at=1000,
        etag='"e1"',
        last_modified=None,
        body_hash="b",
        title="New title",
    )
    feed = feeds.get_feed(db, feed_id)
    assert (feed.error_count, feed.last_error, feed.etag, feed.primed, feed.title) == (
        0,
        None,
        '"e1"',
        True,
        "New title",
    )


def test_store_article_new_updated_unchanged(db):
    feed_id = feeds.add_feed(db, "https://site/feed", title="Site", interval_seconds=300, now=1)
    assert articles.store_article(db, feed_id, article(), now=2)[0] is articles.Stored.NEW
    assert articles.store_article(db, feed_id, article(), now=3)[0] is articles.Stored.UNCHANGED
    status, article_id = articles.store_article(db, feed_id, article(content="h2"), now=4)
    assert status is articles.Stored.UPDATED
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    stored = articles.get_article(db, article_id)
    assert (stored.feed_title, stored.story_id, stored.title) == ("Site", article_id, "عنوان")


def test_fingerprints_round_trip_through_signed_storage(db):
    feed_id = feeds.add_feed(db, "https://site/feed", title="Site", interval_seconds=300, now=1)
    big = (1 << 64) - 3
    _, article_id = articles.store_article(db, feed_id, article(fingerprint=big), now=2)
    articles.set_story(db, article_id, article_id)
    assert articles.recent_fingerprints(db, since=0) == [(article_id, big)]
    assert articles.recent_fingerprints(db, since=3) == []  # fetched at 2


def test_story_by_url_finds_the_first_teller(db):
    feed_a = feeds.add_feed(db, "https://a/feed", title="A", interval_seconds=300, now=1)
    feed_b = feeds.add_feed(db, "https://b/feed", title="B", interval_seconds=300, now=1)
    _, first = articles.store_article(db, feed_a, article(key="x"), now=2)
    articles.set_story(db, first, first)
    _, second = articles.store_article(db, feed_b, article(key="y"), now=3)
    assert articles.story_by_url(db, "https://site/a", exclude_id=second) == first
    assert articles.story_by_url(db, "https://site/other", exclude_id=second) is None
    assert articles.story_of(db, second) == second  # no story set yet: its own
    articles.set_story(db, second, first)
    assert (articles.story_of(db, second), articles.story_of(db, second + 1)) == (first, None)


def test_articles_and_their_stories_sources_are_read_many_at_once(db):
    feed_a = feeds.add_feed(db, "https://a/feed", title="A", interval_seconds=300, now=1)
    feed_b = feeds.add_feed(db, "https://b/feed", title="B", interval_seconds=300, now=1)
    _, first = articles.store_article(db, feed_b, article(key="x"), now=2)
    articles.set_story(db, first, first)
    _, again = articles.store_article(db, feed_a, article(key="y"), now=3)  # B told it first
    articles.set_story(db, again, first)
    _, alone = articles.store_article(db, feed_a, article(key="z"), now=4)  # no story set yet
    found = articles.articles_by_id(db, [first, alone, alone + 1])
    assert found == {first: articles.get_article(db, first), alone: articles.get_article(db, alone)}
    assert articles.story_sources(db, [first, alone, alone + 1]) == {
        first: ["B", "A"],
        alone: ["A"],
    }


def test_one_alert_per_chat_per_story(db):
    chats.touch_chat(db, 1, type="private", title="", language="ar", now=1)
    feed_id = feeds.add_feed(db, "https://site/feed", title="Site", interval_seconds=300, now=1)
    _, article_id = articles.store_article(db, feed_id, article(), now=2)
    assert outbox.queue_alert(db, 1, story_id=7, article_id=article_id, keywords=["a"], now=2)
    assert not outbox.queue_alert(db, 1, story_id=7, article_id=article_id, keywords=["b"], now=3)


def test_claim_is_fair_and_crash_safe(tmp_path):
    path = tmp_path / "rasd.db"
    db = open_database(path)
    for chat_id in (1, 2):
        chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
    for message_id in range(3):  # chat 1 owes three notices, chat 2 three too
        outbox.create_broadcast(
            db,
            f"n{message_id}",
            created_by=9,
            source_chat_id=9,
            source_message_id=message_id,
            chat_ids=[1, 2],
            now=1,
        )
    heads = outbox.due_heads(db, now=5)
    assert sorted(head.chat_id for head in heads) == [1, 2]  # one per chat
    claimed = outbox.claim(db, [head.row_id for head in heads], now=5)
    outbox.mark_sent(db, claimed[0].id, message_id=11, now=6)
    db.conn.close()  # the process dies with claimed[1] in flight

    db = open_database(path)
    assert outbox.reset_in_flight(db) == 1
    assert outbox.status_counts(db) == {"pending": 5, "sent": 1}
    assert [head.chat_id for head in outbox.due_heads(db, now=7, skip_chats=[1])] == [2]


def test_broadcast_is_idempotent_per_source_message(db):
    chats.touch_chat(db, 1, type="private", title="", language="ar", now=1)
    first = outbox.create_broadcast(
        db, "x", created_by=9, source_chat_id=9, source_message_id=5, chat_ids=[1], now=1
    )
    again = outbox.create_broadcast(
        db, "x", created_by=9, source_chat_id=9, source_message_id=5, chat_ids=[1], now=2
    )
    assert first == (first[0], 1)
    assert again is None
    assert outbox.status_counts(db) == {"pending": 1}


def test_foreign_keys_are_enforced(db):
    with pytest.raises(sqlite3.IntegrityError):
        chats.add_subscription(db, 999, "x", "x", now=1)


def test_queue_alerts_inserts_new_chats_and_merges_pending_keywords(db):
    for chat_id in (1, 2, 3):
        chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
    feed_id = feeds.add_feed(db, "https://site/feed", title="Site", interval_seconds=300, now=1)
    _, article_id = articles.store_article(db, feed_id, article(), now=2)
    assert outbox.queue_alert(db, 1, story_id=7, article_id=article_id, keywords=["a"], now=2)
    queued = outbox.queue_alerts(
        db, {1: ["b"], 2: ["c"], 3: ["d"]}, story_id=7, article_id=article_id, now=3
    )
    assert queued == 2  # chat 1 already had its alert for story 7
    rows = db.execute(
        "SELECT chat_id, keywords FROM outbox WHERE story_id = 7 ORDER BY chat_id"
    ).fetchall()
    assert rows == [(1, '["a", "b"]'), (2, '["c"]'), (3, '["d"]')]
    assert outbox.queue_alerts(db, {}, story_id=7, article_id=article_id, now=4) == 0


def test_a_ban_lives_apart_from_the_chat_row(tmp_path):
    db = open_database(tmp_path / "rasd.db")
    chats.touch_chat(db, 5, type="private", title="", language="ar", now=1.0)
    assert bans.ban(db, 5, banned_by=1, now=2.0)
    assert not bans.ban(db, 5, banned_by=1, now=3.0)
    assert bans.ban(db, 6, banned_by=1, now=2.0)  # never met
    chats.delete_chat(db, 5)  # /stop
    chat = chats.touch_chat(db, 5, type="private", title="", language="ar", now=4.0)
    assert chat.banned
    assert chats.active_chat_ids(db) == []
    assert bans.banned_among(db, [7, 6]) == 6
    assert bans.tell_once(db, 5, 5.0)
    assert not bans.tell_once(db, 5, 6.0)
    chats.migrate_chat(db, 5, -1005, 7.0)
    assert chats.get_chat(db, -1005).banned
    assert bans.unban(db, 5)
    assert not bans.unban(db, 5)


def test_due_chats_come_a_story_at_a_time_so_a_small_story_waits_for_no_big_one(db):
    big, small = list(range(100, 150)), [900, 901, 902]
    for chat_id in [*big, *small, 7]:
        chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
    feed_id = feeds.add_feed(db, "https://site/feed", title="Site", interval_seconds=300, now=1)
    _, big_story = articles.store_article(db, feed_id, article("big", "hb"), now=1)
    _, small_story = articles.store_article(db, feed_id, article("small", "hs"), now=2)
    # The big story is queued first (its rows are the oldest), as intake queues a story.
    outbox.queue_alerts(
        db, {chat_id: ["a"] for chat_id in big}, story_id=big_story, article_id=big_story, now=1
    )
    outbox.queue_alerts(
        db, {c: ["b"] for c in small}, story_id=small_story, article_id=small_story, now=2
    )
    outbox.queue_notice(db, 7, "⚠️", now=3)

    heads = outbox.due_heads(db, now=5)
    assert [(h.chat_id, h.turn) for h in heads[:8]] == [
        (100, 0), (900, 0), (7, 0),  # every story's first chat, and the notice
        (101, 1), (901, 1),
        (102, 2), (902, 2),
        (103, 3),  # the small story is done: the big one goes on alone
    ]  # fmt: skip
    assert len(heads) == 54  # each chat once
    assert [h.chat_id for h in outbox.due_heads(db, now=5, limit=4)] == [100, 900, 7, 101]


def test_forgetting_a_chat_finds_what_names_it_by_index(db):
    """delete_chat clears the channels a chat linked and the chat managing it: each through an
    index, not a read of every chat (a daily purge at 200,000 chats took 1.4 s)."""
    plans = [
        " ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", (1,)).fetchall())
        for sql in (
            "UPDATE chats SET linked_by = NULL WHERE linked_by = ?",
            "UPDATE chats SET managing_chat_id = NULL WHERE managing_chat_id = ?",
        )
    ]
    assert "USING INDEX chats_linked_by" in plans[0]
    assert "USING INDEX chats_managing" in plans[1]
    assert not any(plan.startswith("SCAN") for plan in plans)
