"""The web face over real loopback HTTP: redirects, the Arabic 404, /healthz, /metrics, webhook."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from yarl import URL

from core.i18n import load_catalog
from core.links import day_of
from storage import chats as chat_store
from storage import feeds as feed_store
from storage import maintenance, shortlinks
from storage import outbox as outbox_store
from storage import stats as stats_store
from tests.support import NOW, add_article, add_feed, fresh_database
from web.metrics import Metrics
from web.server import (
    CLICKS_COUNTED,
    SECRET_HEADER,
    HealthSource,
    Webhook,
    WebServer,
    make_web_app,
    start_web,
)

SECRET = "s3cr3t-Token_for-tests"
STORY_URL = "https://news.example.org/2026/11/story-1/"


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Received:
    updates: list[dict] = field(default_factory=list)
    fail: bool = False

    async def __call__(self, update: dict) -> None:
        if self.fail:
            raise RuntimeError("queue closed")
        self.updates.append(update)


@dataclass
class Site:
    server: WebServer
    http: aiohttp.ClientSession
    db: object
    clock: FakeClock
    metrics: Metrics
    received: Received
    poll_success: list[float | None]

    def url(self, path: str) -> str:
        return self.server.url + path

    async def get(self, path: str, **kwargs) -> aiohttp.ClientResponse:
        return await self.http.get(
            URL(self.url(path), encoded=True), allow_redirects=False, **kwargs
        )

    async def metric_samples(self) -> dict[tuple[str, tuple], float]:
        response = await self.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


@pytest.fixture
async def site(tmp_path) -> AsyncIterator[Site]:
    db = fresh_database(tmp_path / "rasd.db")
    clock = FakeClock(NOW)
    metrics = Metrics(db)
    received = Received()
    poll_success: list[float | None] = [None]
    health = HealthSource(
        poll_interval_seconds=300,
        started_at=NOW,
        last_poll_success=lambda: poll_success[0],
        last_telegram_error=lambda: "429 retry after 3s",
    )
    app = make_web_app(
        db=db,
        catalog=CATALOG,
        metrics=metrics,
        health=health,
        clock=clock,
        webhook=Webhook(name="hook-abc", secret=SECRET, on_update=received),
    )
    server = await start_web(app, "127.0.0.1", 0)
    async with aiohttp.ClientSession() as http:
        yield Site(server, http, db, clock, metrics, received, poll_success)
    await server.stop()
    db.conn.close()


CATALOG = load_catalog()


def clicks(db) -> int:
    return db.execute("SELECT coalesce(sum(clicks), 0) FROM clicks").fetchone()[0]


async def assert_arabic_404(response: aiohttp.ClientResponse) -> None:
    assert response.status == 404
    assert "Location" not in response.headers
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = await response.text()
    assert '<html lang="ar" dir="rtl">' in page
    assert "<title>الرابط غير موجود · رصد</title>" in page
    assert "<h1>الرابط غير موجود</h1>" in page
    assert paragraphs(page) == [
        "هذا الرابط المختصر غير صحيح، أو انتهت صلاحيته: نحتفظ بالأخبار مدةً محدودة فقط.",
        "يمكنك البحث عن عنوان الخبر في موقع الناشر.",
        "— «رصد»",
    ]


def paragraphs(page: str) -> list[str]:
    """The text of each <p> of a page, in order."""
    return [part.split("</p>")[0] for part in page.split("<p>")[1:]]


async def test_a_reader_whose_browser_asks_for_english_gets_the_page_in_english(site):
    response = await site.http.get(
        site.server.url + "/zzzzzzz", headers={"Accept-Language": "en-GB,en;q=0.9,ar;q=0.5"}
    )
    assert response.status == 404
    page = await response.text()
    assert '<html lang="en" dir="ltr">' in page
    assert "<h1>Link not found</h1>" in page
    assert paragraphs(page) == [
        "This short link is wrong, or it has expired: stories are kept for a limited time only.",
        "You can search for the story's title on the publisher's site.",
        "— «Rasd»",
    ]


async def test_redirect_to_the_stored_url_and_count_the_click(site):
    article = add_article(site.db, add_feed(site.db), 1)
    code = shortlinks.code_for_article(site.db, article, now=NOW)
    for _ in range(3):
        response = await site.get(f"/{code}")
        assert response.status == 302
        assert response.headers["Location"] == STORY_URL
        assert response.headers["Cache-Control"] == "no-store"
    site.clock.now = NOW + 86_400  # the next UTC day
    assert (await site.get(f"/{code}")).status == 302
    assert site.db.execute("SELECT day, clicks FROM clicks ORDER BY day").fetchall() == [
        ("2026-11-18", 3),
        ("2026-11-19", 1),
    ]
    assert shortlinks.clicks_per_day(site.db, "2026-11-01") == [
        ("2026-11-18", 3),
        ("2026-11-19", 1),
    ]
    samples = await site.metric_samples()
    assert samples[("rasd_link_clicks_total", ())] == 4


async def test_telegrams_preview_fetcher_is_redirected_but_not_counted(site):
    article = add_article(site.db, add_feed(site.db), 1)
    code = shortlinks.code_for_article(site.db, article, now=NOW)
    fetcher = {"User-Agent": "TelegramBot (like TwitterBot)"}
    response = await site.http.get(site.url(f"/{code}"), headers=fetcher, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == STORY_URL
    assert clicks(site.db) == 0
    assert (await site.get(f"/{code}")).status == 302  # a reader's click still counts
    assert clicks(site.db) == 1


async def test_head_redirects_without_counting(site):
    article = add_article(site.db, add_feed(site.db), 1)
    code = shortlinks.code_for_article(site.db, article, now=NOW)
    response = await site.http.head(site.url(f"/{code}"), allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == STORY_URL
    assert clicks(site.db) == 0
    missing = await site.http.head(site.url("/Zzzzzzz"), allow_redirects=False)
    assert missing.status == 404


@pytest.mark.parametrize(
    "path",
    [
        "/Zzzzzzz",
        "/abc",
        "/abcdefgh",
        "/",
        "/a/b",
        "/%D8%AE%D8%A8%D8%B1%D8%AE%D8%A8%D8%B1",
        "/x.php",
    ],
)
async def test_unknown_codes_and_paths_get_the_arabic_404(site, path):
    add_article(site.db, add_feed(site.db), 1)
    await assert_arabic_404(await site.get(path))


async def test_the_request_cannot_choose_where_a_code_goes(site):
    article = add_article(site.db, add_feed(site.db), 1)
    code = shortlinks.code_for_article(site.db, article, now=NOW)
    for path in [
        f"/{code}?url=https://evil.example/",
        f"/{code}?next=//evil.example&redirect=https%3A%2F%2Fevil.example",
        f"/{code}#https://evil.example/",
    ]:
        response = await site.get(path)
        assert response.status == 302
        assert response.headers["Location"] == STORY_URL
    for path in [
        f"/{code}/https://evil.example/",
        f"/{code}/..%2F..%2Fevil.example",
        f"/{code}%0D%0ALocation:%20https://evil.example/",
        "//evil.example/",
        "/https://evil.example/",
        f"/{code}%2Fevil.example",
    ]:
        await assert_arabic_404(await site.get(path))
    assert clicks(site.db) == 3


@pytest.mark.parametrize(
    "stored",
    [
        "javascript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://files.example.org/a",
        "//evil.example/",
        "https://user:pass@evil.example/",
        "",
    ],
)
async def test_a_stored_url_that_is_not_http_is_never_a_target(site, stored):
    article = add_article(site.db, add_feed(site.db), 1, url=stored)
    code = shortlinks.code_for_article(site.db, article, now=NOW)
    await assert_arabic_404(await site.get(f"/{code}"))
    assert clicks(site.db) == 0


@pytest.mark.parametrize(
    "stored",
    [
        "http://192.168.1.1/admin",
        "http://127.0.0.1:8080/",
        "http://2130706433/",  # 127.0.0.1 as a number
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://router.local/",
        "http://intranet/news",
    ],
)
async def test_a_stored_url_on_a_private_address_is_refused_with_an_arabic_page(site, stored):
    article = add_article(site.db, add_feed(site.db), 1, url=stored)
    code = shortlinks.code_for_article(site.db, article, now=NOW)
    response = await site.get(f"/{code}")
    assert response.status == 403
    assert "Location" not in response.headers
    page = await response.text()
    assert "<h1>لم نفتح هذا الرابط</h1>" in page
    assert paragraphs(page) == [
        "يقود هذا الرابط إلى عنوان داخلي (شبكة منزلية أو خاصة) وليس إلى موقع عام، فلم نفتحه حمايةً"
        " لك.",
        "يمكنك البحث عن عنوان الخبر في موقع الناشر.",
        "— «رصد»",
    ]
    assert clicks(site.db) == 0


async def test_clicks_past_the_throttle_still_redirect_but_do_not_count(site):
    article = add_article(site.db, add_feed(site.db), 1)
    code = shortlinks.code_for_article(site.db, article, now=NOW)
    burst = int(CLICKS_COUNTED.burst)
    for _ in range(burst + 30):  # a loop trying to buy "most clicked"
        assert (await site.get(f"/{code}")).status == 302
    assert clicks(site.db) == burst
    site.clock.now += CLICKS_COUNTED.refill_seconds * 2  # two clicks' worth of time
    for _ in range(5):
        assert (await site.get(f"/{code}")).status == 302
    assert clicks(site.db) == burst + 2
    other = shortlinks.code_for_article(
        site.db, add_article(site.db, add_feed(site.db, url="https://b.example/f"), 2), now=NOW
    )
    assert (await site.get(f"/{other}")).status == 302  # each code has its own allowance
    assert clicks(site.db) == burst + 3


async def test_pruned_article_code_answers_404(site):
    feed = add_feed(site.db, now=NOW - 40 * 86_400)
    article = add_article(site.db, feed, 1, now=NOW - 40 * 86_400)
    code = shortlinks.code_for_article(site.db, article, now=NOW - 40 * 86_400)
    assert (await site.get(f"/{code}")).status == 302
    report = maintenance.prune(site.db, now=NOW, retention_days=30, keep_per_feed=0)
    assert report.articles == 1
    assert report.shortlinks == 1
    await assert_arabic_404(await site.get(f"/{code}"))
    assert shortlinks.clicks_per_day(site.db, "2026-01-01") == [("2026-11-18", 1)]


async def healthz(site) -> tuple[int, dict]:
    response = await site.get("/healthz")
    return response.status, await response.json()


async def test_healthz_turns_503_when_polling_stops(site):
    status, body = await healthz(site)
    assert status == 200
    assert body["status"] == "ok"
    assert body["feeds_enabled"] == 0
    assert body["poll_stale_after_seconds"] == 900  # max(3 × 300 s, 10 minutes)
    assert body["last_telegram_error"] == "429 retry after 3s"

    feed = add_feed(site.db)
    site.clock.now = NOW + 899
    status, body = await healthz(site)
    assert status == 200  # within the grace after start, though nothing was polled yet
    assert body["last_poll_success_at"] is None

    site.clock.now = NOW + 901
    status, body = await healthz(site)
    assert status == 503
    assert body["status"] == "failing"
    assert body["problems"] == ["no successful poll for too long"]

    feed_store.record_success(
        site.db,
        feed,
        now=NOW + 950,
        next_check_at=NOW + 1250,
        etag=None,
        last_modified=None,
        body_hash=None,
    )
    site.clock.now = NOW + 1000
    status, body = await healthz(site)
    assert status == 200
    assert body["last_poll_success_at"] == NOW + 950
    assert body["last_poll_age_seconds"] == 50

    site.clock.now = NOW + 950 + 901
    assert (await healthz(site))[0] == 503
    site.poll_success[0] = NOW + 1800  # the poller's own record counts too
    status, body = await healthz(site)
    assert status == 200
    assert body["last_poll_success_at"] == NOW + 1800

    feed_store.set_feed_disabled(site.db, feed, True, NOW)
    site.clock.now = NOW + 10_000
    assert (await healthz(site))[0] == 200  # nothing to poll is not a failure


async def test_healthz_reports_the_outbox_backlog(site):
    feed = add_feed(site.db)
    article = add_article(site.db, feed, 1)
    for chat_id in (11, 12, 13):
        chat_store.touch_chat(site.db, chat_id, type="private", title="", language="ar", now=NOW)
        outbox_store.queue_alert(
            site.db, chat_id, story_id=article, article_id=article, keywords=["خبر"], now=NOW
        )
    status, body = await healthz(site)
    assert status == 200
    assert body["outbox_backlog"] == 3
    assert body["outbox"] == {"pending": 3}


async def test_healthz_503_when_the_database_is_unreachable(site):
    site.db.conn.close()
    status, body = await healthz(site)
    assert status == 503
    assert body["database"].startswith("unreachable")
    assert "database unreachable" in body["problems"]
    samples = await site.metric_samples()  # /metrics still answers
    assert samples[("rasd_database_up", ())] == 0


def test_stale_threshold_has_a_floor_of_ten_minutes():
    assert HealthSource(poll_interval_seconds=60, started_at=0).stale_after_seconds == 600
    assert HealthSource(poll_interval_seconds=1, started_at=0).stale_after_seconds == 600
    assert HealthSource(poll_interval_seconds=900, started_at=0).stale_after_seconds == 2700


async def test_metrics_parse_back(site):
    metrics = site.metrics
    metrics.feed_polled()
    metrics.feed_polled()
    metrics.feed_polled("timeout")
    metrics.feed_polled("HTTP")
    metrics.feed_polled("weird error: <b>!")
    metrics.articles_stored(5)
    metrics.alert_queued(3)
    metrics.message_sent("alert", 0.2)
    metrics.message_sent("alert", 3.0)
    metrics.message_sent("broadcast", 0.04)
    metrics.message_failed("alert", "rate_limited")
    metrics.message_failed("alert", "blocked")
    feed = add_feed(site.db)
    article = add_article(site.db, feed, 1)
    chat_store.touch_chat(site.db, 5, type="private", title="", language="ar", now=NOW)
    outbox_store.queue_alert(site.db, 5, story_id=article, article_id=article, keywords=[], now=NOW)

    samples = await site.metric_samples()
    assert samples[("rasd_feed_polls_total", (("outcome", "ok"),))] == 2
    assert samples[("rasd_feed_polls_total", (("outcome", "error"),))] == 3
    assert samples[("rasd_fetch_errors_total", (("kind", "timeout"),))] == 1
    assert samples[("rasd_fetch_errors_total", (("kind", "http"),))] == 1
    assert samples[("rasd_fetch_errors_total", (("kind", "other"),))] == 1
    assert samples[("rasd_articles_stored_total", ())] == 5
    assert samples[("rasd_alerts_queued_total", ())] == 3
    assert samples[("rasd_messages_sent_total", (("kind", "alert"),))] == 2
    assert samples[("rasd_send_seconds_count", (("kind", "alert"),))] == 2
    assert samples[("rasd_send_seconds_sum", (("kind", "alert"),))] == pytest.approx(3.2)
    assert samples[("rasd_send_seconds_bucket", (("kind", "alert"), ("le", "0.25")))] == 1
    assert samples[("rasd_send_seconds_bucket", (("kind", "alert"), ("le", "5.0")))] == 2
    assert samples[("rasd_send_seconds_bucket", (("kind", "broadcast"), ("le", "0.05")))] == 1
    failed = (("kind", "alert"), ("reason", "rate_limited"))
    assert samples[("rasd_messages_failed_total", failed)] == 1
    assert samples[("rasd_outbox_depth", ())] == 1
    assert samples[("rasd_outbox_rows", (("status", "pending"),))] == 1
    assert samples[("rasd_outbox_rows", (("status", "sent"),))] == 0
    assert samples[("rasd_database_up", ())] == 1

    # The depth is read at scrape time: sending the row shows at once.
    rows = outbox_store.claim(
        site.db, [head.row_id for head in outbox_store.due_heads(site.db, NOW)], NOW
    )
    outbox_store.mark_sent(site.db, rows[0].id, message_id=1, now=NOW)
    samples = await site.metric_samples()
    assert samples[("rasd_outbox_depth", ())] == 0
    assert samples[("rasd_outbox_rows", (("status", "sent"),))] == 1

    # The day's messages by lane, and the Stars the paid ones cost, from the database.
    assert samples[("rasd_messages_today", (("lane", "paid"),))] == 0
    stats_store.count_sends(site.db, day_of(time.time()), free=3, paid=12)
    samples = await site.metric_samples()
    assert samples[("rasd_messages_today", (("lane", "free"),))] == 3
    assert samples[("rasd_messages_today", (("lane", "paid"),))] == 12
    assert samples[("rasd_paid_stars_today", ())] == pytest.approx(1.2)


def test_each_metrics_object_has_its_own_registry():
    first, second = Metrics(), Metrics()
    first.articles_stored(7)

    def value(metrics: Metrics) -> float:
        text = metrics.render()[0].decode()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        return families["rasd_articles_stored"].samples[0].value

    assert (value(first), value(second)) == (7, 0)


def test_free_form_label_values_stay_bounded():
    metrics = Metrics()
    for number in range(200):
        metrics.feed_polled(f"kind_{number}")
    text = metrics.render()[0].decode()
    family = next(f for f in text_string_to_metric_families(text) if f.name == "rasd_fetch_errors")
    kinds = {s.labels["kind"] for s in family.samples if s.name.endswith("_total")}
    assert len(kinds) == 31
    assert "other" in kinds
    assert sum(s.value for s in family.samples if s.name.endswith("_total")) == 200


async def post_update(site, body: bytes, headers: dict[str, str], name: str = "hook-abc"):
    return await site.http.post(
        site.url(f"/telegram/{name}"),
        data=body,
        headers={"Content-Type": "application/json", **headers},
    )


UPDATE = b'{"update_id": 7, "message": {"message_id": 1, "text": "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7"}}'


async def test_webhook_with_the_right_secret_is_handed_on(site):
    response = await post_update(site, UPDATE, {SECRET_HEADER: SECRET})
    assert response.status == 200
    assert site.received.updates == [
        {"update_id": 7, "message": {"message_id": 1, "text": "مرحبا"}}
    ]


@pytest.mark.parametrize(
    "headers",
    [{}, {SECRET_HEADER: ""}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}],
)
async def test_webhook_without_the_secret_is_refused(site, headers):
    response = await post_update(site, UPDATE, headers)
    assert response.status == 403
    assert site.received.updates == []
    samples = await site.metric_samples()
    assert samples[("rasd_webhook_updates_total", (("outcome", "forbidden"),))] == 1


async def test_webhook_other_paths_and_bad_bodies(site):
    assert (await post_update(site, UPDATE, {SECRET_HEADER: SECRET}, name="other")).status == 404
    assert (await post_update(site, b"not json", {SECRET_HEADER: SECRET})).status == 400
    assert (await post_update(site, b"[1, 2]", {SECRET_HEADER: SECRET})).status == 400
    assert (await site.get("/telegram/hook-abc")).status in (404, 405)
    assert site.received.updates == []


async def test_webhook_answers_200_even_when_the_update_cannot_be_queued(site):
    site.received.fail = True
    response = await post_update(site, UPDATE, {SECRET_HEADER: SECRET})
    assert response.status == 200  # a 5xx would make Telegram retry it forever
    samples = await site.metric_samples()
    assert samples[("rasd_webhook_updates_total", (("outcome", "failed"),))] == 1


async def test_without_a_webhook_there_is_no_webhook_route(tmp_path):
    db = fresh_database(tmp_path / "rasd.db")
    app = make_web_app(
        db=db,
        catalog=CATALOG,
        metrics=Metrics(db),
        health=HealthSource(poll_interval_seconds=300, started_at=NOW),
        clock=FakeClock(NOW),
    )
    server = await start_web(app, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            response = await http.post(server.url + "/telegram/hook-abc", data=UPDATE)
            await assert_arabic_404(response)
            assert (await http.get(server.url + "/healthz")).status == 200
    finally:
        await server.stop()
        db.conn.close()


async def test_start_web_on_a_busy_port_fails_cleanly(site):
    app = make_web_app(
        db=site.db,
        catalog=CATALOG,
        metrics=Metrics(),
        health=HealthSource(poll_interval_seconds=300, started_at=NOW),
        clock=site.clock,
    )
    with pytest.raises(OSError, match="in use"):
        await start_web(app, "127.0.0.1", site.server.port)
