"""Matching queries against article texts through one inverted index over all subscriptions.

Each text word is read in every clitic way (proclitics + stem + suffix, see core.arabic) and each
reading is one dict lookup into the index; a keyword posts the stems it accepts with bit masks of
the clitics it allows.

The index answers per distinct query (by `Query.key`), so the work per article grows with the
article and with the distinct queries that match, never with how many subscriptions follow them.
Each distinct query has a small integer id while it is indexed (`entry_id`, `key_of`):
- `matched_ids(text)`: the ids that match, without spans (the routing decision);
- `matched_keys(text)`: the same as keys; `match_keys(text)`: key → spans of the matching words;
- `followers(id)` / `subscribers(key)`: who follows a query; `match(text)` expands the spans to
  every subscriber (one dict item per matching subscription: the slow view, for small indexes).

- Single-word queries without exclusions that post the same stems share a group: posted and
  checked once, and `group.ids` lists their ids.
- Other queries (alternatives, exclusions, phrases, prefixes) are posted term by term.
- A phrase is posted on its first two words (a second-level dict on the second word's stem).
  What a run of text words starts is memoized as a trie: a word's memo of the words that followed
  it, and each run's memo of the word after it, so a longer phrase is followed word by word.
- A stem's slot files its groups and terms in buckets by their clitic masks (one to four a
  slot, however many terms: a common stem holds 255). What a bucket hits (a `_Part`: ids it
  makes match or excludes, phrases to check in place) is made once (`prepare`, after a load)
  and kept beside its masks, with the part of each reading several buckets allow, and each
  prefix's part per proclitic: a word the index has never met tests those in place, not the
  stem's terms one by one, and makes nothing of its own but its hits.
- A word pair is looked up only when the second word reads as some phrase's second stem.
- What each distinct text word hits (its parts, the phrases it may start), and what it starts
  with each word that followed it, are memoized per index. A new or removed distinct query
  forgets only the words that read as one of its stem keys (or start with one of its
  prefixes), and what those stems hit: the next article after an /add is read as warm as the
  one before it. Adding a subscriber to an existing query changes nothing there.
`find_matches` runs the same code on a one-query index; `matcher_for` keeps that one-query index
for many texts (/test, highlighting a summary's sentences). tests/reference_matcher.py is the
independent check: what a keyword means, tried plainly at every position.

`_Postings` holds the inverted index and the memo of what each text word hits; `MatchIndex`
adds the distinct queries (ids, subscriptions) and reads texts against it.

The index holds about ten Python objects per distinct query, and the memos keep growing while
articles come in: a long-lived process should call gc.freeze() after loading the index, or
CPython's full collections walk it (pauses of ~0.3 s at 100k).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain, compress, product
from operator import attrgetter
from typing import Literal, TypeAlias, TypeVar, cast

from core.arabic import (
    CANDIDATES,
    PROCLITIC_BITS,
    S_NONE,
    SUFFIX_BITS,
    WORD_NORMS,
    prefix_rules,
    split_words,
    words_read_as,
)
from core.forms import word_rules
from core.query import Query, Term

Span = tuple[int, int]
_Readings = tuple[tuple[str, int, int], ...]  # a word's (stem key, proclitic bit, suffix bit)
_K = TypeVar("_K")
_V = TypeVar("_V")
# the masks of a phrase's first and second word (pmask, smask, pmask2, smask2; shared, see
# `_shared_masks`), and the phrase
_PhrasePosting = tuple[tuple[int, ...], "_Term"]
_MaybeRun: TypeAlias = "_RunHits | Literal[False]"  # False in a memo: the run starts nothing
_HIT_CACHE_LIMIT = 50_000  # memoized text words per index and generation (see `_WordMemo`)
_WORD_CACHE_LIMIT = 100_000  # compiled keyword words per index (a million keywords use ~60,000)
_ID_BLOCK = 1_024  # entry ids made at once
_SEEN_CACHE_LIMIT = 1_000  # memoized text words after a text word (its phrase runs)
_SBITS = len(SUFFIX_BITS)  # below the proclitic bit in a reading's key
# one int object for each suffix mask the stems' tests hold (a few dozen): a first-sight word's
# bit tests then read ints that stay in the CPU's cache, not one of their own a stem
_MASKS: dict[int, int] = {}
_MASK_SETS: dict[tuple[int, ...], tuple[int, ...]] = {}  # see `_shared_masks`

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
        """True when the normalized text word is an accepted form of this keyword word (not
        memoized: over a cycle's articles a memo here made no difference bench/memo.py could
        tell from the machine's noise; the memo of each text word's hits answers most words)."""
        stems = self.stems
        for key, pbit, sbit in CANDIDATES[norm]:
            for pmask, smask in stems.get(key, ()):
                if pmask & pbit and smask & sbit:
                    return True
        for prefix, pmask in self.prefixes:
            for core, pbit, sbit in CANDIDATES[norm]:
                if sbit == S_NONE and pmask & pbit and core.startswith(prefix):
                    return True
        return False


@dataclass(slots=True, eq=False)
class _Term:
    """A compiled term of a query checked on its own: alternative, exclusion or phrase."""

    entry: int  # the id of the query it belongs to
    words: tuple[_Word, ...]
    excluded: bool


@dataclass(slots=True, eq=False)
class _Group:
    """Single-word queries that post the same stems and masks: they match the same words."""

    signature: tuple[tuple[str, int, int], ...]
    entries: list[_Entry] = field(default_factory=list)
    ids: tuple[int, ...] = ()  # the ids of `entries`


@dataclass(slots=True, eq=False)
class _Entry:
    """One distinct query (by key) and the subscriptions that follow it."""

    query: Query
    id: int
    subs: set[int] = field(default_factory=set)
    group: _Group | None = None
    postings: list[tuple[str, str, str, tuple]] = field(default_factory=list)
    followers: tuple[int, ...] | None = None  # sorted `subs`, cached until they change


@dataclass(slots=True, eq=False)
class _Part:
    """What a text word hits through one of its readings, phrases aside: made per bucket of a
    stem (or per prefix and proclitic bit) until it changes, and shared by every word read that
    way, so a word first seen costs a few lookups and bit tests, not a walk of the terms."""

    ids: tuple[int, ...] = ()  # queries it makes match on its own
    excludes: tuple[int, ...] = ()  # queries it excludes on its own
    in_place: tuple[_Term, ...] = ()  # phrases with a prefix among their first two words


@dataclass(slots=True, eq=False)
class _WordHits:
    """What one distinct text word hits in the index (memoized per index)."""

    parts: tuple[_Part, ...] = ()  # one per reading that hits something
    in_place: tuple[_Term, ...] = ()  # its parts' `in_place`, together
    # phrases it may start: the phrase postings of its stems, with the bits of its reading
    seconds: tuple[tuple[dict[str, list[_PhrasePosting]], int, int], ...] = ()
    after: dict[str, _MaybeRun] | None = None  # memo of `_pair_hits`, if it has `seconds`
    # its readings whose stem is the second word of some posted phrase (none: it follows none)
    follows: tuple[tuple[str, int, int], ...] = ()


_NO_PART = _Part()
_NO_HITS = _WordHits()
_IDS, _EXCLUDES = attrgetter("ids"), attrgetter("excludes")
_IN_PLACE, _SECONDS, _PARTS = attrgetter("in_place"), attrgetter("seconds"), attrgetter("parts")


@dataclass(slots=True, eq=False)
class _RunHits:
    """What a run of adjacent text words starts (memoized per index); False in a memo when nothing.

    Runs form a trie: a word's phrases continue into the run of it and the next word, and so on.
    """

    size: int  # words in the run
    ids: tuple[int, ...] = ()  # phrases of `size` words the run makes match
    excludes: tuple[int, ...] = ()  # phrases of `size` words the run excludes
    longer: tuple[_Term, ...] = ()  # longer phrases it starts
    after: dict[str, _MaybeRun] | None = None  # memo of `extended`, if it has `longer`

    @classmethod
    def of(cls, terms: list[_Term], size: int) -> _MaybeRun:
        """The run that starts these phrases (their first `size` words matched); False if none."""
        ending = [term for term in terms if len(term.words) == size]
        longer = tuple(term for term in terms if len(term.words) > size)
        if not ending and not longer:
            return False
        return cls(
            size,
            tuple(term.entry for term in ending if not term.excluded),
            tuple(term.entry for term in ending if term.excluded),
            longer,
            {} if longer else None,
        )

    def extended(self, word: str) -> _MaybeRun:
        """The run followed by the normalized text word `word` (memoized); False if none."""
        after = self.after
        if after is None:  # starts no longer phrase
            return False
        found = after.get(word)
        if found is None:
            size = self.size
            terms = [term for term in self.longer if term.words[size].matches(word)]
            return _remember(after, word, _RunHits.of(terms, size + 1))
        return found


@dataclass(slots=True, eq=False)
class _Bucket:
    """The groups and terms posted on one stem key with the same clitic masks: a slot holds one
    to four, however many terms it holds (a common stem's hundreds share them)."""

    groups: list[_Group] = field(default_factory=list)
    terms: list[_Term] = field(default_factory=list)


_Test: TypeAlias = "tuple[int, int, _Part]"  # a bucket's masks and what it hits


@dataclass(slots=True, eq=False)
class _Slot:
    """Everything posted on one stem key."""

    buckets: dict[tuple[int, int], _Bucket] = field(default_factory=dict)  # by (pmask, smask)
    # the phrases posted on it, by their second word's stem key (None when none: most stems, and a
    # first-sight word's reading then does not touch a dict of its own to learn it)
    phrases: dict[str, list[_PhrasePosting]] | None = None
    follows: int = 0  # phrase postings with this stem as their second word
    # each bucket's masks and what it hits: a reading whose bits one bucket allows hits its part
    # (None until made again after a change)
    tests: tuple[_Test, ...] | None = None
    # a reading's clitic bits (pbit << _SBITS | sbit) → its parts joined, where several allow it
    joined: dict[int, _Part] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.buckets or self.phrases or self.follows)

    def prepare(self) -> tuple[_Test, ...]:
        """Make each bucket's test now, and the part of each reading several allow (see
        MatchIndex.prepare); return the tests."""
        tests = self.tests = tuple(
            (pmask, _MASKS.setdefault(smask, smask), _part_of(_ids_of(bucket.groups), bucket.terms))
            for (pmask, smask), bucket in self.buckets.items()
        )
        if len(tests) > 1:
            shared: dict[tuple[int, ...], _Part] = {}  # by the ids of the parts joined
            for pbit, sbit in product(PROCLITIC_BITS, SUFFIX_BITS):
                allowed = [part for pmask, smask, part in tests if pmask & pbit and smask & sbit]
                if len(allowed) > 1:
                    key = tuple(map(id, allowed))
                    found = shared.get(key)
                    if found is None:
                        found = shared[key] = _joined(allowed)
                    self.joined[pbit << _SBITS | sbit] = found
        return tests

    def bucket(self, pmask: int, smask: int) -> _Bucket:
        """The bucket of these masks, created when missing."""
        found = self.buckets.get((pmask, smask))
        if found is None:
            found = self.buckets[pmask, smask] = _Bucket()
        return found

    def take(self, pmask: int, smask: int, posted: _Group | _Term) -> None:
        """Remove a group or term posted with these masks (and its bucket, once empty)."""
        bucket = self.buckets[pmask, smask]
        if isinstance(posted, _Group):
            bucket.groups.remove(posted)
        else:
            bucket.terms.remove(posted)
        if not bucket.groups and not bucket.terms:
            del self.buckets[pmask, smask]

    def join(self, pbit: int, sbit: int) -> _Part:
        """What a reading several buckets allow hits here, as one part (made by `prepare`)."""
        return self.joined[pbit << _SBITS | sbit]

    def forget(self) -> None:
        """Drop what its buckets hit: a posting here changed, or a group's ids."""
        if self.tests is not None:  # a load posts ~600,000 times on slots with nothing made yet
            self.tests = None
            self.joined.clear()


