"""Pure logic: no Telegram, SQLite, network or clock.

The routing decision's hot path, core.arabic and core.matcher, loads a build of itself compiled by
mypyc (tools/native.py) when one was made from these very sources: `NATIVE_DIR` is named by their
digest, so an edited module is never shadowed by an old build. Without one, or with RASD_NATIVE=0,
they run as the Python they are; both ways give the same results (tests/test_native.py).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

COMPILED = ("arabic.py", "matcher.py")  # what tools/native.py compiles, in one group


def native_tag(package: Path = Path(__file__).parent) -> str:
    """The name of the build of `package` for this interpreter: a digest of every module in it,
    since the compiled ones were type-checked against the others (core.forms, core.query)."""
    digest = hashlib.sha256(sys.implementation.cache_tag.encode())
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


NATIVE_DIR = Path(__file__).resolve().parents[1] / "build" / "native" / native_tag() / "core"
NATIVE = os.environ.get("RASD_NATIVE", "1") != "0" and NATIVE_DIR.is_dir()
if NATIVE:
    __path__.insert(0, str(NATIVE_DIR))  # its modules are found before the sources beside us
