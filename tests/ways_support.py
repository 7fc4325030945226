"""The Mini App on a bare database for its keyword ways and chart tests: signed visitors at a
fixed moment, feeds with their sites, keyword_hours and surges rows written as intake and the
surge watch write them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aiohttp import web

from core.i18n import Catalog, load_catalog
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from core.webapp import sign_init_data
from miniapp import make_miniapp
from service import account, keywords
from service.base import Backend, Refusal
from service.trials import Trials
from storage import feeds as feed_store
from storage import scopes
from storage.db import Database

TOKEN = "123456:" + "A" * 35
USER, OTHER_USER = 111, 222
NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC).timestamp()  # a Monday, 13:30 in Riyadh
CATALOG: Catalog = load_catalog()
# title → the hosts its feed's site goes by (feed_sites, as intake records them)
FEEDS = {
    "هسبريس": ("hespress.com",),
    "هسبريس فرنسية": ("fr.hespress.com",),
    "الجزيرة": ("aljazeera.net",),
}


def signed(user_id: int, *, language: str = "ar", at: float = NOW) -> dict[str, str]:
    """The Authorization header of a user's page, signed by Telegram at `at`."""
    user = {"id": user_id, "first_name": "Sara", "language_code": language}
    fields = {
        "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(int(at)),
    }
    return {"Authorization": "tma " + sign_init_data(fields, TOKEN)}


def backend_on(db: Database, now: float = NOW) -> Backend:
    """The use cases' backend on a database, its clock stopped at `now`."""
    return Backend(db, SubscriptionBook(), Settings(), lambda: now)


def mini_app(backend: Backend) -> web.Application:
    """The Mini App (page and API) as the bot mounts it, without the bot."""
    return make_miniapp(backend, CATALOG, Trials(), TOKEN, lambda reason: None)


def add_feeds(db: Database) -> dict[str, int]:
    """FEEDS stored, each with its sites seen; their ids by title."""
    ids = {}
    for number, (title, hosts) in enumerate(FEEDS.items()):
        url = f"http://127.0.0.1:9/feed{number}.xml"
        ids[title] = feed_store.add_feed(db, url, title=title, interval_seconds=300, now=NOW)
        scopes.record_sites(db, ids[title], hosts)
    return ids


def follow(backend: Backend, user_id: int, raw: str) -> int:
    """A user follows a keyword (as /add does); its id."""
    chat = account.own_chat(backend, user_id, "ar")
    added = keywords.add_keyword(backend, chat, raw)
    assert not isinstance(added, Refusal), added
    return added.id


def utc_hour(month: int, day: int, hour: int) -> int:
    """The keyword_hours hour of `hour`:00 UTC on a day of 2026."""
    return int(datetime(2026, month, day, hour, tzinfo=UTC).timestamp() // 3600)


def put_hours(db: Database, key: str, hours: dict[int, int]) -> None:
    """Stories per hour of a keyword's key, as intake counts them."""
    db.conn.executemany(
        "INSERT INTO keyword_hours (key, hour, stories) VALUES (?, ?, ?)",
        [(key, hour, stories) for hour, stories in hours.items()],
    )
    db.conn.commit()


def put_surge(db: Database, sub_id: int, at: float) -> None:
    """A surge notice given to a keyword at `at`, as the surge watch records it."""
    db.execute(
        "INSERT INTO surges (subscription_id, at, stories, usual) VALUES (?, ?, 9, 1.5)",
        (sub_id, at),
    )
    db.conn.commit()
