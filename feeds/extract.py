"""An article page's bytes -> PageText: its main text (trafilatura), date and canonical link.

Run in the parse pool (extract_page is top-level and picklable). A page that cannot give an
article comes back as PageText(error=...), never as an exception: the teaser stands in.
Chosen by measurement on real Arabic news pages (bench/fulltext.py --part extraction):
trafilatura with favor_precision, given a tree parsed from text decoded here (charset from the
BOM, the bytes, HTTP or <meta>: trafilatura alone guesses and ignores the HTTP header).
"""

from __future__ import annotations

import codecs
import json
import logging
import re
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import htmldate
import lxml.html  # type: ignore[import-untyped]  # no stubs in requirements
import trafilatura
from lxml import etree
from trafilatura.settings import Document

from core.arabic import tokenize
from core.articles import ARTICLE_MAX_CHARS
from core.dedup import canonical_url
from core.fulltext import with_page, without_page
from core.links import site_host
from core.models import Article
from core.text import cap_text
from feeds.parse import LATIN_DEFAULTS, choose_encoding

# trafilatura warns about each page it finds nothing in ("discarding data: <url>"); PageText.error
# already says so, once, to whoever asked.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

# The fetcher stops at 2 MB; this bounds the work for any other caller.
MAX_PAGE_BYTES = 5 * 1024 * 1024
# trafilatura's time grows with the element count: 125,000 tiny elements take ~3.5 s of CPU and
# 625,000 ~30 s. Real article pages have 300 to a few thousand.
MAX_ELEMENTS = 25_000
# libxml2 stops parsing at depth 256 and keeps a truncated tree; real pages are 13-25 deep.
MAX_DEPTH = 200
# Less than this is a login wall, a cookie notice or a video page: the teaser is better.
MIN_WORDS = 40
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Content types that say nothing about the body: the bytes decide.
_VAGUE_TYPES = frozenset({"", "text/plain", "application/octet-stream", "binary/octet-stream"})
_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"PK\x03\x04", b"RIFF", b"\x1f\x8b")
_BOM_CODECS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SNIFF_BYTES = 64 * 1024
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_TAG = re.compile(r"<[A-Za-z!]")
_FEED_ROOT = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)[\s>]", re.S
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_PUBLISHED_META = (
    "//meta[@property='article:published_time' or @name='article:published_time']/@content"
)
_PUBLISHED_ITEMPROP = (
    "//*[@itemprop='datePublished']/@content | //time[@itemprop='datePublished']/@datetime"
)
_JSON_LD = "//script[@type='application/ld+json']/text()"
_JSON_LD_MAX_NODES = 5_000
_PLAUSIBLE_YEARS = range(1990, 2200)  # "0001-01-01T00:00:00Z" is a CMS's zero time, not a date


@dataclass(frozen=True)
class PageText:
    """What one article page gave: its main text, or why there is none."""

    text: str = ""  # plain text, one paragraph per line, at most max_text_chars characters
    published_at: float | None = None  # a Unix timestamp (day-only dates: midnight UTC)
    canonical_url: str | None = None  # the page's own address for itself, on the same site
    error: str | None = None  # a short English reason when there is no usable text
    cpu_seconds: float = 0.0  # CPU time the extraction took, in whichever process ran it


def extract_page(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    title: str = "",
    max_text_chars: int = ARTICLE_MAX_CHARS,
) -> PageText:
    """Extract an article page's main text; top-level and picklable so a process pool can run it."""
    started = time.process_time()
    try:
        lowered = {str(key).lower(): str(value) for key, value in headers.items()}
        page = _extract(body, lowered, url, title, max_text_chars)
    except Exception as exc:  # bad input is data: an extractor bug must not stop the tick
        page = PageText(error=f"could not extract the page: {type(exc).__name__}")
    return replace(page, cpu_seconds=time.process_time() - started)


