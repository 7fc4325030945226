"""Can one user or one feed stall the bot for everyone? Reply times of five /help users.

Setup: the bot runs as its own process (`python bot.py`) against the test Bot API server
(tests/botapi.py, enforcing 30 messages/s overall and 1/s per private chat) and a loopback feed
server. 30 feeds of 100 items each hold 3,000 stored articles of real length (EASC sentences,
../shared/data/easc beside the clone), added before the run so they are stored and never alerted.

Five users (new ones each phase) each send /help once a second; the figure is the time from their message to the
bot's answer, p50/p99, in three phases:
  (a) alone;
  (b) while one more user sends ten /test commands over the 3,000 stored articles;
  (c) while a new 2 MB item, matched by 30 chats, is processed and alerted;
  (d) while ten Mini App users type keywords: each asks /app/api/test every half second, the
      most the page asks (only in a checkout that has the Mini App);
  (e) while a teaser feed brings seven new items whose pages are each bad in one way: 50 MB, a
      gzip bomb, 10,000 nested <div>s, a charset only in a <meta> (windows-1256), a page that
      never finishes, a javascript: and a tg:// link (issue #28; a checkout without full text
      alerts them from the teaser at once).
The same phases run twice in one invocation: on a checkout of the baseline (--baseline, a git
ref; default the last commit before issue #14's work) and on this working tree.
Targets: p99 in (b) and (c) at most 2 s and at most 3x (a); all 30 alerts delivered; every
message at most 4,096 characters.

Run: .venv/bin/python bench/stall.py [--baseline REF] [--seconds 15]   (about 3-5 minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.shared import EASC as SHARED_EASC  # noqa: E402
from bench.shared import checkout, require_shared  # noqa: E402
from tests.botapi import MESSAGE_LIMIT, BotApiServer, RateLimits  # noqa: E402
from tests.feedserver import FeedServer, make_rss  # noqa: E402

EASC = SHARED_EASC / "Articles"
BASELINE = "246b503"  # main before issue #14
ADMIN = 900
# Five new users each phase: 15 /help in 15 s stay within either version's flood guard, so
# what is measured is the wait, never the guard.
HELP_USERS = {phase: [200 + 10 * phase + n for n in range(1, 6)] for phase in range(5)}
APP_USERS = list(range(500, 510))
APP_WORDS = ["المغرب", "الحكومة", "الرئيس", "الموسيقى", "الحرب", "التاريخ", "مصر", "العلم"]
TESTER = 300
FOLLOWERS = list(range(400, 430))
KEYWORD = "المرصد"
FEEDS, ITEMS = 30, 100


def easc_sentences() -> list[str]:
    """Every sentence of the EASC development half, in a fixed order."""
    sentences = []
    for path in sorted(EASC.glob("*/*")):
        text = " ".join(path.read_text(encoding="utf-8-sig").split())
        sentences += [s.strip() + "." for s in text.split(".") if len(s.split()) > 4]
    return sentences


def stored_feed(number: int, sentences: list[str], rng: random.Random) -> str:
    """A feed of ITEMS real-length articles (15-40 EASC sentences each)."""
    items = []
    for item in range(ITEMS):
        body = " ".join(rng.sample(sentences, rng.randint(15, 40)))
        title = " ".join(body.split()[:8])
        link = f"https://site{number}.example/{item}"
        items.append({"title": title, "description": body, "link": link, "guid": link})
    return make_rss(f"المصدر {number}", items)


def big_item(sentences: list[str], rng: random.Random) -> str:
    """A feed with one 2 MB item that mentions KEYWORD."""
    parts, size = [f"{KEYWORD} يرصد"], 0
    while size < 2_000_000:
        sentence = rng.choice(sentences)
        parts.append(sentence)
        size += len(sentence.encode()) + 1
    item = {"title": f"{KEYWORD}: تقرير مطول", "description": " ".join(parts),
            "link": "https://big.example/1", "guid": "https://big.example/1"}  # fmt: skip
    return make_rss("المصدر الكبير", [item])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


BOT_LOG = Path(os.environ["STALL_BOT_LOG"]) if os.environ.get("STALL_BOT_LOG") else None
TOO_FAST = "مهلاً"  # the flood guard's warning
LOST = 10.0  # an answer that has not come after this long counts as lost


async def help_loop(api: BotApiServer, user: int, seconds: float, times: list[float]) -> None:
    """One user sends /help a second after each answer; records each answer's delay (or LOST)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        await api.send_text(user, user, "/help")
        try:
            answer = await api.wait_for_message(user, timeout=LOST)
        except TimeoutError:
            answer = None
        if answer is None or TOO_FAST in answer.text:
            times.append(LOST)  # a flood warning is not the answer either
            why = "lost" if answer is None else "flood warning"
            print(
                f"    {why}: user {user} at {started - (deadline - seconds):.1f} s into the phase"
            )
            continue
        times.append(time.monotonic() - started)
        await asyncio.sleep(1.0)  # from the answer: the user's chat stays within 1 message/s


