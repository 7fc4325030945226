"""The forms a keyword word accepts beyond its own stem: broken plurals both ways, duals and the
accusative of three-letter stems, and spelling variants of names; and which form matched.

Each form is posted like the keyword's stem (a key with proclitic and suffix masks, see
core.arabic), so matching costs the same; a form that is itself a more common other word is left
out (`Lexicon.rivals`). `word_rules` is what the matcher and tests/reference_matcher.py post.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from core.arabic import (
    CANDIDATES,
    NISBA_SUFFIXES,
    S_A,
    S_ENC,
    S_H,
    S_NONE,
    S_T_ENC,
    WORD_NORMS,
    is_arabic_word,
    normalize,
    proclitic_mask,
    split_words,
    stem_rules,
)
from core.lexicon import lexicon
from core.query import Query
from core.safety import visible

_LONG_VOWELS = "اوي"
_PLURAL_SUFFIXES = S_NONE | S_H | S_ENC  # وزراء، وزراءه، وزراؤها، أطفالهم
_MIN_NAME = 5  # a name and its variant: the longer has 5+ letters, the shorter 4+
# a name's variant takes no plural, dual or tanween ending (بروت must not reach بروتين)
_NAME_SUFFIXES = S_NONE | S_H | NISBA_SUFFIXES


class Rule(NamedTuple):
    """One posting of a keyword word: stem key, masks, and the form's label ("" for its own;
    a name variant's label is the variant, shown as the text spells it)."""

    key: str
    pmask: int
    smask: int
    form: str
    variant: bool = False


def word_rules(word: str) -> list[Rule]:
    """Every posting for one normalized keyword word (family mode)."""
    own = stem_rules(word)
    rules = [Rule(key, pmask, smask, "") for key, pmask, smask in own]
    stem = own[0][0]
    if not is_arabic_word(word) or len(stem) < 3:
        return rules  # Latin, digits, and stems of 1-2 letters take no other form
    rules += _short_stem_forms(stem, own[0][1])
    forms = lexicon().number_forms(stem)
    for form in forms:
        rules += _number_form_rules(form)
    if not forms:
        for variant in name_variants(stem):
            rules += [
                Rule(key, p, s & _NAME_SUFFIXES if key == variant else s, variant, True)
                for key, p, s in stem_rules(variant)
            ]
    return rules


@lru_cache(maxsize=1_024)
def _cached_rules(word: str) -> tuple[Rule, ...]:
    """`word_rules`, remembered for explaining matches (alerts and /test ask again and again)."""
    return tuple(word_rules(word))


def _short_stem_forms(stem: str, pmask: int) -> list[Rule]:
    """Duals (الجيشين، الجيشان، حزبيها) and the accusative (جيشاً) of a three-letter stem."""
    if len(stem) != 3 or stem.endswith("ه"):
        return []
    words = lexicon()
    forms = [(stem + "ين", S_NONE), (stem + "ان", S_NONE), (stem + "ا", S_NONE)]
    rules = [Rule(form, pmask, smask, "") for form, smask in forms if not words.rivals(form, stem)]
    # the dual construct with a pronoun (حزبيها، جيشيه); its rival is the nisba, a match anyway
    return [*rules, Rule(stem + "ي", pmask, S_ENC | S_H, "")]


def _number_form_rules(form: str) -> list[Rule]:
    """Postings for a broken plural of the keyword, or for the singular of a plural keyword."""
    words = lexicon()
    label = words.spelling(form)
    if form in words.plurals:  # a singular: its whole family
        return [Rule(key, p, s, label) for key, p, s in stem_rules(form)]
    pmask = proclitic_mask(form)
    smask = _PLURAL_SUFFIXES | (S_A if len(form) >= 4 and not form.endswith("ه") else 0)
    rules = [Rule(form, pmask, smask, label)]
    if form.endswith("ه"):  # طلبة → طلبتهم
        rules.append(Rule(form[:-1], pmask, S_T_ENC, label))
    return rules


def name_variants(stem: str) -> list[str]:
    """Spellings of a name with a medial long vowel added, dropped or moved (ترامب/ترمب,
    أمريكا/أميركا, أوروبا/أوربا), for words of 4+ letters that look like names. The last
    two letters stay (الإمارات is not امارت); variants shorter than 4 letters, or that read as
    another word (`_reads_as_another_word`), are left out."""
    if len(stem) < 4 or not _looks_like_name(stem):
        return []
    variants: list[str] = []
    for i in range(1, len(stem) - 1):
        if stem[i - 1] not in _LONG_VOWELS and stem[i] not in _LONG_VOWELS:
            variants += [stem[:i] + vowel + stem[i:] for vowel in _LONG_VOWELS]
        if i >= len(stem) - 2:
            continue
        if stem[i] in _LONG_VOWELS:
            variants.append(stem[:i] + stem[i + 1 :])
        pair = stem[i : i + 2]
        if (pair[0] in "وي") != (pair[1] in "وي") and "ا" not in pair:
            variants.append(stem[:i] + pair[::-1] + stem[i + 2 :])
    return [
        variant
        for variant in dict.fromkeys(variants)
        if variant != stem
        and len(variant) >= 4
        and max(len(variant), len(stem)) >= _MIN_NAME
        and not _reads_as_another_word(variant)
    ]


