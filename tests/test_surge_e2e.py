"""Surge notices end to end (issue #31): real feeds over loopback, polled by the production
Application (tests/offline.py), the surge check run as its job runs it, on a FakeClock."""

from __future__ import annotations

from datetime import UTC, datetime

from core.i18n import Plural, Raw
from core.models import Subscription
from core.query import parse_stored
from core.render import anchor_html
from core.surge import HOUR, hour_of
from service import keyword_ways, keywords, sources
from service.base import Refusal
from storage import chats as chat_store
from storage import feeds as feed_store
from storage import keyword_hours
from tests.feedserver import make_rss
from tests.offline import ar, offline_bot
from tests.support import USER
from tests.timing import FakeClock, eventually

T0 = 1_795_000_000.0  # FULL_TEXT off: these short items are the whole story, no page read
GOLD = "الذهب"
STORIES = [
    ("ارتفاع سعر الذهب إلى مستوى قياسي في الأسواق العالمية",
     "سجل الذهب ارتفاعاً قياسياً اليوم مع إقبال المستثمرين على الملاذات الآمنة."),
    ("البنك المركزي يشتري أطناناً من الذهب لتعزيز احتياطياته",
     "أعلن البنك المركزي شراء كميات كبيرة من الذهب خلال الشهر الماضي."),
    ("تجار المجوهرات يشكون ركود المبيعات مع غلاء الذهب",
     "قال تجار في سوق الصاغة إن الطلب تراجع بعد صعود أسعار الذهب."),
    ("مناجم الذهب في السودان تستأنف العمل بعد توقف طويل",
     "استأنفت شركات التعدين استخراج الذهب من مناجم الشمال."),
    ("محللون: الذهب قد يواصل الصعود حتى نهاية العام",
     "توقع خبراء أن يبقى الذهب جذاباً في ظل التضخم وتقلب العملات."),
    ("صادرات الذهب الإماراتية تسجل نمواً لافتاً",
     "ارتفعت صادرات الإمارات من الذهب والمعادن النفيسة بنسبة كبيرة."),
    ("الذهب يتراجع قليلاً بعد بيانات الوظائف الأمريكية",
     "انخفض سعر الذهب في التعاملات الصباحية عقب صدور أرقام سوق العمل."),
    ("مهربو الذهب في قبضة الجمارك بمطار القاهرة",
     "ضبطت سلطات الجمارك سبائك من الذهب مخبأة في حقائب مسافرين."),
    ("الهند ترفع الرسوم الجمركية على واردات الذهب",
     "قررت الحكومة الهندية زيادة الرسوم المفروضة على استيراد الذهب."),
    ("صندوق استثمار جديد في الذهب يجذب صغار المدخرين",
     "أطلقت شركة مالية صندوقاً يتيح شراء حصص صغيرة من الذهب."),
    ("اكتشاف قطع أثرية من الذهب في موقع قديم",
     "عثر علماء آثار على حلي مصنوعة من الذهب تعود إلى قرون."),
    ("أسعار الذهب في المغرب تبلغ ذروتها هذا الأسبوع",
     "بلغ سعر غرام الذهب في محلات الدار البيضاء أعلى مستوى له."),
    ("الصين تضاعف مشترياتها من الذهب وسط التوتر التجاري",
     "زادت بكين حيازاتها من المعدن الأصفر للشهر العاشر على التوالي."),
    ("لصوص يسرقون متجراً للذهب في وضح النهار",
     "اقتحم مسلحون محلاً لبيع الذهب في وسط المدينة وفروا بغنيمتهم."),
    ("تركيا تطرح سندات مدعومة بالذهب للمواطنين",
     "أصدرت وزارة المالية التركية صكوكاً مرتبطة بأسعار الذهب لجذب المدخرات."),
    ("عمال مناجم الذهب في جنوب أفريقيا يضربون عن العمل",
     "توقف آلاف العمال في مناجم جوهانسبرغ احتجاجاً على الأجور المتدنية."),
    ("روسيا تبيع جزءاً من احتياطي الذهب لتمويل الميزانية",
     "أعلن صندوق الثروة الروسي بيع سبائك لسد العجز المالي المتزايد."),
    ("الذهب الرقمي يثير جدلاً بين المصرفيين في لندن",
     "ناقش مصرفيون بريطانيون مخاطر العملات المشفرة المغطاة بالمعدن النفيس."),
]  # fmt: skip


def items(numbers: range, now: float, host: str = "hespress.com") -> list[dict]:
    """Stories as RSS items, published over the half hour before `now`, oldest first."""
    return [
        {
            "title": STORIES[n][0],
            "link": f"https://{host}/{n}.html",
            "guid": f"https://{host}/{n}.html",
            "content": f"<p>{STORIES[n][1]}</p>",
            "pubDate": datetime.fromtimestamp(now - 1800 + 60 * i, UTC),
        }
        for i, n in enumerate(numbers)
    ]


