"""What the bot's admins see and do in the chat: /feeds and its buttons, a page at a time,
/charset and /fulltext, a broadcast's preview, /stats (tests/offline.py: no network).

Feeds are stored here directly (adding one by its address fetches it: that is end to end)."""

from __future__ import annotations

from datetime import UTC, datetime

from core.i18n import Raw
from core.links import day_of
from core.opml import parse_opml
from core.render import link_html
from storage import feeds as feed_store
from storage import stats as stats_store
from tests.offline import Button, PopUp, ar, offline_bot
from tests.support import ADMIN, USER

URL = "https://news.example.org/feed.xml"
FAR = 10**7  # a next check no test reaches: the poll job leaves these feeds alone


def add_feed(bot, title: str = "أخبار الاختبار", url: str = URL, *, error: str | None = None):
    """A feed checked just now (successfully unless `error`), not due again; its id."""
    now = bot.clock()
    feed_id = feed_store.add_feed(bot.db, url, title=title, interval_seconds=300, now=now)
    if error is None:
        feed_store.record_success(
            bot.db,
            feed_id,
            now=now,
            next_check_at=now + FAR,
            etag=None,
            last_modified=None,
            body_hash=None,
        )
    else:
        feed_store.record_failure(bot.db, feed_id, now=now, next_check_at=now + FAR, error=error)
    return feed_id


def when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def feed_line(title: str, checked: float, url: str = URL) -> str:
    """A healthy feed as /feeds lists it, checked successfully at `checked`."""
    return (
        ar(
            "feed_line",
            state=ar("feed_state_ok"),
            title=title,
            url=Raw(link_html(url)),
            last_ok=when(checked),
            errors=0,
            last_error=Raw(""),
        )
        + "\n"
        + ar("feed_pages_line", mode=ar("fulltext_mode_auto"), page="")
    )


def feed_buttons(feed_id: int, title: str, *, paused: bool = False, page: int = 0) -> tuple:
    toggle = ("▶️ تفعيل", "enable") if paused else ("⏸ إيقاف", "pause")
    return (
        Button(f"📄 {title}", f"feed:info:{feed_id}:{page}"),
        Button(toggle[0], f"feed:{toggle[1]}:{feed_id}:{page}"),
        Button(ar("button_feed_delete"), f"feed:del:{feed_id}:{page}"),
    )


async def test_feeds_lists_each_feed_with_its_health_and_buttons(bot, admin):
    assert (await admin.send("/feeds")).text == ar("feeds_empty")
    feed_id, checked = add_feed(bot), bot.clock()
    shown = (await admin.send("/feeds")).message
    assert shown.text == ar("feeds_header", count=1) + "\n\n" + feed_line("أخبار الاختبار", checked)
    assert shown.buttons == (feed_buttons(feed_id, "أخبار الاختبار"),)


async def test_feed_buttons_show_details_pause_enable_and_delete_in_place(bot, admin):
    feed_id, checked = add_feed(bot), bot.clock()
    shown = (await admin.send("/feeds")).message
    details = await admin.press(shown, f"feed:info:{feed_id}:0")
    assert details.popup == PopUp(None)
    assert details.text == (
        ar(
            "feed_details",
            title="أخبار الاختبار",
            url=Raw(link_html(URL, 300)),
            state=ar("feed_state_name_ok"),
            last_ok=when(checked),
            errors=0,
            last_error=ar("none"),
            per_day="0.0",
            next_check=when(checked + FAR),
        )
        + "\n"
        + ar("feed_pages_line", mode=ar("fulltext_mode_auto"), page="")
    )
    assert details.message.buttons == (
        (
            Button(ar("button_fulltext", mode="تلقائي"), f"feed:ft:{feed_id}:0"),
            Button("↩️", "feed:list:0"),
        ),
    )
    switched = await admin.press(shown, f"feed:ft:{feed_id}:0")  # auto → on
    assert ar("feed_pages_line", mode="دائمًا", page="") in switched.text
    assert feed_store.get_feed(bot.db, feed_id).fulltext == "on"

    back = await admin.press(shown, "feed:list:0")
    assert back.message.message_id == shown.message_id
    paused = await admin.press(shown, f"feed:pause:{feed_id}:0")
    assert paused.text.split("\n")[2].startswith("⛔ <b>أخبار الاختبار</b>")
    assert paused.message.buttons == (feed_buttons(feed_id, "أخبار الاختبار", paused=True),)
    assert feed_store.get_feed(bot.db, feed_id).disabled
    enabled = await admin.press(shown, f"feed:enable:{feed_id}:0")
    assert enabled.message.buttons == (feed_buttons(feed_id, "أخبار الاختبار"),)
    deleted = await admin.press(shown, f"feed:del:{feed_id}:0")
    assert deleted.text == ar("feeds_empty")
    assert feed_store.all_feeds(bot.db) == []
    gone = await admin.press(shown, f"feed:info:{feed_id}:0", forged=True)  # an old button
    assert gone.popup == PopUp(ar("feed_gone"), alert=True)


