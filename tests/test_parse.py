"""parse_feed on real feeds, legacy Arabic encodings, lying labels, junk and feedparser's corpus."""

from __future__ import annotations

import hashlib
import pickle
import re
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import pytest

from core.dedup import item_key
from core.models import FeedItem, ParsedFeed
from feeds.parse import choose_encoding, detect_encoding, parse_feed
from tests.data import (
    ARABIC_FEEDS,
    FEEDPARSER_SDIST,
    FEEDPARSER_SDIST_SHA256,
    SHARED_FEEDS,
    feed_cases,
    feed_file,
    feedparser_corpus,
    needs_shared,
)
from tests.feedserver import HTML_PAGE, make_rss, sample_items

SAMPLES = SHARED_FEEDS / "chardet-arabic-text-samples"  # legacy-encoded Arabic pages
ARABIC_LETTER = re.compile("[\u0621-\u064a]")
MOJIBAKE = re.compile("[\u00c0-\u00ff\ufffd]")  # Latin-1 letters in Arabic text = wrong charset


def read(name: str) -> bytes:
    return feed_file(name).read_bytes()


def without_declaration(body: bytes) -> bytes:
    return re.sub(rb"^\s*<\?xml[^>]*\?>\s*", b"", body)


# --- real feeds ---------------------------------------------------------------------------------

REAL_FEEDS = [
    # (file, items, index, expected title)
    ("al-araby-al-jadeed.xml", 10, 0,
     "حسين فهمي خارج الموسم الدرامي في رمضان"),
    ("al-jazeera_transcribed.xml", 10, 0,
     "دليلك لفك شفرات مكونات العناية بالبشرة.. ماذا تختارين وكيف تقرئين الملصقات؟"),
    ("asharq-al-awsat.xml", 15, 0,
     "تنظيم النسخة الـ12 من «قمرة السينمائي» بقطر افتراضياً بفعل الحرب"),
    ("hespress_transcribed.xml", 10, 0,
     '"بيت مال القدس" تطلق حملة رمضان'),
    ("rt-arabic.xml", 10, 0,
     "6 قتلى و29 مصابا في غارات إسرائيلية على مناطق في صور وصيدا جنوب لبنان"),
    ("sky-news-arabia.xml", 15, 0,
     "روسيا تحذر من امتداد حرب إيران إلى بحر قزوين"),
    ("aljazeera-english/aljazeera_com_all_2026-08-13.xml", 25, 2,
     "US diplomat calls Israeli settler siege of West Bank homes ‘act of terror’"),
    ("aljazeera-english/aljazeera_com_all_2026-08-13_earlier.xml", 25, 0,
     "Israeli settlers besiege Palestinian families in West Bank’s Qusra"),
    ("bbc-urdu/bbc_urdu_atom_2014.xml", 53, 0, "قزاقستان سے بحرِ ہند تک لاپتہ طیارے کی تلاش جاری"),
    ("bbc-urdu/bbc_urdu_rss_2018.xml", 26, 1,
     "امریکہ کے ساتھ خفیہ معلومات کا تبادلہ اور فوجی تعاون معطل کر دیا: وزیر دفاع"),
    ("hoder-persian-blog/hoder.xml", 7, 1, "لينکدونی\u200c | به صبحانه آگهی بدهید"),
    ("hamakor-hebrew/hamakor.xml", 8, 0, "סינטרה מודולרית"),
    ("cercle-psy/cercle_psy_no_decl_iso-8859-1.xml", 9, 2, "La criminalité liée surtout à... l'ennui ?"),
    ("golem-de/golem_iso-8859-1.xml", 40, 0,
     "Red Dead Redemption 2: Hinweise auf PC-Umsetzung in App von Rockstar Games"),
    ("ibash-ru/ibash.ru.xml", 50, 0, "Цитата #16099"),
    ("xakep-ru/xakep.ru.xml", 25, 0, "Руководители разведки США шутят об убийстве Сноудена"),
    ("openstreetmap-diaries/openstreetmap_diary.xml", 20, 3, "Klášterec nad Ohří má špatně zakreslené plochy"),
    ("diskuse-jakpsatweb/rss_diskuse.xml", 1, 0,
     "Kajman, O této diskusi: test <pre> in <description> and <b>bold</b> in title"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "count", "index", "title"), feed_cases(REAL_FEEDS))
