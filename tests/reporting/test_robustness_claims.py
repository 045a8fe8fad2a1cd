"""The section "Hvor robust er resultatet?" says only what the bundle's robustness record supports
(tests/robustness_claims.py), on every shipped study; the checker catches false statuses, numbers and raw
identifiers. The generated studies of every family and scenario are checked in
tests/designs/test_family_conformance.py with the same checker."""

from __future__ import annotations

import pytest

from robustness_claims import check_robustness_claims, robustness_section


@pytest.fixture(scope="module")
def shipped(rendered_reports):
    """{slug: (bundle, index.qmd)} of the seven shipped studies, from the session's rendered reports (the
    generated studies are checked in test_family_conformance)."""
    return {slug: (bundle, (folder / "index.qmd").read_text(encoding="utf-8"))
            for slug, (folder, bundle) in rendered_reports.items()
            if bundle is not None and not slug.startswith("gen-")}


def test_shipped_studies_robustness_claims_follow_from_the_bundle(shipped):
    assert len(shipped) >= 7
    for name, (bundle, qmd) in shipped.items():
        problems = check_robustness_claims(qmd, bundle)
        assert not problems, f"{name}:\n" + "\n".join(problems)


def test_every_declared_assumption_has_a_status_or_a_reason(shipped):
    for name, (bundle, qmd) in shipped.items():
        assessed = (bundle.robustness or {}).get("assumptions", [])
        # every assumption the study declares is assessed, once, and nothing else (the loop below would pass
        # vacuously for an assumption the record left out)
        declared = [a["id"] for a in bundle.theory.get("assumptions", [])]
        assert sorted(a["id"] for a in assessed) == sorted(declared), name
        assert len({a["id"] for a in assessed}) == len(assessed), name
        for a in assessed:
            assert a["status"] in ("holder", "tvivlsom", "brudt") or a["reason_da"], (name, a["id"])


def test_the_checker_catches_false_claims(shipped):
    bundle, qmd = shipped["flere-skal-med"]
    sec = robustness_section(qmd)
    assert "Nedbrydningsværdi: M̄ = " in sec and "Status: **Tvivlsom**." in sec
    # a status the checks do not give
    flipped = qmd.replace("Status: **Tvivlsom**.", "Status: **Holder**.", 1)
    assert any("the section says 'Holder'" in p for p in check_robustness_claims(flipped, bundle))
    # a check's status changed in its bullet
    hidden = qmd.replace("(Callaway–Sant'Anna): Tvivlsom.", "(Callaway–Sant'Anna): Holder.", 1)
    assert hidden != qmd
    assert any("is not shown with its status" in p for p in check_robustness_claims(hidden, bundle))
    # a design check shown with another status
    dline = next(line for line in sec.splitlines() if line.startswith("- ") and ": **Holder**. " in line)
    flipped_d = qmd.replace(dline, dline.replace(": **Holder**. ", ": **Brudt**. ", 1), 1)
    assert any("shown status differs" in p for p in check_robustness_claims(flipped_d, bundle))
    # an assumption block dropped
    first = next(line for line in sec.splitlines() if line.startswith("**A"))
    assert any("has no block" in p for p in check_robustness_claims(qmd.replace(first, "", 1), bundle))
    # a sensitivity interval shown on another scale than the results (shares instead of procentpoint)
    rm = next(c for c in bundle.robustness["checks"] if c["check"] == "honest_did" and c["status"] != "kan_ikke_testes")
    from evaluation.presentation.formatting import fmt_number as fn
    lo, hi = rm["details"]["relative_magnitudes"]["lb"][0], rm["details"]["relative_magnitudes"]["ub"][0]
    pp = f"{fn(100 * lo, 2)} til {fn(100 * hi, 2)}"
    assert pp in sec
    shares = qmd.replace(pp, f"{fn(lo, 3)} til {fn(hi, 3)}")
    assert any("robust interval" in p for p in check_robustness_claims(shares, bundle))
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