async def test_a_feed_address_with_a_password_is_shown_masked(bot, admin):
    add_feed(bot, "", "https://old:hunter2@example.org/rss")
    shown = (await admin.send("/feeds")).message
    assert "hunter2" not in shown.text + "".join(shown.labels)
    assert link_html("https://***@example.org/rss") in shown.text


def many_feeds(bot, count: int) -> list[str]:
    """Feeds with long titles, long addresses and long errors; the start of each title."""
    titles = []
    for number in range(count):
        title = f"مصدر رقم {number} " + "اسم مصدر إخباري طويل " * 20
        url = f"http://news-{number}.example.org/" + "%D8%A7%D9%84" * 40 + "/feed.xml"
        add_feed(bot, title, url, error="timeout " * 300)
        titles.append(f"مصدر رقم {number} ")
    return titles


async def test_feeds_come_a_page_at_a_time_each_within_telegram_s_limit(bot, admin):
    titles = many_feeds(bot, 35)  # World refuses any message over 4,096 characters
    shown = (await admin.send("/feeds")).message
    pages = [shown.text]
    while f"feed:list:{len(pages)}" in shown.data:
        shown = (await admin.press(shown, f"feed:list:{len(pages)}")).message
        pages.append(shown.text)
    assert len(pages) == 5
    assert [ar("page_of", page=n, pages=5) in page for n, page in enumerate(pages, 1)] == [True] * 5
    for title in titles:  # each feed on exactly one page
        assert sum(page.count(title) for page in pages) == 1, title

    # A button on page 3 keeps page 3; the details' ↩️ comes back to it.
    fourth = (await admin.press(shown, "feed:list:3")).message  # ◀️ from the last page
    third = (await admin.press(fourth, "feed:list:2")).message
    assert ar("page_of", page=3, pages=5) in third.text
    info = next(d for d in third.data if d.startswith("feed:info:"))
    feed_id = info.split(":")[2]
    details = (await admin.press(third, info)).message
    assert details.data == [f"feed:ft:{feed_id}:2", "feed:list:2"]
    back = (await admin.press(details, "feed:list:2")).message
    pause = next(d for d in back.data if d.startswith("feed:pause:"))
    assert pause.endswith(":2")
    paused = await admin.press(back, pause)
    assert "⛔" in paused.text
    assert ar("page_of", page=3, pages=5) in paused.text
    assert all(len(d.encode()) <= 64 for m in bot.messages(ADMIN) for d in m.data)


async def test_charset_and_fulltext_take_a_feed_number_and_a_value(bot, admin):
    add_feed(bot)
    assert (await admin.send("/charset windows-1256")).text == ar("charset_usage")
    assert (await admin.send("/charset 99 windows-1256")).text == ar("feed_gone")
    assert (await admin.send("/charset 1 klingon-8")).text == "ترميز غير معروف: klingon-8"
    assert (await admin.send("/charset 1 windows-1256")).text == (
        "✅ ترميز المصدر «أخبار الاختبار»: cp1256"
    )
    assert (await admin.send("/charset 1 auto")).text == "✅ ترميز المصدر «أخبار الاختبار»: تلقائي"
    assert (await admin.send("/fulltext 99 on")).text == ar("feed_gone")
    assert (await admin.send("/fulltext 1 ON")).text == (
        "✅ النص الكامل للمصدر «أخبار الاختبار»: دائمًا"
    )
    assert bot.db.execute("SELECT charset, fulltext FROM feeds").fetchone() == (None, "on")


