"""Regenerate core/data/plurals.tsv and core/data/words.tsv from arramooz-pysqlite.

Dev-only (arramooz-pysqlite is GPL-3.0, like the project): `pip install -r tools/requirements.txt`,
then `.venv/bin/python tools/build_lexicon.py`. The output is committed; runtime code only reads it.
core/data/PROVENANCE.md says what is kept and why.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.arabic import normalize  # noqa: E402
from core.lexicon import rivals  # noqa: E402

OUT = ROOT / "core" / "data"
_PAREN = re.compile(r"\([^)]*\)")
_ARABIC_WORD = re.compile(r"[\u0621-\u064a\u064b-\u0652\u0670]+")
_COMMENTARY = {
    "ج",
    "جمع",
    "غير",
    "العاقل",
    "مؤ",
    "وقد",
    "يستوي",
    "فيه",
    "المذكر",
    "والمؤنث",
    "والجمع",
}
_WEAK = set("اويء")
_DIACRITICS = re.compile("[\u064b-\u0652\u0670\u0640]")

# Plurals the lexicon lists that news uses for another word, or only in classical texts.
# Checked by hand against the forms' use in the EASC articles and the real feeds (../shared/data).
EXCLUDED: dict[str, set[str]] = {
    "طفل": {"طفول", "طفال"},  # classical; news writes أطفال
    "شعب": {"شعاب"},  # mountain passes, coral reefs (شعاب مرجانية): not peoples
    "حقيق": {"حقائق"},  # حقائق is the plural of حقيقة
    # plurals of another word spelled like the singular: a reader of "العالم" (the world) does
    # not want العلماء (scholars), of "الملك" (the king) not الملائكة (angels) or أملاك (estates),
    # of "رجل" (man) not أرجل (legs); and a plural keyword would then match the common singular
    "عالم": {"علماء", "علام", "علمة"},
    "ملك": {"ملائكة", "أملاك"},
    "رجل": {"أرجل"},
    "بحر": {"أبحر"},  # also "he sailed"; بحور stays
    "لاعب": {"لعاب"},  # saliva; لاعبون stays (a sound plural)
    "شهر": {"أشهر"},  # "most famous" in 11 of its 18 uses in the lemma gold (months 7); شهور stays
}
# Pairs news needs that the lexicon lacks or files elsewhere (its فلم is spelled فيلم in news).
ADDED: dict[str, set[str]] = {
    "فيلم": {"أفلام"},
    "مشكلة": {"مشاكل"},
    "دولة": {"دول"},
    "امرأة": {"نساء"},  # a plural from another root, so arramooz files it apart
}


def _root_in(root: str, word: str) -> bool:
    """True when the root's strong letters appear in `word` in order (weak letters may change)."""
    position = 0
    for letter in root:
        if letter in _WEAK:
            continue
        found = word.find(letter, position)
        if found < 0:
            return False
        position = found + 1
    return True


def _plain(word: str) -> str:
    """The word as news writes it: no diacritics, hamza seats and ة kept."""
    return _DIACRITICS.sub("", word)


def _plural_forms(field: str) -> list[str]:
    """The plural words of arramooz's broken_plural field (plain), without its commentary."""
    forms = []
    for part in _PAREN.sub(" ", field).replace(":", ";").split(";"):
        for i, word in enumerate(_ARABIC_WORD.findall(part)):
            plain = _plain(word)
            if i > 0 and plain.startswith("و") and len(plain) > 4:
                plain = plain[1:]  # "خواتم وخواتيم": the second of two plurals
            if plain.startswith("ال") and len(plain) > 5:
                plain = plain[2:]  # "الأراضي": listed with the article
            if plain not in _COMMENTARY and len(normalize(plain)) >= 3:
                forms.append(plain)
    return forms


def word_frequencies(wordfreq: Path) -> tuple[dict[str, int], set[str]]:
    """Normalized lemma → its highest frequency in arramooz's word-frequency table, and the
    lemmas whose most frequent entry is a proper noun."""
    freq: dict[str, int] = defaultdict(int)
    names: set[str] = set()
    with sqlite3.connect(wordfreq) as db:
        for word, kind, count in db.execute("select unvocalized, word_type, freq from wordfreq"):
            norm = normalize(word)
            if int(count) > freq[norm]:
                freq[norm] = int(count)
                (names.add if kind == "noun_prop" else names.discard)(norm)
    return dict(freq), names


def _lexicon_pairs(dictionary: Path) -> dict[str, dict[str, str]]:
    """Plain singular → {normalized plural: plain plural}, as arramooz lists them (same root)."""
    pairs: dict[str, dict[str, str]] = defaultdict(dict)
    spelling: dict[str, str] = {}  # normalized singular → the first plain spelling seen
    rows = "select unvocalized, root, number, broken_plural, single from nouns order by id"
    with sqlite3.connect(dictionary) as db:
        for word, root, number, plural_field, single in db.execute(rows):
            root = normalize(root or "")
            if number == "مفرد" and plural_field:
                singular, plurals = _plain(word), _plural_forms(plural_field)
            elif number == "جمع تكسير" and single:
                singular, plurals = _plain(single), [_plain(word)]
            else:
                continue
            singular = spelling.setdefault(normalize(singular), singular)
            for plural in plurals:
                norm = normalize(plural)
                shares_root = _root_in(root, norm) and _root_in(root, normalize(singular))
                if norm != normalize(singular) and shares_root:
                    pairs[singular].setdefault(norm, plural)
    for singular, plurals in ADDED.items():
        pairs[spelling.get(normalize(singular), singular)].update(
            {normalize(p): p for p in plurals}
        )
    return pairs


def plural_pairs(dictionary: Path, freq: dict[str, int], names: set[str]) -> dict[str, list[str]]:
    """Plain singular → its plain broken plurals, filtered (see PROVENANCE.md)."""
    kept: dict[str, list[str]] = {}
    for singular, plurals in _lexicon_pairs(dictionary).items():
        key = normalize(singular)
        excluded = {normalize(p) for p in EXCLUDED.get(key, ())}
        added = {normalize(p) for p in ADDED.get(singular, ())}
        # a plural that is itself a frequent other lemma is mostly that word in news: سوق
        # (market) for ساق, الجزائر (Algeria) for جزيرة, عملة for عامل; so is a collective
        # without ة (شرك for شركة, كلم for كلمة)
        good = [
            plain
            for norm, plain in sorted(plurals.items())
            if norm in added
            or norm not in excluded
            and norm != key[:-1]
            and not rivals(freq, norm, key)
        ]
        # names keep to their spellings: العراق must not take عرق (sweat), قطر not أقطار
        good = [plain for plain in good if normalize(plain) not in names]
        if good and len(key) >= 3 and key not in names:
            kept[singular] = good
    return kept


def main() -> int:
    import arramooz

    data = Path(arramooz.__file__).parent / "data"
    freq, names = word_frequencies(data / "wordfreq.sqlite")
    pairs = plural_pairs(data / "arabicdictionary.sqlite", freq, names)
    OUT.mkdir(exist_ok=True)
    with open(OUT / "plurals.tsv", "w", encoding="utf-8") as out:
        for singular in sorted(pairs):
            out.write(f"{singular}\t{' '.join(pairs[singular])}\n")
    with open(OUT / "words.tsv", "w", encoding="utf-8") as out:
        for word in sorted(freq):
            if len(word) >= 3 and freq[word] > 0:
                out.write(f"{word}\t{freq[word]}\t{'name' if word in names else 'word'}\n")
    print(f"{len(pairs)} singulars, {sum(map(len, pairs.values()))} plurals, {len(freq)} words")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
