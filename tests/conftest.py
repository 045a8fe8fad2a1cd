"""Shared fixtures: copies of shipped studies in a temporary tree, so tests may break them freely."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "studies"
SYNTHETIC = ROOT / "data" / "synthetic"
REFERENCE = Path(__file__).resolve().parent / "reference"


def tree_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` (to prove inputs are never modified)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        # a study's pseudonymisation key is made beside it on the first run without one: not an input change
        if p.is_file() and p.name != ".pseudonym-key"
    }


@pytest.fixture
def study_tree(tmp_path: Path):
    """Return a function copying ``studies/<slug>`` and ``data/synthetic/<slug>`` into tmp_path."""

    def make(slug: str = "arbejdsfastholdelse-ved-sygdom") -> Path:
        shutil.copytree(STUDIES / slug, tmp_path / "studies" / slug)
        if (SYNTHETIC / slug).is_dir():
            shutil.copytree(SYNTHETIC / slug, tmp_path / "data" / "synthetic" / slug)
        return tmp_path / "studies" / slug

    return make