async def phase(api: BotApiServer, number: int, seconds: float, load=None) -> list[float]:
    """Five /help users for `seconds`, with `load` (a coroutine) started at the same moment."""
    times: list[float] = []
    helpers = [help_loop(api, user, seconds, times) for user in HELP_USERS[number]]
    extra = [load] if load is not None else []
    lags: list[float] = []
    watch = asyncio.create_task(loop_lag(lags))
    await asyncio.gather(*helpers, *extra)
    watch.cancel()
    print(f"    this process's own event loop: longest stall {max(lags, default=0):.2f} s")
    return times


async def loop_lag(lags: list[float]) -> None:
    """How late this process's loop wakes up (it serves the Bot API and the feeds)."""
    while True:
        started = time.monotonic()
        await asyncio.sleep(0.05)
        lags.append(time.monotonic() - started - 0.05)


async def test_storm(api: BotApiServer) -> None:
    """Ten /test commands at once; their answers (results, or "one at a time") are not waited
    for one by one: the flood guard may rightly drop some, and the phase ends on its own."""
    words = ["المغرب", "الحكومة", "الرئيس", "الموسيقى", "الحرب", "التاريخ", "مصر", "العلم",
             "الفن", "الاقتصاد"]  # fmt: skip
    for word in words:
        await api.send_text(TESTER, TESTER, f"/test {word}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def app_typing(
    base: str, token: str, seconds: float, answers: list[tuple[int, float]]
) -> None:
    """Ten Mini App users each ask for a keyword test every half second; each answer's status
    (200 a result, 429 "busy, ask again") and how long it took go to `answers`."""
    from core.webapp import sign_init_data  # only checkouts with the Mini App get here

    async def user(user_id: int, session: aiohttp.ClientSession) -> None:
        header = "tma " + sign_init_data(
            {
                "user": f'{{"id":{user_id},"language_code":"ar"}}',
                "auth_date": str(int(time.time())),
            },
            token,
        )
        deadline = time.monotonic() + seconds
        for n in itertools.count():
            if time.monotonic() >= deadline:
                return
            started = time.monotonic()
            body = {"keyword": APP_WORDS[(user_id + n) % len(APP_WORDS)]}
            async with session.post(
                base + "app/api/test", json=body, headers={"Authorization": header}
            ) as answer:
                await answer.read()
            answers.append((answer.status, time.monotonic() - started))
            await asyncio.sleep(max(0.0, 0.5 - (time.monotonic() - started)))

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(user(u, session) for u in APP_USERS))


