"""Commands for the bot's admins (ADMIN_IDS): feeds, broadcasts and bans, translated into the
use cases of service.feeds, service.broadcasts and service.bans and their answers into messages."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from core.i18n import Phrase, Raw
from core.models import Feed
from core.render import SHOWN_TITLE_CHARS, link_html, page_of, shorten
from core.safety import without_credentials
from handlers.common import (
    Turn,
    admin_only,
    button_press,
    command_argument,
    edit,
    message_of,
    number,
    page_buttons,
    page_line,
    pop_up,
    record_turn,
    reply,
    user_of,
)
from handlers.context import Context
from handlers.jobs import Progress, Report, ticking
from service import bans, broadcasts
from service import feeds as feed_cases
from service.base import Refusal
from service.feeds import FeedDetails, FeedsImported

PROGRESS_SECONDS = 3.0  # how often an OPML import's count is edited in, at most
MAX_FAILURES_LISTED = 20
REPORT_BUDGET = 3500  # characters of the import summary, well within Telegram's 4096

FEED_PAGE_SIZE = 8  # feeds on one page of /feeds: eight at their longest still fit a message
SHOWN_LIST_ERROR_CHARS = 120  # in /feeds; 📄 details show more
SHOWN_DETAIL_URL_CHARS = 300
SHOWN_DETAIL_ERROR_CHARS = 1000


@admin_only
async def addfeed(update: Update, context: Context) -> None:
    """/addfeed <url>: "⏳" at once; the fetch runs in the background and edits in the result."""
    t = record_turn(update, context)
    url = command_argument(update).split()[0] if command_argument(update) else ""
    if not url:
        await reply(update, t.text("addfeed_usage"))
        return
    progress = Progress(await message_of(update).reply_text(t.text("addfeed_checking")))
    added_by = user_of(update).id

    async def work() -> None:
        result = await feed_cases.add_feed(t.svc.feeds, url, added_by=added_by)
        if result.error:
            reason = failure_reason(result.error_kind or "fetch", result.error)
            await progress.finish(t.text("addfeed_failed", reason=reason))
        elif result.already:
            await progress.finish(t.text("addfeed_exists", title=result.title))
        else:
            await progress.finish(t.text("addfeed_ok", title=result.title, count=result.item_count))

    t.svc.jobs.start(f"addfeed {url}", work, _report_on(t, progress))


def _report_on(t: Turn, progress: Progress) -> Report:
    """Tell the admin on the job's own message that it failed, or was cut short by a restart."""

    async def report(error: BaseException | None) -> None:
        if error is None:
            await progress.finish(t.text("job_interrupted"))
        else:
            await progress.finish(t.text("job_failed", error=type(error).__name__))

    return report


