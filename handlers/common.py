"""Small helpers every handler uses: who is talking, about which chat, in which language."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram import (
    CallbackQuery,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
    WebAppInfo,
)
from telegram import Chat as TelegramChat
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop

from core.flood import Verdict, command_cost
from core.i18n import pick_language
from core.models import Chat
from core.render import (
    CALLBACK_ANSWER_CHARS,
    MAX_MESSAGE_CHARS,
    SHORTEST_PART,
    Page,
    fit_message,
    is_too_long,
    message_length,
    plain_text,
    shorten,
    split_message,
)
from handlers.context import Context, Services, Turn, services
from service import account, bans, channels
from service.bans import Admission

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
_T = TypeVar("_T")
ADMIN_STATUSES = {ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}


@dataclass(frozen=True)
class Topic:
    """A forum topic: its thread id, and its name when Telegram told it."""

    thread_id: int
    name: str | None


def topic_here(update: Update, t: Turn) -> Topic | None:
    """The forum topic the update happened in, when the chat acts on its own keywords (a
    message in a topic replies, as Telegram sends it, to the topic's first message: its name)."""
    message = update.effective_message
    if t.target.id != t.chat.id or message is None or not message.is_topic_message:
        return None
    thread = message.message_thread_id
    if thread is None:
        return None
    opening = message.reply_to_message
    created = opening.forum_topic_created if opening is not None else None
    name = created.name if created else account.topic_name(t.svc.backend, t.chat.id, thread)
    return Topic(thread, name)


def app_buttons(t: Turn) -> list[list[InlineKeyboardButton]]:
    """The row that opens the Mini App, in a private chat acting on itself when WEBAPP_URL is
    set (Telegram takes web_app buttons in private chats only)."""
    url = t.svc.backend.settings.webapp_url
    if not url or t.chat.type != "private" or t.target.id != t.chat.id:
        return []
    return [[InlineKeyboardButton(t.text("app_open"), web_app=WebAppInfo(url))]]


def quiet_hours_text(t: Turn, chat: Chat) -> str:
    """A chat's quiet hours in words: off, or "from 22:00 to 07:00 (silent)"."""
    if chat.quiet_start is None or chat.quiet_end is None:
        return t.text("quiet_off")
    return t.text(
        "quiet_range",
        start=f"{chat.quiet_start:02d}:00",
        end=f"{chat.quiet_end:02d}:00",
        how=t.text(f"quiet_{chat.quiet_mode}"),
    )


def _present(value: _T | None) -> _T:
    """`value`; when the update has none, handling it stops here (PTB's ApplicationHandlerStop)."""
    if value is None:
        raise ApplicationHandlerStop
    return value


def chat_of(update: Update) -> TelegramChat:
    """The chat the update came from."""
    return _present(update.effective_chat)


def message_of(update: Update) -> Message:
    """The update's message: the command or text, or the one under a pressed button."""
    return _present(update.effective_message)


def user_of(update: Update) -> User:
    """Who sent the update."""
    return _present(update.effective_user)


def button_press(update: Update) -> tuple[CallbackQuery, str]:
    """The pressed button and its callback data."""
    query = _present(update.callback_query)
    return query, query.data or ""


def stamped(t: Turn, data: str) -> str:
    """Callback data for a button that changes the target: it names the target, so a press after
    /channel switched elsewhere (or a forged one) changes nothing (see `for_stamped_target`)."""
    return f"{data}|{t.target.id}"


def unstamped(data: str) -> str:
    """Callback data without its target stamp."""
    return data.rpartition("|")[0] if "|" in data else data


def refusing_stale(message_id: str) -> Callable[[Handler], Handler]:
    """A decorator: a button whose stamp is not the chat the commands act on now is refused with
    the alert `message_id`: it was shown for another target (or forged), and nothing changes."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(update: Update, context: Context) -> None:
            _, data = button_press(update)
            target = str(record_turn(update, context).target.id)
            if "|" not in data or data.rpartition("|")[2] != target:
                await refuse(update, context, message_id)
                return
            await handler(update, context)

        return checked

    return decorate


# Most stamped buttons: "this button is old or belongs to another chat; send the command again".
for_stamped_target = refusing_stale("button_stale")


def record_turn(update: Update, context: Context) -> Turn:
    """The turn of this update: recorded once, by `remember_turn` before any handler runs, or
    here by the first that asks when the update took none there (a membership change, a
    reaction)."""
    if context.turn is None:
        context.turn = _recorded(update, services(context))
    return context.turn


async def remember_turn(update: Update, context: Context) -> None:
    """The early group's handler: record the chat of an update that talks to the bot. When the
    database refuses, the error is reported once and the update goes no further (its handler
    would only fail again at the same write)."""
    try:
        record_turn(update, context)
    except Exception as error:
        await context.application.process_error(update, error)
        raise ApplicationHandlerStop from error


def refresh_turn(update: Update, context: Context) -> Turn:
    """The turn again from the stored chat, for a handler that has just changed which chat the
    commands act on (/channel switching the target): read, not written again."""
    t = record_turn(update, context)
    user = update.effective_user
    speaker = account.as_stored(t.svc.backend, t.chat, user.id if user else None)
    context.turn = Turn(t.svc, speaker.chat, speaker.target, t.language)
    return context.turn


def _recorded(update: Update, svc: Services) -> Turn:
    """Record the chat (a chat that writes is active again) and pick the reply language."""
    tg_chat = chat_of(update)
    user = update.effective_user
    language = pick_language(user.language_code if user else None)
    speaker = account.spoke(
        svc.backend,
        tg_chat.id,
        type=tg_chat.type,
        title=tg_chat.title or tg_chat.full_name or tg_chat.username or "",
        language=language,
        user_id=user.id if user else None,
    )
    return Turn(svc, speaker.chat, speaker.target, language)


def command_argument(update: Update) -> str:
    """Everything after the command word, newlines kept (context.args loses them)."""
    text = message_of(update).text or ""
    _, _, rest = text.partition(" ") if " " in text.split("\n", 1)[0] else text.partition("\n")
    return rest.strip()


async def reply(
    update: Update, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer in the chat the update came from: in several messages when the text is too long
    for one (the buttons go under the last)."""
    message = message_of(update)
    parts = split_message(text)
    for index, part in enumerate(parts):
        await _reply_part(message, part, reply_markup if index == len(parts) - 1 else None)


async def _reply_part(
    message: Message, text: str, markup: InlineKeyboardMarkup | None, limit: int = MAX_MESSAGE_CHARS
) -> None:
    """One part of a reply; if Telegram still finds it too long, it goes in smaller parts."""
    try:
        await message.reply_text(text, reply_markup=markup)
    except BadRequest as error:
        smaller = min(limit, message_length(text)) * 3 // 4
        if not is_too_long(str(error)) or smaller < SHORTEST_PART:
            raise
        parts = split_message(text, smaller)
        for index, part in enumerate(parts):
            await _reply_part(message, part, markup if index == len(parts) - 1 else None, smaller)


async def edit(
    query: CallbackQuery, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the message under a pressed button into `text`, fitted to one message; pressing a
    button that changes nothing is no error."""
    try:
        await query.edit_message_text(fit_message(text), reply_markup=reply_markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


def page_buttons(
    t: Turn, prefix: str, page: Page, *, for_target: bool = False
) -> list[InlineKeyboardButton]:
    """◀️ / ▶️ to the previous and next page; callback data is `prefix` and the page number,
    `stamped` with the target when the buttons are checked by `for_stamped_target`."""
    moves = [("button_page_previous", page.number - 1), ("button_page_next", page.number + 1)]
    return [
        InlineKeyboardButton(
            t.text(label),
            callback_data=stamped(t, f"{prefix}{number}") if for_target else f"{prefix}{number}",
        )
        for label, number in moves
        if 0 <= number < page.count
    ]


def page_line(t: Turn, page: Page) -> str:
    """ "Page 2 of 5", or nothing when everything fits on one page."""
    if page.count <= 1:
        return ""
    return t.text("page_of", page=page.number + 1, pages=page.count)


def number(text: str, default: int = 0) -> int:
    """A non-negative number from callback data, or `default` when it is not one."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else default


def is_admin(update: Update, context: Context) -> bool:
    """Whether the sender is one of the bot's admins (ADMIN_IDS)."""
    user = update.effective_user
    return user is not None and user.id in services(context).backend.settings.admin_ids


async def is_chat_admin(update: Update, context: Context) -> bool:
    """In a group: whether the sender administers it (anonymous admins write as the group)."""
    chat = chat_of(update)
    if chat.type == ChatType.PRIVATE:
        return True
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    user = update.effective_user
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError:
        return False
    return member.status in ADMIN_STATUSES


async def refuse(update: Update, context: Context, message_id: str) -> None:
    """Say why not: as a reply to a command, as an alert on a button press."""
    await refuse_with(update, record_turn(update, context).text(message_id))


def changes_chat(handler: Handler) -> Handler:
    """Only a group's administrators may change its keywords and settings, and only a linked
    channel's administrators (while the bot may post there) the channel's."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        if not await is_chat_admin(update, context):
            await refuse(update, context, "group_admins_only")
            return
        if not await channel_rights_hold(update, context):
            return
        await handler(update, context)

    return guarded


async def channel_rights_hold(update: Update, context: Context) -> bool:
    """When the turn acts on a linked channel: whether the user still administers it and the bot
    may still post there (asked again after CHANNEL_RIGHTS_CACHE_SECONDS). When not, the link is
    removed and the user told; when Telegram cannot say, nothing changes and they try later."""
    t = record_turn(update, context)
    if t.target.id == t.chat.id:
        return True
    user_id, channel_id, svc = user_of(update).id, t.target.id, t.svc
    checked = context.bot_data.channel_rights
    now, trusted_for = svc.backend.clock(), svc.backend.settings.channel_rights_cache_seconds
    if now - checked.get((channel_id, user_id), -math.inf) < trusted_for:
        return True
    try:
        member = await context.bot.get_chat_member(channel_id, user_id)
        me = await context.bot.get_chat_member(channel_id, context.bot.id)
        rights = member.status in ADMIN_STATUSES and may_post(me)
    except (BadRequest, Forbidden):
        rights = False  # the bot was removed, or the channel is gone
    except TelegramError:
        await refuse(update, context, "channel_check_failed")
        return False
    if rights:
        if len(checked) > 10_000:
            checked.clear()
        checked[(channel_id, user_id)] = now
        return True
    checked.pop((channel_id, user_id), None)
    channels.unlink(svc.backend, t.chat.id, channel_id)
    await refuse_with(update, t.text("channel_rights_gone", title=t.target.title))
    return False


def may_post(me: ChatMember) -> bool:
    """Whether the bot's membership lets it post in a channel."""
    return me.status in ADMIN_STATUSES and getattr(me, "can_post_messages", True) is not False


async def refuse_with(update: Update, text: str) -> None:
    """Say `text` as a reply to a command, or as an alert on a button press."""
    if update.callback_query is not None:
        await pop_up(update.callback_query, text, alert=True)
    else:
        await reply(update, text)


async def pop_up(query: CallbackQuery, text: str, *, alert: bool = False) -> None:
    """Answer a pressed button with a catalog text (HTML, as `Turn.text` writes it): a pop-up
    shows plain text, user text as typed, at most 200 characters."""
    await query.answer(shorten(plain_text(text), CALLBACK_ANSWER_CHARS), show_alert=alert)


def admin_only(handler: Handler) -> Handler:
    """Refuse politely unless the sender is a bot admin."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        if not is_admin(update, context):
            await refuse(update, context, "admin_only")
            return
        await handler(update, context)

    guarded.admin_only = True  # type: ignore[attr-defined]  # a marker the tests look for
    return guarded


async def ban_guard(update: Update, context: Context) -> None:
    """Runs before everything: a banned chat, or a banned user anywhere, is told once, politely,
    then ignored (storage.bans); changes of membership and migrations still keep its state true."""
    chat, user = update.effective_chat, update.effective_user
    message, query = update.effective_message, update.callback_query
    migrating = message is not None and (message.migrate_to_chat_id or message.migrate_from_chat_id)
    svc = services(context)
    if update.my_chat_member is not None or migrating or is_admin(update, context):
        return
    ids = [i for i in (chat.id if chat else None, user.id if user else None) if i is not None]
    admitted = bans.admission(svc.backend, ids)
    if admitted is Admission.WELCOME:
        return
    if admitted is Admission.TELL:
        text = svc.catalog.text(
            pick_language(user.language_code if user else None), "banned_notice"
        )
        if query is not None:
            await query.answer(text, show_alert=True)
        elif message is not None:
            await message.reply_text(text)
    elif query is not None:
        await query.answer()
    raise ApplicationHandlerStop


async def flood_guard(update: Update, context: Context) -> None:
    """Runs before every handler: whoever sends commands too fast in a chat is told once, then
    ignored until they slow down (core.flood, per chat and sender); bot admins never are."""
    chat = update.effective_chat
    message, query = update.effective_message, update.callback_query
    if chat is None or (message is None and query is None) or is_admin(update, context):
        return
    svc = services(context)
    guard = context.bot_data.flood
    user = update.effective_user
    if query is not None:
        cost = command_cost(guard.policy, None, query.data or "")
    else:
        cost = command_cost(guard.policy, message.text if message else None, None)
    verdict = guard.check((chat.id, user.id if user else 0), svc.backend.clock(), cost)
    if verdict is Verdict.ALLOW:
        return
    if verdict is Verdict.WARN:
        text = svc.catalog.text(pick_language(user.language_code if user else None), "too_fast")
        if query is not None:
            await query.answer(text)
        elif message is not None:
            await message.reply_text(text)
    raise ApplicationHandlerStop
