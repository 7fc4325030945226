"""Fetcher and address guard against the real loopback feed server (tests/feedserver.py)."""

from __future__ import annotations

import asyncio
import gzip
import shutil
import socket
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta

import brotli
import pytest

from feeds.fetch import Fetcher, FetchResult, human_bytes, max_age_seconds, retry_after_seconds
from feeds.guard import refusal_category
from tests.feedserver import FeedServer, compression_bomb, make_rss, sample_items, tls_contexts
from tests.timing import eventually, within

FEED = make_rss("أخبار الاختبار", sample_items(3))
LOOPBACK_ONLY = ["127.0.0.0/8"]


@pytest.fixture
async def server():
    async with FeedServer() as feed_server:
        feed_server.set_feed("/good", FEED)
        yield feed_server


@pytest.fixture
async def fetcher():
    async with Fetcher(allow_private=True, timeout=5.0, max_bytes=1_000_000) as client:
        yield client


# --- plain fetches and conditional GET -----------------------------------------------------


async def test_fetch_returns_body_headers_and_validators(server, fetcher):
    server.set_feed("/rss", FEED, etag='"v1"', last_modified="Tue, 24 Mar 2026 08:00:00 GMT")
    result = await fetcher.fetch(server.url("/rss"))
    assert result.ok
    assert result.status == 200
    assert result.body == FEED.encode()
    assert result.final_url == server.url("/rss")
    assert result.headers["content-type"].startswith("application/rss+xml")
    assert (result.etag, result.last_modified) == ('"v1"', "Tue, 24 Mar 2026 08:00:00 GMT")
    assert result.not_modified is False
    assert result.permanent_redirect is None
    sent = server.requests_to("/rss")[0].headers
    assert sent["user-agent"].startswith("Rasd/")
    assert "gzip" in sent["accept-encoding"]
    assert "br" in sent["accept-encoding"]
    assert "if-none-match" not in sent


async def test_conditional_get_round_trip(server, fetcher):
    server.set_feed("/rss", FEED, etag='"abc"', last_modified="Tue, 24 Mar 2026 08:00:00 GMT")
    first = await fetcher.fetch(server.url("/rss"))
    second = await fetcher.fetch(
        server.url("/rss"), etag=first.etag, last_modified=first.last_modified
    )
    assert second.status == 304
    assert second.not_modified
    assert second.ok
    assert second.body is None
    assert (second.etag, second.last_modified) == (first.etag, first.last_modified)
    sent = server.requests_to("/rss")[1].headers
    assert sent["if-none-match"] == '"abc"'
    assert sent["if-modified-since"] == "Tue, 24 Mar 2026 08:00:00 GMT"


async def test_conditional_get_on_last_modified_alone(server, fetcher):
    server.set_feed("/rss", FEED, last_modified=datetime(2026, 3, 24, 8, tzinfo=UTC))
    first = await fetcher.fetch(server.url("/rss"))
    second = await fetcher.fetch(server.url("/rss"), last_modified=first.last_modified)
    assert first.status == 200
    assert first.etag is None
    assert second.not_modified
    assert second.last_modified == first.last_modified


async def test_server_that_ignores_validators_gets_a_full_fetch(server, fetcher):
    server.set_feed("/rss", FEED, etag='"abc"', ignore_conditional=True)
    result = await fetcher.fetch(server.url("/rss"), etag='"abc"')
    assert result.status == 200
    assert not result.not_modified
    assert result.body == FEED.encode()


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate", "br", "gzip, br"])
async def test_compressed_bodies_are_decoded(server, fetcher, encoding):
    data = FEED.encode()
    compressors = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "raw-deflate": lambda b: zlib.compress(b)[2:-4],
        "br": brotli.compress,
        "gzip, br": lambda b: brotli.compress(gzip.compress(b)),
    }
    header = "deflate" if encoding == "raw-deflate" else encoding
    server.set_feed("/z", compressors[encoding](data), headers={"Content-Encoding": header})
    result = await fetcher.fetch(server.url("/z"))
    assert result.ok
    assert result.body == data


