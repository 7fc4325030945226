"""The message catalog: every user-facing text, Arabic first, English second."""

from __future__ import annotations

import gettext
import html
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

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


@dataclass(frozen=True)
class Phrase:
    """A parameter that is another catalog message, in the same language as the one around it."""

    message_id: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Plural:
    """A parameter that is a count in words ("يومين", "2 days"), in the message's language."""

    message_id: str
    n: int


class Reason(Protocol):
    """Why something was not done, as a message id and its parameters (service.base.Refusal)."""

    @property
    def message_id(self) -> str: ...
    @property
    def params(self) -> Mapping[str, object]: ...


def pick_language(telegram_code: str | None) -> str:
    """Arabic for Arabic speakers and unknown users, English for everyone else."""
    if not telegram_code or telegram_code.lower().startswith("ar"):
        return "ar"
    return "en"


@dataclass(frozen=True)
class Catalog:
    """Messages by language and id; `text()` formats one with HTML-escaped parameters, and
    `plural()` a count in the form its language uses for it (Arabic has six)."""

    messages: dict[str, dict[str, str]]
    plurals: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    plural_rules: dict[str, Callable[[int], int]] = field(default_factory=dict)

    def text(self, language: str, message_id: str, /, **params: object) -> str:
        """The message in `language` (Arabic if unknown), parameters HTML-escaped and without
        invisible characters (bidi controls…)."""
        table = self.messages.get(language) or self.messages[DEFAULT_LANGUAGE]
        try:
            template = table[message_id]
        except KeyError:
            raise MissingMessage(f"{message_id!r} has no {language!r} text") from None
        safe = {key: self._param(language, value) for key, value in params.items()}
        return template.format(**safe)

    def refusal(self, language: str, reason: Reason) -> str:
        """Why not, in `language`: the one way every entry point words a use case's refusal."""
        return self.text(language, reason.message_id, **reason.params)

    def _param(self, language: str, value: object) -> str:
        """A parameter as the message shows it: escaped, or a count in words."""
        if isinstance(value, Plural):
            return self.plural(language, value.message_id, value.n)
        if isinstance(value, Phrase):
            return self.text(language, value.message_id, **value.params)
        if isinstance(value, Raw):
            return value
        return html.escape(visible(str(value)), quote=False)

    def plural(self, language: str, message_id: str, n: int) -> Raw:
        """`n` things in words: "يومين", "7 أيام", "30 يوماً"; "2 days" (the .po file's plural
        forms, chosen by its Plural-Forms rule)."""
        if language not in self.plurals:
            language = DEFAULT_LANGUAGE
        try:
            forms = self.plurals[language][message_id]
        except KeyError:
            raise MissingMessage(f"{message_id!r} has no {language!r} plural") from None
        index = self.plural_rules[language](n)
        return Raw(html.escape(forms[min(index, len(forms) - 1)].format(n=n), quote=False))

    def ids(self, language: str) -> set[str]:
        """All message ids a language has (plural ones too)."""
        return set(self.messages.get(language, {})) | set(self.plurals.get(language, {}))

    def placeholders(self, language: str, message_id: str) -> set[str]:
        """The {names} a message uses (any of its plural forms), to check that translations
        agree."""
        templates = self.plurals.get(language, {}).get(message_id) or (
            self.messages[language][message_id],
        )
        formatter = string.Formatter()
        return {name for t in templates for _, name, _, _ in formatter.parse(t) if name}


def load_catalog(directory: Path = LOCALES_DIR) -> Catalog:
    """Read locales/<lang>/LC_MESSAGES/rasd.po for each language."""
    messages: dict[str, dict[str, str]] = {}
    plurals: dict[str, dict[str, tuple[str, ...]]] = {}
    rules: dict[str, Callable[[int], int]] = {}
    for language in LANGUAGES:
        path = directory / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        with path.open("rb") as handle:
            po = read_po(handle, locale=language)
        usable = [m for m in po if m.id and m.string and not m.fuzzy]
        messages[language] = {str(m.id): str(m.string) for m in usable if not m.pluralizable}
        plurals[language] = {
            str(m.id[0]): tuple(str(form) for form in m.string or ())
            for m in usable
            if m.pluralizable and isinstance(m.string, tuple | list)
        }
        rules[language] = gettext.c2py(po.plural_expr)
    return Catalog(messages, plurals, rules)
