"""Commands and buttons for everyone: start, help, keywords, test, pause, stop, my data."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType

from core.i18n import Plural, Raw
from core.query import Query
from core.render import SHOWN_KEYWORD_CHARS, SHOWN_TITLE_CHARS, escape, page_of, shorten
from core.trial import form_notes
from handlers.common import (
    Topic,
    Turn,
    app_buttons,
    button_press,
    changes_chat,
    command_argument,
    edit,
    for_stamped_target,
    is_admin,
    message_of,
    number,
    page_buttons,
    page_line,
    pop_up,
    quiet_hours_text,
    record_turn,
    refusing_stale,
    reply,
    stamped,
    topic_here,
    unstamped,
)
from handlers.context import Context, services
from handlers.keyword_ways import list_notes
from service import account, keywords, sources
from service.base import Refusal
from service.keywords import StoredArticle

CALLBACK_DATA_BYTES = 64  # Telegram's limit on callback_data
EXAMPLE_KEYWORDS = ("المغرب", "الهجرة", "وزير الداخلية")
BUTTON_KEYWORD_CHARS = 24
LIST_PAGE_SIZE = 10  # keywords on one page of /list


async def start(update: Update, context: Context) -> None:
    """Greet, explain in three lines, offer example keywords as buttons."""
    t = record_turn(update, context)
    buttons = [
        [
            InlineKeyboardButton(f"➕ {word}", callback_data=stamped(t, f"add:{word}"))
            for word in EXAMPLE_KEYWORDS
        ],
        [InlineKeyboardButton(t.text("button_help"), callback_data="help")],
    ]
    await reply(update, t.text("welcome"), reply_markup=InlineKeyboardMarkup(buttons))


def help_text(update: Update, context: Context, t: Turn) -> str:
    """Every command and the keyword syntax (admin commands for admins)."""
    text = t.text("help")
    if is_admin(update, context):
        text += "\n\n" + t.text("admin_help")
    return text


async def help_command(update: Update, context: Context) -> None:
    """Every command and the keyword syntax."""
    t = record_turn(update, context)
    await reply(update, help_text(update, context, t))


def add_keywords(t: Turn, raws: list[str], topic: Topic | None = None) -> str:
    """Follow each keyword that is valid and new (in the forum topic it was added in); one
    answer that covers them all."""
    thread, name = (topic.thread_id, topic.name) if topic else (None, None)
    result = keywords.add_keywords(t.svc.backend, t.target, raws, thread_id=thread, topic=name)
    if isinstance(result, Refusal):
        return t.refused(result)
    answers = [t.refused(refused) for refused in result.refused]
    if result.added:
        names = "، ".join(sources.shown(sub) for sub in result.added)
        answers.insert(0, t.text("added", keywords=names))
        if topic is not None:
            answers.insert(1, t.text("added_in_topic", topic=topic_label(topic)))
    return t.about_target("\n".join(answers))


def topic_label(topic: Topic) -> str:
    """A topic as a list shows it: its name, or its number when Telegram never told it."""
    return shorten(topic.name, SHOWN_KEYWORD_CHARS) if topic.name else f"#{topic.thread_id}"


@changes_chat
async def add(update: Update, context: Context) -> None:
    """/add: follow one or several keywords."""
    t = record_turn(update, context)
    raws = keywords.split_keywords(command_argument(update))
    if not raws:
        await reply(update, t.text("add_usage"))
        return
    await reply(update, add_keywords(t, raws, topic_here(update, t)))


def keyword_list(t: Turn, page: int = 0) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the target's keywords, one per line, each with pause/resume and delete
    buttons, and ◀️ ▶️ to the other pages."""
    subscriptions = keywords.keywords(t.svc.backend, t.target.id)
    if not subscriptions:
        opening = app_buttons(t)
        return t.about_target(t.text("list_empty")), InlineKeyboardMarkup(
            opening
        ) if opening else None
    shown = page_of(len(subscriptions), page, LIST_PAGE_SIZE)
    lines = [t.text("list_header", count=len(subscriptions))]
    rows = []
    for sub in subscriptions[shown.start : shown.end]:
        keyword = shorten(sub.keyword, SHOWN_KEYWORD_CHARS)
        line = t.text("list_line_paused" if sub.paused else "list_line", keyword=keyword)
        if sub.thread_id is not None:
            topic = topic_label(Topic(sub.thread_id, sub.topic))
            line += " " + t.text("list_in_topic", topic=topic)
        lines.append(line + list_notes(t, sub))
        short = shorten(sub.keyword, BUTTON_KEYWORD_CHARS)
        action, label = (
            ("resume", "button_resume_kw") if sub.paused else ("pause", "button_pause_kw")
        )
        rows.append(
            [
                InlineKeyboardButton(
                    t.label(label, keyword=short),
                    callback_data=stamped(t, f"kw:{action}:{sub.id}:{shown.number}"),
                ),
                InlineKeyboardButton(
                    t.text("button_delete_kw"),
                    callback_data=stamped(t, f"kw:del:{sub.id}:{shown.number}"),
                ),
                InlineKeyboardButton(
                    t.text("button_kw_ways"),
                    callback_data=stamped(t, f"kwx:show:{sub.id}:0:{shown.number}"),
                ),
            ]
        )
    if navigation := page_buttons(t, "kw:page:", shown, for_target=True):
        rows.append(navigation)
    rows += app_buttons(t)
    if more := page_line(t, shown):
        lines.append(more)
    lines += ["", t.text("list_hint")]
    return t.about_target("\n".join(lines)), InlineKeyboardMarkup(rows)


