"""A loopback feed server for tests: real HTTP on 127.0.0.1, good feeds and hostile ones.

    async with FeedServer() as server:
        server.set_feed("/rss", make_rss("أخبار", sample_items(3)), etag='"v1"')
        server.set_hostile("/slow", "trickle", interval=0.2)
        url = server.url("/rss")
        ...
        assert server.requests_to("/rss")[-1].headers["if-none-match"] == '"v1"'

Hostile behaviours (`set_hostile(path, name, **options)`):
    hang              headers, a few bytes, then nothing until the server closes
    trickle           one byte every `interval` seconds (default 1.0) of `body`
    huge              `size` bytes (default 100 MB), streamed; `declare_length` sends Content-Length
    endless           an endless body
    redirect_loop     path -> path + "/again" -> path ...
    redirect_chain    `hops` redirects (default 6, `status` 301) ending at `target`
    redirect_private  a redirect to `location` (default http://10.0.0.1/feed.xml)
    flaky             `failures` times `fail_status` (default 1 x 500), then `body`
    html              an HTML page served as text/html
    gzip_bomb         a small body that inflates to `size` bytes (default 300 MB);
                      `encoding` is "gzip" (default), "deflate" or "br"
    retry_after       `status` (default 429) with a Retry-After of `retry_after` (seconds,
                      or a datetime sent as an HTTP date)
Every behaviour also takes `delay` (seconds before the response starts); hang, trickle, huge,
endless and gzip_bomb take `content_type` (default RSS) to pose as pages, images...

Also: `set_redirect(path, location, status=301)`; `set_feed(..., hold=event)` answers only once
the event is set; `server.requests` (every request: method, path, query, lowercase headers);
`server.in_flight` and `server.peak_in_flight` (requests being answered now, and the most seen
at once), and the same per path and per host (Host header without the port):
`server.path_in_flight[path]`, `server.path_peak[path]`, `server.host_in_flight[host]`,
`server.host_peak[host]`; `server.bytes_sent[path]` (body bytes handed to the socket for that
path, counted as they are written, so a client that stops reading bounds it);
`set_page(path, body=HTML_PAGE, content_type=HTML_TYPE, delay=..., hold=...)` serves a web page;
`make_rss(title, items)` and `sample_items(n)` build Arabic RSS 2.0; and
`FeedServer(ssl_context=...)` with `tls_contexts(tmp_path, ["feeds.example"])` serves HTTPS
under a throwaway CA (`server.tls_server_names` records the SNI of each handshake).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import ssl
import subprocess
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

RSS_TYPE = "application/rss+xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
HOSTILE_BEHAVIOURS = frozenset(
    {
        "hang",
        "trickle",
        "huge",
        "endless",
        "redirect_loop",
        "redirect_chain",
        "redirect_private",
        "flaky",
        "html",
        "gzip_bomb",
        "retry_after",
    }
)
HTML_PAGE = (
    "<!DOCTYPE html>\n<html lang='ar' dir='rtl'><head><meta charset='utf-8'>"
    "<title>الصفحة الرئيسية</title></head><body><h1>مرحبا</h1>"
    "<p>هذه صفحة وليست موجزا.</p></body></html>"
)
_MB = 1 << 20


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the server received; header names are lowercase."""

    method: str
    path: str
    query: str
    headers: dict[str, str]


@dataclass(slots=True)
class _Route:
    kind: str
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    ignore_conditional: bool = False
    delay: float = 0.0
    hold: asyncio.Event | None = None
    options: dict[str, Any] = field(default_factory=dict)
    hits: int = 0


