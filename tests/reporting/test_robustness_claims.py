"""The section "Hvor robust er resultatet?" says only what the bundle's robustness record supports
(tests/robustness_claims.py), on every shipped study; the checker catches false statuses, numbers and raw
identifiers. The generated studies of every family and scenario are checked in
tests/designs/test_family_conformance.py with the same checker."""

from __future__ import annotations

import shutil
import warnings

import pytest

from evaluation.pipeline.run import run_study
from evaluation.reporting.quarto import write_report_project
from evaluation.results import load_bundle
from robustness_claims import check_robustness_claims, robustness_section

from conftest import STUDIES, SYNTHETIC


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    root = tmp_path_factory.mktemp("robust")
    shutil.copytree(STUDIES, root / "studies")
    shutil.copytree(SYNTHETIC, root / "data" / "synthetic")
    out = {}
    for d in sorted((root / "studies").glob("*/study.yaml")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bdir = run_study(d.parent, root / "results", figures=False)
        qmd = (write_report_project(bdir, root / "reports" / d.parent.name) / "index.qmd").read_text(encoding="utf-8")
        out[d.parent.name] = (load_bundle(bdir), qmd)
    return out


def test_shipped_studies_robustness_claims_follow_from_the_bundle(shipped):
    assert len(shipped) >= 7
    for name, (bundle, qmd) in shipped.items():
        problems = check_robustness_claims(qmd, bundle)
        assert not problems, f"{name}:\n" + "\n".join(problems)


def test_every_declared_assumption_has_a_status_or_a_reason(shipped):
    for name, (bundle, qmd) in shipped.items():
        for a in (bundle.robustness or {}).get("assumptions", []):
            assert a["status"] in ("holder", "tvivlsom", "brudt") or a["reason_da"], (name, a["id"])


def test_the_checker_catches_false_claims(shipped):
    bundle, qmd = shipped["flere-skal-med"]
    sec = robustness_section(qmd)
    assert "Nedbrydningsværdi: M̄ = " in sec and "| Tvivlsom |" in sec
    # a status the checks do not give
    flipped = qmd.replace("| Tvivlsom |", "| Holder |", 1)
    assert any("the section says 'Holder'" in p for p in check_robustness_claims(flipped, bundle))
    # a breakdown value that is not the bundle's
    bd = next(c for c in bundle.robustness["checks"] if c["check"] == "honest_did" and c["status"] != "kan_ikke_testes")
    from evaluation.presentation.formatting import fmt_number
    shown = f"Nedbrydningsværdi: M̄ = {fmt_number(bd['details']['relative_magnitudes']['breakdown'], 2)}"
    wrong = qmd.replace(shown, "Nedbrydningsværdi: M̄ = 1,50")
    assert any("breakdown value" in p for p in check_robustness_claims(wrong, bundle))
    # raw identifiers: an analysis id, a column name that has a label
    aid = bd["analysis"]
    raw = qmd.replace("# Hvor robust er resultatet? {#robusthed}\n", f"# Hvor robust er resultatet? {{#robusthed}}\n\nSe {aid} og (age).\n")
    problems = check_robustness_claims(raw, bundle)
    assert any(f"analysis id {aid!r}" in p for p in problems)
    assert any("'age'" in p for p in problems)
    # a check whose status does not follow from its number
    import copy
    d = copy.deepcopy(bundle.to_dict())
    bal = next(c for c in d["robustness"]["checks"] if c["check"] == "balance")
    bal["number"] = 0.3
    assert any(p.startswith("balance") and "gives brudt" in p for p in check_robustness_claims(qmd, d))
