"""Full text: when a feed's items are only teasers, and what an article becomes with its page.

Measured on every real feed we hold (samples/feeds and ../shared/data/feeds), words of clean
text per item, median: Al-Araby 0, Asharq Al-Awsat 18, RT Arabic 25, Al Jazeera 28, Sky News
Arabia 32, Hespress 55 (a WordPress excerpt cut with «[…]»), the other teaser feeds 10-63; the
one feed carrying whole posts (Planet FOSS-IL) 477. A feed is a teaser feed when the median of
its items is under TEASER_WORDS, or when most of its items end with an excerpt mark.
"""

from __future__ import annotations

import html as html_module
import re
import statistics
from dataclasses import replace
from urllib.parse import urlsplit

from core.arabic import normalize
from core.dedup import canonical_url, simhash
from core.language import detect_language
from core.links import site_host
from core.models import Article

TEASER_WORDS = 150  # well above the longest teaser median (63), well below whole articles
PAGE_FAILURES_BEFORE_BACKOFF = 10  # pages failed in a row before auto stops trying a while
PAGE_BACKOFF_SECONDS = 6 * 3600.0
_EXCERPT_END = re.compile(r"(\[\s*(…|\.\.\.)\s*\]|…|\.\.\.)\s*$")
_TAIL_CHARS = 300  # the end of an item's HTML where an excerpt mark is looked for


def is_teaser(words: list[int], htmls: list[str]) -> bool:
    """Whether a feed's items (their words of clean text, their HTML) are teasers that do not
    stand for the article."""
    if not words:
        return False
    if statistics.median(words) < TEASER_WORDS:
        return True
    cut = sum(1 for html in htmls if ends_with_excerpt_mark(html))
    return cut * 2 > len(htmls)


def ends_with_excerpt_mark(html: str) -> bool:
    """Whether an item's HTML ends with «[…]», «…» or «...», WordPress's "read more" line
    («The post … appeared first on …») aside."""
    tail = html_module.unescape(re.sub(r"<[^>]*>", " ", html[-_TAIL_CHARS:]))
    tail = re.split(r"\bThe post\b", tail)[0]
    return bool(_EXCERPT_END.search(tail.strip()))


def with_page(
    article: Article,
    text: str,
    *,
    published_at: float | None = None,
    canonical: str | None = None,
) -> Article:
    """The article told by its page: the page's text (unless it is shorter than the feed's),
    its language and fingerprint from that text, the page's date when the feed gave none, and
    its canonical URL when it is on the article's own site. The feed's content hash stays, so
    the item is still recognised in the feed."""
    if len(text.split()) <= len(article.text.split()):
        text = article.text
    url = article.url
    if canonical and same_site(canonical, article.url):
        url = canonical_url(canonical)
    return replace(
        article,
        text=text,
        url=url,
        language=detect_language(article.title, text),
        fingerprint=simhash(normalize(f"{article.title}\n{text}")),
        published_at=article.published_at if article.published_at else published_at,
        page="ok",
    )


def without_page(article: Article, reason: str) -> Article:
    """The article from the feed's own text, saying why its page could not be had."""
    return replace(article, page=reason)


def same_site(url: str, other: str) -> bool:
    """Whether two http(s) URLs are on the same host (`www.` ignored)."""
    first, second = urlsplit(url), urlsplit(other)
    if first.scheme not in ("http", "https") or not first.hostname or not second.hostname:
        return False
    return site_host(first.hostname) == site_host(second.hostname)


def page_backoff(failures: int, now: float) -> float | None:
    """Until when auto mode stops fetching a feed's pages after `failures` in a row."""
    if failures < PAGE_FAILURES_BEFORE_BACKOFF:
        return None
    return now + PAGE_BACKOFF_SECONDS
