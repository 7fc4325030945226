"""Delivery benchmark: N alerts to M chats through the real sender and the test Bot API server.

The server enforces the limits (overall messages per second, per private chat per second) and
answers 429 beyond them. In the same run a naive baseline sends the same alerts in queue order,
one request after another, paced only by python-telegram-bot's AIORateLimiter (what a plain PTB
bot does). Prints the rate achieved against the configured limit, 429s, lost and duplicated
messages, and the time to each chat's first alert (p50, p99).

    .venv/bin/python bench/deliver.py                  # 5,000 alerts, 1,000 chats, 30/s, 1/s/chat
    .venv/bin/python bench/deliver.py --rate 100 --alerts 2000 --chats 400 --no-baseline

Scenario "fair" (issue #30 (a)): a story for 5,000 chats, then one second later a story for 10
other chats, at the free limit. It prints the 10 chats' p99 time to alert (target <= 10 s) and
the time until the 5,000th alert (target: within 5% of 5,000/30 s), for this tree and, in the
same run, for the code before the fair order (--before, a git ref checked out beside):

    .venv/bin/python bench/deliver.py --scenario fair  # about 6 minutes
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")
# PTB logs every 429 with a traceback; both senders handle them and the server counts them.
logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
# The code measured: this tree, or (for the fair scenario's "before") a checkout of another ref.
TREE = Path(os.environ.get("RASD_BENCH_TREE") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(TREE))

from telegram.error import RetryAfter  # noqa: E402
from telegram.ext import AIORateLimiter, BaseRateLimiter, ExtBot  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from app.bootstrap import SendSettings, build_sender  # noqa: E402
from core.i18n import load_catalog  # noqa: E402
from core.models import Article  # noqa: E402
from delivery.ratelimit import BotRateLimiter, SendBudget  # noqa: E402
from storage import articles, chats, feeds, outbox  # noqa: E402
from storage.db import open_database  # noqa: E402
from tests.botapi import BotApiServer, RateLimits  # noqa: E402

FIRST_CHAT = 100_000
BEFORE_FAIR_ORDER = "cbf2de5"  # the last commit before stories took turns (issue #30)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def prepare(path: Path, api: BotApiServer, alerts: int, chat_count: int):
    """A database owing `alerts` alerts, grouped by chat (the worst order for a FIFO sender)."""
    db = open_database(path)
    feed_id = feeds.add_feed(db, "https://bench/feed", title="مصدر", interval_seconds=300, now=1)
    per_chat = alerts // chat_count
    chat_ids = [FIRST_CHAT + i for i in range(chat_count)]
    for chat_id in chat_ids:
        api.private_chat(chat_id, f"u{chat_id}", language_code="ar")
        chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
    with db.atomic():
        article_ids = []
        for number in range(per_chat):
            _, article_id = articles.store_article(
                db,
                feed_id,
                Article(
                    item_key=f"k{number}",
                    url=f"https://bench/{number}",
                    title=f"خبر رقم {number}",
                    text=(
                        "قال مسؤولون في المغرب إن الحكومة ستعلن خطة جديدة هذا الأسبوع. "
                        "وأضافوا أن التفاصيل ستنشر لاحقاً بعد اجتماع الوزراء."
                    ),
                    language="ar",
                    content_hash=str(number),
                ),
                now=1,
            )
            articles.set_story(db, article_id, article_id)
            article_ids.append(article_id)
        for chat_id in chat_ids:
            for article_id in article_ids:
                outbox.queue_alert(
                    db,
                    chat_id,
                    story_id=article_id,
                    article_id=article_id,
                    keywords=["المغرب"],
                    now=1,
                )
    return db, chat_ids, per_chat


def make_bot(api: BotApiServer, rate: float, limiter: BaseRateLimiter | None = None) -> ExtBot:
    return ExtBot(
        api.token,
        base_url=api.base_url,
        request=HTTPXRequest(connection_pool_size=128),
        rate_limiter=limiter or AIORateLimiter(overall_max_rate=rate, max_retries=0),
    )


async def start_sender(api, db, rate: float, chat_gap: float):
    """The bot and its sender as bot.py wires them (the budget shared with replies), running."""
    budget = SendBudget(rate, private_gap=chat_gap)
    bot = make_bot(api, rate, BotRateLimiter(budget))
    await bot.initialize()
    sender = build_sender(
        db,
        bot,
        load_catalog(),
        clock=time.time,
        sending=SendSettings(overall_per_second=rate, private_gap=chat_gap, alerts_per_hour=10_000),
        budget=budget,
    )
    return bot, sender, asyncio.create_task(sender.run())


async def until_sent(db, expected: int) -> None:
    while outbox.status_counts(db).get("sent", 0) < expected:  # noqa: ASYNC110 (polls the DB)
        await asyncio.sleep(0.2)


async def run_rasd(api, db, expected: int, rate: float, chat_gap: float) -> float:
    bot, sender, task = await start_sender(api, db, rate, chat_gap)
    started = time.monotonic()
    await until_sent(db, expected)
    sender.stop()
    await task
    await bot.shutdown()
    return started


async def run_naive(api, db, rate: float, budget: float) -> float:
    """Queue order, one at a time, AIORateLimiter only; on 429 wait and retry the same row.
    It is slow (every chat's second alert waits out a 429), so it stops after `budget` seconds."""
    bot = make_bot(api, rate)
    await bot.initialize()
    catalog = load_catalog()
    sender = build_sender(db, bot, catalog, clock=time.time)  # only to render the same text
    rows = db.execute("SELECT id FROM outbox ORDER BY id").fetchall()
    started = time.monotonic()
    for (row_id,) in rows:
        if time.monotonic() - started > budget:
            break
        (row,) = outbox.claim(db, [row_id], time.time())
        article = articles.get_article(db, row.article_id)
        text = await sender.composer.alert(row, article, [article.feed_title], "ar")
        while True:
            try:
                await bot.send_message(row.chat_id, text, parse_mode="HTML")
                break
            except RetryAfter as error:
                await asyncio.sleep(error.retry_after.total_seconds())
        outbox.mark_sent(db, row.id, message_id=0, now=time.time())
    await bot.shutdown()
    return started


def report(
    name: str,
    api: BotApiServer,
    started: float,
    chat_ids: list[int],
    per_chat: int,
    rate: float,
    stopped_early: bool,
) -> None:
    log = api.send_log
    received = Counter((r.chat_id, r.text.split("\n")[0]) for r in log)
    expected = len(chat_ids) * per_chat
    duplicated = sum(count - 1 for count in received.values())
    span = max(r.at for r in log) - min(r.at for r in log)
    achieved = (len(log) - 1) / span if span > 0 else float("inf")
    first: dict[int, float] = {}
    for record in log:
        first.setdefault(record.chat_id, record.at - started)
    # A chat never reached counts as waiting forever.
    waits = [first.get(c, float("inf")) for c in chat_ids]
    note = ""
    if stopped_early:
        note = (
            f"  [stopped after {len(log)} of {expected} messages, {len(first)} chats "
            f"reached; all {expected} would take about {expected / achieved:.0f}s]"
        )
        lost = "n/a"
    else:
        lost = str(expected - len(received))
    bound = 1.2 * len(chat_ids) / rate
    print(
        f"{name:<22} {achieved:7.1f}/s ({achieved / rate:5.1%} of {rate:g}/s)  "
        f"429s {api.too_many_requests:4d}  lost {lost}  duplicated {duplicated}  "
        f"first alert p50 {percentile(waits, 0.5):6.1f}s p99 {percentile(waits, 0.99):6.1f}s "
        f"(bound {bound:.1f}s)  total {span:.1f}s{note}"
    )


def queue_story(db, number: int, chat_ids: list[int]) -> None:
    """One story, alerted to every chat in `chat_ids`."""
    feed = feeds.feed_by_url(db, "https://bench/feed")
    feed_id = (
        feed.id
        if feed
        else feeds.add_feed(db, "https://bench/feed", title="مصدر", interval_seconds=300, now=1)
    )
    text = "قال مسؤولون في المغرب إن الحكومة ستعلن خطة جديدة هذا الأسبوع."
    story = Article(
        f"k{number}", f"https://bench/{number}", f"خبر {number}", text, "ar", str(number)
    )
    with db.atomic():
        _, article_id = articles.store_article(db, feed_id, story, now=1)
        articles.set_story(db, article_id, article_id)
        # As intake queues a story: all its chats at once (each with its place in line).
        outbox.queue_alerts(
            db, {c: ["المغرب"] for c in chat_ids}, story_id=article_id, article_id=article_id, now=1
        )


async def run_fair(rate: float, big: int, small: int) -> dict[str, float]:
    """A story for `big` chats, one second later one for `small` others: their figures."""
    big_ids = [FIRST_CHAT + i for i in range(big)]
    small_ids = [FIRST_CHAT + big + i for i in range(small)]
    limits = RateLimits(overall_per_second=int(rate), private_chat_per_second=1)
    with tempfile.TemporaryDirectory() as tmp:
        async with BotApiServer(rate_limits=limits) as api:
            db = open_database(Path(tmp) / "bench.db")
            for chat_id in big_ids + small_ids:
                api.private_chat(chat_id, f"u{chat_id}", language_code="ar")
                chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
            queue_story(db, 1, big_ids)
            bot, sender, task = await start_sender(api, db, rate, 1.05)
            started = time.monotonic()
            await asyncio.sleep(1.0)
            if small_ids:
                queue_story(db, 2, small_ids)
            small_queued = time.monotonic()
            sender.wake()
            await until_sent(db, big + small)
            sender.stop()
            await task
            await bot.shutdown()
            db.conn.close()
            log = api.send_log
    received = Counter(r.chat_id for r in log)
    waits = [r.at - small_queued for r in log if r.chat_id in set(small_ids)]
    return {
        "small_p99": percentile(waits, 0.99) if waits else 0.0,
        "big_done": max(r.at for r in log if r.chat_id in set(big_ids)) - started,
        "lost": big + small - len(received),
        "duplicated": sum(count - 1 for count in received.values()),
        "too_many": api.too_many_requests,
    }


def fair_line(name: str, figures: dict[str, float], rate: float, big: int) -> str:
    ideal = big / rate
    small_ok = "ok" if figures["small_p99"] <= 10 else "MISSED"
    big_ok = "ok" if figures["big_done"] <= ideal * 1.05 else "MISSED"
    return (
        f"{name:<24} small story p99 {figures['small_p99']:6.1f}s (target <= 10 s: {small_ok})  "
        f"{big}th alert at {figures['big_done']:6.1f}s (ideal {ideal:.1f}s, within 5%: {big_ok})  "
        f"lost {figures['lost']:.0f}  duplicated {figures['duplicated']:.0f}  "
        f"429s {figures['too_many']:.0f}"
    )


async def bench_fair(args: argparse.Namespace) -> None:
    """The fair scenario here, then (unless --no-baseline) on the code before it, in a process
    of its own that imports the checkout."""
    figures = await run_fair(args.rate, args.big, args.small)
    if args.json:
        print(json.dumps(figures))
        return
    print(f"a story for {args.big} chats, then one for {args.small} others 1 s later, "
          f"{args.rate:g}/s")  # fmt: skip
    print(fair_line("this tree", figures, args.rate, args.big))
    if not args.baseline:
        return
    before = before_run(args, big=args.big, small=args.small)
    print(fair_line(f"before ({args.before})", before, args.rate, args.big))


async def serve_api(args: argparse.Namespace) -> None:
    """The test Bot API server for the paid scenario, in a process of its own (Telegram's CPU is
    not the bot's): prints its address, serves until stdin closes, then prints what it got."""
    limits = RateLimits(overall_per_second=int(args.rate), private_chat_per_second=1)
    async with BotApiServer(rate_limits=limits) as api:
        api.star_balance_tenths = args.stars * 10
        for chat_id in range(FIRST_CHAT, FIRST_CHAT + args.big):
            api.private_chat(chat_id, f"u{chat_id}", language_code="ar")
        print(json.dumps({"token": api.token, "base_url": api.base_url}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        sent = [(r.chat_id, r.at, r.paid) for r in api.send_log]
        print(json.dumps({"sent": sent, "debited": api.stars_debited_tenths,
                          "too_many": api.too_many_requests}), flush=True)  # fmt: skip


async def run_paid(rate: float, big: int, stars: int) -> dict[str, float]:
    """A story for `big` chats with the paid lane on (issue #30 (b)): its figures."""
    from app.bootstrap import PAID_BATCH  # not in the code before: imported here
    from delivery.paid import PAID_KINDS, PaidLane

    command = [sys.executable, __file__, "--serve-api", "--rate", str(rate), "--big", str(big),
               "--stars", str(stars)]  # fmt: skip
    server = await asyncio.create_subprocess_exec(
        *command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, limit=1 << 26
    )
    assert server.stdout is not None
    assert server.stdin is not None
    address = json.loads(await server.stdout.readline())
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "bench.db")
        big_ids = [FIRST_CHAT + i for i in range(big)]
        for chat_id in big_ids:
            chats.touch_chat(db, chat_id, type="private", title="", language="ar", now=1)
        queue_story(db, 1, big_ids)
        budget = SendBudget(rate, private_gap=1.05)
        bot = ExtBot(address["token"], base_url=address["base_url"],
                     request=HTTPXRequest(connection_pool_size=128),
                     rate_limiter=BotRateLimiter(budget))  # fmt: skip
        await bot.initialize()
        lane = PaidLane(PAID_KINDS["all"], stars, balance=bot.get_my_star_balance, clock=time.time)
        sending = SendSettings(
            overall_per_second=rate, private_gap=1.05, alerts_per_hour=10_000, batch=PAID_BATCH
        )
        sender = build_sender(
            db, bot, load_catalog(), clock=time.time, sending=sending, budget=budget, paid=lane
        )
        started = time.monotonic()
        task = asyncio.create_task(sender.run())
        await until_sent(db, big)
        sender.stop()
        await task
        await bot.shutdown()
        db.conn.close()
    server.stdin.close()
    report = json.loads(await server.stdout.readline())
    await server.wait()
    received = Counter(chat for chat, _, _ in report["sent"])
    return {
        "last": max(at for _, at, _ in report["sent"]) - started,
        "debited": report["debited"] / 10,
        "past_free": sum(paid for _, _, paid in report["sent"]),
        "counted": lane.paid_today / 10,
        "lost": big - len(received),
        "duplicated": sum(count - 1 for count in received.values()),
        "too_many": report["too_many"],
    }


async def bench_paid(args: argparse.Namespace) -> None:
    """The paid scenario here, beside the same story at the free rate on the code before."""
    figures = await run_paid(args.rate, args.big, args.stars)
    ok = "ok" if figures["last"] <= 15 else "MISSED"
    print(f"a story for {args.big} chats, free limit {args.rate:g}/s, paid lane on (all), "
          f"balance {args.stars} Stars")  # fmt: skip
    print(
        f"{'this tree, paid lane':<24} last alert at {figures['last']:6.1f}s (target <= 15 s: {ok})"
        f"  Stars debited {figures['debited']:g} = 0.1 x {figures['past_free']:.0f} messages "
        f"past the free rate (the lane counted {figures['counted']:g})  "
        f"lost {figures['lost']:.0f}  duplicated {figures['duplicated']:.0f}  "
        f"429s {figures['too_many']:.0f}"
    )
    if not args.baseline:
        return
    before = before_run(args, big=args.big, small=0)
    print(
        f"{'before (' + args.before + ')':<24} last alert at {before['big_done']:6.1f}s "
        f"(the free rate only; ideal {args.big / args.rate:.1f}s)  Stars 0  "
        f"lost {before['lost']:.0f}  duplicated {before['duplicated']:.0f}"
    )


def before_run(args: argparse.Namespace, *, big: int, small: int) -> dict[str, float]:
    """The fair scenario on the code before (`--before`), in a process of its own that
    imports the checkout."""
    from bench.shared import checkout  # here: the "before" process imports another tree's bench

    with tempfile.TemporaryDirectory() as tmp, checkout(args.before, Path(tmp) / "before") as old:
        command = [sys.executable, __file__, "--scenario", "fair", "--json", "--rate",
                   str(args.rate), "--big", str(big), "--small", str(small)]  # fmt: skip
        done = subprocess.run(
            command, env={**os.environ, "RASD_BENCH_TREE": str(old)}, capture_output=True,
            text=True, check=True,
        )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


async def bench(args: argparse.Namespace) -> None:
    limits = RateLimits(
        overall_per_second=int(args.rate), private_chat_per_second=int(args.chat_rate)
    )
    print(
        f"{args.alerts} alerts to {args.chats} chats; server limits {args.rate:g}/s overall, "
        f"{args.chat_rate:g}/s per chat"
    )
    runs = [("Rasd sender", run_rasd)] + (
        [("naive FIFO (baseline)", run_naive)] if args.baseline else []
    )
    for name, runner in runs:
        with tempfile.TemporaryDirectory() as tmp:
            async with BotApiServer(rate_limits=limits) as api:
                db, chat_ids, per_chat = prepare(
                    Path(tmp) / "bench.db", api, args.alerts, args.chats
                )
                if runner is run_rasd:
                    started = await run_rasd(
                        api, db, len(chat_ids) * per_chat, args.rate, 1.0 / args.chat_rate * 1.05
                    )
                else:
                    started = await run_naive(api, db, args.rate, args.baseline_seconds)
                # The server's clock is time.monotonic, as `started` is.
                report(
                    name,
                    api,
                    started,
                    chat_ids,
                    per_chat,
                    args.rate,
                    stopped_early=runner is run_naive,
                )
                db.conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=30.0, help="overall messages per second")
    parser.add_argument("--chat-rate", type=float, default=1.0, help="per private chat per second")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=60.0,
        help="stop the (slow) naive baseline after this long",
    )
    parser.add_argument("--scenario", choices=("spread", "fair", "paid"), default="spread")
    parser.add_argument("--stars", type=int, default=1000, help="paid: the bot's Star balance")
    parser.add_argument("--big", type=int, default=5000, help="fair: the big story's chats")
    parser.add_argument("--small", type=int, default=10, help="fair: the small story's chats")
    parser.add_argument("--before", default=BEFORE_FAIR_ORDER, help="fair: the code before")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-api", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    scenarios = {"fair": bench_fair, "paid": bench_paid, "spread": bench}
    asyncio.run(serve_api(args) if args.serve_api else scenarios[args.scenario](args))


if __name__ == "__main__":
    main()
