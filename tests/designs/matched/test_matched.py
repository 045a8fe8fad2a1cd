"""MatchedComparison: published NSW/Lalonde numbers, independent re-computation, recovery, contracts."""

from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaluation.designs import get_design
from evaluation.designs.matched.estimator import MatchedComparison
from evaluation.exceptions import BalanceWarning, DataValidationError, EstimationError, EvaluationWarning
from evaluation.results import COMPARISON_COLUMNS, result_from_dict
from evaluation.synthetic.observational import COVARIATES, make_observational

from conftest import REFERENCE

PUB = json.loads((REFERENCE / "nsw_published.json").read_text(encoding="utf-8"))
FM3 = ["age", "age2", "age3", "educ", "educ2", "black", "hispan", "married", "re74k", "re75k"]
DW_CPS = ["age", "age2", "age3", "educ", "educ2", "marr", "nodegree", "black", "hisp", "re74k", "re75k", "u74", "u75"]


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    d = pd.read_csv(REFERENCE / "nsw_lalonde_psid.csv")
    return d.assign(
        group=np.where(d.treat == 1, "intervention", "control"),
        age2=d.age**2, age3=d.age**3, educ2=d.educ**2, re74k=d.re74 / 1000, re75k=d.re75 / 1000,
    )


@pytest.fixture(scope="module")
def nsw() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "nsw_dw_cps.csv")


@pytest.fixture(scope="module")
def nsw_cps(nsw) -> pd.DataFrame:
    d = nsw[nsw["sample"] != "nsw_control"]
    return d.assign(
        group=np.where(d.treat == 1, "intervention", "control"),
        age2=d.age**2, age3=d.age**3, educ2=d.educ**2, re74k=d.re74 / 1000, re75k=d.re75 / 1000,
        u74=(d.re74 == 0).astype(int), u75=(d.re75 == 0).astype(int),
    ).reset_index(drop=True)


@pytest.fixture(scope="module")
def sim():
    return make_observational(n_treated=250, n_pool=1500, seed=7)


def fit_quiet(design, data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvaluationWarning)
        return design.fit(data, **kw)


def frame_hash(df: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(df, index=True).values.tobytes()).hexdigest()


# ---------------------------------------------------------------- published numbers
def test_frozen_nsw_data_reproduce_dehejia_wahba(nsw):
    m = nsw.groupby("sample").re78.mean()
    exp = PUB["experimental_dw"]
    assert m["nsw_treated"] - m["nsw_control"] == pytest.approx(exp["difference"], abs=exp["tolerance"])
    naive = PUB["naive_cps1"]
    assert m["nsw_treated"] - m["cps"] == pytest.approx(naive["difference"], abs=naive["tolerance"])
    assert (nsw["sample"].value_counts().to_dict()) == {"cps": 15992, "nsw_control": 260, "nsw_treated": 185}


def test_logistic_ps_equals_r_glm(lalonde):
    ref = PUB["ps_glm_fm3"]
    ps = MatchedComparison(outcome="re78", covariates=FM3).propensity_scores(lalonde)
    np.testing.assert_allclose(ps.iloc[:6], ref["fitted_first6"], atol=ref["tolerance"])


def test_balance_before_equals_matchit(lalonde):
    ref = PUB["matchit_balance_all_data"]
    cov = list(ref["smd"])
    res = fit_quiet(MatchedComparison(outcome="re78", covariates=cov), lalonde)
    bal = res.tables["balance"].set_index("covariate")
    for c, v in ref["smd"].items():
        assert bal.loc[c, "smd_before"] == pytest.approx(v, abs=ref["tolerance"]), c
    for c, v in ref["var_ratio"].items():
        assert bal.loc[c, "var_ratio_before"] == pytest.approx(v, abs=ref["tolerance"]), c
    assert bal.loc["black", "binary"] and np.isnan(bal.loc["black", "var_ratio_before"])


