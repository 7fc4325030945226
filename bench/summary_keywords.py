"""How often an alert's summary leaves out every match of its keyword, on EASC.

Pairs: (article, keyword) with the keyword drawn from the words of the article's second half
(seeded; articles taken in turn until --pairs pairs): a word of 4+ letters that the bot would
accept as a keyword (core.query.parse_query) and that its own matcher finds again in the
article. For each pair:
- generic: core.summary.summarize with no keyword (what EASC's ROUGE measures);
- alert: delivery.summaries.choose_summary, the summary an alert and a digest show.
A summary "misses" when none of its sentences holds a match (core.matcher, the bot's own).
EASC has no titles, so no pair matches in the title only.

The generic summaries of every EASC article at 12, 20, 50 and 100 words are also hashed, so
two runs (before and after a change) show whether the generic path moved at all.

Run: .venv/bin/python bench/summary_keywords.py [--easc PATH] [--pairs 200] [--words 50]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.shared import EASC, require_shared  # noqa: E402
from bench.summary_eval import Article, load_easc  # noqa: E402
from core.arabic import normalize  # noqa: E402
from core.matcher import matcher_for  # noqa: E402
from core.query import QueryError, parse_query  # noqa: E402
from core.summary import ELLIPSIS, summarize  # noqa: E402
from core.text import split_sentences  # noqa: E402
from delivery.summaries import choose_summary  # noqa: E402

_WORD = re.compile(r"[^\W\d_]{4,}")


def draw_pairs(articles: list[Article], count: int, seed: int) -> list[tuple[Article, str]]:
    """`count` distinct (article, keyword) pairs, articles in turn, words of the second half."""
    rng = random.Random(seed)
    pools = []
    for article in articles:
        sentences = split_sentences(article.text)
        half = " ".join(sentences[len(sentences) // 2 :])
        words = sorted(set(_WORD.findall(half)))
        rng.shuffle(words)
        pools.append(words)
    pairs: list[tuple[Article, str]] = []
    seen: set[tuple[str, str]] = set()
    while len(pairs) < count and any(pools):
        for article, pool in zip(articles, pools, strict=True):
            while pool and len(pairs) < count:
                word = pool.pop()
                try:
                    query = parse_query(word)
                except QueryError:
                    continue  # a word the bot would refuse (a stop word…)
                if (article.topic, query.key) in seen or not matcher_for(query)(article.text):
                    continue
                seen.add((article.topic, query.key))
                pairs.append((article, word))
                break
    return pairs


def generic_fingerprint(articles: list[Article]) -> str:
    """A hash of every article's generic summary at 12, 20, 50 and 100 words."""
    digest = hashlib.sha256()
    for article in articles:
        for words in (12, 20, 50, 100):
            digest.update("\x1e".join(summarize(article.text, max_words=words)).encode())
            digest.update(b"\x1d")
    return digest.hexdigest()[:16]


def main() -> None:
    """Print the share of pairs whose generic and alert summaries miss the keyword."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--easc", type=Path, default=EASC)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--words", type=int, default=50)
    parser.add_argument("--seed", type=int, default=28)
    args = parser.parse_args()
    how = "../shared/data beside the clone, never committed; or --easc PATH"
    require_shared(args.easc / "Articles", "the EASC articles", how)
    require_shared(args.easc / "MTurk", "EASC's human summaries", how)
    articles = load_easc(args.easc)
    pairs = draw_pairs(articles, args.pairs, args.seed)
    generic_missed = alert_missed = changed = cut = lead_kept = 0
    lengths = []
    for article, keyword in pairs:
        match = matcher_for(parse_query(keyword))
        generic = summarize(article.text, max_words=args.words)
        alert = choose_summary("", article.text, (keyword,), args.words)
        generic_missed += not any(match(sentence) for sentence in generic)
        alert_missed += not any(alert.highlights)
        changed += list(alert.sentences) != generic
        cut += any(ELLIPSIS in s and s not in article.text for s in alert.sentences)
        lead_kept += bool(generic) and generic[0] in alert.sentences
        lengths.append(sum(len(s.split()) for s in alert.sentences))
    total = len(pairs)

    def share(count: int) -> str:
        return f"{count:>4} ({100 * count / total:5.1f}%)"

    print(
        f"EASC: {len(articles)} articles, {total} (article, keyword) pairs, "
        f"keywords from the second half, {args.words}-word summaries (seed {args.seed})"
    )
    print(f"keyword sample: {' '.join(normalize(k) for _, k in pairs[:12])} …")
    print(f"generic summary misses the keyword   {share(generic_missed)}")
    print(f"alert summary misses the keyword     {share(alert_missed)}")
    print(f"alert summary differs from generic   {share(changed)}")
    print(f"alert keeps the generic first sent.  {share(lead_kept)}")
    print(f"alert summary holds a cut sentence   {share(cut)}")
    print(
        f"alert summary words: mean {statistics.fmean(lengths):.1f}, max {max(lengths)} "
        f"(budget {args.words}, the last whole sentence may run past it by half)"
    )
    print(f"generic summaries at 12/20/50/100 words, sha256: {generic_fingerprint(articles)}")


if __name__ == "__main__":
    main()