def test_real_feeds_give_their_items(name, count, index, title):
    feed = parse_feed(read(name), {"Content-Type": "application/rss+xml"}, url="https://x.test/")
    assert feed.error is None
    assert len(feed.items) == count
    assert feed.items[index].title == title
    assert all(item.guid or item.link for item in feed.items)
    assert all(item.published is not None and item.published.tzinfo is UTC for item in feed.items)


@pytest.mark.parametrize("path", ARABIC_FEEDS, ids=lambda p: p.stem)
def test_arabic_feeds_decode_to_arabic_text(path):
    feed = parse_feed(path.read_bytes())
    assert feed.items
    for item in feed.items:
        assert ARABIC_LETTER.search(item.title), item.title
        assert not MOJIBAKE.search(item.title + item.html), item.title


def test_breaking_placeholder_and_wordpress_boilerplate_come_through():
    jazeera = parse_feed(read("al-jazeera_transcribed.xml"))
    hespress = parse_feed(read("hespress_transcribed.xml"))
    assert any("التفاصيل بعد قليل" in item.html for item in jazeera.items)
    assert any("appeared first on" in item.html for item in hespress.items)
    assert all(item.link and "traffic_source=rss" in item.link for item in jazeera.items)


@needs_shared
def test_item_dates_are_utc():
    feed = parse_feed(read("bbc-urdu/bbc_urdu_atom_2014.xml"))  # +05:00 offsets in the source
    assert feed.items[0].published == datetime(2014, 3, 16, 8, 22, 25, tzinfo=UTC)


# --- Arabic legacy encodings -------------------------------------------------------------------


def sample_paragraph(name: str) -> bytes:
    html = (SAMPLES / name).read_bytes()
    return html.split(b'<body dir="RTL">')[1].split(b"</body>")[0].strip()


def legacy_rss(paragraph: bytes, declaration: bytes = b"") -> bytes:
    """An RSS document around raw legacy bytes: the first sentence is the title."""
    title = paragraph.split(b" . ")[0]
    return declaration + (
        b'<rss version="2.0"><channel><title>\xc3\xce\xc8\xc7\xd1</title>'
        b"<item><title>" + title + b"</title><guid>a1</guid>"
        b"<description>" + paragraph + b"</description></item></channel></rss>"
    )


ARABIC_SAMPLES = [
    ("windows-1256_no_charset.html", "cp1256"),
    ("iso-8859-6_no_charset.html", "iso8859-6"),
]


@needs_shared
@pytest.mark.parametrize(("sample", "codec"), ARABIC_SAMPLES)
@pytest.mark.parametrize(
    ("declaration", "headers"),
    [
        (b"", {}),
        (b'<?xml version="1.0"?>\n', {"Content-Type": "text/xml"}),
        (b"", {"Content-Type": "application/rss+xml"}),
        (b'<?xml version="1.0" encoding="{codec}"?>\n', {}),
        (b"", {"Content-Type": "text/xml; charset={codec}"}),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?>\n', {}),  # a lying Latin-1 default
        (b"", {"Content-Type": "text/xml; charset=windows-1252"}),
        (b'<?xml version="1.0" encoding="utf-8"?>\n', {}),  # a lying UTF-8 label
    ],
    ids=[
        "bare",
        "decl-no-enc",
        "no-charset",
        "xml-decl",
        "http",
        "latin1-lie",
        "cp1252-lie",
        "utf8-lie",
    ],
)
def test_undeclared_and_mislabelled_arabic_decodes(sample, codec, declaration, headers):
    paragraph = sample_paragraph(sample)
    declaration = declaration.replace(b"{codec}", codec.encode())
    headers = {k: v.replace("{codec}", codec) for k, v in headers.items()}
    feed = parse_feed(legacy_rss(paragraph, declaration), headers)
    expected = paragraph.decode(codec)
    assert feed.error is None
    assert len(feed.items) == 1
    assert feed.title == "أخبار"
    assert feed.items[0].title == expected.split(" . ")[0]
    assert feed.items[0].title.startswith("أعلنت كتائب الشهيد عز الدين القسام")
    assert feed.items[0].html == expected


