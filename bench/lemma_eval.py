"""Recall and precision of keyword matching on real sentences with gold lemmas.

Gold: bench/.cache/lemma_gold.jsonl.gz (git-ignored, built by bench/lemma_gold.py from the EASC
articles in ../shared/data and the six Arabic news feeds of samples/feeds, every Arabic word
lemmatized by qalsadi), with qalsadi's mistakes on these keywords
corrected by hand in REVIEWED. A word is a gold occurrence of a keyword when its lemma is one of
the keyword's lemmas (LEMMAS: a name's spellings count as one lemma); it is a nisba when its lemma
is the keyword's adjective (السوري for سوريا), which readers following the noun want too.

Counted per (keyword, word): recall over gold occurrences; precision over predicted words, with
nisba counted wrong and then right; F1 from recall and plain precision. Rows, in one run:
Rasd (one MatchIndex holding every keyword, as the bot matches), a substring filter with our
normalization (alef folding …) and the keyword's article removed, and a `\\b` regex filter on the
normalized text. --misses KEYWORD prints Rasd's disagreements with the gold for one keyword
(or "all"), the list REVIEWED was made from.

Run: .venv/bin/python bench/lemma_eval.py [--misses all]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.shared import CACHE, require_shared  # noqa: E402
from core.arabic import CANDIDATES, normalize, stem_rules  # noqa: E402
from core.forms import matched_forms  # noqa: E402
from core.lexicon import lexicon  # noqa: E402
from core.matcher import MatchIndex  # noqa: E402
from core.query import parse_query  # noqa: E402

GOLD = CACHE / "lemma_gold.jsonl.gz"
BUILD = (
    "build it once: .venv/bin/pip install -r bench/requirements-gold.txt && "
    ".venv/bin/python bench/lemma_gold.py, which reads ../shared/data/easc"
)

# keyword as a user types it → (its lemmas, its nisba lemmas)
LEMMAS: dict[str, tuple[str, str]] = {
    # nouns with broken plurals
    "وزير": ("وزير", "وزاري"),
    "دولة": ("دولة", "دولي"),
    "مدينة": ("مدينة", ""),
    "حزب": ("حزب", "حزبي"),
    "قانون": ("قانون", "قانوني"),
    "سوق": ("سوق", ""),
    "رئيس": ("رئيس", "رئيسي رئاسي"),
    "منطقة": ("منطقة", ""),
    "رسالة": ("رسالة", ""),
    "بلد": ("بلد", ""),
    "حرب": ("حرب", "حربي"),
    "جيش": ("جيش", ""),
    "شعب": ("شعب", "شعبي"),
    "مجلس": ("مجلس", ""),
    "مشروع": ("مشروع", ""),
    "عضو": ("عضو", "عضوي"),
    "شخص": ("شخص", "شخصي"),
    "أرض": ("أرض", "أرضي"),
    "ملك": ("ملك", "ملكي"),
    "سعر": ("سعر", "سعري"),
    "شهر": ("شهر", "شهري"),
    "يوم": ("يوم", "يومي"),
    "أسبوع": ("أسبوع", "أسبوعي"),
    "نظام": ("نظام", "نظامي"),
    "امرأة": ("امرأة نساء", "نسائي"),
    "مسجد": ("مسجد", ""),
    "جبل": ("جبل", "جبلي"),
    "سفير": ("سفير", ""),
    "طفل": ("طفل", ""),
    "عام": ("عام", ""),
    # nouns without one
    "حكومة": ("حكومة", "حكومي"),
    "شركة": ("شركة", ""),
    "قوة": ("قوة", ""),
    "علاقة": ("علاقة", ""),
    "حياة": ("حياة", ""),
    "صحة": ("صحة", "صحي"),
    "تعليم": ("تعليم", "تعليمي"),
    "اقتصاد": ("اقتصاد", "اقتصادي"),
    "نفط": ("نفط", "نفطي"),
    "مسؤول": ("مسؤول", ""),
    "كرة": ("كرة", ""),
    "ولاية": ("ولاية", ""),
    "مباراة": ("مباراة", ""),
    "برلمان": ("برلمان", "برلماني"),
    "مطار": ("مطار", ""),
    # names
    "فرنسا": ("فرنسا", "فرنسي"),
    "ترامب": ("ترامب ترمب", ""),
    "إسرائيل": ("إسرائيل", "إسرائيلي"),
    "أمريكا": ("أمريكا أميركا", "أمريكي أميركي"),
    "مصر": ("مصر", "مصري"),
    "العراق": ("عراق", "عراقي"),
    "المغرب": ("مغرب", "مغربي"),
    "إيران": ("إيران", "إيراني"),
    "غزة": ("غزة", ""),
    "أوروبا": ("أوروبا", "أوروبي"),
    "اليابان": ("يابان", "ياباني"),
    "ألمانيا": ("ألمانيا", "ألماني"),
    "الهند": ("هند", "هندي"),
    "الأردن": ("أردن", "أردني"),
    "الكويت": ("كويت", "كويتي"),
    "قطر": ("قطر", "قطري"),
    "فلسطين": ("فلسطين", "فلسطيني"),
}

# qalsadi's lemma corrected by hand: (keyword, normalized word) → "match", "nisba" or "none",
# from `--misses all` (every disagreement of Rasd with qalsadi was read in its sentence).
# qalsadi keeps the article or a clitic on names it does not know (الأردن، وإيران), gives
# nisba adjectives their own lemma or none (الإسرائيلي), and misreads some plurals and
# feminines (الأطفال → أطفال, أسعار → سعار, مدينة → مدين, منطقة → منطق, حياته → حي).
_MATCH = "match"
_NISBA = "nisba"
_NONE = "none"


def _reviewed(label: str, keyword: str, words: str) -> dict[tuple[str, str], str]:
    return {(keyword, normalize(word)): label for word in words.split()}


REVIEWED: dict[tuple[str, str], str] = {
    **_reviewed(_MATCH, "وزير", "وزير وزيرة"),
    **_reviewed(_MATCH, "مدينة", "مدينة المدينة بمدينة للمدينة لمدينة مدينتي المدينتين المدينتان"),
    **_reviewed(_MATCH, "سوق", "أسواق الأسواق"),
    **_reviewed(_MATCH, "منطقة", "المنطقة منطقة كمنطقة منطقتين ومنطقة"),
    **_reviewed(_NONE, "منطقة", "منطقية"),  # logical
    **_reviewed(_MATCH, "بلد", "البلاد بلاد بلاده بلادنا"),
    **_reviewed(_MATCH, "حرب", "حروبا"),
    **_reviewed(_MATCH, "مجلس", "مجالس"),
    **_reviewed(_MATCH, "عضو", "أعضاء"),
    **_reviewed(_NISBA, "عضو", "عضويته"),  # membership
    **_reviewed(_MATCH, "شخص", "أشخاص الأشخاص"),
    **_reviewed(_NISBA, "شخص", "شخصية الشخصية"),
    **_reviewed(_MATCH, "أرض", "الأرض أراض الأراضي أراضي للأراضي والأرض"),
    **_reviewed(_NISBA, "أرض", "الأرضية"),
    **_reviewed(_NONE, "ملك", "يملكه يملكون ملكته"),  # verbs "owns"; its queen (ملكة)
    **_reviewed(_MATCH, "سعر", "أسعار أسعارها أسعاره"),
    **_reviewed(_MATCH, "شهر", "شهور"),
    **_reviewed(_NONE, "شهر", "أشهر وأشهر"),  # "most famous" in 11 of 18: IN_SENTENCE
    **_reviewed(_NISBA, "شهر", "الشهري الشهرية"),
    **_reviewed(_MATCH, "يوم", "أيام الأيام"),
    **_reviewed(_MATCH, "نظام", "أنظمة"),
    **_reviewed(_NISBA, "امرأة", "النسائية"),
    **_reviewed(_MATCH, "طفل", "الأطفال للأطفال والأطفال أطفاله أطفال"),
    **_reviewed(_MATCH, "عام", "أعوام"),
    **_reviewed(_NONE, "عام", "عامة"),  # عامة الناس: the public
    **_reviewed(_NONE, "قوة", "قوية القوية"),  # strong
    **_reviewed(_MATCH, "قوة", "للقوي القوي"),  # القوى (forces); ى and ي meet when normalized
    **_reviewed(_NISBA, "صحة", "الصحية صحية صحي الصحي"),
    **_reviewed(_MATCH, "حياة", "حياتهم حياته حياتنا حياتها"),
    **_reviewed(_MATCH, "كرة", "بكرة"),  # شبيهة بكرة القدم
    **_reviewed(_NISBA, "فرنسا", "الفرنسية فرنسية الفرنسي والفرنسي"),
    **_reviewed(_MATCH, "إسرائيل", "وإسرائيل"),
    **_reviewed(_NISBA, "إسرائيل", "الإسرائيلي الإسرائيلية إسرائيلية والإسرائيلية"),
    **_reviewed(
        _NISBA,
        "أمريكا",
        "الأميركية الأميركي الأميركيون الأمريكي الأمريكية أميركية والأميركيون الأميركيين",
    ),
    **_reviewed(_MATCH, "إيران", "وإيران لإيران"),
    **_reviewed(_NISBA, "إيران", "الإيرانية الإيراني إيرانية للإيرانيين"),
    **_reviewed(_MATCH, "أوروبا", "أوربا"),
    **_reviewed(_NISBA, "أوروبا", "الأوربية الأوربيون"),
    **_reviewed(_MATCH, "ألمانيا", "لألمانيا وألمانيا"),
    **_reviewed(_NISBA, "ألمانيا", "الألماني الألمانية ألماني والألمانية"),
    **_reviewed(_MATCH, "الأردن", "الأردن للأردن"),
    **_reviewed(_NISBA, "الأردن", "الأردنية الأردنيين وأردنيين الأردني"),
}
# Words whose sense changes with the sentence: (keyword, sentence id, normalized word) → label.
IN_SENTENCE: dict[tuple[str, int, str], str] = {
    **{("شهر", n, "اشهر"): _MATCH for n in (389, 717, 859, 1069, 1109, 1438)},  # months
    ("شهر", 1437, "لاشهر"): _MATCH,
    ("قوة", 73, "القوي"): _NONE,  # يأكل القوى فيهم الضعيف: the strong
    ("قوة", 847, "القوي"): _NONE,  # الطلب القوي: strong demand
}


@dataclass
class Score:
    """Counts of one system over every (keyword, word) pair."""

    gold: int = 0
    found: int = 0  # gold occurrences predicted
    predicted: int = 0
    right: int = 0  # predicted and a gold occurrence
    nisba: int = 0  # predicted and a nisba
    misses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    wrong: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, keyword: str, word: str, label: str, predicted: bool) -> None:
        self.gold += label == "match"
        self.predicted += predicted
        if predicted and label == "match":
            self.found += 1
            self.right += 1
        elif predicted and label == "nisba":
            self.nisba += 1
        elif predicted:
            self.wrong[keyword][word] += 1
        elif label == "match":
            self.misses[keyword][word] += 1

    def row(self, name: str) -> str:
        recall = self.found / self.gold if self.gold else 0.0
        precision = self.right / self.predicted if self.predicted else 0.0
        with_nisba = (self.right + self.nisba) / self.predicted if self.predicted else 0.0
        f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
        return (
            f"{name:<22} {recall:6.3f} {precision:9.3f} {with_nisba:11.3f} {f1:6.3f}"
            f" {self.found:>6}/{self.gold:<6} {self.predicted:>9}"
        )


def gold_label(keyword: str, word: str, lemma: str, sentence: int) -> str:
    """Whether a word is an occurrence of the keyword, its nisba, or neither."""
    reviewed = IN_SENTENCE.get((keyword, sentence, word)) or REVIEWED.get((keyword, word))
    if reviewed:
        return reviewed
    lemmas, nisbas = LEMMAS[keyword]
    if lemma in {normalize(x) for x in lemmas.split()}:
        return "match"
    return "nisba" if lemma in {normalize(x) for x in nisbas.split()} else "none"


def bare(keyword: str) -> str:
    """The normalized keyword without its article (what a substring filter looks for)."""
    norm = normalize(keyword)
    return norm[2:] if norm.startswith("ال") and len(norm) > 4 else norm


# Names checked for false matches through their spelling variants (no gold needed: every word a
# variant reaches is printed, to be read).
NAMES = (
    "ترامب",
    "ترمب",
    "بوتين",
    "ماكرون",
    "نتنياهو",
    "بايدن",
    "أوكرانيا",
    "بريطانيا",
    "روسيا",
    "سوريا",
    "تركيا",
    "السعودية",
    "الإمارات",
    "فلسطين",
    "لبنان",
    "الجزائر",
    "تونس",
    "ليبيا",
    "السودان",
    "اليمن",
    "أفغانستان",
    "باكستان",
    "الصين",
    "اليابان",
    "أستراليا",
    "كندا",
    "البرازيل",
    "المكسيك",
    "أفريقيا",
    "أوروبا",
    "إسرائيل",
    "أمريكا",
    "أميركا",
    "واشنطن",
    "موسكو",
    "طهران",
    "بيروت",
    "دمشق",
    "بغداد",
    "القاهرة",
    "الرياض",
    "الدوحة",
    "ألمانيا",
    "فرنسا",
    "إيطاليا",
    "إسبانيا",
)


def own_stem_matches(keyword: str, word: str) -> bool:
    """Whether the keyword's own stem rules alone accept a word (the matcher before the lexicon)."""
    rules = stem_rules(normalize(keyword))
    return any(
        key == stem and pmask & pbit and smask & sbit
        for key, pbit, sbit in CANDIDATES[word]
        for stem, pmask, smask in rules
    )


