"""Feed bodies made into articles off the event loop: a picklable function, and the pool that
runs it (a process pool spreads parsing over the cores; threads when there is none)."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from core.articles import ARTICLE_MAX_CHARS, TITLE_MAX_CHARS, prepare_article
from core.fulltext import is_teaser
from core.models import Article
from core.titles import learn_affixes
from feeds.fetch import FetchResult
from feeds.parse import parse_feed

log = logging.getLogger(__name__)

# Parse workers run this much nicer than the event loop: on a busy machine the loop (storing,
# matching, answering users) is the serial part, and losing the CPU to a worker stalls it.
PARSE_WORKER_NICENESS = 10


def parse_pool(workers: int) -> ProcessPoolExecutor:
    """The process pool that parses feeds: forkserver (forking a process with running threads is
    unsafe), its workers at a lower priority than the event loop, each ending with the bot."""
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )


def _start_worker(bot_pid: int) -> None:
    """Make the calling worker nicer by PARSE_WORKER_NICENESS, and end it when the bot ends."""
    try:
        os.nice(PARSE_WORKER_NICENESS)
    except OSError:
        log.warning("could not lower the parse worker's priority")
    threading.Thread(target=_exit_with, args=(bot_pid,), name="exit-with-bot", daemon=True).start()


def _exit_with(bot_pid: int) -> None:
    """Exit as soon as the bot's process has ended, however it ended.

    A worker waits on a queue whose write end it holds itself, and keeps the forkserver and the
    resource tracker alive: after a SIGKILL of the bot nothing else would ever end them.
    """
    try:
        watched = os.pidfd_open(bot_pid)
    except OSError:  # the bot is gone already (or pidfds are not supported: poll instead)
        while _alive(bot_pid):
            time.sleep(1.0)
    else:
        select.select([watched], [], [])  # readable once the process has exited
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Prepared:
    """A parsed feed with its items made into articles (computed off the event loop).

    Only what the parent needs crosses the process boundary: not the raw items.
    """

    title: str = ""
    link: str | None = None  # the feed's own <link>: its site (core.keyword_ways)
    error: str | None = None
    ttl_minutes: int | None = None
    item_count: int = 0
    articles: list[Article] = field(default_factory=list)
    cpu_seconds: float = 0.0  # CPU time the parse took, in whichever process ran it
    teaser: bool = False  # its items are teasers: their pages tell the story (core.fulltext)


def parse_and_prepare(
    body: bytes,
    headers: dict[str, str],
    url: str,
    charset: str | None,
    site_name: str,
    max_text_chars: int = ARTICLE_MAX_CHARS,
    max_title_chars: int = TITLE_MAX_CHARS,
) -> Prepared:
    """Parse a body and prepare every item; top-level and picklable so a process pool can run it.

    Each item's title and text are capped here, in the worker, before anything stores, matches
    or summarises them (core.articles.prepare_article).
    """
    started = time.process_time()
    parsed = parse_feed(body, headers, url, charset_override=charset)
    if parsed.error:
        return Prepared(error=parsed.error, cpu_seconds=time.process_time() - started)
    name = site_name or parsed.title
    affixes = learn_affixes([item.title for item in parsed.items], name)
    articles = [
        prepare_article(
            item,
            site_name=name,
            max_text_chars=max_text_chars,
            max_title_chars=max_title_chars,
            title_affixes=affixes,
        )
        for item in parsed.items
    ]
    teaser = is_teaser(
        [len(article.text.split()) for article in articles],
        [item.html for item in parsed.items],
    )
    return Prepared(
        title=parsed.title,
        link=parsed.link,
        ttl_minutes=parsed.ttl_minutes,
        item_count=len(parsed.items),
        articles=articles,
        cpu_seconds=time.process_time() - started,
        teaser=teaser,
    )


class Preparer:
    """Runs parse_and_prepare in the parse pool, with this bot's caps; when a worker dies it goes
    on in threads."""

    def __init__(
        self,
        executor: Executor | None = None,
        *,
        max_text_chars: int = ARTICLE_MAX_CHARS,
        max_title_chars: int = TITLE_MAX_CHARS,
    ) -> None:
        self.executor = executor
        self.max_text_chars = max_text_chars
        self.max_title_chars = max_title_chars

    async def prepare(
        self, result: FetchResult, feed_charset: str | None, site_name: str
    ) -> Prepared:
        """The fetched body as a parsed feed of articles (or its error)."""
        loop = asyncio.get_running_loop()
        args = (
            result.body or b"",
            result.headers,
            result.final_url or result.url,
            feed_charset,
            site_name,
            self.max_text_chars,
            self.max_title_chars,
        )
        try:
            return await loop.run_in_executor(self.executor, parse_and_prepare, *args)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): parse in threads from now on.
            log.error("the parse process pool broke; parsing in threads from now on")
            self.executor = None
            return await loop.run_in_executor(None, parse_and_prepare, *args)