@needs_shared
@pytest.mark.parametrize(("sample", "codec"), ARABIC_SAMPLES)
def test_charset_override_wins_over_a_lying_declaration(sample, codec):
    wrong = "iso-8859-6" if codec == "cp1256" else "windows-1256"
    body = legacy_rss(
        sample_paragraph(sample), f'<?xml version="1.0" encoding="{wrong}"?>'.encode()
    )
    headers = {"Content-Type": f"application/rss+xml; charset={wrong}"}
    fixed = parse_feed(body, headers, charset_override=codec)
    assert fixed.items[0].title.startswith("أعلنت كتائب الشهيد")


@pytest.mark.parametrize("path", ARABIC_FEEDS, ids=lambda p: p.stem)
@pytest.mark.parametrize("codec", ["cp1256", "iso8859-6"])
def test_real_arabic_feeds_reencoded_without_declaration(path, codec):
    """The real items, re-encoded to a legacy charset (characters it lacks as &#NNN;)."""
    original = parse_feed(path.read_bytes())
    text = path.read_bytes().decode("utf-8")
    legacy = without_declaration(text.encode(codec, errors="xmlcharrefreplace"))
    assert choose_encoding(legacy) == codec
    reparsed = parse_feed(legacy)
    assert [i.title for i in reparsed.items] == [i.title for i in original.items]
    assert [i.html for i in reparsed.items] == [i.html for i in original.items]


# --- traps from miniflux and ruTorrent ----------------------------------------------------------

TRAPS = [
    ("miniflux-encoding-synthetic/koi8r.xml", "Пример RSS ленты", ["Первая новость", "Вторая новость"]),
    ("miniflux-encoding-synthetic/invalid-prolog.xml", "테스트 피드", ["Café"]),
    ("miniflux-encoding-synthetic/utf8-incorrect-prolog.xml", "테스트 피드", ["Café"]),
    ("miniflux-encoding-synthetic/windows-1252-incorrect-prolog.xml", "Euro €", []),
    ("rutorrent-encoding-synthetic/rss-mislabeled-win1251-sample.xml", "Русский торрент канал",
     ["Новый фильм — четвёртый сезон"]),
    ("rutorrent-encoding-synthetic/rss-win1251-sample.xml", "Русский торрент канал",
     ["Новый фильм — четвёртый сезон"]),
    ("rutorrent-encoding-synthetic/rss-utf8-sample.xml", "Русский торрент канал",
     ["Новый фильм — четвёртый сезон"]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "title", "item_titles"), feed_cases(TRAPS))
def test_encoding_traps(name, title, item_titles):
    feed = parse_feed(read(name))
    assert feed.error is None
    assert feed.title == title
    assert [item.title for item in feed.items] == item_titles


@needs_shared
def test_truncated_feed_keeps_its_items():
    feed = parse_feed(read("rutorrent-encoding-synthetic/rss-sample-erroneous.xml"))
    assert feed.error is None
    assert feed.title == "Vexatious torrent channel©"  # ISO-8859-1 as declared
    assert feed.items[0].title == "The best title"
    assert feed.items[0].guid == "https://onerous.me/path/to/torrent?guid=ABCD&perm"
    assert feed.ttl_minutes == 60


@needs_shared
def test_detector_on_the_chardet_samples():
    assert (
        detect_encoding(SAMPLES.joinpath("windows-1256_no_charset.html").read_bytes())[0]
        == "cp1256"
    )
    assert (
        detect_encoding(SAMPLES.joinpath("iso-8859-6_no_charset.html").read_bytes())[0]
        == "iso8859-6"
    )
    latin = read("cercle-psy/cercle_psy_no_decl_iso-8859-1.xml")
    assert detect_encoding(latin)[0] == "cp1252"
    assert detect_encoding(without_declaration(read("ibash-ru/ibash.ru.xml")))[0] == "cp1251"
    assert (
        detect_encoding(without_declaration(read("miniflux-encoding-synthetic/koi8r.xml")))[0]
        == "koi8-r"
    )


