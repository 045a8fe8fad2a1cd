"""Declared weights and clusters are honoured, never ignored (DESIGN.md §8 point 7).

For each of did_2x2, did_twfe, did_cs and randomized_comparison, on data built here:

* effects are heterogeneous (only persons of type x = 1 respond) and x = 1 persons carry
  weight 4: the weighted estimate must recover the *weighted* truth and the unweighted one the
  unweighted truth, and the two must differ by many standard errors;
* treatment is assigned at cluster level and outcomes share cluster-by-period shocks: the
  estimate clustered on the assignment unit must have a clearly larger standard error than the
  person-level one, with the same point estimate;
* an argument that cannot be honoured raises instead of being dropped.

The truths are computed from each simulated sample (the sample ATT/ATE), so the comparisons are
against noise only; tolerances are 4 standard errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.designs.did.estimators import TWFE, CallawaySantAnna, DiD2x2
from evaluation.designs.randomized.estimator import RandomizedComparison
from evaluation.exceptions import DataValidationError, EstimationError

EFFECT_X1 = -0.15  # effect for type-x persons; zero for the others
W_X1 = 4.0


def _persons(n, n_clusters, rng):
    x = (rng.random(n) < 0.5).astype(float)
    cl = rng.integers(0, n_clusters, size=n)
    return x, cl, np.where(x == 1, W_X1, 1.0)


def _panel(n=3000, T=6, n_clusters=40, cluster_sd=0.0, seed=0, staggered=False):
    """Long panel; clusters 0..19 enrol (in period 4, or in periods 3..5 by cluster if staggered)."""
    rng = np.random.default_rng(seed)
    x, cl, w = _persons(n, n_clusters, rng)
    if staggered:
        start_by_cluster = np.where(np.arange(n_clusters) < n_clusters // 2, 3 + np.arange(n_clusters) % 3, np.inf)
    else:
        start_by_cluster = np.where(np.arange(n_clusters) < n_clusters // 2, 4.0, np.inf)
    g = start_by_cluster[cl]
    periods = np.arange(1, T + 1)
    level = 0.5 + 0.1 * np.isfinite(g) + 0.15 * rng.standard_normal(n)
    shock = cluster_sd * rng.standard_normal((n_clusters, T))
    D = periods[None, :] >= g[:, None]
    Y = level[:, None] + 0.01 * periods[None, :] + shock[cl] + 0.1 * rng.standard_normal((n, T))
    Y += EFFECT_X1 * x[:, None] * D
    df = pd.DataFrame({
        "person": np.repeat(np.arange(n), T), "period": np.tile(periods, n),
        "y": Y.ravel(), "d": D.ravel().astype(int), "post": np.tile((periods >= 4).astype(int), n),
        "treated": np.repeat(np.isfinite(g).astype(int), T), "cohort": np.repeat(np.where(np.isfinite(g), g, np.nan), T),
        "x": np.repeat(x, T), "w": np.repeat(w, T), "jobcentre": np.repeat(cl, T),
    })
    return df, x, w, g


def _att_truth(x, w, treated):
    eff = EFFECT_X1 * x[treated]
    return float(eff.mean()), float(np.average(eff, weights=w[treated]))


def _assert_weights_matter(unw, wtd, truth_u, truth_w):
    assert abs(unw.estimate - truth_u) < 4 * unw.std_error, (unw.estimate, truth_u)
    assert abs(wtd.estimate - truth_w) < 4 * wtd.std_error, (wtd.estimate, truth_w)
    assert abs(wtd.estimate - unw.estimate) > 4 * max(unw.std_error, wtd.std_error)


def _assert_cluster_matters(person, clustered, name):
    assert clustered.estimate == pytest.approx(person.estimate, abs=1e-12)
    assert clustered.std_error > 1.5 * person.std_error, (person.std_error, clustered.std_error)
    assert name in clustered.method


# --------------------------------------------------------------------------- did_2x2

def _two_period(df):
    d = df[df.period.isin([3, 4])].copy()
    return d


def test_did_2x2_weights_change_the_estimate_on_heterogeneous_data():
    df, x, w, g = _panel(seed=1)
    d = _two_period(df)
    truth_u, truth_w = _att_truth(x, w, np.isfinite(g))
    unw = DiD2x2("y", group="treated", time="post", unit="person").fit(d).estimate_for("did")
    wtd = DiD2x2("y", group="treated", time="post", unit="person", weights="w").fit(d).estimate_for("did")
    _assert_weights_matter(unw, wtd, truth_u, truth_w)
    # constant weights are no weights
    const = DiD2x2("y", group="treated", time="post", unit="person", weights="w").fit(d.assign(w=2.5)).estimate_for("did")
    assert const.estimate == pytest.approx(unw.estimate, abs=1e-12)
    assert const.std_error == pytest.approx(unw.std_error, rel=1e-10)


def test_did_2x2_cluster_changes_the_standard_error():
    d = _two_period(_panel(cluster_sd=0.08, seed=2)[0])
    person = DiD2x2("y", group="treated", time="post", unit="person").fit(d).estimate_for("did")
    clustered = DiD2x2("y", group="treated", time="post", unit="person", cluster="jobcentre").fit(d).estimate_for("did")
    _assert_cluster_matters(person, clustered, "jobcentre")
    with pytest.raises(EstimationError, match="cluster"):
        DiD2x2("y", group="treated", time="post", unit="person", cluster="jobcentre").fit(d, cov_type="robust")
    with pytest.raises(DataValidationError, match="weights"):
        DiD2x2("y", group="treated", time="post", unit="person", weights="w").fit(d.assign(w=-1.0))


# --------------------------------------------------------------------------- did_twfe

def test_did_twfe_weights_change_the_estimate_on_heterogeneous_data():
    df, x, w, g = _panel(n=2000, seed=3)
    truth_u, truth_w = _att_truth(x, w, np.isfinite(g))
    unw = TWFE("y", unit="person", time="period", treatment="d").fit(df).estimate_for("twfe")
    wtd = TWFE("y", unit="person", time="period", treatment="d", weights="w").fit(df).estimate_for("twfe")
    _assert_weights_matter(unw, wtd, truth_u, truth_w)
    assert "WLS" in wtd.method


def test_did_twfe_cluster_changes_the_standard_error():
    df = _panel(n=2000, cluster_sd=0.08, seed=4)[0]
    person = TWFE("y", unit="person", time="period", treatment="d").fit(df).estimate_for("twfe")
    clustered = TWFE("y", unit="person", time="period", treatment="d", cluster="jobcentre").fit(df).estimate_for("twfe")
    _assert_cluster_matters(person, clustered, "jobcentre")
    for cov in ("robust", "unadjusted"):
        with pytest.raises(EstimationError, match="cluster"):
            TWFE("y", unit="person", time="period", treatment="d", cluster="jobcentre").fit(df, cov_type=cov)


# --------------------------------------------------------------------------- did_cs

def _cs_truth(x, w, g, T):
    """att_overall truth: cohort-share weighted average over post cells of the cohort ATTs."""
    num = den = 0.0
    for gg in np.unique(g[np.isfinite(g)]):
        m = g == gg
        n_post = T - gg + 1
        att_g = np.average(EFFECT_X1 * x[m], weights=w[m])
        share = w[m].sum()
        num += share * n_post * att_g
        den += share * n_post
    return num / den


def test_did_cs_weights_change_the_estimate_on_heterogeneous_data():
    T = 6
    df, x, w, g = _panel(seed=5, staggered=True)
    truth_u = _cs_truth(x, np.ones_like(w), g, T)
    truth_w = _cs_truth(x, w, g, T)
    kw = dict(unit="person", time="period", cohort="cohort")
    unw = CallawaySantAnna("y", **kw).fit(df).estimate_for("att_overall")
    wtd = CallawaySantAnna("y", weights="w", **kw).fit(df).estimate_for("att_overall")
    _assert_weights_matter(unw, wtd, truth_u, truth_w)
    # covariate (doubly robust) path honours the weights too
    wdr = CallawaySantAnna("y", weights="w", covariates=["x"], **kw).fit(df).estimate_for("att_overall")
    assert abs(wdr.estimate - truth_w) < 4 * wdr.std_error
    # weights that vary within a person cannot be honoured by a unit-level estimator
    bad = df.assign(w=np.where(df.period == 1, 1.0, df.w))
    with pytest.raises(DataValidationError, match="constant within"):
        CallawaySantAnna("y", weights="w", **kw).fit(bad)


def test_did_cs_cluster_changes_the_standard_error():
    df = _panel(cluster_sd=0.08, seed=6, staggered=True)[0]
    kw = dict(unit="person", time="period", cohort="cohort")
    person = CallawaySantAnna("y", **kw).fit(df).estimate_for("att_overall")
    clustered = CallawaySantAnna("y", cluster="jobcentre", **kw).fit(df).estimate_for("att_overall")
    _assert_cluster_matters(person, clustered, "jobcentre")
    boot = CallawaySantAnna("y", cluster="jobcentre", **kw).fit(df, bootstrap=True, draws=499, seed=1)
    assert boot.estimate_for("att_overall").std_error > 1.5 * person.std_error
    bad = df.assign(jobcentre=np.where(df.period == 1, -1, df.jobcentre))
    with pytest.raises(DataValidationError, match="constant within"):
        CallawaySantAnna("y", cluster="jobcentre", **kw).fit(bad)


# --------------------------------------------------------------------------- randomized_comparison

def _trial(n=2000, n_clusters=60, cluster_sd=0.0, seed=0, by_cluster=False):
    rng = np.random.default_rng(seed)
    x, cl, w = _persons(n, n_clusters, rng)
    if by_cluster:
        t = np.isin(cl, rng.choice(n_clusters, n_clusters // 2, replace=False))
    else:
        t = rng.random(n) < 0.5
    age = rng.normal(40, 10, n)
    y = 10 + 0.2 * (age - 40) + cluster_sd * rng.standard_normal(n_clusters)[cl] + rng.standard_normal(n)
    y += -3.0 * x * t
    return pd.DataFrame({"group": np.where(t, "intervention", "control"), "y": y, "x": x, "w": w, "age": age,
                         "workplace": cl}), x, w


def test_randomized_weights_change_the_estimate_on_heterogeneous_data():
    df, x, w = _trial(seed=7)
    truth_u, truth_w = float(np.mean(-3.0 * x)), float(np.average(-3.0 * x, weights=w))  # sample ATE
    unw = RandomizedComparison(outcome="y").fit(df).estimate_for("difference_in_means")
    wtd_res = RandomizedComparison(outcome="y", weights="w").fit(df)
    wtd = wtd_res.estimate_for("difference_in_means")
    _assert_weights_matter(unw, wtd, truth_u, truth_w)
    t = (df.group == "intervention").to_numpy()
    expect = np.average(df.y[t], weights=df.w[t]) - np.average(df.y[~t], weights=df.w[~t])
    assert wtd.estimate == pytest.approx(expect, abs=1e-10)
    assert "weighted" in wtd.method and wtd_res.diagnostics["weights"] == "w"
    # Lin adjustment with weights: covariates centred at their weighted mean -> weighted ATE
    lin = RandomizedComparison(outcome="y", weights="w", covariates=["age"]).fit(df).estimate_for("adjusted_difference")
    assert abs(lin.estimate - truth_w) < 4 * lin.std_error and "WLS" in lin.method
    assert lin.std_error < wtd.std_error  # age is prognostic
    # constant weights: the unweighted estimate, and the WLS HC2 SE equals the Welch SE
    const = RandomizedComparison(outcome="y", weights="w").fit(df.assign(w=3.0)).estimate_for("difference_in_means")
    assert const.estimate == pytest.approx(unw.estimate, abs=1e-12)
    assert const.std_error == pytest.approx(unw.std_error, rel=1e-10)


def test_randomized_weighted_randomization_inference_uses_the_weighted_statistic():
    df, _, _ = _trial(n=400, seed=8)
    res = RandomizedComparison(outcome="y", weights="w").fit(df, permutations=999, seed=2)
    assert res.diagnostics["randomization_observed"] == pytest.approx(
        res.estimate_for("difference_in_means").estimate, abs=1e-12)
    assert "weighted" in res.diagnostics["randomization_statistic"]
    assert res.diagnostics["p_value_randomization"] <= 0.01  # the effect is large


def test_randomized_cluster_changes_the_standard_error():
    df, _, _ = _trial(cluster_sd=1.0, seed=9, by_cluster=True)
    person = RandomizedComparison(outcome="y").fit(df).estimate_for("difference_in_means")
    clustered = RandomizedComparison(outcome="y", cluster="workplace").fit(df).estimate_for("difference_in_means")
    _assert_cluster_matters(person, clustered, "cluster-robust")
    # weights and clusters together: WLS with CR1
    both = RandomizedComparison(outcome="y", cluster="workplace", weights="w").fit(df).estimate_for("difference_in_means")
    wonly = RandomizedComparison(outcome="y", weights="w").fit(df).estimate_for("difference_in_means")
    assert both.estimate == pytest.approx(wonly.estimate, abs=1e-12) and both.std_error > 1.5 * wonly.std_error
    with pytest.raises(EstimationError, match="cluster"):
        RandomizedComparison(outcome="y", cluster="workplace").fit(df, cov_type="HC3")
    with pytest.raises(DataValidationError, match="weights"):
        RandomizedComparison(outcome="y", weights="w").fit(df.assign(w=-df.w))
    with pytest.raises(DataValidationError, match="weights"):
        RandomizedComparison(outcome="y", weights="group").fit(df)
    with pytest.raises(EstimationError, match="weights"):
        RandomizedComparison(outcome="y", weights="w", covariates=["w"])
