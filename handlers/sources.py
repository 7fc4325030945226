"""A keyword's sources, picked in the chat (issue #31): the bot's feeds a page at a time, each a
button that ticks it for the keyword or unticks it, "All sources" to read every feed again, and
back to the keyword's panel (handlers.keyword_ways).

Callback data, each stamped with the target (handlers.common.stamped):
    src:show:<sub_id>:<page>              the picker, on that page
    src:tick:<sub_id>:<feed_id>:<page>    tick or untick a feed, then the same page again
    src:all:<sub_id>                      every feed again (no feed ticked, no site: host)
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from core.i18n import Plural
from core.models import Subscription
from core.render import SHOWN_KEYWORD_CHARS, page_of, shorten
from core.safety import without_credentials
from handlers.common import (
    Turn,
    button_press,
    changes_chat,
    edit,
    for_stamped_target,
    number,
    page_buttons,
    page_line,
    pop_up,
    record_turn,
    refuse,
    refuse_with,
    stamped,
    unstamped,
)
from handlers.context import Context
from service import sources
from service.sources import Source

SOURCES_PAGE_SIZE = 8  # feeds on one page of the picker
BUTTON_TITLE_CHARS = 40  # a feed's title on its button (Telegram cuts long labels anyway)
SHOWN_SITES_CHARS = 300  # the site: hosts as the picker's text names them
MARKS = {"site": "🌐", "ticked": "✅", "no": "▫️"}


def _mark(source: Source) -> str:
    """How a feed shows: read through a site: host, ticked, or not chosen."""
    if source.by_site:
        return MARKS["site"]
    return MARKS["ticked"] if source.ticked else MARKS["no"]


def _title(source: Source, limit: int) -> str:
    """A feed as the picker names it: its title, or its address (never a password in it)."""
    return shorten(source.feed.title or without_credentials(source.feed.url), limit)


def reads_now(t: Turn, subscription: Subscription, listed: list[Source]) -> str:
    """What the keyword reads now, in one line: every feed, some, or none (it matches nothing)."""
    if not subscription.scoped:
        return t.text("sources_all")
    read = sum(source.read for source in listed)
    if read == 0:
        return t.text("sources_none")
    return t.text("sources_some", count=Plural("n_sources", read))


def picker(
    t: Turn, subscription: Subscription, listed: list[Source], page: int
) -> tuple[str, InlineKeyboardMarkup]:
    """The picker's text and buttons for one page of the bot's feeds."""
    shown = page_of(len(listed), page, SOURCES_PAGE_SIZE)
    keyword = shorten(subscription.keyword, SHOWN_KEYWORD_CHARS)
    lines = [t.text("sources_header", keyword=keyword), reads_now(t, subscription, listed)]
    if subscription.sites:
        hosts = shorten("، ".join(subscription.sites), SHOWN_SITES_CHARS)
        lines.append(t.text("sources_sites", sites=hosts))
    lines.append(t.text("sources_hint" if listed else "sources_no_feeds"))
    if more := page_line(t, shown):
        lines.append(more)
    sub_id = subscription.id
    rows = [
        [
            InlineKeyboardButton(
                t.label(
                    "sources_button",
                    mark=_mark(source),
                    title=_title(source, BUTTON_TITLE_CHARS),
                ),
                callback_data=stamped(t, f"src:tick:{sub_id}:{source.feed.id}:{shown.number}"),
            )
        ]
        for source in listed[shown.start : shown.end]
    ]
    if navigation := page_buttons(t, f"src:show:{sub_id}:", shown, for_target=True):
        rows.append(navigation)
    rows.append(
        [
            InlineKeyboardButton(
                t.text("button_every_source"), callback_data=stamped(t, f"src:all:{sub_id}")
            ),
            InlineKeyboardButton(
                t.text("button_sources_back"), callback_data=stamped(t, f"kwx:show:{sub_id}:0")
            ),
        ]
    )
    return t.about_target("\n".join(lines)), InlineKeyboardMarkup(rows)


async def _redraw(update: Update, context: Context, sub_id: int, page: int) -> None:
    """Edit the picker in place, as the keyword's sources are now."""
    query, _ = button_press(update)
    t = record_turn(update, context)
    found = sources.sources(t.svc.backend, t.target.id, sub_id)
    if found is None:
        return
    text, buttons = picker(t, *found, page)
    await edit(query, text, buttons)


def _parts(data: str) -> list[str]:
    """The callback data's fields after `src:`, without the stamp."""
    return unstamped(data).split(":")[1:]


@for_stamped_target
async def sources_button(update: Update, context: Context) -> None:
    """A picker button: showing it (or another page) is for anyone who may /list; ticking and
    "All sources" for who may change the chat."""
    query, data = button_press(update)
    action, *fields = _parts(data) or [""]
    if action == "show" and fields:
        t = record_turn(update, context)
        sub_id = number(fields[0], default=-1)
        if sources.sources(t.svc.backend, t.target.id, sub_id) is None:
            await refuse(update, context, "keyword_gone")
            return
        await query.answer()
        await _redraw(update, context, sub_id, number(fields[1] if len(fields) > 1 else ""))
    elif action in ("tick", "all") and fields:
        await _change(update, context)
    else:
        await refuse(update, context, "button_stale")


@changes_chat
async def _change(update: Update, context: Context) -> None:
    """Tick or untick one feed for a keyword, or read every feed again; then redraw."""
    query, data = button_press(update)
    t = record_turn(update, context)
    action, raw_id, *rest = _parts(data) + [""]
    sub_id = number(raw_id, default=-1)
    found = sources.sources(t.svc.backend, t.target.id, sub_id)
    if found is None:
        await refuse(update, context, "keyword_gone")
        return
    if action == "all":
        sources.every_source(t.svc.backend, t.target.id, sub_id)
        await pop_up(query, t.text("sources_every_set"))
        await _redraw(update, context, sub_id, 0)
        return
    feed_id = number(rest[0], default=-1)
    picked = next((source for source in found[1] if source.feed.id == feed_id), None)
    if picked is None:
        await refuse(update, context, "source_unknown")
        return
    if picked.by_site:  # read because a site: host covers it: a tick would change nothing seen
        await refuse(update, context, "source_by_site")
        return
    changed = sources.toggle(t.svc.backend, t.target.id, sub_id, feed_id)
    if not isinstance(changed, Subscription):
        await refuse_with(update, t.refused(changed) if changed else t.text("keyword_gone"))
        return
    title = _title(picked, BUTTON_TITLE_CHARS)
    note = "sources_unticked" if picked.ticked else "sources_ticked"
    await pop_up(query, t.text(note, title=title))
    await _redraw(update, context, sub_id, number(rest[1] if len(rest) > 1 else ""))
