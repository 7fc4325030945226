"""An alert's summary says why it came: a keyword that the generic summary leaves out brings in
the sentence where the article matches it, in alerts and in digests, within the budget."""

from __future__ import annotations

import re

import pytest

from core.i18n import load_catalog
from core.models import Article, OutboxRow
from core.summary import ELLIPSIS, OVERSHOOT, summarize
from delivery.compose import Composer
from delivery.summaries import choose_summary
from storage import articles, feeds
from storage.db import Database

CATALOG = load_catalog()
WORDS = 50
LONGEST = WORDS * (1 + OVERSHOOT)  # the last whole sentence may run past the budget by half

# Written for these tests: five paragraphs, «الزيتون» only in the fourth.
TITLE = "أمطار غزيرة تنعش السدود بعد سنوات من الجفاف"
LEAD = (
    "شهدت مناطق واسعة من شمال البلاد خلال الأسبوع الماضي أمطارا غزيرة رفعت منسوب المياه في"
    " السدود إلى مستويات لم تسجل منذ خمس سنوات."
)
OLIVES = (
    "وقال رئيس جمعية منتجي الزيتون في المنطقة إن الأشجار استعادت حيويتها وإن الإنتاج قد يرتفع"
    " بنحو الثلث هذا العام."
)
# One run-on sentence of 88 words, «الزيتون» the 53rd.
RUN_ON = (
    "وقال رئيس الغرفة الفلاحية الجهوية في تصريح مطول للصحافة المحلية على هامش زيارة ميدانية"
    " قام بها إلى عدد من الضيعات المتضررة في السهول الشمالية والوسطى رفقة ممثلين عن المصالح"
    " التقنية للوزارة والسلطات الإقليمية وعدد من المنتخبين وممثلي التعاونيات الفلاحية إن"
    " الأمطار الأخيرة أعادت الأمل إلى آلاف الأسر القروية التي تعيش من زراعة الزيتون وتربية"
    " المواشي منذ أجيال، وإن الحكومة مطالبة اليوم بمواكبة هذا التحسن بدعم مباشر للفلاحين"
    " الصغار وتسهيل حصولهم على القروض والبذور والأسمدة بأسعار مناسبة قبل انطلاق الموسم"
    " المقبل الذي يراهن عليه الجميع لتعويض خسائر السنوات الماضية."
)


def article_text(olives: str = OLIVES) -> str:
    """The article, with `olives` as the second sentence of its fourth paragraph."""
    return "\n".join(
        [
            f"{LEAD} وقالت وزارة التجهيز والماء إن نسبة ملء السدود بلغت ثمانية وأربعين في المئة،"
            " مقابل ثلاثين في المئة في الفترة نفسها من العام الماضي.",
            "وأوضح مدير الأرصاد الجوية في مؤتمر صحفي أن التساقطات تجاوزت المعدل السنوي في عدد"
            " من الأقاليم الشمالية والوسطى. وأضاف أن موجة جديدة من الأمطار متوقعة مع نهاية"
            " الأسبوع المقبل، مع انخفاض ملموس في درجات الحرارة.",
            "وتسببت السيول في قطع عدد من الطرق القروية، فيما تدخلت فرق الوقاية المدنية لإجلاء"
            " عشرات الأسر من منازل مهددة بالانهيار. ولم تسجل السلطات أي خسائر في الأرواح، حسب"
            " بلاغ رسمي صدر مساء الأحد.",
            "ويعول الفلاحون على هذه الأمطار لإنقاذ الموسم الزراعي، خاصة في سهول الشمال حيث تضررت"
            f" الحبوب كثيرا في المواسم الأخيرة. {olives}",
            "ويرى خبراء أن تحسن المخزون المائي لا يلغي الحاجة إلى سياسة طويلة الأمد لترشيد"
            " استهلاك المياه. ودعا بعضهم إلى تسريع مشاريع تحلية مياه البحر وإعادة استعمال المياه"
            " العادمة في سقي المساحات الخضراء.",
        ]
    )


TEXT = article_text()
GENERIC = summarize(TEXT, title=TITLE, max_words=WORDS)


def words(sentences) -> int:
    return sum(len(sentence.split()) for sentence in sentences)


def bolded(summary) -> list[str]:
    return [
        sentence[start:end]
        for sentence, spans in zip(summary.sentences, summary.highlights, strict=True)
        for start, end in spans
    ]


def store(db: Database, text: str = TEXT) -> int:
    feed_id = feeds.add_feed(db, "https://site/feed", title="المصدر", interval_seconds=300, now=1)
    story = Article(item_key="k1", url="https://site/1", title=TITLE, text=text, language="ar",
                    content_hash="h1", published_at=1_774_000_000.0)  # fmt: skip
    _, article_id = articles.store_article(db, feed_id, story, now=1)
    articles.set_story(db, article_id, article_id)
    return article_id


