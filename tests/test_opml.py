"""OPML in and out: nested outlines, Arabic titles, odd encodings, and files that are not OPML."""

from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest

from core.opml import OpmlError, OpmlFeed, build_opml, parse_opml

NESTED = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>اشتراكاتي</title></head>
  <body>
    <outline text="أخبار عربية">
      <outline text="الجزيرة" title="الجزيرة نت" type="rss"
               xmlUrl="https://www.aljazeera.net/aljazeerarss/a7c186be/rss.xml"/>
      <outline text="مغاربية">
        <outline text="هسبريس" type="rss" xmlUrl="https://www.hespress.com/feed"/>
        <outline text="نسخة مكررة" type="rss" xmlUrl="https://www.hespress.com/feed"/>
      </outline>
    </outline>
    <outline text="Tech &amp; Science" xmlurl="http://example.org/rss?a=1&amp;b=2"/>
    <outline text="no feed here" htmlUrl="https://example.org/"/>
    <outline text="ftp" xmlUrl="ftp://example.org/feed.xml"/>
    <outline text="relative" xmlUrl="/feed.xml"/>
    <outline text="  spaced
       title  " xmlUrl="  https://spaces.example/rss  "/>
  </body>
</opml>
""".encode()


def test_nested_outlines_deduplicated_and_filtered():
    assert parse_opml(NESTED) == [
        OpmlFeed("https://www.aljazeera.net/aljazeerarss/a7c186be/rss.xml", "الجزيرة نت"),
        OpmlFeed("https://www.hespress.com/feed", "هسبريس"),
        OpmlFeed("http://example.org/rss?a=1&b=2", "Tech & Science"),
        OpmlFeed("https://spaces.example/rss", "spaced title"),
    ]


def test_round_trip_with_arabic_titles_and_special_characters():
    feeds = [
        ("https://www.aljazeera.net/rss.xml", "الجزيرة نت — أخبار"),
        ("https://example.org/rss?cat=1&lang=ar", 'موقع "الأخبار" <العاجلة> & المزيد'),
        ("https://example.org/untitled", ""),
        ("https://example.org/lines", "سطر\nثان\tوعمود"),
    ]
    document = build_opml(feeds, "موجزات رصد", created=datetime(2026, 11, 28, tzinfo=UTC))
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert "الجزيرة نت".encode() in document  # Arabic as UTF-8, not character references
    root = ElementTree.fromstring(document)  # well-formed XML for any other reader too
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "موجزات رصد"
    assert root.findtext("head/dateCreated") == "Sat, 28 Nov 2026 00:00:00 +0000"
    outlines = root.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [url for url, _ in feeds]
    assert outlines[1].get("text") == 'موقع "الأخبار" <العاجلة> & المزيد'
    assert outlines[2].get("text") == "https://example.org/untitled"  # text is required
    assert outlines[3].get("title") == "سطر\nثان\tوعمود"  # kept through attribute escaping
    assert all(o.get("type") == "rss" for o in outlines)
    parsed = parse_opml(document)
    assert [(f.url, f.title) for f in parsed] == [
        feeds[0],
        feeds[1],
        ("https://example.org/untitled", "https://example.org/untitled"),
        ("https://example.org/lines", "سطر ثان وعمود"),  # whitespace collapsed on the way in
    ]


def test_control_characters_are_dropped_not_written():
    document = build_opml([("https://e.org/rss", "عنوان\x00\x07 غريب")], "x\x0b")
    assert parse_opml(document) == [OpmlFeed("https://e.org/rss", "عنوان غريب")]


def test_empty_list_is_valid_opml():
    document = build_opml([], "لا شيء")
    assert ElementTree.fromstring(document).find("body") is not None
    assert parse_opml(document) == []


def test_windows_1256_file_and_leading_blank_lines():
    text = (
        '\n\n<?xml version="1.0" encoding="windows-1256"?>\n<opml version="1.0"><body>'
        '<outline text="المصري اليوم" xmlUrl="https://www.almasryalyoum.com/rss"/></body></opml>'
    )
    assert parse_opml(text.encode("cp1256")) == [
        OpmlFeed("https://www.almasryalyoum.com/rss", "المصري اليوم")
    ]


def test_utf8_bom_is_fine():
    data = b"\xef\xbb\xbf" + build_opml([("https://e.org/rss", "خبر")], "t")
    assert parse_opml(data) == [OpmlFeed("https://e.org/rss", "خبر")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"  \n ", "the file is empty"),
        (b"<opml><body><outline xmlUrl='http://a/'></body></opml>", "mismatched tag (line 1"),
        (b"this is not xml at all", "not a valid OPML file: syntax error"),
        (b"<opml><body>", "not a valid OPML file: no element found"),
        (
            b"<?xml version='1.0'?><rss version='2.0'><channel/></rss>",
            "not an OPML file: the document is <rss>, not <opml>",
        ),
        (
            b"<!DOCTYPE html><html><body>404</body></html>",
            "not an OPML file: the document is <html>",
        ),
        (
            b'<?xml version="1.0" encoding="klingon-8"?><opml/>',
            "not a valid OPML file",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<opml><body><outline text="&b;" xmlUrl="http://x/"/></body></opml>',
            "it declares XML entities",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<opml><body><outline text="&x;" xmlUrl="http://x/"/></body></opml>',
            "it declares XML entities",
        ),
    ],
)
def test_bad_files_give_a_clear_error(data, message):
    with pytest.raises(OpmlError) as raised:
        parse_opml(data)
    assert message in str(raised.value)
