"""Keyword query syntax: parsing, validation and the canonical key used to spot duplicates.

Syntax (as the help shows it):
    المغرب            the word with its clitics and endings (بالمغرب، والمغرب، المغربية)
    "المغرب"          exactly this form (letters normalized, nothing attached)
    عمر*              any word that starts with it (عمر، عمران، عمرو)
    وزير الداخلية     the words in this order, next to each other
    الجزائر|تونس      either one; " أو " between spaces works too
    المغرب -كرة       …unless the article also contains the excluded term; the excluded term
                      runs to the next | or - (المغرب -كرة القدم excludes the phrase كرة القدم)
Quotes may be " “ ” « »; the star may be * or ٭; the minus may be - − –.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core.arabic import P_ARTICLE, PROCLITICS, normalize, tokenize
from core.safety import visible

Mode = Literal["family", "exact", "prefix"]
ErrorCode = Literal["empty", "too_short", "stop_word", "too_long", "syntax", "broad_prefix"]

_QUOTES = frozenset('"“”«»„')
_PIPES = frozenset("|｜")
_MINUS = frozenset("-−–")
_STARS = frozenset("*٭＊")
_OR_WORD = "او"  # normalized "أو"

# Compared after normalization, so "على" and "علي" are the same word: the name Ali alone is
# refused like the preposition (it would match almost every article); "علي خامنئي" is fine.
# Latin: "un" is left out on purpose (UN, the United Nations).
_STOP_WORDS_TEXT = (
    "في من على إلى الى عن مع أن إن ان أو او ما لا لم لن قد هل ثم بل كل بعض هذا هذه ذلك تلك"
    " هؤلاء الذي التي الذين اللذين اللتين اللواتي هو هي هم هن هما نحن أنت أنا أنتم كان كانت"
    " يكون تكون كانوا عند بعد قبل بين حتى إذا اذا لكن كما منذ غير دون نحو ضد عبر حول لدى"
    " لقد أي أيضا فقط وقد وفي ومن وعلى وأن وإن وهو وهي ولا ولم فيه فيها منه منها عليه عليها"
    " إليه له لها لهم به بها ذا ذي تم يتم حيث أما إما كي لأن مثل ليس ليست"
    " the a an of in on at to and or is are was were be been for by with from as it its"
    " this that these those not no but if so than then into le la les de des du une et"
    " en au aux est pour par sur dans ce ces qui que"
)
STOP_WORDS = frozenset(normalize(word) for word in _STOP_WORDS_TEXT.split())


class QueryError(ValueError):
    """A keyword the bot refuses; `code` picks the message, `params` fills it."""

    def __init__(self, code: ErrorCode, params: dict[str, object] | None = None) -> None:
        self.code: ErrorCode = code
        self.params: dict[str, object] = params or {}
        super().__init__(f"{code}: {self.params}" if self.params else code)


@dataclass(frozen=True, slots=True)
class Word:
    """One normalized word of a term and how it must appear in the text."""

    text: str
    mode: Mode = "family"


@dataclass(frozen=True, slots=True)
class Term:
    """Words that must appear in this order, next to each other (one word is a phrase of one)."""

    words: tuple[Word, ...]

    def __str__(self) -> str:
        return " ".join(_word_repr(w) for w in self.words)


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed keyword: matches when any term matches and no exclusion does."""

    raw: str = field(compare=False)
    key: str
    terms: tuple[Term, ...]
    exclusions: tuple[Term, ...] = ()


@dataclass(slots=True)
class _Item:
    """A lexed piece of the raw query: a word chunk or a quoted phrase, maybe negated."""

    text: str
    exact: bool = False
    prefix: bool = False
    negated: bool = False
    is_or: bool = False


_OR = _Item("", is_or=True)


def _word_repr(word: Word) -> str:
    """Canonical spelling of one word in a key."""
    if word.mode == "exact":
        return f'"{word.text}"'
    return word.text + "*" if word.mode == "prefix" else word.text


def _syntax(reason: str) -> QueryError:
    """A syntax error carrying a short machine-readable reason."""
    return QueryError("syntax", {"reason": reason})