def _extract(
    body: bytes, headers: dict[str, str], url: str, title: str, max_text_chars: int
) -> PageText:
    problem = _refusal(body, headers)
    if problem is not None:
        return PageText(error=problem)
    text = _decode(body, headers)
    if text is None:
        return PageText(error="could not decode the page")
    if not _looks_like_html(text):
        return PageText(error="not an HTML page")
    tree, problem = _parse(text)
    if tree is None:
        return PageText(error=problem)
    # Read before trafilatura, which cleans the tree it is given. Its own metadata step would
    # cost four times the extraction itself (27 against 5 ms a page): dates and headlines are
    # read here, and htmldate asked only for a page that states no date of its own.
    published_at, canonical = _published_at(tree), _canonical(tree, url)
    headlines = [title, tree.findtext(".//title") or "", tree.findtext(".//h1") or ""]
    if published_at is None:
        day = htmldate.find_date(tree, url=url or None, extensive_search=False)
        published_at = _timestamp(day) if day else None
    document = trafilatura.bare_extraction(
        tree,
        url=url or None,
        favor_precision=True,
        include_comments=False,
        with_metadata=False,
    )
    if not isinstance(document, Document):
        document = Document()  # nothing found: no text
    main = _main_text(document.text or "", headlines)
    found = PageText(published_at=published_at, canonical_url=canonical)
    if len(main.split()) < MIN_WORDS:
        return replace(found, error="no article text found")
    return replace(found, text=cap_text(main, max_text_chars))


def _refusal(body: bytes, headers: Mapping[str, str]) -> str | None:
    """Why the bytes are not worth decoding, or None."""
    if not body or not body.strip():
        return "empty page"
    if len(body) > MAX_PAGE_BYTES:
        return "page too large"
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in HTML_TYPES and media_type not in _VAGUE_TYPES:
        return "not an HTML page"
    return "not an HTML page" if body.startswith(_MAGIC) else None


def _decode(body: bytes, headers: Mapping[str, str]) -> str | None:
    """The page as text: BOM, valid UTF-8, the HTTP or <meta> charset, else feeds.parse's
    Arabic-aware detector; None when the bytes cannot be read (UTF-16 without a BOM, or
    mostly undecodable)."""
    for bom, codec in _BOM_CODECS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace")
    label = _charset_label(headers.get("content-type", ""), body)
    declared = {"content-type": f"text/html; charset={label}"} if label else {}
    encoding = choose_encoding(body, declared)
    if encoding is None:  # ASCII, or bytes that are not ASCII-compatible
        return body.decode("ascii") if body.isascii() and b"\x00" not in body[:4] else None
    text = body.decode(encoding, errors="replace")
    return None if text.count("\ufffd") * 50 > len(text) else text


def _charset_label(content_type: str, body: bytes) -> str | None:
    """The declared charset to try: HTTP's, unless it is UTF-8 or a Latin server default and
    the page's own <meta> names another (a server default is often wrong, a page's meta less)."""
    http = None
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            http = value.strip().strip("\"'") or None
    found = _META_CHARSET.search(body[:_SNIFF_BYTES])
    meta = found.group(1).decode("ascii") if found else None
    if http is not None and _codec_name(http) not in (None, "utf-8", *LATIN_DEFAULTS):
        return http
    return meta or http


def _codec_name(label: str) -> str | None:
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def _looks_like_html(text: str) -> bool:
    """Markup near the start; not binary, JSON or a feed."""
    head = text[:_SNIFF_BYTES].lstrip("\ufeff \t\r\n")
    if len(_CONTROLS.findall(head[:4096])) * 100 > len(head[:4096]):
        return False  # NULs and control characters: binary, not text
    if head[:1] in ("{", "["):
        return False
    return bool(_TAG.search(head)) and not _FEED_ROOT.match(head)


