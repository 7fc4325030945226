"""The paid lane: past Telegram's free 30 messages a second, up to 1,000, at 0.1 Star each.

Off unless the operator turns it on (PAID_BROADCAST: broadcasts, alerts or all). A message of a
kind the lane covers takes a paid slot only when the free second is full, so the first 30 of a
burst go free; it is then sent with `allow_paid_broadcast` (the budget's slots: ratelimit). The lane pays only within the
day's ceiling (PAID_BROADCAST_STARS_PER_DAY, UTC days, counted in the database so a restart
does not reset it) and the bot's balance (getMyStarBalance, read at the first paid send and
every few minutes while paying, and counted down in between). When the ceiling is reached or
Telegram refuses a paid send (any refusal it does not explain as the chat's), the lane closes
until the next UTC day; when the balance runs out it pays again once a later reading finds
Stars. The admins are told once a day for each; messages simply go on at the free rate, none
lost or sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Protocol

from telegram.error import BadRequest, Forbidden, TelegramError

from core.links import day_of

log = logging.getLogger(__name__)

TENTHS_PER_STAR = 10  # a paid message costs 0.1 Star: the lane counts in tenths
NANOSTARS_PER_TENTH = 100_000_000
BALANCE_CHECK_SECONDS = 300.0
PAID_KINDS = {
    "off": frozenset(),
    "broadcasts": frozenset({"broadcast"}),
    "alerts": frozenset({"alert"}),
    "all": frozenset({"alert", "broadcast"}),
}
# Why a lane closes: the catalog's notice for each ("paid_lane_<reason>_notice").
CEILING, BALANCE, REFUSED = "ceiling", "balance", "refused"


class StarAmount(Protocol):
    """getMyStarBalance's answer (telegram.StarAmount)."""

    amount: int
    nanostar_amount: int | None


class PaidLane:
    """Which messages may be paid for now, and what was paid today."""

    def __init__(
        self,
        kinds: frozenset[str],
        stars_per_day: int,
        *,
        balance: Callable[[], Awaitable[StarAmount]],
        clock: Callable[[], float],
        paid_on: Callable[[str], int] = lambda day: 0,
        on_closed: Callable[[str, str], None] = lambda reason, detail: None,
    ) -> None:
        """`balance`: the bot's getMyStarBalance; `paid_on(day)`: messages already paid for
        that day (the database's count); `on_closed(reason, detail)`: the lane stopped paying
        (the admins are told)."""
        self.kinds = kinds
        self.ceiling = stars_per_day * TENTHS_PER_STAR
        self.get_balance = balance
        self.clock = clock
        self.paid_on = paid_on
        self.on_closed = on_closed
        self.day = ""
        self.paid_today = 0
        self.balance: int | None = None  # in tenths of a Star; None until read
        self.balance_read_at = -math.inf
        self.closed: str | None = None  # why the lane is closed today
        self._told: set[str] = set()  # reasons the admins heard of today
        self._reading = asyncio.Lock()  # one balance query at a time

    def covers(self, kind: str) -> bool:
        """Whether a message of this kind may take a paid slot (when one is available)."""
        return kind in self.kinds and self.is_open()

    def is_open(self) -> bool:
        """Whether the lane may pay today (a new day opens it again)."""
        self._roll()
        return bool(self.kinds) and self.closed is None

    def available(self) -> bool:
        """Whether one more message may be paid for now: the ceiling and balance allow it."""
        if not self.is_open() or self.balance is None:
            return False
        if self.paid_today >= self.ceiling:
            self.close(CEILING, str(self.ceiling // TENTHS_PER_STAR))
            return False
        if self.balance < 1:  # read again every few minutes: a top-up opens the lane again
            self._tell(BALANCE, "0")
            return False
        return True

    def spend(self) -> None:
        """One message took a paid slot (counted before it is sent: never under-counted)."""
        self.paid_today += 1
        if self.balance is not None:
            self.balance -= 1

    async def read_balance(self) -> None:
        """Read the bot's Star balance when it is stale (once at a time)."""
        async with self._reading:
            if self.clock() - self.balance_read_at < BALANCE_CHECK_SECONDS:
                return
            try:
                amount = await self.get_balance()
            except (BadRequest, Forbidden) as error:
                self.refused(str(error))
                return
            except TelegramError as error:  # the network: the last known balance stands
                log.warning("could not read the bot's Star balance", extra={"error": str(error)})
                self.balance_read_at = self.clock()
                return
            self.balance_read_at = self.clock()
            nanostars = amount.nanostar_amount or 0
            self.balance = amount.amount * TENTHS_PER_STAR + max(
                nanostars // NANOSTARS_PER_TENTH, 0
            )

    def refused(self, reason: str) -> None:
        """Telegram refused a paid send or the balance query: no paying until tomorrow."""
        self.close(REFUSED, reason)

    def close(self, reason: str, detail: str) -> None:
        """Stop paying until the next UTC day; the admins hear of it once."""
        if self.closed is None:
            self.closed = reason
            self._tell(reason, detail)

    def _tell(self, reason: str, detail: str) -> None:
        """Log why the lane does not pay, and tell the admins once a day for each reason."""
        if reason in self._told:
            return
        self._told.add(reason)
        log.warning(
            "paid lane not paying; sending at the free rate",
            extra={"reason": reason, "detail": detail},
        )
        self.on_closed(reason, detail)

    def _roll(self) -> None:
        day = day_of(self.clock())
        if day != self.day:
            self.paid_today = self.paid_on(day)  # first: a failed read leaves yesterday closed
            self.day = day
            self.closed = None
            self._told = set()
