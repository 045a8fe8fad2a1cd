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


def _binary_selected(seed=4, n_t=300, n_c=900):
    """A binary outcome whose base rate depends on a covariate the groups differ on, so the raw group means and
    the weighted (ATT) means give clearly different risk ratios."""
    import numpy as np
    rng = np.random.default_rng(seed)
    x_t, x_c = rng.normal(1.0, 1, n_t), rng.normal(0.0, 1, n_c)
    z = rng.normal(0, 1, n_t + n_c)
    x = np.r_[x_t, x_c]
    t = np.r_[np.ones(n_t, bool), np.zeros(n_c, bool)]
    p = 1 / (1 + np.exp(-(-1.2 + 0.9 * x + 0.2 * z + 0.5 * t)))
    return pd.DataFrame({"group": np.where(t, "intervention", "control"), "x": x, "z": z,
                         "y": (rng.uniform(size=len(x)) < p).astype(float)})


@pytest.mark.parametrize("method", ["ipw", "nearest"])
def test_design_evalue_uses_the_weighted_means_the_analysis_reports(method):
    """The sensemakr check's E-value on a matched analysis with a binary outcome is the E-value of the risk ratio
    of the design's weighted (matched) group means — the means whose difference is the reported estimate — and
    not of the raw group means; the E-value of the confidence limit closest to 1 is given too."""
    import math

    import numpy as np
    import statsmodels.api as sm
    from scipy import stats

    from evaluation.designs.checks import CheckContext, get_check, run_check
    from evaluation.designs.family import AnalysisInput, get_family

    df = _binary_selected()
    fam = get_family("matched_comparison")
    # no caliper: every intervention person is kept, so the intervention mean is the group's plain mean
    opts = fam.Options(treatment="group", covariates=["x", "z"], method=method,
                       **({"caliper": None} if method == "nearest" else {}))
    inp = AnalysisInput(id="a", design=fam.design, options=opts, fit=fam.Fit(), outcome="y", frame=df)
    res = fam.estimate(inp)
    assert res.outcome_type == "binary"
    got = run_check(get_check("sensemakr"), CheckContext(inp=inp, result=res, family=fam))
    d = got.details
    t = (df["group"] == "intervention").to_numpy()
    y = df["y"].to_numpy()
    p1 = y[t].mean()  # ATT: the intervention group unweighted
    if method == "ipw":
        # by hand: a logistic propensity score and ATT odds weights on the comparison group
        X = sm.add_constant(df[["x", "z"]].to_numpy())
        ps = sm.Logit(t.astype(float), X).fit(disp=0).predict(X)
        w = ps[~t] / (1 - ps[~t])
        p0 = float(np.sum(w * y[~t]) / np.sum(w))
    else:
        p0 = p1 - res.estimates[0].estimate
    assert p1 - p0 == pytest.approx(res.estimates[0].estimate, abs=1e-8)
    assert d["risk_ratio"] == pytest.approx(p1 / p0, rel=1e-6)
    assert d["evalue"] == pytest.approx(evalue_rr(p1 / p0)[0], rel=1e-6)
    raw = y[t].mean() / y[~t].mean()
    assert abs(evalue_rr(raw)[0] - d["evalue"]) > 0.2  # the old, unweighted E-value would fail the check above
    # the interval's limit closest to 1: delta method on log RR from the design's own standard error
    se = res.estimates[0].std_error
    v1 = p1 * (1 - p1) / t.sum()
    se_log = math.sqrt(v1 / p1**2 + max(se**2 - v1, 0) / p0**2)
    z = stats.norm.ppf(0.975)
    lo, hi = p1 / p0 * math.exp(-z * se_log), p1 / p0 * math.exp(z * se_log)
    assert (d["risk_ratio_lower"], d["risk_ratio_upper"]) == pytest.approx((lo, hi), rel=1e-6)
    assert d["evalue_ci"] == pytest.approx(evalue_rr(p1 / p0, lo, hi)[1], rel=1e-6)
    assert 1 <= d["evalue_ci"] < d["evalue"]
    # the interval on the risk-ratio scale agrees with the analysis's own: it excludes 1 exactly when the
    # difference's interval excludes 0 (both rest on the same standard error)
    e = res.estimates[0]
    assert (lo > 1 or hi < 1) == (e.ci_lower > 0 or e.ci_upper < 0)



def test_the_report_gives_the_risk_ratio_its_interval_and_both_e_values():
    """The sensemakr block of "Hvor robust er resultatet?" prints the bundle's risk ratio, its interval and both
    E-values (the estimate's and the limit's closest to 1) with decimal commas."""
    from types import SimpleNamespace

    from evaluation.designs.matched.report import sensemakr_block as _sensemakr_block

    def missing(aid):
        raise StopIteration

    b = SimpleNamespace(analysis=missing, analyses=[], figures={})
    d = {"estimate": 0.1, "se": 0.02, "t": 5.0, "dof": 100, "partial_r2": 0.2, "rv_q": 0.4, "rv_qa": 0.3,
         "bounds": [], "model": "OLS", "risk_ratio": 1.5432, "risk_ratio_lower": 1.2061, "risk_ratio_upper": 1.9745,
         "evalue": 2.4567, "evalue_ci": 1.6912}
    txt = " ".join(_sensemakr_block(b, {"analysis": "a", "details": d}).split())
    assert "Risikoforholdet mellem grupperne i hovedresultatet (vægtet/matchet) er 1,54" in txt
    assert "(95 %-sikkerhedsinterval 1,21 til 1,97)" in txt and "E-værdi: 2,46; for sikkerhedsgrænsen nærmest 1: 1,69" in txt
    d2 = {k: v for k, v in d.items() if k not in ("risk_ratio_lower", "risk_ratio_upper", "evalue_ci")}
    txt2 = " ".join(_sensemakr_block(b, {"analysis": "a", "details": d2}).split())
    assert "E-værdi: 2,46 (VanderWeele" in txt2 and "sikkerhedsgrænsen" not in txt2
