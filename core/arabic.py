"""Arabic text handling for matching: one normalization, word spans, and clitic analysis.

Normalization decisions (used everywhere: matching, highlighting, dedup):
- NFKC first (presentation forms such as ﻻ or ﺍﻟﻤﻐﺮﺏ become plain letters), then Latin case-folding.
- Deleted: harakat U+064B–U+065F, superscript alef U+0670, Quranic marks, tatweel U+0640,
  zero-width and bidi controls (ZWNJ, ZWJ, LRM, RLM, ALM, LRE…RLO, LRI…PDI, BOM, soft hyphen,
  word joiner) and stray combining Latin accents.
- Alef forms أ إ آ ٱ → ا; ى → ي; ة → ه (search-style, both in keywords and texts).
- Hamza on a seat ؤ ئ → ء, so "مسؤول"/"مسئول" and "أبناؤه"/"أبنائه" meet.
- Persian/Urdu letters: ی ې ے → ي, ک ڪ → ك, ہ ۃ ھ ە ۀ → ه.
- Arabic-Indic ٠–٩ and Persian ۰–۹ digits → 0–9.

Words are runs of Arabic letters (with their diacritics, tatweel and zero-width marks inside), or runs
of other letters and digits; an Arabic run and a digit run are separate words ("2024م" is two).
"""

from __future__ import annotations

import re
import unicodedata
from itertools import accumulate
from typing import NamedTuple, TypeVar

_ARABIC_BLOCKS = (
    (0x0600, 0x06FF),
    (0x0750, 0x077F),
    (0x08A0, 0x08FF),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFC),
)
_FORMAT_CHARS = (
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def _arabic_chars(categories: tuple[str, ...]) -> list[int]:
    """Code points of the Arabic blocks whose Unicode category is in `categories`."""
    return [
        cp
        for low, high in _ARABIC_BLOCKS
        for cp in range(low, high + 1)
        if unicodedata.category(chr(cp)) in categories
    ]


def _char_class(code_points: list[int]) -> str:
    """A regex character-class body (no brackets) covering `code_points` as ranges."""
    ranges: list[str] = []
    start = prev = -2  # no range open yet; the -2 appended below closes the last one
    for cp in sorted(code_points) + [-2]:
        if cp == prev + 1:
            prev = cp
            continue
        if start >= 0:
            ranges.append(
                re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev != start else "")
            )
        start = prev = cp
    return "".join(ranges)


_AR_LETTERS = _char_class(_arabic_chars(("Lo", "Lm")))
_AR_MARKS = _char_class(_arabic_chars(("Mn", "Mc", "Me")))
_FMT = re.escape(_FORMAT_CHARS)
# Plain runs (no nesting) keep the split fast; a run may carry an invisible mark at an edge, which
# normalization deletes, and a run of marks alone normalizes to nothing and is dropped.
_AR_WORD = f"[{_AR_LETTERS}{_AR_MARKS}{_FMT}]+"
_OTHER_CHARS = f"[^\\W_{_AR_LETTERS}]"
_OTHER_WORD = f"{_OTHER_CHARS}+(?:[\u0300-\u036f]+{_OTHER_CHARS}*)*"
_WORD_SPLIT = re.compile(f"({_AR_WORD}|{_OTHER_WORD})")
_AR_LETTER_RE = re.compile(f"[{_AR_LETTERS}]")
_LETTER_RE = re.compile(r"[^\W\d_]")


def _build_table() -> dict[int, str | None]:
    """The str.translate table applied after NFKC and case-folding."""
    table: dict[int, str | None] = {}
    deleted = [*range(0x064B, 0x0660), 0x0670, 0x0640, 0x0674, *range(0x0610, 0x061B)]
    deleted += [*range(0x06D6, 0x06DD), *range(0x06DF, 0x06E9), *range(0x06EA, 0x06EE)]
    deleted += [*range(0x08CA, 0x08E2), *range(0x08E3, 0x0900), *range(0x0300, 0x0370)]
    deleted += [ord(c) for c in _FORMAT_CHARS]
    table.update(dict.fromkeys(deleted))
    letters = {
        "ا": "أإآٱٲٳٵ",
        "ي": "ىیېۍێےۓ",
        "ه": "ةۃہۂھەۀ",
        "ك": "کڪ",
        "ء": "ؤئ",
    }
    for target, sources in letters.items():
        table.update({ord(c): target for c in sources})
    for zero in (0x0660, 0x06F0):
        table.update({zero + d: str(d) for d in range(10)})
    return table


