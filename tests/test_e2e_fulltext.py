"""End to end: a teaser feed's new items are matched and summarised from their pages (issue #28).

The feed server serves the feed and the pages on loopback; the real pages are the Arabic article
pages in ../shared/data/arabic-pages (never copied here: those tests skip without it)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from core.arabic import normalize
from core.fulltext import PAGE_FAILURES_BEFORE_BACKOFF
from storage.db import open_database
from tests.data import SHARED_DATA, needs_shared
from tests.feedserver import make_rss
from tests.support import ADMIN, USER, bot_settings, running_bot, say

pytestmark = pytest.mark.e2e

PAGES = SHARED_DATA / "arabic-pages"
GUARD = 60.0  # hang guard: generous, never a speed assertion
WRITTEN_PAGE = """<!doctype html><html lang="ar"><head><meta charset="utf-8">
<title>{title}</title><link rel="canonical" href="{canonical}"></head><body>
<nav>الرئيسية · سياسة · اقتصاد · رياضة</nav><article><h1>{title}</h1>
{paragraphs}</article><aside>الأكثر قراءة: عناوين أخرى لا صلة لها بالخبر</aside></body></html>"""
PARAGRAPHS = [
    "افتتح وزير الزراعة صباح اليوم معرضاً للمنتجات المحلية في العاصمة بمشاركة واسعة من المزارعين.",
    "وقال الوزير في كلمته إن الموسم الحالي شهد تحسناً ملحوظاً في الإنتاج بفضل الأمطار الأخيرة.",
    "وأضاف أن الحكومة ستواصل دعم صغار المزارعين عبر برامج تمويل ميسرة خلال العام المقبل.",
    "وفي جناح خاص عرضت تعاونيات من الجنوب منتجات زيت الزيتون والعسل والتمور بأسعار تنافسية.",
    "ويستمر المعرض أسبوعاً كاملاً ويفتح أبوابه للجمهور يومياً من العاشرة صباحاً حتى المساء.",
]


def teaser_item(number: int, title: str, teaser: str, link: str) -> dict:
    return {
        "title": title,
        "link": link,
        "guid": f"https://news.example.org/?p={number}",
        "description": f"<p>{teaser} […]</p>",
        "pubDate": datetime(2026, 11, 28, 8, number, tzinfo=UTC),
    }


def written_page(title: str, canonical: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return WRITTEN_PAGE.format(title=title, canonical=canonical, paragraphs=body)


async def added_teaser_feed(api, feeds, first: list[dict]) -> None:
    feeds.set_feed("/feed.xml", make_rss("أخبار المعارض", first))
    await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")


async def test_a_keyword_only_in_the_page_gets_its_alert_with_the_sentence_that_holds_it(
    api, feeds, tmp_path
):
    page = feeds.url("/news/2.html")
    baseline = [teaser_item(1, "أخبار سابقة", "خبر قديم عن الطقس", feeds.url("/news/1.html"))]
    new = teaser_item(2, "افتتاح معرض للمنتجات المحلية", "افتتح وزير الزراعة معرضاً", page)
    feeds.set_page("/news/1.html", written_page("أخبار سابقة", feeds.url("/news/1.html")))
    feeds.set_page("/news/2.html", written_page("افتتاح معرض للمنتجات المحلية", page))
    async with running_bot(bot_settings(api, tmp_path, FULL_TEXT="true")):
        await added_teaser_feed(api, feeds, baseline)
        await say(api, USER, "/add الزيتون")  # only in the page's fourth paragraph
        feeds.set_feed("/feed.xml", make_rss("أخبار المعارض", [*baseline, new]))
        alert = await api.wait_for_message(USER, lambda m: m.text.startswith("🔔"), timeout=GUARD)
        listed = await say(api, ADMIN, "/feeds", expect="📡")
    assert alert.text.split("\n")[0] == "🔔 افتتاح معرض للمنتجات المحلية"
    assert "زيت الزيتون" in alert.text
    assert "الزيتون" in alert.entity_texts("bold")
    assert feeds.requests_to("/news/1.html") == []  # the baseline item's page: never fetched
    assert len(feeds.requests_to("/news/2.html")) == 1
    assert "📄 النص الكامل: تلقائي · آخر صفحة: ✅" in listed.text
    db = open_database(tmp_path / "rasd.db")
    text, state = db.execute(
        "SELECT text, page FROM articles WHERE title LIKE 'افتتاح%'"
    ).fetchone()
    db.conn.close()
    assert state == "ok"
    assert "الأكثر قراءة" not in text  # the page's furniture stays out


async def test_pages_that_cannot_be_had_still_give_teaser_alerts_while_they_hang(
    api, feeds, tmp_path
):
    baseline = [teaser_item(1, "أخبار سابقة", "خبر قديم", feeds.url("/old.html"))]
    broken = {
        "/forbidden.html": ("حظر في الرباط", dict(status=403)),
        "/image.html": ("صورة من الرباط", dict(content_type="image/png")),
    }
    for path, (_, options) in broken.items():
        feeds.set_page(path, written_page("x", feeds.url(path)), **options)
    feeds.set_hostile("/hang.html", "hang", content_type="text/html")
    news = [
        teaser_item(2, "حظر في الرباط", "خبر من الرباط", feeds.url("/forbidden.html")),
        teaser_item(3, "صورة من الرباط", "خبر من الرباط", feeds.url("/image.html")),
        teaser_item(4, "انتظار في الرباط", "خبر من الرباط", feeds.url("/hang.html")),
    ]
    settings = bot_settings(
        api, tmp_path, FULL_TEXT="true", PAGE_WAIT_SECONDS="2", PAGE_TIMEOUT_SECONDS="600"
    )
    async with running_bot(settings):
        await added_teaser_feed(api, feeds, baseline)
        await say(api, USER, "/add الرباط")
        feeds.set_feed("/feed.xml", make_rss("أخبار المعارض", [*baseline, *news]))
        await api.wait_until(
            lambda: len([m for m in api.sent_messages(USER) if m.text.startswith("🔔")]) == 3,
            timeout=GUARD,
            what="three teaser alerts",
        )
        # The page that never finishes is still being sent: its item did not wait for it.
        assert feeds.path_in_flight["/hang.html"] == 1
    titles = sorted(m.text.split("\n")[0] for m in api.sent_messages(USER) if "🔔" in m.text)
    assert titles == ["🔔 انتظار في الرباط", "🔔 حظر في الرباط", "🔔 صورة من الرباط"]
    db = open_database(tmp_path / "rasd.db")
    states = dict(db.execute("SELECT title, page FROM articles WHERE page IS NOT NULL"))
    db.conn.close()
    assert states == {
        "حظر في الرباط": "http",
        "صورة من الرباط": "not_html",
        "انتظار في الرباط": "late",
    }


async def test_admins_see_and_switch_a_feed_s_full_text(api, feeds, tmp_path):
    baseline = [teaser_item(1, "أخبار سابقة", "خبر قديم", feeds.url("/old.html"))]
    async with running_bot(bot_settings(api, tmp_path, FULL_TEXT="true")):
        await added_teaser_feed(api, feeds, baseline)
        listed = await say(api, ADMIN, "/feeds", expect="📡")
        assert "📄 النص الكامل: تلقائي" in listed.text
        await api.press_button(ADMIN, listed, listed.callback_data[0])  # details
        details = await api.wait_for_edit(ADMIN, listed.message_id, timeout=GUARD)
        button = next(d for d in details.callback_data if d.startswith("feed:ft:"))
        await api.press_button(ADMIN, details, button)
        switched = await api.wait_for_edit(
            ADMIN, listed.message_id, lambda m: "دائمًا" in m.text, timeout=GUARD
        )
        assert "📄 النص الكامل: دائمًا" in switched.text
        answer = await say(api, ADMIN, "/fulltext 1 off", expect="✅")
        assert answer.text == "✅ النص الكامل للمصدر «أخبار المعارض»: متوقف"
        refused = await say(api, ADMIN, "/fulltext 1 sometimes")
        assert refused.text.startswith("اكتب رقم المصدر ووضع النص الكامل")


def _gold(folder: Path) -> str:
    for name in ("gold.txt", "gold_derived.txt"):
        if (folder / name).exists():
            return (folder / name).read_text(encoding="utf-8")
    return ""


def _late_word(gold: str, title: str) -> str | None:
    """A word of the article's second half that its title and first sentence do not have."""
    words = re.findall(r"[\u0621-\u064a]{6,}", gold)
    head = normalize(title + " " + gold[:300])
    for word in words[len(words) // 2 :]:
        if normalize(word) not in head and normalize(word)[:4] not in head:
            return word
    return None


@needs_shared
async def test_real_arabic_pages_tell_the_story_behind_a_teaser(api, feeds, tmp_path):
    folders = sorted(p for p in PAGES.iterdir() if (p / "page.html").exists())
    chosen = []
    for number, folder in enumerate(folders[:4], start=2):
        gold = _gold(folder)
        word = _late_word(gold, "خبر")
        if word:
            path = f"/real/{folder.name}.html"
            feeds.set_page(path, (folder / "page.html").read_bytes())
            chosen.append((number, folder.name, word, path))
    assert chosen, "no real page with a usable word"
    baseline = [teaser_item(1, "أخبار سابقة", "خبر قديم", feeds.url("/old.html"))]
    news = [
        teaser_item(n, f"خبر رقم {n}", "تفاصيل في الصفحة", feeds.url(p)) for n, _, _, p in chosen
    ]
    async with running_bot(bot_settings(api, tmp_path, FULL_TEXT="true")):
        await added_teaser_feed(api, feeds, baseline)
        for _, _, word, _ in chosen:
            await say(api, USER, f'/add "{word}"', expect="✅")
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*baseline, *news]))
        await api.wait_until(
            lambda: (
                len([m for m in api.sent_messages(USER) if m.text.startswith("🔔")]) == len(chosen)
            ),
            timeout=GUARD,
            what="an alert per real page",
        )
    alerts = {m.text.split("\n")[0]: m for m in api.sent_messages(USER) if "🔔" in m.text}
    for number, name, word, _ in chosen:
        alert = alerts[f"🔔 خبر رقم {number}"]
        assert word in alert.text, name  # the sentence of the page that holds it
    assert all(len(feeds.requests_to(path)) == 1 for _, _, _, path in chosen)  # once each


