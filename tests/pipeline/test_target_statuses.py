"""Target statuses and their Danish wording, table-driven over every combination of
kind (level, absolute change, relative change, effect) × direction × before/after the deadline ×
sample/census × a result that meets the goal, misses it, or is too uncertain to tell.

The status is decided by :func:`evaluation.pipeline.targets.evaluate_target` from declared figures (or an
effect result); the words come from :mod:`evaluation.reporting.targets` at the report's reference date.
"""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace

import pytest

from evaluation.declaration.theory import Indicator, Target
from evaluation.pipeline.targets import evaluate_target
from evaluation.reporting.targets import goal_text, target_status, targets_section, _result_text
from evaluation.results import AnalysisRecord, Bundle, EffectResult, Estimate, TargetRecord

DEADLINE = dt.date(2020, 12, 31)
BEFORE, AFTER = dt.date(2020, 6, 30), dt.date(2021, 3, 1)
BASELINE, N = 0.30, 400

# goal, and the observed share (or effect) that meets it, misses it, or sits on it (too uncertain with n = 400)
CASES = {
    ("level", "increase"): (0.35, {"met": 0.45, "not_met": 0.25, "uncertain": 0.35}),
    ("level", "decrease"): (0.25, {"met": 0.15, "not_met": 0.35, "uncertain": 0.25}),
    ("absolute_change", "increase"): (0.05, {"met": 0.45, "not_met": 0.25, "uncertain": 0.35}),
    ("absolute_change", "decrease"): (-0.05, {"met": 0.15, "not_met": 0.35, "uncertain": 0.25}),
    ("relative_change", "increase"): (0.10, {"met": 0.45, "not_met": 0.25, "uncertain": 0.33}),
    ("relative_change", "decrease"): (-0.10, {"met": 0.15, "not_met": 0.35, "uncertain": 0.27}),
    ("effect", "increase"): (0.05, {"met": (0.15, 0.08, 0.22), "not_met": (0.0, -0.05, 0.03), "uncertain": (0.05, -0.02, 0.12)}),
    ("effect", "decrease"): (-0.05, {"met": (-0.15, -0.22, -0.08), "not_met": (0.0, -0.03, 0.05),
                                     "uncertain": (-0.05, -0.12, 0.02)}),
}
GRID = [(kind, direction, when, census, outcome)
        for (kind, direction), when, census, outcome in itertools.product(CASES, ("before", "after"), (False, True),
                                                                           ("met", "not_met", "uncertain"))
        if not (census and kind == "effect")]  # an effect compares two groups: never a census


def _point_meets(kind, direction, goal, observed) -> bool:
    value = {"level": observed, "absolute_change": observed - BASELINE,
             "relative_change": (observed - BASELINE) / BASELINE}[kind]
    return value >= goal - 1e-12 if direction == "increase" else value <= goal + 1e-12


def _evaluate(kind, direction, census, outcome):
    goal, obs = CASES[(kind, direction)]
    target = Target(goal=goal, goal_type=kind, direction=direction, census=census, deadline=DEADLINE,
                    baseline=None if kind == "effect" else BASELINE)
    ind = Indicator(id="x", outcome="o", label="Andel i job", unit="andel",
                    metric={"name": "column", "params": {"column": "job"}}, target=target)
    if kind == "effect":
        est, lo, hi = obs[outcome]
        res = EffectResult(estimand="effect", design="randomized_comparison", outcome_type="binary", evidence_level=5,
                           estimates=(Estimate(term="difference_in_proportions", estimate=est, ci_lower=lo, ci_upper=hi,
                                               p_value=0.5, n=2 * N, n_treated=N, n_control=N, method="test"),))
        study = SimpleNamespace(analyses=[SimpleNamespace(id="a", indicator="x", design="randomized_comparison")], data={})
        tr = evaluate_target(ind, None, study, {"a": res})
    else:
        declared = SimpleNamespace(analysis=None, observed=obs[outcome], n_observed=N, baseline=None, n_baseline=N,
                                   assessment=None, evidence=None, provenance="register", measured_at=None)
        tr = evaluate_target(ind, declared, None, {})
    return tr, TargetRecord(indicator="x", label="Andel i job", unit="andel", target=target.model_dump(mode="json"),
                            result=tr)


def _bundle(rec) -> Bundle:
    analyses = ()
    if (rec.result.diagnostics or {}).get("analysis"):  # an effect target names its analysis (a lottery: kontrolgruppen)
        res = EffectResult(estimand="effect", design="randomized_comparison", outcome_type="binary",
                           estimates=rec.result.estimates)
        analyses = (AnalysisRecord(id="a", design="randomized_comparison", result=res, indicator="x",
                                   indicator_label=rec.label, unit="andel", options={"treatment": "group"}),)
    return Bundle(format="test", study={"id": "t", "title": "T", "period": {"start": "2020-01-01", "end": "2020-12-31"}},
                  theory={"nodes": []}, report_options={}, config_hash="sha256:0", targets=(rec,), analyses=analyses)


@pytest.mark.parametrize("kind,direction,when,census,outcome", GRID,
                         ids=["-".join(map(str, g)) for g in GRID])
