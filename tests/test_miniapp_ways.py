"""The Mini App's API for each keyword's ways (sources, pace, big stories only, surges) and its
picture (stories per day over two weeks, surges marked), on a real database through aiohttp."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest
from aiohttp.test_utils import TestClient, TestServer

from service.keyword_history import day_starts, per_day
from storage import chats as chat_store
from storage import scopes
from tests.ways_support import (
    CATALOG,
    NOW,
    OTHER_USER,
    USER,
    add_feeds,
    backend_on,
    follow,
    mini_app,
    put_hours,
    put_surge,
    signed,
    utc_hour,
)

ME = signed(USER)
BAD_REQUEST = CATALOG.text("ar", "app_bad_request")
GONE = CATALOG.text("ar", "keyword_gone")


@pytest.fixture
async def setup(db):
    """The app on a database with three feeds and Sara's «الذهب»."""
    backend = backend_on(db)
    feeds = add_feeds(db)
    gold = follow(backend, USER, "الذهب")
    async with TestClient(TestServer(mini_app(backend))) as client:
        yield client, backend, feeds, gold


async def call(client, method, path, body=None, headers=ME):
    response = await client.request(method, "/api/" + path, json=body, headers=headers)
    return response.status, await response.json()


async def test_a_keyword_s_ways_start_as_the_chat_s_with_every_feed_a_possible_source(setup):
    client, _backend, feeds, gold = setup
    status, ways = await call(client, "GET", f"keywords/{gold}/ways")
    assert status == 200
    assert ways == {
        "id": gold,
        "keyword": "الذهب",
        "pace": "chat",
        "chat_pace": "instant",
        "outlets": 1,
        "window_hours": 6,
        "surges": None,
        "surges_on": False,  # sent at once: its reader already sees each story
        "surges_default": False,
        "scoped": False,
        "reads_none": False,
        "sites": [],
        "sources": [
            {"id": feeds[title], "title": title, "ticked": False, "by_site": False}
            for title in ("الجزيرة", "هسبريس", "هسبريس فرنسية")  # by title
        ],
    }
    status, me = await call(client, "GET", "me")
    assert me["paces"] == ["instant", "hourly", "daily", "chat"]
    assert [o["label"] for o in me["outlets"]] == [
        "كل الأخبار",
        "ما يتناقله مصدران على الأقل",
        "ما يتناقله 3 مصادر على الأقل",
        "ما يتناقله 4 مصادر على الأقل",
        "ما يتناقله 5 مصادر على الأقل",
    ]
    assert me["windows"] == [
        {"value": 3, "label": "3 ساعات"},
        {"value": 6, "label": "6 ساعات"},
        {"value": 12, "label": "12 ساعة"},
        {"value": 24, "label": "24 ساعة"},
    ]
    assert me["texts"]["app_ways"] == "⚙️ خياراتها"


async def test_pace_is_stored_told_to_the_book_and_bad_paces_are_refused_in_arabic(setup):
    client, backend, _feeds, gold = setup
    status, ways = await call(client, "PUT", f"keywords/{gold}/pace", {"pace": "daily"})
    assert (status, ways["pace"], ways["surges_on"]) == (200, "daily", True)  # a digest: on
    assert chat_store.subscription(backend.db, USER, gold).pace == "daily"
    assert backend.book.ways_of(USER, "الذهب").pace == "daily"
    for body, refusal in (
        ({"pace": "weekly"}, CATALOG.text("ar", "way_bad_pace", value="weekly")),
        ({"pace": 3}, BAD_REQUEST),
        ({}, BAD_REQUEST),
    ):
        assert await call(client, "PUT", f"keywords/{gold}/pace", body) == (
            400,
            {"error": refusal},
        )
    assert CATALOG.text("ar", "way_bad_pace", value="weekly").startswith(
        "وتيرة غير معروفة: «weekly»"
    )
    assert chat_store.subscription(backend.db, USER, gold).pace == "daily"  # unchanged
    status, ways = await call(client, "PUT", f"keywords/{gold}/pace", {"pace": "chat"})
    assert (status, ways["pace"]) == (200, "chat")
    assert chat_store.subscription(backend.db, USER, gold).pace is None