class FeedServer:
    """An aiohttp server on 127.0.0.1 (random port) serving whatever the test sets.

    Pass `ssl_context` (see `tls_contexts`) for an HTTPS server.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.ssl_context = ssl_context
        self.tls_server_names: list[str | None] = []  # SNI of each TLS handshake, in order
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self.path_in_flight: Counter[str] = Counter()
        self.path_peak: Counter[str] = Counter()
        self.host_in_flight: Counter[str] = Counter()
        self.host_peak: Counter[str] = Counter()
        self.bytes_sent: Counter[str] = Counter()
        self._routes: dict[str, _Route] = {}
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> FeedServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        if self.ssl_context is not None:
            self.ssl_context.sni_callback = self._record_sni
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock, ssl_context=self.ssl_context).start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """The server's root, e.g. http://127.0.0.1:54321."""
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self._port}"

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._port

    def url(self, path: str = "/") -> str:
        """The absolute URL of `path` on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def _record_sni(self, tls: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        self.tls_server_names.append(name)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The requests received for `path`, oldest first."""
        return [r for r in self.requests if r.path == path]

    def set_feed(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | datetime | None = None,
        ignore_conditional: bool = False,
        delay: float = 0.0,
        hold: asyncio.Event | None = None,
        content_type: str = RSS_TYPE,
    ) -> None:
        """Serve `body` at `path`; with etag/last_modified, answer conditional GETs with 304."""
        all_headers = {"Content-Type": content_type, **(headers or {})}
        self._routes[path] = _Route(
            kind="feed",
            body=body.encode() if isinstance(body, str) else body,
            status=status,
            headers=all_headers,
            etag=etag,
            last_modified=_http_date(last_modified) if last_modified is not None else None,
            ignore_conditional=ignore_conditional,
            delay=delay,
            hold=hold,
        )

    def set_page(
        self,
        path: str,
        body: bytes | str = HTML_PAGE,
        *,
        content_type: str = HTML_TYPE,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        hold: asyncio.Event | None = None,
    ) -> None:
        """Serve a web page (an article, an image...) at `path`; no conditional GET."""
        self.set_feed(
            path,
            body,
            status=status,
            headers=headers,
            delay=delay,
            hold=hold,
            content_type=content_type,
        )

    def set_redirect(self, path: str, location: str, *, status: int = 301) -> None:
        """Redirect `path` to `location` (a path on this server or an absolute URL)."""
        self._routes[path] = _Route(kind="redirect", status=status, options={"location": location})

    def set_hostile(self, path: str, behaviour: str, *, delay: float = 0.0, **options: Any) -> None:
        """Make `path` misbehave in one of the ways listed in the module docstring."""
        if behaviour not in HOSTILE_BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        self._routes[path] = _Route(kind=behaviour, delay=delay, options=options)
        if behaviour == "redirect_loop":
            self.set_redirect(path + "/again", path, status=options.get("status", 302))
        elif behaviour == "redirect_chain":
            hops = options.get("hops", 6)
            status = options.get("status", 301)
            target = options.get("target", "/")
            for hop in range(1, hops):
                nxt = f"{path}/hop{hop + 1}" if hop + 1 < hops else target
                self.set_redirect(f"{path}/hop{hop}", nxt, status=status)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=request.query_string,
                headers={k.lower(): v for k, v in request.headers.items()},
            )
        )
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        host = request.headers.get("Host", "").lower().rpartition(":")[0] or request.host
        self.path_in_flight[request.path] += 1
        self.path_peak[request.path] = max(
            self.path_peak[request.path], self.path_in_flight[request.path]
        )
        self.host_in_flight[host] += 1
        self.host_peak[host] = max(self.host_peak[host], self.host_in_flight[host])
        try:
            route = self._routes.get(request.path)
            if route is None:
                return web.Response(status=404, text="not found")
            route.hits += 1
            if route.delay:
                await self._sleep(route.delay)
            if route.hold is not None:
                await self._until(route.hold)
            handler = getattr(self, f"_serve_{route.kind}")
            response = await handler(request, route)
            if isinstance(response, web.Response) and isinstance(response.body, bytes):
                self.bytes_sent[request.path] += len(response.body)
            return response
        finally:
            self.in_flight -= 1
            self.path_in_flight[request.path] -= 1
            self.host_in_flight[host] -= 1

    async def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server closes first; True when it is closing."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)
        return self._closing.is_set()

    async def _until(self, event: asyncio.Event) -> None:
        """Wait until `event` is set or the server closes."""
        waits = [asyncio.ensure_future(e.wait()) for e in (event, self._closing)]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def _write(self, request: web.Request, response: web.StreamResponse, data: bytes) -> None:
        await response.write(data)
        self.bytes_sent[request.path] += len(data)

    async def _serve_feed(self, request: web.Request, route: _Route) -> web.StreamResponse:
        validators: dict[str, str] = {}
        if route.etag is not None:
            validators["ETag"] = route.etag
        if route.last_modified is not None:
            validators["Last-Modified"] = route.last_modified
        if not route.ignore_conditional and _is_not_modified(request, route):
            return web.Response(status=304, headers=validators)
        return web.Response(
            status=route.status, body=route.body, headers={**route.headers, **validators}
        )

    async def _serve_redirect(self, request: web.Request, route: _Route) -> web.StreamResponse:
        location = route.options["location"]
        if location.startswith("/"):
            location = self.url(location)
        return web.Response(status=route.status, headers={"Location": location})

    async def _serve_redirect_loop(self, request: web.Request, route: _Route) -> web.StreamResponse:
        return web.Response(
            status=route.options.get("status", 302),
            headers={"Location": self.url(request.path + "/again")},
        )

    async def _serve_redirect_chain(
        self, request: web.Request, route: _Route
    ) -> web.StreamResponse:
        return web.Response(
            status=route.options.get("status", 301),
            headers={"Location": self.url(f"{request.path}/hop1")},
        )

    async def _serve_redirect_private(
        self, request: web.Request, route: _Route
    ) -> web.StreamResponse:
        location = route.options.get("location", "http://10.0.0.1/feed.xml")
        return web.Response(status=route.options.get("status", 302), headers={"Location": location})

    async def _serve_flaky(self, request: web.Request, route: _Route) -> web.StreamResponse:
        if route.hits <= route.options.get("failures", 1):
            return web.Response(status=route.options.get("fail_status", 500), text="server error")
        body = route.options.get("body") or make_rss("موجز", sample_items(2))
        return web.Response(body=_as_bytes(body), headers={"Content-Type": RSS_TYPE})

    async def _serve_html(self, request: web.Request, route: _Route) -> web.StreamResponse:
        body = route.options.get("body", HTML_PAGE)
        return web.Response(body=_as_bytes(body), content_type="text/html", charset="utf-8")

    async def _serve_retry_after(self, request: web.Request, route: _Route) -> web.StreamResponse:
        value = route.options.get("retry_after", 120)
        header = _http_date(value) if isinstance(value, datetime) else str(value)
        return web.Response(
            status=route.options.get("status", 429),
            text="slow down",
            headers={"Retry-After": header},
        )

    async def _serve_gzip_bomb(self, request: web.Request, route: _Route) -> web.StreamResponse:
        encoding = route.options.get("encoding", "gzip")
        body = compression_bomb(route.options.get("size", 300 * _MB), encoding)
        content_type = route.options.get("content_type", RSS_TYPE)
        return web.Response(
            body=body, headers={"Content-Type": content_type, "Content-Encoding": encoding}
        )

    async def _serve_hang(self, request: web.Request, route: _Route) -> web.StreamResponse:
        response = await self._start_stream(request, {"Content-Length": "100000"}, route)
        with contextlib.suppress(ConnectionError):
            await self._write(request, response, b"<?xml version='1.0'?><rss")
            await self._closing.wait()
        return response

    async def _serve_trickle(self, request: web.Request, route: _Route) -> web.StreamResponse:
        body = _as_bytes(route.options.get("body") or make_rss("بطيء", sample_items(5)))
        interval = route.options.get("interval", 1.0)
        response = await self._start_stream(request, {"Content-Length": str(len(body))}, route)
        with contextlib.suppress(ConnectionError):
            for i in range(len(body)):
                await self._write(request, response, body[i : i + 1])
                if await self._sleep(interval):
                    break
        return response

    async def _serve_huge(self, request: web.Request, route: _Route) -> web.StreamResponse:
        size = route.options.get("size", 100_000_000)
        headers = {"Content-Length": str(size)} if route.options.get("declare_length") else {}
        response = await self._start_stream(request, headers, route)
        chunk = b"<!-- padding -->" * 4096
        sent = 0
        with contextlib.suppress(ConnectionError):
            while sent < size and not self._closing.is_set():
                piece = chunk[: size - sent]
                await self._write(request, response, piece)
                sent += len(piece)
        return response

    async def _serve_endless(self, request: web.Request, route: _Route) -> web.StreamResponse:
        response = await self._start_stream(request, {}, route)
        chunk = b"<item><title>\xd8\xb9\xd8\xa7\xd8\xac\xd9\x84</title></item>" * 1024
        with contextlib.suppress(ConnectionError):
            while not self._closing.is_set():
                await self._write(request, response, chunk)
        return response

    async def _start_stream(
        self, request: web.Request, headers: dict[str, str], route: _Route
    ) -> web.StreamResponse:
        content_type = route.options.get("content_type", RSS_TYPE)
        response = web.StreamResponse(headers={"Content-Type": content_type, **headers})
        await response.prepare(request)
        return response


