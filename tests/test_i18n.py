"""The message catalog: both languages complete, placeholders agree, parameters escaped."""

import ast
from pathlib import Path

import pytest

from core.i18n import LANGUAGES, MissingMessage, Raw, load_catalog, pick_language

ROOT = Path(__file__).resolve().parents[1]
CATALOG = load_catalog()


def test_both_languages_have_the_same_messages():
    assert CATALOG.ids("ar") == CATALOG.ids("en")
    assert len(CATALOG.ids("ar")) > 40


@pytest.mark.parametrize("message_id", sorted(CATALOG.ids("ar")))
def test_placeholders_agree(message_id):
    assert CATALOG.placeholders("ar", message_id) == CATALOG.placeholders("en", message_id)


def used_message_ids() -> set[str]:
    """Literal first arguments of .text(...) calls in the code."""
    used = set()
    for package in ("handlers", "delivery", "core"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "text"
                    and node.args
                ):
                    first = node.args[-1] if len(node.args) > 1 else node.args[0]
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        used.add(first.value)
    return used


def test_every_message_the_code_uses_exists_in_both_languages():
    used = used_message_ids()
    assert "welcome" in used
    for language in LANGUAGES:
        assert used - CATALOG.ids(language) == set(), language


def test_parameters_are_escaped_unless_raw():
    assert CATALOG.text("ar", "already", keyword="<b>&") == "أنت تتابع «&lt;b&gt;&amp;» من قبل."
    assert "<i>x</i>" in CATALOG.text("en", "addfeed_failed", reason=Raw("<i>x</i>"))


def test_missing_message_is_an_error():
    with pytest.raises(MissingMessage):
        CATALOG.text("ar", "no_such_message")


@pytest.mark.parametrize(
    ("code", "language"),
    [(None, "ar"), ("ar", "ar"), ("ar-EG", "ar"), ("en", "en"), ("fr", "en"), ("fa", "en")],
)
def test_pick_language(code, language):
    assert pick_language(code) == language


STRONG_RTL = {"R", "AL"}
STRONG_LTR = {"L"}


def first_strong_direction(line: str) -> str | None:
    """The bidi class of a line's first strong character, markup and placeholders skipped."""
    import re
    import unicodedata

    visible = re.sub(r"<[^>]+>|\{[^}]+\}", "", line)
    for char in visible:
        direction = unicodedata.bidirectional(char)
        if direction in STRONG_RTL | STRONG_LTR:
            return direction
    return None


@pytest.mark.parametrize("message_id", sorted(CATALOG.ids("ar")))
def test_arabic_lines_start_right_to_left(message_id):
    """A line whose first strong letter is Latin flips to left-to-right on a phone and its
    punctuation lands on the wrong side; every Arabic line must start with Arabic (a line that
    starts with a placeholder, a link or a command alone is allowed)."""
    for line in CATALOG.messages["ar"][message_id].split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith(("{", "/", "http", "🔗")):
            continue
        if first_strong_direction(stripped) is None:
            continue  # emoji, digits and punctuation only
        assert first_strong_direction(stripped) in STRONG_RTL, (message_id, line)
