"""A faithful Telegram Bot API server for tests: the real PTB client talks to it over loopback HTTP.

    async with BotApiServer() as server:
        app = (
            ApplicationBuilder().token(server.token)
            .base_url(server.base_url).base_file_url(server.base_file_url).build()
        )
        server.private_chat(111, first_name="سارة", language_code="ar")
        await server.send_text(111, 111, "/start")
        reply = await server.wait_for_message(111)
        await server.press_button(111, reply, "add:المغرب")
        edited = await server.wait_for_edit(111, reply.message_id)

Wire format (as python-telegram-bot 22.8 speaks it): `POST|GET /bot<token>/<method>` with form
fields (strings as-is, everything else JSON), multipart when a file is uploaded, or a JSON body.
Answers are `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": ...,
"parameters": {...}}` with HTTP status N. Files download from `GET /file/bot<token>/<file_path>`.

Time: `clock` (default time.monotonic) stamps calls and times rate limits, long polls and
callback-query expiry; long polls, injected delays and webhook retries wait with `sleep` (default
asyncio.sleep). Give both a tests.timing.FakeClock to run the server on fake time.

Deliberate differences from Telegram, all in the direction of catching bugs:
- with `strict_ampersand` (default) a bare `&` that starts no character reference is a parse
  error; Telegram keeps it literally;
- Markdown parse modes are refused (Rasd sends HTML only);
- webhooks may use plain http (tests run on loopback); Telegram requires https.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from aiohttp import web

T = TypeVar("T")
JsonDict = dict[str, Any]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200
INLINE_RESULTS_LIMIT = 50  # answerInlineQuery takes at most 50 results
DOWNLOAD_LIMIT = 20 * 1024 * 1024
UPLOAD_LIMIT = 50 * 1024 * 1024
PAID_MESSAGE_TENTHS = 1  # a paid broadcast message costs 0.1 Star
NANOSTARS_PER_TENTH = 100_000_000
SUPERGROUP_ID_MAX = -1_000_000_000_000
GROUP_ANONYMOUS_BOT: JsonDict = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
# Telegram sends these only when a bot asks for them in allowed_updates.
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


# ----------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: JsonDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = dict(parameters or {})

    def to_json(self) -> JsonDict:
        """The response body Telegram sends for this error."""
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str, parameters: JsonDict | None = None) -> ApiError:
    """A 400 "Bad Request: <reason>" error."""
    return ApiError(400, f"Bad Request: {reason}", parameters)


def forbidden(reason: str) -> ApiError:
    """A 403 "Forbidden: <reason>" error."""
    return ApiError(403, f"Forbidden: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 flood-control error with parameters.retry_after."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def server_error(status: int = 500, description: str | None = None) -> ApiError:
    """A 5xx error such as Telegram answers when it is overloaded."""
    default = {500: "Internal Server Error", 502: "Bad Gateway", 504: "Gateway Timeout"}
    return ApiError(status, description or default.get(status, "Internal Server Error"))


# ----------------------------------------------------------------------------- text


class HtmlParseError(ValueError):
    """Telegram-flavoured HTML that Telegram would refuse ("can't parse entities")."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of text at a UTF-16 offset and length (as in a MessageEntity)."""
    data = text.encode("utf-16-le")
    return data[2 * offset : 2 * (offset + length)].decode("utf-16-le")


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_CHARACTERS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# tdlib's is_space() also counts NUL, which is what it reads past the end of the text.
_SPACES = frozenset(" \t\r\n\v\0")
_HTML_SPECIAL = re.compile(r"[&<]")
_SCHEME_LINK = re.compile(r"^(?:https?|ftp|tg|ton)://\S+$", re.IGNORECASE)
_BARE_LINK = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?::\d+)?(?:[/?#]\S*)?$", re.IGNORECASE)


def decode_character_reference(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the reference starting with `&` at text[pos] the way tdlib does: (char, end)."""
    end = pos + 1
    n = len(text)
    if end < n and text[end] == "#":
        end += 1
        hexadecimal = end < n and text[end] == "x"
        end += hexadecimal
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        value = 0
        while end < n and text[end] in digits:
            value = value * (16 if hexadecimal else 10) + int(text[end], 16)
            end += 1
            if value >= 0x10FFFF:
                return None
        if value == 0 or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED_CHARACTERS.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and text[end] == ";":
        end += 1
    return char, end


def check_link(url: str) -> str | None:
    """The URL a text_link entity gets for href, or None when Telegram would drop the link."""
    url = url.strip()
    if not _SCHEME_LINK.match(url):
        if not _BARE_LINK.match(url):
            return None
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https") and not parts.path:
        url = urlunsplit(parts._replace(path="/"))
    return url


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    expandable: bool
    utf16_offset: int
    out_index: int


class _HtmlParser:
    """A port of tdlib's parse_html: same accepted subset, same error messages."""

    def __init__(self, text: str, strict_ampersand: bool) -> None:
        self.text = text
        self.n = len(text)
        self.strict_ampersand = strict_ampersand
        self.out: list[str] = []
        self.offset = 0
        self.entities: list[JsonDict] = []
        self.stack: list[_OpenTag] = []

    def parse(self) -> tuple[str, list[JsonDict]]:
        """Plain text and entities (sorted by offset, outer first)."""
        i = 0
        while i < self.n:
            special = _HTML_SPECIAL.search(self.text, i)
            stop = special.start() if special else self.n
            if stop > i:
                self._emit(self.text[i:stop])
                i = stop
            elif self.text[i] == "&":
                i = self._ampersand(i)
            elif self._ch(i + 1) == "/":
                i = self._end_tag(i)
            else:
                i = self._start_tag(i)
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), entities

    def _ch(self, i: int) -> str:
        return self.text[i] if i < self.n else "\0"

    def _byte_offset(self, i: int) -> int:
        return len(self.text[:i].encode())

    def _emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.offset += utf16_len(chunk)

    def _skip_spaces(self, i: int) -> int:
        while i < self.n and self.text[i] in _SPACES:
            i += 1
        return i

    def _ampersand(self, i: int) -> int:
        decoded = decode_character_reference(self.text, i)
        if decoded is not None:
            self._emit(decoded[0])
            return decoded[1]
        if self.strict_ampersand:
            raise HtmlParseError(
                f'Unescaped "&" at byte offset {self._byte_offset(i)} (write &amp;)'
            )
        self._emit("&")
        return i + 1

    def _start_tag(self, begin: int) -> int:
        i = begin + 1
        while self._ch(i) not in _SPACES and self._ch(i) != ">":
            i += 1
        where = f"at byte offset {self._byte_offset(begin)}"
        if i >= self.n:
            raise HtmlParseError(f"Unclosed start tag {where}")
        name = self.text[begin + 1 : i].lower()
        if name not in _HTML_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" {where}')
        argument, expandable = "", False
        while self._ch(i) != ">":
            i = self._skip_spaces(i)
            if self._ch(i) == ">":
                break
            attribute_begin = i
            while self._ch(i) not in _SPACES and self._ch(i) not in "=>":
                i += 1
            attribute = self.text[attribute_begin:i]
            if not attribute:
                raise HtmlParseError(f'Empty attribute name in the tag "{name}" {where}')
            i = self._skip_spaces(i)
            if self._ch(i) != "=":
                if name == "blockquote" and attribute == "expandable":
                    expandable = True
                    continue
                raise HtmlParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" {where}'
                )
            i = self._skip_spaces(i + 1)
            if i >= self.n:
                raise HtmlParseError(f"Unclosed start tag {where}")
            value, i = self._attribute_value(i)
            if i >= self.n:
                raise HtmlParseError(f"Unclosed start tag {where}")
            argument, expandable = _tag_argument(name, attribute, value, argument, expandable)
        if name == "span" and argument != "spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" {where}')
        self.stack.append(_OpenTag(name, argument, expandable, self.offset, len(self.out)))
        return i + 1

    def _attribute_value(self, i: int) -> tuple[str, int]:
        if self.text[i] not in "'\"":
            start = i
            while i < self.n and (
                (self.text[i].isascii() and self.text[i].isalnum()) or self.text[i] in ".-"
            ):
                i += 1
            if self._ch(i) not in _SPACES and self._ch(i) != ">":
                raise HtmlParseError(
                    f"Unexpected end of name token at byte offset {self._byte_offset(start)}"
                )
            return self.text[start:i].lower(), i
        quote = self.text[i]
        i += 1
        pieces: list[str] = []
        while i < self.n and self.text[i] != quote:
            if self.text[i] == "&":
                decoded = decode_character_reference(self.text, i)
                if decoded is not None:
                    pieces.append(decoded[0])
                    i = decoded[1]
                    continue
                if self.strict_ampersand:
                    raise HtmlParseError(
                        f'Unescaped "&" at byte offset {self._byte_offset(i)} (write &amp;)'
                    )
            pieces.append(self.text[i])
            i += 1
        if i < self.n:
            i += 1
        return "".join(pieces), i

    def _end_tag(self, begin: int) -> int:
        where = f"at byte offset {self._byte_offset(begin)}"
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag {where}")
        i = begin + 2
        while self._ch(i) not in _SPACES and self._ch(i) != ">":
            i += 1
        end_name = self.text[begin + 2 : i]
        i = self._skip_spaces(i)
        if self._ch(i) != ">":
            raise HtmlParseError(f"Unclosed end tag {where}")
        tag = self.stack.pop()
        if end_name and end_name != tag.name:
            raise HtmlParseError(
                f'Unmatched end tag {where}, expected "</{tag.name}>", found "</{end_name}>"'
            )
        if self.offset > tag.utf16_offset:
            self._add_entity(tag, self.stack[-1] if self.stack else None)
        return i + 1

    def _add_entity(self, tag: _OpenTag, parent: _OpenTag | None) -> None:
        offset, length = tag.utf16_offset, self.offset - tag.utf16_offset
        entity: JsonDict = {"type": "", "offset": offset, "length": length}
        if tag.name in _SIMPLE_ENTITY_TYPES:
            entity["type"] = _SIMPLE_ENTITY_TYPES[tag.name]
        elif tag.name == "a":
            url = check_link(tag.argument or "".join(self.out[tag.out_index :]))
            if url is None:
                return
            entity.update(type="text_link", url=url)
        elif tag.name == "pre":
            last = self.entities[-1] if self.entities else None
            if (
                last is not None
                and last["type"] == "code"
                and (last["offset"], last["length"]) == (offset, length)
                and last.get("language")
            ):
                last["type"] = "pre"
                return
            entity["type"] = "pre"
        elif tag.name == "code":
            entity["type"] = "code"
            if parent is not None and parent.name == "pre" and tag.argument:
                entity["language"] = tag.argument
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise HtmlParseError("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=tag.argument)
        else:
            entity["type"] = "expandable_blockquote" if tag.expandable else "blockquote"
        self.entities.append(entity)


def _tag_argument(
    name: str, attribute: str, value: str, argument: str, expandable: bool
) -> tuple[str, bool]:
    if name == "a" and attribute == "href":
        return value, expandable
    if name == "code" and attribute == "class" and value.startswith("language-"):
        return value[len("language-") :], expandable
    if name == "span" and attribute == "class" and value.startswith("tg-"):
        return value[len("tg-") :], expandable
    if name == "tg-emoji" and attribute == "emoji-id":
        return value, expandable
    if name == "blockquote" and attribute == "expandable":
        return argument, True
    return argument, expandable


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[JsonDict]]:
    """Telegram HTML to (plain text, entities); raises HtmlParseError with tdlib's message."""
    return _HtmlParser(text, strict_ampersand).parse()


_TRIMMED = " \t\n\r\v\f"
_AUTO_ENTITIES = (
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("url", re.compile(r"(?<![\w@/.])https?://[^\s<>\"«»]+", re.IGNORECASE)),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{2,31}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)
_AUTO_BLOCKERS = frozenset(
    {"code", "pre", "text_link", "text_mention", "custom_emoji", "url", "bot_command", "mention"}
)


def trim_text(text: str, entities: list[JsonDict]) -> tuple[str, list[JsonDict]]:
    """Strip leading/trailing whitespace as Telegram does, clipping entities to what remains."""
    left_stripped = text.lstrip(_TRIMMED)
    shift = len(text) - len(left_stripped)
    result = left_stripped.rstrip(_TRIMMED)
    total = utf16_len(result)
    clipped = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            clipped.append({**entity, "offset": start, "length": end - start})
    return result, clipped


def detect_entities(text: str, entities: list[JsonDict]) -> list[JsonDict]:
    """Add the entities Telegram finds by itself (commands, links, mentions, hashtags)."""
    found = list(entities)
    for entity_type, pattern in _AUTO_ENTITIES:
        for match in pattern.finditer(text):
            chunk = match.group()
            if entity_type == "url":
                chunk = chunk.rstrip(".,;:!?)]}'")
            offset = utf16_len(text[: match.start()])
            length = utf16_len(chunk)
            end = offset + length
            if any(
                e["type"] in _AUTO_BLOCKERS
                and e["offset"] < end
                and offset < e["offset"] + e["length"]
                for e in found
            ):
                continue
            found.append({"type": entity_type, "offset": offset, "length": length})
    return sorted(found, key=lambda e: (e["offset"], -e["length"]))


# ----------------------------------------------------------------------------- state


@dataclass(slots=True)
class RateLimits:
    """Flood limits the server enforces; None turns one off (all off by default)."""

    overall_per_second: int | None = None
    private_chat_per_second: int | None = None
    group_per_minute: int | None = None
    # With allow_paid_broadcast: up to this many a second overall, each one past
    # overall_per_second debited PAID_MESSAGE_TENTHS from the bot's Star balance.
    paid_per_second: int = 1000


@dataclass(slots=True)
class TgUser:
    """A user the server knows; `blocked`/`deactivated` concern their private chat with the bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    blocked: bool = False
    deactivated: bool = False

    def to_api(self) -> JsonDict:
        """The User object."""
        user: JsonDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                user[key] = getattr(self, key)
        return user


@dataclass(eq=False)
class TgChat:
    """A chat the server knows: members by status, the bot's status, and its messages."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    members: dict[int, str] = field(default_factory=dict)
    bot_status: str = "member"
    started: bool = True
    migrated_to: int | None = None
    next_message_id: int = 1
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    bot_messages: list[ChatMessage] = field(default_factory=list)
    edit_log: list[tuple[int, int]] = field(default_factory=list)
    is_forum: bool = False
    topics: dict[int, ForumTopic] = field(default_factory=dict)  # by message_thread_id

    def to_api(self) -> JsonDict:
        """The Chat object as it appears inside messages."""
        chat: JsonDict = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if getattr(self, key) is not None:
                chat[key] = getattr(self, key)
        if self.is_forum:
            chat["is_forum"] = True
        return chat


@dataclass(slots=True)
class ForumTopic:
    """A topic of a forum supergroup; its thread id is the id of the message that created it."""

    thread_id: int
    name: str
    closed: bool = False
    deleted: bool = False


@dataclass(slots=True)
class MessageVersion:
    """One state of a message's editable content; `source` is the text before parse_mode."""

    text: str
    entities: list[JsonDict]
    reply_markup: JsonDict | None
    source: str
    parse_mode: str | None
    at: float


@dataclass(eq=False)
class ChatMessage:
    """A message in a chat (from a user or the bot), with every version it has had.

    `reply_keyboard` keeps a non-inline reply markup (Telegram does not echo those back).
    """

    chat_id: int
    message_id: int
    date: int
    sender_id: int | None
    by_bot: bool
    chat_api: JsonDict
    from_api: JsonDict | None
    versions: list[MessageVersion]
    kind: str = "text"
    extra: JsonDict = field(default_factory=dict)
    sender_chat_api: JsonDict | None = None
    deleted: bool = False
    edit_date: int | None = None
    update_id: int | None = None
    reply_keyboard: JsonDict | None = None
    reactions: dict[int, list[str]] = field(default_factory=dict)  # emoji chosen, by user id

    @property
    def thread_id(self) -> int | None:
        """The forum topic the message is in (None: General, or not a forum)."""
        return self.extra.get("message_thread_id")

    @property
    def current(self) -> MessageVersion:
        """The latest version."""
        return self.versions[-1]

    @property
    def text(self) -> str:
        """Current text (the caption for a document)."""
        return self.current.text

    @property
    def entities(self) -> list[JsonDict]:
        """Current entities (caption entities for a document)."""
        return self.current.entities

    @property
    def reply_markup(self) -> JsonDict | None:
        """Current inline keyboard, or None."""
        return self.current.reply_markup

    @property
    def edits(self) -> list[MessageVersion]:
        """Versions after the first, oldest first."""
        return self.versions[1:]

    @property
    def buttons(self) -> list[JsonDict]:
        """Inline keyboard buttons, row by row, flattened."""
        markup = self.reply_markup or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    @property
    def callback_data(self) -> list[str]:
        """callback_data of every button that has one."""
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    def button(self, data: str) -> str:
        """The callback data of the button whose data is `data`, or `data` and a `|…` stamp."""
        found = [d for d in self.callback_data if d == data or d.startswith(data + "|")]
        if len(found) != 1:
            raise ValueError(f"{len(found)} buttons with data {data!r}: {self.callback_data}")
        return found[0]

    @property
    def document(self) -> JsonDict | None:
        """The Document object, for a document message."""
        return self.extra.get("document")

    def entity_texts(self, entity_type: str) -> list[str]:
        """The text covered by each entity of a type (e.g. every bold run)."""
        return [
            utf16_slice(self.text, e["offset"], e["length"])
            for e in self.entities
            if e["type"] == entity_type
        ]

    def links(self) -> list[tuple[str, str]]:
        """(text, url) of each text_link entity: what a reader sees and where it leads."""
        return [
            (utf16_slice(self.text, e["offset"], e["length"]), e["url"])
            for e in self.entities
            if e["type"] == "text_link"
        ]

    def to_api(self, *, nested: bool = False) -> JsonDict:
        """The Message object in its current state."""
        message: JsonDict = {"message_id": self.message_id}
        if self.from_api is not None:
            message["from"] = self.from_api
        if self.sender_chat_api is not None:
            message["sender_chat"] = self.sender_chat_api
        message["chat"] = self.chat_api
        message["date"] = self.date
        for key, value in self.extra.items():
            if not (nested and key == "reply_to_message"):
                message[key] = value
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        version = self.current
        text_key, entities_key = ("text", "entities")
        if self.kind == "document":
            text_key, entities_key = ("caption", "caption_entities")
        if self.kind != "service" and version.text:
            message[text_key] = version.text
            if version.entities:
                message[entities_key] = version.entities
        if version.reply_markup is not None:
            message["reply_markup"] = version.reply_markup
        return message


@dataclass(slots=True)
class StoredFile:
    """An uploaded file (by the bot or a user) and its bytes."""

    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    data: bytes
    file_path: str

    def to_api(self) -> JsonDict:
        """The File object getFile answers."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def document_api(self) -> JsonDict:
        """The Document object inside a message."""
        document: JsonDict = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.file_name:
            document["file_name"] = self.file_name
        if self.mime_type:
            document["mime_type"] = self.mime_type
        document["file_size"] = len(self.data)
        return document


@dataclass(frozen=True, slots=True)
class SentRecord:
    """One accepted send (sendMessage/sendDocument); `at` is the server clock; `paid`: sent
    past the free rate with allow_paid_broadcast, and debited."""

    method: str
    chat_id: int
    message_id: int
    text: str
    at: float
    paid: bool = False


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One request the server answered (params as received, files as "<file NAME>")."""

    method: str
    params: dict[str, Any]
    status: int
    description: str | None
    at: float


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """An answerCallbackQuery call."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    at: float


@dataclass(frozen=True, slots=True)
class InlineAnswer:
    """An answerInlineQuery call: its results as sent (each an InlineQueryResult object)."""

    query_id: str
    results: list[JsonDict]
    cache_time: int
    is_personal: bool
    at: float
    from_cache: bool = False  # Telegram served an earlier answer; the bot was not asked

    def titles(self) -> list[str]:
        """The title of each result, in order."""
        return [str(result.get("title", "")) for result in self.results]


@dataclass(slots=True)
class Fault:
    """An injected fault: the next `remaining` calls of `method` (to `chat_id`) wait `delay`, then fail."""

    method: str
    chat_id: int | str | None
    remaining: int
    error: ApiError | None
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class _PendingInline:
    user_id: int
    query: str
    created: float


@dataclass(slots=True)
class _PendingQuery:
    query_id: str
    created: float


class _Window:
    """A sliding-window counter: at most `limit` events in any `period` seconds."""

    __slots__ = ("limit", "period", "times")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.times: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        """Seconds until one more event fits (0 if it fits now)."""
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[0] + self.period - now


class _Signal:
    """A broadcast wake-up: everyone waiting resumes on the next notify()."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake every current waiter."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float | None, sleep: Sleep = asyncio.sleep) -> None:
        """Wait for the next notify() or `seconds` slept with `sleep`, whichever comes first."""
        if seconds is None:
            await self._event.wait()
        else:
            await _first(self._event.wait(), sleep(seconds))


