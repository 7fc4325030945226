"""Handlers without a network: the production Application, a request class that answers the
Bot API from memory, and real `telegram.Update` objects fed to `Application.process_update`
(the way python-telegram-bot's own tests work).

    async with offline_bot(tmp_path) as bot:
        sara = bot.private(USER, "سارة")
        said = await sara.send("/add المغرب")
        assert said.text == ar("added", keywords="المغرب")
        listing = (await sara.send("/list")).message
        pressed = await sara.press(listing, listing.data[0])
        assert pressed.popup == PopUp("• المغرب ⏸ (موقوفة مؤقتاً)", alert=False)

Each `send`/`press` returns a `Reply`: every message the bot sent or edited about that update
(handlers that run in the background included), the pop-up of a pressed button, and the raw
calls. The Application is built by app.telegram_app.build_application, initialised and started
as production starts it, without polling; its database is a real SQLite file in tmp_path. The
outbox sender runs as in production (what it sends shows in `OfflineBot.messages`, not in a
Reply).
`World` plays Telegram: users, chats and who administers them, the bot's messages. Calls are
checked as Telegram checks them where Rasd could get it wrong (HTML, 4,096 characters, 64-byte
callback data, 200-character pop-ups, "message is not modified"); a method the bot calls that
World does not know fails the test.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext
from telegram.request import BaseRequest, RequestData

from app import telegram_app
from core.i18n import load_catalog
from core.settings import load_settings
from storage.db import Database
from tests.botapi import (
    CALLBACK_ANSWER_LIMIT,
    MESSAGE_LIMIT,
    NOT_MODIFIED,
    ApiError,
    HtmlParseError,
    bad_request,
    detect_entities,
    forbidden,
    parse_html,
    trim_text,
    utf16_len,
)
from tests.support import USER, bot_env, fresh_database
from tests.timing import FakeClock, within

JsonDict = dict[str, Any]
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
BOT_USER: JsonDict = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "رصد",
    "username": "rasd_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}
FILE_PREFIX = "/file/bot"
CATALOG = load_catalog()


def ar(message_id: str, /, **params: object) -> str:
    """A catalog message in Arabic, as the bot sends it (HTML, parameters escaped)."""
    return CATALOG.text("ar", message_id, **params)


def en(message_id: str, /, **params: object) -> str:
    """A catalog message in English, as the bot sends it."""
    return CATALOG.text("en", message_id, **params)


def sara_mydata(**differences: object) -> str:
    """Sara's /mydata answer (user USER, a private chat in Arabic), as a new chat has it but for
    `differences`: every field is named, so a test states the whole message."""
    fields: dict[str, object] = {
        "id": USER,
        "type": "private",
        "language": "ar",
        "languages": "ar",
        "count": 0,
        "keywords": ar("none"),
        "mode": ar("mode_instant"),
        "timezone": "UTC",  # DEFAULT_TIMEZONE
        "quiet": ar("quiet_off"),
        "sent": 0,
        "owed": 0,
        "title": "سارة",
        "channels": ar("none"),
        "feeds": 0,
        "broadcasts": 0,
    }
    unknown = differences.keys() - fields.keys()
    assert not unknown, f"/mydata has no field {unknown}"
    return ar("mydata", **{**fields, **differences})


# ---------------------------------------------------------------- what the bot did


@dataclass(frozen=True)
class Button:
    """An inline button: its label and what it does."""

    label: str
    data: str | None = None
    url: str | None = None
    web_app: str | None = None


@dataclass(frozen=True)
class Sent:
    """One of the bot's messages in one state: `text` is the HTML the bot sent; `edits` counts
    the edits that led to this state (0: as first sent)."""

    chat_id: int
    message_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edits: int = 0
    reply_to: int | None = None
    thread_id: int | None = None
    document: tuple[str, bytes] | None = None  # file name, content
    params: JsonDict = field(default_factory=dict, compare=False, repr=False)

    @property
    def plain(self) -> str:
        """The text as Telegram shows it (tags gone, entities decoded)."""
        return plain(self.text)

    @property
    def data(self) -> list[str]:
        """The callback data of every button, row by row."""
        return [b.data for row in self.buttons for b in row if b.data is not None]

    @property
    def labels(self) -> list[str]:
        """The label of every button, row by row."""
        return [b.label for row in self.buttons for b in row]

    def button(self, prefix: str) -> str:
        """The callback data of the one button whose data starts with `prefix`."""
        found = [d for d in self.data if d.startswith(prefix)]
        assert len(found) == 1, f"{len(found)} buttons start with {prefix!r}: {self.data}"
        return found[0]


@dataclass(frozen=True)
class PopUp:
    """The bot's answer to a pressed button: a toast, or an alert to dismiss."""

    text: str | None
    alert: bool = False


