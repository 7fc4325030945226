"""Where the tests' real data lives: inside the repository, each folder with its PROVENANCE.txt."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE_FEEDS = ROOT / "samples" / "feeds"  # the six Arabic news feeds, shared with the demo
ARABIC_FEEDS = sorted(SAMPLE_FEEDS.glob("*.xml"))
EASC_ARTICLES = sorted(
    (FIXTURES / "easc" / "Articles").glob("*/*"), key=lambda p: (int(p.parent.name[5:]), p.name)
)
FEEDPARSER_SDIST = FIXTURES / "feedparser" / "feedparser-6.0.14.tar.gz"
FEEDPARSER_SDIST_SHA256 = "088679b0c4b543ee211a820dd544698c76a402122eae7473c04a43425f283d06"


def feed_file(name: str) -> Path:
    """A feed fixture: "folder/file.xml" under tests/fixtures/feeds, or a bare name in samples/."""
    return FIXTURES / "feeds" / name if "/" in name else SAMPLE_FEEDS / name


def feedparser_corpus() -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each data file of feedparser's own test corpus, read from its sdist."""
    with tarfile.open(FEEDPARSER_SDIST) as archive:
        for member in archive:
            parts = member.name.split("/")
            if member.isfile() and parts[1] == "tests" and not member.name.endswith(".py"):
                file = archive.extractfile(member)
                assert file is not None
                yield "/".join(parts[2:]), file.read()
