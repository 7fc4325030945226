"""Pure logic: no Telegram, SQLite, network or clock.

This file alone does one more thing, at import: the routing decision's hot path, core.arabic and
core.matcher, loads a build of itself compiled by mypyc (tools/native.py) when one was made from
these very sources for this interpreter and it loads. Its folder is named by both, so an edited
module never runs as an old build; a build that does not load (a file missing, another machine's
libc) leaves the Python to run, and NATIVE_ERROR says why. RASD_NATIVE=0 runs the Python
whatever is there. Both ways give the same results (tests/test_native.py).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
import sysconfig
from pathlib import Path

COMPILED = ("arabic", "matcher")  # what tools/native.py compiles, in one group:
GROUP = "native__mypyc"  # the group's shared library, which the two modules' files load
EXT_SUFFIX: str = sysconfig.get_config_var("EXT_SUFFIX")  # .cpython-311-x86_64-linux-gnu.so


def native_tag(package: Path) -> str:
    """A digest of every module in `package` and of this interpreter's version: the compiled
    modules were type-checked against the others (core.forms, core.query)."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def native_dir(root: Path, tag: str) -> Path:
    """Where the build of `root`'s core/ with this tag lives, for this kind of interpreter."""
    platform = EXT_SUFFIX.removeprefix(".").removesuffix(".so")  # cpython-311-x86_64-linux-gnu
    return root / "build" / "native" / platform / tag / "core"


def _load_native(folder: Path) -> str:
    """Put the build in `folder` first on this package's path if it is whole and loads; "" if
    it does, else why not."""
    if os.environ.get("RASD_NATIVE", "1") == "0":
        return "RASD_NATIVE=0"
    if not folder.is_dir():
        return "no build of these sources (tools/native.py makes one)"
    if not all((folder / f"{name}{EXT_SUFFIX}").is_file() for name in (*COMPILED, GROUP)):
        return f"an incomplete build in {folder}"
    __path__.insert(0, str(folder))  # its modules are found before the sources beside us
    try:
        importlib.import_module(f"{__name__}.{GROUP}")
    except (ImportError, OSError) as error:
        __path__.remove(str(folder))
        return f"the build in {folder} does not load: {error}"
    return ""


NATIVE_DIR = native_dir(Path(__file__).resolve().parents[1], native_tag(Path(__file__).parent))
NATIVE_ERROR = _load_native(NATIVE_DIR)  # why core.matcher runs as Python ("" when compiled)
NATIVE = not NATIVE_ERROR
