"""Canonical URLs, item keys, content hashes and SimHash near-duplicates, on real Arabic text."""

from __future__ import annotations

import itertools
import random
import re
import subprocess
import sys
from datetime import UTC, datetime
from hashlib import blake2b
from pathlib import Path

import pytest

from core.dedup import (
    SAME_STORY_DISTANCE,
    canonical_url,
    content_hash,
    hamming,
    item_key,
    same_story,
    simhash,
)
from core.models import FeedItem
from feeds.parse import parse_feed
from tests.data import ARABIC_FEEDS, easc_articles, feed_cases, feed_file, needs_shared

ROOT = Path(__file__).resolve().parents[1]
URDU = ["bbc-urdu/bbc_urdu_atom_2014.xml", "bbc-urdu/bbc_urdu_rss_2018.xml"]  # in ../shared
HESPRESS = feed_file("hespress_transcribed.xml")


def feed_files() -> list[Path]:
    """The six Arabic feeds and BBC Urdu's two (these need ../shared)."""
    return [*ARABIC_FEEDS, *map(feed_file, URDU)]


def normalize(text: str) -> str:
    """A stand-in for the real normalizer: tags out, harakat out, alef/yeh/teh marbuta folded."""
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub("[\u064b-\u0652\u0640\u0670]", "", text)
    text = re.sub("[أإآٱ]", "ا", text).replace("ى", "ي").replace("ة", "ه")
    return " ".join(re.findall(r"\w+", text.lower()))


def feed_items(path: Path) -> list[FeedItem]:
    return parse_feed(path.read_bytes()).items


def change_words(text: str, count: int, rng: random.Random) -> str:
    words = text.split()
    for index in rng.sample(range(len(words)), count):
        words[index] = "تعديل"
    return " ".join(words)


# --- canonical_url -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTPS://WWW.AlJazeera.NET:443/news/2026/2/15/%d8%af%d9%84?traffic_source=rss#top",
            "https://www.aljazeera.net/news/2026/2/15/%D8%AF%D9%84",
        ),
        (
            "http://Example.com:80/a?b=2&utm_source=rss&utm_medium=feed&a=1&fbclid=XYZ",
            "http://example.com/a?a=1&b=2",
        ),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com./news/", "https://example.com/news/"),
        ("https://site.test/أخبار/خبر", "https://site.test/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/%D8%AE%D8%A8%D8%B1"),
        ("https://site.test/%d8%a7%d9", "https://site.test/%D8%A7%D9"),  # slug cut mid-character
        ("https://site.test/%7Euser/%41", "https://site.test/~user/A"),
        ("https://site.test/s?q=a%26b&ref=home&gclid=1&mc_cid=2&at_medium=rss&ocid=3", "https://site.test/s?q=a%26b"),
        ("https://site.test/?p=11817", "https://site.test/?p=11817"),
        ("https://site.test/a b", "https://site.test/a%20b"),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
    ],
)  # fmt: skip
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


@pytest.mark.parametrize("junk", ["not a url", "http://[bad", "", "https://site.test:99999/"])
def test_canonical_url_never_raises(junk):
    assert isinstance(canonical_url(junk), str)


@needs_shared
def test_canonical_urls_of_real_links_are_stable_and_drop_trackers():
    links = [i.link for path in feed_files() for i in feed_items(path) if i.link]
    assert len(links) > 100
    for link in links:
        canonical = canonical_url(link)
        assert canonical_url(canonical) == canonical
        assert "traffic_source" not in canonical
        assert "#" not in canonical
        upper_hex = re.sub("%[0-9a-f]{2}", lambda m: m.group().upper(), link)
        assert canonical_url(upper_hex) == canonical  # Hespress and Al Jazeera use lowercase hex


# --- item_key and content_hash -------------------------------------------------------------------


def test_item_key_prefers_guid_then_canonical_link_then_title_and_date():
    when = datetime(2026, 3, 24, 8, tzinfo=UTC)
    guid_a = FeedItem(
        guid="https://example.com/?p=1001", link="https://example.com/a", title="x", html=""
    )
    guid_b = FeedItem(
        guid="https://example.com/?p=1001", link="https://example.com/b", title="y", html=""
    )
    tracked = FeedItem(guid=None, link="https://Example.com/a?utm_source=rss#c", title="x", html="")
    clean = FeedItem(guid=None, link="https://example.com/a", title="other", html="")
    titled = FeedItem(guid=" ", link=None, title="عاجل  خبر", html="", published=when)
    retitled = FeedItem(guid=None, link=None, title="عاجل خبر", html="", published=when)
    later = FeedItem(
        guid=None, link=None, title="عاجل خبر", html="", published=datetime(2026, 3, 25, tzinfo=UTC)
    )
    assert item_key(guid_a) == item_key(guid_b)
    assert item_key(tracked) == item_key(clean)
    assert item_key(titled) == item_key(retitled) != item_key(later)
    assert item_key(guid_a) != item_key(clean)
    # a guid that happens to equal a link is not the same identity as that link
    assert item_key(
        FeedItem(guid="https://example.com/a", link=None, title="", html="")
    ) != item_key(clean)
    assert re.fullmatch("[0-9a-f]{32}", item_key(guid_a))
    assert item_key(FeedItem(guid="https://example.com/?p=1001", link=None, title="", html="")) == (
        "5f03562dafe0abd134f838bb795ab622"  # stable across runs and machines
    )  # fmt: skip