def variant_words(records: list[dict]) -> Counter[str]:
    """Words of the corpus that a name in NAMES matches only through a spelling variant."""
    found: Counter[str] = Counter()
    for name in NAMES:
        query = parse_query(name)
        index = MatchIndex()
        index.add(0, query)
        for record in records:
            text = record["text"]
            spans = index.match_keys(text).get(query.key)
            for form, keyword in matched_forms(query, text, spans) if spans else ():
                found[f"{keyword}→{form}"] += 1
    return found


def evaluate(records: list[dict]) -> tuple[dict[str, Score], int, float]:
    """Scores of Rasd and the two baselines; also variant matches and Rasd's matching time."""
    index = MatchIndex()
    queries = {keyword: parse_query(keyword) for keyword in LEMMAS}
    for number, query in enumerate(queries.values()):
        index.add(number, query)
    regexes = {k: re.compile(rf"\b{re.escape(normalize(k))}\b") for k in LEMMAS}
    scores = {name: Score() for name in ("Rasd", "Rasd, own stems only", "substring", "\\b regex")}
    variants = 0
    rasd_seconds = 0.0
    for record in records:
        text = record["text"]
        started = time.perf_counter()
        matched = index.match_keys(text)
        rasd_seconds += time.perf_counter() - started
        for keyword, query in queries.items():
            spans = set(map(tuple, matched.get(query.key, ())))
            variants += len(matched_forms(query, text, sorted(spans))) if spans else 0
            needle, regex = bare(keyword), regexes[keyword]
            for start, end, lemma in record["tokens"]:
                word = normalize(text[start:end])
                label = gold_label(keyword, word, normalize(lemma), record["id"])
                scores["Rasd"].add(keyword, word, label, (start, end) in spans)
                own = own_stem_matches(keyword, word)
                scores["Rasd, own stems only"].add(keyword, word, label, own)
                scores["substring"].add(keyword, word, label, needle in word)
                scores["\\b regex"].add(keyword, word, label, bool(regex.search(word)))
    return scores, variants, rasd_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--misses", help="print Rasd's disagreements for a keyword, or 'all'")
    args = parser.parse_args()
    require_shared(GOLD, "the lemma gold", BUILD)
    with gzip.open(GOLD, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    broken = [k for k in LEMMAS if lexicon().number_forms(bare(k))]
    scores, variants, seconds = evaluate(records)
    words = sum(len(r["tokens"]) for r in records)
    print(f"{len(records)} sentences, {words} Arabic words, {len(LEMMAS)} keywords")
    print(f"({len(broken)} with broken plurals in the lexicon); Rasd matched in {seconds:.2f} s")
    print(f"{'system':<22} {'recall':>6} {'precision':>9} {'prec+nisba':>11} {'F1':>6}")
    for name, score in scores.items():
        print(score.row(name))
    print(f"Rasd matches shown with another form (plural, singular, name variant): {variants}")
    reached = variant_words(records)
    print(f"{len(NAMES)} names: {sum(reached.values())} words matched through a variant only:")
    print("  " + (", ".join(f"{k} ×{n}" for k, n in reached.most_common()) or "none"))
    if args.misses:
        rasd = scores["Rasd"]
        for keyword in LEMMAS if args.misses == "all" else [args.misses]:
            if rasd.misses[keyword] or rasd.wrong[keyword]:
                print(f"\n{keyword}: missed {dict(rasd.misses[keyword].most_common())}")
                print(f"{keyword}: wrong  {dict(rasd.wrong[keyword].most_common())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
