"""Telegram HTML for alerts and notices: escape everything, bold the matched words."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from babel.dates import format_date

from core.i18n import Catalog

MAX_MESSAGE_CHARS = 4096
_TAG = re.compile(r"<[^>]+>")


def escape(text: str) -> str:
    """Escape text for Telegram HTML (only &, <, > matter outside attributes)."""
    return html.escape(text, quote=False)


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
    extra: dict[str, str] = field(default_factory=dict)


def render_alert(catalog: Catalog, language: str, alert: AlertContent) -> str:
    """The alert message: bold title, summary, source and date, keywords, link."""
    lines = [f"🔔 <b>{escape(alert.title.strip())}</b>", ""]
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
        lines.append(f"🔗 {escape(alert.link)}")
    return fit_message("\n".join(lines))


def _source_line(catalog: Catalog, language: str, alert: AlertContent) -> str:
    if not alert.sources:
        return ""
    first, others = alert.sources[0], list(alert.sources[1:])
    if others:
        line = catalog.text(language, "alert_source_also", source=first, others="، ".join(others))
    else:
        line = catalog.text(language, "alert_source", source=first)
    if alert.published is not None:
        date = format_date(alert.published, "d MMMM y", locale=language)
        line += " · " + escape(date)
    return line


def render_notice(catalog: Catalog, language: str, text: str) -> str:
    """An admin broadcast as subscribers see it."""
    header = catalog.text(language, "broadcast_header")
    return fit_message(f"{header}\n\n{escape(text)}")


def plain_text(message_html: str) -> str:
    """The same message without markup, for when Telegram refuses our HTML."""
    return html.unescape(_TAG.sub("", message_html))


def fit_message(message_html: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Cut an over-long message's longest line at a sentence end so the whole fits."""
    excess = len(plain_text(message_html)) - limit
    if excess <= 0:
        return message_html
    lines = message_html.split("\n")
    longest = max(range(len(lines)), key=lambda i: len(plain_text(lines[i])))
    text = plain_text(lines[longest])
    keep = max(len(text) - excess - 1, 0)
    cut = text[:keep]
    for mark in (". ", "؟ ", "! ", "؛ ", " "):
        position = cut.rfind(mark)
        if position > keep // 2:
            cut = cut[: position + 1]
            break
    lines[longest] = escape(cut.rstrip()) + "…"
    return "\n".join(lines)
