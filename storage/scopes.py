"""Keywords limited to some sources (issue #31): each feed's sites as seen, the feeds ticked for
each keyword."""

from __future__ import annotations

from collections.abc import Iterable

from storage.db import Database


def record_sites(db: Database, feed_id: int, hosts: Iterable[str]) -> set[str]:
    """Remember hosts a feed's site goes by (its <link>, its items' links); those new for it."""
    new = set()
    for host in {host for host in hosts if host}:
        cursor = db.execute(
            "INSERT INTO feed_sites (feed_id, host) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (feed_id, host),
        )
        if cursor.rowcount > 0:
            new.add(host)
    return new


def feed_hosts(db: Database) -> dict[int, set[str]]:
    """Every feed's sites (feeds with none seen yet are left out)."""
    hosts: dict[int, set[str]] = {}
    for feed_id, host in db.execute("SELECT feed_id, host FROM feed_sites"):
        hosts.setdefault(feed_id, set()).add(host)
    return hosts


def ticked_feeds(db: Database, subscription_id: int) -> set[int]:
    """The feeds ticked for a keyword."""
    return {
        feed_id
        for (feed_id,) in db.execute(
            "SELECT feed_id FROM subscription_feeds WHERE subscription_id = ?", (subscription_id,)
        )
    }


def all_ticked(db: Database) -> dict[int, set[int]]:
    """The feeds ticked for every keyword that has some."""
    ticked: dict[int, set[int]] = {}
    for sub_id, feed_id in db.execute("SELECT subscription_id, feed_id FROM subscription_feeds"):
        ticked.setdefault(sub_id, set()).add(feed_id)
    return ticked


def set_ticked(db: Database, subscription_id: int, feed_ids: Iterable[int]) -> None:
    """Replace the feeds ticked for a keyword."""
    db.execute("DELETE FROM subscription_feeds WHERE subscription_id = ?", (subscription_id,))
    db.conn.executemany(
        "INSERT INTO subscription_feeds (subscription_id, feed_id) VALUES (?, ?)",
        [(subscription_id, feed_id) for feed_id in sorted(set(feed_ids))],
    )