def test_nsw_cps_ipw_att_matches_independent_computation_and_benchmark(nsw_cps):
    res = MatchedComparison(outcome="re78", covariates=DW_CPS, method="ipw").fit(nsw_cps)
    e = res.estimate_for("att")
    # independent: statsmodels GLM logit + the ATT odds-weight formula
    X = sm.add_constant(nsw_cps[DW_CPS].astype(float))
    ps = sm.GLM(nsw_cps.treat, X, family=sm.families.Binomial()).fit().fittedvalues.to_numpy()
    t = nsw_cps.treat.to_numpy() == 1
    y = nsw_cps.re78.to_numpy()
    odds = ps[~t] / (1 - ps[~t])
    direct = y[t].mean() - np.sum(odds * y[~t]) / odds.sum()
    assert e.estimate == pytest.approx(direct, rel=1e-4)
    # and the fixed-weight robust SE equals statsmodels WLS HC1 with the same weights
    w = np.where(t, 1.0, ps / (1 - ps))
    ols = sm.WLS(y, sm.add_constant(t.astype(float)), weights=w).fit(cov_type="HC1")
    fixed = MatchedComparison(outcome="re78", covariates=DW_CPS, method="ipw").fit(nsw_cps, se="robust").estimate_for("att")
    assert fixed.std_error == pytest.approx(ols.bse[1], rel=1e-3)
    assert "M-estimation" in e.method and "robust HC1" in fixed.method
    band = PUB["matching_range_cps"]
    assert band["lower"] < e.estimate < band["upper"]
    assert e.ci_lower < PUB["experimental_dw"]["difference"] < e.ci_upper
    assert res.diagnostics["balance_ok"]
    assert (res.tables["balance"].smd_after.abs() < 0.1).all()
    assert (res.tables["balance"].smd_before.abs() > 0.5).sum() >= 5  # the CPS pool is very different
    assert res.diagnostics["ess_control"] < 0.05 * 15992  # weights concentrate on few CPS persons
    assert res.evidence_level == 3 and res.design == "matched_comparison"


def test_nsw_cps_dr_and_nearest_are_near_experimental(nsw_cps):
    for method in ("dr", "nearest"):
        res = fit_quiet(MatchedComparison(outcome="re78", covariates=DW_CPS, method=method), nsw_cps)
        e = res.tidy().iloc[0]
        assert e.ci_lower < 1794.34 < e.ci_upper, method
        assert 1000 < e.estimate < 2500, method


def test_balance_warning_names_failing_covariates(lalonde):
    design = MatchedComparison(outcome="re78", covariates=FM3, method="nearest")
    with pytest.warns(BalanceWarning) as rec:
        res = design.fit(lalonde)
    msg = " ".join(str(r.message) for r in rec if issubclass(r.category, BalanceWarning))
    assert res.diagnostics["balance_ok"] is False
    for failing in res.diagnostics["balance_failures"]:
        assert failing.split(" ")[0] in msg