@dataclass
class Call:
    """One Bot API call: its method and parameters (JSON values, as PTB sends them), the
    message or pop-up it made, or the error Telegram gave."""

    method: str
    params: JsonDict
    made: Sent | PopUp | None = None
    error: str | None = None


@dataclass
class Reply:
    """What the bot did about one update, in order."""

    calls: list[Call] = field(default_factory=list)

    @property
    def messages(self) -> list[Sent]:
        """Each message the bot sent or edited, as the call left it."""
        return [c.made for c in self.calls if isinstance(c.made, Sent)]

    @property
    def popup(self) -> PopUp | None:
        """The answer to a pressed button."""
        popups = [c.made for c in self.calls if isinstance(c.made, PopUp)]
        assert len(popups) <= 1, popups
        return popups[0] if popups else None

    @property
    def message(self) -> Sent:
        """The one message the bot sent or edited."""
        assert len(self.messages) == 1, f"{len(self.messages)} messages: {self.texts}"
        return self.messages[0]

    @property
    def text(self) -> str:
        """The HTML text of the one message the bot sent or edited."""
        return self.message.text

    @property
    def texts(self) -> list[str]:
        """The text of each message sent or edited, in order."""
        return [m.text for m in self.messages]


def plain(html_text: str) -> str:
    """HTML as Telegram shows it."""
    text, _ = parse_html(html_text)
    return text


def _buttons(markup: Any) -> tuple[tuple[Button, ...], ...]:
    if not isinstance(markup, dict):
        return ()
    return tuple(
        tuple(
            Button(
                b["text"], b.get("callback_data"), b.get("url"), (b.get("web_app") or {}).get("url")
            )
            for b in row
        )
        for row in markup.get("inline_keyboard", [])
    )


# ---------------------------------------------------------------- Telegram, from memory


@dataclass
class ChatState:
    """A chat World knows: what it is, and the status of each member (the bot's too)."""

    api: JsonDict
    statuses: dict[int, str] = field(default_factory=dict)
    bot_status: str = "member"
    blocked: bool = False  # a private chat whose user blocked the bot


