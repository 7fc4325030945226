"""Reactions on alerts: the words a 👎 offers, keyword edits, counts, and topics in storage."""

from __future__ import annotations

import pytest

from core.dispatch import topic_of
from core.feedback import salient_words, shown_word, with_exclusion, without_exclusion
from core.models import OutboxRow
from core.query import parse_query, parse_stored
from delivery.sender import same_topic
from storage import articles, chats, feedback, feeds, outbox
from tests.support import article


def test_shown_words_drop_marks_and_a_particle_before_the_article():
    assert shown_word("وبالجيشِ") == "الجيش"
    assert shown_word("للمغرب") == "المغرب"
    assert shown_word("والي") == "والي"  # too short once the particle is off: kept whole
    assert shown_word("نهائي") == "نهائي"


def test_salient_words_put_the_story_s_nouns_first_and_never_the_keyword():
    title = "الرباط تستضيف نهائي كأس أفريقيا"
    text = "تستضيف الرباط نهائي كأس أفريقيا. ويحضر النهائي آلاف المشجعين."
    words = salient_words(title, text, parse_stored("الرباط"))
    assert words[:2] == ["نهائي", "أفريقيا"]  # نهائي: three times, once with the article
    every = salient_words(title, text, parse_stored("الرباط"), limit=5)
    assert set(every[2:]) == {"تستضيف", "كأس"}  # never written with the article: after nouns


def test_salient_words_skip_function_and_very_common_words_and_stay_put_once_excluded():
    title = "الرئيس يزور المغرب في زيارة إلى الجيش"
    plain = salient_words(title, "زيارة الجيش", parse_stored("المغرب"))
    assert "الرئيس" not in plain
    assert "في" not in plain
    assert "إلى" not in plain
    assert plain[:2] == ["زيارة", "الجيش"] or plain[:2] == ["الجيش", "زيارة"]
    excluded = salient_words(title, "زيارة الجيش", parse_stored("المغرب -الجيش"))
    assert excluded == plain  # buttons name words by their place: it must not shift


def test_an_exclusion_is_added_and_taken_back_as_typed():
    raw = with_exclusion("المغرب|تونس -كرة القدم", "الجيش")
    assert raw == "المغرب|تونس -كرة القدم -الجيش"
    query = parse_query(raw)
    assert [str(t) for t in query.exclusions] == ["الجيش", "كره القدم"]  # normalized
    assert without_exclusion(raw, "الجيش") == "المغرب|تونس -كرة القدم"
    assert without_exclusion("المغرب", "الجيش") == "المغرب"


def _sent_alert(db, chat_id, message_id, keywords, story):
    feed_id = feeds.add_feed(db, f"https://site/{story}", title="Site", interval_seconds=300, now=1)
    _, article_id = articles.store_article(db, feed_id, article(), now=2)
    outbox.queue_alert(db, chat_id, story_id=story, article_id=article_id, keywords=keywords, now=2)
    (row,) = outbox.claim(db, [head.row_id for head in outbox.due_heads(db, 3)], 3)
    outbox.mark_sent(db, row.id, message_id=message_id, now=3)
    return row


def test_reactions_find_their_alert_count_per_keyword_and_ask_once(db):
    chats.touch_chat(db, 1, type="private", title="", language="ar", now=1)
    chats.add_subscription(db, 1, "المغرب", "المغرب", now=1)
    chats.add_subscription(db, 1, "تونس", "تونس", now=1)
    row = _sent_alert(db, 1, 40, ["المغرب", "تونس"], story=7)
    assert feedback.alerts_on_message(db, 1, 41) == []
    assert feedback.alerts_on_message(db, 2, 40) == []  # another chat's message 40
    (found,) = feedback.alerts_on_message(db, 1, 40)
    assert found.row_id == row.id
    assert found.keywords == ("المغرب", "تونس")
    assert feedback.sent_alert(db, 2, row.id) is None

    feedback.count_reactions(db, 1, ["المغرب", "تونس"], likes=1, dislikes=0)
    feedback.count_reactions(db, 1, ["تونس"], likes=-1, dislikes=1)
    feedback.count_reactions(db, 1, ["تونس"], likes=-1, dislikes=0)  # never below zero
    stats = feedback.keyword_feedback(db, 1, since=0)
    assert [(s.keyword, s.alerts, s.likes, s.dislikes) for s in stats] == [
        ("المغرب", 1, 1, 0),
        ("تونس", 1, 0, 1),
    ]
    assert feedback.keyword_feedback(db, 1, since=10)[0].alerts == 0
    assert feedback.ask_once(db, row.id)
    assert not feedback.ask_once(db, row.id)


