"""The Mini App's JSON API under /app/api/: the chat's own functions, for the user whose
initData Telegram signed (`Authorization: tma <initData>`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from core.delivery_time import MODES, QUIET_HOLD, QUIET_SILENT, all_timezones
from core.flood import FloodGuard, FloodPolicy, Verdict
from core.i18n import Catalog, pick_language
from core.models import LINK_PREVIEWS, Subscription
from core.render import SHOWN_TITLE_CHARS, plain_text, shorten
from core.webapp import InitDataRefused, verify_init_data
from miniapp.common import Route, Visitor, VisitorRoute, error, path_id, read_body
from miniapp.refusals import RefusalLog
from miniapp.ways import KeywordWaysApi, page_options
from service import account, keywords, preferences
from service.base import Backend, Refusal
from service.trials import Trials
from storage import bans as ban_store

log = logging.getLogger(__name__)

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
            *KeywordWaysApi(self.backend).routes(self._signed),
        ]

    def _signed(self, route: VisitorRoute) -> Route:
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
            return error(403, plain_text(catalog.text(language, "banned_notice")))
        if self.pace.check((user.id, "app"), backend.clock(), 1) is not Verdict.ALLOW:
            return error(429, plain_text(catalog.text(language, "too_fast")))
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
            return error(401, self.catalog.text(language, "app_expired"))
        return error(401, self.catalog.text("ar", "app_unauthorized"))

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
                **page_options(visitor),
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
            return error(400, visitor.text("app_one_keyword"))
        added = keywords.add_keyword(self.backend, visitor.chat, raw)
        if isinstance(added, Refusal):
            return error(400, plain_text(visitor.refusal(added)))
        return web.json_response(_keyword(added), status=201)

    async def delete(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """DELETE: stop following one of the user's keywords (404 when it is not theirs)."""
        removed = keywords.delete_keyword(self.backend, visitor.chat.id, path_id(request))
        if removed is None:
            return error(404, visitor.text("keyword_gone"))
        return web.Response(status=204)

    async def pause(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """PATCH {"paused"}: pause or resume one of the user's keywords."""
        body = await read_body(request, visitor)
        if isinstance(body, web.StreamResponse):
            return body
        paused = body.get("paused")
        if not isinstance(paused, bool):
            return error(400, visitor.text("app_bad_request"))
        sub = keywords.set_keyword_paused(self.backend, visitor.chat.id, path_id(request), paused)
        if sub is None:
            return error(404, visitor.text("keyword_gone"))
        return web.json_response(_keyword(sub))

    async def test(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """POST {"keyword"}: what /test answers: how many recent stories it would have matched,
        and three titles. One test per user at a time, in /test's pool and budget."""
        raw = await _keyword_of(request, visitor)
        if isinstance(raw, web.StreamResponse):
            return raw
        plan = keywords.plan_test(self.backend, visitor.chat.id, raw)  # site: words as /add
        if isinstance(plan, Refusal):
            return error(400, plain_text(visitor.refusal(plan)))
        scan = await keywords.preview(self.backend, self.trials, visitor.chat.id, plan)
        if scan is None:  # busy: the page asks again a second later
            return error(429, visitor.text("app_test_busy"))
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
        body = await read_body(request, visitor)
        if isinstance(body, web.StreamResponse):
            return body
        chat = preferences.change_settings(self.backend, visitor.chat.id, body)
        if isinstance(chat, Refusal):
            return error(400, visitor.refusal(chat))
        shown = preferences.settings_of(
            chat or visitor.chat, self.backend.settings.default_timezone
        )
        return web.json_response(shown)


def _keyword(sub: Subscription) -> dict[str, object]:
    return {"id": sub.id, "keyword": sub.keyword, "paused": sub.paused}


async def _keyword_of(request: web.Request, visitor: Visitor) -> str | web.StreamResponse:
    """The "keyword" of the request's JSON object, or the answer that says why there is none."""
    body = await read_body(request, visitor)
    if isinstance(body, web.StreamResponse):
        return body
    raw = body.get("keyword")
    return raw if isinstance(raw, str) else error(400, visitor.text("app_bad_request"))
