"""Short-link codes, clicks and the alert's link, stored in a real SQLite file."""

from __future__ import annotations

import dataclasses

import feedparser
import pytest

from core.articles import prepare_article
from core.dedup import canonical_url
from core.links import is_code
from feeds.parse import parse_feed
from storage import articles as article_store
from storage import shortlinks
from tests.data import feed_file, needs_shared
from tests.support import NOW, add_article, add_feed

BASE = "https://r.example.org/"


def test_code_is_minted_once_per_article(db):
    feed = add_feed(db)
    first, second = add_article(db, feed, 1), add_article(db, feed, 2)
    code = shortlinks.code_for_article(db, first, now=NOW)
    assert is_code(code)
    assert shortlinks.code_for_article(db, first, now=NOW + 60) == code
    other = shortlinks.code_for_article(db, second, now=NOW)
    assert other != code
    assert shortlinks.resolve(db, code) == (first, "https://news.example.org/2026/11/story-1/")
    assert shortlinks.resolve(db, other)[0] == second
    assert shortlinks.resolve(db, "Zzzzzzz") is None


def test_colliding_code_is_retried(db):
    feed = add_feed(db)
    first, second = add_article(db, feed, 1), add_article(db, feed, 2)
    codes = iter(["Aaaaaaa", "Aaaaaaa", "Aaaaaaa", "Bbbbbbb"])
    assert (
        shortlinks.code_for_article(db, first, now=NOW, new_code=lambda: next(codes)) == "Aaaaaaa"
    )
    assert (
        shortlinks.code_for_article(db, second, now=NOW, new_code=lambda: next(codes)) == "Bbbbbbb"
    )
    assert shortlinks.resolve(db, "Aaaaaaa")[0] == first
    assert shortlinks.resolve(db, "Bbbbbbb")[0] == second


def test_a_generator_that_always_collides_is_an_error_not_a_loop(db):
    feed = add_feed(db)
    first, second = add_article(db, feed, 1), add_article(db, feed, 2)
    shortlinks.code_for_article(db, first, now=NOW, new_code=lambda: "Aaaaaaa")
    with pytest.raises(shortlinks.CodeSpaceExhausted):
        shortlinks.code_for_article(db, second, now=NOW, new_code=lambda: "Aaaaaaa", attempts=3)
    assert db.execute("SELECT count(*) FROM shortlinks").fetchone()[0] == 1


def test_codes_are_case_sensitive(db):
    feed = add_feed(db)
    first, second = add_article(db, feed, 1), add_article(db, feed, 2)
    shortlinks.code_for_article(db, first, now=NOW, new_code=lambda: "AbCdEfG")
    shortlinks.code_for_article(db, second, now=NOW, new_code=lambda: "abcdefg")
    assert shortlinks.resolve(db, "AbCdEfG")[0] == first
    assert shortlinks.resolve(db, "abcdefg")[0] == second


def test_clicks_per_article_and_day_and_the_top_list(db):
    feed = add_feed(db)
    ids = [add_article(db, feed, n) for n in range(1, 5)]
    for article_id, day, times in [
        (ids[0], "2026-11-16", 5),  # before the window
        (ids[1], "2026-11-17", 2),
        (ids[1], "2026-11-18", 2),
        (ids[2], "2026-11-18", 3),
        (ids[3], "2026-11-18", 1),
    ]:
        for _ in range(times):
            shortlinks.record_click(db, article_id, day)
    top = shortlinks.top_clicked(db, "2026-11-17", 2)
    assert top == [
        ("خبر رقم 2", "https://news.example.org/2026/11/story-2/", 4),
        ("خبر رقم 3", "https://news.example.org/2026/11/story-3/", 3),
    ]
    assert len(shortlinks.top_clicked(db, "2026-11-01", 10)) == 4
    assert shortlinks.top_clicked(db, "2026-11-19", 10) == []
    assert shortlinks.clicks_per_day(db, "2026-11-17") == [("2026-11-17", 2), ("2026-11-18", 6)]
    rows = db.execute("SELECT count(*) FROM clicks").fetchone()[0]
    assert rows == 5  # one row per article and day, however many clicks


def store_feed_items(db, feed_id: int, items) -> list[int]:
    ids = []
    for number, item in enumerate(items):
        article = prepare_article(item)
        stored, article_id = article_store.store_article(db, feed_id, article, NOW + number)
        assert stored is article_store.Stored.NEW
        article_store.set_story(db, article_id, article_id)
        ids.append(article_id)
    return ids


