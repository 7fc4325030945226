"""Messages onto Telegram: each part in its slot of the shared budget and its chat's gap, free
or (when the paid lane covers the message and no free slot is left) paid, and every answer
settled on the row (sent, retried later, given up, or the chat gone or moved)."""

from __future__ import annotations

import enum
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from core.dispatch import topic_of
from core.links import day_of
from core.models import Chat, OutboxRow, Subscription
from core.render import SHORTEST_PART, is_too_long, message_length, plain_text, split_message
from delivery.paid import PaidLane
from delivery.ratelimit import LOW, OUTBOX, InFlight, SendBudget, retry_seconds
from delivery.refused import RefusedWrites
from storage import chats as chat_store
from storage import outbox
from storage import stats as stats_store
from storage.db import Database

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # a row that fails this many times (network, 5xx) is given up
# Refusals Telegram gives about the chat itself; another refusal of a paid send is sent again
# free, and if that goes, taken as "paid broadcasts are not allowed now" (Telegram documents no
# text for that).
_ABOUT_THE_CHAT = (
    "chat not found", "blocked", "deactivated", "kicked", "not a member", "can't initiate",
    "rights", "message thread not found", "topic_closed", "topic_deleted", "too long",
    "parse entities", "chat_write_forbidden", "chat_restricted", "was deleted",
    "peer_id_invalid", "to bots", "user not found", "admin_required",
)  # fmt: skip


class _Outcome(enum.Enum):
    """A part that was not sent."""

    SETTLED = "settled"  # the row was put back for a retry, or given up
    TOO_LONG = "too long"  # Telegram found it too long: split it smaller


class _Sent(Protocol):
    """A sent message, as far as the sender reads it."""

    @property
    def message_id(self) -> int: ...


class MessageBot(Protocol):
    """What the transport needs of a telegram.Bot (the offline demo prints instead)."""

    async def send_message(
        self,
        chat_id: int,
        text: str,
        **kwargs: Any,
    ) -> _Sent: ...


class PlainBot:
    """A bot without our rate limiter (a plain telegram.Bot: tests, benchmarks) treating the
    outbox's sends as BotRateLimiter does: the transport has taken the slot, and a 429 is told
    to the budget and not retried."""

    def __init__(self, bot: MessageBot, budget: SendBudget) -> None:
        self.bot = bot
        self.budget = budget

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> _Sent:
        """Send now (the slot is taken)."""
        kwargs.pop("rate_limit_args", None)  # meant for a rate limiter; this bot has none
        try:
            return await self.bot.send_message(chat_id, text, **kwargs)
        except RetryAfter as error:
            self.budget.too_many_requests(chat_id, retry_seconds(error))
            raise


# A topic found deleted or closed: its keywords, which send to General from now on.
LeftTopic = list[Subscription]


@dataclass
class Outgoing:
    """One message, the rows it settles, and what sending it needs, read once by the sender:
    the chat, an alert's article URL (its preview) and the chat's keywords in forum topics."""

    row: OutboxRow
    text: str
    chat: Chat
    folded: list[OutboxRow] = field(default_factory=list)  # rows carried in a digest or fold
    silent: bool = False
    url: str | None = None
    threads: dict[str, int] = field(default_factory=dict)  # keyword as typed → forum topic
    lanes: dict[str, int] = field(default_factory=lambda: {"free": 0, "paid": 0})  # parts sent


