"""End to end: what an alert shows, as Telegram offers it (issue #18): clean titles, readable links."""

from __future__ import annotations

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