async def test_export_feeds_sends_every_feed_as_an_opml_file(bot, admin):
    add_feed(bot)
    add_feed(bot, "ب", "https://other.example.org/rss")
    exported = (await admin.send("/export_feeds")).message
    assert exported.text == ar("export_caption", count=2)  # the file's caption
    assert exported.document is not None
    name, content = exported.document
    assert name == "rasd-feeds.opml"
    assert {feed.url for feed in parse_opml(content)} == {URL, "https://other.example.org/rss"}


async def test_a_broadcast_is_previewed_before_it_is_sent_or_cancelled(bot, admin, sara):
    await sara.send("/start")
    assert (await admin.send("/broadcast")).text == ar("broadcast_usage")
    preview = (await admin.send("/broadcast صيانة قصيرة الليلة")).message
    assert preview.text == ar("broadcast_preview", count=2, text="صيانة قصيرة الليلة")
    assert preview.buttons == (
        (Button(ar("button_send"), "bc:send:1"), Button(ar("button_send_silent"), "bc:silent:1")),
        (Button(ar("button_cancel"), "bc:cancel:1"),),
    )
    cancelled = await admin.press(preview, "bc:cancel:1")
    assert cancelled.text == ar("broadcast_cancelled_draft")
    assert (await admin.send("/broadcast_cancel")).text == ar("broadcast_cancel_none")
    assert bot.messages(USER)[-1].text == ar("welcome")  # nothing was sent to anyone


async def test_stats_show_a_chat_its_keywords_and_admins_the_bot_s_figures(bot, sara, admin):
    assert (await sara.send("/stats")).text == ar("list_empty")
    await sara.send("/add غزة\nالمغرب")
    await admin.send("/add المغرب")
    keyword_lines = "• غزة: 🔔 0 · 👍 0 · 👎 0\n• المغرب: 🔔 0 · 👍 0 · 👎 0"
    mine = ar("keyword_stats", lines=Raw(keyword_lines)) + "\n\n" + ar("keyword_stats_hint")
    assert (await sara.send("/stats")).text == mine

    figures = ar(
        "stats",
        active=2,
        inactive=0,
        banned=0,
        keywords=3,
        healthy=0,
        failing=0,
        disabled=0,
        today=0,
        week=0,
        backlog=0,
        failed=0,
    )
    top = ar("stats_top_keywords", lines=Raw("• المغرب (2)\n• غزة (1)"))
    theirs = ar("keyword_stats", lines=Raw("• المغرب: 🔔 0 · 👍 0 · 👎 0"))
    theirs += "\n\n" + ar("keyword_stats_hint")
    assert (await admin.send("/stats")).text == figures + "\n" + top + "\n\n" + theirs


async def test_stats_show_the_days_messages_by_lane_and_the_stars_spent(tmp_path):
    async with offline_bot(
        tmp_path, PAID_BROADCAST="broadcasts", PAID_BROADCAST_STARS_PER_DAY="50"
    ) as bot:
        admin = bot.private(ADMIN, "Admin")
        stats_store.count_sends(bot.db, day_of(bot.clock()), free=40, paid=125)
        said = (await admin.send("/stats")).text
        line = ar("stats_sends_today", free=40, paid=125, stars="12.5", ceiling=50)
        assert line in said
    async with offline_bot(tmp_path / "off") as bot:  # the lane off, nothing paid: no line
        said = (await bot.private(ADMIN, "Admin").send("/stats")).text
        assert "⭐" not in said


async def test_stats_speak_english_to_english_speakers(tmp_path):
    async with offline_bot(tmp_path) as bot:
        sam = bot.private(333, "Sam", language="en")
        await sam.send("/add غزة")
        said = (await sam.send("/stats")).text
        assert "• غزة: 🔔 0 · 👍 0 · 👎 0" in said.split("\n")
        assert said.startswith("📊 Your keywords")  # the bot's own figures are for admins
