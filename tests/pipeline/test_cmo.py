"""CMO status from evidence (issue 14 item 6): the stated rule on constructed evidence, the shipped studies'
statuses, the report's claims and the portfolio's aggregation by mechanism."""

from __future__ import annotations


import pandas as pd
import pytest

from evaluation.pipeline.cmo import STATUS_DA, cmo_evidence
from evaluation.results import AnalysisRecord, EffectResult, Estimate


def _theory(direction="decrease", assumptions=(), mediated=False, crit="high"):
    return {
        "target_group": {"description": "x"},
        "nodes": [{"id": "a", "type": "activity", "label": "A"}, {"id": "o", "type": "outcome", "label": "O"}],
        "links": [{"from": "a", "to": "o", "mechanism": "m", "assumptions": list(assumptions), "moderators": ["mod"],
                   **({"mediator": "med"} if mediated else {})}],
        "mechanisms": [{"id": "m", "label": "Mek", "resource": "r", "reasoning": "s", "category": "Kontakt"}],
        "moderators": [{"id": "mod", "label": "Køn", "variable": "sex"}],
        "assumptions": [{"id": a, "description": f"Antagelse {a}", "criticality": crit, "checks": []} for a in assumptions],
        "cmo": [{"id": "c", "context": [], "mechanism": "m", "outcome": "o", "status": "initial"}],
        "indicators": [{"id": "y", "outcome": "o", "label": "Y", "direction": direction,
                        "metric": {"name": "column", "params": {"column": "y"}}}],
    }


def _rec(lo, hi, acme=None, p_holm=None):
    tables = {}
    if acme is not None:
        tables["mediation"] = pd.DataFrame([{"link": "a → o", "mechanism": "m", "mediator": "med", "term": "acme",
                                             "estimate": sum(acme) / 2, "ci_lower": acme[0], "ci_upper": acme[1]}])
    if p_holm is not None:
        tables["subgroups"] = pd.DataFrame([{"moderator": "mod", "level": l, "p_interaction_holm": p_holm} for l in "ab"])
    res = EffectResult(estimand="", estimates=(Estimate("difference_in_means", (lo + hi) / 2, ci_lower=lo, ci_upper=hi,
                                                        n_treated=50, n_control=50),),
                       design="randomized_comparison", tables=tables)
    return AnalysisRecord(id="an", design="randomized_comparison", result=res, indicator="y", indicator_label="Y")


@pytest.mark.parametrize("case,expected", [
    (dict(ci=(-3, -1)), "supported"),                       # the whole interval on the expected side
    (dict(ci=(1, 3)), "not_supported"),                     # entirely against
    (dict(ci=(-3, 1)), "undetermined"),                     # contains zero
    (dict(ci=(-3, -1), direction="increase"), "not_supported"),
    (dict(ci=(-3, -1), acme=(-2, -0.5)), "supported"),      # the mechanism shown too
    (dict(ci=(-3, -1), acme=(-2, 0.5)), "undetermined"),    # the effect is there, its route through m is not shown
    (dict(ci=(-3, 1), acme=(0.5, 2)), "not_supported"),     # the indirect effect goes the wrong way
])
def test_the_rule(case, expected):
    th = _theory(direction=case.get("direction", "decrease"), mediated="acme" in case)
    rec = _rec(*case["ci"], acme=case.get("acme"))
    got = cmo_evidence(th, [rec])[0]
    assert got["status"] == expected and got["status_da"] == STATUS_DA[expected]
    assert got["category"] == "Kontakt" and got["reasons_da"]


def test_assumptions_and_subgroups_in_the_rule():
    th = _theory(assumptions=["x"])
    rec = _rec(-3, -1, p_holm=0.01)
    assert cmo_evidence(th, [rec], checked={"x": "brudt"})[0]["status"] == "not_supported"  # high criticality broken
    assert cmo_evidence(th, [rec], checked={"x": "tvivlsom"})[0]["status"] == "undetermined"
    got = cmo_evidence(th, [rec], checked={"x": "holder"})[0]
    assert got["status"] == "supported"
    assert any("er forskellig mellem grupperne af «Køn»" in r for r in got["reasons_da"])  # reported, status unchanged
    low = _theory(assumptions=["x"], crit="low")
    assert cmo_evidence(low, [rec], checked={"x": "brudt"})[0]["status"] == "undetermined"
    none = cmo_evidence(th, [], checked={})[0]
    assert none["status"] == "undetermined" and "Der er ingen effektanalyse af resultatet." in none["reasons_da"]
    nodir = _theory(direction=None)
    got = cmo_evidence(nodir, [rec])[0]
    assert got["status"] == "undetermined" and any("angiver ikke" in r for r in got["reasons_da"])


def test_shipped_studies_statuses_follow_and_the_portfolio_aggregates(rendered_reports):
    """The two shipped studies' bundles as the session ran them (tests/conftest.py's rendered_tree)."""
    from claims import check_report_claims
    from evaluation.portfolio.page import mechanism_evidence, portfolio_markdown
    from evaluation.reporting.quarto import report_markdown

    bundles = []
    for slug in ("arbejdsfastholdelse-ved-sygdom", "jobfirst"):
        b = rendered_reports[slug][1]
        bundles.append(b)
        assert b.cmo_evidence and len(b.cmo_evidence) == len(b.theory["cmo"])
        qmd = report_markdown(b, {})  # without figures, as a run with figures=False gives it
        assert "# Programteorien i lyset af resultaterne" in qmd
        assert not check_report_claims(qmd, b)
        c0 = b.cmo_evidence[0]
        wrong = "ikke understøttet" if c0["status_da"] != "ikke understøttet" else "understøttet"
        bad = qmd.replace(f"{c0['outcome_label']}: {c0['status_da']}.**", f"{c0['outcome_label']}: {wrong}.**")
        assert any(c0["id"] in p for p in check_report_claims(bad, b))
    status = {c["id"]: c["status"] for c in bundles[0].cmo_evidence}
    # the mediator's indirect effect on sick leave has an interval containing zero: the dialogue CMO is not shown
    assert status["cmo_arbejdspladsdialog"] in ("undetermined", "supported")
    groups = {g["category"]: g for g in mechanism_evidence(bundles)}
    both = groups["Gradvis optrapning på arbejdspladsen"]
    assert sorted(both["projects"]) == ["arbejdsfastholdelse-ved-sygdom", "jobfirst"]
    assert both["supported"] + both["not_supported"] + both["undetermined"] == len(both["cmo"]) == 2
    md = portfolio_markdown(bundles, studies_root=None)
    assert "# Hvilke mekanismer har vi evidens for?" in md and "Gradvis optrapning på arbejdspladsen" in md
