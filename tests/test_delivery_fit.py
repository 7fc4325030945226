"""The sender keeps every message within Telegram's limit and loses nothing over it: digests
built within the budget, the rest left pending; "message is too long" is never a failure."""

from __future__ import annotations

import time
from urllib.parse import quote

from app.bootstrap import SendSettings, build_sender
from core.i18n import load_catalog
from core.models import Article
from core.render import MAX_MESSAGE_CHARS
from storage import articles, chats, feeds, outbox
from tests.botapi import BotApiServer, RateLimits, utf16_len
from tests.support import START, add_private_chats, drain_until, make_bot, network_idle
from tests.timing import FakeClock

CATALOG = load_catalog()
SLUG = "المغرب-يستضيف-مؤتمرا-دوليا-حول-التغيرات-المناخية-بمشاركة-وزراء-من-ثلاثين-دولة"


def long_title(number: int) -> str:
    """An ordinary Arabic headline, a little on the long side."""
    return (
        f"الخبر {number}: وزير الداخلية يعلن عن إجراءات جديدة لتنظيم الهجرة وتعزيز التعاون "
        "مع دول الجوار في مجال الأمن ومكافحة التهريب عبر الحدود"
    )


def long_url(number: int) -> str:
    """A publisher URL with a percent-encoded Arabic slug, as Arabic news sites have them."""
    return f"https://www.hespress.com/{quote(SLUG)}-{number}.html"


def queue_long(db, chat_id: int, number: int) -> None:
    feed = feeds.feed_by_url(db, "https://site/feed")
    feed_id = (
        feed.id
        if feed
        else feeds.add_feed(db, "https://site/feed", title="هسبريس", interval_seconds=300, now=1)
    )
    _, article_id = articles.store_article(
        db,
        feed_id,
        Article(
            item_key=f"k{number}",
            url=long_url(number),
            title=long_title(number),
            text="وقال مسؤولون إن الإجراءات ستدخل حيز التنفيذ الشهر المقبل في عدة مدن.",
            language="ar",
            content_hash=f"h{number}",
            published_at=time.time(),
        ),
        now=1,
    )
    articles.set_story(db, article_id, article_id)
    outbox.queue_alert(
        db, chat_id, story_id=article_id, article_id=article_id, keywords=["الهجرة"], now=1
    )


def assert_all_fit(api: BotApiServer) -> None:
    """Every message fits as Telegram counts, and Telegram refused none for its length."""
    assert all(utf16_len(r.text) <= MAX_MESSAGE_CHARS for r in api.send_log)
    assert not [c for c in api.calls_to("sendMessage") if "too long" in (c.description or "")]


def shown_numbers(api: BotApiServer, chat_id: int) -> list[int]:
    """Which alerts the chat's messages show, in order, by the number in their titles."""
    numbers = []
    for message in api.sent_messages(chat_id):
        numbers += [n for n in range(100) if f"الخبر {n}:" in message.text]
    return numbers


async def test_a_40_item_digest_arrives_whole_in_messages_that_fit(db):
    clock = FakeClock(START)
    async with BotApiServer(clock=clock) as api:
        add_private_chats(api, db, [21])
        chats.set_chat_flags(db, 21, delivery_mode="hourly")
        for number in range(40):
            queue_long(db, 21, number)
        bot = await make_bot(api)
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep)
        async with clock.running(idle=lambda: network_idle(bot)):
            await drain_until(sender, lambda: outbox.status_counts(db) == {"sent": 40})
        await bot.shutdown()
    assert_all_fit(api)
    messages = api.sent_messages(21)
    assert len(messages) >= 2  # 40 such items are more than one message holds
    assert all(m.text.startswith("📬 ملخص الأخبار") for m in messages)
    assert sorted(shown_numbers(api, 21)) == list(range(40))  # each alert once, none lost
    links = [e["url"] for m in messages for e in m.entities if e["type"] == "text_link"]
    assert sorted(links) == sorted(long_url(n) for n in range(40))  # every link opens in full
    quotes = [q for m in messages for q in m.entity_texts("expandable_blockquote")]
    assert len(quotes) == 40  # each story's summary, folded under its title
    assert all(q.strip() for q in quotes)


