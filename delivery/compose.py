"""Outbox rows made into message text: one alert (title, summary, sources, link), a digest or
the "more alerts" fold, a notice, from what the sender read for them (delivery.batch).
Summaries are computed once per (article, keywords)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from core.i18n import Catalog, Raw
from core.models import OutboxRow, Subscription
from core.render import (
    MAX_MESSAGE_CHARS,
    SHOWN_KEYWORD_CHARS,
    SHOWN_SOURCE_CHARS,
    SHOWN_TITLE_CHARS,
    AlertContent,
    anchor_html,
    bold_spans,
    escape,
    fit_message,
    message_length,
    named_outlets,
    render_alert,
    render_notice,
    shorten,
)
from delivery.summaries import Highlighted, SummaryCache, choose_summary, summary_key
from storage import outbox, shortlinks
from storage.articles import StoredArticle
from storage.db import Database


class Composer:
    """Writes the messages the sender sends, in the chat's language."""

    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        *,
        clock: Callable[[], float],
        summary_words: int,
        shortlink_base_url: str | None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.clock = clock
        self.summary_words = summary_words
        self.shortlink_base_url = shortlink_base_url
        self.summaries = SummaryCache()

    def notice(self, row: OutboxRow, language: str, broadcast: outbox.Broadcast | None) -> str:
        """A notice's own text, or the row's broadcast (read by the caller) in the chat's
        language; "" when the broadcast is gone."""
        if row.kind == "notice":
            return row.text or ""
        return render_notice(self.catalog, language, broadcast.text) if broadcast else ""

    def topic_gone(self, language: str, left: list[Subscription]) -> str:
        """The note to a group whose topic was deleted or closed: its keywords now send to
        General."""
        keywords = "، ".join(shorten(sub.keyword, SHOWN_KEYWORD_CHARS) for sub in left[:5])
        return self.catalog.text(
            language,
            "topic_gone",
            topic=shorten(left[0].topic or "", SHOWN_KEYWORD_CHARS) or "—",
            keywords=keywords + ("…" if len(left) > 5 else ""),
        )

    async def alert(
        self,
        row: OutboxRow,
        article: StoredArticle,
        sources: list[str],
        language: str,
        outlets: tuple[list[str], int] | None = None,
    ) -> str:
        """One alert in the chat's language; `sources`: the feeds that told its story;
        `outlets`: a big story's outlets and window, named instead."""
        summary = await self._summary(article, row.keywords)
        content = alert_content(article, row.keywords, sources, summary, link=self.link(article))
        if outlets is not None:
            content = replace(content, outlets=outlets[0], outlets_hours=outlets[1])
        return render_alert(self.catalog, language, content)

    async def _summary(self, article: StoredArticle, keywords: tuple[str, ...]) -> Highlighted:
        """The article's summary for these keywords, chosen once in a worker thread (cached)."""
        words = self.summary_words
        key = summary_key(article.id, article.title, article.text, keywords, words)
        return await self.summaries.get(
            key, functools.partial(choose_summary, article.title, article.text, keywords, words)
        )

    def link(self, article: StoredArticle) -> str:
        """Our short link, the publisher's per-article short link, or the clean canonical URL."""
        return shortlinks.alert_link(
            self.db, article, base_url=self.shortlink_base_url, now=self.clock()
        )

    async def digest(
        self,
        rows: list[OutboxRow],
        articles: Mapping[int, StoredArticle],
        language: str,
        *,
        digest: bool,
        budget: int = MAX_MESSAGE_CHARS,
        outlets: Mapping[int, tuple[list[str], int]] | None = None,
    ) -> tuple[str, int] | None:
        """Several alerts as one message: a digest (each story's summary in an expandable
        quote), or the "more alerts" fold past the cap (one line a story). It holds as many of
        `rows` as fit in `budget`, in order: (text, how many rows it carries); None when no row
        has an article to show (`articles`: those still stored, by id; `outlets`: by row, the
        outlets a big story was carried by, named in its line)."""
        header_id = "digest_header" if digest else "fold_header"
        room = budget - message_length(self.catalog.text(language, header_id, count=len(rows)))
        lines: list[str] = []
        carried = 0
        for row in rows:
            article = articles.get(row.article_id) if row.article_id is not None else None
            told = (outlets or {}).get(row.id)
            line = await self._digest_line(
                row, article, language, with_summary=digest, outlets=told[0] if told else None
            )
            if line is not None:
                width = message_length(line) + 2  # and the blank line before it
                if lines and width > room:
                    break
                room -= width
                lines.append(line)
            carried += 1
        if not lines:
            return None
        header = self.catalog.text(language, header_id, count=len(lines))
        return fit_message(header + "\n\n" + "\n\n".join(lines), budget), carried

    async def _digest_line(
        self,
        row: OutboxRow,
        article: StoredArticle | None,
        language: str,
        *,
        with_summary: bool,
        outlets: list[str] | None = None,
    ) -> str | None:
        """One alert in a digest: its title as the link, its source (a big story's outlets),
        and with `with_summary` its summary folded in an expandable quote (None when its
        article is gone)."""
        if article is None:
            return None
        title = escape(shorten(article.title, SHOWN_TITLE_CHARS))
        link = self.link(article)
        # No link, no anchor: an empty href makes Telegram read the title itself as the URL.
        line = self.catalog.text(
            language,
            "digest_line",
            title=Raw(anchor_html(link, title) if link else title),
            source=named_outlets(outlets)
            if outlets
            else shorten(article.feed_title, SHOWN_SOURCE_CHARS),
        )
        if not with_summary:
            return line
        summary = await self._summary(article, row.keywords)
        if not summary.sentences:
            return line
        quoted = " ".join(
            bold_spans(sentence, spans)
            for sentence, spans in zip(summary.sentences, summary.highlights, strict=True)
        )
        return f"{line}\n<blockquote expandable>{quoted}</blockquote>"


def alert_content(
    article: StoredArticle,
    keywords: tuple[str, ...],
    sources: list[str],
    summary: Highlighted,
    *,
    link: str,
) -> AlertContent:
    """What one alert shows, its summary already chosen (delivery.summaries)."""
    published = datetime.fromtimestamp(article.published_at, UTC) if article.published_at else None
    others = [s for s in sources if s != article.feed_title]
    return AlertContent(
        title=article.title,
        summary=summary.sentences,
        highlights=summary.highlights,
        sources=[article.feed_title, *others],
        keywords=list(summary.keywords or keywords),
        link=link,
        published=published,
    )