class World:
    """Telegram for one offline test: users, chats, the bot's messages, every call."""

    def __init__(self) -> None:
        self.users: dict[int, JsonDict] = {}
        self.chats: dict[int, ChatState] = {}
        self.current: dict[tuple[int, int], Sent] = {}  # the bot's messages, as they stand
        self.calls: list[Call] = []
        self.unknown: list[str] = []  # methods the bot called that World does not answer
        self.faults: dict[str, list[ApiError]] = {}
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}  # (scope, language) -> menu
        self.files: dict[str, bytes] = {}
        self.answered: set[str] = set()  # callback queries answered
        self.reactions: dict[tuple[int, int], dict[int, list[str]]] = {}  # message -> who: emoji
        self.inline_answers: dict[str, JsonDict] = {}  # by inline query id
        self._ids: dict[int, itertools.count[int]] = {}

    def next_message_id(self, chat_id: int) -> int:
        """Message ids count up per chat, users' and the bot's alike."""
        return next(self._ids.setdefault(chat_id, itertools.count(1)))

    def fail_next(self, method: str, error: ApiError, count: int = 1) -> None:
        """The next `count` calls of `method` fail with `error`."""
        self.faults.setdefault(method, []).extend([error] * count)

    def member(self, chat_id: int, user_id: int) -> JsonDict:
        """A ChatMember as getChatMember answers it."""
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if user_id == BOT_USER["id"]:
            status, user = chat.bot_status, BOT_USER
        else:
            status, user = chat.statuses.get(user_id, "left"), self.users.get(user_id)
            user = user or {"id": user_id, "is_bot": False, "first_name": str(user_id)}
        return member_api(status, user, chat.api["type"])

    def answer(self, method: str, params: JsonDict, files: dict[str, Any]) -> Any:
        """The result of one call, or an ApiError."""
        call = Call(method, params)
        self.calls.append(call)
        handler = getattr(self, f"_{method}", None)
        try:
            if self.faults.get(method):
                raise self.faults[method].pop(0)
            if handler is None:
                self.unknown.append(method)
                raise bad_request(f"tests/offline.py does not answer {method}")
            return handler(call, files)
        except ApiError as error:
            call.error = error.description
            raise

    # -- the methods Rasd calls

    def _getMe(self, call: Call, files: dict) -> JsonDict:
        return BOT_USER

    def _setMyCommands(self, call: Call, files: dict) -> bool:
        params = call.params
        scope = (params.get("scope") or {"type": "default"})["type"]
        self.commands[(scope, params.get("language_code") or "")] = params["commands"]
        return True

    def _setChatMenuButton(self, call: Call, files: dict) -> bool:
        return True

    def _getChat(self, call: Call, files: dict) -> JsonDict:
        params = call.params
        ref = params["chat_id"]
        for chat in self.chats.values():
            if ref in (chat.api["id"], str(chat.api["id"]), f"@{chat.api.get('username')}"):
                if chat.bot_status in ("left", "kicked"):
                    raise bad_request("chat not found")
                return {**chat.api, "accent_color_id": 0, "max_reaction_count": 11}
        raise bad_request("chat not found")

    def _getChatMember(self, call: Call, files: dict) -> JsonDict:
        params = call.params
        return self.member(int(params["chat_id"]), int(params["user_id"]))

    def _sendMessage(self, call: Call, files: dict) -> JsonDict:
        params = call.params
        return self._send(call, params.get("text", ""))

    def _sendDocument(self, call: Call, files: dict) -> JsonDict:
        params = call.params
        upload = next(iter(files.values()))
        name, content = upload[0], upload[1]
        return self._send(call, params.get("caption", ""), document=(name, content))

    def _send(self, call: Call, text: str, document: tuple[str, bytes] | None = None):
        params = call.params
        chat_id = int(params["chat_id"])
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat.blocked:
            raise forbidden("bot was blocked by the user")
        shown = self._checked(text, allow_empty=document is not None)
        reply = params.get("reply_parameters") or {}
        sent = Sent(
            chat_id,
            self.next_message_id(chat_id),
            text,
            self._checked_buttons(params.get("reply_markup"), chat),
            reply_to=reply.get("message_id"),
            thread_id=params.get("message_thread_id"),
            document=document,
            params=params,
        )
        self.current[(chat_id, sent.message_id)] = call.made = sent
        result = self.message_api(sent, shown)
        if document is not None:
            file_id = f"file-{len(self.files) + 1}"
            self.files[file_id] = document[1]
            result["document"] = {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": document[0],
                "file_size": len(document[1]),
            }
        return result

    def _editMessageText(self, call: Call, files: dict) -> JsonDict:
        params = call.params
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.current:
            raise bad_request("message to edit not found")
        before = self.current[key]
        shown = self._checked(params.get("text", ""))
        buttons = self._checked_buttons(params.get("reply_markup"), self.chats[key[0]])
        if (params.get("text"), buttons) == (before.text, before.buttons):
            raise bad_request(NOT_MODIFIED)
        after = dataclasses.replace(
            before, text=params["text"], buttons=buttons, edits=before.edits + 1, params=params
        )
        self.current[key] = call.made = after
        return self.message_api(after, shown)

    def _deleteMessage(self, call: Call, files: dict) -> bool:
        params = call.params
        if self.current.pop((int(params["chat_id"]), int(params["message_id"])), None) is None:
            raise bad_request("message to delete not found")
        return True

    def _answerCallbackQuery(self, call: Call, files: dict) -> bool:
        params = call.params
        query_id = params["callback_query_id"]
        if query_id in self.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(params.get("text") or "") > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        self.answered.add(query_id)
        call.made = PopUp(params.get("text"), bool(params.get("show_alert")))
        return True

    def _answerInlineQuery(self, call: Call, files: dict) -> bool:
        params = call.params
        for result in params["results"]:
            self._checked(result["input_message_content"]["message_text"])
        self.inline_answers[params["inline_query_id"]] = params
        return True

    def _getFile(self, call: Call, files: dict) -> JsonDict:
        params = call.params
        file_id = params["file_id"]
        if file_id not in self.files:
            raise bad_request("invalid file_id")
        return {"file_id": file_id, "file_unique_id": file_id, "file_path": f"documents/{file_id}"}

    def _sendChatAction(self, call: Call, files: dict) -> bool:
        return True

    # -- Telegram's checks

    @staticmethod
    def _checked(text: str, allow_empty: bool = False) -> tuple[str, list[JsonDict]]:
        """The text as Telegram shows it, or the error Telegram gives."""
        try:
            shown, entities = trim_text(*parse_html(text))
        except HtmlParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
        if not shown and not allow_empty:
            raise bad_request("message text is empty")
        if utf16_len(shown) > MESSAGE_LIMIT:
            raise bad_request("message is too long")
        return shown, entities

    @staticmethod
    def _checked_buttons(markup: Any, chat: ChatState) -> tuple[tuple[Button, ...], ...]:
        buttons = _buttons(markup)
        for button in (b for row in buttons for b in row):
            if not button.label:
                raise bad_request("BUTTON_TEXT_INVALID")
            if button.data is not None and not 1 <= len(button.data.encode()) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
            if button.web_app is not None and chat.api["type"] != "private":
                raise bad_request("BUTTON_TYPE_INVALID")
        return tuple(row for row in buttons if row)

    def message_api(self, sent: Sent, shown: tuple[str, list[JsonDict]] | None = None) -> JsonDict:
        """A bot message as the Bot API returns it (and puts it under a pressed button)."""
        text, entities = shown or trim_text(*parse_html(sent.text))
        message: JsonDict = {
            "message_id": sent.message_id,
            "date": 1_790_000_000,
            "chat": self.chats[sent.chat_id].api,
            "from": BOT_USER,
        }
        if sent.document is None:
            message.update(text=text, entities=detect_entities(text, entities))
        if sent.buttons:
            message["reply_markup"] = sent.params.get("reply_markup")
        if sent.edits:
            message["edit_date"] = 1_790_000_001
        return message