async def test_big_stories_take_two_to_five_outlets_within_an_offered_window(setup):
    client, backend, _feeds, gold = setup
    path = f"keywords/{gold}/big"
    status, ways = await call(client, "PUT", path, {"outlets": 3, "window_hours": 12})
    assert (status, ways["outlets"], ways["window_hours"], ways["surges_on"]) == (200, 3, 12, True)
    stored = chat_store.subscription(backend.db, USER, gold)
    assert (stored.min_outlets, stored.window_hours) == (3, 12)
    for outlets in (0, 6, 7, -2):
        assert await call(client, "PUT", path, {"outlets": outlets}) == (
            400,
            {"error": f"عدد المصادر يجب أن يكون بين 2 و5 (وصلني: {outlets})."},
        )
    status, refused = await call(client, "PUT", path, {"outlets": 2, "window_hours": 5})
    assert (status, refused["error"]) == (400, CATALOG.text("ar", "way_bad_window", value=5))
    for body in ({"outlets": "3"}, {"outlets": True}, {"outlets": 2.5}, {"outlets": 2, "window_hours": "6"}):  # fmt: skip
        assert await call(client, "PUT", path, body) == (400, {"error": BAD_REQUEST}), body
    stored = chat_store.subscription(backend.db, USER, gold)
    assert (stored.min_outlets, stored.window_hours) == (3, 12)  # nothing refused changed it
    status, ways = await call(client, "PUT", path, {"outlets": 1})  # off, its window kept
    assert (status, ways["outlets"], ways["window_hours"]) == (200, 1, 12)


async def test_surges_are_on_off_or_the_default_for_the_pace(setup):
    client, backend, _feeds, gold = setup
    path = f"keywords/{gold}/surges"
    status, ways = await call(client, "PUT", path, {"surges": True})
    assert (status, ways["surges"], ways["surges_on"], ways["surges_default"]) == (
        200,
        True,
        True,
        False,
    )
    status, ways = await call(client, "PUT", path, {"surges": False})
    assert (ways["surges"], ways["surges_on"]) == (False, False)
    assert chat_store.subscription(backend.db, USER, gold).surges is False
    for body in ({"surges": "yes"}, {"surges": 1}, {}):
        assert await call(client, "PUT", path, body) == (400, {"error": BAD_REQUEST}), body
    status, ways = await call(client, "PUT", path, {"surges": None})
    assert (ways["surges"], ways["surges_on"]) == (None, False)
    assert chat_store.subscription(backend.db, USER, gold).surges is None


async def test_sources_ticked_limit_matching_and_a_forged_feed_changes_nothing(setup):
    client, backend, feeds, gold = setup
    path = f"keywords/{gold}/sources"
    status, ways = await call(client, "PUT", path, {"feeds": [feeds["الجزيرة"]]})
    assert (status, ways["scoped"], ways["reads_none"]) == (200, True, False)
    ticked = {s["title"] for s in ways["sources"] if s["ticked"]}
    assert ticked == {"الجزيرة"}
    assert scopes.ticked_feeds(backend.db, gold) == {feeds["الجزيرة"]}
    text = "ارتفاع سعر الذهب"
    assert backend.book.match(text, feed_id=feeds["الجزيرة"]) == {USER: ["الذهب"]}
    assert backend.book.match(text, feed_id=feeds["هسبريس"]) == {}  # not one of its sources

    unknown = CATALOG.text("ar", "source_unknown", feed=9999)
    assert await call(client, "PUT", path, {"feeds": [9999]}) == (400, {"error": unknown})
    assert unknown.startswith("هذا المصدر غير موجود")
    for body in ({"feeds": ["1"]}, {"feeds": [True]}, {"feeds": 3}, {"all": "yes"}, {}):
        assert await call(client, "PUT", path, body) == (400, {"error": BAD_REQUEST}), body
    assert scopes.ticked_feeds(backend.db, gold) == {feeds["الجزيرة"]}  # unchanged

    status, ways = await call(client, "PUT", path, {"all": True})
    assert (status, ways["scoped"]) == (200, False)
    assert backend.book.match(text, feed_id=feeds["هسبريس"]) == {USER: ["الذهب"]}


