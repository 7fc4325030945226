"""The test Bot API server, driven by the real python-telegram-bot client over loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageOriginChannel,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.botapi import (
    ApiError,
    BotApiServer,
    HtmlParseError,
    RateLimits,
    parse_html,
    utf16_len,
)
from tests.timing import FakeClock, eventually, within

USER = 111
OTHER = 222
GROUP = -4_001_234_567
SUPERGROUP = -1_001_234_567_890
CHANNEL = -1_009_876_543_210


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as api:
        api.private_chat(USER, "سارة", language_code="ar")
        yield api


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    async with Bot(
        server.token, base_url=server.base_url, base_file_url=server.base_file_url
    ) as client:
        yield client


@pytest.fixture
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns on int retry_after unless told to use timedelta (warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@contextlib.asynccontextmanager
async def on_fake_time(clock: FakeClock) -> AsyncIterator[tuple[BotApiServer, Bot]]:
    """The server and bot fixtures' pair, the server timing its waits by `clock`."""
    async with BotApiServer(clock=clock, sleep=clock.sleep) as server:
        server.private_chat(USER, "سارة", language_code="ar")
        async with Bot(
            server.token, base_url=server.base_url, base_file_url=server.base_file_url
        ) as bot:
            yield server, bot


# ----------------------------------------------------------------------------- HTML parser


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("<b>مرحبا</b> بك", "مرحبا بك", [{"type": "bold", "offset": 0, "length": 5}]),
        (
            "<b>a<i>b</i></b>",
            "ab",
            [
                {"type": "bold", "offset": 0, "length": 2},
                {"type": "italic", "offset": 1, "length": 1},
            ],
        ),
        ("x &lt;y&gt; &amp; &quot;z&quot; &#1593;&#x639;", 'x <y> & "z" عع', []),
        (
            '<a href="https://example.org?a=1&amp;b=2">link</a>',
            "link",
            [
                {
                    "type": "text_link",
                    "offset": 0,
                    "length": 4,
                    "url": "https://example.org/?a=1&b=2",
                }
            ],
        ),
        ('<a href="not a link">x</a>', "x", []),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "offset": 0, "length": 5, "language": "python"}],
        ),
        ('<span class="tg-spoiler">s</span>', "s", [{"type": "spoiler", "offset": 0, "length": 1}]),
        (
            "<blockquote expandable>q</blockquote>",
            "q",
            [{"type": "expandable_blockquote", "offset": 0, "length": 1}],
        ),
        ("😀<u>x</u>", "😀x", [{"type": "underline", "offset": 2, "length": 1}]),
        ("<b></b>x", "x", []),
    ],
)
def test_parse_html_accepts_telegram_subset(html: str, text: str, entities: list[dict]) -> None:
    assert parse_html(html) == (text, entities)


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("سطر<br>", 'Unsupported start tag "br" at byte offset 6'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("a<b", "Unclosed start tag at byte offset 1"),
        ("AT&T", 'Unescaped "&" at byte offset 2 (write &amp;)'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            "<a href>x</a>",
            'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0',
        ),
    ],
)
def test_parse_html_rejects_like_telegram(html: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(html)
    assert str(caught.value) == error


def test_lenient_ampersand_keeps_it_literally_like_telegram() -> None:
    assert parse_html("AT&T &copy;", strict_ampersand=False) == ("AT&T &copy;", [])


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert utf16_len("عربي") == 4
    assert utf16_len("🔔x") == 3


# ----------------------------------------------------------------------------- direct Bot calls


async def test_get_me_and_send_message(server: BotApiServer, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.is_bot, me.username, me.can_join_groups) == (True, "rasd_test_bot", True)
    assert me.can_read_all_group_messages is False

    before = int(time.time())
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("➕ تابِع", callback_data="add:1")]])
    first = await bot.send_message(
        USER,
        "🔔 <b>خبر</b>\n🔗 https://r.example.org/k7Qp2",
        parse_mode="HTML",
        reply_markup=keyboard,
    )
    after = int(time.time())
    second = await bot.send_message(USER, "ثانية")

    assert second.message_id == first.message_id + 1
    assert before <= first.date.timestamp() <= after  # dated by the server's wall clock
    assert first.chat.id == USER
    assert first.from_user.id == bot.id
    assert first.text == "🔔 خبر\n🔗 https://r.example.org/k7Qp2"
    assert [e.type for e in first.entities] == ["bold", "url"]
    assert first.reply_markup == keyboard
    stored = server.sent_messages(USER)
    assert [m.text for m in stored] == [first.text, "ثانية"]
    assert stored[0].entity_texts("bold") == ["خبر"]
    assert stored[0].callback_data == ["add:1"]
    assert [(r.chat_id, r.text) for r in server.send_log] == [(USER, first.text), (USER, "ثانية")]


