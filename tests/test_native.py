"""The mypyc build of core.arabic and core.matcher (tools/native.py): found only for the sources it
was made from, answering as the Python does, and the Python still passing when a build is there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import core
from core import native_tag

ROOT = Path(__file__).resolve().parents[1]
NATIVE_ONLY = pytest.mark.skipif(
    not core.NATIVE, reason="no native build of these sources (tools/native.py; test.sh runs it)"
)

# Keywords of every kind drawn from the bundled sample feeds, then every text's matched keys.
ROUTES = """
import json, re, sys, feedparser
from pathlib import Path
import core, core.matcher
from core.arabic import tokenize
from core.matcher import MatchIndex
from core.query import QueryError, parse_stored
texts = []
for path in sorted(Path("samples/feeds").glob("*.xml")):
    for entry in feedparser.parse(path.read_bytes()).entries:
        texts.append(entry.get("title", "") + "\\n" + re.sub("<[^>]+>", " ", entry.get("summary", "")))
words = [t.norm for text in texts for t in tokenize(text)]
raws = set(words[::5])
raws |= {f"{a} {b}" for a, b in zip(words[::11], words[1::11])}
raws |= {f'"{w}"' for w in words[3::17]} | {w[:4] + "*" for w in words[7::13] if len(w) > 5}
raws |= {f"{a} -{b}" for a, b in zip(words[2::19], words[9::19])}
raws |= {f"{a}|{b}" for a, b in zip(words[4::23], words[6::23])}
index = MatchIndex()
for number, raw in enumerate(sorted(raws)):
    try:
        index.add(number, parse_stored(raw))
    except QueryError:
        pass
routes = [sorted(index.match_keys(text).items()) for text in texts]
print(json.dumps({"native": core.NATIVE, "file": core.matcher.__file__, "routes": routes}))
"""


def run(code: str, cwd: Path, native: bool = True) -> subprocess.CompletedProcess[str]:
    """Run Python code in a fresh interpreter at `cwd`, with or without the native build."""
    env = {**os.environ, "RASD_NATIVE": "1" if native else "0"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_a_build_is_found_only_for_the_sources_it_was_made_from(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "core", tmp_path / "core", ignore=shutil.ignore_patterns("__pycache__"))
    built = tmp_path / "build" / "native" / native_tag(tmp_path / "core") / "core"
    built.mkdir(parents=True)
    (built / "matcher.py").write_text("BUILT = True\n")  # stands in for the extension module
    probe = "import core, core.matcher; print(core.NATIVE, hasattr(core.matcher, 'BUILT'))"

    assert run(probe, tmp_path).stdout.split() == ["True", "True"]
    assert run(probe, tmp_path, native=False).stdout.split() == ["False", "False"]
    for edited in ("matcher.py", "query.py"):  # the build was type-checked against query.py
        source = tmp_path / "core" / edited
        original = source.read_text(encoding="utf-8")
        source.write_text(original + "\n# edited after the build\n", encoding="utf-8")
        assert run(probe, tmp_path).stdout.split() == ["False", "False"]
        source.write_text(original, encoding="utf-8")
    assert run(probe, tmp_path).stdout.split() == ["True", "True"]


@NATIVE_ONLY
def test_the_native_matcher_routes_every_text_as_the_python_one_does() -> None:
    native, python = (json.loads(run(ROUTES, ROOT, native=n).stdout) for n in (True, False))

    assert native["native"]
    assert not native["file"].endswith(".py")
    assert not python["native"]
    assert python["file"].endswith("matcher.py")
    assert sum(map(len, python["routes"])) > 1_000  # most texts match something
    assert native["routes"] == python["routes"]


@NATIVE_ONLY
@pytest.mark.slow
def test_the_matcher_tests_pass_as_python_too() -> None:
    files = ["test_matcher.py", "test_matcher_generated.py", "test_arabic.py", "test_forms.py"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0"]
        + [f"tests/{name}" for name in files],
        cwd=ROOT,
        env={**os.environ, "RASD_NATIVE": "0"},
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert done.returncode == 0, done.stdout[-3_000:]
    assert " passed" in done.stdout.splitlines()[-1]


@pytest.mark.slow
def test_tools_native_builds_once_at_a_time_and_replaces_an_older_build(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from native import missing_tools
    finally:
        sys.path.remove(str(ROOT / "tools"))
    if missing_tools():
        pytest.skip(f"cannot build here: {missing_tools()}")
    shutil.copytree(ROOT / "core", tmp_path / "core", ignore=shutil.ignore_patterns("__pycache__"))
    older = tmp_path / "build" / "native" / "0123456789abcdef"
    older.mkdir(parents=True)
    build = [sys.executable, str(ROOT / "tools" / "native.py"), "--root", str(tmp_path)]

    both = [subprocess.Popen(build, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    said = sorted(proc.communicate(timeout=900)[0].strip() for proc in both)
    loaded = run("import core.matcher as m; print(m.__file__)", tmp_path)

    assert [proc.returncode for proc in both] == [0, 0], said
    assert said[0].startswith("native matcher: built in")
    assert said[1] == "native matcher: up to date"  # it waited for the other, then found it
    assert not older.exists()
    build_dir = tmp_path / "build" / "native" / native_tag(tmp_path / "core")
    assert loaded.stdout.startswith(str(build_dir))
    assert loaded.stdout.strip().endswith(".so")
