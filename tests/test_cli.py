"""The command line: help, a missing token explained, settings errors named, match."""

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bot
from app import telegram_app
from tests.data import easc_articles, needs_shared

ROOT = Path(__file__).resolve().parents[1]


def run(*args, env=None, stdin=""):
    return subprocess.run(
        [sys.executable, "bot.py", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.e2e  # bot.py in a subprocess
def test_help_lists_commands():
    result = run("--help")
    assert result.returncode == 0
    for word in ("--demo", "--once", "match", "run"):
        assert word in result.stdout


def test_no_token_explains_and_points_to_demo(tmp_path, monkeypatch):
    code = bot.main([], env={"DATABASE_PATH": str(tmp_path / "x.db")})
    assert code == 2


def test_no_token_message(capsys):
    assert bot.run_bot(bot.load_settings({})) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN" in err
    assert "python bot.py --demo" in err


def test_bad_setting_is_reported_by_name(capsys):
    assert bot.main([], env={"POLL_INTERVAL_SECONDS": "often"}) == 2
    assert "POLL_INTERVAL_SECONDS" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("base", "files"),
    [
        ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
        ("http://127.0.0.1:9000/bot/", "http://127.0.0.1:9000/file/bot"),
    ],
)
def test_file_base_url(base, files):
    assert telegram_app.file_base_url(base) == files


def test_match_reads_lines_and_prints_matched_words():
    out = io.StringIO()
    lines = [
        "زار الوزير وبالمغرب التقى نظيره\n",
        "مقال عن التغريب الثقافي\n",
        "وصل الوفد للرباط أمس\n",
    ]
    assert bot.run_match("المغرب", lines, out) == 0
    assert out.getvalue().splitlines() == ["1\tوبالمغرب", "0", "0"]


def test_match_says_which_other_form_matched():
    out = io.StringIO()
    lines = ["اجتمع الوزراء أمس\n", "قال الوزير\n", "قال ترمب\n"]
    assert bot.run_match("وزير|ترامب", lines, out) == 0
    assert out.getvalue().splitlines() == [
        "1\tالوزراء\tوزراء ← وزير",
        "1\tالوزير",
        "1\tترمب\tترمب ← ترامب",
    ]


@pytest.mark.e2e  # bot.py in a subprocess
def test_match_cli_end_to_end():
    result = run("match", "الرباط", stdin="وصل الوفد للرباط أمس\nلا شيء هنا\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["1\tللرباط", "0"]


@pytest.mark.e2e  # bot.py in a subprocess
def test_match_refuses_a_stop_word():
    result = run("match", "في", stdin="في البيت\n")
    assert result.returncode == 2
    assert "stop_word" in result.stderr
    assert (
        "is too common to pick out stories" in result.stderr
    )  # the user-facing reason, in English


@pytest.mark.e2e  # bot.py in a subprocess
def test_demo_once_prints_alerts_and_exits():
    result = run("--demo", "--once")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "items already published, not alerted" in out
    assert out.count("🔔 ") >= 3
    assert "🔑 " in out
    assert "🔗 اقرأ في " in out  # the link's words, then its site, as a phone shows it
    assert re.search(r"🔗 اقرأ في [^\n]+ ⟨[a-z0-9.-]+⟩\n", out)
    assert "https://" not in out  # no raw URL, in the console either
    assert "Done:" in out


@needs_shared
@pytest.mark.e2e  # bot.py in a subprocess
def test_summarize_a_file_with_a_budget():
    article = easc_articles()[0]
    result = run("summarize", str(article), "--words", "20")
    assert result.returncode == 0, result.stderr
    sentences = result.stdout.splitlines()
    assert sentences[0].startswith("لودفيج فان بيتهوفن")
    assert 20 <= sum(len(s.split()) for s in sentences) <= 30
    assert all(
        s in article.read_text(encoding="utf-8-sig").replace("\n", " ") or s.endswith("…")
        for s in sentences
    )


@pytest.mark.e2e  # bot.py in a subprocess
def test_summarize_stdin_placeholder_has_no_summary():
    result = run("summarize", stdin="التفاصيل بعد قليل..\n")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "no summary" in result.stderr


@pytest.mark.e2e  # bot.py in a subprocess
def test_an_unreachable_bot_api_is_explained_without_the_token(tmp_path):
    env = {
        "TELEGRAM_BOT_TOKEN": "123456:ABCdefGhIJKlmnoPQRstuVWxyz0123456789",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
        "WEB_PORT": "0",
        "DATABASE_PATH": str(tmp_path / "rasd.db"),
        "PARSE_WORKERS": "0",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "bot.py"], cwd=ROOT, env=env, text=True, capture_output=True, timeout=60
    )
    assert result.returncode == 2
    assert "cannot reach the Bot API at http://127.0.0.1:9/bot" in result.stderr
    assert "Traceback" not in result.stderr
    assert "ABCdefGh" not in result.stderr + result.stdout
