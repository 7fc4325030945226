"""Feed bytes -> ParsedFeed with feedparser; charset repair for feeds that lie; never raises."""

from __future__ import annotations

import codecs
import html
import io
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser

from core.models import FeedItem, ParsedFeed

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Tried in this order for bytes that declare nothing usable; on a tie the earlier one wins, so
# text that reads the same in cp1252 and cp1256 (plain French, English quotes) stays cp1252.
DETECTION_CANDIDATES = (
    "utf-8",
    "cp1252",
    "cp1256",
    "iso8859-6",
    "cp1251",
    "koi8-r",
    "cp1255",
    "iso8859-1",
)
# Server and CMS defaults that are often declared for bytes in another single-byte charset.
LATIN_DEFAULTS = frozenset({"ascii", "iso8859-1", "cp1252", "iso8859-15"})
UNICODE_FAMILIES = ("utf-16", "utf-32", "utf_16", "utf_32")
DETECTION_SAMPLE = 64 * 1024
OVERRIDE_MARGIN = 20  # how much better than a declared Latin-1/cp1252 reading a guess must be
_NOT_ASCII_COMPATIBLE = (
    b"\x00<\x00?",
    b"<\x00?\x00",
    b"\x00\x00\x00<",
    b"<\x00\x00\x00",
    b"Lo\xa7\x94",
)
_BOMS = (
    codecs.BOM_UTF8,
    codecs.BOM_UTF16_BE,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF32_BE,
    codecs.BOM_UTF32_LE,
)
_XML_DECLARATION = re.compile(rb"^<\?xml[^>]*?\?>")
_XML_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_XML_DECLARATION_TEXT = re.compile(r"^<\?xml[^>]*?\?>")
_TAG = re.compile(r"<[^>]*>")
# feedparser's sanitizer is off (we only ever read text out of feed HTML), so a title's script
# or style element is dropped here, content and all.
_HIDDEN_ELEMENT = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE | re.DOTALL
)
# feedparser's bozo exceptions that do not mean the XML is broken.
_WARNINGS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_WP_SHORTLINK = re.compile(r"^https?://[^/?#]+/(?:index\.php)?\?p=\d+$", re.IGNORECASE)
# A link Rasd shows or redirects to: http(s), with a host, no control character anywhere.
# tg://, javascript:, data: and the like are dropped here, before anything can show them.
_WEB_SCHEMES = frozenset({"http", "https"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Detector scoring (see _plausibility).
_WORD = re.compile(r"(?:[^\W\d_]|[\u064B-\u0652\u0670])+")
_NON_ASCII_CHAR = re.compile(r"[^\x00-\x7f]")
_LATIN_ACCENT_RUN = re.compile(r"[\u00c0-\u024f]{3,}")
# UTF-8 read as cp1252: a lead byte letter followed by a continuation byte character.
_UTF8_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2122]"
)
_HARAKAT = re.compile(r"[\u064B-\u0652]")
_USUAL_SYMBOLS = frozenset("«»“”‘’„–—…•·°€£©®™\u00a0،؛؟٪٫٬×")


def parse_feed(
    body: bytes,
    headers: Mapping[str, str] | None = None,
    url: str = "",
    charset_override: str | None = None,
) -> ParsedFeed:
    """Parse feed bytes; a body that is not a usable feed gives ParsedFeed(error=...)."""
    try:
        return _parse(body, headers or {}, url, charset_override)
    except Exception as exc:  # bad input is data: a parser bug must not stop the tick
        return ParsedFeed(error=f"could not parse the feed: {type(exc).__name__}: {exc}")


