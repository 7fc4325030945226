"""Dependencies point inward: each package imports only what the README's layer table allows."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "core": {
        "telegram",
        "sqlite_utils",
        "sqlite3",
        "httpx",
        "feedparser",
        "aiohttp",
        "storage",
        "feeds",
        "delivery",
        "intake",
        "service",
        "handlers",
        "bot",
        "app",
        "time",
    },
    "feeds": {
        "telegram",
        "sqlite_utils",
        "sqlite3",
        "storage",
        "delivery",
        "intake",
        "service",
        "handlers",
        "bot",
        "app",
    },
    "storage": {
        "telegram",
        "httpx",
        "feedparser",
        "aiohttp",
        "feeds",
        "delivery",
        "intake",
        "service",
        "handlers",
        "bot",
        "app",
    },
    # intake/: poll -> fetch -> parse -> store -> match -> queue; it never talks to Telegram.
    "intake": {"telegram", "aiohttp", "handlers", "delivery", "service", "bot", "app"},
    # delivery/: outbox -> decide -> compose -> send; it never fetches.
    "delivery": {
        "handlers",
        "feeds",
        "intake",
        "service",
        "bot",
        "app",
        "sqlite_utils",
        "sqlite3",
    },
    # handlers/ translate updates into use cases (service/) and results into messages: no SQL.
    "handlers": {
        "storage",
        "feeds",
        "delivery",
        "intake",
        "bot",
        "app",
        "sqlite_utils",
        "sqlite3",
        "httpx",
        "feedparser",
    },
    # web/ (aiohttp, prometheus_client) reads storage and core; Telegram stays behind a callable.
    "web": {
        "telegram",
        "sqlite_utils",
        "sqlite3",
        "httpx",
        "feedparser",
        "feeds",
        "delivery",
        "intake",
        "handlers",
        "bot",
        "app",
    },
    # service/ is the use cases: what users and admins can do, whatever asked (chat, Mini App, CLI).
    "service": {
        "telegram",
        "aiohttp",
        "httpx",
        "feedparser",
        "sqlite_utils",
        "sqlite3",
        "feeds",
        "intake",
        "delivery",
        "handlers",
        "web",
        "miniapp",
        "bot",
        "app",
    },
    # app/ is the composition root: it wires everything, and only bot.py (and tests) import it.
    "app": {"bot"},
}
# miniapp/ is the Mini App: HTTP in front of the use cases (service/) the chat's handlers call
# too, never the handlers themselves, Telegram's client, the fetcher or the delivery.
FORBIDDEN["miniapp"] = FORBIDDEN["web"]
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic"}


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a file imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def package_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_inward(package):
    files = package_files(package)
    assert files, f"{package}/ has no Python files"
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & FORBIDDEN[package])
        for path in files
        if imported_modules(path) & FORBIDDEN[package]
    }
    assert wrong == {}


def test_only_storage_imports_sqlite_utils():
    importers = {
        str(path.relative_to(ROOT))
        for top in ROOT.iterdir()
        if not top.name.startswith(".")  # .venv, .git
        for path in ([top] if top.suffix == ".py" else top.rglob("*.py") if top.is_dir() else [])
        if "sqlite_utils" in imported_modules(path)
    }
    assert importers
    assert all(name.startswith("storage/") for name in importers), importers


def test_core_never_reads_the_clock():
    offenders = []
    for path in package_files("core"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in CLOCK_CALLS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"datetime", "date", "time"}
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_every_runtime_requirement_is_in_the_readme_with_its_license():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Dependencies") : readme.index("## License")]
    rows = {line.split("|")[1].strip().lower(): line for line in table.splitlines() if "|" in line}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        name = line.split("#")[0].split("==")[0].split("[")[0].strip().lower()
        if name:
            row = next((r for key, r in rows.items() if key.startswith(name)), None)
            assert row is not None, f"{name} is not in the README's dependency table"
            assert row.split("|")[2].strip(), f"{name} has no license in the README"


# The long-lived services, and the one place that builds them (unit tests build their own).
SERVICES = {
    "Poller", "FeedAdmin", "FeedWork", "Intake", "FeedSchedule", "Preparer", "Sender", "Fetcher",
    "Composer", "Transport", "RefusedWrites", "Services", "Backend",
}  # fmt: skip
RUNTIME = [
    "bot.py",
    "app",
    "core",
    "feeds",
    "storage",
    "intake",
    "delivery",
    "service",
    "web",
    "handlers",
    "miniapp",
]


def test_only_the_composition_root_builds_the_services():
    builders = set()
    for top in RUNTIME:
        for path in [ROOT / top] if top.endswith(".py") else package_files(top):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                called = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                if called and node.func.id in SERVICES:
                    builders.add(str(path.relative_to(ROOT)))
    assert builders == {"app/bootstrap.py"}


FUNCTION_LINES, CLASS_LINES = 60, 300


def test_no_runtime_function_over_60_lines_and_no_class_over_300():
    too_big = []
    for top in RUNTIME:
        for path in [ROOT / top] if top.endswith(".py") else package_files(top):
            name = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    continue
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                limit = CLASS_LINES if isinstance(node, ast.ClassDef) else FUNCTION_LINES
                migration = name == "storage/db.py" and node.name.startswith("m0")
                if lines > limit and not migration:  # a migration's schema SQL is one piece
                    too_big.append(f"{name}:{node.name}")
    assert too_big == []


def test_no_test_file_imports_another_test_file():
    """Helpers shared by test files live in tests/support.py (or another support module), not
    in a test file (nor in conftest.py, which pytest loads by itself)."""
    tests = ROOT / "tests"
    test_modules = {path.stem for path in tests.glob("test_*.py")} | {"conftest"}
    offenders = []
    for path in sorted(tests.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(filter(None, ["tests" if node.level else "", node.module or ""]))
                modules = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            for module in modules:
                top, _, rest = module.partition(".")
                if top == "tests" and rest.partition(".")[0] in test_modules:
                    offenders.append(f"{path.name}:{node.lineno} imports {module}")
    assert offenders == []
