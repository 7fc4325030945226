"""Telegram HTML for alerts and notices: escape everything, bold the matched words."""

from __future__ import annotations

import bisect
import html
import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_date

from core.i18n import Catalog, Plural
from core.safety import visible

MAX_MESSAGE_CHARS = 4096  # Telegram's limit, in UTF-16 units of the parsed text
SHORTEST_PART = 256  # a part Telegram still finds too long at this size is not split further
CALLBACK_ANSWER_CHARS = 190  # Telegram shows at most 200 characters in a button's answer
# Displayed values are shortened to these many characters, with an ellipsis.
SHOWN_TITLE_CHARS = 150
SHOWN_KEYWORD_CHARS = 100
SHOWN_URL_CHARS = 80
SHOWN_SOURCE_CHARS = 60
SHOWN_ERROR_CHARS = 200
SHOWN_OUTLETS = 8  # outlets a big story's alert names; the rest are "…"
_TAG = re.compile(r"<[^<>]+>")
_LINK = re.compile(r'<a href="([^"<>]*)">([^<]*)</a>')  # as link_html and anchor_html write them
# What a cut never splits: a tag, a character reference.
_MARKUP = re.compile(r"<[^<>]+>|&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z]+);")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][\w-]*)")
_TRIMMED = " \t\n\r\v\f"  # what Telegram strips from both ends before counting
_SENTENCE_ENDS = frozenset(".!?؟؛…")
_ZWJ = "\u200d"


def escape(text: str) -> str:
    """Escape text for Telegram HTML (only &, <, > matter outside attributes), without bidi
    controls or other invisible characters (a title cannot reverse the text after it)."""
    return html.escape(visible(text), quote=False)


def bold_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Escape `text` and wrap each (start, end) span in <b>; overlapping spans are merged."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts, position = [], 0
    for start, end in merged:
        parts.append(escape(text[position:start]))
        parts.append(f"<b>{escape(text[start:end])}</b>")
        position = end
    parts.append(escape(text[position:]))
    return "".join(parts)


@dataclass(frozen=True)
class AlertContent:
    """Everything one alert shows."""

    title: str
    summary: Sequence[str]  # sentences, already chosen
    highlights: Sequence[Sequence[tuple[int, int]]] = ()  # spans per summary sentence
    sources: Sequence[str] = ()  # first teller first
    keywords: Sequence[str] = ()
    link: str = ""
    published: datetime | None = None
    # a big story (issue #31): the outlets that carried it within `outlets_hours`, named in
    # place of the sources
    outlets: Sequence[str] = ()
    outlets_hours: int = 0


def render_alert(catalog: Catalog, language: str, alert: AlertContent) -> str:
    """The alert message: bold title, summary, source and date, keywords, link."""
    lines = [_title_line(alert.title), ""]
    if alert.summary:
        sentences = []
        for index, sentence in enumerate(alert.summary):
            spans = alert.highlights[index] if index < len(alert.highlights) else ()
            sentences.append(bold_spans(sentence, spans))
        lines.append(" ".join(sentences))
    else:
        lines.append(catalog.text(language, "alert_no_summary"))
    lines.append("")
    source = _source_line(catalog, language, alert)
    if source:
        lines.append(source)
    if alert.keywords:
        lines.append(catalog.text(language, "alert_keywords", keywords="، ".join(alert.keywords)))
    if alert.link:
        first = alert.sources[0] if alert.sources else ""
        lines.append(_read_line(catalog, language, alert.link, first))
    return fit_message("\n".join(lines))


def render_headline(catalog: Catalog, language: str, title: str, source: str, link: str) -> str:
    """A story in two lines, as an alert begins and ends: its title, and where to read it
    (inline search posts this)."""
    lines = [_title_line(title)]
    if link:
        lines.append(_read_line(catalog, language, link, source))
    return "\n".join(lines)


