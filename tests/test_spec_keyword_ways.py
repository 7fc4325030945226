"""A keyword's own ways from /list (issue #31): its ⚙️ panel, its pace, big stories only and
surge notices, and the notes /list shows; bad values refused in Arabic, nothing changed.

Specifications through tests/offline.py: the production Application, real Update objects, the
whole message the user gets."""

from __future__ import annotations

from core.i18n import Raw
from storage import chats as chat_store
from tests.offline import Button, PopUp, ar
from tests.support import USER

GOLD = "الذهب"


def panel_text(**ways: str) -> str:
    """The ⚙️ panel of «الذهب» as a new keyword in a chat sent at once has it, but for `ways`."""
    shown = {
        "keyword": GOLD,
        "sources": ar("way_sources_all"),
        "pace": ar("way_pace_chat", pace=ar("way_pace_instant")),
        "big": ar("way_big_off"),
        "surges": ar("way_surges_off_default"),
        **ways,
    }
    return ar("way_panel", **shown)


def stored(bot) -> tuple:
    """«الذهب»'s ways as stored."""
    sub = chat_store.chat_subscriptions(bot.db, USER)[0]
    return sub.pace, sub.min_outlets, sub.window_hours, sub.surges


async def test_the_panel_shows_a_keywords_ways_and_changes_them(bot, sara):
    await sara.send(f"/add {GOLD}")
    listing = (await sara.send("/list")).message
    shown = await sara.press(listing, listing.button("kwx:show:"))
    assert shown.popup == PopUp(None)
    assert shown.text == panel_text()
    assert shown.message.buttons[0] == (Button(ar("button_way_sources"), f"src:show:1:0|{USER}"),)
    assert shown.message.buttons[-1] == (Button(ar("button_back_to_list"), f"kw:page:0|{USER}"),)

    daily = await sara.press(shown.message, f"kwx:pace:1:daily:0|{USER}")
    assert daily.popup == PopUp(ar("way_changed"))
    assert daily.text == panel_text(pace=ar("way_pace_daily"), surges=ar("way_surges_on_default"))
    assert "✓ " + ar("button_way_pace_daily") in daily.message.labels

    big = await sara.press(daily.message, f"kwx:big:1:3:0|{USER}")
    assert big.text == panel_text(
        pace=ar("way_pace_daily"),
        big=ar("way_big_on", outlets=3, hours=6),
        surges=ar("way_surges_on_default"),
    )
    assert f"kwx:win:1:12:0|{USER}" in big.message.data  # the window row, once big stories are on
    wider = await sara.press(big.message, f"kwx:win:1:12:0|{USER}")
    off = await sara.press(wider.message, f"kwx:surge:1:off:0|{USER}")
    assert off.text == panel_text(
        pace=ar("way_pace_daily"),
        big=ar("way_big_on", outlets=3, hours=12),
        surges=ar("way_surges_off"),
    )
    assert stored(bot) == ("daily", 3, 12, False)
    listed = await sara.send("/list")
    line = "• الذهب " + ar("list_way_pace", pace=ar("way_pace_daily"))
    assert line + " " + ar("list_way_big", outlets=3, hours=12) in listed.text.split("\n")


async def test_values_no_button_offers_are_refused_in_arabic_and_change_nothing(bot, sara):
    await sara.send(f"/add {GOLD}")
    listing = (await sara.send("/list")).message
    for data, refusal in [
        (f"kwx:big:1:9:0|{USER}", ar("way_bad_outlets", value=9)),
        (f"kwx:big:1:0:0|{USER}", ar("way_bad_outlets", value=0)),
        (f"kwx:win:1:5:0|{USER}", ar("way_bad_window", value=5)),
        (f"kwx:pace:1:weekly:0|{USER}", ar("way_bad_pace", value="weekly")),
        (f"kwx:surge:1:maybe:0|{USER}", ar("button_stale")),
        (f"kwx:pace:99:daily:0|{USER}", ar("keyword_gone")),
    ]:
        pressed = await sara.press(listing, data, forged=True)
        assert pressed.popup == PopUp(refusal, alert=True), data
        assert pressed.messages == []
    assert stored(bot) == (None, 1, 6, None)


async def test_a_keyword_whose_sources_were_all_removed_says_so_in_the_list(bot, sara):
    await sara.send(f"/add {GOLD}")
    sub = chat_store.chat_subscriptions(bot.db, USER)[0]
    backend = bot.application.bot_data.services.backend
    chat_store.set_subscription_ways(bot.db, USER, sub.id, scoped=True)
    backend.book.set_scope(sub.id, frozenset())  # its only feed was removed
    listed = await sara.send("/list")
    none_left = ar("list_way_sources", sources=Raw(ar("way_sources_none_short")))
    assert "• الذهب " + none_left in listed.text.split("\n")


async def test_fifty_keywords_with_long_scopes_fit_every_list_page(bot, sara):
    backend = bot.application.bot_data.services.backend
    long_host = ("a" * 60 + ".") * 4 + "com"
    await sara.send("/add " + "\n".join(f"كلمة{n} أخرى طويلة بعض الشيء" for n in range(50)))
    for sub in chat_store.chat_subscriptions(bot.db, USER):
        sites = tuple(f"s{n}.{long_host}" for n in range(10))
        chat_store.set_subscription_ways(
            bot.db, USER, sub.id, scoped=True, sites=sites, pace="daily", min_outlets=5
        )
        backend.book.set_scope(sub.id, frozenset({1}))
    first = (await sara.send("/list")).message
    pages = [first]
    for number in range(1, 5):
        pages.append((await sara.press(pages[-1], f"kw:page:{number}|{USER}")).message)
    assert ar("page_of", page=5, pages=5) in pages[-1].text.split("\n")
    assert len(pages) == 5
    for shown in pages:
        assert len(shown.plain) <= 4096
        assert all(len(data.encode()) <= 64 for data in shown.data)
    assert "+8" in pages[0].plain  # two hosts named, the rest counted


async def test_the_panel_and_mydata_show_a_keyword_as_typed_with_its_ways(bot, sara):
    odd = "غزة|<b>AT&T</b>"  # every character HTML escapes
    await sara.send(f"/add {odd}")
    listing = (await sara.send("/list")).message
    shown = await sara.press(listing, listing.button("kwx:show:"))
    assert shown.text == panel_text(keyword=odd)
    assert shown.message.plain.count(odd) == 1
    await sara.press(shown.message, f"kwx:pace:1:hourly:0|{USER}")
    mydata = await sara.send("/mydata")
    note = ar("list_way_pace", pace=ar("way_pace_hourly"))
    assert f"غزة|&lt;b&gt;AT&amp;T&lt;/b&gt; {note}" in mydata.text
