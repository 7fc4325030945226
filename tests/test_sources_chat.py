"""A keyword's sources as a user sees them (issue #31): /add with site: words, the picker of
sources (ticks, "All sources", forged buttons), the alerts a scoped keyword gets from the feeds
it reads, and a removed feed. The production Application offline (tests/offline.py), the feeds
served over loopback (tests/feedserver.py), polled by the bot's own poll cycle."""

from __future__ import annotations

from core.i18n import Plural
from storage import chats as chat_store
from tests.feedserver import make_rss
from tests.offline import Button, PopUp, ar, offline_bot, plain
from tests.support import ADMIN, USER, item
from tests.timing import eventually

OTHER = 777  # another user, with a keyword of their own
BASELINE = {"hespress": "ارتفاع أسعار النفط", "aljazeera": "قمة عربية في الرياض"}
TITLES = {"hespress": "هسبريس", "aljazeera": "الجزيرة"}


def story(site: str, number: int, title: str) -> dict:
    """An item of `site`'s feed, linked to its own pages."""
    return {
        **item(number, title, [f"{title}، بحسب ما أفادت مصادر رسمية اليوم."]),
        "link": f"https://www.{site}.net/news/{number}/",
        "guid": f"https://www.{site}.net/?p={number}",
    }


def serve(feeds, site: str, *stories: dict) -> None:
    feeds.set_feed(
        f"/{site}",
        make_rss(TITLES[site], [story(site, 1, BASELINE[site]), *stories],
                 link=f"https://www.{site}.net/"),
    )  # fmt: skip


async def two_feeds(bot, feeds) -> dict[str, int]:
    """Hespress and Al Jazeera, added as /addfeed adds them: their ids by site."""
    ids = {}
    for site in ("aljazeera", "hespress"):
        serve(feeds, site)
        added = await bot.application.bot_data.rasd.feeds.add_feed(
            feeds.url(f"/{site}"), added_by=ADMIN
        )
        ids[site] = added.feed_id
    return ids


def sub_id(bot, keyword: str, chat_id: int = USER) -> int:
    [found] = [s for s in chat_store.chat_subscriptions(bot.db, chat_id) if s.keyword == keyword]
    return found.id


def picker_text(*lines: str) -> str:
    return "\n".join(lines)


def source_button(mark: str, site: str, sub: int, feed_id: int, page: int = 0) -> tuple:
    return (Button(f"{mark} {TITLES[site]}", f"src:tick:{sub}:{feed_id}:{page}|{USER}"),)


def closing_row(sub: int) -> tuple:
    return (
        Button("📰 كل المصادر", f"src:all:{sub}|{USER}"),
        Button("◀️ رجوع", f"kwx:show:{sub}:0|{USER}"),
    )


async def open_picker(sara, sub: int):
    """The picker as the keyword's ⚙️ panel opens it (its 📰 button: the lead's panel, not on
    this branch, so pressed here from /list's message)."""
    listing = (await sara.send("/list")).message
    return await sara.press(listing, f"src:show:{sub}:0|{USER}", forged=True)


async def test_add_with_sites_is_accepted_or_refused_with_what_to_do(bot, sara, feeds):
    await two_feeds(bot, feeds)
    assert (await sara.send("/add الذهب site:hespress")).text == ar(
        "refused_bad_site", site="hespress"
    )
    assert (await sara.send("/add الذهب site:hespres.net")).text == ar(
        "refused_site_unknown_near", site="hespres.net", near="hespress.net"
    )
    assert (await sara.send("/add الذهب site:bbc.co.uk")).text == ar(
        "refused_site_unknown", site="bbc.co.uk"
    )
    assert chat_store.chat_subscriptions(bot.db, USER) == []
    said = await sara.send("/add الذهب site:www.hespress.net")
    assert said.text == ar("added", keywords="الذهب site:hespress.net")  # as it reads: bare host
    [stored] = chat_store.chat_subscriptions(bot.db, USER)
    assert (stored.keyword, stored.scoped, stored.sites) == ("الذهب", True, ("hespress.net",))


