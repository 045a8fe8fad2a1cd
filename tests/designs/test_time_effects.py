"""Durations and cumulative effects: every fast path against a straightforward version, every influence function
against a numerical derivative, and each family's joint effects against its own estimator."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evaluation.data.registers import Panel, default_code_list, register_from_frame
from evaluation.data.weeks import WeekRange, parse_week
from evaluation.designs import survival as sv
from evaluation.designs.matched.estimator import _m_estimation_influence
from evaluation.designs.matched.joint import m_influence_matrix
from evaluation.metrics.duration import cumulative_moments, exit_times, weekly_values


def _random_panel(n=60, T=40, seed=0):
    rng = np.random.default_rng(seed)
    cl = default_code_list()
    cats = {c: i + 1 for i, c in enumerate(cl.codes)}
    pool = np.array([0, cats[730], cats[730], cats[890], cats[771], cats[783], cats[651], cats[997]], dtype=cl.dtype)
    M = pool[rng.integers(0, len(pool), size=(n, T))]
    ids = pd.Index([f"p{i}" for i in range(n)], name="person")
    panel = Panel(M, ids, WeekRange(parse_week("2020-W01"), T), cl)
    weeks = pd.Index(pd.Series(panel.weeks.labels()))
    idx = rng.integers(2, T - 5, size=n)
    parts = pd.DataFrame({"index_week": np.asarray(panel.weeks.labels(), dtype=object)[idx],
                          "group": np.where(rng.random(n) < 0.5, "a", "b")}, index=ids)
    return panel, parts, idx, rng


@pytest.mark.parametrize("w", [1, 2])
def test_exit_times_match_a_loop(w):
    panel, parts, idx, _ = _random_panel()
    causes = {"self_support": "self_support", "pension": ["fleksjob", "foertidspension"], "edu": "education"}
    got = exit_times(panel, parts, horizon=12, min_weeks=w, causes=causes)
    cl = panel.codes
    raw = panel.raw_codes()
    for i, p in enumerate(parts.index):
        row, c0 = raw[i], idx[i]
        ev, wk = 0, None
        obs_last = 0
        for k in range(1, 13):
            c = c0 + k
            if c >= raw.shape[1] or raw[i, c] in (997,):
                break
            obs_last = k
            if ev == 0:
                ss = all(c + j < raw.shape[1] and row[c + j] == 0 for j in range(w))
                if ss and k + w - 1 <= 12 and all(row[c + j] not in (997,) for j in range(w)):
                    ev, wk = 1, k
                elif row[c] in (771, 783):
                    ev, wk = 2, k
                elif row[c] == 651:
                    ev, wk = 3, k
            if ev:
                break
        assert got.iloc[i]["event"] == ev, (p, got.iloc[i].tolist(), ev)
        assert got.iloc[i]["weeks"] == (wk if ev else obs_last), p


@pytest.mark.parametrize("hi,block", [(10, 7), (4, 7), (4, 1000)])
def test_weekly_values_and_cumulative_moments_match_loops(hi, block):
    """Window (1, 4) lies inside the register for everyone (the weeks-as-rows path); (1, 10) runs past its end
    for some persons (the path that counts a person only while inside)."""
    panel, parts, idx, rng = _random_panel(T=30)
    years = np.array([2020])
    table = np.zeros((panel.codes.n_categories, 1))
    table[:, 0] = rng.random(panel.codes.n_categories)
    _, V = weekly_values(panel, parts, (1, 10), table, years=years)
    M = panel.matrix
    for i in range(len(parts)):
        for k in range(10):
            c = idx[i] + 1 + k
            exp = np.nan if c >= M.shape[1] else table[M[i, c], 0]
            assert (np.isnan(exp) and np.isnan(V[i, k])) or V[i, k] == pytest.approx(exp)
    lut = panel.codes.lut("public_support")
    labels = (parts["group"] == "a").to_numpy().astype(int)
    mom = cumulative_moments(panel, parts, (1, hi), lut, labels, 2, block=block)
    assert mom["weeks"].tolist() == list(range(1, hi + 1))
    for g in (0, 1):
        sel = np.flatnonzero(labels == g)
        for k in range(hi):
            vals = []
            for i in sel:
                cs = idx[i] + 1 + np.arange(k + 1)
                if cs.max() >= M.shape[1]:
                    continue
                vals.append(int(lut[M[i, cs]].sum()))
            assert mom["n"][g, k] == len(vals)
            assert mom["sum"][g, k] == sum(vals)
            assert mom["sumsq"][g, k] == sum(v * v for v in vals)


def _numeric_if(fn, t, d, w, i, eps=1e-6):
    """w_i times the derivative in w_i: the linearisation a weighted estimator's sandwich variance sums."""
    w2 = w.copy()
    w2[i] += eps
    return w[i] * (fn(t, d, w2) - fn(t, d, w)) / eps