@needs_shared
def test_alert_link_on_a_real_planet_feed_uses_the_publishers_shortlinks(db):
    parsed = parse_feed(feed_file("hamakor-hebrew/hamakor.xml").read_bytes(), {}, "https://x/")
    feed = add_feed(db, "https://planet.hamakor.example/atom.xml")
    ids = store_feed_items(db, feed, parsed.items)
    chosen = []
    for article_id, item in zip(ids, parsed.items, strict=True):
        article = article_store.get_article(db, article_id)
        link = shortlinks.alert_link(db, article, base_url=None, now=NOW)
        if item.shortlink:
            assert shortlinks.shortlink_unique_in_feed(db, feed, item.shortlink)
            assert link == canonical_url(item.shortlink)
        else:
            assert link == canonical_url(item.link)
        chosen.append(link)
    assert sum("?p=" in link for link in chosen) == 7
    assert db.execute("SELECT count(*) FROM shortlinks").fetchone()[0] == 0  # none minted


@needs_shared
def test_alert_link_when_every_item_has_the_same_post_id(db):
    raw = feed_file("aljazeera-english/aljazeera_com_all_2026-08-13.xml").read_bytes()
    post_id = feedparser.parse(raw).entries[0]["post-id"]
    parsed = parse_feed(raw, {}, "https://www.aljazeera.com/xml/rss/all.xml")
    # Read the feed's one post id as every item's WordPress short link: it must not be used.
    same = f"https://www.aljazeera.com/?p={post_id}"
    items = [dataclasses.replace(item, shortlink=same) for item in parsed.items]
    feed = add_feed(db, "https://www.aljazeera.com/xml/rss/all.xml")
    ids = store_feed_items(db, feed, items)
    assert not shortlinks.shortlink_unique_in_feed(db, feed, same)
    for article_id, item in zip(ids, items, strict=True):
        article = article_store.get_article(db, article_id)
        link = shortlinks.alert_link(db, article, base_url=None, now=NOW)
        assert link == canonical_url(item.link)
        assert "traffic_source" not in link


def test_alert_link_with_a_base_url_is_ours(db):
    feed = add_feed(db)
    article_id = add_article(db, feed, 1, shortlink="https://news.example.org/?p=1")
    article = article_store.get_article(db, article_id)
    link = shortlinks.alert_link(db, article, base_url=BASE, now=NOW)
    code = link.removeprefix(BASE)
    assert link.startswith(BASE)
    assert is_code(code)
    assert shortlinks.alert_link(db, article, base_url=BASE.rstrip("/"), now=NOW) == link
    assert shortlinks.resolve(db, code) == (article_id, article.url)


def test_no_code_is_minted_for_a_link_that_could_not_be_a_redirect(db):
    feed = add_feed(db)
    article_id = add_article(db, feed, 1, url="javascript:alert(1)")
    article = article_store.get_article(db, article_id)
    assert shortlinks.alert_link(db, article, base_url=BASE, now=NOW) == "javascript:alert(1)"
    assert db.execute("SELECT count(*) FROM shortlinks").fetchone()[0] == 0
    no_link = article_store.get_article(db, add_article(db, feed, 2, url=""))
    assert shortlinks.alert_link(db, no_link, base_url=BASE, now=NOW) == ""


def test_same_shortlink_in_two_feeds_is_judged_per_feed(db):
    one, two = add_feed(db, "https://a.example/feed"), add_feed(db, "https://b.example/feed")
    short = "https://news.example.org/?p=5"
    add_article(db, one, 1, shortlink=short)
    add_article(db, two, 2, shortlink=short)
    assert shortlinks.shortlink_unique_in_feed(db, one, short)
    assert shortlinks.shortlink_unique_in_feed(db, two, short)
    add_article(db, one, 3, shortlink=short)
    assert not shortlinks.shortlink_unique_in_feed(db, one, short)


def test_many_codes_stay_unique(db):
    feed = add_feed(db)
    ids = [add_article(db, feed, n) for n in range(300)]
    codes = {shortlinks.code_for_article(db, article_id, now=NOW) for article_id in ids}
    assert len(codes) == 300
    assert {shortlinks.resolve(db, code)[0] for code in codes} == set(ids)