async def run_checkout(source: Path, seconds: float, sentences: list[str]) -> dict[str, object]:
    """The phases against a bot started from `source`."""
    rng = random.Random(7)
    async with BotApiServer(
        rate_limits=RateLimits(overall_per_second=30, private_chat_per_second=1)
    ) as api, FeedServer() as feeds:  # fmt: skip
        for user in [ADMIN, *sum(HELP_USERS.values(), []), TESTER, *FOLLOWERS]:
            api.private_chat(user, f"u{user}", language_code="ar")
        for number in range(FEEDS):
            feeds.set_feed(f"/feed{number}.xml", stored_feed(number, sentences, rng))
        feeds.set_feed("/big.xml", make_rss("المصدر الكبير", []))
        feeds.set_feed("/teaser.xml", make_rss("مصدر المقتطفات", hostile_items(feeds)[:1]))
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp:
            database = Path(tmp) / "rasd.db"
            env = {**os.environ, "TELEGRAM_BOT_TOKEN": api.token,
                   "TELEGRAM_API_BASE_URL": api.base_url, "ADMIN_IDS": str(ADMIN),
                   "DATABASE_PATH": str(database), "POLL_INTERVAL_SECONDS": "2",
                   "ALLOW_PRIVATE_FEED_URLS": "true", "WEB_PORT": str(port), "LOG_LEVEL": os.environ.get("STALL_LOG_LEVEL", "WARNING"),
                   "PTB_TIMEDELTA": "true", "WEBAPP_URL": f"http://127.0.0.1:{port}/app/"}  # fmt: skip
            urls = [feeds.url(f"/feed{n}.xml") for n in range(FEEDS)]
            urls += [feeds.url("/big.xml"), feeds.url("/teaser.xml")]
            opml = Path(tmp) / "feeds.opml"
            outlines = "".join(f'<outline type="rss" xmlUrl="{u}"/>' for u in urls)
            opml.write_text(f"<opml version='2.0'><body>{outlines}</body></opml>")
            await cli(source, env, "import-opml", str(opml))
            bot = await asyncio.create_subprocess_exec(
                sys.executable, "bot.py", cwd=source, env=env,
                stdout=subprocess.DEVNULL, stderr=BOT_LOG.open("ab") if BOT_LOG else subprocess.DEVNULL,
            )  # fmt: skip
            try:
                result = await phases(api, feeds, seconds, sentences, rng)
                if (source / "miniapp").is_dir():
                    app_times: list[tuple[int, float]] = []
                    base = f"http://127.0.0.1:{port}/"
                    typing = app_typing(base, api.token, seconds, app_times)
                    result["app"] = await phase(api, 3, seconds, typing)
                    result["app_answers"] = app_times
                result.update(await hostile_phase(api, feeds, seconds))
                return result
            finally:
                bot.terminate()
                await bot.wait()


async def cli(source: Path, env: dict[str, str], *args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "bot.py", *args, cwd=source, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"bot.py {' '.join(args)} failed: {err.decode()[-500:]}")


async def phases(api, feeds, seconds, sentences, rng) -> dict[str, object]:
    await api.send_text(ADMIN, ADMIN, "/start")
    await api.wait_for_message(ADMIN, timeout=120)
    for user in FOLLOWERS:
        await api.send_text(user, user, f"/add {KEYWORD}")
    answered = 0
    for user in FOLLOWERS:
        with contextlib.suppress(TimeoutError):
            await api.wait_for_message(user, timeout=LOST)
            answered += 1
    await asyncio.sleep(3)
    alone = await phase(api, 0, seconds)
    storm = await phase(api, 1, seconds, test_storm(api))

    big_feed_xml = big_item(sentences, rng)  # built before the phase: this loop serves the API

    async def big_feed() -> None:
        feeds.set_feed("/big.xml", big_feed_xml)

    before = {user: len(api.sent_messages(user)) for user in FOLLOWERS}
    big = await phase(api, 2, seconds, big_feed())
    with contextlib.suppress(TimeoutError):
        await api.wait_until(
            lambda: all(len(api.sent_messages(u)) > before[u] for u in FOLLOWERS), 120
        )
    alerts = sum(len(api.sent_messages(u)) > before[u] for u in FOLLOWERS)
    longest = max(len(record.text) for record in api.send_log) if api.send_log else 0
    return {"alone": alone, "storm": storm, "big": big, "alerts": alerts, "longest": longest,
            "add_answered": answered}  # fmt: skip


