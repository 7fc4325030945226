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
    reply,
    user_of,
)
from handlers.context import Context
from service import channels


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
    channels.link(
        t.svc.backend, t.chat.id, channel.id, title=title, language=t.language, user_id=user_id
    )
    return t.text("channel_linked", title=title)


def _switch_buttons(t: Turn, user_id: int, current: int) -> InlineKeyboardMarkup | None:
    """A button for each channel the user linked and one for their own chat; ✅ on `current`,
    the chat the commands act on."""
    linked = channels.linked(t.svc.backend, user_id)
    if not linked:
        return None
    rows = [
        [
            InlineKeyboardButton(
                ("✅ " if c.id == current else "") + f"📢 {shorten(c.title, 40)}",
                callback_data=f"ch:{c.id}",
            )
        ]
        for c in linked
    ]
    rows.append(
        [
            InlineKeyboardButton(
                ("✅ " if current == t.chat.id else "") + "👤", callback_data="ch:off"
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
        buttons = _switch_buttons(t, user.id, t.target.id)
        await reply(update, t.text("channel_usage"), reply_markup=buttons)
        return
    if argument[0].lower() in {"off", "إلغاء", "خروج"}:
        channels.manage_own(t.svc.backend, t.chat.id)
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
    user_id = user_of(update).id
    target = channels.switch(t.svc.backend, t.chat.id, user_id, data.partition(":")[2])
    await query.answer()
    if target is None:  # "off", or a channel this user did not link: back to this chat
        text, current = t.text("channel_off"), t.chat.id
    else:
        text, current = t.text("channel_linked", title=target.title), target.id
    await edit(query, text, reply_markup=_switch_buttons(t, user_id, current))
