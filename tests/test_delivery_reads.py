"""One round of the sender reads what its alerts need once and hands it down: an alert's
article row is read once however many parts its message takes, a digest's once per line, and
a chat's forum topics once. Counted on the real connection with sqlite3's trace callback."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from telegram.error import BadRequest

from app.bootstrap import SendSettings, build_sender
from core.i18n import load_catalog
from core.models import Article
from core.render import message_length
from storage import articles, chats, feeds, outbox
from storage.db import Database

CATALOG = load_catalog()
CHAT = 31


# A long article: its alert, with a long summary, takes more than one short message.
SENTENCES = [
    "أعلنت وزارة التجهيز والماء في المغرب عن خطة وطنية جديدة لمواجهة الجفاف.",
    "وتشمل الخطة بناء سدود صغيرة في الأقاليم الجنوبية وتحلية مياه البحر.",
    "وقال الوزير إن المشاريع ستنطلق قبل نهاية السنة بتمويل يتجاوز عشرة مليارات درهم.",
    "وأضاف أن الفلاحين الصغار سيستفيدون من دعم مباشر لتجهيز ضيعاتهم بالري بالتنقيط.",
    "ويعاني المغرب منذ ست سنوات من تراجع حاد في التساقطات المطرية.",
    "وانخفضت نسبة ملء السدود إلى أقل من ثلاثين في المائة حسب آخر الأرقام الرسمية.",
    "ودعت جمعيات حماية البيئة إلى ترشيد استهلاك المياه في المدن الكبرى.",
    "كما طالبت بمراجعة زراعة المحاصيل التي تستهلك كميات كبيرة من المياه.",
    "وفي الدار البيضاء بدأت السلطات حملة لإصلاح شبكات التوزيع المتهالكة.",
    "ويرى خبراء أن تحلية مياه البحر تبقى الحل الأنجع على المدى البعيد رغم كلفتها.",
    "ومن المنتظر أن تعرض الحكومة تفاصيل الخطة أمام البرلمان الأسبوع المقبل.",
    "وسيتم إحداث لجنة وطنية لتتبع تنفيذ المشاريع وتقييم نتائجها كل ستة أشهر.",
]
LONG_TEXT = " ".join(SENTENCES)


@dataclass(frozen=True)
class Sent:
    """A message Telegram took."""

    message_id: int


class Telegram:
    """Stands in for the Bot API: records each message, and refuses one longer than
    `max_chars` as Telegram does."""

    def __init__(self, max_chars: int = 4096) -> None:
        self.max_chars = max_chars
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Sent:
        if message_length(text) > self.max_chars:
            raise BadRequest("Message is too long")
        self.sent.append((text, kwargs))
        return Sent(len(self.sent))


def queue_alerts(db: Database, count: int, text: str = SENTENCES[0]) -> list[int]:
    """`count` alerts for the chat, each its own story; their article ids."""
    feed_id = feeds.add_feed(db, "https://site/feed", title="المصدر", interval_seconds=300, now=1)
    ids = []
    for number in range(count):
        story = Article(item_key=f"k{number}", url=f"https://site/{number}",
                        title=f"خبر رقم {number} عن المغرب", text=text,
                        language="ar", content_hash=f"h{number}", published_at=time.time())  # fmt: skip
        _, article_id = articles.store_article(db, feed_id, story, now=1)
        articles.set_story(db, article_id, article_id)
        outbox.queue_alert(
            db, CHAT, story_id=article_id, article_id=article_id, keywords=["المغرب"], now=1
        )
        ids.append(article_id)
    return ids


async def send_all(db: Database, bot: Telegram, **settings: Any) -> list[str]:
    """Send everything owed, tracing the SQL run meanwhile; the statements."""
    sending = SendSettings(overall_per_second=1000, private_gap=0, group_gap=0, **settings)
    sender = build_sender(db, bot, CATALOG, clock=time.time, sending=sending)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        await sender.drain()
    finally:
        db.conn.set_trace_callback(None)
    assert set(outbox.status_counts(db)) == {"sent"}
    return statements


def article_reads(statements: list[str]) -> Counter[int]:
    """How many times each article row was read whole (its text with it)."""
    read: Counter[int] = Counter()
    for sql in statements:
        if "a.text" in sql and "FROM articles" in sql and sql.lstrip().startswith("SELECT"):
            read.update(int(n) for n in re.findall(r"\d+", sql[sql.index("WHERE a.id") :]))
    return read


def topic_reads(statements: list[str]) -> int:
    """Statements that read chats' keywords in forum topics."""
    return sum("FROM subscriptions" in sql and "thread_id IS NOT NULL" in sql for sql in statements)


async def test_one_alert_reads_its_article_once(db):
    chats.touch_chat(db, CHAT, type="private", title="", language="ar", now=1)
    chats.set_chat_flags(db, CHAT, link_previews=chats.preview_stored("above"))
    (article_id,) = queue_alerts(db, 1)
    bot = Telegram()
    statements = await send_all(db, bot)
    ((text, sent),) = bot.sent
    assert text.startswith("🔔 <b>خبر رقم 0 عن المغرب</b>")
    assert sent["link_preview_options"].url == "https://site/0"  # the article, read once
    assert article_reads(statements) == {article_id: 1}
    assert topic_reads(statements) == 1


async def test_an_alert_sent_in_three_parts_or_more_reads_its_article_and_topics_once(db):
    chats.touch_chat(db, CHAT, type="supergroup", title="", language="ar", now=1)
    chats.add_subscription(db, CHAT, "المغرب", "مغرب", now=1, thread_id=5, topic="الأخبار")
    chats.set_chat_flags(db, CHAT, link_previews=chats.preview_stored("below"))
    (article_id,) = queue_alerts(db, 1, LONG_TEXT)
    bot = Telegram(max_chars=400)  # the alert is longer: split smaller until its parts fit
    statements = await send_all(db, bot, summary_words=200)
    assert len(bot.sent) >= 3
    assert all(kwargs["message_thread_id"] == 5 for _, kwargs in bot.sent)
    previews = {kwargs["link_preview_options"].url for _, kwargs in bot.sent}
    assert previews == {"https://site/0"}  # every part previews the article, read once
    assert article_reads(statements) == {article_id: 1}
    assert topic_reads(statements) == 1


async def test_a_digest_of_eight_lines_reads_each_article_once(db):
    chats.touch_chat(db, CHAT, type="private", title="", language="ar", now=1)
    chats.set_chat_flags(db, CHAT, delivery_mode="hourly")
    ids = queue_alerts(db, 8)
    bot = Telegram()
    statements = await send_all(db, bot)
    ((text, _),) = bot.sent
    assert text.startswith("📬 <b>ملخص الأخبار (8):</b>")
    assert article_reads(statements) == dict.fromkeys(ids, 1)
    assert sum(1 for sql in statements if "a.text" in sql) <= 2  # the round's, the rest's