async def test_errors_map_to_ptb_exceptions(server: BotApiServer, bot: Bot) -> None:
    server.private_chat(OTHER, "Omar", language_code="en")
    server.private_chat(333, "Never started", started=False)
    server.private_chat(444, "Gone")
    server.group(GROUP, "مجموعة", admins=[OTHER])
    server.group(GROUP - 1, "old group", admins=[OTHER])
    server.block(OTHER)
    server.deactivate(444)
    server.kick_bot(GROUP)
    server.migrate_group(GROUP - 1, SUPERGROUP)

    with pytest.raises(BadRequest, match="^Chat not found$"):
        await bot.send_message(999, "x")
    with pytest.raises(Forbidden, match="^Forbidden: bot was blocked by the user$"):
        await bot.send_message(OTHER, "x")
    with pytest.raises(Forbidden, match="^Forbidden: user is deactivated$"):
        await bot.send_message(444, "x")
    with pytest.raises(Forbidden, match="^Forbidden: bot can't initiate conversation with a user$"):
        await bot.send_message(333, "x")
    with pytest.raises(Forbidden, match="^Forbidden: bot was kicked from the group chat$"):
        await bot.send_message(GROUP, "x")
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(GROUP - 1, "x")
    assert migrated.value.new_chat_id == SUPERGROUP
    with pytest.raises(BadRequest, match='^Can\'t parse entities: unsupported start tag "p"'):
        await bot.send_message(USER, "<p>فقرة</p>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="^Message text is empty$"):
        await bot.send_message(USER, "  <b> </b>\n", parse_mode="HTML")
    assert await bot.send_message(USER, "🔔" * 2048)  # 4096 UTF-16 units: the limit exactly
    with pytest.raises(BadRequest, match="^Message is too long$"):
        await bot.send_message(USER, "🔔" * 2048 + "x")
    with pytest.raises(BadRequest, match="^Method not found$"):
        await bot.do_api_request("sendTelepathy", {"chat_id": USER})
    assert len(server.sent_messages(USER)) == 1
    assert server.status_counts[400] >= 5
    assert server.status_counts[403] == 4


async def test_rate_limits_answer_429_and_log_accepted_sends(timedelta_periods: None) -> None:
    clock = FakeClock(1000.0)
    limits = RateLimits(overall_per_second=5, private_chat_per_second=2, group_per_minute=3)
    async with BotApiServer(rate_limits=limits, clock=clock) as server:
        for user_id in (1, 2, 3):
            server.private_chat(user_id)
        server.group(GROUP, "g", members=[1])
        async with Bot(server.token, base_url=server.base_url) as bot:
            await bot.send_message(1, "a")
            await bot.send_message(1, "b")
            with pytest.raises(RetryAfter) as per_chat:
                await bot.send_message(1, "c")
            assert per_chat.value.retry_after == dtm.timedelta(seconds=1)

            for text in ("1", "2", "3"):
                await bot.send_message(GROUP, text)
            with pytest.raises(RetryAfter) as per_group:
                await bot.send_message(GROUP, "4")
            assert per_group.value.retry_after == dtm.timedelta(seconds=60)

            clock.advance(1.0)  # the 1 s windows are clear again; the group's minute is not
            for user_id in (1, 2, 3):
                await bot.send_message(user_id, "again")
            await bot.send_message(2, "again")
            await bot.send_message(1, "again")
            with pytest.raises(RetryAfter):
                await bot.send_message(3, "overall")  # 6th send in this second
            clock.advance(59.0)
            await bot.send_message(GROUP, "4")

    assert server.too_many_requests == 3
    assert [r.text for r in server.send_log if r.chat_id == GROUP] == ["1", "2", "3", "4"]
    assert len(server.send_log) == 2 + 3 + 5 + 1
    assert all(b.at >= a.at for a, b in zip(server.send_log, server.send_log[1:], strict=False))


async def test_injected_failures(server: BotApiServer, bot: Bot, timedelta_periods: None) -> None:
    server.private_chat(OTHER, "Omar")
    server.fail_next("sendMessage", 500, chat_id=USER, count=2)
    server.fail_next("sendMessage", 429, chat_id=OTHER, retry_after=7)
    server.inject("getChat", error=ApiError(400, "Bad Request: chat is deactivated"))

    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(USER, "x")
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(OTHER, "x")
    assert flood.value.retry_after == dtm.timedelta(seconds=7)
    with pytest.raises(BadRequest, match="^Chat is deactivated$"):
        await bot.get_chat(USER)

    assert (await bot.send_message(USER, "x")).text == "x"
    assert (await bot.send_message(OTHER, "y")).text == "y"
    assert server.too_many_requests == 1
    assert [r.text for r in server.send_log] == ["x", "y"]


async def test_slow_answers_can_be_injected() -> None:
    clock = FakeClock()
    async with on_fake_time(clock) as (server, bot):
        server.inject("sendMessage", delay=0.3)
        sending = asyncio.create_task(bot.send_message(USER, "late"))
        assert await eventually(clock.deadlines, "the server to hold the answer") == [0.3]
        assert not sending.done()
        assert server.send_log == []
        clock.advance(0.3)
        assert (await within(sending, "the delayed answer")).text == "late"
    assert [call.at for call in server.calls_to("sendMessage")] == [0.3]


# ----------------------------------------------------------------------------- updates


async def test_get_updates_long_polls_and_confirms_only_on_higher_offset() -> None:
    clock = FakeClock()
    async with on_fake_time(clock) as (server, bot):
        # With nothing to send, a poll is held for its timeout (on the server's clock), then empty.
        poll = asyncio.create_task(bot.get_updates(timeout=3))
        assert await eventually(clock.deadlines, "the long poll to wait") == [3.0]
        assert server.waiting_polls == 1
        assert not poll.done()
        clock.advance(3)
        assert await within(poll, "the timed-out long poll") == ()

        # An update answers a waiting poll at once: the clock stands still, so no timeout did.
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await server.wait_until(lambda: server.waiting_polls, what="the long poll to wait")
        sent = await server.send_text(USER, USER, "/start@rasd_test_bot مرحبا")
        updates = await within(poll, "the long poll")
        assert [u.update_id for u in updates] == [sent.update_id]
        message = updates[0].message
        assert message.text.startswith("/start@rasd_test_bot")
        assert message.entities[0].type == "bot_command"
        assert message.entities[0].length == 20
        assert message.from_user.language_code == "ar"

        await server.send_text(USER, USER, "ثانية")
        again = await bot.get_updates(timeout=0)
        assert [u.update_id for u in again] == [sent.update_id, sent.update_id + 1]  # unconfirmed
        assert await bot.get_updates(offset=sent.update_id + 1, limit=1) == again[1:]
        assert await bot.get_updates(offset=again[-1].update_id + 1) == ()
        assert server.pending_update_count == 0


async def test_allowed_updates_and_conflicting_polls() -> None:
    async with on_fake_time(FakeClock()) as (server, bot):
        reply = await bot.send_message(
            USER,
            "؟",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("نعم", callback_data="y")]]),
        )
        assert await bot.get_updates(allowed_updates=["message"]) == ()
        await server.press_button(USER, server.sent_messages(USER)[0], "y")
        await server.send_text(USER, USER, "نص")
        updates = await bot.get_updates()
        assert [u.message.text for u in updates] == ["نص"]
        assert reply.message_id == 1

        first = asyncio.create_task(bot.get_updates(offset=updates[-1].update_id + 1, timeout=5))
        await server.wait_until(lambda: server.waiting_polls, what="the first long poll")
        async with Bot(server.token, base_url=server.base_url) as second_instance:
            assert await second_instance.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await within(first, "the first long poll")


