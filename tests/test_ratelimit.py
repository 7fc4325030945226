"""The shared send budget and the bot's rate limiter: priority, per-chat gaps, 429 and retries."""

from __future__ import annotations

import asyncio

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from delivery.ratelimit import HIGH, LOW, OUTBOX, BotRateLimiter, SendBudget
from tests.botapi import BotApiServer
from tests.timing import FakeClock, within

START = 1_000_000.0


async def grants(budget: SendBudget, clock: FakeClock, wanted: list[tuple[str, int, int | None]]):
    """Ask the budget for every (name, priority, chat) at once; (name, time) in the order served."""
    served: list[tuple[str, float]] = []

    async def one(name: str, priority: int, chat: int | None) -> None:
        await budget.acquire(priority, chat)
        served.append((name, clock()))

    async with clock.running():
        await within(asyncio.gather(*(one(*args) for args in wanted)), "every sender to be served")
    return served


async def test_replies_are_served_before_the_outbox_that_waited_longer():
    clock = FakeClock(START)
    budget = SendBudget(10, clock=clock, sleep=clock.sleep, period=1.0)
    wanted = [(f"alert{n}", LOW, None) for n in range(5)] + [
        (f"reply{n}", HIGH, None) for n in range(5)
    ]
    served = await grants(budget, clock, wanted)
    assert [name for name, _ in served] == [f"reply{n}" for n in range(5)] + [
        f"alert{n}" for n in range(5)
    ]
    assert budget.granted == {HIGH: 5, LOW: 5}


async def test_the_overall_limit_holds_and_sends_are_evenly_spaced():
    clock = FakeClock(START)
    budget = SendBudget(10, clock=clock, sleep=clock.sleep, period=1.0)
    served = await grants(budget, clock, [(str(n), n % 2, None) for n in range(25)])
    times = [at for _, at in served]
    assert all(later - first >= 1.0 - 1e-9 for first, later in zip(times, times[10:], strict=False))
    assert times == pytest.approx([START + n / 10 for n in range(25)])


async def test_an_alert_waits_its_gap_after_anything_its_chat_got_but_replies_do_not():
    clock = FakeClock(START)
    budget = SendBudget(30, clock=clock, sleep=clock.sleep, private_gap=1.05, group_gap=3.0)
    wanted = [
        ("reply1", HIGH, 7),
        ("reply2", HIGH, 7),
        ("alert", LOW, 7),
        ("group alert1", LOW, -100),
        ("group alert2", LOW, -100),
        ("other", LOW, 8),
    ]
    at = dict(await grants(budget, clock, wanted))
    assert at["reply2"] - at["reply1"] < 0.5  # a private chat may get a short burst of replies
    assert at["alert"] - at["reply2"] >= 1.05
    assert at["group alert2"] - at["group alert1"] >= 3.0
    assert at["other"] - START < 0.5  # not held up behind chat 7's gap


async def test_a_group_never_gets_more_than_20_messages_a_minute():
    clock = FakeClock(START)
    budget = SendBudget(30, clock=clock, sleep=clock.sleep)
    served = await grants(budget, clock, [(str(n), HIGH, -100) for n in range(45)])
    times = [at for _, at in served]
    assert times[19] - times[0] < 1.0  # replies to a group may come in a burst
    assert all(
        later - first >= 60.0 for first, later in zip(times, times[20:], strict=False)
    )  # of 20 a minute


async def test_a_429_holds_its_chat_and_several_at_once_hold_everyone():
    clock = FakeClock(START)
    budget = SendBudget(30, clock=clock, sleep=clock.sleep)
    budget.too_many_requests(7, 5.0)
    at = dict(await grants(budget, clock, [("held", HIGH, 7), ("free", HIGH, 8)]))
    assert at["held"] - START >= 5.0
    assert at["free"] - START < 0.5

    now = clock()
    for chat in (11, 12, 13):  # three chats within a second: the limit is the bot's own
        budget.too_many_requests(chat, 2.0)
    at = dict(await grants(budget, clock, [("anyone", HIGH, 20)]))
    assert at["anyone"] - now >= 2.0


async def test_the_budget_stops_serving_once_its_last_waiter_gives_up():
    clock = FakeClock(START)  # never moves: the held chat stays held
    budget = SendBudget(30, clock=clock, sleep=clock.sleep)
    budget.too_many_requests(7, 60.0)
    waiting = asyncio.create_task(budget.acquire(LOW, 7))
    await asyncio.sleep(0.01)
    (server,) = [t for t in asyncio.all_tasks() if t.get_name() == "send budget"]
    waiting.cancel()  # a stopping sender cancels the sends still waiting for a slot
    await within(
        server, "the budget's server to end", seconds=5
    )  # nothing left pending, no close()


async def limited_bot(api: BotApiServer, clock: FakeClock, **options) -> ExtBot:
    budget = SendBudget(30, clock=clock, sleep=clock.sleep)
    bot = ExtBot(
        api.token,
        base_url=api.base_url,
        request=HTTPXRequest(connection_pool_size=8),
        rate_limiter=BotRateLimiter(budget, **options),
    )
    await bot.initialize()
    return bot


async def test_a_reply_that_meets_429_waits_retry_after_and_is_sent():
    clock = FakeClock(START)
    async with BotApiServer(clock=clock) as api:
        api.private_chat(7, "u7")
        bot = await limited_bot(api, clock)
        api.fail_next("sendMessage", status=429, retry_after=3, count=2)
        async with clock.running():
            message = await within(bot.send_message(7, "أهلاً"), "the reply")
        await bot.shutdown()
    first, second, sent = api.calls_to("sendMessage")
    assert [c.status for c in (first, second, sent)] == [429, 429, 200]
    assert sent.at - first.at >= 6.0  # retry_after waited out twice, on the server's clock
    assert [m.message_id for m in api.sent_messages(7)] == [message.message_id]


async def test_retries_are_bounded_and_the_outbox_gets_its_429_back():
    clock = FakeClock(START)
    async with BotApiServer(clock=clock) as api:
        api.private_chat(7, "u7")
        bot = await limited_bot(api, clock, max_retries=2)
        api.fail_next("sendMessage", status=429, retry_after=1, count=10)
        async with clock.running():
            with pytest.raises(RetryAfter):
                await within(bot.send_message(7, "رد"), "the reply")
            assert len(api.calls_to("sendMessage")) == 3  # the first try and two retries
            with pytest.raises(RetryAfter):  # the sender keeps the row and retries it itself
                await within(bot.send_message(7, "تنبيه", rate_limit_args=OUTBOX), "the alert")
        await bot.shutdown()
    assert len(api.calls_to("sendMessage")) == 4
    assert api.sent_messages(7) == []
