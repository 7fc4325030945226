"""Matching queries against article texts through one inverted index over all subscriptions.

Each text word is read in every clitic way (proclitics + stem + suffix, see core.arabic) and each
reading is one dict lookup into the index; a keyword posts the stems it accepts with bit masks of
the clitics it allows. Work per article grows with the article and with what matches, not with the
number of subscriptions.

- Single-word queries without exclusions that post the same stems share a group: they match the
  same words, so their subscribers get one spans list, filled in with one dict.fromkeys.
- Other queries (alternatives, exclusions, phrases, prefixes) are checked per query.
- A phrase is posted on its first two words (a second-level dict on the second word's stem), and
  any further words are checked in place.
- What each distinct text word hits is memoized per index until postings change (a new or
  removed distinct query); adding a subscriber to an existing query changes nothing there.
`find_matches` runs the same code on a one-query index, so both always agree.

The index holds about ten Python objects per distinct query: a long-lived process should call
gc.freeze() after loading it, or CPython's full collections walk it (pauses of ~0.3 s at 100k).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain

from core.arabic import CANDIDATES, CORES, WORD_NORMS, prefix_rules, split_words, stem_rules
from core.query import Query, Term

Span = tuple[int, int]
_Hits = tuple[tuple["_Group", ...], tuple["_Term", ...], tuple[tuple[dict, int, int], ...]]
_NO_HITS: _Hits = ((), (), ())
_HIT_CACHE_LIMIT = 50_000  # memoized text words per index; cleared whole when full

# Between two words of a phrase: spaces, dashes, quotes and invisible marks only. A newline or any
# other punctuation (، . : ؛ ( …) ends the phrase, so a title and its text never join.
_JOINING_GAP = re.compile(
    "[ \t\u00a0\u2000-\u200f\u202a-\u202f\u2066-\u2069\u061c\ufeff"
    "\\-\u2010-\u2015\u0640\"'«»“”„‘’]*"
)
_NUMBER_MARKS = frozenset(".,٫٬")


@dataclass(slots=True, eq=False)
class _Word:
    """A compiled keyword word: accepted stem keys with their masks, or accepted prefixes."""

    stems: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    prefixes: list[tuple[str, int]] = field(default_factory=list)

    def matches(self, norm: str) -> bool:
        """True when the normalized text word is an accepted form of this keyword word."""
        stems = self.stems
        for key, pbit, sbit in CANDIDATES[norm]:
            for pmask, smask in stems.get(key, ()):
                if pmask & pbit and smask & sbit:
                    return True
        for prefix, pmask in self.prefixes:
            for core, pbit in CORES[norm]:
                if pmask & pbit and core.startswith(prefix):
                    return True
        return False


@dataclass(slots=True, eq=False)
class _Term:
    """A compiled term of a query checked on its own: alternative, exclusion or phrase."""

    entry: _Entry
    words: tuple[_Word, ...]
    excluded: bool


@dataclass(slots=True, eq=False)
class _Group:
    """Single-word queries that post the same stems and masks, with all their subscribers."""

    signature: tuple[tuple[str, int, int], ...]
    subs: set[int] = field(default_factory=set)
    entries: int = 0


@dataclass(slots=True, eq=False)
class _Entry:
    """One distinct query (by key) and the subscriptions that follow it."""

    query: Query
    subs: set[int] = field(default_factory=set)
    group: _Group | None = None
    postings: list[tuple[str, str, str, tuple]] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class _Slot:
    """Everything posted on one stem key."""

    groups: list[tuple[int, int, _Group]] = field(default_factory=list)
    terms: list[tuple[int, int, _Term]] = field(default_factory=list)
    phrases: dict[str, list[tuple[int, int, int, int, _Term]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.groups or self.terms or self.phrases)


def _compile_word(text: str, mode: str) -> _Word:
    """Stem or prefix postings for one normalized query word."""
    word = _Word()
    if mode == "prefix":
        word.prefixes = prefix_rules(text)
    elif mode == "exact":
        word.stems[text] = [(1, 1)]  # P_NONE, S_NONE: the whole word, nothing attached
    else:
        for key, pmask, smask in stem_rules(text):
            word.stems.setdefault(key, []).append((pmask, smask))
    return word


def _signature(word: _Word) -> tuple[tuple[str, int, int], ...]:
    """The postings of a stem-mode word, as a hashable group signature."""
    return tuple(sorted((key, p, s) for key, masks in word.stems.items() for p, s in masks))


def _joins(gaps: list[str], norms: list[str], i: int) -> bool:
    """True when text words i and i+1 may belong to one phrase.

    Spaces, dashes, quotes and invisible marks join; so do . , ٫ ٬ between two numbers (3.5, ٢٬٥)
    or two single letters (U.S.).
    """
    gap = gaps[i]
    if gap == " " or _JOINING_GAP.fullmatch(gap) is not None:
        return True
    if gap not in _NUMBER_MARKS:
        return False
    left, right = norms[i], norms[i + 1]
    return (left.isdigit() and right.isdigit()) or (len(left) == 1 and len(right) == 1)


def _words_follow(
    words: tuple[_Word, ...], norms: list[str], gaps: list[str], i: int, k: int
) -> bool:
    """True when words[k:] follow, joined, the phrase that starts at text word i."""
    if i + len(words) > len(norms):
        return False
    for j in range(k, len(words)):
        if not _joins(gaps, norms, i + j - 1) or not words[j].matches(norms[i + j]):
            return False
    return True


def _merged(spans: list[Span]) -> list[Span]:
    """Sorted spans with overlapping ones merged."""
    spans.sort()
    merged = [spans[0]]
    for start, end in spans[1:]:
        last_start, last_end = merged[-1]
        if start < last_end:
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


class MatchIndex:
    """All subscriptions' queries in one index; `match` returns sub_id → highlighted spans."""

    def __init__(self) -> None:
        self._slots: dict[str, _Slot] = {}
        self._prefixes: dict[str, list[tuple[int, _Term]]] = {}
        self._prefix_lengths: Counter[int] = Counter()
        self._lengths: tuple[int, ...] = ()
        self._groups: dict[tuple[tuple[str, int, int], ...], _Group] = {}
        self._entries: dict[str, _Entry] = {}
        self._sub_queries: dict[int, Query] = {}
        self._hits: dict[str, _Hits] = {}  # text word → what it hits; cleared when postings change

    def __len__(self) -> int:
        return len(self._sub_queries)

    def __contains__(self, sub_id: object) -> bool:
        return sub_id in self._sub_queries

    @property
    def distinct_queries(self) -> int:
        """How many distinct query keys the index holds."""
        return len(self._entries)

    def query(self, sub_id: int) -> Query:
        """The query a subscription follows (KeyError when absent)."""
        return self._sub_queries[sub_id]

    def add(self, sub_id: int, query: Query) -> None:
        """Follow `query` for `sub_id` (replacing what it followed before)."""
        if sub_id in self._sub_queries:
            self.remove(sub_id)
        entry = self._entries.get(query.key)
        if entry is None:
            entry = self._entries[query.key] = _Entry(query)
            self._post_entry(entry)
        entry.subs.add(sub_id)
        if entry.group is not None:
            entry.group.subs.add(sub_id)
        self._sub_queries[sub_id] = query

    def remove(self, sub_id: int) -> bool:
        """Stop following for `sub_id`; False when it followed nothing."""
        query = self._sub_queries.pop(sub_id, None)
        if query is None:
            return False
        key = query.key
        entry = self._entries[key]
        entry.subs.discard(sub_id)
        group = entry.group
        if group is not None:
            group.subs.discard(sub_id)
        if entry.subs:
            return True
        del self._entries[key]
        if group is not None:
            group.entries -= 1
            if not group.entries:
                self._unpost_group(group)
        for kind, stem_key, second_key, posting in entry.postings:
            self._unpost(kind, stem_key, second_key, posting)
        return True

    # --- posting ---------------------------------------------------------------------------------

    def _slot(self, key: str) -> _Slot:
        """The slot of a stem key, created when missing."""
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
        return slot

    def _post_entry(self, entry: _Entry) -> None:
        """Index a new distinct query: as a group when it is one plain word, else term by term."""
        query = entry.query
        if len(query.terms) == 1 and not query.exclusions and len(query.terms[0].words) == 1:
            word = query.terms[0].words[0]
            if word.mode != "prefix":
                self._join_group(entry, _compile_word(word.text, word.mode))
                return
        for term in query.terms:
            self._post_term(entry, term, excluded=False)
        for term in query.exclusions:
            self._post_term(entry, term, excluded=True)

    def _join_group(self, entry: _Entry, word: _Word) -> None:
        """Attach a single-word entry to the group of its signature, posting the group if new."""
        signature = _signature(word)
        group = self._groups.get(signature)
        if group is None:
            group = self._groups[signature] = _Group(signature)
            self._hits.clear()
            for key, pmask, smask in signature:
                self._slot(key).groups.append((pmask, smask, group))
        group.entries += 1
        entry.group = group

    def _unpost_group(self, group: _Group) -> None:
        """Remove an empty group from the index."""
        del self._groups[group.signature]
        self._hits.clear()
        for key, pmask, smask in group.signature:
            self._slots[key].groups.remove((pmask, smask, group))
            self._drop_if_empty(key)

    def _post_term(self, entry: _Entry, term: Term, *, excluded: bool) -> None:
        """Index one term of a query that is not a plain single word."""
        words = tuple(_compile_word(w.text, w.mode) for w in term.words)
        compiled = _Term(entry, words, excluded)
        first = words[0]
        second = words[1] if len(words) > 1 else None
        for prefix, pmask in first.prefixes:
            self._record(entry, "prefix", prefix, "", (pmask, compiled))
        for key, masks in first.stems.items():
            for pmask, smask in masks:
                if second is None or second.prefixes:
                    self._record(entry, "term", key, "", (pmask, smask, compiled))
                    continue
                for key2, masks2 in second.stems.items():
                    for pmask2, smask2 in masks2:
                        posting = (pmask, smask, pmask2, smask2, compiled)
                        self._record(entry, "phrase", key, key2, posting)

    def _record(self, entry: _Entry, kind: str, key: str, key2: str, posting: tuple) -> None:
        """Add one posting and remember it on the entry for removal."""
        self._hits.clear()
        if kind == "prefix":
            self._prefixes.setdefault(key, []).append(posting)  # type: ignore[arg-type]
            self._count_prefix_length(len(key), +1)
        elif kind == "term":
            self._slot(key).terms.append(posting)  # type: ignore[arg-type]
        else:
            self._slot(key).phrases.setdefault(key2, []).append(posting)  # type: ignore[arg-type]
        entry.postings.append((kind, key, key2, posting))

    def _unpost(self, kind: str, key: str, key2: str, posting: tuple) -> None:
        """Remove one posting recorded by `_record`."""
        self._hits.clear()
        if kind == "prefix":
            postings = self._prefixes[key]
            postings.remove(posting)  # type: ignore[arg-type]
            if not postings:
                del self._prefixes[key]
            self._count_prefix_length(len(key), -1)
            return
        slot = self._slots[key]
        if kind == "term":
            slot.terms.remove(posting)  # type: ignore[arg-type]
        else:
            phrase_postings = slot.phrases[key2]
            phrase_postings.remove(posting)  # type: ignore[arg-type]
            if not phrase_postings:
                del slot.phrases[key2]
        self._drop_if_empty(key)

    def _drop_if_empty(self, key: str) -> None:
        """Delete a slot that no longer holds anything."""
        if not self._slots[key]:
            del self._slots[key]

    def _count_prefix_length(self, length: int, delta: int) -> None:
        """Keep the sorted set of prefix lengths to probe in step with the prefix table."""
        self._prefix_lengths[length] += delta
        if self._prefix_lengths[length] <= 0:
            del self._prefix_lengths[length]
        self._lengths = tuple(sorted(self._prefix_lengths))

    # --- matching --------------------------------------------------------------------------------

    def _word_hits(self, norm: str) -> _Hits:
        """What one normalized text word hits in the index (memoized until postings change)."""
        groups: list[_Group] = []
        terms: list[_Term] = []
        phrases: list[tuple[dict[str, list[tuple[int, int, int, int, _Term]]], int, int]] = []
        slots_get = self._slots.get
        for key, pbit, sbit in CANDIDATES[norm]:
            slot = slots_get(key)
            if slot is None:
                continue
            for pmask, smask, group in slot.groups:
                if pmask & pbit and smask & sbit and group not in groups:
                    groups.append(group)
            for pmask, smask, term in slot.terms:
                if pmask & pbit and smask & sbit and term not in terms:
                    terms.append(term)
            if slot.phrases:
                phrases.append((slot.phrases, pbit, sbit))
        if self._prefixes:
            prefixes_get = self._prefixes.get
            for core, pbit in CORES[norm]:
                for length in self._lengths:
                    if length > len(core):
                        break
                    for pmask, term in prefixes_get(core[:length], ()):
                        if pmask & pbit and term not in terms:
                            terms.append(term)
        hits = (
            (tuple(groups), tuple(terms), tuple(phrases))
            if groups or terms or phrases
            else _NO_HITS
        )
        if len(self._hits) >= _HIT_CACHE_LIMIT:
            self._hits.clear()
        self._hits[norm] = hits
        return hits

    def match(self, text: str) -> dict[int, list[Span]]:
        """sub_id → sorted spans (into `text`) of the words that make its query match.

        Subscriptions that match the same words share one spans list: treat it as read-only.
        """
        if not self._entries:
            return {}
        raw_words, starts, ends, gaps = split_words(text)
        norms = list(map(WORD_NORMS.__getitem__, raw_words))
        positions: dict[str, list[int]] = {}
        for i, norm in enumerate(norms):
            found_at = positions.get(norm)
            if found_at is None:
                positions[norm] = [i]
            else:
                found_at.append(i)
        positions.pop("", None)

        result: dict[int, list[Span]] = {}
        group_spans: dict[_Group, list[Span]] = {}
        term_hits: list[tuple[_Term, list[Span]]] = []
        phrase_starts: list[tuple[tuple[tuple[dict, int, int], ...], list[int]]] = []
        word_spans = list(zip(starts, ends, strict=True))
        cached = self._hits.get
        for norm, found_at in positions.items():
            hits = cached(norm) or self._word_hits(norm)
            if hits is _NO_HITS:
                continue
            groups, terms, phrases = hits
            spans = [word_spans[i] for i in found_at]
            for group in groups:
                earlier = group_spans.get(group)  # the group hit by another word form too
                group_spans[group] = merged = spans if earlier is None else sorted(earlier + spans)
                result.update(dict.fromkeys(group.subs, merged))
            for term in terms:
                if len(term.words) == 1:
                    term_hits.append((term, spans))
                else:  # a phrase with a prefix among its first two words: check it in place
                    size = len(term.words) - 1
                    found = [
                        (starts[i], ends[i + size])
                        for i in found_at
                        if _words_follow(term.words, norms, gaps, i, 1)
                    ]
                    if found:
                        term_hits.append((term, found))
            if phrases:
                phrase_starts.append((phrases, found_at))
        if phrase_starts:
            _phrase_hits(phrase_starts, norms, starts, ends, gaps, term_hits)
        if term_hits:
            _term_results(term_hits, result)
        return result