async def test_stop_answers_pending_long_polls() -> None:
    clock = FakeClock()  # stands still: only stop() can end the poll
    server = BotApiServer(clock=clock, sleep=clock.sleep)
    await server.start()
    async with Bot(server.token, base_url=server.base_url) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await server.wait_until(lambda: server.waiting_polls, what="the long poll to wait")
        await within(server.stop(), "the server to stop")
        assert await within(poll, "the long poll") == ()


async def test_application_polling_handles_command_and_button(server: BotApiServer) -> None:
    app = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("➕ تابِع", callback_data="follow")]])
        await update.effective_message.reply_text(
            "هل تريد متابعة <b>«الهجرة»</b>؟", parse_mode="HTML", reply_markup=keyboard
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer("تم")
        await query.edit_message_text(f"تمت المتابعة: {query.data}")

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        await server.send_text(USER, USER, "/start")
        question = await server.wait_for_message(USER)
        assert question.text == "هل تريد متابعة «الهجرة»؟"
        assert question.entity_texts("bold") == ["«الهجرة»"]

        query_id = await server.press_button(USER, question, "follow")
        answer = await server.wait_for_callback_answer(query_id)
        edited = await server.wait_for_edit(USER, question.message_id)
        assert answer.text == "تم"
        assert edited.text == "تمت المتابعة: follow"
        assert edited.reply_markup is None  # an edit that omits the keyboard removes it
        assert [v.text for v in edited.versions] == [question.versions[0].text, edited.text]
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert server.pending_update_count == 0


async def test_webhook_delivery_with_secret_and_retries(server: BotApiServer, bot: Bot) -> None:
    received: list[tuple[str | None, dict]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=500 if len(received) == 1 else 200)

    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    runner = web.AppRunner(receiver, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret-token")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        sent = await server.send_text(USER, USER, "/start")
        await server.wait_until(lambda: len(received) >= 2, what="a retried webhook delivery")
        await server.wait_until(lambda: server.pending_update_count == 0)
        assert [secret for secret, _ in received] == ["s3cret-token", "s3cret-token"]
        assert received[0][1] == received[1][1]
        assert received[1][1]["update_id"] == sent.update_id
        assert received[1][1]["message"]["text"] == "/start"
        info = await bot.get_webhook_info()
        assert info.url == url
        assert info.pending_update_count == 0
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert await bot.delete_webhook()
        await server.send_text(USER, USER, "بعد الحذف")
        assert [u.message.text for u in await bot.get_updates()] == ["بعد الحذف"]
        assert len(received) == 2
    finally:
        await runner.cleanup()


# ----------------------------------------------------------------------------- methods


async def test_commands_are_stored_per_scope_and_language(server: BotApiServer, bot: Bot) -> None:
    arabic = [BotCommand("add", "إضافة كلمة للمتابعة"), BotCommand("list", "كلماتي")]
    english = [BotCommand("add", "follow a keyword")]
    assert await bot.set_my_commands(arabic, language_code="ar")
    assert await bot.set_my_commands(english, scope=BotCommandScopeAllPrivateChats())
    assert await bot.set_my_commands(english, scope=BotCommandScopeChat(USER), language_code="en")

    assert server.commands(language_code="ar") == [c.to_dict() for c in arabic]
    assert server.commands("all_private_chats") == [
        {"command": "add", "description": "follow a keyword"}
    ]
    assert server.commands({"type": "chat", "chat_id": USER}, "en") == server.commands(
        "all_private_chats"
    )
    assert server.commands() == []
    assert await bot.get_my_commands(language_code="ar") == tuple(arabic)
    assert await bot.delete_my_commands(language_code="ar")
    assert server.commands(language_code="ar") == []
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Add", "x")])
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands(english, scope=BotCommandScopeChat(999))


async def test_documents_both_ways(server: BotApiServer, bot: Bot) -> None:
    payload = "كلمة\nالمغرب\n".encode()
    incoming = await server.send_document(USER, USER, "words.txt", payload, mime_type="text/plain")
    update = (await bot.get_updates())[0]
    document = update.message.document
    assert (document.file_name, document.file_size) == ("words.txt", len(payload))
    file = await bot.get_file(document.file_id)
    assert bytes(await file.download_as_bytearray()) == payload
    assert incoming.document["file_id"] == document.file_id

    sent = await bot.send_document(
        USER, b"a,b\n1,2\n", filename="export.csv", caption="<b>بياناتك</b>", parse_mode="HTML"
    )
    assert sent.caption == "بياناتك"
    assert sent.document.file_name == "export.csv"
    assert server.file_bytes(sent.document.file_id) == b"a,b\n1,2\n"
    stored = server.sent_messages(USER)[-1]
    assert stored.document["file_name"] == "export.csv"
    assert stored.text == "بياناتك"
    with pytest.raises(BadRequest, match="Wrong file_id"):
        await bot.get_file("nope")


async def test_edit_delete_and_callback_rules(server: BotApiServer, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
    message = await bot.send_message(USER, "نص", reply_markup=keyboard)
    with pytest.raises(BadRequest, match="^Message is not modified"):
        await bot.edit_message_text("نص", USER, message.message_id, reply_markup=keyboard)
    with pytest.raises(BadRequest, match="^Message is not modified"):
        await bot.edit_message_reply_markup(USER, message.message_id, reply_markup=keyboard)
    edited = await bot.edit_message_reply_markup(USER, message.message_id)
    assert edited.reply_markup is None
    assert edited.edit_date is not None

    user_message = await server.send_text(USER, USER, "مرحبا")
    with pytest.raises(BadRequest, match="^Message can't be edited$"):
        await bot.edit_message_text("x", USER, user_message.message_id)
    reply = await bot.send_message(USER, "رد", reply_to_message_id=user_message.message_id)
    assert reply.reply_to_message.text == "مرحبا"
    with pytest.raises(BadRequest, match="^Message to be replied not found$"):
        await bot.send_message(USER, "رد", reply_to_message_id=9999)

    assert await bot.delete_message(USER, message.message_id)
    with pytest.raises(BadRequest, match="^Message to delete not found$"):
        await bot.delete_message(USER, message.message_id)
    with pytest.raises(BadRequest, match="^Message to edit not found$"):
        await bot.edit_message_text("x", USER, message.message_id)
    assert [m.text for m in server.sent_messages(USER)] == ["رد"]

    question = await bot.send_message(USER, "?", reply_markup=keyboard)
    query_id = await server.press_button(USER, (USER, question.message_id), "a")
    with pytest.raises(ValueError, match="no button"):
        await server.press_button(USER, (USER, question.message_id), "b")
    assert await bot.answer_callback_query(query_id, "ok", show_alert=True)
    with pytest.raises(BadRequest, match="^Query is too old"):
        await bot.answer_callback_query(query_id)
    assert server.callback_answer(query_id).show_alert is True
    assert await bot.send_chat_action(USER, "typing")
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(USER, "dancing")
    assert server.chat_actions[0][:2] == (USER, "typing")


async def test_group_privacy_members_and_administrators(server: BotApiServer, bot: Bot) -> None:
    server.private_chat(OTHER, "Omar")
    server.group(SUPERGROUP, "مجموعة الأخبار", admins=[OTHER], members=[USER], kind="supergroup")
    await server.send_text(USER, SUPERGROUP, "كلام عادي")
    command = await server.send_text(USER, SUPERGROUP, "/list@rasd_test_bot")
    other_bot = await server.send_text(USER, SUPERGROUP, "/list@another_bot")
    mention = await server.send_text(USER, SUPERGROUP, "@rasd_test_bot ساعدني")
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [command.update_id, mention.update_id]
    assert other_bot.update_id is None
    assert updates[0].message.chat.type == "supergroup"

    reply = await bot.send_message(SUPERGROUP, "تم", reply_to_message_id=command.message_id)
    answer = await server.send_text(USER, SUPERGROUP, "شكراً", reply_to=reply.message_id)
    assert answer.update_id is not None  # replies to the bot reach it despite privacy mode

    creator = await bot.get_chat_member(SUPERGROUP, OTHER)
    member = await bot.get_chat_member(SUPERGROUP, USER)
    me = await bot.get_chat_member(SUPERGROUP, bot.id)
    assert (creator.status, member.status, me.status) == ("creator", "member", "member")
    admins = await bot.get_chat_administrators(SUPERGROUP)
    assert [a.user.id for a in admins] == [OTHER]
    assert (await bot.get_chat(SUPERGROUP)).title == "مجموعة الأخبار"
    assert await bot.get_chat_member_count(SUPERGROUP) == 3


async def test_migration_emits_service_messages(server: BotApiServer, bot: Bot) -> None:
    server.group(GROUP, "قديمة", admins=[USER])
    await bot.send_message(GROUP, "قبل")
    new_chat = server.migrate_group(GROUP, SUPERGROUP)
    updates = await bot.get_updates()
    assert updates[0].message.migrate_to_chat_id == SUPERGROUP
    assert updates[0].message.chat.id == GROUP
    assert updates[1].message.migrate_from_chat_id == GROUP
    assert updates[1].message.chat.type == "supergroup"
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(GROUP, "بعد")
    assert migrated.value.new_chat_id == new_chat.id
    assert (await bot.send_message(SUPERGROUP, "بعد")).chat.id == SUPERGROUP


async def test_channels_and_forwards(server: BotApiServer, bot: Bot) -> None:
    server.channel(CHANNEL, "قناة الأخبار", "akhbar", admins=[OTHER])
    server.channel(CHANNEL - 1, "قناة أخرى", "other_news", bot_status="left")
    post = await bot.send_message("@akhbar", "عاجل")
    assert post.chat.id == CHANNEL
    assert post.sender_chat.id == CHANNEL
    assert post.from_user is None
    with pytest.raises(Forbidden, match="not a member of the channel chat"):
        await bot.send_message("@other_news", "x")

    await server.forward_from_channel(USER, USER, CHANNEL - 1, "خبر من قناة")
    channel_post = await server.post_to_channel(CHANNEL, "منشور")
    updates = await bot.get_updates()
    origin = updates[0].message.forward_origin
    assert isinstance(origin, MessageOriginChannel)
    assert (origin.chat.id, origin.chat.username) == (CHANNEL - 1, "other_news")
    assert updates[1].channel_post.message_id == channel_post.message_id


async def test_blocking_emits_my_chat_member(server: BotApiServer, bot: Bot) -> None:
    server.block(USER)
    server.unblock(USER)
    updates = await bot.get_updates()
    changes = [
        (u.my_chat_member.old_chat_member.status, u.my_chat_member.new_chat_member.status)
        for u in updates
    ]
    assert changes == [("member", "kicked"), ("kicked", "member")]


async def test_absorbs_a_burst_of_concurrent_sends(server: BotApiServer) -> None:
    url = f"{server.base_url}{server.token}/sendMessage"
    async with aiohttp.ClientSession() as session:

        async def send(number: int) -> int:
            async with session.post(
                url, data={"chat_id": str(USER), "text": f"n{number}"}
            ) as response:
                body = json.loads(await response.text())
                return body["result"]["message_id"]

        ids = await within(asyncio.gather(*(send(n) for n in range(1000))), "1000 sends")
    assert sorted(ids) == list(range(1, 1001))
    assert len(server.send_log) == 1000
    assert server.status_counts == {200: 1000}  # none refused, none failed


async def test_raw_wire_format(server: BotApiServer) -> None:
    base = f"{server.base_url}{server.token}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/getMe") as response:
            assert response.status == 200
            assert (await response.json())["result"]["is_bot"] is True
        payload = {"chat_id": USER, "text": "json body", "reply_markup": {"inline_keyboard": []}}
        async with session.post(f"{base}/sendmessage", json=payload) as response:
            body = await response.json()
            assert body["ok"] is True
            assert "reply_markup" not in body["result"]  # an empty keyboard is no keyboard
        async with session.post(
            f"{base}/sendMessage", data={"chat_id": "abc", "text": "x"}
        ) as response:
            assert response.status == 400
            assert await response.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }
        async with session.post(f"{server.base_url}0:wrong/getMe") as response:
            assert response.status == 401
        async with session.get(f"{server.base_file_url}{server.token}/documents/none") as response:
            assert response.status == 404
    with pytest.raises(TimeoutError, match="sent: \\['json body'\\]"):
        await server.wait_for_message(USER, lambda m: m.text == "never", timeout=0.1)


async def test_reply_keyboards_are_kept_but_not_echoed(server: BotApiServer, bot: Bot) -> None:
    sent = await bot.send_message(
        USER, "اختر", reply_markup=ReplyKeyboardMarkup([["المغرب", "الجزائر"]])
    )
    assert sent.reply_markup is None
    keyboard = server.sent_messages(USER)[0].reply_keyboard
    assert [[b["text"] for b in row] for row in keyboard["keyboard"]] == [["المغرب", "الجزائر"]]


async def test_bot_added_and_leaving_a_group(server: BotApiServer, bot: Bot) -> None:
    server.group(GROUP, "جديدة", admins=[USER], bot_status="left")
    await server.add_bot(GROUP, USER)
    updates = await bot.get_updates()
    assert updates[0].my_chat_member.new_chat_member.status == "member"
    assert updates[1].message.new_chat_members[0].id == bot.id
    assert await bot.leave_chat(GROUP)
    with pytest.raises(Forbidden, match="^Forbidden: bot is not a member of the group chat$"):
        await bot.send_message(GROUP, "x")


async def test_forum_topics_carry_threads_and_refuse_gone_ones(
    server: BotApiServer, bot: Bot
) -> None:
    server.private_chat(OTHER, "Omar")
    forum = server.group(
        SUPERGROUP, "منتدى", admins=[OTHER], members=[USER], kind="supergroup", forum=True
    )
    thread = await server.create_topic(OTHER, SUPERGROUP, "رياضة")
    asked = await server.send_text(USER, SUPERGROUP, "/list@rasd_test_bot", thread=thread)
    (created, update) = await bot.get_updates()
    assert created.message.forum_topic_created.name == "رياضة"
    message = update.message
    assert message.chat.is_forum
    assert message.is_topic_message
    assert message.message_thread_id == thread
    assert message.reply_to_message.forum_topic_created.name == "رياضة"

    answer = await message.reply_text("تم")  # PTB keeps a reply in the topic
    assert answer.message_thread_id == thread
    general = await bot.send_message(SUPERGROUP, "للجميع")
    assert general.message_thread_id is None
    replied = await bot.send_message(SUPERGROUP, "رد", reply_to_message_id=asked.message_id)
    assert replied.message_thread_id == thread  # a reply lands in the replied message's topic
    server.close_topic(SUPERGROUP, thread)
    with pytest.raises(BadRequest, match="(?i)topic_closed"):
        await bot.send_message(SUPERGROUP, "مغلق", message_thread_id=thread)
    server.delete_topic(SUPERGROUP, thread)
    with pytest.raises(BadRequest, match="[Mm]essage thread not found"):
        await bot.send_message(SUPERGROUP, "محذوف", message_thread_id=thread)
    assert forum.messages[asked.message_id].deleted


async def test_reactions_are_told_only_to_a_bot_that_asked(server: BotApiServer, bot: Bot) -> None:
    sent = await bot.send_message(USER, "خبر")
    assert await server.react(USER, (USER, sent.message_id), ["👎"]) is None  # not asked for
    await bot.get_updates(allowed_updates=["message", "message_reaction"])
    await server.react(USER, (USER, sent.message_id), ["👍"])
    (update,) = await bot.get_updates()
    change = update.message_reaction
    assert change.message_id == sent.message_id
    assert change.user.id == USER
    assert [r.emoji for r in change.old_reaction] == ["👎"]
    assert [r.emoji for r in change.new_reaction] == ["👍"]

    server.private_chat(OTHER, "Omar")
    server.group(SUPERGROUP, "مجموعة", admins=[OTHER], members=[USER], kind="supergroup")
    post = await bot.send_message(SUPERGROUP, "خبر")
    assert await server.react(USER, (SUPERGROUP, post.message_id), ["👎"]) is None  # not admin
    server.promote_bot(SUPERGROUP, OTHER)
    assert await server.react(USER, (SUPERGROUP, post.message_id), []) is not None
