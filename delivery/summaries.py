"""An alert's summary and highlights: computed once per (article, keywords), off the event loop.

The thirty chats that follow a keyword get the same summary; it is chosen once, in a worker
thread, and kept in a small LRU cache in the sender's memory. Why not in the database: every
recipient's row is queued in the same transaction and sent within minutes by this process, so
memory catches nearly every repeat, there is no schema or invalidation to maintain (an updated
article has another text, so another key), and after a restart an article costs at most one
more computation.
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.articles import match_text
from core.forms import explain, keyword_shown, matched_forms
from core.matcher import Span, matcher_for
from core.query import QueryError, parse_stored
from core.summary import summarize

CACHE_SIZE = 256  # (article, keywords) pairs remembered; each holds a few sentences

Key = tuple[int, int, tuple[str, ...], int]  # article id, hash of its text, keywords, budget


@dataclass(frozen=True)
class Highlighted:
    """The summary sentences chosen for an alert, the spans to bold in each, and each keyword
    as the keyword line shows it (with the other forms that matched: «وزراء ← وزير»)."""

    sentences: tuple[str, ...]
    highlights: tuple[tuple[Span, ...], ...]
    keywords: tuple[str, ...] = ()


def choose_summary(
    title: str, text: str, keywords: Sequence[str], summary_words: int
) -> Highlighted:
    """Choose the summary (with a sentence that holds a keyword) and the words to bold."""
    matchers = []
    shown = []
    whole = match_text(title, text)
    for keyword in keywords:
        try:
            query = parse_stored(keyword)
        except QueryError:
            shown.append(keyword)
            continue
        match = matcher_for(query)
        matchers.append(match)
        shown.append(keyword_shown(keyword, explain(matched_forms(query, whole, match(whole)))))

    @functools.cache  # asked once to choose the summary, again to bold the chosen sentences
    def spans(sentence: str) -> tuple[Span, ...]:
        return tuple(span for match in matchers for span in match(sentence))

    sentences = summarize(text, title=title, max_words=summary_words, keywords=matchers)
    highlights = tuple(spans(sentence) for sentence in sentences)
    return Highlighted(tuple(sentences), highlights, tuple(shown))


def summary_key(
    article_id: int, title: str, text: str, keywords: Sequence[str], summary_words: int
) -> Key:
    """The cache key: the same article with the same text, keywords (in any order) and budget."""
    return (article_id, hash((title, text)), tuple(sorted(keywords)), summary_words)


class SummaryCache:
    """Summaries by key, each computed once in a worker thread: callers that ask while it is
    being computed wait for the same result. Least recently used entries go first."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self.computed = 0  # summaries actually computed (the rest came from the cache)
        self._entries: OrderedDict[Key, asyncio.Future[Highlighted]] = OrderedDict()

    async def get(self, key: Key, compute: Callable[[], Highlighted]) -> Highlighted:
        """The summary for `key`, computing it with `compute` (off the loop) the first time."""
        future = self._entries.get(key)
        if future is None:
            self.computed += 1
            future = asyncio.ensure_future(asyncio.to_thread(compute))
            self._entries[key] = future
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        try:
            # Shielded: one sender task cancelled must not cancel the others' summary.
            return await asyncio.shield(future)
        except Exception:
            if self._entries.get(key) is future:
                del self._entries[key]  # a failure is not remembered: the next caller retries
            raise