def test_ipw_att_m_estimation_reproduces_weightit(lalonde):
    """WeightIt README: weightit(..., method='glm', estimand='ATT') + lm_weightit(re78 ~ treat): 1214.1 (798.2)."""
    ref = PUB["weightit_ipw_att"]
    res = fit_quiet(MatchedComparison(outcome="re78", covariates=ref["covariates"], method="ipw"), lalonde)
    e = res.estimate_for("att")
    assert e.estimate == pytest.approx(ref["estimate"], abs=0.05)
    assert e.std_error == pytest.approx(ref["std_error"], abs=0.05)
    assert e.statistic == pytest.approx(ref["z"], abs=5e-4)
    assert e.p_value == pytest.approx(ref["p_value"], abs=5e-4)
    assert (e.ci_lower, e.ci_upper) == (pytest.approx(ref["ci_lower"], abs=0.05), pytest.approx(ref["ci_upper"], abs=0.05))
    assert "M-estimation" in e.method and res.diagnostics["se"] == "m_estimation"
    assert res.diagnostics["ess_control"] == pytest.approx(ref["ess_control"], abs=0.005)
    bal = res.tables["balance"].set_index("covariate")
    assert bal.loc["age", "mean_control_after"] == pytest.approx(bal.loc["age", "mean_treated"] - 0.1188 * lalonde.age[lalonde.treat == 1].std(), abs=0.01)
    for cov, smd in ref["smd_after_continuous"].items():
        assert bal.loc[cov, "smd_after"] == pytest.approx(smd, abs=5e-5), cov
    for cov, diff in ref["diff_after_binary"].items():
        assert bal.loc[cov, "mean_treated_after"] - bal.loc[cov, "mean_control_after"] == pytest.approx(diff, abs=5e-5), cov
    # the weighted control mean is lm_weightit's intercept; the weights' range is summary(W)'s
    design = MatchedComparison(outcome="re78", covariates=ref["covariates"], method="ipw")
    ps = design.propensity_scores(lalonde).to_numpy()
    c = lalonde.treat.to_numpy() == 0
    odds = ps[c] / (1 - ps[c])
    assert np.sum(odds * lalonde.re78[c]) / odds.sum() == pytest.approx(ref["intercept"], abs=0.05)
    assert (odds.min(), odds.max()) == (pytest.approx(ref["min_weight_control"], abs=5e-5), pytest.approx(ref["max_weight_control"], abs=5e-5))
    # treating the weights as fixed gives a different (here larger) standard error
    fixed = fit_quiet(design, lalonde, se="robust").estimate_for("att")
    assert fixed.estimate == e.estimate and fixed.std_error > e.std_error + 10


def test_nearest_on_ps_reproduces_matchit_m_out1(lalonde):
    """MatchIt method_nearest Examples, m.out1: 1:1 greedy NN on the PS without replacement (largest first)."""
    ref = PUB["matchit_nearest_ps_matched"]
    cov = ["age", "educ", "black", "hispan", "nodegree", "married", "re74", "re75"]
    # MatchIt matches on the score itself; on these data greedy matching on its logit (our default) picks the same set
    for distance in ("ps", "logit"):
        res = fit_quiet(MatchedComparison(outcome="re78", covariates=cov, **{**ref["call"], "distance": distance}), lalonde)
        bal = res.tables["balance"].set_index("covariate")
        for c in cov:
            assert bal.loc[c, "mean_control_after"] == pytest.approx(ref["mean_control_after"][c], abs=ref["tolerance_means"]), c
            assert bal.loc[c, "smd_after"] == pytest.approx(ref["smd_after"][c], abs=ref["tolerance"]), c
        for c, v in ref["var_ratio_after"].items():
            assert bal.loc[c, "var_ratio_after"] == pytest.approx(v, abs=ref["tolerance"]), c
        assert res.tidy().n_control[0] == ref["n_matched_control"] and res.tidy().n_treated[0] == 185
        assert ("on PS," if distance == "ps" else "on logit PS,") in res.tidy().method[0]


