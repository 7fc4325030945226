"""Settings read from an environment mapping, validated once at start."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.delivery_time import is_valid_timezone

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it (never its secret value)."""


@dataclass(frozen=True)
class Settings:
    """Every knob the bot has; see README "Settings" and .env.example."""

    telegram_bot_token: str = ""
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    admin_ids: frozenset[int] = frozenset()
    database_path: Path = Path("data/rasd.db")
    poll_interval_seconds: float = 300.0
    quiet_feed_max_seconds: float = 3600.0  # the longest a quiet, healthy feed waits between checks
    allow_private_feed_urls: bool = False
    summary_words: int = 50
    keyword_min_letters: int = 2
    keyword_max_length: int = 100
    max_keywords_per_chat: int = 50
    test_days: int = 7
    test_max_articles: int = 5000
    test_budget_seconds: float = 5.0
    test_cooldown_seconds: float = 10.0
    channel_rights_cache_seconds: float = 300.0
    article_max_chars: int = 20_000
    title_max_chars: int = 300
    fetch_timeout_seconds: float = 20.0
    fetch_max_bytes: int = 10_000_000
    full_text: bool = True  # new items of teaser feeds are read from their pages (core.fulltext)
    page_timeout_seconds: float = 10.0
    page_max_bytes: int = 2_000_000  # after decompression; article pages run to about 600 kB
    page_wait_seconds: float = 25.0  # from a feed's fetch to its items stored, pages or not
    pages_per_cycle: int = 200  # page fetches one poll cycle may start; past them, the teaser
    send_rate_per_second: float = 30.0
    paid_broadcast: str = "off"  # off, broadcasts, alerts or all (README, "The paid lane")
    paid_broadcast_stars_per_day: int = 100
    alerts_per_hour: int = 20
    default_timezone: str = "UTC"
    inactive_retention_days: int = 180
    retention_days: int = 30
    parse_workers: int = 2
    shortlink_base_url: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    webhook_url: str | None = None
    webhook_secret: str = ""
    webapp_url: str | None = None  # the Mini App's public URL (…/app/)
    # initData older than this is refused; Telegram hands the page fresh initData at each opening
    webapp_auth_max_age: float = 3600.0
    log_level: str = "INFO"

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["telegram_bot_token"] = "***" if self.telegram_bot_token else ""
        shown["webhook_secret"] = "***" if self.webhook_secret else ""
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    @property
    def has_token(self) -> bool:
        """True when a bot token is configured."""
        return bool(self.telegram_bot_token)


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _number(name: str, raw: str, kind: type, minimum: float) -> float | int:
    try:
        value = kind(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _admin_ids(raw: str) -> frozenset[int]:
    ids = set()
    for part in raw.replace(" ", "").split(","):
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise SettingsError(
                f"ADMIN_IDS must be comma-separated numeric Telegram user ids, got {part!r}"
            )
        ids.add(int(part))
    return frozenset(ids)


def _token(raw: str) -> str:
    token = raw.strip()
    bot_id, sep, secret = token.partition(":")
    if token and (not sep or not bot_id.isdigit() or len(secret) < 20):
        # The value itself is never echoed: it is a secret even when malformed.
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (expected '<digits>:<secret>' "
            "as given by @BotFather)"
        )
    return token


_NUMBERS: dict[str, tuple[str, type, float]] = {
    "POLL_INTERVAL_SECONDS": ("poll_interval_seconds", float, 1),
    "QUIET_FEED_MAX_SECONDS": ("quiet_feed_max_seconds", float, 1),
    "SUMMARY_WORDS": ("summary_words", int, 10),
    "KEYWORD_MIN_LETTERS": ("keyword_min_letters", int, 1),
    "KEYWORD_MAX_LENGTH": ("keyword_max_length", int, 5),
    "MAX_KEYWORDS_PER_CHAT": ("max_keywords_per_chat", int, 1),
    "TEST_DAYS": ("test_days", int, 1),
    "TEST_MAX_ARTICLES": ("test_max_articles", int, 1),
    "TEST_BUDGET_SECONDS": ("test_budget_seconds", float, 0.1),
    "TEST_COOLDOWN_SECONDS": ("test_cooldown_seconds", float, 0),
    "CHANNEL_RIGHTS_CACHE_SECONDS": ("channel_rights_cache_seconds", float, 0),
    "ARTICLE_MAX_CHARS": ("article_max_chars", int, 1000),
    "TITLE_MAX_CHARS": ("title_max_chars", int, 50),
    "FETCH_TIMEOUT_SECONDS": ("fetch_timeout_seconds", float, 1),
    "FETCH_MAX_BYTES": ("fetch_max_bytes", int, 10_000),
    "PAGE_TIMEOUT_SECONDS": ("page_timeout_seconds", float, 1),
    "PAGE_MAX_BYTES": ("page_max_bytes", int, 10_000),
    "PAGES_PER_CYCLE": ("pages_per_cycle", int, 0),
    "PAGE_WAIT_SECONDS": ("page_wait_seconds", float, 1),
    "SEND_RATE_PER_SECOND": ("send_rate_per_second", float, 0.1),
    "PAID_BROADCAST_STARS_PER_DAY": ("paid_broadcast_stars_per_day", int, 1),
    "ALERTS_PER_HOUR": ("alerts_per_hour", int, 1),
    "INACTIVE_RETENTION_DAYS": ("inactive_retention_days", int, 1),
    "RETENTION_DAYS": ("retention_days", int, 1),
    "PARSE_WORKERS": ("parse_workers", int, 0),
    "WEB_PORT": ("web_port", int, 0),
    "WEBAPP_AUTH_MAX_AGE": ("webapp_auth_max_age", float, 60),
}
PAID_BROADCAST_CHOICES = ("off", "broadcasts", "alerts", "all")
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")
_WEBHOOK_PATH_END = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _public_url(name: str, raw: str, *, https_only: bool) -> str:
    url = raw.strip()
    parts = urlsplit(url)
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes or not parts.hostname:
        raise SettingsError(
            f"{name} must be an {' or '.join(schemes)} URL with a host, got {url!r}"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise SettingsError(f"{name} must not have a query, fragment or user name, got {url!r}")
    return url


def _web_settings(env: Mapping[str, str], values: dict[str, Any], base_url: str) -> None:
    if env.get("WEB_HOST", "").strip():
        values["web_host"] = env["WEB_HOST"].strip()
    if values.get("web_port", 8080) > 65535:
        raise SettingsError(f"WEB_PORT must be a port number (0-65535), got {values['web_port']}")
    if env.get("SHORTLINK_BASE_URL", "").strip():
        url = _public_url("SHORTLINK_BASE_URL", env["SHORTLINK_BASE_URL"], https_only=False)
        values["shortlink_base_url"] = url if url.endswith("/") else url + "/"
    if env.get("WEBHOOK_URL", "").strip():
        # Telegram only calls https webhooks; a self-hosted or test Bot API server may use http.
        official = base_url in ("", DEFAULT_API_BASE_URL)
        url = _public_url("WEBHOOK_URL", env["WEBHOOK_URL"], https_only=official)
        if not _WEBHOOK_PATH_END.fullmatch(url.rstrip("/").rsplit("/", 1)[-1]):
            raise SettingsError("WEBHOOK_URL must end in a path segment of letters, digits, _ or -")
        secret = env.get("WEBHOOK_SECRET", "").strip()
        if not _SECRET.fullmatch(secret):
            raise SettingsError(
                "WEBHOOK_SECRET is required with WEBHOOK_URL: 16-256 characters "
                "of A-Z, a-z, 0-9, _ and -"
            )
        values["webhook_url"] = url
        values["webhook_secret"] = secret
    if env.get("WEBAPP_URL", "").strip():
        url = _public_url("WEBAPP_URL", env["WEBAPP_URL"], https_only=False)
        if urlsplit(url).scheme == "http" and not is_loopback_url(url):
            raise SettingsError(
                "WEBAPP_URL must be https (Telegram opens Mini Apps over HTTPS only); "
                f"plain http is allowed for loopback addresses, for tests; got {url!r}"
            )
        values["webapp_url"] = url if url.endswith("/") else url + "/"


def is_loopback_url(url: str) -> bool:
    """Whether a URL points at this machine (localhost, 127.0.0.1, ::1)."""
    return (urlsplit(url).hostname or "") in _LOOPBACK_HOSTS


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build Settings from an environment mapping; raise SettingsError naming the bad setting."""
    values: dict[str, Any] = {}  # Settings' keyword arguments, each checked as it is read
    if "TELEGRAM_BOT_TOKEN" in env:
        values["telegram_bot_token"] = _token(env["TELEGRAM_BOT_TOKEN"])
    base_url = env.get("TELEGRAM_API_BASE_URL", "").strip()
    if base_url:
        if not base_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"TELEGRAM_API_BASE_URL must start with http:// or https://, got {base_url!r}"
            )
        values["telegram_api_base_url"] = base_url
    if "ADMIN_IDS" in env:
        values["admin_ids"] = _admin_ids(env["ADMIN_IDS"])
    if env.get("DATABASE_PATH", "").strip():
        values["database_path"] = Path(env["DATABASE_PATH"].strip())
    if "ALLOW_PRIVATE_FEED_URLS" in env:
        values["allow_private_feed_urls"] = _bool(
            "ALLOW_PRIVATE_FEED_URLS", env["ALLOW_PRIVATE_FEED_URLS"]
        )
    if "FULL_TEXT" in env:
        values["full_text"] = _bool("FULL_TEXT", env["FULL_TEXT"])
    for name, (attr, kind, minimum) in _NUMBERS.items():
        if env.get(name, "").strip():
            values[attr] = _number(name, env[name], kind, minimum)
    paid = env.get("PAID_BROADCAST", "").strip().lower()
    if paid:
        if paid not in PAID_BROADCAST_CHOICES:
            raise SettingsError(
                f"PAID_BROADCAST must be one of {', '.join(PAID_BROADCAST_CHOICES)}, got {paid!r}"
            )
        values["paid_broadcast"] = paid
    timezone = env.get("DEFAULT_TIMEZONE", "").strip()
    if timezone:
        if not is_valid_timezone(timezone):
            raise SettingsError(
                f"DEFAULT_TIMEZONE must be an IANA time zone such as Africa/Cairo, got {timezone!r}"
            )
        values["default_timezone"] = timezone
    _web_settings(env, values, base_url)
    level = env.get("LOG_LEVEL", "").strip().upper()
    if level:
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise SettingsError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        values["log_level"] = level
    return Settings(**values)