def member_api(status: str, user: JsonDict, chat_type: str) -> JsonDict:
    """A ChatMember object for a status (an administrator with the usual rights)."""
    if status == "kicked":
        return {"status": status, "user": user, "until_date": 0}
    if status == "creator":
        return {"status": status, "user": user, "is_anonymous": False}
    if status != "administrator":
        return {"status": status, "user": user}
    rights = dict.fromkeys(
        (
            "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
            "can_restrict_members", "can_change_info", "can_invite_users",
        ),
        True,
    ) | dict.fromkeys(
        ("can_be_edited", "is_anonymous", "can_promote_members", "can_post_stories",
         "can_edit_stories", "can_delete_stories"),
        False,
    )  # fmt: skip
    if chat_type == "channel":
        rights.update(can_post_messages=True, can_edit_messages=True)
    return {"status": status, "user": user, **rights}


class OfflineRequest(BaseRequest):
    """PTB's transport replaced: every Bot API call is answered by a World; no socket opens."""

    def __init__(self, world: World) -> None:
        self.world = world

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float:
        """Answers come at once."""
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """The answer, as Telegram would encode it."""
        await asyncio.sleep(0)  # a call takes a turn of the event loop, as a real one would
        if FILE_PREFIX in url:
            return 200, self.world.files[url.rpartition("/")[2]]
        params = request_data.parameters if request_data else {}
        files = request_data.multipart_data if request_data and request_data.contains_files else {}
        try:
            result = self.world.answer(url.rpartition("/")[2], dict(params), files)
        except ApiError as error:
            return error.status, json.dumps(error.to_json()).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()


