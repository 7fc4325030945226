"""The bot's small web face: short-link redirects, /healthz, /metrics and the Telegram webhook."""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler as Route
from aiohttp.typedefs import Middleware

from core import links
from core.flood import FloodGuard, FloodPolicy, Verdict
from core.i18n import Catalog, pick_language
from core.safety import safe_error
from storage import maintenance, shortlinks
from storage.db import Database
from web.metrics import Metrics

log = logging.getLogger(__name__)

STALE_POLL_FLOOR_SECONDS = 600.0  # /healthz fails after max(3 × poll interval, 10 minutes)
STALE_POLL_INTERVALS = 3
SHUTDOWN_TIMEOUT_SECONDS = 1.5  # a stopping bot's wait for open requests (all short)
WEBHOOK_PREFIX = "/telegram/"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_WEBHOOK_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

PAGE_TEMPLATE = Template((Path(__file__).parent / "templates" / "page.html").read_text("utf-8"))


def catalog_page(catalog: Catalog, language: str, name: str) -> str:
    """The page `name` (web_<name>_title and web_<name>_body, a paragraph a line) from the
    message catalog in `language`, laid out by templates/page.html."""
    body = catalog.text(language, f"web_{name}_body")
    return PAGE_TEMPLATE.substitute(
        lang=language,
        direction="rtl" if language == "ar" else "ltr",
        name=catalog.text(language, "web_name"),
        title=catalog.text(language, f"web_{name}_title"),
        paragraphs="\n".join(f"<p>{line}</p>" for line in body.splitlines() if line.strip()),
        signature=catalog.text(language, "web_signature"),
    )


def reader_language(request: web.Request) -> str:
    """The page language for whoever follows a link: their browser's first choice, as the chat
    picks it from Telegram's (Arabic unless it asks for another)."""
    first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    return pick_language(first or None)


# A click counts at most this often per code (a burst, then one every few seconds): "most clicked"
# in /stats cannot be bought with a loop, and no address is kept to tell readers apart.
CLICKS_COUNTED = FloodPolicy(burst=20, refill_seconds=3.0, max_buckets=100_000)
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _none() -> None:
    return None


@dataclass(frozen=True)
class HealthSource:
    """What /healthz needs besides the database (e.g. lambda: poller.last_success_at)."""

    poll_interval_seconds: float
    started_at: float
    last_poll_success: Callable[[], float | None] = _none
    last_telegram_error: Callable[[], str | None] = _none
    # (since, error) while the database refuses writes (disk full, locked), else None
    refused_writes: Callable[[], tuple[float, str] | None] = _none

    @property
    def stale_after_seconds(self) -> float:
        """How long without a successful poll before /healthz answers 503."""
        return max(STALE_POLL_INTERVALS * self.poll_interval_seconds, STALE_POLL_FLOOR_SECONDS)


@dataclass(frozen=True)
class Webhook:
    """Telegram updates POSTed to /telegram/<name> with the secret header go to on_update."""

    name: str
    secret: str
    on_update: Callable[[dict[str, Any]], Awaitable[None]]


def webhook_name(url: str) -> str:
    """The local route name for a public WEBHOOK_URL: its last path segment."""
    segments = [part for part in urlsplit(url).path.split("/") if part]
    if not segments or not _WEBHOOK_NAME.fullmatch(segments[-1]):
        raise ValueError("the webhook URL must end in a path segment of letters, digits, _ or -")
    return segments[-1]


def health_report(db: Database, source: HealthSource, now: float) -> tuple[bool, dict[str, Any]]:
    """Whether the bot is healthy, and the facts behind the answer."""
    problems: list[str] = []
    report: dict[str, Any] = {
        "database": "ok",
        "poll_stale_after_seconds": source.stale_after_seconds,
        "last_telegram_error": safe_error(source.last_telegram_error()),
        "uptime_seconds": round(now - source.started_at, 3),
    }
    try:
        facts = maintenance.health_facts(db, now)
    except Exception as error:  # any failure to read is "unreachable" to a health check
        report["database"] = safe_error(f"unreachable: {type(error).__name__}: {error}")
        problems.append("database unreachable")
        facts = None
    refusing = source.refused_writes()
    if refusing is not None:
        since, refused = refusing
        if facts is not None:
            report["database"] = safe_error(f"refusing writes: {refused}")
        report["database_refusing_writes_since"] = since
        problems.append("database refuses writes")
    polled = [t for t in (source.last_poll_success(), facts and facts.last_feed_success_at) if t]
    last_poll = max(polled) if polled else None
    report["last_poll_success_at"] = last_poll
    report["last_poll_age_seconds"] = None if last_poll is None else round(now - last_poll, 3)
    if facts is not None:
        report["feeds_enabled"] = facts.enabled_feeds
        report["outbox_backlog"] = facts.backlog
        report["outbox"] = facts.outbox
        report["feeds_pages_paused"] = facts.pages_paused  # their items alert from the teaser
        # Measured from start when the last success predates it: a restart gets a fair chance.
        since = max(last_poll or source.started_at, source.started_at)
        if facts.enabled_feeds and now - since > source.stale_after_seconds:
            problems.append("no successful poll for too long")
    report["problems"] = problems
    report["status"] = "ok" if not problems else "failing"
    return not problems, report