def test_choose_encoding_leaves_unicode_and_ascii_to_feedparser():
    assert choose_encoding("<rss/>".encode("utf-16")) is None
    assert choose_encoding(b"\xef\xbb\xbf<rss>\xd8\xb9</rss>") is None
    assert choose_encoding(b"<rss>plain</rss>") is None
    assert choose_encoding("<rss>عاجل</rss>".encode()) == "utf-8"
    assert choose_encoding(b"<rss/>", charset_override="windows-1256") == "cp1256"
    assert (
        choose_encoding("<rss>عاجل</rss>".encode(), charset_override="no-such-charset") == "utf-8"
    )


def test_override_that_is_not_a_text_encoding_is_ignored():
    body = make_rss("موجز", sample_items(1)).encode()
    assert parse_feed(body, charset_override="base64").items[0].title == sample_items(1)[0]["title"]


def test_mostly_utf8_feed_with_a_stray_byte_stays_utf8():
    body = make_rss("موجز", sample_items(3)).encode().replace(b"</title>", b"\xe9</title>", 1)
    feed = parse_feed(body)
    assert feed.title == "موجز\ufffd"
    assert [i.title for i in feed.items] == [i["title"] for i in sample_items(3)]


def test_utf16_feed_parses():
    feed = parse_feed(make_rss("موجز", sample_items(2)).replace("UTF-8", "UTF-16").encode("utf-16"))
    assert [item.title for item in feed.items] == [i["title"] for i in sample_items(2)]


# --- items ---------------------------------------------------------------------------------------


def test_items_carry_content_dates_and_shortlinks():
    items = sample_items(2)
    items[1]["guid"] = "https://example.com/news/2/"
    items[1]["guid_is_permalink"] = True
    feed = parse_feed(make_rss("موجز <الاختبار> & تجربة", items).encode())
    first, second = feed.items
    assert feed.title == "موجز <الاختبار> & تجربة"
    assert first == FeedItem(
        guid="https://example.com/?p=1001",
        link="https://example.com/news/1/?utm_source=rss&traffic_source=rss",
        title="الحكومة المغربية تعلن خطة جديدة لدعم الفلاحين بعد موسم الجفاف",
        html=items[0]["content"],
        published=datetime(2026, 3, 24, 8, 1, tzinfo=UTC),
        shortlink="https://example.com/?p=1001",
    )
    assert second.shortlink is None


def test_titles_are_plain_text_and_relative_links_resolve():
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title><ttl>15</ttl>
<item><title>&lt;b&gt;\xd8\xb9\xd8\xa7\xd8\xac\xd9\x84&lt;/b&gt; &amp;amp; more &#8230;</title>
<link>/news/7</link><guid isPermaLink="false">https://www.aljazeera.com/?t=1786608524</guid>
<atom:link rel="shortlink" href="https://s.test/?p=7"/>
<description>only a summary</description><pubDate>Tue, 24 Mar 2026 10:00:00 +0300</pubDate></item>
<item><title>x</title><guid isPermaLink="false">https://www.aljazeera.com/?t=1786608525</guid></item>
</channel></rss>"""
    feed = parse_feed(body, url="https://site.test/feed/")
    first, second = feed.items
    assert first.title == "عاجل & more …"
    assert first.link == "https://site.test/news/7"
    assert first.html == "only a summary"
    assert first.shortlink == "https://s.test/?p=7"
    assert second.shortlink is None  # ?t=<timestamp> is not a post id
    assert first.published == datetime(2026, 3, 24, 7, 0, tzinfo=UTC)
    assert feed.ttl_minutes == 15


def test_atom_plain_text_content_is_escaped_to_html():
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><id>tag:x,2026:1</id><title>t</title><updated>2026-03-24T10:00:00Z</updated>
<content type="text">a &lt; b</content></entry></feed>"""
    item = parse_feed(body).items[0]
    assert item.html == "a &lt; b"
    assert item.guid == "tag:x,2026:1"


