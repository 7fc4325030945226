"""The message catalog: both languages complete, placeholders agree, parameters escaped."""

import ast
from pathlib import Path

import pytest

from core.i18n import LANGUAGES, MissingMessage, Phrase, Plural, Raw, load_catalog, pick_language

ROOT = Path(__file__).resolve().parents[1]
CATALOG = load_catalog()


def test_both_languages_have_the_same_messages():
    assert CATALOG.ids("ar") == CATALOG.ids("en")
    assert len(CATALOG.ids("ar")) > 40


@pytest.mark.parametrize("message_id", sorted(CATALOG.ids("ar")))
def test_placeholders_agree(message_id):
    assert CATALOG.placeholders("ar", message_id) == CATALOG.placeholders("en", message_id)


def used_message_ids() -> set[str]:
    """Literal first arguments of .text(...) and .label(...) calls in the code."""
    used = set()
    for package in ("handlers", "delivery", "core"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("text", "label")
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
    texts = CATALOG.plurals["ar"].get(message_id) or (CATALOG.messages["ar"][message_id],)
    for line in (line for text in texts for line in text.split("\n")):
        stripped = line.strip()
        if not stripped or stripped.startswith(("{", "/", "http", "🔗")):
            continue
        if first_strong_direction(stripped) is None:
            continue  # emoji, digits and punctuation only
        assert first_strong_direction(stripped) in STRONG_RTL, (message_id, line)


@pytest.mark.parametrize(
    ("n", "arabic", "english"),
    [
        (0, "0 يوم", "0 days"),
        (1, "يوم واحد", "1 day"),
        (2, "يومين", "2 days"),
        (3, "3 أيام", "3 days"),
        (10, "10 أيام", "10 days"),
        (11, "11 يوماً", "11 days"),
        (30, "30 يوماً", "30 days"),
        (100, "100 يوم", "100 days"),
        (103, "103 أيام", "103 days"),
    ],
)
def test_counts_take_the_form_their_language_uses(n, arabic, english):
    assert CATALOG.plural("ar", "n_days", n) == arabic
    assert CATALOG.plural("en", "n_days", n) == english
    assert arabic in CATALOG.text("ar", "test_none", keyword="x", days=Plural("n_days", n), total=5)


def test_every_plural_has_every_form_its_language_declares():
    for language, forms in (("ar", 6), ("en", 2)):
        for message_id, texts in CATALOG.plurals[language].items():
            assert len(texts) == forms, (language, message_id)
            assert all(texts), (language, message_id)


def test_every_kind_of_failure_has_its_words_in_both_languages():
    """A kind of failure an admin can be told about, without a message, fails here."""
    from typing import get_args

    from feeds.fetch import ErrorKind

    kinds = set(get_args(ErrorKind)) | {"not_feed", "internal", "credentials", "fetch"}
    for language in LANGUAGES:
        missing = {kind for kind in kinds if f"error_kind_{kind}" not in CATALOG.ids(language)}
        assert missing == set(), language


def test_a_phrase_parameter_is_written_in_the_language_around_it():
    reason = Phrase("error_reason", {"why": Phrase("error_kind_timeout"), "detail": "20 s"})
    assert CATALOG.text("ar", "addfeed_failed", reason=reason).endswith(
        "انتهت مهلة الاتصال بالموقع (20 s)"
    )
    assert CATALOG.text("en", "addfeed_failed", reason=reason).endswith(
        "the site took too long to answer (20 s)"
    )
