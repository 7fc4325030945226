"""Which surge rule (core.surge): real feed captures replayed, then a year of ordinary news drawn
at the rates they show, each candidate rule beside the issue's suggestion (3x the mean, 5
stories) in the same run.

1. Replay. The Arabic feed captures in ../shared/data/feeds (six outlets) and Al Jazeera
   English, read in place: every dated item, in time order, grouped into stories as intake does
   (same link, or a near-identical text: core.dedup), matched through a SubscriptionBook of
   names and places that appear in them. Each keyword's stories are counted per hour. The
   captures cover a few hours each (scrape runs weeks apart), so the usual is taken over the
   captured hours only (an hour outside them is unknown, not quiet), and a rule's notices per
   week are its notices per captured hour times 168. Examples show the hours a rule flags.
2. Ordinary news. Each keyword's stories per hour drawn for 52 weeks (after one week to learn
   the usual) at the rate the replay measured for it, overdispersed as the replay's hours are
   (a gamma-Poisson mixture with its variance-to-mean ratio), and again at five times that rate
   (a bot reading some thirty feeds, not six); busier by day than at night (an assumed 3:1
   daily cycle: the captures are too short to measure one). Nothing surges there, so every
   notice a rule gives is a false alarm: the figure to keep low. Then each rule's smallest
   burst (stories in one hour) that it notices, for a keyword with the replay's median usual.
   Checked once an hour; the product checks every ten minutes over the last 60 minutes, which
   can only find a burst sooner.

Run: nice -n 10 .venv/bin/python bench/surges.py      (about a minute)
"""

from __future__ import annotations

import math
import random
import statistics
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.match import ARABIC_FEEDS  # noqa: E402
from bench.shared import FEEDS, require_shared  # noqa: E402
from core import surge  # noqa: E402
from core.articles import match_text, prepare_article  # noqa: E402
from core.dedup import RecentStories  # noqa: E402
from core.models import Subscription  # noqa: E402
from core.query import parse_stored  # noqa: E402
from core.subscriptions import SubscriptionBook  # noqa: E402
from feeds.parse import parse_feed  # noqa: E402

CAPTURES = (*ARABIC_FEEDS, "aljazeera-english")
# Names and places the captures mention, as a reader would type them.
KEYWORDS = (
    "إيران", "طهران", "إسرائيل", "ترامب|ترمب", "الصين", "لبنان", "روسيا", "واشنطن", "دبي",
    "الكويت", "غزة", "المغرب", "سوريا", "رمضان", "ألمانيا", "الحرب", "السعودية", "مصر",
    "Iran", "Israel|Israeli", "Trump", "Gaza", "Colombia", "Syria", "Morocco", '"West Bank"',
    "eclipse",
)  # fmt: skip
BASELINE = surge.SurgeRule(ratio=3, floor=5)  # the suggestion
CANDIDATES = tuple(
    surge.SurgeRule(ratio=ratio, floor=floor, median=median)
    for median in (False, True)
    for ratio in (2, 3, 4)
    for floor in (3, 5, 8)
)
WEEKS = 52
DAY_CYCLE = 3.0  # busiest hour / quietest hour, assumed
SEED = 31


@dataclass(frozen=True)
class Story:
    at: float
    title: str
    keys: frozenset[str]


def stories() -> Iterator[Story]:
    """Every dated captured item that starts a story, in time order, with its keywords."""
    book = SubscriptionBook()
    for number, keyword in enumerate(KEYWORDS, 1):
        book.add(Subscription(number, number, keyword, keyword), parse_stored(keyword))
    items = []
    for name in CAPTURES:
        for path in sorted(require_shared(FEEDS / name, "the feed captures").glob("*.xml")):
            for item in parse_feed(path.read_bytes()).items:
                article = prepare_article(item)
                if article.published_at is not None:
                    items.append(article)
    items.sort(key=lambda a: a.published_at or 0)
    seen_urls: set[str] = set()
    recent = RecentStories([])
    for number, article in enumerate(items):
        fingerprint = article.fingerprint
        repeat = article.url in seen_urls or (
            fingerprint is not None and recent.find(fingerprint) is not None
        )
        seen_urls.add(article.url)
        if fingerprint is not None:
            recent.add(number, fingerprint)
        if not repeat:
            keys = book.matched_keys(match_text(article.title, article.text))
            yield Story(article.published_at or 0, article.title, frozenset(keys))


def label(rule: surge.SurgeRule) -> str:
    how = "median" if rule.median else "mean"
    return f"{rule.ratio:g}x {how}, >={rule.floor}"


def replay(all_stories: list[Story], rule: surge.SurgeRule) -> tuple[int, list[str]]:
    """Notices a rule gives over the captured hours, and a few of them described."""
    captured = sorted({surge.hour_of(s.at) for s in all_stories})
    counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for story in all_stories:
        for key in story.keys:
            counts[key][surge.hour_of(story.at)] += 1
    notices, examples = 0, []
    for key, by_hour in counts.items():
        last_at: float | None = None
        for index, hour in enumerate(captured):
            past = [h for h in captured[:index] if h >= hour - surge.WEEK_HOURS]
            if len(past) < 3:  # too little captured history to say what is usual
                continue
            usual = surge.usual([by_hour.get(h, 0) for h in past], rule)
            now = (hour + 1) * surge.HOUR
            found = surge.surge(by_hour.get(hour, 0), usual, rule)
            if found and (last_at is None or last_at < surge.spaced_since(now, rule)):
                last_at = now
                notices += 1
                when = datetime.fromtimestamp(hour * surge.HOUR, UTC).strftime("%Y-%m-%d %H:00")
                examples.append(f"«{key}» {found.stories} stories in {when} UTC"
                                f" (usual {found.usual:.2f}, {len(past)} hours known)")  # fmt: skip
    return notices, examples