_TABLE = _build_table()
_V = TypeVar("_V")
_CACHE_LIMIT = 100_000  # entries per memo generation (see _Memo)


def normalize(text: str) -> str:
    """The one normalization of keywords and texts (see the module docstring for the rules)."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_TABLE)


class Token(NamedTuple):
    """A word: its normalized form and its span [start, end) in the original text."""

    norm: str
    start: int
    end: int


class _Memo(dict[str, _V]):
    """A memo of words that forgets a generation at a time. When full, what it holds becomes its
    older generation and it starts afresh; a word asked again moves back without being made
    again. News vocabulary is Zipfian: the words most articles use stay, the rest age out, and
    the articles after a rotation do not all meet an empty memo."""

    def __init__(self, limit: int = _CACHE_LIMIT) -> None:
        super().__init__()
        self.limit = limit
        self.older: dict[str, _V] = {}

    def __missing__(self, key: str) -> _V:
        value = self.older.pop(key, None)
        if value is None:
            value = self.make(key)
        if len(self) >= self.limit:
            self.older = dict(self)
            dict.clear(self)
        self[key] = value
        return value

    def make(self, key: str) -> _V:
        """The value of a key met for the first time."""
        raise NotImplementedError

    def clear(self) -> None:
        """Forget both generations."""
        self.older.clear()
        super().clear()


class _WordNorms(_Memo[str]):
    """Memo of raw word → normalized word (ligatures such as ﷺ expand to several words: glued)."""

    def make(self, key: str) -> str:
        """The normalized word."""
        return normalize(key).replace(" ", "")


WORD_NORMS = _WordNorms()


def split_words(text: str) -> tuple[list[str], list[int], list[int], list[str]]:
    """Raw words, their starts and ends in `text`, and the gaps between consecutive words."""
    parts = _WORD_SPLIT.split(text)
    offsets = list(accumulate(map(len, parts)))
    return parts[1::2], offsets[0:-1:2], offsets[1::2], parts[2:-1:2]


def tokenize(text: str) -> list[Token]:
    """Words of `text` with spans into the original text; words that normalize to nothing are dropped."""
    words, starts, ends, _ = split_words(text)
    norms = map(WORD_NORMS.__getitem__, words)
    return [Token(n, s, e) for n, s, e in zip(norms, starts, ends, strict=True) if n]


def is_arabic(text: str) -> bool:
    """True when at least half of the letters of `text` are Arabic-script letters."""
    letters = len(_LETTER_RE.findall(text))
    return letters > 0 and 2 * len(_AR_LETTER_RE.findall(text)) >= letters


def is_arabic_word(norm: str) -> bool:
    """True when a normalized word is written in Arabic script (decides whether clitics apply)."""
    return bool(norm) and "\u0600" <= norm[0] <= "\u08ff"


# --- Clitics -------------------------------------------------------------------------------------
# A text word is analysed as proclitics + core, and core as stem + suffix. Each analysis gives a
# candidate (stem, proclitic bit, suffix bit); a keyword posts the stems it accepts with masks of
# the proclitic and suffix bits it allows, so matching is a dict lookup plus two bit tests.

P_NONE = 1  # no proclitic
P_CLITIC = 2  # و ف ب ك ل and their combinations, without the article
P_ARTICLE = 4  # any combination that contains the article: ال وال بال لل فلل وبال …
P_FUTURE = 8  # future س (with و/ف) before an imperfect verb
P_KAF = 16  # bare ك "like, as": only on stems of 4+ letters (كامنة is not ك + أمن + ة); وك فك are P_CLITIC

PROCLITIC_BITS = (P_NONE, P_CLITIC, P_ARTICLE, P_FUTURE, P_KAF)  # a reading has one of them

_CONJ = ("", "و", "ف")
_PREP = ("", "ب", "ك", "ل")


def _proclitic_bits() -> dict[str, int]:
    """Every accepted proclitic string → its bit."""
    bits: dict[str, int] = {}
    for conj in _CONJ:
        for prep in _PREP:
            if conj or prep:
                bits[conj + prep] = P_KAF if conj + prep == "ك" else P_CLITIC
            bits[conj + ("لل" if prep == "ل" else prep + "ال")] = P_ARTICLE
        bits[conj + "س"] = P_FUTURE
    return bits


PROCLITICS = _proclitic_bits()
_PROCLITIC_MAX = max(map(len, PROCLITICS))
_PROCLITIC_HEADS = frozenset(p[:length] for p in PROCLITICS for length in range(1, len(p) + 1))
_FUTURE_INITIALS = "يتنا"  # imperfect prefixes a future س can precede

# Suffix classes (bits). "E" is the set of attached pronouns (enclitics).
S_NONE = 1 << 0
S_H = 1 << 1  # ه: ة (normalized) or "his"
S_Y = 1 << 2  # ي: nisba, "my", construct plural
S_YH = 1 << 3  # يه: nisba feminine (ية)
S_YA = 1 << 4  # يا: nisba + tanween (سياسيا)
S_NISBA_PL = 1 << 5  # يين يون يات يان يتين يتان, يات + enclitic
S_ENC = 1 << 6  # enclitic on the bare stem: ها هم هن هما ك كم كن كما نا ني
S_Y_ENC = 1 << 7  # ي + enclitic (construct plural: موظفيها، موظفيي)
S_YT_ENC = 1 << 8  # يت + enclitic (مغربيتها)
S_A = 1 << 9  # ا: tanween (وزيرا)
S_A_ENC = 1 << 10  # ا + enclitic (dual construct)
S_AT = 1 << 11  # ات
S_AT_ENC = 1 << 12  # ات + enclitic
S_PLURAL = 1 << 13  # ان ين ون
S_W_ENC = 1 << 14  # و alone or + enclitic (construct plural: معلمو، معلموها)
S_T_ENC = 1 << 15  # ت + enclitic (وزيرتها, حكومتها)
S_T_DUAL = 1 << 16  # تان تين تا, تا/تي + enclitic (مملكتاه، مملكتيه)

SUFFIX_BITS = tuple(1 << bit for bit in range(S_T_DUAL.bit_length()))  # a reading has one

_ENCLITICS = ("ها", "هم", "هن", "هما", "ك", "كم", "كن", "كما", "نا", "ني")
_ENCLITICS_HY = (*_ENCLITICS, "ه", "ي")


def _suffix_classes() -> dict[str, int]:
    """Every accepted suffix string → its class bit (first definition wins on homographs)."""
    table: dict[str, int] = {}

    def put(bit: int, *suffixes: str) -> None:
        for suffix in suffixes:
            table.setdefault(suffix, bit)

    put(S_H, "ه")
    put(S_Y, "ي")
    put(S_YH, "يه")
    put(S_YA, "يا")
    put(S_NISBA_PL, "يين", "يون", "يات", "يان", "يتين", "يتان", *("يات" + e for e in _ENCLITICS_HY))
    put(S_ENC, *_ENCLITICS)
    put(S_AT, "ات")
    put(S_PLURAL, "ان", "ين", "ون")
    put(S_A, "ا")
    put(
        S_T_DUAL,
        "تان",
        "تين",
        "تا",
        *("تا" + e for e in _ENCLITICS_HY),
        *("تي" + e for e in _ENCLITICS_HY),
    )
    put(S_Y_ENC, "يي", *("ي" + e for e in _ENCLITICS))
    put(S_YT_ENC, *("يت" + e for e in _ENCLITICS_HY))
    put(S_A_ENC, *("ا" + e for e in _ENCLITICS_HY))
    put(S_AT_ENC, *("ات" + e for e in _ENCLITICS_HY))
    put(S_W_ENC, "و", *("و" + e for e in _ENCLITICS_HY))
    put(S_T_ENC, *("ت" + e for e in _ENCLITICS_HY))
    return table


SUFFIXES = _suffix_classes()
_SUFFIX_MAX = max(map(len, SUFFIXES))
_SUFFIX_TAILS = frozenset(s[-length:] for s in SUFFIXES for length in range(1, len(s) + 1))
_MIN_STEM = 2  # no candidate stem is shorter than this

NISBA_SUFFIXES = _NISBA = S_Y | S_YH | S_YA | S_NISBA_PL | S_Y_ENC | S_YT_ENC
SUFFIXES_SHORT = S_NONE | S_H | S_Y | S_YH | S_YA | S_NISBA_PL | S_ENC
SUFFIXES_LONG = (
    SUFFIXES_SHORT
    | _NISBA
    | S_A
    | S_A_ENC
    | S_AT
    | S_AT_ENC
    | S_PLURAL
    | S_W_ENC
    | S_T_ENC
    | S_T_DUAL
)
_FEMININE_T = S_AT | S_AT_ENC | S_T_ENC | S_T_DUAL
_NISBA_FORMS = S_NONE | S_H | S_PLURAL | S_AT | S_A  # on the nisba of an ا-final name: سوري، سورية


class _Candidates(_Memo[tuple[tuple[str, int, int], ...]]):
    """Memo of normalized word → (stem, proclitic bit, suffix bit) analyses. The readings with
    S_NONE are the word's proclitic splits (CORES), in their order."""

    def make(self, key: str) -> tuple[tuple[str, int, int], ...]:
        """The word's analyses."""
        return tuple(_analyse(key))


