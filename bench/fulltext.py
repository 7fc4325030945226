"""Full text for teaser feeds, measured in named parts.

- extraction: the main text of the real Arabic article pages in ../shared/data/arabic-pages
  (never committed), by library: token F1 against each page's gold, boilerplate kept (furniture
  phrases beyond the gold's), and milliseconds per page (median of --runs, after one warm-up),
  for trafilatura with its defaults, trafilatura with Rasd's settings (favor_precision, no
  comments), readability-lxml, newspaper4k, and Rasd's feeds.extract.extract_page. Every
  library is given the page's bytes, as the fetcher hands them over. Scoring: bench/extract_score.py.

The libraries other than trafilatura are bench-only:
  .venv/bin/pip install --no-deps -r bench/requirements.txt
No extractor may touch the network while this runs (sockets refuse to connect).

- cycle: a poll cycle of 200 teaser feeds x 20 new items whose pages answer after 200 ms on
  loopback, with full text against without it in the same run (bench/fulltext_cycle.py): cycle
  time, CPU, peak memory, poll-to-alert latency p50/p99. Needs nothing beside the clone.

Run: .venv/bin/python bench/fulltext.py [--part extraction] [--part cycle] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import socket
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.extract_score import (  # noqa: E402
    PAGES,
    Page,
    furniture_hits,
    load_pages,
    snippet_misses,
    token_f1,
    tokens,
)
from bench.shared import require_shared  # noqa: E402

Extractor = Callable[[bytes, str], str]
INSTALL = ".venv/bin/pip install --no-deps -r bench/requirements.txt"
LIBRARIES = {"readability": "readability-lxml", "newspaper": "newspaper4k", "nltk": "nltk"}


def _refuse_network(*args: object, **kwargs: object) -> None:
    raise OSError("bench/fulltext.py: extractors may not use the network")


def extractors() -> dict[str, Extractor]:
    """Each contender as (page bytes, page URL) -> plain text, one paragraph per line."""
    if importlib.util.find_spec("chardet") is None:
        # readability-lxml imports chardet, for pages that declare no charset; chardet itself
        # stays out of .venv (feedparser would start using it: see bench/requirements.txt).
        import charset_normalizer

        sys.modules["chardet"] = charset_normalizer
    import trafilatura
    from newspaper import Article
    from readability import Document

    from core.text import html_to_text
    from feeds.extract import extract_page

    def newspaper(body: bytes, url: str) -> str:
        article = Article(url, language="ar", fetch_images=False)
        article.download(input_html=body)
        article.parse()
        return article.text or ""

    return {
        "trafilatura defaults": lambda body, url: trafilatura.extract(body, url=url) or "",
        "trafilatura precision": lambda body, url: (
            trafilatura.extract(body, url=url, favor_precision=True, include_comments=False) or ""
        ),
        "readability-lxml": lambda body, url: html_to_text(
            Document(body).summary(html_partial=True)
        ),
        "newspaper4k": newspaper,
        "Rasd extract_page": lambda body, url: extract_page(body, {}, url, "").text,
    }


def milliseconds(extract: Extractor, page: Page, runs: int) -> float:
    """Median wall-clock milliseconds of one call, after a warm-up call."""
    extract(page.html, page.url)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        extract(page.html, page.url)
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def part_extraction(args: argparse.Namespace) -> None:
    """The extraction table: token F1, boilerplate and ms per page, by library."""
    require_shared(PAGES, "the real Arabic article pages with their gold")
    missing = [pip for module, pip in LIBRARIES.items() if importlib.util.find_spec(module) is None]
    if missing:
        print(f"fulltext.py: needs {', '.join(missing)} ({INSTALL})", file=sys.stderr)
        raise SystemExit(2)
    warnings.filterwarnings("ignore")  # dateutil's "tzname GST" and the like, from newspaper4k
    logging.disable(logging.CRITICAL)
    connect = socket.socket.connect
    socket.socket.connect = _refuse_network  # type: ignore[method-assign]
    try:
        _extraction_table(load_pages(), extractors(), args.runs)
    finally:
        socket.socket.connect = connect  # type: ignore[method-assign]
        logging.disable(logging.NOTSET)


def _extraction_table(pages: list[Page], methods: dict[str, Extractor], runs: int) -> None:
    """Print the per-page and per-library tables."""
    names = ", ".join(f"{n} {version(n)}" for n in ("trafilatura", *LIBRARIES.values(), "lxml"))
    print(f"## extraction: {len(pages)} real Arabic article pages ({names})\n")
    f1s: dict[str, list[float]] = {m: [] for m in methods}
    kept: dict[str, int] = dict.fromkeys(methods, 0)
    times: dict[str, list[float]] = {m: [] for m in methods}
    print("| page | gold words | " + " | ".join(methods) + " |")
    print("|---|---:|" + "---:|" * len(methods))
    for page in pages:
        cells = []
        for name, extract in methods.items():
            text = extract(page.html, page.url)
            f1s[name].append(token_f1(text, page.gold)[0])
            kept[name] += furniture_hits(text, page.gold)[0]
            times[name].append(milliseconds(extract, page, runs))
            misses = snippet_misses(text, page.snippets) if page.snippets else []
            cells.append(f"{f1s[name][-1]:.3f}" + (f" ({len(misses)} snippet)" if misses else ""))
        words = len(tokens(page.gold))
        print(f"| {page.short} ({page.gold_kind[:-4]}) | {words} | " + " | ".join(cells) + " |")
    print("\n| library | median F1 | min F1 | boilerplate kept | ms/page |")
    print("|---|---:|---:|---:|---:|")
    for name in methods:
        median, least = statistics.median(f1s[name]), min(f1s[name])
        ms = statistics.median(times[name])
        print(f"| {name} | {median:.3f} | {least:.3f} | {kept[name]} | {ms:.0f} |")
    print(
        f"\nms/page: median over the pages of each page's median of {runs} calls, one process; "
        "boilerplate: furniture phrases beyond the gold's, summed over the pages; "
        "(n snippet): assabah's gold_snippets.json checks missed."
    )


def part_cycle(args: argparse.Namespace) -> None:
    """A poll cycle of 200 teaser feeds x 20 new items, with and without full text."""
    from bench import fulltext_cycle

    print("\n## cycle: pages fetched and extracted in the poll cycle, against none")
    asyncio.run(fulltext_cycle.run())


PARTS: dict[str, Callable[[argparse.Namespace], None]] = {
    "extraction": part_extraction,
    "cycle": part_cycle,
}


def main(argv: list[str] | None = None) -> None:
    """Run the parts asked for (all by default), in order."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", action="append", choices=sorted(PARTS), help="repeatable")
    parser.add_argument("--runs", type=int, default=5, help="timed calls per page and library")
    args = parser.parse_args(argv)
    for name in args.part or list(PARTS):
        PARTS[name](args)


if __name__ == "__main__":
    main()