def alert_row(article_id: int, keywords: tuple[str, ...]) -> OutboxRow:
    return OutboxRow(id=1, chat_id=5, kind="alert", article_id=article_id, broadcast_id=None,
                     keywords=keywords, attempts=0)  # fmt: skip


def composer(db: Database) -> Composer:
    return Composer(db, CATALOG, clock=lambda: 1.0, summary_words=WORDS, shortlink_base_url=None)


def test_the_generic_summary_leaves_the_fourth_paragraph_out():
    assert GENERIC[0] == LEAD
    assert not any("الزيتون" in sentence for sentence in GENERIC)
    assert words(GENERIC) <= LONGEST


async def test_a_keyword_of_the_fourth_paragraph_shows_its_sentence_in_bold(db):
    summary = choose_summary(TITLE, TEXT, ("الزيتون",), WORDS)
    assert OLIVES in summary.sentences
    assert summary.sentences[0] == LEAD  # the lead stays; the generic summary's last one gave way
    assert set(summary.sentences) - {OLIVES} <= set(GENERIC)
    assert words(summary.sentences) <= LONGEST
    assert bolded(summary) == ["الزيتون"]
    article = articles.get_article(db, store(db))
    html = await composer(db).alert(alert_row(article.id, ("الزيتون",)), article, ["المصدر"], "ar")
    assert "منتجي <b>الزيتون</b> في المنطقة" in html
    assert html.index(LEAD) < html.index("منتجي <b>الزيتون</b>")  # in article order


async def test_a_digest_entry_carries_the_same_sentence(db):
    article_id = store(db)
    alert = choose_summary(TITLE, TEXT, ("الزيتون",), WORDS)
    text, carried = await composer(db).digest(
        [alert_row(article_id, ("الزيتون",))],
        articles.articles_by_id(db, [article_id]),
        "ar",
        digest=True,
    )
    assert carried == 1
    (quoted,) = re.findall(r"<blockquote expandable>(.*?)</blockquote>", text, re.S)
    assert quoted == " ".join(alert.sentences).replace("الزيتون", "<b>الزيتون</b>")


@pytest.mark.parametrize(
    "keyword",
    [
        "السدود",  # in the lead: the generic summary already says why
        "الجفاف",  # in the title only: the title says why
        "الزيتون -الأشجار",  # its only sentence holds the excluded word, as in matching
        "الزيتون الأخضر",  # a phrase is matched whole: these words never follow each other
    ],
)
def test_the_summary_is_unchanged_when_it_or_the_title_already_says_why(keyword):
    summary = choose_summary(TITLE, TEXT, (keyword,), WORDS)
    assert list(summary.sentences) == GENERIC


def test_a_phrase_keyword_brings_its_sentence_with_the_phrase_in_bold():
    summary = choose_summary(TITLE, TEXT, ('"منتجي الزيتون"',), WORDS)
    assert OLIVES in summary.sentences
    assert bolded(summary) == ["منتجي الزيتون"]


def test_several_keywords_bring_at_most_one_sentence_the_earliest_not_covered():
    both = choose_summary(TITLE, TEXT, ("تحلية", "الزيتون"), WORDS)  # 5th and 4th paragraphs
    assert OLIVES in both.sentences
    assert not any("تحلية" in sentence for sentence in both.sentences)
    assert set(both.sentences) - {OLIVES} <= set(GENERIC)
    covered = choose_summary(TITLE, TEXT, ("السدود", "الزيتون"), WORDS)  # the lead has one
    assert OLIVES in covered.sentences
    assert set(covered.sentences) - {OLIVES} <= set(GENERIC)


def test_a_very_long_keyword_sentence_is_cut_around_the_match():
    text = article_text(RUN_ON)
    assert len(RUN_ON.split()) > LONGEST
    assert RUN_ON.split().index("الزيتون") > WORDS
    (only,) = choose_summary(TITLE, text, ("الزيتون",), WORDS).sentences
    assert only.startswith(ELLIPSIS)
    assert only.endswith(ELLIPSIS)
    assert len(only.split()) == WORDS
    assert only.strip(ELLIPSIS) in RUN_ON
    place = only.split().index("الزيتون")
    assert WORDS // 3 < place < WORDS * 2 // 3  # the match near the middle of what is shown


def test_a_cut_keeps_a_phrase_whole():
    text = article_text(RUN_ON)
    summary = choose_summary(TITLE, text, ("زراعة الزيتون",), WORDS)
    assert bolded(summary) == ["زراعة الزيتون"]
    assert len(summary.sentences[0].split()) == WORDS


def test_a_match_near_the_start_of_a_long_sentence_keeps_its_start():
    olives = RUN_ON.replace("زيارة ميدانية", "زيارة لحقول الزيتون")
    assert olives.split().index("الزيتون") < WORDS // 2
    (only,) = choose_summary(TITLE, article_text(olives), ("الزيتون",), WORDS).sentences
    assert olives.startswith(only.removesuffix(ELLIPSIS))
    assert only.endswith(ELLIPSIS)
    assert len(only.split()) == WORDS
