"""The outbox sender: claims owed rows, renders them, sends within Telegram's limits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from core.i18n import Catalog
from core.matcher import find_matches
from core.models import OutboxRow
from core.query import QueryError, parse_query
from core.render import AlertContent, plain_text, render_alert, render_notice
from core.summary import summarize
from storage import articles as article_store
from storage import chats as chat_store
from storage import outbox
from storage.db import Database

log = logging.getLogger(__name__)

PRIVATE_CHAT_GAP = 1.0  # seconds between two messages to one private chat
GROUP_CHAT_GAP = 3.0  # 20 per minute in a group or channel
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class SendPolicy:
    """Telegram's limits as the sender applies them."""

    overall_per_second: float = 30.0
    private_gap: float = PRIVATE_CHAT_GAP
    group_gap: float = GROUP_CHAT_GAP
    max_attempts: int = MAX_ATTEMPTS
    summary_words: int = 50


def _retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after  # a timedelta with PTB_TIMEDELTA=true (bot.py sets it), else int
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TokenBucket:
    """At most `rate` sends per second overall, with a burst of one second's worth."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.clock = clock
        self.tokens = rate
        self.updated = clock()
        self.paused_until = 0.0

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    async def take(self) -> None:
        """Wait for one token (and for any global pause to end)."""
        while True:
            now = self.clock()
            if now < self.paused_until:
                await asyncio.sleep(self.paused_until - now)
                continue
            self._refill()
            if self.tokens >= 1:
                self.tokens -= 1
                return
            await asyncio.sleep((1 - self.tokens) / self.rate)


class Sender:
    """Drains the outbox: fair across chats, paced per chat, never drops a message."""

    def __init__(
        self,
        db: Database,
        bot: Bot,
        catalog: Catalog,
        *,
        clock: Callable[[], float],
        policy: SendPolicy = SendPolicy(),
        on_chat_moved: Callable[[int, int], None] = lambda old, new: None,
    ) -> None:
        self.db = db
        self.bot = bot
        self.catalog = catalog
        self.clock = clock
        self.policy = policy
        self.on_chat_moved = on_chat_moved
        self.bucket = TokenBucket(policy.overall_per_second, clock)
        self.next_allowed: dict[int, float] = {}
        self.last_error: str | None = None
        self.sent_count = 0
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """New rows were queued: look now instead of at the next timer."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the current batch and return from run()."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Send until stopped; rows claimed by a dead process are owed again first."""
        outbox.reset_in_flight(self.db)
        while not self._stopping:
            sent_any = await self.send_due()
            if not sent_any:
                await self._idle()

    async def _idle(self) -> None:
        now = self.clock()
        waits = [1.0]
        due = outbox.next_due_at(self.db)
        if due is not None:
            waits.append(max(due - now, 0.01))
        pending_chats = [t - now for t in self.next_allowed.values() if t > now]
        if pending_chats:
            waits.append(min(pending_chats))
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=max(min(waits), 0.01))

    async def send_due(self) -> bool:
        """Claim and send one batch; True if anything was claimed."""
        now = self.clock()
        busy = [chat for chat, t in self.next_allowed.items() if t > now]
        self.next_allowed = {chat: t for chat, t in self.next_allowed.items() if t > now}
        limit = max(1, int(self.policy.overall_per_second))
        rows = outbox.claim_due(self.db, now, limit=limit, skip_chats=busy)
        if not rows:
            return False
        await asyncio.gather(*(self._send_row(row) for row in rows))
        return True

    async def _send_row(self, row: OutboxRow) -> None:
        chat = chat_store.get_chat(self.db, row.chat_id)
        if chat is None or not chat.active or chat.banned:
            outbox.mark_failed(self.db, row.id, "chat inactive")
            return
        text = self.render(row, chat.language)
        if text is None:
            outbox.mark_failed(self.db, row.id, "article no longer stored")
            return
        gap = self.policy.group_gap if row.chat_id < 0 else self.policy.private_gap
        self.next_allowed[row.chat_id] = self.clock() + gap
        await self.bucket.take()
        await self._deliver(row, text)

    async def _deliver(self, row: OutboxRow, text: str, *, html: bool = True) -> None:
        try:
            message = await self.bot.send_message(
                row.chat_id,
                text if html else plain_text(text),
                parse_mode=ParseMode.HTML if html else None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except RetryAfter as error:
            wait = _retry_seconds(error)
            self.last_error = f"429 retry after {wait:g}s"
            # Telegram does not say whether a 429 is per chat or global: pause that chat, and
            # everyone briefly, and never count it as a failed attempt.
            self.next_allowed[row.chat_id] = self.clock() + wait
            self.bucket.paused_until = max(self.bucket.paused_until, self.clock() + min(wait, 1))
            outbox.mark_retry(
                self.db,
                row.id,
                not_before=self.clock() + wait,
                error=self.last_error,
                count_attempt=False,
            )
        except ChatMigrated as error:
            new_id = int(error.new_chat_id)
            log.info("chat migrated", extra={"chat_id": row.chat_id, "new_chat_id": new_id})
            chat_store.migrate_chat(self.db, row.chat_id, new_id, self.clock())
            self.on_chat_moved(row.chat_id, new_id)
            outbox.mark_retry(
                self.db, row.id, not_before=0, error="chat migrated", count_attempt=False
            )
        except Forbidden as error:
            self._undeliverable(row, str(error))
        except BadRequest as error:
            message = str(error).lower()
            if "chat not found" in message:
                self._undeliverable(row, str(error))
            elif html and "parse entities" in message:
                log.warning(
                    "Telegram refused our HTML; sending as plain text",
                    extra={"chat_id": row.chat_id, "error": str(error)},
                )
                await self._deliver(row, text, html=False)
            else:
                self.last_error = str(error)
                outbox.mark_failed(self.db, row.id, str(error))
        except TelegramError as error:  # network errors, timeouts, 5xx
            self.last_error = str(error)
            if row.attempts + 1 >= self.policy.max_attempts:
                outbox.mark_failed(self.db, row.id, str(error))
            else:
                backoff = min(2**row.attempts * 2.0, 300.0)
                outbox.mark_retry(
                    self.db, row.id, not_before=self.clock() + backoff, error=str(error)
                )
        else:
            outbox.mark_sent(self.db, row.id, message_id=message.message_id, now=self.clock())
            self.sent_count += 1

    def _undeliverable(self, row: OutboxRow, reason: str) -> None:
        log.info(
            "chat unreachable, marked inactive", extra={"chat_id": row.chat_id, "reason": reason}
        )
        chat_store.deactivate_chat(self.db, row.chat_id, reason, self.clock())

    def render(self, row: OutboxRow, language: str) -> str | None:
        """The message for a row in the chat's language, or None if its article is gone."""
        if row.kind == "broadcast":
            return render_notice(
                self.catalog, language, outbox.broadcast_text(self.db, row.broadcast_id)
            )
        article = article_store.get_article(self.db, row.article_id)
        if article is None:
            return None
        return render_alert(
            self.catalog,
            language,
            alert_content(
                article,
                row.keywords,
                article_store.story_sources(self.db, article.story_id),
                self.policy.summary_words,
            ),
        )


def alert_content(
    article: article_store.StoredArticle,
    keywords: tuple[str, ...],
    sources: list[str],
    summary_words: int,
) -> AlertContent:
    """Choose the summary (keyword sentences preferred) and the words to bold."""
    queries = []
    for keyword in keywords:
        try:
            queries.append(parse_query(keyword, min_letters=1, max_length=10_000))
        except QueryError:
            continue

    def spans(sentence: str) -> list[tuple[int, int]]:
        return [span for query in queries for span in find_matches(query, sentence)]

    summary = summarize(
        article.text,
        title=article.title,
        max_words=summary_words,
        prefer=lambda sentence: bool(spans(sentence)),
    )
    published = datetime.fromtimestamp(article.published_at, UTC) if article.published_at else None
    others = [s for s in sources if s != article.feed_title]
    return AlertContent(
        title=article.title,
        summary=summary,
        highlights=[spans(sentence) for sentence in summary],
        sources=[article.feed_title, *others],
        keywords=list(keywords),
        link=article.url,
        published=published,
    )