def test_a_channel_s_totals_count_only_what_changed(db):
    chats.touch_chat(db, -100, type="channel", title="", language="ar", now=1)
    chats.add_subscription(db, -100, "المغرب", "المغرب", now=1)
    _sent_alert(db, -100, 9, ["المغرب"], story=7)
    assert not feedback.count_totals(db, -100, 10, likes=5, dislikes=0)  # not an alert
    assert feedback.count_totals(db, -100, 9, likes=3, dislikes=1)
    assert feedback.count_totals(db, -100, 9, likes=2, dislikes=1)  # one 👍 taken back
    assert feedback.count_totals(db, -100, 9, likes=2, dislikes=1)  # told again: no change
    (row,) = feedback.keyword_feedback(db, -100, since=0)
    assert (row.likes, row.dislikes) == (2, 1)


def test_a_keyword_is_edited_in_place_and_refuses_a_duplicate(db):
    chats.touch_chat(db, 1, type="private", title="", language="ar", now=1)
    sub_id = chats.add_subscription(db, 1, "المغرب", "المغرب", now=1)
    chats.add_subscription(db, 1, "تونس", "تونس", now=1)
    row = _sent_alert(db, 1, 40, ["تونس", "المغرب"], story=7)
    changed = chats.set_keyword(db, 1, sub_id, "المغرب -كرة", "المغرب -كرة")
    (renamed,) = feedback.alerts_on_message(db, 1, 40)
    assert renamed.row_id == row.id
    assert renamed.keywords == ("تونس", "المغرب -كرة")  # the alert names the keyword anew
    assert changed is not None
    assert changed.id == sub_id
    assert changed.keyword == "المغرب -كرة"
    with pytest.raises(chats.KeywordExists):
        chats.set_keyword(db, 1, sub_id, "تونس", "تونس")
    assert chats.set_keyword(db, 2, sub_id, "x", "x") is None


def _alert(row_id, keywords):
    return OutboxRow(row_id, 1, "alert", 1, None, tuple(keywords), 0)


def test_an_alert_goes_to_the_topic_of_its_first_keyword_and_a_gone_topic_is_left(db):
    chats.touch_chat(db, 1, type="supergroup", title="", language="ar", now=1)
    chats.add_subscription(db, 1, "الرباط", "الرباط", now=1, thread_id=5, topic="المغرب")
    chats.add_subscription(db, 1, "تونس", "تونس", now=1, thread_id=9)
    chats.add_subscription(db, 1, "ليبيا", "ليبيا", now=1)
    threads = chats.keyword_threads(db, 1)
    assert threads == {"الرباط": 5, "تونس": 9}
    assert chats.keyword_threads_of(db, [1, 2]) == {1: threads}  # chat 2: no topics
    assert topic_of(_alert(1, ["ليبيا", "تونس", "الرباط"]), threads) == 9
    assert topic_of(_alert(1, ["ليبيا"]), threads) is None
    assert chats.topic_name(db, 1, 5) == "المغرب"
    assert chats.topic_name(db, 1, 9) is None
    (left,) = chats.leave_topic(db, 1, 5)
    assert left.keyword == "الرباط"
    assert left.topic == "المغرب"
    assert chats.keyword_threads(db, 1) == {"تونس": 9}
    assert chats.leave_topic(db, 1, 5) == []  # told once


def test_a_digest_in_a_forum_carries_only_its_topic_s_stories(db):
    chats.touch_chat(db, 1, type="supergroup", title="", language="ar", now=1)
    chats.add_subscription(db, 1, "الرباط", "الرباط", now=1, thread_id=5)
    for story, keyword in ((1, "الرباط"), (2, "تونس"), (3, "الرباط")):
        feed_id = feeds.add_feed(db, f"https://s/{story}", title="S", interval_seconds=300, now=1)
        _, article_id = articles.store_article(db, feed_id, article(), now=2)
        outbox.queue_alert(db, 1, story_id=story, article_id=article_id, keywords=[keyword], now=2)
    head, *others = outbox.claim(db, [1, 2, 3], now=3)
    kept = same_topic(db, head, chats.keyword_threads(db, 1), others)
    assert [r.keywords for r in kept] == [("الرباط",)]
    assert outbox.status_counts(db) == {"sending": 2, "pending": 1}  # تونس's story put back
