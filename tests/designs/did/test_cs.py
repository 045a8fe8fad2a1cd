"""Callaway & Sant'Anna design: published mpdta numbers, fast kernel vs slow reference, recovery."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import cs_reference
from evaluation.designs.did import _cs
from evaluation.designs.did.estimators import CallawaySantAnna
from evaluation.exceptions import DataValidationError, EstimationError
from evaluation.synthetic.staggered import simulate_staggered

from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "reference"

REF = json.loads((REFERENCE / "cs_mpdta_reference.json").read_text())


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "mpdta.csv")


def cs(**kw) -> CallawaySantAnna:
    return CallawaySantAnna("lemp", unit="countyreal", time="year", cohort="first.treat", **kw)


# ---------------------------------------------------------------- published did output


def test_mpdta_published_group_time(mpdta):
    res = cs().fit(mpdta)
    gt = res.tables["group_time"]
    pub = REF["published"]
    assert len(gt) == 12
    for key, val in pub["group_time_att"].items():
        g, t = map(int, key.split(","))
        row = gt[(gt.group == g) & (gt.time == t)]
        assert abs(row.att.iloc[0] - val) <= 5e-5, key
    for t, se in pub["analytic_se_2004"].items():
        row = gt[(gt.group == 2004) & (gt.time == int(t))]
        assert abs(row.std_error.iloc[0] - se) <= 5e-5
    assert res.diagnostics["pretrend_test_cells"]["p_value"] == pytest.approx(pub["pretest_p_value"], abs=5e-6)


def test_mpdta_published_aggregations(mpdta):
    res = cs().fit(mpdta)
    pub = REF["published"]
    # R prints round(x, 4) without trailing zeros: -0.04 is -0.0400, -0.031 is -0.0310 (see the fixture's tolerance)
    assert res.estimate_for("att_overall").estimate == pytest.approx(pub["aggte_simple_overall"], abs=5e-5)
    assert res.estimate_for("att_group_overall").estimate == pytest.approx(pub["aggte_group_overall"], abs=5e-5)
    assert res.estimate_for("att_dynamic_overall").estimate == pytest.approx(pub["aggte_dynamic_overall"], abs=5e-5)
    for e, val in pub["aggte_dynamic"].items():
        assert res.estimate_for(f"att_e{e}").estimate == pytest.approx(val, abs=5e-5)
    es = res.tables["event_study"]
    assert list(es.event_time) == [-3, -2, -1, 0, 1, 2, 3]


def test_mpdta_covariates_dr_published(mpdta):
    res = cs(covariates=["lpop"], est_method="dr_traditional").fit(mpdta)
    gt = res.tables["group_time"]
    att = gt[(gt.group == 2004) & (gt.time == 2004)].att.iloc[0]
    assert att == pytest.approx(REF["published"]["covariates_lpop_dr_att_2004_2004"], abs=5e-5)


@pytest.mark.parametrize(
    "est_method,cov,key",
    [("dr", None, "dr_none"), ("reg", "lpop", "reg_lpop"), ("ipw", "lpop", "ipw_lpop"), ("dr_traditional", "lpop", "dr_lpop")],
)
def test_mpdta_matches_r_port_analytic(mpdta, est_method, cov, key):
    """Every cell, aggregation and analytic SE against the did/DRDID port (bstrap=FALSE)."""
    ref = REF["port"]["results"][key]
    res = cs(covariates=cov, est_method=est_method).fit(mpdta)
    gt = res.tables["group_time"]
    np.testing.assert_allclose(gt.group, ref["groups"])
    np.testing.assert_allclose(gt.time, ref["times"])
    np.testing.assert_allclose(gt.att, ref["att"], atol=1e-8)
    np.testing.assert_allclose(gt.std_error, ref["se"], atol=1e-6)
    td = res.tidy().set_index("term")
    for typ, term in [("simple", "att_overall"), ("dynamic", "att_dynamic_overall"),
                      ("group", "att_group_overall"), ("calendar", "att_calendar_overall")]:
        assert td.loc[term, "estimate"] == pytest.approx(ref[typ]["overall"], abs=1e-8)
        assert td.loc[term, "std_error"] == pytest.approx(ref[typ]["overall_se"], abs=1e-6)
    np.testing.assert_allclose(res.tables["event_study"].estimate, ref["dynamic"]["att"], atol=1e-8)
    np.testing.assert_allclose(res.tables["event_study"].std_error, ref["dynamic"]["se"], atol=1e-6)
    np.testing.assert_allclose(res.tables["by_cohort"].estimate, ref["group"]["att"], atol=1e-8)
    np.testing.assert_allclose(res.tables["by_cohort"].std_error, ref["group"]["se"], atol=1e-6)
    np.testing.assert_allclose(res.tables["by_calendar"].std_error, ref["calendar"]["se"], atol=1e-6)


def test_improved_dr_matches_drdid_imp_panel(mpdta):
    ref = REF["port"]["drdid_imp_panel_2004_2004_lpop"]
    w = mpdta.pivot(index="countyreal", columns="year", values="lemp")
    g = mpdta.groupby("countyreal")["first.treat"].first()
    lp = mpdta.groupby("countyreal")["lpop"].first()
    sel = ((g == 2004) | (g == 0)).to_numpy()
    D = (g[sel] == 2004).to_numpy(float)
    X = np.column_stack([np.ones(sel.sum()), lp[sel]])
    att, inf = _cs.did_2x2_panel((w.loc[sel, 2004] - w.loc[sel, 2003]).to_numpy(), D, X, np.ones(sel.sum()), "dr")
    assert att == pytest.approx(ref["att"], abs=1e-10)
    assert np.sqrt(np.mean(inf**2) / len(inf)) == pytest.approx(ref["se"], abs=1e-7)
    # and it is a different estimator from the traditional DR (no silent alias)
    att_t, _ = _cs.did_2x2_panel((w.loc[sel, 2004] - w.loc[sel, 2003]).to_numpy(), D, X, np.ones(sel.sum()), "dr_traditional")
    assert abs(att - att_t) > 1e-6


# ---------------------------------------------------------------- fast kernel vs slow reference


@pytest.mark.parametrize(
    "control_group,anticipation,base_period",
    [("nevertreated", 0, "varying"), ("notyettreated", 0, "varying"), ("notyettreated", 2, "universal"),
     ("nevertreated", 1, "universal")],
)
def test_fast_kernel_equals_loop_reference(control_group, anticipation, base_period):
    df = simulate_staggered(n_persons=400, n_weeks=16, n_cohorts=9, dip_weeks=2, seed=11)
    res = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort", control_group=control_group,
                           anticipation=anticipation, base_period=base_period).fit(df)
    ref = cs_reference.reference_group_time(df.assign(cohort=df.cohort.fillna(np.inf)), unit="person", period="week",
                                   outcome="benefit", cohort="cohort", control_group=control_group,
                                   anticipation=anticipation, base_period=base_period)
    gt = res.tables["group_time"]
    assert len(gt) == len(ref) > 50
    np.testing.assert_allclose(gt.group, ref.g)
    np.testing.assert_allclose(gt.time, ref.t)
    np.testing.assert_allclose(gt.att, ref.att, atol=1e-10)
    np.testing.assert_allclose(gt.std_error, ref.se, atol=1e-10)


def test_unconditional_dr_equals_reg_and_ipw():
    df = simulate_staggered(n_persons=300, n_weeks=10, n_cohorts=4, seed=5)
    kw = dict(unit="person", time="week", cohort="cohort")
    a = CallawaySantAnna("benefit", est_method="reg", **kw).fit(df).tidy()
    b = CallawaySantAnna("benefit", est_method="ipw", **kw).fit(df).tidy()
    pd.testing.assert_frame_equal(a.drop(columns="method"), b.drop(columns="method"))


# ---------------------------------------------------------------- recovery (bias, coverage)


def test_recovery_with_ashenfelter_dip():
    """Anticipation handles the dip: bias within MC error and 95 % coverage in [0.93, 0.97] over 500
    replications (MC SE of the coverage ≈ 1 point) for the headline att_overall with analytic SEs;
    ignoring the dip is biased. Larger runs: benchmarks/bench_cs.py --recovery N."""
    est, cover, se, naive = [], [], [], []
    design = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort", anticipation=2)
    for r in range(500):
        df = simulate_staggered(n_persons=300, n_weeks=14, n_cohorts=6, dip_weeks=2, dip=0.06, effect=-0.05, seed=100 + r)
        e = design.fit(df).estimate_for("att_overall")
        est.append(e.estimate)
        se.append(e.std_error)
        cover.append(e.ci_lower <= -0.05 <= e.ci_upper)
        if r < 10:
            naive.append(CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort").fit(df)
                         .estimate_for("att_overall").estimate)
    est = np.array(est)
    mc_se = est.std(ddof=1) / np.sqrt(len(est))
    assert abs(est.mean() + 0.05) < 3 * mc_se
    assert 0.93 <= np.mean(cover) <= 0.97, np.mean(cover)
    assert 0.9 <= np.mean(se) / est.std(ddof=1) <= 1.1
    # the base period falls in the dip (dependency temporarily up), so ignoring it exaggerates the effect
    assert np.mean(naive) < -0.05 - 0.03


# ---------------------------------------------------------------- inference options


def test_bootstrap_seeded_and_uniform_band():
    df = simulate_staggered(n_persons=500, n_weeks=12, n_cohorts=5, seed=3)
    d = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort")
    analytic = d.fit(df)
    b1 = d.fit(df, bootstrap=True, draws=499, seed=7)
    b2 = d.fit(df, bootstrap=True, draws=499, seed=7)
    b3 = d.fit(df, bootstrap=True, draws=499, seed=8, bootstrap_weights="rademacher")
    pd.testing.assert_frame_equal(b1.tidy(), b2.tidy())
    assert not np.allclose(b1.tidy().std_error, b3.tidy().std_error)
    ratio = b1.tidy().std_error / analytic.tidy().std_error
    assert ratio.between(0.8, 1.25).all()
    es = b1.tables["event_study"]
    crit = b1.diagnostics["bootstrap"]["uniform_critical_value"]
    assert crit > 1.96
    assert ((es.cband_upper - es.cband_lower) > (es.ci_upper - es.ci_lower)).all()
    assert "multiplier bootstrap" in b1.tidy().method.iloc[0]


def test_weights_and_cluster_change_the_answer():
    df = simulate_staggered(n_persons=400, n_weeks=10, n_cohorts=4, seed=9)
    rng = np.random.default_rng(0)
    df["w"] = np.repeat(rng.choice([1.0, 4.0], size=df.person.nunique()), 10)
    kw = dict(unit="person", time="week", cohort="cohort")
    base = CallawaySantAnna("benefit", **kw).fit(df).estimate_for("att_overall")
    wtd = CallawaySantAnna("benefit", weights="w", **kw).fit(df).estimate_for("att_overall")
    assert abs(base.estimate - wtd.estimate) > 1e-6
    const = CallawaySantAnna("benefit", weights="w", **kw).fit(df.assign(w=3.0)).estimate_for("att_overall")
    assert const.estimate == pytest.approx(base.estimate, abs=1e-12)
    assert const.std_error == pytest.approx(base.std_error, abs=1e-12)
    cl = CallawaySantAnna("benefit", cluster="jobcentre", **kw).fit(df)
    assert cl.estimate_for("att_overall").estimate == pytest.approx(base.estimate, abs=1e-12)
    assert abs(cl.estimate_for("att_overall").std_error - base.std_error) > 1e-6
    assert "clustered by jobcentre" in cl.estimate_for("att_overall").method


def test_weighted_matches_weighted_reference_cell():
    df = simulate_staggered(n_persons=200, n_weeks=6, n_cohorts=2, seed=4)
    df["w"] = np.repeat(np.random.default_rng(1).uniform(0.5, 2, df.person.nunique()), 6)
    res = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort", weights="w").fit(df)
    row = res.tables["group_time"].iloc[0]
    wide = df.pivot(index="person", columns="week", values="benefit")
    g = df.groupby("person").cohort.first()
    w = df.groupby("person").w.first()
    dy = wide[int(row.time)] - wide[int(row.base_period)]
    t, c = g == row.group, g.isna()
    expect = np.average(dy[t], weights=w[t]) - np.average(dy[c], weights=w[c])
    assert row.att == pytest.approx(expect, abs=1e-12)


def test_cohort_bin_and_diagnostics():
    df = simulate_staggered(n_persons=600, n_weeks=30, n_cohorts=20, seed=2)
    d1 = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort").fit(df)
    d4 = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort", cohort_bin=4).fit(df)
    assert d1.diagnostics["n_cohorts"] == 20
    assert d4.diagnostics["n_cohorts"] == 6  # weeks 3..22 in bins starting at week 2: 2, 6, ..., 22
    assert d4.diagnostics["cohort_bin"] == 4
    # the binning is stated with every estimate, so the report says so
    assert "binned into 4-period bins" in d4.estimate_for("att_overall").method
    assert "binned" not in d1.estimate_for("att_overall").method
    assert set(d4.tables["group_time"].group) <= {2, 6, 10, 14, 18, 22}
    for k in ("pretrend_test", "control_group", "est_method", "bootstrap"):
        assert k in d1.diagnostics
    assert d1.diagnostics["pretrend_test"]["df"] > 0


def test_placebo_start_dates():
    df = simulate_staggered(n_persons=800, n_weeks=24, n_cohorts=8, first_cohort_week=12, seed=6)
    res = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort").fit(df, placebo_shift=4)
    p = res.estimate_for("placebo_shift4")
    assert p.ci_lower < 0 < p.ci_upper
    assert abs(p.estimate) < 0.02
    assert res.diagnostics["placebo"]["shift"] == 4
    # a placebo is detected when the "dip" starts well before enrolment and is ignored
    df2 = simulate_staggered(n_persons=800, n_weeks=24, n_cohorts=8, first_cohort_week=12, dip_weeks=3, dip=0.1, seed=6)
    p2 = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort").fit(df2, placebo_shift=4)
    assert p2.estimate_for("placebo_shift4").p_value < 0.01


def test_errors():
    df = simulate_staggered(n_persons=50, n_weeks=6, n_cohorts=2, seed=1)
    d = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort")
    with pytest.raises(DataValidationError, match="unbalanced"):
        d.fit(df.iloc[1:])
    with pytest.raises(EstimationError, match="only applies with bootstrap"):
        d.fit(df, seed=3)
    with pytest.raises(EstimationError, match="seed"):
        d.fit(df, bootstrap=True)
    with pytest.raises(EstimationError):
        CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort", est_method="foo")
    with pytest.raises(DataValidationError, match="constant within"):
        CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort", covariates=["benefit"]).fit(df)
    with pytest.raises(EstimationError, match="never treated"):
        d.fit(df.assign(cohort=df.cohort.fillna(4)))


@pytest.mark.parametrize("control_group,anticipation", [("nevertreated", 0), ("notyettreated", 2)])
def test_att_overall_and_se_equal_loop_reference(control_group, anticipation):
    df = simulate_staggered(n_persons=400, n_weeks=16, n_cohorts=9, dip_weeks=2, seed=12)
    res = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort", control_group=control_group,
                           anticipation=anticipation).fit(df)
    est, se = cs_reference.reference_att_overall(df.assign(cohort=df.cohort.fillna(np.inf)), unit="person", period="week",
                                        outcome="benefit", cohort="cohort", control_group=control_group,
                                        anticipation=anticipation)
    e = res.estimate_for("att_overall")
    assert e.estimate == pytest.approx(est, abs=1e-12)
    assert e.std_error == pytest.approx(se, abs=1e-12)


def test_placebo_under_bootstrap_states_its_analytic_se():
    df = simulate_staggered(n_persons=400, n_weeks=16, n_cohorts=6, first_cohort_week=8, seed=6)
    res = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort").fit(
        df, bootstrap=True, draws=199, seed=1, placebo_shift=2)
    p = res.estimate_for("placebo_shift2")
    assert "analytic influence function" in p.method and "bootstrap" not in p.method
    assert "multiplier bootstrap" in res.estimate_for("att_overall").method


def _clustered_panel(rng, G=30, n=600, T=8):
    """Cohorts assigned by cluster (jobcentre), cluster-by-week shocks: persons are not independent."""
    cl = rng.integers(0, G, n)
    start = np.where(rng.random(G) < 0.5, rng.integers(4, 7, G), np.inf)
    g = start[cl]
    per = np.arange(1, T + 1)
    Y = rng.normal(0, 0.15, n)[:, None] + 0.01 * per + rng.normal(0, 0.05, (G, T))[cl] + rng.normal(0, 0.1, (n, T))
    Y += -0.05 * (per[None, :] >= g[:, None])
    return pd.DataFrame({"person": np.repeat(np.arange(n), T), "week": np.tile(per, n), "y": Y.ravel(),
                         "cohort": np.repeat(np.where(np.isfinite(g), g, np.nan), T), "c": np.repeat(cl, T)})


def test_clustered_analytic_se_is_cr1_with_t_intervals():
    df = _clustered_panel(np.random.default_rng(0))
    kw = dict(unit="person", time="week", cohort="cohort")
    person = CallawaySantAnna("y", **kw).fit(df)
    cl = CallawaySantAnna("y", cluster="c", **kw).fit(df)
    # hand formula from the person-level influence function of att_overall: sum within clusters,
    # sqrt(G/(G-1) * sum_c (sum_i psi_i)^2) / n
    est, _ = cs_reference.reference_att_overall(df.assign(cohort=df.cohort.fillna(np.inf)), unit="person", period="week",
                                       outcome="y", cohort="cohort")
    d = CallawaySantAnna("y", **kw)
    panel, _ = d._panel(df)
    gt = d._estimate_cells(panel)
    agg = _cs.aggregation_weights(gt, panel)
    i = agg.names.index("att_overall")
    psi = _cs.influence_matrix(gt, panel, agg.a[[i]], [agg.wif_cells[i]])[:, 0]
    clus = df.groupby("person").c.first().reindex(panel.unit_ids).to_numpy()
    G, n = len(np.unique(clus)), len(psi)
    sums = pd.Series(psi).groupby(clus).sum().to_numpy()
    e = cl.estimate_for("att_overall")
    assert e.estimate == pytest.approx(est, abs=1e-12) == person.estimate_for("att_overall").estimate
    assert e.std_error == pytest.approx(np.sqrt(G / (G - 1) * np.sum(sums**2)) / n, rel=1e-10)
    from scipy import stats

    assert e.ci_upper - e.estimate == pytest.approx(stats.t.ppf(0.975, G - 1) * e.std_error, rel=1e-10)
    assert f"t({G - 1}) intervals" in e.method


def test_recovery_clustered_by_assignment_unit():
    """Cohorts assigned by cluster (30 clusters): CR1-factored analytic SEs with t(G-1) cover 93-97 %
    over 500 replications (normal intervals without the factor covered 0.930 at 1,000)."""
    kw = dict(unit="person", time="week", cohort="cohort", cluster="c")
    design = CallawaySantAnna("y", **kw)
    est, cover = [], []
    r = 0
    while len(est) < 500:
        df = _clustered_panel(np.random.default_rng(3000 + r))
        r += 1
        if df.cohort.notna().all() or df.cohort.isna().all():
            continue  # no never-treated or no treated cluster: not this design
        e = design.fit(df).estimate_for("att_overall")
        est.append(e.estimate)
        cover.append(e.ci_lower <= -0.05 <= e.ci_upper)
    est = np.array(est)
    assert abs(est.mean() + 0.05) < 3 * est.std(ddof=1) / np.sqrt(len(est))
    assert 0.93 <= np.mean(cover) <= 0.97, np.mean(cover)


def test_report_says_cohorts_are_binned():
    """A binned CS analysis is described as such in the report's participants section."""
    import dataclasses

    from evaluation.designs import get_family
    from evaluation.results import AnalysisRecord

    df = simulate_staggered(n_persons=600, n_weeks=30, n_cohorts=20, seed=2)
    texts = {}
    for b in (1, 4):
        res = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort", cohort_bin=b).fit(df)
        sizes = pd.DataFrame({"cohort": [0, 2, 6], "n": [180, 60, 60]})
        res = dataclasses.replace(res, tables={**res.tables, "cohort_sizes": sizes})
        rec = AnalysisRecord(id="cs", design="did_cs", result=res, primary=True, indicator_label="Andel", unit="andel")
        texts[b] = get_family("did_cs").report.participants(rec, None)
    assert "kohorter på 4 perioder" in texts[4] and "slået sammen" in texts[4]
    assert "slået sammen" not in texts[1]


