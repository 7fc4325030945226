"""A keyword's sources (issue #31), below the chat: each feed's sites as intake sees them, the
scopes they widen, /add's site: words, and a removed feed leaving its keywords' scopes."""

from __future__ import annotations

from core.models import Article, Chat, Subscription
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from intake.store import Intake
from service import feeds as feed_cases
from service import keywords, sources
from service.base import Backend, Refusal
from storage import articles as article_store
from storage import chats as chat_store
from storage import feeds as feed_store
from storage import scopes
from tests.feedserver import make_rss
from tests.pipeline import Pipeline
from tests.support import item

CHAT = 42
NOW = 1_795_000_000.0
GOLD = "ارتفع سعر الذهب في الأسواق اليوم"


def gold(number: int, url: str) -> Article:
    """An article about gold, linked to `url`."""
    return Article(
        item_key=f"gold-{number}", url=url, title=f"الذهب يرتفع {number}", text=GOLD,
        language="ar", content_hash=f"h{number}", published_at=NOW,
    )  # fmt: skip


def backend_of(db) -> Backend:
    chat_store.touch_chat(db, CHAT, type="private", title="", language="ar", now=NOW)
    return Backend(db, SubscriptionBook(), Settings(), lambda: NOW)


def feed(db, url: str, title: str) -> int:
    return feed_store.add_feed(db, url, title=title, interval_seconds=300, now=NOW)


def queued_for(db, article_key: str) -> list[tuple[int, str]]:
    """(chat, keywords) of the alerts queued for an article."""
    return [
        (chat_id, keywords_json)
        for chat_id, keywords_json in db.execute(
            """SELECT o.chat_id, o.keywords FROM outbox o JOIN articles a ON a.id = o.article_id
               WHERE a.item_key = ?""",
            (article_key,),
        )
    ]


def test_a_feeds_sites_are_recorded_once_and_a_new_one_widens_the_scopes_it_covers(db):
    backend = backend_of(db)
    intake = Intake(db, backend.book)
    hespress = feed(db, "https://hespress.com/feed", "هسبريس")
    french = feed(db, "https://fr.example.net/rss", "Hespress FR")
    jazeera = feed(db, "https://aljazeera.net/rss", "الجزيرة")
    intake.sites_seen(hespress, ["hespress.com"])
    assert scopes.record_sites(db, hespress, ["hespress.com", ""]) == set()  # seen already
    added = keywords.add_keyword(backend, Chat(CHAT), "الذهب site:www.Hespress.com")
    assert isinstance(added, Subscription)
    assert (added.keyword, added.sites, added.scoped) == ("الذهب", ("hespress.com",), True)
    assert backend.book.scope_of(added.id) == frozenset({hespress})

    # the French edition's feed links its items to a host under hespress.com: read from now on
    new, queued = intake.store(french, [gold(1, "https://fr.hespress.com/1.html")], NOW, alert=True)
    assert (new, queued) == (1, 1)
    assert scopes.feed_hosts(db)[french] == {"fr.hespress.com"}
    assert backend.book.scope_of(added.id) == frozenset({hespress, french})
    assert queued_for(db, "gold-1") == [(CHAT, '["الذهب"]')]
    # another site's article about gold is not this keyword's
    assert intake.store(jazeera, [gold(2, "https://aljazeera.net/2")], NOW, alert=True) == (1, 0)
    assert queued_for(db, "gold-2") == []
    assert backend.book.scope_of(added.id) == frozenset({hespress, french})