async def list_keywords(update: Update, context: Context) -> None:
    """/list: the chat's keywords with buttons, a page at a time."""
    t = record_turn(update, context)
    text, buttons = keyword_list(t)
    await reply(update, text, reply_markup=buttons)


@for_stamped_target
async def keyword_button(update: Update, context: Context) -> None:
    """A /list button, edited in place: ◀️ ▶️ turn its page for anyone who may /list (every
    member of a group); pause, resume and delete are for who may change the chat."""
    query, data = button_press(update)
    _, action, rest = (unstamped(data).split(":", 2) + ["", ""])[:3]
    if action != "page":
        await _change_keyword(update, context)
        return
    await query.answer()
    text, buttons = keyword_list(record_turn(update, context), number(rest))
    await edit(query, text, buttons)


@changes_chat
async def _change_keyword(update: Update, context: Context) -> None:
    """Pause, resume or delete one keyword from /list. Only the acting chat's (or its managed
    channel's) keywords are touched, and the index changes only when the database did."""
    query, data = button_press(update)
    t = record_turn(update, context)
    _, action, rest = (unstamped(data).split(":", 2) + ["", ""])[:3]
    raw_id, _, raw_page = rest.partition(":")
    sub_id = number(raw_id, default=-1)
    if action == "del":
        removed = keywords.delete_keyword(t.svc.backend, t.target.id, sub_id)
        note = t.text("removed", keyword=removed.keyword) if removed else t.text("keyword_gone")
    else:
        sub = keywords.set_keyword_paused(t.svc.backend, t.target.id, sub_id, action == "pause")
        if sub is None:
            note = t.text("keyword_gone")
        else:
            line = "list_line_paused" if sub.paused else "list_line"
            note = t.text(line, keyword=sub.keyword)
    await pop_up(query, note)
    text, buttons = keyword_list(t, number(raw_page))
    await edit(query, text, buttons)


@changes_chat
async def remove(update: Update, context: Context) -> None:
    """/remove: stop following one or several keywords."""
    t = record_turn(update, context)
    raws = keywords.split_keywords(command_argument(update))
    if not raws:
        text, buttons = keyword_list(t)
        await reply(update, t.text("remove_usage") + "\n\n" + text, reply_markup=buttons)
        return
    answers = []
    for raw in raws:
        removed = keywords.remove_keyword(t.svc.backend, t.target.id, raw)
        answers.append(
            t.text("removed", keyword=removed.keyword)
            if removed
            else t.text("not_following", keyword=raw)
        )
    await reply(update, t.about_target("\n".join(answers)))


async def test_keyword(t: Turn, plan: keywords.TestPlan) -> str:
    """How many recent stories a keyword would have matched (of its sources only, when it
    has some), with up to three titles, and the way a followed keyword would have sent them."""
    query = plan.query
    scan = await keywords.scan_recent(t.svc.backend, t.svc.trials, query, feeds=plan.feeds)
    notes = await asyncio.to_thread(form_notes, query, scan.hits[:3])
    answer = test_answer(t, query, scan.hits, scan.total, notes) + test_ways(t, plan, scan.hits)
    if not scan.complete:
        answer += "\n\n" + t.text("test_stopped_early", count=scan.trial.scanned)
    return answer


