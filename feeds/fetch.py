"""Bounded, guarded feed fetching over one shared httpx client; problems come back as data."""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Literal, Protocol

import httpcore
import httpx

from core.links import site_host
from feeds.guard import AddressRefused, GuardedNetworkBackend, Resolver

try:
    import brotli
except ImportError:  # pragma: no cover - brotli is in requirements (httpx[brotli])
    brotli = None

# How a feed fetch fails; each kind has its words for admins in the catalogs (error_kind_*).
ErrorKind = Literal[
    "timeout", "too_large", "redirects", "private_address", "http", "network", "not_feed",
    "invalid_url",
]  # fmt: skip
# How only a page fetch fails besides ("budget": feeds.pages' per-cycle budget is spent).
PageErrorKind = Literal["not_html", "home_redirect", "budget"]
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
ACCEPT_ENCODING = "gzip, deflate, br" if brotli is not None else "gzip, deflate"
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Article pages run to about 600 kB (inline scripts, styles and JSON included); 2 MB leaves room
# for the heaviest while bounding what one page fetch holds in memory (5x less than a feed).
PAGE_MAX_BYTES = 2_000_000
# The teaser stands in when a page cannot be had, so a slow page is given up on sooner than a
# feed (20 s); 10 s still leaves a slow but working server time to answer.
PAGE_TIMEOUT = 10.0
DECODE_PIECE = 64 * 1024  # most bytes one decompression step may produce
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF|channel)[\s>]", re.IGNORECASE)
# Matched after the BOM, blanks and comments are skipped by hand: a regex that skips comments
# too (`(?:<!--.*?-->\s*)*`) backtracks exponentially on a body of many comments.
_HTML_OPEN = re.compile(rb"<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE)


@dataclass(slots=True)
class FetchResult:
    """What one fetch produced; `error`/`error_kind` are set when there is no usable body."""

    url: str
    final_url: str
    status: int | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    permanent_redirect: str | None = None
    max_age: float | None = None
    retry_after: float | None = None
    error: str | None = None
    error_kind: ErrorKind | PageErrorKind | None = None

    @property
    def ok(self) -> bool:
        """True for a body to parse or a 304."""
        return self.error is None


class _FetchFailed(Exception):
    def __init__(self, kind: ErrorKind | PageErrorKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one kind of fetch sends and accepts: a feed's (conditional) or a page's."""

    headers: dict[str, str]
    timeout: float
    max_bytes: int
    etag: str | None = None
    last_modified: str | None = None
    page: bool = False
    site_root: str | None = None  # a page: a redirect here (or to "/") is "home_redirect"


@dataclass(slots=True)
class _Trip:
    """Where a fetch has got to, so a timeout can still say where it was."""

    url: str
    current: str
    permanent: str | None = None
    permanent_chain: bool = True


@dataclass(slots=True)
class _HostSlot:
    semaphore: asyncio.Semaphore
    users: int = 0


def human_bytes(size: int) -> str:
    """10_000_000 -> '10 MB', 1500 -> '1.5 kB'."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


class Fetcher:
    """Fetches feeds with limits, conditional GET, manual redirects and the address guard.

    Beyond the usual knobs: `read_timeout` is the longest silence between bytes (default:
    `timeout`); `allowed_networks` are CIDRs exempt from the guard (a test server, an intranet
    feed); `resolver` is an async (host, port) -> [addresses] used instead of the system's;
    `verify` is httpx's TLS trust setting (True or an SSLContext). Article pages
    (`fetch_page`) go through the same client and guard with limits of their own:
    `page_timeout` (total) and `page_max_bytes` (after decompression).
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = 20.0,
        connect_timeout: float = 10.0,
        max_bytes: int = 10_000_000,
        max_connections: int = 100,
        max_per_host: int = 4,
        user_agent: str = "Rasd/0.1 (+https://github.com/rasd)",
        max_redirects: int = 5,
        read_timeout: float | None = None,
        allowed_networks: Iterable[str] = (),
        resolver: Resolver | None = None,
        verify: ssl.SSLContext | bool = True,
        page_timeout: float = PAGE_TIMEOUT,
        page_max_bytes: int = PAGE_MAX_BYTES,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.page_timeout = page_timeout
        self.page_max_bytes = page_max_bytes
        self.max_per_host = max_per_host
        self.max_redirects = max_redirects
        self.backend = GuardedNetworkBackend(
            allow_private=allow_private, allowed_networks=allowed_networks, resolver=resolver
        )
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=min(20, max_connections),
        )
        self._client = httpx.AsyncClient(
            transport=_GuardedTransport(self.backend, limits, verify),
            timeout=httpx.Timeout(read_timeout or timeout, connect=connect_timeout, pool=timeout),
            headers={
                "User-Agent": user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            follow_redirects=False,
            trust_env=False,  # no proxies from the environment: they would bypass the guard
        )
        self._slots = asyncio.Semaphore(max_connections)
        self._hosts: dict[str, _HostSlot] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the shared client and its connections."""
        await self._client.aclose()

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET a feed; never raises for network or HTTP problems."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        plan = _Plan(headers, self.timeout, self.max_bytes, etag, last_modified)
        return await self._fetch(url, plan)

    async def fetch_page(self, url: str, *, site_root: str | None = None) -> FetchResult:
        """GET an article's web page: the body as bytes, undecoded (the charset may be only in
        a <meta>), with the headers; never raises for network or HTTP problems.

        Besides fetch's errors: "invalid_url" (not http(s), no request made), "not_html" (the
        content type says image, PDF, JSON...: nothing read), "home_redirect" (a redirect to
        "/" or to `site_root`, the feed's site: a paywall or a removed article; not followed).
        No conditional GET; `page_timeout` and `page_max_bytes` instead of the feed limits.
        """
        plan = _Plan(
            {"Accept": PAGE_ACCEPT},
            self.page_timeout,
            self.page_max_bytes,
            page=True,
            site_root=site_root,
        )
        return await self._fetch(url, plan)

    async def _fetch(self, url: str, plan: _Plan) -> FetchResult:
        try:
            host = _checked_url(url).host
        except _FetchFailed as refused:
            return FetchResult(url, url, error=refused.reason, error_kind=refused.kind)
        trip = _Trip(url=url, current=url)
        async with self._host_slot(host), self._slots:
            try:
                async with asyncio.timeout(plan.timeout):
                    return await self._follow(trip, plan)
            except TimeoutError:
                failure = _FetchFailed("timeout", f"timed out after {plan.timeout:g} s")
            except _FetchFailed as exc:
                failure = exc
            except AddressRefused as exc:
                failure = _FetchFailed("private_address", str(exc))
            except httpx.TimeoutException as exc:
                failure = _FetchFailed("timeout", _timeout_reason(exc))
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                failure = _FetchFailed("invalid_url", f"invalid URL: {exc}")
            except httpx.RemoteProtocolError as exc:
                failure = _protocol_failure(exc)
            except (httpx.HTTPError, httpcore.ProtocolError, OSError) as exc:
                failure = _FetchFailed("network", _network_reason(exc))
        return FetchResult(url, trip.current, error=failure.reason, error_kind=failure.kind)

    @contextlib.asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        slot = self._hosts.get(host)
        if slot is None:
            slot = self._hosts[host] = _HostSlot(asyncio.Semaphore(self.max_per_host))
        slot.users += 1
        try:
            async with slot.semaphore:
                yield
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._hosts[host]

    async def _follow(self, trip: _Trip, plan: _Plan) -> FetchResult:
        visited = {str(_checked_url(trip.url))}
        redirects = 0
        while True:
            request = self._client.build_request("GET", trip.current, headers=plan.headers)
            response = await self._client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if response.status_code not in REDIRECT_STATUSES or not location:
                    if plan.page:
                        return await self._finish_page(trip, response, plan)
                    return await self._finish(trip, response, plan)
                redirects += 1
                # httpx has already checked that Location parses (see _protocol_failure)
                target = str(_checked_url(str(response.url.join(location)), redirect=True))
                if plan.page and is_home_page(target, plan.site_root):
                    trip.current = target
                    raise _FetchFailed("home_redirect", f"redirected to the home page {target}")
                if target in visited:
                    raise _FetchFailed("redirects", f"redirect loop at {target}")
                if redirects > self.max_redirects:
                    raise _FetchFailed(
                        "redirects", f"too many redirects (more than {self.max_redirects})"
                    )
                visited.add(target)
                if trip.permanent_chain and response.status_code in PERMANENT_STATUSES:
                    trip.permanent = target
                else:
                    trip.permanent_chain = False
                trip.current = target
            finally:
                await response.aclose()

    async def _finish(self, trip: _Trip, response: httpx.Response, plan: _Plan) -> FetchResult:
        headers = {k.lower(): v for k, v in response.headers.items()}
        status = response.status_code
        result = FetchResult(
            url=trip.url,
            final_url=str(response.url),
            status=status,
            headers=headers,
            etag=headers.get("etag") or plan.etag,
            last_modified=headers.get("last-modified") or plan.last_modified,
            max_age=max_age_seconds(headers),
        )
        if status == 304:
            result.not_modified = True
        elif not 200 <= status < 300:
            result.error, result.error_kind = f"HTTP {status}", "http"
            if status in RETRY_AFTER_STATUSES:
                result.retry_after = retry_after_seconds(headers)
            return result
        else:
            result.body = await self._read_body(response, headers, plan.max_bytes)
            if _looks_like_html(result.body):
                result.error = "not a feed: the server sent an HTML page"
                result.error_kind = "not_feed"
                return result
        result.permanent_redirect = trip.permanent
        return result

    async def _finish_page(self, trip: _Trip, response: httpx.Response, plan: _Plan) -> FetchResult:
        headers = {k.lower(): v for k, v in response.headers.items()}
        status = response.status_code
        result = FetchResult(
            url=trip.url, final_url=str(response.url), status=status, headers=headers
        )
        if not 200 <= status < 300:  # a 304 too: no validators were sent
            result.error, result.error_kind = f"HTTP {status}", "http"
            if status in RETRY_AFTER_STATUSES:
                result.retry_after = retry_after_seconds(headers)
            return result
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type and media_type not in HTML_TYPES:  # none given: the extractor decides
            result.error, result.error_kind = f"not an HTML page: {media_type}", "not_html"
            return result
        result.body = await self._read_body(response, headers, plan.max_bytes)
        return result

    async def _read_body(
        self, response: httpx.Response, headers: dict[str, str], max_bytes: int
    ) -> bytes:
        """The decoded body, cut off as soon as it (or its decompressed form) passes max_bytes."""
        too_large = _FetchFailed("too_large", f"body larger than {human_bytes(max_bytes)}")
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise too_large
        decoder = _decoder_for(headers.get("content-encoding", ""))
        body = bytearray()
        try:
            async for raw in response.aiter_raw():
                for piece in decoder.feed(raw):
                    body += piece
                    if len(body) > max_bytes:
                        raise too_large
            for piece in decoder.flush():
                body += piece
                if len(body) > max_bytes:
                    raise too_large
        except (zlib.error, _BrotliError) as exc:
            raise _FetchFailed("network", f"corrupt compressed body: {exc}") from exc
        return bytes(body)


class _GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over an httpcore pool whose connections open through the guard.

    httpx's own transport builds its pool without a network_backend parameter, so this one
    builds the pool itself and maps requests, responses and errors the way httpx does.
    """

    def __init__(
        self, backend: GuardedNetworkBackend, limits: httpx.Limits, verify: ssl.SSLContext | bool
    ) -> None:
        self.pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request through the pool; httpcore's errors come back as httpx's."""
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_error(request):
            response = await self.pool.handle_async_request(core_request)
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream, request),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()


class _ResponseStream(httpx.AsyncByteStream):
    """httpcore's response body as httpx reads it, with httpcore's errors as httpx's."""

    def __init__(self, stream: AsyncIterable[bytes], request: httpx.Request) -> None:
        self.stream = stream
        self.request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_error(self.request):
            async for chunk in self.stream:
                yield chunk

    async def aclose(self) -> None:
        closing = getattr(self.stream, "aclose", None)
        if closing is not None:
            await closing()


@contextlib.contextmanager
def _as_httpx_error(request: httpx.Request) -> Iterator[None]:
    """Raise httpcore's transport errors as the httpx exceptions of the same name."""
    try:
        yield
    except httpcore.UnsupportedProtocol as exc:
        raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
    except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError) as exc:
        mapped = getattr(httpx, type(exc).__name__, httpx.TransportError)
        raise mapped(str(exc), request=request) from exc


