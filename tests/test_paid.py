"""The paid lane: past the free rate with allow_paid_broadcast, within the day's ceiling and the
bot's balance, falling back to the free rate with nothing lost or sent twice; against the test
Bot API server, which debits 0.1 Star for each paid message past its free 30 a second."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

import pytest
from telegram.error import BadRequest, RetryAfter
from telegram.ext import ExtBot

from app.bootstrap import SendSettings, bootstrap, build_sender, send_budget
from core.i18n import load_catalog
from core.settings import SettingsError, load_settings
from delivery.notices import AdminNotices
from delivery.paid import PAID_KINDS, PaidLane
from delivery.ratelimit import LOW, BotRateLimiter, InFlight, SendBudget
from storage import outbox
from storage import stats as stats_store
from tests.botapi import BotApiServer, RateLimits
from tests.support import (
    START,
    add_private_chats,
    bot_settings,
    drain_until,
    make_bot,
    network_idle,
    queue,
)
from tests.timing import FakeClock

CATALOG = load_catalog()
ADMIN = 900
DAY = 86400


@dataclass
class Stars:
    """getMyStarBalance's answer, as the lane reads it."""

    amount: int
    nanostar_amount: int | None = 0


class Balance:
    """A bot's getMyStarBalance, counting the calls."""

    def __init__(self, amount: int, nanostars: int = 0) -> None:
        self.stars = Stars(amount, nanostars)
        self.calls = 0

    async def __call__(self) -> Stars:
        self.calls += 1
        return self.stars


def lane_for(api: BotApiServer, bot, db, clock, *, kinds: str = "all", stars: int = 100):
    """The lane as bootstrap builds it, over the test server's bot, telling the admin."""
    add_private_chats(api, db, [ADMIN], language="en")
    notices = AdminNotices(db, CATALOG, [ADMIN], clock=clock)
    return PaidLane(
        PAID_KINDS[kinds],
        stars,
        balance=bot.get_my_star_balance,
        clock=clock,
        paid_on=lambda day: stats_store.sends_on(db, day)["paid"],
        on_closed=notices.paid_lane_closed,
    )


async def send_broadcast(api, db, clock, lane_options: dict, chat_count: int, balance: int):
    """A broadcast to `chat_count` chats sent through the paid lane; the lane."""
    ids = list(range(1000, 1000 + chat_count))
    add_private_chats(api, db, ids)
    api.star_balance_tenths = balance * 10
    outbox.create_broadcast(
        db, "إعلان", created_by=1, source_chat_id=1, source_message_id=1, chat_ids=ids, now=1
    )
    bot = await make_bot(api)
    lane = lane_for(api, bot, db, clock, **lane_options)
    sending = SendSettings(overall_per_second=30, private_gap=1.05)
    sender = build_sender(
        db, bot, CATALOG, clock=clock, sleep=clock.sleep, sending=sending, paid=lane
    )
    async with clock.running(idle=lambda: network_idle(bot)):
        await drain_until(
            sender, lambda: not {"pending", "sending"} & set(outbox.status_counts(db))
        )
    await bot.shutdown()
    return lane, ids


def delivered_once(api: BotApiServer, ids: list[int]) -> bool:
    received = Counter(r.chat_id for r in api.send_log if r.chat_id != ADMIN)
    return set(received) == set(ids) and set(received.values()) == {1}


async def test_a_broadcast_past_the_free_rate_is_paid_and_each_paid_message_debited(db):
    clock = FakeClock(START)
    limits = RateLimits(overall_per_second=30, private_chat_per_second=1)
    async with BotApiServer(rate_limits=limits, clock=clock) as api:
        lane, ids = await send_broadcast(api, db, clock, {"kinds": "broadcasts"}, 300, 100)
    assert delivered_once(api, ids)
    assert api.too_many_requests == 0
    paid = sum(r.paid for r in api.send_log)
    times = [r.at for r in api.send_log]
    # 300 messages at 30 a second would take ten: the first second's go free, the rest paid.
    assert times[-1] - times[0] < 2.0
    assert 300 - 2 * 30 <= paid <= 300 - 30
    # The lane counts every paid message; the server debits those past its own free 30 a
    # second, which (its window a little shorter than ours) may be a few fewer.
    assert paid == lane.paid_today
    assert paid - 30 <= api.stars_debited_tenths <= paid
    today = stats_store.sends_on(db, lane.day)
    assert today == {"free": 300 - paid, "paid": paid}
    assert lane.closed is None


