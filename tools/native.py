"""Compile core/arabic.py and core/matcher.py with mypyc into build/native/<tag>/core.

`.venv/bin/python tools/native.py` (run.sh and test.sh run it): nothing to do when the build of
these sources is there; one line and exit 0 when there is no C compiler, Python headers,
setuptools or mypyc (the matcher then runs as Python, as it always can); the log's path and
exit 1 when the build fails with all of them there (test.sh then stops: that is a defect).
It builds in a scratch copy of core/, imports the result once there, and only then puts it in
place; older builds are removed. core/__init__.py says how the build is found, and when not.
"""

from __future__ import annotations

import argparse
import fcntl
import importlib.util
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import COMPILED, native_tag  # noqa: E402

SETUP = (
    "from setuptools import setup; from mypyc.build import mypycify; "
    "setup(name='rasd-native', ext_modules=mypycify({paths!r}, group_name='core.native', "
    "opt_level='3'))"
)
CHECK = (
    "import importlib.machinery as m, core.arabic, core.matcher; "
    "assert all(x.__file__.endswith(tuple(m.EXTENSION_SUFFIXES)) "
    "for x in (core.arabic, core.matcher)); core.matcher.MatchIndex().matched_ids('x')"
)


def missing_tools() -> str:
    """What the build needs and this machine lacks ("" when nothing)."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler})"
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file():
        return "no Python headers (python3-dev)"
    for module in ("setuptools", "mypyc"):
        if importlib.util.find_spec(module) is None:
            return f"no {module} (pip install -r requirements.txt)"
    return ""


def build(root: Path) -> int:
    """Build the native matcher of the tree at `root` unless it is there; the exit status. One
    build at a time: a second run waits for the first, then finds its build there."""
    natives = root / "build" / "native"
    target = natives / native_tag(root / "core")
    if target.is_dir():
        print("native matcher: up to date")
        return 0
    missing = missing_tools()
    if missing:
        print(f"native matcher: {missing}; core.matcher runs as Python")
        return 0
    natives.mkdir(parents=True, exist_ok=True)
    with (natives / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_dir():
            print("native matcher: up to date")
            return 0
        return compile_into(root, target)


def compile_into(root: Path, target: Path) -> int:
    """Compile `root`'s core/ in a scratch copy, import the result there, then put it at
    `target` and remove older builds beside it; the exit status."""
    started = time.monotonic()
    natives = target.parent
    log = natives / "build.log"
    with tempfile.TemporaryDirectory() as scratch, log.open("w") as out:
        work = Path(scratch)
        shutil.copytree(root / "core", work / "core", ignore=shutil.ignore_patterns("__pycache__"))
        paths = [f"core/{name}" for name in COMPILED]
        for command in (
            [sys.executable, "-c", SETUP.format(paths=paths), "build_ext", "--inplace"],
            [sys.executable, "-c", CHECK],
        ):
            done = subprocess.run(command, cwd=work, stdout=out, stderr=subprocess.STDOUT)
            if done.returncode != 0:
                print(f"native matcher: the build failed, see {log}; core.matcher runs as Python")
                return 1
        partial = natives / f"{target.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        (partial / "core").mkdir(parents=True)
        for built in (work / "core").glob("*.so"):
            shutil.copy2(built, partial / "core" / built.name)
        for old in natives.iterdir():
            if old.is_dir() and old != partial:
                shutil.rmtree(old)
        partial.rename(target)
    print(f"native matcher: built in {time.monotonic() - started:.0f} s ({target})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and build."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the tree to build (its core/)")
    return build(parser.parse_args(argv).root.resolve())


if __name__ == "__main__":
    sys.exit(main())