# ---------------------------------------------------------------- people, chats, the bot


class OfflineBot:
    """The running Application and its World; makes chats and feeds their updates through."""

    def __init__(self, application: Application, world: World, clock: FakeClock, pace: float):
        self.application = application
        self.world = world
        self.clock = clock
        self.pace = pace  # seconds of the bot's clock between one person's updates
        self.errors: list[BaseException] = []  # what handlers raised
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    @property
    def db(self) -> Database:
        """The bot's own database connection."""
        return self.application.bot_data.rasd.db

    def user(self, user_id: int, first_name: str, language: str | None = "ar") -> JsonDict:
        """A Telegram user (their language is what their Telegram app is set to)."""
        user: JsonDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language:
            user["language_code"] = language
        self.world.users[user_id] = user
        return user

    def private(self, user_id: int, first_name: str, language: str | None = "ar") -> Chat:
        """A user and their private chat with the bot."""
        self.user(user_id, first_name, language)
        api = {"id": user_id, "type": "private", "first_name": first_name}
        self.world.chats[user_id] = ChatState(api, {user_id: "member"})
        return Chat(self, user_id, default_sender=user_id)

    def group(
        self,
        chat_id: int,
        title: str,
        *,
        admins: Sequence[int] = (),
        members: Sequence[int] = (),
        kind: str = "group",
        bot_status: str = "member",
    ) -> Chat:
        """A group (or supergroup) with its administrators and members, the bot in it."""
        for user_id in (*admins, *members):
            if user_id not in self.world.users:
                self.user(user_id, f"u{user_id}")
        statuses = {u: "administrator" for u in admins} | {u: "member" for u in members}
        api = {"id": chat_id, "type": kind, "title": title}
        self.world.chats[chat_id] = ChatState(api, statuses, bot_status)
        return Chat(self, chat_id)

    def channel(self, chat_id: int, title: str, username: str, *, admins: Sequence[int]) -> Chat:
        """A channel with the bot as an administrator that may post."""
        api = {"id": chat_id, "type": "channel", "title": title, "username": username}
        statuses = dict.fromkeys(admins, "administrator")
        self.world.chats[chat_id] = ChatState(api, statuses, "administrator")
        return Chat(self, chat_id)

    def set_status(self, chat_id: int, user_id: int, status: str) -> None:
        """A member's status changes in a group or channel (the bot's: user_id = BOT_USER id)."""
        if user_id == BOT_USER["id"]:
            self.world.chats[chat_id].bot_status = status
        else:
            self.world.chats[chat_id].statuses[user_id] = status

    def messages(self, chat_id: int) -> list[Sent]:
        """The bot's messages in a chat, as they stand now, oldest first."""
        return [m for (chat, _), m in sorted(self.world.current.items()) if chat == chat_id]

    async def process(self, kind: str, payload: JsonDict) -> Reply:
        """One update through Application.process_update; what the bot did about it, once every
        handler it started (in the background too) is done."""
        self.clock.advance(self.pace)
        start = len(self.world.calls)
        update = Update.de_json({"update_id": next(self._update_ids), kind: payload}, self.bot)
        await self.application.process_update(update)
        await within(self._settle(), f"the bot's work on {kind} {payload}")
        return Reply(self.world.calls[start:])

    @property
    def bot(self) -> Any:
        """The Application's bot."""
        return self.application.bot

    async def _settle(self) -> None:
        """Wait for the handlers python-telegram-bot runs beside the others (block=False: /test,
        inline search) and the error handlers; the Application keeps their tasks in a private
        set until they are done (PTB 22). Other tasks (the sender's, the jobs') are not waited
        for: they run on their own, as in production."""
        running: set[asyncio.Task] = self.application._Application__create_task_tasks  # type: ignore[attr-defined]
        while pending := [task for task in running if not task.done()]:
            await asyncio.wait(pending)
        await asyncio.sleep(0)

    async def inline(self, user_id: int, *queries: str) -> list[JsonDict | None]:
        """A user types `@bot query`: each of `queries` is sent as they type, without waiting
        for the bot to answer the one before; what the bot answered to each (None: nothing)."""
        ids = [str(next(self._query_ids)) for _ in queries]
        await asyncio.gather(
            *(
                self.process(
                    "inline_query",
                    {
                        "id": query_id,
                        "from": self.world.users[user_id],
                        "query": query,
                        "offset": "",
                        "chat_type": "sender",
                    },
                )
                for query_id, query in zip(ids, queries, strict=True)
            )
        )
        return [self.world.inline_answers.get(query_id) for query_id in ids]

    def next_query_id(self) -> str:
        """A fresh callback or inline query id."""
        return str(next(self._query_ids))