class _Cores(_Memo[tuple[tuple[str, int], ...]]):
    """Memo of normalized word → (core without proclitics, proclitic bit), for prefix keywords."""

    def make(self, key: str) -> tuple[tuple[str, int], ...]:
        """The word's proclitic splits."""
        return tuple(_proclitic_splits(key))


def _proclitic_splits(norm: str) -> list[tuple[str, int]]:
    """Ways to read `norm` as proclitics + core: (core, proclitic bit), the whole word first.

    A core that itself starts with ال and keeps 3+ letters is also read without it, so words whose
    ال is not the article still meet their keyword with clitics (لألمانيا، الالتزام، بالإلغاء).
    """
    splits = [(norm, P_NONE)]
    if not is_arabic_word(norm):
        return splits
    for length in range(1, min(_PROCLITIC_MAX, len(norm) - _MIN_STEM) + 1):
        head = norm[:length]
        if head not in _PROCLITIC_HEADS:  # no longer proclitic starts this way either
            break
        bit = PROCLITICS.get(head)
        if bit is None:
            continue
        core = norm[length:]
        if bit == P_FUTURE and core[0] not in _FUTURE_INITIALS:
            continue
        splits.append((core, bit))
    if "ال" not in norm[: _PROCLITIC_MAX + 2]:  # no core starts with it: most words
        return splits
    splits += [
        (core[2:], P_ARTICLE)
        for core, bit in splits
        if bit != P_FUTURE and core.startswith("ال") and len(core) >= 5
    ]
    return list(dict.fromkeys(splits))