def test_ways(t: Turn, plan: keywords.TestPlan, hits: list[StoredArticle]) -> str:
    """/test's lines on a keyword's sources and, when the chat follows it, its pace and
    big-stories rule with how many of the stories it would have let through."""
    lines = []
    if plan.feeds is not None:
        sites = "، ".join(plan.sites or (plan.followed.sites if plan.followed else ()))
        sources = sites or t.text("way_sources_some", count=len(plan.feeds))
        lines.append(t.text("test_scope", sources=sources))
    followed = plan.followed
    if followed is not None:
        pace = t.text(f"way_pace_{followed.pace or t.target.delivery_mode}")
        lines.append(t.text("test_pace", pace=pace))
        if followed.min_outlets > 1:
            outlets, hours = followed.min_outlets, followed.window_hours
            big = keywords.big_stories(t.svc.backend, hits, outlets, hours)
            lines.append(t.text("test_big", outlets=outlets, hours=hours, count=big))
    return "".join("\n" + line for line in lines)


def test_answer(
    t: Turn,
    query: Query,
    hits: list[StoredArticle],
    total: int,
    notes: list[str],
) -> str:
    """The answer to /test: the stories matched out of those looked at, three titles, and the
    other forms of the keyword they matched through (`notes`: «وزراء ← وزير»)."""
    days = t.svc.backend.settings.test_days
    if not hits:
        return t.text("test_none", keyword=query.raw, days=Plural("n_days", days), total=total)
    titles = "\n".join(f"• {escape(shorten(a.title, SHOWN_TITLE_CHARS))}" for a in hits[:3])
    if notes:
        titles += "\n" + t.text("test_forms", forms="»، «".join(notes))
    return t.text(
        "test_result",
        keyword=query.raw,
        count=len(hits),
        total=total,
        days=Plural("n_days", days),
        titles=Raw(titles),
    )


async def test(update: Update, context: Context) -> None:
    """/test: try a keyword on recent news before saving it (runs beside other updates)."""
    t = record_turn(update, context)
    raw = command_argument(update)
    if not raw:
        await reply(update, t.text("test_usage"))
        return
    plan = keywords.plan_test(t.svc.backend, t.target.id, raw)
    if isinstance(plan, Refusal):
        await reply(update, t.refused(plan))
        return
    wait = keywords.claim_test(t.svc.backend, t.svc.trials, t.chat.id)
    if wait:
        await reply(update, t.refused(wait))
        return
    try:
        await reply(update, await test_keyword(t, plan))
    finally:
        t.svc.trials.release(t.chat.id)


async def test_button(update: Update, context: Context) -> None:
    """The 🔍 button under a plain message: /test, its answer edited in, with a follow button."""
    press, data = button_press(update)
    t = record_turn(update, context)
    raw = data.partition(":")[2]
    plan = keywords.plan_test(t.svc.backend, t.target.id, raw)
    if isinstance(plan, Refusal):
        await press.answer()
        await edit(press, t.refused(plan))
        return
    wait = keywords.claim_test(t.svc.backend, t.svc.trials, t.chat.id)
    if wait:
        await press.answer(t.refused(wait), show_alert=True)
        return
    try:
        await press.answer()
        answer = await test_keyword(t, plan)
        follow = follow_button(t, raw)
        await edit(press, answer, reply_markup=InlineKeyboardMarkup([[follow]]) if follow else None)
    finally:
        t.svc.trials.release(t.chat.id)


async def _set_paused(update: Update, context: Context, paused: bool) -> None:
    t = record_turn(update, context)
    refused = account.pause_alerts(t.svc.backend, t.target, paused)
    done = t.text("paused_all" if paused else "resumed_all")
    await reply(update, t.about_target(t.refused(refused) if refused else done))


@changes_chat
async def pause(update: Update, context: Context) -> None:
    """/pause: stop all alerts until /resume (keywords are kept)."""
    await _set_paused(update, context, True)


@changes_chat
async def resume(update: Update, context: Context) -> None:
    """/resume: alerts again."""
    await _set_paused(update, context, False)


@changes_chat
async def stop(update: Update, context: Context) -> None:
    """/stop: ask before deleting everything about the chat."""
    t = record_turn(update, context)
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.text("button_stop_yes"), callback_data=stamped(t, "stop:yes")
                ),
                InlineKeyboardButton(t.text("button_stop_no"), callback_data=stamped(t, "stop:no")),
            ]
        ]
    )
    await reply(update, t.about_target(t.text("stop_confirm")), reply_markup=buttons)


@changes_chat
@for_stamped_target
async def stop_button(update: Update, context: Context) -> None:
    """The answer to /stop's question; the question is edited into the result."""
    query, data = button_press(update)
    t = record_turn(update, context)
    await query.answer()
    if unstamped(data) != "stop:yes":
        await edit(query, t.text("stop_kept"))
        return
    account.forget(t.svc.backend, t.target.id, asked_from=t.chat.id)
    await edit(query, t.about_target(t.text("stopped")))