def _is_not_modified(request: web.Request, route: _Route) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if route.etag is not None and if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or route.etag.removeprefix("W/") in tags
    since = request.headers.get("If-Modified-Since")
    if route.last_modified is None or since is None:
        return False
    try:
        return parsedate_to_datetime(since) >= parsedate_to_datetime(route.last_modified)
    except (TypeError, ValueError):
        return False


def _http_date(value: str | datetime) -> str:
    if isinstance(value, str):
        return value
    return format_datetime(value.astimezone(UTC), usegmt=True)


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


@functools.cache
def compression_bomb(size: int, encoding: str = "gzip") -> bytes:
    """A body of `size` bytes of XML-ish whitespace, compressed to about size/1000 (br: far less)."""
    head = b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>"
    megabytes = max(1, (size - len(head)) // _MB)
    block = b" " * _MB
    if encoding == "br":
        import brotli

        compressor = brotli.Compressor(quality=5)
        parts = [compressor.process(head)] + [compressor.process(block) for _ in range(megabytes)]
        return b"".join(parts) + compressor.finish()
    # A full flush resets the deflate window, so every 1 MB block compresses to the same bytes:
    # build one and repeat it instead of compressing hundreds of megabytes.
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflater.compress(head) + deflater.flush(zlib.Z_FULL_FLUSH)
    repeated = deflater.compress(block) + deflater.flush(zlib.Z_FULL_FLUSH)
    tail = deflater.flush(zlib.Z_FINISH)
    crc, adler = zlib.crc32(head), zlib.adler32(head)
    for _ in range(megabytes):
        crc, adler = zlib.crc32(block, crc), zlib.adler32(block, adler)
    deflated = first + repeated * megabytes + tail
    total = len(head) + megabytes * _MB
    if encoding == "deflate":
        return b"\x78\xda" + deflated + adler.to_bytes(4, "big")
    if encoding != "gzip":
        raise ValueError(f"unknown encoding {encoding!r}")
    gzip_header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return (
        gzip_header + deflated + crc.to_bytes(4, "little") + (total % 2**32).to_bytes(4, "little")
    )


def tls_contexts(directory: Path, hostnames: list[str]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) contexts: a throwaway CA (made with the openssl CLI) and a certificate
    for `hostnames`; the client context trusts only that CA and checks host names."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Rasd test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    openssl("req", *key, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", f"/CN={hostnames[0]}")
    names = ",".join(f"DNS:{name}" for name in hostnames)
    (directory / "leaf.ext").write_text(
        f"subjectAltName={names}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext")  # fmt: skip
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(directory / "leaf.pem", directory / "leaf.key")
    client = ssl.create_default_context(cafile=str(directory / "ca.pem"))
    return server, client


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def make_rss(title: str, items: list[dict[str, Any]], *, link: str = "https://example.com/") -> str:
    """RSS 2.0 with content:encoded; item keys: title, link, guid, guid_is_permalink,
    description, content, pubDate (datetime or string)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:atom="http://www.w3.org/2005/Atom">',
        "<channel>",
        f"<title>{escape(title, quote=False)}</title>",
        f"<link>{escape(link)}</link>",
        "<description>موجز أخبار للاختبار</description>",
        "<language>ar</language>",
    ]
    for item in items:
        parts.append("<item>")
        if "title" in item:
            parts.append(f"<title>{escape(item['title'], quote=False)}</title>")
        if "link" in item:
            parts.append(f"<link>{escape(item['link'])}</link>")
        if "guid" in item:
            permalink = "true" if item.get("guid_is_permalink", False) else "false"
            parts.append(
                f'<guid isPermaLink="{permalink}">{escape(item["guid"], quote=False)}</guid>'
            )
        if "description" in item:
            parts.append(f"<description>{_cdata(item['description'])}</description>")
        if "content" in item:
            parts.append(f"<content:encoded>{_cdata(item['content'])}</content:encoded>")
        if "pubDate" in item:
            parts.append(f"<pubDate>{_http_date(item['pubDate'])}</pubDate>")
        parts.append("</item>")
    parts += ["</channel>", "</rss>"]
    return "\n".join(parts) + "\n"


_SAMPLE_STORIES = [
    (
        "الحكومة المغربية تعلن خطة جديدة لدعم الفلاحين بعد موسم الجفاف",
        "أعلنت الحكومة في الرباط، اليوم الاثنين، عن خطة لدعم الفلاحين المتضررين من الجفاف "
        "تشمل قروضا ميسرة وتوزيع البذور والأعلاف في الأقاليم الأكثر تضررا.",
    ),
    (
        "ارتفاع أسعار النفط مع تراجع المخزونات الأمريكية",
        "ارتفعت أسعار النفط في التعاملات الآسيوية بعد بيانات أظهرت تراجع المخزونات "
        "الأمريكية من الخام للأسبوع الثالث على التوالي.",
    ),
    (
        "قمة عربية طارئة في القاهرة لبحث الأوضاع في غزة",
        "يجتمع القادة العرب في القاهرة لبحث تطورات الأوضاع الإنسانية في قطاع غزة "
        "وسبل إيصال المساعدات إلى السكان.",
    ),
    (
        "المنتخب الوطني يتأهل إلى نهائي كأس أفريقيا",
        "تأهل المنتخب الوطني إلى المباراة النهائية لكأس أمم أفريقيا بعد فوزه بهدفين "
        "مقابل هدف في مباراة مثيرة.",
    ),
    (
        "زلزال بقوة 5.2 درجات يضرب جنوب تركيا دون إصابات",
        "ضرب زلزال بقوة 5.2 درجات على مقياس ريختر جنوب تركيا فجر اليوم، ولم تسجل "
        "السلطات أي إصابات أو أضرار مادية.",
    ),
]


def sample_items(
    count: int, *, base_url: str = "https://example.com", start: int = 1
) -> list[dict[str, Any]]:
    """`count` realistic Arabic items (WordPress style: ?p=ID guid, tracking link, harakat)."""
    items = []
    for number in range(start, start + count):
        title, text = _SAMPLE_STORIES[(number - 1) % len(_SAMPLE_STORIES)]
        if number > len(_SAMPLE_STORIES):
            title = f"{title} ({number})"
        items.append(
            {
                "title": title,
                "link": f"{base_url}/news/{number}/?utm_source=rss&traffic_source=rss",
                "guid": f"{base_url}/?p={1000 + number}",
                "description": f"<p>{text[:80]}…</p>",
                "content": f"<p>{text}</p><p>وقال المُتحدّث إنّ التفاصيل ستُعلن لاحقاً.</p>",
                "pubDate": datetime(2026, 3, 24, 8, number % 60, tzinfo=UTC),
            }
        )
    return items