def _analyse(norm: str) -> list[tuple[str, int, int]]:
    """Every (stem, proclitic bit, suffix bit) reading of a normalized word."""
    if not is_arabic_word(norm):
        return [(norm, P_NONE, S_NONE)]
    tails = _suffix_cuts(norm)  # every core ends as the word does: its suffixes, read once
    readings: list[tuple[str, int, int]] = []
    for core, pbit in _proclitic_splits(norm):
        readings.append((core, pbit, S_NONE))
        longest = len(core) - _MIN_STEM
        for length, sbit in tails:
            if length > longest:
                break
            readings.append((core[:-length], pbit, sbit))
    return readings


def _suffix_cuts(norm: str) -> list[tuple[int, int]]:
    """(length, suffix bit) of each suffix the word ends with, shortest first."""
    cuts: list[tuple[int, int]] = []
    for length in range(1, min(_SUFFIX_MAX, len(norm) - _MIN_STEM) + 1):
        tail = norm[-length:]
        if tail not in _SUFFIX_TAILS:  # no longer suffix ends this way either
            break
        sbit = SUFFIXES.get(tail)
        if sbit is not None:
            cuts.append((length, sbit))
    return cuts


CANDIDATES = _Candidates()
CORES = _Cores()
_READ_HEADS = ("", *PROCLITICS)
# each head once: ال and the heads that end with it are proclitics of their own too
_READ_HEADS = tuple(dict.fromkeys((*_READ_HEADS, *(head + "ال" for head in _READ_HEADS))))
_READ_TAILS = ("", *SUFFIXES)


