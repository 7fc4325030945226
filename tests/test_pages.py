"""Article pages: Fetcher.fetch_page and the polite PageFetcher, against the loopback server."""

from __future__ import annotations

import asyncio

import pytest

from feeds.fetch import PAGE_ACCEPT, Fetcher, is_home_page
from feeds.pages import PageFetcher, site_of
from tests.feedserver import HTML_PAGE, FeedServer
from tests.timing import FakeClock, eventually, within

MB = 1 << 20
ARTICLE = (
    "<!DOCTYPE html><html lang='ar' dir='rtl'><head><title>خبر</title></head><body><article>"
    "<h1>الحكومة تعلن خطة جديدة</h1><p>أعلنت الحكومة اليوم عن خطة لدعم الفلاحين.</p>"
    "</article></body></html>"
)


@pytest.fixture
async def server():
    async with FeedServer() as page_server:
        page_server.set_page("/news/1", ARTICLE)
        yield page_server


@pytest.fixture
async def fetcher():
    async with Fetcher(allow_private=True, page_timeout=5.0) as client:
        yield client


def named_hosts(*names: str):
    """A resolver sending each of `names` (and nothing else) to the loopback server."""

    async def resolver(host: str, port: int) -> list[str]:
        assert host in names, host
        return ["127.0.0.1"]

    return resolver


# --- Fetcher.fetch_page ------------------------------------------------------------------------


async def test_page_comes_back_as_bytes_with_headers(server, fetcher):
    result = await fetcher.fetch_page(server.url("/news/1"))
    assert result.ok
    assert (result.status, result.error_kind) == (200, None)
    assert result.body == ARTICLE.encode()
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    assert result.final_url == server.url("/news/1")
    sent = server.requests_to("/news/1")[0].headers
    assert sent["accept"] == PAGE_ACCEPT == "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
    assert sent["user-agent"].startswith("Rasd/")  # the fetcher's, naming the bot
    assert "gzip" in sent["accept-encoding"]
    assert "if-none-match" not in sent
    assert "if-modified-since" not in sent


async def test_charset_only_in_meta_leaves_the_bytes_unchanged(server, fetcher):
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
        "</head><body><p>عاجل: زلزال يضرب جنوب تركيا</p></body></html>"
    ).encode("cp1256")
    server.set_page("/old-site", page, content_type="text/html")
    result = await fetcher.fetch_page(server.url("/old-site"))
    assert result.ok
    assert result.body == page  # not decoded, not re-encoded: the extractor reads the <meta>
    assert result.headers["content-type"] == "text/html"


async def test_xhtml_is_a_page(server, fetcher):
    server.set_page("/x", ARTICLE, content_type="application/xhtml+xml; charset=utf-8")
    result = await fetcher.fetch_page(server.url("/x"))
    assert result.ok
    assert result.body == ARTICLE.encode()


@pytest.mark.parametrize("status", [403, 404, 410, 500])
async def test_error_statuses_are_http_errors(server, fetcher, status):
    server.set_page("/gone", "<html><body>no</body></html>", status=status)
    result = await fetcher.fetch_page(server.url("/gone"))
    assert (result.status, result.error_kind, result.error) == (status, "http", f"HTTP {status}")
    assert result.body is None


async def test_missing_page_is_an_http_error(server, fetcher):
    result = await fetcher.fetch_page(server.url("/no-such-article"))
    assert (result.status, result.error_kind) == (404, "http")


@pytest.mark.parametrize(
    "content_type", ["image/png", "application/pdf", "application/json", "text/plain"]
)
async def test_non_html_content_types_are_refused_unread(server, fetcher, content_type):
    server.set_page("/file", b"\x89PNG\r\n\x1a\n" + b"\0" * 1000, content_type=content_type)
    result = await fetcher.fetch_page(server.url("/file"))
    assert result.error_kind == "not_html"
    assert result.error == f"not an HTML page: {content_type}"
    assert result.status == 200
    assert result.body is None


async def test_hanging_page_runs_into_the_page_time_limit(server):
    server.set_hostile("/hang", "hang", content_type="text/html")
    async with Fetcher(allow_private=True, timeout=60.0, page_timeout=0.5) as client:
        result = await within(client.fetch_page(server.url("/hang")), "the hanging page")
    # The page's own limit, not the feed's 60 s.
    assert (result.error_kind, result.error) == ("timeout", "timed out after 0.5 s")
    assert server.bytes_sent["/hang"] < 1000


