"""Every reply fits, through the real bot: long /feeds and /list page with ◀️ ▶️, long /test,
/stats and /add answers stay within 4,096 characters, and nothing is lost on the way."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from core import links
from core.models import Article
from storage import articles, chats, feeds, outbox, shortlinks
from storage.db import open_database
from tests.botapi import MESSAGE_LIMIT, BotApiServer, ChatMessage, utf16_len
from tests.support import ADMIN, USER, bot_settings, running_bot, say

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

LONG_WORDS = "عن السياسة والاقتصاد والتعليم في المنطقة العربية وشمال أفريقيا والشرق الأوسط والخليج"


def keyword(number: int) -> str:
    """A keyword near the 100-character limit."""
    return f"موضوع رقم {number} {LONG_WORDS}"


def long_title(number: int) -> str:
    return f"عنوان رقم {number} " + "كلمات عنوان طويل جداً لا ينتهي " * 60


def assert_everything_fits(api: BotApiServer, chat_id: int) -> None:
    """Every version of every bot message fits, and Telegram refused nothing for its length."""
    for message in api.sent_messages(chat_id):
        for version in message.versions:
            assert utf16_len(version.text) <= MESSAGE_LIMIT
    refused = [c for c in api.calls if c.status == 400]
    assert refused == [], [c.description for c in refused]


def on_page(number: int):
    """A predicate: the message shows page `number` (counted from 1)."""
    return lambda m: f"الصفحة {number} من" in m.text


async def turn_pages(api: BotApiServer, chat_id: int, message: ChatMessage) -> list[str]:
    """Press ▶️ until the last page; the text of each page, first to last."""
    pages = [message.text]

    def unstamped(data: str) -> str:
        return data.partition("|")[0]

    while nav := {f"kw:page:{len(pages)}", f"feed:list:{len(pages)}"} & {
        unstamped(d) for d in message.callback_data
    }:
        await api.press_button(chat_id, message, message.button(nav.pop()))
        message = await api.wait_for_edit(chat_id, message.message_id, on_page(len(pages) + 1))
        pages.append(message.text)
    return pages


def add_feeds(path, count: int) -> list[str]:
    """Feeds with long titles, long addresses and long errors, none due for a check."""
    db = open_database(path)
    titles = []
    now = time.time()
    for number in range(count):
        title = f"مصدر رقم {number} " + "اسم مصدر إخباري طويل " * 20
        url = f"http://news-{number}.example.org/" + "%D8%A7%D9%84" * 40 + "/feed.xml"
        feed_id = feeds.add_feed(db, url, title=title, interval_seconds=300, now=now)
        feeds.record_failure(
            db, feed_id, now=now, next_check_at=now + 10**6, error="timeout " * 300
        )
        titles.append(f"مصدر رقم {number} ")
    db.conn.close()
    return titles


async def test_feeds_pages_show_every_feed_within_the_limit(api, tmp_path):
    titles = add_feeds(tmp_path / "rasd.db", 35)
    async with running_bot(bot_settings(api, tmp_path)):
        listing = await say(api, ADMIN, "/feeds", expect="📡")
        assert "الصفحة 1 من 5" in listing.text
        pages = await turn_pages(api, ADMIN, listing)
        assert len(pages) == 5
        for title in titles:  # each feed on exactly one page
            assert sum(page.count(title) for page in pages) == 1, title
        # A button on page 3 keeps page 3; the details' ↩️ comes back to it.
        await api.press_button(ADMIN, listing, "feed:list:3")  # ◀️ from the last page
        fourth = await api.wait_for_edit(ADMIN, listing.message_id, on_page(4))
        await api.press_button(ADMIN, fourth, "feed:list:2")
        third = await api.wait_for_edit(ADMIN, listing.message_id, on_page(3))
        info = next(d for d in third.callback_data if d.startswith("feed:info:"))
        await api.press_button(ADMIN, third, info)
        details = await api.wait_for_edit(
            ADMIN, listing.message_id, lambda m: "↩️" in str(m.buttons)
        )
        feed_id = info.split(":")[2]
        assert details.callback_data == [f"feed:ft:{feed_id}:2", "feed:list:2"]
        await api.press_button(ADMIN, details, "feed:list:2")
        back = await api.wait_for_edit(ADMIN, listing.message_id, on_page(3))
        pause = next(d for d in back.callback_data if d.startswith("feed:pause:"))
        assert pause.endswith(":2")
        await api.press_button(ADMIN, back, pause)
        paused = await api.wait_for_edit(ADMIN, listing.message_id, lambda m: "⛔" in m.text)
        assert "الصفحة 3 من 5" in paused.text
    assert_everything_fits(api, ADMIN)
    assert all(len(d.encode()) <= 64 for m in api.sent_messages(ADMIN) for d in m.callback_data)


async def test_fifty_long_keywords_are_confirmed_and_listed_page_by_page(api, tmp_path):
    words = [keyword(n) for n in range(50)]
    async with running_bot(bot_settings(api, tmp_path)):
        for half in (words[:25], words[25:]):  # a user's message holds about 40 of them
            await api.send_text(USER, USER, "/add " + "\n".join(half))
        await api.wait_until(
            lambda: "".join(m.text for m in api.sent_messages(USER)).count("موضوع رقم") == 50,
            what="every keyword confirmed",
        )
        listing = await say(api, USER, "/list", expect="كلماتك (50)")
        pages = await turn_pages(api, USER, listing)
        assert len(pages) == 5
        for word in words:
            assert sum(page.count(word) for page in pages) == 1, word
        # Deleting on the last page keeps the last page, now one keyword shorter.
        last = api.sent_messages(USER)[-1]
        delete = next(d for d in last.callback_data if d.startswith("kw:del:"))
        assert delete.endswith(f":4|{USER}")
        await api.press_button(USER, last, delete)
        after = await api.wait_for_edit(
            USER, last.message_id, lambda m: "كلماتك (49)" in m.text, timeout=15
        )
        assert "الصفحة 5 من 5" in after.text
        assert len(chats.chat_subscriptions(open_database(tmp_path / "rasd.db"), USER)) == 49
    assert_everything_fits(api, USER)


def store_articles(db, feed_url: str, source: str, stored: list[Article]) -> list[int]:
    """Store recent articles of one feed, each its own story; their ids."""
    feed_id = feeds.add_feed(
        db, feed_url, title=source, interval_seconds=300, now=time.time() + 1e6
    )
    ids = []
    for article in stored:
        _, article_id = articles.store_article(db, feed_id, article, now=time.time())
        articles.set_story(db, article_id, article_id)
        ids.append(article_id)
    return ids


def store_long_articles(path, count: int) -> list[int]:
    """Recent articles with very long titles, all about المغرب."""
    db = open_database(path)
    ids = store_articles(
        db,
        "http://x.example.org/feed",
        "المصدر",
        [
            Article(
                item_key=f"k{number}",
                url=f"https://x.example.org/{number}",
                title=long_title(number),
                text="خبر عن المغرب وتفاصيله.",
                language="ar",
                content_hash=f"h{number}",
                published_at=time.time(),
            )
            for number in range(count)
        ],
    )
    db.conn.close()
    return ids


async def test_test_with_long_titles_fits(api, tmp_path):
    store_long_articles(tmp_path / "rasd.db", 5)
    async with running_bot(bot_settings(api, tmp_path)):
        answer = await say(api, USER, "/test المغرب", expect="🔍")
    assert "5 من أصل 5" in answer.text
    assert answer.text.count("عنوان رقم") == 3
    assert answer.text.count("…") >= 3  # each title shortened, with an ellipsis
    assert_everything_fits(api, USER)


async def test_stats_with_long_clicked_titles_fits(api, tmp_path):
    path = tmp_path / "rasd.db"
    ids = store_long_articles(path, 5)
    db = open_database(path)
    today = links.day_of(time.time())
    for article_id in ids:
        shortlinks.record_click(db, article_id, today)
    for number in range(20):
        chats.touch_chat(db, 5000 + number, type="private", title="", language="ar", now=1)
        chats.add_subscription(db, 5000 + number, keyword(number), f"key{number}", now=1)
        outbox.queue_alert(
            db, 5000 + number, story_id=ids[0], article_id=ids[0], keywords=["x"], now=1
        )
    for (row_id,) in db.execute("SELECT id FROM outbox").fetchall():
        outbox.mark_failed(db, row_id, "Bad Request: " + "سبب طويل " * 400)
    db.conn.close()
    async with running_bot(bot_settings(api, tmp_path)):
        await api.send_text(ADMIN, ADMIN, "/stats")
        await api.wait_until(
            lambda: "".join(m.text for m in api.sent_messages(ADMIN)).count("عنوان رقم") == 5,
            what="every clicked title",
        )
    shown = "".join(m.text for m in api.sent_messages(ADMIN))
    assert all(f"موضوع رقم {n} " in shown for n in range(20))  # every top keyword
    assert_everything_fits(api, ADMIN)


async def test_a_reply_telegram_finds_too_long_is_sent_again_in_parts(api, tmp_path):
    async with running_bot(bot_settings(api, tmp_path)):
        api.fail_next(
            "sendMessage", status=400, chat_id=USER, description="Bad Request: message is too long"
        )
        await api.send_text(USER, USER, "/help")
        await api.wait_until(
            lambda: "/stop" in "".join(m.text for m in api.sent_messages(USER)),
            what="the whole help",
        )
    parts = api.sent_messages(USER)
    assert len(parts) >= 2
    joined = "\n".join(m.text for m in parts)
    for command in ("/add", "/list", "/remove", "/test", "/stop", "/help"):
        assert command in joined
    assert "خطأ" not in joined  # no "something went wrong" instead


async def test_a_40_item_hourly_digest_arrives_whole_through_the_bot(api, tmp_path):
    db = open_database(tmp_path / "rasd.db")
    chats.touch_chat(db, USER, type="private", title="سارة", language="ar", now=1)
    chats.set_chat_flags(db, USER, delivery_mode="hourly")
    two_hours_ago = time.time() - 7200
    for article_id in store_digest_articles(db, 40):
        outbox.queue_alert(
            db,
            USER,
            story_id=article_id,
            article_id=article_id,
            keywords=["الهجرة"],
            now=two_hours_ago,
        )
    db.conn.close()
    async with running_bot(bot_settings(api, tmp_path)):
        await api.wait_until(
            lambda: sum(m.text.count("الخبر رقم") for m in api.sent_messages(USER)) == 40,
            what="all 40 alerts",
        )
        db = open_database(tmp_path / "rasd.db")
        await api.wait_until(lambda: outbox.status_counts(db) == {"sent": 40}, what="all settled")
        db.conn.close()
    digests = api.sent_messages(USER)
    assert len(digests) >= 2  # 40 such items need several messages
    assert all(m.text.startswith("📬 ملخص الأخبار") for m in digests)
    shown = "\n".join(m.text for m in digests)
    assert all(shown.count(f"الخبر رقم {n}:") == 1 for n in range(40))  # each once
    quotes = [q for m in digests for q in m.entity_texts("expandable_blockquote")]
    assert len(quotes) == 40  # each story's summary, folded in an expandable quote
    assert_everything_fits(api, USER)


def store_digest_articles(db, count: int) -> list[int]:
    """Ordinary Arabic headlines with the long percent-encoded URLs Arabic sites use."""
    slug = quote("المغرب-يستضيف-مؤتمرا-دوليا-حول-التغيرات-المناخية-بمشاركة-وزراء-من-ثلاثين-دولة")
    return store_articles(
        db,
        "http://d.example.org/feed",
        "هسبريس",
        [
            Article(
                item_key=f"d{number}",
                url=f"https://www.hespress.com/{slug}-{number}.html",
                title=f"الخبر رقم {number}: وزير الداخلية يعلن إجراءات جديدة لتنظيم الهجرة "
                "وتعزيز التعاون مع دول الجوار في مجال الأمن ومكافحة التهريب عبر الحدود",
                text="وقال مسؤولون إن الإجراءات ستدخل حيز التنفيذ الشهر المقبل.",
                language="ar",
                content_hash=f"d{number}",
                published_at=time.time(),
            )
            for number in range(count)
        ],
    )
