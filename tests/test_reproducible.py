"""Outputs do not depend on where the checkout lives, nor on the pseudonymisation key (issue 12 item 5).

Two copies of studies and data, in folders of different names and depths, each run without a key
(so each makes its own random key beside its studies): results.json, tables, figures, index.qmd,
report.json, HTML and PDF of the reports and the portfolio are byte-identical, and no published file
names the folder it was made in or contains the key.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from conftest import STUDIES, SYNTHETIC
from evaluation.data.pseudonym import KEY_ENV, KEY_FILE, PseudonymKeyWarning
from evaluation.pipeline.run import run_study
from evaluation.portfolio.page import build_portfolio
from evaluation.reporting.quarto import build_report
from evaluation.reporting.render import pdf_text

SLUGS = ("arbejdsfastholdelse-ved-sygdom", "jobfirst", "udvikling-af-fleksjob")


def _checkout(root: Path) -> Path:
    for slug in SLUGS:
        shutil.copytree(STUDIES / slug, root / "studies" / slug, ignore=shutil.ignore_patterns(KEY_FILE))
        if (SYNTHETIC / slug).is_dir():
            shutil.copytree(SYNTHETIC / slug, root / "data" / "synthetic" / slug)
    return root


def _produce(root: Path) -> None:
    for slug in SLUGS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bundle = run_study(root / "studies" / slug, root / "results")
        notes = [w for w in caught if issubclass(w.category, PseudonymKeyWarning)]
        assert len(notes) == 1 and "a new random key is stored" in str(notes[0].message)  # said plainly, once
        build_report(bundle, root / "reports", engine="pandoc")
    build_portfolio(root / "results", root / "reports", studies_root=root / "studies", engine="pandoc")


def _outputs(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes()
            for top in ("results", "reports") for p in sorted((root / top).rglob("*")) if p.is_file()}


def test_outputs_are_byte_identical_wherever_the_checkout_lives(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    a = _checkout(tmp_path / "a")
    b = _checkout(tmp_path / "somewhere else" / "deeper" / "checkout-b")
    _produce(a)
    _produce(b)
    keys = {slug: (root / "studies" / slug / KEY_FILE).read_bytes() for root in (a, b) for slug in SLUGS}
    assert all(len(k.strip()) == 64 for k in keys.values())
    assert (a / "studies" / SLUGS[0] / KEY_FILE).read_bytes() != (b / "studies" / SLUGS[0] / KEY_FILE).read_bytes()
    out_a, out_b = _outputs(a), _outputs(b)
    assert sorted(out_a) == sorted(out_b)
    kinds = {Path(name).suffix for name in out_a}
    assert {".json", ".csv", ".qmd", ".html", ".pdf", ".png"} <= kinds
    different = [name for name in out_a if out_a[name] != out_b[name]]
    assert different == [], different
    for root, outputs in ((a, out_a), (b, out_b)):
        secrets = [(root / "studies" / slug / KEY_FILE).read_bytes().strip() for slug in SLUGS]
        for name, data in outputs.items():
            for needle in (str(root).encode(), str(tmp_path).encode(), *secrets):
                assert needle not in data, (name, needle[:20])
            if name.endswith(".pdf"):
                text = pdf_text(root / name)
                assert str(tmp_path) not in text


def test_the_key_file_is_kept_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    root = _checkout(tmp_path)
    folder = root / "studies" / "udvikling-af-fleksjob"
    with pytest.warns(PseudonymKeyWarning, match="a new random key is stored"):
        run_study(folder, root / "results")
    key = (folder / KEY_FILE).read_bytes()
    assert (folder / KEY_FILE).stat().st_mode & 0o077 == 0  # readable by its owner only
    with warnings.catch_warnings():
        warnings.simplefilter("error", PseudonymKeyWarning)  # not said again
        run_study(folder, root / "results")
    assert (folder / KEY_FILE).read_bytes() == key
    (folder / KEY_FILE).write_bytes(b"\n")
    from evaluation.exceptions import DataValidationError

    with pytest.raises(DataValidationError, match="key file is empty"):
        run_study(folder, root / "results")