def _stacked_sandwich_se(d, covs, method, estimand, exact, weights=None, cluster=None):
    """Independent M-estimation: the whole stacked system with a numerical Jacobian (no code shared with matched.py)."""
    t = (d.group == "intervention").to_numpy()
    y = d.weeks_on_benefit.to_numpy(float)
    s = np.ones(len(d)) if weights is None else d[weights].to_numpy(float)
    g = pd.factorize(d[exact])[0] if exact else np.zeros(len(d), dtype=int)
    G = g.max() + 1
    dummies = pd.get_dummies(g, drop_first=True, dtype=float).to_numpy()
    X = np.column_stack([np.ones(len(d)), d[covs].to_numpy(float), dummies])
    beta = sm.GLM(t.astype(float), X, family=sm.families.Binomial(), freq_weights=s).fit(tol=1e-13).params
    p = X.shape[1]
    dr = method == "dr"
    strata_rescaled = exact and method in ("ipw", "dr")
    Gw = G if strata_rescaled else 1
    gw = g if strata_rescaled else np.zeros(len(d), dtype=int)
    a = s * t if estimand == "ATT" else s

    def weights_of(e):
        if estimand == "ATT":
            return np.where(t, 1.0, e / (1 - e))
        if estimand == "ATE":
            return np.where(t, 1 / e, 1 / (1 - e))
        return np.where(t, 1 - e, e)

    def psi(theta):
        b = theta[:p]
        k = p
        e = 1 / (1 + np.exp(-X @ b))
        cols = [X * (s * (t - e))[:, None]]
        r = y
        if dr:
            gam = theta[k:k + p]
            k += p
            r = y - X @ gam
            cols.append(X * (s * (~t) * r)[:, None])
        om = s * weights_of(e)
        pis, mu1, mu0 = theta[k:k + Gw], theta[k + Gw:k + 2 * Gw], theta[k + 2 * Gw:k + 3 * Gw]
        ind = (gw[:, None] == np.arange(Gw)[None, :]).astype(float)
        cols.append(a[:, None] * (ind - pis[None, :]))
        cols.append((om * t)[:, None] * ind * (r[:, None] - mu1[None, :]))
        cols.append((om * ~t)[:, None] * ind * (r[:, None] - mu0[None, :]))
        return np.column_stack(cols)

    e = 1 / (1 + np.exp(-X @ beta))
    theta = [beta]
    r = y
    if dr:
        c = ~t
        gam = np.linalg.solve((X[c] * s[c][:, None]).T @ X[c], (X[c] * s[c][:, None]).T @ y[c])
        theta.append(gam)
        r = y - X @ gam
    om = s * weights_of(e)
    pis = np.array([a[gw == j].sum() / a.sum() for j in range(Gw)])
    mu1 = np.array([np.sum((om * r)[t & (gw == j)]) / om[t & (gw == j)].sum() for j in range(Gw)])
    mu0 = np.array([np.sum((om * r)[~t & (gw == j)]) / om[~t & (gw == j)].sum() for j in range(Gw)])
    theta = np.concatenate(theta + [pis, mu1, mu0])
    n = len(d)
    assert np.abs(psi(theta).mean(axis=0)).max() < 1e-6
    A = np.empty((len(theta), len(theta)))
    for j in range(len(theta)):
        h = 1e-6 * max(1.0, abs(theta[j]))
        up, dn = theta.copy(), theta.copy()
        up[j] += h
        dn[j] -= h
        A[:, j] = (psi(up).mean(axis=0) - psi(dn).mean(axis=0)) / (2 * h)
    P = psi(theta)
    if cluster is None:
        B = P.T @ P / n
    else:
        cl = pd.factorize(d[cluster])[0]
        S = np.vstack([P[cl == j].sum(axis=0) for j in range(cl.max() + 1)])
        B = S.T @ S / n * (cl.max() + 1) / cl.max()
    Ainv = np.linalg.inv(A)
    V = Ainv @ B @ Ainv.T / n
    k = p * (2 if dr else 1)
    grad = np.zeros(len(theta))
    grad[k:k + Gw] = mu1 - mu0
    grad[k + Gw:k + 2 * Gw] = pis
    grad[k + 2 * Gw:k + 3 * Gw] = -pis
    return float(pis @ (mu1 - mu0)), float(np.sqrt(grad @ V @ grad))


