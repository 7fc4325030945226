"""What every Mini App route shares: the signed-in visitor, JSON errors, a request's body and
the id in its path."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from core.i18n import Catalog, Reason
from core.models import Chat

MAX_BODY_BYTES = 4096


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


Route = Callable[[web.Request], Awaitable[web.StreamResponse]]
VisitorRoute = Callable[[web.Request, Visitor], Awaitable[web.StreamResponse]]
Signed = Callable[[VisitorRoute], Route]  # a route for the signed-in visitor, refused otherwise


def error(status: int, message: str) -> web.Response:
    """A JSON error the page shows as it is."""
    return web.json_response({"error": message}, status=status)


def path_id(request: web.Request) -> int:
    """The {id} of the path; -1 when it is not a number."""
    raw = request.match_info.get("id", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else -1


async def read_body(
    request: web.Request, visitor: Visitor
) -> dict[str, object] | web.StreamResponse:
    """The request's JSON object, or the 400/413 answer that says why not."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return error(413, visitor.text("app_bad_request"))
    raw = bytearray()
    async for chunk in request.content.iter_chunked(1024):
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:  # a chunked body says no length: counted as it comes
            return error(413, visitor.text("app_bad_request"))
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if not isinstance(body, dict):
        return error(400, visitor.text("app_bad_request"))
    return body