class Transport:
    """Sends a row's text and settles the row; each part waits for its slot of the one
    SendBudget (the overall limit, each chat's gap, a 429's hold), low priority, paid when the
    lane allows and no free slot is left; the bot does not retry (a 429 comes straight back
    here). Remembers what went wrong last, and counts each day's messages by lane."""

    def __init__(
        self,
        db: Database,
        bot: MessageBot,
        refused: RefusedWrites,
        budget: SendBudget,
        *,
        clock: Callable[[], float],
        paid: PaidLane | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        on_chat_moved: Callable[[int, int], None] = lambda old, new: None,
        on_sent: Callable[[str, float], None] = lambda kind, seconds: None,
        on_failed: Callable[[str, str], None] = lambda kind, reason: None,
    ) -> None:
        self.db = db
        self.bot = bot
        self.refused = refused
        self.budget = budget
        self.paid = paid
        self.clock = clock
        self.max_attempts = max_attempts
        self.on_chat_moved = on_chat_moved
        self.on_sent = on_sent
        self.on_failed = on_failed
        self.last_error: str | None = None
        self.sent_count = 0
        self.too_many_requests = 0
        self.in_flight = InFlight()  # each part waits for a place here, then for its slot
        # Rows sent in parts and interrupted: (hash of the text, the parts still owed, the
        # parts sent by lane).
        self._unsent: dict[int, tuple[int | None, list[str], dict[str, int]]] = {}

    async def deliver(self, out: Outgoing) -> list[LeftTopic]:
        """Send a message, in several parts when it is too long for one, and settle its rows;
        the forum topics found gone on the way (the group is to be told). Parts already
        delivered are not sent again when the row is retried."""
        row, key = out.row, hash(out.text)
        saved, parts, lanes = self._unsent.pop(row.id, (None, [], out.lanes))
        if saved == key:
            out.lanes = lanes
        else:
            parts = split_message(out.text)
        started, delivered, message_id = self.clock(), False, 0
        left: list[LeftTopic] = []
        while parts:
            thread = topic_of(row, out.threads)
            result = await self._send_part(out, parts[0], left, thread=thread)
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
                self._retry_later(out, "message is too long")
            if delivered:
                self._unsent[row.id] = (key, parts, out.lanes)
            return left
        now = self.clock()
        self.refused.attempt(functools.partial(self._mark_sent, out, message_id, now))
        self.sent_count += 1
        self.on_sent(row.kind, now - started)
        return left

    def _preview(self, out: Outgoing) -> LinkPreviewOptions:
        """The article's own preview under or over an alert, as the chat chose: its URL, not
        the short link's (Telegram would fetch that as a click); none on a digest or a fold,
        whose stories one preview would not stand for."""
        shown = out.chat.link_previews
        if shown == "off" or out.folded or out.row.kind != "alert":
            return LinkPreviewOptions(is_disabled=shown == "off" or bool(out.folded))
        return LinkPreviewOptions(  # is_disabled given: the bot's Defaults would fill it in
            is_disabled=False,
            url=out.url or None,
            prefer_small_media=True,
            show_above_text=shown == "above",
        )

    async def _send_part(
        self,
        out: Outgoing,
        text: str,
        left: list[LeftTopic],
        *,
        html: bool = True,
        thread: int | None = None,
        free: bool = False,
    ) -> int | _Outcome:
        """One message to the chat, into a forum topic when `thread` names one (and at the free
        rate when `free`): its id, or why it was not sent."""
        row = out.row
        where: dict[str, Any] = {"message_thread_id": thread} if thread is not None else {}
        paid = False
        await self._chat_free(row.chat_id)
        try:
            # A place among the requests in flight, then the slot: a slot is spent the moment
            # it is granted, so nothing waits between the slot and the request.
            async with self.in_flight:
                paid = await self._slot(row, may_pay=not free)
                if paid:
                    where["allow_paid_broadcast"] = True
                asked = time.monotonic()
                message = await self.bot.send_message(
                    row.chat_id,
                    text if html else plain_text(text),
                    parse_mode=ParseMode.HTML if html else None,
                    link_preview_options=self._preview(out),
                    disable_notification=out.silent,
                    rate_limit_args=OUTBOX,
                    **where,
                )
                round_trip = time.monotonic() - asked
        except (BadRequest, Forbidden) as error:
            if paid and not _about_the_chat(str(error)):
                return await self._paid_refused(out, text, left, str(error), html, thread)
            return await self._refused(out, text, left, error, html=html, thread=thread)
        except RetryAfter as error:
            self._too_many_requests(out, retry_seconds(error))
            self.on_failed(row.kind, "rate_limited")
        except ChatMigrated as error:
            new_id = int(error.new_chat_id)
            log.info("chat migrated", extra={"chat_id": row.chat_id, "new_chat_id": new_id})
            chat_store.migrate_chat(self.db, row.chat_id, new_id, self.clock())
            self.on_chat_moved(row.chat_id, new_id)
            outbox.release(self.db, [r.id for r in (row, *out.folded)])
            self.on_failed(row.kind, "migrated")
        except TelegramError as error:  # network errors, timeouts, 5xx
            self._network_error(out, error)
        else:
            rate = self.budget.paid_window.limit if paid else self.budget.window.limit
            self.in_flight.observe(round_trip, rate)
            out.lanes["paid" if paid else "free"] += 1
            return message.message_id
        return _Outcome.SETTLED

    async def _paid_refused(
        self,
        out: Outgoing,
        text: str,
        left: list[LeftTopic],
        reason: str,
        html: bool,
        thread: int | None,
    ) -> int | _Outcome:
        """Telegram refused a paid part for a reason it does not give as the chat's: the part
        goes again at the free rate; if that is taken, the refusal was the lane's (closed
        for the day), else the chat's (settled as such)."""
        result = await self._send_part(out, text, left, html=html, thread=thread, free=True)
        if isinstance(result, int) and self.paid is not None:
            self.paid.refused(reason)
        return result

    async def _chat_free(self, chat_id: int) -> None:
        """Wait out the chat's gap (a message's next part, a 429's hold) before taking a place
        among the requests in flight, so no place is held by a chat that cannot take it."""
        wait = self.budget.chat_free_at(chat_id) - self.budget.clock()
        if wait > 0:
            await self.budget.sleep(wait)

    async def _slot(self, row: OutboxRow, *, may_pay: bool) -> bool:
        """Wait for the part's slot in the budget; True when it is a paid one."""
        may_pay = may_pay and self.paid is not None and self.paid.covers(row.kind)
        if may_pay and self.paid is not None:
            await self.paid.read_balance()
        return await self.budget.acquire(LOW, row.chat_id, may_pay=may_pay)

    async def _refused(
        self,
        out: Outgoing,
        text: str,
        left: list[LeftTopic],
        error: BadRequest | Forbidden,
        *,
        html: bool,
        thread: int | None,
    ) -> int | _Outcome:
        """Telegram refused the part: the chat is gone, the topic is, or the request was bad."""
        if isinstance(error, Forbidden):
            self._undeliverable(out.row, str(error), "blocked")
            return _Outcome.SETTLED
        if thread is not None and _is_topic_gone(str(error)):
            left += self._leave_topic(out, thread, str(error))
            return await self._send_part(out, text, left, html=html)
        return await self._bad_request(out, text, left, error, html=html, thread=thread)

    async def _bad_request(
        self,
        out: Outgoing,
        text: str,
        left: list[LeftTopic],
        error: BadRequest,
        *,
        html: bool,
        thread: int | None,
    ) -> int | _Outcome:
        reason, row = str(error), out.row
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
            return await self._send_part(out, text, left, html=False, thread=thread)
        else:
            self._failed(out, reason, "bad_request")
        return _Outcome.SETTLED

    def _leave_topic(self, out: Outgoing, thread: int, reason: str) -> list[LeftTopic]:
        """The topic was deleted or closed: its keywords send to General from now on (this
        message's next parts too), and the group is to be told once (the topic is forgotten,
        so this happens once)."""
        chat = out.chat
        log.info(
            "forum topic gone; its alerts go to General",
            extra={"chat_id": chat.id, "thread_id": thread, "reason": reason},
        )
        left = chat_store.leave_topic(self.db, chat.id, thread)
        out.threads = {k: topic for k, topic in out.threads.items() if topic != thread}
        return [left] if left else []

    def _network_error(self, out: Outgoing, error: Exception) -> None:
        row = out.row
        self.last_error = str(error)
        self.on_failed(row.kind, "network")
        if row.attempts + 1 >= self.max_attempts:
            self._failed(out, str(error), None)
        else:
            backoff = min(2.0 * 2**row.attempts, 300.0)
            outbox.mark_retry(self.db, row.id, not_before=self.clock() + backoff, error=str(error))
            outbox.release(self.db, [r.id for r in out.folded])

    def _retry_later(self, out: Outgoing, reason: str) -> None:
        """Try the row again in a minute, as a new message (not counted as an attempt)."""
        self.last_error = reason
        outbox.mark_retry(
            self.db, out.row.id, not_before=self.clock() + 60, error=reason, count_attempt=False
        )
        outbox.release(self.db, [r.id for r in out.folded])

    def _mark_sent(self, out: Outgoing, message_id: int, now: float) -> None:
        carrier, folded = out.row.id, [r.id for r in out.folded]
        with self.db.atomic():
            outbox.mark_sent(self.db, carrier, message_id=message_id, now=now)
            outbox.mark_folded(self.db, folded, carrier_id=carrier, message_id=message_id, now=now)
            stats_store.count_sends(self.db, day_of(now), **out.lanes)

    def _too_many_requests(self, out: Outgoing, wait: float) -> None:
        now = self.clock()
        self.too_many_requests += 1
        self.last_error = f"429 retry after {wait:g}s"  # the bot has told the budget
        outbox.mark_retry(
            self.db, out.row.id, not_before=now + wait, error=self.last_error, count_attempt=False
        )
        outbox.release(self.db, [r.id for r in out.folded])

    def _failed(self, out: Outgoing, reason: str, kind: str | None) -> None:
        row = out.row
        self.last_error = reason
        outbox.mark_failed(self.db, row.id, reason)
        outbox.release(self.db, [r.id for r in out.folded])
        if kind:
            self.on_failed(row.kind, kind)
        log.warning("message failed", extra={"chat_id": row.chat_id, "reason": reason})

    def _undeliverable(self, row: OutboxRow, reason: str, kind: str) -> None:
        log.info(
            "chat unreachable, marked inactive", extra={"chat_id": row.chat_id, "reason": reason}
        )
        chat_store.deactivate_chat(self.db, row.chat_id, reason, self.clock())
        self.on_failed(row.kind, kind)


def _about_the_chat(reason: str) -> bool:
    """Whether Telegram's refusal is about the chat or the message, not the paid lane."""
    reason = reason.lower()
    return any(sign in reason for sign in _ABOUT_THE_CHAT)


def _is_topic_gone(reason: str) -> bool:
    """Telegram's answer to a send into a deleted or closed forum topic."""
    reason = reason.lower()
    return any(
        sign in reason for sign in ("message thread not found", "topic_closed", "topic_deleted")
    )
