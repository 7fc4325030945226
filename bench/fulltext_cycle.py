"""A poll cycle of teaser feeds with and without full text, in the same run (bench/fulltext.py's
part b).

Setup: a web server in its own process (standing for the web) serves FEEDS teaser feeds, each on a
host of its own (site<N>.test, resolved to 127.0.0.1), of ITEMS new items each, and every item's
article page; every response waits 200 ms. The pages and teasers are written here from a few
dozen sentences (nothing from ../shared). Rasd: the real bootstrap (poll cycle, page stage, parse
pool of 2 workers), 800 chats each following one of 77 places and subjects (each page names
two, one in its title); the feeds are stored primed
with no article, so the cycle stores and matches every item. Measured per run: the cycle's wall
time, CPU (this process and the pool's workers), peak memory, and poll-to-alert latency (from the
cycle's start to each alert's outbox row), p50 and p99.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import resource
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from aiohttp import web

from app.bootstrap import Rasd, bootstrap
from core.query import parse_query
from core.settings import load_settings
from feeds.fetch import Fetcher
from storage import chats as chat_store
from storage import feeds as feed_store

FEEDS, ITEMS, LATENCY = 200, 20, 0.2
SENTENCES = [
    "افتتح وزير الزراعة معرضاً للمنتجات المحلية في العاصمة بمشاركة واسعة من المزارعين",
    "وقال الوزير إن الموسم الحالي شهد تحسناً ملحوظاً في الإنتاج بفضل الأمطار الأخيرة",
    "وأضاف أن الحكومة ستواصل دعم صغار المزارعين عبر برامج تمويل ميسرة خلال العام المقبل",
    "وعرضت تعاونيات من الجنوب منتجات زيت الزيتون والعسل والتمور بأسعار تنافسية",
    "وارتفعت أسعار النفط في الأسواق العالمية بعد تراجع المخزونات الأمريكية",
    "وأعلن البنك المركزي إبقاء سعر الفائدة دون تغيير في اجتماعه الأخير",
    "وشهدت البورصة تداولات نشطة على أسهم البنوك وشركات الاتصالات",
    "وقالت وزارة الصحة إن حملة التطعيم ستشمل المدارس في جميع المحافظات",
    "ووصل وفد رسمي إلى الرباط لبحث التعاون في مجالات الطاقة والنقل",
    "وأكد رئيس الوزراء أن الحكومة ماضية في تنفيذ مشاريع البنية التحتية",
    "وتوقعت الأرصاد الجوية أمطاراً غزيرة على المناطق الشمالية نهاية الأسبوع",
    "وفاز المنتخب الوطني في مباراته الودية استعداداً لكأس أفريقيا",
    "وناقش البرلمان مشروع قانون الموازنة العامة للسنة المالية الجديدة",
    "وأطلقت الجامعة برنامجاً جديداً لتدريب الطلاب على مهارات البرمجة",
    "وافتتحت البلدية حديقة عامة جديدة في الحي الشرقي من المدينة",
    "وأشار التقرير إلى نمو صادرات الفوسفات خلال الربع الأخير من العام",
]
# What readers follow: each page names two of these in its body (one of them in its title),
# so full text finds what the teaser hides, at about the rate real keywords hit real news.
TOPICS = [
    "المغرب",
    "الجزائر",
    "تونس",
    "مصر",
    "السودان",
    "ليبيا",
    "الأردن",
    "لبنان",
    "سوريا",
    "العراق",
    "الكويت",
    "قطر",
    "البحرين",
    "السعودية",
    "اليمن",
    "فلسطين",
    "موريتانيا",
    "الصومال",
    "جيبوتي",
    "تركيا",
    "إيران",
    "فرنسا",
    "ألمانيا",
    "إسبانيا",
    "إيطاليا",
    "روسيا",
    "الصين",
    "اليابان",
    "الهند",
    "البرازيل",
    "كندا",
    "أستراليا",
    "الرباط",
    "القاهرة",
    "بيروت",
    "دمشق",
    "بغداد",
    "الدوحة",
    "الرياض",
    "عمان",
    "الخرطوم",
    "طرابلس",
    "نواكشوط",
    "أنقرة",
    "باريس",
    "برلين",
    "مدريد",
    "روما",
    "موسكو",
    "بكين",
    "طوكيو",
    "الزراعة",
    "السياحة",
    "الطاقة",
    "التعليم",
    "الصحة",
    "الاتصالات",
    "الفوسفات",
    "الذهب",
    "القمح",
    "الموانئ",
    "الطيران",
    "الانتخابات",
    "البرلمان",
    "الجامعة",
    "المونديال",
    "الهجرة",
    "الجفاف",
    "الزلزال",
]
CHATS = 800  # one keyword each: about ten readers a topic
FURNITURE = "<nav>الرئيسية · سياسة · اقتصاد · رياضة</nav><aside>الأكثر قراءة: عناوين أخرى</aside>"


def _topics(feed: int, item: int) -> tuple[str, str]:
    rng = random.Random(feed * 1000 + item)
    first, second = rng.sample(TOPICS, 2)
    return first, second


def _page(feed: int, item: int) -> str:
    rng = random.Random(feed * 1000 + item)
    first, second = _topics(feed, item)
    paragraphs = [f"{rng.choice(SENTENCES)}." for _ in range(30)]
    paragraphs[12] = f"وفي سياق متصل، تتابع {second} التطورات عن كثب."
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    title = f"خبر {item} من {first}"
    return (
        f'<!doctype html><html lang="ar"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body>{FURNITURE}<article><h1>{title}</h1>{body}</article></body></html>"
    )


def _feed(feed: int, port: int, count: int) -> str:
    items = []
    for item in range(count):
        link = f"http://site{feed}.test:{port}/p/{feed}/{item}.html"
        teaser = SENTENCES[(feed + item) % len(SENTENCES)][:60]
        items.append(
            f"<item><title>خبر {item} من {_topics(feed, item)[0]}</title><link>{link}</link>"
            f"<guid>{link}</guid><description>{teaser} […]</description></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>الموقع {feed}</title><link>http://site{feed}.test/</link>"
        f"{''.join(items)}</channel></rss>"
    )


def _serve(port_out, ready, count: int) -> None:
    """The web, in a process of its own: feeds and pages, each after LATENCY seconds."""

    async def feed(request: web.Request) -> web.Response:
        await asyncio.sleep(LATENCY)
        number = int(request.match_info["n"])
        return web.Response(
            text=_feed(number, port_out.value, count), content_type="application/rss+xml"
        )

    async def page(request: web.Request) -> web.Response:
        await asyncio.sleep(LATENCY)
        text = _page(int(request.match_info["f"]), int(request.match_info["i"]))
        return web.Response(text=text, content_type="text/html")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/f/{n}.xml", feed)
        app.router.add_get("/p/{f}/{i}.html", page)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
        await site.start()
        port_out.value = runner.addresses[0][1]
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


async def _resolve(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def _workers_cpu(rasd: Rasd) -> float:
    """CPU seconds the parse pool's workers have used so far."""
    total = 0.0
    for process in getattr(rasd.executor, "_processes", {}).values():
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _workers_peak_mb(rasd: Rasd) -> float:
    peak = 0.0
    for process in getattr(rasd.executor, "_processes", {}).values():
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


