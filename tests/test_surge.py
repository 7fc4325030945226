"""The surge rule (core.surge), each keyword's stories per hour as intake counts them, their
pruning, and the notice within Telegram's limits whatever the titles."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.i18n import load_catalog
from core.models import Subscription
from core.query import parse_stored
from core.render import MAX_MESSAGE_CHARS, message_length
from core.settings import load_settings
from core.subscriptions import SubscriptionBook
from core.surge import (
    HOUR,
    RULE,
    SurgeRule,
    hour_of,
    needed,
    shown_usual,
    spaced_since,
    story_time,
    surge,
    usual,
    usual_hours,
    usual_of,
)
from intake.store import Intake
from service.base import Backend
from service.surges import surge_text, top_stories
from storage import keyword_hours, maintenance
from tests.offline import TOKEN
from tests.support import add_article, add_feed, story

NOW = 1_795_000_000.0
H = hour_of(NOW)


@pytest.mark.parametrize(
    ("case", "stories", "usual_count", "rule", "expected"),
    [
        ("the chosen rule: 4 times the usual, 5 stories at least", 5, 1.0, RULE, True),
        ("below the floor, however quiet the keyword", 4, 0.0, RULE, False),
        ("a quiet keyword's usual counts as one an hour", 5, 0.1, RULE, True),
        ("a busy keyword needs 4 times its usual", 11, 3.0, RULE, False),
        ("... and has it", 12, 3.0, RULE, True),
        ("no usual yet (too little history): never", 50, None, RULE, False),
        ("the issue's 3x rule would take 9 at a usual of 3", 9, 3.0, SurgeRule(3, 5), True),
    ],
)
def test_the_rule(case, stories, usual_count, rule, expected):
    found = surge(stories, usual_count, rule)
    assert (found is not None) is expected, case
    if found is not None:
        assert (found.stories, found.usual) == (stories, usual_count)


def test_what_the_rule_needs():
    assert needed(0.0) == 5.0
    assert needed(2.0) == 8.0
    assert needed(2.0, SurgeRule(ratio=2, floor=3)) == 4.0


def test_the_usual_is_the_mean_of_the_hours_zeros_included_or_their_median():
    assert usual([0, 0, 0, 4]) == 1.0
    assert usual([0, 0, 0, 4], SurgeRule(median=True)) == 0.0
    assert usual([]) == 0.0
    assert usual_of({10: 3, 12: 3}, range(10, 16)) == 1.0


def test_the_usual_is_the_week_before_the_last_hour_once_a_day_is_known():
    end = hour_of(NOW - HOUR)
    assert usual_hours(NOW, None) is None  # never counted
    assert usual_hours(NOW, end - 23) is None  # less than a day
    assert usual_hours(NOW, end - 30) == range(end - 30, end)
    assert usual_hours(NOW, end - 500) == range(end - 168, end)


def test_a_story_counts_when_published_unless_its_date_cannot_be_trusted():
    assert story_time(NOW - 600, NOW) == NOW - 600
    assert story_time(None, NOW) == NOW
    assert story_time(NOW + 600, NOW) == NOW  # in the future
    assert story_time(NOW - 3 * 86_400, NOW) == NOW  # days old: a feed catching up


def test_spacing_and_the_usual_as_shown():
    assert spaced_since(NOW) == NOW - 6 * HOUR
    assert [shown_usual(u) for u in (0.2, 0.5, 1.4, 2.6)] == [0, 1, 1, 3]


def book_of(*keywords: str) -> SubscriptionBook:
    book = SubscriptionBook()
    for number, keyword in enumerate(keywords, 1):
        book.add(Subscription(number, 100 + number, keyword, keyword), parse_stored(keyword))
    return book


def test_intake_counts_each_new_story_once_per_matching_keyword(db):
    book = book_of("الذهب", "ذهب", "النفط", "المغرب")  # two keywords of the same key
    intake = Intake(db, book)
    feed_id = add_feed(db)
    gold = story(1, "سعر الذهب والنفط اليوم", "ارتفع الذهب والنفط في الأسواق.", NOW - 1200)
    again = replace(story(2, "الذهب والنفط", "الذهب والنفط.", NOW - 600), url=gold.url)
    late = story(3, "الذهب في المغرب", "تراجع الذهب في أسواق المغرب.", NOW - 5 * 86_400)
    intake.store(feed_id, [gold, again, late], NOW, alert=True)
    key = parse_stored("الذهب").key
    assert keyword_hours.hours_of(db, key, 0, H + 1) == {hour_of(NOW - 1200): 1, H: 1}
    oil = parse_stored("النفط").key
    assert keyword_hours.hours_of(db, oil, 0, H + 1) == {hour_of(NOW - 1200): 1}
    morocco = parse_stored("المغرب").key
    assert keyword_hours.hours_of(db, morocco, 0, H + 1) == {H: 1}  # days old: counted now
    intake.store(feed_id, [story(4, "الذهب", "الذهب يلمع.", NOW)], NOW, alert=False)
    assert keyword_hours.hours_of(db, key, H, H + 1) == {H: 1}  # a feed's baseline: not news


def test_hours_and_surge_notices_older_than_fifteen_days_are_pruned(db):
    keyword_hours.count_story(db, ["a", "b"], H - 15 * 24 - 1)
    keyword_hours.count_story(db, ["a"], H - 15 * 24)
    feed_id = add_feed(db)
    add_article(db, feed_id, 1)
    db.execute("INSERT INTO chats (id, created_at, updated_at) VALUES (7, 0, 0)")
    db.execute(
        "INSERT INTO subscriptions (chat_id, keyword, key, created_at) VALUES (7, 'a', 'a', 0)"
    )
    keyword_hours.record_surge(db, 1, NOW - 16 * 86_400, 9, 1.0)
    keyword_hours.record_surge(db, 1, NOW - 86_400, 9, 1.0)
    report = maintenance.prune(db, now=NOW)
    assert report.keyword_hours == 2
    assert keyword_hours.hours_of(db, "a", 0, H) == {H - 15 * 24: 1}
    assert keyword_hours.surges_of(db, 1) == [(NOW - 86_400, 9, 1.0)]


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_notice_fits_telegram_whatever_the_titles_and_sources(db, tmp_path, language):
    feeds = [add_feed(db, f"https://n{i}.example.org/feed") for i in range(6)]
    for feed_id in feeds:
        db.execute("UPDATE feeds SET title = ? WHERE id = ?", ("مصدر " * 200, feed_id))
    first = add_article(db, feeds[0], 1, url="https://n.example.org/" + "x" * 3000)
    for number, feed_id in enumerate(feeds[1:], 2):
        add_article(db, feed_id, number, story_id=first)
    db.execute("UPDATE articles SET title = ?", ("عنوان طويل جداً " * 500,))
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_PATH": str(tmp_path / "x")})
    backend = Backend(db, SubscriptionBook(), settings, lambda: NOW)
    top = top_stories(backend, [first])
    assert len(top[0][1]) == 6
    found = surge(9, 0.4)
    assert found is not None
    text = surge_text(backend, load_catalog(), language, "كلمة " * 300, found, top * 3)
    assert message_length(text) <= MAX_MESSAGE_CHARS
    assert text.startswith("📈")
