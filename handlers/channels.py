"""Channels: an administrator of a channel links it from a private chat and manages it there."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MessageOriginChannel, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from core.render import shorten
from handlers.common import (
    ADMIN_STATUSES,
    Turn,
    button_press,
    command_argument,
    edit,
    may_post,
    message_of,
    record_turn,
    refresh_turn,
    reply,
    user_of,
)
from handlers.context import Context
from storage import chats as chat_store


async def link_channel(t: Turn, context: Context, ref: str | int, user_id: int) -> str:
    """Check the user and the bot administer the channel, then manage it from this chat."""
    bot = context.bot
    try:
        channel = await bot.get_chat(ref)
    except TelegramError:
        return t.text("channel_not_found")
    if channel.type != ChatType.CHANNEL:
        return t.text("channel_not_found")
    title = channel.title or channel.username or str(channel.id)
    try:
        member = await bot.get_chat_member(channel.id, user_id)
        me = await bot.get_chat_member(channel.id, bot.id)
    except TelegramError:
        return t.text("channel_bot_not_admin", title=title)
    if member.status not in ADMIN_STATUSES:
        return t.text("channel_not_admin", title=title)
    if not may_post(me):
        return t.text("channel_bot_not_admin", title=title)
    svc = t.svc
    chat_store.touch_chat(
        svc.db, channel.id, type="channel", title=title, language=t.language, now=svc.clock()
    )
    chat_store.set_chat_flags(svc.db, channel.id, linked_by=user_id)
    chat_store.set_chat_flags(svc.db, t.chat.id, managing_chat_id=channel.id)
    return t.text("channel_linked", title=title)


def _switch_buttons(t: Turn, user_id: int) -> InlineKeyboardMarkup | None:
    channels = chat_store.linked_channels(t.svc.db, user_id)
    if not channels:
        return None
    rows = [
        [
            InlineKeyboardButton(
                ("✅ " if c.id == t.target.id else "") + f"📢 {shorten(c.title, 40)}",
                callback_data=f"ch:{c.id}",
            )
        ]
        for c in channels
    ]
    rows.append(
        [
            InlineKeyboardButton(
                ("✅ " if t.target.id == t.chat.id else "") + "👤", callback_data="ch:off"
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


async def channel(update: Update, context: Context) -> None:
    """/channel @name links a channel; /channel off comes back; /channel alone explains."""
    t = record_turn(update, context)
    user = update.effective_user
    if t.chat.type != ChatType.PRIVATE or user is None:
        await reply(update, t.text("channel_usage"))
        return
    argument = command_argument(update).split()
    if not argument:
        await reply(update, t.text("channel_usage"), reply_markup=_switch_buttons(t, user.id))
        return
    if argument[0].lower() in {"off", "إلغاء", "خروج"}:
        chat_store.set_chat_flags(t.svc.db, t.chat.id, managing_chat_id=None)
        await reply(update, t.text("channel_off"))
        return
    ref = (
        argument[0]
        if argument[0].startswith("@") or argument[0].lstrip("-").isdigit()
        else "@" + argument[0]
    )
    await reply(update, await link_channel(t, context, ref, user.id))


async def forwarded_from_channel(update: Update, context: Context) -> None:
    """A post forwarded from a channel into a private chat: link that channel."""
    origin = message_of(update).forward_origin
    t = record_turn(update, context)
    if not isinstance(origin, MessageOriginChannel):
        await reply(update, t.text("channel_usage"))
        return
    await reply(update, await link_channel(t, context, origin.chat.id, user_of(update).id))


async def channel_button(update: Update, context: Context) -> None:
    """Switch which chat the commands act on: a linked channel, or this chat."""
    query, data = button_press(update)
    t = record_turn(update, context)
    value = data.partition(":")[2]
    user_id = user_of(update).id
    linked = {str(c.id): c.id for c in chat_store.linked_channels(t.svc.db, user_id)}
    target = linked.get(value)  # "off", or a channel this user did not link: back to this chat
    chat_store.set_chat_flags(t.svc.db, t.chat.id, managing_chat_id=target)
    await query.answer()
    t = refresh_turn(update, context)
    text = (
        t.text("channel_off") if target is None else t.text("channel_linked", title=t.target.title)
    )
    await edit(query, text, reply_markup=_switch_buttons(t, user_id))