@dataclass(slots=True, eq=False)
class _Prefix:
    """Everything posted on one prefix: its terms, and what each proclitic bit hits (memoized)."""

    terms: list[tuple[int, _Term]] = field(default_factory=list)
    readings: dict[int, _Part] = field(default_factory=dict)

    def prepare(self) -> None:
        """Make what each proclitic bit hits now (see MatchIndex.prepare)."""
        for pbit in PROCLITIC_BITS:
            self.read(pbit)

    def read(self, pbit: int) -> _Part:
        """What a word whose core starts with this prefix, after these proclitics, hits here."""
        terms = [term for pmask, term in self.terms if pmask & pbit]
        part = self.readings[pbit] = _part_of((), terms) if terms else _NO_PART
        return part


def _compile_word(text: str, mode: str) -> _Word:
    """Stem or prefix postings for one normalized query word."""
    word = _Word()
    if mode == "prefix":
        word.prefixes = prefix_rules(text)
    elif mode == "exact":
        word.stems[text] = [(1, 1)]  # P_NONE, S_NONE: the whole word, nothing attached
    else:
        for key, pmask, smask, *_ in word_rules(text):
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
        gap = i + j - 1
        if gaps[gap] != " " and not _joins(gaps, norms, gap):
            return False
        if not words[j].matches(norms[i + j]):
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