async def test_alerts_are_not_paid_for_when_the_lane_covers_broadcasts_only(db):
    clock = FakeClock(START)
    limits = RateLimits(overall_per_second=30, private_chat_per_second=1)
    async with BotApiServer(rate_limits=limits, clock=clock) as api:
        ids = list(range(2000, 2060))
        add_private_chats(api, db, ids)
        for number, chat_id in enumerate(ids):
            queue(db, chat_id, number)
        api.star_balance_tenths = 1000
        bot = await make_bot(api)
        lane = lane_for(api, bot, db, clock, kinds="broadcasts")
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep, paid=lane)
        async with clock.running(idle=lambda: network_idle(bot)):
            await drain_until(sender, lambda: outbox.status_counts(db) == {"sent": 60})
        await bot.shutdown()
    assert not any(r.paid for r in api.send_log)
    assert not any("allow_paid_broadcast" in call.params for call in api.calls)
    times = [r.at for r in api.send_log]
    assert times[-1] - times[0] >= 1.0  # 60 alerts at the free 30 a second


async def test_the_days_ceiling_stops_paying_and_the_rest_go_free(db):
    clock = FakeClock(START)
    limits = RateLimits(overall_per_second=30, private_chat_per_second=1)
    async with BotApiServer(rate_limits=limits, clock=clock) as api:
        lane, ids = await send_broadcast(api, db, clock, {"stars": 2}, 200, 100)
    assert delivered_once(api, ids)
    assert sum(r.paid for r in api.send_log) == 20 == lane.paid_today  # 2 Stars: 20 messages
    assert api.stars_debited_tenths == 20
    assert lane.closed == "ceiling"
    notice = api.sent_messages(ADMIN)
    assert [m.text for m in notice] == [CATALOG.text("en", "paid_lane_ceiling_notice", ceiling="2")]
    # A restart the same day reads what was paid: it does not pay again.
    again = PaidLane(
        PAID_KINDS["all"], 2, balance=Balance(100), clock=clock,
        paid_on=lambda day: stats_store.sends_on(db, day)["paid"],
    )  # fmt: skip
    await again.read_balance()
    assert not again.available()
    clock.advance(DAY)  # the next UTC day opens it again
    assert again.available()


async def test_a_refused_paid_send_goes_again_free_and_the_admins_hear_once(db):
    clock = FakeClock(START)
    limits = RateLimits(overall_per_second=30, private_chat_per_second=1)
    async with BotApiServer(rate_limits=limits, clock=clock) as api:
        api.paid_broadcast_allowed = False
        lane, ids = await send_broadcast(api, db, clock, {}, 100, 100)
    assert delivered_once(api, ids)
    assert outbox.status_counts(db) == {"sent": 101}  # the 100 and the admin's notice
    refusals = [c for c in api.calls if c.status == 400]
    assert len(refusals) >= 1
    assert all(c.params.get("allow_paid_broadcast") for c in refusals)
    assert lane.closed == "refused"
    (notice,) = api.sent_messages(ADMIN)
    assert notice.text.startswith("⭐ Telegram refused a paid send:")
    assert api.stars_debited_tenths == 0
    assert stats_store.sends_on(db, lane.day)["free"] == 101


async def test_an_empty_balance_sends_free_and_says_so_once(db):
    clock = FakeClock(START)
    limits = RateLimits(overall_per_second=30, private_chat_per_second=1)
    async with BotApiServer(rate_limits=limits, clock=clock) as api:
        lane, ids = await send_broadcast(api, db, clock, {}, 90, 0)
    assert delivered_once(api, ids)
    assert not any(r.paid for r in api.send_log)
    assert lane.closed is None  # not closed: a top-up opens the lane again
    (notice,) = api.sent_messages(ADMIN)
    assert notice.text == CATALOG.text("en", "paid_lane_balance_notice")


async def test_the_balance_is_read_when_stale_and_counted_down_between_reads():
    clock = FakeClock(START)
    balance = Balance(1, nanostars=500_000_000)  # 1.5 Stars: 15 paid messages
    lane = PaidLane(PAID_KINDS["alerts"], 100, balance=balance, clock=clock)
    assert lane.covers("alert")
    assert not lane.covers("broadcast")
    assert not lane.covers("notice")
    assert not lane.available()  # not read yet
    await lane.read_balance()
    await lane.read_balance()
    assert balance.calls == 1
    for _ in range(15):
        assert lane.available()
        lane.spend()
    assert not lane.available()
    balance.stars = Stars(3)  # topped up; read again a few minutes on
    clock.advance(301)
    await lane.read_balance()
    assert balance.calls == 2
    assert lane.available()


async def timed_grants(budget: SendBudget, clock: FakeClock, chat: int, **options) -> tuple:
    """Acquire a slot: (chat, when granted, whether paid)."""
    paid = await budget.acquire(chat=chat, **options)
    return chat, clock(), paid


