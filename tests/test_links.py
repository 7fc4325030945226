"""Which link an alert shows, on real feeds; codes; and what may ever be a redirect target."""

from __future__ import annotations

import itertools

import feedparser
import pytest

from core.dedup import canonical_url
from core.links import (
    CODE_LENGTH,
    RESERVED_CODES,
    choose_link,
    day_of,
    is_code,
    new_code,
    redirect_target,
    short_url,
    shortlink_shape_ok,
    usable_shortlinks,
)
from feeds.parse import parse_feed
from tests.data import feed_cases, feed_file, needs_shared


def items_of(relative: str) -> list[tuple[str | None, str]]:
    parsed = parse_feed(feed_file(relative).read_bytes(), {}, "https://feed.example/")
    assert parsed.error is None
    return [(item.shortlink, item.link or "") for item in parsed.items]


@needs_shared
def test_planet_feed_with_real_wordpress_shortlinks_uses_them():
    # Planet FOSS-IL: each item's guid is its own blog's ?p=ID, one post each.
    pairs = items_of("hamakor-hebrew/hamakor.xml")
    with_short = [(short, url) for short, url in pairs if short]
    assert len(with_short) == 7
    usable = usable_shortlinks(pairs)
    assert usable == {short for short, _ in with_short}
    for short, url in with_short:
        chosen = choose_link(url, short, per_article=short in usable)
        assert chosen == canonical_url(short)
        assert "?p=" in chosen
        assert len(chosen) < len(canonical_url(url))


@needs_shared
@pytest.mark.parametrize(
    "relative",
    [
        "aljazeera-english/aljazeera_com_all_2026-08-13.xml",
        "aljazeera-english/aljazeera_com_all_2026-08-13_earlier.xml",
    ],
)
def test_feed_with_one_post_id_on_every_item_gets_canonical_links(relative):
    raw = feedparser.parse(feed_file(relative).read_bytes())
    entries = raw.entries
    post_ids = {entry["post-id"] for entry in entries}
    assert len(entries) == 25
    assert len(post_ids) == 1  # the feed's oddity: the same WordPress post id on every item
    # Every short link the feed could be read as giving: the ?t=<timestamp> guid, and the
    # WordPress ?p=<post-id> form of its one post id.
    as_guid = [(entry.id, entry.link) for entry in entries]
    as_post_id = [
        (f"https://www.aljazeera.com/?p={entry['post-id']}", entry.link) for entry in entries
    ]
    assert all("?t=" in guid for guid, _ in as_guid)
    assert usable_shortlinks(as_guid) == set()
    assert usable_shortlinks(as_post_id) == set()
    for guid, link in as_guid:
        chosen = choose_link(link, guid, per_article=False)
        assert chosen == canonical_url(link)
        assert "traffic_source" not in chosen
        assert chosen.startswith("https://www.aljazeera.com/")
    # Even a lone ?t= guid is no post link: the shape alone refuses it.
    guid, link = as_guid[0]
    assert usable_shortlinks([(guid, link)]) == set()
    assert choose_link(link, guid, per_article=True) == canonical_url(link)


@pytest.mark.parametrize(
    "relative",
    feed_cases(
        [
            "bbc-urdu/bbc_urdu_rss_2018.xml",
            "bbc-urdu/bbc_urdu_atom_2014.xml",
            "al-jazeera_transcribed.xml",
            "asharq-al-awsat.xml",
            "hespress_transcribed.xml",
            "sky-news-arabia.xml",
        ]
    ),
)
def test_feeds_without_shortlinks_get_canonical_urls_without_trackers(relative):
    pairs = items_of(relative)
    assert pairs
    assert usable_shortlinks(pairs) == set()
    for short, url in pairs:
        assert short is None
        chosen = choose_link(url, short, per_article=True)
        assert chosen == canonical_url(url)
        assert "traffic_source" not in chosen
        assert "utm_" not in chosen