async def test_a_scoped_keyword_alerts_for_its_own_feeds_and_ignores_the_others(tmp_path, feeds):
    async with offline_bot(tmp_path, FULL_TEXT="false") as bot:  # these items are whole
        await scoped_alerts(bot, bot.private(USER, "سارة"), feeds)


async def scoped_alerts(bot, sara, feeds) -> None:
    ids = await two_feeds(bot, feeds)
    await sara.send("/add الذهب site:hespress.net")
    await sara.send("/add النفط")  # every feed: the other feed's news still comes
    serve(feeds, "hespress", story("hespress", 2, "الذهب يرتفع في الدار البيضاء"))
    serve(feeds, "aljazeera", story("aljazeera", 2, "الذهب يرتفع في الدوحة"),
          story("aljazeera", 3, "النفط يهبط في الدوحة"))  # fmt: skip
    bot.clock.advance(7200)  # both feeds due
    rasd = bot.application.bot_data.rasd
    report = await rasd.poller.run_once()
    assert (report.articles_new, report.alerts_queued) == (3, 2)
    bot.clock.advance(10)
    rasd.services.wake_sender()

    def alerts() -> list[str] | None:
        titles = [m.plain.split("\n")[0] for m in bot.messages(USER) if m.text.startswith("🔔")]
        return titles if len(titles) == 2 else None

    titles = await eventually(alerts, "both alerts sent")
    assert sorted(titles) == ["🔔 الذهب يرتفع في الدار البيضاء", "🔔 النفط يهبط في الدوحة"]
    assert ids["hespress"] in rasd.book.scope_of(sub_id(bot, "الذهب"))


async def test_the_picker_ticks_unticks_and_resets_and_redraws_in_place(bot, sara, feeds):
    ids = await two_feeds(bot, feeds)
    await sara.send("/add الذهب")
    sub = sub_id(bot, "الذهب")
    book = bot.application.bot_data.rasd.book
    shown = await open_picker(sara, sub)
    picker = shown.message
    header = ar("sources_header", keyword="الذهب")
    assert picker.text == picker_text(header, ar("sources_all"), ar("sources_hint"))
    assert picker.buttons == (
        source_button("▫️", "aljazeera", sub, ids["aljazeera"]),
        source_button("▫️", "hespress", sub, ids["hespress"]),
        closing_row(sub),
    )
    ticked = await sara.press(picker, f"src:tick:{sub}:{ids['hespress']}:0|{USER}")
    assert ticked.popup == PopUp(plain(ar("sources_ticked", title="هسبريس")))
    one = ar("sources_some", count=Plural("n_sources", 1))
    assert ticked.message.message_id == picker.message_id  # edited in place
    assert ticked.text == picker_text(header, one, ar("sources_hint"))
    assert ticked.message.buttons[:2] == (
        source_button("▫️", "aljazeera", sub, ids["aljazeera"]),
        source_button("✅", "hespress", sub, ids["hespress"]),
    )
    assert book.scope_of(sub) == frozenset({ids["hespress"]})
    both = await sara.press(picker, f"src:tick:{sub}:{ids['aljazeera']}:0|{USER}")
    two = ar("sources_some", count=Plural("n_sources", 2))
    assert both.text == picker_text(header, two, ar("sources_hint"))
    assert book.scope_of(sub) == frozenset(ids.values())
    unticked = await sara.press(picker, f"src:tick:{sub}:{ids['aljazeera']}:0|{USER}")
    assert unticked.popup == PopUp(plain(ar("sources_unticked", title="الجزيرة")))
    assert book.scope_of(sub) == frozenset({ids["hespress"]})
    every = await sara.press(picker, f"src:all:{sub}|{USER}")
    assert every.popup == PopUp(ar("sources_every_set"))
    assert every.text == picker_text(header, ar("sources_all"), ar("sources_hint"))
    assert book.scope_of(sub) is None  # every feed again
    stored = chat_store.subscription(bot.db, USER, sub)
    assert stored is not None
    assert (stored.scoped, stored.sites) == (False, ())