async def test_20_mb_page_is_cut_off_at_2_mb(server, fetcher):
    server.set_hostile("/big", "huge", size=20_000_000, content_type="text/html")
    result = await within(fetcher.fetch_page(server.url("/big")), "the 20 MB page")
    assert (result.error_kind, result.error) == ("too_large", "body larger than 2 MB")
    assert result.body is None
    # The server stops once the client hangs up: it wrote what the client read (2 MB) and what
    # the socket buffers took, not the 20 MB.
    await eventually(lambda: server.path_in_flight["/big"] == 0, "the server to notice")
    assert server.bytes_sent["/big"] < 16 * MB  # 5.5 MB here


async def test_declared_20_mb_page_is_refused_before_reading(server, fetcher):
    server.set_hostile(
        "/big", "huge", size=20_000_000, declare_length=True, content_type="text/html"
    )
    result = await within(fetcher.fetch_page(server.url("/big")), "the 20 MB page")
    assert (result.error_kind, result.error) == ("too_large", "body larger than 2 MB")


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
async def test_compression_bomb_page_is_cut_off_after_decompression(server, fetcher, encoding):
    server.set_hostile(
        "/bomb", "gzip_bomb", size=20 * MB, encoding=encoding, content_type="text/html"
    )
    result = await within(fetcher.fetch_page(server.url("/bomb")), "the bomb")
    assert (result.error_kind, result.error) == ("too_large", "body larger than 2 MB")


async def test_redirect_to_the_home_page_is_not_followed(server, fetcher):
    server.set_page("/", HTML_PAGE)
    server.set_redirect("/news/2", "/", status=302)
    server.set_redirect("/news/3", "/?from=paywall", status=301)
    to_root = await fetcher.fetch_page(server.url("/news/2"))
    with_query = await fetcher.fetch_page(server.url("/news/3"))
    assert (to_root.error_kind, to_root.final_url) == ("home_redirect", server.url("/"))
    assert to_root.error == f"redirected to the home page {server.url('/')}"
    assert with_query.error_kind == "home_redirect"
    assert to_root.body is None
    assert server.requests_to("/") == []  # the home page was never fetched


async def test_redirect_to_the_feeds_site_root_is_a_home_redirect(server, fetcher):
    server.set_page("/ar/", HTML_PAGE)
    server.set_page("/ar/news/7/", ARTICLE)
    server.set_redirect("/ar/news/6", "/ar", status=302)
    server.set_redirect("/ar/news/7", "/ar/news/7/", status=301)
    site = server.url("/ar/")
    removed = await fetcher.fetch_page(server.url("/ar/news/6"), site_root=site)
    canonical = await fetcher.fetch_page(server.url("/ar/news/7"), site_root=site)
    assert removed.error_kind == "home_redirect"
    assert canonical.ok  # a redirect to the article's canonical address is followed
    assert canonical.final_url == server.url("/ar/news/7/")
    assert canonical.body == ARTICLE.encode()


@pytest.mark.parametrize(
    ("url", "site_root", "home"),
    [
        ("https://example.com/", None, True),
        ("https://example.com", None, True),
        ("https://news.example.com/?p=1", None, True),  # a miss would be worse than a false alarm
        ("https://example.com/news/1", None, False),
        ("https://example.com/ar", "https://www.example.com/ar/", True),
        ("http://www.example.com/ar/?utm=x", "https://example.com/ar", True),
        ("https://example.com/ar/news/1", "https://example.com/ar/", False),
        ("https://other.example/ar/", "https://example.com/ar/", False),
        ("https://example.com/ar/", "not a url at all", False),
    ],
)
def test_home_page_detection(url, site_root, home):
    assert is_home_page(url, site_root) is home


async def test_redirect_to_a_private_address_is_refused(server):
    server.set_hostile("/go", "redirect_private", location="http://10.0.0.1/article")
    async with Fetcher(allowed_networks=["127.0.0.0/8"], timeout=2.0) as client:
        result = await client.fetch_page(server.url("/go"))
    assert result.error_kind == "private_address"
    assert result.error == "refused: resolves to private address 10.0.0.1"


