"""The Mini App's API on a bare database: what it needs is the use cases' backend, the texts
and /test's scans, not the bot nor a Bot API server."""

from __future__ import annotations

import json
import time

from aiohttp.test_utils import TestClient, TestServer

from core.i18n import load_catalog
from core.settings import Settings
from core.subscriptions import SubscriptionBook
from core.webapp import sign_init_data
from miniapp import make_miniapp
from service.base import Backend
from service.trials import Trials

TOKEN = "123456:" + "A" * 35
USER = 111


def init_data(user_id: int, token: str) -> str:
    """initData for a user, signed now as Telegram signs it."""
    user = {"id": user_id, "first_name": "Sara", "language_code": "ar"}
    fields = {
        "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(int(time.time())),
    }
    return sign_init_data(fields, token)


async def test_the_api_needs_only_the_use_cases_backend_not_the_bot(db):
    backend = Backend(db, SubscriptionBook(), Settings(), time.time)
    refused: list[str] = []
    app = make_miniapp(backend, load_catalog(), Trials(), TOKEN, refused.append)
    signed = {"Authorization": "tma " + init_data(USER, TOKEN)}
    async with TestClient(TestServer(app)) as client:
        response = await client.post("/api/keywords", json={"keyword": "الرباط"}, headers=signed)
        added = await response.json()
        assert (response.status, added) == (
            201,
            {"id": added["id"], "keyword": "الرباط", "paused": False},
        )
        assert backend.book.match("زيارة إلى الرباط") == {USER: ["الرباط"]}
        response = await client.put("/api/settings", json={"digest_hour": 24}, headers=signed)
        assert (response.status, await response.json()) == (
            400,
            {"error": "قيمة غير مقبولة في الإعدادات: digest_hour"},
        )
        assert (await client.get("/api/keywords")).status == 401
    assert refused == ["missing"]
