"""Identity and near-duplicate fingerprints for articles; pure functions, stable across runs."""

from __future__ import annotations

import contextlib
import functools
import re
from hashlib import blake2b
from itertools import chain
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from core.models import FeedItem

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "traffic_source",
        "ref",
        "ref_src",
        "ref_url",
        "ocid",
        "cmpid",
        "xtor",
        "smid",
        "mkt_tok",
        "_ga",
        "_gl",
        "__twitter_impression",
        "s_cid",
        "wt_mc",
        "spm",
    }
)
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_", "oly_")
DEFAULT_PORTS = {"http": 80, "https": 443}
SIMHASH_BITS = 64
SHINGLE_WORDS = 3
# Measured on the real Arabic feeds (tests/test_dedup.py): edits of a word or two plus different
# boilerplate stay within 3 bits on article-length text; different stories are 15+ bits apart.
SAME_STORY_DISTANCE = 10

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_SAFE_IN_URL = "!$&'()*+,;=:@/?[]%"  # reserved characters and existing escapes stay as they are
ALL_BITS = (1 << SIMHASH_BITS) - 1


def _normalize_escapes(part: str) -> str:
    """Uppercase %xx, decode escaped unreserved characters, escape raw non-ASCII as UTF-8."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return quote(_PERCENT.sub(fix, part), safe=_SAFE_IN_URL)


def _is_tracking(name: str) -> bool:
    key = unquote_plus(name).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """One spelling per address: lowercase scheme/host, no default port, fragment or trackers."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    path = _normalize_escapes(parts.path) or ("/" if netloc else "")
    pairs = [p for p in parts.query.split("&") if p and not _is_tracking(p.partition("=")[0])]
    query = "&".join(sorted(_normalize_escapes(p) for p in pairs))
    return urlunsplit((scheme, netloc, path, query, ""))


def _short_hash(text: str) -> str:
    return blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def item_key(item: FeedItem) -> str:
    """Stable identity of an item within a feed: guid, else canonical link, else title+date."""
    guid = (item.guid or "").strip()
    if guid:
        return _short_hash("guid\x1f" + guid)
    if item.link and item.link.strip():
        return _short_hash("link\x1f" + canonical_url(item.link))
    published = item.published.isoformat() if item.published else ""
    return _short_hash("title\x1f" + " ".join(item.title.split()) + "\x1f" + published)


def content_hash(title: str, text: str) -> str:
    """Changes when the title or text changes (whitespace aside): an edit under the same guid."""
    return _short_hash(" ".join(title.split()) + "\x1f" + " ".join(text.split()))


def _shingle_hash(shingle: str) -> bytes:
    return blake2b(shingle.encode("utf-8"), digest_size=8).digest()


def simhash(normalized_text: str) -> int:
    """64-bit SimHash over word 3-shingles (each distinct shingle counted once); 0 for no words."""
    words = normalized_text.split()
    if not words:
        return 0
    width = min(SHINGLE_WORDS, len(words))
    shingles = {" ".join(words[i : i + width]) for i in range(len(words) - width + 1)}
    # Per-bit counts of set bits, kept bit-sliced: planes[k] holds bit k of all 64 counters,
    # so adding a hash is a ripple-carry over a few planes instead of 64 separate steps.
    planes: list[int] = []
    for shingle in shingles:
        carry = int.from_bytes(_shingle_hash(shingle), "little")
        for level, plane in enumerate(planes):
            if not carry:
                break
            planes[level], carry = plane ^ carry, plane & carry
        if carry:
            planes.append(carry)
    return _counts_above(planes, len(shingles) // 2)


def _counts_above(planes: list[int], threshold: int) -> int:
    """Mask of the bit positions whose bit-sliced count exceeds threshold (MSB-first compare)."""
    if threshold >> len(planes):
        return 0
    greater, equal = 0, ALL_BITS
    for level in range(len(planes) - 1, -1, -1):
        plane = planes[level]
        if threshold >> level & 1:
            equal &= plane
        else:
            greater |= equal & plane
            equal &= ~plane
    return greater


def hamming(a: int, b: int) -> int:
    """Number of differing bits."""
    return (a ^ b).bit_count()


def same_story(a: int, b: int, max_distance: int = SAME_STORY_DISTANCE) -> bool:
    """True when two simhashes are near-duplicates."""
    return hamming(a, b) <= max_distance


class RecentStories:
    """Recent (story, fingerprint) pairs, found again by SimHash distance in tens of microseconds.

    Multi-index hashing: the 64 bits are cut into blocks; two fingerprints within `distance`
    bits agree within distance // blocks bits on at least one block (pigeonhole), so a lookup
    probes each block's table with every value that close to its own block, then checks the
    few candidates exactly. Tables are flat lists indexed by the block's value and hold the
    fingerprints themselves: a probe is one list index and no hashing, and the ~550 probes
    and their candidates are all walked by map/filter rather than by the interpreter loop.
    """

    BLOCKS = 4

    def __init__(self, pairs: list[tuple[int, int]], distance: int = SAME_STORY_DISTANCE) -> None:
        self.distance = distance
        self._width = SIMHASH_BITS // self.BLOCKS
        self._block_mask = (1 << self._width) - 1
        self._probes = _masks_within(self._width, distance // self.BLOCKS)
        size = 1 << self._width
        self._tables: list[list[list[int] | None]] = [[None] * size for _ in range(self.BLOCKS)]
        self._story: dict[int, int] = {}  # fingerprint -> its oldest story
        for story_id, fingerprint in pairs:
            self.add(story_id, fingerprint)

    def __len__(self) -> int:
        return len(self._story)  # distinct fingerprints

    def add(self, story_id: int, fingerprint: int) -> None:
        """Remember one article's fingerprint under its story."""
        known = self._story.get(fingerprint)
        if known is not None:
            self._story[fingerprint] = min(known, story_id)
            return  # already in the tables
        self._story[fingerprint] = story_id
        for block, table in enumerate(self._tables):
            key = fingerprint >> (block * self._width) & self._block_mask
            bucket = table[key]
            if bucket is None:
                table[key] = [fingerprint]
            else:
                bucket.append(fingerprint)

    def find(self, fingerprint: int) -> int | None:
        """The story of the nearest remembered fingerprint within `distance` (oldest on ties)."""
        exact = self._story.get(fingerprint)
        if exact is not None:
            return exact
        buckets: list[list[int]] = []
        for block, table in enumerate(self._tables):
            key = fingerprint >> (block * self._width) & self._block_mask
            buckets += filter(None, map(table.__getitem__, map(key.__xor__, self._probes)))
        candidates = list(chain.from_iterable(buckets))
        if not candidates:
            return None
        bits = list(map(int.bit_count, map(fingerprint.__xor__, candidates)))
        nearest = min(bits)
        if nearest > self.distance:
            return None
        story = self._story
        return min(story[fp] for fp, b in zip(candidates, bits, strict=True) if b == nearest)


@functools.cache
def _masks_within(width: int, radius: int) -> tuple[int, ...]:
    """Every `width`-bit value with at most `radius` bits set (XOR masks to probe with)."""
    return tuple(mask for mask in range(1 << width) if mask.bit_count() <= radius)