async def test_the_fold_past_the_cap_leaves_what_does_not_fit_for_the_next_message(db):
    clock = FakeClock(START)
    async with BotApiServer(clock=clock) as api:
        add_private_chats(api, db, [22])
        for number in range(30):
            queue_long(db, 22, number)
        bot = await make_bot(api)
        sending = SendSettings(alerts_per_hour=2, digest_max_items=30)
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep, sending=sending)
        async with clock.running(idle=lambda: network_idle(bot)):
            await drain_until(sender, lambda: len(api.send_log) == 2)
            counts = outbox.status_counts(db)
            # The first alert alone, then one fold with as many as fit; the rest wait.
            assert counts.get("failed") is None
            assert 1 < counts["sent"] - 1 < 29
            assert counts["sent"] + counts["pending"] == 30
            # They go out as later folds, as the cap allows (the fake clock jumps ahead).
            sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep, sending=sending)
            await drain_until(sender, lambda: outbox.status_counts(db) == {"sent": 30})
        await bot.shutdown()
    assert_all_fit(api)
    texts = [r.text for r in api.send_log]
    assert api.send_log[2].at - api.send_log[0].at >= 3600  # the next fold, an hour later
    assert texts[0].startswith("🔔 الخبر 0:")
    assert texts[1].startswith("📬 تنبيهات أخرى")
    fold = api.sent_messages(22)[1]
    assert fold.entity_texts("expandable_blockquote") == []  # one line a story, no summaries
    # what is left goes out an hour later: a fold again, or one alert when only one is left
    assert all(t.startswith(("📬 تنبيهات أخرى", "🔔")) for t in texts[2:])
    assert sorted(shown_numbers(api, 22)) == list(range(30))


async def test_message_too_long_is_split_smaller_and_sent_not_failed(db):
    clock = FakeClock(START)
    async with BotApiServer(clock=clock) as api:
        add_private_chats(api, db, [23])
        text = "جملة من إعلان طويل. " * 30
        outbox.create_broadcast(
            db, text, created_by=1, source_chat_id=1, source_message_id=1, chat_ids=[23], now=1
        )
        api.fail_next("sendMessage", status=400, description="Bad Request: message is too long")
        bot = await make_bot(api)
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep)
        async with clock.running(idle=lambda: network_idle(bot)):
            await drain_until(sender, lambda: outbox.status_counts(db) == {"sent": 1})
        await bot.shutdown()
    parts = [r.text for r in api.send_log]
    assert len(parts) >= 2  # re-sent in smaller parts
    assert "".join(parts).replace(" ", "").replace("\n", "") == (
        ("📣 إعلان من «رصد»" + text).replace(" ", "")
    )
    gaps = [b.at - a.at for a, b in zip(api.send_log, api.send_log[1:], strict=False)]
    assert min(gaps) >= SendSettings().private_gap - 1e-3  # parts are paced like messages


async def test_too_long_even_when_short_is_retried_later_never_failed(db):
    clock = FakeClock(START)
    async with BotApiServer(clock=clock) as api:
        add_private_chats(api, db, [24])
        outbox.create_broadcast(
            db, "إعلان", created_by=1, source_chat_id=1, source_message_id=1, chat_ids=[24], now=1
        )
        api.fail_next(
            "sendMessage", status=400, count=2, description="Bad Request: message is too long"
        )
        bot = await make_bot(api)
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep)
        async with clock.running(idle=lambda: network_idle(bot)):
            await drain_until(sender, lambda: outbox.status_counts(db) == {"sent": 1})
        await bot.shutdown()
    refused = [c for c in api.calls_to("sendMessage") if c.status == 400]
    assert len(refused) == 2
    assert api.send_log[0].at - refused[-1].at >= 60  # tried again a minute later
    (attempts,) = db.execute("SELECT attempts FROM outbox").fetchone()
    assert attempts == 1  # the refusals were not counted toward giving up


async def test_a_broadcast_longer_than_one_message_arrives_in_parts_once(db):
    clock = FakeClock(START)
    limits = RateLimits(private_chat_per_second=1)
    async with BotApiServer(clock=clock, rate_limits=limits) as api:
        add_private_chats(api, db, [25])
        text = "\n".join(f"سطر رقم {n} من إعلان إداري طويل جداً." for n in range(300))
        outbox.create_broadcast(
            db, text, created_by=1, source_chat_id=1, source_message_id=1, chat_ids=[25], now=1
        )
        bot = await make_bot(api)
        # Too short a gap: the server answers 429 between parts, and the row is retried.
        sending = SendSettings(private_gap=0.5)
        sender = build_sender(db, bot, CATALOG, clock=clock, sleep=clock.sleep, sending=sending)
        async with clock.running(idle=lambda: network_idle(bot)):
            await drain_until(sender, lambda: outbox.status_counts(db) == {"sent": 1})
        await bot.shutdown()
    assert_all_fit(api)
    assert sender.transport.too_many_requests >= 1
    assert len(api.send_log) >= 3
    shown = "\n".join(r.text for r in api.send_log)
    for n in range(300):
        assert shown.count(f"سطر رقم {n} من") == 1  # every line once: nothing lost or repeated
