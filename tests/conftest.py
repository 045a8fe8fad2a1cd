"""Shared fixtures: copies of shipped studies in a temporary tree, so tests may break them freely."""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
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


# ---------------------------------------------------------------------------------------------- rendered reports
#: the reports' date in these tests (SOURCE_DATE_EPOCH): 1 January 2026
EPOCH = "1767225600"


@pytest.fixture(scope="session")
def rendered_reports(tmp_path_factory):
    """{slug: (report folder, bundle)} for the seven shipped studies and one generated study per family,
    plus "portfolio": (folder, None). Rendered once per session for the report lint, the browser layout test and
    the PDF check (tests/reporting)."""
    from claims import write_example_study
    from evaluation.designs.family import families
    from evaluation.pipeline.run import run_study
    from evaluation.portfolio.page import build_portfolio
    from evaluation.reporting.quarto import build_report
    from evaluation.results import load_bundle

    root = tmp_path_factory.mktemp("rendered")
    shutil.copytree(STUDIES, root / "studies")
    shutil.copytree(SYNTHETIC, root / "data" / "synthetic")
    gen = root / "generated"
    slugs = sorted(p.name for p in (root / "studies").iterdir() if (p / "study.yaml").is_file())
    folders = [(root / "studies" / s, root / "results") for s in slugs]
    # generated studies go to their own results folder: the portfolio shows the shipped studies
    folders += [(write_example_study(gen, f, "effect"), gen / "results") for f in families()]
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    out = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for folder, results in folders:
                bundle_dir = run_study(folder, results)
                paths = build_report(bundle_dir, root / "reports")
                out[folder.name] = (paths["html"].parent, load_bundle(bundle_dir))
            portfolio = build_portfolio(root / "results", root / "reports", studies_root=root / "studies")
            out["portfolio"] = (portfolio["html"].parent, None)
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
    return out
