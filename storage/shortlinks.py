"""Short-link codes per article, click counts per article and day, and the link an alert shows."""

from __future__ import annotations

from collections.abc import Callable

from core import links
from storage.articles import StoredArticle
from storage.db import Database

CODE_ATTEMPTS = 8  # a collision is ~1e-12 per try at 1e6 codes; eight in a row means a bug


class CodeSpaceExhausted(RuntimeError):
    """Every attempt to mint a fresh code collided (a broken code generator)."""


def code_for_article(
    db: Database,
    article_id: int,
    *,
    now: float,
    new_code: Callable[[], str] = links.new_code,
    attempts: int = CODE_ATTEMPTS,
) -> str:
    """The article's short-link code, minted on first use (random, retried on collision)."""
    with db.atomic():
        row = db.execute(
            "SELECT code FROM shortlinks WHERE article_id = ?", (article_id,)
        ).fetchone()
        if row:
            return row[0]
        for _ in range(attempts):
            code = new_code()
            cursor = db.execute(
                """INSERT INTO shortlinks (code, article_id, created_at) VALUES (?, ?, ?)
                   ON CONFLICT (code) DO NOTHING""",
                (code, article_id, now),
            )
            if cursor.rowcount:
                return code
    raise CodeSpaceExhausted(f"no free short-link code after {attempts} attempts")


def resolve(db: Database, code: str) -> tuple[int, str] | None:
    """The article id and stored URL behind a code, or None for an unknown (or pruned) code."""
    row = db.execute(
        """SELECT a.id, a.url FROM shortlinks s JOIN articles a ON a.id = s.article_id
           WHERE s.code = ?""",
        (code,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def record_click(db: Database, article_id: int, day: str) -> None:
    """Count one visit for an article on a day, and in that day's total."""
    with db.atomic():
        db.execute(
            """INSERT INTO clicks (article_id, day, clicks) VALUES (?, ?, 1)
               ON CONFLICT (article_id, day) DO UPDATE SET clicks = clicks + 1""",
            (article_id, day),
        )
        db.execute(
            """INSERT INTO click_days (day, clicks) VALUES (?, 1)
               ON CONFLICT (day) DO UPDATE SET clicks = clicks + 1""",
            (day,),
        )


def top_clicked(db: Database, since_day: str, limit: int) -> list[tuple[str, str, int]]:
    """The most visited articles since a day (inclusive): (title, url, clicks), most first."""
    rows = db.execute(
        """SELECT a.title, a.url, sum(c.clicks) AS total
           FROM clicks c JOIN articles a ON a.id = c.article_id
           WHERE c.day >= ? GROUP BY a.id ORDER BY total DESC, a.id DESC LIMIT ?""",
        (since_day, limit),
    ).fetchall()
    return [(title, url, int(total)) for title, url, total in rows]


def clicks_per_day(db: Database, since_day: str) -> list[tuple[str, int]]:
    """Daily click totals since a day (inclusive), oldest first; kept after articles are pruned."""
    rows = db.execute(
        "SELECT day, clicks FROM click_days WHERE day >= ? ORDER BY day", (since_day,)
    ).fetchall()
    return [(day, int(clicks)) for day, clicks in rows]


def shortlink_unique_in_feed(db: Database, feed_id: int, shortlink: str) -> bool:
    """True when no other stored article of the feed carries the same publisher short link."""
    row = db.execute(
        "SELECT count(DISTINCT url) FROM articles WHERE feed_id = ? AND shortlink = ?",
        (feed_id, shortlink),
    ).fetchone()
    return row[0] <= 1


def alert_link(db: Database, article: StoredArticle, *, base_url: str | None, now: float) -> str:
    """The link an alert shows: ours when SHORTLINK_BASE_URL is set, else the publisher's
    per-article short link, else the canonical URL ("" when the article has no link)."""
    if base_url and links.redirect_target(article.url):
        return links.short_url(base_url, code_for_article(db, article.id, now=now))
    per_article = bool(article.shortlink) and shortlink_unique_in_feed(
        db, article.feed_id, article.shortlink or ""
    )
    return links.choose_link(article.url, article.shortlink, per_article=per_article)
