"""ROUGE-1/2 of core.summary.summarize on EASC, next to Lead and LexRank (sumy) at equal length.

Protocol (docs: shared/design/arabic.md, "Summaries: how to measure them"):
tokens are NFKC, harakat and tatweel stripped, alef forms -> ا, ى/ی -> ي, ک -> ك, ة -> ه,
Arabic-Indic digits -> ASCII, split on non-word characters; no stemming, no stop words.
Every system's output is truncated to B tokens (B = 50 and 100); ROUGE-N F (clipped n-gram
overlap) is computed against each of the 5 human references, averaged, then averaged over articles.

Rows: Lead (the first B tokens), LexRank (sumy, with core.text.split_sentences and the protocol's
tokens plugged into its tokenizer interface), Rasd (core.summary.summarize with max_words=B),
Rasd without cutting a last sentence to fill the budget, and with --oracle the greedy
whole-sentence oracle (the best any whole-sentence system could do here, roughly).

Articles are hard-wrapped in some EASC files: a line that does not end a sentence is joined to the
next one before any system sees the text (the same text for every system).

Run: .venv/bin/python bench/summary_eval.py [--easc PATH] [--oracle]   (needs bench/requirements.txt)
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import core.summary  # noqa: E402
from bench.shared import EASC, require_shared  # noqa: E402
from core.summary import summarize  # noqa: E402
from core.text import split_sentences  # noqa: E402

BUDGETS = (50, 100)

_MARKS = dict.fromkeys([*range(0x064B, 0x0653), 0x0670, 0x0640])
_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ک": "ك",
        "ة": "ه",
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
    }
)
_WORD = re.compile(r"[^\W_]+")
_LINE_ENDS = (".", "!", "?", "؟", ":", "…")


def rouge_tokens(text: str) -> list[str]:
    """Tokens exactly as the protocol says (independent of core's own normalizer)."""
    text = unicodedata.normalize("NFKC", text).translate(_MARKS).translate(_LETTERS)
    return _WORD.findall(text.casefold())


def ngrams(tokens: list[str], n: int) -> Counter[tuple[str, ...]]:
    """Counts of the n-grams of a token list."""
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def rouge_n_f(candidate: list[str], reference: list[str], n: int) -> float:
    """ROUGE-N F1 with clipped counts."""
    cand, ref = ngrams(candidate, n), ngrams(reference, n)
    overlap = sum((cand & ref).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(cand.values())
    recall = overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class Article:
    """One EASC article and its five references (already tokenized)."""

    topic: str
    text: str
    references: list[list[str]]


def unwrap(text: str) -> str:
    """Join hard-wrapped lines: a line that does not end a sentence continues on the next."""
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if out and not out[-1].endswith(_LINE_ENDS):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return "\n".join(out)


def load_easc(root: Path) -> list[Article]:
    """Articles/TopicN/*.txt with MTurk/TopicN/D*.M.250.A.{1..5}.* (UTF-8, some with a BOM)."""
    articles = []
    for topic_dir in sorted((root / "Articles").iterdir(), key=lambda p: int(p.name[5:])):
        (article_file,) = list(topic_dir.iterdir())
        refs = sorted((root / "MTurk" / topic_dir.name).glob("D*.M.250.A.*"))
        text = unwrap(article_file.read_text(encoding="utf-8-sig"))
        references = [rouge_tokens(ref.read_text(encoding="utf-8-sig")) for ref in refs]
        articles.append(Article(topic_dir.name, text, references))
    return articles


# --- Systems: each returns summary text for a budget -------------------------------------


def lead(article: Article, budget: int) -> str:
    """The first words of the article."""
    return article.text


class RasdSumyTokenizer:
    """Plugs core.text.split_sentences and protocol tokens into sumy (its Arabic one is broken)."""

    language = "arabic"

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        """Sentences as Rasd splits them."""
        return tuple(split_sentences(paragraph))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        """Words as the ROUGE protocol tokenizes them."""
        return tuple(rouge_tokens(sentence))


def make_lexrank() -> Callable[[Article, int], str]:
    """LexRank from sumy, asked for more sentences until the budget is filled."""
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.lex_rank import LexRankSummarizer

    tokenizer = RasdSumyTokenizer()
    summarizer = LexRankSummarizer()

    def lexrank(article: Article, budget: int) -> str:
        document = PlaintextParser.from_string(article.text, tokenizer).document
        total = len(document.sentences)
        for count in range(1, total + 1):
            picked = [str(s) for s in summarizer(document, count)]
            if len(rouge_tokens(" ".join(picked))) >= budget:
                break
        return " ".join(picked)

    return lexrank


def rasd(article: Article, budget: int) -> str:
    """core.summary.summarize, as the bot calls it (no title in EASC)."""
    return " ".join(summarize(article.text, max_words=budget))


def rasd_strict_budget(article: Article, budget: int) -> str:
    """The same, but no sentence may run past the budget (OVERSHOOT = 0)."""
    saved = core.summary.OVERSHOOT
    core.summary.OVERSHOOT = 0.0
    try:
        return rasd(article, budget)
    finally:
        core.summary.OVERSHOOT = saved


def oracle_whole_sentences(article: Article, budget: int) -> str:
    """Upper bound for whole-sentence systems: greedily add the sentence that raises R1+R2 most."""
    sentences = split_sentences(article.text)
    lengths = [len(rouge_tokens(sentence)) for sentence in sentences]
    chosen: list[int] = []
    best = 0.0
    while True:
        used = sum(lengths[i] for i in chosen)
        gains = {}
        for i in range(len(sentences)):
            if i in chosen or used + lengths[i] > budget:
                continue
            tokens = rouge_tokens(" ".join(sentences[j] for j in sorted([*chosen, i])))
            gains[i] = sum(
                rouge_n_f(tokens, ref, 1) + rouge_n_f(tokens, ref, 2) for ref in article.references
            )
        if not gains or max(gains.values()) <= best:
            break
        pick = max(gains, key=gains.__getitem__)
        best = gains[pick]
        chosen.append(pick)
    if not chosen:
        return sentences[0] if sentences else ""  # truncated to the budget like Lead
    return " ".join(sentences[i] for i in sorted(chosen))


def per_article(
    system: Callable[[Article, int], str], articles: list[Article], budget: int
) -> list[tuple[float, float, int]]:
    """ROUGE-1 F, ROUGE-2 F and output length (tokens) of every article at a budget."""
    rows = []
    for article in articles:
        tokens = rouge_tokens(system(article, budget))[:budget]
        r1 = statistics.fmean(rouge_n_f(tokens, ref, 1) for ref in article.references)
        r2 = statistics.fmean(rouge_n_f(tokens, ref, 2) for ref in article.references)
        rows.append((r1, r2, len(tokens)))
    return rows


def compare(ours: list[tuple[float, float, int]], base: list[tuple[float, float, int]]) -> str:
    """Mean margin over the baseline, per half of the articles, and per-article wins/losses."""
    deltas = [(o[0] - b[0], o[1] - b[1]) for o, b in zip(ours, base, strict=True)]
    r1, r2 = (statistics.fmean(d[k] for d in deltas) for k in (0, 1))
    halves = [[statistics.fmean(d[k] for d in deltas[h::2]) for h in (0, 1)] for k in (0, 1)]
    wins = sum(d[0] + d[1] > 1e-9 for d in deltas)
    losses = sum(d[0] + d[1] < -1e-9 for d in deltas)
    verdict = "beats" if r1 > 0 and r2 > 0 else "does NOT beat"
    return (
        f"R1 {r1:+.3f}, R2 {r2:+.3f} ({verdict} Lead); "
        f"odd/even articles R1 {halves[0][0]:+.3f}/{halves[0][1]:+.3f}, "
        f"R2 {halves[1][0]:+.3f}/{halves[1][1]:+.3f}; "
        f"articles better/same/worse {wins}/{len(deltas) - wins - losses}/{losses}"
    )


def main() -> None:
    """Print the ROUGE table and Rasd's margin over Lead."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--easc", type=Path, default=EASC)
    parser.add_argument(
        "--oracle", action="store_true", help="add the whole-sentence oracle (slow)"
    )
    args = parser.parse_args()
    how = "../shared/data beside the clone, never committed; or --easc PATH"
    require_shared(args.easc / "Articles", "the EASC articles", how)
    require_shared(args.easc / "MTurk", "EASC's human summaries", how)
    articles = load_easc(args.easc)
    systems: dict[str, Callable[[Article, int], str]] = {
        "Lead": lead,
        "LexRank (sumy)": make_lexrank(),
        "Rasd summarize": rasd,
        "Rasd, strict budget": rasd_strict_budget,
    }
    if args.oracle:
        systems["Oracle, whole sent."] = oracle_whole_sentences
    print(f"EASC: {len(articles)} articles, 5 references each; ROUGE F at equal length (tokens)")
    print(f"{'system':<20} {'B':>4} {'R1-F':>7} {'R2-F':>7} {'tokens':>7} {'ms/article':>11}")
    results: dict[tuple[str, int], list[tuple[float, float, int]]] = {}
    for budget in BUDGETS:
        for name, system in systems.items():
            started = time.perf_counter()
            rows = results[name, budget] = per_article(system, articles, budget)
            elapsed = (time.perf_counter() - started) / len(articles) * 1000
            r1, r2, length = (statistics.fmean(column) for column in zip(*rows, strict=True))
            print(f"{name:<20} {budget:>4} {r1:>7.3f} {r2:>7.3f} {length:>7.1f} {elapsed:>9.2f}ms")
    for budget in BUDGETS:
        print(
            f"B={budget}: Rasd - Lead = {compare(results['Rasd summarize', budget], results['Lead', budget])}"
        )


if __name__ == "__main__":
    main()
