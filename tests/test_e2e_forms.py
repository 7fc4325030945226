"""End to end: broken plurals, duals and name variants, from /test to the alert's keyword line."""

from __future__ import annotations

import pytest

from tests.feedserver import make_rss
from tests.support import ADMIN, USER, bot_settings, item, running_bot, say

pytestmark = pytest.mark.e2e

BASELINE = [
    item(
        1,
        "اجتماع لمجلس الوزراء في العاصمة",
        ["عقد الوزراء اجتماعهم الأسبوعي وناقشوا الموازنة العامة للدولة."],
    ),
]
PLURAL = item(
    2,
    "ترمب يستقبل وزراء خارجية أوروبيين",
    [
        "استقبل الرئيس الأميركي دونالد ترمب في البيت الأبيض وزراء خارجية ثلاث دول أوروبية.",
        "وقال البيت الأبيض إن اللقاء تناول العلاقات بين الجيشين.",
    ],
)


async def test_plurals_duals_and_variants_from_test_to_alert(api, feeds, tmp_path):
    feeds.set_feed("/feed.xml", make_rss("أخبار", BASELINE))
    async with running_bot(bot_settings(api, tmp_path, TEST_COOLDOWN_SECONDS="0")):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")

        tested = await say(api, USER, "/test وزير", expect="🔍")
        assert "اجتماع لمجلس الوزراء في العاصمة" in tested.text  # matched by its plural
        assert "«وزراء ← وزير»" in tested.text  # and /test says through which form

        for keyword in ("وزير", "ترامب", "جيش"):
            assert "بدأت متابعة" in (await say(api, USER, f"/add {keyword}")).text

        feeds.set_feed("/feed.xml", make_rss("أخبار", [*BASELINE, PLURAL]))
        alert = await api.wait_for_message(USER, lambda m: m.text.startswith("🔔"), timeout=20)
        bold = alert.entity_texts("bold")
        assert "وزراء" in bold  # the plural, highlighted in the summary
        assert "ترمب" in bold  # the other spelling of the name
        assert "الجيشين" in bold  # the dual of a three-letter stem
        keyword_line = next(line for line in alert.text.split("\n") if line.startswith("🔑"))
        assert "«وزراء ← وزير»" in keyword_line
        assert "«ترمب ← ترامب»" in keyword_line
        assert "جيش" in keyword_line
        assert "← جيش" not in keyword_line  # its own form: no note

        exact = await say(api, USER, '/test "ترامب"', expect="🔍")
        assert "ترمب يستقبل" not in exact.text  # an exact keyword takes no variant

    alerts = [m for m in api.sent_messages(USER) if m.text.startswith("🔔")]
    assert len(alerts) == 1  # one story, one alert, though three keywords match it
