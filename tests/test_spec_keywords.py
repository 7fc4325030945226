"""Keywords, as a user sees them: /add, /list and its buttons, /remove, /pause, /resume, /mydata,
/stop, and a plain message that offers to follow or test what it says.

Specifications through tests/offline.py: the production Application, real Update objects, the
whole message the user gets."""

from __future__ import annotations

from core.i18n import Plural
from storage import chats as chat_store
from tests.offline import Button, PopUp, ar, en, offline_bot, sara_mydata
from tests.support import USER

MOROCCO, TUNISIA = "المغرب", "تونس"


def keywords(bot, chat_id: int) -> list[str]:
    """A chat's keywords as stored, oldest first."""
    return [s.keyword for s in chat_store.chat_subscriptions(bot.db, chat_id)]


def listing(*lines: str) -> str:
    """/list's text: the header, one line per keyword, the hint."""
    return "\n".join([ar("list_header", count=len(lines)), *lines, "", ar("list_hint")])


def keyword_buttons(sub_id: int, keyword: str, *, paused: bool = False, page: int = 0) -> tuple:
    """A /list row: pause (or resume), delete and its ⚙️ panel, stamped with the chat they act
    on."""
    action, label = ("resume", "▶️") if paused else ("pause", "⏸")
    return (
        Button(f"{label} {keyword}", f"kw:{action}:{sub_id}:{page}|{USER}"),
        Button("🗑 حذف", f"kw:del:{sub_id}:{page}|{USER}"),
        Button("⚙️", f"kwx:show:{sub_id}:0:{page}|{USER}"),
    )


async def test_add_answers_for_every_keyword_at_once(sara):
    said = await sara.send("/add الجزائر\nتونس\nفي\nالجزائر")
    assert said.text == "\n".join(
        [
            "✅ بدأت متابعة: الجزائر، تونس",
            "«في» كلمة شائعة جداً ولن تفيد في اختيار الأخبار. جرّب كلمة أدق.",
            "أنت تتابع «الجزائر» من قبل.",
        ]
    )
    assert keywords(sara.bot, USER) == ["الجزائر", TUNISIA]


async def test_add_explains_each_refusal(sara):
    assert (await sara.send('/add "المغرب')).text == ar("refused_syntax", keyword='"المغرب')
    assert (await sara.send("/add ب")).text == ar("refused_too_short", keyword="ب", min=2)
    assert (await sara.send("/add")).text == ar("add_usage")
    assert (await sara.send("/add ال*\nالمغرب*")).text == "\n".join(
        ["✅ بدأت متابعة: المغرب*", ar("refused_broad_prefix", keyword="ال*", min=3)]
    )
    assert keywords(sara.bot, USER) == ["المغرب*"]


async def test_remove_by_word_and_tell_what_was_not_followed(sara):
    await sara.send(f"/add الجزائر\n{TUNISIA}")
    assert (await sara.send(f"/remove {TUNISIA}")).text == "🗑 حذفت «تونس»."
    assert (await sara.send(f"/remove {TUNISIA}")).text == ar("not_following", keyword=TUNISIA)
    assert (await sara.send("/list")).text == listing("• الجزائر")


async def test_remove_without_a_word_shows_the_list_with_its_buttons(sara):
    await sara.send(f"/add {MOROCCO}")
    said = await sara.send("/remove")
    assert said.text == ar("remove_usage") + "\n\n" + listing("• المغرب")
    assert said.message.buttons == (keyword_buttons(1, MOROCCO),)


async def test_list_is_empty_until_a_keyword_is_added(sara):
    said = await sara.send("/list")
    assert said.text == ar("list_empty")
    assert said.message.buttons == ()


async def test_list_buttons_pause_resume_and_delete_in_place(sara):
    await sara.send(f"/add {MOROCCO}\n{TUNISIA}")
    shown = (await sara.send("/list")).message
    assert shown.text == listing("• المغرب", "• تونس")
    assert shown.buttons == (keyword_buttons(1, MOROCCO), keyword_buttons(2, TUNISIA))

    paused = await sara.press(shown, f"kw:pause:1:0|{USER}")
    assert paused.popup == PopUp("• المغرب ⏸ (موقوفة مؤقتاً)")
    assert paused.message.message_id == shown.message_id  # edited, not sent again
    assert paused.text == listing("• المغرب ⏸ (موقوفة مؤقتاً)", "• تونس")
    assert paused.message.buttons[0] == keyword_buttons(1, MOROCCO, paused=True)

    resumed = await sara.press(shown, f"kw:resume:1:0|{USER}")
    assert resumed.popup == PopUp("• المغرب")
    assert resumed.text == listing("• المغرب", "• تونس")

    deleted = await sara.press(shown, f"kw:del:2:0|{USER}")
    assert deleted.popup == PopUp("🗑 حذفت «تونس».")
    assert deleted.text == listing("• المغرب")
    assert keywords(sara.bot, USER) == [MOROCCO]
    assert len(sara.bot.messages(USER)) == 2  # /add's answer and the list: presses edit it