def _checked_url(url: str, *, redirect: bool = False) -> httpx.URL:
    kind: ErrorKind = "redirects" if redirect else "invalid_url"
    prefix = "redirect to " if redirect else ""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise _FetchFailed(kind, f"{prefix}invalid URL: {exc}") from exc
    if parsed.scheme not in ("http", "https"):
        scheme = parsed.scheme or "none"
        raise _FetchFailed(kind, f"{prefix}unsupported URL scheme '{scheme}' (only http, https)")
    if not parsed.host:
        raise _FetchFailed(kind, f"{prefix}URL has no host: {url}")
    return parsed


def is_home_page(url: str, site_root: str | None = None) -> bool:
    """Whether `url` is a site's home page: path "/" or empty (any host, any query: a false
    alarm costs only the full text, a miss would pass the home page off as the article), or the
    same place as `site_root` (host without "www.", path without its last "/", scheme and query
    ignored)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    if parsed.path in ("", "/"):
        return True
    if not site_root:
        return False
    try:
        root = httpx.URL(site_root)
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    return _place(parsed) == _place(root)


def _place(url: httpx.URL) -> tuple[str, str]:
    return site_host(url.host), url.path.rstrip("/")


def _protocol_failure(exc: httpx.RemoteProtocolError) -> _FetchFailed:
    # httpx parses Location itself (even with follow_redirects=False) and raises this error.
    prefix = "Invalid URL in location header: "
    if str(exc).startswith(prefix):
        return _FetchFailed("redirects", f"redirect to invalid URL ({str(exc)[len(prefix) :]})")
    return _FetchFailed("network", _network_reason(exc))


def _timeout_reason(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "timed out connecting"
    if isinstance(exc, httpx.PoolTimeout):
        return "timed out waiting for a free connection"
    return "timed out waiting for data"


def _network_reason(exc: BaseException) -> str:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect: {detail}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"broken HTTP response: {detail}"
    return f"network error: {detail}"


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048]
    return _opens_as_html(head) and not _FEED_ROOT.search(head)


def _opens_as_html(head: bytes) -> bool:
    """Whether `head` opens with <!doctype html> or <html> after a BOM, blanks and comments."""
    rest = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    while rest.startswith(b"<!--"):
        end = rest.find(b"-->", 4)
        if end < 0:
            return False
        rest = rest[end + 3 :].lstrip()
    return bool(_HTML_OPEN.match(rest))


def _reference_time(headers: dict[str, str]) -> datetime:
    """The server's Date if it gives a sane one (avoids clock skew), else our clock."""
    parsed = _http_date(headers.get("date", ""))
    return parsed if parsed is not None else datetime.now(UTC)


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def max_age_seconds(headers: dict[str, str]) -> float | None:
    """Cache-Control max-age, else Expires minus Date; 0 for no-cache/no-store/past dates."""
    directives = {}
    for part in headers.get("cache-control", "").split(","):
        name, _, value = part.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if directives.get("max-age", "").isdigit():
        return float(directives["max-age"])
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    expires = headers.get("expires")
    if expires is None:
        return None
    when = _http_date(expires)
    if when is None:
        return 0.0  # RFC 9111: an invalid Expires (often "0" or "-1") means already expired
    return max(0.0, (when - _reference_time(headers)).total_seconds())


