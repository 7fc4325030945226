"""The Telegram Mini App: its page (miniapp/static/) and its JSON API, served under /app/."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import cache
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from core.i18n import Catalog
from miniapp.api import MiniAppApi
from service.base import Backend
from service.trials import Trials

STATIC = Path(__file__).with_name("static")
PREFIX = "/app/"
# Everything the page needs is ours: no script, style or font from another host, no frames.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_FILES = (
    ("index.html", "text/html"),
    ("app.js", "text/javascript"),
    ("chart.js", "text/javascript"),
    ("ways.js", "text/javascript"),
    ("app.css", "text/css"),
)


@cache
def _file(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def _static(name: str, content_type: str) -> web.RouteDef:
    async def serve(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=_file(name), content_type=content_type, charset="utf-8", headers=PAGE_HEADERS
        )

    return web.get("/" if name == "index.html" else f"/{name}", serve)


def make_miniapp(
    backend: Backend,
    catalog: Catalog,
    trials: Trials,
    token: str,
    on_refused: Callable[[str], None],
    handling: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> web.Application:
    """The Mini App as an aiohttp application, to mount at PREFIX: the use cases' backend, the
    texts, /test's scans shared with the chat, the bot's token (initData is signed with it),
    `on_refused` to count refused sign-ins, and `handling` around each request (the bot's
    Foreground: someone is being answered)."""

    @web.middleware
    async def answering(request: web.Request, handler: Handler) -> web.StreamResponse:
        with handling():
            return await handler(request)

    app = web.Application(middlewares=[answering])
    app.add_routes([_static(name, kind) for name, kind in _FILES])
    app.add_routes(MiniAppApi(backend, catalog, trials, token, on_refused).routes())
    return app