def _phrase_hits(
    phrase_starts: list[tuple[tuple[tuple[dict, int, int], ...], list[int]]],
    norms: list[str],
    starts: list[int],
    ends: list[int],
    gaps: list[str],
    hits: list[tuple[_Term, list[Span]]],
) -> None:
    """Phrases whose first word was read at the given positions: check the next words in place."""
    last = len(norms) - 1
    for phrases, found_at in phrase_starts:
        for i in found_at:
            if i >= last or not _joins(gaps, norms, i):
                continue
            for key2, pbit2, sbit2 in CANDIDATES[norms[i + 1]]:
                for by_second, pbit, sbit in phrases:
                    postings = by_second.get(key2)
                    if postings is None:
                        continue
                    for pmask, smask, pmask2, smask2, term in postings:
                        if pmask & pbit and smask & sbit and pmask2 & pbit2 and smask2 & sbit2:
                            size = len(term.words)
                            if size == 2 or _words_follow(term.words, norms, gaps, i, 2):
                                hits.append((term, [(starts[i], ends[i + size - 1])]))


def _term_results(hits: list[tuple[_Term, list[Span]]], result: dict[int, list[Span]]) -> None:
    """Spans of the queries checked term by term, minus those with an excluded term present."""
    first: dict[_Entry, list[Span]] = {}
    more: dict[_Entry, list[list[Span]]] = {}
    excluded: set[_Entry] = set()
    for term, spans in hits:
        entry = term.entry
        if term.excluded:
            excluded.add(entry)
        elif entry in first:
            more.setdefault(entry, [first[entry]]).append(spans)
        else:
            first[entry] = spans
    for entry, spans in first.items():
        if entry in excluded:
            continue
        several = more.get(entry)
        if several is not None:
            spans = _merged(list(set(chain.from_iterable(several))))
        result.update(dict.fromkeys(entry.subs, spans))


def find_matches(query: Query, text: str) -> list[Span]:
    """Spans of the words that make `query` match `text`; [] when it does not match."""
    index = MatchIndex()
    index.add(0, query)
    return index.match(text).get(0, [])