async def test_unknown_content_encoding_is_an_http_error(server, fetcher):
    server.set_feed("/z", b"\x28\xb5\x2f\xfd", headers={"Content-Encoding": "zstd"})
    result = await fetcher.fetch(server.url("/z"))
    assert result.error_kind == "http"
    assert "zstd" in result.error


# --- redirects ---------------------------------------------------------------------------------


async def test_permanent_redirect_chain_reports_the_new_url(server, fetcher):
    server.set_redirect("/old", "/older", status=301)
    server.set_redirect("/older", "/good", status=308)
    result = await fetcher.fetch(server.url("/old"))
    assert result.ok
    assert result.body == FEED.encode()
    assert result.final_url == server.url("/good")
    assert result.permanent_redirect == server.url("/good")


async def test_temporary_hop_ends_the_permanent_part_of_a_chain(server, fetcher):
    server.set_redirect("/old", "/moved", status=301)
    server.set_redirect("/moved", "/good", status=302)
    result = await fetcher.fetch(server.url("/old"))
    assert result.ok
    assert result.final_url == server.url("/good")
    assert result.permanent_redirect == server.url("/moved")


async def test_temporary_redirect_keeps_the_stored_url(server, fetcher):
    server.set_redirect("/tmp", "/good", status=307)
    result = await fetcher.fetch(server.url("/tmp"))
    assert result.ok
    assert result.permanent_redirect is None


async def test_permanent_redirect_to_a_failing_url_is_not_reported(server, fetcher):
    server.set_redirect("/old", "/missing", status=301)
    result = await fetcher.fetch(server.url("/old"))
    assert result.error == "HTTP 404"
    assert result.permanent_redirect is None


async def test_redirect_loop_is_refused(server, fetcher):
    server.set_hostile("/loop", "redirect_loop")
    result = await fetcher.fetch(server.url("/loop"))
    assert result.error_kind == "redirects"
    assert "loop" in result.error
    assert len(server.requests) == 2


async def test_five_redirects_are_followed_and_six_refused(server, fetcher):
    server.set_hostile("/five", "redirect_chain", hops=5, target="/good")
    server.set_hostile("/six", "redirect_chain", hops=6, target="/good")
    five = await fetcher.fetch(server.url("/five"))
    six = await fetcher.fetch(server.url("/six"))
    assert five.ok
    assert five.permanent_redirect == server.url("/good")
    assert six.error_kind == "redirects"
    assert six.error == "too many redirects (more than 5)"
    assert len(server.requests_to("/good")) == 1  # only /five got there


async def test_redirect_to_an_invalid_url_is_refused(server, fetcher):
    server.set_redirect("/bad", "http://[::1/feed", status=302)
    result = await fetcher.fetch(server.url("/bad"))
    assert result.error_kind == "redirects"
    assert result.error.startswith("redirect to invalid URL")


async def test_redirect_to_another_scheme_is_refused(server, fetcher):
    server.set_redirect("/file", "file:///etc/passwd", status=302)
    result = await fetcher.fetch(server.url("/file"))
    assert result.error_kind == "redirects"
    assert "file" in result.error


# --- hostile servers: cut off early, bounded memory, and the neighbours still get served --------

HOSTILE = [
    # (behaviour, options, error_kind)
    ("hang", {}, "timeout"),
    ("trickle", {"interval": 0.2}, "timeout"),
    ("huge", {}, "too_large"),
    ("huge", {"declare_length": True}, "too_large"),
    ("endless", {}, "too_large"),
    ("gzip_bomb", {}, "too_large"),
    ("gzip_bomb", {"encoding": "deflate"}, "too_large"),
    ("gzip_bomb", {"encoding": "br"}, "too_large"),
    ("html", {}, "not_feed"),
    ("retry_after", {}, "http"),
    ("redirect_loop", {}, "redirects"),
]
MB = 1 << 20


