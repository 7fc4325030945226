"""The tests' data: what is committed says where it came from; what came out of other public
projects stays in ../shared/data, beside the clone, and is checked there when it is present."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tests.data import (
    ARABIC_FEEDS,
    EASC,
    FEEDPARSER_SDIST,
    FEEDPARSER_SDIST_SHA256,
    FIXTURES,
    SAMPLE_FEEDS,
    SHARED_DATA,
    SHARED_FEEDS,
    easc_articles,
    needs_shared,
)
from tests.support import ROOT

# The demo's six feeds are committed on purpose (samples/feeds); ../shared/data has them too.
SAMPLE_CAPTURES = "-via-prospect-scraper"


def test_every_fixture_folder_has_its_provenance():
    folders = [SAMPLE_FEEDS, *(p for p in FIXTURES.iterdir() if p.is_dir())]
    missing = [
        str(folder.relative_to(ROOT))
        for folder in folders
        if folder.name != "__pycache__" and not (folder / "PROVENANCE.txt").exists()
    ]
    assert missing == []


def test_only_the_fixtures_that_may_be_committed_are_in_the_repository():
    """feedparser's sdist and the generated word forms; EASC and the feed captures are in
    ../shared/data, never copied back."""
    folders = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == ["feedparser", "matching"]
    assert not (ROOT / "bench" / "data").exists()  # the lemma gold is built into bench/.cache


def test_the_committed_data_is_all_there():
    assert len(ARABIC_FEEDS) == 6
    assert hashlib.sha256(FEEDPARSER_SDIST.read_bytes()).hexdigest() == FEEDPARSER_SDIST_SHA256
    assert (FIXTURES / "matching" / "alyahmor_forms.json.gz").is_file()


@needs_shared
def test_the_shared_data_is_all_there():
    assert len(easc_articles()) == 77
    assert [path.parent.name for path in easc_articles()[:2]] == ["Topic1", "Topic3"]
    assert (EASC / "COPYRIGHT").is_file()
    captures = [p for p in SHARED_FEEDS.iterdir() if p.is_dir()]
    assert len(captures) >= 13
    assert [p.name for p in captures if not (p / "PROVENANCE.txt").is_file()] == []
    for sample in ARABIC_FEEDS:  # the demo's feeds are the shared captures, unchanged
        (shared,) = SHARED_FEEDS.glob(f"*{SAMPLE_CAPTURES}/{sample.name}")
        assert shared.read_bytes() == sample.read_bytes()


@needs_shared
def test_no_file_of_the_repository_is_a_copy_of_shared_data():
    """Byte for byte, nothing under ../shared/data is in the checkout again (but the samples)."""
    shared: dict[int, set[str]] = {}
    for path in files_under(SHARED_DATA):
        if not path.parent.name.endswith(SAMPLE_CAPTURES) and path.stat().st_size >= 200:
            shared.setdefault(path.stat().st_size, set()).add(digest(path))
    copies = [
        str(path.relative_to(ROOT))
        for path in files_under(ROOT)
        if path.parent != SAMPLE_FEEDS
        and path.stat().st_size in shared
        and digest(path) in shared[path.stat().st_size]
    ]
    assert copies == []


def files_under(root: Path) -> list[Path]:
    """Every file below root, leaving out hidden folders (.git, .venv), caches and a running
    bot's data/."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [
            name
            for name in subfolders
            if not name.startswith(".")
            and name != "__pycache__"
            and Path(folder, name) != ROOT / "data"
        ]
        found += [Path(folder, name) for name in names]
    return found


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
