"""Who may do what, checked at the moment of the action: bot admins, group admins and members,
buttons stamped with the chat they act on (forged or stale ones change nothing), bans, the flood
guard (tests/offline.py: the production Application, no network)."""

from __future__ import annotations

from telegram.ext import CommandHandler

from core.flood import FloodGuard, FloodPolicy
from handlers import ADMIN_COMMANDS, BUTTONS, USER_COMMANDS
from storage import chats as chat_store
from tests.offline import PopUp, ar, en, offline_bot
from tests.support import ADMIN, USER
from tests.timing import FakeClock

GROUP, GROUP_ADMIN, MEMBER = -4_005_000_091, 591, 592
CHANNEL = -1_005_000_000_077
ATTACKER, STRANGER = 666, 424_242
FLOODER, NEIGHBOUR = 501, 502
COUNTRIES = ("لبنان", "سوريا", "العراق", "الأردن", "مصر", "ليبيا")
COUNTRIES += ("تونس", "الجزائر", "المغرب", "اليمن", "السودان")
VICTIM_TEXT = "أخبار المغرب وتونس اليوم"
ADMINS_ONLY = "هذا الأمر متاح لمشرفي البوت فقط."
GROUP_ADMINS_ONLY = "تغيير كلمات هذه المجموعة وإعداداتها متاح لمشرفيها فقط."


def keywords(bot, chat_id: int) -> list[str]:
    """A chat's keywords as stored, oldest first."""
    return [s.keyword for s in chat_store.chat_subscriptions(bot.db, chat_id)]


def count(bot, table: str) -> int:
    return bot.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


# ---------------------------------------------------------------- the bot's admins