@pytest.mark.parametrize("est_method", ["reg", "ipw", "dr", "dr_traditional"])
@pytest.mark.parametrize("control_group,base_period,anticipation,weighted", [
    ("nevertreated", "varying", 0, False), ("notyettreated", "varying", 1, True), ("nevertreated", "universal", 0, True),
])
def test_covariate_kernel_equals_cell_by_cell_reference(est_method, control_group, base_period, anticipation, weighted):
    """The grouped covariate kernel (one propensity fit and one least-squares solve per sample, influence
    functions rebuilt when aggregating) equals the straightforward 2x2 estimator run cell by cell on its
    own sample with stored influence functions: every cell's ATT and SE and every aggregated influence function."""
    df = simulate_staggered(n_persons=500, n_weeks=12, n_cohorts=5, seed=21)
    rng = np.random.default_rng(3)
    df["x2"] = np.repeat(rng.normal(size=500), 12)
    df["w"] = np.repeat(rng.uniform(0.5, 2.0, 500), 12)
    d = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort", covariates=["age", "x2"],
                         weights="w" if weighted else None, control_group=control_group, base_period=base_period,
                         anticipation=anticipation, est_method=est_method)
    panel, _ = d._panel(df)
    kw = dict(control_group=control_group, anticipation=anticipation, base_period=base_period, est_method=est_method)
    fast = _cs.group_time_covariates(panel, **kw)
    ref = cs_reference.group_time_covariates_reference(panel, **kw)
    assert fast.n_cells == ref.n_cells > 20
    for f in ("g", "t", "ti", "bi", "n_treated", "n_control"):
        np.testing.assert_array_equal(getattr(fast, f), getattr(ref, f))
    np.testing.assert_allclose(fast.att, ref.att, rtol=0, atol=1e-13)
    np.testing.assert_allclose(fast.se, ref.se, rtol=1e-11, atol=0)
    agg = _cs.aggregation_weights(fast, panel)
    np.testing.assert_allclose(_cs.influence_matrix(fast, panel, agg.a, agg.wif_cells),
                               _cs.influence_matrix(ref, panel, agg.a, agg.wif_cells), rtol=0, atol=1e-11)
    eye = np.eye(fast.n_cells)
    np.testing.assert_allclose(_cs.influence_matrix(fast, panel, eye, [None] * fast.n_cells),
                               _cs.influence_matrix(ref, panel, eye, [None] * ref.n_cells), rtol=0, atol=1e-11)


def test_panel_validated_once_per_frame_and_released_with_it():
    import gc

    from evaluation.designs.did import estimators as did

    df = simulate_staggered(n_persons=300, n_weeks=16, n_cohorts=6, first_cohort_week=8, seed=2)
    d = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort")
    shifted, _ = d._panel(df, shift=2)
    again, _ = d._panel(df, shift=2)  # from the cached validated parts
    fresh, _ = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort")._panel(df.copy(), shift=2)
    for p in (again, fresh):
        np.testing.assert_array_equal(p.Y, shifted.Y)
        np.testing.assert_array_equal(p.cohorts, shifted.cohorts)
        np.testing.assert_array_equal(p.unit_ids, shifted.unit_ids)
    key = next(k for k, v in did._PANEL_BASE.items() if v[0]() is df)
    del df, shifted, again, fresh, p
    gc.collect()
    assert key not in did._PANEL_BASE
