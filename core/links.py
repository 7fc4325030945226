"""Which link an alert shows, short-link codes, and which URLs may be redirect targets."""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlsplit

from core.dedup import canonical_url
from core.safety import private_host

CODE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CODE_LENGTH = 7  # 62**7 ≈ 3.5e12 codes: unguessable enough for links that only redirect
_CODE = re.compile(rf"[0-9A-Za-z]{{{CODE_LENGTH}}}")
RESERVED_CODES = frozenset({"healthz", "metrics"})  # the web server's own 7-letter routes

# A publisher short link names its post by one numeric id (WordPress: ?p=, ?page_id=).
# Anything else in the query (?t=<timestamp>, cache busters) means it does not name one post.
_POST_ID_PARAMS = frozenset({"p", "page_id"})
# Printable ASCII that may stay as it is in a Location header; everything else is escaped.
_LOCATION_SAFE = "!#$%&'()*+,-./:;=?@[]_~"


def new_code(choice: Callable[[str], str] = secrets.choice) -> str:
    """A fresh random short-link code: CODE_LENGTH characters of base62."""
    while True:
        code = "".join(choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code not in RESERVED_CODES:
            return code


def is_code(text: str) -> bool:
    """True when text has the exact shape of a short-link code."""
    return _CODE.fullmatch(text) is not None


def short_url(base_url: str, code: str) -> str:
    """The public short link: the base address (with or without its final slash) and the code."""
    return base_url.rstrip("/") + "/" + code


def day_of(timestamp: float) -> str:
    """The UTC calendar day of a timestamp, as YYYY-MM-DD (the unit clicks are counted in)."""
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def site_host(host: str | None) -> str:
    """A host as a site: lowercase, without a final dot or a leading "www."."""
    host = (host or "").lower().rstrip(".")
    return host.removeprefix("www.")


def shortlink_shape_ok(shortlink: str, url: str) -> bool:
    """A candidate names one post of the article's own site and is shorter than the article URL."""
    try:
        short, article = urlsplit(canonical_url(shortlink)), urlsplit(url)
    except ValueError:
        return False
    if short.scheme not in ("http", "https") or not short.hostname or short.fragment:
        return False
    if "@" in short.netloc or site_host(short.hostname) != site_host(article.hostname):
        return False
    params = parse_qsl(short.query, keep_blank_values=True)
    if params:
        if len(params) != 1:
            return False
        name, value = params[0]
        if name not in _POST_ID_PARAMS or not value.isdigit():
            return False
    elif short.path in ("", "/"):
        return False  # the site's home page names no post
    canonical_short, canonical_article = canonical_url(shortlink), canonical_url(url)
    return canonical_short != canonical_article and len(canonical_short) < len(canonical_article)


def usable_shortlinks(items: Iterable[tuple[str | None, str]]) -> set[str]:
    """The (shortlink, url) pairs of one feed whose shortlink is per-article: well shaped and on
    exactly one article (a feed that puts one post id on every item gets none)."""
    articles_by_short: dict[str, set[str]] = defaultdict(set)
    given: dict[str, set[str]] = defaultdict(set)
    for shortlink, url in items:
        if shortlink and shortlink.strip():
            key = canonical_url(shortlink)
            articles_by_short[key].add(canonical_url(url) if url else "")
            given[key].add(shortlink)
    usable: set[str] = set()
    for key, urls in articles_by_short.items():
        if len(urls) != 1:
            continue
        (url,) = urls
        if url and shortlink_shape_ok(key, url):
            usable |= given[key]
    return usable


def choose_link(url: str, shortlink: str | None, *, per_article: bool) -> str:
    """The shortest honest link: the publisher's per-article short link, else the canonical URL."""
    if url and shortlink and per_article and shortlink_shape_ok(shortlink, url):
        return canonical_url(shortlink)
    return canonical_url(url) if url else ""


def private_target(url: str) -> str | None:
    """Why a redirect to `url` would lead into a private network ("loopback", "local name"…),
    or None for a public host (by its name or address as written: no DNS is asked)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return "unparseable"
    return private_host(host or "")


def redirect_target(url: str) -> str | None:
    """The URL as a safe Location value, or None if it must never be a redirect target."""
    if not url or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if "@" in parts.netloc:
        return None  # user:pass@ in a link is a classic way to disguise the real host
    if not url.lower().startswith(parts.scheme.lower() + "://"):
        return None  # e.g. "https:example.org": browsers disagree on what it means
    # Non-ASCII and backslashes are escaped: a header carries ASCII, and "\" is "/" to browsers.
    return quote(url, safe=_LOCATION_SAFE)
