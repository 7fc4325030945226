"""Trying a keyword on stored articles (/test): the query's index built once, a time budget."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from functools import lru_cache
from typing import Generic, Protocol, TypeVar

from core.articles import match_text
from core.forms import explain, matched_forms
from core.matcher import Span, matcher_for
from core.query import Query


class Told(Protocol):
    """An article as a trial reads it."""

    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def story_id(self) -> int: ...
    @property
    def id(self) -> int: ...


A = TypeVar("A", bound=Told)


class Trial(Generic[A]):
    """One keyword tried on articles, newest first and a page at a time (from a worker thread:
    the caller reads the pages and keeps the clock)."""

    def __init__(self, query: Query) -> None:
        self.query = query
        self._spans: Callable[[str], list[Span]] | None = None  # built by the first `scan`
        self.hits: list[A] = []  # the newest article of each story it matches
        self.stories: set[int] = set()  # every story looked at
        self.scanned = 0  # articles looked at
        self._matched: set[int] = set()

    def scan(self, articles: Iterable[A], expired: Callable[[], bool]) -> bool:
        """Match articles in order; False when expired() stopped it before the last one."""
        if self._spans is None:  # not when the pages are matched elsewhere (`absorb`)
            self._spans = matcher_for(self.query)
        for article in articles:
            if expired():
                return False
            self._count(article)
            if article.story_id in self._matched:
                continue
            if self._spans(match_text(article.title, article.text)):
                self._hit(article)
        return True

    def absorb(self, page: Sequence[A], scanned: int, matched_ids: Collection[int]) -> None:
        """Take the result of matching a page elsewhere (`matching_ids` in a worker process):
        its first `scanned` articles were looked at, and those with `matched_ids` matched."""
        for article in page[:scanned]:
            self._count(article)
            if article.id in matched_ids and article.story_id not in self._matched:
                self._hit(article)

    def _count(self, article: A) -> None:
        self.scanned += 1
        self.stories.add(article.story_id)

    def _hit(self, article: A) -> None:
        self._matched.add(article.story_id)
        self.hits.append(article)


@lru_cache(maxsize=16)
def _cached_matcher(query: Query) -> Callable[[str], list[Span]]:
    return matcher_for(query)


def matching_ids(
    query: Query, page: Iterable[tuple[int, str, str]], expired: Callable[[], bool]
) -> tuple[int, list[int]]:
    """(how many were looked at, ids that matched) for (id, title, text) rows, until expired()."""
    spans = _cached_matcher(query)
    scanned, matched = 0, []
    for article_id, title, text in page:
        if expired():
            break
        scanned += 1
        if spans(match_text(title, text)):
            matched.append(article_id)
    return scanned, matched


def form_notes(query: Query, articles: Iterable[Told]) -> list[str]:
    """Which other forms of the keyword the articles matched through («وزراء ← وزير»)."""
    spans = _cached_matcher(query)
    pairs: dict[tuple[str, str], None] = {}
    for article in articles:
        text = match_text(article.title, article.text)
        pairs.update(dict.fromkeys(matched_forms(query, text, spans(text))))
    return explain(list(pairs))
