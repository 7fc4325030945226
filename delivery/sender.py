"""The outbox sender: claims owed rows, decides, composes and sends them within Telegram's limits.

Telegram's limits (README, "Delivery"): at most `overall_per_second` messages in any one-second
window, one message per `private_gap` seconds to a private chat and per `group_gap` seconds to a
group or channel (20 a minute). Fairness: each round takes at most one row per chat, and the chats
served least recently go first, so a chat with 500 alerts waiting never delays another chat's
first alert. A 429 pauses that chat (and, when several chats get one at once, everyone) for
`retry_after`, and the row is retried, never dropped. The overall limit is a SendBudget
(delivery/ratelimit.py), shared in the running bot with replies, which go first.

Each row goes through three rooms: core.dispatch decides (drop, hold, send or fold),
delivery.compose writes the text, delivery.transport sends it and settles the row. What they
need is read once a round (delivery.batch) and handed down. The parts are built by
app.bootstrap (build_sender) and handed in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.delivery_time import INSTANT
from core.dispatch import AlertLoad, Decision, decide, goes_now, pace_of_row, topic_of
from core.models import Chat, OutboxRow, Subscription
from delivery.batch import Batch, big_outlets, read_batch
from delivery.compose import Composer
from delivery.ratelimit import SendBudget
from delivery.refused import RefusedWrites
from delivery.transport import Outgoing, Transport
from storage import articles as article_store
from storage import outbox
from storage.articles import StoredArticle
from storage.db import Database, is_refused_write

log = logging.getLogger(__name__)

# A stopping sender lets the messages in flight finish this long, then leaves the rest claimed:
# the next start puts them back in the queue (only one whose request Telegram got but had not
# answered by then can reach its chat twice).
STOP_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class SendPolicy:
    """Our volume rules, as the sender applies them."""

    alerts_per_hour: int = 20  # beyond it, waiting alerts fold into one message
    digest_max_items: int = 20
    default_timezone: str = "UTC"
    batch: int = 30  # rows claimed per round


class Sender:
    """Sends what the outbox owes, fairly and within limits, until stopped."""

    def __init__(
        self,
        db: Database,
        composer: Composer,
        transport: Transport,
        refused: RefusedWrites,
        budget: SendBudget,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        policy: SendPolicy = SendPolicy(),
    ) -> None:
        """`budget`: the one every message spends (the bot's rate limiter or a PacedBot waits
        for its slots), read here for the chats it holds back. `refused` owes what the
        database refused to write: while it refuses, nothing new is claimed; what was sent is
        marked sent and what was claimed but not sent is put back once it takes writes again."""
        self.db = db
        self.composer = composer
        self.transport = transport
        self.refused = refused
        self.budget = budget
        self.clock = clock
        self.sleep = sleep
        self.policy = policy
        self.last_served: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._in_flight: set[asyncio.Task] = set()
        self._one_settled = asyncio.Event()
        self._busy: set[int] = set()  # chats with a claimed row not yet settled

    def wake(self) -> None:
        """New rows were queued: look now instead of at the next timer."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the messages in flight and return from run()."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Send until stopped; rows claimed by a process that died are owed again first."""
        self.refused.attempt(lambda: outbox.reset_in_flight(self.db))
        try:
            while not self._stopping:
                if self.refused.refusing:
                    await self._recover()
                elif not await self._round():
                    await self._idle()
        finally:
            await settle(self._in_flight, STOP_GRACE_SECONDS if self._stopping else None)
            if self.refused.refusing:
                self.refused.retry()  # else a restart sends again what was in flight

    async def _round(self) -> bool:
        try:
            return await self.send_due()
        except Exception as error:
            if not is_refused_write(error):
                raise
            self.refused.refused(error)
            return True

    async def _recover(self) -> None:
        """Once the sends in flight are settled and a backoff has passed: make the writes the
        database refused, and put rows claimed but never sent back in the queue."""
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self._nap(self.refused.backoff())
        if not self._stopping and self.refused.retry(lambda: outbox.reset_in_flight(self.db)):
            log.info("the database takes writes again; sending resumes")

    async def _idle(self) -> None:
        now = self.clock()
        waits = [1.0]
        due = outbox.next_due_at(self.db)
        if due is not None:
            waits.append(due - now)
        waits += list(self._busy_chats().values())
        await self._nap(min(waits))

    async def _nap(self, seconds: float) -> None:
        """Sleep up to `seconds`, sooner when woken (new rows, or stop())."""
        self._wake.clear()
        woken = asyncio.ensure_future(self._wake.wait())
        timer = asyncio.ensure_future(self.sleep(max(seconds, 0.005)))
        try:
            await asyncio.wait((woken, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            timer.cancel()

    async def send_due(self) -> bool:
        """Claim one round of rows and start sending them; True if anything was claimed."""
        now = self.clock()
        waiting = self._busy_chats().keys() | self._busy
        heads = outbox.due_heads(self.db, now, skip_chats=waiting, enough=self.policy.batch)
        if not heads:
            return False
        # Stories take turns (outbox.due_heads); among equal turns, whoever waited longest.
        heads.sort(key=lambda head: (head.turn, self.last_served.get(head.chat_id, 0.0)))
        rows = outbox.claim(self.db, [head.row_id for head in heads[: self.policy.batch]], now)
        for row in rows:
            self._busy.add(row.chat_id)  # one message in flight per chat, at most
            self.last_served[row.chat_id] = now
        batch = read_batch(self.db, rows)
        for row in rows:
            task = asyncio.create_task(self._send_row(row, batch))
            self._in_flight.add(task)
            task.add_done_callback(self._settled)
        # Backpressure: claim no further than about two rounds ahead of what is sent (an event,
        # not asyncio.wait over every task in flight: that costs as many callbacks each time).
        while len(self._in_flight) > 2 * self.policy.batch:
            self._one_settled.clear()
            await self._one_settled.wait()
        return bool(rows)

    def _settled(self, task: asyncio.Task) -> None:
        self._in_flight.discard(task)
        self._one_settled.set()

    def _busy_chats(self) -> dict[int, float]:
        """Chats the budget would hold a message for now, and in how many seconds each is free
        (the budget keeps its own clock)."""
        now = self.budget.clock()
        busy = self.budget.busy_chats(now)
        return {chat: at - now for chat, at in busy.items() if isinstance(chat, int)}

    async def drain(self) -> None:
        """Send until nothing is due now (used by the demo and tests)."""
        while await self.send_due() or self._in_flight:
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _send_row(self, row: OutboxRow, batch: Batch) -> None:
        try:
            await self._process(row, batch)
        except Exception as error:  # a bug must not kill the sender; the row is kept for a retry
            if is_refused_write(error):  # the row stays claimed until the database takes writes
                self.refused.refused(error)
            else:
                log.error(
                    "sending failed unexpectedly", exc_info=error, extra={"chat_id": row.chat_id}
                )
                self.refused.attempt(
                    lambda: outbox.mark_retry(
                        self.db, row.id, not_before=self.clock() + 60, error="internal error"
                    )
                )
        finally:
            self._busy.discard(row.chat_id)
            self._wake.set()

    async def _process(self, row: OutboxRow, batch: Batch) -> None:
        """Decide what the row needs now, then drop, hold, send or fold it."""
        now = self.clock()
        chat = batch.chats.get(row.chat_id)
        broadcast = batch.broadcasts.get(row.broadcast_id) if row.broadcast_id is not None else None
        decision = decide(
            row,
            chat,
            now,
            default_timezone=self.policy.default_timezone,
            alerts_per_hour=self.policy.alerts_per_hour,
            load=self._alert_load(row, chat, now),
            broadcast_cancelled=row.kind == "broadcast"
            and (broadcast is None or broadcast.status == "cancelled"),
        )
        if decision.action == "drop":
            outbox.mark_failed(self.db, row.id, decision.reason, status=decision.status)
        elif decision.action == "hold":
            outbox.mark_retry(
                self.db, row.id, not_before=decision.until, error=None, count_attempt=False
            )
        elif chat is None:
            raise AssertionError("only a known chat is sent to")
        elif row.kind == "alert":
            await self._send_alert(row, chat, now, decision, batch)
        else:
            text = self.composer.notice(row, chat.language, broadcast)
            silent = decision.silent or bool(broadcast and broadcast.silent)
            threads = batch.threads.get(chat.id, {})  # a surge notice: its keyword's topic
            for left in await self.transport.deliver(
                Outgoing(row, text, chat, silent=silent, threads=threads)
            ):
                self._topic_gone(chat, left)

    def _alert_load(self, row: OutboxRow, chat: Chat | None, now: float) -> AlertLoad:
        """The chat's recent alerts, read only when the decision depends on them."""
        if row.kind != "alert" or chat is None or pace_of_row(row, chat) != INSTANT:
            return AlertLoad()
        sent, oldest = outbox.alert_messages_since(self.db, chat.id, now - 3600)
        near_cap = sent >= self.policy.alerts_per_hour - 1
        pending = outbox.pending_alert_count(self.db, chat.id, now) if near_cap else 1
        return AlertLoad(sent, oldest, pending)

    async def _send_alert(
        self, row: OutboxRow, chat: Chat, now: float, decision: Decision, batch: Batch
    ) -> None:
        """One alert, or (folding) a digest or the "more alerts" message with those waiting."""
        article, threads = batch.article(row), batch.threads.get(chat.id, {})
        extra: list[OutboxRow] = []
        text: str | None = None
        if decision.action == "fold":
            more = outbox.claim_more_alerts(
                self.db, chat.id, now, exclude=row.id, limit=self.policy.digest_max_items - 1
            )
            extra = self._due_by_pace(chat, now, same_topic(self.db, row, threads, more))
        if extra or decision.digest:
            text, extra = await self._digest(row, article, extra, chat, digest=decision.digest)
        elif article is not None:
            sources = batch.sources.get(article.story_id, [])
            text = await self.composer.alert(
                row, article, sources, chat.language, batch.outlets.get(row.id)
            )
        if text is None:
            outbox.mark_failed(self.db, row.id, "article no longer stored")
            outbox.release(self.db, [r.id for r in extra])
            return
        url = article.url if article is not None else None
        out = Outgoing(row, text, chat, extra, silent=decision.silent, url=url, threads=threads)
        for left in await self.transport.deliver(out):
            self._topic_gone(chat, left)

    async def _digest(
        self,
        row: OutboxRow,
        article: StoredArticle | None,
        extra: list[OutboxRow],
        chat: Chat,
        *,
        digest: bool,
    ) -> tuple[str | None, list[OutboxRow]]:
        """A digest or fold of the row and `extra`, their articles read at once: its text and
        the rows it carries besides the row (those that do not fit are put back)."""
        rows = [row, *extra]
        ids = [r.article_id for r in extra if r.article_id is not None]
        articles = article_store.articles_by_id(self.db, ids)
        if article is not None:
            articles[article.id] = article
        outlets = big_outlets(self.db, rows, articles, [chat.id])  # big stories name theirs
        built = await self.composer.digest(
            rows, articles, chat.language, digest=digest, outlets=outlets
        )
        text, carried = built if built is not None else (None, len(rows))
        outbox.release(self.db, [r.id for r in rows[carried:]])  # for the next message
        return text, rows[1:carried]

    def _due_by_pace(self, chat: Chat, now: float, others: list[OutboxRow]) -> list[OutboxRow]:
        """The alerts due now by their own pace, to fold; the others (a daily keyword's story
        claimed for an hourly digest) are put back, to wait for their own digest."""
        prefs = chat.delivery(self.policy.default_timezone)
        due: list[OutboxRow] = []
        later: list[int] = []
        for other in others:
            if goes_now(other, chat, now, prefs):
                due.append(other)
            else:
                later.append(other.id)
        outbox.release(self.db, later)
        return due

    def _topic_gone(self, chat: Chat, left: list[Subscription]) -> None:
        """Tell a group, once, that a topic's alerts now go to General."""
        text = self.composer.topic_gone(chat.language, left)
        outbox.queue_notice(self.db, chat.id, text, now=self.clock())
        self.wake()


def same_topic(
    db: Database, row: OutboxRow, threads: dict[str, int], others: list[OutboxRow]
) -> list[OutboxRow]:
    """The alerts that go to the row's forum topic (`threads`: the chat's keywords in topics);
    the others are put back for their own message (a digest in one topic never carries
    another topic's stories)."""
    if not threads:
        return others
    topic = topic_of(row, threads)
    same: list[OutboxRow] = []
    elsewhere: list[OutboxRow] = []
    for other in others:
        (same if topic_of(other, threads) == topic else elsewhere).append(other)
    outbox.release(db, [other.id for other in elsewhere])
    return same


async def settle(tasks: set[asyncio.Task], grace: float | None) -> None:
    """Let the sends in flight finish, for `grace` seconds at most (then they are cancelled
    and their rows stay claimed, to be queued again at the next start)."""
    if not tasks:
        return
    _, unsettled = await asyncio.wait(set(tasks), timeout=grace)
    for task in unsettled:
        task.cancel()
    if unsettled:
        await asyncio.gather(*unsettled, return_exceptions=True)
        log.info(
            "stopped with messages unsettled; they are queued again at the next start",
            extra={"messages": len(unsettled)},
        )
