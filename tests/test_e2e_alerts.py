"""End to end: what an alert shows, as Telegram offers it (issue #18): clean titles, readable links."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ADMIN, USER, bot_settings, running_bot
from tests.feedserver import make_rss
from tests.test_e2e import item, say

pytestmark = pytest.mark.e2e


async def test_the_site_name_on_titles_is_learned_and_dropped(api, feeds, tmp_path):
    hurra = [
        item(1, "ارتفاع أسعار النفط | الحرة", ["ارتفعت أسعار النفط اليوم."]),
        item(2, "قمة عربية في الرياض | الحرة", ["انطلقت القمة العربية في الرياض."]),
        item(3, "أمطار غزيرة في الشمال | الحرة", ["هطلت أمطار غزيرة على الشمال."]),
    ]
    new = item(4, "وزير الداخلية يزور الرباط | الحرة", ["وصل وزير الداخلية إلى الرباط اليوم."])
    feeds.set_feed("/feed.xml", make_rss("الحرة", hurra))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add الرباط")
        feeds.set_feed("/feed.xml", make_rss("الحرة", [*hurra, new]))
        alert = await api.wait_for_message(USER, lambda m: m.text.startswith("🔔"), timeout=20)
    assert alert.text.split("\n")[0] == "🔔 وزير الداخلية يزور الرباط"
    assert alert.links() == [("اقرأ في الحرة", "https://news.example.org/4/")]


async def test_previews_show_the_article_itself_below_or_above(api, feeds, tmp_path):
    baseline = [item(1, "ارتفاع أسعار النفط", ["ارتفعت أسعار النفط اليوم."])]
    first = item(2, "وفد يزور الرباط", ["وصل وفد رسمي إلى الرباط اليوم."])
    second = item(3, "مؤتمر في الرباط", ["افتتح في الرباط مؤتمر دولي للمناخ."])
    feeds.set_feed("/feed.xml", make_rss("أخبار", baseline))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add الرباط")
        panel = await say(api, USER, "/settings")
        assert "🖼 معاينة الروابط: معطّلة" in panel.text
        await api.press_button(USER, panel, panel.button("set:previews:toggle"))
        below = await api.wait_for_edit(USER, panel.message_id, timeout=10)
        assert "🖼 معاينة الروابط: تحت النص" in below.text

        feeds.set_feed("/feed.xml", make_rss("أخبار", [*baseline, first]))
        await api.wait_for_message(USER, lambda m: "وفد يزور الرباط" in m.text, timeout=20)
        await api.press_button(USER, below, below.button("set:previews:toggle"))
        above = await api.wait_for_edit(USER, panel.message_id, lambda m: "فوق" in m.text)
        assert "🖼 معاينة الروابط: فوق النص" in above.text

        feeds.set_feed("/feed.xml", make_rss("أخبار", [*baseline, first, second]))
        await api.wait_for_message(USER, lambda m: "مؤتمر في الرباط" in m.text, timeout=20)
    sent = [c.params for c in api.calls_to("sendMessage") if "🔔" in str(c.params.get("text"))]
    options = [json.loads(p["link_preview_options"]) for p in sent]
    assert options == [
        {
            "is_disabled": False,
            "url": "https://news.example.org/2/",
            "prefer_small_media": True,
            "show_above_text": False,
        },
        {
            "is_disabled": False,
            "url": "https://news.example.org/3/",
            "prefer_small_media": True,
            "show_above_text": True,
        },
    ]  # the article's own page, never the short link