def _parse(text: str) -> tuple[lxml.html.HtmlElement | None, str | None]:
    """The HTML tree, or None and why: too deep (libxml2 truncates at 256) or too many elements."""
    parser = lxml.html.HTMLParser(
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
        default_doctype=False,
        no_network=True,
    )
    try:
        tree = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
    except etree.ParserError:
        return None, "no article text found"  # only whitespace, comments or a doctype
    depth = deepest = elements = 0
    for event, _ in etree.iterwalk(tree, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        depth, elements = depth + 1, elements + 1
        deepest = max(deepest, depth)
    if deepest >= MAX_DEPTH:
        return None, "page too deeply nested"
    if elements > MAX_ELEMENTS:
        return None, "page too large"
    return tree, None


def _main_text(text: str, titles: list[str]) -> str:
    """trafilatura's text, tidied, without a first line that repeats a headline."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if lines and any(_repeats(lines[0], headline) for headline in titles):
        lines = lines[1:]
    return "\n".join(lines)


def _repeats(line: str, headline: str) -> bool:
    """The line is the headline, or most of it (a <title> often adds " - SiteName")."""
    words = [token.norm for token in tokenize(line)]
    heading = [token.norm for token in tokenize(headline)]
    if not words or not heading:
        return False
    if words == heading:
        return True
    joined, whole = " ".join(words), " ".join(heading)
    return 2 * len(words) >= len(heading) and f" {joined} " in f" {whole} "


def _published_at(tree: lxml.html.HtmlElement) -> float | None:
    """The page's own publication time: article:published_time, JSON-LD datePublished, then
    itemprop; one with a time and an offset first, else the day of one without (as UTC)."""
    values = [*tree.xpath(_PUBLISHED_META), *_json_ld_dates(tree), *tree.xpath(_PUBLISHED_ITEMPROP)]
    days = []
    for value in values:
        moment = _parse_time(str(value))
        if moment is None:
            continue
        if moment.tzinfo is not None:
            return moment.timestamp()
        days.append(moment)
    if days:
        return datetime(days[0].year, days[0].month, days[0].day, tzinfo=UTC).timestamp()
    return None


def _json_ld_dates(tree: lxml.html.HtmlElement) -> Iterator[str]:
    """Every datePublished string in the page's JSON-LD blocks, in document order."""
    for block in tree.xpath(_JSON_LD):
        try:
            data = json.loads(block)
        except (ValueError, RecursionError):
            continue
        pending, seen = deque([data]), 0
        while pending and seen < _JSON_LD_MAX_NODES:
            node, seen = pending.popleft(), seen + 1
            if isinstance(node, dict):
                if isinstance(node.get("datePublished"), str):
                    yield node["datePublished"]
                pending.extend(node.values())
            elif isinstance(node, list):
                pending.extend(node)


def _parse_time(value: str) -> datetime | None:
    """An ISO 8601 date or date-time (the standard library's reading), if plausible."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.year in _PLAUSIBLE_YEARS else None


def _timestamp(day: str) -> float | None:
    """trafilatura's YYYY-MM-DD as midnight UTC."""
    moment = _parse_time(day)
    if moment is None:
        return None
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC).timestamp()


def _canonical(tree: lxml.html.HtmlElement, url: str) -> str | None:
    """<link rel=canonical> (else og:url) when it is http(s) on the same site as `url`."""
    candidates = [
        *tree.xpath("//link[@rel='canonical']/@href"),
        *tree.xpath("//meta[@property='og:url']/@content"),
    ]
    for candidate in candidates:
        link = _same_site(str(candidate).strip(), url)
        if link is not None:
            return link
    return None


def _same_site(href: str, url: str) -> str | None:
    """`href` made absolute and canonical if it is http(s) on `url`'s host (www. ignored)."""
    if not href or not url or re.search(r"[\x00-\x1f\x7f]", href):
        return None
    try:
        absolute = urljoin(url, href)
        link, page = urlsplit(absolute), urlsplit(url)
        link_host, page_host = link.hostname, page.hostname
    except ValueError:
        return None
    if link.scheme.lower() not in ("http", "https") or not link_host or "@" in link.netloc:
        return None
    if site_host(link_host) != site_host(page_host):
        return None
    return canonical_url(absolute)


def told_by_page(
    article: Article, body: bytes, headers: Mapping[str, str], url: str, max_text_chars: int
) -> Article:
    """The article as its page tells it (text, language, fingerprint, date, canonical link), or
    the feed's own saying why not; top-level so the parse pool runs it, off the event loop."""
    page = extract_page(body, headers, url, article.title, max_text_chars)
    if page.error:
        return without_page(article, "no_text")
    return with_page(
        article, page.text, published_at=page.published_at, canonical=page.canonical_url
    )
