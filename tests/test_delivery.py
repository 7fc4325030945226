"""The outbox sender against the test Bot API server: limits, errors, folding, digests, quiet hours."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from app.bootstrap import SendSettings, build_sender
from core.i18n import load_catalog
from core.models import Article
from delivery.ratelimit import SlidingWindow
from delivery.sender import SendPolicy
from storage import articles, chats, feeds, outbox
from tests.botapi import BotApiServer, RateLimits
from tests.support import (
    START,
    add_private_chats,
    add_site_article,
    drain_until,
    make_bot,
    network_idle,
    queue,
)
from tests.timing import FakeClock, eventually

CATALOG = load_catalog()


async def test_sliding_window_never_exceeds_its_limit():
    clock = FakeClock(START)
    window = SlidingWindow(10, clock, sleep=clock.sleep)
    stamps = []
    async with clock.running():
        for _ in range(25):  # as SendBudget spends it: wait until ready, then take the slot
            while (wait := window.ready_in()) > 0:
                await clock.sleep(wait)
            window.take()
            stamps.append(clock())
    for i in range(len(stamps) - 10):
        assert stamps[i + 10] - stamps[i] >= 1.0 - 1e-6
    assert stamps == pytest.approx([START + n / 10 for n in range(25)])  # evenly spaced


async def test_broadcast_reaches_every_chat_once_within_limits(db):
    clock = FakeClock(START)
    limits = RateLimits(overall_per_second=30, private_chat_per_second=1)
    async with BotApiServer(rate_limits=limits, clock=clock) as api:
        ids = list(range(1000, 1060))
        add_private_chats(api, db, ids)
        outbox.create_broadcast(
            db, "إعلان", created_by=1, source_chat_id=1, source_message_id=1, chat_ids=ids, now=1
        )
        outbox.create_broadcast(
            db,
            "إعلان ثان",
            created_by=1,
            source_chat_id=1,
            source_message_id=2,
            chat_ids=ids,
            now=1,
        )
        bot = await make_bot(api)
        sending = SendSettings(overall_per_second=30, private_gap=1.05)
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep, sending=sending)
        async with clock.running(idle=lambda: network_idle(bot)):
            await drain_until(sender, lambda: len(api.send_log) >= 120)
        await bot.shutdown()
    received = Counter((r.chat_id, r.text.split("\n")[-1]) for r in api.send_log)
    assert set(received.values()) == {1}
    assert len(received) == 120
    assert outbox.status_counts(db) == {"sent": 120}
    # The server keeps Telegram's limits on the same clock: the pacing never tripped them.
    assert api.too_many_requests == 0
    times = [r.at for r in api.send_log]
    assert all(t30 - t0 >= 1.0 for t0, t30 in zip(times, times[30:], strict=False))  # <= 30/s
    assert times[-1] - times[0] >= 3.0  # 120 messages at 30 per second
    for chat_id in ids:
        first, second = (r.at for r in api.send_log if r.chat_id == chat_id)
        assert second - first >= sending.private_gap


async def test_one_busy_chat_does_not_delay_the_others_first_alert(db):
    clock = FakeClock(START)
    limits = RateLimits(private_chat_per_second=1)
    async with BotApiServer(rate_limits=limits, clock=clock) as api:
        busy, others = 5000, list(range(5001, 5011))
        add_private_chats(api, db, [busy, *others])
        for number in range(40):
            queue(db, busy, number)
        for offset, chat_id in enumerate(others):
            queue(db, chat_id, 100 + offset)
        bot = await make_bot(api)
        sending = SendSettings(private_gap=1.05, alerts_per_hour=1000)
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep, sending=sending)
        async with clock.running(idle=lambda: network_idle(bot)):
            await drain_until(sender, lambda: {r.chat_id for r in api.send_log} >= set(others))
        await bot.shutdown()
    log = api.send_log
    last_first = max(i for i, r in enumerate(log) if r.chat_id in others)
    assert [r.chat_id for r in log[: last_first + 1]].count(busy) == 1  # before its second
    assert log[last_first].at - log[0].at < 1.0  # the others all got theirs within a second
    assert api.too_many_requests == 0


async def test_a_story_for_ten_chats_is_not_held_behind_one_for_three_hundred(db):
    clock = FakeClock(START)
    limits = RateLimits(overall_per_second=30, private_chat_per_second=1)
    async with BotApiServer(rate_limits=limits, clock=clock) as api:
        big, small = list(range(1000, 1300)), list(range(5000, 5010))
        add_private_chats(api, db, [*big, *small])
        for number, chat_ids in ((1, big), (2, small)):  # as intake queues a story's chats
            article_id, story_id = add_site_article(db, number)
            outbox.queue_alerts(
                db,
                {c: ["المغرب"] for c in chat_ids},
                story_id=story_id,
                article_id=article_id,
                now=1,
            )
        bot = await make_bot(api)
        sending = SendSettings(overall_per_second=30, private_gap=1.05)
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep, sending=sending)
        async with clock.running(idle=lambda: network_idle(bot)):
            await drain_until(sender, lambda: len(api.send_log) >= 310)
        await bot.shutdown()
    log = api.send_log
    small_at = [i for i, r in enumerate(log) if r.chat_id in small]
    assert len(small_at) == 10
    # The stories took turns from the first round on: the ten went within the rows claimed
    # ahead (three rounds), not after the 300 (ten seconds at 30 a second).
    assert max(small_at) < 3 * SendPolicy.batch
    assert log[max(small_at)].at - log[0].at < 3 * SendPolicy.batch / 30
    assert sorted(r.chat_id for r in log) == [*big, *small]  # each chat once, nothing lost
    assert outbox.status_counts(db) == {"sent": 310}
    assert api.too_many_requests == 0


async def test_blocked_user_is_marked_inactive_and_keeps_keywords(db):
    async with BotApiServer() as api:
        add_private_chats(api, db, [7, 8])
        chats.add_subscription(db, 7, "المغرب", "مغرب", now=1)
        api.block(7)
        queue(db, 7, 1)
        queue(db, 8, 2)
        bot = await make_bot(api)
        sender = build_sender(db, bot, CATALOG, clock=time.time)
        await drain_until(sender, lambda: not chats.get_chat(db, 7).active and api.send_log)
        await bot.shutdown()
    assert [r.chat_id for r in api.send_log] == [8]
    assert chats.active_chat_ids(db) == [8]
    assert [s.keyword for s in chats.chat_subscriptions(db, 7)] == ["المغرب"]
    assert outbox.status_counts(db) == {"sent": 1, "undeliverable": 1}
    # The user unblocks and writes again: active once more.
    chats.touch_chat(db, 7, type="private", title="", language="ar", now=2)
    assert chats.active_chat_ids(db) == [7, 8]


async def test_group_upgraded_to_supergroup_gets_its_alerts_at_the_new_id(db):
    old, new = -4001, -1001234567890
    async with BotApiServer() as api:
        api.group(old, "مجموعة", admins=[1], members=[1])
        chats.touch_chat(db, old, type="group", title="مجموعة", language="ar", now=1)
        chats.add_subscription(db, old, "المغرب", "مغرب", now=1)
        api.migrate_group(old, new, by_user_id=1)
        queue(db, old, 1)
        moved = []
        bot = await make_bot(api)
        sender = build_sender(
            db, bot, CATALOG, clock=time.time, on_chat_moved=lambda a, b: moved.append((a, b))
        )
        await drain_until(sender, lambda: any(r.chat_id == new for r in api.send_log))
        await bot.shutdown()
    assert moved == [(old, new)]
    assert chats.get_chat(db, old) is None
    assert [s.keyword for s in chats.chat_subscriptions(db, new)] == ["المغرب"]


@pytest.mark.slow  # the sender waits a second before it sends again
async def test_refused_html_is_resent_as_plain_text(db):
    async with BotApiServer() as api:
        add_private_chats(api, db, [9])
        queue(db, 9, 1)
        api.fail_next(
            "sendMessage",
            status=400,
            description="Bad Request: can't parse "
            'entities: unsupported start tag "x" at byte offset 3',
        )
        bot = await make_bot(api)
        sender = build_sender(db, bot, CATALOG, clock=time.time)
        await drain_until(sender, lambda: api.send_log)
        await bot.shutdown()
    (record,) = api.send_log
    assert record.text.startswith("🔔 خبر رقم 1")
    plain_call = [c for c in api.calls_to("sendMessage") if c.status == 200][0]
    assert "parse_mode" not in plain_call.params


async def test_429_waits_retry_after_and_never_drops(db):
    clock = FakeClock(START)
    async with BotApiServer(clock=clock) as api:
        add_private_chats(api, db, [10])
        queue(db, 10, 1)
        api.fail_next("sendMessage", status=429, retry_after=1)
        bot = await make_bot(api)
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep)
        async with clock.running(idle=lambda: network_idle(bot)):
            await drain_until(sender, lambda: api.send_log)
        await bot.shutdown()
    refused, accepted = api.calls_to("sendMessage")
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.at - refused.at >= 1.0  # retry_after, on the clock both sides share
    assert sender.transport.too_many_requests == 1
    assert len(api.send_log) == 1
    assert outbox.status_counts(db) == {"sent": 1}


async def test_server_errors_are_retried_then_kept_as_failed(db):
    clock = FakeClock(START)
    async with BotApiServer(clock=clock) as api:
        add_private_chats(api, db, [11])
        queue(db, 11, 1)
        api.fail_next("sendMessage", status=502, count=10, description="Bad Gateway")
        bot = await make_bot(api)
        sending = SendSettings(max_attempts=3)
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep, sending=sending)
        async with clock.running(idle=lambda: network_idle(bot)):
            await drain_until(sender, lambda: outbox.status_counts(db).get("failed"))
        await bot.shutdown()
    calls = api.calls_to("sendMessage")
    assert len(calls) == 3
    assert calls[1].at - calls[0].at >= 2.0  # backing off 2 s...
    assert calls[2].at - calls[1].at >= 4.0  # ...then 4 s
    assert outbox.recent_failures(db) == [(11, "Bad Gateway")]


async def test_alerts_past_the_hourly_cap_fold_into_one_message(db):
    async with BotApiServer() as api:
        add_private_chats(api, db, [12])
        for number in range(6):
            queue(db, 12, number)
        bot = await make_bot(api)
        sender = build_sender(
            db,
            bot,
            CATALOG,
            clock=time.time,
            sending=SendSettings(alerts_per_hour=3, private_gap=0.05),
        )
        await drain_until(sender, lambda: outbox.status_counts(db) == {"sent": 6})
        await bot.shutdown()
    texts = [r.text for r in api.send_log]
    assert len(texts) == 3
    assert texts[0].startswith("🔔 خبر رقم 0")
    assert texts[1].startswith("🔔 خبر رقم 1")
    assert texts[2].startswith("📬 تنبيهات أخرى خلال الساعة الماضية (4):")
    fold = api.sent_messages(12)[2]
    for number in range(2, 6):
        assert (f"خبر رقم {number}", f"https://site/{number}") in fold.links()  # the title links
    assert "https://" not in texts[2]  # and no raw URL is shown


async def test_hourly_digest_sends_one_message_with_every_alert(db):
    async with BotApiServer() as api:
        add_private_chats(api, db, [13])
        chats.set_chat_flags(db, 13, delivery_mode="hourly")
        for number in range(3):
            queue(db, 13, number)
        bot = await make_bot(api)
        sender = build_sender(db, bot, CATALOG, clock=time.time)
        await drain_until(sender, lambda: outbox.status_counts(db) == {"sent": 3})
        await bot.shutdown()
    (record,) = api.send_log
    assert record.text.startswith("📬 ملخص الأخبار (3):")
    assert all(f"خبر رقم {n}" in record.text for n in range(3))


async def test_a_digest_shows_a_story_without_a_link_as_plain_text(db):
    async with BotApiServer() as api:
        add_private_chats(api, db, [14])
        chats.set_chat_flags(db, 14, delivery_mode="hourly")
        queue(db, 14, 1)
        feed_id = feeds.feed_by_url(db, "https://site/feed").id
        story = Article(item_key="k2", url="", title="Rasd.news", text="نص الخبر عن المغرب.",
                        language="ar", content_hash="h2", published_at=time.time())  # fmt: skip
        _, article_id = articles.store_article(db, feed_id, story, now=1)
        articles.set_story(db, article_id, article_id)
        outbox.queue_alert(
            db, 14, story_id=article_id, article_id=article_id, keywords=["المغرب"], now=1
        )
        bot = await make_bot(api)
        sender = build_sender(db, bot, CATALOG, clock=time.time)
        await drain_until(sender, lambda: outbox.status_counts(db) == {"sent": 2})
        await bot.shutdown()
    (record,) = api.send_log
    (message,) = api.messages(14)
    assert "Rasd.news" in record.text
    assert message.links() == [("خبر رقم 1", "https://site/1")]  # its title read as no URL


def quiet_now(mode, now: float):
    """Quiet hours from the hour of `now` to two hours later."""
    hour = datetime.fromtimestamp(now, UTC).hour
    return {
        "quiet_start": hour,
        "quiet_end": (hour + 2) % 24,
        "quiet_mode": mode,
        "timezone": "UTC",
    }


async def test_quiet_hours_hold_until_they_end(db):
    clock = FakeClock(START)  # moved by hand only
    async with BotApiServer(clock=clock) as api:
        add_private_chats(api, db, [14])
        chats.set_chat_flags(db, 14, **quiet_now("hold", START))
        queue(db, 14, 1)
        bot = await make_bot(api)
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep)
        task = asyncio.create_task(sender.run())
        try:
            held_until = await eventually(
                lambda: db.execute("SELECT not_before FROM outbox").fetchone()[0],
                "the sender to hold the alert",
            )
            assert api.send_log == []
            assert held_until == datetime(2026, 3, 24, 10, tzinfo=UTC).timestamp()  # quiet end
            clock.advance(held_until - clock() + 1)
            # The sender may have read the clock but not yet started its idle sleep, which then
            # runs from the new time and never ends: have it look again.
            sender.wake()
            await eventually(lambda: api.send_log, "the alert after quiet hours")
        finally:
            sender.stop()
            await task
        await bot.shutdown()
    assert len(api.send_log) == 1


async def test_quiet_hours_silent_sends_without_sound(db):
    async with BotApiServer() as api:
        add_private_chats(api, db, [15])
        chats.set_chat_flags(db, 15, **quiet_now("silent", time.time()))
        queue(db, 15, 1)
        bot = await make_bot(api)
        sender = build_sender(db, bot, CATALOG, clock=time.time)
        await drain_until(sender, lambda: api.send_log)
        await bot.shutdown()
    (call,) = [c for c in api.calls_to("sendMessage") if c.status == 200]
    assert str(call.params.get("disable_notification")).lower() == "true"


async def test_same_story_from_two_feeds_is_one_alert_listing_both_keywords(db):
    chats.touch_chat(db, 16, type="private", title="", language="ar", now=1)
    article_id, story_id = add_site_article(db, 1)
    assert outbox.queue_alert(
        db, 16, story_id=story_id, article_id=article_id, keywords=["المغرب"], now=1
    )
    assert not outbox.queue_alert(
        db, 16, story_id=story_id, article_id=article_id + 99, keywords=["الرباط", "المغرب"], now=2
    )
    ((_, row_id, _),) = outbox.due_heads(db, now=3)
    (row,) = outbox.claim(db, [row_id], now=3)
    assert row.keywords == ("المغرب", "الرباط")


async def test_digest_alerts_wait_for_the_next_full_hour(db):
    async with BotApiServer() as api:
        add_private_chats(api, db, [17])
        chats.set_chat_flags(db, 17, delivery_mode="hourly", timezone="UTC")
        article_id, story_id = add_site_article(db, 1)
        clock = FakeClock(START)
        now = clock()
        outbox.queue_alert(
            db, 17, story_id=story_id, article_id=article_id, keywords=["المغرب"], now=now
        )
        bot = await make_bot(api)
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep)
        await drain_until(
            sender, lambda: db.execute("SELECT not_before FROM outbox").fetchone()[0] > 0
        )
        await bot.shutdown()
    assert api.send_log == []
    held_until = db.execute("SELECT not_before FROM outbox").fetchone()[0]
    assert held_until == (int(now) // 3600 + 1) * 3600  # the next full hour, UTC
