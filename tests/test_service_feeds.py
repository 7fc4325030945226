"""service.feeds: what the bot's admins do with feeds, over the real feed administration
(intake.feed_admin) and a loopback feed server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from core.models import Feed
from core.opml import OpmlFeed, build_opml, parse_opml
from core.settings import load_settings
from core.subscriptions import SubscriptionBook
from feeds.fetch import Fetcher
from intake.feed_admin import AddFeedResult, ImportReport
from service import feeds
from service.base import Backend, Refusal
from service.feeds import CharsetSet, FeedDetails, FeedsExport
from storage import feeds as feed_store
from tests.feedserver import FeedServer, make_rss
from tests.pipeline import Pipeline

NOW = 1_700_000_000.0
ADMIN = 900
ITEMS = [
    {
        "title": title,
        "link": f"https://example.com/{n}",
        "guid": f"item-{n}",
        "description": f"{title}: التفاصيل الكاملة للخبر.",
        "pubDate": datetime.fromtimestamp(NOW - n * 3600, UTC),
    }
    for n, title in ((1, "أمطار غزيرة على الرباط"), (2, "افتتاح معرض الكتاب"))
]


@pytest.fixture
def backend(db):
    return Backend(db, SubscriptionBook(), load_settings({"ADMIN_IDS": str(ADMIN)}), lambda: NOW)


@pytest.fixture
async def server():
    async with FeedServer() as feed_server:
        feed_server.set_feed("/news.xml", make_rss("أخبار", ITEMS))
        yield feed_server


@pytest.fixture
async def port(backend):
    """The feed administration app.bootstrap wires, over the same database."""
    async with Fetcher(allow_private=True, timeout=2.0, max_bytes=1_000_000) as fetcher:
        pipeline = Pipeline(
            backend.db, fetcher, backend.book, clock=backend.clock, interval_seconds=300
        )
        yield pipeline.feeds


async def added(backend, port, server) -> Feed:
    await feeds.add_feed(port, server.url("/news.xml"), added_by=ADMIN)
    (feed,) = feeds.all_feeds(backend)
    return feed


async def test_a_feed_is_added_once_and_shown_in_full(backend, port, server):
    url = server.url("/news.xml")
    first = await feeds.add_feed(port, url, added_by=ADMIN)
    again = await feeds.add_feed(port, url, added_by=ADMIN)
    assert (first, again) == (AddFeedResult(1, "أخبار", 2), AddFeedResult(1, "أخبار", already=True))
    (feed,) = feeds.all_feeds(backend)
    assert (feed.id, feed.url, feed.title, feed.disabled, feed.error_count) == (
        1,
        url,
        "أخبار",
        False,
        0,
    )
    assert feeds.feed_details(backend, 1) == FeedDetails(feed, per_day=2 / 7)  # both fetched now
    assert feeds.find_feed(backend, 1) == feed


async def test_a_feed_is_paused_re_enabled_and_deleted(backend, port, server):
    feed = await added(backend, port, server)
    paused = feeds.pause_feed(backend, port, feed.id, paused=True)
    assert paused == replace(feed, disabled=True)
    enabled = feeds.pause_feed(backend, port, feed.id, paused=False)
    assert enabled == replace(feed, next_check_at=NOW)  # due at once
    assert feeds.delete_feed(backend, port, feed.id) is None
    assert feeds.all_feeds(backend) == []


async def test_full_text_modes_are_set_and_turned_in_order(backend, port, server):
    feed = await added(backend, port, server)
    assert feeds.set_fulltext(backend, port, feed.id, "ON") == replace(feed, fulltext="on")
    assert feeds.set_fulltext(backend, port, feed.id, "sometimes") == Refusal("fulltext_usage")
    turned = [feeds.next_fulltext(backend, port, feed.id) for _ in range(3)]
    assert turned == [replace(feed, fulltext=mode) for mode in ("off", "auto", "on")]


async def test_a_charset_is_set_by_its_codec_s_name_and_detected_again(backend, port, server):
    feed = await added(backend, port, server)
    cleared = replace(feed, etag=None, last_modified=None, body_hash=None)  # fetched afresh
    assert feeds.set_charset(backend, port, feed.id, "Windows-1256") == CharsetSet(
        replace(cleared, charset="cp1256"), "cp1256"
    )
    assert feeds.set_charset(backend, port, feed.id, "auto") == CharsetSet(cleared, None)
    assert feeds.set_charset(backend, port, feed.id, "klingon") == Refusal(
        "charset_unknown", {"charset": "klingon"}
    )
    assert feed_store.get_feed(backend.db, feed.id) == cleared


async def test_every_change_to_a_feed_that_is_gone_is_refused(backend, port):
    changes = [
        feeds.find_feed(backend, 7),
        feeds.feed_details(backend, 7),
        feeds.pause_feed(backend, port, 7, paused=True),
        feeds.delete_feed(backend, port, 7),
        feeds.set_fulltext(backend, port, 7, "on"),
        feeds.next_fulltext(backend, port, 7),
        feeds.set_charset(backend, port, 7, "utf-8"),
    ]
    assert changes == [Refusal("feed_gone")] * 7


async def test_feeds_are_exported_and_imported_as_opml(backend, port, server):
    feed = await added(backend, port, server)
    export = feeds.export_feeds(backend, port)
    assert export == FeedsExport(export.opml, 1)
    assert parse_opml(export.opml) == [OpmlFeed(feed.url, "أخبار")]

    server.set_feed("/more.xml", make_rss("المزيد", ITEMS[:1]))
    listed = [(feed.url, "أخبار"), (server.url("/more.xml"), "")]
    listed.append((server.url("/missing.xml"), "مفقود"))
    progress: list[tuple[int, int]] = []
    report = await feeds.import_feeds(
        port,
        build_opml(listed, "feeds"),
        added_by=ADMIN,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert report == ImportReport(
        added=[(server.url("/more.xml"), "المزيد")],
        already=[feed.url],
        failed=[(server.url("/missing.xml"), "http", "HTTP 404")],
    )
    assert progress == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert feeds.export_feeds(backend, port).count == 2


@pytest.mark.parametrize(
    ("feed", "health"),
    [
        (Feed(1, "https://a"), "ok"),
        (Feed(1, "https://a", error_count=2), "failing"),
        (Feed(1, "https://a", disabled=True), "disabled"),
        (Feed(1, "https://a", disabled=True, error_count=9), "disabled"),  # by its errors
    ],
)
def test_a_feed_s_health(feed, health):
    assert feeds.health(feed) == health