# --- things that are not feeds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"  \r\n\t ", "empty body"),
        (HTML_PAGE.encode(), "not a feed: the server sent an HTML page"),
        (b"<!-- cached --><html><body>503 Service Unavailable</body></html>", "HTML page"),
        (b"Internal Server Error", "not a feed"),
        (b'{"error": "rate limited"}', "not a feed"),
        (bytes(range(256)) * 8, "not a feed"),
        (b"<?xml version='1.0'?><rss version='2.0'><channel><title>x", "malformed feed"),
        (b"/etc/passwd", "not a feed"),  # feedparser would open this as a file; we never let it
    ],
    ids=["empty", "blank", "html", "html-comment", "text", "json", "binary", "cut-short", "path"],
)
def test_not_a_feed_is_an_error_not_an_exception(body, reason):
    feed = parse_feed(body)
    assert feed.error is not None
    assert reason in feed.error
    assert feed.items == []


def test_valid_empty_feed_is_not_an_error():
    feed = parse_feed(make_rss("موجز فارغ", []).encode())
    assert feed == ParsedFeed(title="موجز فارغ", link="https://example.com/", items=[])


@pytest.mark.slow  # feedparser's whole corpus
def test_feedparser_corpus_never_raises():
    """All 2,248 data files of feedparser's own test corpus go through parse_feed."""
    assert hashlib.sha256(FEEDPARSER_SDIST.read_bytes()).hexdigest() == FEEDPARSER_SDIST_SHA256
    corpus = dict(feedparser_corpus())
    assert len(corpus) == 2248
    results = {
        name: parse_feed(body, url="http://example.org/feed") for name, body in corpus.items()
    }
    crashed = {n: r.error for n, r in results.items() if r.error and "could not parse" in r.error}
    assert crashed == {}
    assert sum(len(r.items) for r in results.values()) > 900
    assert sum(r.error is not None for r in results.values()) < 20
    assert results["encoding/utf-32be-bom.xml"].error is None  # BOM'd UTF-32: feedparser's


def test_parse_feed_runs_in_a_process_pool():
    assert pickle.loads(pickle.dumps(parse_feed)) is parse_feed
    body = read("sky-news-arabia.xml")
    with ProcessPoolExecutor(max_workers=1) as pool:
        feed = pool.submit(parse_feed, body, {"Content-Type": "application/rss+xml"}).result()
    assert feed == parse_feed(body, {"Content-Type": "application/rss+xml"})


HOSTILE_LINKS = [
    "tg://proxy?server=proxy.example&port=443&secret=ee00",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "  JAVASCRIPT:alert(1)",
    "\x01javascript:alert(1)",
    "\tjavascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "mailto:editor@example.com",
    "ftp://files.example.com/a",
    "http://",  # a scheme and no host
    "https://news.example.com/\x07a",  # a control character inside
]


def one_item_rss(link: str, *, guid: str | None = None, title: str = "خبر عاجل") -> bytes:
    """An RSS feed of one item with this link (XML-escaped; control characters as they are)."""
    escaped = link.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    guid_tag = f"<guid isPermaLink='false'>{guid}</guid>" if guid else ""
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>T</title>"
        f"<link>{escaped}</link><item><title>{title}</title><link>{escaped}</link>{guid_tag}"
        "<description>نص الخبر</description></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize("link", HOSTILE_LINKS)
@pytest.mark.parametrize("base", ["https://site.test/feed/", ""])
def test_only_web_links_are_item_links(link, base):
    feed = parse_feed(one_item_rss(link), url=base)
    (kept,) = feed.items  # the item stays, and is alerted, without a link
    assert (kept.title, kept.link, kept.shortlink) == ("خبر عاجل", None, None)
    assert feed.link is None
    again = parse_feed(one_item_rss(link), url=base).items[0]
    assert item_key(again) == item_key(kept)  # the same item on the next poll: no second alert
    other = parse_feed(one_item_rss(link + "2"), url=base).items[0]
    assert item_key(other) != item_key(kept)  # its own identity, as its link gave it before


@pytest.mark.parametrize(
    ("link", "resolved"),
    [
        ("/news/7", "https://site.test/news/7"),
        ("news/8", "https://site.test/feed/news/8"),
        ("//cdn.site.test/9", "https://cdn.site.test/9"),
        ("HTTPS://Site.test/10", "https://Site.test/10"),
        (" http://site.test/11 ", "http://site.test/11"),
    ],
)
def test_web_links_and_relative_links_stay(link, resolved):
    (kept,) = parse_feed(one_item_rss(link, guid="g1"), url="https://site.test/feed/").items
    assert kept.link == resolved