async def test_guard_refuses_the_page_itself_on_a_private_address(server):
    async with Fetcher() as client:
        result = await client.fetch_page(server.url("/news/1"))
    assert result.error_kind == "private_address"
    assert server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "tg://resolve?domain=rasd_bot",
        "mailto:news@example.com",
        "data:text/html,<h1>hi</h1>",
        "ftp://example.com/article.html",
        "//example.com/news/1",
        "",
    ],
)
async def test_non_web_urls_are_refused_without_a_request(url):
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    async with Fetcher(allow_private=True, resolver=resolver) as client:
        result = await client.fetch_page(url)
    assert result.error_kind == "invalid_url"
    assert result.error
    assert lookups == []  # not even a DNS lookup


async def test_page_and_feed_size_limits_are_separate(server):
    server.set_hostile("/3mb", "huge", size=3_000_000, content_type="text/html")
    async with Fetcher(allow_private=True, max_bytes=10_000_000) as client:
        page = await client.fetch_page(server.url("/3mb"))
        feed = await client.fetch(server.url("/3mb"))
    assert page.error_kind == "too_large"  # above the page limit (2 MB)
    assert feed.ok  # within the feed limit (10 MB)
    assert len(feed.body) == 3_000_000


# --- PageFetcher: politeness -------------------------------------------------------------------


def test_site_of():
    assert site_of("https://www.Example.com/news/1") == "example.com"
    assert site_of("http://news.example.com:8080/a") == "news.example.com"
    assert site_of("javascript:alert(1)") is None
    assert site_of("tg://resolve?domain=x") is None


async def test_at_most_two_pages_in_flight_per_host(server):
    release = asyncio.Event()
    for number in range(10):
        server.set_page(f"/held/{number}", ARTICLE, hold=release)
    clock = FakeClock()
    async with Fetcher(allow_private=True, max_per_host=8) as client:
        pages = PageFetcher(client, clock=clock, sleep=clock.sleep)
        async with clock.running():  # the 0.5 s spacing takes no real time
            fetches = asyncio.gather(
                *(pages.fetch_page(server.url(f"/held/{n}")) for n in range(10))
            )
            await eventually(lambda: server.in_flight == 2, "two requests held by the server")
            await asyncio.sleep(0.05)
            assert len(server.requests) == 2  # the other eight wait their turn
            release.set()
            results = await within(fetches, "the ten pages")
    assert all(r.ok for r in results)
    assert len(server.requests) == 10
    assert server.host_peak["127.0.0.1"] == 2  # counted at the server
    assert server.peak_in_flight == 2


async def test_www_and_bare_host_share_a_limit(server):
    release = asyncio.Event()
    server.set_page("/held", ARTICLE, hold=release)
    resolver = named_hosts("a.test", "www.a.test")
    async with Fetcher(allow_private=True, resolver=resolver) as client:
        pages = PageFetcher(client, spacing=0.0)
        urls = [f"http://{h}:{server.port}/held" for h in ("a.test", "www.a.test") * 3]
        fetches = asyncio.gather(*(pages.fetch_page(u) for u in urls))
        await eventually(lambda: server.in_flight == 2, "two requests held by the server")
        await asyncio.sleep(0.05)
        assert len(server.requests) == 2
        release.set()
        results = await within(fetches, "the six pages")
    assert all(r.ok for r in results)
    assert server.host_peak["a.test"] + server.host_peak["www.a.test"] <= 2
    assert server.path_peak["/held"] == 2


async def test_two_hosts_proceed_independently(server):
    release_a, release_b = asyncio.Event(), asyncio.Event()
    server.set_page("/a", ARTICLE, hold=release_a)
    server.set_page("/b", ARTICLE, hold=release_b)
    resolver = named_hosts("a.test", "b.test")
    async with Fetcher(allow_private=True, resolver=resolver) as client:
        pages = PageFetcher(client, spacing=0.0)
        on_a = asyncio.gather(
            *(pages.fetch_page(f"http://a.test:{server.port}/a") for _ in range(4))
        )
        await eventually(lambda: server.host_in_flight["a.test"] == 2, "a.test's two held")
        # a.test is full and stuck; b.test gets its own two meanwhile, and finishes first.
        on_b = asyncio.gather(
            *(pages.fetch_page(f"http://b.test:{server.port}/b") for _ in range(4))
        )
        await eventually(lambda: server.host_in_flight["b.test"] == 2, "b.test's two held")
        assert server.in_flight == 4
        release_b.set()
        assert all(r.ok for r in await within(on_b, "b.test's pages while a.test hangs"))
        assert server.host_in_flight["a.test"] == 2
        assert len(server.requests_to("/a")) == 2
        release_a.set()
        assert all(r.ok for r in await within(on_a, "a.test's pages"))
    assert server.host_peak == {"a.test": 2, "b.test": 2}