def _looks_like_name(stem: str) -> bool:
    """True for a known proper noun (فرنسا، البرازيل), or a word the lexicon does not know in any
    reading (ترامب، نتنياهو): not a common word, nor a common word with clitics or endings."""
    words = lexicon()
    if stem in words.names or "ال" + stem in words.names:
        return True
    return not any(
        len(reading) >= 3 and (reading in words.frequency or reading in words.singulars)
        for reading, _, _ in CANDIDATES[stem]
    )


def _reads_as_another_word(form: str) -> bool:
    """True when `form` is a common word, or some reading of it is a known word (common or a
    name) a twentieth as frequent as `form` itself: سريا is سري + tanween, بتين is ب + تين,
    سعدية is سعد + ية; أوربا stays, a name far more frequent than أورب + tanween."""
    words = lexicon()
    return words.is_common_word(form) or any(
        stem != form and len(stem) >= 3 and words.rivals(stem, form)
        for stem, _, _ in CANDIDATES[form]
    )


def matched_forms(query: Query, text: str, spans: list[tuple[int, int]]) -> list[tuple[str, str]]:
    """(form, keyword word) for each matched word of `text` that is another form of a keyword
    word than its own stem (a broken plural, a singular, a name variant): («وزراء», «وزير»)."""
    raw_words, starts, ends, _ = split_words(text)
    keyword_words = _raw_keyword_words(query)
    found: dict[tuple[str, str], None] = {}
    for term in query.terms:
        for word in term.words:
            if word.mode != "family":
                continue
            rules = _cached_rules(word.text)
            if not any(rule.form for rule in rules):
                continue
            for raw, start, end in zip(raw_words, starts, ends, strict=True):
                if not any(s <= start and end <= e for s, e in spans):
                    continue
                form = _form_of(raw, rules)
                if form:
                    found[(form, keyword_words.get(word.text, word.text))] = None
    return list(found)


def explain(pairs: list[tuple[str, str]], limit: int = 3) -> list[str]:
    """«forms ← keyword word» notes from `matched_forms`, one per keyword word: "وزراء ← وزير"."""
    forms: dict[str, list[str]] = {}
    for form, keyword in pairs:
        forms.setdefault(keyword, []).append(form)
    return [f"{'، '.join(shown[:limit])} ← {keyword}" for keyword, shown in forms.items()]


def keyword_shown(keyword: str, notes: list[str]) -> str:
    """A keyword as an alert's keyword line shows it: «وزراء ← وزير» for a one-word keyword
    with one note, else the keyword with its notes after it; the keyword alone without notes."""
    if not notes:
        return keyword
    if len(notes) == 1 and notes[0].endswith(" ← " + keyword.strip()):
        return f"«{notes[0]}»"
    return f"{keyword} («{'»، «'.join(notes)}»)"


def _form_of(raw: str, rules: tuple[Rule, ...]) -> str:
    """The label of the form a raw text word is read as; "" when it is the keyword's own form
    (its stem with clitics, duals, nisba) or no form at all."""
    found = [
        rule
        for key, pbit, sbit in CANDIDATES[WORD_NORMS[raw]]
        for rule in rules
        if rule.key == key and rule.pmask & pbit and rule.smask & sbit
    ]
    if not found or any(not rule.form for rule in found):
        return ""
    rule = found[0]
    return _spelled(raw, rule.key) if rule.variant else rule.form


def _spelled(raw: str, key: str) -> str:
    """The letters of a raw text word that normalize to `key` (a name as the text spells it:
    "لأميركا" → "أميركا"); `key` itself when they cannot be told apart."""
    norms = [normalize(char) for char in raw]
    joined = "".join(norms)
    start = joined.find(key)
    if start < 0:
        return key
    position, first, last = 0, -1, -1
    for index, norm in enumerate(norms):
        if norm and position == start and first < 0:
            first = index
        position += len(norm)
        if norm and position == start + len(key):
            last = index
            break
    return visible(raw[first : last + 1]) if 0 <= first <= last else key


def _raw_keyword_words(query: Query) -> dict[str, str]:
    """Normalized keyword word → the word as the user wrote it."""
    return {WORD_NORMS[raw]: raw for raw in split_words(query.raw)[0]}
