"""The Mini App's JSON API under /app/api/: the chat's own functions, for the user whose
initData Telegram signed (`Authorization: tma <initData>`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from core.delivery_time import MODES, QUIET_HOLD, QUIET_SILENT, all_timezones
from core.flood import FloodGuard, FloodPolicy, Verdict
from core.i18n import Catalog, Reason, pick_language
from core.models import LINK_PREVIEWS, Chat, Subscription
from core.render import SHOWN_TITLE_CHARS, plain_text, shorten
from core.webapp import InitDataRefused, verify_init_data
from miniapp.refusals import RefusalLog
from service import account, keywords, preferences
from service.base import Backend, Refusal
from service.trials import Trials
from storage import bans as ban_store

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4096
# The catalog's messages the page shows (app_*, and the words of /settings' buttons).
PAGE_TEXTS = (
    "app_",
    "mode_",
    "quiet_silent",
    "quiet_hold",
    "preview_",
    "language_",
    "settings_saved",
)
# Each user's calls, as the chat's commands are paced: a burst, then two a second.
API_PACE = FloodPolicy(burst=30, refill_seconds=0.5, max_buckets=100_000)
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Visitor:
    """The signed-in user: their own chat (never a channel they manage), in their language."""

    chat: Chat
    language: str
    catalog: Catalog

    def text(self, message_id: str, /, **params: object) -> str:
        """A catalog message in the user's language."""
        return self.catalog.text(self.language, message_id, **params)

    def refusal(self, reason: Reason) -> str:
        """A use case's refusal in the user's language."""
        return self.catalog.refusal(self.language, reason)