@pytest.mark.slow  # the hang and trickle cases run into the fetch timeout
@pytest.mark.parametrize(
    ("behaviour", "options", "kind"),
    HOSTILE,
    ids=[f"{b}-{'-'.join(map(str, o.values())) or 'default'}" for b, o, _ in HOSTILE],
)
async def test_hostile_server_is_cut_off_while_a_good_feed_succeeds(
    server, behaviour, options, kind
):
    server.set_hostile("/bad", behaviour, **options)
    if behaviour == "gzip_bomb":  # built (and cached) here: compressing 300 MB takes the server
        compression_bomb(300 * MB, options.get("encoding", "gzip"))  # seconds on a busy machine
    finished: list[str] = []
    async with Fetcher(allow_private=True, timeout=1.5, max_bytes=1_000_000) as client:

        async def fetch(path: str) -> FetchResult:
            result = await client.fetch(server.url(path))
            finished.append(path)
            return result

        tracemalloc.start()
        try:
            bad, good = await within(asyncio.gather(fetch("/bad"), fetch("/good")), "the fetches")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert bad.error_kind == kind, bad.error
    assert good.ok
    assert good.body == FEED.encode()
    assert peak < 8_000_000  # max_bytes is 1 MB; the bodies offered are 100-300 MB or endless
    if kind == "too_large":
        assert bad.error == "body larger than 1 MB"
        assert bad.body is None
        # The server stops once the client hangs up; until then it wrote what the client read
        # (1 MB) and what the socket buffers took (a few MB), not the 100 MB or endless body.
        await eventually(lambda: server.in_flight == 0, "the server to notice the hang-up")
        assert server.bytes_sent["/bad"] < 16 * MB
    if kind == "timeout":
        assert bad.error == "timed out after 1.5 s"
        assert server.bytes_sent["/bad"] < 1000  # of a body that would take minutes to arrive
        assert finished == ["/good", "/bad"]  # the good feed was served while the bad one hung


async def test_html_page_is_kept_for_the_caller(server, fetcher):
    server.set_hostile("/page", "html")
    result = await fetcher.fetch(server.url("/page"))
    assert result.error == "not a feed: the server sent an HTML page"
    assert result.body is not None
    assert b"<html" in result.body


async def test_many_leading_comments_do_not_stall_html_sniffing(server, fetcher):
    # A regex that skipped the comments backtracked exponentially here: 150 comments froze the
    # event loop for good (20 took 0.1 s, each 2 more 4x as long).
    comments = "<!-- c -->" * 150  # the page still opens within the 2 kB sniffed
    server.set_feed("/feed", comments + "<rss version='2.0'><channel></channel></rss>")
    server.set_hostile("/page", "html", body=comments + "\n<!DOCTYPE html><html></html>")
    feed = await within(fetcher.fetch(server.url("/feed")), "sniffing the commented feed")
    page = await within(fetcher.fetch(server.url("/page")), "sniffing the commented page")
    assert feed.ok
    assert page.error_kind == "not_feed"


async def test_feed_served_as_text_html_is_still_a_feed(server, fetcher):
    server.set_feed("/rss", FEED, content_type="text/html; charset=utf-8")
    result = await fetcher.fetch(server.url("/rss"))
    assert result.ok
    assert result.body == FEED.encode()


async def test_server_error_then_recovery(server, fetcher):
    server.set_hostile("/flaky", "flaky", failures=1, body=FEED)
    first = await fetcher.fetch(server.url("/flaky"))
    second = await fetcher.fetch(server.url("/flaky"))
    assert (first.status, first.error, first.error_kind) == (500, "HTTP 500", "http")
    assert second.ok
    assert second.body == FEED.encode()


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_seconds_and_dates(server, fetcher, status):
    later = datetime.now(UTC) + timedelta(minutes=10)
    server.set_hostile("/seconds", "retry_after", status=status, retry_after=120)
    server.set_hostile("/date", "retry_after", status=status, retry_after=later)
    seconds = await fetcher.fetch(server.url("/seconds"))
    dated = await fetcher.fetch(server.url("/date"))
    assert seconds.status == status
    assert seconds.error == f"HTTP {status}"
    assert seconds.retry_after == 120.0
    assert 590 <= dated.retry_after <= 600


