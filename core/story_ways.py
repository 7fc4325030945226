"""A story's way to a chat (issue #31): the outlets that carried it, which of the chat's matched
keywords alert for it now, and at what pace. Pure; intake.store asks when it queues alerts.

- Outlets: an article's outlet is the site of its link (the bare host, `www.` ignored), or its
  feed when it has no link. Two feeds of one site (a paper's politics and economy feeds) are
  one newsroom and count once: "big stories only" promises that several outlets carried a
  story, and a site with three section feeds would otherwise make each of its stories "big";
  an aggregator's items count by the sites they link to.
- Only the big stories: a keyword with `min_outlets` N alerts once N outlets carried the story
  within `window_hours` of its first article (counted when each article is stored).
- Pace: one story, one alert, at the fastest pace of the keywords that alert for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from core.delivery_time import DeliveryMode
from core.keyword_ways import MAX_OUTLETS, host_of, pace_of, row_pace
from core.models import Subscription

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Telling:
    """One article of a story, as outlets are counted."""

    article_id: int
    feed_id: int
    feed_title: str
    url: str
    fetched_at: float


def outlet_of(telling: Telling) -> str:
    """The outlet an article counts for: its link's site, else its feed."""
    return host_of(telling.url) or f"feed:{telling.feed_id}"


def outlets_within(tellings: Sequence[Telling], window_hours: int) -> list[Telling]:
    """Each outlet's first article of a story fetched within `window_hours` of the story's first
    (`tellings`: the story's articles in the order they were stored), first teller first."""
    if not tellings:
        return []
    end = min(telling.fetched_at for telling in tellings) + window_hours * HOUR
    first: dict[str, Telling] = {}
    for telling in tellings:
        if telling.fetched_at <= end:
            first.setdefault(outlet_of(telling), telling)
    return list(first.values())


def newly_reached(
    tellings: Sequence[Telling], article_id: int, windows: Iterable[int]
) -> dict[int, int]:
    """The windows (hours) in which the article `article_id` is its outlet's first, so that the
    story's outlets grew to a count a threshold may wait for (2 to MAX_OUTLETS): window → count."""
    reached: dict[int, int] = {}
    for window in windows:
        told = outlets_within(tellings, window)
        if 2 <= len(told) <= MAX_OUTLETS and any(t.article_id == article_id for t in told):
            reached[window] = len(told)
    return reached


def outlet_names(told: Sequence[Telling]) -> list[str]:
    """How an alert names the outlets: their feeds' titles; a title two outlets share (an
    aggregator's), or none, comes with the site."""
    titles = Counter(telling.feed_title for telling in told)
    names = []
    for telling in told:
        title, site = telling.feed_title.strip(), host_of(telling.url)
        if not title or (titles[telling.feed_title] > 1 and site):
            names.append(f"{title} ({site})" if title else site or "—")
        else:
            names.append(title)
    return names


def alerting(
    keywords: Sequence[str],
    ways: Sequence[Subscription | None],
    chat_mode: DeliveryMode,
    outlets: Mapping[int, int],
) -> tuple[list[str], DeliveryMode | None]:
    """Of a chat's keywords matched to a story (`ways`: each one's own, None when it goes the
    chat's way), those that alert for it now, and the pace the alert goes at: the fastest of
    theirs, None when that is simply the chat's mode. A big-stories keyword alerts once the
    story's outlets within its window (`outlets`: window → count, 1 when not counted) reached
    its threshold."""
    kept: list[str] = []
    paces: list[DeliveryMode] = []
    for keyword, own in zip(keywords, ways, strict=True):
        if own is None:
            kept.append(keyword)
            paces.append(chat_mode)
        elif own.min_outlets <= outlets.get(own.window_hours, 1):
            kept.append(keyword)
            paces.append(pace_of(own, chat_mode))
    return kept, row_pace(paces, chat_mode)


def big_threshold(
    keywords: Iterable[str], thresholds: Mapping[str, tuple[int, int]]
) -> tuple[int, int] | None:
    """The (outlets, window hours) of the first of an alert's keywords that waits for big
    stories (`thresholds`: the chat's such keywords), None when none does: its alert names the
    outlets that carried the story."""
    return next((thresholds[k] for k in keywords if k in thresholds), None)
