"""Do MatchIndex's memos pay off at a realistic load? One poll cycle's 1,000 new articles.

Setup: 10,000 subscriptions of EASC words (single words, two-word phrases, prefixes and
alternatives, drawn with a fixed seed) in one index; 1,000 articles of 15-40 EASC sentences
(../shared/data/easc, beside the clone), each matched once (`matched_ids`, what SubscriptionBook.match runs), as a
cycle does. The same articles go through these variants, in one process, twice each in turns:
  all memos          the index as the bot runs it;
  no word memo       what each text word hits (and the word pairs under it) forgotten after
                     every article: each article starts cold;
  small, generations the memos held to SMALL words a generation (the matcher's, and
                     core.arabic's twice that), far below the cycle's ~18,000 distinct words,
                     as a big bot's vocabulary outgrows 50,000 and 100,000: a full memo becomes
                     the generation before, and a word read again moves back (issue #30);
  small, whole       the same limits, the generation before dropped after each article: what
                     a full memo did before, clear itself whole.
Figures: total seconds for the 1,000 articles, per-article p50/p99 in ms, against `all memos`.
(A third layer, each keyword word's memo of the text words it accepts, was measured here in
three alternating runs: 0.99-1.71 s per cycle with it, 1.03-1.65 s without, no difference
beyond the machine's noise, so it was removed. The word memo: 4-5x, kept.)

Run: .venv/bin/python bench/memo.py     (about a minute)
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.shared import EASC as SHARED_EASC  # noqa: E402
from bench.shared import require_shared  # noqa: E402
from core import arabic  # noqa: E402
from core.matcher import MatchIndex  # noqa: E402
from core.query import QueryError, parse_stored  # noqa: E402

EASC = SHARED_EASC / "Articles"
SUBSCRIPTIONS, ARTICLES, SEED = 10_000, 1_000, 16
SMALL = 2_000  # memoized words a generation in the small variants
WORD_MEMOS = (arabic.WORD_NORMS, arabic.CANDIDATES, arabic.CORES)


def sentences() -> list[str]:
    found = []
    for path in sorted(EASC.glob("*/*")):
        text = " ".join(path.read_text(encoding="utf-8-sig").split())
        found += [s.strip() + "." for s in text.split(".") if len(s.split()) > 4]
    return found


def keywords(pool: list[str], rng: random.Random) -> list[str]:
    words = [w for s in pool for w in s.split() if len(w) >= 4 and w.isalpha()]
    raws = []
    while len(raws) < SUBSCRIPTIONS:
        roll = rng.random()
        sentence = rng.choice(pool).split()
        start = rng.randrange(max(len(sentence) - 1, 1))
        if roll < 0.70:
            raws.append(rng.choice(words))
        elif roll < 0.90 and len(sentence) > 1:
            raws.append(" ".join(sentence[start : start + 2]))
        elif roll < 0.95:
            raws.append(rng.choice(words)[:4] + "*")
        else:
            raws.append(f"{rng.choice(words)}|{rng.choice(words)}")
    return raws


def build(raws: list[str], hit_limit: int | None = None) -> MatchIndex:
    index = MatchIndex() if hit_limit is None else MatchIndex(hit_limit=hit_limit)
    for sub_id, raw in enumerate(raws):
        try:
            index.add(sub_id, parse_stored(raw))
        except QueryError:
            continue
    return index


def run(index: MatchIndex, articles: list[str], *, variant: str) -> list[float]:
    for memo in WORD_MEMOS:
        memo.clear()
        memo.limit = 2 * SMALL if variant.startswith("small") else arabic._CACHE_LIMIT  # noqa: SLF001
    times = []
    for text in articles:
        started = time.perf_counter()
        index.matched_ids(text)
        times.append(time.perf_counter() - started)
        if variant == "no word memo":
            index._forget_hits()  # noqa: SLF001 (what is measured: the memo's worth)
        elif variant == "small, whole":  # the policy before, for comparison
            index._memo.older_hits.clear()  # noqa: SLF001
            for memo in WORD_MEMOS:
                memo.older.clear()
    for memo in WORD_MEMOS:
        memo.limit = arabic._CACHE_LIMIT  # noqa: SLF001
    return times


def main() -> None:
    require_shared(EASC, "the EASC articles")
    rng = random.Random(SEED)
    pool = sentences()
    articles = [" ".join(rng.sample(pool, rng.randint(15, 40))) for _ in range(ARTICLES)]
    raws = keywords(pool, rng)
    variants = {
        "all memos": None,
        "no word memo": None,
        "small, generations": SMALL,
        "small, whole": SMALL,
    }
    results: dict[str, list[list[float]]] = {name: [] for name in variants}
    for _ in range(2):
        for name, hit_limit in variants.items():
            index = build(raws, hit_limit)  # fresh memos: the cycle starts as a bot's would
            results[name].append(run(index, articles, variant=name))
    print(f"{len(index)} subscriptions ({index.distinct_queries} distinct), {ARTICLES} articles")
    base = min(sum(t) for t in results["all memos"])
    for name, runs in results.items():
        best = min(runs, key=sum)
        total = sum(best)
        p50 = statistics.median(best) * 1000
        p99 = statistics.quantiles(best, n=100)[98] * 1000
        print(
            f"{name:18s} {total:6.2f} s per cycle ({total / base:4.2f}x all memos)  "
            f"p50 {p50:5.2f} ms  p99 {p99:5.2f} ms"
        )


if __name__ == "__main__":
    main()
