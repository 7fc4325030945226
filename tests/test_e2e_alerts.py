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


async def test_inline_search_lists_the_stories_a_keyword_matches(api, feeds, tmp_path):
    stories = [
        item(1, "وفد يزور الرباط", ["وصل وفد رسمي إلى الرباط اليوم."]),
        item(2, "ارتفاع أسعار النفط", ["ارتفعت أسعار النفط اليوم."]),
        item(3, "مؤتمر للوزراء في القاهرة", ["افتتح الوزراء مؤتمرهم في القاهرة."]),
    ]
    feeds.set_feed("/feed.xml", make_rss("أخبار", stories))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        typed = [await api.inline_query(USER, text) for text in ("و", "وز", "وزير")]
        answer = await api.wait_for_inline_answer(typed[-1])
        assert answer.titles() == ["مؤتمر للوزراء في القاهرة"]  # through its plural, same matcher
        (story,) = answer.results
        assert story["description"].startswith("أخبار · ")
        assert story["url"] == "https://news.example.org/3/"
        content = story["input_message_content"]
        assert "مؤتمر للوزراء في القاهرة" in content["message_text"]
        assert "اقرأ في أخبار" in content["message_text"]
        assert typed[0] not in api.inline_answers  # only the last of what was typed is searched

        refused = await api.wait_for_inline_answer(await api.inline_query(USER, "في"))
        assert "شائعة" in refused.titles()[0]  # a stop word: the reason, in Arabic
        nothing = await api.wait_for_inline_answer(await api.inline_query(USER, "زلزال"))
        assert nothing.titles() == ["🔍 لا أخبار في الأيام الأخيرة تطابق «زلزال»"]
