"""Trying a keyword on stored articles (/test): the query's index built once, a time budget."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, Protocol, TypeVar

from core.articles import match_text
from core.matcher import matcher_for
from core.query import Query


class Told(Protocol):
    """An article as a trial reads it."""

    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def story_id(self) -> int: ...


A = TypeVar("A", bound=Told)


class Trial(Generic[A]):
    """One keyword tried on articles, newest first and a page at a time (from a worker thread:
    the caller reads the pages and keeps the clock)."""

    def __init__(self, query: Query) -> None:
        self._spans = matcher_for(query)
        self.hits: list[A] = []  # the newest article of each story it matches
        self.stories: set[int] = set()  # every story looked at
        self.scanned = 0  # articles looked at
        self._matched: set[int] = set()

    def scan(self, articles: Iterable[A], expired: Callable[[], bool]) -> bool:
        """Match articles in order; False when expired() stopped it before the last one."""
        for article in articles:
            if expired():
                return False
            self.scanned += 1
            self.stories.add(article.story_id)
            if article.story_id in self._matched:
                continue
            if self._spans(match_text(article.title, article.text)):
                self._matched.add(article.story_id)
                self.hits.append(article)
        return True
