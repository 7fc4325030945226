"""Every message fits: split_message and fit_message against the test server's own HTML parser."""

import random
import re

import pytest

from core.render import (
    MAX_MESSAGE_CHARS,
    fit_message,
    is_too_long,
    link_html,
    message_length,
    page_of,
    plain_text,
    shorten,
    split_message,
)
from tests.botapi import HtmlParseError, parse_html, trim_text, utf16_len

WORDS = [
    "المغرب",
    "وزير",
    "الداخلية",
    "مُحَمَّد",  # letters with their harakat (combining marks)
    "&amp;",
    "&lt;b&gt;",
    "&quot;",
    "🔔",  # two UTF-16 units
    "👩‍💻",  # an emoji joined by a ZWJ
    "news",
    "x",
    "a" * 70,  # a word longer than some limits
    "قال.",
    "هل؟",
]


def telegram_text(message_html: str) -> tuple[str, list[dict]]:
    """What Telegram makes of a message: its text and entities (raises if it would refuse it)."""
    return trim_text(*parse_html(message_html))


def styled_characters(message_html: str) -> list[tuple[str, frozenset]]:
    """Each visible non-space character with the formatting Telegram gives it."""
    text, entities = telegram_text(message_html)
    styles: list[frozenset] = [frozenset()] * utf16_len(text)
    for e in entities:
        if e["type"] in ("bold", "italic", "text_link"):
            for offset in range(e["offset"], e["offset"] + e["length"]):
                styles[offset] = styles[offset] | {(e["type"], e.get("url"))}
    result, offset = [], 0
    for char in text:
        if not char.isspace():
            result.append((char, styles[offset]))
        offset += 2 if ord(char) > 0xFFFF else 1
    return result


def random_message(rng: random.Random) -> str:
    """Random Telegram HTML of the kinds Rasd sends: items, lines, nested and multi-line tags."""
    pieces = []
    for _ in range(rng.randint(1, 30)):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 15)))
        kind = rng.random()
        if kind < 0.2:
            piece = f"<b>{words}</b>"
        elif kind < 0.3:
            piece = f'<a href="https://example.org/{rng.randint(1, 99)}?a=1&amp;b=2">{words}</a>'
        elif kind < 0.4:
            piece = f"<b>{words} <i>{words}</i>\n{words}</b>"
        else:
            piece = words
        pieces.append(piece + rng.choice([" ", "\n", "\n\n", ". ", ""]))
    return "".join(pieces)


@pytest.mark.slow
def test_split_over_random_messages_keeps_markup_text_and_formatting():
    rng = random.Random(14)
    for _ in range(300):
        message = random_message(rng)
        limit = rng.choice([12, 40, 120, 600, 4096])
        parts = split_message(message, limit)
        for part in parts:
            text, _ = telegram_text(part)  # parses: no tag cut, none left open, no bare &
            assert 0 < utf16_len(text) <= limit
            assert message_length(part) == utf16_len(text)
        joined = [c for part in parts for c in styled_characters(part)]
        assert joined == styled_characters(message)  # nothing lost, formatting intact


def is_subsequence(short: list, long: list) -> bool:
    remaining = iter(long)
    return all(item in remaining for item in short)


@pytest.mark.slow
def test_fit_over_random_messages_is_one_valid_message_of_the_original():
    rng = random.Random(4096)
    for _ in range(300):
        message = random_message(rng)
        limit = rng.choice([20, 80, 300, 1000])
        fitted = fit_message(message, limit)
        text, _ = telegram_text(fitted)
        assert utf16_len(text) <= limit
        kept = [c for c in styled_characters(fitted) if c[0] != "…"]
        assert is_subsequence(kept, styled_characters(message))  # cut, never rewritten


def test_split_cuts_between_items_first():
    items = [
        f"🔹 <b>عنوان الخبر رقم {n} &amp; تفاصيله</b> — المصدر\nhttps://x.org/{'a' * 250}"
        for n in range(40)
    ]
    message = "📬 <b>ملخص الأخبار (40):</b>\n\n" + "\n\n".join(items)
    assert message_length(message) > 3 * MAX_MESSAGE_CHARS
    parts = split_message(message)
    assert len(parts) == 4
    assert parts[0].startswith("📬")
    for part in parts[1:]:
        assert part.startswith("🔹")  # a whole item begins every part
    numbers = [int(n) for part in parts for n in re.findall(r"رقم (\d+)", part)]
    assert numbers == list(range(40))


