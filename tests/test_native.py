"""The mypyc build of core.arabic and core.matcher (tools/native.py): found only for the sources it
was made from and only when it loads, answering as the Python does, the Python still passing
where a build is there, and the tool building once, at one time, remembering a failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import core
from core import EXT_SUFFIX, GROUP, native_dir, native_tag

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "native.py"
NATIVE_ONLY = pytest.mark.skipif(
    not core.NATIVE, reason=f"matcher not compiled: {core.NATIVE_ERROR}"
)
PROBE = "import core, core.matcher as m; print(core.NATIVE, m.__file__.endswith('.py'))"

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


def clean_env(native: bool = True) -> dict[str, str]:
    """This environment without what would change which modules a child imports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    return env | {"RASD_NATIVE": "1" if native else "0"}


def run(code: str, cwd: Path, native: bool = True) -> str:
    """What Python code prints in a fresh interpreter at `cwd`, with or without the build."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd, env=clean_env(native), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2_000:]
    return done.stdout


def copy_of_core(root: Path, *, with_build: bool = True) -> Path:
    """A tree at `root` with a copy of core/ (and its build, when asked and there is one); its
    core/."""
    shutil.copytree(ROOT / "core", root / "core", ignore=shutil.ignore_patterns("__pycache__"))
    if with_build and core.NATIVE:
        shutil.copytree(core.NATIVE_DIR, native_dir(root, native_tag(root / "core")))
    return root / "core"


@NATIVE_ONLY
def test_a_build_is_used_only_for_the_sources_it_was_made_from(tmp_path: Path) -> None:
    package = copy_of_core(tmp_path)

    assert run(PROBE, tmp_path).split() == ["True", "False"]
    assert run(PROBE, tmp_path, native=False).split() == ["False", "True"]
    for edited in ("matcher.py", "query.py"):  # the build was type-checked against query.py
        source = package / edited
        original = source.read_text(encoding="utf-8")
        source.write_text(original + "\n# edited after the build\n", encoding="utf-8")
        assert run(PROBE, tmp_path).split() == ["False", "True"]
        source.write_text(original, encoding="utf-8")
    assert run(PROBE, tmp_path).split() == ["True", "False"]


@NATIVE_ONLY
@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_a_build_that_does_not_load_leaves_the_python_to_run(tmp_path: Path, damage: str) -> None:
    copy_of_core(tmp_path)
    shared = native_dir(tmp_path, native_tag(tmp_path / "core")) / f"{GROUP}{EXT_SUFFIX}"
    if damage == "missing":
        shared.unlink()
    else:
        shared.write_bytes(b"\x7fELF not really")

    said = run(PROBE + "; print(core.NATIVE_ERROR)", tmp_path).splitlines()

    assert said[0].split() == ["False", "True"]
    assert ("incomplete build" if damage == "missing" else "does not load") in said[1]


@NATIVE_ONLY
def test_the_native_matcher_routes_every_text_as_the_python_one_does() -> None:
    native, python = (json.loads(run(ROUTES, ROOT, native=n)) for n in (True, False))

    assert native["native"]
    assert native["file"].endswith(EXT_SUFFIX)
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
        cwd=ROOT, env=clean_env(native=False), capture_output=True, text=True, timeout=900,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout[-3_000:]
    assert " passed" in done.stdout.splitlines()[-1]


def build(root: Path, runs: int = 1) -> list[tuple[int, str]]:
    """Run tools/native.py on `root` `runs` times at once: each exit status and last line."""
    command = [sys.executable, str(TOOL), "--root", str(root)]
    started = [
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=clean_env())
        for _ in range(runs)
    ]
    said = [proc.communicate(timeout=900)[0].strip().splitlines() for proc in started]
    return sorted(
        (proc.returncode, lines[-1] if lines else "")
        for proc, lines in zip(started, said, strict=True)
    )


@pytest.mark.slow
def test_tools_native_builds_once_at_a_time_and_replaces_an_older_build(tmp_path: Path) -> None:
    copy_of_core(tmp_path, with_build=False)
    older = native_dir(tmp_path, "0123456789abcdef").parent
    older.mkdir(parents=True)

    first, second = build(tmp_path, runs=2)
    if first[0] == 0 and first[1].endswith("runs as Python"):  # no compiler here
        pytest.skip(first[1])

    assert first[0] == second[0] == 0
    assert first[1].startswith("native matcher: built in")
    assert second[1] == "native matcher: up to date"  # it waited for the other, then found it
    assert not older.exists()
    assert run(PROBE, tmp_path).split() == ["True", "False"]


@pytest.mark.slow
def test_tools_native_says_why_a_build_failed_and_does_not_try_it_at_every_start(
    tmp_path: Path,
) -> None:
    package = copy_of_core(tmp_path, with_build=False)
    with (package / "matcher.py").open("a", encoding="utf-8") as source:
        source.write('\nBROKEN: int = "not an int"\n')  # mypyc refuses what mypy refuses

    ((status, said),) = build(tmp_path)
    if status == 0 and said.endswith("runs as Python"):  # no compiler here: nothing to fail
        pytest.skip(said)
    again = build(tmp_path)

    assert status == 1
    assert said.startswith("native matcher: the build failed (log: ")
    assert again == [(1, f"native matcher: it failed before for these sources (remove "
                      f"{native_dir(tmp_path, native_tag(package)).parents[1]}"
                      f"/{native_tag(package)}.failed to retry)")]  # fmt: skip
    assert run(PROBE, tmp_path).split() == ["False", "True"]
