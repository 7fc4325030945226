"""Labels and pop-ups show user text as typed, through the real bot and a real feed."""

from __future__ import annotations

import pytest

from tests.feedserver import make_rss
from tests.support import ADMIN, USER, bot_settings, item, running_bot, say

pytestmark = pytest.mark.e2e  # the real bot against the test Bot API server

ODD = "غزة|<b>AT&T</b>"  # a keyword with every character HTML escapes


def keywords(db, chat_id: int) -> list[str]:
    """A chat's keywords as stored, oldest first."""
    rows = db.execute("SELECT keyword FROM subscriptions WHERE chat_id = ? ORDER BY id", (chat_id,))
    return [row[0] for row in rows]


async def test_labels_and_pop_ups_show_user_text_as_typed(api, feeds, tmp_path):
    baseline = [item(1, "ارتفاع أسعار النفط", ["ارتفعت أسعار النفط اليوم."])]
    story = item(2, "قصف على غزة", ["تعرضت غزة لقصف عنيف اليوم."])
    feeds.set_feed("/feed.xml", make_rss("AT&T <b>أخبار</b>", baseline))
    async with running_bot(bot_settings(api, tmp_path)):
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        listing = await say(api, ADMIN, "/feeds", expect="📡")
        assert listing.buttons[0]["text"] == "📄 AT&T أخبار"  # the feed's title, tags left out

        await say(api, USER, f"/add {ODD}\nAT&T")
        listing = await say(api, USER, "/list")
        labels = [b["text"] for b in listing.buttons]
        assert f"⏸ {ODD}" in labels
        assert "⏸ AT&T" in labels
        pause = next(d for d in listing.callback_data if d.startswith("kw:pause:"))
        answer = await api.wait_for_callback_answer(await api.press_button(USER, listing, pause))
        assert answer.text == f"• {ODD} ⏸ (موقوفة مؤقتاً)"
        listing = await api.wait_for_edit(USER, listing.message_id, timeout=10)
        resume = next(d for d in listing.callback_data if d.startswith("kw:resume:"))
        assert f"▶️ {ODD}" in [b["text"] for b in listing.buttons]
        await api.wait_for_callback_answer(await api.press_button(USER, listing, resume))
        listing = await api.wait_for_edit(USER, listing.message_id, timeout=10)
        delete = [d for d in listing.callback_data if d.startswith("kw:del:")][-1]
        answer = await api.wait_for_callback_answer(await api.press_button(USER, listing, delete))
        assert answer.text == "🗑 حذفت «AT&T»."

        feeds.set_feed("/feed.xml", make_rss("AT&T <b>أخبار</b>", [*baseline, story]))
        alert = await api.wait_for_message(USER, lambda m: "قصف" in m.text, timeout=20)
        await api.react(USER, alert, ["👎"])
        asked = await api.wait_for_message(USER, lambda m: m.text.startswith("👎"), timeout=10)
        assert f"⏸ أوقف «{ODD}»" in [b["text"] for b in asked.buttons]
        pause = next(d for d in asked.callback_data if d.startswith("fb:p:"))
        answer = await api.wait_for_callback_answer(await api.press_button(USER, asked, pause))
        assert answer.text == f"⏸ أُوقفت «{ODD}» مؤقتًا. تستأنفها من /list."
