"""Telegram Mini App sign-in: initData checked as Telegram specifies, and who it names.

initData is a query string Telegram signs with the bot's token: every field but `hash`, sorted
by key, as `key=value` lines, is the data-check-string; `secret = HMAC_SHA256(key="WebAppData",
message=token)` and `hash = hex(HMAC_SHA256(key=secret, message=data-check-string))`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

MAX_INIT_DATA_BYTES = 4096  # Telegram's are a few hundred bytes
CLOCK_SKEW_SECONDS = 60  # an auth_date this far ahead of our clock is still taken


class InitDataRefused(ValueError):
    """initData that does not prove who is asking (the message is for logs, never for users)."""

    def __init__(self, message: str, reason: str = "bad", language_code: str | None = None):
        super().__init__(message)
        # "missing"; "bad": forged, malformed, another bot's; "stale": signed by Telegram but
        # older than the max age (the page was left open), the only one whose language is known.
        self.reason = reason
        self.language_code = language_code


@dataclass(frozen=True, slots=True)
class AppUser:
    """The Telegram user a verified initData names."""

    id: int
    language_code: str | None
    auth_date: int


def _secret(token: str) -> bytes:
    return hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign_init_data(fields: dict[str, str], token: str) -> str:
    """initData as Telegram would send it for these fields (for the demo and tests)."""
    digest = hmac.new(_secret(token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


def verify_init_data(init_data: str, token: str, *, now: float, max_age: float) -> AppUser:
    """The user of initData signed with this bot's token and no older than `max_age` seconds;
    InitDataRefused otherwise."""
    if not init_data:
        raise InitDataRefused("no initData", "missing")
    if len(init_data.encode()) > MAX_INIT_DATA_BYTES:
        raise InitDataRefused("oversized initData")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataRefused("initData is not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataRefused("a field appears twice")
    given = fields.get("hash", "")
    expected = hmac.new(_secret(token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise InitDataRefused("bad signature")
    try:
        auth_date = int(fields["auth_date"])
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError):
        raise InitDataRefused("no auth_date or user") from None
    code = user.get("language_code")  # user is a JSON object: user["id"] was read
    language = code if isinstance(code, str) else None
    if now - auth_date > max_age:
        raise InitDataRefused("auth_date too old", "stale", language)
    if auth_date - now > CLOCK_SKEW_SECONDS:
        raise InitDataRefused("auth_date in the future")
    return AppUser(user_id, language, auth_date)
