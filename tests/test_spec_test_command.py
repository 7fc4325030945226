"""/test, as a user sees it: how many recent stories a keyword would have matched, three of
their titles, the other forms it matched through; refusals and the cooldown (tests/offline.py)."""

from __future__ import annotations

from core.i18n import Plural, Raw
from core.render import SHOWN_TITLE_CHARS, shorten
from tests.offline import ar
from tests.support import USER, store_articles, story

WEEK = Plural("n_days", 7)  # TEST_DAYS


def seed(bot, *titles_and_texts: tuple[str, str]) -> None:
    """Recent stories of one feed in the bot's database."""
    now = bot.clock()
    stories = [story(n, title, text, now) for n, (title, text) in enumerate(titles_and_texts)]
    store_articles(bot.db, "https://news.example.org/feed", "أخبار", stories, now)


async def test_a_keyword_is_tried_on_recent_stories_through_its_other_forms(bot, sara):
    seed(
        bot,
        ("اجتماع لمجلس الوزراء في العاصمة", "عقد الوزراء اجتماعهم الأسبوعي."),
        ("ارتفاع أسعار النفط", "ارتفعت أسعار النفط اليوم."),
    )
    tried = await sara.send("/test وزير")
    titles = "• اجتماع لمجلس الوزراء في العاصمة\n" + ar("test_forms", forms="وزراء ← وزير")
    assert tried.text == ar(
        "test_result", keyword="وزير", count=1, total=2, days=WEEK, titles=Raw(titles)
    )
    assert tried.text.endswith("لمتابعتها: /add وزير")


async def test_an_exact_keyword_takes_no_other_spelling(bot, sara):
    seed(bot, ("ترمب يستقبل وزراء خارجية أوروبيين", "استقبل الرئيس دونالد ترمب الوزراء."))
    variant = await sara.send("/test ترامب")
    assert "• ترمب يستقبل وزراء خارجية أوروبيين" in variant.text
    assert ar("test_forms", forms="ترمب ← ترامب") in variant.text
    sara.bot.clock.advance(60)  # past the cooldown
    exact = await sara.send('/test "ترامب"')
    assert exact.text == ar("test_none", keyword='"ترامب"', days=WEEK, total=1)


async def test_nothing_matched_says_how_many_stories_were_looked_at(sara):
    assert (await sara.send("/test زلزال")).text == ar(
        "test_none", keyword="زلزال", days=WEEK, total=0
    )


async def test_refusals_and_usage(sara):
    assert (await sara.send("/test")).text == ar("test_usage")
    assert (await sara.send("/test بال*")).text == ar("refused_broad_prefix", keyword="بال*", min=3)
    assert (await sara.send("/test في")).text == ar("refused_stop_word", keyword="في")


async def test_one_test_at_a_time_per_chat(bot, sara):
    assert (await sara.send("/test المغرب")).text.startswith("🔍")
    assert (await sara.send("/test المغرب")).text == ar("test_cooldown", seconds=9)  # 1 s later
    bot.clock.advance(9)
    assert (await sara.send("/test المغرب")).text.startswith("🔍")


async def test_long_titles_are_shortened_so_the_answer_fits(bot, sara):
    long = [f"عنوان رقم {n} " + "كلمات عنوان طويل جداً لا ينتهي " * 60 for n in range(5)]
    seed(bot, *((title, "خبر عن المغرب وتفاصيله.") for title in long))
    tried = await sara.send("/test المغرب")  # World refuses a message over 4,096 characters
    shown = "\n".join(f"• {shorten(title, SHOWN_TITLE_CHARS)}" for title in reversed(long[2:]))
    assert tried.text == ar(
        "test_result", keyword="المغرب", count=5, total=5, days=WEEK, titles=Raw(shown)
    )
    assert tried.text.count("…") == 3
    assert sara.bot.messages(USER) == [tried.message]
