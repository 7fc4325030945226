"""/settings, as a user sees it: every choice in words, a button for each, each press saved and
shown by editing the same message (tests/offline.py: the production Application offline)."""

from __future__ import annotations

from storage import chats as chat_store
from tests.offline import Button, PopUp, ar, en, offline_bot, sara_mydata
from tests.support import USER

SAVED = PopUp("✅ حُفظ.")


def panel(
    *,
    mode: str = "instant",
    hour: str = "08:00",
    quiet: str = ar("quiet_off"),
    timezone: str = "UTC",
    previews: str = "off",
    silent: bool = False,
    languages: str = "العربية",
) -> str:
    """The settings message for these choices."""
    return "\n".join(
        [
            ar("settings_title"),
            "",
            ar("settings_mode", mode=ar(f"mode_{mode}")),
            ar("settings_digest_hour", hour=hour),
            ar("settings_quiet", quiet=quiet),
            ar("settings_timezone", timezone=timezone),
            ar("settings_previews", state=ar(f"preview_{previews}")),
            ar("settings_silent", state=ar("on" if silent else "off")),
            ar("settings_languages", languages=languages),
        ]
    )


def stamped(data: str) -> str:
    return f"{data}|{USER}"


async def test_settings_show_every_choice_and_a_button_for_each(sara):
    shown = (await sara.send("/settings")).message
    assert shown.text == panel()
    assert shown.buttons == (
        (
            Button("✅ ⚡ فوري", stamped("set:mode:instant")),
            Button("🕐 كل ساعة", stamped("set:mode:hourly")),
            Button("📅 يومي", stamped("set:mode:daily")),
        ),
        (Button("🕗 ساعة الملخص: 08:00", stamped("set:hour:next")),),
        (
            Button("🌙 الهدوء: بلا", stamped("set:quiet:next")),
            Button("🔕/⏸ دون صوت", stamped("set:quietmode:next")),
        ),
        (Button("🕰 UTC", stamped("set:tz:next")),),
        (
            Button("🖼 المعاينة: معطّلة", stamped("set:previews:toggle")),
            Button("🔕 دون صوت: معطّلة", stamped("set:silent:toggle")),
        ),
        (
            Button("✅ العربية", stamped("set:lang:ar")),
            Button("الإنجليزية", stamped("set:lang:en")),
            Button("الفرنسية", stamped("set:lang:fr")),
        ),
        (Button("الفارسية", stamped("set:lang:fa")), Button("الأردية", stamped("set:lang:ur"))),
        (Button("كل اللغات", stamped("set:lang:*")),),
    )


async def test_each_press_saves_and_edits_the_same_message(sara):
    shown = (await sara.send("/settings")).message
    presses = [
        ("set:mode:daily", panel(mode="daily")),
        ("set:hour:next", panel(mode="daily", hour="12:00")),
        ("set:quiet:next", panel(mode="daily", hour="12:00", quiet="من 22:00 إلى 07:00 (دون صوت)")),
        (
            "set:quietmode:next",
            panel(mode="daily", hour="12:00", quiet="من 22:00 إلى 07:00 (تُؤجَّل)"),
        ),
        (
            "set:tz:next",
            panel(
                mode="daily",
                hour="12:00",
                quiet="من 22:00 إلى 07:00 (تُؤجَّل)",
                timezone="Africa/Casablanca",
            ),
        ),
        (
            "set:silent:toggle",
            panel(
                mode="daily",
                hour="12:00",
                quiet="من 22:00 إلى 07:00 (تُؤجَّل)",
                timezone="Africa/Casablanca",
                silent=True,
            ),
        ),
    ]
    for data, expected in presses:
        pressed = await sara.press(shown, stamped(data))
        assert pressed.popup == SAVED, data
        assert pressed.text == expected, data
        assert pressed.message.message_id == shown.message_id
    assert pressed.message.labels[:3] == ["⚡ فوري", "🕐 كل ساعة", "✅ 📅 يومي"]
    assert len(sara.bot.messages(USER)) == 1  # every change edited the one message

    chat = chat_store.get_chat(sara.bot.db, USER)
    assert (chat.delivery_mode, chat.digest_hour, chat.timezone, chat.silent) == (
        "daily",
        12,
        "Africa/Casablanca",
        True,
    )
    assert (chat.quiet_start, chat.quiet_end, chat.quiet_mode) == (22, 7, "hold")
    assert (await sara.send("/mydata")).text == sara_mydata(
        mode=ar("mode_daily"),
        timezone="Africa/Casablanca",
        quiet="من 22:00 إلى 07:00 (تُؤجَّل)",
    )


async def test_link_previews_go_below_then_above_then_off(sara):
    shown = (await sara.send("/settings")).message
    for state in ("below", "above", "off"):
        pressed = await sara.press(shown, stamped("set:previews:toggle"))
        assert pressed.text == panel(previews=state)
        assert pressed.message.labels[7] == f"🖼 المعاينة: {ar(f'preview_{state}')}"
    assert chat_store.get_chat(sara.bot.db, USER).link_previews == "off"


async def test_article_languages_are_toggled_never_left_empty(sara):
    shown = (await sara.send("/settings")).message
    both = await sara.press(shown, stamped("set:lang:en"))
    assert both.text == panel(languages="العربية، الإنجليزية")
    assert "✅ الإنجليزية" in both.message.labels
    english = await sara.press(shown, stamped("set:lang:ar"))
    assert english.text == panel(languages="الإنجليزية")
    arabic_again = await sara.press(shown, stamped("set:lang:en"))  # none left: Arabic
    assert arabic_again.text == panel(languages="العربية")
    everything = await sara.press(shown, stamped("set:lang:*"))
    assert everything.text == panel(languages="كل اللغات")
    assert everything.message.labels[-6:] == [
        "العربية", "الإنجليزية", "الفرنسية", "الفارسية", "الأردية", "✅ كل اللغات",
    ]  # fmt: skip
    back = await sara.press(shown, stamped("set:lang:*"))
    assert back.text == panel(languages="العربية")


async def test_settings_speak_english_to_english_speakers(tmp_path):
    async with offline_bot(tmp_path) as bot:
        sam = bot.private(333, "Sam", language="en")
        shown = (await sam.send("/settings")).message
        assert en("settings_mode", mode=en("mode_instant")) in shown.text.split("\n")
        hourly = await sam.press(shown, "set:mode:hourly|333")
        assert hourly.popup == PopUp(en("settings_saved"))
        assert en("settings_mode", mode=en("mode_hourly")) in hourly.text.split("\n")
