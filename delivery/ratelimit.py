"""One rate budget for everything the bot sends: replies first, the outbox after.

Telegram's limits (README, "Delivery"): about 30 messages a second overall, 20 a minute to a
group or channel, and about one a second to a private chat, short bursts allowed. Replies, edits
and callback answers (what a user is waiting for) and outbox sends (alerts, notices) spend the
same budget, so together they stay under the limits; when both wait, replies go first. Per chat:
a group or channel never gets more than 20 messages in a minute; an outbox message waits its
gap (about a second in a private chat, three in a group) after whatever the chat got last, a
reply included; replies in a private chat are not spaced (they answer the user's own pace,
which the flood guard bounds). A 429 blocks its chat for `retry_after` (and everyone, when several
chats get one within a second). A reply then waits and tries again, a bounded number of times;
the outbox sender marks its calls OUTBOX (low priority, no retry): it keeps the row and retries
it itself.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

HIGH = 0  # replies, edits, callback answers: a user is waiting
LOW = 1  # the outbox
PRIVATE_GAP = 1.05  # a little over Telegram's one per second, for clock jitter
GROUP_GAP = 3.0  # 20 a minute, evenly spaced
GROUP_PER_MINUTE = 20
GROUP_PERIOD = 61.0  # a little over a minute, for clock jitter
GLOBAL_429_CHATS = 3  # this many chats refused within a second: the limit is the bot's own
MAX_REPLY_RETRIES = 5
MAX_REPLY_WAIT = 60.0  # a reply Telegram holds back longer than this is stale: give up
PAID_PER_SECOND = 1000.0  # Telegram's limit with allow_paid_broadcast, free and paid together
PAID_CATCH_UP = 0.02  # seconds of paid slots a late wake-up may take at once (20 at 1,000/s)
PAID_YIELD_SECONDS = 1.0  # the paid lane yields to a message that cannot pay after this wait
ROUND_TRIP_MEMORY = 30.0  # seconds over which InFlight takes the shortest round trip
_CHAT_MEMORY = 4096  # chats remembered before those quiet for a while are forgotten

# New messages: paced per chat as well as overall.
_MESSAGES = ("send", "copyMessage", "forwardMessage")
# Counted in the overall budget but not paced per chat.
_COUNTED = ("editMessage", "answerCallbackQuery")


@dataclass(frozen=True)
class RateArgs:
    """`rate_limit_args` of a Bot API call: its priority, whether a 429 is retried here, and
    whether the caller already holds its slot (the outbox's transport takes its own)."""

    priority: int = HIGH
    retry: bool = True
    slot_taken: bool = False


OUTBOX = RateArgs(priority=LOW, retry=False, slot_taken=True)


class PaidAllowance(Protocol):
    """The paid lane as the budget sees it (delivery.paid.PaidLane)."""

    def available(self) -> bool: ...

    def spend(self) -> None: ...


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait."""
    value = error.retry_after  # a timedelta with PTB_TIMEDELTA=true (app.telegram_app), else int
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class SlidingWindow:
    """At most `limit` events in any `period` seconds, spaced evenly (period / limit apart),
    and an optional pause for everyone. Even spacing matters: a burst of `limit` requests at the
    edge of a window is one network hiccup away from a 429."""

    def __init__(
        self,
        limit: float,
        clock: Callable[[], float],
        period: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        catch_up: float = 0.0,
    ) -> None:
        """`catch_up`: after a late wake-up, the seconds' worth of missed slots that may be
        taken at once (at least one)."""
        self.limit = max(1, int(limit))
        self.period = period
        self.spacing = period / max(limit, 1e-9)
        self.catch_up = max(1, int(catch_up / self.spacing))
        self.clock = clock
        self.sleep = sleep
        self.times: deque[float] = deque()
        self.paused_until = 0.0
        self.next_slot = 0.0

    def wait_time(self) -> float:
        """Seconds until one more event is allowed by the window and the pause."""
        now = self.clock()
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        wait = self.paused_until - now
        if len(self.times) >= self.limit:  # (paid sends may have filled it past its limit)
            wait = max(wait, self.times[len(self.times) - self.limit] + self.period - now)
        return max(wait, 0.0)

    def ready_in(self) -> float:
        """Seconds until the next evenly spaced slot that the window allows."""
        return max(self.next_slot - self.clock(), self.wait_time(), 0.0)

    def take(self) -> None:
        """Spend the slot that ready_in() said is free now."""
        now = self.clock()
        # A late wake-up may take the slots it missed (one, unless catch_up says more) right
        # after each other, not push all back.
        self.next_slot = max(self.next_slot, now - self.catch_up * self.spacing) + self.spacing
        self.times.append(now)


@dataclass(eq=False)
class _ChatPace:
    """What one chat got lately: the times of its last messages, and a 429's hold."""

    times: deque[float] = field(default_factory=lambda: deque(maxlen=GROUP_PER_MINUTE))
    held_until: float = 0.0


@dataclass(eq=False)
class _Waiter:
    priority: int
    order: int
    chat: int | str | None  # paced per chat, or None
    granted: asyncio.Future[bool] = field(repr=False)  # True: a paid slot
    may_pay: bool = False
    since: float = 0.0  # when it began to wait


class SendBudget:
    """Slots for sending: at most `per_second` in any `period`, evenly spaced, and each chat's
    own limits (module docstring); waiting senders are served by priority, then in order of
    arrival. With a paid lane, a sender that may pay and finds no free slot takes a paid one
    (up to `paid_per_second` in all) while the lane allows it."""

    def __init__(
        self,
        per_second: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        period: float = 1.02,  # a little slack over one second, for clock jitter
        private_gap: float = PRIVATE_GAP,
        group_gap: float = GROUP_GAP,
        paid: PaidAllowance | None = None,
        paid_per_second: float = PAID_PER_SECOND,
    ) -> None:
        self.window = SlidingWindow(per_second, clock, period=period, sleep=sleep)
        self.paid = paid
        # At 1,000 a second a slot is a millisecond: a wake-up is late by several.
        self.paid_window = SlidingWindow(
            paid_per_second, clock, period=period, sleep=sleep, catch_up=PAID_CATCH_UP
        )
        self.clock = clock
        self.sleep = sleep
        self.private_gap = private_gap
        self.group_gap = group_gap
        self.granted = {HIGH: 0, LOW: 0}
        self._chats: dict[int | str, _ChatPace] = {}
        self._forget_past = _CHAT_MEMORY  # chats remembered before the quiet ones are dropped
        self._waiters: list[_Waiter] = []  # sorted by (priority, order)
        self._order = itertools.count()
        self._changed = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._recent_429: deque[tuple[float, int | str | None]] = deque()

    async def acquire(
        self, priority: int = HIGH, chat: int | str | None = None, *, may_pay: bool = False
    ) -> bool:
        """Wait for a slot by the overall limit, and by the chat's own when `chat` is given;
        True when the slot is a paid one (only when `may_pay`)."""
        granted: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        may_pay = may_pay and priority == LOW and self.paid is not None
        waiter = _Waiter(priority, next(self._order), chat, granted, may_pay, self.clock())
        bisect.insort(self._waiters, waiter, key=lambda w: (w.priority, w.order))
        self._changed.set()
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._serve(), name="send budget")
        try:
            return await granted
        finally:
            if waiter in self._waiters:  # cancelled while waiting
                self._waiters.remove(waiter)
                self._changed.set()  # the server looks again, and ends when nobody waits

    def too_many_requests(self, chat: int | str | None, wait: float) -> None:
        """Telegram answered 429: hold the chat back, and everyone when it looks bot-wide."""
        now = self.clock()
        if chat is not None:
            pace = self._chats.setdefault(chat, _ChatPace())
            pace.held_until = max(pace.held_until, now + wait)
        # Telegram does not say whether a 429 is about one chat or the bot as a whole; when
        # several chats get one within a second (or a call with no chat does), pause everyone.
        self._recent_429.append((now, chat))
        while self._recent_429 and self._recent_429[0][0] < now - 1.0:
            self._recent_429.popleft()
        chats = {c for _, c in self._recent_429}
        if chat is None or len(chats) >= GLOBAL_429_CHATS:
            self.window.paused_until = max(self.window.paused_until, now + wait)
        self._changed.set()

    async def close(self) -> None:
        """Stop serving; whoever still waits is cancelled."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        for waiter in self._waiters:
            waiter.granted.cancel()

    def _free_at(self, waiter: _Waiter) -> float:
        """When the waiter's chat may get its message (0: no chat, or no limit now)."""
        return self.chat_free_at(waiter.chat, waiter.priority)

    def busy_chats(self, now: float) -> dict[int | str, float]:
        """Chats an outbox message would have to wait for now, and when each is free."""
        free = {chat: self.chat_free_at(chat, LOW) for chat in self._chats}
        return {chat: at for chat, at in free.items() if at > now}

    def chat_free_at(self, chat: int | str | None, priority: int = LOW) -> float:
        """When `chat` may get a message of this priority (0: no limit now). Telegram's chat
        ids say what a chat is: private chats are positive, groups and channels negative."""
        pace = self._chats.get(chat) if chat is not None else None
        if pace is None:
            return 0.0
        free_at = pace.held_until
        private = isinstance(chat, int) and chat > 0
        if priority != HIGH and pace.times:
            gap = self.private_gap if private else self.group_gap
            free_at = max(free_at, pace.times[-1] + gap)
        if not private and len(pace.times) == GROUP_PER_MINUTE:
            free_at = max(free_at, pace.times[0] + GROUP_PERIOD)
        return free_at

    async def _serve(self) -> None:
        while self._waiters:
            self._changed.clear()
            try:
                wait = self._serve_one()
            except Exception:  # the lane's database reads: never leave the waiters hanging
                log.exception("the send budget failed to hand out a slot; trying again")
                wait = 1.0
            if wait is not None:
                await self._nap(wait)

    def _serve_one(self) -> float | None:
        """Grant one slot if one is free now (None), else say how long to wait."""
        now = self.clock()
        wait = self.window.ready_in()
        if wait <= 0:
            chosen, wait = self._pick(now)
            if chosen is not None:
                self._grant(chosen)
                return None
        elif self._free_second_full(now) and self._paying(now):
            paid_wait = self.paid_window.ready_in()
            chosen, soonest = self._pick(now, paid=True)
            if paid_wait <= 0 and chosen is not None and self.paid is not None:
                self.paid.spend()
                self._grant(chosen, paid=True)
                return None
            wait = min(wait, max(paid_wait, soonest))
        return wait

    def _free_second_full(self, now: float) -> bool:
        """Whether the free rate is spent (not merely spaced, nor paused by a 429: a pause
        holds paid messages too)."""
        return self.window.paused_until <= now and self.window.wait_time() > 0

    def _paying(self, now: float) -> bool:
        """Whether someone waiting may pay and the lane allows it now. Every message counts
        toward the free rate, paid or not, so a paid burst leaves no free slot: the lane yields
        at once to a reply, and to any other message that waited a second, when its chat could
        take it once the free second drains (within a second)."""
        if self.paid is None or not any(w.may_pay for w in self._waiters):
            return False
        patience, drained = now - PAID_YIELD_SECONDS, now + self.window.wait_time()
        if any(
            not w.may_pay
            and (w.priority == HIGH or w.since <= patience)
            and self._free_at(w) <= drained
            for w in self._waiters
        ):
            return False
        return self.paid.available()

    def _pick(self, now: float, *, paid: bool = False) -> tuple[_Waiter | None, float]:
        """The first waiter in order whose chat is free now, or how long until one is: for a
        paid slot, among those that may pay; for a free one while the lane pays, those that
        may not pay first."""
        soonest = math.inf
        waiters = self._waiters
        if paid:
            waiters = [w for w in waiters if w.may_pay]
        elif self.paid is not None and any(w.may_pay for w in waiters) and self.paid.available():
            waiters = sorted(waiters, key=lambda w: w.may_pay)  # free slots: first who cannot pay
        for waiter in waiters:
            free_at = self._free_at(waiter)
            if free_at <= now and not waiter.granted.done():
                return waiter, 0.0
            soonest = min(soonest, free_at - now)
        return None, soonest

    def _grant(self, waiter: _Waiter, *, paid: bool = False) -> None:
        self._waiters.remove(waiter)
        now = self.clock()
        if paid:
            self.paid_window.take()
            self.window.times.append(now)  # counted toward the free rate too: it is spent
        else:
            self.window.take()
            self.paid_window.times.append(now)
        if waiter.chat is not None:
            if len(self._chats) > self._forget_past:
                self._forget_quiet_chats(now)
            self._chats.setdefault(waiter.chat, _ChatPace()).times.append(now)
        self.granted[waiter.priority] = self.granted.get(waiter.priority, 0) + 1
        waiter.granted.set_result(paid)

    def _forget_quiet_chats(self, now: float) -> None:
        """Drop chats that nothing holds back any more; when most are still busy (a burst to
        thousands of chats), look again only once as many more have come."""
        self._chats = {
            chat: pace
            for chat, pace in self._chats.items()
            if pace.held_until > now or (pace.times and pace.times[-1] > now - GROUP_PERIOD)
        }
        self._forget_past = max(_CHAT_MEMORY, 2 * len(self._chats))

    async def _nap(self, seconds: float) -> None:
        """Sleep up to `seconds` (at most a minute), sooner when a sender arrives or a 429 does."""
        woken = asyncio.ensure_future(self._changed.wait())
        timer = asyncio.ensure_future(self.sleep(min(max(seconds, 0.001), 60.0)))
        try:
            await asyncio.wait((woken, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            timer.cancel()


def _chat_of(data: dict[str, Any]) -> int | str | None:
    chat = data.get("chat_id")
    if isinstance(chat, str):
        with contextlib.suppress(ValueError):
            return int(chat)
    return chat if isinstance(chat, int | str) else None


class BotRateLimiter(BaseRateLimiter[RateArgs]):
    """PTB's rate limiter over a SendBudget: every call the bot makes waits for its slot there;
    a 429 on a reply waits `retry_after` and tries again, up to `max_retries` times."""

    def __init__(
        self,
        budget: SendBudget,
        *,
        max_retries: int = MAX_REPLY_RETRIES,
        max_wait: float = MAX_REPLY_WAIT,
    ) -> None:
        self.budget = budget
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.retried = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Stop the budget's server."""
        await self.budget.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: RateArgs | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for the call's slot, make it, and retry it after a 429 when it may be."""
        request = rate_limit_args or RateArgs()
        chat = _chat_of(data)
        paced = endpoint.startswith(_MESSAGES) and endpoint != "sendChatAction"
        counted = paced or endpoint.startswith(_COUNTED)
        for attempt in itertools.count(1):
            if counted and not request.slot_taken:
                await self.budget.acquire(request.priority, chat if paced else None)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                wait = retry_seconds(error)
                self.budget.too_many_requests(chat, wait)
                if not request.retry or attempt > self.max_retries or wait > self.max_wait:
                    raise
                self.retried += 1
                log.info(
                    "429 from Telegram; trying again after retry_after",
                    extra={"endpoint": endpoint, "chat_id": chat, "retry_after": wait},
                )
                await self.budget.sleep(wait)
        raise AssertionError("unreachable")  # itertools.count never ends


class InFlight:
    """A bound on requests in flight that follows the bandwidth-delay product: the rate to keep
    up times the shortest round trip of the last half minute, twice over, within [low, high].
    httpx's pool costs the square of its idle connections a request, so a few busy connections
    beat many idle ones; the shortest round trip is the network's, not our own queue's (under
    load every request also waits for the event loop, and the bound must not chase that)."""

    def __init__(
        self, low: int = 4, high: int = 128, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.low = low
        self.high = high
        self.limit = low
        self.active = 0
        self.clock = clock
        self._shortest: deque[tuple[float, float]] = deque()  # (when, seconds), rising
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        if self.active < self.limit and not self._waiting:
            self.active += 1
            return
        admitted = asyncio.get_running_loop().create_future()
        self._waiting.append(admitted)
        try:
            await admitted
        except asyncio.CancelledError:
            if admitted.done() and not admitted.cancelled():  # admitted, then cancelled
                await self.__aexit__()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self.active -= 1
        self._admit()

    def observe(self, seconds: float, per_second: float) -> None:
        """A request took `seconds`; `per_second`: the rate to keep up now."""
        now = self.clock()
        while self._shortest and self._shortest[-1][1] >= seconds:
            self._shortest.pop()
        self._shortest.append((now, seconds))
        while self._shortest[0][0] < now - ROUND_TRIP_MEMORY:
            self._shortest.popleft()
        wanted = math.ceil(2 * per_second * self._shortest[0][1])
        self.limit = max(self.low, min(self.high, wanted))
        self._admit()

    def _admit(self) -> None:
        while self._waiting and self.active < self.limit:
            admitted = self._waiting.popleft()
            if not admitted.done():
                self.active += 1
                admitted.set_result(None)
