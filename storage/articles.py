"""Articles: storing what feeds gave, once, and finding stories told twice."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from core.models import Article
from core.story_ways import Telling
from storage.db import IDS_PER_QUERY, Database, fetch_rows, inserted_id

_SIGN_BIT = 1 << 63


def to_signed64(value: int) -> int:
    """SQLite integers are signed: store a 64-bit fingerprint in that range."""
    return value - (1 << 64) if value & _SIGN_BIT else value


def from_signed64(value: int) -> int:
    """The inverse of to_signed64."""
    return value + (1 << 64) if value < 0 else value


class Stored(Enum):
    """What storing an item did."""

    NEW = "new"
    UPDATED = "updated"  # same identity, changed content: never a second alert
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article row as alerts and /test need it."""

    id: int
    feed_id: int
    feed_title: str
    url: str
    shortlink: str | None
    title: str
    text: str
    language: str
    story_id: int
    published_at: float | None
    fetched_at: float


def store_article(db: Database, feed_id: int, article: Article, now: float) -> tuple[Stored, int]:
    """Insert an item once per feed; a changed item under the same key is updated in place."""
    rows = fetch_rows(
        db,
        "SELECT id, content_hash, page FROM articles WHERE feed_id = ? AND item_key = ?",
        (feed_id, article.item_key),
    )
    fingerprint = None if article.fingerprint is None else to_signed64(article.fingerprint)
    if rows:
        article_id = rows[0]["id"]
        if rows[0]["content_hash"] == article.content_hash:
            return Stored.UNCHANGED, article_id
        if rows[0]["page"] == "ok" and article.page is None:
            # The feed changed its teaser; the text is the page's, fetched once: kept.
            db.execute(
                "UPDATE articles SET title = ?, content_hash = ? WHERE id = ?",
                (article.title, article.content_hash, article_id),
            )
            return Stored.UPDATED, article_id
        db.execute(
            """UPDATE articles SET title = ?, text = ?, url = ?, language = ?,
                   content_hash = ?, fingerprint = ? WHERE id = ?""",
            (
                article.title,
                article.text,
                article.url,
                article.language,
                article.content_hash,
                fingerprint,
                article_id,
            ),
        )
        return Stored.UPDATED, article_id
    cursor = db.execute(
        """INSERT INTO articles (feed_id, item_key, url, shortlink, title, text, language,
                                 content_hash, fingerprint, published_at, fetched_at, page)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            feed_id,
            article.item_key,
            article.url,
            article.shortlink,
            article.title,
            article.text,
            article.language,
            article.content_hash,
            fingerprint,
            article.published_at,
            now,
            article.page,
        ),
    )
    return Stored.NEW, inserted_id(cursor)


def known_item_keys(db: Database, feed_id: int, item_keys: list[str]) -> set[str]:
    """Which of these items the feed has stored already."""
    known: set[str] = set()
    for start in range(0, len(item_keys), IDS_PER_QUERY):
        batch = item_keys[start : start + IDS_PER_QUERY]
        marks = ",".join("?" * len(batch))
        known.update(
            row[0]
            for row in db.execute(
                f"SELECT item_key FROM articles WHERE feed_id = ? AND item_key IN ({marks})",
                (feed_id, *batch),
            )
        )
    return known


def set_story(db: Database, article_id: int, story_id: int) -> None:
    """Attach an article to a story (its own id when it is the first telling)."""
    db.execute("UPDATE articles SET story_id = ? WHERE id = ?", (story_id, article_id))


def story_of(db: Database, article_id: int) -> int | None:
    """The story an article tells (its own id when it is the first telling)."""
    row = db.execute(
        "SELECT COALESCE(story_id, id) FROM articles WHERE id = ?", (article_id,)
    ).fetchone()
    return row[0] if row else None


def story_by_url(db: Database, url: str, *, exclude_id: int) -> int | None:
    """The story of an earlier article with the same canonical URL (from any feed)."""
    row = db.execute(
        """SELECT story_id FROM articles WHERE url = ? AND id != ? AND story_id IS NOT NULL
           ORDER BY id LIMIT 1""",
        (url, exclude_id),
    ).fetchone()
    return row[0] if row else None


def recent_fingerprints(db: Database, *, since: float) -> list[tuple[int, int]]:
    """(story, fingerprint) of the articles fetched since a time, for near-duplicate search."""
    return [
        (story_id, from_signed64(fingerprint))
        for story_id, fingerprint in db.execute(
            """SELECT story_id, fingerprint FROM articles
               WHERE fetched_at >= ? AND fingerprint IS NOT NULL AND story_id IS NOT NULL""",
            (since,),
        ).fetchall()
    ]


_ARTICLE_SELECT = """
    SELECT a.id, a.feed_id, f.title AS feed_title, a.url, a.shortlink, a.title, a.text,
           a.language, COALESCE(a.story_id, a.id) AS story_id, a.published_at, a.fetched_at
    FROM articles a JOIN feeds f ON f.id = a.feed_id
"""


def get_article(db: Database, article_id: int) -> StoredArticle | None:
    """One article with its feed's title."""
    rows = fetch_rows(db, _ARTICLE_SELECT + " WHERE a.id = ?", (article_id,))
    return StoredArticle(**rows[0]) if rows else None


def recent_articles(
    db: Database,
    since: float,
    limit: int = 5000,
    *,
    before_id: int | None = None,
    feed_ids: frozenset[int] | None = None,
) -> list[StoredArticle]:
    """Articles fetched since a time, newest first (for /test); with before_id, the page after
    the one that ended at that id; with feed_ids, only those feeds' (a keyword's sources)."""
    where = " WHERE a.fetched_at >= ?" + ("" if before_id is None else " AND a.id < ?")
    params: tuple = (since,) if before_id is None else (since, before_id)
    if feed_ids is not None:
        where += f" AND a.feed_id IN ({','.join('?' * len(feed_ids))})"
        params += tuple(sorted(feed_ids))
    rows = fetch_rows(db, _ARTICLE_SELECT + where + " ORDER BY a.id DESC LIMIT ?", (*params, limit))
    return [StoredArticle(**row) for row in rows]


def articles_by_id(db: Database, article_ids: list[int]) -> dict[int, StoredArticle]:
    """Several articles with their feeds' titles, read at once (those still stored)."""
    found: dict[int, StoredArticle] = {}
    for start in range(0, len(article_ids), IDS_PER_QUERY):
        batch = article_ids[start : start + IDS_PER_QUERY]
        marks = ",".join("?" * len(batch))
        rows = fetch_rows(db, _ARTICLE_SELECT + f" WHERE a.id IN ({marks})", batch)
        found.update((row["id"], StoredArticle(**row)) for row in rows)
    return found


def story_sources(db: Database, story_ids: list[int]) -> dict[int, list[str]]:
    """Names of the feeds that published each story, first teller first."""
    sources: dict[int, list[str]] = {}
    for start in range(0, len(story_ids), IDS_PER_QUERY // 2):
        batch = story_ids[start : start + IDS_PER_QUERY // 2]
        marks = ",".join("?" * len(batch))
        # COALESCE(story_id, id) spelt out, so that the story index and the key serve it.
        rows = db.execute(
            f"""SELECT COALESCE(a.story_id, a.id) AS story, f.title
                FROM articles a JOIN feeds f ON f.id = a.feed_id
                WHERE a.story_id IN ({marks}) OR (a.story_id IS NULL AND a.id IN ({marks}))
                GROUP BY story, f.id ORDER BY story, min(a.id)""",  # noqa: S608
            (*batch, *batch),
        ).fetchall()
        for story, title in rows:
            sources.setdefault(story, []).append(title)
    return sources


def story_tellings(db: Database, story_id: int, window_seconds: float) -> list[Telling]:
    """A story's articles fetched within `window_seconds` of its first, in the order they were
    stored, each with its feed and link: the outlets that carried it (core.story_ways)."""
    rows = db.execute(
        """WITH story AS (
               SELECT id, feed_id, url, fetched_at FROM articles
               WHERE story_id = ? OR (story_id IS NULL AND id = ?)
           )
           SELECT s.id, s.feed_id, f.title, s.url, s.fetched_at
           FROM story s JOIN feeds f ON f.id = s.feed_id
           WHERE s.fetched_at <= (SELECT min(fetched_at) FROM story) + ?
           ORDER BY s.id""",
        (story_id, story_id, window_seconds),
    ).fetchall()
    return [Telling(*row) for row in rows]


def set_alerts_owed(db: Database, article_id: int, owed: bool) -> None:
    """Mark an article whose alerts are being queued a chunk at a time (or no longer)."""
    db.execute("UPDATE articles SET alerts_owed = ? WHERE id = ?", (int(owed), article_id))


def alerts_owed(db: Database) -> list[StoredArticle]:
    """Articles a stop left with alerts still to queue."""
    ids = [row[0] for row in db.execute("SELECT id FROM articles WHERE alerts_owed = 1")]
    found = articles_by_id(db, ids)
    return [found[article_id] for article_id in ids if article_id in found]
