"""The figures /stats shows: a chat's keywords with their alerts and reactions, and for the
bot's admins the whole bot's."""

from __future__ import annotations

from dataclasses import dataclass

from core import links
from service.base import Backend
from storage import feedback as feedback_store
from storage import outbox, shortlinks
from storage import stats as stats_store
from storage.feedback import KeywordFeedback
from storage.stats import Stats

DAY = 86400
KEYWORD_DAYS = 7  # a keyword's alerts are counted over this many days
CLICKED_DAYS = 7  # and the most clicked stories over these
CLICKED_SHOWN = 5
FAILURES_SHOWN = 3


@dataclass(frozen=True)
class BotFigures:
    """The whole bot: chats, keywords, feeds and alerts counted, the most clicked stories of
    the week (title, clicks) and the latest messages that could not be sent (chat, reason)."""

    counts: Stats
    top_clicked: list[tuple[str, int]]
    failures: list[tuple[int, str]]
    sends_today: dict[str, int]  # messages Telegram accepted this UTC day: "free" and "paid"
    paid_ceiling: int | None  # Stars a day the paid lane may spend; None: the lane is off

    @property
    def stars_today(self) -> float:
        """Stars the paid lane spent this UTC day (0.1 a paid message)."""
        return self.sends_today["paid"] / 10


def bot_figures(backend: Backend) -> BotFigures:
    """What /stats shows the bot's admins first."""
    now, settings = backend.clock(), backend.settings
    clicked = shortlinks.top_clicked(
        backend.db, links.day_of(now - CLICKED_DAYS * DAY), CLICKED_SHOWN
    )
    paid_on = settings.paid_broadcast != "off"
    return BotFigures(
        stats_store.collect(backend.db, now=now),
        [(title, clicks) for title, _, clicks in clicked],
        outbox.recent_failures(backend.db, FAILURES_SHOWN),
        stats_store.sends_on(backend.db, links.day_of(now)),
        settings.paid_broadcast_stars_per_day if paid_on else None,
    )


def keyword_figures(backend: Backend, chat_id: int) -> list[KeywordFeedback]:
    """A chat's keywords, oldest first, with their alerts of the last week and the reactions on
    them."""
    since = backend.clock() - KEYWORD_DAYS * DAY
    return feedback_store.keyword_feedback(backend.db, chat_id, since=since)
