"""From a feed item to a clean, identified, fingerprinted article."""

from __future__ import annotations

from core.arabic import normalize
from core.dedup import canonical_url, content_hash, item_key, simhash
from core.language import detect_language
from core.models import Article, FeedItem
from core.text import clean_article


def prepare_article(item: FeedItem, *, site_name: str = "") -> Article:
    """Clean the item's text, detect its language, and compute its identity and fingerprint."""
    title = " ".join(item.title.split())
    text = clean_article(title, item.html, site_name=site_name)
    url = canonical_url(item.link) if item.link else ""
    return Article(
        item_key=item_key(item),
        url=url,
        title=title,
        text=text,
        language=detect_language(title, text),
        content_hash=content_hash(title, text),
        fingerprint=simhash(normalize(f"{title}\n{text}")) if text or title else None,
        published_at=item.published.timestamp() if item.published else None,
        shortlink=item.shortlink,
    )


def match_text(title: str, text: str) -> str:
    """What keywords are matched against: the title and the clean text."""
    return f"{title}\n{text}"