def test_status_and_wording(kind, direction, when, census, outcome):
    tr, rec = _evaluate(kind, direction, census, outcome)
    goal, obs = CASES[(kind, direction)]
    ref = BEFORE if when == "before" else AFTER
    # the status: a sample is decided by its interval, a census by its point figure
    if census:
        expected = "met" if _point_meets(kind, direction, goal, obs[outcome]) else "not_met"
    else:
        expected = {"met": "met", "not_met": "not_met", "uncertain": "undecidable"}[outcome]
    assert tr.status == expected, (tr.status, tr.reason)
    assert tr.diagnostics["census"] is census
    label = target_status(rec, ref)
    words = {("met", "before"): "Nået", ("met", "after"): "Nået",
             ("not_met", "before"): "Ikke nået endnu", ("not_met", "after"): "Ikke nået",
             ("undecidable", "before"): "Kan ikke afgøres endnu", ("undecidable", "after"): "For usikkert til at afgøre"}
    assert label == words[(expected, when)]
    assert ("endnu" in label) == (when == "before" and expected != "met")
    # the goal in words: kind and direction decide the verb, a share's level is in %, a change in procentpoint
    text = goal_text(_bundle(rec), rec)
    verb = "stige" if direction == "increase" else "falde"
    if kind == "level":
        assert text.startswith(f"{verb} til {'mindst' if direction == 'increase' else 'højst'} ") and text.endswith("%")
    elif kind == "absolute_change":
        assert text == f"{verb} med mindst 5\u00a0procentpoint"
    elif kind == "relative_change":
        assert text == f"{verb} med mindst 10\u00a0%"
    else:
        assert text == f"mindst 5\u00a0procentpoint {'højere' if direction == 'increase' else 'lavere'} end i kontrolgruppen"
    # the result: a census has no interval and says so; a sample shows its interval
    shown = _result_text(rec)
    if census:
        assert shown.endswith("(totaltælling)") and "–" not in shown.replace("−", "")
        assert tr.estimates[0].ci_lower != tr.estimates[0].ci_lower  # NaN: no sampling interval
    else:
        assert "(" in shown and "totaltælling" not in shown
    # the whole section at the reference date: "endnu" only before the deadline, the census said in words
    section = targets_section(_bundle(rec), ref)
    assert ("endnu" in section.split("\n- **")[0]) == (when == "before" and expected != "met")
    assert ("totaltælling" in section) == census


def test_no_target_is_shown_without_a_status():
    target = Target(goal_type="none", requirement="Følges uden måltal", deadline=DEADLINE)
    ind = Indicator(id="x", outcome="o", label="Påbegyndt forløb", unit="andel",
                    qualitative={"method": "projektopgørelse", "description": "d"}, target=target)
    declared = SimpleNamespace(analysis=None, observed=0.81, n_observed=178, baseline=None, n_baseline=None,
                               assessment=None, evidence=None, provenance="project", measured_at=None)
    tr = evaluate_target(ind, declared, None, {})
    rec = TargetRecord(indicator="x", label="Påbegyndt forløb", unit="andel", target=target.model_dump(mode="json"), result=tr)
    assert tr.status == "no_target"
    for ref in (BEFORE, AFTER):
        assert target_status(rec, ref) == "Intet måltal"
    section = targets_section(_bundle(rec), AFTER)
    assert "**Intet måltal**" in section and "81,0\u00a0%" in section and "endnu" not in section


def test_a_missing_result_after_the_deadline_is_not_opgjort_and_before_it_not_yet():
    target = Target(goal=0.35, goal_type="level", direction="increase", deadline=DEADLINE)
    ind = Indicator(id="x", outcome="o", label="Andel i job", unit="andel",
                    metric={"name": "column", "params": {"column": "job"}}, target=target)
    tr = evaluate_target(ind, None, None, {})
    rec = TargetRecord(indicator="x", label="Andel i job", unit="andel", target=target.model_dump(mode="json"), result=tr)
    assert tr.status == "undecidable" and tr.diagnostics["undecided_because"] == "no_result"
    assert target_status(rec, AFTER) == "Ikke opgjort"
    assert target_status(rec, BEFORE) == "Kan ikke afgøres endnu"


def test_counts_are_whole_numbers_and_relative_goals_in_percent():
    target = Target(goal=-0.04, goal_type="relative_change", direction="decrease", census=True, deadline=DEADLINE)
    ind = Indicator(id="u", outcome="o", label="Unge på offentlig forsørgelse", unit="personer",
                    metric={"name": "column", "params": {"column": "u"}}, target=target)
    declared = SimpleNamespace(analysis=None, observed=4691, n_observed=None, baseline=4888, n_baseline=None,
                               assessment=None, evidence=None, provenance="synthetic", measured_at=None)
    tr = evaluate_target(ind, declared, None, {})
    rec = TargetRecord(indicator="u", label="Unge på offentlig forsørgelse", unit="personer",
                       target=target.model_dump(mode="json"), result=tr)
    assert tr.status == "met"
    assert goal_text(_bundle(rec), rec) == "falde med mindst 4\u00a0%"
    section = targets_section(_bundle(rec), AFTER)
    assert "4.888 personer" in section and "4.691 personer" in section and "4.888,0" not in section
    assert "−4,0\u00a0% (totaltælling)" in section
