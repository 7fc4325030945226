"""feeds.extract: an article page's main text, date and canonical link; bad pages are data.

The real pages (../shared/data/arabic-pages, never committed) are scored as the research run
scored them (bench/extract_score.py). Every other page here is written for these tests.
"""

from __future__ import annotations

import pickle
import random
import statistics
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import pytest

from bench.extract_score import load_pages, snippet_misses, token_f1
from feeds.extract import MAX_PAGE_BYTES, MIN_WORDS, PageText, extract_page
from tests.data import needs_shared

URL = "https://www.example-news.com/2024/05/12/library-opens"
HTML = {"Content-Type": "text/html; charset=utf-8"}
HEADLINE = "افتتاح مكتبة عامة جديدة في الحي الشرقي"
PARAGRAPHS = [
    "افتتحت بلدية المدينة صباح اليوم مكتبة عامة جديدة في الحي الشرقي، تضم أكثر من عشرين ألف "
    "كتاب في الأدب والعلوم والتاريخ.",
    "وقال رئيس البلدية في كلمة قصيرة إن المكتبة ستفتح أبوابها يوميا من الثامنة صباحا حتى "
    "العاشرة ليلا، وإن الدخول إليها مجاني للجميع.",
    "وأضاف أن المبنى يضم قاعة للأطفال وأخرى للمطالعة الهادئة، إلى جانب ركن للحواسيب يمكن "
    "للطلاب استخدامه في إعداد بحوثهم.",
    "ويأمل سكان الحي أن تصبح المكتبة ملتقى ثقافيا يجمع الشباب حول القراءة والنقاش، بعد سنوات "
    "طويلة من انتظار مشروع كهذا.",
]
FOOTER = "جميع الحقوق محفوظة لموقع أخبار المثال"


def article_page(
    head: str = "", paragraphs: list[str] = PARAGRAPHS, charset_meta: str = "utf-8"
) -> str:
    """A small news page: menu, headline, article, related links, footer."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="{charset_meta}">
<title>{HEADLINE} - أخبار المثال</title>{head}</head>
<body>
<nav><ul><li><a href="/">الرئيسية</a></li><li><a href="/sport">رياضة</a></li>
<li><a href="/economy">اقتصاد</a></li></ul></nav>
<main><article><h1>{HEADLINE}</h1>
<div class="article-body">{body}</div></article>
<aside><h3>اقرأ أيضا</h3><ul><li><a href="/a">ارتفاع أسعار الخضر في الأسواق</a></li>
<li><a href="/b">فوز الفريق المحلي في المباراة النهائية</a></li></ul></aside></main>
<footer><p>{FOOTER}</p></footer>
</body></html>"""


def extract(body: bytes, headers: dict[str, str] = HTML, url: str = URL, **kw) -> PageText:
    return extract_page(body, headers, url, kw.pop("title", HEADLINE), **kw)


# --- the real pages ----------------------------------------------------------------------


@needs_shared
def test_real_arabic_pages_score_as_the_research_run_measured():
    scores = {}
    for page in load_pages():
        result = extract_page(page.html, {"content-type": "text/html"}, page.url, "")
        assert result.error is None, page.name
        scores[page.name] = token_f1(result.text, page.gold)[0]
    assert len(scores) == 8
    assert {name: f1 for name, f1 in scores.items() if f1 < 0.85} == {}
    assert statistics.median(scores.values()) >= 0.97


@needs_shared
def test_assabah_keeps_the_article_passages_and_drops_the_furniture():
    page = next(p for p in load_pages() if p.short == "assabah")
    assert page.snippets is not None
    result = extract_page(page.html, {}, page.url, page.snippets["title"])
    assert snippet_misses(result.text, page.snippets) == []