class _WordMemo:
    """What each distinct text word hits, kept in two generations: a full memo becomes the one
    before, and a word read again moves back. The words most articles use stay; the articles
    after a rotation do not all meet an empty memo, as they did when a full memo cleared itself
    whole. A change at a stem key forgets the words that may read as it, found by spelling them
    out (core.arabic.words_read_as): a word first met costs no bookkeeping for that."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.hits: dict[str, _WordHits] = {}
        self.older_hits: dict[str, _WordHits] = {}  # the generation before, as `hits`

    def moved_back(self, norm: str) -> _WordHits | None:
        """What a word of the generation before hits, moved back; None when it is not there."""
        hits = self.older_hits.pop(norm, None)
        if hits is not None:
            self.remember(norm, hits)
        return hits

    def remember(self, norm: str, hits: _WordHits) -> None:
        """Memoize what a word hits."""
        if len(self.hits) >= self.limit:
            self.older_hits, self.hits = self.hits, {}
        self.hits[norm] = hits

    def forget(self, key: str) -> None:
        """Drop the words that may read as the stem key `key` (and their pairs), in both
        generations."""
        if not self.hits and not self.older_hits:  # a load posts ~600,000 times on nothing
            return
        forms = words_read_as(key)
        for hits in (self.hits, self.older_hits):
            for norm in [form for form in forms if form in hits]:
                hits.pop(norm, None)  # one form two ways: a stem that starts as a head ends

    def forget_prefix(self, prefix: str) -> None:
        """Drop the words with a core (or stem) that starts with `prefix`, in both generations."""
        for hits in (self.hits, self.older_hits):
            for norm in [w for w in hits if any(k.startswith(prefix) for k, _, _ in CANDIDATES[w])]:
                del hits[norm]

    def clear(self) -> None:
        """Drop every word, in both generations."""
        self.hits.clear()
        self.older_hits.clear()


class _Postings:
    """The inverted index of the distinct queries (stem slots with their groups, terms and
    phrases; prefixes), and what each text word hits in it, memoized until the postings change.
    MatchIndex keeps the queries and subscriptions, and reads texts against it."""

    def __init__(self, hit_limit: int = _HIT_CACHE_LIMIT) -> None:
        self._slots: dict[str, _Slot] = {}
        self._prefixes: dict[str, _Prefix] = {}
        self._prefix_lengths: Counter[int] = Counter()
        self._lengths: tuple[int, ...] = ()
        # the prefixes by their first letters (as many as the shortest has), shortest first: a
        # core is checked against those its own first letters name (None until first needed
        # after a prefix came or went)
        self._prefix_heads: dict[str, tuple[tuple[str, _Prefix], ...]] | None = None
        self._groups: dict[tuple[tuple[str, int, int], ...], _Group] = {}
        self._memo = _WordMemo(hit_limit)  # what each text word hits; forgotten on changes
        # (text, mode) → its compiled word, shared by every query that has it (never changed once
        # compiled): keywords repeat words, and compiling one costs ~40 µs
        self._words: dict[tuple[str, str], _Word] = {}
        self._phrase_postings = 0
        self._excluded_phrase_postings = 0

    def _slot(self, key: str) -> _Slot:
        """The slot of a stem key, created when missing."""
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
        return slot

    def _compiled(self, text: str, mode: str) -> _Word:
        """The compiled form of a query word (memoized)."""
        word = self._words.get((text, mode))
        if word is None:
            word = _remember(
                self._words, (text, mode), _compile_word(text, mode), _WORD_CACHE_LIMIT
            )
        return word

    def _post_entry(self, entry: _Entry) -> None:
        """Index a new distinct query: as a group when it is one plain word, else term by term."""
        query = entry.query
        if len(query.terms) == 1 and not query.exclusions and len(query.terms[0].words) == 1:
            word = query.terms[0].words[0]
            if word.mode != "prefix":
                self._join_group(entry, self._compiled(word.text, word.mode))
                return
        for term in query.terms:
            self._post_term(entry, term, excluded=False)
        for term in query.exclusions:
            self._post_term(entry, term, excluded=True)

    def _join_group(self, entry: _Entry, word: _Word) -> None:
        """Attach a single-word entry to the group of its signature, posting the group if new."""
        signature = _signature(word)
        self._forget_keys(signature)  # the memo holds the ids of the group
        group = self._groups.get(signature)
        if group is None:
            group = self._groups[signature] = _Group(signature)
            for key, pmask, smask in signature:
                self._slot(key).bucket(pmask, smask).groups.append(group)
        group.entries.append(entry)
        group.ids += (entry.id,)
        entry.group = group

    def _unpost_group(self, group: _Group) -> None:
        """Remove an empty group from the index."""
        del self._groups[group.signature]
        self._forget_keys(group.signature)
        for key, pmask, smask in group.signature:
            self._slots[key].take(pmask, smask, group)
            self._drop_if_empty(key)

    def _post_term(self, entry: _Entry, term: Term, *, excluded: bool) -> None:
        """Index one term of a query that is not a plain single word."""
        words = tuple(self._compiled(w.text, w.mode) for w in term.words)
        compiled = _Term(entry.id, words, excluded)
        first = words[0]
        second = words[1] if len(words) > 1 else None
        for prefix, pmask in first.prefixes:
            self._record(entry, "prefix", prefix, "", (pmask, compiled))
        for key, masks in first.stems.items():
            for pmask, smask in masks:
                if second is None or second.prefixes:
                    self._record(entry, "term", key, "", (_shared_masks(pmask, smask), compiled))
                    continue
                for key2, masks2 in second.stems.items():
                    for pmask2, smask2 in masks2:
                        posting = (_shared_masks(pmask, smask, pmask2, smask2), compiled)
                        self._record(entry, "phrase", key, key2, posting)

    def _record(self, entry: _Entry, kind: str, key: str, key2: str, posting: tuple) -> None:
        """Add one posting and remember it on the entry for removal."""
        self._forget_posting(kind, key)
        if kind == "prefix":
            prefix = self._prefixes.get(key)
            if prefix is None:
                prefix = self._prefixes[key] = _Prefix()
                self._prefix_heads = None
            prefix.terms.append(posting)
            self._count_prefix_length(len(key), +1)
        elif kind == "term":
            masks, term = posting
            self._slot(key).bucket(masks[0], masks[1]).terms.append(term)
        else:
            slot = self._slot(key)
            if slot.phrases is None:
                slot.phrases = {}
            slot.phrases.setdefault(key2, []).append(posting)
            self._phrase_postings += 1
            self._excluded_phrase_postings += posting[-1].excluded
            second = self._slot(key2)
            second.follows += 1
            if second.follows == 1:  # the words that read as it may now follow one
                self._memo.forget(key2)
        entry.postings.append((kind, key, key2, posting))

    def _unpost(self, kind: str, key: str, key2: str, posting: tuple) -> None:
        """Remove one posting recorded by `_record`."""
        self._forget_posting(kind, key)
        if kind == "prefix":
            terms = self._prefixes[key].terms
            terms.remove(posting)
            if not terms:
                del self._prefixes[key]
                self._prefix_heads = None
            self._count_prefix_length(len(key), -1)
            return
        slot = self._slots[key]
        if kind == "term":
            masks, term = posting
            slot.take(masks[0], masks[1], term)
        else:
            phrases = cast("dict[str, list[_PhrasePosting]]", slot.phrases)
            phrases[key2].remove(posting)
            if not phrases[key2]:
                del phrases[key2]
                if not phrases:
                    slot.phrases = None
            self._phrase_postings -= 1
            self._excluded_phrase_postings -= posting[-1].excluded
            self._slots[key2].follows -= 1  # its words' `follows` may stay: they only cost a look
            self._drop_if_empty(key2)
        self._drop_if_empty(key)

    def _drop_if_empty(self, key: str) -> None:
        """Delete a slot that no longer holds anything (if it is still there)."""
        slot = self._slots.get(key)
        if slot is not None and not slot:
            del self._slots[key]

    def _count_prefix_length(self, length: int, delta: int) -> None:
        """Keep the sorted set of prefix lengths to probe in step with the prefix table."""
        self._prefix_lengths[length] += delta
        if self._prefix_lengths[length] <= 0:
            del self._prefix_lengths[length]
        self._lengths = tuple(sorted(self._prefix_lengths))

    def _word_hits(self, norm: str) -> _WordHits:
        """What one normalized text word hits in the index (memoized until postings change)."""
        older = self._memo.moved_back(norm)
        if older is not None:
            return older
        parts: list[_Part] = []
        seconds: list[tuple[dict[str, list[_PhrasePosting]], int, int]] = []
        follows: list[tuple[str, int, int]] = []
        slots_get, readings = self._slots.get, CANDIDATES[norm]
        for reading in readings:
            key, pbit, sbit = reading
            slot = slots_get(key)
            if slot is None:
                continue
            if slot.follows:
                follows.append(reading)
            tests = slot.tests
            if tests is None:
                tests = slot.prepare()
            hit = None
            for pmask, smask, part in tests:  # one to four
                if pmask & pbit and smask & sbit:
                    if hit is not None:
                        hit = slot.join(pbit, sbit)
                        break
                    hit = part
            if hit is not None:
                parts.append(hit)
            if slot.phrases:
                seconds.append((slot.phrases, pbit, sbit))
        if self._prefixes:
            self._add_prefix_parts(readings, parts)
        if seconds:
            hits = _WordHits(tuple(parts), _in_place_of(parts), tuple(seconds), {}, tuple(follows))
        elif parts or follows:
            hits = _WordHits(tuple(parts), _in_place_of(parts), (), None, tuple(follows))
        else:
            hits = _NO_HITS
        self._memo.remember(norm, hits)
        return hits

    def _add_prefix_parts(self, readings: _Readings, parts: list[_Part]) -> None:
        """Add what a text word (its readings) hits through the prefixes its cores start with."""
        shortest, heads = self._lengths[0], self._prefix_heads
        if heads is None:  # a prefix came or went
            heads = self._prefix_heads = self._heads(shortest)
        for core, pbit, sbit in readings:
            if sbit != S_NONE:  # a core's reading has no suffix
                continue
            for key, prefix in heads.get(core[:shortest], ()):
                if core.startswith(key):
                    part = prefix.readings.get(pbit) or prefix.read(pbit)
                    if part is not _NO_PART:
                        parts.append(part)

    def _heads(self, shortest: int) -> dict[str, tuple[tuple[str, _Prefix], ...]]:
        """The prefixes by their first `shortest` letters, shortest first."""
        heads: dict[str, list[tuple[str, _Prefix]]] = {}
        for key in sorted(self._prefixes, key=len):
            heads.setdefault(key[:shortest], []).append((key, self._prefixes[key]))
        return {head: tuple(prefixes) for head, prefixes in heads.items()}

    def _pair_hits(self, hits: _WordHits, following: str, then: _WordHits) -> _MaybeRun:
        """The run of a text word (its `hits`) and `following` (its `then`): the phrases it
        starts (memoized)."""
        after = hits.after
        if after is None:  # starts no phrase
            return False
        phrases: dict[_Term, None] = {}
        for by_second, pbit, sbit in hits.seconds:
            for key2, pbit2, sbit2 in then.follows:
                postings = by_second.get(key2)
                if postings is None:
                    continue
                for masks, term in postings:
                    pmask, smask, pmask2, smask2 = masks
                    if pmask & pbit and smask & sbit and pmask2 & pbit2 and smask2 & sbit2:
                        phrases[term] = None
        return _remember(after, following, _RunHits.of(list(phrases), 2) if phrases else False)

    def _forget_hits(self) -> None:
        """Drop every memoized word (and with them their pairs)."""
        self._memo.clear()

    def _forget_posting(self, kind: str, key: str) -> None:
        """Drop the memoized words a posting at `key` (a stem key, or a prefix) may change."""
        if kind == "prefix":
            self._forget_prefix(key)
        else:
            self._forget_keys(((key, 0, 0),))

    def _forget_keys(self, keys: tuple[tuple[str, int, int], ...]) -> None:
        """Drop the memoized words that read as one of these stem keys (and their pairs): only
        they can hit what is posted there, so one new keyword leaves the rest of the memo warm."""
        slots = self._slots
        for key, _, _ in keys:
            slot = slots.get(key)
            if slot is not None:
                slot.forget()
            self._memo.forget(key)

    def _forget_prefix(self, prefix: str) -> None:
        """Drop the memoized words with a core that starts with `prefix`, and what its proclitic
        bits hit."""
        found = self._prefixes.get(prefix)
        if found is not None:
            found.readings.clear()
        self._memo.forget_prefix(prefix)


class MatchIndex(_Postings):
    """All subscriptions' queries in one index, matched per distinct query (see `match_keys`)."""

    def __init__(self, hit_limit: int = _HIT_CACHE_LIMIT) -> None:
        super().__init__(hit_limit)
        self._entries: dict[str, _Entry] = {}
        self._keys: list[str] = []  # entry id → query key; "" while the id is free
        self._free_ids: list[int] = []
        self._sub_queries: dict[int, Query] = {}

    def __len__(self) -> int:
        return len(self._sub_queries)

    def prepare(self) -> None:
        """Make what each stem's buckets and each prefix hit, read with any clitics, now rather
        than when a text first reads them: after a load, the first articles then meet a ready
        index (0.4 s at a million subscriptions). What a change forgot is made again."""
        for slot in self._slots.values():
            if slot.tests is None:
                slot.prepare()
        for prefix in self._prefixes.values():
            if not prefix.readings:
                prefix.prepare()

    def __contains__(self, sub_id: object) -> bool:
        return sub_id in self._sub_queries

    @property
    def distinct_queries(self) -> int:
        """How many distinct query keys the index holds."""
        return len(self._entries)

    def entry_id(self, key: str) -> int | None:
        """The id of the distinct query with this key; None when no subscription follows it."""
        entry = self._entries.get(key)
        return None if entry is None else entry.id

    def key_of(self, entry_id: int) -> str:
        """The key of the distinct query with this id (an id `matched_ids` gave)."""
        return self._keys[entry_id]

    def query_of(self, sub_id: int) -> Query | None:
        """The query `sub_id` follows; None when it follows nothing."""
        return self._sub_queries.get(sub_id)

    def followers(self, entry_id: int) -> tuple[int, ...]:
        """Sorted ids of the subscriptions that follow the query with this entry id."""
        return self.subscribers(self._keys[entry_id])

    def subscribers(self, key: str) -> tuple[int, ...]:
        """Sorted ids of the subscriptions that follow the query with this key; () when none."""
        entry = self._entries.get(key)
        if entry is None:
            return ()
        if entry.followers is None:
            entry.followers = tuple(sorted(entry.subs))
        return entry.followers

    def add(self, sub_id: int, query: Query) -> None:
        """Follow `query` for `sub_id` (replacing what it followed before)."""
        if sub_id in self._sub_queries:
            self.remove(sub_id)
        entry = self._entries.get(query.key)
        if entry is None:
            entry = self._entries[query.key] = self._new_entry(query)
            self._post_entry(entry)
        entry.subs.add(sub_id)
        entry.followers = None
        self._sub_queries[sub_id] = query

    def remove(self, sub_id: int) -> bool:
        """Stop following for `sub_id`; False when it followed nothing."""
        query = self._sub_queries.pop(sub_id, None)
        if query is None:
            return False
        key = query.key
        entry = self._entries[key]
        entry.subs.discard(sub_id)
        entry.followers = None
        if entry.subs:
            return True
        del self._entries[key]
        self._keys[entry.id] = ""
        self._free_ids.append(entry.id)  # reused once the memos that hold it are forgotten (below)
        group = entry.group
        if group is not None:
            self._forget_keys(group.signature)
            group.entries.remove(entry)
            group.ids = tuple(e.id for e in group.entries)
            if not group.entries:
                self._unpost_group(group)
        for kind, stem_key, second_key, posting in entry.postings:
            self._unpost(kind, stem_key, second_key, posting)
        return True

    def _new_entry(self, query: Query) -> _Entry:
        """An entry for a new distinct query, with a free id (ids stay dense)."""
        if not self._free_ids:
            # ids made a block at a time: their int objects then lie side by side in memory, and
            # an article's union of ~1,000 matched ids reads fewer cache lines
            size = len(self._keys)
            self._keys += [""] * _ID_BLOCK
            self._free_ids = list(range(size + _ID_BLOCK - 1, size - 1, -1))
        entry = _Entry(query, self._free_ids.pop())
        self._keys[entry.id] = query.key
        return entry

    # --- matching --------------------------------------------------------------------------------

    def matched_ids(self, text: str) -> set[int]:
        """Ids of the distinct queries that match `text`, without spans: the routing decision."""
        scan = self._scan(text)
        if scan is None:
            return set()
        ids = set().union(*filter(None, map(_IDS, scan.parts)), *map(_IDS, scan.runs))
        ids.update(entry_id for entry_id, _ in scan.phrases)
        ids -= scan.excluded
        return ids

    def matched_keys(self, text: str) -> set[str]:
        """Keys of the distinct queries that match `text` (`matched_ids`, as keys)."""
        return set(map(self._keys.__getitem__, self.matched_ids(text)))

    def match_keys(self, text: str) -> dict[str, list[Span]]:
        """Query key → sorted spans (into `text`) of the words that make that query match.

        Queries that match the same words share one spans list: treat it as read-only.
        """
        keys = self._keys
        return {keys[i]: spans for i, spans in self._match_ids(text).items()}

    def match(self, text: str) -> dict[int, list[Span]]:
        """sub_id → sorted spans of its matching words: `match_keys` expanded to every subscriber.

        Costs one dict item per matching subscription; prefer `matched_ids` on large indexes.
        """
        keys, entries = self._keys, self._entries
        result: dict[int, list[Span]] = {}
        for entry_id, spans in self._match_ids(text).items():
            result.update(dict.fromkeys(entries[keys[entry_id]].subs, spans))
        return result

    def _match_ids(self, text: str) -> dict[int, list[Span]]:
        """Entry id → sorted spans of the words that make that query match (see `match_keys`)."""
        scan = self._scan(text)
        if scan is None:
            return {}
        word_spans = list(zip(scan.starts, scan.ends, strict=True))
        result: dict[int, list[Span]] = {}
        several: set[int] = set()  # ids hit by more than one word or phrase: merged at the end
        for hits, found_at in zip(scan.hits, scan.positions, strict=True):
            ids = _ids_in(hits.parts)
            if not ids:
                continue
            spans = [word_spans[i] for i in found_at]
            found = dict.fromkeys(ids, spans)
            clashes = result.keys() & found.keys() if result else None
            if clashes:
                several |= clashes
                for entry_id in clashes:
                    found[entry_id] = result[entry_id] + spans
            result.update(found)
        starts, ends = scan.starts, scan.ends
        phrases = [
            (entry_id, [(starts[i], ends[i + run.size - 1])])
            for i, run in zip(scan.run_starts, scan.runs, strict=True)
            for entry_id in run.ids
        ]
        for entry_id, spans in chain(phrases, scan.phrases):
            if entry_id in result:
                result[entry_id] = result[entry_id] + spans
                several.add(entry_id)
            else:
                result[entry_id] = spans
        for entry_id in several:
            result[entry_id] = _merged(list(set(result[entry_id])))
        for entry_id in scan.excluded:
            result.pop(entry_id, None)
        return result

    def _scan(self, text: str) -> _Scan | None:
        """Look each distinct word and each word pair of `text` up once; None for an empty index."""
        if not self._entries:
            return None
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
        memoized = list(map(self._memo.hits.get, positions))
        hits = (
            [
                found or self._word_hits(norm)
                for found, norm in zip(memoized, positions, strict=True)
            ]
            if None in memoized  # words not memoized yet
            else cast("list[_WordHits]", memoized)
        )
        parts = list(chain.from_iterable(map(_PARTS, hits)))
        excluded = set(chain.from_iterable(map(_EXCLUDES, parts)))
        scan = _Scan(
            starts, ends, list(positions), hits, list(positions.values()), parts, excluded=excluded
        )
        for found, found_at in compress(
            zip(hits, scan.positions, strict=True), map(_IN_PLACE, hits)
        ):
            for term in found.in_place:
                size = len(term.words) - 1
                for i in found_at:
                    if _words_follow(term.words, norms, gaps, i, 1):
                        scan.found(term, (starts[i], ends[i + size]))
        if self._phrase_postings:
            self._scan_runs(norms, gaps, scan)
        return scan

    def _scan_runs(self, norms: list[str], gaps: list[str], scan: _Scan) -> None:
        """Phrases found in the text, as runs of adjacent words looked up in memos word by word.

        Only words that start some phrase are looked up, each in its own memo of the words that
        followed it; a run that starts longer phrases goes on in its own memo of the next word.
        """
        following = norms[1:]
        following.append("")  # after the last word: starts nothing
        last = len(norms) - 1
        hits_of = dict(zip(scan.words, scan.hits, strict=True))
        run_starts, runs = scan.run_starts, scan.runs
        for hits, found_at in compress(
            zip(scan.hits, scan.positions, strict=True), map(_SECONDS, scan.hits)
        ):
            after = cast("dict[str, _MaybeRun]", hits.after)  # words with `seconds` have one
            for i in found_at:
                run = after.get(following[i])
                if run is None:
                    then = hits_of.get(following[i])
                    if then is None or not then.follows:  # it follows no phrase's first word
                        continue
                    run = self._pair_hits(hits, following[i], then)
                if not run or (gaps[i] != " " and not _joins(gaps, norms, i)):
                    continue
                run_starts.append(i)
                runs.append(run)
                end = i + 1
                while run.longer and end < last:
                    if gaps[end] != " " and not _joins(gaps, norms, end):
                        break
                    end += 1
                    run = run.extended(norms[end])
                    if not run:
                        break
                    run_starts.append(i)
                    runs.append(run)
        if self._excluded_phrase_postings:
            scan.excluded.update(*map(_EXCLUDES, runs))