async def test_every_admin_command_and_button_is_for_the_bot_s_admins_only(bot, sara):
    registered = {
        command: handler.callback
        for handlers in bot.application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    assert set(registered) == set(USER_COMMANDS) | set(ADMIN_COMMANDS)
    guarded = {name for name, callback in registered.items() if getattr(callback, "admin_only", 0)}
    assert guarded == set(ADMIN_COMMANDS)
    assert getattr(BUTTONS["bc:"], "admin_only", False)
    assert getattr(BUTTONS["feed:"], "admin_only", False)
    for command in sorted(ADMIN_COMMANDS):
        for argument in ("1", "https://news.example.org/feed.xml"):
            assert (await sara.send(f"/{command} {argument}")).text == ADMINS_ONLY, command
    welcome = (await sara.send("/start")).message
    for data in ("bc:send:1", "bc:cancel:1", "feed:del:1:0", "feed:list:0"):
        refused = await sara.press(welcome, data, forged=True)
        assert refused.popup == PopUp(ADMINS_ONLY, alert=True), data
    assert count(bot, "feeds") == count(bot, "broadcasts") == 0


async def test_an_admin_only_command_refuses_in_the_asker_s_language(bot):
    sam = bot.private(333, "Sam", language="en")
    assert (await sam.send("/feeds")).text == en("admin_only")
    assert en("admin_only") == "This command is for the bot's admins only."


async def test_a_document_from_a_user_is_not_an_opml_import(bot, sara):
    said = await sara.send_document("feeds.opml", b"<opml version='2.0'><body/></opml>")
    assert said.text == ADMINS_ONLY
    assert count(bot, "feeds") == 0


# ---------------------------------------------------------------- groups


async def test_group_admins_change_a_group_members_only_look(bot):
    group = bot.group(GROUP, "مجموعة الأخبار", admins=[GROUP_ADMIN], members=[MEMBER])
    for command in ("/add لبنان", "/remove لبنان", "/pause", "/resume", "/stop"):
        assert (await group.send(command, by=MEMBER)).text == GROUP_ADMINS_ONLY, command
    assert (await group.send("/add لبنان", by=GROUP_ADMIN)).text == "✅ بدأت متابعة: لبنان"
    assert (await group.send("/list", by=MEMBER)).text.startswith(ar("list_header", count=1))
    assert keywords(bot, GROUP) == ["لبنان"]


async def test_every_member_pages_a_group_s_list_but_only_admins_change_it(bot):
    group = bot.group(GROUP, "مجموعة الأخبار", admins=[GROUP_ADMIN], members=[MEMBER])
    await group.send("/add " + "\n".join(COUNTRIES), by=GROUP_ADMIN)
    first = (await group.send("/list", by=MEMBER)).message
    assert ar("page_of", page=1, pages=2) in first.text.split("\n")
    turned = await group.press(first, first.button("kw:page:1"), by=MEMBER)
    assert turned.popup == PopUp(None)
    assert ar("page_of", page=2, pages=2) in turned.text.split("\n")
    assert "• السودان" in turned.text.split("\n")
    second = turned.message
    for data in [d for d in second.data if not d.startswith("kw:page:")]:
        refused = await group.press(second, data, by=MEMBER)
        assert refused.popup == PopUp(GROUP_ADMINS_ONLY, alert=True), data
        assert refused.messages == []
    assert keywords(bot, GROUP) == list(COUNTRIES)
    assert bot.db.execute("SELECT count(*) FROM subscriptions WHERE paused = 1").fetchone() == (0,)


# ---------------------------------------------------------------- stamped buttons


async def test_a_follow_button_adds_to_the_chat_it_was_shown_for(bot, sara):
    sam = bot.private(333, "Sam", language="en")
    bot.channel(CHANNEL, "قناة الأخبار", "akhbar_news", admins=[USER])
    bot.channel(-1_005_000_000_092, "World News", "world_news", admins=[333])
    offer = (await sara.send("لبنان")).message
    welcome = (await sara.send("/start")).message
    await sara.send("/channel @akhbar_news")  # the commands act on the channel now
    for message in (offer, welcome):
        stale = await sara.press(message, message.data[0])  # ➕
        assert stale.popup == PopUp(ar("add_stale"), alert=True)
        assert stale.messages == []
    assert keywords(bot, CHANNEL) == keywords(bot, USER) == []

    await sara.send("/channel off")
    followed = await sara.press(offer, offer.data[0])
    assert followed.text == "✅ بدأت متابعة: لبنان"
    assert (keywords(bot, USER), keywords(bot, CHANNEL)) == (["لبنان"], [])

    offer = (await sam.send("Gaza")).message
    await sam.send("/channel @world_news")
    stale = await sam.press(offer, offer.data[0])
    assert stale.popup == PopUp(en("add_stale"), alert=True)
    assert stale.popup.text.startswith("This button was shown for another chat")
    assert keywords(bot, -1_005_000_000_092) == keywords(bot, 333) == []


async def test_buttons_shown_for_a_channel_do_nothing_after_switching_back(bot, sara):
    bot.channel(CHANNEL, "قناة الأخبار", "news_channel", admins=[USER])
    await sara.send("/add تونس")  # the user's own keyword
    await sara.send("/channel @news_channel")
    await sara.send("/add المغرب")  # the channel's
    listing = (await sara.send("/list")).message
    panel = (await sara.send("/settings")).message
    question = (await sara.send("/stop")).message
    await sara.send("/channel off")
    before = victim_state(bot, USER), victim_state(bot, CHANNEL)
    matched = sorted(bot.application.bot_data.services.backend.book.match(VICTIM_TEXT))
    assert matched == sorted([USER, CHANNEL])

    presses = [(question, question.button("stop:yes")), (panel, panel.button("set:mode:daily"))]
    presses += [(listing, d) for d in listing.data if d.startswith("kw:del:")]
    for message, data in presses:
        refused = await sara.press(message, data)
        assert refused.popup == PopUp(ar("button_stale"), alert=True), data
        assert refused.messages == []
    assert (victim_state(bot, USER), victim_state(bot, CHANNEL)) == before
    assert sorted(bot.application.bot_data.services.backend.book.match(VICTIM_TEXT)) == matched


def victim_state(bot, chat_id: int) -> tuple:
    """Everything a button could change about a chat: its row, its keywords."""
    chat = bot.db.execute(
        """SELECT type, language, paused, delivery_mode, digest_hour, quiet_start, quiet_end,
                  quiet_mode, timezone, link_previews, silent, article_languages, active,
                  managing_chat_id, linked_by
           FROM chats WHERE id = ?""",
        (chat_id,),
    ).fetchall()
    subscriptions = bot.db.execute(
        """SELECT id, keyword, key, paused, scoped, sites, pace, min_outlets, window_hours,
                  surges FROM subscriptions WHERE chat_id = ? ORDER BY id""",
        (chat_id,),
    ).fetchall()
    return chat, subscriptions


def forged_presses(victim: int, victim_subs: list[int], own: int) -> list[str]:
    """Callback data a modified client could send: every button prefix, with the victim's ids,
    the victim's stamp, no stamp, and garbage."""
    data = []
    for sub in victim_subs:
        for action in ("del", "pause", "resume"):
            for stamp in ("", f"|{victim}", f"|{own}", "|x"):
                data.append(f"kw:{action}:{sub}:0{stamp}")
        for way in ("show:0", "pace:daily", "pace:weekly", "big:3", "big:9", "win:12", "surge:on"):
            for stamp in ("", f"|{victim}", f"|{own}", "|x"):
                data.append(f"kwx:{way.replace(':', f':{sub}:', 1)}:0{stamp}")
        for row in (1, 2, 3):  # a 👎's buttons: outbox rows and keywords of the victim's
            data += [f"fb:x:{row}:{sub}:0", f"fb:ux:{row}:{sub}:0", f"fb:p:{row}:{sub}"]
            data += [f"fb:up:{row}:{sub}", f"fb:n:{row}"]
        for stamp in ("", f"|{victim}", f"|{own}", "|x"):  # a keyword's sources (issue #31)
            data += [
                f"src:show:{sub}:0{stamp}",
                f"src:tick:{sub}:1:0{stamp}",
                f"src:all:{sub}{stamp}",
            ]
    for stamp in ("", f"|{victim}", f"|{own}"):
        data += [f"set:mode:daily{stamp}", f"set:silent:toggle{stamp}", f"set:lang:en{stamp}"]
        data += [f"stop:yes{stamp}", f"kw:page:0{stamp}"]
    data += ["kw:", "kw:del:abc", "kw:del", "set:", "set:x", "stop:", f"ch:{victim}", "ch:abc"]
    data += ["ch:", "bc:send:1", "bc:cancel:1", "feed:del:1", "feed:pause:1", "feed:list:0"]
    data += ["test:المغرب", "fb:", "fb:x", "fb:p:abc:def", "add:", "help", "nonsense"]
    data += ["kwx:", "kwx:pace", f"kwx:big:abc:3:0|{own}", f"kwx:nothing:1:1:0|{own}"]
    prefixes = {d.partition(":")[0] + ":" for d in data}
    assert set(BUTTONS) <= prefixes, "a registered button prefix is not walked"
    return data


async def test_forged_buttons_change_nothing_of_another_chat(bot, sara, admin):
    attacker = bot.private(ATTACKER, "Mallory")
    # The forger's presses are rights questions here, not a flood (see the flood guard below).
    bot.application.bot_data.flood = FloodGuard(FloodPolicy(burst=1000))
    await sara.send("/add المغرب\nتونس")
    await admin.send("/add المغرب")
    await attacker.send("/add الجزائر")
    listing = (await attacker.send("/list")).message
    subs = [s.id for s in chat_store.chat_subscriptions(bot.db, USER)]
    book = bot.application.bot_data.services.backend.book
    before, matched = victim_state(bot, USER), book.match(VICTIM_TEXT)
    assert sorted(matched) == sorted([USER, ADMIN])

    for data in forged_presses(USER, subs, ATTACKER):
        pressed = await attacker.press(listing, data, forged=True)
        assert pressed.popup is not None, f"{data!r} got no answer"
        assert all(m.chat_id == ATTACKER for m in pressed.messages), data

    assert victim_state(bot, USER) == before
    assert book.match(VICTIM_TEXT) == matched
    # Stamped with the presser's own chat, a button acts on that chat: "stop:yes|<own>" is the
    # attacker's own /stop, the one press that changed anything.
    assert keywords(bot, ATTACKER) == []


# ---------------------------------------------------------------- bans


async def test_a_ban_is_told_once_then_ignored_wherever_the_banned_write(bot, sara, admin):
    stranger = bot.private(STRANGER, "Eve")
    group = bot.group(GROUP, "مجموعة", admins=[STRANGER])
    await sara.send("/add المغرب")
    assert (await admin.send(f"/ban {USER}")).text == ar("banned_done", chat_id=USER)
    assert (await admin.send(f"/ban {USER}")).text == ar("already_banned", chat_id=USER)
    assert (await admin.send(f"/ban {STRANGER}")).text == ar("banned_done", chat_id=STRANGER)
    assert (await admin.send(f"/ban {ADMIN}")).text == ar("ban_admin_refused", chat_id=ADMIN)
    assert (await admin.send("/ban")).text == ar("ban_usage")

    assert (await sara.send("/add تونس")).text == ar("banned_notice")
    for command in ("/stop", "/start", "/add تونس"):
        assert (await sara.send(command)).calls == [], command  # told once: ignored now
    assert (await stranger.send("/start")).text == ar("banned_notice")  # never met before
    assert (await group.send("/add المغرب", by=STRANGER)).calls == []  # banned in a group
    assert keywords(bot, USER) == ["المغرب"]  # what was kept is kept
    assert keywords(bot, GROUP) == []

    assert (await admin.send("/unban 777")).text == ar("not_banned", chat_id=777)
    assert (await admin.send(f"/unban {USER}")).text == ar("unbanned_done", chat_id=USER)
    assert (await sara.send("/add تونس")).text == "✅ بدأت متابعة: تونس"


# ---------------------------------------------------------------- the flood guard


async def test_commands_sent_too_fast_are_answered_once(tmp_path):
    async with offline_bot(tmp_path, pace=0) as bot:  # thirty at the same instant
        sara = bot.private(USER, "سارة")
        texts = [text for _ in range(30) for text in (await sara.send("/help")).texts]
    assert texts == [ar("help")] * int(FloodPolicy().burst) + [ar("too_fast")]


async def test_a_flooder_is_warned_once_and_cut_off_while_others_are_answered(tmp_path):
    policy = FloodPolicy(burst=5, refill_seconds=3.0, expensive_cost=4)
    clock = FakeClock(1_795_000_000.0)  # stands still: only the test moves it
    async with offline_bot(tmp_path, clock=clock, pace=0) as bot:
        bot.application.bot_data.flood = FloodGuard(policy)
        group = bot.group(GROUP, "مجموعة", members=[FLOODER, NEIGHBOUR])

        async def flood(times: int, command: str = "/help") -> list[str]:
            return [t for _ in range(times) for t in (await group.send(command, by=FLOODER)).texts]

        async def neighbour_answered() -> bool:
            return (await group.send("/list", by=NEIGHBOUR)).text == ar("list_empty")

        assert await flood(15) == [ar("help")] * 5 + [ar("too_fast")]
        assert await neighbour_answered()  # in the same group, another sender is answered

        clock.advance(policy.refill_seconds)  # one command's worth of tokens back
        assert await flood(5) == [ar("help")]  # still the same burst: no second warning

        # An expensive command costs more than the one token that came back; /help does not.
        clock.advance(policy.refill_seconds)
        assert await flood(1, "/test المغرب") == []
        assert await flood(1) == [ar("help")]

        # Quiet long enough for a full bucket: forgotten, and a new burst earns a new warning.
        clock.advance(policy.full_after)
        assert await neighbour_answered()
        assert len(bot.application.bot_data.flood) == 1  # only the neighbour's bucket is left
        assert await flood(6) == [ar("help")] * 5 + [ar("too_fast")]


async def test_a_bot_admin_is_never_held_back(tmp_path):
    async with offline_bot(tmp_path, pace=0) as bot:
        admin, sara = bot.private(ADMIN, "Admin"), bot.private(USER, "سارة")
        admins = [t for _ in range(60) for t in (await admin.send("/help")).texts]
        users = [t for _ in range(60) for t in (await sara.send("/help")).texts]
    assert admins == [ar("help") + "\n\n" + ar("admin_help")] * 60
    assert users == [ar("help")] * int(FloodPolicy().burst) + [ar("too_fast")]  # the same burst