class Chat:
    """A chat as its people use it: they send text and documents, press buttons, forward."""

    def __init__(self, bot: OfflineBot, chat_id: int, default_sender: int | None = None) -> None:
        self.bot = bot
        self.id = chat_id
        self.default_sender = default_sender

    @property
    def state(self) -> ChatState:
        return self.bot.world.chats[self.id]

    def _sender(self, by: int | None) -> JsonDict:
        user_id = by if by is not None else self.default_sender
        assert user_id is not None, "say who sends it: by=<user id>"
        return self.bot.world.users[user_id]

    def _message(self, by: int | None, **content: Any) -> JsonDict:
        return {
            "message_id": self.bot.world.next_message_id(self.id),
            "date": int(self.bot.clock()),
            "chat": self.state.api,
            "from": self._sender(by),
            **content,
        }

    async def send(self, text: str, *, by: int | None = None) -> Reply:
        """Someone sends text (a command gets its bot_command entity, as Telegram adds it)."""
        entities = detect_entities(text, [])
        return await self._process("message", self._message(by, text=text, entities=entities))

    async def send_document(self, name: str, content: bytes, *, by: int | None = None) -> Reply:
        """Someone sends a file (the bot downloads it with getFile)."""
        file_id = f"upload-{len(self.bot.world.files) + 1}"
        self.bot.world.files[file_id] = content
        document = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": name,
            "file_size": len(content),
        }
        return await self._process("message", self._message(by, document=document))

    async def forward(self, channel: Chat, text: str, *, by: int | None = None) -> Reply:
        """Someone forwards a post of `channel` here."""
        origin = {
            "type": "channel",
            "chat": channel.state.api,
            "message_id": 7,
            "date": int(self.bot.clock()) - 60,
        }
        message = self._message(by, text=text, forward_origin=origin)
        return await self._process("message", message)

    async def press(
        self, message: Sent, data: str, *, by: int | None = None, forged: bool = False
    ) -> Reply:
        """Someone presses a button of one of the bot's messages here (`forged`: a modified
        client sends callback data the message has no button for)."""
        current = self.bot.world.current[(message.chat_id, message.message_id)]
        assert forged or data in current.data, f"no button {data!r} in {current.data}"
        query = {
            "id": self.bot.next_query_id(),
            "from": self._sender(by),
            "message": self.bot.world.message_api(current),
            "chat_instance": str(self.id),
            "data": data,
        }
        return await self._process("callback_query", query)

    async def react(self, message: Sent, emoji: Sequence[str], *, by: int | None = None) -> Reply:
        """Someone sets their reaction to a message (no emoji: takes it back). In a channel
        Telegram tells only the totals (message_reaction_count); elsewhere who and what
        changed (message_reaction)."""
        key = (message.chat_id, message.message_id)
        user = self._sender(by)
        chosen = self.bot.world.reactions.setdefault(key, {})
        old, chosen[user["id"]] = chosen.get(user["id"], []), list(emoji)
        when = int(self.bot.clock())
        if self.state.api["type"] == "channel":
            totals: dict[str, int] = {}
            for each in chosen.values():
                for one in each:
                    totals[one] = totals.get(one, 0) + 1
            counted = [
                {"type": {"type": "emoji", "emoji": e}, "total_count": n} for e, n in totals.items()
            ]
            payload = {"chat": self.state.api, "message_id": key[1], "date": when}
            return await self._process("message_reaction_count", {**payload, "reactions": counted})
        change = {
            "chat": self.state.api,
            "message_id": key[1],
            "user": user,
            "date": when,
            "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
            "new_reaction": [{"type": "emoji", "emoji": e} for e in emoji],
        }
        return await self._process("message_reaction", change)

    async def bot_added(self, *, by: int) -> Reply:
        """Someone adds the bot to this group."""
        return await self._membership("left", "member", by)

    async def block(self) -> Reply:
        """The user blocks the bot (sends to them fail from now on)."""
        self.state.blocked = True
        return await self._membership("member", "kicked", self.id)

    async def unblock(self) -> Reply:
        """The user unblocks the bot."""
        self.state.blocked = False
        return await self._membership("kicked", "member", self.id)

    async def _membership(self, old: str, new: str, by: int) -> Reply:
        self.state.bot_status = new
        kind = self.state.api["type"]
        change = {
            "chat": self.state.api,
            "from": self.bot.world.users[by],
            "date": int(self.bot.clock()),
            "old_chat_member": member_api(old, BOT_USER, kind),
            "new_chat_member": member_api(new, BOT_USER, kind),
        }
        return await self._process("my_chat_member", change)

    async def _process(self, kind: str, payload: JsonDict) -> Reply:
        return await self.bot.process(kind, payload)


