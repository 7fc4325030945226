"""Settings: defaults, validation messages that name the setting, and the token kept secret."""

import os
from pathlib import Path

import pytest
from dotenv import dotenv_values

import bot
from core.settings import DEFAULT_API_BASE_URL, SettingsError, load_settings

TOKEN = "123456:ABCdefGhIJKlmnoPQRstuVWxyz0123456789"


def test_defaults():
    settings = load_settings({})
    assert settings.telegram_bot_token == ""
    assert not settings.has_token
    assert settings.telegram_api_base_url == DEFAULT_API_BASE_URL
    assert settings.admin_ids == frozenset()
    assert settings.database_path == Path("data/rasd.db")
    assert settings.poll_interval_seconds == 300
    assert settings.allow_private_feed_urls is False


def test_full_environment():
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "ADMIN_IDS": "12, 34,,56",
            "DATABASE_PATH": "/tmp/x.db",
            "POLL_INTERVAL_SECONDS": "1",
            "ALLOW_PRIVATE_FEED_URLS": "true",
            "MAX_KEYWORDS_PER_CHAT": "3",
        }
    )
    assert settings.has_token
    assert settings.admin_ids == {12, 34, 56}
    assert settings.database_path == Path("/tmp/x.db")
    assert settings.poll_interval_seconds == 1.0
    assert settings.allow_private_feed_urls is True
    assert settings.max_keywords_per_chat == 3


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
        ({"POLL_INTERVAL_SECONDS": "soon"}, "POLL_INTERVAL_SECONDS"),
        ({"POLL_INTERVAL_SECONDS": "0"}, "POLL_INTERVAL_SECONDS"),
        ({"ALLOW_PRIVATE_FEED_URLS": "maybe"}, "ALLOW_PRIVATE_FEED_URLS"),
        ({"TELEGRAM_API_BASE_URL": "ftp://x"}, "TELEGRAM_API_BASE_URL"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_setting_is_named(env, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


def test_malformed_token_is_not_echoed():
    secret = "123456:short-secret"
    with pytest.raises(SettingsError) as raised:
        load_settings({"TELEGRAM_BOT_TOKEN": secret})
    assert "short-secret" not in str(raised.value)


def test_repr_hides_token():
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert TOKEN not in repr(settings)
    assert "***" in repr(settings)


def test_dotenv_file_with_comments_quotes_and_export(tmp_path):
    (tmp_path / ".env").write_text(
        "# comment\nexport A=1\nB=\"two words\"\nC='x'\nADMIN_IDS=123 # me\n\nbroken line\n",
        encoding="utf-8",
    )
    values = bot.environment(tmp_path)
    assert {k: values[k] for k in "ABC"} == {"A": "1", "B": "two words", "C": "x"}
    assert values["ADMIN_IDS"] == "123"  # an inline comment is a comment, not part of the value
    assert load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, **values}).admin_ids == {123}


def test_no_dotenv_file_is_just_the_environment(tmp_path):
    assert bot.environment(tmp_path) == dict(os.environ)


def test_web_and_webhook_settings():
    settings = load_settings(
        {
            "SHORTLINK_BASE_URL": "https://r.example.org",
            "WEB_HOST": "0.0.0.0",
            "WEB_PORT": "9090",
            "WEBHOOK_URL": "https://bot.example.org/telegram/rasd",
            "WEBHOOK_SECRET": "s3cret_s3cret_s3cret",
            "RETENTION_DAYS": "14",
        }
    )
    assert settings.shortlink_base_url == "https://r.example.org/"
    assert (settings.web_host, settings.web_port) == ("0.0.0.0", 9090)
    assert settings.webhook_url == "https://bot.example.org/telegram/rasd"
    assert settings.retention_days == 14
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SHORTLINK_BASE_URL": "r.example.org"}, "SHORTLINK_BASE_URL"),
        ({"WEB_PORT": "70000"}, "WEB_PORT"),
        ({"WEBHOOK_URL": "http://bot.example.org/hook", "WEBHOOK_SECRET": "x" * 20}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "https://bot.example.org/hook"}, "WEBHOOK_SECRET"),
        ({"DEFAULT_TIMEZONE": "Mars/Olympus"}, "DEFAULT_TIMEZONE"),
    ],
)
def test_bad_web_settings_are_named(env, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


def test_env_example_loads_and_every_setting_is_documented():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    example = {k: v or "" for k, v in dotenv_values(root / ".env.example").items()}
    load_settings(example)  # a copied .env.example is a valid configuration
    readme = (root / "README.md").read_text(encoding="utf-8")
    source = (root / "core" / "settings.py").read_text(encoding="utf-8")
    read_names = set(re.findall(r'"([A-Z][A-Z_]+[A-Z])"', source)) - {
        "INFO",
        "DEBUG",
        "WARNING",
        "UTC",
        "ERROR",
    }
    assert read_names
    for name in read_names:
        assert name in example, f"{name} missing from .env.example"
        assert f"`{name}`" in readme, f"{name} missing from the README settings table"
