"""Compile core/arabic.py and core/matcher.py with mypyc into build/native/ (see core/__init__.py).

`.venv/bin/python tools/native.py` (run.sh and test.sh run it):
- nothing to do when the build of these sources, made with this tool and this mypy, is there;
- one line and exit 0 when RASD_NATIVE=0, or there is no working C compiler with Python's
  headers, no setuptools or no mypyc: the matcher then runs as Python, as it always can;
- the end of the log and exit 1 when the build fails with all of them there (test.sh then stops:
  that is a defect); the failure is remembered for these sources, so run.sh does not spend the
  build's time again at every start (remove the `.failed` file it names to try again).
One build at a time: it works in a copy of core/ under build/native (not /tmp, which may forbid
running what it holds), imports the result there, then renames it into place and removes the
older builds for this interpreter.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import COMPILED, EXT_SUFFIX, GROUP, native_dir, native_tag  # noqa: E402

SETUP = (
    "from setuptools import setup; from mypyc.build import mypycify; "
    "setup(name='rasd-native', ext_modules=mypycify({paths!r}, group_name='core.{group}', "
    "opt_level='3'))"
)
# run in the scratch copy, where the built files lie beside the sources and load before them
CHECK = (
    "import core, core.arabic as a, core.matcher as m; "
    "assert all(x.__file__.endswith(core.EXT_SUFFIX) for x in (a, m)), (a, m); "
    "m.MatchIndex().matched_ids('x')"
)
PROBE = "#include <Python.h>\nint rasd_probe(void) { return Py_IsInitialized(); }\n"
STAMP = "BUILT"  # in a build's folder: the recipe it was made with (see `recipe`)


def recipe() -> str:
    """What a build was made with besides the sources: this tool and mypy's version."""
    tool = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return f"tools/native.py {tool}, mypy {importlib.metadata.version('mypy')}\n"


def missing_tools(scratch: Path) -> str:
    """What the build needs and this machine lacks ("" when nothing); compiles a probe that
    includes Python.h in `scratch`."""
    for module in ("setuptools", "mypyc"):
        if importlib.util.find_spec(module) is None:
            return f"no {module} (pip install -r requirements-native.txt)"
    compiler = (sysconfig.get_config_var("CC") or "cc").split()
    if shutil.which(compiler[0]) is None:
        return f"no C compiler ({compiler[0]})"
    (scratch / "probe.c").write_text(PROBE)
    include = sysconfig.get_paths()["include"]
    probe = [*compiler, "-c", "probe.c", "-o", "probe.o", f"-I{include}"]
    done = subprocess.run(probe, cwd=scratch, capture_output=True, text=True)
    if done.returncode != 0:
        lines = (done.stderr.strip() or "no output").splitlines()
        return f"no working C compiler with Python's headers ({lines[-1][:200]})"
    return ""


def up_to_date(target: Path) -> bool:
    """Whether `target` holds a build made with this recipe."""
    stamp = target.parent / STAMP
    return stamp.is_file() and stamp.read_text() == recipe()


def build(root: Path) -> int:
    """Build the native matcher of the tree at `root` unless it is there; the exit status."""
    target = native_dir(root, native_tag(root / "core"))
    if up_to_date(target):
        print("native matcher: up to date")
        return 0
    if os.environ.get("RASD_NATIVE") == "0":
        print("native matcher: RASD_NATIVE=0, not built; core.matcher runs as Python")
        return 0
    platform = target.parents[1]
    platform.mkdir(parents=True, exist_ok=True)
    with (platform / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second run waits, then finds the first's build
        scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=platform))
        try:
            return compile_into(root, scratch, platform)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def compile_into(root: Path, scratch: Path, platform: Path) -> int:
    """Compile a copy of `root`'s core/ in `scratch`, import it there, and rename it into
    `platform`/<its tag>; the exit status."""
    started = time.monotonic()
    shutil.copytree(root / "core", scratch / "core", ignore=shutil.ignore_patterns("__pycache__"))
    tag = native_tag(scratch / "core")  # of what is compiled, whatever changes meanwhile
    target, failed = platform / tag / "core", platform / f"{tag}.failed"
    if up_to_date(target):
        print("native matcher: up to date")
        return 0
    if failed.is_file():
        print(f"native matcher: it failed before for these sources (remove {failed} to retry)")
        return 1
    missing = missing_tools(scratch)
    if missing:
        print(f"native matcher: {missing}; core.matcher runs as Python")
        return 0
    log = scratch / "build.log"
    paths = [f"core/{name}.py" for name in COMPILED]
    setup = SETUP.format(paths=paths, group=GROUP.removesuffix("__mypyc"))  # mypyc adds it
    with log.open("w") as out:
        for command in (
            [sys.executable, "-c", setup, "build_ext", "--inplace"],
            [sys.executable, "-c", CHECK],
        ):
            done = subprocess.run(command, cwd=scratch, stdout=out, stderr=subprocess.STDOUT)
            if done.returncode != 0:
                break
    if done.returncode != 0:
        shutil.copyfile(log, failed)
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        print(f"{tail}\nnative matcher: the build failed (log: {failed}); runs as Python")
        return 1
    install(scratch, target)
    print(f"native matcher: built in {time.monotonic() - started:.0f} s ({target.parent})")
    return 0


def install(scratch: Path, target: Path) -> None:
    """Move the built files into `target` in one rename, stamped, and drop the older builds."""
    staging = scratch / "staging"
    (staging / "core").mkdir(parents=True)
    for name in (*COMPILED, GROUP):
        (scratch / "core" / f"{name}{EXT_SUFFIX}").rename(staging / "core" / f"{name}{EXT_SUFFIX}")
    (staging / STAMP).write_text(recipe())
    platform = target.parents[1]
    for old in platform.iterdir():
        if old.name.startswith("."):  # the lock, and the scratch folders of builds under way
            continue
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()  # a failure remembered for other sources
    staging.rename(target.parent)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and build."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the tree to build (its core/)")
    return build(parser.parse_args(argv).root.resolve())


if __name__ == "__main__":
    sys.exit(main())
