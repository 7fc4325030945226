"""What the benchmarks read beside the clone, and one line instead of a traceback when it is absent.

../shared/data holds the data copied out of other public projects (EASC, real feed captures): it
is never committed, so a clone with nothing beside it has none of it.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
EASC = SHARED_DATA / "easc"
FEEDS = SHARED_DATA / "feeds"
CACHE = ROOT / "bench" / ".cache"  # built here, git-ignored: derived from ../shared/data


def require_shared(path: Path, what: str, how: str = "") -> Path:
    """`path` if it is there (a folder with something in it); else one line on stderr saying what
    the benchmark needs, and exit code 2."""
    if path.is_file() or (path.is_dir() and any(path.iterdir())):
        return path
    script = Path(sys.argv[0]).name
    hint = how or "../shared/data beside the clone: it is never committed"
    print(f"{script}: needs {what} at {path} ({hint})", file=sys.stderr)
    raise SystemExit(2)


@contextlib.contextmanager
def checkout(ref: str, directory: Path) -> Iterator[Path]:
    """The code at git `ref` in `directory` (a detached worktree), removed afterwards: a
    benchmark's "before" in the same run as its "after"."""
    subprocess.run(["git", "worktree", "add", "--detach", str(directory), ref], cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield directory
    finally:
        remove = ["git", "worktree", "remove", "--force", str(directory)]
        subprocess.run(remove, cwd=ROOT, check=False, capture_output=True)