async def test_a_feed_read_through_a_site_shows_as_such_and_a_tick_does_not_drop_it(
    bot, sara, feeds
):
    ids = await two_feeds(bot, feeds)
    await sara.send("/add الذهب site:hespress.net")
    sub = sub_id(bot, "الذهب")
    picker = (await open_picker(sara, sub)).message
    assert picker.text == picker_text(
        ar("sources_header", keyword="الذهب"),
        ar("sources_some", count=Plural("n_sources", 1)),
        ar("sources_sites", sites="hespress.net"),
        ar("sources_hint"),
    )
    assert picker.buttons[1] == source_button("🌐", "hespress", sub, ids["hespress"])
    pressed = await sara.press(picker, f"src:tick:{sub}:{ids['hespress']}:0|{USER}")
    assert pressed.popup == PopUp(plain(ar("source_by_site")), alert=True)
    assert pressed.messages == []  # nothing redrawn: nothing changed
    assert bot.application.bot_data.rasd.book.scope_of(sub) == frozenset({ids["hespress"]})


async def test_forged_or_stale_picker_buttons_are_refused_and_change_nothing(bot, sara, feeds):
    ids = await two_feeds(bot, feeds)
    await sara.send("/add الذهب")
    other = bot.private(OTHER, "علي")
    await other.send("/add النفط")
    sub, theirs = sub_id(bot, "الذهب"), sub_id(bot, "النفط", OTHER)
    picker = (await open_picker(sara, sub)).message
    book = bot.application.bot_data.rasd.book
    refusals = {
        f"src:tick:{sub}:999:0|{USER}": "source_unknown",  # no such feed
        f"src:tick:{theirs}:{ids['hespress']}:0|{USER}": "keyword_gone",  # another chat's
        f"src:show:{theirs}:0|{USER}": "keyword_gone",
        f"src:all:{theirs}|{USER}": "keyword_gone",
        f"src:tick:{sub}:{ids['hespress']}:0|{OTHER}": "button_stale",  # shown for another
        f"src:tick:{sub}:{ids['hespress']}:0": "button_stale",  # not stamped
        f"src:nonsense|{USER}": "button_stale",
        f"src:tick:x:y:z|{USER}": "keyword_gone",
    }
    for data, message_id in refusals.items():
        pressed = await sara.press(picker, data, forged=True)
        assert pressed.popup == PopUp(plain(ar(message_id)), alert=True), data
        assert pressed.messages == [], data
    assert book.scope_of(sub) is None
    assert book.scope_of(theirs) is None
    assert [s.scoped for s in chat_store.chat_subscriptions(bot.db, OTHER)] == [False]


async def test_a_removed_feed_leaves_the_keywords_scope_empty(bot, sara, admin, feeds):
    ids = await two_feeds(bot, feeds)
    await sara.send("/add الذهب")
    sub = sub_id(bot, "الذهب")
    picker = (await open_picker(sara, sub)).message
    await sara.press(picker, f"src:tick:{sub}:{ids['hespress']}:0|{USER}")
    shown = (await admin.send("/feeds")).message
    await admin.press(shown, f"feed:del:{ids['hespress']}:0")
    book = bot.application.bot_data.rasd.book
    assert book.scope_of(sub) == frozenset()  # matches nothing
    again = await open_picker(sara, sub)
    assert again.text == picker_text(
        ar("sources_header", keyword="الذهب"), ar("sources_none"), ar("sources_hint")
    )
    assert again.message.buttons == (
        source_button("▫️", "aljazeera", sub, ids["aljazeera"]),
        closing_row(sub),
    )