async def one_run(port: int, folder: Path, *, full_text: bool, items: int) -> dict[str, float]:
    """One cold poll cycle over every feed; its figures."""
    settings = replace(
        load_settings({}),
        database_path=folder / f"rasd-{full_text}.db",
        parse_workers=2,
        full_text=full_text,
        pages_per_cycle=FEEDS * items,
        page_wait_seconds=25.0,
    )
    fetcher = Fetcher(
        allow_private=True, resolver=_resolve, max_connections=1000, page_timeout=10.0
    )
    rasd = bootstrap(settings, fetcher=fetcher)
    with rasd.db.atomic():
        for feed in range(FEEDS):
            url = f"http://site{feed}.test:{port}/f/{feed}.xml"
            feed_store.add_feed(rasd.db, url, title="", interval_seconds=3600, now=0, primed=True)
        for chat in range(1, CHATS + 1):
            chat_store.touch_chat(rasd.db, chat, type="private", title="", language="ar", now=0)
            keyword = TOPICS[chat % len(TOPICS)]
            query = parse_query(keyword)
            sub = chat_store.add_subscription(rasd.db, chat, keyword, query.key, 0)
            stored = chat_store.subscription(rasd.db, chat, sub)
            assert stored is not None
            rasd.book.add(stored, query)
    await asyncio.get_running_loop().run_in_executor(rasd.executor, len, "warm the pool")
    cpu_before, workers_before = time.process_time(), _workers_cpu(rasd)
    started = time.time()
    report = await rasd.poller.run_once()
    wall = time.time() - started
    await rasd.poller.settled()  # teaser feeds whose items waited for their pages
    stored = time.time() - started
    parent_cpu = time.process_time() - cpu_before
    cpu = parent_cpu + _workers_cpu(rasd) - workers_before
    queued = [row[0] - started for row in rasd.db.execute("SELECT created_at FROM outbox")]
    pages = dict(rasd.db.execute("SELECT coalesce(page, '-'), count(*) FROM articles GROUP BY 1"))
    figures = {
        "cycle_s": wall,
        "all_stored_s": stored,
        "cpu_s": cpu,
        "parent_cpu_s": parent_cpu,
        "parent_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_mb": _workers_peak_mb(rasd),
        "alerts": len(queued),
        "latency_p50_s": statistics.median(queued) if queued else 0.0,
        "latency_p99_s": statistics.quantiles(queued, n=100)[98] if len(queued) > 1 else 0.0,
        "latency_max_s": max(queued, default=0.0),
        "articles": report.articles_new + sum(r.articles_new for r in rasd.poller.take_paged()),
        "pages_ok": pages.get("ok", 0),
        "pages_failed": sum(v for k, v in pages.items() if k not in ("ok", "-")),
    }
    await rasd.aclose()
    return figures


