"""The message catalog: every user-facing text, Arabic first, English second."""

from __future__ import annotations

import html
import string
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from core.safety import visible

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "rasd"
LANGUAGES = ("ar", "en")
DEFAULT_LANGUAGE = "ar"


class MissingMessage(KeyError):
    """A message id has no translation in a language."""


class Raw(str):
    """A parameter that is already safe HTML and must not be escaped again."""


def pick_language(telegram_code: str | None) -> str:
    """Arabic for Arabic speakers and unknown users, English for everyone else."""
    if not telegram_code or telegram_code.lower().startswith("ar"):
        return "ar"
    return "en"


@dataclass(frozen=True)
class Catalog:
    """Messages by language and id; `text()` formats one with HTML-escaped parameters."""

    messages: dict[str, dict[str, str]]

    def text(self, language: str, message_id: str, /, **params: object) -> str:
        """The message in `language` (Arabic if unknown), parameters HTML-escaped and without
        invisible characters (bidi controls…)."""
        table = self.messages.get(language) or self.messages[DEFAULT_LANGUAGE]
        try:
            template = table[message_id]
        except KeyError:
            raise MissingMessage(f"{message_id!r} has no {language!r} text") from None
        safe = {
            key: value if isinstance(value, Raw) else html.escape(visible(str(value)), quote=False)
            for key, value in params.items()
        }
        return template.format(**safe)

    def ids(self, language: str) -> set[str]:
        """All message ids a language has."""
        return set(self.messages.get(language, {}))

    def placeholders(self, language: str, message_id: str) -> set[str]:
        """The {names} a message uses, to check that translations agree."""
        template = self.messages[language][message_id]
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def load_catalog(directory: Path = LOCALES_DIR) -> Catalog:
    """Read locales/<lang>/LC_MESSAGES/rasd.po for each language."""
    messages: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        path = directory / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        with path.open("rb") as handle:
            po = read_po(handle, locale=language)
        messages[language] = {
            str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy
        }
    return Catalog(messages)
