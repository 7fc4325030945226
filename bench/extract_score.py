"""How well a main-text extraction matches its gold: the scorer of bench/fulltext.py and
tests/test_extract.py, the same as the research run that chose the extractor (issue #28).

Token F1 is a bag-of-words F1 after one Arabic normalization (NFKC, no harakat or tatweel,
alef forms, ى→ي and ة→ه folded, punctuation and symbols dropped, lowercase). Boilerplate is
counted as furniture phrases ("اقرأ أيضا", "شارك", "التعليقات"…) in the output, minus as many as
the gold has. The pages are ../shared/data/arabic-pages (never committed): page.html, the gold
(gold.txt, else gold_derived.txt), SOURCE.txt (the publisher's URL) and gold_snippets.json.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT.parent / "shared" / "data" / "arabic-pages"

_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # + tatweel
_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})

FURNITURE = [
    "اقرأ أيضا", "اقرأ ايضاً", "اقرا ايضا", "شارك", "شاركها", "مشاركة", "تابعونا", "تابعنا",
    "الأكثر قراءة", "الأكثر مشاهدة", "الأكثر تداولا", "أخبار ذات صلة", "مواضيع ذات صلة",
    "أخبار متعلقة", "المزيد", "الرئيسية", "اتصل بنا", "من نحن", "سياسة الخصوصية",
    "جميع الحقوق محفوظة", "اشترك", "النشرة البريدية", "فيسبوك", "تويتر", "واتساب",
    "إضافة تعليق", "أضف تعليق", "التعليقات", "تعليقات", "كلمات مفتاحية", "الوسوم",
    "صورة أرشيفية", "أرشيفية", "طباعة", "غائم جزئيا", "اخر الأخبار", "آخر الأخبار",
    "عاجل", "فيديو", "إعلان", "تابعوا", "آخر تحديث", "تم نشره", "الكلمات الدالة", "تاجز",
    "وسوم", "جوجل نيوز", "غوغل نيوز", "تعليقك",
]  # fmt: skip


@dataclass(frozen=True)
class Page:
    """One real article page and its gold."""

    name: str  # the folder, e.g. "youm7-2020-irrigation-minister"
    html: bytes
    url: str
    gold: str
    gold_kind: str  # "gold.txt" or "gold_derived.txt"
    snippets: dict[str, Any] | None  # gold_snippets.json: "with" and "without" passages

    @property
    def short(self) -> str:
        """The publisher part of the name ("youm7")."""
        return self.name.split("-")[0]


def load_pages(folder: Path = PAGES) -> list[Page]:
    """Every page folder that has a page.html and a gold text, in name order."""
    pages = []
    for path in sorted(p for p in folder.iterdir() if p.is_dir()):
        gold = next(
            (path / n for n in ("gold.txt", "gold_derived.txt") if (path / n).exists()), None
        )
        if gold is None or not (path / "page.html").exists():
            continue
        source = (path / "SOURCE.txt").read_text(encoding="utf-8")
        url = re.search(r"^url: (\S+)", source, re.MULTILINE)
        snippets = path / "gold_snippets.json"
        pages.append(
            Page(
                name=path.name,
                html=(path / "page.html").read_bytes(),
                url=url.group(1) if url else "",
                gold=gold.read_text(encoding="utf-8"),
                gold_kind=gold.name,
                snippets=json.loads(snippets.read_text(encoding="utf-8"))
                if snippets.exists()
                else None,
            )
        )
    return pages


def normalize(text: str) -> str:
    """The research run's normalization (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text)
    text = _DIACRITICS.sub("", text)
    text = text.translate(_ALEF)
    text = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
    return text.lower()


def tokens(text: str) -> list[str]:
    return normalize(text or "").split()


def token_f1(predicted: str, gold: str) -> tuple[float, float, float]:
    """(F1, precision, recall) of the predicted words against the gold's, as bags of words."""
    got, want = Counter(tokens(predicted)), Counter(tokens(gold))
    common = sum((got & want).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall), precision, recall


_FURNITURE = [
    (phrase, re.compile(r"(?<!\S)" + re.escape(normalize(phrase).strip()) + r"(?!\S)"))
    for phrase in FURNITURE
]


def furniture_hits(text: str, gold: str) -> tuple[int, list[str]]:
    """Furniture phrases in `text` beyond those the gold has: how many, and which."""
    got, want = " ".join(tokens(text)), " ".join(tokens(gold))
    total, which = 0, []
    for phrase, pattern in _FURNITURE:
        extra = max(0, len(pattern.findall(got)) - len(pattern.findall(want)))
        if extra:
            total += extra
            which.append(f"{phrase}x{extra}" if extra > 1 else phrase)
    return total, which


def snippet_misses(text: str, snippets: dict[str, Any]) -> list[str]:
    """The "with" passages missing from `text` and the "without" passages present in it."""
    normalized = normalize(text)
    missing = [s for s in snippets["with"] if normalize(s).strip() not in normalized]
    kept = [s for s in snippets["without"] if normalize(s).strip() in normalized]
    return [f"missing: {s}" for s in missing] + [f"kept: {s}" for s in kept]