def _lex(raw: str) -> list[_Item]:
    """Split the raw query into words, quoted phrases and OR markers."""
    items: list[_Item] = []
    i, n = 0, len(raw)
    while i < n:
        char = raw[i]
        if char.isspace():
            i += 1
            continue
        if char in _PIPES:
            items.append(_OR)
            i += 1
            continue
        negated = char in _MINUS
        if negated:
            i += 1
            if i >= n or raw[i].isspace() or raw[i] in _PIPES or raw[i] in _MINUS:
                raise _syntax("lone_minus")
            char = raw[i]
        if char in _QUOTES:
            end = next((j for j in range(i + 1, n) if raw[j] in _QUOTES), -1)
            if end < 0:
                raise _syntax("unbalanced_quotes")
            text = raw[i + 1 : end]
            if any(c in _STARS for c in text):
                raise _syntax("star_in_quotes")
            i = end + 1
            if i < n and not (raw[i].isspace() or raw[i] in _PIPES):
                raise _syntax("text_after_quote")
            items.append(_Item(text, exact=True, negated=negated))
            continue
        start = i
        while i < n and not (raw[i].isspace() or raw[i] in _PIPES or raw[i] in _QUOTES):
            i += 1
        chunk = raw[start:i]
        prefix = chunk[-1] in _STARS
        if prefix:
            chunk = chunk[:-1]
        if not chunk or any(c in _STARS for c in chunk):
            raise _syntax("misplaced_star")
        if not negated and not prefix and normalize(chunk) == _OR_WORD:
            items.append(_OR)
            continue
        items.append(_Item(chunk, prefix=prefix, negated=negated))
    return items


def _item_words(item: _Item) -> list[Word]:
    """Normalized words of one item; a trailing star applies to its last word."""
    norms = [t.norm for t in tokenize(item.text)]
    mode: Mode = "exact" if item.exact else "family"
    words = [Word(norm, mode) for norm in norms]
    if item.prefix and words:
        words[-1] = Word(words[-1].text, "prefix")
    return words


# Proclitics with the article (ال وال بال لل …), longest first: `ال*` would match most words.
_ARTICLE_PROCLITICS = sorted(
    (text for text, bit in PROCLITICS.items() if bit == P_ARTICLE), key=len, reverse=True
)


def prefix_letters(word: str) -> int:
    """The letters a `word*` prefix keeps once a leading article (with its clitics) is removed:
    what decides how many words it matches."""
    article = next((a for a in _ARTICLE_PROCLITICS if word.startswith(a)), "")
    return len(word) - len(article)


def _term(items: list[_Item], *, min_letters: int, min_prefix_letters: int = 0) -> Term:
    """Build and validate one term (an alternative or an exclusion)."""
    words = [w for item in items for w in _item_words(item)]
    if not words:
        raise QueryError("empty")
    letters = sum(len(w.text) for w in words)
    if letters < min_letters:
        raise QueryError("too_short", {"min": min_letters})
    for word in words:
        if word.mode == "prefix" and prefix_letters(word.text) < min_prefix_letters:
            raise QueryError("broad_prefix", {"min": min_prefix_letters})
    if all(w.text in STOP_WORDS for w in words):
        raise QueryError("stop_word", {"word": " ".join(item.text for item in items)})
    return Term(tuple(words))


def _has_words(items: list[_Item]) -> bool:
    """True when at least one item has a letter or digit after normalization."""
    return any(_item_words(item) for item in items)


def parse_query(
    raw: str, *, min_letters: int = 2, max_length: int = 100, min_prefix_letters: int = 3
) -> Query:
    """Parse a keyword as typed; raise QueryError (code, params) when the bot should refuse it.
    Bidi controls and other invisible characters are dropped: they would be shown to the user."""
    text = visible(raw).strip()
    if not text:
        raise QueryError("empty")
    if len(text) > max_length:
        raise QueryError("too_long", {"max": max_length})
    items = _lex(text)
    alternatives: list[list[_Item]] = [[]]
    exclusions: list[list[_Item]] = []
    excluding = False  # a "-" opens an excluded phrase that runs to the next | or -
    for item in items:
        if item.is_or:
            alternatives.append([])
            excluding = False
        elif item.negated:
            exclusions.append([item])
            excluding = True
        elif excluding:
            exclusions[-1].append(item)
        else:
            alternatives[-1].append(item)
    positives = [item for alt in alternatives for item in alt]
    if not _has_words(positives) and not any(_has_words(group) for group in exclusions):
        raise QueryError("empty")
    if not positives:
        raise _syntax("only_exclusions")
    if any(not _has_words(alt) for alt in alternatives):
        raise _syntax("empty_alternative")
    terms = [
        _term(alt, min_letters=min_letters, min_prefix_letters=min_prefix_letters)
        for alt in alternatives
    ]
    excluded = []
    for group in exclusions:
        if not _has_words(group):
            raise _syntax("empty_exclusion")
        excluded.append(_term(group, min_letters=min_letters))
    unique_terms = tuple(sorted(set(terms), key=str))
    unique_excluded = tuple(sorted(set(excluded), key=str))
    key = "|".join(map(str, unique_terms))
    if unique_excluded:
        key += " " + " ".join(f"-{t}" for t in unique_excluded)
    return Query(raw=text, key=key, terms=unique_terms, exclusions=unique_excluded)


def parse_stored(raw: str) -> Query:
    """Parse a keyword saved earlier (or one to look up): the same syntax, none of the length
    and letter limits, which may have changed since it was saved."""
    return parse_query(raw, min_letters=1, max_length=10_000, min_prefix_letters=0)