def _title_line(title: str) -> str:
    return f"🔔 <b>{escape(title.strip())}</b>"


def _read_line(catalog: Catalog, language: str, link: str, source: str) -> str:
    """🔗 and the link, named for its source when there is one."""
    source = shorten(source, SHOWN_SOURCE_CHARS)
    label = (
        catalog.text(language, "alert_read_on", source=source)
        if source
        else catalog.text(language, "alert_read")
    )
    return f"🔗 {anchor_html(link, label)}"


def _source_line(catalog: Catalog, language: str, alert: AlertContent) -> str:
    if alert.outlets:
        line = _outlets_line(catalog, language, alert)
    elif not alert.sources:
        return ""
    else:
        line = _sources(catalog, language, alert.sources)
    if alert.published is not None:
        date = format_date(alert.published, "d MMMM y", locale=language)
        line += " · " + escape(date)
    return line


def _sources(catalog: Catalog, language: str, sources: Sequence[str]) -> str:
    first, others = sources[0], list(sources[1:])
    if others:
        return catalog.text(language, "alert_source_also", source=first, others="، ".join(others))
    return catalog.text(language, "alert_source", source=first)


def _outlets_line(catalog: Catalog, language: str, alert: AlertContent) -> str:
    """A big story: how many outlets carried it within its window, and which."""
    return catalog.text(
        language,
        "alert_big_story",
        count=Plural("n_outlets", len(alert.outlets)),
        hours=Plural("n_hours", alert.outlets_hours),
        outlets=named_outlets(alert.outlets),
    )


def named_outlets(outlets: Sequence[str]) -> str:
    """The outlets that carried a big story, as an alert or a digest line names them."""
    names = [shorten(name, SHOWN_SOURCE_CHARS) for name in outlets[:SHOWN_OUTLETS]]
    if len(outlets) > SHOWN_OUTLETS:
        names.append("…")
    return "، ".join(names)


def render_notice(catalog: Catalog, language: str, text: str) -> str:
    """An admin broadcast as subscribers see it (sent in several parts if it must be)."""
    header = catalog.text(language, "broadcast_header")
    return f"{header}\n\n{escape(text)}"


@dataclass(frozen=True)
class Page:
    """One page of a list: its number (from 0), how many pages, and the items it shows."""

    number: int
    count: int
    start: int
    end: int


