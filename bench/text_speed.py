"""Time per article of clean_article + detect_language + summarize on 1,000-word Arabic articles.

Articles: each EASC article's paragraphs, continued with the next articles' paragraphs until
1,000 words, wrapped in <p> with a figure, a share widget and WordPress's "The post … appeared
first on …" line (the HTML a feed's content:encoded gives). After a warm-up (langdetect loads its
profiles on first use, ~0.4 s), every article is timed ROUNDS times.
Baseline in the same run: langdetect on the whole cleaned text (what a naive pipeline does).

Run: .venv/bin/python bench/text_speed.py [--easc PATH] [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langdetect import detect  # noqa: E402

from bench.shared import EASC, require_shared  # noqa: E402
from core.language import detect_language  # noqa: E402
from core.summary import summarize  # noqa: E402
from core.text import clean_article  # noqa: E402

ARTICLE_WORDS = 1000
TITLE = "عنوان المقال التجريبي"


def paragraphs(root: Path) -> list[list[str]]:
    """Paragraphs of every EASC article, article by article."""
    articles = []
    for path in sorted((root / "Articles").glob("*/*")):
        text = path.read_text(encoding="utf-8-sig")
        articles.append([line.strip() for line in text.splitlines() if line.strip()])
    return articles


def build_articles(articles: list[list[str]]) -> list[str]:
    """One ~1,000-word HTML article per EASC article (continued with the following ones)."""
    pool = [paragraph for article in articles for paragraph in article]
    starts, offset = [], 0
    for article in articles:
        starts.append(offset)
        offset += len(article)
    built = []
    for start in starts:
        body, words, index = [], 0, start
        while words < ARTICLE_WORDS:
            paragraph_words = pool[index % len(pool)].split()[: ARTICLE_WORDS - words]
            body.append(f"<p>{' '.join(paragraph_words)}</p>")
            words += len(paragraph_words)
            index += 1
        built.append(
            "<figure><img src='a.jpg'/><figcaption>صورة (Getty)</figcaption></figure>"
            + "".join(body)
            + "<div class='sharedaddy'><a>Share on X</a></div>"
            + f"<p>The post {TITLE} appeared first on Example.</p>"
        )
    return built


def timed(function: Callable[[str], object], items: list[str], rounds: int) -> list[float]:
    """Milliseconds per call, every item, every round."""
    samples = []
    for _ in range(rounds):
        for item in items:
            started = time.perf_counter()
            function(item)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def pipeline(html: str) -> tuple[str, list[str]]:
    """What the bot does per new article."""
    text = clean_article(TITLE, html)
    return detect_language(TITLE, text), summarize(text, title=TITLE, max_words=50)


def p99(samples: list[float]) -> float:
    """99th percentile."""
    return statistics.quantiles(samples, n=100)[98]


def main() -> None:
    """Print median and p99 per stage and for the whole pipeline, next to the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--easc", type=Path, default=EASC)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    how = "../shared/data beside the clone, never committed; or --easc PATH"
    require_shared(args.easc / "Articles", "the EASC articles", how)
    htmls = build_articles(paragraphs(args.easc))
    texts = [clean_article(TITLE, html) for html in htmls]
    words = statistics.fmean(len(text.split()) for text in texts)
    for html in htmls[:5]:  # warm-up: langdetect profiles, regex caches
        pipeline(html)
    rows = {
        "clean_article": timed(lambda html: clean_article(TITLE, html), htmls, args.rounds),
        "detect_language": timed(lambda text: detect_language(TITLE, text), texts, args.rounds),
        "summarize (50 words)": timed(
            lambda text: summarize(text, title=TITLE, max_words=50), texts, args.rounds
        ),
        "all three (pipeline)": timed(pipeline, htmls, args.rounds),
        "baseline: langdetect on whole text": timed(detect, texts, args.rounds),
    }
    print(f"{len(htmls)} articles, {words:.0f} words on average, {args.rounds} rounds each")
    print(f"{'stage':<36} {'median ms':>10} {'p99 ms':>8}")
    for name, samples in rows.items():
        print(f"{name:<36} {statistics.median(samples):>10.2f} {p99(samples):>8.2f}")


if __name__ == "__main__":
    main()