def usual_of_one_an_hour(db, now: float) -> None:
    """Two days of «الذهب» at one story an hour, before the last hour."""
    key = parse_stored(GOLD).key
    for hour in range(hour_of(now) - 48, hour_of(now) - 1):
        keyword_hours.count_story(db, [key], hour)


async def poll(bot, feeds, path: str, title: str, stories: list[dict]) -> None:
    """One more outlet's feed, its items news already, polled once."""
    feeds.set_feed(path, make_rss(title, stories))
    feed_store.add_feed(
        bot.db, feeds.url(path), title=title, interval_seconds=10**6, now=bot.clock(), primed=True
    )
    await bot.application.bot_data.rasd.poller.run_once()


def check(bot) -> int:
    """The surge job's work, once."""
    data = bot.application.bot_data
    return data.surges.check(data.rasd.services.backend, data.rasd.catalog)


def surge_notices(bot) -> list:
    return [m for m in bot.messages(USER) if m.text.startswith("📈")]


def line(title: str, url: str, sources: str) -> str:
    return ar("surge_line", title=Raw(anchor_html(url, title)), sources=sources)


async def follow(bot, sara, pace: str | None) -> int:
    await sara.send(f"/add {GOLD}")
    backend = bot.application.bot_data.rasd.services.backend
    sub = keywords.keywords(backend, USER)[0]
    if pace is not None:
        keyword_ways.set_pace(backend, USER, sub.id, pace)
    return sub.id


async def test_a_burst_gives_one_notice_with_the_top_stories_and_a_second_burst_none(
    tmp_path, feeds
):
    clock = FakeClock(T0)
    async with offline_bot(tmp_path, clock=clock, FULL_TEXT="false") as bot:
        sara = bot.private(USER, "سارة")
        sub_id = await follow(bot, sara, "daily")  # a digest keyword: surges on by default
        usual_of_one_an_hour(bot.db, clock())
        await poll(bot, feeds, "/hespress.xml", "هسبريس", items(range(6), clock()))
        copy = items(range(2, 3), clock(), host="aljazeera.net")  # story 3, told again
        await poll(bot, feeds, "/jazeera.xml", "الجزيرة", copy)
        assert check(bot) == 1
        [notice] = await eventually(lambda: surge_notices(bot), "the surge notice")
        stories = ar("surge_notice", keyword=GOLD, stories=Plural("n_stories", 6), usual=1)
        assert notice.text == "\n".join(
            [
                stories,
                "",
                ar("surge_top"),
                line(STORIES[2][0], "https://hespress.com/2.html", "هسبريس، الجزيرة"),
                line(STORIES[5][0], "https://hespress.com/5.html", "هسبريس"),
                line(STORIES[4][0], "https://hespress.com/4.html", "هسبريس"),
            ]
        )
        assert "📈 وردت «الذهب» في 6 قصص خلال الساعة الأخيرة، والمعتاد نحو 1 في الساعة." in (
            notice.plain
        )

        clock.advance(2 * HOUR)  # a new burst, within the six hours between two notices
        await poll(bot, feeds, "/sky.xml", "سكاي نيوز", items(range(6, 12), clock()))
        assert check(bot) == 0
        assert len(keyword_hours.surges_of(bot.db, sub_id)) == 1

        clock.advance(5 * HOUR)  # past the spacing: the next burst is told
        await poll(bot, feeds, "/rt.xml", "روسيا اليوم", items(range(12, 18), clock(), "rt.com"))
        assert check(bot) == 1
        assert len(keyword_hours.surges_of(bot.db, sub_id)) == 2


async def test_a_keyword_sent_at_once_gets_none_until_its_surges_are_switched_on(tmp_path, feeds):
    clock = FakeClock(T0)
    async with offline_bot(tmp_path, clock=clock, FULL_TEXT="false") as bot:
        sara = bot.private(USER, "سارة")
        sub_id = await follow(bot, sara, None)  # the chat's instant alerts: surges off
        usual_of_one_an_hour(bot.db, clock())
        await poll(bot, feeds, "/hespress.xml", "هسبريس", items(range(6), clock()))
        assert check(bot) == 0
        backend = bot.application.bot_data.rasd.services.backend
        keyword_ways.set_surges(backend, USER, sub_id, True)
        assert check(bot) == 0  # nothing new since the last look
        await poll(bot, feeds, "/sky.xml", "سكاي نيوز", items(range(6, 7), clock()))
        assert check(bot) == 1
        [notice] = await eventually(lambda: surge_notices(bot), "the surge notice")
        assert notice.text.startswith(
            ar("surge_notice", keyword=GOLD, stories=Plural("n_stories", 7), usual=1)
        )