async def test_cache_headers_give_max_age(server, fetcher):
    server.set_feed("/cc", FEED, headers={"Cache-Control": "public, max-age=300"})
    server.set_feed("/expires", FEED, headers={"Expires": "Tue, 24 Mar 2099 08:00:00 GMT"})
    cache_control = await fetcher.fetch(server.url("/cc"))
    expires = await fetcher.fetch(server.url("/expires"))
    assert cache_control.max_age == 300.0
    assert expires.max_age > 365 * 24 * 3600


def test_max_age_and_retry_after_parsing():
    date = "Tue, 24 Mar 2026 08:00:00 GMT"
    assert max_age_seconds({"cache-control": 'max-age="60", must-revalidate'}) == 60.0
    assert max_age_seconds({"cache-control": "no-cache"}) == 0.0
    assert max_age_seconds({"date": date, "expires": "Tue, 24 Mar 2026 08:15:00 GMT"}) == 900.0
    assert max_age_seconds({"date": date, "expires": "0"}) == 0.0
    assert max_age_seconds({"date": date, "expires": "Tue, 24 Mar 2026 07:00:00 GMT"}) == 0.0
    assert max_age_seconds({}) is None
    assert retry_after_seconds({"retry-after": "30"}) == 30.0
    assert (
        retry_after_seconds({"date": date, "retry-after": "Tue, 24 Mar 2026 08:01:00 GMT"}) == 60.0
    )
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert human_bytes(10_000_000) == "10 MB"
    assert human_bytes(1500) == "1.5 kB"


# --- concurrency bounds ------------------------------------------------------------------------


async def test_per_host_limit_is_enforced(server):
    release = asyncio.Event()
    server.set_feed("/slow", FEED, hold=release)
    async with Fetcher(allow_private=True, max_per_host=2) as client:
        fetches = asyncio.gather(*(client.fetch(server.url("/slow")) for _ in range(6)))
        await eventually(lambda: server.in_flight == 2, "two requests held by the server")
        assert len(server.requests) == 2  # the other four wait for a slot
        release.set()
        results = await within(fetches, "the six fetches")
    assert all(r.ok for r in results)
    assert len(server.requests) == 6
    assert server.peak_in_flight == 2


@pytest.mark.parametrize(
    ("limits", "at_once"),
    [
        ({"max_per_host": 1, "max_connections": 10}, 2),
        ({"max_per_host": 4, "max_connections": 1}, 1),
    ],
    ids=["one-per-host", "one-overall"],
)
async def test_hosts_are_limited_separately_and_overall(server, limits, at_once):
    release = asyncio.Event()
    server.set_feed("/slow", FEED, hold=release)
    by_ip, by_name = server.url("/slow"), server.url("/slow").replace("127.0.0.1", "localhost")
    async with Fetcher(allow_private=True, **limits) as client:
        fetches = asyncio.gather(*(client.fetch(u) for u in [by_ip, by_name] * 2))
        await eventually(lambda: server.in_flight == at_once, f"{at_once} held request(s)")
        hosts = {r.headers["host"].split(":")[0] for r in server.requests}
        assert len(server.requests) == at_once  # the rest wait for a slot
        release.set()
        results = await within(fetches, "the four fetches")
    assert all(r.ok for r in results)
    assert server.peak_in_flight == at_once
    if at_once == 2:
        assert hosts == {"127.0.0.1", "localhost"}  # one from each host


# --- the address guard -------------------------------------------------------------------------


