"""A keyword's own ways from /list (issue #31): its ⚙️ panel, edited in place, with its sources
(handlers.sources' picker), pace, big stories only and surge notices; and the short notes
/list shows beside each keyword."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from core.i18n import Raw
from core.keyword_ways import MAX_OUTLETS, MIN_OUTLETS, PACES, WINDOWS_HOURS, surges_on
from core.models import Subscription
from core.render import SHOWN_KEYWORD_CHARS, escape, shorten
from handlers.common import (
    button_press,
    changes_chat,
    edit,
    for_stamped_target,
    number,
    pop_up,
    record_turn,
    stamped,
    unstamped,
)
from handlers.context import Context, Turn
from service import keyword_ways
from service.base import Refusal

SHOWN_SITES = 2  # site: hosts named on a /list line; the rest counted
SHOWN_SITE_CHARS = 30  # a host name may be 253 characters


def scope_note(t: Turn, sub: Subscription) -> Raw:
    """What a keyword reads, in a few words (HTML): every source, its sites, how many of the
    sources, or (a warning) none left."""
    if not sub.scoped:
        return Raw(t.text("way_sources_all"))
    feeds = t.svc.backend.book.scope_of(sub.id)
    if feeds is not None and not feeds:
        return Raw(t.text("way_sources_none_short"))
    if sub.sites:
        shown = "، ".join(shorten(site, SHOWN_SITE_CHARS) for site in sub.sites[:SHOWN_SITES])
        more = len(sub.sites) - SHOWN_SITES
        return Raw(escape(shown + (f" +{more}" if more > 0 else "")))
    return Raw(t.text("way_sources_some", count=len(feeds or ())))


def list_notes(t: Turn, sub: Subscription) -> str:
    """The notes /list shows after a keyword: its sources, own pace and big-stories threshold."""
    notes = [t.text("list_way_sources", sources=scope_note(t, sub))] if sub.scoped else []
    if sub.pace is not None:
        notes.append(t.text("list_way_pace", pace=t.text(f"way_pace_{sub.pace}")))
    if sub.min_outlets > 1:
        notes.append(t.text("list_way_big", outlets=sub.min_outlets, hours=sub.window_hours))
    return "".join(" " + note for note in notes if note)


def panel(t: Turn, sub: Subscription, page: int) -> tuple[str, InlineKeyboardMarkup]:
    """A keyword's ⚙️ panel: its ways now, and a button row for each."""
    chat_mode = t.target.delivery_mode
    sources = scope_note(t, sub)
    pace = (
        t.text(f"way_pace_{sub.pace}")
        if sub.pace
        else t.text("way_pace_chat", pace=t.text(f"way_pace_{chat_mode}"))
    )
    big = (
        t.text("way_big_on", outlets=sub.min_outlets, hours=sub.window_hours)
        if sub.min_outlets > 1
        else t.text("way_big_off")
    )
    on = surges_on(sub, chat_mode)
    surges = t.text(
        ("way_surges_on" if on else "way_surges_off") + ("_default" if sub.surges is None else "")
    )
    text = t.text(
        "way_panel",
        keyword=shorten(sub.keyword, SHOWN_KEYWORD_CHARS),
        sources=sources,
        pace=pace,
        big=big,
        surges=surges,
    )
    return t.about_target(text), InlineKeyboardMarkup(_panel_rows(t, sub, page, on))