def _when(timestamp: float | None, t: Turn) -> str:
    if timestamp is None:
        return t.text("never")
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def feed_list(t: Turn, page: int = 0) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of feeds with their health, and buttons: details, pause or re-enable, delete;
    ◀️ ▶️ to the other pages."""
    feeds = feed_cases.all_feeds(t.svc.backend)
    if not feeds:
        return t.text("feeds_empty"), None
    shown = page_of(len(feeds), page, FEED_PAGE_SIZE)
    lines = [t.text("feeds_header", count=len(feeds))]
    rows = []
    for feed in feeds[shown.start : shown.end]:
        lines.append(_feed_line(t, feed))
        toggle = (
            ("button_feed_enable", "enable") if feed.disabled else ("button_feed_pause", "pause")
        )
        rows.append(
            [
                InlineKeyboardButton(
                    t.label(
                        "button_feed_details", title=shorten(feed.title or shown_url(feed), 24)
                    ),
                    callback_data=f"feed:info:{feed.id}:{shown.number}",
                ),
                InlineKeyboardButton(
                    t.text(toggle[0]), callback_data=f"feed:{toggle[1]}:{feed.id}:{shown.number}"
                ),
                InlineKeyboardButton(
                    t.text("button_feed_delete"), callback_data=f"feed:del:{feed.id}:{shown.number}"
                ),
            ]
        )
    if navigation := page_buttons(t, "feed:list:", shown):
        rows.append(navigation)
    if more := page_line(t, shown):
        lines.append(more)
    return "\n\n".join(lines), InlineKeyboardMarkup(rows)


def pages_line(t: Turn, feed: Feed) -> str:
    """Its full-text mode and how its latest page fared, or that auto paused it."""
    mode = t.text(f"fulltext_mode_{feed.fulltext}")
    when = _when(feed.page_checked_at, t) if feed.page_checked_at else ""
    if feed.page_backoff_until is not None and feed.page_backoff_until > t.svc.backend.clock():
        page = t.text(
            "page_backoff", until=_when(feed.page_backoff_until, t), failures=feed.page_failures
        )
    elif feed.page_status == "ok":
        page = t.text("page_result_ok", when=when)
    elif feed.page_status:
        page = t.text("page_result_failed", reason=feed.page_status, when=when)
    else:
        page = ""
    return t.text("feed_pages_line", mode=mode, page=page)


def _feed_line(t: Turn, feed: Feed) -> str:
    """A feed in /feeds: state, title, address, last success, errors, pages; values shortened."""
    last_error = (
        t.text("feed_last_error", error=shorten(feed.last_error, SHOWN_LIST_ERROR_CHARS))
        if feed.last_error
        else ""
    )
    return (
        t.text(
            "feed_line",
            state=t.text(f"feed_state_{feed_cases.health(feed)}"),
            title=shorten(feed.title or shown_url(feed), SHOWN_TITLE_CHARS),
            url=Raw(link_html(shown_url(feed))),
            last_ok=_when(feed.last_success_at, t),
            errors=feed.error_count,
            last_error=Raw(last_error),
        )
        + "\n"
        + pages_line(t, feed)
    )


def shown_url(feed: Feed) -> str:
    """The feed's address as admins see it: a password it carries (added before they were
    refused) is masked."""
    return without_credentials(feed.url)


def feed_details(t: Turn, details: FeedDetails) -> str:
    """One feed in full: state, last success and error, items per day, next check."""
    feed = details.feed
    return (
        t.text(
            "feed_details",
            title=shorten(feed.title or shown_url(feed), SHOWN_TITLE_CHARS),
            url=Raw(link_html(shown_url(feed), SHOWN_DETAIL_URL_CHARS)),
            state=t.text(f"feed_state_name_{feed_cases.health(feed)}"),
            last_ok=_when(feed.last_success_at, t),
            errors=feed.error_count,
            last_error=shorten(feed.last_error or t.text("none"), SHOWN_DETAIL_ERROR_CHARS),
            per_day=f"{details.per_day:.1f}",
            next_check=_when(feed.next_check_at, t) if not feed.disabled else "—",
        )
        + "\n"
        + pages_line(t, feed)
    )


def details_buttons(t: Turn, feed: Feed, page: int) -> InlineKeyboardMarkup:
    """Under a feed's details: its full-text mode (pressed: the next one), and back."""
    mode = t.text(f"fulltext_mode_{feed.fulltext}")
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.label("button_fulltext", mode=mode),
                    callback_data=f"feed:ft:{feed.id}:{page}",
                ),
                InlineKeyboardButton("↩️", callback_data=f"feed:list:{page}"),
            ]
        ]
    )


@admin_only
async def feeds(update: Update, context: Context) -> None:
    """/feeds: every feed and its health, with buttons, a page at a time."""
    t = record_turn(update, context)
    text, buttons = feed_list(t)
    await reply(update, text, reply_markup=buttons)


@admin_only
async def feed_button(update: Update, context: Context) -> None:
    """Details, pause, re-enable or delete a feed, or turn the page; the /feeds message is
    edited in place (and keeps its page)."""
    query, data = button_press(update)
    t = record_turn(update, context)
    _, action, rest = (data.split(":", 2) + ["", ""])[:3]
    raw_id, _, raw_page = rest.partition(":")
    if action == "list":  # feed:list:<page>
        await query.answer()
        text, buttons = feed_list(t, number(raw_id))
        await edit(query, text, buttons)
        return
    page = number(raw_page)
    done = _feed_action(t, action, number(raw_id))
    if isinstance(done, Refusal):
        await pop_up(query, t.refused(done), alert=True)
        return
    await query.answer()
    if isinstance(done, FeedDetails):
        await edit(query, feed_details(t, done), details_buttons(t, done.feed, page))
        return
    text, buttons = feed_list(t, page)
    await edit(query, text, buttons)