def _parse(
    body: bytes, headers: Mapping[str, str], url: str, charset_override: str | None
) -> ParsedFeed:
    if not body or not body.strip():
        return ParsedFeed(error="empty body")
    response_headers = {str(k).lower(): str(v) for k, v in headers.items()}
    prepared, response_headers = prepare_body(body, response_headers, charset_override)
    response_headers.setdefault("content-type", "application/xml")
    if url and "content-location" not in response_headers:
        response_headers["content-location"] = url  # feedparser's base for relative links
    # A stream, never bytes or str: feedparser.parse opens a str as a URL and bytes as a path.
    # No sanitizing or link rewriting inside HTML: Rasd turns item HTML into plain text and never
    # shows it as HTML, and the two passes cost ~40% of feedparser's time.
    result = feedparser.parse(
        io.BytesIO(prepared),
        response_headers=response_headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not result.entries:
        problem = _not_a_feed(prepared, result)
        if problem is not None:
            return ParsedFeed(error=problem)
    items = [item for entry in result.entries if (item := _item(entry)) is not None]
    feed = result.get("feed", {})
    return ParsedFeed(
        title=_plain_text(feed, "title"),
        link=_web_link(feed.get("link")),
        items=items,
        ttl_minutes=_ttl(feed.get("ttl")),
    )


def _not_a_feed(body: bytes, result: Any) -> str | None:
    """Why a result with no entries is an error, or None for a valid empty feed."""
    exception = result.get("bozo_exception")
    if isinstance(exception, _WARNINGS):
        exception = None
    if not result.get("version"):
        if _HTML_START.match(body[:2048]):
            return "not a feed: the server sent an HTML page"
        if exception is not None:
            return f"not a feed: {_describe(exception)}"
        if not result.get("feed"):
            return "not a feed: no RSS, Atom or RDF document found"
    if exception is not None and not result.get("feed"):
        return f"malformed feed with no items: {_describe(exception)}"
    return None


def _describe(exception: BaseException) -> str:
    text = str(exception).strip() or type(exception).__name__
    return text[:200]


def _item(entry: Mapping[str, Any]) -> FeedItem | None:
    guid = _clean(entry.get("id"))
    if guid is not None:
        guid = guid.replace("&amp;", "&")  # the loose parser leaves entities in ids
    given_link = _clean(entry.get("link"))
    link = _web_link(given_link)
    title = _plain_text(entry, "title")
    body = _richest_html(entry)
    if not (guid or given_link or title or body):
        return None
    return FeedItem(
        # A refused link still names its item: without a guid it stays the item's identity,
        # so the item is not alerted again on the next poll.
        guid=guid or (given_link if link is None else None),
        link=link,
        title=title,
        html=body,
        published=_published(entry),
        shortlink=_shortlink(entry, guid),
    )


def _web_link(value: Any) -> str | None:
    """The link when it is an absolute http(s) URL with a host, else None."""
    link = _clean(value)
    if link is None or _CONTROL.search(link):
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    return link if parts.scheme.lower() in _WEB_SCHEMES and parts.hostname else None


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _plain_text(node: Mapping[str, Any], key: str) -> str:
    """A title as plain text: tags dropped and entities decoded when the feed gave HTML."""
    # The value comes from node[key]: feedparser can overwrite <key>_detail with a nested
    # element's (an <image><title> inside an entry), but not the plain key.
    value = node.get(key, "")
    if not isinstance(value, str):
        return ""
    detail = node.get(f"{key}_detail") or {}
    if detail.get("type", "text/html") in HTML_TYPES:
        value = html.unescape(_TAG.sub(" ", _HIDDEN_ELEMENT.sub(" ", value)))
    return _SPACE.sub(" ", value).strip()


def _richest_html(entry: Mapping[str, Any]) -> str:
    """content:encoded / Atom content before summary/description; plain text escaped to HTML."""
    contents = [c for c in entry.get("content") or [] if str(c.get("value", "")).strip()]
    if contents:
        detail = max(contents, key=lambda c: len(c.get("value", "")))
    else:
        detail = entry.get("summary_detail") or {"value": entry.get("summary", ""), "type": ""}
    value = str(detail.get("value") or "")
    if detail.get("type") == "text/plain":
        return html.escape(value, quote=False)
    return value


def _published(entry: Mapping[str, Any]) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        year, month, day, hour, minute, second = parsed[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _shortlink(entry: Mapping[str, Any], guid: str | None) -> str | None:
    """A <link rel="shortlink">, else a WordPress ?p=ID guid that is not the permalink."""
    for link in entry.get("links") or []:
        href = _web_link(link.get("href"))
        if link.get("rel") == "shortlink" and href:
            return href
    if guid and not entry.get("guidislink") and _WP_SHORTLINK.match(guid):
        return guid
    return None


def _ttl(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 10**6 else None


# --- encodings ------------------------------------------------------------------------------


def prepare_body(
    body: bytes, headers: dict[str, str], charset_override: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """Bytes and headers for feedparser: re-encoded to UTF-8 when we chose the charset."""
    body = _strip_space_before_declaration(body)
    encoding = choose_encoding(body, headers, charset_override)
    if encoding is None:
        return body, headers
    text = body.decode(encoding, errors="replace").removeprefix("\ufeff")
    text = _XML_DECLARATION_TEXT.sub('<?xml version="1.0" encoding="utf-8"?>', text, count=1)
    media_type = headers.get("content-type", "").split(";")[0].strip() or "application/xml"
    return text.encode("utf-8"), {**headers, "content-type": f"{media_type}; charset=utf-8"}


def _strip_space_before_declaration(body: bytes) -> bytes:
    """Blank lines before <?xml (a common plugin bug) make the XML fatally ill-formed."""
    stripped = body.lstrip(b" \t\r\n")
    if stripped is not body and stripped.startswith(b"<?xml"):
        return stripped
    return body


def choose_encoding(
    body: bytes, headers: Mapping[str, str] | None = None, charset_override: str | None = None
) -> str | None:
    """The codec to decode `body` with, or None to leave it to feedparser (BOM, UTF-16, ASCII).

    Order: the override; UTF-8 when the bytes are valid UTF-8 (whatever the labels say); the
    HTTP charset, then the XML declaration, when it decodes the bytes (a Latin-1/cp1252 label is
    checked against the detector, since it is often a default); else the detector.
    """
    override = _codec(charset_override)
    if override is not None:
        return override
    if body.startswith(_BOMS) or body.startswith(_NOT_ASCII_COMPATIBLE) or body.isascii():
        return None
    if _is_utf8(body):
        return "utf-8"
    declared = [
        _codec(_http_charset((headers or {}).get("content-type", ""))),
        _codec(_xml_declared_encoding(body)),
    ]
    for encoding in declared:
        if encoding is None or encoding == "utf-8" or encoding.startswith(UNICODE_FAMILIES):
            continue
        if not _decodes(body, encoding):
            continue
        if encoding in LATIN_DEFAULTS:
            detected, score = detect_encoding(body)
            declared_score = _plausibility(body[:DETECTION_SAMPLE].decode(encoding))
            if detected not in LATIN_DEFAULTS and score > declared_score + OVERRIDE_MARGIN:
                return detected
        return encoding
    return detect_encoding(body)[0]


def detect_encoding(body: bytes) -> tuple[str, int]:
    """The candidate charset whose decoding reads most like real text (Arabic-aware), and its score."""
    sample = body[:DETECTION_SAMPLE]
    best, best_score = "cp1252", None
    for encoding in DETECTION_CANDIDATES:
        try:
            text = sample.decode(encoding, errors="replace" if encoding == "utf-8" else "strict")
        except UnicodeDecodeError:
            continue
        score = _plausibility(text)
        if best_score is None or score > best_score:
            best, best_score = encoding, score
    return best, best_score or 0


def _plausibility(text: str) -> int:
    """Higher when non-ASCII letters form one-script words; mojibake and controls cost points."""
    score = 0
    for word in _WORD.findall(text):
        if not word.isascii():
            score += _word_score(word)
    score -= 3 * len(_UTF8_MOJIBAKE.findall(text))
    for char in _NON_ASCII_CHAR.findall(text):
        if "\x80" <= char <= "\x9f" or char == "\ufffd":
            score -= 5
        elif not (char.isalpha() or char in _USUAL_SYMBOLS or _is_neutral(char)):
            score -= 1
    return score


def _is_neutral(char: str) -> bool:
    """Combining marks, digits and spaces say nothing either way."""
    return unicodedata.category(char) in ("Mn", "Nd", "Zs")


def _word_score(word: str) -> int:
    if len(word) == 1:
        return 0  # a lone letter says nothing about the charset
    non_ascii = sum(1 for c in word if c >= "\x80")
    scripts = {_script(c) for c in word}
    if len(scripts) > 1 or "other" in scripts:
        return -2 * len(word)
    script = scripts.pop()
    if script == "latin" and _LATIN_ACCENT_RUN.search(word):
        return -2 * non_ascii  # "ÇáÚÑÈ": Arabic or Cyrillic bytes read as Latin-1
    if script in ("latin", "cyrillic", "greek") and any(
        a.islower() and b.isupper() for a, b in zip(word, word[1:], strict=False)
    ):
        return -non_ascii  # "пРИВЕТ": KOI8-R read as cp1251 or the reverse
    if script == "arabic":
        if 2 * len(_HARAKAT.findall(word)) > len(word):
            return -non_ascii
        if word.startswith("ال") and len(word) > 3:
            return non_ascii + 2  # the article is the commonest Arabic bigram
    return non_ascii


def _script(char: str) -> str:
    code = ord(char)
    if code < 0x80 or 0xC0 <= code <= 0x24F:
        return "latin"
    if 0x600 <= code <= 0x6FF or 0x750 <= code <= 0x77F or 0xFB50 <= code <= 0xFEFF:
        return "arabic"
    if 0x400 <= code <= 0x4FF:
        return "cyrillic"
    if 0x590 <= code <= 0x5FF:
        return "hebrew"
    if 0x370 <= code <= 0x3FF:
        return "greek"
    return "other"


def _codec(name: str | None) -> str | None:
    """Python's canonical name of a text encoding, or None (unknown, or like base64 not text)."""
    if not name:
        return None
    try:
        info = codecs.lookup(name.strip())
    except (LookupError, ValueError):
        return None
    # The flag bytes.decode() itself checks to refuse base64, zlib, rot13 and friends.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _http_charset(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _xml_declared_encoding(body: bytes) -> str | None:
    declaration = _XML_DECLARATION.match(body[:512])
    if declaration is None:
        return None
    encoding = _XML_ENCODING.search(declaration.group())
    return encoding.group(1).decode("ascii") if encoding else None


def _is_utf8(body: bytes) -> bool:
    return _decodes(body, "utf-8")


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True
