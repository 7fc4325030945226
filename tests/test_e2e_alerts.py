"""End to end: what an alert shows, as Telegram offers it (issue #18): clean titles, readable links."""

from __future__ import annotations

import json

import pytest

from tests.feedserver import make_rss
from tests.support import ADMIN, USER, bot_settings, item, running_bot, say

pytestmark = pytest.mark.e2e

ENGLISH = 303  # a user whose Telegram is in English


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


async def test_inline_answers_are_cached_per_person_in_their_language(api, feeds, tmp_path):
    stories = [item(1, "وفد يزور الرباط", ["وصل وفد رسمي إلى الرباط اليوم."])]
    feeds.set_feed("/feed.xml", make_rss("أخبار", stories))
    api.private_chat(ENGLISH, "Sam", language_code="en")
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        for query, english, arabic in (
            ("الرباط", "Read on أخبار", "اقرأ في أخبار"),
            ("زلزال", "No recent story matches", "لا أخبار في الأيام الأخيرة"),
        ):
            first = await api.wait_for_inline_answer(await api.inline_query(ENGLISH, query))
            assert english in json.dumps(first.results, ensure_ascii=False)
            second = await api.wait_for_inline_answer(await api.inline_query(USER, query))
            assert arabic in json.dumps(second.results, ensure_ascii=False)
            assert not second.from_cache  # not the English answer Telegram kept
            assert (first.is_personal, first.cache_time) == (True, 60)
            again = await api.wait_for_inline_answer(await api.inline_query(ENGLISH, query))
            assert again.from_cache  # each person's own answer is still cached
            assert english in json.dumps(again.results, ensure_ascii=False)


async def test_a_story_whose_link_is_not_a_web_link_is_alerted_once_without_it(
    api, feeds, tmp_path
):
    baseline = [item(1, "ارتفاع أسعار النفط", ["ارتفعت أسعار النفط اليوم."])]
    proxy = "tg://proxy?server=proxy.example&port=443&secret=ee00"
    hostile = {**item(2, "وفد يزور الرباط", ["وصل وفد رسمي إلى الرباط اليوم."]), "link": proxy}
    del hostile["guid"]  # its refused link is all that names it
    later = item(3, "مؤتمر في الرباط", ["افتتح في الرباط مؤتمر دولي للمناخ."])
    feeds.set_feed("/feed.xml", make_rss("أخبار", baseline))
    settings = bot_settings(api, tmp_path, SHORTLINK_BASE_URL="http://127.0.0.1:9/")
    async with running_bot(settings):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add الرباط")
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*baseline, hostile]))
        alert = await api.wait_for_message(USER, lambda m: "وفد يزور" in m.text, timeout=20)
        assert alert.text.split("\n")[0] == "🔔 وفد يزور الرباط"
        assert alert.links() == []  # no anchor: neither the proxy link nor a short link to it
        found = await api.wait_for_inline_answer(await api.inline_query(USER, "وفد"))
        (story,) = found.results
        assert "url" not in story
        assert "<a " not in story["input_message_content"]["message_text"]
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*baseline, hostile, later]))
        await api.wait_for_message(USER, lambda m: "مؤتمر في الرباط" in m.text, timeout=20)
    alerts = [m.text for m in api.messages(USER) if m.text.startswith("🔔")]
    assert [a.split("\n")[0] for a in alerts] == ["🔔 وفد يزور الرباط", "🔔 مؤتمر في الرباط"]
    assert not any("tg://" in str(call.params) for call in api.calls)


FORUM = -1_001_800_000_001
FORUM_ADMIN = 301
FORUM_MEMBER = 302