@dataclass
class MiniAppApi:
    """The API's state: what the use cases work on, the texts, /test's scans (shared with the
    chat), the bot's token, each user's pace, refused sign-ins' counter and log."""

    backend: Backend
    catalog: Catalog
    trials: Trials
    token: str
    on_refused: Callable[[str], None]
    pace: FloodGuard = field(default_factory=lambda: FloodGuard(API_PACE))
    refusals: RefusalLog = field(default_factory=RefusalLog)

    def routes(self) -> list[web.RouteDef]:
        """Every route, relative to the Mini App's prefix."""
        return [
            web.get("/api/me", self._signed(self.me)),
            web.get("/api/keywords", self._signed(self.keywords)),
            web.post("/api/keywords", self._signed(self.add)),
            web.delete("/api/keywords/{id}", self._signed(self.delete)),
            web.patch("/api/keywords/{id}", self._signed(self.pause)),
            web.post("/api/test", self._signed(self.test)),
            web.get("/api/settings", self._signed(self.settings)),
            web.put("/api/settings", self._signed(self.change_settings)),
        ]

    def _signed(
        self, route: Callable[[web.Request, Visitor], Awaitable[web.StreamResponse]]
    ) -> Route:
        """The route, for the user initData names (401 without it), unless banned (403) or too
        fast (429)."""

        async def signed(request: web.Request) -> web.StreamResponse:
            visitor = self._visitor(request)
            if isinstance(visitor, web.StreamResponse):
                return visitor
            return await route(request, visitor)

        return signed

    def _visitor(self, request: web.Request) -> Visitor | web.StreamResponse:
        backend, catalog = self.backend, self.catalog
        scheme, _, init_data = request.headers.get("Authorization", "").partition(" ")
        try:
            if scheme.lower() != "tma":
                raise InitDataRefused("no 'Authorization: tma …' header", "missing")
            user = verify_init_data(
                init_data.strip(),
                self.token,
                now=backend.clock(),
                max_age=backend.settings.webapp_auth_max_age,
            )
        except InitDataRefused as refused:
            return self._refused(request, refused)
        language = pick_language(user.language_code)
        if ban_store.banned_among(backend.db, [user.id]) is not None:
            return _error(403, plain_text(catalog.text(language, "banned_notice")))
        if self.pace.check((user.id, "app"), backend.clock(), 1) is not Verdict.ALLOW:
            return _error(429, plain_text(catalog.text(language, "too_fast")))
        return Visitor(account.own_chat(backend, user.id, language), language, catalog)

    def _refused(self, request: web.Request, refused: InitDataRefused) -> web.Response:
        """401, counted, logged once a minute per address; a page left open is asked to reopen."""
        self.on_refused(refused.reason)
        address = request.remote or "unknown"
        suppressed = self.refusals.admit(address, self.backend.clock())
        if suppressed is not None:
            fields = {"reason": refused.reason, "detail": str(refused), "client": address}
            log.info("Mini App call refused", extra={**fields, "suppressed": suppressed})
        if refused.reason == "stale":
            language = pick_language(refused.language_code)
            return _error(401, self.catalog.text(language, "app_expired"))
        return _error(401, self.catalog.text("ar", "app_unauthorized"))

    async def me(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """GET: the page's texts in the user's language, and the choices its pickers offer."""
        table = self.catalog.messages[visitor.language]
        texts = {key: text for key, text in table.items() if key.startswith(PAGE_TEXTS)}
        return web.json_response(
            {
                "language": visitor.language,
                "direction": "rtl" if visitor.language == "ar" else "ltr",
                "texts": texts,
                "modes": list(MODES),
                "previews": list(LINK_PREVIEWS),
                "quiet_modes": [QUIET_SILENT, QUIET_HOLD],
                "languages": list(preferences.LANGUAGE_CHOICES),
                "timezones": all_timezones(),
                "keyword_max_length": self.backend.settings.keyword_max_length,
            }
        )

    async def keywords(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """GET: the user's keywords, oldest first."""
        subs = keywords.keywords(self.backend, visitor.chat.id)
        return web.json_response({"keywords": [_keyword(sub) for sub in subs]})

    async def add(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """POST {"keyword"}: follow it, as /add does (201), or the chat's refusal (400)."""
        raw = await _keyword_of(request, visitor)
        if isinstance(raw, web.StreamResponse):
            return raw
        if len(keywords.split_keywords(raw)) > 1:  # /add takes several; the app's box is for one
            return _error(400, visitor.text("app_one_keyword"))
        added = keywords.add_keyword(self.backend, visitor.chat, raw)
        if isinstance(added, Refusal):
            return _error(400, plain_text(visitor.refusal(added)))
        return web.json_response(_keyword(added), status=201)

    async def delete(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """DELETE: stop following one of the user's keywords (404 when it is not theirs)."""
        removed = keywords.delete_keyword(self.backend, visitor.chat.id, _id(request))
        if removed is None:
            return _error(404, visitor.text("keyword_gone"))
        return web.Response(status=204)

    async def pause(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """PATCH {"paused"}: pause or resume one of the user's keywords."""
        body = await _body(request, visitor)
        if isinstance(body, web.StreamResponse):
            return body
        paused = body.get("paused")
        if not isinstance(paused, bool):
            return _error(400, visitor.text("app_bad_request"))
        sub = keywords.set_keyword_paused(self.backend, visitor.chat.id, _id(request), paused)
        if sub is None:
            return _error(404, visitor.text("keyword_gone"))
        return web.json_response(_keyword(sub))

    async def test(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """POST {"keyword"}: what /test answers: how many recent stories it would have matched,
        and three titles. One test per user at a time, in /test's pool and budget."""
        raw = await _keyword_of(request, visitor)
        if isinstance(raw, web.StreamResponse):
            return raw
        query = keywords.parse(self.backend, raw)
        if isinstance(query, Refusal):
            return _error(400, plain_text(visitor.refusal(query)))
        scan = await keywords.preview(self.backend, self.trials, visitor.chat.id, query)
        if scan is None:  # busy: the page asks again a second later
            return _error(429, visitor.text("app_test_busy"))
        titles = [shorten(a.title, SHOWN_TITLE_CHARS) for a in scan.hits[:3]]
        return web.json_response(
            {
                "count": len(scan.hits),
                "total": scan.total,
                "days": self.backend.settings.test_days,
                "complete": scan.complete,
                "titles": titles,
            }
        )

    async def settings(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """GET: the chat's settings."""
        return web.json_response(
            preferences.settings_of(visitor.chat, self.backend.settings.default_timezone)
        )

    async def change_settings(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """PUT: change the settings given (the same choices as /settings' buttons)."""
        body = await _body(request, visitor)
        if isinstance(body, web.StreamResponse):
            return body
        chat = preferences.change_settings(self.backend, visitor.chat.id, body)
        if isinstance(chat, Refusal):
            return _error(400, visitor.refusal(chat))
        shown = preferences.settings_of(
            chat or visitor.chat, self.backend.settings.default_timezone
        )
        return web.json_response(shown)


def _keyword(sub: Subscription) -> dict[str, object]:
    return {"id": sub.id, "keyword": sub.keyword, "paused": sub.paused}


def _id(request: web.Request) -> int:
    raw = request.match_info.get("id", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else -1


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request, visitor: Visitor) -> dict[str, object] | web.StreamResponse:
    """The request's JSON object, or the 400/413 answer that says why not."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return _error(413, visitor.text("app_bad_request"))
    raw = bytearray()
    async for chunk in request.content.iter_chunked(1024):
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:  # a chunked body says no length: counted as it comes
            return _error(413, visitor.text("app_bad_request"))
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if not isinstance(body, dict):
        return _error(400, visitor.text("app_bad_request"))
    return body


async def _keyword_of(request: web.Request, visitor: Visitor) -> str | web.StreamResponse:
    """The "keyword" of the request's JSON object, or the answer that says why there is none."""
    body = await _body(request, visitor)
    if isinstance(body, web.StreamResponse):
        return body
    raw = body.get("keyword")
    return raw if isinstance(raw, str) else _error(400, visitor.text("app_bad_request"))