@needs_shared
def test_real_pages_dates_and_canonical_links():
    pages = {p.short: p for p in load_pages()}
    youm7 = extract_page(pages["youm7"].html, {}, pages["youm7"].url, "")
    assert youm7.published_at == datetime(2020, 8, 24, 9, 23, 13, tzinfo=UTC).timestamp()
    # article:published_time has no offset on alyaum; its JSON-LD has +03:00 and wins.
    alyaum = extract_page(pages["alyaum"].html, {}, pages["alyaum"].url, "")
    assert alyaum.published_at == datetime(2020, 11, 30, 23, 0, tzinfo=UTC).timestamp()
    # almadenahnews' og:url names a bare IP address; its <link rel=canonical> is the site.
    madenah = extract_page(pages["almadenahnews"].html, {}, pages["almadenahnews"].url, "")
    assert madenah.canonical_url is not None
    assert madenah.canonical_url.startswith("https://www.almadenahnews.com/article/825076-")


# --- pages written for these tests -------------------------------------------------------


def test_an_article_page_gives_its_paragraphs_without_headline_or_furniture():
    result = extract(article_page().encode())
    assert result.error is None
    assert result.text == "\n".join(PARAGRAPHS)
    assert result.cpu_seconds > 0


def test_windows_1256_declared_only_in_meta():
    body = article_page(charset_meta="windows-1256").encode("cp1256")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    for headers in (
        {"Content-Type": "text/html"},
        {"Content-Type": "text/html; charset=ISO-8859-1"},
        {},
    ):
        assert extract(body, headers).text == "\n".join(PARAGRAPHS), headers


def test_a_page_in_utf_16_with_a_bom_and_without_one():
    page = article_page(charset_meta="utf-16")
    assert extract(page.encode("utf-16")).text == "\n".join(PARAGRAPHS)
    assert extract(page.encode("utf-16-le")).error == "could not decode the page"


def test_ten_thousand_nested_divs():
    body = ("<html><body>" + "<div>" * 10_000 + PARAGRAPHS[0] + "</div>" * 10_000).encode()
    assert extract(body).error == "page too deeply nested"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "image/png", id="png"),
        pytest.param(
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "text/html", id="png-as-html"
        ),
        pytest.param(
            b'{"title": "\xd8\xae\xd8\xa8\xd8\xb1", "body": "<p>x</p>"}',
            "application/json",
            id="json",
        ),
        pytest.param(b'[{"id": 1, "html": "<div>x</div>"}]', "text/html", id="json-as-html"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "", id="pdf"),
        pytest.param(random.Random(28).randbytes(50_000), "", id="binary-junk"),
        pytest.param(b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "", id="feed"),
        pytest.param("مجرد نص عادي بلا أي وسوم".encode(), "text/plain", id="plain-text"),
    ],
)
def test_what_is_not_an_html_page(body, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    assert extract(body, headers).error == "not an HTML page"


@pytest.mark.parametrize("body", [b"", b" \r\n\t ", b"<!-- -->", b"<!DOCTYPE html>"])
def test_empty_pages(body):
    assert extract(body).error in ("empty page", "no article text found")


def test_a_login_wall_has_no_article_text():
    wall = [
        "يرجى تسجيل الدخول لمتابعة القراءة.",
        "هذا المحتوى متاح للمشتركين فقط. اشترك الآن واحصل على الشهر الأول مجانا.",
        "نستخدم ملفات تعريف الارتباط لتحسين تجربتك. موافق",
    ]
    result = extract(article_page(paragraphs=wall).encode())
    assert result.error == "no article text found"
    assert result.text == ""
    assert sum(len(line.split()) for line in wall) < MIN_WORDS


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("https://example-news.com/2024/05/12/library-opens", "https://example-news.com/2024/05/12/library-opens"),
        ("/2024/05/12/library-opens?utm_source=x", "https://www.example-news.com/2024/05/12/library-opens"),
        ("https://www.example-news.com/ar/مكتبة", "https://www.example-news.com/ar/%D9%85%D9%83%D8%AA%D8%A8%D8%A9"),
        ("https://aggregator.example.org/2024/05/12/library-opens", None),
        ("https://52.16.95.170/2024/05/12/library-opens", None),
        ("https://example-news.com.evil.example/x", None),
        ("https://user@www.example-news.com/x", None),
        ("javascript:alert(1)", None),
        ("ftp://www.example-news.com/x", None),
    ],
)  # fmt: skip
def test_canonical_link_only_on_the_same_site(href, expected):
    result = extract(article_page(f'<link rel="canonical" href="{href}">').encode())
    assert result.canonical_url == expected


