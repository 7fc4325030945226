"""Inline search: `@bot keyword` in any chat lists the recent stories the keyword matches, in
the asker's language, only for the last of what they typed (tests/offline.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from babel.dates import format_date

from tests.offline import ar, en, offline_bot
from tests.support import USER, store_articles, story


def seed(bot) -> float:
    """Three recent stories of the feed أخبار; when they were published."""
    now = bot.clock()
    stories = [
        story(1, "وفد يزور الرباط", "وصل وفد رسمي إلى الرباط اليوم.", now),
        story(2, "ارتفاع أسعار النفط", "ارتفعت أسعار النفط اليوم.", now),
        story(3, "مؤتمر للوزراء في القاهرة", "افتتح الوزراء مؤتمرهم في القاهرة.", now),
    ]
    store_articles(bot.db, "https://news.example.org/feed", "أخبار", stories, now)
    return now


async def test_the_last_query_typed_lists_the_stories_its_keyword_matches(bot):
    bot.private(USER, "سارة")
    published = seed(bot)
    typed = await bot.inline(USER, "و", "وز", "وزير")  # a letter at a time, not waiting
    assert typed[:2] == [None, None]  # only the last of what was typed is searched
    answer = typed[2]
    assert (answer["cache_time"], answer["is_personal"]) == (60, True)
    date = format_date(datetime.fromtimestamp(published, UTC), "d MMMM y", locale="ar")
    assert answer["results"] == [
        {
            "type": "article",
            "id": "3",
            "title": "مؤتمر للوزراء في القاهرة",  # through its plural: the same matcher
            "description": f"أخبار · {date}",
            "url": "https://news.example.org/3/",
            "input_message_content": {
                "message_text": "🔔 <b>مؤتمر للوزراء في القاهرة</b>\n"
                '🔗 <a href="https://news.example.org/3/">اقرأ في أخبار</a>',
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": True},  # the bot's default
            },
        }
    ]


@pytest.mark.slow  # three searches, each settling 0.6 s
async def test_a_refused_keyword_or_no_story_is_said_in_a_result(bot):
    bot.private(USER, "سارة")
    seed(bot)
    [refused] = await bot.inline(USER, "في")
    assert refused["cache_time"] == 0
    [note] = refused["results"]
    assert note["title"] == "«في» كلمة شائعة جداً ولن تفيد في اختيار الأخبار. جرّب كلمة أدق."
    assert note["input_message_content"]["message_text"] == ar("refused_stop_word", keyword="في")
    [nothing] = await bot.inline(USER, "زلزال")
    assert [r["title"] for r in nothing["results"]] == [
        "🔍 لا أخبار في الأيام الأخيرة تطابق «زلزال»"
    ]
    assert await bot.inline(USER, "  ") == [None]  # nothing typed: nothing answered


@pytest.mark.slow  # two searches, each settling 0.6 s
async def test_answers_are_in_the_asker_s_language(tmp_path):
    async with offline_bot(tmp_path) as bot:
        bot.private(333, "Sam", language="en")
        seed(bot)
        [found] = await bot.inline(333, "الرباط")
        assert found["results"][0]["input_message_content"]["message_text"].endswith(
            '<a href="https://news.example.org/1/">Read on أخبار</a>'
        )
        [nothing] = await bot.inline(333, "زلزال")
        assert nothing["results"][0]["title"] == en("inline_none", keyword="زلزال")