def test_owed_alerts_queued_at_a_start_honour_the_scope(db):
    backend = backend_of(db)
    intake = Intake(db, backend.book)
    hespress = feed(db, "https://hespress.com/feed", "هسبريس")
    jazeera = feed(db, "https://aljazeera.net/rss", "الجزيرة")
    intake.store(hespress, [gold(1, "https://hespress.com/1")], NOW, alert=False)
    intake.store(jazeera, [gold(2, "https://aljazeera.net/2")], NOW, alert=False)
    added = keywords.add_keyword(backend, Chat(CHAT), "الذهب site:hespress.com")
    assert isinstance(added, Subscription)
    for key in ("gold-1", "gold-2"):
        (article_id,) = db.execute("SELECT id FROM articles WHERE item_key = ?", (key,)).fetchone()
        article_store.set_alerts_owed(db, article_id, True)
    assert intake.requeue_owed(NOW) == 1
    assert queued_for(db, "gold-1") == [(CHAT, '["الذهب"]')]
    assert queued_for(db, "gold-2") == []


def test_add_with_sites_is_refused_when_a_site_is_no_host_or_no_source_of_the_bot(db):
    backend = backend_of(db)
    intake = Intake(db, backend.book)
    intake.sites_seen(feed(db, "https://hespress.com/feed", "هسبريس"), ["hespress.com"])
    intake.sites_seen(feed(db, "https://aljazeera.net/rss", "الجزيرة"), ["aljazeera.net"])
    chat = Chat(CHAT)
    assert keywords.add_keyword(backend, chat, "الذهب site:hespress") == Refusal(
        "refused_bad_site", {"site": "hespress", "max": 10}
    )
    assert keywords.add_keyword(backend, chat, "site:hespress.com") == Refusal(
        "refused_sites_alone", {"site": "hespress.com"}
    )
    assert keywords.add_keyword(backend, chat, "الذهب site:hespres.com") == Refusal(
        "refused_site_unknown_near", {"site": "hespres.com", "near": "hespress.com"}
    )
    assert keywords.add_keyword(backend, chat, "الذهب site:bbc.co.uk") == Refusal(
        "refused_site_unknown", {"site": "bbc.co.uk"}
    )
    many = " ".join(f"site:s{i}.example.com" for i in range(11))
    assert keywords.add_keyword(backend, chat, f"الذهب {many}") == Refusal(
        "refused_too_many_sites", {"site": "", "max": 10}
    )
    assert keywords.keywords(backend, CHAT) == []  # nothing stored by any refusal


def test_add_again_with_other_sites_replaces_them_and_the_same_is_already(db):
    backend = backend_of(db)
    intake = Intake(db, backend.book)
    hespress = feed(db, "https://hespress.com/feed", "هسبريس")
    jazeera = feed(db, "https://aljazeera.net/rss", "الجزيرة")
    intake.sites_seen(hespress, ["hespress.com"])
    intake.sites_seen(jazeera, ["aljazeera.net"])
    chat = Chat(CHAT)
    plain = keywords.add_keyword(backend, chat, "الذهب")
    assert isinstance(plain, Subscription)
    assert backend.book.scope_of(plain.id) is None  # every feed
    limited = keywords.add_keyword(backend, chat, "الذهب site:aljazeera.net site:hespress.com")
    assert isinstance(limited, Subscription)
    assert (limited.id, limited.sites) == (plain.id, ("aljazeera.net", "hespress.com"))
    assert backend.book.scope_of(plain.id) == frozenset({hespress, jazeera})
    assert sources.shown(limited) == "الذهب site:aljazeera.net site:hespress.com"
    assert keywords.add_keyword(
        backend, chat, "الذهب site:aljazeera.net site:hespress.com"
    ) == Refusal("already", {"keyword": "الذهب"})
    assert keywords.add_keyword(backend, chat, "الذهب") == Refusal("already", {"keyword": "الذهب"})
    narrowed = keywords.add_keyword(backend, chat, "الذهب site:hespress.com")
    assert isinstance(narrowed, Subscription)
    assert backend.book.scope_of(plain.id) == frozenset({hespress})
    assert backend.book.match(GOLD, jazeera) == {}
    assert backend.book.match(GOLD, hespress) == {CHAT: ["الذهب"]}


