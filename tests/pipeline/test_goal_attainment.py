"""Goal attainment (pre/post targets without a comparison group)."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest

from evaluation.metrics.targets import goal_status
from evaluation.pipeline.targets import evaluate_target
from evaluation.declaration.theory import Indicator, Target

from conftest import REFERENCE


def test_goal_status_rules():
    # decrease to at most 13 %
    assert goal_status(0.11, 0.10, 0.12, 0.13, "decrease")[0] == "met"
    assert goal_status(0.123, 0.11, 0.136, 0.13, "decrease")[0] == "undecidable"
    assert goal_status(0.15, 0.14, 0.16, 0.13, "decrease")[0] == "not_met"
    # increase, no interval (population figures): compare the point
    assert goal_status(0.41, None, None, 0.40, "increase")[0] == "met"
    assert goal_status(0.384, None, None, 0.40, "increase")[0] == "not_met"
    assert goal_status(float("nan"), None, None, 0.40, "increase")[0] == "undecidable"
    with pytest.raises(ValueError):
        goal_status(0.5, None, None, 0.4, "up")


def _ind(goal_type, goal, direction, baseline=None, unit="andel"):
    return Indicator(id="x", outcome="o", label="Andel", unit=unit, metric={"name": "column", "params": {"column": "c"}},
                     target=Target(goal=goal, goal_type=goal_type, direction=direction, baseline=baseline))


def _declared(**kw):
    base = dict(analysis=None, observed=None, n_observed=None, baseline=None, n_baseline=None, assessment=None, evidence=None)
    base.update(kw)
    return SimpleNamespace(**base)


def test_relative_change_interval_is_newcombe_over_baseline():
    ref = json.loads((REFERENCE / "newcombe1998_difference_proportions.json").read_text())
    a = ref["examples"][0]  # 56/70 vs 48/80 (Newcombe 1998, Table II, method 10)
    p1, p2 = a["x1"] / a["n1"], a["x2"] / a["n2"]
    ind = _ind("relative_change", 0.05, "increase", baseline=p2)
    r = evaluate_target(ind, _declared(observed=p1, n_observed=a["n1"], n_baseline=a["n2"]), None, {})
    e = r.estimates[0]
    assert e.estimate == pytest.approx((p1 - p2) / p2)
    assert e.ci_lower == pytest.approx(a["lower"] / p2, abs=ref["tolerance_abs"] / p2)
    assert e.ci_upper == pytest.approx(a["upper"] / p2, abs=ref["tolerance_abs"] / p2)
    assert r.status == "met" and "Newcombe" in e.method


def test_level_share_with_wilson_interval_and_undecidable_when_missing():
    ind = _ind("level", 0.13, "decrease", baseline=0.153)
    r = evaluate_target(ind, _declared(observed=0.123, n_observed=2301), None, {})
    e = r.estimates[0]
    assert e.ci_lower < 0.123 < e.ci_upper and "Wilson" in e.method
    assert r.status == "undecidable"  # the interval straddles 13 %
    r2 = evaluate_target(ind, None, None, {})
    assert r2.status == "undecidable" and "foreligger ikke" in r2.reason and "endnu" not in r2.reason
    assert r2.diagnostics["undecided_because"] == "no_result"
    assert math.isnan(r2.estimates[0].estimate)


def test_qualitative_requirement_uses_declared_assessment():
    ind = Indicator(id="q", outcome="o", label="Opbakning", qualitative={"method": "dokumentstudie", "description": "d"},
                    target=Target(requirement="Skriftlig opbakning fra 7 aktører"))
    r = evaluate_target(ind, _declared(assessment="not_met", evidence="Ingen erklæringer indsamlet"), None, {})
    assert r.status == "not_met" and r.reason == "Ingen erklæringer indsamlet"


def test_target_needs_goal_or_requirement():
    with pytest.raises(ValueError):
        Target(direction="increase")
    with pytest.raises(ValueError):
        Target(goal=0.1)  # numeric goal without direction


def test_level_target_reports_change_from_baseline_with_newcombe():
    ref = json.loads((REFERENCE / "newcombe1998_difference_proportions.json").read_text())
    a = ref["examples"][0]
    ind = _ind("level", 0.5, "increase", baseline=a["x2"] / a["n2"])
    r = evaluate_target(ind, _declared(observed=a["x1"] / a["n1"], n_observed=a["n1"], n_baseline=a["n2"]), None, {})
    ch = r.estimate_for("change_from_baseline")
    assert ch.ci_lower == pytest.approx(a["lower"], abs=ref["tolerance_abs"])
    assert ch.ci_upper == pytest.approx(a["upper"], abs=ref["tolerance_abs"])
