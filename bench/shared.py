"""What the benchmarks read beside the clone, and one line instead of a traceback when it is absent.

../shared/data holds the data copied out of other public projects (EASC, real feed captures): it
is never committed, so a clone with nothing beside it has none of it.
"""

from __future__ import annotations

import sys
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