def page_of(total: int, number: int, size: int) -> Page:
    """Page `number` of `total` items, `size` a page (a number past the end shows the last)."""
    count = max(1, -(-total // size))
    number = min(max(number, 0), count - 1)
    return Page(number, count, number * size, min(total, (number + 1) * size))


def replace_links(message_html: str, replace: Callable[[str, str], str]) -> str:
    """The message with each link written by link_html or anchor_html replaced by
    replace(url, words_html), the URL unescaped."""
    return _LINK.sub(lambda m: replace(html.unescape(m.group(1)), m.group(2)), message_html)


def plain_text(message_html: str) -> str:
    """The same message without markup, for when Telegram refuses our HTML (a link shows its
    whole URL again, after its words when it has some: "اقرأ في هسبريس https://…")."""
    return _visible(replace_links(message_html, _plain_link))


def _plain_link(url: str, words_html: str) -> str:
    text = html.unescape(words_html)
    shortened_url = text.endswith("…") and url.startswith(text[:-1])
    return html.escape(url if shortened_url or text == url else f"{text} {url}", quote=False)


def _visible(message_html: str) -> str:
    """The text Telegram shows for a message: tags out, character references decoded."""
    return html.unescape(_TAG.sub("", message_html))


def message_length(message_html: str) -> int:
    """The length Telegram checks against its limit: UTF-16 units of the text once the markup
    is parsed and the ends are trimmed."""
    return _utf16(_visible(message_html).strip(_TRIMMED))


def is_too_long(reason: str) -> bool:
    """Whether Telegram refused a message for its length ("message is too long",
    "MESSAGE_TOO_LONG")."""
    reason = reason.lower()
    return "too long" in reason or "too_long" in reason


def shorten(text: str, limit: int) -> str:
    """A displayed value (a title, keyword, URL) of at most `limit` characters: cut at a word
    when one ends in its second half, with an ellipsis; no invisible characters."""
    text = " ".join(visible(text).split())
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def anchor_html(url: str, label_html: str) -> str:
    """A link shown as words ("اقرأ في هسبريس"), never as its URL; `label_html` is already HTML."""
    return f'<a href="{html.escape(url, quote=True)}">{label_html}</a>'


def link_html(url: str, limit: int = SHOWN_URL_CHARS) -> str:
    """A link as a message shows it: the URL itself, or when long a shortened text that still
    opens the whole URL."""
    if len(url) <= limit:
        return escape(url)
    return f'<a href="{html.escape(url, quote=True)}">{escape(shorten(url, limit))}</a>'


def split_message(message_html: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """The message as one or more messages that each fit Telegram's limit. Cuts fall between
    items (blank lines), else between lines, else after a sentence or a word, never inside a tag
    or character reference; tags open at a cut are closed before it and reopened after it."""
    if message_length(message_html) <= limit:
        return [message_html]
    units = _Units(message_html)
    parts, start = [], units.skip_spaces(0)
    while start < units.count:
        end = max(units.furthest(start, limit), start + 1)
        cut = end if end >= units.count else units.best_break(start, end)
        part = units.chunk(start, cut)
        if _visible(part).strip(_TRIMMED):
            parts.append(part)
        start = units.skip_spaces(cut)
    return parts


def fit_message(message_html: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """One message within the limit: the longest line is cut at a sentence (or word) end with
    "…", its markup kept balanced; when no line can give enough, whole lines or items from the
    end are left out instead (the first part of split_message, then "…")."""
    for _ in range(3):
        excess = message_length(message_html) - limit
        if excess <= 0:
            return message_html
        units = _Units(message_html)
        start, end = units.longest_line()
        keep = units.width(start, end) - excess - 1  # one for the ellipsis
        if keep <= 0:
            break
        cut = units.best_break(start, units.furthest(start, keep), within_line=True)
        message_html = units.drop_text(cut, end, "…")
    return split_message(message_html, max(limit - 2, 1))[0] + "\n…"


class _Units:
    """A message as units that are never cut: a tag, a character reference, one character;
    with the width each shows (UTF-16 units, 0 for a tag) and the start tags open before it."""

    def __init__(self, message_html: str) -> None:
        self.html: list[str] = []
        self.widths: list[int] = []
        self.open: list[tuple[str, ...]] = []  # open[i]: start tags open before unit i
        stack: tuple[str, ...] = ()
        position = 0
        for match in _MARKUP.finditer(message_html):
            self._characters(message_html[position : match.start()], stack)
            token = match.group()
            self.html.append(token)
            self.open.append(stack)
            if token.startswith("<"):
                self.widths.append(0)
                stack = _after_tag(stack, token)
            else:
                self.widths.append(_utf16(html.unescape(token)))
            position = match.end()
        self._characters(message_html[position:], stack)
        self.open.append(stack)
        self.count = len(self.html)
        self.before = list(itertools.accumulate(self.widths, initial=0))  # width before unit i

    def _characters(self, text: str, stack: tuple[str, ...]) -> None:
        self.html.extend(text)
        self.widths.extend(2 if ord(char) > 0xFFFF else 1 for char in text)
        self.open.extend([stack] * len(text))

    def width(self, start: int, end: int) -> int:
        """Visible width of units[start:end]."""
        return self.before[end] - self.before[start]

    def furthest(self, start: int, limit: int) -> int:
        """The furthest end such that units[start:end] shows at most `limit` units."""
        return bisect.bisect_right(self.before, self.before[start] + limit) - 1

    def skip_spaces(self, index: int) -> int:
        """The first unit at or after `index` that is not white space."""
        while index < self.count and self.html[index] in _TRIMMED:
            index += 1
        return index

    def best_break(self, start: int, end: int, *, within_line: bool = False) -> int:
        """Where to cut units[start:end]: at the preferred kind of break that keeps at least half
        of it (items, lines, sentences, words), else at the furthest break, else at `end`."""
        half = self.width(start, end) // 2
        furthest = 0
        for kind in _BREAK_KINDS[2:] if within_line else _BREAK_KINDS:
            cut = next((c for c in range(end, start, -1) if kind(self.html, c)), 0)
            if cut and self.width(start, cut) >= half:
                return cut
            furthest = max(furthest, cut)
        if furthest:
            return furthest
        while start + 1 < end < self.count and _joins(self.html[end - 1], self.html[end]):
            end -= 1  # a letter keeps its marks, an emoji its joiners
        return end

    def chunk(self, start: int, end: int) -> str:
        """units[start:end] as balanced HTML: the tags open at `start` reopened, those open at
        `end` closed."""
        opening = "".join(self.open[start])
        closing = "".join(_closing(tag) for tag in reversed(self.open[end]))
        return opening + "".join(self.html[start:end]) + closing

    def longest_line(self) -> tuple[int, int]:
        """(start, end) units of the widest line."""
        best, line_start = (0, 0), 0
        for index in range(self.count + 1):
            if index == self.count or self.html[index] == "\n":
                if self.width(line_start, index) > self.width(*best):
                    best = (line_start, index)
                line_start = index + 1
        return best

    def drop_text(self, start: int, end: int, mark: str) -> str:
        """The whole message with the text of units[start:end] replaced by `mark`; the tags there
        stay, so every tag still has its pair."""
        kept: list[str] = []
        for unit in self.html[start:end]:
            if not unit.startswith("<") or len(unit) == 1:
                continue
            opened = kept[-1] if kept and not kept[-1].startswith("</") else ""
            if unit.startswith("</") and opened and _tag_name(opened) == _tag_name(unit):
                kept.pop()  # a pair with nothing left inside
            else:
                kept.append(unit)
        tail = self.html[:start]
        while tail and tail[-1] in _TRIMMED:
            tail.pop()
        return "".join(tail) + mark + "".join(kept) + "".join(self.html[end:])


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _joins(before: str, unit: str) -> bool:
    """Whether a cut between these two units would tear a character apart."""
    return before == _ZWJ or unit == _ZWJ or unicodedata.category(unit[0]) in ("Mn", "Me", "Cf")


def _tag_name(tag: str) -> str:
    match = _TAG_NAME.match(tag)
    return match.group(1).lower() if match else ""


def _closing(tag: str) -> str:
    return f"</{_tag_name(tag)}>"


def _after_tag(stack: tuple[str, ...], tag: str) -> tuple[str, ...]:
    """The open start tags once `tag` is read (an end tag closes its start tag)."""
    if not tag.startswith("</"):
        return (*stack, tag) if not tag.endswith("/>") else stack
    name = _tag_name(tag)
    for depth in range(len(stack) - 1, -1, -1):
        if _tag_name(stack[depth]) == name:
            return stack[:depth]
    return stack


def _item_break(units: list[str], cut: int) -> bool:
    return cut + 1 < len(units) and units[cut] == "\n" and units[cut + 1] == "\n"


def _line_break(units: list[str], cut: int) -> bool:
    return cut < len(units) and units[cut] == "\n"


def _sentence_break(units: list[str], cut: int) -> bool:
    return cut < len(units) and units[cut] in _TRIMMED and units[cut - 1] in _SENTENCE_ENDS


def _word_break(units: list[str], cut: int) -> bool:
    return cut < len(units) and units[cut] in _TRIMMED


_BREAK_KINDS = (_item_break, _line_break, _sentence_break, _word_break)
