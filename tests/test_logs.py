"""Logs: one line per event with its fields; the bot token never appears, even in tracebacks."""

import io
import logging

import pytest

from app.logs import EventFormatter, Redactor

TOKEN = "123456789:AAHfakeTokenForTestsOnly_abcdefghijklmn"


@pytest.fixture
def capture():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(Redactor(TOKEN))
    handler.setFormatter(EventFormatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.removeHandler(handler)


def test_token_in_message_args_and_fields_is_redacted(capture):
    logger, stream = capture
    logger.info(
        "POST https://api.telegram.org/bot%s/getUpdates",
        TOKEN,
        extra={"url": f"https://api.telegram.org/bot{TOKEN}/x", "chat_id": 5},
    )
    line = stream.getvalue()
    assert TOKEN not in line
    assert "bot<token>/getUpdates" in line
    assert "chat_id=5" in line


def test_token_in_traceback_is_redacted(capture):
    logger, stream = capture
    try:
        raise ConnectionError(f"failed to reach https://api.telegram.org/bot{TOKEN}/sendMessage")
    except ConnectionError:
        logger.exception("send failed", extra={"feed_url": "https://site/feed"})
    output = stream.getvalue()
    assert TOKEN not in output
    assert "ConnectionError" in output
    assert "feed_url=https://site/feed" in output.splitlines()[0]


def test_token_shaped_strings_are_redacted_without_knowing_the_token():
    other = "987654321:BBHanotherTokenThatWeDoNotKnow_0123456789"
    record = logging.LogRecord("x", logging.INFO, "", 0, "token %s", (other,), None)
    Redactor("").filter(record)
    assert other not in record.getMessage()
