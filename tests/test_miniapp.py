"""The Mini App: initData verification, its API against the running bot, and its page in a
real browser (headless Chromium)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.webapp import InitDataRefused, sign_init_data, verify_init_data
from miniapp.refusals import RefusalLog
from tests.browser import find_chromium, headless_page
from tests.feedserver import make_rss
from tests.support import ADMIN, USER, bot_settings, item, running_bot, say

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:" + "A" * 35
OTHER_USER = 222


def init_data(
    user_id: int, token: str, *, auth_date: float | None = None, language: str = "ar"
) -> str:
    """initData for a user, signed as Telegram signs it."""
    user = {"id": user_id, "first_name": "Sara", "language_code": language}
    fields = {
        "query_id": "AAH",
        "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(int(auth_date if auth_date is not None else time.time())),
    }
    return sign_init_data(fields, token)


def test_signed_init_data_names_its_user():
    user = verify_init_data(init_data(USER, TOKEN, auth_date=1000), TOKEN, now=1500, max_age=600)
    assert user.id == USER
    assert user.language_code == "ar"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda data: data.replace("Sara", "Eve"),  # a field changed after signing
        lambda data: data.replace("query_id=AAH", "query_id=AAI"),
        lambda data: data + "&admin=1",  # a field added
        lambda data: data.replace("hash=", "hash=0"),
        lambda data: "&".join(p for p in data.split("&") if not p.startswith("hash=")),
        lambda data: data + "&" + data.split("&")[0],  # a field twice
        lambda data: "",
        lambda data: "not a query string",
        lambda data: data + "&x=" + "a" * 5000,
    ],
)
def test_tampered_init_data_is_refused(tamper):
    with pytest.raises(InitDataRefused):
        verify_init_data(
            tamper(init_data(USER, TOKEN, auth_date=1000)), TOKEN, now=1001, max_age=60
        )


def test_another_bots_token_and_old_or_future_dates_are_refused():
    signed = init_data(USER, TOKEN, auth_date=1000)
    with pytest.raises(InitDataRefused):
        verify_init_data(signed, "654321:" + "B" * 35, now=1001, max_age=60)
    with pytest.raises(InitDataRefused):
        verify_init_data(signed, TOKEN, now=1061, max_age=60)  # stale
    with pytest.raises(InitDataRefused):
        verify_init_data(signed, TOKEN, now=900, max_age=60)  # signed in the future
    assert verify_init_data(signed, TOKEN, now=1060, max_age=60).id == USER


def test_a_stale_sign_in_is_told_apart_from_a_forged_one():
    signed = init_data(USER, TOKEN, auth_date=1000, language="en")
    with pytest.raises(InitDataRefused) as stale:
        verify_init_data(signed, TOKEN, now=1000 + 3601, max_age=3600)
    assert (stale.value.reason, stale.value.language_code) == ("stale", "en")  # signed by Telegram
    with pytest.raises(InitDataRefused) as forged:
        verify_init_data(signed.replace("Sara", "Eve"), TOKEN, now=1000 + 3601, max_age=3600)
    assert (forged.value.reason, forged.value.language_code) == ("bad", None)  # old and forged
    with pytest.raises(InitDataRefused) as missing:
        verify_init_data("", TOKEN, now=1000, max_age=3600)
    assert missing.value.reason == "missing"


def test_refusals_are_logged_once_a_minute_per_address_saying_how_many_were_not():
    log = RefusalLog(every=60.0, max_addresses=2)
    assert log.admit("10.0.0.1", now=0.0) == 0  # the first refusal is logged
    assert [log.admit("10.0.0.1", now=t) for t in (1.0, 30.0, 59.9)] == [None, None, None]
    assert log.admit("10.0.0.2", now=10.0) == 0  # another address has its own minute
    assert log.admit("10.0.0.1", now=60.0) == 3  # the next line says three went unlogged
    assert log.admit("10.0.0.1", now=61.0) is None
    assert log.admit("10.0.0.3", now=62.0) == 0  # room for two addresses: the oldest goes
    assert log.admit("10.0.0.2", now=63.0) == 0
    assert len(log) == 2


class AppClient:
    """Calls to the running bot's Mini App API as one signed user."""

    def __init__(self, session: aiohttp.ClientSession, base: str, header: str | None) -> None:
        self.session, self.base, self.header = session, base, header

    async def call(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        headers = {"Authorization": self.header} if self.header is not None else {}
        async with self.session.request(
            method, f"{self.base}app/api/{path}", json=body, headers=headers
        ) as response:
            data = await response.json() if response.status != 204 else None
            return response.status, data


def app_settings(api, tmp_path, **extra):
    return bot_settings(api, tmp_path, WEBAPP_URL="http://127.0.0.1:9/app/", **extra)


async def test_the_api_shares_the_chat_s_keywords_limits_and_refusals(api, feeds, tmp_path):
    stories = [item(1, "وفد يزور الرباط", ["وصل وفد رسمي إلى الرباط اليوم."])]
    feeds.set_feed("/feed.xml", make_rss("أخبار", stories))
    settings = app_settings(api, tmp_path, MAX_KEYWORDS_PER_CHAT="2")
    async with running_bot(settings) as application, aiohttp.ClientSession() as session:
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        base = application.bot_data.web.url + "/"
        me = AppClient(session, base, "tma " + init_data(USER, api.token))
        other = AppClient(session, base, "tma " + init_data(OTHER_USER, api.token))

        assert (await me.call("GET", "keywords")) == (200, {"keywords": []})
        status, added = await me.call("POST", "keywords", {"keyword": "الرباط"})
        assert status == 201
        assert "الرباط" in (await say(api, USER, "/list")).text  # one truth with the chat
        assert (await me.call("POST", "keywords", {"keyword": "في"}))[1] == {
            "error": "«في» كلمة شائعة جداً ولن تفيد في اختيار الأخبار. جرّب كلمة أدق."
        }  # the chat's own refusal
        assert (await me.call("POST", "keywords", {"keyword": "الرباط"}))[0] == 400
        status, several = await me.call("POST", "keywords", {"keyword": "غزة، لبنان"})
        assert several["error"].startswith("أضف كلمة واحدة في كل مرة")  # /add would add two
        assert (await me.call("DELETE", "keywords/²"))[0] == 404
        assert (await me.call("POST", "keywords", [[[]]] * 3))[0] == 400  # not an object
        async with session.post(
            base + "app/api/keywords", data="[" * 2000, headers={"Authorization": me.header}
        ) as deep:
            assert deep.status == 400
        await say(api, USER, "/add تونس")
        status, refused = await me.call("POST", "keywords", {"keyword": "ليبيا"})
        assert status == 400
        assert "2" in refused["error"]  # MAX_KEYWORDS_PER_CHAT, as the chat says it

        assert (await other.call("GET", "keywords")) == (200, {"keywords": []})
        assert (await other.call("DELETE", f"keywords/{added['id']}"))[0] == 404
        assert (await other.call("PATCH", f"keywords/{added['id']}", {"paused": True}))[0] == 404
        status, paused = await me.call("PATCH", f"keywords/{added['id']}", {"paused": True})
        assert paused == {"id": added["id"], "keyword": "الرباط", "paused": True}
        assert "⏸" in (await say(api, USER, "/list")).text

        status, trial = await me.call("POST", "test", {"keyword": "الرباط"})
        assert (status, trial["count"], trial["titles"]) == (200, 1, ["وفد يزور الرباط"])
        trials = application.bot_data.services.trials
        async with contextlib.AsyncExitStack() as taken:
            while trials.has_free_slot():  # every scan slot held, as by chats' /test
                await taken.enter_async_context(trials.slots)
            status, busy = await me.call("POST", "test", {"keyword": "الرباط"})
        assert (status, busy["error"]) == (429, "⏳ مشغول بتجربة أخرى الآن؛ أعد المحاولة بعد لحظة.")
        assert (await me.call("POST", "test", {"keyword": "الرباط"}))[0] == 200  # free again
        assert (await me.call("DELETE", f"keywords/{added['id']}"))[0] == 204
        assert application.bot_data.services.backend.book.match("زيارة إلى الرباط") == {}


async def test_the_api_refuses_unsigned_stale_foreign_and_banned_callers(api, tmp_path):
    async with running_bot(app_settings(api, tmp_path)) as application:
        base = application.bot_data.web.url + "/"
        async with aiohttp.ClientSession() as session:
            unknown, reopen = "تعذّر التحقق من هويتك", "مضى وقت طويل على فتح هذه الصفحة"
            old = init_data(USER, api.token, auth_date=time.time() - 2 * 86400)
            for header, refusal in (
                (None, unknown),
                ("Bearer x", unknown),
                ("tma ", unknown),
                ("tma " + init_data(USER, "654321:" + "B" * 35), unknown),
                ("tma " + old, reopen),  # signed by Telegram, but the page was left open
                ("tma " + init_data(USER, api.token).replace("Sara", "Eve"), unknown),
            ):
                status, body = await AppClient(session, base, header).call("GET", "keywords")
                assert status == 401, header
                assert body["error"].startswith(refusal)
            await say(api, ADMIN, f"/ban {USER}")
            banned = AppClient(session, base, "tma " + init_data(USER, api.token))
            assert (await banned.call("POST", "keywords", {"keyword": "الرباط"}))[0] == 403


async def test_a_page_open_over_an_hour_is_asked_to_reopen_in_its_language(api, tmp_path):
    hour_ago = time.time() - 3600
    async with running_bot(app_settings(api, tmp_path)) as application:  # the default max age
        base = application.bot_data.web.url + "/"
        async with aiohttp.ClientSession() as session:

            def client(user_id: int, auth_date: float, language: str = "ar") -> AppClient:
                signed = init_data(user_id, api.token, auth_date=auth_date, language=language)
                return AppClient(session, base, "tma " + signed)

            assert (await client(USER, hour_ago + 120).call("GET", "keywords"))[0] == 200
            for language, reopen in (
                ("ar", "مضى وقت طويل على فتح هذه الصفحة"),
                ("en", "This page has been open too long"),
            ):
                stale = client(OTHER_USER, hour_ago - 120, language)
                status, body = await stale.call("GET", "keywords")
                assert status == 401
                assert body["error"].startswith(reopen)
            forged = init_data(USER, api.token, auth_date=hour_ago - 120).replace("Sara", "Eve")
            status, body = await AppClient(session, base, "tma " + forged).call("GET", "me")
            unknown = application.bot_data.services.catalog.text("ar", "app_unauthorized")
            assert (status, body["error"]) == (401, unknown)  # old and forged: not "reopen"


async def test_refused_calls_are_all_counted_and_barely_logged(api, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="miniapp")
    async with running_bot(app_settings(api, tmp_path)) as application:
        base = application.bot_data.web.url + "/"
        stale = "tma " + init_data(USER, api.token, auth_date=time.time() - 2 * 86400)
        forged = "tma " + init_data(USER, api.token).replace("Sara", "Eve")
        headers = [None] * 20 + [stale] * 30 + [forged] * 50
        async with aiohttp.ClientSession() as session:
            for header in headers:  # 100 calls from one address
                assert (await AppClient(session, base, header).call("GET", "me"))[0] == 401
            async with session.get(application.bot_data.web.url + "/metrics") as response:
                text = await response.text()
    refused = {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "rasd_miniapp_auth_refused_total"
    }
    assert refused == {"missing": 20, "stale": 30, "bad": 50}
    lines = [r for r in caplog.records if r.name.startswith("miniapp")]
    assert 1 <= len(lines) <= 2


async def test_settings_are_the_chat_s_and_checked_like_its_buttons(api, tmp_path):
    async with running_bot(app_settings(api, tmp_path)) as application:
        base = application.bot_data.web.url + "/"
        async with aiohttp.ClientSession() as session:
            me = AppClient(session, base, "tma " + init_data(USER, api.token))
            status, settings = await me.call("GET", "settings")
            assert settings["delivery_mode"] == "instant"
            changed = {"delivery_mode": "daily", "digest_hour": 6, "quiet_start": 23,
                       "quiet_end": 6, "timezone": "Africa/Cairo", "link_previews": "above",
                       "silent": True, "article_languages": ["ar", "fr"]}  # fmt: skip
            status, saved = await me.call("PUT", "settings", changed)
            assert status == 200
            assert saved == {**settings, **changed}
            for bad in ({"digest_hour": 24}, {"timezone": "Mars/Olympus"}, {"quiet_start": 3},
                        {"timezone": "Asia"}, {"timezone": "x" * 300}, {"digest_hour": True},
                        {"article_languages": []}, {"silent": "yes"}, {"delivery_mode": "x"}):  # fmt: skip
                status, refused = await me.call("PUT", "settings", bad)
                assert status == 400, bad
                assert refused["error"].startswith("قيمة غير مقبولة")
            english = AppClient(session, base, "tma " + init_data(7, api.token, language="en"))
            status, page = await english.call("GET", "me")
            assert (page["language"], page["direction"]) == ("en", "ltr")
            assert page["texts"]["app_add"] == "Add"
            assert "Africa/Cairo" in page["timezones"]
            panel = await say(api, USER, "/settings")
            assert "Africa/Cairo" in panel.text
            assert "ملخص يومي" in panel.text
            (opening,) = [b for b in panel.buttons if "web_app" in b]
            assert opening["web_app"]["url"] == "http://127.0.0.1:9/app/"
    assert api.menu_buttons[None]["web_app"]["url"] == "http://127.0.0.1:9/app/"
    async with running_bot(bot_settings(api, tmp_path)):  # WEBAPP_URL removed
        pass
    assert api.menu_buttons[None] == {"type": "default"}  # the bot's button is taken back


CHROMIUM = find_chromium()


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: apt-get install -y chromium")
@pytest.mark.slow  # a real browser starts
async def test_the_page_adds_a_keyword_in_a_real_browser(api, feeds, tmp_path):
    assert CHROMIUM is not None
    stories = [item(1, "وفد يزور الرباط", ["وصل وفد رسمي إلى الرباط اليوم."])]
    feeds.set_feed("/feed.xml", make_rss("أخبار", stories))
    async with running_bot(app_settings(api, tmp_path)) as application:
        await say(api, ADMIN, f"/addfeed {feeds.url('/feed.xml')}", expect="✅")
        await say(api, USER, "/add تونس")
        theme = json.dumps({"bg_color": "#ffffff", "button_color": "#2ea6ff"})
        fragment = f"tgWebAppData={quote(init_data(USER, api.token))}&tgWebAppVersion=8.0"
        fragment += f"&tgWebAppThemeParams={quote(theme)}"
        url = f"{application.bot_data.web.url}/app/#{fragment}"
        async with headless_page(CHROMIUM) as page:
            await page.open(url)
            await page.wait_for("document.body.dataset.ready === 'true'")
            assert await page.evaluate("document.documentElement.dir") == "rtl"
            listed = await page.evaluate("document.getElementById('keywords').innerText")
            assert "تونس" in listed
            await page.evaluate(
                "(() => { const i = document.getElementById('add-input'); i.value = 'الرباط';"
                " i.dispatchEvent(new Event('input')); })()"
            )
            trial = await page.wait_for(
                "document.querySelector('#trial li') && document.getElementById('trial').innerText"
            )
            assert "وفد يزور الرباط" in trial
            await page.evaluate("document.getElementById('add-button').click()")
            await page.wait_for("document.getElementById('keywords').innerText.includes('الرباط')")
            added = await page.evaluate("document.getElementById('added').innerText")
            assert added == "✅ بدأت متابعة: الرباط"
            if os.environ.get("RASD_SCREENSHOT"):
                shot = await page.screenshot()  # the README's picture: RASD_SCREENSHOT=docs/…
                await asyncio.to_thread(Path(os.environ["RASD_SCREENSHOT"]).write_bytes, shot)
            button = "getComputedStyle(document.getElementById('add-button')).backgroundColor"
            assert await page.evaluate(button) == "rgb(46, 166, 255)"  # Telegram's button colour
            await page.evaluate(
                "Telegram.WebView.receiveEvent('theme_changed',"
                " {theme_params: {bg_color: '#101010', button_color: 'red'}})"
            )
            background = "getComputedStyle(document.body).backgroundColor"
            assert await page.evaluate(background) == "rgb(16, 16, 16)"  # switched while open
            assert await page.evaluate(button) == "rgb(46, 166, 255)"  # 'red' is no colour code
            assert page.errors == []
        assert "الرباط" in (await say(api, USER, "/list")).text


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: apt-get install -y chromium")
@pytest.mark.slow  # a real browser starts
async def test_the_page_asks_to_be_opened_again_when_its_sign_in_is_stale(api, tmp_path):
    assert CHROMIUM is not None
    async with running_bot(app_settings(api, tmp_path)) as application:
        stale = init_data(USER, api.token, auth_date=time.time() - 2 * 3600, language="en")
        url = f"{application.bot_data.web.url}/app/#tgWebAppData={quote(stale)}"
        async with headless_page(CHROMIUM) as page:
            await page.open(url)
            shown = await page.wait_for(
                "!document.getElementById('error').hidden"
                " && document.getElementById('error').innerText"
            )
            assert shown == application.bot_data.services.catalog.text("en", "app_expired")