def _feed_action(t: Turn, action: str, feed_id: int) -> FeedDetails | Refusal | Feed | None:
    """What a /feeds button does: details to show (after turning the full-text mode, for "ft"),
    or a change after which the list is shown again."""
    backend, port = t.svc.backend, t.svc.feeds
    if action == "ft":
        turned = feed_cases.next_fulltext(backend, port, feed_id)
        return turned if isinstance(turned, Refusal) else feed_cases.feed_details(backend, feed_id)
    if action == "info":
        return feed_cases.feed_details(backend, feed_id)
    if action in ("pause", "enable"):
        return feed_cases.pause_feed(backend, port, feed_id, paused=action == "pause")
    if action == "del":
        return feed_cases.delete_feed(backend, port, feed_id)
    return feed_cases.find_feed(backend, feed_id)


def _chat_id_argument(update: Update) -> int | None:
    argument = command_argument(update).split()
    if not argument or not argument[0].lstrip("-").isdigit():
        return None
    return int(argument[0])


@admin_only
async def ban(update: Update, context: Context) -> None:
    """/ban <chat or user id>: no alerts, no new keywords, no answers (one polite notice)."""
    await _set_ban(update, context, banned=True)


@admin_only
async def unban(update: Update, context: Context) -> None:
    """/unban <chat id>: lift a ban."""
    await _set_ban(update, context, banned=False)


async def _set_ban(update: Update, context: Context, *, banned: bool) -> None:
    t = record_turn(update, context)
    chat_id = _chat_id_argument(update)
    if chat_id is None:
        await reply(update, t.text("ban_usage"))
        return
    if banned:
        changed = bans.ban(t.svc.backend, chat_id, banned_by=user_of(update).id)
        if isinstance(changed, Refusal):
            await reply(update, t.refused(changed))
            return
        answer = "banned_done" if changed else "already_banned"
    else:
        answer = "unbanned_done" if bans.unban(t.svc.backend, chat_id) else "not_banned"
    await reply(update, t.text(answer, chat_id=chat_id))


@admin_only
async def broadcast(update: Update, context: Context) -> None:
    """/broadcast <text>: show a preview with Send / Send silently / Cancel buttons."""
    t = record_turn(update, context)
    text = command_argument(update)
    if not text:
        await reply(update, t.text("broadcast_usage"))
        return
    message = message_of(update)
    draft = broadcasts.queue_broadcast(
        t.svc.backend,
        text,
        created_by=user_of(update).id,
        source_chat_id=message.chat_id,
        source_message_id=message.message_id,
    )
    if draft is None:  # the same update delivered again after a restart
        return
    broadcast_id = draft.broadcast_id
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
    preview = t.text("broadcast_preview", count=draft.audience, text=text)
    await reply(update, preview, reply_markup=buttons)


@admin_only
async def broadcast_button(update: Update, context: Context) -> None:
    """Send, send silently or cancel a previewed broadcast (a second press does nothing)."""
    query, data = button_press(update)
    t = record_turn(update, context)
    _, action, raw_id = data.split(":", 2)
    broadcast_id = int(raw_id)
    await query.answer()
    if action == "cancel":
        if broadcasts.discard_draft(t.svc.backend, broadcast_id):
            await edit(query, t.text("broadcast_cancelled_draft"))
        return
    preview = query.message  # its chat and id are known even when it is too old to edit
    if preview is None:
        return
    owed = broadcasts.confirm_broadcast(
        t.svc.backend,
        broadcast_id,
        silent=action == "silent",
        progress_chat_id=preview.chat.id,
        progress_message_id=preview.message_id,
    )
    if owed is None:
        return
    t.svc.wake_sender()
    await edit(query, t.text("broadcast_progress", sent=0, failed=0, remaining=owed, eta="…"))


@admin_only
async def broadcast_cancel(update: Update, context: Context) -> None:
    """/broadcast_cancel: stop every notice being sent; the rest is never sent."""
    t = record_turn(update, context)
    cancelled = broadcasts.cancel_broadcasts(t.svc.backend)
    await reply(update, t.text("broadcast_cancel_done" if cancelled else "broadcast_cancel_none"))