async def test_a_keyword_added_in_a_topic_sends_there_and_falls_back_once(api, feeds, tmp_path):
    api.group(
        FORUM,
        "منتدى الأخبار",
        admins=[FORUM_ADMIN],
        members=[FORUM_MEMBER],
        kind="supergroup",
        forum=True,
        bot_status="administrator",
    )
    baseline = [item(1, "ارتفاع أسعار النفط", ["ارتفعت أسعار النفط اليوم."])]
    first = item(2, "وفد يزور الرباط", ["وصل وفد رسمي إلى الرباط اليوم."])
    second = item(3, "مؤتمر في الرباط", ["افتتح في الرباط مؤتمر دولي للمناخ."])
    third = item(4, "قمة في الرباط", ["تنعقد في الرباط قمة عربية."])
    feeds.set_feed("/feed.xml", make_rss("أخبار", baseline))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        morocco = await api.create_topic(FORUM_ADMIN, FORUM, "المغرب")
        await api.send_text(FORUM_ADMIN, FORUM, "/add الرباط", thread=morocco)
        added = await api.wait_for_message(FORUM, timeout=10)
        assert added.thread_id == morocco  # the answer stays in the topic
        assert "📌 ستصل تنبيهاتها إلى هذا الموضوع: المغرب" in added.text
        await api.send_text(FORUM_MEMBER, FORUM, "/list")  # from General
        listed = await api.wait_for_message(FORUM, timeout=10)
        assert "• الرباط · 📌 المغرب" in listed.text

        feeds.set_feed("/feed.xml", make_rss("أخبار", [*baseline, first]))
        alert = await api.wait_for_message(FORUM, lambda m: "وفد يزور" in m.text, timeout=20)
        assert alert.thread_id == morocco

        api.close_topic(FORUM, morocco)
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*baseline, first, second]))
        fallback = await api.wait_for_message(FORUM, lambda m: "مؤتمر في" in m.text, timeout=20)
        assert fallback.thread_id is None  # General
        note = await api.wait_for_message(FORUM, lambda m: m.text.startswith("📌"), timeout=10)
        assert "حُذف الموضوع «المغرب» أو أُغلق" in note.text
        assert note.thread_id is None

        feeds.set_feed("/feed.xml", make_rss("أخبار", [*baseline, first, second, third]))
        later = await api.wait_for_message(FORUM, lambda m: "قمة في" in m.text, timeout=20)
        assert later.thread_id is None
    refused = [c for c in api.calls_to("sendMessage") if "TOPIC_CLOSED" in (c.description or "")]
    assert len(refused) == 1  # the topic was tried once, then forgotten
    assert len([m for m in api.sent_messages(FORUM) if m.text.startswith("📌 حُذف")]) == 1


async def test_a_thumbs_down_offers_an_exclusion_that_then_holds(api, feeds, tmp_path):
    baseline = [item(1, "ارتفاع أسعار النفط", ["ارتفعت أسعار النفط اليوم."])]
    football = item(
        2,
        "الرباط تستضيف نهائي كأس أفريقيا",
        ["تستضيف الرباط نهائي كأس أفريقيا. ويتوقع أن يحضر النهائي آلاف المشجعين."],
    )
    again = item(3, "تذاكر نهائي كأس أفريقيا في الرباط", ["نفدت تذاكر النهائي في الرباط."])
    summit = item(4, "قمة عربية في الرباط", ["تنعقد في الرباط قمة عربية."])
    feeds.set_feed("/feed.xml", make_rss("أخبار", baseline))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add الرباط")
        feeds.set_feed("/feed.xml", make_rss("أخبار", [*baseline, football]))
        alert = await api.wait_for_message(USER, lambda m: "نهائي" in m.text, timeout=20)

        await api.react(USER, alert, ["👍"])
        await api.react(USER, alert, ["👎"])  # the 👍 taken back, a 👎 instead
        asked = await api.wait_for_message(USER, lambda m: m.text.startswith("👎"), timeout=10)
        assert asked.extra["reply_to_message"]["message_id"] == alert.message_id
        labels = [b["text"] for b in asked.buttons]
        assert labels[0] == "🚫 بلا «نهائي»"  # the story's most repeated word first
        assert "⏸ أوقف «الرباط»" in labels
        await api.react(USER, alert, [])
        await api.react(USER, alert, ["👎"])  # asked once per alert, however often it is put
        stats = await say(api, USER, "/stats")
        assert "• الرباط: 🔔 1 · 👍 0 · 👎 1" in stats.text

        await api.press_button(USER, asked, asked.button(asked.callback_data[0]))
        done = await api.wait_for_edit(USER, asked.message_id, timeout=10)
        assert "صارت الكلمة: الرباط -نهائي" in done.text
        assert "الرباط -نهائي" in (await say(api, USER, "/list")).text

        feeds.set_feed("/feed.xml", make_rss("أخبار", [*baseline, football, again, summit]))
        await api.wait_for_message(USER, lambda m: "قمة عربية" in m.text, timeout=20)
        assert not [m for m in api.sent_messages(USER) if "تذاكر" in m.text]  # excluded

        await api.press_button(USER, done, done.button(done.callback_data[0]))  # undo
        undone = await api.wait_for_edit(USER, asked.message_id, lambda m: "🚫" in str(m.buttons))
        assert undone.text.startswith("👎")
        assert "• الرباط\n" in (await say(api, USER, "/list")).text + "\n"
    assert [m.versions[0].text.startswith("👎") for m in api.sent_messages(USER)].count(True) == 1