@pytest.mark.parametrize(
    "kw,exact,weights,cluster",
    [
        (dict(method="ipw"), [], None, None),
        (dict(method="ipw"), ["start_quarter"], "design_weight", None),
        (dict(method="ipw", estimand="ATE"), ["start_quarter"], None, None),
        (dict(method="overlap"), ["start_quarter"], "design_weight", None),
        (dict(method="dr"), ["start_quarter"], None, None),
        (dict(method="dr"), [], "design_weight", "office"),
        (dict(method="ipw"), ["start_quarter"], None, "office"),
    ],
)
def test_m_estimation_equals_independent_stacked_sandwich(sim, kw, exact, weights, cluster):
    d = sim.data.assign(office=(sim.data.person_id % 37))
    res = fit_quiet(MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, exact=exact, **kw), d,
                    weights=weights, cluster=cluster)
    e = res.estimates[0]
    est, se = _stacked_sandwich_se(d, COVARIATES, kw["method"], res.estimates[0].term.upper(), exact[0] if exact else None,
                                   weights, cluster)
    assert e.estimate == pytest.approx(est, rel=1e-7)
    assert e.std_error == pytest.approx(se, rel=1e-5)
    if cluster:
        plain = fit_quiet(MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, exact=exact, **kw), d, weights=weights)
        assert plain.estimates[0].estimate == e.estimate and abs(plain.estimates[0].std_error - e.std_error) > 1e-3
        assert f"clustered by '{cluster}'" in e.method and res.diagnostics["n_clusters"] == 37


# ---------------------------------------------------------------- method mechanics
def test_nearest_matches_brute_force(sim):
    d = sim.data
    design = MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, method="nearest", caliper=None)
    res = design.fit(d)
    ps = design.propensity_scores(d).to_numpy()
    lp = np.log(ps / (1 - ps))
    t = (d.group == "intervention").to_numpy()
    y = d.weeks_on_benefit.to_numpy()
    lc, yc = lp[~t], y[~t]
    matched = np.array([yc[np.argmin(np.abs(lc - v))] for v in lp[t]])
    assert res.estimate_for("att").estimate == pytest.approx(y[t].mean() - matched.mean(), rel=1e-10)


def test_exact_strata_are_balanced_exactly(sim):
    d = sim.data.assign(q1=(sim.data.start_quarter == "2023Q1").astype(int), q4=(sim.data.start_quarter == "2023Q4").astype(int))
    for kw in (dict(method="ipw"), dict(method="dr"), dict(method="nearest", replace=False), dict(method="overlap"),
               dict(method="ipw", estimand="ATE")):
        res = fit_quiet(MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES + ["q1", "q4"], exact=["start_quarter"], **kw), d)
        bal = res.tables["balance"].set_index("covariate")
        assert abs(bal.loc["q1", "smd_after"]) < 1e-6 and abs(bal.loc["q4", "smd_after"]) < 1e-6, kw


def test_caliper_discards_and_warns(sim):
    design = MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, method="nearest", caliper=0.001)
    with pytest.warns(EvaluationWarning, match="dropped"):
        res = design.fit(sim.data)
    n_in = res.diagnostics["n_treated_input"]
    assert res.diagnostics["n_discarded_caliper"] > 0
    assert res.tidy().n_treated[0] == n_in - res.diagnostics["n_discarded_caliper"]


def test_survey_weights_change_the_answer_and_are_scale_free(sim):
    design = MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, exact=["start_quarter"])
    base = design.fit(sim.data).estimate_for("att")
    weighted = design.fit(sim.data, weights="design_weight").estimate_for("att")
    const = design.fit(sim.data.assign(w2=2.5), weights="w2").estimate_for("att")
    assert abs(weighted.estimate - base.estimate) > 0.05
    assert "design_weight" in weighted.method
    assert const.estimate == pytest.approx(base.estimate, rel=1e-6)
    for method in ("nearest", "overlap", "dr"):
        d2 = MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, method=method)
        a = fit_quiet(d2, sim.data).tidy().estimate[0]
        b = fit_quiet(d2, sim.data, weights="design_weight").tidy().estimate[0]
        assert abs(a - b) > 1e-3, method


