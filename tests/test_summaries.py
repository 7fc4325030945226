"""An alert's summary is chosen once per (article, keywords), in a worker thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from core.summary import summarize
from delivery.summaries import Highlighted, SummaryCache, choose_summary, summary_key
from tests.data import easc_texts, feed_file, needs_shared
from tests.support import feed_texts

TEXT = max(feed_texts(feed_file("hespress_transcribed.xml")), key=len)  # a real item's text


class Counted:
    """A compute function that counts its calls and notes the thread it ran in."""

    def __init__(self, result: Highlighted | None = None, fail: bool = False) -> None:
        self.calls = 0
        self.threads: set[int] = set()
        self.result = result or Highlighted(("جملة.",), ((),))
        self.fail = fail

    def __call__(self) -> Highlighted:
        self.calls += 1
        self.threads.add(threading.get_ident())
        if self.fail:
            raise ValueError("broken")
        return self.result


async def test_thirty_recipients_at_once_share_one_computation_off_the_loop():
    cache = SummaryCache()
    compute = Counted()
    key = summary_key(7, "عنوان", TEXT, ("المغرب",), 50)
    results = await asyncio.gather(*(cache.get(key, compute) for _ in range(30)))
    assert all(result is compute.result for result in results)
    assert compute.calls == 1
    assert cache.computed == 1
    assert threading.get_ident() not in compute.threads
    assert await cache.get(key, compute) is compute.result  # later ones too
    assert compute.calls == 1


def test_the_key_is_the_article_its_text_the_keywords_in_any_order_and_the_budget():
    key = summary_key(7, "عنوان", TEXT, ("المغرب", "تونس"), 50)
    assert key == summary_key(7, "عنوان", TEXT, ("تونس", "المغرب"), 50)
    assert key != summary_key(8, "عنوان", TEXT, ("المغرب", "تونس"), 50)
    assert key != summary_key(7, "عنوان", TEXT + " تحديث.", ("المغرب", "تونس"), 50)
    assert key != summary_key(7, "عنوان", TEXT, ("المغرب",), 50)
    assert key != summary_key(7, "عنوان", TEXT, ("المغرب", "تونس"), 100)


async def test_the_least_recently_used_summary_goes_first():
    cache = SummaryCache(size=2)
    computes = {name: Counted() for name in "abc"}
    keys = {name: (index, 0, (), 50) for index, name in enumerate("abc")}
    for name in "abac":  # a is used again after b, so b is the one to go
        await cache.get(keys[name], computes[name])
    await cache.get(keys["a"], computes["a"])
    await cache.get(keys["b"], computes["b"])
    assert [computes[name].calls for name in "abc"] == [1, 2, 1]


async def test_a_failed_computation_is_not_remembered():
    cache = SummaryCache()
    key = (1, 0, (), 50)
    with pytest.raises(ValueError, match="broken"):
        await cache.get(key, Counted(fail=True))
    retry = Counted()
    assert await cache.get(key, retry) is retry.result
    assert cache.computed == 2


@needs_shared
def test_the_summary_prefers_and_bolds_the_keyword():
    text = easc_texts()[0]  # Beethoven: a long article
    keyword = "فيينا"  # Vienna, far from the article's first sentences
    assert not any(keyword in sentence for sentence in summarize(text, max_words=50))
    summary = choose_summary("", text, (keyword,), 50)
    assert any(keyword in sentence for sentence in summary.sentences)
    bolded = [
        sentence[start:end]
        for sentence, spans in zip(summary.sentences, summary.highlights, strict=True)
        for start, end in spans
    ]
    assert bolded
    assert all(keyword in word for word in bolded)
    skipped = choose_summary("", text, ("-", keyword), 50)  # a bad keyword is skipped
    assert (skipped.sentences, skipped.highlights) == (summary.sentences, summary.highlights)
    assert skipped.keywords == ("-", keyword)  # and still shown as it was stored