async def test_many_sources_go_a_page_at_a_time_with_long_titles_shortened(bot, sara):
    from storage import feeds as feed_store

    long = "وكالة الأنباء " * 30  # some 420 characters
    ids = [
        feed_store.add_feed(
            bot.db,
            f"https://n{n}.example.org/rss",
            title=f"{n:02d} {long}",
            interval_seconds=3600,
            now=bot.clock(),
        )  # fmt: skip
        for n in range(10)
    ]
    await sara.send("/add الذهب")
    sub = sub_id(bot, "الذهب")
    first = (await open_picker(sara, sub)).message
    header, reads = ar("sources_header", keyword="الذهب"), ar("sources_all")
    pages = [ar("page_of", page=page, pages=2) for page in (1, 2)]
    assert first.text == picker_text(header, reads, ar("sources_hint"), pages[0])
    rows = first.buttons
    assert [row[0].data for row in rows[:8]] == [
        f"src:tick:{sub}:{feed_id}:0|{USER}" for feed_id in ids[:8]
    ]
    assert all(row[0].label.startswith("▫️ ") and len(row[0].label) <= 43 for row in rows[:8])
    assert rows[8:] == (
        (Button(ar("button_page_next"), f"src:show:{sub}:1|{USER}"),),
        closing_row(sub),
    )
    second = await sara.press(first, f"src:show:{sub}:1|{USER}")
    assert second.text == picker_text(header, reads, ar("sources_hint"), pages[1])
    assert [row[0].data for row in second.message.buttons[:2]] == [
        f"src:tick:{sub}:{feed_id}:1|{USER}" for feed_id in ids[8:]
    ]
    assert second.message.buttons[2:] == (
        (Button(ar("button_page_previous"), f"src:show:{sub}:0|{USER}"),),
        closing_row(sub),
    )
    ticked = await sara.press(second.message, f"src:tick:{sub}:{ids[9]}:1|{USER}")
    assert ticked.message.buttons[1][0].label.startswith("✅ 09 ")  # the same page, redrawn


async def test_in_a_group_every_member_sees_the_sources_but_only_admins_change_them(bot, feeds):
    ids = await two_feeds(bot, feeds)
    group_id, chief, member = -4_005_000_031, 531, 532
    group = bot.group(group_id, "مجموعة الأخبار", admins=[chief], members=[member])
    await group.send("/add الذهب", by=chief)
    sub = sub_id(bot, "الذهب", group_id)
    listing = (await group.send("/list", by=member)).message
    shown = await group.press(listing, f"src:show:{sub}:0|{group_id}", by=member, forged=True)
    assert shown.text.startswith(ar("sources_header", keyword="الذهب"))
    tick = f"src:tick:{sub}:{ids['hespress']}:0|{group_id}"
    refused = await group.press(shown.message, tick, by=member)
    assert refused.popup == PopUp(plain(ar("group_admins_only")), alert=True)
    assert bot.application.bot_data.rasd.book.scope_of(sub) is None
    done = await group.press(shown.message, tick, by=chief)
    assert done.popup == PopUp(plain(ar("sources_ticked", title="هسبريس")))
    assert bot.application.bot_data.rasd.book.scope_of(sub) == frozenset({ids["hespress"]})


async def test_test_tries_a_keyword_on_its_sources_and_says_how_it_would_come(bot, sara, feeds):
    await two_feeds(bot, feeds)
    days = Plural("n_days", 7)
    oil = "• " + BASELINE["hespress"]
    elsewhere = await sara.send("/test النفط site:aljazeera.net")
    assert elsewhere.text == "\n".join(
        [
            ar("test_none", keyword="النفط", days=days, total=1),
            ar("test_scope", sources="aljazeera.net"),
        ]
    )
    await sara.send("/add النفط site:hespress.net")
    listing = (await sara.send("/list")).message
    panel = await sara.press(listing, listing.button("kwx:show:"))
    await sara.press(panel.message, f"kwx:pace:1:daily:0|{USER}")
    await sara.press(panel.message, f"kwx:big:1:2:0|{USER}")
    bot.clock.advance(bot.application.bot_data.rasd.settings.test_cooldown_seconds)
    followed = await sara.send("/test النفط")
    assert followed.text == "\n".join(
        [
            ar("test_result", keyword="النفط", count=1, total=1, days=days, titles=oil),
            ar("test_scope", sources="hespress.net"),
            ar("test_pace", pace=ar("way_pace_daily")),
            ar("test_big", outlets=2, hours=6, count=0),
        ]
    )
