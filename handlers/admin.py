"""Commands for the bot's admins (ADMIN_IDS): feeds and broadcasts."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from core import links
from core.i18n import Raw
from core.render import escape
from handlers.common import Turn, admin_only, command_argument, reply, turn
from storage import chats as chat_store
from storage import feeds as feed_store
from storage import outbox, shortlinks, stats


@admin_only
async def addfeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/addfeed <url>: fetch once, then store the feed with its current items as seen."""
    t = turn(update, context)
    url = command_argument(update).split()[0] if command_argument(update) else ""
    if not url:
        await reply(update, t.text("addfeed_usage"))
        return
    await reply(update, t.text("addfeed_checking"))
    result = await t.svc.add_feed(url, added_by=update.effective_user.id)
    if result.error:
        await reply(update, t.text("addfeed_failed", reason=result.error))
    elif result.already:
        await reply(update, t.text("addfeed_exists", title=result.title))
    else:
        await reply(update, t.text("addfeed_ok", title=result.title, count=result.item_count))


def _when(timestamp: float | None, t: Turn) -> str:
    if timestamp is None:
        return t.text("never")
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def feed_lines(t: Turn) -> str:
    """Each feed with its health."""
    feeds = feed_store.all_feeds(t.svc.db)
    if not feeds:
        return t.text("feeds_empty")
    lines = [t.text("feeds_header", count=len(feeds))]
    for feed in feeds:
        state = (
            "feed_state_disabled"
            if feed.disabled
            else "feed_state_failing"
            if feed.error_count
            else "feed_state_ok"
        )
        last_error = t.text("feed_last_error", error=feed.last_error) if feed.last_error else ""
        lines.append(
            t.text(
                "feed_line",
                state=t.text(state),
                title=feed.title or feed.url,
                url=feed.url,
                last_ok=_when(feed.last_success_at, t),
                errors=feed.error_count,
                last_error=Raw(last_error),
            )
        )
    return "\n\n".join(lines)


@admin_only
async def feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/feeds: every feed and its health."""
    t = turn(update, context)
    await reply(update, feed_lines(t))


@admin_only
async def broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/broadcast <text>: show a preview with Send / Send silently / Cancel buttons."""
    t = turn(update, context)
    text = command_argument(update)
    if not text:
        await reply(update, t.text("broadcast_usage"))
        return
    message = update.effective_message
    created = outbox.create_broadcast(
        t.svc.db,
        text,
        created_by=update.effective_user.id,
        source_chat_id=message.chat_id,
        source_message_id=message.message_id,
        now=t.svc.clock(),
        draft=True,
    )
    if created is None:  # the same update delivered again after a restart
        return
    broadcast_id = created[0]
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.text("button_send"), callback_data=f"bc:send:{broadcast_id}"
                ),
                InlineKeyboardButton(
                    t.text("button_send_silent"), callback_data=f"bc:silent:{broadcast_id}"
                ),
            ],
            [
                InlineKeyboardButton(
                    t.text("button_cancel"), callback_data=f"bc:cancel:{broadcast_id}"
                )
            ],
        ]
    )
    count = len(chat_store.active_chat_ids(t.svc.db))
    await reply(update, t.text("broadcast_preview", count=count, text=text), reply_markup=buttons)


@admin_only
async def broadcast_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send, send silently or cancel a previewed broadcast (a second press does nothing)."""
    query = update.callback_query
    t = turn(update, context)
    _, action, raw_id = (query.data or "").split(":", 2)
    broadcast_id = int(raw_id)
    await query.answer()
    now = t.svc.clock()
    if action == "cancel":
        if outbox.discard_draft(t.svc.db, broadcast_id, now):
            await query.edit_message_text(t.text("broadcast_cancelled_draft"))
        return
    owed = outbox.start_broadcast(
        t.svc.db,
        broadcast_id,
        chat_ids=chat_store.active_chat_ids(t.svc.db),
        silent=action == "silent",
        progress_chat_id=query.message.chat_id,
        progress_message_id=query.message.message_id,
        now=now,
    )
    if owed is None:
        return
    t.svc.wake_sender()
    await query.edit_message_text(
        t.text("broadcast_progress", sent=0, failed=0, remaining=owed, eta="…")
    )


@admin_only
async def broadcast_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/broadcast_cancel: stop every notice being sent; the rest is never sent."""
    t = turn(update, context)
    cancelled = outbox.cancel_broadcasts(t.svc.db, t.svc.clock())
    await reply(update, t.text("broadcast_cancel_done" if cancelled else "broadcast_cancel_none"))


def stats_text(t: Turn) -> str:
    """Chats, keywords, feeds, alerts, backlog, most clicked stories and latest failures."""
    now = t.svc.clock()
    figures = stats.collect(t.svc.db, now=now)
    text = t.text(
        "stats",
        active=figures.chats_active,
        inactive=figures.chats_inactive,
        banned=figures.chats_banned,
        keywords=figures.keywords,
        healthy=figures.feeds_healthy,
        failing=figures.feeds_failing,
        disabled=figures.feeds_disabled,
        today=figures.alerts_today,
        week=figures.alerts_week,
        backlog=figures.backlog,
        failed=figures.failed,
    )
    if figures.top_keywords:
        lines = "\n".join(f"• {escape(word)} ({count})" for word, count in figures.top_keywords)
        text += "\n" + t.text("stats_top_keywords", lines=Raw(lines))
    clicked = shortlinks.top_clicked(t.svc.db, links.day_of(now - 7 * 86400), 5)
    if clicked:
        lines = "\n".join(f"• {escape(title)} ({clicks})" for title, _, clicks in clicked)
        text += "\n" + t.text("stats_top_clicked", lines=Raw(lines))
    failures = outbox.recent_failures(t.svc.db, 3)
    if failures:
        lines = "\n".join(f"• {chat_id}: {escape(reason or '')}" for chat_id, reason in failures)
        text += "\n" + t.text("stats_failures", lines=Raw(lines))
    return text


@admin_only
async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: the bot's figures for admins."""
    t = turn(update, context)
    await reply(update, stats_text(t))
