"""The Mini App's keyword ways and two-week chart in a real browser (headless Chromium) at a
small phone's width: choices made on the page are stored, the bars are the stored counts, surge
days are marked, and the chart has its words."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestServer

from storage import chats as chat_store
from storage import scopes
from tests.browser import Page, find_chromium, headless_page
from tests.ways_support import (
    USER,
    add_feeds,
    backend_on,
    follow,
    mini_app,
    put_hours,
    put_surge,
    signed,
    utc_hour,
)

CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium: apt-get install -y chromium"),
    pytest.mark.slow,  # a real browser starts
]
PHONE_WIDTH = 320
# Dec 7 is today (NOW): Nov 24 is day 0; stories on Nov 30 (day 6), Dec 3 (9) and today (13).
GOLD_HOURS = {(11, 30, 9): 2, (12, 3, 8): 4, (12, 3, 15): 1, (12, 7, 9): 1}
GOLD_COUNTS = [0, 0, 0, 0, 0, 0, 2, 0, 0, 5, 0, 0, 0, 1]


def item(sub_id: int) -> str:
    return f"document.querySelector('#keywords li[data-id=\"{sub_id}\"]')"


async def choose(page: Page, selector: str, value: str) -> None:
    """Pick a value of a select as a reader does: it takes focus, changes, and says so."""
    await page.evaluate(
        f"(() => {{ const s = document.querySelector({json.dumps(selector)}); s.focus();"
        f" s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change')); }})()"
    )


async def saved_after(page: Page, panel: str, action: Awaitable[object]) -> None:
    """Run a change and wait until its panel says it is saved or refused."""
    await page.evaluate(f"{panel}.querySelector('.note').hidden = true")
    await action
    await page.wait_for(
        f"!{panel}.querySelector('.note').hidden || !{panel}.querySelector('.error').hidden"
    )


@pytest.fixture
async def page_on(db):
    """The Mini App served on loopback, Sara's «الذهب» with two weeks of stories and a surge,
    and «النفط» without any; a browser at a phone's width on her page."""
    assert CHROMIUM is not None
    backend = backend_on(db)
    feeds = add_feeds(db)
    gold, oil = follow(backend, USER, "الذهب"), follow(backend, USER, "النفط")
    key = chat_store.subscription(db, USER, gold).key
    put_hours(db, key, {utc_hour(*at): n for at, n in GOLD_HOURS.items()})
    put_surge(db, gold, datetime(2026, 12, 3, 9, tzinfo=UTC).timestamp())
    async with TestServer(mini_app(backend)) as server, headless_page(CHROMIUM) as page:
        header = signed(USER)["Authorization"].removeprefix("tma ")
        url = str(server.make_url("/")) + f"#tgWebAppData={quote(header)}&tgWebAppVersion=8.0"
        await page.open(url, width=PHONE_WIDTH)
        await page.wait_for("document.body.dataset.ready === 'true'")
        yield page, backend, feeds, gold, oil


async def test_the_chart_s_bars_are_the_stored_counts_with_the_surge_day_marked(page_on):
    page, _backend, _feeds, gold, oil = page_on
    bars = await page.evaluate(
        f"[...{item(gold)}.querySelectorAll('svg.chart rect.bar')].map(b =>"
        " [Number(b.dataset.day), Number(b.dataset.count), Number(b.getAttribute('height')),"
        "  b.classList.contains('surge')])"
    )
    assert len(bars) == 14
    assert [count for _, count, _, _ in sorted(bars)] == GOLD_COUNTS
    top = max(GOLD_COUNTS)
    for day, count, height, _ in bars:
        assert height == pytest.approx(count / top * 30), day  # the busiest day is full height
    assert [day for day, _, _, surge in sorted(bars) if surge] == [9]
    marks = await page.evaluate(
        f"[...{item(gold)}.querySelectorAll('rect.surge-mark')].map(m => m.dataset.day)"
    )
    assert marks == ["9"]
    label = "في آخر 14 يوماً: 8 قصص، أعلاها 5 قصص يوم 3 ديسمبر. ارتفاع مفاجئ في: 3 ديسمبر."
    chart = f"{item(gold)}.querySelector('svg.chart')"
    assert await page.evaluate(f"{chart}.getAttribute('role')") == "img"
    assert await page.evaluate(f"{chart}.getAttribute('aria-label')") == label
    assert await page.evaluate(f"{item(gold)}.querySelector('figcaption').innerText") == label
    # In Arabic time runs right to left: today's bar is the leftmost.
    xs = await page.evaluate(
        f"[...{item(gold)}.querySelectorAll('rect.bar')].map(b => Number(b.getAttribute('x')))"
    )
    assert xs[13] < xs[0]

    empty = await page.evaluate(
        f"[...{item(oil)}.querySelectorAll('rect.bar')].map(b => Number(b.getAttribute('height')))"
    )
    assert empty == [0] * 14
    assert await page.evaluate(f"{item(oil)}.querySelector('svg').getAttribute('aria-label')") == (
        "لا قصص لهذه الكلمة في آخر 14 يوماً."
    )


