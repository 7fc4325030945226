"""Where the tests' real data lives, and the one mark for the tests that need ../shared/data.

In the repository: the six Arabic news feeds of the demo (samples/feeds), feedparser's own sdist
and the generated word forms (tests/fixtures), each folder with its PROVENANCE.txt. Beside the
clone, in ../shared/data (never committed: it was copied out of other public projects): the EASC
articles and the real feed captures in other languages and encodings. A test that reads those is
marked `needs_shared` and is skipped, with the reason, in a clone that has nothing beside it; the
helpers below skip the same way when they are called without it.
"""

from __future__ import annotations

import functools
import tarfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE_FEEDS = ROOT / "samples" / "feeds"  # the six Arabic news feeds, shared with the demo
ARABIC_FEEDS = sorted(SAMPLE_FEEDS.glob("*.xml"))
FEEDPARSER_SDIST = FIXTURES / "feedparser" / "feedparser-6.0.14.tar.gz"
FEEDPARSER_SDIST_SHA256 = "088679b0c4b543ee211a820dd544698c76a402122eae7473c04a43425f283d06"

SHARED_DATA = ROOT.parent / "shared" / "data"
EASC = SHARED_DATA / "easc"
SHARED_FEEDS = SHARED_DATA / "feeds"
SHARED_REASON = (
    "needs ../shared/data beside the clone (EASC articles, real feed captures from other "
    "projects, which may not be committed)"
)
needs_shared = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=SHARED_REASON)


def require_shared() -> None:
    """Skip the calling test, with the reason, when ../shared/data is not beside the clone."""
    if not SHARED_DATA.is_dir():
        pytest.skip(SHARED_REASON)


def easc_articles() -> list[Path]:
    """The 77 EASC articles (development half), Topic1 first, in topic order."""
    require_shared()
    return list(_easc_articles())


@functools.cache
def _easc_articles() -> tuple[Path, ...]:
    paths = (EASC / "Articles").glob("*/*")
    return tuple(sorted(paths, key=lambda p: (int(p.parent.name[5:]), p.name)))


def easc_texts() -> list[str]:
    """The text of each EASC article, in the order of easc_articles()."""
    return [path.read_text(encoding="utf-8") for path in easc_articles()]


def is_capture(name: str) -> bool:
    """A "folder/file.xml" name: a capture in ../shared/data/feeds (a bare name is a sample)."""
    return "/" in name


def feed_file(name: str) -> Path:
    """A feed: "folder/file.xml" in ../shared/data/feeds (skips without it), or a bare name in
    samples/feeds."""
    if is_capture(name):
        require_shared()
        return SHARED_FEEDS / name
    return SAMPLE_FEEDS / name


def feed_cases(cases: Iterable[str | Sequence[Any]]) -> list[Any]:
    """parametrize cases whose first value names a feed, those of a capture marked needs_shared."""
    marked = []
    for case in cases:
        values = (case,) if isinstance(case, str) else tuple(case)
        marked.append(pytest.param(*values, marks=needs_shared) if is_capture(values[0]) else case)
    return marked


def feedparser_corpus() -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each data file of feedparser's own test corpus, read from its sdist."""
    with tarfile.open(FEEDPARSER_SDIST) as archive:
        for member in archive:
            parts = member.name.split("/")
            if member.isfile() and parts[1] == "tests" and not member.name.endswith(".py"):
                file = archive.extractfile(member)
                assert file is not None
                yield "/".join(parts[2:]), file.read()