def test_aljazeera_net_tracking_parameter_is_removed():
    pairs = items_of("al-jazeera_transcribed.xml")
    assert all("traffic_source=rss" in url for _, url in pairs)
    assert all("?" not in choose_link(url, None, per_article=False) for _, url in pairs)


@pytest.mark.parametrize(
    ("short", "url", "ok"),
    [
        ("https://example.org/?p=42", "https://example.org/2026/11/a-long-slug/", True),
        ("https://example.org/?page_id=42", "https://www.example.org/2026/a-long-slug/", True),
        ("https://example.org/?p=42&utm_source=x", "https://example.org/2026/long-slug/", True),
        ("https://wp.me/p1a2b3-4c", "https://example.org/2026/11/a-long-slug/", False),
        ("https://example.org/?t=1786608524", "https://example.org/2026/11/a-long-slug/", False),
        ("https://example.org/?p=42&t=1", "https://example.org/2026/11/a-long-slug/", False),
        ("https://example.org/?p=abc", "https://example.org/2026/11/a-long-slug/", False),
        ("https://example.org/", "https://example.org/2026/11/a-long-slug/", False),
        ("javascript:alert(1)", "https://example.org/2026/11/a-long-slug/", False),
        ("https://example.org/a-longer-path-than-it/?p=1", "https://example.org/x/", False),
        ("https://user@example.org/?p=1", "https://example.org/2026/11/a-long-slug/", False),
    ],
)
def test_shortlink_shape(short, url, ok):
    assert shortlink_shape_ok(short, url) is ok


def test_shortlink_on_two_items_is_nobodys():
    pairs = [
        ("https://example.org/?p=7", "https://example.org/2026/one-story/"),
        ("https://example.org/?p=7", "https://example.org/2026/another-story/"),
        ("https://example.org/?p=8", "https://example.org/2026/third-story/"),
        # The same item twice (same link) still names one article.
        ("https://example.org/?p=9", "https://example.org/2026/fourth-story/?utm_source=rss"),
        ("https://example.org/?p=9", "https://example.org/2026/fourth-story/"),
    ]
    assert usable_shortlinks(pairs) == {"https://example.org/?p=8", "https://example.org/?p=9"}


def test_choose_link_without_any_link_is_empty():
    assert choose_link("", "https://example.org/?p=1", per_article=True) == ""


def test_codes_are_random_base62_of_fixed_length():
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == CODE_LENGTH and is_code(code) for code in codes)
    assert not RESERVED_CODES & codes
    assert not is_code("abc")
    assert not is_code("abc12345")
    assert not is_code("abc-123")
    assert not is_code("abc١٢٣٤")  # Arabic-Indic digits are not base62


def test_new_code_never_returns_a_route_name():
    letters = itertools.chain("healthz", "metrics", "Abc1234")
    assert new_code(lambda alphabet: next(letters)) == "Abc1234"


def test_short_url_and_day():
    assert short_url("https://r.example.org/", "Abc1234") == "https://r.example.org/Abc1234"
    assert short_url("https://r.example.org/go", "Abc1234") == "https://r.example.org/go/Abc1234"
    assert day_of(0) == "1970-01-01"
    assert day_of(1_795_000_000) == "2026-11-18"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.org/file",
        "//evil.example/",
        "https://",
        "https:evil.example",
        "https://example.org/a b",
        "https://example.org/\r\nSet-Cookie: x=1",
        "https://example.org/\x00",
        "https://user:pass@evil.example/",
        "",
    ],
)
def test_never_a_redirect_target(url):
    assert redirect_target(url) is None


def test_redirect_target_escapes_to_ascii():
    assert redirect_target("https://example.org/a?b=1#c") == "https://example.org/a?b=1#c"
    assert redirect_target("https://example.org/خبر") == "https://example.org/%D8%AE%D8%A8%D8%B1"
    assert redirect_target("https://example.org/a\\b") == "https://example.org/a%5Cb"
    assert redirect_target("https://example.org/%D8%AE") == "https://example.org/%D8%AE"
