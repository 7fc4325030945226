"""/stats, which every chat may send: its keywords with their alerts and reactions; for the bot's
admins, the whole bot's figures first (service.stats)."""

from __future__ import annotations

from telegram import Update

from core.i18n import Raw
from core.render import SHOWN_ERROR_CHARS, SHOWN_KEYWORD_CHARS, SHOWN_TITLE_CHARS, escape, shorten
from handlers.common import Turn, is_admin, record_turn, reply
from handlers.context import Context
from service import stats
from service.stats import BotFigures


async def stats_command(update: Update, context: Context) -> None:
    """/stats: the chat's keywords with their alerts and reactions; for admins, the bot's
    figures first."""
    t = record_turn(update, context)
    text = keyword_stats_text(t)
    if is_admin(update, context):
        text = bot_stats_text(t, stats.bot_figures(t.svc.backend)) + "\n\n" + text
    await reply(update, text)


def keyword_stats_text(t: Turn) -> str:
    """The chat's keywords (or its managed channel's) with their alerts of the last week and the
    reactions on them."""
    rows = stats.keyword_figures(t.svc.backend, t.target.id)
    if not rows:
        return t.about_target(t.text("list_empty"))
    lines = "\n".join(
        t.text(
            "keyword_stats_line",
            keyword=shorten(row.keyword, SHOWN_KEYWORD_CHARS),
            alerts=row.alerts,
            likes=row.likes,
            dislikes=row.dislikes,
        )
        for row in rows
    )
    text = t.text("keyword_stats", lines=Raw(lines)) + "\n\n" + t.text("keyword_stats_hint")
    return t.about_target(text)


def bot_stats_text(t: Turn, figures: BotFigures) -> str:
    """Chats, keywords, feeds, alerts, backlog, most clicked stories and latest failures."""
    counts = figures.counts
    text = t.text(
        "stats",
        active=counts.chats_active,
        inactive=counts.chats_inactive,
        banned=counts.chats_banned,
        keywords=counts.keywords,
        healthy=counts.feeds_healthy,
        failing=counts.feeds_failing,
        disabled=counts.feeds_disabled,
        today=counts.alerts_today,
        week=counts.alerts_week,
        backlog=counts.backlog,
        failed=counts.failed,
    )
    sections = (
        ("stats_top_keywords", counts.top_keywords, SHOWN_KEYWORD_CHARS),
        ("stats_top_clicked", figures.top_clicked, SHOWN_TITLE_CHARS),
    )
    for message_id, ranked, chars in sections:
        if ranked:
            lines = "\n".join(f"• {escape(shorten(name, chars))} ({n})" for name, n in ranked)
            text += "\n" + t.text(message_id, lines=Raw(lines))
    sends = figures.sends_today
    if figures.paid_ceiling is not None or sends["paid"]:
        text += "\n" + t.text(
            "stats_sends_today",
            free=sends["free"],
            paid=sends["paid"],
            stars=f"{figures.stars_today:g}",
            ceiling=figures.paid_ceiling or 0,
        )
    if figures.failures:
        lines = "\n".join(
            f"• {chat_id}: {escape(shorten(reason or '', SHOWN_ERROR_CHARS))}"
            for chat_id, reason in figures.failures
        )
        text += "\n" + t.text("stats_failures", lines=Raw(lines))
    return text
