"""Every answer fits Telegram's 4,096 characters: long /list pages with ◀️ ▶️, long /add and
/stats answers in several messages, and a reply Telegram still finds too long sent again in
parts (tests/offline.py, whose World refuses what Telegram refuses)."""

from __future__ import annotations

from core import links
from core.models import Article
from storage import chats, outbox, shortlinks
from tests.botapi import bad_request
from tests.offline import ar
from tests.support import USER, store_articles

LONG_WORDS = "عن السياسة والاقتصاد والتعليم في المنطقة العربية وشمال أفريقيا والشرق الأوسط والخليج"


def keyword(number: int) -> str:
    """A keyword near the 100-character limit."""
    return f"موضوع رقم {number} {LONG_WORDS}"


def refused(bot) -> list[str]:
    """Telegram's refusals of the bot's calls (none, unless a test asked for one)."""
    return [f"{c.method}: {c.error}" for c in bot.world.calls if c.error]


async def test_fifty_long_keywords_are_confirmed_and_listed_page_by_page(bot, sara):
    words = [keyword(n) for n in range(50)]
    confirmed = []
    for half in (words[:25], words[25:]):  # a user's message holds about 40 of them
        confirmed += (await sara.send("/add " + "\n".join(half))).texts
    assert "".join(confirmed).count("موضوع رقم") == 50
    shown = (await sara.send("/list")).message
    assert shown.text.startswith(ar("list_header", count=50))
    pages = [shown.text]
    while f"kw:page:{len(pages)}|{USER}" in shown.data:
        shown = (await sara.press(shown, f"kw:page:{len(pages)}|{USER}")).message
        pages.append(shown.text)
    assert len(pages) == 5
    for word in words:
        assert sum(page.count(word) for page in pages) == 1, word

    # Deleting on the last page keeps the last page, now one keyword shorter.
    delete = next(d for d in shown.data if d.startswith("kw:del:"))
    assert delete.endswith(f":4|{USER}")
    after = await sara.press(shown, delete)
    assert after.text.startswith(ar("list_header", count=49))
    assert ar("page_of", page=5, pages=5) in after.text
    assert len(chats.chat_subscriptions(bot.db, USER)) == 49
    assert refused(bot) == []


async def test_stats_with_long_titles_keywords_and_errors_come_whole_in_parts(bot, admin):
    now = bot.clock()
    title = "كلمات عنوان طويل جداً لا ينتهي " * 60
    stored = [
        Article(
            item_key=f"k{n}",
            url=f"https://x.example.org/{n}",
            title=f"عنوان رقم {n} {title}",
            text="خبر عن المغرب وتفاصيله.",
            language="ar",
            content_hash=f"h{n}",
            published_at=now,
        )
        for n in range(5)
    ]
    ids = store_articles(bot.db, "http://x.example.org/feed", "المصدر", stored, now)
    for article_id in ids:
        shortlinks.record_click(bot.db, article_id, links.day_of(now))
    for number in range(20):
        chats.touch_chat(bot.db, 5000 + number, type="private", title="", language="ar", now=1)
        chats.add_subscription(bot.db, 5000 + number, keyword(number), f"key{number}", now=1)
        outbox.queue_alert(
            bot.db, 5000 + number, story_id=ids[0], article_id=ids[0], keywords=["x"], now=1
        )
    for (row_id,) in bot.db.execute("SELECT id FROM outbox").fetchall():
        outbox.mark_failed(bot.db, row_id, "Bad Request: " + "سبب طويل " * 400)
    shown = "".join((await admin.send("/stats")).texts)
    assert shown.count("عنوان رقم") == 5  # every clicked title
    assert all(f"موضوع رقم {n} " in shown for n in range(20))  # every top keyword
    assert refused(bot) == []


async def test_a_reply_telegram_finds_too_long_is_sent_again_in_parts(bot, sara):
    bot.world.fail_next("sendMessage", bad_request("message is too long"))
    parts = (await sara.send("/help")).texts
    assert len(parts) >= 2
    assert " ".join(parts).split() == ar("help").split()  # every word, in order, once
    assert [c.error for c in bot.world.calls if c.error] == ["Bad Request: message is too long"]
