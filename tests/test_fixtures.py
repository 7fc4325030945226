"""The suite is self-contained: its data is in the repository, each folder says where it came from."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import ROOT
from tests.data import (
    ARABIC_FEEDS,
    EASC_ARTICLES,
    FEEDPARSER_SDIST,
    FEEDPARSER_SDIST_SHA256,
    FIXTURES,
    SAMPLE_FEEDS,
)


def test_reading_beside_the_checkout_fails_the_test():
    with pytest.raises(PermissionError, match="tests may not read"):
        (ROOT.parent / "shared" / "README.md").read_text()
    with pytest.raises(PermissionError, match="tests may not read"):
        list((ROOT / ".." / "shared").iterdir())


def test_every_fixture_folder_has_its_provenance():
    folders = [SAMPLE_FEEDS, *(p for p in FIXTURES.iterdir() if p.is_dir())]
    folders += [p for p in (FIXTURES / "feeds").iterdir() if p.is_dir()]
    missing = [
        str(folder.relative_to(ROOT))
        for folder in folders
        if folder.name != "feeds" and not (folder / "PROVENANCE.txt").exists()
    ]
    assert missing == []


def test_the_real_data_is_all_there():
    assert len(ARABIC_FEEDS) == 6
    assert len(EASC_ARTICLES) == 77
    assert hashlib.sha256(FEEDPARSER_SDIST.read_bytes()).hexdigest() == FEEDPARSER_SDIST_SHA256