async def test_a_feed_whose_pages_keep_failing_stops_trying_and_says_so(api, feeds, tmp_path):
    baseline = [teaser_item(1, "أخبار سابقة", "خبر قديم", feeds.url("/old.html"))]
    failing = [
        teaser_item(n, f"خبر الرباط {n}", "خبر من الرباط", feeds.url(f"/gone/{n}.html"))
        for n in range(2, 2 + PAGE_FAILURES_BEFORE_BACKOFF)
    ]
    later = teaser_item(40, "خبر الرباط الأخير", "خبر من الرباط", feeds.url("/gone/40.html"))
    for entry in [*failing, later]:
        feeds.set_page("/gone/" + entry["link"].rsplit("/", 1)[1], "gone", status=404)
    async with running_bot(bot_settings(api, tmp_path, FULL_TEXT="true")) as application:
        await added_teaser_feed(api, feeds, baseline)
        await say(api, USER, "/add الرباط")
        feeds.set_feed("/feed.xml", make_rss("أخبار المعارض", [*baseline, *failing]))
        await api.wait_until(
            lambda: len([m for m in api.sent_messages(USER) if "🔔" in m.text]) >= 1,
            timeout=GUARD,
            what="the teaser alerts",
        )
        listed = await say(api, ADMIN, "/feeds", expect="📡")
        assert "متوقف حتى" in listed.text
        healthz = application.bot_data.web.url + "/healthz"
        async with aiohttp.ClientSession() as session, session.get(healthz) as response:
            health = await response.json()
        assert health["feeds_pages_paused"] == [1]
        feeds.set_feed("/feed.xml", make_rss("أخبار المعارض", [*baseline, *failing, later]))
        await api.wait_for_message(USER, lambda m: "الأخير" in m.text, timeout=GUARD)
    assert feeds.requests_to("/gone/40.html") == []  # paused: the teaser, without asking