def test_influence_functions_are_derivatives_in_the_weights():
    rng = np.random.default_rng(5)
    n = 40
    t = rng.integers(1, 30, size=n).astype(float)
    d = rng.integers(0, 3, size=n)
    w = rng.uniform(0.5, 2.0, size=n)
    km = sv.kaplan_meier(t, d, w)
    times = np.array([5.0, 12.0, 20.0])
    IF = km.influence(times)
    r = sv.rmst(km, 20, influence=True)
    ci = sv.aalen_johansen(t, d, w)
    IF_ci = ci.influence(2, times)
    for i in (0, 7, 21):
        num = _numeric_if(lambda a, b, c: sv.kaplan_meier(a, b, c).at(times), t, d, w, i)
        assert IF[i] == pytest.approx(num, abs=1e-5)
        num = _numeric_if(lambda a, b, c: sv.rmst(sv.kaplan_meier(a, b, c), 20).estimate, t, d, w, i)
        assert r.influence[i] == pytest.approx(num, abs=1e-4)
        num = _numeric_if(lambda a, b, c: sv.aalen_johansen(a, b, c).at(2, times), t, d, w, i)
        assert IF_ci[i] == pytest.approx(num, abs=1e-5)


def test_weighted_kaplan_meier_matches_lifelines():
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(8)
    t = rng.integers(1, 50, size=300).astype(float)
    e = (rng.random(300) < 0.6).astype(int)
    w = rng.uniform(0.2, 3, size=300)
    km = sv.kaplan_meier(t, e, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kmf = KaplanMeierFitter().fit(t, e, weights=w)
    grid = np.arange(0, 50.0)
    np.testing.assert_allclose(km.at(grid), kmf.survival_function_at_times(grid).to_numpy(), atol=1e-12)


def test_rmst_influence_variance_close_to_greenwood_without_weights():
    rng = np.random.default_rng(3)
    t = rng.integers(1, 80, size=2000).astype(float)
    e = (rng.random(2000) < 0.7).astype(int)
    km = sv.kaplan_meier(t, e)
    r = sv.rmst(km, 60, influence=True)
    assert np.sqrt(np.sum(r.influence**2)) == pytest.approx(r.std_error, rel=0.02)


@pytest.mark.parametrize("method", ["ipw", "dr", "overlap"])
@pytest.mark.parametrize("strata", [False, True])
def test_matched_influence_matrix_equals_the_scalar_function(method, strata):
    rng = np.random.default_rng(11)
    n = 400
    X = rng.normal(size=(n, 2))
    e = 1 / (1 + np.exp(-(0.3 + X @ [0.5, -0.4])))
    t = rng.random(n) < e
    s = np.ones(n)
    w = np.where(t, 1.0, e / (1 - e)) if method != "overlap" else np.where(t, 1 - e, e)
    st = rng.integers(0, 3, size=n) if strata else None
    if strata and method != "overlap":  # rescale within strata as the estimator does
        for g in range(3):
            m = st == g
            w[m & ~t] *= w[m & t].sum() / w[m & ~t].sum()
    R = rng.normal(size=(n, 3)) + t[:, None]
    Xout = X if method == "dr" else None
    est_m = "ATO" if method == "overlap" else "ATT"
    IF, est = m_influence_matrix(R, t, s, e, w, X, st, est_m, method, Xout)
    for k in range(3):
        i1, e1 = _m_estimation_influence(R[:, k], t, s, e, w, X, st, est_m, method, Xout)
        np.testing.assert_allclose(IF[:, k], i1, rtol=1e-9, atol=1e-9)
        assert est[k] == pytest.approx(e1, rel=1e-12)


def test_randomized_joint_effects_match_the_estimator_with_clusters_and_weights():
    from evaluation.designs import RandomizedComparison
    from evaluation.designs.randomized.joint import randomized_joint_effects
    from evaluation.designs.randomized.options import RandomizedOptions

    rng = np.random.default_rng(4)
    n = 240
    cl = np.repeat(np.arange(24), 10)
    grp = np.where(rng.random(24) < 0.5, "intervention", "control")[cl]
    df = pd.DataFrame({"group": grp, "x": rng.normal(size=n), "cl": cl, "w": rng.uniform(0.5, 2, n)})
    df["y"] = df["x"] + (df["group"] == "intervention") * 0.5 + rng.normal(size=n) + rng.normal(size=24)[cl]
    for kw in ({"covariates": ["x"], "cluster": "cl"}, {"covariates": ["x"], "weights": "w"}):
        opts = RandomizedOptions(**kw)
        j = randomized_joint_effects(df, df[["y"]].to_numpy(), opts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = RandomizedComparison(outcome="y", **kw).fit(df)
        e = r.estimate_for("adjusted_difference")
        assert j.estimates[0] == pytest.approx(e.estimate, rel=1e-10)
        assert j.std_errors()[0] == pytest.approx(e.std_error, rel=1e-8)


def test_cs_event_time_effects_match_the_estimator():
    from evaluation.designs.family import AnalysisInput, get_family
    from evaluation.designs.timeeffects import TimeSource
    from evaluation.synthetic.staggered import simulate_staggered

    df = simulate_staggered(n_persons=400, n_weeks=12, n_cohorts=4, effect=-0.1, seed=2)
    fam = get_family("did_cs")
    opts = fam.Options(unit="person", time="week", cohort="cohort")
    inp = AnalysisInput(id="cs", design="did_cs", options=opts, fit=fam.Fit(), outcome="benefit", frame=df)
    wide = df.pivot(index="person", columns="week", values="benefit")
    source = TimeSource(event_matrix=None, period_matrix=lambda persons, kind: wide.loc[persons].to_numpy(), period_weeks=1)
    ev = fam.event_time_effects(inp, source, "support")
    fit = fam.estimate(inp)
    tab = fit.tables["event_study"]
    np.testing.assert_allclose(ev["joint"].estimates, tab["estimate"].to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(ev["joint"].std_errors(), tab["std_error"].to_numpy(), rtol=1e-8)
    assert ev["event_times"] == tab["event_time"].tolist()


@pytest.mark.parametrize("step", [4, 8])
def test_cumulative_moments_on_a_grid_equal_the_weekly_ones(step):
    panel, parts, idx, _ = _random_panel(n=300, T=60)
    lut = panel.codes.lut("public_support")
    labels = (parts["group"] == "a").to_numpy().astype(int)
    fine = cumulative_moments(panel, parts, (1, 16), lut, labels, 2, block=37)
    grid = cumulative_moments(panel, parts, (1, 16), lut, labels, 2, block=37, step=step)
    assert grid["weeks"].tolist() == list(range(step, 17, step))
    for k in ("n", "sum", "sumsq"):
        np.testing.assert_array_equal(grid[k], fine[k][:, step - 1::step])