@pytest.mark.parametrize("name", feed_cases([*(path.name for path in ARABIC_FEEDS), *URDU]))
def test_item_keys_of_real_feeds_are_unique_per_feed(name):
    items = feed_items(feed_file(name))
    assert len({item_key(i) for i in items}) == len(items)


def test_content_hash_sees_edits_but_not_whitespace():
    assert content_hash("عاجل", "التفاصيل بعد قليل") == "34ff1b59ba12d12ecc7f747543ff03ab"
    assert content_hash(" عاجل ", "التفاصيل  بعد\nقليل") == content_hash(
        "عاجل", "التفاصيل بعد قليل"
    )
    assert content_hash("عاجل", "التفاصيل بعد قليل") != content_hash("عاجل", "قتلى في غارة")
    assert content_hash("عاجل", "نص") != content_hash("عاجل نص", "")


# --- simhash -------------------------------------------------------------------------------------


def reference_simhash(text: str) -> int:
    """The textbook per-bit vote, to check the bit-sliced implementation against."""
    words = text.split()
    if not words:
        return 0
    width = min(3, len(words))
    shingles = {" ".join(words[i : i + width]) for i in range(len(words) - width + 1)}
    votes = [0] * 64
    for shingle in shingles:
        value = int.from_bytes(blake2b(shingle.encode(), digest_size=8).digest(), "little")
        for bit in range(64):
            votes[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if votes[bit] > 0)


def test_simhash_matches_the_textbook_definition():
    texts = [
        normalize(i.title + " " + i.html) for path in ARABIC_FEEDS[:3] for i in feed_items(path)
    ]
    texts += ["", "كلمة", "كلمتان فقط", "ثلاث كلمات هنا", "و و و و"]
    assert all(simhash(t) == reference_simhash(t) for t in texts)
    assert simhash("") == 0


def test_simhash_is_stable_across_processes():
    text = "اعلنت الحكومه المغربيه اليوم خطه جديده لدعم الفلاحين"
    assert simhash(text) == 0xCB6081091F346450
    code = f"from core.dedup import simhash; print(simhash({text!r}))"
    env = {"PYTHONHASHSEED": "12345", "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) == 0xCB6081091F346450


def test_hamming_and_same_story():
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(2**64 - 1, 0) == 64
    assert same_story(0, 0b1111111111)
    assert not same_story(0, 0b11111111111)
    assert same_story(0, 0b111, max_distance=3)
    assert not same_story(0, 0b1111, max_distance=3)


def test_one_word_changed_in_real_hespress_items_is_the_same_story():
    rng = random.Random(7)
    items = feed_items(HESPRESS)
    texts = [normalize(i.title + " " + i.html) for i in items]
    for text in texts:
        assert same_story(simhash(text), simhash(change_words(text, 1, rng))), text[:40]


@needs_shared
def test_different_real_feed_items_are_never_the_same_story():
    texts = {normalize(i.title + " " + i.html) for path in feed_files() for i in feed_items(path)}
    hashes = [simhash(t) for t in texts if len(t.split()) >= 8]
    assert len(hashes) > 120
    distances = [hamming(a, b) for a, b in itertools.combinations(hashes, 2)]
    assert min(distances) > SAME_STORY_DISTANCE + 3  # measured: 15
    assert not any(same_story(a, b) for a, b in itertools.combinations(hashes, 2))


@needs_shared
def test_article_length_near_duplicates_with_other_boilerplate_are_the_same_story():
    """EASC news articles (115-1,400 words): a word or two changed, another site's footer added."""
    rng = random.Random(3)
    footers = [
        "the post appeared first on hespress هسبريس جريده الكترونيه مغربيه",
        "تابعونا علي تويتر وفيسبوك للمزيد من الاخبار",
        "اقرا ايضا علي موقعنا",
    ]
    articles = [normalize(p.read_text(encoding="utf-8-sig")) for p in sorted(easc_articles())]
    assert len(articles) == 77
    hashes = [simhash(article) for article in articles]
    near = 0
    for article, fingerprint in zip(articles, hashes, strict=True):
        edited = change_words(article, rng.choice([1, 2]), rng) + " " + rng.choice(footers)
        near += same_story(fingerprint, simhash(edited))
    assert near >= 0.95 * len(articles)  # measured: 76-77 of 77 depending on the edits
    different = [hamming(a, b) for a, b in itertools.combinations(hashes, 2)]
    assert min(different) > SAME_STORY_DISTANCE  # measured: 19