async def test_guard_refuses_loopback_before_connecting(server):
    async with Fetcher() as client:
        by_ip = await client.fetch(server.url("/good"))
        by_name = await client.fetch(server.url("/good").replace("127.0.0.1", "localhost"))
    assert by_ip.error_kind == "private_address"
    assert by_ip.error == "refused: resolves to loopback address 127.0.0.1"
    assert by_name.error_kind == "private_address"
    assert by_name.error.startswith("refused: localhost resolves to loopback address")
    assert server.requests == []  # nothing reached the server


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://10.0.0.1/feed.xml", "refused: resolves to private address 10.0.0.1"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "refused: resolves to cloud metadata address 169.254.169.254",
        ),
        ("http://[::1]:9/feed", "refused: resolves to loopback address ::1"),
        ("http://100.64.0.7/", "refused: resolves to shared (CGNAT) address 100.64.0.7"),
    ],
)
async def test_guard_refuses_a_redirect_to_a_private_address(server, location, reason):
    server.set_hostile("/go", "redirect_private", location=location)
    async with Fetcher(allowed_networks=LOOPBACK_ONLY, timeout=2.0) as client:
        result = await client.fetch(server.url("/go"))
    assert result.error_kind == "private_address"
    assert result.error == reason
    assert result.final_url == location


async def test_public_name_resolving_to_loopback_is_refused(server):
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return {"news.example": ["127.0.0.1"], "mixed.example": ["93.184.216.34", "10.9.8.7"]}[host]

    port = server.url().split(":")[2].rstrip("/")
    async with Fetcher(resolver=resolver) as client:
        single = await client.fetch(f"http://news.example:{port}/good")
        mixed = await client.fetch(f"http://mixed.example:{port}/good")
    assert single.error == "refused: news.example resolves to loopback address 127.0.0.1"
    assert mixed.error == "refused: mixed.example resolves to private address 10.9.8.7"
    assert lookups == ["news.example", "mixed.example"]
    assert server.requests == []


async def test_guard_connects_to_the_checked_address_and_keeps_the_host_header(server):
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    port = server.url().split(":")[2].rstrip("/")
    async with Fetcher(allow_private=True, resolver=resolver) as client:
        result = await client.fetch(f"http://feeds.rasd.test:{port}/good")
    assert result.ok
    assert result.body == FEED.encode()
    assert server.requests[0].headers["host"] == f"feeds.rasd.test:{port}"
    assert lookups == ["feeds.rasd.test"]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
async def test_tls_checks_the_url_host_while_connecting_to_the_checked_ip(tmp_path):
    server_tls, client_tls = tls_contexts(tmp_path, ["feeds.rasd.test"])

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async with (
        FeedServer(ssl_context=server_tls) as server,
        Fetcher(allow_private=True, resolver=resolver, verify=client_tls) as client,
    ):
        server.set_feed("/good", FEED)
        right = await client.fetch(f"https://feeds.rasd.test:{server.port}/good")
        wrong = await client.fetch(f"https://other.rasd.test:{server.port}/good")
    assert right.ok
    assert right.body == FEED.encode()
    assert server.tls_server_names == ["feeds.rasd.test", "other.rasd.test"]
    assert server.requests[0].headers["host"] == f"feeds.rasd.test:{server.port}"
    assert wrong.error_kind == "network"
    assert "certificate verify failed" in wrong.error
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("10.0.0.1", "private"),
        ("192.168.1.20", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 wrapping 10.0.0.1
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.1.1", "shared (CGNAT)"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("8.8.8.8", None),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_refusal_categories(address, category):
    assert refusal_category(address) == category


@pytest.mark.parametrize(
    "url", ["ftp://example.com/feed", "not a url", "http://", "file:///etc/passwd", ""]
)
async def test_invalid_urls_are_data(fetcher, url):
    result = await fetcher.fetch(url)
    assert result.error_kind == "invalid_url"
    assert result.error


async def test_connection_refused_is_a_network_error(fetcher):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await fetcher.fetch(f"http://127.0.0.1:{port}/feed")
    assert result.error_kind == "network"
    assert result.error.startswith("could not connect")


async def test_unresolvable_name_is_a_network_error():
    async def resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async with Fetcher(resolver=resolver) as client:
        result = await client.fetch("https://no-such-host.invalid/feed")
    assert result.error_kind == "network"
    assert "no-such-host.invalid" in result.error