@dataclass(slots=True, eq=False)
class _Scan:
    """One text looked up: what each distinct word hits, phrases found, queries excluded."""

    starts: list[int]
    ends: list[int]
    words: list[str]  # the distinct normalized words of the text
    hits: list[_WordHits]  # per distinct word, what it hits
    positions: list[list[int]]  # per distinct word, where it occurs
    parts: list[_Part]  # the parts of all `hits`
    run_starts: list[int] = field(default_factory=list)  # where each of `runs` starts
    runs: list[_RunHits] = field(default_factory=list)  # joined runs of words starting phrases
    phrases: list[tuple[int, list[Span]]] = field(default_factory=list)  # others: (id, [span])
    excluded: set[int] = field(default_factory=set)  # entry ids with an excluded term present

    def found(self, term: _Term, span: Span) -> None:
        """Record a phrase (or in-place term) found at `span`."""
        if term.excluded:
            self.excluded.add(term.entry)
        else:
            self.phrases.append((term.entry, [span]))


def _remember(memo: dict[_K, _V], key: _K, value: _V, limit: int = _SEEN_CACHE_LIMIT) -> _V:
    """Store `value` in a memo, clearing the memo whole first when it is full; return `value`."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
    return value


def _shared_masks(*masks: int) -> tuple[int, ...]:
    """One tuple for each distinct set of masks, shared by every posting that has it (a few
    hundred among 1.4 million phrase postings at a million subscriptions): compiled code makes a
    new int object each time it stores an int, 110 MB of copies when each posting held its own."""
    return _MASK_SETS.setdefault(masks, masks)


def _ids_of(groups: list[_Group]) -> tuple[int, ...]:
    """The entry ids of some groups (each entry belongs to one group only)."""
    if len(groups) == 1:
        return groups[0].ids
    return tuple(chain.from_iterable(group.ids for group in groups))


def _part_of(ids: tuple[int, ...], terms: list[_Term]) -> _Part:
    """A part: the ids of its groups, and its terms filed (single words match or exclude, longer
    ones are checked in place)."""
    if not terms:
        return _Part(ids)  # shared with its group when it is one
    matched = dict.fromkeys(ids)  # an alternative's two terms may both be hit
    excludes: dict[int, None] = {}
    in_place: dict[_Term, None] = {}
    for term in terms:
        if len(term.words) > 1:
            in_place[term] = None
        elif term.excluded:
            excludes[term.entry] = None
        else:
            matched[term.entry] = None
    return _Part(tuple(matched), tuple(excludes), tuple(in_place))


def _in_place_of(parts: list[_Part]) -> tuple[_Term, ...]:
    """The phrases some parts check in place, together."""
    if len(parts) == 1:
        return parts[0].in_place
    return tuple(chain.from_iterable(map(_IN_PLACE, parts)))


def _joined(parts: list[_Part]) -> _Part:
    """One part that hits what several parts hit."""
    return _Part(
        tuple(dict.fromkeys(chain.from_iterable(map(_IDS, parts)))),
        tuple(dict.fromkeys(chain.from_iterable(map(_EXCLUDES, parts)))),
        tuple(dict.fromkeys(chain.from_iterable(map(_IN_PLACE, parts)))),
    )


def _ids_in(parts: tuple[_Part, ...]) -> tuple[int, ...]:
    """The ids some parts make match (each once)."""
    if len(parts) == 1:
        return parts[0].ids
    return tuple(dict.fromkeys(chain.from_iterable(map(_IDS, parts))))


def find_matches(query: Query, text: str) -> list[Span]:
    """Spans of the words that make `query` match `text`; [] when it does not match."""
    return matcher_for(query)(text)


def matcher_for(query: Query) -> Callable[[str], list[Span]]:
    """find_matches for one query with its index built once, for matching many texts with it
    (one thread at a time: the index memoizes as it reads)."""
    index = MatchIndex()
    index.add(0, query)
    key = query.key
    return lambda text: index.match_keys(text).get(key, [])
