"""OPML feed lists in and out: parse what feed readers export, build what they import."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlsplit
from xml.parsers import expat

_SPACE = re.compile(r"\s+")
# Characters XML 1.0 cannot carry at all, even as character references.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTRIBUTE_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "\n": "&#10;",
    "\r": "&#13;",
    "\t": "&#9;",
}
_ATTRIBUTE_SPECIAL = re.compile('[&<>"\n\r\t]')


class OpmlError(ValueError):
    """The file is not a usable OPML document; the message says why, in plain English."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One feed listed in an OPML file."""

    url: str
    title: str = ""


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """Every http(s) feed (an outline with xmlUrl, at any depth) once, in document order.

    Raises OpmlError for a file that is empty, not XML, not OPML, or declares entities.
    """
    stripped = data.lstrip(b" \t\r\n")
    if stripped.startswith(b"<?xml"):
        data = stripped  # blank lines before the declaration make the XML fatally ill-formed
    if not data.strip():
        raise OpmlError("the file is empty")
    collector = _Collector()
    parser = expat.ParserCreate()
    parser.StartElementHandler = collector.start
    parser.EntityDeclHandler = _refuse_entities
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise OpmlError(
            f"not a valid OPML file: {expat.errors.messages[error.code]} "
            f"(line {error.lineno}, column {error.offset + 1})"
        ) from None
    except (LookupError, UnicodeError) as error:  # an encoding Python does not know
        raise OpmlError(f"not a valid OPML file: unreadable text encoding ({error})") from None
    return collector.feeds


def _refuse_entities(*_: object) -> None:
    # OPML never needs them; refusing them rules out entity-expansion bombs.
    raise OpmlError("not a valid OPML file: it declares XML entities, which OPML never needs")


class _Collector:
    """Expat callbacks: checks the root element and gathers feed outlines."""

    def __init__(self) -> None:
        self.feeds: list[OpmlFeed] = []
        self._seen: set[str] = set()
        self._root_checked = False

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if not self._root_checked:
            self._root_checked = True
            if name.lower() != "opml":
                raise OpmlError(f"not an OPML file: the document is <{name}>, not <opml>")
            return
        if name.lower() != "outline":
            return
        fields = {key.lower(): value for key, value in attributes.items()}
        url = fields.get("xmlurl", "").strip()
        if not _is_web_url(url) or url in self._seen:
            return
        self._seen.add(url)
        title = _SPACE.sub(" ", fields.get("title") or fields.get("text") or "").strip()
        self.feeds.append(OpmlFeed(url, title))


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def build_opml(
    feeds: Iterable[tuple[str, str]], title: str, *, created: datetime | None = None
) -> bytes:
    """An OPML 2.0 document (UTF-8) listing (url, title) feeds as RSS outlines."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{_text(title)}</title>",
    ]
    if created is not None:
        lines.append(f"    <dateCreated>{format_datetime(created)}</dateCreated>")
    lines += ["  </head>", "  <body>"]
    for url, feed_title in feeds:
        label = _attribute(feed_title or url)
        lines.append(
            f'    <outline type="rss" text="{label}" title="{label}" xmlUrl="{_attribute(url)}"/>'
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")


def _text(value: str) -> str:
    clean = _NOT_XML.sub("", value)
    return clean.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(value: str) -> str:
    clean = _NOT_XML.sub("", value)
    return _ATTRIBUTE_SPECIAL.sub(lambda match: _ATTRIBUTE_ESCAPES[match.group()], clean)
