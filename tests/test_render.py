"""Alert rendering: escaping, highlights, layout, and the 4096-character limit."""

import re
from datetime import UTC, datetime

from core.i18n import load_catalog
from core.render import (
    AlertContent,
    bold_spans,
    fit_message,
    plain_text,
    render_alert,
    render_headline,
    render_notice,
)

CATALOG = load_catalog()
ALLOWED_TAG = re.compile(r"</?b>")


def test_bold_spans_escapes_and_merges():
    text = "a<b & المغرب"
    start = text.index("المغرب")
    assert bold_spans(text, [(start, start + 3), (start + 2, len(text))]) == (
        "a&lt;b &amp; <b>المغرب</b>"
    )
    assert bold_spans("x", []) == "x"


def test_alert_layout_in_arabic():
    summary = ["قال وزير الداخلية إن التعاون مع المغرب مستمر.", "وأضاف أن الزيارة مهمة."]
    start = summary[0].index("المغرب")
    html = render_alert(
        CATALOG,
        "ar",
        AlertContent(
            title="زيارة <وزير> & الداخلية",
            summary=summary,
            highlights=[[(start, start + 6)], []],
            sources=["هسبريس", "الجزيرة"],
            keywords=["المغرب"],
            link="https://example.org/a?x=1&y=2",
            published=datetime(2024, 2, 26, tzinfo=UTC),
        ),
    )
    lines = html.split("\n")
    assert lines[0] == "🔔 <b>زيارة &lt;وزير&gt; &amp; الداخلية</b>"
    assert "<b>المغرب</b>" in lines[2]
    assert lines[4] == "📰 هسبريس، وأيضاً: الجزيرة · 26 فبراير 2024"
    assert lines[5] == "🔑 المغرب"
    assert lines[6] == '🔗 <a href="https://example.org/a?x=1&amp;y=2">اقرأ في هسبريس</a>'
    assert "https://" not in re.sub(r"<[^>]+>", "", html)  # what Telegram shows: no raw URL
    assert plain_text(html).endswith("🔗 اقرأ في هسبريس https://example.org/a?x=1&y=2")
    # Nothing but <b> and the link's markup, and the text survives a round trip.
    assert set(re.findall(r"</?[a-z]+>", html)) <= {"<b>", "</b>", "</a>"}
    assert "زيارة <وزير> & الداخلية" in plain_text(html)


def test_alert_without_summary_says_so():
    html = render_alert(CATALOG, "ar", AlertContent(title="عاجل", summary=[], sources=["RT"]))
    assert "⚡ خبر عاجل، لا تتوفر تفاصيل بعد." in html


def test_a_headline_is_an_alert_s_first_and_last_lines():
    alert = AlertContent(
        title="زيارة <وزير>", summary=["نص."], sources=["هسبريس"], link="https://example.org/a"
    )
    lines = render_alert(CATALOG, "ar", alert).split("\n")
    headline = render_headline(CATALOG, "ar", "زيارة <وزير>", "هسبريس", "https://example.org/a")
    assert headline.split("\n") == [lines[0], lines[-1]]
    assert render_headline(CATALOG, "en", " Visit ", "", "https://example.org/a") == (
        '🔔 <b>Visit</b>\n🔗 <a href="https://example.org/a">Read the story</a>'
    )  # no source: the link says so
    assert render_headline(CATALOG, "ar", "زيارة", "هسبريس", "") == "🔔 <b>زيارة</b>"


def test_notice_is_escaped():
    html = render_notice(CATALOG, "en", "Maintenance <tonight> & tomorrow")
    assert html.endswith("Maintenance &lt;tonight&gt; &amp; tomorrow")


def test_fit_message_cuts_at_a_sentence_within_the_limit():
    long = "<b>عنوان</b>\n" + "جملة طويلة هنا. " * 600 + "\n🔗 https://x.org/a"
    fitted = fit_message(long)
    assert len(plain_text(fitted)) <= 4096
    assert fitted.startswith("<b>عنوان</b>\n")
    assert fitted.endswith("\n🔗 https://x.org/a")
    assert "هنا.…" in fitted
    short = "<b>x</b>"
    assert fit_message(short) is short