def test_bootstrap_seeded_and_reestimates(sim):
    design = MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, method="ipw")
    a = design.fit(sim.data, se="bootstrap", n_boot=40, seed=3).tidy()
    b = design.fit(sim.data, se="bootstrap", n_boot=40, seed=3).tidy()
    c = design.fit(sim.data, se="bootstrap", n_boot=40, seed=4).tidy()
    pd.testing.assert_frame_equal(a, b)
    assert a.std_error[0] != c.std_error[0]
    robust = design.fit(sim.data).tidy()
    assert a.estimate[0] == robust.estimate[0]
    assert "bootstrap" in a.method[0] and 0.2 < a.std_error[0] / robust.std_error[0] < 5


def test_overlap_tables_and_diagnostics(sim):
    res = MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, method="overlap").fit(sim.data)
    assert res.tidy().term[0] == "ato" and "overlap population" in res.estimand
    hist = res.tables["overlap_histogram"]
    t = (sim.data.group == "intervention").sum()
    assert hist.n_treated.sum() == t and hist.n_control.sum() == len(sim.data) - t
    q = res.tables["overlap"]
    assert list(q.columns) == ["quantile", "ps_treated", "ps_control"] and q.ps_treated.is_monotonic_increasing
    for key in ("ess_treated", "ess_control", "n_outside_support_treated", "balance_ok"):
        assert key in res.diagnostics
    assert res.diagnostics["ess_control"] <= (sim.data.group == "control").sum()


# ---------------------------------------------------------------- recovery (bias, coverage; more specs in benchmarks/)
def test_recovers_known_effect_with_nominal_coverage():
    """400 simulated register pools with confounded selection: bias within MC error, 95 % CI coverage 93–97 %.

    The M-estimation standard error accounts for the estimated propensity score; the fixed-weight
    robust SE it replaced covered ~100 % here (too wide). Same seeds as benchmarks/bench_matched_recovery.py.
    """
    specs = {"ipw_att": (dict(method="ipw"), "true_att"), "overlap_ato": (dict(method="overlap"), "true_ato"),
             "dr_att": (dict(method="dr"), "true_att")}
    designs = {k: MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, exact=["start_quarter"], **kw)
               for k, (kw, _) in specs.items()}
    reps = 400
    err = {k: [] for k in specs}
    cover = {k: [] for k in specs}
    naive = []
    for r in range(reps):
        s = make_observational(n_treated=150, n_pool=900, seed=10_000 + r)
        for k, (_, truth) in specs.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", EvaluationWarning)
                e = designs[k].fit(s.data).estimates[0]
            err[k].append(e.estimate - getattr(s, truth))
            cover[k].append(e.ci_lower <= getattr(s, truth) <= e.ci_upper)
        if r < 20:
            g = s.data.groupby("group").weeks_on_benefit.mean()
            naive.append(g["intervention"] - g["control"] - s.true_att)
    for k in specs:
        e = np.asarray(err[k])
        mc_se = e.std(ddof=1) / np.sqrt(reps)
        assert abs(e.mean()) < 4 * mc_se, (k, e.mean(), mc_se)
        assert 0.93 <= np.mean(cover[k]) <= 0.97, (k, np.mean(cover[k]))
    assert np.mean(naive) > 1.0  # the selection is real: the naive difference is biased by more than a week


# ---------------------------------------------------------------- contracts
def test_registry_tidy_roundtrip_and_no_mutation(sim):
    assert get_design("matched_comparison") is MatchedComparison
    d = sim.data.copy()
    h = frame_hash(d)
    res = MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, exact=["start_quarter"]).fit(d, weights="design_weight")
    assert frame_hash(d) == h
    assert list(res.tidy().columns) == list(COMPARISON_COLUMNS)
    back = result_from_dict(json.loads(json.dumps(res.to_dict())))
    pd.testing.assert_frame_equal(back.tidy(), res.tidy())
    assert res.outcome_type == "continuous"