async def test_a_paused_keyword_or_chat_gets_none(tmp_path, feeds):
    clock = FakeClock(T0)
    async with offline_bot(tmp_path, clock=clock, FULL_TEXT="false") as bot:
        sara = bot.private(USER, "سارة")
        sub_id = await follow(bot, sara, "hourly")
        backend = bot.application.bot_data.rasd.services.backend
        keywords.set_keyword_paused(backend, USER, sub_id, True)
        usual_of_one_an_hour(bot.db, clock())
        await poll(bot, feeds, "/hespress.xml", "هسبريس", items(range(6), clock()))
        assert check(bot) == 0

        keywords.set_keyword_paused(backend, USER, sub_id, False)
        await sara.send("/pause")
        await poll(bot, feeds, "/sky.xml", "سكاي نيوز", items(range(6, 12), clock()))
        assert check(bot) == 0
        assert keyword_hours.surges_of(bot.db, sub_id) == []
        assert surge_notices(bot) == []


async def test_a_forum_gets_a_keywords_surge_notice_in_its_topic(tmp_path, feeds):
    clock = FakeClock(T0)
    forum = -1002000000077
    async with offline_bot(tmp_path, clock=clock, FULL_TEXT="false") as bot:
        group = bot.group(forum, "منتدى", admins=[USER], kind="supergroup")
        await group.bot_added(by=USER)
        backend = bot.application.bot_data.rasd.services.backend
        chat = chat_store.get_chat(bot.db, forum)
        assert chat is not None
        added = keywords.add_keyword(backend, chat, GOLD, thread_id=5, topic="الاقتصاد")
        assert not isinstance(added, Refusal)
        keyword_ways.set_pace(backend, forum, added.id, "daily")  # surges on by default
        usual_of_one_an_hour(bot.db, clock())
        await poll(bot, feeds, "/hespress.xml", "هسبريس", items(range(6), clock()))
        assert check(bot) == 1
        [notice] = await eventually(
            lambda: [m for m in bot.messages(forum) if m.text.startswith("📈")], "the notice"
        )
        assert notice.thread_id == 5  # where «الذهب»'s alerts go, not General


async def test_a_keyword_limited_to_other_sources_hears_nothing_of_their_surge(tmp_path, feeds):
    clock = FakeClock(T0)
    async with offline_bot(tmp_path, clock=clock, FULL_TEXT="false") as bot:
        sara = bot.private(USER, "سارة")
        sub_id = await follow(bot, sara, "daily")
        backend = bot.application.bot_data.rasd.services.backend
        elsewhere = feed_store.add_feed(
            bot.db, feeds.url("/bbc.xml"), title="بي بي سي", interval_seconds=10**6, now=clock()
        )
        assert isinstance(sources.set_ticked(backend, USER, sub_id, {elsewhere}), Subscription)
        usual_of_one_an_hour(bot.db, clock())
        await poll(bot, feeds, "/hespress.xml", "هسبريس", items(range(6), clock()))
        assert check(bot) == 0  # the burst is hespress's, a source it does not read
        assert keyword_hours.surges_of(bot.db, sub_id) == []


async def test_a_keyword_limited_to_some_sources_counts_their_stories_alone(tmp_path, feeds):
    clock = FakeClock(T0)
    async with offline_bot(tmp_path, clock=clock, FULL_TEXT="false") as bot:
        sara = bot.private(USER, "سارة")
        sub_id = await follow(bot, sara, "daily")
        backend = bot.application.bot_data.rasd.services.backend
        feeds.set_feed("/hespress.xml", make_rss("هسبريس", items(range(6), clock())))
        hespress = feed_store.add_feed(
            bot.db, feeds.url("/hespress.xml"), title="هسبريس", interval_seconds=10**6,
            now=clock(), primed=True,
        )  # fmt: skip
        assert isinstance(sources.set_ticked(backend, USER, sub_id, {hespress}), Subscription)
        usual_of_one_an_hour(bot.db, clock())
        await poll(bot, feeds, "/sky.xml", "سكاي نيوز", items(range(6, 8), clock(), "sky.example"))
        assert check(bot) == 1  # eight stories in all: six of them its source's
        [notice] = await eventually(lambda: surge_notices(bot), "the surge notice")
        assert notice.text.startswith(
            ar("surge_notice", keyword=GOLD, stories=Plural("n_stories", 6), usual=1)
        )
        assert "hespress.com" in notice.text
        assert "sky.example" not in notice.text
