"""Headless Chromium driven over the DevTools protocol (aiohttp's websocket client): open a page,
run script in it, read what it logged, take a screenshot."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
_DEVTOOLS = re.compile(r"DevTools listening on (ws://\S+)")


def find_chromium() -> str | None:
    """The path of a Chromium-family browser on this machine, or None."""
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


class Page:
    """One browser tab: commands in, events (console, exceptions) collected."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse, session_id: str) -> None:
        self._socket = socket
        self._session = session_id
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.errors: list[str] = []  # JavaScript exceptions and console errors
        self.loaded = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None  # reads the browser's messages

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Run one DevTools command in this tab; its result."""
        call_id = next(self._ids)
        answer = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = answer
        message = {"id": call_id, "method": method, "params": params, "sessionId": self._session}
        await self._socket.send_str(json.dumps(message))
        return await asyncio.wait_for(answer, 30)

    def receive(self, message: dict[str, Any]) -> None:
        """A message of the browser for this tab."""
        if "id" in message and message["id"] in self._waiting:
            future = self._waiting.pop(message["id"])
            if "error" in message:
                future.set_exception(RuntimeError(str(message["error"])))
            else:
                future.set_result(message.get("result", {}))
            return
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(str(details.get("exception", {}).get("description", details)))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append(" ".join(str(a.get("value", a)) for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.errors.append(params["entry"].get("text", ""))
        elif method == "Page.loadEventFired":
            self.loaded.set()

    async def open(self, url: str, *, width: int = 360, height: int = 780) -> None:
        """Load a URL at a phone's size."""
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=2,
            mobile=True,
        )
        self.loaded.clear()
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(self.loaded.wait(), 30)

    async def evaluate(self, expression: str) -> Any:
        """The value of a script expression in the page (awaited when it is a promise)."""
        result = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(str(result["exceptionDetails"]))
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 20.0) -> Any:  # noqa: ASYNC109
        """Poll an expression until it is truthy; its value."""
        async with asyncio.timeout(timeout):
            # The page lives in another process: polling it is the only way to wait on it.
            while not (value := await self.evaluate(expression)):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        return value

    async def screenshot(self) -> bytes:
        """The page as PNG, its whole height."""
        height = await self.evaluate("document.documentElement.scrollHeight")
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=360,
            height=int(height),
            deviceScaleFactor=2,
            mobile=True,
        )
        shot = await self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])


@contextlib.asynccontextmanager
async def headless_page(executable: str) -> AsyncIterator[Page]:
    """A fresh headless browser with one tab; closed on exit."""
    with tempfile.TemporaryDirectory() as profile:
        process = await asyncio.create_subprocess_exec(
            executable,
            "--headless=new",
            "--no-sandbox",  # tests may run as root in a container
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            address = await asyncio.wait_for(_devtools_address(process), 60)
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(address, max_msg_size=0) as socket,
            ):
                yield await _attach(socket)
        finally:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def _devtools_address(process: asyncio.subprocess.Process) -> str:
    assert process.stderr is not None
    while line := await process.stderr.readline():
        if found := _DEVTOOLS.search(line.decode(errors="replace")):
            return found.group(1)
    raise RuntimeError("the browser exited before it listened for DevTools")


async def _attach(socket: aiohttp.ClientWebSocketResponse) -> Page:
    """Open a tab, attach to it, and start reading the browser's messages for it."""
    await socket.send_str(
        json.dumps({"id": 1, "method": "Target.createTarget", "params": {"url": "about:blank"}})
    )
    target = (await _answer(socket, 1))["targetId"]
    await socket.send_str(
        json.dumps(
            {
                "id": 2,
                "method": "Target.attachToTarget",
                "params": {"targetId": target, "flatten": True},
            }
        )
    )
    page = Page(socket, (await _answer(socket, 2))["sessionId"])
    page.reader = asyncio.create_task(_read(socket, page))
    for domain in ("Page", "Runtime", "Log"):
        await page.send(f"{domain}.enable")
    return page


async def _answer(socket: aiohttp.ClientWebSocketResponse, call_id: int) -> dict[str, Any]:
    async for message in socket:
        data = json.loads(message.data)
        if data.get("id") == call_id:
            return data["result"]
    raise RuntimeError("the browser closed DevTools")


async def _read(socket: aiohttp.ClientWebSocketResponse, page: Page) -> None:
    async for message in socket:
        if message.type == aiohttp.WSMsgType.TEXT:
            page.receive(json.loads(message.data))
