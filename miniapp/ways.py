"""The Mini App's routes for each keyword's own ways (issue #31: its sources, pace, big stories
only, surges) and its picture (stories per day over two weeks, surges marked). Each change
answers with the keyword's ways as they now are, which the page shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from aiohttp import web
from babel.dates import format_date
from babel.lists import format_list

from core.i18n import Plural
from core.keyword_ways import MAX_OUTLETS, MIN_OUTLETS, WINDOWS_HOURS, surges_on
from core.models import Subscription
from core.render import plain_text, shorten
from miniapp.common import Signed, Visitor, error, path_id, read_body
from service import keyword_ways, sources
from service.base import Backend, Refusal
from service.keyword_history import History, KeywordHistory, history

SHOWN_FEED_CHARS = 80
MAX_TICKED = 1000  # feeds in one choice (the body's 4 KiB hold fewer anyway)
Outcome = Subscription | Refusal | None  # a use case's answer: changed, refused, not theirs
Change = Callable[[int, int, dict[str, object]], Outcome]  # (chat, keyword, body) → outcome
BAD_REQUEST = Refusal("app_bad_request")


def page_options(visitor: Visitor) -> dict[str, object]:
    """The choices the ways' pickers offer, in words, for /api/me."""
    outlets = [{"value": 1, "label": visitor.text("app_big_off")}]
    outlets += [
        {"value": n, "label": visitor.text("app_big_outlets", outlets=Plural("n_outlets", n))}
        for n in range(MIN_OUTLETS, MAX_OUTLETS + 1)
    ]
    windows = [
        {"value": n, "label": visitor.catalog.plural(visitor.language, "n_hours", n)}
        for n in WINDOWS_HOURS
    ]
    return {"paces": list(keyword_ways.PACE_CHOICES), "outlets": outlets, "windows": windows}


