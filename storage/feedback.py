"""Reactions on alerts: which alert a message carried, and 👍/👎 counted per keyword."""

from __future__ import annotations

import json
from dataclasses import dataclass

from storage.db import Database, fetch_rows


@dataclass(frozen=True, slots=True)
class SentAlert:
    """An alert as a message carried it (a digest carries several)."""

    row_id: int
    article_id: int | None
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KeywordFeedback:
    """One keyword of a chat: alerts sent for it lately, and the reactions on its alerts."""

    keyword: str
    alerts: int
    likes: int
    dislikes: int


def _sent_alert(row: dict) -> SentAlert:
    return SentAlert(row["id"], row["article_id"], tuple(json.loads(row["keywords"])))


def keywords_of(alerts: list[SentAlert]) -> list[str]:
    """Every keyword the alerts of one message name, each once, in their order."""
    return list(dict.fromkeys(k for alert in alerts for k in alert.keywords))


def alerts_on_message(db: Database, chat_id: int, message_id: int) -> list[SentAlert]:
    """The alerts a message of the bot carried, oldest first; [] for any other message."""
    rows = fetch_rows(
        db,
        """SELECT id, article_id, keywords FROM outbox
           WHERE chat_id = ? AND message_id = ? AND kind = 'alert' AND status = 'sent'
           ORDER BY id""",
        (chat_id, message_id),
    )
    return [_sent_alert(row) for row in rows]


def sent_alert(db: Database, chat_id: int, row_id: int) -> SentAlert | None:
    """One alert sent to this chat, by its outbox row; None when it is another chat's or gone."""
    rows = fetch_rows(
        db,
        """SELECT id, article_id, keywords FROM outbox
           WHERE id = ? AND chat_id = ? AND kind = 'alert' AND status = 'sent'""",
        (row_id, chat_id),
    )
    return _sent_alert(rows[0]) if rows else None


def ask_once(db: Database, row_id: int) -> bool:
    """Mark that a 👎 on this alert was answered; False when it had been already."""
    cursor = db.execute(
        "UPDATE outbox SET feedback_asked = 1 WHERE id = ? AND feedback_asked = 0", (row_id,)
    )
    return cursor.rowcount == 1


def count_reactions(
    db: Database, chat_id: int, keywords: list[str], *, likes: int, dislikes: int
) -> None:
    """Add (or, for a reaction taken back, subtract) 👍 and 👎 to a chat's keywords."""
    if not keywords:
        return
    marks = ",".join("?" * len(keywords))
    db.execute(
        f"""UPDATE subscriptions SET likes = max(0, likes + ?), dislikes = max(0, dislikes + ?)
            WHERE chat_id = ? AND keyword IN ({marks})""",  # noqa: S608
        (likes, dislikes, chat_id, *keywords),
    )


def count_totals(db: Database, chat_id: int, message_id: int, *, likes: int, dislikes: int) -> bool:
    """A channel's totals of 👍 and 👎 on a message: what changed since the last totals is
    counted for the keywords of the alerts it carried; False when it carried none."""
    alerts = alerts_on_message(db, chat_id, message_id)
    if not alerts:
        return False
    carrier = alerts[0].row_id
    seen = db.execute(
        "SELECT likes_seen, dislikes_seen FROM outbox WHERE id = ?", (carrier,)
    ).fetchone()
    keywords = keywords_of(alerts)
    with db.atomic():
        db.execute(
            "UPDATE outbox SET likes_seen = ?, dislikes_seen = ? WHERE id = ?",
            (likes, dislikes, carrier),
        )
        count_reactions(db, chat_id, keywords, likes=likes - seen[0], dislikes=dislikes - seen[1])
    return True


def keyword_feedback(db: Database, chat_id: int, *, since: float) -> list[KeywordFeedback]:
    """Each keyword of a chat with its alerts sent since a time and its reactions, oldest
    keyword first."""
    alerts = dict(
        db.execute(
            """SELECT value, count(*) FROM outbox, json_each(outbox.keywords)
               WHERE chat_id = ? AND kind = 'alert' AND status = 'sent' AND sent_at >= ?
               GROUP BY value""",
            (chat_id, since),
        ).fetchall()
    )
    rows = db.execute(
        "SELECT keyword, likes, dislikes FROM subscriptions WHERE chat_id = ? ORDER BY id",
        (chat_id,),
    ).fetchall()
    return [KeywordFeedback(k, alerts.get(k, 0), likes, dislikes) for k, likes, dislikes in rows]
