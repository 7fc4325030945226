"""Broadcast progress: the admin's preview message is edited as the notice goes out."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from telegram import Bot
from telegram.error import BadRequest, TelegramError

from core.i18n import Catalog
from storage import chats as chat_store
from storage import outbox
from storage.db import Database

log = logging.getLogger(__name__)


def progress_text(
    catalog: Catalog, language: str, counts: dict[str, int], rate: float, *, cancelled: bool
) -> tuple[str, bool]:
    """The progress or final summary text, and whether the broadcast is settled."""
    remaining = counts.get("pending", 0) + counts.get("sending", 0)
    sent, failed = counts.get("sent", 0), counts.get("failed", 0)
    blocked = counts.get("undeliverable", 0)
    if remaining and not cancelled:
        eta = max(1, math.ceil(remaining / max(rate, 0.1) / 60))
        return catalog.text(
            language, "broadcast_progress", sent=sent, failed=failed, remaining=remaining, eta=eta
        ), False
    if cancelled:
        if counts.get("sending", 0):
            return catalog.text(language, "broadcast_cancel_done"), False
        return catalog.text(
            language,
            "broadcast_summary_cancelled",
            sent=sent,
            blocked=blocked,
            failed=failed,
            cancelled=counts.get("cancelled", 0),
        ), True
    return catalog.text(
        language, "broadcast_summary", sent=sent, blocked=blocked, failed=failed
    ), True


async def report_broadcasts(
    db: Database, bot: Bot, catalog: Catalog, *, clock: Callable[[], float], rate: float
) -> int:
    """Edit the progress message of every running broadcast; finish the settled ones."""
    reported = 0
    for broadcast in outbox.active_broadcasts(db):
        counts = outbox.broadcast_counts(db, broadcast.id)
        chat = chat_store.get_chat(db, broadcast.progress_chat_id or 0)
        language = chat.language if chat else "ar"
        text, settled = progress_text(
            catalog, language, counts, rate, cancelled=broadcast.status == "cancelled"
        )
        if broadcast.progress_chat_id and broadcast.progress_message_id:
            try:
                await bot.edit_message_text(
                    text,
                    chat_id=broadcast.progress_chat_id,
                    message_id=broadcast.progress_message_id,
                )
                reported += 1
            except BadRequest as error:
                if "not modified" not in str(error).lower():
                    log.warning("broadcast progress edit refused", extra={"error": str(error)})
            except TelegramError as error:
                log.warning("broadcast progress edit failed", extra={"error": str(error)})
                continue  # try again at the next report
        if settled:
            outbox.finish_broadcast(db, broadcast.id, clock())
    return reported