@dataclass(frozen=True)
class KeywordWaysApi:
    """The routes over the use cases of service.keyword_ways, service.sources and
    service.keyword_history."""

    backend: Backend

    def routes(self, signed: Signed) -> list[web.RouteDef]:
        """Every route, relative to the Mini App's prefix, each for the signed-in visitor."""
        return [
            web.get("/api/keywords/{id}/ways", signed(self.ways)),
            web.put("/api/keywords/{id}/pace", signed(self.pace)),
            web.put("/api/keywords/{id}/big", signed(self.big_stories)),
            web.put("/api/keywords/{id}/surges", signed(self.surges)),
            web.put("/api/keywords/{id}/sources", signed(self.sources)),
            web.get("/api/history", signed(self.history)),
        ]

    async def ways(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """GET: a keyword's ways and every feed as its possible source (404: not theirs)."""
        return self._shown(visitor, path_id(request))

    async def pace(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """PUT {"pace": "instant" | "hourly" | "daily" | "chat"}."""
        return await self._change(request, visitor, self._pace)

    async def big_stories(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """PUT {"outlets": 1-5, "window_hours"?: 3 | 6 | 12 | 24}; 1 alerts every story."""
        return await self._change(request, visitor, self._big_stories)

    async def surges(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """PUT {"surges": true | false | null}; null: the default for its pace."""
        return await self._change(request, visitor, self._surges)

    async def sources(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """PUT {"feeds": [id, …]} to read only those (with its site: hosts' feeds), or
        {"all": true} to read every feed again (its site: hosts dropped)."""
        return await self._change(request, visitor, self._sources)

    async def history(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """GET: each keyword's stories per day over the last two weeks, with its surge days and
        the picture in words."""
        return web.json_response(history_json(history(self.backend, visitor.chat), visitor))

    def _pace(self, chat_id: int, sub_id: int, body: dict[str, object]) -> Outcome:
        pace = body.get("pace")
        if not isinstance(pace, str):
            return BAD_REQUEST
        return keyword_ways.set_pace(self.backend, chat_id, sub_id, pace)

    def _big_stories(self, chat_id: int, sub_id: int, body: dict[str, object]) -> Outcome:
        outlets, window = _int(body.get("outlets")), _int(body.get("window_hours"))
        if outlets is None or (window is None and body.get("window_hours") is not None):
            return BAD_REQUEST
        return keyword_ways.set_big_stories(self.backend, chat_id, sub_id, outlets, window)

    def _surges(self, chat_id: int, sub_id: int, body: dict[str, object]) -> Outcome:
        on = body.get("surges", "missing")
        if not (on is None or isinstance(on, bool)):
            return BAD_REQUEST
        return keyword_ways.set_surges(self.backend, chat_id, sub_id, on)

    def _sources(self, chat_id: int, sub_id: int, body: dict[str, object]) -> Outcome:
        if body.get("all") is True:
            return sources.every_source(self.backend, chat_id, sub_id)
        feeds = body.get("feeds")
        if not isinstance(feeds, list) or len(feeds) > MAX_TICKED:
            return BAD_REQUEST
        if any(_int(feed) is None for feed in feeds):
            return BAD_REQUEST
        ids = {feed for feed in map(_int, feeds) if feed is not None}
        return sources.set_ticked(self.backend, chat_id, sub_id, ids)

    async def _change(
        self, request: web.Request, visitor: Visitor, change: Change
    ) -> web.StreamResponse:
        """Read the body, make the change; the keyword's ways now, or the refusal (400) or
        "not yours" (404) that says why nothing changed."""
        body = await read_body(request, visitor)
        if isinstance(body, web.StreamResponse):
            return body
        sub_id = path_id(request)
        outcome = change(visitor.chat.id, sub_id, body)
        if isinstance(outcome, Refusal):
            return error(400, plain_text(visitor.refusal(outcome)))
        if outcome is None:
            return error(404, visitor.text("keyword_gone"))
        return self._shown(visitor, sub_id)

    def _shown(self, visitor: Visitor, sub_id: int) -> web.Response:
        found = sources.sources(self.backend, visitor.chat.id, sub_id)
        if found is None:
            return error(404, visitor.text("keyword_gone"))
        subscription, feeds = found
        by_site = sources.feeds_by_site(self.backend, subscription)
        return web.json_response(ways_json(subscription, feeds, by_site, visitor))


def _int(value: object) -> int | None:
    """A JSON number that is a whole number (not true or false), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def ways_json(
    subscription: Subscription,
    feeds: list[sources.Source],
    by_site: dict[str, set[int]],
    visitor: Visitor,
) -> dict[str, object]:
    """A keyword's ways as the page shows them."""
    chat_pace = visitor.chat.delivery_mode
    return {
        "id": subscription.id,
        "keyword": subscription.keyword,
        "pace": subscription.pace or "chat",
        "chat_pace": chat_pace,
        "outlets": subscription.min_outlets,
        "window_hours": subscription.window_hours,
        "surges": subscription.surges,
        "surges_on": surges_on(subscription, chat_pace),
        "surges_default": surges_on(replace(subscription, surges=None), chat_pace),
        "scoped": subscription.scoped,
        "reads_none": subscription.scoped and not any(source.read for source in feeds),
        "sites": [{"host": host, "feeds": sorted(ids)} for host, ids in by_site.items()],
        "sources": [
            {
                "id": source.feed.id,
                "title": shorten(source.feed.title or source.feed.url, SHOWN_FEED_CHARS),
                "ticked": source.ticked,
                "by_site": source.by_site,
            }
            for source in feeds
        ],
    }


def history_json(found: History, visitor: Visitor) -> dict[str, object]:
    """Every keyword's days as the page draws them, each with its picture in words."""
    return {
        "timezone": found.timezone,
        "days": [day.isoformat() for day in found.days],
        "keywords": [
            {
                "id": kept.subscription.id,
                "counts": list(kept.counts),
                "surges": list(kept.surge_days),
                "label": chart_label(found, kept, visitor),
            }
            for kept in found.keywords
        ],
    }


def chart_label(found: History, kept: KeywordHistory, visitor: Visitor) -> str:
    """The chart in words: the stories in all, the busiest day (the latest of equals) and the
    days a surge was noticed."""
    days = Plural("n_days", len(found.days))
    if kept.total == 0:
        return plain_text(visitor.text("app_chart_none", days=days))
    top = max(kept.counts)
    busiest = max(i for i, count in enumerate(kept.counts) if count == top)
    label = visitor.text(
        "app_chart_label",
        days=days,
        stories=Plural("app_n_stories", kept.total),
        top=Plural("app_n_stories", top),
        day=_day(found, busiest, visitor),
    )
    if kept.surge_days:
        surged = [_day(found, i, visitor) for i in kept.surge_days]
        label += " " + visitor.text(
            "app_chart_surges", days=format_list(surged, locale=visitor.language)
        )
    return plain_text(label)


def _day(found: History, index: int, visitor: Visitor) -> str:
    return format_date(found.days[index], "d MMMM", locale=visitor.language)