async def test_the_budget_pays_only_once_the_free_second_is_full_and_within_the_ceiling():
    clock = FakeClock(START)
    lane = PaidLane(PAID_KINDS["all"], 1, balance=Balance(10), clock=clock)  # 10 paid messages
    await lane.read_balance()
    budget = SendBudget(2, clock=clock, sleep=clock.sleep, paid=lane, paid_per_second=10)
    in_order: list[tuple] = []

    async def take(chat: int) -> None:
        in_order.append(await timed_grants(budget, clock, chat, priority=LOW, may_pay=True))

    async with clock.running():
        await asyncio.gather(*(take(chat) for chat in range(1, 17)))
    lanes = [paid for _, _, paid in in_order]
    assert lanes == [False, False] + [True] * 10 + [False] * 4
    assert lane.paid_today == 10
    assert lane.closed == "ceiling"
    paid_times = [at for _, at, paid in in_order if paid]
    assert paid_times[-1] - paid_times[0] < 1.02  # ten a second, not two


async def test_the_paid_lane_yields_to_a_reply_and_to_what_may_not_pay():
    clock = FakeClock(START)
    lane = PaidLane(PAID_KINDS["all"], 100, balance=Balance(100), clock=clock)
    await lane.read_balance()
    budget = SendBudget(2, clock=clock, sleep=clock.sleep, paid=lane, paid_per_second=10)

    async def reply_later() -> tuple:
        await clock.sleep(1.5)
        return await timed_grants(budget, clock, 999)  # a reply: HIGH, may not pay

    async with clock.running():
        payers = [timed_grants(budget, clock, c, priority=LOW, may_pay=True) for c in range(40)]
        free = timed_grants(budget, clock, 500, priority=LOW)
        granted = await asyncio.gather(*payers, free, reply_later())
    at = {chat: when for chat, when, _ in granted}
    assert max(at.values()) - START > 3.0  # the payers' burst was still going on
    assert at[999] - (START + 1.5) <= 1.1  # the reply waited for the free second to drain
    assert at[500] - START <= 2.2  # the notice (may not pay) waited about a second, then two
    assert sum(paid for _, _, paid in granted) >= 20


@pytest.mark.parametrize("kind", ["off", "nonsense"])
def test_the_setting_is_checked(kind):
    if kind == "off":
        assert load_settings({"PAID_BROADCAST": "OFF"}).paid_broadcast == "off"
        return
    with pytest.raises(SettingsError, match="PAID_BROADCAST must be one of"):
        load_settings({"PAID_BROADCAST": kind})


async def test_the_server_debits_paid_sends_past_its_free_rate_and_refuses_unpaid_ones():
    clock = FakeClock(START)
    async with BotApiServer(rate_limits=RateLimits(overall_per_second=3), clock=clock) as api:
        for chat in range(1, 9):
            api.private_chat(chat, f"u{chat}")
        api.star_balance_tenths = 25  # 2.5 Stars
        bot = await make_bot(api)
        try:
            await sends_against_the_server(api, bot)
        finally:
            await bot.shutdown()


async def sends_against_the_server(api: BotApiServer, bot) -> None:
    """Free, unpaid-past-the-rate, paid, and refused paid sends, in one second."""
    balance = await bot.get_my_star_balance()
    assert (balance.amount, balance.nanostar_amount) == (2, 500_000_000)
    for chat in (1, 2, 3):  # the free three of this second
        await bot.send_message(chat, "free")
    with pytest.raises(RetryAfter):
        await bot.send_message(4, "past the free rate, unpaid")
    for chat in (4, 5):
        await bot.send_message(chat, "paid", allow_paid_broadcast=True)
    assert [r.paid for r in api.send_log] == [False, False, False, True, True]
    assert api.star_balance_tenths == 23
    api.star_balance_tenths = 0
    with pytest.raises(BadRequest, match="(?i)stars"):
        await bot.send_message(6, "paid, nothing to pay with", allow_paid_broadcast=True)
    api.paid_broadcast_allowed = False
    with pytest.raises(BadRequest):
        await bot.send_message(7, "paid, not allowed", allow_paid_broadcast=True)


async def test_the_setting_turns_the_lane_on_in_the_bot_as_bootstrap_wires_it(tmp_path):
    limits = RateLimits(overall_per_second=30, private_chat_per_second=1)
    async with BotApiServer(rate_limits=limits) as api:
        settings = bot_settings(
            api, tmp_path, PAID_BROADCAST="broadcasts", PAID_BROADCAST_STARS_PER_DAY="3"
        )
        budget = send_budget(settings)
        bot = ExtBot(api.token, base_url=api.base_url, rate_limiter=BotRateLimiter(budget))
        await bot.initialize()
        rasd = bootstrap(settings, bot=bot, budget=budget)
        assert rasd.sender is not None
        ids = list(range(3000, 3100))
        add_private_chats(api, rasd.db, ids)
        api.star_balance_tenths = 1000
        outbox.create_broadcast(
            rasd.db, "إعلان", created_by=1, source_chat_id=1, source_message_id=1, chat_ids=ids,
            now=1,
        )  # fmt: skip
        await drain_until(rasd.sender, lambda: len(api.send_log) == 100)
        lane = rasd.sender.transport.paid
        assert lane is not None
        counted = stats_store.sends_on(rasd.db, lane.day)
        await bot.shutdown()
        await rasd.aclose()
    assert delivered_once(api, ids)
    assert counted == {"free": 100 - lane.paid_today, "paid": lane.paid_today}
    assert 1 <= api.stars_debited_tenths <= lane.paid_today <= 30  # within 3 Stars


