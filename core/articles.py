"""From a feed item to a clean, identified, fingerprinted article."""

from __future__ import annotations

from core.arabic import normalize
from core.dedup import canonical_url, content_hash, item_key, simhash
from core.language import detect_language
from core.models import Article, FeedItem
from core.text import cap_text, clean_article
from core.titles import NO_AFFIXES, Affixes, strip_affixes

ARTICLE_MAX_CHARS = 20_000  # the ARTICLE_MAX_CHARS setting's default
TITLE_MAX_CHARS = 300  # the TITLE_MAX_CHARS setting's default
# Item HTML read per character of text kept: markup rarely runs past this, and a 2 MB body
# need not be parsed whole to keep its first 20,000 characters of text.
HTML_PER_TEXT_CHAR = 10


def prepare_article(
    item: FeedItem,
    *,
    site_name: str = "",
    max_text_chars: int = ARTICLE_MAX_CHARS,
    max_title_chars: int = TITLE_MAX_CHARS,
    title_affixes: Affixes = NO_AFFIXES,
) -> Article:
    """Clean the item's text, detect its language, and compute its identity and fingerprint.

    Title and text are capped first, so nothing later (storing, matching, summaries) ever sees
    more than max_title_chars and max_text_chars characters; the feed's site name goes from the
    title (`title_affixes`, learned by core.titles from all the feed's titles).
    """
    whole_title = strip_affixes(item.title[: 4 * max_title_chars], title_affixes)
    title = cap_text(whole_title, max_title_chars)
    html = _head(item.html, max_text_chars * HTML_PER_TEXT_CHAR)
    # The whole title, so that a first line repeating it is still recognised and dropped.
    text = cap_text(clean_article(whole_title, html, site_name=site_name), max_text_chars)
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


def _head(html: str, limit: int) -> str:
    """The first `limit` characters of HTML, without a tag cut in half at the end."""
    if len(html) <= limit:
        return html
    head = html[:limit]
    opened = head.rfind("<")
    return head[:opened] if opened > head.rfind(">") else head


def match_text(title: str, text: str) -> str:
    """What keywords are matched against: the title and the clean text."""
    return f"{title}\n{text}"