async def _first(*waits: Awaitable[Any]) -> None:
    """Wait until one of `waits` is done; cancel the others."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


class _Params:
    """Typed access to one request's parameters (form strings as-is, the rest JSON)."""

    def __init__(self, values: Mapping[str, Any], files: Mapping[str, web.FileField]) -> None:
        self.values = dict(values)
        self.files = dict(files)

    def has(self, name: str) -> bool:
        """Whether the parameter was passed (and is not empty)."""
        return self.values.get(name) not in (None, "")

    def string(self, name: str) -> str | None:
        """A string parameter (never JSON-decoded)."""
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False)

    def integer(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        if isinstance(value, int):
            return value
        try:
            return int(float(value)) if isinstance(value, float) else int(str(value).strip())
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def number(self, name: str, default: float) -> float:
        """A numeric parameter."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        """A Boolean parameter."""
        value = self.values.get(name)
        return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1"))

    def json(self, name: str) -> Any:
        """A JSON-serialized parameter (object or array)."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def chat_ref(self, name: str = "chat_id") -> int | str:
        """A chat id: an integer or an @username."""
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None

    def loggable(self) -> dict[str, Any]:
        """The parameters as recorded in the call log."""
        logged = dict(self.values)
        for name, upload in self.files.items():
            logged[name] = f"<file {upload.filename}>"
        return logged


# ----------------------------------------------------------------------------- server


class BotApiServer:
    """A Telegram Bot API server on 127.0.0.1 that tests drive as users and inspect."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "rasd_test_bot",
        bot_first_name: str = "رصد",
        rate_limits: RateLimits | None = None,
        privacy_mode: bool = True,
        strict_ampersand: bool = True,
        callback_query_ttl: float | None = 15.0,
        webhook_retry_delay: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        host: str = "127.0.0.1",
    ) -> None:
        bot_id = token.split(":", 1)[0]
        if not bot_id.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.bot = TgUser(int(bot_id), bot_first_name, username=bot_username, is_bot=True)
        self.rate_limits = rate_limits or RateLimits()
        self.privacy_mode = privacy_mode
        self.strict_ampersand = strict_ampersand
        self.callback_query_ttl = callback_query_ttl
        self.webhook_retry_delay = webhook_retry_delay
        self.host = host
        self.port = 0
        self._clock = clock  # rate limits, long polls, callback query expiry, `at` stamps
        self._wall_clock = wall_clock  # message dates
        self._sleep_for = sleep  # long polls, injected delays, webhook retries

        self.users: dict[int, TgUser] = {}
        self.chats: dict[int, TgChat] = {}
        self.files: dict[str, StoredFile] = {}
        self.send_log: list[SentRecord] = []
        self.calls: list[ApiCall] = []
        self.status_counts: Counter[int] = Counter()
        self.too_many_requests = 0
        # Telegram Stars, in tenths (a paid message costs 0.1 Star); whether the bot may pay.
        self.star_balance_tenths = 0
        self.stars_debited_tenths = 0
        self.paid_broadcast_allowed = True
        self.waiting_polls = 0  # getUpdates calls held open now, waiting for an update
        self.answered_callbacks: list[CallbackAnswer] = []
        self.inline_answers: dict[str, InlineAnswer] = {}
        self.chat_actions: list[tuple[int, str, float]] = []
        self.profile_texts: dict[tuple[str, str], str] = {}
        self.faults: list[Fault] = []
        self.internal_errors: list[BaseException] = []
        self.closed_by_bot = False
        self.logged_out = False

        self._commands: dict[tuple[tuple[str, int | None, int | None], str], list[JsonDict]] = {}
        self._updates: deque[JsonDict] = deque()
        self._next_update_id = 100_000
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._webhook_url = ""
        self._webhook_secret: str | None = None
        self._webhook_max_connections = 40
        self._webhook_last_error: tuple[int, str] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._pending_queries: dict[str, _PendingQuery] = {}
        self._pending_inline: dict[str, _PendingInline] = {}
        # Telegram's cache of inline answers: by query text, and by user too when is_personal.
        self._inline_cache: dict[tuple[str, int | None], InlineAnswer] = {}
        self._query_counter = itertools.count(4_382_910_000_000_000_001)
        self._file_counter = itertools.count(1)
        self._windows: dict[tuple[str, int], _Window] = {}
        self._returned_messages: dict[int, set[int]] = {}
        self.menu_buttons: dict[int | None, JsonDict] = {}  # by private chat; None: the default
        self._returned_edits: dict[int, set[int]] = {}
        self._updates_changed = _Signal()
        self._changed = _Signal()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._methods: dict[str, tuple[str, Callable[[_Params], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getMyStarBalance": self._get_my_star_balance,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setMyDescription": self._profile_setter("description"),
                "getMyDescription": self._profile_getter("description"),
                "setMyShortDescription": self._profile_setter("short_description"),
                "getMyShortDescription": self._profile_getter("short_description"),
                "setMyName": self._profile_setter("name"),
                "getMyName": self._profile_getter("name"),
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "answerInlineQuery": self._answer_inline_query,
                "sendDocument": self._send_document,
                "getFile": self._get_file,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
                "getChatMemberCount": self._get_chat_member_count,
                "sendChatAction": self._send_chat_action,
                "setChatMenuButton": self._set_chat_menu_button,
                "getChatMenuButton": self._get_chat_menu_button,
                "leaveChat": self._leave_chat,
                "close": self._close,
                "logOut": self._log_out,
            }.items()
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """What to give PTB's base_url (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """What to give PTB's base_file_url (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def pending_update_count(self) -> int:
        """Updates not yet confirmed by the bot."""
        return len(self._updates)

    async def start(self) -> None:
        """Listen on a free port."""
        app = web.Application(client_max_size=UPLOAD_LIMIT + (1 << 20))
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def stop(self) -> None:
        """Answer pending long polls, stop webhook delivery and close every socket."""
        self._closing.set()
        self._updates_changed.notify()
        self._changed.notify()
        await self._stop_webhook_worker()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
        if exc is None and self.internal_errors:
            raise RuntimeError(
                f"the test Bot API server failed {len(self.internal_errors)} request(s)"
            ) from self.internal_errors[0]

    # ------------------------------------------------------------------ the world, as tests set it up

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> TgUser:
        """Register (or update) a user without a private chat."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = self.users.get(user_id)
        if user is None:
            user = TgUser(user_id, first_name or f"User {user_id}")
            self.users[user_id] = user
        if first_name is not None:
            user.first_name = first_name
        user.last_name = last_name if last_name is not None else user.last_name
        user.username = username if username is not None else user.username
        user.language_code = language_code if language_code is not None else user.language_code
        return user

    def private_chat(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ar",
        started: bool = True,
    ) -> TgChat:
        """A user and their private chat; `started=False` means they never pressed Start."""
        user = self.add_user(
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        chat = self.chats.get(user_id)
        if chat is None:
            chat = TgChat(
                user_id,
                "private",
                username=user.username,
                first_name=user.first_name,
                last_name=user.last_name,
                members={user_id: "member"},
                started=started,
            )
            self.chats[user_id] = chat
        return chat

    def group(
        self,
        chat_id: int,
        title: str,
        *,
        admins: Iterable[int] = (),
        members: Iterable[int] = (),
        creator: int | None = None,
        kind: str = "group",
        username: str | None = None,
        bot_status: str = "member",
        forum: bool = False,
    ) -> TgChat:
        """A group or supergroup (a forum, with topics, when `forum`); the creator defaults to
        the first admin."""
        if kind not in ("group", "supergroup"):
            raise ValueError("kind is 'group' or 'supergroup'")
        if forum and kind != "supergroup":
            raise ValueError("only supergroups are forums")
        if kind == "group" and not SUPERGROUP_ID_MAX < chat_id < 0:
            raise ValueError("basic group ids are small negative numbers")
        if kind == "supergroup" and chat_id > SUPERGROUP_ID_MAX:
            raise ValueError("supergroup ids look like -100xxxxxxxxxx")
        if username is not None and kind == "group":
            raise ValueError("only supergroups have usernames")
        chat = self._add_chat(chat_id, kind, title, username, admins, members, creator, bot_status)
        chat.is_forum = forum
        return chat

    def channel(
        self,
        chat_id: int,
        title: str,
        username: str | None = None,
        *,
        admins: Iterable[int] = (),
        members: Iterable[int] = (),
        creator: int | None = None,
        bot_status: str = "administrator",
    ) -> TgChat:
        """A channel; the bot can post only as an administrator."""
        if chat_id > SUPERGROUP_ID_MAX:
            raise ValueError("channel ids look like -100xxxxxxxxxx")
        return self._add_chat(
            chat_id, "channel", title, username, admins, members, creator, bot_status
        )

    def _add_chat(
        self,
        chat_id: int,
        chat_type: str,
        title: str,
        username: str | None,
        admins: Iterable[int],
        members: Iterable[int],
        creator: int | None,
        bot_status: str,
    ) -> TgChat:
        if bot_status not in ("member", "administrator", "left", "kicked"):
            raise ValueError(f"unknown bot_status {bot_status!r}")
        if chat_type == "channel" and bot_status == "member":
            raise ValueError("a bot in a channel is an administrator or not there")
        if chat_id in self.chats:
            raise ValueError(f"chat {chat_id} already exists")
        admins = list(admins)
        creator = creator if creator is not None else (admins[0] if admins else None)
        statuses: dict[int, str] = {}
        for user_id in members:
            statuses[user_id] = "member"
        for user_id in admins:
            statuses[user_id] = "administrator"
        if creator is not None:
            statuses[creator] = "creator"
        for user_id in statuses:
            self.add_user(user_id)
        chat = TgChat(chat_id, chat_type, title=title, username=username, members=statuses)
        chat.bot_status = bot_status
        self.chats[chat_id] = chat
        return chat

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Change a user's status in a group or channel (no update is sent)."""
        if status not in ("creator", "administrator", "member", "left", "kicked"):
            raise ValueError(f"unknown status {status!r}")
        self.add_user(user_id)
        self._known_chat(chat_id).members[user_id] = status

    def chat(self, chat_id: int) -> TgChat:
        """A chat the server knows (KeyError otherwise)."""
        return self._known_chat(chat_id)

    def _known_chat(self, chat_id: int) -> TgChat:
        try:
            return self.chats[chat_id]
        except KeyError:
            raise KeyError(f"chat {chat_id} was never set up on the test server") from None

    def _known_user(self, user_id: int) -> TgUser:
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"user {user_id} was never set up on the test server") from None

    # ------------------------------------------------------------------ acting as users

    async def send_text(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        *,
        entities: list[JsonDict] | None = None,
        reply_to: int | None = None,
        thread: int | None = None,
    ) -> ChatMessage:
        """A user sends text (commands get their bot_command entity), in a forum topic when
        `thread` names one; returns the message."""
        user, chat = self._user_in_chat(user_id, chat_id)
        if not text:
            raise ValueError("Telegram clients do not send empty messages")
        found = detect_entities(text, list(entities or []))
        extra = self._reply_extra(chat, reply_to)
        if thread is not None:
            extra = {**self._topic_extra(chat, thread), **extra}
        message = self._store_message(
            chat,
            sender=user,
            version=self._version(text, found),
            extra=extra,
        )
        if chat.type == "private":
            chat.started = True
        if self._bot_sees(chat, message):
            message.update_id = self._emit("message", message.to_api())
        await asyncio.sleep(0)
        return message

    async def send_document(
        self,
        user_id: int,
        chat_id: int,
        filename: str,
        data: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> ChatMessage:
        """A user sends a file; the bot can fetch it with getFile and download it."""
        user, chat = self._user_in_chat(user_id, chat_id)
        stored = self._store_file(filename, mime_type, data)
        caption = caption or ""
        message = self._store_message(
            chat,
            sender=user,
            version=self._version(caption, detect_entities(caption, [])),
            kind="document",
            extra={"document": stored.document_api()},
        )
        if self._bot_sees(chat, message):
            message.update_id = self._emit("message", message.to_api())
        await asyncio.sleep(0)
        return message

    async def forward_from_channel(
        self,
        user_id: int,
        chat_id: int,
        channel_id: int,
        text: str,
        *,
        channel_message_id: int | None = None,
        entities: list[JsonDict] | None = None,
    ) -> ChatMessage:
        """A user forwards a channel post (new or existing) into a chat with the bot."""
        user, chat = self._user_in_chat(user_id, chat_id)
        channel = self._known_chat(channel_id)
        if channel.type != "channel":
            raise ValueError(f"chat {channel_id} is not a channel")
        if channel_message_id is None:
            post = self._store_message(
                channel, sender=None, version=self._version(text, list(entities or []))
            )
            channel_message_id, original_date = post.message_id, post.date
        else:
            original = channel.messages.get(channel_message_id)
            original_date = original.date if original else self._now()
        origin = {
            "type": "channel",
            "chat": channel.to_api(),
            "message_id": channel_message_id,
            "date": original_date,
        }
        message = self._store_message(
            chat,
            sender=user,
            version=self._version(text, detect_entities(text, list(entities or []))),
            extra={"forward_origin": origin},
        )
        if self._bot_sees(chat, message):
            message.update_id = self._emit("message", message.to_api())
        await asyncio.sleep(0)
        return message

    async def post_to_channel(self, channel_id: int, text: str) -> ChatMessage:
        """An admin posts in a channel; the bot gets a channel_post if it is there."""
        channel = self._known_chat(channel_id)
        if channel.type != "channel":
            raise ValueError(f"chat {channel_id} is not a channel")
        post = self._store_message(
            channel, sender=None, version=self._version(text, detect_entities(text, []))
        )
        if channel.bot_status in ("member", "administrator"):
            post.update_id = self._emit("channel_post", post.to_api())
        await asyncio.sleep(0)
        return post

    async def press_button(
        self,
        user_id: int,
        message: ChatMessage | tuple[int, int],
        callback_data: str,
        *,
        forged: bool = False,
    ) -> str:
        """A user presses an inline button of a bot message; returns the callback query id.
        `forged`: a modified client sends callback data that no button of the message has."""
        chat_id, message_id = (
            (message.chat_id, message.message_id) if isinstance(message, ChatMessage) else message
        )
        chat = self._known_chat(chat_id)
        user = self._known_user(user_id)
        if chat.type != "channel":
            self._user_in_chat(user_id, chat_id)
        target = chat.messages.get(message_id)
        if target is None or target.deleted:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        if callback_data not in target.callback_data and not forged:
            raise ValueError(
                f"message {message_id} has no button with callback_data {callback_data!r}; "
                f"it has {target.callback_data}"
            )
        query_id = str(next(self._query_counter))
        self._pending_queries[query_id] = _PendingQuery(query_id, self._clock())
        query = {
            "id": query_id,
            "from": user.to_api(),
            "message": target.to_api(),
            "chat_instance": str((chat_id * 2_654_435_761) % 10**19),
            "data": callback_data,
        }
        self._emit("callback_query", query)
        await asyncio.sleep(0)
        return query_id

    async def inline_query(self, user_id: int, query: str) -> str:
        """A user types `@bot query` in any chat; returns the inline query id (see
        `wait_for_inline_answer`). Telegram sends these only to bots with inline mode on, and
        answers from its cache, without asking the bot, while an earlier answer's cache_time
        lasts: the same text's answer for anyone, or this user's own when it was is_personal."""
        user = self._known_user(user_id)
        query_id = str(next(self._query_counter))
        cached = self._cached_inline(user_id, query)
        if cached is not None:
            self.inline_answers[query_id] = replace(cached, query_id=query_id, from_cache=True)
            return query_id
        self._pending_inline[query_id] = _PendingInline(user_id, query, self._clock())
        inline = {"id": query_id, "from": user.to_api(), "query": query, "offset": ""}
        self._emit("inline_query", {**inline, "chat_type": "sender"})
        await asyncio.sleep(0)
        return query_id

    def _cached_inline(self, user_id: int, query: str) -> InlineAnswer | None:
        """The cached answer Telegram would give this user for this text, if still fresh."""
        for key in ((query, user_id), (query, None)):
            answer = self._inline_cache.get(key)
            if answer is not None and self._clock() - answer.at < answer.cache_time:
                return answer
        return None

    async def wait_for_inline_answer(
        self,
        query_id: str,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> InlineAnswer:
        """The bot's answer to an inline query, once it has come."""
        answer = await self.wait_until(
            lambda: self.inline_answers.get(query_id), timeout, f"an answer to inline {query_id}"
        )
        assert answer is not None
        return answer

    async def create_topic(self, user_id: int, chat_id: int, name: str) -> int:
        """A member opens a topic in a forum (the forum_topic_created service message); its
        message_thread_id."""
        user, chat = self._user_in_chat(user_id, chat_id)
        if not chat.is_forum:
            raise ValueError(f"chat {chat_id} is not a forum")
        service = self._store_message(
            chat,
            sender=user,
            version=self._version("", []),
            kind="service",
            extra={"forum_topic_created": {"name": name, "icon_color": 7322096}},
        )
        service.extra.update(message_thread_id=service.message_id, is_topic_message=True)
        chat.topics[service.message_id] = ForumTopic(service.message_id, name)
        if chat.bot_status in ("member", "administrator"):
            service.update_id = self._emit("message", service.to_api())
        await asyncio.sleep(0)
        return service.message_id

    def close_topic(self, chat_id: int, thread: int) -> None:
        """An admin closes a topic: only its admins may post there now."""
        self._topic(self._known_chat(chat_id), thread).closed = True

    def delete_topic(self, chat_id: int, thread: int) -> None:
        """An admin deletes a topic and every message in it."""
        chat = self._known_chat(chat_id)
        self._topic(chat, thread).deleted = True
        for message in chat.messages.values():
            if message.thread_id == thread:
                message.deleted = True

    def _topic(self, chat: TgChat, thread: int) -> ForumTopic:
        topic = chat.topics.get(thread)
        if topic is None or topic.deleted:
            raise ValueError(f"no topic {thread} in chat {chat.id}")
        return topic

    def _topic_extra(self, chat: TgChat, thread: int) -> JsonDict:
        """What a message in a topic carries: the thread, and (like Telegram) a reply to the
        topic's first message, which tells its name."""
        self._topic(chat, thread)
        return {
            "message_thread_id": thread,
            "is_topic_message": True,
            "reply_to_message": chat.messages[thread].to_api(nested=True),
        }

    async def react(
        self, user_id: int, message: ChatMessage | tuple[int, int], emoji: Iterable[str]
    ) -> int | None:
        """A user sets their reaction to a message (an empty `emoji` takes it back); Telegram
        tells the bot only if it asked for message_reaction and, in a group, is an admin.
        Returns the update's id, or None when the bot was not told."""
        chat_id, message_id = (
            (message.chat_id, message.message_id) if isinstance(message, ChatMessage) else message
        )
        user, chat = self._user_in_chat(user_id, chat_id)
        target = chat.messages.get(message_id)
        if target is None or target.deleted:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        old = target.reactions.get(user_id, [])
        new = list(dict.fromkeys(emoji))
        target.reactions[user_id] = new
        if chat.type != "private" and chat.bot_status != "administrator":
            return None
        if chat.type == "channel":  # reactions there are anonymous: only the totals are told
            return self._emit_reaction_count(chat, target)
        update_id = self._emit(
            "message_reaction",
            {
                "chat": chat.to_api(),
                "message_id": message_id,
                "user": user.to_api(),
                "date": self._now(),
                "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
                "new_reaction": [{"type": "emoji", "emoji": e} for e in new],
            },
        )
        await asyncio.sleep(0)
        return update_id

    def _emit_reaction_count(self, chat: TgChat, message: ChatMessage) -> int | None:
        totals: dict[str, int] = {}
        for chosen in message.reactions.values():
            for emoji in chosen:
                totals[emoji] = totals.get(emoji, 0) + 1
        return self._emit(
            "message_reaction_count",
            {
                "chat": chat.to_api(),
                "message_id": message.message_id,
                "date": self._now(),
                "reactions": [
                    {"type": {"type": "emoji", "emoji": e}, "total_count": n}
                    for e, n in totals.items()
                    if n
                ],
            },
        )

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them now fail with 403."""
        user = self._known_user(user_id)
        if not user.blocked:
            user.blocked = True
            self._emit_my_chat_member(self._known_chat(user_id), user, "member", "kicked")

    def unblock(self, user_id: int) -> None:
        """The user unblocks the bot."""
        user = self._known_user(user_id)
        if user.blocked:
            user.blocked = False
            self._emit_my_chat_member(self._known_chat(user_id), user, "kicked", "member")

    def deactivate(self, user_id: int) -> None:
        """The user deletes their account: sends to them fail with 403 "user is deactivated"."""
        self._known_user(user_id).deactivated = True

    def kick_bot(self, chat_id: int, by_user_id: int | None = None) -> None:
        """Someone removes the bot from a group or channel."""
        chat = self._known_chat(chat_id)
        if chat.type == "private":
            raise ValueError("use block() for private chats")
        old = chat.bot_status
        chat.bot_status = "kicked"
        self._emit_my_chat_member(chat, self._actor(chat, by_user_id), old, "kicked")

    def promote_bot(self, chat_id: int, by_user_id: int) -> None:
        """An admin makes the bot an administrator of a group it is in."""
        chat = self._known_chat(chat_id)
        if chat.bot_status != "member":
            raise ValueError(f"the bot is {chat.bot_status} in chat {chat_id}, not a member")
        chat.bot_status = "administrator"
        self._emit_my_chat_member(chat, self._known_user(by_user_id), "member", "administrator")

    async def add_bot(self, chat_id: int, by_user_id: int, *, as_admin: bool = False) -> None:
        """Someone adds the bot to a group or channel (my_chat_member, then the service message)."""
        chat = self._known_chat(chat_id)
        actor = self._known_user(by_user_id)
        old = chat.bot_status
        chat.bot_status = "administrator" if as_admin or chat.type == "channel" else "member"
        self._emit_my_chat_member(chat, actor, old, chat.bot_status)
        if chat.type != "channel":
            service = self._store_message(
                chat,
                sender=actor,
                version=self._version("", []),
                kind="service",
                extra={
                    "new_chat_members": [self.bot.to_api()],
                    "new_chat_member": self.bot.to_api(),
                    "new_chat_participant": self.bot.to_api(),
                },
            )
            service.update_id = self._emit("message", service.to_api())
        await asyncio.sleep(0)

    def migrate_group(self, old_id: int, new_id: int, by_user_id: int | None = None) -> TgChat:
        """Upgrade a group to a supergroup, emitting both migrate service messages."""
        old = self._known_chat(old_id)
        if old.type != "group":
            raise ValueError(f"chat {old_id} is not a basic group")
        if new_id > SUPERGROUP_ID_MAX or new_id in self.chats:
            raise ValueError("new_id must be a new -100xxxxxxxxxx id")
        actor = self._actor(old, by_user_id)
        new = TgChat(new_id, "supergroup", title=old.title, members=dict(old.members))
        new.bot_status = old.bot_status
        self.chats[new_id] = new
        old.migrated_to = new_id
        to_message = self._store_message(
            old,
            sender=actor,
            version=self._version("", []),
            kind="service",
            extra={"migrate_to_chat_id": new_id},
        )
        from_message = self._store_message(
            new,
            sender=None,
            version=self._version("", []),
            kind="service",
            extra={"migrate_from_chat_id": old_id},
        )
        from_message.from_api = dict(GROUP_ANONYMOUS_BOT)
        from_message.sender_chat_api = new.to_api()
        if old.bot_status in ("member", "administrator"):
            to_message.update_id = self._emit("message", to_message.to_api())
            from_message.update_id = self._emit("message", from_message.to_api())
        return new

    def _user_in_chat(self, user_id: int, chat_id: int) -> tuple[TgUser, TgChat]:
        user = self._known_user(user_id)
        chat = self._known_chat(chat_id)
        if user.deactivated:
            raise ValueError(f"user {user_id} is deactivated")
        if chat.type == "private":
            if chat_id != user_id:
                raise ValueError("in a private chat the chat id is the user id")
            if user.blocked:
                raise ValueError(f"user {user_id} blocked the bot; unblock() first")
        elif chat.migrated_to is not None:
            raise ValueError(f"group {chat_id} migrated to {chat.migrated_to}")
        elif chat.members.get(user_id) not in ("creator", "administrator", "member"):
            raise ValueError(f"user {user_id} is not a member of chat {chat_id}")
        return user, chat

    def _actor(self, chat: TgChat, user_id: int | None) -> TgUser:
        if user_id is not None:
            return self._known_user(user_id)
        for member_id, status in chat.members.items():
            if status == "creator":
                return self._known_user(member_id)
        return self.add_user(777_000, "Telegram")

    def _reply_extra(self, chat: TgChat, reply_to: int | None) -> JsonDict:
        if reply_to is None:
            return {}
        target = chat.messages.get(reply_to)
        if target is None:
            raise ValueError(f"no message {reply_to} in chat {chat.id}")
        return {"reply_to_message": target.to_api(nested=True)}

    def _bot_sees(self, chat: TgChat, message: ChatMessage) -> bool:
        """Whether Telegram delivers a user's message to the bot (privacy mode in groups)."""
        if chat.type == "private":
            return True
        if chat.bot_status not in ("member", "administrator"):
            return False
        if not self.privacy_mode or chat.bot_status == "administrator":
            return True
        reply = message.extra.get("reply_to_message")
        if reply and reply.get("from", {}).get("id") == self.bot.id:
            return True
        mine = f"@{self.bot.username}".lower()
        for entity in message.entities:
            chunk = utf16_slice(message.text, entity["offset"], entity["length"]).lower()
            if entity["type"] == "bot_command" and ("@" not in chunk or chunk.endswith(mine)):
                return True
            if entity["type"] == "mention" and chunk == mine:
                return True
        return False

    # ------------------------------------------------------------------ observing the bot

    def sent_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[ChatMessage]:
        """What the bot sent to a chat, oldest first, each in its current state."""
        chat = self._known_chat(chat_id)
        return [m for m in chat.bot_messages if include_deleted or not m.deleted]

    def messages(self, chat_id: int) -> list[ChatMessage]:
        """Every message in a chat (users' and the bot's), oldest first."""
        return list(self._known_chat(chat_id).messages.values())

    def commands(
        self, scope: Mapping[str, Any] | str | None = None, language_code: str = ""
    ) -> list[JsonDict]:
        """The commands set for a scope (dict, type name or PTB BotCommandScope) and language."""
        if isinstance(scope, str):
            scope = {"type": scope}
        elif scope is not None and hasattr(scope, "to_dict"):
            scope = scope.to_dict()
        key = self._scope_key(dict(scope) if scope else None)
        return [dict(c) for c in self._commands.get((key, language_code), [])]

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes of a stored file."""
        return self.files[file_id].data

    def callback_answer(self, query_id: str) -> CallbackAnswer | None:
        """The answer to a callback query, if the bot gave one."""
        return next((a for a in self.answered_callbacks if a.query_id == query_id), None)

    def calls_to(self, method: str) -> list[ApiCall]:
        """Answered calls of one method, oldest first."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def wait_until(
        self,
        condition: Callable[[], T],
        timeout: float = 30.0,  # noqa: ASYNC109
        what: str = "a condition",
    ) -> T:
        """Wait until condition() is truthy (re-checked on every server event); return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = condition()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            await self._changed.wait(min(remaining, 0.5))

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> ChatMessage:
        """The first bot message in the chat, oldest first, not returned by an earlier call here."""
        chat = self._known_chat(chat_id)
        returned = self._returned_messages.setdefault(chat_id, set())

        def find() -> ChatMessage | None:
            for message in chat.bot_messages:
                if message.message_id not in returned and (predicate is None or predicate(message)):
                    returned.add(message.message_id)
                    return message
            return None

        try:
            return await self.wait_until(find, timeout)
        except TimeoutError:
            sent = [m.text[:80] for m in chat.bot_messages]
            raise TimeoutError(
                f"no new matching bot message in chat {chat_id} within {timeout}s; sent: {sent}"
            ) from None

    async def wait_for_edit(
        self,
        chat_id: int,
        message_id: int | None = None,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> ChatMessage:
        """The message of the first edit (in order, not returned before) the bot made here."""
        chat = self._known_chat(chat_id)
        returned = self._returned_edits.setdefault(chat_id, set())

        def find() -> ChatMessage | None:
            for index, (edited_id, _version) in enumerate(chat.edit_log):
                if index in returned or (message_id is not None and edited_id != message_id):
                    continue
                message = chat.messages[edited_id]
                if predicate is None or predicate(message):
                    returned.add(index)
                    return message
            return None

        try:
            return await self.wait_until(find, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no new matching edit in chat {chat_id} within {timeout}s; "
                f"edits so far: {chat.edit_log}"
            ) from None

    async def wait_for_callback_answer(
        self,
        query_id: str,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """Wait until the bot answers a callback query."""
        return await self.wait_until(
            lambda: self.callback_answer(query_id), timeout, f"an answer to query {query_id}"
        )

    # ------------------------------------------------------------------ fault injection

    def inject(
        self,
        method: str,
        *,
        count: int = 1,
        chat_id: int | str | None = None,
        error: ApiError | None = None,
        delay: float = 0.0,
    ) -> Fault:
        """Make the next `count` calls of a method (to a chat) wait `delay` s, then fail with `error`."""
        fault = Fault(method, chat_id, count, error, delay)
        self.faults.append(fault)
        return fault

    def fail_next(
        self,
        method: str,
        status: int = 500,
        *,
        count: int = 1,
        chat_id: int | str | None = None,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> Fault:
        """Make the next `count` calls fail: 429 (with retry_after), 5xx, or any status+description."""
        if status == 429:
            error = too_many_requests(retry_after or 1)
        elif status >= 500:
            error = server_error(status, description)
        else:
            error = ApiError(status, description or f"Error {status}")
        return self.inject(method, count=count, chat_id=chat_id, error=error)

    def _take_fault(self, method: str, params: _Params) -> Fault | None:
        for fault in self.faults:
            if fault.remaining <= 0 or fault.method.lower() != method.lower():
                continue
            if fault.chat_id is not None and str(params.values.get("chat_id")) != str(
                fault.chat_id
            ):
                continue
            fault.remaining -= 1
            return fault
        return None

    # ------------------------------------------------------------------ HTTP

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return self._json_response(ApiError(404, "Not Found").to_json(), 404)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._json_response(ApiError(404, "Not Found").to_json(), 404)
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.file_path == path), None)
        if stored is None:
            return self._json_response(ApiError(404, "Not Found").to_json(), 404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._json_response(ApiError(401, "Unauthorized").to_json(), 401)
        requested = request.match_info["method"]
        name, handler = self._methods.get(requested.lower(), (requested, None))
        params = _Params({}, {})
        try:
            params = await self._read_params(request)
        except (ConnectionResetError, asyncio.CancelledError):
            raise  # the client went away mid-request (a killed bot): not a server bug
        try:
            fault = self._take_fault(name, params)
            if fault is not None:
                await self._sleep(fault.delay)
                if fault.error is not None:
                    raise fault.error
            if handler is None:
                raise bad_request("method not found")
            result = await handler(params)
            body: JsonDict = {"ok": True, "result": result}
            status = 200
        except ApiError as error:
            body, status = error.to_json(), error.status
        except Exception as exc:  # a bug in this server: answer 500, fail the test at exit
            self.internal_errors.append(exc)
            body, status = server_error().to_json(), 500
        self._record_call(name, params, status, body.get("description"))
        return self._json_response(body, status)

    async def _read_params(self, request: web.Request) -> _Params:
        values: dict[str, Any] = dict(request.query)
        files: dict[str, web.FileField] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise bad_request("request body must be a JSON object")
                values.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = value
                    else:
                        values[key] = value
        return _Params(values, files)

    def _record_call(
        self, method: str, params: _Params, status: int, description: str | None
    ) -> None:
        self.calls.append(ApiCall(method, params.loggable(), status, description, self._clock()))
        self.status_counts[status] += 1
        if status == 429:
            self.too_many_requests += 1
        self._changed.notify()

    @staticmethod
    def _json_response(body: JsonDict, status: int) -> web.Response:
        return web.Response(
            body=json.dumps(body, ensure_ascii=False).encode(),
            status=status,
            content_type="application/json",
        )

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            await _first(self._closing.wait(), self._sleep_for(seconds))

    # ------------------------------------------------------------------ updates

    def _emit(self, kind: str, payload: JsonDict) -> int | None:
        """Queue an update if the bot's allowed_updates accept its type; return its id."""
        allowed = self._allowed_updates
        if (kind in OPT_IN_UPDATE_TYPES) if allowed is None else (kind not in allowed):
            return None
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: payload})
        self._updates_changed.notify()
        self._changed.notify()
        return update_id

    def _emit_my_chat_member(self, chat: TgChat, actor: TgUser, old: str, new: str) -> None:
        bot = self.bot.to_api()
        self._emit(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": actor.to_api(),
                "date": self._now(),
                "old_chat_member": self._member_api(chat, bot, old),
                "new_chat_member": self._member_api(chat, bot, new),
            },
        )

    def _set_allowed_updates(self, allowed: Any) -> None:
        if not isinstance(allowed, list):
            raise bad_request("can't parse allowed_updates JSON object")
        types = frozenset(str(t) for t in allowed) & UPDATE_TYPES
        self._allowed_updates = types or None

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        elif offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()

    async def _get_updates(self, params: _Params) -> list[JsonDict]:
        if self._webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.integer("offset", 0) or 0
        limit = min(max(params.integer("limit", 100) or 100, 1), 100)
        timeout = max(params.number("timeout", 0.0), 0.0)
        if params.has("allowed_updates"):
            self._set_allowed_updates(params.json("allowed_updates"))
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_changed.notify()
        deadline = self._clock() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if self._webhook_url:
                raise ApiError(409, "Conflict: webhook was set while getUpdates was waiting")
            batch = list(itertools.islice(self._updates, limit))
            remaining = deadline - self._clock()
            if batch or remaining <= 0 or self._closing.is_set():
                return batch
            self.waiting_polls += 1
            self._changed.notify()
            try:
                await self._updates_changed.wait(remaining, self._sleep_for)
            finally:
                self.waiting_polls -= 1

    async def _set_webhook(self, params: _Params) -> bool:
        url = params.string("url") or ""
        if not url:
            return await self._delete_webhook(params)
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.string("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = params.integer("max_connections", 40) or 40
        if not 1 <= max_connections <= 100:
            raise bad_request("invalid max_connections specified")
        if params.has("allowed_updates"):
            self._set_allowed_updates(params.json("allowed_updates"))
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        await self._stop_webhook_worker()
        self._webhook_url = url
        self._webhook_secret = secret
        self._webhook_max_connections = max_connections
        self._webhook_last_error = None
        self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhooks())
        self._updates_changed.notify()
        return True

    async def _delete_webhook(self, params: _Params) -> bool:
        await self._stop_webhook_worker()
        self._webhook_url = ""
        self._webhook_secret = None
        self._webhook_last_error = None
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: _Params) -> JsonDict:
        info: JsonDict = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook_url:
            info["max_connections"] = self._webhook_max_connections
            info["ip_address"] = "127.0.0.1"
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
        if self._webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    async def _stop_webhook_worker(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_webhooks(self) -> None:
        """POST pending updates one at a time; an update is dropped once the receiver says 2xx."""
        delay = self.webhook_retry_delay
        while True:
            if not self._updates:
                await self._updates_changed.wait(None)
                continue
            update = self._updates[0]
            error = await self._post_update(update)
            if error is None:
                if self._updates and self._updates[0] is update:
                    self._updates.popleft()
                delay = self.webhook_retry_delay
                self._changed.notify()
                continue
            self._webhook_last_error = (self._now(), error)
            self._changed.notify()
            await self._sleep_for(delay)
            delay = min(delay * 2, 5.0)

    async def _post_update(self, update: JsonDict) -> str | None:
        """Deliver one update; the error message Telegram would show, or None."""
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if self._webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self._webhook_secret
        try:
            async with self._session.post(
                self._webhook_url, data=json.dumps(update, ensure_ascii=False), headers=headers
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return f"Connection failed: {exc.__class__.__name__}"

    # ------------------------------------------------------------------ bot profile & commands

    async def _get_me(self, params: _Params) -> JsonDict:
        me = self.bot.to_api()
        me.update(
            can_join_groups=True,
            can_read_all_group_messages=not self.privacy_mode,
            supports_inline_queries=False,
            can_connect_to_business=False,
            has_main_web_app=False,
        )
        return me

    async def _get_my_star_balance(self, params: _Params) -> JsonDict:
        tenths = self.star_balance_tenths
        return {"amount": tenths // 10, "nanostar_amount": tenths % 10 * NANOSTARS_PER_TENTH}

    def _scope_key(self, scope: JsonDict | None) -> tuple[str, int | None, int | None]:
        if not scope:
            return ("default", None, None)
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        scope_type = scope["type"]
        if scope_type not in ("chat", "chat_administrators", "chat_member"):
            return (scope_type, None, None)
        chat = self._lookup_chat(_Params(scope, {}).chat_ref())
        user_id = None
        if scope_type == "chat_member":
            user_id = _Params(scope, {}).integer("user_id")
            if user_id is None or user_id not in self.users:
                raise bad_request("user not found")
        return (scope_type, chat.id, user_id)

    def _command_key(self, params: _Params) -> tuple[tuple[str, int | None, int | None], str]:
        language = params.string("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return self._scope_key(params.json("scope")), language

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.json("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("command description must be non-empty")
            cleaned.append({"command": name, "description": description})
        key = self._command_key(params)
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: _Params) -> list[JsonDict]:
        return [dict(c) for c in self._commands.get(self._command_key(params), [])]

    async def _delete_my_commands(self, params: _Params) -> bool:
        self._commands.pop(self._command_key(params), None)
        return True

    def _profile_setter(self, kind: str) -> Callable[[_Params], Any]:
        limits = {"description": 512, "short_description": 120, "name": 64}

        async def handler(params: _Params) -> bool:
            value = params.string(kind) or ""
            if len(value) > limits[kind]:
                raise bad_request(f"{kind} is too long")
            self.profile_texts[(kind, params.string("language_code") or "")] = value
            return True

        return handler

    def _profile_getter(self, kind: str) -> Callable[[_Params], Any]:
        async def handler(params: _Params) -> JsonDict:
            value = self.profile_texts.get((kind, params.string("language_code") or ""), "")
            return {kind: value}

        return handler

    async def _close(self, params: _Params) -> bool:
        self.closed_by_bot = True
        return True

    async def _log_out(self, params: _Params) -> bool:
        self.logged_out = True
        return True

    # ------------------------------------------------------------------ chats

    def _lookup_chat(self, ref: int | str) -> TgChat:
        if isinstance(ref, str):
            name = ref[1:].lower()
            for chat in self.chats.values():
                if chat.type != "private" and chat.username and chat.username.lower() == name:
                    return chat
            raise bad_request("chat not found")
        chat = self.chats.get(ref)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _check_membership(self, chat: TgChat) -> None:
        if chat.type == "private":
            return
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        if chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {chat.type} chat")

    def _writable_chat(self, params: _Params) -> TgChat:
        """The target chat of a send, with every refusal Telegram would give."""
        chat = self._lookup_chat(params.chat_ref())
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.type == "private":
            user = self.users[chat.id]
            if user.deactivated:
                raise forbidden("user is deactivated")
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            if not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
            return chat
        self._check_membership(chat)
        if chat.type == "channel" and chat.bot_status != "administrator":
            raise bad_request("need administrator rights in the channel chat")
        return chat

    def _member_api(self, chat: TgChat, user: JsonDict, status: str) -> JsonDict:
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "kicked":
            return {"status": "kicked", "user": user, "until_date": 0}
        if status != "administrator":
            return {"status": status, "user": user}
        rights: JsonDict = {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
        }
        if chat.type == "channel":
            rights.update(can_post_messages=True, can_edit_messages=True)
        else:
            rights["can_pin_messages"] = True
        if chat.type == "supergroup":
            rights["can_manage_topics"] = False
        return rights

    async def _get_chat(self, params: _Params) -> JsonDict:
        chat = self._lookup_chat(params.chat_ref())
        self._check_membership(chat)
        info = chat.to_api()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return info

    async def _get_chat_member(self, params: _Params) -> JsonDict:
        chat = self._lookup_chat(params.chat_ref())
        self._check_membership(chat)
        user_id = params.integer("user_id")
        if user_id == self.bot.id:
            status = chat.bot_status if chat.type != "private" else "member"
            if chat.type == "private" and self.users[chat.id].blocked:
                status = "kicked"
            return self._member_api(chat, self.bot.to_api(), status)
        user = self.users.get(user_id) if user_id is not None else None
        if user is None:
            raise bad_request("user not found")
        status = chat.members.get(user.id, "left")
        return self._member_api(chat, user.to_api(), status)

    async def _get_chat_administrators(self, params: _Params) -> list[JsonDict]:
        chat = self._lookup_chat(params.chat_ref())
        self._check_membership(chat)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = [
            self._member_api(chat, self.users[user_id].to_api(), status)
            for user_id, status in chat.members.items()
            if status in ("creator", "administrator")
        ]
        if chat.bot_status == "administrator":
            admins.append(self._member_api(chat, self.bot.to_api(), "administrator"))
        return admins

    async def _get_chat_member_count(self, params: _Params) -> int:
        chat = self._lookup_chat(params.chat_ref())
        self._check_membership(chat)
        present = [s for s in chat.members.values() if s in ("creator", "administrator", "member")]
        return len(present) + (chat.bot_status in ("member", "administrator"))

    async def _leave_chat(self, params: _Params) -> bool:
        chat = self._lookup_chat(params.chat_ref())
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        self._check_membership(chat)
        old = chat.bot_status
        chat.bot_status = "left"
        self._emit_my_chat_member(chat, self.bot, old, "left")
        return True

    async def _send_chat_action(self, params: _Params) -> bool:
        chat = self._writable_chat(params)
        action = params.string("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((chat.id, action, self._clock()))
        return True

    # ------------------------------------------------------------------ messages

    def _now(self) -> int:
        return int(self._wall_clock())

    def _version(self, text: str, entities: list[JsonDict]) -> MessageVersion:
        return MessageVersion(text, entities, None, text, None, self._clock())

    def _store_message(
        self,
        chat: TgChat,
        *,
        sender: TgUser | None,
        version: MessageVersion,
        kind: str = "text",
        extra: JsonDict | None = None,
        by_bot: bool = False,
    ) -> ChatMessage:
        """Give a new message the chat's next id and keep it."""
        message = ChatMessage(
            chat_id=chat.id,
            message_id=chat.next_message_id,
            date=self._now(),
            sender_id=sender.id if sender else None,
            by_bot=by_bot,
            chat_api=chat.to_api(),
            from_api=sender.to_api() if sender else None,
            versions=[version],
            kind=kind,
            extra=dict(extra or {}),
            sender_chat_api=chat.to_api() if chat.type == "channel" else None,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        if by_bot:
            chat.bot_messages.append(message)
        return message

    def _formatted(
        self, params: _Params, text_name: str, entities_name: str, *, limit: int, caption: bool
    ) -> MessageVersion:
        """Parse text per parse_mode/entities, enforcing Telegram's emptiness and length rules."""
        source = params.string(text_name) or ""
        parse_mode = params.string("parse_mode") or None
        explicit = params.json(entities_name)
        if explicit is not None:
            if not isinstance(explicit, list) or not all(isinstance(e, dict) for e in explicit):
                raise bad_request(f"can't parse {entities_name} JSON object")
            text, entities = source, [dict(e) for e in explicit]
        elif parse_mode is None:
            text, entities = source, []
        elif parse_mode.lower() == "html":
            try:
                text, entities = parse_html(source, strict_ampersand=self.strict_ampersand)
            except HtmlParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif parse_mode.lower() in ("markdown", "markdownv2"):
            raise bad_request(f"parse_mode {parse_mode} is not emulated by the test server")
        else:
            raise bad_request("unsupported parse_mode")
        text, entities = trim_text(text, entities)
        if not text and not caption:
            raise bad_request("message text is empty")
        if utf16_len(text) > limit:
            raise bad_request("message caption is too long" if caption else "message is too long")
        return MessageVersion(
            text, detect_entities(text, entities), None, source, parse_mode, self._clock()
        )

    def _inline_markup(
        self, params: _Params, chat: TgChat
    ) -> tuple[JsonDict | None, JsonDict | None]:
        """(inline keyboard or None, any other reply markup or None), validated like Telegram
        (a web_app button only in a private chat)."""
        markup = params.json("reply_markup")
        if markup is None:
            return None, None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None, markup
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for button in (b for row in rows for b in row):
            _check_button(button)
            if "web_app" in button and chat.type != "private":
                raise bad_request("BUTTON_TYPE_INVALID")
        if not any(rows):
            return None, None
        return {"inline_keyboard": [row for row in rows if row]}, None

    def _send_thread(self, chat: TgChat, params: _Params, reply: JsonDict) -> JsonDict:
        """Where in a forum a send goes: the topic named by message_thread_id, or that of the
        message it replies to (refused when the topic is gone or closed); else General."""
        thread = params.integer("message_thread_id")
        replied = reply.get("reply_to_message") or {}
        if thread is None and replied.get("is_topic_message"):
            thread = replied.get("message_thread_id")
        if thread is None:
            return {}
        topic = chat.topics.get(thread)
        if topic is None or topic.deleted:
            raise bad_request("message thread not found")
        if topic.closed:
            raise bad_request("TOPIC_CLOSED")
        return {"message_thread_id": thread, "is_topic_message": True}

    def _reply_target(self, chat: TgChat, params: _Params) -> JsonDict:
        reply = params.json("reply_parameters")
        message_id = params.integer("reply_to_message_id")
        allow_missing = params.flag("allow_sending_without_reply")
        if isinstance(reply, dict):
            message_id = _Params(reply, {}).integer("message_id")
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat.id):
                chat = self._lookup_chat(_Params(reply, {}).chat_ref())
        if message_id is None:
            return {}
        target = chat.messages.get(message_id)
        if target is None or target.deleted:
            if allow_missing:
                return {}
            raise bad_request("message to be replied not found")
        return {"reply_to_message": target.to_api(nested=True)}

    def _check_rate(self, chat: TgChat, *, paid: bool = False) -> bool:
        """Refuse with 429 when a send would exceed a configured limit; else count it. A paid
        send (allow_paid_broadcast) may go past the overall limit up to paid_per_second: each
        one past it is debited from the Star balance (refused when the balance is short).
        Whether the send was debited."""
        limits = self.rate_limits
        chat_limit: tuple[tuple[str, int], int, float] | None = None
        if chat.type == "private" and limits.private_chat_per_second:
            chat_limit = (("chat", chat.id), limits.private_chat_per_second, 1.0)
        if chat.type != "private" and limits.group_per_minute:
            chat_limit = (("chat", chat.id), limits.group_per_minute, 60.0)
        free = self._window(("overall", 0), limits.overall_per_second, 1.0)
        every = self._window(("paid", 0), limits.paid_per_second if paid else None, 1.0)
        per_chat = self._window(*chat_limit) if chat_limit else None
        now = self._clock()
        past_free = free is not None and free.wait_time(now) > 0
        if paid and not self.paid_broadcast_allowed:
            raise bad_request("paid broadcasts are not available for the bot")
        binding = [w for w in (per_chat, every if paid else free) if w is not None]
        wait = max((w.wait_time(now) for w in binding), default=0.0)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        debited = paid and past_free
        if debited:
            if self.star_balance_tenths < PAID_MESSAGE_TENTHS:
                raise bad_request("not enough Telegram Stars on the bot's balance")
            self.star_balance_tenths -= PAID_MESSAGE_TENTHS
            self.stars_debited_tenths += PAID_MESSAGE_TENTHS
        for window in (free, self._window(("paid", 0), limits.paid_per_second, 1.0), per_chat):
            if window is not None:
                window.times.append(now)
        return debited

    def _window(self, key: tuple[str, int], limit: int | None, period: float) -> _Window | None:
        """The sliding window counting sends under `key` (None: no such limit)."""
        if not limit:
            return None
        window = self._windows.get(key)
        if window is None or (window.limit, window.period) != (limit, period):
            window = self._windows[key] = _Window(limit, period)
        return window

    def _accept_send(
        self,
        method: str,
        chat: TgChat,
        version: MessageVersion,
        params: _Params,
        *,
        kind: str = "text",
        extra: JsonDict | None = None,
        reply_keyboard: JsonDict | None = None,
    ) -> JsonDict:
        reply = self._reply_target(chat, params)
        extra = {**self._send_thread(chat, params, reply), **reply, **(extra or {})}
        preview = params.json("link_preview_options")
        if isinstance(preview, dict) and preview:
            extra["link_preview_options"] = preview
        paid = self._check_rate(chat, paid=params.flag("allow_paid_broadcast"))
        sender = None if chat.type == "channel" else self.bot
        message = self._store_message(
            chat, sender=sender, version=version, kind=kind, extra=extra, by_bot=True
        )
        message.reply_keyboard = reply_keyboard
        self.send_log.append(
            SentRecord(method, chat.id, message.message_id, version.text, version.at, paid)
        )
        return message.to_api()

    async def _set_chat_menu_button(self, params: _Params) -> bool:
        button = params.json("menu_button")
        if button is None:
            button = {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise bad_request("can't parse menu button JSON object")
        if button["type"] == "web_app" and (
            not button.get("text") or not is_web_app_url(button.get("web_app"))
        ):
            raise bad_request("BUTTON_URL_INVALID")
        chat_id = params.integer("chat_id")
        if chat_id is not None and self._known_chat(chat_id).type != "private":
            raise bad_request("chat is not a private chat")
        self.menu_buttons[chat_id] = button
        return True

    async def _get_chat_menu_button(self, params: _Params) -> JsonDict:
        chat_id = params.integer("chat_id")
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "commands"}

    async def _send_message(self, params: _Params) -> JsonDict:
        chat = self._writable_chat(params)
        version = self._formatted(params, "text", "entities", limit=MESSAGE_LIMIT, caption=False)
        version.reply_markup, keyboard = self._inline_markup(params, chat)
        return self._accept_send("sendMessage", chat, version, params, reply_keyboard=keyboard)

    async def _send_document(self, params: _Params) -> JsonDict:
        chat = self._writable_chat(params)
        stored = self._document_param(params)
        version = self._formatted(
            params, "caption", "caption_entities", limit=CAPTION_LIMIT, caption=True
        )
        version.reply_markup, keyboard = self._inline_markup(params, chat)
        return self._accept_send(
            "sendDocument",
            chat,
            version,
            params,
            kind="document",
            extra={"document": stored.document_api()},
            reply_keyboard=keyboard,
        )

    def _document_param(self, params: _Params) -> StoredFile:
        upload = params.files.get("document")
        reference = params.string("document")
        if upload is None and reference and reference.startswith("attach://"):
            upload = params.files.get(reference.removeprefix("attach://"))
        if upload is not None:
            data = upload.file.read()
            if not data:
                raise bad_request("file must be non-empty")
            return self._store_file(upload.filename, upload.content_type, data)
        if not reference:
            raise bad_request("there is no document in the request")
        if reference in self.files:
            return self.files[reference]
        if reference.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _store_file(self, filename: str | None, mime_type: str | None, data: bytes) -> StoredFile:
        number = next(self._file_counter)
        suffix = ""
        if filename and "." in filename:
            suffix = "." + filename.rsplit(".", 1)[1]
        stored = StoredFile(
            file_id=f"BQACAgQAAxkBAAI{number:08d}",
            file_unique_id=f"AgAD{number:06d}",
            file_name=filename,
            mime_type=mime_type,
            data=data,
            file_path=f"documents/file_{number}{suffix}",
        )
        self.files[stored.file_id] = stored
        return stored

    async def _get_file(self, params: _Params) -> JsonDict:
        stored = self.files.get(params.string("file_id") or "")
        if stored is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if len(stored.data) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return stored.to_api()

    def _editable(self, params: _Params, missing: str) -> tuple[TgChat, ChatMessage]:
        if params.has("inline_message_id") and not params.has("chat_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._writable_chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request(missing)
        if not message.by_bot:
            raise bad_request("message can't be edited")
        return chat, message

    def _apply_edit(self, chat: TgChat, message: ChatMessage, version: MessageVersion) -> JsonDict:
        current = message.current
        if (version.text, version.entities, version.reply_markup) == (
            current.text,
            current.entities,
            current.reply_markup,
        ):
            raise bad_request(NOT_MODIFIED)
        message.versions.append(version)
        message.edit_date = self._now()
        chat.edit_log.append((message.message_id, len(message.versions) - 1))
        return message.to_api()

    async def _edit_message_text(self, params: _Params) -> JsonDict:
        chat, message = self._editable(params, "message to edit not found")
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        version = self._formatted(params, "text", "entities", limit=MESSAGE_LIMIT, caption=False)
        # Telegram drops the keyboard when an edit does not repeat it.
        version.reply_markup, _other = self._inline_markup(params, chat)
        return self._apply_edit(chat, message, version)

    async def _edit_message_reply_markup(self, params: _Params) -> JsonDict:
        chat, message = self._editable(params, "message to edit not found")
        current = message.current
        markup, _other = self._inline_markup(params, chat)
        version = MessageVersion(
            current.text,
            current.entities,
            markup,
            current.source,
            current.parse_mode,
            self._clock(),
        )
        return self._apply_edit(chat, message, version)

    async def _delete_message(self, params: _Params) -> bool:
        chat = self._writable_chat(params)
        message = chat.messages.get(params.integer("message_id") or 0)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        if not message.by_bot and chat.type != "private" and chat.bot_status != "administrator":
            raise bad_request("message can't be deleted")
        message.deleted = True
        return True

    async def _answer_inline_query(self, params: _Params) -> bool:
        query_id = params.string("inline_query_id") or ""
        pending = self._pending_inline.pop(query_id, None)
        if pending is None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params.json("results")
        if not isinstance(results, list) or len(results) > INLINE_RESULTS_LIMIT:
            raise bad_request(
                "RESULTS_TOO_MUCH" if isinstance(results, list) else "can't parse results"
            )
        ids = [str(result.get("id", "")) if isinstance(result, dict) else "" for result in results]
        if any(not 1 <= len(i.encode()) <= 64 for i in ids) or len(set(ids)) != len(ids):
            raise bad_request(
                "RESULT_ID_INVALID" if len(set(ids)) == len(ids) else "RESULT_ID_DUPLICATE"
            )
        for result in results:
            self._check_inline_result(result)
        answer = InlineAnswer(
            query_id,
            results,
            params.integer("cache_time", 300) or 0,
            params.flag("is_personal"),
            self._clock(),
        )
        self.inline_answers[query_id] = answer
        if answer.cache_time > 0:
            who = pending.user_id if answer.is_personal else None
            self._inline_cache[(pending.query, who)] = answer
        return True

    def _check_inline_result(self, result: JsonDict) -> None:
        """An article result as Telegram checks it: a title and a message that would send."""
        if result.get("type") != "article" or not result.get("title"):
            raise bad_request(
                "RESULT_TYPE_INVALID" if result.get("type") != "article" else "RESULT_TITLE_EMPTY"
            )
        content = result.get("input_message_content")
        if not isinstance(content, dict) or not isinstance(content.get("message_text"), str):
            raise bad_request("MESSAGE_EMPTY")
        values = {"text": content["message_text"], "parse_mode": content.get("parse_mode") or ""}
        self._formatted(_Params(values, {}), "text", "entities", limit=MESSAGE_LIMIT, caption=False)

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.string("callback_query_id") or ""
        pending = self._pending_queries.pop(query_id, None)
        too_old = (
            pending is not None
            and self.callback_query_ttl is not None
            and self._clock() - pending.created > self.callback_query_ttl
        )
        if pending is None or too_old:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.string("text")
        if text is not None and len(text) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        self.answered_callbacks.append(
            CallbackAnswer(
                query_id,
                text,
                params.flag("show_alert"),
                params.string("url"),
                params.integer("cache_time", 0) or 0,
                self._clock(),
            )
        )
        return True


def is_web_app_url(web_app: Any) -> bool:
    """A Mini App's URL as Telegram takes it: https (this server also takes http to a loopback
    address, where tests run the bot's web server)."""
    url = web_app.get("url") if isinstance(web_app, dict) else None
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    return bool(parts.hostname) and (
        parts.scheme == "https" or (parts.scheme == "http" and loopback)
    )


def _check_button(button: Any) -> None:
    """Refuse an inline button the way Telegram does."""
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not button["text"]:
        raise bad_request("BUTTON_TEXT_INVALID")
    if not any(key in button for key in BUTTON_ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not (isinstance(data, str) and 1 <= len(data.encode()) <= 64):
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and (not isinstance(url, str) or check_link(url) is None):
        raise bad_request("BUTTON_URL_INVALID")
    if "web_app" in button and not is_web_app_url(button["web_app"]):
        raise bad_request("BUTTON_URL_INVALID")