async def run() -> None:
    """A burst (every feed brings ITEMS new items at once) and a steady cycle (two each), each
    without full text and with it, against a web server process of its own."""
    for items in (ITEMS, 2):
        without, with_pages = await _both(items)
        _print(items, without, with_pages)


async def _both(items: int) -> tuple[dict[str, float], dict[str, float]]:
    port, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    context = multiprocessing.get_context("fork")
    server = context.Process(target=_serve, args=(port, ready, items))
    server.start()
    try:
        ready.wait(30)
        with tempfile.TemporaryDirectory() as folder:
            without = await one_run(port.value, Path(folder), full_text=False, items=items)
            with_pages = await one_run(port.value, Path(folder), full_text=True, items=items)
    finally:
        server.terminate()
    return without, with_pages


def _print(items: int, without: dict[str, float], with_pages: dict[str, float]) -> None:
    print(
        f"\n{FEEDS} teaser feeds x {items} new items, every response after {LATENCY * 1000:.0f} ms"
    )
    print(f"{'':18}{'without pages':>16}{'with pages':>14}")
    for name in without:
        print(f"{name:18}{without[name]:>16.2f}{with_pages[name]:>14.2f}")
    ratio = with_pages["cycle_s"] / without["cycle_s"]
    print(f"cycle with pages / without: {ratio:.2f}x (target <= 3x)")
    print(
        f"alerts with pages: p99 {with_pages['latency_p99_s']:.1f} s, latest "
        f"{with_pages['latency_max_s']:.1f} s after the cycle began (bound: 25 s after the "
        "feed's fetch, then storing)"
    )
