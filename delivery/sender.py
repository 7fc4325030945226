"""The outbox sender: claims owed rows, renders them, sends within Telegram's limits.

Telegram's limits (README, "Delivery"): at most `overall_per_second` messages in any one-second
window, one message per `private_gap` seconds to a private chat and per `group_gap` seconds to a
group or channel (20 a minute). Fairness: each round takes at most one row per chat, and the chats
served least recently go first, so a chat with 500 alerts waiting never delays another chat's
first alert. A 429 pauses that chat (and, when several chats get one at once, everyone) for
`retry_after`, and the row is retried, never dropped. The overall limit is a SendBudget
(delivery/ratelimit.py), shared in the running bot with replies, which go first.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from core.delivery_time import INSTANT, digest_due_at, hold_until, send_silently
from core.i18n import Catalog, Raw
from core.models import Chat, OutboxRow
from core.render import (
    MAX_MESSAGE_CHARS,
    SHORTEST_PART,
    SHOWN_TITLE_CHARS,
    AlertContent,
    fit_message,
    is_too_long,
    link_html,
    message_length,
    plain_text,
    render_alert,
    render_notice,
    shorten,
    split_message,
)
from core.write_health import WriteHealth
from delivery.ratelimit import GROUP_GAP, LOW, OUTBOX, PRIVATE_GAP, SendBudget, retry_seconds
from delivery.refused import RefusedWrites
from delivery.summaries import Highlighted, SummaryCache, choose_summary, summary_key
from storage import articles as article_store
from storage import chats as chat_store
from storage import outbox, shortlinks
from storage.db import Database, is_refused_write, transaction

log = logging.getLogger(__name__)
SHOWN_SOURCE_CHARS = 60


class _Outcome(enum.Enum):
    """A part that was not sent."""

    SETTLED = "settled"  # the row was put back for a retry, or given up
    TOO_LONG = "too long"  # Telegram found it too long: split it smaller


@dataclass(frozen=True)
class SendPolicy:
    """Telegram's limits and our volume rules, as the sender applies them."""

    overall_per_second: float = 30.0
    private_gap: float = PRIVATE_GAP
    group_gap: float = GROUP_GAP
    max_attempts: int = 5
    summary_words: int = 50
    alerts_per_hour: int = 20  # beyond it, waiting alerts fold into one message
    digest_max_items: int = 20
    default_timezone: str = "UTC"
    batch: int = 30  # rows claimed per round
    shortlink_base_url: str | None = None  # our redirector; None: the publisher's shortest link


class _Sent(Protocol):
    """A sent message, as far as the sender reads it."""

    @property
    def message_id(self) -> int: ...


class MessageBot(Protocol):
    """What the sender needs of a telegram.Bot (the offline demo prints instead)."""

    async def send_message(
        self,
        chat_id: int,
        text: str,
        *,
        parse_mode: str | None,
        link_preview_options: LinkPreviewOptions,
        disable_notification: bool,
    ) -> _Sent: ...