async def test_starts_on_one_host_are_spaced(server):
    for number in range(3):
        server.set_page(f"/s/{number}", ARTICLE)
    server.set_page("/other", ARTICLE)
    resolver = named_hosts("a.test", "b.test")
    clock = FakeClock(1000.0)
    async with Fetcher(allow_private=True, resolver=resolver) as client:
        pages = PageFetcher(client, spacing=0.5, clock=clock, sleep=clock.sleep)
        fetches = asyncio.gather(
            *(pages.fetch_page(f"http://a.test:{server.port}/s/{n}") for n in range(3))
        )
        await eventually(lambda: len(server.requests) == 1, "the first request at once")
        await eventually(lambda: clock.deadlines() == [1000.5], "the second waiting 0.5 s")
        # Another host does not wait for a.test's pause.
        other = await within(
            pages.fetch_page(f"http://b.test:{server.port}/other"), "b.test's page"
        )
        assert other.ok
        assert [r.path for r in server.requests] == ["/s/0", "/other"]
        clock.advance(0.5)
        await eventually(lambda: clock.deadlines() == [1001.0], "the third waiting its turn")
        await eventually(lambda: len(server.requests) == 3, "the second request")
        assert [r.path for r in server.requests] == ["/s/0", "/other", "/s/1"]
        clock.advance(0.5)
        results = await within(fetches, "the three pages")
    assert all(r.ok for r in results)
    assert [r.path for r in server.requests] == ["/s/0", "/other", "/s/1", "/s/2"]


# --- PageFetcher: budgets ----------------------------------------------------------------------


async def test_cycle_budget_and_feed_cap(server):
    pages_ = [f"/c/{n}" for n in range(5)]
    for path in pages_:
        server.set_page(path, ARTICLE)
    async with Fetcher(allow_private=True) as client:
        pages = PageFetcher(client, spacing=0.0, pages_per_cycle=3, pages_per_feed=2)
        first = [await pages.fetch_page(server.url(p), feed=1) for p in pages_[:3]]
        second = [await pages.fetch_page(server.url(p), feed=2) for p in pages_[3:]]
        assert pages.remaining == 0
        pages.new_cycle()
        assert pages.remaining == 3
        again = await pages.fetch_page(server.url(pages_[4]), feed=2)
    assert [r.error_kind for r in first] == [None, None, "budget"]
    assert first[2].error == "this feed's page budget of this cycle spent (2 pages)"
    assert [r.error_kind for r in second] == [None, "budget"]
    assert second[1].error == "page budget of this cycle spent (3 pages)"
    assert again.ok
    assert [r.path for r in server.requests] == ["/c/0", "/c/1", "/c/3", "/c/4"]


async def test_a_feed_with_500_new_items_cannot_hold_the_others(server):
    release = asyncio.Event()
    server.set_page("/flood", ARTICLE, hold=release)
    resolver = named_hosts("flood.test", "quiet.test")
    async with Fetcher(allow_private=True, resolver=resolver) as client:
        pages = PageFetcher(client, spacing=0.0, pages_per_feed=20)
        flood = [
            asyncio.ensure_future(
                pages.fetch_page(f"http://flood.test:{server.port}/flood", feed="flood")
            )
            for _ in range(500)
        ]
        # Beyond its 20, the flooding feed is refused at once, while its pages are still held.
        refused = await within(asyncio.gather(*flood[20:]), "the refusals")
        assert {r.error_kind for r in refused} == {"budget"}
        quiet = await within(
            pages.fetch_page(f"http://quiet.test:{server.port}/news/1", feed="quiet"),
            "the quiet feed's page",
        )
        assert quiet.ok
        assert not any(task.done() for task in flood[:20])
        release.set()
        fetched = await within(asyncio.gather(*flood[:20]), "the flood's 20 pages")
    assert all(r.ok for r in fetched)
    assert len(server.requests_to("/flood")) == 20


async def test_refused_urls_cost_no_budget(server):
    async with Fetcher(allow_private=True) as client:
        pages = PageFetcher(client, pages_per_cycle=1)
        bad = await pages.fetch_page("javascript:alert(1)", feed=1)
        good = await pages.fetch_page(server.url("/news/1"), feed=1)
    assert bad.error_kind == "invalid_url"
    assert good.ok
    assert pages.remaining == 0