def my_data(t: Turn) -> str:
    """Everything stored about the target chat, in words."""
    data = account.my_data(t.svc.backend, t.target.id)
    target = t.target
    followed = keywords.keywords(t.svc.backend, target.id)
    shown = [escape(sub.keyword) + list_notes(t, sub) for sub in followed] or [t.text("none")]
    quiet = quiet_hours_text(t, target)
    languages = ",".join(sorted(target.article_languages))  # "*": every language
    return t.about_target(
        t.text(
            "mydata",
            id=target.id,
            type=target.type,
            language=target.language,
            languages=languages,
            count=len(data["keywords"]),
            keywords=Raw("، ".join(shown)),
            mode=t.text(f"mode_{target.delivery_mode}"),
            timezone=target.timezone or t.svc.backend.settings.default_timezone,
            quiet=quiet,
            sent=data["messages_sent"],
            owed=data["messages_owed"],
            title=target.title or "—",
            channels="، ".join(data["channels_linked"]) or t.text("none"),
            feeds=data["feeds_added"],
            broadcasts=data["broadcasts_sent"],
        )
    )


async def mydata(update: Update, context: Context) -> None:
    """/mydata: what the bot keeps about this chat."""
    t = record_turn(update, context)
    await reply(update, my_data(t))


async def plain_text(update: Update, context: Context) -> None:
    """A plain message in a private chat: offer to follow it or test it first."""
    t = record_turn(update, context)
    text = " ".join((message_of(update).text or "").split())
    follow = follow_button(t, text)
    if follow is None or len(f"test:{text}".encode()) > CALLBACK_DATA_BYTES:
        await reply(update, t.text("plain_text_hint", text=text[:100]))
        return
    buttons = [[follow, InlineKeyboardButton(t.text("button_test"), callback_data=f"test:{text}")]]
    await reply(
        update, t.text("offer_follow", text=text), reply_markup=InlineKeyboardMarkup(buttons)
    )


def follow_button(t: Turn, raw: str) -> InlineKeyboardButton | None:
    """➕ تابِع for a keyword, stamped with the chat it adds to; None when its callback data
    would pass Telegram's 64 bytes."""
    data = stamped(t, f"add:{raw}")
    if len(data.encode()) > CALLBACK_DATA_BYTES:
        return None
    return InlineKeyboardButton(t.text("button_follow"), callback_data=data)


@changes_chat
@refusing_stale("add_stale")
async def add_button(update: Update, context: Context) -> None:
    """➕ under the welcome, a plain message or a /test answer: follow the keyword in the chat
    the button was shown for (a press after /channel switched elsewhere adds nothing)."""
    query, data = button_press(update)
    t = record_turn(update, context)
    await query.answer()
    raw = unstamped(data).partition(":")[2]
    await edit(query, add_keywords(t, [raw], topic_here(update, t)))


async def button(update: Update, context: Context) -> None:
    """The help button under the welcome (any other unknown button is just answered)."""
    query, data = button_press(update)
    t = record_turn(update, context)
    await query.answer()
    if data == "help":
        await reply(update, help_text(update, context, t))


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have."""
    t = record_turn(update, context)
    await reply(update, t.text("unknown_command"))


async def chat_migrated(update: Update, context: Context) -> None:
    """A group became a supergroup: its keywords and pending messages move to the new id."""
    message = message_of(update)
    if message.migrate_to_chat_id:
        old_id, new_id = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old_id, new_id = message.migrate_from_chat_id, message.chat_id
    else:
        return
    account.migrate(services(context).backend, old_id, new_id)


async def membership(update: Update, context: Context) -> None:
    """The bot was blocked, removed or added: keep the chat's state true, greet a new group."""
    change = update.my_chat_member
    if change is None:
        return
    gone = {ChatMemberStatus.BANNED, ChatMemberStatus.LEFT}
    if change.new_chat_member.status in gone:
        reason = f"bot {change.new_chat_member.status}"
        account.bot_removed(services(context).backend, change.chat.id, reason)
        return
    joined = change.old_chat_member.status in gone
    if change.chat.type in {ChatType.GROUP, ChatType.SUPERGROUP} and joined:
        t = record_turn(update, context)
        await context.bot.send_message(change.chat.id, t.text("welcome_group"))
    elif change.chat.type == ChatType.PRIVATE and joined:
        record_turn(update, context)  # unblocked: active again
