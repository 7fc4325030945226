"""Build bench/.cache/lemma_gold.jsonl.gz: real sentences with a lemma for every Arabic word.

Sentences: the 77 EASC articles in ../shared/data/easc beside the clone (news and encyclopedia
prose) and the titles and descriptions of the six real Arabic news feeds in samples/feeds (the
demo's). The output is built from EASC's text, so it stays out of the repository (bench/.cache is
git-ignored), like EASC itself.
Lemmas: qalsadi 0.5.1 (GPL-3.0, dev-only: bench/requirements-gold.txt), word by word; its known
mistakes on the evaluation's keywords are corrected by hand in bench/lemma_eval.py (REVIEWED).
Run once: .venv/bin/python bench/lemma_gold.py; bench/lemma_eval.py only reads the output.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.shared import CACHE, require_shared  # noqa: E402
from bench.shared import EASC as SHARED_EASC  # noqa: E402
from core.arabic import is_arabic_word, normalize, split_words  # noqa: E402
from core.text import clean_article  # noqa: E402

OUT = CACHE / "lemma_gold.jsonl.gz"
EASC = SHARED_EASC / "Articles"
FEEDS = ROOT / "samples" / "feeds"
_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+|\n+")


def sentences() -> list[tuple[str, str]]:
    """(source, sentence) pairs of the corpus, in a stable order."""
    import feedparser

    found: list[tuple[str, str]] = []
    for path in sorted(EASC.glob("*/*")):
        text = path.read_text(encoding="utf-8-sig")
        found += [(f"easc/{path.parent.name}", s) for s in _split(text)]
    for path in sorted(FEEDS.glob("*.xml")):
        feed = feedparser.parse(path.read_bytes())
        for entry in feed.entries:
            for field in (entry.get("title", ""), entry.get("summary", "")):
                text = clean_article("", field)
                found += [(f"feed/{path.stem}", s) for s in _split(text)]
    return found


def _split(text: str) -> list[str]:
    """Sentences of a text (lines and sentence marks), without the empty ones."""
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 1]


def main() -> int:
    require_shared(EASC, "the EASC articles")
    try:
        from qalsadi.lemmatizer import Lemmatizer
    except ImportError:
        print("lemma_gold.py: needs qalsadi (.venv/bin/pip install -r bench/requirements-gold.txt)",
              file=sys.stderr)  # fmt: skip
        return 2

    lemmatizer = Lemmatizer()
    lemmas: dict[str, str] = {}
    OUT.parent.mkdir(exist_ok=True)
    rows = 0
    with gzip.open(OUT, "wt", encoding="utf-8") as out:
        for number, (source, sentence) in enumerate(sentences()):
            words, starts, ends, _ = split_words(sentence)
            tokens = []
            for word, start, end in zip(words, starts, ends, strict=True):
                if not is_arabic_word(normalize(word)):
                    continue
                if word not in lemmas:
                    lemmas[word] = lemmatizer.lemmatize(word)
                tokens.append([start, end, lemmas[word]])
            record = {"id": number, "source": source, "text": sentence, "tokens": tokens}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            rows += 1
    print(f"{rows} sentences, {len(lemmas)} distinct words -> {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