def test_a_tag_open_across_a_cut_is_closed_and_reopened():
    message = "<b>" + "كلمة " * 300 + "</b>"
    first, second = split_message(message, 1000)[:2]
    assert first.startswith("<b>")
    assert first.endswith("</b>")
    assert second.startswith("<b>")
    assert second.endswith("</b>")
    assert "كلم</b>" not in first  # cut after a word


def test_short_message_is_one_part_unchanged():
    message = "<b>x</b> &amp; y"
    assert split_message(message) == [message]
    assert fit_message(message) is message


def test_length_is_counted_as_telegram_counts():
    message = "  <b>🔔</b> &amp;\n"
    text, _ = telegram_text(message)
    assert message_length(message) == utf16_len(text) == 4
    assert message_length("🔔" * 2048) == MAX_MESSAGE_CHARS
    assert split_message("🔔" * 2049) == ["🔔" * 2048, "🔔"]


def test_fit_cuts_the_longest_line_at_a_sentence_and_keeps_its_bold():
    long = "🔔 <b>عنوان</b>\n\n" + "<b>جملة</b> طويلة هنا. " * 600 + "\n🔗 https://x.org/a"
    fitted = fit_message(long)
    assert message_length(fitted) <= MAX_MESSAGE_CHARS
    assert fitted.startswith("🔔 <b>عنوان</b>\n\n")
    assert fitted.endswith("هنا.…\n🔗 https://x.org/a")
    assert "<b></b>" not in fitted  # dropped text leaves no empty pairs behind
    telegram_text(fitted)


def test_fit_leaves_out_whole_lines_when_no_line_can_give_enough():
    lines = [f"• <b>كلمة {n}</b>" for n in range(1000)]
    fitted = fit_message("\n".join(lines), 500)
    assert message_length(fitted) <= 500
    assert fitted.endswith("\n…")
    shown = fitted.split("\n")[:-1]
    assert shown == lines[: len(shown)]  # whole lines, in order


def test_shorten_cuts_at_a_word_with_an_ellipsis():
    assert shorten("وزير الداخلية", 50) == "وزير الداخلية"
    assert shorten("وزير الداخلية المغربي يزور الرباط", 20) == "وزير الداخلية…"
    assert shorten("a" * 30, 10) == "a" * 9 + "…"
    assert shorten("سطر\nآخر", 50) == "سطر آخر"


def test_a_long_link_shows_short_and_opens_the_whole_url():
    url = "https://www.hespress.com/" + "%D8%A7%D9%84" * 40 + "?a=1&b=2"
    shown = link_html(url)
    text, entities = telegram_text(shown)
    assert len(text) <= 80
    assert text.endswith("…")
    assert entities == [{"type": "text_link", "offset": 0, "length": utf16_len(text), "url": url}]
    assert link_html("https://x.org/a?b=1&c=2") == "https://x.org/a?b=1&amp;c=2"
    assert plain_text(f"🔗 {shown}") == f"🔗 {url}"  # as plain text, the whole URL again


def test_pages_cover_every_item_once():
    pages = [page_of(23, n, 10) for n in range(3)]
    assert [(p.start, p.end) for p in pages] == [(0, 10), (10, 20), (20, 23)]
    assert {p.count for p in pages} == {3}
    assert page_of(23, 99, 10).number == 2  # past the end: the last page
    assert page_of(0, 0, 10).count == 1


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("Message is too long", True),
        ("Bad Request: MESSAGE_TOO_LONG", True),
        ("Chat not found", False),
    ],
)
def test_too_long_is_recognised(reason, expected):
    assert is_too_long(reason) is expected


def test_the_oracle_refuses_what_a_bad_cut_would_make():
    with pytest.raises(HtmlParseError):
        telegram_text("<b>open")
    with pytest.raises(HtmlParseError):
        telegram_text("&am")