@asynccontextmanager
async def offline_bot(
    tmp_path: Path, *, clock: FakeClock | None = None, pace: float = 1.0, **env: str
) -> AsyncIterator[OfflineBot]:
    """The production Application on a database in tmp_path, talking to a World; started
    without polling, stopped as production stops it. It fails the test if a handler raised or
    the bot called a method World does not answer."""
    world = World()
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "DATABASE_PATH": str(tmp_path / "rasd.db"),
            **bot_env(
                **{
                    "POLL_INTERVAL_SECONDS": "3600",  # no feed here: the poll job stays quiet
                    "SEND_RATE_PER_SECOND": "1000",  # nothing to pace without a network
                    **env,  # (bench/scale.py paces the sender as production does)
                }
            ),
        }
    )
    clock = clock or FakeClock(1_795_000_000.0)
    if not settings.database_path.exists():  # a test may have filled one in already
        fresh_database(settings.database_path).conn.close()
    application = telegram_app.build_application(
        settings, clock=clock, request=OfflineRequest(world)
    )
    bot = OfflineBot(application, world, clock, pace)

    async def record(update: object, context: CallbackContext) -> None:
        bot.errors.append(context.error or RuntimeError("an error without an exception"))

    application.add_error_handler(record)
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    try:
        yield bot
    finally:
        await telegram_app.stop_application(application)
    assert world.unknown == [], f"methods tests/offline.py does not answer: {world.unknown}"
    assert bot.errors == [], f"handlers raised: {bot.errors!r}"