@admin_only
async def export_feeds(update: Update, context: Context) -> None:
    """/export_feeds: every feed as an OPML file."""
    t = record_turn(update, context)
    export = feed_cases.export_feeds(t.svc.backend, t.svc.feeds)
    await message_of(update).reply_document(
        export.opml,
        filename="rasd-feeds.opml",
        caption=t.text("export_caption", count=export.count),
    )


@admin_only
async def import_feeds(update: Update, context: Context) -> None:
    """An .opml file sent by an admin: add every feed in it (each fetched once, as /addfeed), in
    the background, with a running count on the "⏳" message and the summary at the end."""
    t = record_turn(update, context)
    document = message_of(update).document
    if document is None:
        return
    progress = Progress(await message_of(update).reply_text(t.text("opml_importing")))
    added_by = user_of(update).id
    counts = [0, 0]  # done, total

    def on_progress(done: int, total: int) -> None:
        counts[:] = [done, total]

    async def tick() -> None:
        if counts[1]:
            await progress.show(t.text("opml_progress", done=counts[0], total=counts[1]))

    async def work() -> None:
        file = await document.get_file()
        data = bytes(await file.download_as_bytearray())
        importing = feed_cases.import_feeds(
            t.svc.feeds, data, added_by=added_by, on_progress=on_progress
        )
        report = await ticking(importing, tick, PROGRESS_SECONDS)
        if report.error:
            await progress.finish(t.text("opml_bad_file", reason=report.error))
        else:
            await progress.finish(import_summary(t, report))

    t.svc.jobs.start(f"OPML import {document.file_name or ''}", work, _report_on(t, progress))


def failure_reason(kind: str, detail: str) -> Phrase:
    """Why a feed failed, in the admin's language, the technical detail after it."""
    return Phrase("error_reason", {"why": Phrase(f"error_kind_{kind}"), "detail": detail})


def import_summary(t: Turn, report: FeedsImported) -> str:
    """The counts, then the first failures with their reasons, within one message."""
    lines = [
        t.text(
            "opml_report",
            added=len(report.added),
            already=len(report.already),
            failed=len(report.failed),
        )
    ]
    size = len(lines[0])
    for url, kind, detail in report.failed[:MAX_FAILURES_LISTED]:
        reason = failure_reason(kind, _clip(detail, 150))
        line = t.text("opml_failed_line", url=_clip(url, 100), reason=reason)
        if size + len(line) + 1 > REPORT_BUDGET:
            break
        lines.append(line)
        size += len(line) + 1
    listed = len(lines) - 1
    if listed < len(report.failed):
        lines.append(t.text("opml_more_failed", count=len(report.failed) - listed))
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def feed_and_value(update: Update, t: Turn, usage: str) -> tuple[int, str] | None:
    """`<feed id> <value>` after a command: the feed's number and the value, or None once the
    admin has been told the usage."""
    words = command_argument(update).split()
    if len(words) != 2 or not words[0].isdigit():
        await reply(update, t.text(usage))
        return None
    return int(words[0]), words[1]


@admin_only
async def charset(update: Update, context: Context) -> None:
    """/charset <feed id> <charset|auto>: for a feed that lies about its encoding."""
    t = record_turn(update, context)
    found = await feed_and_value(update, t, "charset_usage")
    if found is None:
        return
    done = feed_cases.set_charset(t.svc.backend, t.svc.feeds, *found)
    if isinstance(done, Refusal):
        await reply(update, t.refused(done))
        return
    await reply(
        update,
        t.text(
            "charset_set",
            title=done.feed.title or shown_url(done.feed),
            charset=done.charset or t.text("charset_auto"),
        ),
    )


@admin_only
async def fulltext(update: Update, context: Context) -> None:
    """/fulltext <feed id> <auto|on|off>: whether a feed's new items are read from their pages."""
    t = record_turn(update, context)
    found = await feed_and_value(update, t, "fulltext_usage")
    if found is None:
        return
    feed = feed_cases.set_fulltext(t.svc.backend, t.svc.feeds, *found)
    if isinstance(feed, Refusal):
        await reply(update, t.refused(feed))
        return
    title = feed.title or shown_url(feed)
    mode = t.text(f"fulltext_mode_{feed.fulltext}")
    await reply(update, t.text("fulltext_set", title=title, mode=mode))
