"""Site names on titles: learned from a feed's own titles and removed, never news."""

from __future__ import annotations

from core.titles import Affixes, learn_affixes, strip_affixes
from feeds.parse import parse_feed
from intake.prepare import parse_and_prepare
from tests.data import ARABIC_FEEDS, feed_file, needs_shared

HURRA = [
    "وزير الداخلية يزور الرباط | الحرة",
    "ارتفاع أسعار النفط | الحرة",
    "قمة عربية في الرياض - البيان الختامي | الحرة",
    "عاجل: زلزال في تركيا",
]


def test_a_suffix_on_most_titles_is_learned_and_removed() -> None:
    affixes = learn_affixes(HURRA, "Alhurra")
    assert affixes == Affixes("", " | الحرة")
    assert [strip_affixes(title, affixes) for title in HURRA] == [
        "وزير الداخلية يزور الرباط",
        "ارتفاع أسعار النفط",
        "قمة عربية في الرياض - البيان الختامي",  # the part after " - " carries the news
        "عاجل: زلزال في تركيا",
    ]


def test_the_feeds_own_name_goes_even_on_few_titles() -> None:
    titles = ["هسبريس: الحكومة تعلن خطة جديدة", "خبر بلا اسم الموقع", "خبر آخر"]
    affixes = learn_affixes(titles, "Hespress - هسبريس")
    assert affixes.prefix == "هسبريس: "
    assert strip_affixes(titles[0], affixes) == "الحكومة تعلن خطة جديدة"
    assert learn_affixes([" - هسبريس"], "هسبريس").suffix == ""  # nothing before it: not a suffix


def test_news_parts_are_never_taken() -> None:
    breaking = ["عاجل: زلزال", "عاجل: انفجار", "عاجل: حريق", "تركيا: صدام"]
    assert learn_affixes(breaking, "سكاي نيوز") == Affixes()  # a colon cuts only the site name
    varied = ["الرباط - وفد يصل", "القاهرة - قمة", "بيروت - غارات", "دمشق - لقاء"]
    assert learn_affixes(varied) == Affixes()  # each part differs: news, not a name
    assert strip_affixes("| الحرة", Affixes("", "| الحرة")) == "| الحرة"  # never an empty title


@needs_shared
def test_a_real_feed_with_a_repeated_prefix() -> None:
    prepared = parse_and_prepare(
        feed_file("hoder-persian-blog/hoder.xml").read_bytes(), {}, "https://x.example/", None, ""
    )
    titles = [article.title for article in prepared.articles]
    assert titles
    assert not any(title.startswith("لينکدونی") for title in titles)
    assert "به صبحانه آگهی بدهید" in titles


def test_the_real_arabic_feeds_keep_their_titles() -> None:
    for path in ARABIC_FEEDS:  # none of the six puts its name on its titles
        body = path.read_bytes()
        expected = [" ".join(item.title.split()) for item in parse_feed(body, {}, "x").items]
        prepared = parse_and_prepare(body, {}, "https://x.example/", None, "")
        assert [a.title for a in prepared.articles] == expected, path.name