def test_binary_outcome(sim):
    d = sim.data.assign(long_term=(sim.data.weeks_on_benefit > 26).astype(int))
    res = MatchedComparison(outcome="long_term", covariates=COVARIATES).fit(d)
    assert res.outcome_type == "binary" and -1 < res.tidy().estimate[0] < 1


def test_errors(sim):
    d = sim.data
    mk = lambda **kw: MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, **kw)  # noqa: E731
    with pytest.raises(DataValidationError, match="nope"):
        MatchedComparison(outcome="weeks_on_benefit", covariates=["nope"]).fit(d)
    with pytest.raises(TypeError, match="clusters"):
        mk().fit(d, clusters="x")
    with pytest.raises(EstimationError, match="ATO"):
        mk(method="overlap", estimand="ATT")
    with pytest.raises(EstimationError):
        mk(method="nearest", estimand="ATE")
    with pytest.raises(EstimationError, match="nearest"):
        mk(method="ipw", caliper=0.1)
    with pytest.raises(DataValidationError, match="dropout"):
        mk().fit(d.assign(group=np.where(d.index == 0, "dropout", d.group)))
    with pytest.raises(DataValidationError, match="missing"):
        mk().fit(d.assign(age=np.where(d.index == 0, np.nan, d.age)))
    with pytest.raises(DataValidationError, match="numeric"):
        MatchedComparison(outcome="weeks_on_benefit", covariates=["start_quarter"]).fit(d)
    with pytest.raises(EstimationError, match="Abadie"):
        mk(method="nearest").fit(d, se="bootstrap", n_boot=50)
    with pytest.raises(EstimationError, match="apply to se="):
        mk().fit(d, seed=1)
    with pytest.raises(EstimationError, match="m_estimation"):
        mk(method="nearest").fit(d, se="m_estimation")
    with pytest.raises(EstimationError, match="cluster"):
        mk().fit(d, se="bootstrap", cluster="start_quarter")
    with pytest.raises(EstimationError, match="matched set"):
        mk(method="nearest", replace=False).fit(d, cluster="start_quarter")
    with pytest.raises(DataValidationError, match="'office'"):
        mk().fit(d, cluster="office")
    with pytest.raises(EstimationError, match="distance"):
        mk(method="ipw", distance="ps")
    from sklearn.neighbors import KNeighborsClassifier

    with pytest.raises(EstimationError, match="sample_weight"):
        mk(ps_model=KNeighborsClassifier()).fit(d, weights="design_weight")
    with pytest.raises(DataValidationError, match="non-negative"):
        mk().fit(d.assign(w=-1.0), weights="w")


def test_custom_classifier_is_used(sim):
    from sklearn.linear_model import LogisticRegression

    a = MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES).fit(sim.data).tidy()
    b = MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, ps_model=LogisticRegression(C=1e-4)).fit(sim.data).tidy()
    assert "LogisticRegression" in b.method[0] and abs(a.estimate[0] - b.estimate[0]) > 1e-3


def test_bundle_disclosure_of_matched_tables(sim):
    """At the bundle boundary: no single-person score quantiles, small histogram cells and small shares suppressed."""
    from evaluation.designs.family import AnalysisInput, get_family
    from evaluation.disclosure import SuppressionLog

    d = sim.data.assign(rare=(sim.data.index.isin(sim.data.index[sim.data.group == "intervention"][:3])).astype(int))
    res = fit_quiet(MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES + ["rare"], method="ipw"), d)
    hist = res.tables["overlap_histogram"]
    small = ((hist.n_treated > 0) & (hist.n_treated < 5)) | ((hist.n_control > 0) & (hist.n_control < 5))
    assert small.any()  # the raw result (for researchers in Python) has small bins
    log = SuppressionLog(5)
    fam = get_family("matched_comparison")
    inp = AnalysisInput(id="a", design=fam.design, options=fam.Options(covariates=COVARIATES + ["rare"]), fit=fam.Fit(),
                        outcome="weeks_on_benefit", frame=d, threshold=5)
    pub = fam.disclose(res, inp, log)
    q = pub.tables["overlap"]["quantile"]
    assert q.min() > 0 and q.max() < 1
    h = pub.tables["overlap_histogram"]
    for col in ("n_treated", "n_control"):
        v = h[col].dropna()
        assert not ((v > 0) & (v < 5)).any()
    assert "common_support" not in pub.diagnostics
    bal = pub.tables["balance"].set_index("covariate")
    assert np.isnan(bal.loc["rare", "mean_treated"]) and np.isnan(bal.loc["rare", "smd_after"])
    assert not np.isnan(bal.loc["age", "mean_treated"])
    assert any(e["row"] == "rare" for e in log.to_list())
    assert pub.estimates == res.estimates