async def test_a_site_shows_the_feeds_it_covers_and_a_scope_that_reads_nothing_says_so(setup):
    client, backend, feeds, gold = setup
    chat_store.set_subscription_ways(
        backend.db, USER, gold, scoped=True, sites=("hespress.com", "nowhere.example")
    )
    status, ways = await call(client, "GET", f"keywords/{gold}/ways")
    assert ways["sites"] == [
        {"host": "hespress.com", "feeds": sorted([feeds["هسبريس"], feeds["هسبريس فرنسية"]])},
        {"host": "nowhere.example", "feeds": []},
    ]
    by_site = {s["title"] for s in ways["sources"] if s["by_site"]}
    assert by_site == {"هسبريس", "هسبريس فرنسية"}  # fr.hespress.com is under hespress.com
    assert ways["reads_none"] is False
    chat_store.set_subscription_ways(backend.db, USER, gold, sites=("nowhere.example",))
    status, ways = await call(client, "GET", f"keywords/{gold}/ways")
    assert (ways["scoped"], ways["reads_none"]) == (True, True)
    status, ways = await call(client, "PUT", f"keywords/{gold}/sources", {"all": True})
    assert (ways["scoped"], ways["sites"]) == (False, [])


async def test_another_user_s_keyword_and_forged_ids_are_refused_and_nothing_changes(setup):
    client, backend, feeds, gold = setup
    theirs = signed(OTHER_USER)
    changes = (
        ("pace", {"pace": "daily"}),
        ("big", {"outlets": 3}),
        ("surges", {"surges": True}),
        ("sources", {"feeds": [feeds["الجزيرة"]]}),
    )
    for way, body in changes:
        answer = await call(client, "PUT", f"keywords/{gold}/{way}", body, headers=theirs)
        assert answer == (404, {"error": GONE}), way
        for forged in ("99999", "abc", "٣", "1" * 30):
            assert (await call(client, "PUT", f"keywords/{forged}/{way}", body))[0] == 404
    assert await call(client, "GET", f"keywords/{gold}/ways", headers=theirs) == (
        404,
        {"error": GONE},
    )
    stored = chat_store.subscription(backend.db, USER, gold)
    assert (stored.pace, stored.min_outlets, stored.surges, stored.scoped) == (None, 1, None, False)
    for method, path in (("GET", f"keywords/{gold}/ways"), ("GET", "history"),
                         ("PUT", f"keywords/{gold}/pace")):  # fmt: skip
        response = await client.request(method, "/api/" + path, json={"pace": "daily"})
        assert response.status == 401
    assert (await call(client, "PUT", f"keywords/{gold}/pace", [1]))[0] == 400  # not an object


