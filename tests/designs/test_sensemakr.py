"""Sensitivity to unobserved confounding (evaluation.designs._sensemakr) against sensemakr's published Darfur
example and VanderWeele & Ding's E-value example (sources in tests/reference/sensemakr_darfur.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evaluation.designs._sensemakr import evalue_rr, ovb_bounds, robustness_value, sensemakr
from evaluation.exceptions import EstimationError

REFDIR = Path(__file__).resolve().parents[1] / "reference"
REF = json.loads((REFDIR / "sensemakr_darfur.json").read_text())


def _close(ours: float, printed: float, decimals: int) -> bool:
    return abs(ours - printed) <= 0.5 * 10 ** (-decimals) + 1e-12


@pytest.fixture(scope="module")
def darfur():
    d = pd.read_csv(REFDIR / "darfur.csv")
    assert len(d) == 1276
    return sensemakr(d, "peacefactor", "directlyharmed",
                     ["age", "farmer_dar", "herder_dar", "pastvoted", "hhsize_darfur", "female", "village"],
                     benchmarks=["female"], kd=(1, 2, 3))


def test_darfur_statistics(darfur):
    p, dec = REF["printed"], REF["decimals"]
    assert darfur.dof == p["dof"]
    for k in ("estimate", "se", "t", "partial_r2", "rv_q", "rv_qa"):
        ours = getattr(darfur, k)
        assert _close(ours, p[k], dec[k]), (k, ours, p[k])


def test_darfur_bounds(darfur):
    assert [b.label for b in darfur.bounds] == [b["label"] for b in REF["printed"]["bounds"]]
    for ours, pub in zip(darfur.bounds, REF["printed"]["bounds"]):
        for k, v in pub.items():
            if k != "label":
                assert _close(getattr(ours, k), v, REF["decimals"]["bounds"]), (pub["label"], k, getattr(ours, k), v)


def test_robustness_value_cases():
    assert robustness_value(0.5, 100, alpha=0.05) == 0.0  # not significant: nothing to explain away
    # extreme case (f_q > 1/f*): the constraint R²_dz = R²_yz does not bind
    t, dof = 40.0, 10
    rv = robustness_value(t, dof, alpha=0.05)
    assert 0 < rv < 1
    with pytest.raises(EstimationError):
        robustness_value(2.0, 1)


def test_impossible_benchmark_multiple_is_refused():
    with pytest.raises(EstimationError):
        ovb_bounds(0.1, 0.02, 100, 0.6, 0.1, benchmark="x", kd=(2,))


def test_evalue_published():
    e = REF["evalue"]
    ev, ev_ci = evalue_rr(e["rr"], e["lo"], e["hi"])
    assert _close(ev, e["evalue"], e["decimals"]) and _close(ev_ci, e["evalue_ci"], e["decimals"])
    # symmetric below 1, and 1 when the interval contains 1
    assert evalue_rr(1 / e["rr"])[0] == pytest.approx(ev)
    assert evalue_rr(1.2, 0.9, 1.6)[1] == 1.0