def test_abadie_imbens_se_equals_a_direct_loop(sim):
    """AI (2006) variance for 1:k matching with replacement, recomputed person by person."""
    d = sim.data
    for k in (1, 3):
        design = MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, method="nearest", k=k, caliper=None)
        res = design.fit(d)
        e = res.estimate_for("att")
        assert res.diagnostics["se"] == "abadie_imbens" and "Abadie-Imbens" in e.method
        ps = design.propensity_scores(d).to_numpy()
        lp = np.log(ps / (1 - ps))
        t = (d.group == "intervention").to_numpy()
        y = d.weeks_on_benefit.to_numpy()
        ci = np.flatnonzero(~t)
        K = dict.fromkeys(ci, 0)
        resid = []
        for i in np.flatnonzero(t):
            nn = ci[np.argsort(np.abs(lp[ci] - lp[i]), kind="stable")[:k]]
            for j in nn:
                K[j] += 1
            resid.append(y[i] - y[nn].mean())
        resid = np.asarray(resid)
        assert e.estimate == pytest.approx(resid.mean(), rel=1e-10)
        v = np.sum((resid - resid.mean()) ** 2)
        for j, kj in K.items():
            if kj > 1:
                others = ci[ci != j]
                nb = others[np.argsort(np.abs(lp[others] - lp[j]), kind="stable")[:2]]
                v += kj * (kj - 1) / k**2 * 2 / 3 * (y[j] - y[nb].mean()) ** 2
        assert e.std_error == pytest.approx(np.sqrt(v) / t.sum(), rel=1e-8)
    # the fixed-weight WLS SE is still available and differs
    robust = fit_quiet(MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, method="nearest", caliper=None), d, se="robust")
    assert robust.estimates[0].std_error != pytest.approx(e.std_error, rel=1e-3)


def test_default_propensity_model_is_the_logistic_maximum_scikit_learn_finds():
    """The package's own Newton-Raphson logit (no scikit-learn import at start-up) gives the probabilities of
    LogisticRegression(C=inf, newton-cholesky, tol=1e-12), weighted and unweighted."""
    from sklearn.linear_model import LogisticRegression

    from evaluation.designs.matched.estimator import _logistic_ps

    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 4)) * [1, 5, 0.2, 1] + [0, 40, 0, 1]
    t = rng.binomial(1, 1 / (1 + np.exp(-(0.3 + (X - X.mean(0)) / X.std(0) @ np.array([0.5, -1.0, 0.2, 0.0])))))
    Z = (X - X.mean(0)) / X.std(0)
    for s in (None, rng.uniform(0.5, 2, 3000)):
        ref = LogisticRegression(C=np.inf, solver="newton-cholesky", max_iter=200, tol=1e-12).fit(Z, t, sample_weight=s)
        np.testing.assert_allclose(_logistic_ps(X, t, s), ref.predict_proba(Z)[:, 1], rtol=0, atol=1e-9)


def test_separated_groups_are_named_as_such():
    from evaluation.designs.matched.estimator import _logistic_ps

    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2))
    with pytest.raises(EstimationError, match="separation"):
        _logistic_ps(x, (x[:, 0] > 0).astype(int), None)