def words_read_as(stem: str) -> list[str]:
    """Every word that may have a reading of the stem key `stem` (CANDIDATES): proclitics, ال
    and a suffix around it in every way the analysis strips them. More words than the analysis
    reads as `stem` (about 6,200), never fewer: what forgets the words a stem changed for."""
    middles = [head + stem for head in _READ_HEADS]
    return [middle + tail for middle in middles for tail in _READ_TAILS]


def proclitic_mask(stem: str, *, article_required: bool = False) -> int:
    """Proclitics a keyword stem accepts: fewer for short stems (see `stem_rules`)."""
    if not is_arabic_word(stem) or len(stem) < 2:
        return P_NONE
    if article_required:
        return P_ARTICLE
    if len(stem) == 2:
        return P_NONE | P_ARTICLE
    mask = P_NONE | P_CLITIC | P_ARTICLE | (P_KAF if len(stem) >= 4 else 0)
    if stem[0] in (_FUTURE_INITIALS if len(stem) >= 4 else "ي"):
        mask |= P_FUTURE
    return mask


def stem_rules(word: str) -> list[tuple[str, int, int]]:
    """(stem key, proclitic mask, suffix mask) postings for one normalized keyword word.

    Rules, by the length of the stem (letters after normalization, article removed):
    - Latin, digits, 1 letter: the whole word only.
    - 2 letters: no suffix; only the article may be attached (الدم، بالدم، لكن not ودم).
    - 3 letters: every proclitic but bare ك (كامنة ≠ ك+أمن+ة; كالأمن is fine) and future س only
      before ي (سيقع, not ستين); suffixes limited to ه/ة, nisba (ي ية يا يين يون يات) and attached
      pronouns; no plural/dual/tanween endings, so "عمر" does not take "عمران" nor "قطر" "قطرات".
    - 4+ letters: every proclitic and suffix of the tables (plural, dual, tanween, ت+pronoun …).
    - A keyword "ال"+stem is posted as the stem with the article optional when the stem has 3+
      letters, and required when it has 2 ("الله"). Text words whose core starts with ال are also
      read without it, so ال-initial names keep their clitics (ألمانيا ← لألمانيا).
    - ة-words (…ه) also post stem-without-ه for ات، ت+pronoun، تان/تين (and nisba when the rest has
      3+ letters); ا-final words of 5+ letters post their nisba (سوريا → سوري، أمريكا → أمريكي)
      with ة, plural, dual and tanween endings;
      ي-final (ى) words of 4+ letters post stem-with-ا for pronouns (مستشفاها، مستواه).
    """
    if not is_arabic_word(word) or len(word) < 2:
        return [(word, P_NONE, S_NONE)]
    if word.startswith("ال") and len(word) >= 4:
        rest = word[2:]
        return _stem_family(rest, article_required=len(rest) < 3)
    return _stem_family(word, article_required=False)


def _stem_family(stem: str, *, article_required: bool) -> list[tuple[str, int, int]]:
    """Postings for one stem and its spelling variants before suffixes."""
    pmask = proclitic_mask(stem, article_required=article_required)
    if len(stem) == 2:
        return [(stem, pmask, S_NONE)]
    smask = SUFFIXES_SHORT if len(stem) == 3 else SUFFIXES_LONG
    if stem.endswith("ه"):
        smask &= ~(S_A | S_A_ENC)  # after ة/ه an alef is the pronoun ها (شرطها), not tanween
    rules = [(stem, pmask, smask)]
    if stem.endswith("ه"):
        rest = stem[:-1]
        rules.append((rest, pmask, _FEMININE_T | (_NISBA if len(rest) >= 3 else 0)))
    elif stem.endswith("ا") and len(stem) >= 5:
        nisba = stem[:-1] if stem.endswith("يا") else stem[:-1] + "ي"
        rules.append((nisba, pmask, _NISBA_FORMS))
    elif stem.endswith("ي") and len(stem) >= 4:
        rules.append((stem[:-1] + "ا", pmask, S_H | S_Y | S_ENC))
    return rules


def prefix_rules(word: str) -> list[tuple[str, int]]:
    """(prefix key, proclitic mask) postings for a `word*` keyword (article handled as in stems)."""
    if not is_arabic_word(word):
        return [(word, P_NONE)]
    if word.startswith("ال") and len(word) >= 4:
        rest = word[2:]
        return [(rest, proclitic_mask(rest, article_required=len(rest) < 3))]
    return [(word, proclitic_mask(word))]