def hostile_items(feeds: FeedServer) -> list[dict]:
    """A baseline teaser item, then seven whose pages are each bad in one way."""
    feeds.set_hostile("/p/huge.html", "huge", size=50_000_000, content_type="text/html")
    feeds.set_hostile("/p/bomb.html", "gzip_bomb", size=50_000_000, content_type="text/html")
    feeds.set_hostile("/p/hang.html", "hang", content_type="text/html")
    nested = "<html><body>" + "<div>" * 10_000 + "نص" + "</div>" * 10_000 + "</body></html>"
    feeds.set_page("/p/nested.html", nested)
    paragraph = f"<p>قال مسؤول في {KEYWORD} إن التقرير السنوي صدر اليوم بعد أشهر من العمل.</p>"
    meta = f'<html><head><meta charset="windows-1256"></head><body>{paragraph * 20}</body></html>'
    feeds.set_page("/p/cp1256.html", meta.encode("cp1256"))
    links = ["/p/old.html", "/p/huge.html", "/p/bomb.html", "/p/nested.html", "/p/cp1256.html",
             "/p/hang.html"]  # fmt: skip
    urls = [feeds.url(link) for link in links] + ["javascript:alert(1)", "tg://proxy?server=x"]
    return [
        {
            "title": f"تقرير {KEYWORD} رقم {n}",
            "link": url,
            "guid": f"teaser-{n}",
            "description": f"<p>مقتطف عن {KEYWORD} […]</p>",
        }  # fmt: skip
        for n, url in enumerate(urls)
    ]


async def hostile_phase(api: BotApiServer, feeds: FeedServer, seconds: float) -> dict[str, object]:
    """Phase (e): /help while the teaser feed's bad pages are fetched; its alerts delivered."""
    items = hostile_items(feeds)

    async def bad_pages() -> None:
        feeds.set_feed("/teaser.xml", make_rss("مصدر المقتطفات", items))

    before = {user: len(api.sent_messages(user)) for user in FOLLOWERS}
    times = await phase(api, 4, seconds, bad_pages())
    with contextlib.suppress(TimeoutError):
        await api.wait_until(
            lambda: all(len(api.sent_messages(u)) > before[u] for u in FOLLOWERS), 120
        )
    reached = sum(len(api.sent_messages(u)) > before[u] for u in FOLLOWERS)
    return {"pages": times, "pages_alerted": reached}


def report(name: str, result: dict[str, object]) -> None:
    print(f"\n{name}")
    floor = percentile(result["alone"], 0.99)  # type: ignore[arg-type]
    for key, label in (("alone", "(a) alone"), ("storm", "(b) /test storm"),
                       ("big", "(c) 2 MB item"), ("app", "(d) app typing"),
                       ("pages", "(e) bad pages")):  # fmt: skip
        if key not in result:
            continue
        times: list[float] = result[key]  # type: ignore[assignment]
        p50, p99 = statistics.median(times), percentile(times, 0.99)
        lost = sum(t >= LOST for t in times)
        print(f"  {label:18} n={len(times):3}  p50 {p50:6.2f} s  p99 {p99:6.2f} s"
              f"  ({p99 / floor:4.1f}x (a))  lost {lost}")  # fmt: skip
    if "app_answers" in result:
        answers: list[tuple[int, float]] = result["app_answers"]  # type: ignore[assignment]
        found = [seconds for status, seconds in answers if status == 200]
        busy = sum(status == 429 for status, _ in answers)
        print(f"  (d) the app's tests: {len(found)} results (p50 {statistics.median(found or [0]):.2f} s,"
              f" p99 {percentile(found or [0], 0.99):.2f} s), {busy} busy answers,"
              f" {len(answers) - len(found) - busy} other")  # fmt: skip
    if "pages_alerted" in result:
        print(f"  (e) followers alerted to the teaser feed's items: {result['pages_alerted']} of"
              f" {len(FOLLOWERS)}")  # fmt: skip
    print(f"  30 simultaneous /add answered: {result['add_answered']} of {len(FOLLOWERS)}")
    print(f"  alerts delivered: {result['alerts']} of {len(FOLLOWERS)};"
          f" longest message {result['longest']} chars (limit {MESSAGE_LIMIT})")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help="git ref of the code to compare")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--no-baseline", action="store_true", help="only this working tree")
    args = parser.parse_args()
    require_shared(EASC, "the EASC articles (the stored articles' sentences)")
    sentences = easc_sentences()
    with tempfile.TemporaryDirectory() as tmp:
        if args.no_baseline:
            report("this tree", await run_checkout(ROOT, args.seconds, sentences))
            return
        with checkout(args.baseline, Path(tmp) / "baseline") as old:
            report(f"baseline ({args.baseline})", await run_checkout(old, args.seconds, sentences))
    report("this tree", await run_checkout(ROOT, args.seconds, sentences))


if __name__ == "__main__":
    asyncio.run(main())
