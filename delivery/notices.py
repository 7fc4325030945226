"""Notices to the bot's admins, queued in the outbox like every other message.

A feed disabled after repeated failures; the database refusing writes, and taking them again.
Each goes to every admin who has written to the bot (Telegram lets a bot write only to those),
in the admin's language. While the database refuses writes a notice may not be storable: it is
logged, and the admins are told once it takes writes again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from core.i18n import Catalog, Phrase, Plural
from core.models import Feed
from core.render import SHOWN_ERROR_CHARS, SHOWN_TITLE_CHARS, shorten
from core.safety import without_credentials
from storage import chats as chat_store
from storage import outbox
from storage.db import Database, is_refused_write

log = logging.getLogger(__name__)

NOTICE_INTERVAL_SECONDS = 3600.0  # at most one "database refuses writes" notice an hour


def notify_admins(
    db: Database,
    catalog: Catalog,
    admin_ids: Iterable[int],
    message_id: str,
    *,
    now: float,
    **params: object,
) -> int:
    """Queue one catalog message to each admin who has written to the bot; how many."""
    queued = 0
    with db.atomic():
        for admin_id in admin_ids:
            admin = chat_store.get_chat(db, admin_id)
            if admin is None or not admin.active:
                log.warning(
                    "admin notice not queued: the admin has not written to the bot",
                    extra={"chat_id": admin_id, "notice": message_id},
                )
                continue
            text = catalog.text(admin.language, message_id, **params)
            outbox.queue_notice(db, admin_id, text, now=now)
            queued += 1
    return queued


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


class AdminNotices:
    """What the poller and the database watch tell admins, through the outbox."""

    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        admin_ids: Iterable[int],
        *,
        clock: Callable[[], float],
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.admin_ids = tuple(admin_ids)
        self.clock = clock
        self.wake = wake
        self.last_trouble_notice = float("-inf")
        self._tell_recovery = False  # the admins were told of this episode, or are owed word

    def _queue(self, message_id: str, **params: object) -> None:
        """Queue a notice to every admin; logged when the database refuses it."""
        try:
            notify_admins(
                self.db, self.catalog, self.admin_ids, message_id, now=self.clock(), **params
            )
        except Exception as error:
            if not is_refused_write(error):
                raise
            log.warning(
                "admin notice not queued: the database refuses writes",
                extra={"notice": message_id, "error": str(error)},
            )
            return
        self.wake()

    def feed_disabled(self, feed: Feed, failures: int, kind: str, error: str) -> None:
        """A feed was disabled after `failures` in a row (FeedSchedule.on_feed_disabled)."""
        title = shorten(feed.title or without_credentials(feed.url), SHOWN_TITLE_CHARS)
        reason = Phrase(
            "error_reason",
            {"why": Phrase(f"error_kind_{kind}"), "detail": shorten(error, SHOWN_ERROR_CHARS)},
        )
        self._queue(
            "feed_disabled_notice",
            title=title,
            failures=Plural("n_errors", failures),
            reason=reason,
        )

    def paid_lane_closed(self, reason: str, detail: str) -> None:
        """The paid lane stopped paying (PaidLane.on_closed): "ceiling", "balance" or
        "refused", with the ceiling or Telegram's words."""
        if reason == "ceiling":
            self._queue("paid_lane_ceiling_notice", ceiling=detail)
        elif reason == "balance":
            self._queue("paid_lane_balance_notice")
        else:
            self._queue("paid_lane_refused_notice", error=shorten(detail, SHOWN_ERROR_CHARS))

    def database_failing(self, error: str, since: float) -> None:
        """The database started refusing writes (WriteHealth.on_start)."""
        self._tell_recovery = since - self.last_trouble_notice >= NOTICE_INTERVAL_SECONDS
        if self._tell_recovery:  # else told of a recent episode: not again within the hour
            self.last_trouble_notice = since
            # Refused too, most likely when the disk is full: the recovery notice says it all.
            self._queue("database_failing_notice", error=error, since=_utc(since))

    def database_recovered(self, error: str, since: float, now: float) -> None:
        """The database takes writes again (WriteHealth.on_end)."""
        minutes = max(1, round((now - since) / 60))
        log.info("the database takes writes again", extra={"after_minutes": minutes})
        if self._tell_recovery:
            self._tell_recovery = False
            self._queue(
                "database_recovered_notice",
                error=error,
                since=_utc(since),
                minutes=Plural("n_minutes", minutes),
            )