def test_a_removed_feed_leaves_every_scope_and_an_empty_scope_matches_nothing(db):
    backend = backend_of(db)
    intake = Intake(db, backend.book)
    hespress = feed(db, "https://hespress.com/feed", "هسبريس")
    jazeera = feed(db, "https://aljazeera.net/rss", "الجزيرة")
    intake.sites_seen(hespress, ["hespress.com"])
    by_site = keywords.add_keyword(backend, Chat(CHAT), "الذهب site:hespress.com")
    ticked = keywords.add_keyword(backend, Chat(CHAT), "النفط")
    assert isinstance(by_site, Subscription)
    assert isinstance(ticked, Subscription)
    sources.set_ticked(backend, CHAT, ticked.id, {hespress, jazeera})

    class Admin:  # the feed pipeline's port, as far as deleting goes (intake.feed_admin)
        def delete(self, feed_id: int) -> None:
            feed_store.delete_feed(db, feed_id)

    assert feed_cases.delete_feed(backend, Admin(), hespress) is None  # type: ignore[arg-type]
    assert backend.book.scope_of(by_site.id) == frozenset()
    assert backend.book.scope_of(ticked.id) == frozenset({jazeera})
    assert scopes.ticked_feeds(db, ticked.id) == {jazeera}
    assert backend.book.match(GOLD, hespress) == {}
    assert backend.book.match(GOLD, jazeera) == {}  # its scope is empty: it matches nothing
    kept = chat_store.subscription(db, CHAT, by_site.id)
    assert kept is not None
    assert (kept.scoped, kept.sites) == (True, ("hespress.com",))  # /list says it reads nothing


async def test_a_feed_added_records_its_link_and_its_items_hosts(db, feeds):
    from feeds.fetch import Fetcher

    book = SubscriptionBook()
    items = [item(1, "الذهب يرتفع", ["ارتفع سعر الذهب."])]  # linked to news.example.org
    feeds.set_feed("/rss", make_rss("هسبريس", items, link="https://www.hespress.com/"))
    async with Fetcher(allow_private=True) as fetcher:
        pipeline = Pipeline(db, fetcher, book, clock=lambda: NOW, interval_seconds=300)
        added = await pipeline.add_feed(feeds.url("/rss"), added_by=None)
    assert added.feed_id is not None
    assert feed_store.site_url(db, added.feed_id) == "https://www.hespress.com/"
    assert scopes.feed_hosts(db) == {added.feed_id: {"hespress.com", "news.example.org"}}


async def test_a_feed_polled_records_the_host_of_its_link_too(db, feeds):
    """A feed added before sites were kept gets its <link>'s host at its next poll."""
    from feeds.fetch import Fetcher

    feeds.set_feed("/rss", make_rss("هسبريس", [], link="https://www.hespress.com/"))
    feed_id = feed_store.add_feed(
        db, feeds.url("/rss"), title="", interval_seconds=300, now=NOW - 600, primed=True
    )
    async with Fetcher(allow_private=True) as fetcher:
        pipeline = Pipeline(
            db, fetcher, SubscriptionBook(), clock=lambda: NOW, interval_seconds=300
        )
        report = await pipeline.run_once()
    assert report.feeds_checked == 1
    assert scopes.feed_hosts(db) == {feed_id: {"hespress.com"}}


def test_a_keyword_is_removed_by_its_words_with_or_without_its_sites(db):
    backend = backend_of(db)
    Intake(db, backend.book).sites_seen(
        feed(db, "https://hespress.com/feed", "هسبريس"), ["hespress.com"]
    )
    added = keywords.add_keyword(backend, Chat(CHAT), "الذهب site:hespress.com")
    assert isinstance(added, Subscription)
    removed = keywords.remove_keyword(backend, CHAT, "الذهب site:hespress.com")
    assert removed is not None
    assert removed.id == added.id
    assert backend.book.match(GOLD, None) == {}
