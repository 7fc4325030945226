"""core.safety: what may be shown, stored and linked to."""

from __future__ import annotations

import logging

import pytest

from app.logs import Redactor
from core.safety import (
    has_credentials,
    has_hidden,
    private_host,
    redact,
    safe_error,
    visible,
    without_credentials,
)

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.mark.parametrize(
    "hidden",
    [
        "\u202e",
        "\u202d",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c",
        "\u200b",
        "\u2060",
        "\ufeff",
        "\x00",
        "\x1b",
        "\u00ad",
    ],
)
def test_bidi_controls_and_invisible_characters_are_removed(hidden):
    text = f"المغرب{hidden}txt.exe"
    assert visible(text) == "المغربtxt.exe"
    assert has_hidden(text)


def test_text_joiners_emoji_and_lines_are_kept():
    text = "می\u200cخواهم 👨\u200d👩\u200d👧 🏴\U000e0067\U000e0062\U000e007f\nسطر\tثان"
    assert visible(text) == text
    assert not has_hidden(text)


def test_the_token_and_url_passwords_are_masked():
    text = f"POST https://api.telegram.org/bot{TOKEN}/sendMessage via http://u:pw@proxy:8080/"
    masked = redact(text)
    assert TOKEN.split(":")[1] not in masked
    assert "pw" not in masked.replace("proxy", "")
    assert "http://***@proxy:8080/" in masked
    assert redact("token secret-without-shape", "secret-without-shape") == "token <token>"


def test_safe_error_is_one_short_line():
    error = safe_error(f"line one\n\u202eline two {TOKEN} " + "x" * 1000)
    assert error is not None
    assert "\n" not in error
    assert "\u202e" not in error
    assert len(error) == 300
    assert error.endswith("…")
    assert safe_error(None) is None


def test_the_log_redactor_masks_url_passwords_too(caplog):
    record = logging.LogRecord("x", logging.INFO, "", 0, "fetch %s", ("https://a:b@h/f",), None)
    Redactor(TOKEN).filter(record)
    assert record.getMessage() == "fetch https://***@h/f"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pass@example.org/rss", "https://***@example.org/rss"),
        ("https://user@example.org:8443/rss?a=1", "https://***@example.org:8443/rss?a=1"),
        ("https://example.org/a@b", "https://example.org/a@b"),
    ],
)
def test_credentials_in_feed_urls(url, shown):
    assert without_credentials(url) == shown
    assert has_credentials(url) == (shown != url)


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("192.168.1.1", "private"),
        ("10.0.0.5", "private"),
        ("127.0.0.1", "loopback"),
        ("2130706433", "loopback"),  # 127.0.0.1 as one decimal number
        ("0x7f000001", "loopback"),
        ("0177.0.0.1", "loopback"),  # octal
        ("127.1", "loopback"),
        ("[::1]", "loopback"),
        ("[::ffff:192.168.0.1]", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("localhost", "local name"),
        ("printer.local", "local name"),
        ("router", "local name"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("0.0.0.0", "unspecified"),
    ],
)
def test_private_hosts_are_named(host, why):
    assert private_host(host) == why


@pytest.mark.parametrize(
    "host", ["news.example.org", "8.8.8.8", "[2606:4700::1111]", "aljazeera.net."]
)
def test_public_hosts_pass(host):
    assert private_host(host) is None