async def test_a_feed_waiting_for_its_pages_holds_no_other_feed(api, feeds, tmp_path):
    feeds.set_hostile("/hang.html", "hang", content_type="text/html")
    slow = [teaser_item(1, "أخبار سابقة", "خبر قديم", feeds.url("/old.html"))]
    other = [teaser_item(1, "خبر قديم آخر", "خبر قديم", feeds.url("/old2.html"))]
    first = teaser_item(2, "وفد في الرباط", "خبر من الرباط", feeds.url("/b/2.html"))
    second = teaser_item(3, "مؤتمر في الرباط", "خبر من الرباط", feeds.url("/b/3.html"))
    waiting = teaser_item(4, "انتظار في الرباط", "خبر من الرباط", feeds.url("/hang.html"))
    settings = bot_settings(
        api, tmp_path, FULL_TEXT="true", PAGE_WAIT_SECONDS="600", PAGE_TIMEOUT_SECONDS="600"
    )
    feeds.set_feed("/slow.xml", make_rss("مصدر بطيء", slow))
    feeds.set_feed("/other.xml", make_rss("مصدر آخر", other))
    async with running_bot(settings):
        await say(api, ADMIN, f"/addfeed {feeds.url('/slow.xml')}", expect="✅")
        await say(api, ADMIN, f"/addfeed {feeds.url('/other.xml')}", expect="✅")
        await say(api, ADMIN, "/fulltext 2 off", expect="✅")
        await say(api, USER, "/add الرباط")
        feeds.set_feed("/slow.xml", make_rss("مصدر بطيء", [*slow, waiting]))
        await api.wait_until(lambda: feeds.path_in_flight["/hang.html"] == 1, timeout=GUARD)
        feeds.set_feed("/other.xml", make_rss("مصدر آخر", [*other, first]))
        await api.wait_for_message(USER, lambda m: "وفد في الرباط" in m.text, timeout=GUARD)
        feeds.set_feed("/other.xml", make_rss("مصدر آخر", [*other, first, second]))
        await api.wait_for_message(USER, lambda m: "مؤتمر في الرباط" in m.text, timeout=GUARD)
        # Two cycles went by for the other feed while the slow one's page still loads.
        assert feeds.path_in_flight["/hang.html"] == 1
        assert not any("انتظار" in m.text for m in api.sent_messages(USER))