async def test_a_keyword_deleted_elsewhere_is_said_gone_on_its_button(sara):
    await sara.send(f"/add {MOROCCO}")
    shown = (await sara.send("/list")).message
    await sara.send(f"/remove {MOROCCO}")
    pressed = await sara.press(shown, f"kw:pause:1:0|{USER}")
    assert pressed.popup == PopUp(ar("keyword_gone"))
    assert pressed.text == ar("list_empty")


async def test_labels_and_pop_ups_show_a_keyword_as_typed(sara):
    odd = "غزة|<b>AT&T</b>"  # every character HTML escapes
    assert (await sara.send(f"/add {odd}\nAT&T")).text == (
        "✅ بدأت متابعة: غزة|&lt;b&gt;AT&amp;T&lt;/b&gt;، AT&amp;T"
    )
    shown = (await sara.send("/list")).message
    assert shown.labels == [f"⏸ {odd}", "🗑 حذف", "⚙️", "⏸ AT&T", "🗑 حذف", "⚙️"]
    assert (await sara.press(shown, f"kw:pause:1:0|{USER}")).popup == PopUp(
        f"• {odd} ⏸ (موقوفة مؤقتاً)"
    )
    assert shown.plain.count(odd) == 1
    assert (await sara.press(shown, f"kw:del:2:0|{USER}")).popup == PopUp("🗑 حذفت «AT&T».")


async def test_pause_and_resume_all_alerts(sara):
    assert (await sara.send("/pause")).text == ar("paused_all")
    assert (await sara.send("/pause")).text == ar("already_paused")
    assert (await sara.send("/resume")).text == ar("resumed_all")
    assert (await sara.send("/resume")).text == ar("not_paused")


async def test_mydata_says_everything_kept_about_the_chat(sara):
    await sara.send(f"/add {MOROCCO}")
    said = await sara.send("/mydata")
    assert said.text == sara_mydata(count=1, keywords=MOROCCO)


async def test_stop_asks_then_deletes_everything_or_keeps_it(sara):
    await sara.send(f"/add {MOROCCO}")
    question = (await sara.send("/stop")).message
    assert question.text == ar("stop_confirm")
    assert question.buttons == (
        (
            Button(ar("button_stop_yes"), f"stop:yes|{USER}"),
            Button(ar("button_stop_no"), f"stop:no|{USER}"),
        ),
    )
    kept = await sara.press(question, f"stop:no|{USER}")
    assert kept.text == ar("stop_kept")
    assert keywords(sara.bot, USER) == [MOROCCO]

    question = (await sara.send("/stop")).message
    stopped = await sara.press(question, f"stop:yes|{USER}")
    assert stopped.text == ar("stopped")
    assert chat_store.get_chat(sara.bot.db, USER) is None
    assert keywords(sara.bot, USER) == []


async def test_an_unknown_command_is_said_so(sara):
    assert (await sara.send("/nonsense")).text == ar("unknown_command")


async def test_a_plain_message_offers_to_follow_or_test_it(sara):
    offer = (await sara.send("لبنان")).message
    assert offer.text == "هل تريد متابعة «لبنان»؟"
    assert offer.buttons == (
        (Button(ar("button_follow"), f"add:لبنان|{USER}"), Button(ar("button_test"), "test:لبنان")),
    )
    tested = await sara.press(offer, "test:لبنان")
    assert tested.popup == PopUp(None)
    assert tested.text == ar("test_none", keyword="لبنان", days=Plural("n_days", 7), total=0)
    assert tested.message.buttons == ((Button(ar("button_follow"), f"add:لبنان|{USER}"),),)
    followed = await sara.press(offer, f"add:لبنان|{USER}")
    assert followed.text == "✅ بدأت متابعة: لبنان"
    assert followed.message.message_id == offer.message_id
    assert keywords(sara.bot, USER) == ["لبنان"]


async def test_follow_buttons_fit_telegram_s_64_bytes_with_their_stamp(bot, sara):
    channel = bot.channel(-1_005_000_000_091, "قناة الأخبار", "akhbar_news", admins=[USER])
    for target in (USER, channel.id):  # "add:…|<chat id>": a channel's id is longer
        if target == channel.id:
            await sara.send("/channel @akhbar_news")
        for letters in range(20, 31):
            word = "ب" * letters
            offer = (await sara.send(word)).message  # World refuses data over 64 bytes
            if len(f"add:{word}|{target}".encode()) <= 64:
                assert offer.text == ar("offer_follow", text=word)
                assert offer.data == [f"add:{word}|{target}", f"test:{word}"]
            else:
                assert offer.text == ar("plain_text_hint", text=word)
                assert offer.buttons == ()


async def test_english_speakers_get_english(tmp_path):
    async with offline_bot(tmp_path) as bot:
        sam = bot.private(333, "Sam", language="en")
        assert (await sam.send("/start")).text.startswith("Welcome to «Rasd»")
        assert (await sam.send("/add غزة")).text == "✅ Now following: غزة"
        assert (await sam.send("/add the")).text == en("refused_stop_word", keyword="the")
        assert (await sam.send("/list")).text.startswith("🔑 <b>Your keywords (1):</b>\n• غزة")