def hourly_stats(all_stories: list[Story]) -> dict[str, tuple[float, float]]:
    """Each keyword's stories per captured hour: (mean, variance-to-mean ratio)."""
    captured = sorted({surge.hour_of(s.at) for s in all_stories})
    stats = {}
    for key in {k for s in all_stories for k in s.keys}:
        per_hour = [
            sum(1 for s in all_stories if key in s.keys and surge.hour_of(s.at) == hour)
            for hour in captured
        ]
        mean = statistics.fmean(per_hour)
        stats[key] = (mean, max(1.0, statistics.pvariance(per_hour) / mean) if mean else 1.0)
    return stats


def poisson(rng: random.Random, rate: float) -> int:
    """A Poisson draw (Knuth's method: rates here are small)."""
    limit, k, p = math.exp(-rate), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def drawer(rate: float, dispersion: float, rng: random.Random) -> Callable[[int], int]:
    """Stories in hour h: gamma-Poisson with the measured dispersion, on a daily cycle."""
    shape = rate / (dispersion - 1) if dispersion > 1 else None
    low = 2 / (1 + DAY_CYCLE)  # the cycle's factors average to 1

    def draw(hour: int) -> int:
        cycle = low + (2 - 2 * low) * (1 - math.cos(2 * math.pi * (hour % 24) / 24)) / 2
        mean = rate * cycle
        if shape is not None:
            mean = rng.gammavariate(shape, mean / shape)
        return poisson(rng, mean)

    return draw


def ordinary(rule: surge.SurgeRule, rates: dict[str, tuple[float, float]], scale: float) -> float:
    """False notices per keyword per week over WEEKS weeks of ordinary news."""
    total = 0
    for index, (rate, dispersion) in enumerate(sorted(rates.values())):
        rng = random.Random(SEED + index)
        draw = drawer(rate * scale, dispersion, rng)
        series = [draw(h) for h in range((WEEKS + 1) * surge.WEEK_HOURS)]
        window = sum(series[: surge.WEEK_HOURS])
        last_at: float | None = None
        for hour in range(surge.WEEK_HOURS, len(series)):
            past = series[hour - surge.WEEK_HOURS : hour]
            usual = window / surge.WEEK_HOURS if not rule.median else surge.usual(past, rule)
            now = (hour + 1) * surge.HOUR
            if surge.surge(series[hour], usual, rule) and (
                last_at is None or last_at < surge.spaced_since(now, rule)
            ):
                last_at = now
                total += 1
            window += series[hour] - series[hour - surge.WEEK_HOURS]
    return total / len(rates) / WEEKS


def smallest_burst(rule: surge.SurgeRule, usual: float) -> int:
    """The fewest stories in an hour that the rule notices for this usual."""
    return math.ceil(surge.needed(usual, rule))


def main() -> None:
    found = list(stories())
    captured = len({surge.hour_of(s.at) for s in found})
    rates = hourly_stats(found)
    print(f"replay: {len(found)} stories in {captured} captured hours; "
          f"{len(KEYWORDS)} keywords, {len(rates)} seen")  # fmt: skip
    for key, (mean, dispersion) in sorted(rates.items(), key=lambda kv: -kv[1][0])[:8]:
        print(f"  «{key}»: {mean:.2f} stories per captured hour, variance/mean {dispersion:.2f}")
    peak = max(
        (sum(1 for s in found if k in s.keys and surge.hour_of(s.at) == h), k, h)
        for k in rates
        for h in {surge.hour_of(s.at) for s in found}
    )
    print(f"  busiest keyword-hour: «{peak[1]}» {peak[0]} stories")
    median_usual = statistics.median(mean for mean, _ in rates.values())
    print(f"  median usual among keywords seen: {median_usual:.2f} an hour\n")
    header = (
        f"{'rule':22} {'replay':>7} {'/week':>6} {'ordinary/wk':>11} {'x5 feeds':>9} {'burst':>6}"
    )
    print(header)
    chosen = surge.RULE
    rows = [BASELINE, *[c for c in CANDIDATES if c != BASELINE]]
    examples: dict[str, list[str]] = {}
    for rule in rows:
        notices, flagged = replay(found, rule)
        examples[label(rule)] = flagged
        tag = " (issue)" if rule == BASELINE else " (chosen)" if rule == chosen else ""
        print(
            f"{label(rule) + tag:22} {notices:7d} {notices / captured * 168:6.1f}"
            f" {ordinary(rule, rates, 1):11.2f} {ordinary(rule, rates, 5):9.2f}"
            f" {smallest_burst(rule, median_usual):6d}"
        )
    print("\n(replay: notices over the captures; /week: per 168 captured hours; ordinary/wk and"
          " x5 feeds: false notices per keyword per week; burst: fewest stories in an hour"
          " noticed at the median usual)")  # fmt: skip
    print(f"\nspacing between two notices of a keyword, {label(chosen)}, x5 feeds:")
    for hours in (1, 3, 6, 12):
        spaced = replace(chosen, spacing_hours=hours)
        print(f"  {hours:2d} h: {ordinary(spaced, rates, 5):.2f} false notices per keyword a week")
    for rule in (BASELINE, chosen, surge.SurgeRule(ratio=2, floor=3)):
        shown = examples[label(rule)]
        print(f"\nflagged by {label(rule)}: {len(shown)}")
        for line in shown[:4]:
            print("  " + line)


if __name__ == "__main__":
    main()