def test_og_url_stands_in_for_a_missing_or_foreign_canonical():
    head = (
        '<link rel="canonical" href="https://other.example.org/x">'
        '<meta property="og:url" content="https://www.example-news.com/story/7">'
    )
    assert (
        extract(article_page(head).encode()).canonical_url == "https://www.example-news.com/story/7"
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<meta property="article:published_time" content="2024-05-12T09:30:00+03:00">', datetime(2024, 5, 12, 6, 30, tzinfo=UTC)),
        ('<meta name="article:published_time" content="2024-05-12T06:30:00Z">', datetime(2024, 5, 12, 6, 30, tzinfo=UTC)),
        ('<script type="application/ld+json">{"@graph": [{"@type": "NewsArticle", "datePublished": "2024-05-12T10:15:00+0200"}]}</script>', datetime(2024, 5, 12, 8, 15, tzinfo=UTC)),
        ('<meta property="article:published_time" content="2024-05-12 09:30:00">', datetime(2024, 5, 12, tzinfo=UTC)),
        ('<meta property="article:published_time" content="0001-01-01T00:00:00Z">'
         '<meta property="article:published_time" content="الأحد 12 مايو">'
         '<script type="application/ld+json">{"datePublished": "2024-05-13T01:00:00+01:00"}</script>', datetime(2024, 5, 13, tzinfo=UTC)),
        ('<script type="application/ld+json">{not json</script>', None),
    ],
)  # fmt: skip
def test_the_pages_own_publication_time(head, expected):
    result = extract(article_page(head).encode(), url="https://www.example-news.com/story/7")
    assert result.error is None
    assert result.published_at == (expected.timestamp() if expected else None)


def test_without_its_own_time_a_page_gets_trafilaturas_day():
    result = extract(article_page().encode())  # the day is in the URL: /2024/05/12/
    assert result.published_at == datetime(2024, 5, 12, tzinfo=UTC).timestamp()


def test_text_is_capped_at_a_sentence():
    result = extract(article_page().encode(), max_text_chars=300)
    assert len(result.text) <= 300
    assert result.text.endswith(".")
    assert result.text.startswith(PARAGRAPHS[0])


def test_too_large_pages_are_refused_before_parsing():
    assert extract(b"<html>" + b" " * MAX_PAGE_BYTES + b"</html>").error == "page too large"
    many = "<html><body>" + "<b>ب</b>" * 30_000 + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    assert extract(many.encode()).error == "page too large"


@pytest.mark.parametrize(
    "body",
    [
        b"<",
        b"<html>",
        b"\xff" * 300,
        b"<html><head><meta charset=x-no-such-charset></head><body><p>\xd8\xae</p></body></html>",
        b'<?xml version="1.0" encoding="windows-1256"?><html><body><p>\xc7\xe1</p></body></html>',
        b'<html><script type="application/ld+json">' + b"[" * 100_000 + b"</script></html>",
        ("<html><body><p>" + "كلمة " * 100 + "</p></body></html>").encode()[:-9] + b"\xd8",
    ],
)
def test_odd_bytes_come_back_as_data(body):
    result = extract(body)
    assert isinstance(result, PageText)
    assert result.error is None or not result.error.startswith("could not extract")


def test_extract_page_runs_in_a_process_pool():
    assert pickle.loads(pickle.dumps(extract_page)) is extract_page
    body = article_page().encode()
    with ProcessPoolExecutor(max_workers=1) as pool:
        result = pool.submit(extract_page, body, HTML, URL, HEADLINE).result()
    assert result.text == extract(body).text
