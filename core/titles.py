"""Site names on titles: the prefix or suffix a feed puts on most of its titles, learned from the
feed's own items each time it is parsed, and removed (" | الحرة", " - هسبريس", "هسبريس: ").

What counts: a part cut off by a separator that stands on at least half of the feed's titles (and
on three or more), or that is the feed's own name. A part that carries the news differs from title
to title, so it never reaches half; "عاجل: " could, so a colon only cuts the feed's own name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from core.arabic import normalize

_SEPARATORS = (" | ", " || ", " - ", " – ", " — ", " :: ", " » ", " « ")
_NAME_ONLY_SEPARATORS = (": ", " : ")  # "عاجل: " is on many titles and is news
_MAX_AFFIX_WORDS = 6
_MIN_TITLES = 3


class Affixes(NamedTuple):
    """A feed's title prefix and suffix, separators included ("" when none)."""

    prefix: str = ""
    suffix: str = ""


NO_AFFIXES = Affixes()


def _candidates(title: str) -> tuple[dict[str, bool], dict[str, bool]]:
    """The prefixes and suffixes a title could be carrying, each with its separator, and
    whether that separator may cut only the feed's own name (a colon)."""
    prefixes: dict[str, bool] = {}
    suffixes: dict[str, bool] = {}
    for separator in (*_SEPARATORS, *_NAME_ONLY_SEPARATORS):
        name_only = separator in _NAME_ONLY_SEPARATORS
        first, last = title.find(separator), title.rfind(separator)
        if first > 0 and len(title[:first].split()) <= _MAX_AFFIX_WORDS:
            prefixes.setdefault(title[: first + len(separator)], name_only)
        tail = title[last + len(separator) :]
        if last > 0 and tail.strip() and len(tail.split()) <= _MAX_AFFIX_WORDS:
            suffixes.setdefault(title[last:], name_only)
    return prefixes, suffixes


def _is_name(affix: str, site_name: str) -> bool:
    """True when an affix, without its separator, is the feed's name (or the name contains it:
    "هسبريس" in "Hespress - هسبريس جريدة إلكترونية مغربية")."""
    core = normalize(affix.strip(" |-–—:»«"))
    name = normalize(site_name)
    return bool(core) and bool(name) and (core == name or f" {core} " in f" {name} ")


def _choose(counts: Counter[str], name_only: dict[str, bool], titles: int, site: str) -> str:
    """The affix to remove: the most common one on half the titles or more (not after a colon),
    or one that is the feed's name."""
    for affix, count in counts.most_common():
        on_most = count * 2 >= titles and count >= _MIN_TITLES and not name_only[affix]
        if on_most or _is_name(affix, site):
            return affix
    return ""


def learn_affixes(titles: Sequence[str], site_name: str = "") -> Affixes:
    """The prefix and suffix this feed puts on its titles ("" when it has none)."""
    prefixes: Counter[str] = Counter()
    suffixes: Counter[str] = Counter()
    colon: dict[str, bool] = {}
    for title in titles:
        found_prefixes, found_suffixes = _candidates(" ".join(title.split()))
        prefixes.update(found_prefixes.keys())
        suffixes.update(found_suffixes.keys())
        colon.update(found_prefixes)
        colon.update(found_suffixes)
    count = len(titles)
    return Affixes(
        _choose(prefixes, colon, count, site_name), _choose(suffixes, colon, count, site_name)
    )


def strip_affixes(title: str, affixes: Affixes) -> str:
    """The title without the feed's prefix and suffix; the title itself when nothing would be left."""
    clean = " ".join(title.split())
    prefix, suffix = affixes
    if prefix and clean.startswith(prefix) and clean[len(prefix) :].strip():
        clean = clean[len(prefix) :]
    if suffix and clean.endswith(suffix) and clean[: -len(suffix)].strip():
        clean = clean[: -len(suffix)]
    return clean.strip()
