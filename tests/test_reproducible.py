"""Outputs do not depend on where the checkout lives, nor on the pseudonymisation key (issue 12 item 5).

Two copies of studies and data, in folders of different names and depths, made with different keys:
results.json, tables, figures, index.qmd, report.json, HTML and PDF of the reports and the portfolio are
byte-identical, and no published file names the folder it was made in or contains the key. One copy is the
session's rendered tree (tests/conftest.py: key from EVALUATION_PSEUDONYM_KEY); the other is made here without
a key, so it makes its own random key file beside its studies. Without SOURCE_DATE_EPOCH a report is
rendered byte-identically too, wherever and whenever (a second apart) it is rendered.
"""

from __future__ import annotations

import shutil
import time
import warnings
from pathlib import Path

import pytest

from conftest import EPOCH, GOLDEN_KEY, STUDIES, SYNTHETIC
from evaluation.data.pseudonym import KEY_ENV, KEY_FILE, PseudonymKeyWarning
from evaluation.pipeline.run import run_study
from evaluation.portfolio.page import build_portfolio
from evaluation.reporting.quarto import build_report, write_report_project
from evaluation.reporting.render import pdf_text, render_project

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


def _from_the_session(tree, root: Path) -> Path:
    """A checkout at ``root`` holding the session's studies, bundles and reports of SLUGS, with the portfolio
    of those three made there (the session's portfolio shows every shipped study)."""
    for slug in SLUGS:
        for top in ("studies", "results", "reports"):
            shutil.copytree(tree.root / top / slug, root / top / slug)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_portfolio(root / "results", root / "reports", studies_root=root / "studies", engine="pandoc")
    return root


def test_outputs_are_byte_identical_wherever_the_checkout_lives(rendered_tree, tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    # the session's tree is dated EPOCH; this copy too (the test below renders without SOURCE_DATE_EPOCH)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    if rendered_tree.engine == "pandoc":
        a = _from_the_session(rendered_tree, tmp_path / "a")
        assert not any((a / "studies" / slug / KEY_FILE).exists() for slug in SLUGS)  # its key came from KEY_ENV
        secrets_a, folders_a = [GOLDEN_KEY.encode()], (rendered_tree.root, a, tmp_path)
    else:  # the session rendered with Quarto: make a pandoc copy here too
        a = _checkout(tmp_path / "a")
        _produce(a)
        secrets_a, folders_a = [(a / "studies" / s / KEY_FILE).read_bytes().strip() for s in SLUGS], (a, tmp_path)
    b = _checkout(tmp_path / "somewhere else" / "deeper" / "checkout-b")
    _produce(b)
    keys = {slug: (b / "studies" / slug / KEY_FILE).read_bytes() for slug in SLUGS}
    assert all(len(k.strip()) == 64 for k in keys.values())
    assert all(k.strip() not in secrets_a for k in keys.values())  # a and b were made with different keys
    out_a, out_b = _outputs(a), _outputs(b)
    assert sorted(out_a) == sorted(out_b)
    kinds = {Path(name).suffix for name in out_a}
    assert {".json", ".csv", ".qmd", ".html", ".pdf", ".png"} <= kinds
    different = [name for name in out_a if out_a[name] != out_b[name]]
    assert different == [], different
    secrets_b, folders_b = [k.strip() for k in keys.values()], (b, tmp_path)
    for outputs, secrets, folders in ((out_a, secrets_a, folders_a), (out_b, secrets_b, folders_b)):
        for name, data in outputs.items():
            for needle in (*(str(f).encode() for f in folders), *secrets):
                assert needle not in data, (name, needle[:20])
    for name in out_a:
        if name.endswith(".pdf"):  # a's and b's are byte-identical (above): the text of one is the text of both
            text = pdf_text(a / name)
            assert not any(str(f) in text for f in (*folders_a, *folders_b)), name


def test_a_report_without_source_date_epoch_renders_the_same_wherever_and_whenever(rendered_tree, tmp_path,
                                                                                   monkeypatch):
    """Without SOURCE_DATE_EPOCH the report is dated today and the PDF by a fixed date, not by the clock: the same
    bundle reported in two folders, a clock second apart, gives the same bytes."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    bundle = rendered_tree.root / "results" / "udvikling-af-fleksjob"
    made = {}
    for where in ("a", "somewhere else/deeper/b"):
        time.sleep(1.05 - time.time() % 1)  # the next second of the clock
        project = write_report_project(bundle, tmp_path / where / "report")
        render_project(project, formats=("html", "pdf"), engine="pandoc")
        made[where] = {str(p.relative_to(project)): p.read_bytes() for p in sorted(project.rglob("*")) if p.is_file()}
        assert {"index.qmd", "index.html", "index.pdf"} <= set(made[where])
    assert made["a"] == made["somewhere else/deeper/b"]
    for name, data in made["a"].items():
        assert str(tmp_path).encode() not in data, name


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