async def test_requests_in_flight_follow_the_rate_times_the_shortest_round_trip():
    clock = FakeClock(START)
    bound = InFlight(low=4, high=128, clock=clock)
    assert bound.limit == 4
    bound.observe(0.05, 1000)  # 1,000 a second at 50 ms: 50 in flight, twice over
    assert bound.limit == 100
    bound.observe(0.5, 1000)  # a slow one (our own queue): the shortest still holds
    assert bound.limit == 100
    bound.observe(0.002, 30)  # the free rate over a short trip: the floor
    assert bound.limit == 4
    clock.advance(31)  # the short trip is forgotten after half a minute
    bound.observe(0.04, 1000)
    assert bound.limit == 80
    bound.observe(10, 1000)
    assert bound.limit == 80


async def test_requests_in_flight_wait_for_a_place_and_a_cancelled_one_frees_its_own():
    bound = InFlight(low=2, high=2)
    inside: list[int] = []
    release = asyncio.Event()

    async def request(number: int) -> None:
        async with bound:
            inside.append(number)
            await release.wait()

    tasks = [asyncio.create_task(request(n)) for n in range(5)]
    await settle_tasks()
    assert inside == [0, 1]
    assert bound.active == 2
    tasks[2].cancel()  # waiting, then cancelled: takes no place
    await settle_tasks()
    release.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert inside == [0, 1, 3, 4]
    assert bound.active == 0


async def settle_tasks() -> None:
    """Let every ready task run until it waits."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_a_bot_wide_429_holds_paid_messages_too():
    clock = FakeClock(START)
    lane = PaidLane(PAID_KINDS["all"], 100, balance=Balance(100), clock=clock)
    await lane.read_balance()
    budget = SendBudget(2, clock=clock, sleep=clock.sleep, paid=lane, paid_per_second=10)
    async with clock.running():
        for chat in (1, 2):  # the free second is full
            await budget.acquire(LOW, chat, may_pay=True)
        budget.too_many_requests(None, 3.0)  # Telegram: everyone waits three seconds
        _, at, _ = await timed_grants(budget, clock, 3, priority=LOW, may_pay=True)
    assert at - START >= 3.0
    assert lane.paid_today == 0  # the first slot after the pause is a free one


async def test_the_lane_does_not_yield_to_a_reply_its_chat_could_not_take_yet():
    clock = FakeClock(START)
    lane = PaidLane(PAID_KINDS["all"], 100, balance=Balance(100), clock=clock)
    await lane.read_balance()
    budget = SendBudget(2, clock=clock, sleep=clock.sleep, paid=lane, paid_per_second=10)
    budget.too_many_requests(999, 4.0)  # the reply's chat is held four seconds
    async with clock.running():
        reply = asyncio.ensure_future(timed_grants(budget, clock, 999))
        payers = [timed_grants(budget, clock, c, priority=LOW, may_pay=True) for c in range(30)]
        granted = await asyncio.gather(*payers)
        _, replied_at, _ = await reply
    assert max(at for _, at, _ in granted) - START < 3.0  # the burst did not wait for the reply
    assert sum(paid for _, _, paid in granted) >= 20
    assert replied_at - START >= 4.0


@pytest.mark.parametrize(
    ("refusals", "lane_closed", "delivered"),
    [(1, "refused", True), (2, None, False)],
    ids=["the lane's refusal", "the chat's refusal"],
)
async def test_a_paid_refusal_is_the_lanes_only_if_the_same_message_then_goes_free(
    db, refusals, lane_closed, delivered
):
    clock = FakeClock(START)
    limits = RateLimits(overall_per_second=30, private_chat_per_second=1)
    async with BotApiServer(rate_limits=limits, clock=clock) as api:
        odd = "Bad Request: something Telegram has not explained"
        # The last chat in line: its message goes in the paid burst.
        api.fail_next("sendMessage", 400, count=refusals, chat_id=1059, description=odd)
        lane, ids = await send_broadcast(api, db, clock, {}, 60, 100)
    got = {r.chat_id for r in api.send_log}
    assert (1059 in got) is delivered
    assert got >= set(ids) - {1059}
    assert lane.closed == lane_closed
    told = [m.text for m in api.sent_messages(ADMIN)]
    assert len(told) == (1 if lane_closed else 0)