def _panel_rows(
    t: Turn, sub: Subscription, page: int, surging: bool
) -> list[list[InlineKeyboardButton]]:
    """The panel's buttons; the choice in force is ticked."""

    def button(label: str, action: str, value: object) -> InlineKeyboardButton:
        data = stamped(t, f"kwx:{action}:{sub.id}:{value}:{page}")
        return InlineKeyboardButton(label, callback_data=data)

    def ticked(label: str, chosen: bool) -> str:
        return f"✓ {label}" if chosen else label

    paces = [
        button(ticked(t.label(f"button_way_pace_{pace}"), sub.pace == pace), "pace", pace)
        for pace in PACES
    ]
    paces.append(button(ticked(t.label("button_way_pace_chat"), sub.pace is None), "pace", "chat"))
    outlets = [button(ticked(t.label("button_way_big_off"), sub.min_outlets == 1), "big", 1)]
    outlets += [
        button(ticked(f"{n}+", sub.min_outlets == n), "big", n)
        for n in range(MIN_OUTLETS, MAX_OUTLETS + 1)
    ]
    rows = [
        [
            InlineKeyboardButton(
                t.label("button_way_sources"),
                callback_data=stamped(t, f"src:show:{sub.id}:0"),
            )
        ],
        paces[:2],
        paces[2:],
        outlets,
    ]
    if sub.min_outlets > 1:
        rows.append(
            [
                button(
                    ticked(t.label("button_way_window", hours=h), sub.window_hours == h), "win", h
                )
                for h in WINDOWS_HOURS
            ]
        )
    surge_label = "button_way_surges_off" if surging else "button_way_surges_on"
    rows.append([button(t.label(surge_label), "surge", "off" if surging else "on")])
    rows.append(
        [
            InlineKeyboardButton(
                t.label("button_back_to_list"), callback_data=stamped(t, f"kw:page:{page}")
            )
        ]
    )
    return rows


@for_stamped_target
@changes_chat
async def keyword_way_button(update: Update, context: Context) -> None:
    """A ⚙️ panel button, for who may change the chat (the panel is there to change it). A
    keyword that is gone or not the chat's (a forged button) changes nothing."""
    query, data = button_press(update)
    action = unstamped(data).split(":")[1:2]
    if action != ["show"]:
        await _change_way(update, context)
        return
    t = record_turn(update, context)
    sub_id, _, page = _fields(data)
    sub = keyword_ways.keyword(t.svc.backend, t.target.id, sub_id)
    if sub is None:
        await pop_up(query, t.text("keyword_gone"), alert=True)
        return
    await query.answer()
    await edit(query, *panel(t, sub, page))


async def _change_way(update: Update, context: Context) -> None:
    """Change one of a keyword's ways, say so in a pop-up, and redraw the panel."""
    query, data = button_press(update)
    t = record_turn(update, context)
    action = unstamped(data).split(":")[1]
    sub_id, value, page = _fields(data)
    backend, chat_id = t.svc.backend, t.target.id
    result: Subscription | Refusal | None
    if action == "pace":
        result = keyword_ways.set_pace(backend, chat_id, sub_id, str(value))
    elif action == "big":
        result = keyword_ways.set_big_stories(backend, chat_id, sub_id, number(str(value), -1))
    elif action == "win":
        current = keyword_ways.keyword(backend, chat_id, sub_id)
        outlets = current.min_outlets if current else 1
        result = keyword_ways.set_big_stories(
            backend, chat_id, sub_id, outlets, number(str(value), -1)
        )
    elif action == "surge" and value in ("on", "off"):
        result = keyword_ways.set_surges(backend, chat_id, sub_id, value == "on")
    else:
        result = Refusal("button_stale")
    if result is None:
        await pop_up(query, t.text("keyword_gone"), alert=True)
        return
    if isinstance(result, Refusal):
        await pop_up(query, t.refused(result), alert=True)
        return
    await pop_up(query, t.text("way_changed"))
    await edit(query, *panel(t, result, page))


def _fields(data: str) -> tuple[int, str, int]:
    """(keyword id, value, /list page) of a `kwx:` button."""
    parts = unstamped(data).split(":")
    raw_id = parts[2] if len(parts) > 2 else ""
    value = parts[3] if len(parts) > 3 else ""
    page = parts[4] if len(parts) > 4 else "0"
    return number(raw_id, -1), value, number(page)