async def test_the_history_sums_each_day_in_the_chat_s_time_zone_and_marks_surges(setup):
    client, backend, _feeds, gold = setup
    oil = follow(backend, USER, "النفط")
    follow(backend, OTHER_USER, "القمح")
    status, _ = await call(client, "PUT", "settings", {"timezone": "Asia/Riyadh"})  # UTC+3
    key = chat_store.subscription(backend.db, USER, gold).key
    put_hours(
        backend.db,
        key,
        {
            utc_hour(11, 23, 12): 4,  # Nov 23 15:00 in Riyadh: the 14th day back is Nov 24, so out
            utc_hour(11, 23, 21): 2,  # Nov 24 00:00 in Riyadh: the first day
            utc_hour(11, 30, 9): 3,
            utc_hour(11, 30, 10): 2,  # Nov 30: 5
            utc_hour(12, 6, 20): 1,  # Dec 6 23:00 in Riyadh
            utc_hour(12, 6, 21): 6,  # Dec 7 00:00 in Riyadh: today
            utc_hour(12, 7, 10): 1,  # today, so far
        },
    )
    put_hours(backend.db, "another key", {utc_hour(12, 7, 9): 50})
    put_surge(backend.db, gold, datetime(2026, 11, 30, 10, 5, tzinfo=UTC).timestamp())
    put_surge(backend.db, gold, datetime(2026, 11, 30, 14, 5, tzinfo=UTC).timestamp())
    put_surge(backend.db, gold, datetime(2026, 12, 6, 22, 0, tzinfo=UTC).timestamp())  # Dec 7
    put_surge(backend.db, gold, datetime(2026, 11, 1, tzinfo=UTC).timestamp())  # long ago

    status, history = await call(client, "GET", "history")
    assert status == 200
    assert history["timezone"] == "Asia/Riyadh"
    assert history["days"][0] == "2026-11-24"
    assert history["days"][-1] == "2026-12-07"
    assert len(history["days"]) == 14
    kept = {k["id"]: k for k in history["keywords"]}
    assert set(kept) == {gold, oil}  # the other user's keyword is theirs
    assert kept[gold]["counts"] == [2, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 1, 7]
    assert kept[gold]["surges"] == [6, 13]
    assert kept[gold]["label"] == (
        "في آخر 14 يوماً: 15 قصة، أعلاها 7 قصص يوم 7 ديسمبر. ارتفاع مفاجئ في: 30 نوفمبر و7 ديسمبر."
    )
    assert kept[oil] == {
        "id": oil,
        "counts": [0] * 14,
        "surges": [],
        "label": "لا قصص لهذه الكلمة في آخر 14 يوماً.",
    }
    assert datetime(2026, 12, 7, 10, 30, tzinfo=UTC).timestamp() == NOW  # the days above


async def test_the_history_in_english_names_the_busiest_day_the_latest_of_equals(setup):
    client, backend, _feeds, gold = setup
    key = chat_store.subscription(backend.db, USER, gold).key
    put_hours(
        backend.db, key, {utc_hour(12, 1, 8): 1, utc_hour(12, 2, 8): 3, utc_hour(12, 5, 8): 3}
    )
    status, history = await call(client, "GET", "history", headers=signed(USER, language="en"))
    (kept,) = history["keywords"]
    assert history["timezone"] == "UTC"  # DEFAULT_TIMEZONE: the chat chose none
    assert kept["label"] == "Last 14 days: 7 stories, the most 3 stories on 5 December."


def test_a_day_is_midnight_to_midnight_in_the_zone_even_when_the_clocks_change():
    now = datetime(2026, 3, 30, 12, tzinfo=UTC).timestamp()  # Berlin moved to summer time on 29
    starts = day_starts(now, "Europe/Berlin", 3)
    lengths = [(later - earlier) / 3600 for earlier, later in pairwise(starts)]
    assert lengths == [24, 23, 24]
    assert datetime.fromtimestamp(starts[0], UTC) == datetime(2026, 3, 27, 23, tzinfo=UTC)
    hours = {utc_hour(3, 28, 22): 1, utc_hour(3, 28, 23): 2, utc_hour(3, 29, 22): 4}
    assert per_day(starts, hours) == (1, 2, 4)  # 23:00, 00:00 CET; 00:00 CEST
    assert per_day(starts, {utc_hour(3, 27, 22): 9, utc_hour(3, 30, 22): 9}) == (0, 0, 0)


async def test_the_add_box_tries_site_words_as_test_does(setup):
    client, _backend, feeds, _gold = setup
    status, body = await call(client, "POST", "test", {"keyword": "النفط site:nowhere.example"})
    assert status == 400
    assert body == {"error": CATALOG.text("ar", "refused_site_unknown", site="nowhere.example")}
    status, body = await call(client, "POST", "test", {"keyword": "النفط site:aljazeera.net"})
    assert status == 200
    assert (body["count"], body["total"]) == (0, 0)  # no story stored from its feeds yet