def retry_after_seconds(headers: dict[str, str]) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    return max(0.0, (when - _reference_time(headers)).total_seconds())


class _BrotliError(Exception):
    pass


class _Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...
    def flush(self) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    """gzip (several members allowed) or deflate (zlib-wrapped, or raw as some servers send)."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._started and data and not self._gzip:
            self._started = True
            try:
                zlib.decompressobj().decompress(data[:64], 1)
            except zlib.error:
                self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
        while data:
            piece = self._decompressor.decompress(data, DECODE_PIECE)
            data = self._decompressor.unconsumed_tail
            if piece:
                yield piece
            if self._decompressor.eof:
                data = self._decompressor.unused_data
                if not (self._gzip and data.startswith(b"\x1f\x8b")):
                    return
                self._decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)

    def flush(self) -> Iterator[bytes]:
        piece = self._decompressor.flush(DECODE_PIECE)
        if piece:
            yield piece


class _Brotli:
    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            piece = self._decompressor.process(data, output_buffer_limit=DECODE_PIECE)
            while True:
                if piece:
                    yield piece
                if self._decompressor.can_accept_more_data():
                    return
                piece = self._decompressor.process(b"", output_buffer_limit=DECODE_PIECE)
                if not piece:
                    return
        except brotli.error as exc:
            raise _BrotliError(str(exc)) from exc

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Chain:
    """Content-Encoding "a, b" was applied a then b: undo b, then a."""

    def __init__(self, decoders: list[_Decoder]) -> None:
        self._decoders = decoders

    def feed(self, data: bytes) -> Iterator[bytes]:
        pieces: Iterator[bytes] = iter((data,))
        for decoder in self._decoders:
            pieces = _through(decoder, pieces)
        yield from pieces

    def flush(self) -> Iterator[bytes]:
        for index, decoder in enumerate(self._decoders):
            pieces = decoder.flush()
            for later in self._decoders[index + 1 :]:
                pieces = _through(later, pieces)
            yield from pieces


def _through(decoder: _Decoder, pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from decoder.feed(piece)


def _decoder_for(content_encoding: str) -> _Decoder:
    names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
    decoders: list[_Decoder] = []
    for name in reversed(names):
        if name in ("gzip", "x-gzip"):
            decoders.append(_Zlib(gzip=True))
        elif name == "deflate":
            decoders.append(_Zlib(gzip=False))
        elif name == "br" and brotli is not None:
            decoders.append(_Brotli())
        elif name != "identity":
            raise _FetchFailed("http", f"unsupported Content-Encoding '{name}'")
    if not decoders:
        return _Identity()
    return decoders[0] if len(decoders) == 1 else _Chain(decoders)