async def test_the_page_stays_readable_at_320_pixels(page_on):
    page, *_ = page_on
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    width = await page.evaluate("document.querySelector('svg.chart').getBoundingClientRect().width")
    assert width >= 240  # the line's width, less the page's margins
    bar = await page.evaluate(
        "document.querySelector('svg.chart rect.bar').getBoundingClientRect().width"
    )
    assert bar >= 12  # each day a bar a finger can tell apart
    caption = await page.evaluate("getComputedStyle(document.querySelector('figcaption')).fontSize")
    assert float(caption.removesuffix("px")) >= 12


async def test_pace_big_stories_surges_and_a_source_set_on_the_page_are_stored(page_on):
    page, backend, feeds, gold, _oil = page_on
    panel = f"{item(gold)}.querySelector('details.ways')"
    await page.evaluate(f"{panel}.querySelector('summary').click()")
    await page.wait_for(f"{panel}.dataset.ready === 'true'")
    unlabelled = await page.evaluate(
        f"[...{panel}.querySelectorAll('select, input')].filter(c => c.labels.length === 0).length"
    )
    assert unlabelled == 0
    chat_pace = await page.evaluate(f"{panel}.querySelector('select[name=pace]').options[0].text")
    assert chat_pace == "كإعدادات الدردشة (فوري)"

    await saved_after(page, panel, choose(page, "details.ways select[name=pace]", "daily"))
    assert await page.evaluate(f"{panel}.querySelector('.note').innerText") == "✅ حُفظ."
    assert await page.evaluate("document.activeElement.name") == "pace"  # focus stays
    await saved_after(page, panel, choose(page, "details.ways select[name=outlets]", "3"))
    await saved_after(page, panel, choose(page, "details.ways select[name=window_hours]", "12"))
    await saved_after(page, panel, choose(page, "details.ways select[name=surges]", "off"))
    tick = (
        f"(() => {{ const box = {panel}.querySelector('input[value=\"{feeds['الجزيرة']}\"]');"
        " box.click(); })()"
    )
    await saved_after(page, panel, page.evaluate(tick))
    stored = chat_store.subscription(backend.db, USER, gold)
    assert (stored.pace, stored.min_outlets, stored.window_hours, stored.surges) == (
        "daily",
        3,
        12,
        False,
    )
    assert (stored.scoped, scopes.ticked_feeds(backend.db, gold)) == (True, {feeds["الجزيرة"]})
    state = await page.evaluate(f"{panel}.querySelector('.sources-state').innerText")
    assert state == "مصادر مختارة فقط"

    assert page.errors == []

    # A forged choice (7 outlets) is refused in Arabic and the page shows what is stored.
    await page.evaluate(f"{panel}.querySelector('select[name=outlets]').add(new Option('7', '7'))")
    await saved_after(page, panel, choose(page, "details.ways select[name=outlets]", "7"))
    refusal = await page.evaluate(f"{panel}.querySelector('.error').innerText")
    assert refusal == "عدد المصادر يجب أن يكون بين 2 و5 (وصلني: 7)."
    assert await page.evaluate(f"{panel}.querySelector('select[name=outlets]').value") == "3"
    assert chat_store.subscription(backend.db, USER, gold).min_outlets == 3

    await saved_after(page, panel, page.evaluate(f"{panel}.querySelector('.every').click()"))
    assert chat_store.subscription(backend.db, USER, gold).scoped is False
    if os.environ.get("RASD_SCREENSHOT"):
        shot = await page.screenshot()
        await asyncio.to_thread(Path(os.environ["RASD_SCREENSHOT"]).write_bytes, shot)
    assert page.errors == [  # the refused call, as the browser logs it; no script error
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