class Sender:
    """Drains the outbox: fair across chats, paced per chat, never drops a message."""

    def __init__(
        self,
        db: Database,
        bot: MessageBot,
        catalog: Catalog,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        policy: SendPolicy = SendPolicy(),
        on_chat_moved: Callable[[int, int], None] = lambda old, new: None,
        on_sent: Callable[[str, float], None] = lambda kind, seconds: None,
        on_failed: Callable[[str, str], None] = lambda kind, reason: None,
        budget: SendBudget | None = None,
        writes: WriteHealth | None = None,
    ) -> None:
        """`budget`: the one the bot's rate limiter spends (bot.py), so alerts and replies share
        Telegram's limits and replies go first; without it (the demo, a plain Bot) the sender
        paces itself on a budget of its own. `writes` hears when the database refuses writes."""
        self.db = db
        self.bot = bot
        self.catalog = catalog
        self.clock = clock
        self.sleep = sleep
        self.policy = policy
        self.on_chat_moved = on_chat_moved
        self.on_sent = on_sent
        self.on_failed = on_failed
        self.shared_budget = budget is not None
        self.budget = budget or SendBudget(policy.overall_per_second, clock=clock, sleep=sleep)
        # Through the bot's rate limiter: low priority, and a 429 comes straight back to us.
        self._rate_args: dict[str, Any] = {"rate_limit_args": OUTBOX} if budget else {}
        self.next_allowed: dict[int, float] = {}
        self.last_served: dict[int, float] = {}
        self.last_error: str | None = None
        self.sent_count = 0
        self.too_many_requests = 0
        self._wake = asyncio.Event()
        self._stopping = False
        self._in_flight: set[asyncio.Task] = set()
        self._busy: set[int] = set()  # chats with a claimed row not yet settled
        self.summaries = SummaryCache()
        # Rows sent in parts and interrupted: (hash of the text, the parts still owed).
        self._unsent: dict[int, tuple[int | None, list[str]]] = {}
        # While the database refuses writes, nothing new is claimed; what was sent is marked
        # sent and what was claimed but not sent is put back once it takes writes again.
        self.refused = RefusedWrites(db, writes if writes is not None else WriteHealth(), clock)

    def wake(self) -> None:
        """New rows were queued: look now instead of at the next timer."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the messages in flight and return from run()."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Send until stopped; rows claimed by a process that died are owed again first."""
        self.refused.attempt(lambda: outbox.reset_in_flight(self.db))
        try:
            while not self._stopping:
                if self.refused.refusing:
                    await self._recover()
                elif not await self._round():
                    await self._idle()
        finally:
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)
            if self.refused.refusing:
                self.refused.retry()  # else a restart sends again what was in flight
            if not self.shared_budget:
                await self.budget.close()

    async def _round(self) -> bool:
        try:
            return await self.send_due()
        except Exception as error:
            if not is_refused_write(error):
                raise
            self.refused.refused(error)
            return True

    async def _recover(self) -> None:
        """Once the sends in flight are settled and a backoff has passed: make the writes the
        database refused, and put rows claimed but never sent back in the queue."""
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self._nap(self.refused.backoff())
        if not self._stopping and self.refused.retry(lambda: outbox.reset_in_flight(self.db)):
            log.info("the database takes writes again; sending resumes")

    async def _idle(self) -> None:
        now = self.clock()
        waits = [1.0]
        due = outbox.next_due_at(self.db)
        if due is not None:
            waits.append(due - now)
        waits += [t - now for t in self.next_allowed.values() if t > now]
        await self._nap(min(waits))

    async def _nap(self, seconds: float) -> None:
        """Sleep up to `seconds`, sooner when woken (new rows, or stop())."""
        self._wake.clear()
        woken = asyncio.ensure_future(self._wake.wait())
        timer = asyncio.ensure_future(self.sleep(max(seconds, 0.005)))
        try:
            await asyncio.wait((woken, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            timer.cancel()

    async def send_due(self) -> bool:
        """Claim one round of rows and start sending them; True if anything was claimed."""
        now = self.clock()
        self.next_allowed = {c: t for c, t in self.next_allowed.items() if t > now}
        heads = outbox.due_heads(self.db, now, skip_chats=self.next_allowed.keys() | self._busy)
        if not heads:
            return False
        heads.sort(key=lambda head: (self.last_served.get(head[0], 0.0), head[1]))
        rows = outbox.claim(self.db, [row_id for _, row_id in heads[: self.policy.batch]], now)
        for row in rows:
            self._busy.add(row.chat_id)  # one message in flight per chat, at most
            self.last_served[row.chat_id] = now
        for row in rows:
            task = asyncio.create_task(self._send_row(row))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        # Backpressure: claim no further than about two rounds ahead of what is sent.
        while len(self._in_flight) > 2 * self.policy.batch:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
        return bool(rows)

    async def drain(self) -> None:
        """Send until nothing is due now (used by the demo and tests)."""
        while await self.send_due() or self._in_flight:
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _send_row(self, row: OutboxRow) -> None:
        try:
            await self._process(row)
        except Exception as error:  # a bug must not kill the sender; the row is kept for a retry
            if is_refused_write(error):  # the row stays claimed until the database takes writes
                self.refused.refused(error)
            else:
                log.error(
                    "sending failed unexpectedly", exc_info=error, extra={"chat_id": row.chat_id}
                )
                self.refused.attempt(
                    lambda: outbox.mark_retry(
                        self.db, row.id, not_before=self.clock() + 60, error="internal error"
                    )
                )
        finally:
            self._busy.discard(row.chat_id)
            self._wake.set()

    async def _process(self, row: OutboxRow) -> None:
        now = self.clock()
        chat = chat_store.get_chat(self.db, row.chat_id)
        if chat is None or not chat.active:
            outbox.mark_failed(self.db, row.id, "chat inactive", status="undeliverable")
            return
        if chat.banned or (row.kind == "alert" and chat.paused):
            outbox.mark_failed(self.db, row.id, "chat banned or paused", status="cancelled")
            return
        prefs = chat.delivery(self.policy.default_timezone)
        held = hold_until(prefs, now)
        if held is not None:
            outbox.mark_retry(self.db, row.id, not_before=held, error=None, count_attempt=False)
            return
        silent = chat.silent or send_silently(prefs, now)
        if row.kind == "broadcast":
            broadcast = (
                outbox.get_broadcast(self.db, row.broadcast_id)
                if row.broadcast_id is not None
                else None
            )
            if broadcast is None or broadcast.status == "cancelled":
                outbox.mark_failed(self.db, row.id, "broadcast cancelled", status="cancelled")
                return
            text = render_notice(self.catalog, chat.language, broadcast.text)
            await self._deliver(row, [], text, chat, silent=silent or broadcast.silent)
            return
        if row.kind == "notice":
            await self._deliver(row, [], row.text or "", chat, silent=silent)
            return
        await self._send_alert(row, chat, now, silent)

    async def _send_alert(self, row: OutboxRow, chat: Chat, now: float, silent: bool) -> None:
        digest = chat.delivery_mode != INSTANT
        if digest:
            due = digest_due_at(chat.delivery(self.policy.default_timezone), row.created_at)
            if due > now:  # a digest chat gets its alerts at the next full hour or digest hour
                outbox.mark_retry(self.db, row.id, not_before=due, error=None, count_attempt=False)
                return
        sent, oldest = outbox.alert_messages_since(self.db, chat.id, now - 3600)
        cap = self.policy.alerts_per_hour
        if not digest and sent >= cap:
            outbox.mark_retry(
                self.db,
                row.id,
                # A second past the hour: at the hour itself the oldest message still counts.
                not_before=(oldest or now) + 3601,
                error=None,
                count_attempt=False,
            )
            return
        folding = digest or (
            sent >= cap - 1 and outbox.pending_alert_count(self.db, chat.id, now) > 1
        )
        extra = (
            outbox.claim_more_alerts(
                self.db, chat.id, now, exclude=row.id, limit=self.policy.digest_max_items - 1
            )
            if folding
            else []
        )
        if folding and (extra or digest):
            rows = [row, *extra]
            built = self.render_digest(rows, chat.language, digest=digest)
            text, carried = built if built is not None else (None, len(rows))
            outbox.release(self.db, [r.id for r in rows[carried:]])  # for the next message
            extra = rows[1:carried]
        else:
            text = await self.render(row, chat.language)
        if text is None:
            outbox.mark_failed(self.db, row.id, "article no longer stored")
            outbox.release(self.db, [r.id for r in extra])
            return
        await self._deliver(row, extra, text, chat, silent=silent)

    async def _deliver(
        self, row: OutboxRow, folded: list[OutboxRow], text: str, chat: Chat, *, silent: bool
    ) -> None:
        """Send a row's message, in several parts when it is too long for one, and settle it.
        Parts already delivered are not sent again when the row is retried."""
        key = hash(text)
        saved, parts = self._unsent.pop(row.id, (None, []))
        if saved != key:
            parts = split_message(text)
        started, delivered, message_id = None, False, 0
        while parts:
            if delivered:
                await self._chat_gap(row.chat_id)
            slot = await self._take_slot(row.chat_id)
            started = slot if started is None else started
            result = await self._send_part(row, folded, parts[0], chat, silent=silent)
            if isinstance(result, int):
                message_id, delivered = result, True
                parts.pop(0)
                continue
            if result is _Outcome.TOO_LONG:
                limit = max(message_length(parts[0]) * 3 // 4, SHORTEST_PART)
                shorter = split_message(parts[0], limit)
                if len(shorter) > 1:
                    parts[:1] = shorter
                    continue
                self._retry_later(row, folded, "message is too long")
            if delivered:
                self._unsent[row.id] = (key, parts)
            return
        now = self.clock()
        self.refused.attempt(functools.partial(self._mark_sent, row, folded, message_id, now))
        self.sent_count += 1
        self.on_sent(row.kind, now - (started or now))

    async def _take_slot(self, chat_id: int) -> float:
        """Wait for the overall pace, book the chat's next gap; when the request starts."""
        if not self.shared_budget:  # else the bot's rate limiter waits for the slot
            await self.budget.acquire(LOW)  # right before the request: Telegram sees the pace
        started = self.clock()
        gap = self.policy.group_gap if chat_id < 0 else self.policy.private_gap
        self.next_allowed[chat_id] = max(self.next_allowed.get(chat_id, 0), started + gap)
        return started

    async def _chat_gap(self, chat_id: int) -> None:
        """Wait until the chat may get its next message (between the parts of one row)."""
        wait = self.next_allowed.get(chat_id, 0.0) - self.clock()
        if wait > 0:
            await self.sleep(wait)

    async def _send_part(
        self,
        row: OutboxRow,
        folded: list[OutboxRow],
        text: str,
        chat: Chat,
        *,
        silent: bool,
        html: bool = True,
    ) -> int | _Outcome:
        """One message to the chat (its slot taken): its id, or why it was not sent."""
        try:
            message = await self.bot.send_message(
                row.chat_id,
                text if html else plain_text(text),
                parse_mode=ParseMode.HTML if html else None,
                link_preview_options=LinkPreviewOptions(is_disabled=not chat.link_previews),
                disable_notification=silent,
                **self._rate_args,
            )
        except RetryAfter as error:
            self._too_many_requests(row, folded, retry_seconds(error))
            self.on_failed(row.kind, "rate_limited")
        except ChatMigrated as error:
            new_id = int(error.new_chat_id)
            log.info("chat migrated", extra={"chat_id": row.chat_id, "new_chat_id": new_id})
            chat_store.migrate_chat(self.db, row.chat_id, new_id, self.clock())
            self.on_chat_moved(row.chat_id, new_id)
            outbox.release(self.db, [r.id for r in (row, *folded)])
            self.on_failed(row.kind, "migrated")
        except Forbidden as error:
            self._undeliverable(row, str(error), "blocked")
        except BadRequest as error:
            return await self._bad_request(row, folded, text, chat, error, silent=silent, html=html)
        except TelegramError as error:  # network errors, timeouts, 5xx
            self._network_error(row, folded, error)
        else:
            return message.message_id
        return _Outcome.SETTLED

    async def _bad_request(
        self,
        row: OutboxRow,
        folded: list[OutboxRow],
        text: str,
        chat: Chat,
        error: BadRequest,
        *,
        silent: bool,
        html: bool,
    ) -> int | _Outcome:
        reason = str(error)
        if "chat not found" in reason.lower():
            self._undeliverable(row, reason, "chat_not_found")
        elif is_too_long(reason):  # never a reason to give up: the part is split smaller
            self.on_failed(row.kind, "too_long")
            log.warning("Telegram found a message too long", extra={"chat_id": row.chat_id})
            return _Outcome.TOO_LONG
        elif html and "parse entities" in reason.lower():
            self.on_failed(row.kind, "html_refused")
            log.warning(
                "Telegram refused our HTML; sending as plain text",
                extra={"chat_id": row.chat_id, "error": reason},
            )
            await self._take_slot(row.chat_id)
            return await self._send_part(row, folded, text, chat, silent=silent, html=False)
        else:
            self._failed(row, folded, reason, "bad_request")
        return _Outcome.SETTLED

    def _network_error(self, row: OutboxRow, folded: list[OutboxRow], error: Exception) -> None:
        self.last_error = str(error)
        self.on_failed(row.kind, "network")
        if row.attempts + 1 >= self.policy.max_attempts:
            self._failed(row, folded, str(error), None)
        else:
            backoff = min(2.0 * 2**row.attempts, 300.0)
            outbox.mark_retry(self.db, row.id, not_before=self.clock() + backoff, error=str(error))
            outbox.release(self.db, [r.id for r in folded])

    def _retry_later(self, row: OutboxRow, folded: list[OutboxRow], reason: str) -> None:
        """Try the row again in a minute, as a new message (not counted as an attempt)."""
        self.last_error = reason
        outbox.mark_retry(
            self.db, row.id, not_before=self.clock() + 60, error=reason, count_attempt=False
        )
        outbox.release(self.db, [r.id for r in folded])

    def _mark_sent(
        self, row: OutboxRow, folded: list[OutboxRow], message_id: int, now: float
    ) -> None:
        with transaction(self.db):
            outbox.mark_sent(self.db, row.id, message_id=message_id, now=now)
            outbox.mark_folded(
                self.db, [r.id for r in folded], carrier_id=row.id, message_id=message_id, now=now
            )

    def _too_many_requests(self, row: OutboxRow, folded: list[OutboxRow], wait: float) -> None:
        now = self.clock()
        self.too_many_requests += 1
        self.last_error = f"429 retry after {wait:g}s"
        self.next_allowed[row.chat_id] = now + wait
        # The budget pauses everyone when several chats get one at once (the bot's rate
        # limiter has told a shared budget already; telling it twice changes nothing).
        self.budget.too_many_requests(row.chat_id, wait)
        outbox.mark_retry(
            self.db, row.id, not_before=now + wait, error=self.last_error, count_attempt=False
        )
        outbox.release(self.db, [r.id for r in folded])

    def _failed(
        self, row: OutboxRow, folded: list[OutboxRow], reason: str, kind: str | None
    ) -> None:
        self.last_error = reason
        outbox.mark_failed(self.db, row.id, reason)
        outbox.release(self.db, [r.id for r in folded])
        if kind:
            self.on_failed(row.kind, kind)
        log.warning("message failed", extra={"chat_id": row.chat_id, "reason": reason})

    def _undeliverable(self, row: OutboxRow, reason: str, kind: str) -> None:
        log.info(
            "chat unreachable, marked inactive", extra={"chat_id": row.chat_id, "reason": reason}
        )
        chat_store.deactivate_chat(self.db, row.chat_id, reason, self.clock())
        self.on_failed(row.kind, kind)

    async def render(self, row: OutboxRow, language: str) -> str | None:
        """One alert in the chat's language, or None if its article is gone."""
        if row.article_id is None:
            return None
        article = article_store.get_article(self.db, row.article_id)
        if article is None:
            return None
        words = self.policy.summary_words
        key = summary_key(article.id, article.title, article.text, row.keywords, words)
        summary = await self.summaries.get(
            key, functools.partial(choose_summary, article.title, article.text, row.keywords, words)
        )
        content = alert_content(
            article,
            row.keywords,
            article_store.story_sources(self.db, article.story_id),
            summary,
            link=self.link(article),
        )
        return render_alert(self.catalog, language, content)

    @property
    def summaries_computed(self) -> int:
        """Alert summaries computed so far (each (article, keywords) once, however many chats)."""
        return self.summaries.computed

    def link(self, article: article_store.StoredArticle) -> str:
        """Our short link, the publisher's per-article short link, or the clean canonical URL."""
        return shortlinks.alert_link(
            self.db, article, base_url=self.policy.shortlink_base_url, now=self.clock()
        )

    def render_digest(
        self,
        rows: list[OutboxRow],
        language: str,
        *,
        digest: bool,
        budget: int = MAX_MESSAGE_CHARS,
    ) -> tuple[str, int] | None:
        """Several alerts as one message: a digest, or the "more alerts" fold past the cap.
        It holds as many of `rows` as fit in `budget`, in order: (text, how many rows it
        carries); None when no row has an article to show."""
        header_id = "digest_header" if digest else "fold_header"
        room = budget - message_length(self.catalog.text(language, header_id, count=len(rows)))
        lines: list[str] = []
        carried = 0
        for row in rows:
            line = self._digest_line(row, language)
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

    def _digest_line(self, row: OutboxRow, language: str) -> str | None:
        """One alert in a digest: title, source, link (None when its article is gone)."""
        article = article_store.get_article(self.db, row.article_id) if row.article_id else None
        if article is None:
            return None
        return self.catalog.text(
            language,
            "digest_line",
            title=shorten(article.title, SHOWN_TITLE_CHARS),
            source=shorten(article.feed_title, SHOWN_SOURCE_CHARS),
            link=Raw(link_html(self.link(article))),
        )


def alert_content(
    article: article_store.StoredArticle,
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
        keywords=list(keywords),
        link=link,
        published=published,
    )