def is_preview_fetcher(request: web.Request) -> bool:
    """True for Telegram's link preview fetcher ("TelegramBot (like TwitterBot)"), which opens a
    link when a message is sent, not when someone reads it."""
    return "telegrambot" in request.headers.get("User-Agent", "").lower()


def page_response(request: web.Request, catalog: Catalog, name: str = "not_found") -> web.Response:
    """A page for a reader: unknown or expired short links and any unknown path (404), or a link
    we will not open (403), in the reader's language."""
    return web.Response(
        status=403 if name == "private" else 404,
        text=catalog_page(catalog, reader_language(request), name),
        content_type="text/html",
        charset="utf-8",
        headers=_PAGE_HEADERS,
    )


def not_found_pages(catalog: Catalog) -> Middleware:
    """Every unknown path answers with the reader's "link not found" page."""

    @web.middleware
    async def not_found(request: web.Request, handler: Route) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return page_response(request, catalog)

    return not_found


def make_web_app(
    *,
    db: Database,
    catalog: Catalog,
    metrics: Metrics,
    health: HealthSource,
    clock: Callable[[], float],
    webhook: Webhook | None = None,
    allow_private_targets: bool = False,
    mounted: dict[str, web.Application] | None = None,
) -> web.Application:
    """The aiohttp application: GET|HEAD /<code>, GET /healthz, GET /metrics, POST
    /telegram/<name>, and any application `mounted` under its prefix (the Mini App's /app/)."""
    clicks = FloodGuard(CLICKS_COUNTED)

    async def follow(request: web.Request) -> web.StreamResponse:
        code = request.match_info["code"]
        found = shortlinks.resolve(db, code) if links.is_code(code) else None
        # The target is only ever the stored article URL; nothing in the request can change it.
        target = links.redirect_target(found[1]) if found else None
        if found is None or target is None:
            return page_response(request, catalog)
        if not allow_private_targets and links.private_target(target):
            return page_response(request, catalog, "private")
        now = clock()
        # HEAD is a link checker and Telegram's preview fetcher is not a reader: neither is
        # counted; nor are clicks past the throttle.
        reader = request.method == "GET" and not is_preview_fetcher(request)
        if reader and clicks.check(code, now) is Verdict.ALLOW:
            shortlinks.record_click(db, found[0], links.day_of(now))
            metrics.link_clicked()
        # 302, not 301: a cached permanent redirect would hide later clicks from the count,
        # outlive the code's expiry and keep a URL the publisher has since changed.
        return web.Response(status=302, headers={"Location": target, "Cache-Control": "no-store"})

    async def healthz(request: web.Request) -> web.StreamResponse:
        healthy, report = health_report(db, health, clock())
        return web.json_response(
            report, status=200 if healthy else 503, headers={"Cache-Control": "no-store"}
        )

    async def metrics_page(request: web.Request) -> web.StreamResponse:
        body, content_type = metrics.render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application(middlewares=[not_found_pages(catalog)])
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    if webhook is not None:
        app.router.add_post(WEBHOOK_PREFIX + "{name}", webhook_route(webhook, metrics))
    for prefix, mounted_app in (mounted or {}).items():
        app.add_subapp(prefix, mounted_app)
    app.router.add_get("/{code}", follow)
    return app


def webhook_route(webhook: Webhook, metrics: Metrics) -> Route:
    """POST /telegram/<name>: an update from Telegram, checked by its secret, handed on."""

    async def telegram_update(request: web.Request) -> web.StreamResponse:
        if not hmac.compare_digest(request.match_info["name"].encode(), webhook.name.encode()):
            raise web.HTTPNotFound
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), webhook.secret.encode()):
            metrics.webhook_update("forbidden")
            return web.Response(status=403, text="forbidden")
        try:
            update = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            update = None
        if not isinstance(update, dict):
            metrics.webhook_update("bad_request")
            return web.Response(status=400, text="expected a JSON object")
        try:
            await webhook.on_update(update)
        except Exception:
            # Still 200: Telegram would retry an update that fails the same way forever.
            log.exception("webhook update could not be queued")
            metrics.webhook_update("failed")
        else:
            metrics.webhook_update("accepted")
        return web.Response(text="ok")

    return telegram_update


class WebServer:
    """A started web application; stop() closes the socket and waits for open requests."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self.runner = runner
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        """The base URL it listens on (the real port when 0 was asked for)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        """Stop listening and release the runner."""
        await self.runner.cleanup()


async def start_web(app: web.Application, host: str, port: int) -> WebServer:
    """Listen on host:port inside the running event loop (port 0 picks a free port)."""
    # access_log=None: requests are not logged, so no reader's address is ever written down.
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = runner.addresses[0][1] if runner.addresses else port
    return WebServer(runner, host, int(bound_port))
