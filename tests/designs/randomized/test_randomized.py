"""RandomizedComparison: published reference values, algebraic identities, randomization inference, conformance."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest

from evaluation.designs import get_design
from evaluation.designs.balance import BALANCE_TABLE_COLUMNS, balance_table, participant_flow
from evaluation.designs.randomized.estimator import RandomizedComparison
from evaluation.exceptions import DataValidationError, EstimationError
from evaluation.results import COMPARISON_COLUMNS, EffectResult
from evaluation.synthetic import simulate_sickness_trial

from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "reference"

COVS = ["age", "prior_sick_weeks_52", "sex", "diagnosis_group", "sector"]


def _ref(name):
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


def _two_groups(x1, n1, x0, n0):
    """Binary outcome data: x1 of n1 intervention and x0 of n0 control persons with outcome 1."""
    y = [1] * x1 + [0] * (n1 - x1) + [1] * x0 + [0] * (n0 - x0)
    g = ["intervention"] * n1 + ["control"] * n0
    return pd.DataFrame({"group": g, "y": y})


@pytest.fixture(scope="module")
def trial():
    return simulate_sickness_trial(seed=2024)


# --------------------------------------------------------------------------- published values

@pytest.mark.parametrize("ex", _ref("newcombe1998_difference_proportions.json")["examples"], ids=lambda e: e["label"])
def test_newcombe_method10_matches_table_ii(ex):
    ref = _ref("newcombe1998_difference_proportions.json")
    tol = ref["tolerance_abs"] + 1e-12
    res = RandomizedComparison(outcome="y", outcome_type="binary").fit(_two_groups(ex["x1"], ex["n1"], ex["x2"], ex["n2"]))
    e = res.estimate_for("difference_in_proportions")
    assert e.estimate == pytest.approx(ex["x1"] / ex["n1"] - ex["x2"] / ex["n2"], abs=1e-15)
    assert abs(e.ci_lower - ex["lower"]) <= tol and abs(e.ci_upper - ex["upper"]) <= tol
    assert "Newcombe" in e.method and e.n == ex["n1"] + ex["n2"]
    assert (e.n_treated, e.n_control) == (ex["n1"], ex["n2"])
    if "wald_lower" in ex:  # std_error is the unpooled (Wald) SE: its interval is Newcombe's method 1
        assert abs(e.estimate - 1.959963985 * e.std_error - ex["wald_lower"]) <= tol
        assert abs(e.estimate + 1.959963985 * e.std_error - ex["wald_upper"]) <= tol
        assert abs(e.ci_lower - ex["wald_lower"]) > 0.004  # and the reported interval is not Wald


def test_pooled_z_test_equals_pearson_chi_square():
    from scipy.stats import chi2_contingency

    res = RandomizedComparison(outcome="y").fit(_two_groups(56, 70, 48, 80))
    assert res.outcome_type == "binary"
    e = res.estimate_for("difference_in_proportions")
    chi2, p, _, _ = chi2_contingency([[56, 14], [48, 32]], correction=False)
    assert e.statistic**2 == pytest.approx(chi2, rel=1e-12)
    assert e.p_value == pytest.approx(p, rel=1e-10)


@pytest.mark.parametrize("ex", _ref("newcombe1998_wilson.json")["examples"], ids=lambda e: f"{e['x']}/{e['n']}")
def test_wilson_share_matches_newcombe_table_i(ex):
    tol = _ref("newcombe1998_wilson.json")["tolerance_abs"] + 1e-12
    res = RandomizedComparison(outcome="y", outcome_type="binary").fit(_two_groups(ex["x"], ex["n"], 3, 10))
    e = res.estimate_for("share_intervention")
    assert e.estimate == pytest.approx(ex["x"] / ex["n"])
    assert abs(e.ci_lower - ex["lower"]) <= tol and abs(e.ci_upper - ex["upper"]) <= tol
    assert "Wilson" in e.method and e.n == ex["n"]


def test_welch_matches_r_t_test_on_sleep():
    ref = _ref("r_ttest_sleep.json")
    d = pd.DataFrame(ref["data"])
    d["arm"] = np.where(d["group"] == 2, "intervention", "control")
    res = RandomizedComparison(outcome="extra", treatment="arm").fit(d)
    assert res.outcome_type == "continuous"
    w, tol = ref["welch_group1_minus_group2"], ref["tolerance"]
    e = res.estimate_for("difference_in_means")
    assert e.estimate == pytest.approx(w["mean_group2"] - w["mean_group1"], abs=1e-12)
    assert abs(e.statistic - (-w["statistic"])) <= tol["statistic"]
    assert abs(res.diagnostics["welch_df"] - w["df"]) <= tol["df"]
    assert abs(e.p_value - w["p_value"]) <= tol["p_value"]
    assert abs(e.ci_lower - (-w["ci_upper"])) <= tol["ci"] and abs(e.ci_upper - (-w["ci_lower"])) <= tol["ci"]
    assert "Welch" in e.method
    assert res.estimate_for("mean_control").estimate == pytest.approx(w["mean_group1"], abs=tol["mean"])
    assert res.estimate_for("mean_intervention").estimate == pytest.approx(w["mean_group2"], abs=tol["mean"])


def test_conf_level_changes_interval_width():
    ref = _ref("r_ttest_sleep.json")
    d = pd.DataFrame(ref["data"]).assign(arm=lambda x: np.where(x["group"] == 2, "intervention", "control"))
    design = RandomizedComparison(outcome="extra", treatment="arm")
    e95 = design.fit(d).estimate_for("difference_in_means")
    e90 = design.fit(d, conf_level=0.90).estimate_for("difference_in_means")
    from scipy import stats

    q90 = stats.t.ppf(0.95, design.fit(d).diagnostics["welch_df"])
    assert e90.ci_upper - e90.estimate == pytest.approx(q90 * e95.std_error, rel=1e-9)


@pytest.fixture(scope="module")
def nsw():
    ref = _ref("nsw_dw_experimental.json")
    d = pd.DataFrame(ref["data"], columns=ref["columns"])
    d["arm"] = np.where(d["treat"] == 1, "nsw", "control")
    return ref, d


def test_nsw_experimental_benchmark(nsw):
    ref, d = nsw
    pub, tol = ref["published"], ref["tolerance"]["means_and_difference"]
    res = RandomizedComparison(outcome="re78", treatment="arm", treated="nsw").fit(d)
    e = res.estimate_for("difference_in_means")
    assert (e.n_treated, e.n_control) == (pub["n_treated"], pub["n_control"])
    assert abs(e.estimate - pub["difference"]) <= tol
    assert round(e.estimate) == pub["difference_rounded_dw1999"]
    assert abs(res.estimate_for("mean_intervention").estimate - pub["mean_treated_re78"]) <= tol
    assert abs(res.estimate_for("mean_control").estimate - pub["mean_control_re78"]) <= tol


def test_single_stratum_regression_reproduces_ols_se_and_welch_se(nsw):
    """With one stratum the regression is y ~ 1 + T: classical SE = DW (1999) 633; HC2 SE = Welch SE."""
    ref, d = nsw
    d = d.assign(block="all")
    design = RandomizedComparison(outcome="re78", treatment="arm", treated="nsw", strata="block")
    ols = design.fit(d, cov_type="nonrobust").estimate_for("adjusted_difference")
    assert abs(ols.std_error - ref["published"]["se_ols_dw1999"]) <= ref["tolerance"]["se_ols"]
    hc2 = design.fit(d).estimate_for("adjusted_difference")
    welch = design.fit(d).estimate_for("difference_in_means")
    assert hc2.estimate == pytest.approx(welch.estimate, rel=1e-12)
    assert hc2.std_error == pytest.approx(welch.std_error, rel=1e-10)
    assert "HC2" in hc2.method and "classical" in ols.method


# --------------------------------------------------------------------------- regression adjustment

def _lin_matrix(df, covs, t):
    X = pd.get_dummies(df[covs], columns=[c for c in covs if not pd.api.types.is_numeric_dtype(df[c])], drop_first=True, dtype=float)
    Xc = X.to_numpy(float) - X.to_numpy(float).mean(axis=0)
    return np.column_stack([np.ones(len(df)), t, Xc, t[:, None] * Xc])


def _hc(X, y, kind):
    XtXi = np.linalg.inv(X.T @ X)
    b = XtXi @ X.T @ y
    e = y - X @ b
    h = np.einsum("ij,jk,ik->i", X, XtXi, X)
    w = {"HC2": e**2 / (1 - h), "HC3": e**2 / (1 - h) ** 2}[kind]
    V = XtXi @ (X.T * w) @ X @ XtXi
    return b, np.sqrt(np.diag(V))


@pytest.mark.parametrize("kind", ["HC2", "HC3"])
def test_lin_estimate_and_robust_se_match_hand_formula(trial, kind):
    d = trial[trial["sick_weeks_52"].notna()]
    t = (d["group"] == "intervention").to_numpy(float)
    y = d["sick_weeks_52"].to_numpy(float)
    b, se = _hc(_lin_matrix(d, COVS, t), y, kind)
    res = RandomizedComparison(outcome="sick_weeks_52", covariates=COVS).fit(trial, cov_type=kind)
    e = res.estimate_for("adjusted_difference")
    assert e.estimate == pytest.approx(b[1], rel=1e-10)
    assert e.std_error == pytest.approx(se[1], rel=1e-8)
    assert "Lin" in e.method and kind in e.method
    from scipy import stats

    q = stats.t.ppf(0.975, len(y) - _lin_matrix(d, COVS, t).shape[1])
    assert e.ci_upper == pytest.approx(b[1] + q * se[1], rel=1e-8)


def test_lin_equals_difference_of_group_regressions_at_overall_mean(trial):
    """Lin's estimate = (ȳ1 − b1'(x̄1 − x̄)) − (ȳ0 − b0'(x̄0 − x̄)) with separate OLS fits per group."""
    d = trial[trial["sick_weeks_52"].notna()]
    X = pd.get_dummies(d[COVS], columns=["sex", "diagnosis_group", "sector"], drop_first=True, dtype=float).to_numpy()
    xbar = X.mean(axis=0)
    y = d["sick_weeks_52"].to_numpy()
    preds = []
    for label in ("intervention", "control"):
        m = (d["group"] == label).to_numpy()
        A = np.column_stack([np.ones(m.sum()), X[m]])
        coef = np.linalg.lstsq(A, y[m], rcond=None)[0]
        preds.append(coef[0] + xbar @ coef[1:])
    res = RandomizedComparison(outcome="sick_weeks_52", covariates=COVS).fit(trial)
    assert res.estimate_for("adjusted_difference").estimate == pytest.approx(preds[0] - preds[1], rel=1e-10)


def test_ancova_is_ols_with_covariates(trial):
    d = trial[trial["renewed_absence_12m"].notna()]
    t = (d["group"] == "intervention").to_numpy(float)
    X = pd.get_dummies(d[COVS], columns=["sex", "diagnosis_group", "sector"], drop_first=True, dtype=float).to_numpy()
    b, se = _hc(np.column_stack([np.ones(len(d)), t, X]), d["renewed_absence_12m"].to_numpy(float), "HC2")
    res = RandomizedComparison(outcome="renewed_absence_12m", covariates=COVS, adjustment="ancova").fit(trial)
    e = res.estimate_for("adjusted_difference")
    assert res.outcome_type == "binary"
    assert e.estimate == pytest.approx(b[1], rel=1e-10) and e.std_error == pytest.approx(se[1], rel=1e-8)
    assert "ANCOVA" in e.method


def test_adjustment_none_describes_covariates_only(trial):
    res = RandomizedComparison(outcome="sick_weeks_52", covariates=COVS, adjustment="none").fit(trial)
    assert "adjusted_difference" not in set(res.tidy()["term"])
    assert len(res.tables["balance"]) == 2 + 2 + 3 + 2
    with pytest.raises(EstimationError, match="cov_type"):
        RandomizedComparison(outcome="sick_weeks_52", covariates=COVS, adjustment="none").fit(trial, cov_type="HC3")


def test_strata_block_weighted_estimate(trial):
    d = trial[trial["sick_weeks_52"].notna()]
    expected = 0.0
    for _, part in d.groupby("diagnosis_group"):
        diff = (part.loc[part.group == "intervention", "sick_weeks_52"].mean()
                - part.loc[part.group == "control", "sick_weeks_52"].mean())
        expected += len(part) / len(d) * diff
    res = RandomizedComparison(outcome="sick_weeks_52", strata="diagnosis_group", adjustment="none").fit(trial)
    e = res.estimate_for("adjusted_difference")
    assert e.estimate == pytest.approx(expected, rel=1e-10)
    assert "block-weighted" in e.method and res.diagnostics["n_strata"] == 3
    # Lin with strata: stratum indicators are part of the interacted adjustment set
    lin = RandomizedComparison(outcome="sick_weeks_52", strata="diagnosis_group", covariates=["age"]).fit(trial)
    assert "diagnosis_group = psykisk" in lin.diagnostics["adjusted_columns"]


def test_stratum_without_both_groups_raises():
    d = pd.DataFrame({"group": ["intervention", "control"] * 4 + ["intervention"] * 2,
                      "y": np.arange(10.0), "s": ["a"] * 8 + ["b"] * 2})
    with pytest.raises(DataValidationError, match="strata"):
        RandomizedComparison(outcome="y", strata="s").fit(d)


def _cluster_data(seed=0, G=24, m=8):
    rng = np.random.default_rng(seed)
    cl = np.repeat(np.arange(G), m)
    arm = np.where(np.isin(cl, rng.choice(G, G // 2, replace=False)), "intervention", "control")
    y = rng.normal(size=G)[cl] + rng.normal(size=G * m) + 0.5 * (arm == "intervention")
    x = rng.normal(size=G * m)
    return pd.DataFrame({"group": arm, "y": y + 0.3 * x, "x": x, "workplace": [f"W{c:02d}" for c in cl]})


def test_cluster_robust_se_matches_cr1_hand_formula():
    d = _cluster_data()
    res = RandomizedComparison(outcome="y", cluster="workplace").fit(d)
    e = res.estimate_for("difference_in_means")
    X = np.column_stack([np.ones(len(d)), (d["group"] == "intervention").to_numpy(float)])
    y = d["y"].to_numpy()
    XtXi = np.linalg.inv(X.T @ X)
    b = XtXi @ X.T @ y
    u = X * (y - X @ b)[:, None]
    S = pd.DataFrame(u).groupby(d["workplace"].to_numpy()).sum().to_numpy()
    G, N, K = S.shape[0], len(y), 2
    V = XtXi @ (S.T @ S) @ XtXi * G / (G - 1) * (N - 1) / (N - K)
    assert e.estimate == pytest.approx(b[1], rel=1e-12)
    assert e.std_error == pytest.approx(math.sqrt(V[1, 1]), rel=1e-10)
    from scipy import stats

    assert e.ci_upper == pytest.approx(b[1] + stats.t.ppf(0.975, G - 1) * e.std_error, rel=1e-10)
    assert "cluster-robust" in e.method and "24 clusters" in e.method
    adj = RandomizedComparison(outcome="y", cluster="workplace", covariates=["x"]).fit(d).estimate_for("adjusted_difference")
    assert "cluster-robust" in adj.method
    assert res.diagnostics["n_clusters"] == {"intervention": 12, "control": 12}


def test_cluster_option_conflicts_raise():
    d = _cluster_data()
    with pytest.raises(EstimationError, match="cluster"):
        RandomizedComparison(outcome="y", cluster="workplace").fit(d, cov_type="HC2")
    with pytest.raises(EstimationError, match="cluster"):
        RandomizedComparison(outcome="y", covariates=["x"]).fit(d, cov_type="cluster")
    mixed = d.copy()
    mixed.loc[0, "group"] = "control" if mixed.loc[0, "group"] == "intervention" else "intervention"
    with pytest.raises(DataValidationError, match="constant within a cluster"):
        RandomizedComparison(outcome="y", cluster="workplace").fit(mixed)


# --------------------------------------------------------------------------- randomization inference

def _exact_p(y, t, assignments):
    obs = abs(y[t].mean() - y[~t].mean())
    stats_ = [abs(y[a].mean() - y[~a].mean()) for a in assignments]
    return np.mean([s >= obs - 1e-12 for s in stats_])


def test_randomization_p_matches_exact_enumeration():
    y = np.array([3.1, 4.0, 5.2, 6.3, 1.0, 2.2, 2.9, 0.5])
    t = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    d = pd.DataFrame({"group": np.where(t, "intervention", "control"), "y": y})
    assigns = []
    for idx in itertools.combinations(range(8), 4):
        a = np.zeros(8, bool)
        a[list(idx)] = True
        assigns.append(a)
    exact = _exact_p(y, t, assigns)  # 2/70
    res = RandomizedComparison(outcome="y").fit(d, permutations=20000, seed=7)
    assert res.diagnostics["p_value_randomization"] == pytest.approx(exact, abs=0.006)
    assert res.diagnostics["permutations"] == 20000 and res.diagnostics["seed"] == 7


def test_randomization_permutes_within_strata():
    # strata differ in level and in the treated share; exact p under block randomization
    y = np.array([10.0, 11.5, 9.0, 12.0, 1.0, 2.5, 0.2, 1.7, 3.0])
    s = np.array(["a"] * 4 + ["b"] * 5)
    t = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0], bool)
    d = pd.DataFrame({"group": np.where(t, "intervention", "control"), "y": y, "s": s})
    assigns = []
    for ia in itertools.combinations(range(4), 2):
        for ib in itertools.combinations(range(4, 9), 1):
            a = np.zeros(9, bool)
            a[list(ia) + list(ib)] = True
            assigns.append(a)
    exact_block = _exact_p(y, t, assigns)
    free = []
    for idx in itertools.combinations(range(9), 3):
        a = np.zeros(9, bool)
        a[list(idx)] = True
        free.append(a)
    assert abs(exact_block - _exact_p(y, t, free)) > 0.1  # the test can tell the two schemes apart
    res = RandomizedComparison(outcome="y", strata="s", adjustment="none").fit(d, permutations=20000, seed=3)
    assert res.diagnostics["p_value_randomization"] == pytest.approx(exact_block, abs=0.012)
    assert "within strata" in res.diagnostics["randomization_scheme"]


def test_randomization_permutes_clusters():
    rng = np.random.default_rng(5)
    sizes = [2, 3, 4, 2, 3, 5]
    cl = np.repeat(np.arange(6), sizes)
    tc = np.array([1, 1, 1, 0, 0, 0], bool)
    y = rng.normal(size=len(cl)) + 1.5 * tc[cl]
    d = pd.DataFrame({"group": np.where(tc[cl], "intervention", "control"), "y": y, "c": cl})
    assigns = []
    for idx in itertools.combinations(range(6), 3):
        a = np.zeros(6, bool)
        a[list(idx)] = True
        assigns.append(a[cl])
    exact = _exact_p(y, tc[cl], assigns)
    res = RandomizedComparison(outcome="y", cluster="c").fit(d, permutations=20000, seed=11)
    assert res.diagnostics["p_value_randomization"] == pytest.approx(exact, abs=0.01)
    assert "clusters" in res.diagnostics["randomization_scheme"]


def test_randomization_p_has_plus_one_form_and_is_seeded(trial):
    design = RandomizedComparison(outcome="sick_weeks_52")
    a = design.fit(trial, permutations=99, seed=1).diagnostics["p_value_randomization"]
    assert a * 100 == pytest.approx(round(a * 100))  # (1 + count) / (1 + 99)
    assert a >= 1 / 100
    assert design.fit(trial, permutations=99, seed=1).diagnostics["p_value_randomization"] == a


# --------------------------------------------------------------------------- tables

def test_balance_table_smd_and_categorical_levels(trial):
    bal = balance_table(trial, "group", "intervention", "control", ["age", "sex", "diagnosis_group"])
    assert list(bal.columns) == list(BALANCE_TABLE_COLUMNS)
    assert list(bal["covariate"]) == ["age", "sex = kvinde", "sex = mand", "diagnosis_group = andet",
                                      "diagnosis_group = muskel_skelet", "diagnosis_group = psykisk"]
    t, c = trial[trial.group == "intervention"], trial[trial.group == "control"]
    age = bal.iloc[0]
    s1, s0 = t["age"].std(ddof=1), c["age"].std(ddof=1)
    assert age["smd"] == pytest.approx((t["age"].mean() - c["age"].mean()) / math.sqrt((s1**2 + s0**2) / 2), rel=1e-12)
    assert not age["binary"] and age["n_intervention"] == 300 and age["n_control"] == 300
    k = bal.set_index("covariate").loc["sex = kvinde"]
    p1, p0 = (t["sex"] == "kvinde").mean(), (c["sex"] == "kvinde").mean()
    assert k["binary"] and k["mean_intervention"] == pytest.approx(p1)
    assert k["smd"] == pytest.approx((p1 - p0) / math.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2), rel=1e-12)
    # weights: weighted means
    w = np.where(trial["sector"] == "offentlig", 2.0, 1.0)
    bw = balance_table(trial, "group", covariates=["age"], weights=w)
    m = trial["group"] == "intervention"
    assert bw.iloc[0]["mean_intervention"] == pytest.approx(np.average(trial.loc[m, "age"], weights=w[m]))


def test_groups_flow_and_missing_outcome_counts(trial):
    res = RandomizedComparison(outcome="sick_weeks_52", covariates=COVS).fit(trial)
    miss = trial["sick_weeks_52"].isna()
    n_miss_t = int((miss & (trial.group == "intervention")).sum())
    n_miss_c = int((miss & (trial.group == "control")).sum())
    assert n_miss_t + n_miss_c > 0
    assert res.diagnostics["n_missing_outcome"] == {"intervention": n_miss_t, "control": n_miss_c}
    g = res.tables["groups"].set_index("group")
    assert list(res.tables["groups"].columns) == ["group", "n", "mean", "sd", "missing"]
    assert g.loc["intervention", "missing"] == n_miss_t and g.loc["intervention", "n"] == 300 - n_miss_t
    assert g.loc["control", "mean"] == pytest.approx(trial.loc[trial.group == "control", "sick_weeks_52"].mean())
    flow = res.tables["flow"].set_index("step")
    assert flow.loc["allocated", "intervention"] == 300 and flow.loc["lost_to_follow_up", "control"] == n_miss_c
    assert flow.loc["analysed", "total"] == 600 - n_miss_t - n_miss_c
    assert res.estimate_for("difference_in_means").n == 600 - n_miss_t - n_miss_c
    pf = participant_flow(trial, "group", "sick_weeks_52")
    pd.testing.assert_frame_equal(pf, res.tables["flow"])
    binres = RandomizedComparison(outcome="job_retention_12m").fit(trial)
    assert "share" in binres.tables["groups"].columns


# --------------------------------------------------------------------------- conformance

def test_registered_and_result_shape(trial):
    assert get_design("randomized_comparison") is RandomizedComparison
    res = RandomizedComparison(outcome="job_retention_12m", covariates=COVS).fit(trial)
    assert isinstance(res, EffectResult)
    assert res.design == "randomized_comparison" and res.evidence_level == 5 and res.outcome_type == "binary"
    assert "intervention − control" in res.estimand and "job_retention_12m" in res.estimand
    tidy = res.tidy()
    assert list(tidy.columns) == list(COMPARISON_COLUMNS)
    assert list(tidy["term"]) == ["difference_in_proportions", "share_intervention", "share_control", "adjusted_difference"]
    assert tidy["method"].str.len().min() > 10 and tidy["n_treated"].notna().all()
    assert json.dumps(res.to_dict())  # serialisable for the bundle


def test_does_not_mutate_input_and_is_deterministic(trial):
    before = trial.copy(deep=True)
    design = RandomizedComparison(outcome="sick_weeks_52", covariates=["age", "sex", "sector"], strata="diagnosis_group")
    a = design.fit(trial, permutations=200, seed=42)
    b = design.fit(trial, permutations=200, seed=42)
    pd.testing.assert_frame_equal(trial, before)
    assert a.to_dict() == b.to_dict()
    c = design.fit(trial, permutations=200, seed=43)
    assert c.diagnostics["seed"] == 43


def test_missing_column_and_unknown_option(trial):
    with pytest.raises(DataValidationError, match="'nope'"):
        RandomizedComparison(outcome="nope").fit(trial)
    with pytest.raises(DataValidationError, match="'tenure'"):
        RandomizedComparison(outcome="sick_weeks_52", covariates=["tenure"]).fit(trial)
    with pytest.raises(TypeError, match="bootstrap"):
        RandomizedComparison(outcome="sick_weeks_52").fit(trial, bootstrap=True)


def test_data_errors_name_column_values_and_rows(trial):
    bad = trial.copy()
    bad.loc[[3, 7], "group"] = "venteliste"
    with pytest.raises(DataValidationError, match=r"'group'.*'venteliste' \(2\).*rows 3, 7"):
        RandomizedComparison(outcome="sick_weeks_52").fit(bad)
    only = trial[trial.group == "intervention"]
    with pytest.raises(DataValidationError, match="'control'.*empty"):
        RandomizedComparison(outcome="sick_weeks_52").fit(only)
    text = trial.assign(sick_weeks_52=trial["sick_weeks_52"].astype(object))
    text.loc[5, "sick_weeks_52"] = "ukendt"
    with pytest.raises(DataValidationError, match=r"numeric.*'ukendt'.*rows 5"):
        RandomizedComparison(outcome="sick_weeks_52").fit(text)
    with pytest.raises(DataValidationError, match="other than 0/1"):
        RandomizedComparison(outcome="sick_weeks_52", outcome_type="binary").fit(trial)
    nan_cov = trial.copy()
    nan_cov.loc[11, "age"] = np.nan
    with pytest.raises(DataValidationError, match=r"'age'.*rows 11"):
        RandomizedComparison(outcome="sick_weeks_52", covariates=["age"]).fit(nan_cov)
    all_missing = trial.copy()
    all_missing.loc[all_missing.group == "control", "sick_weeks_52"] = np.nan
    with pytest.raises(DataValidationError, match="no observed outcome"):
        RandomizedComparison(outcome="sick_weeks_52").fit(all_missing)


def test_specification_errors():
    with pytest.raises(EstimationError, match="adjustment"):
        RandomizedComparison(outcome="y", adjustment="ols")
    with pytest.raises(EstimationError, match="outcome_type"):
        RandomizedComparison(outcome="y", outcome_type="count")
    with pytest.raises(EstimationError, match="differ"):
        RandomizedComparison(outcome="y", treated="a", control="a")
    with pytest.raises(EstimationError, match="list"):
        RandomizedComparison(outcome="y", covariates="age")
    d = _two_groups(5, 10, 3, 10)
    with pytest.raises(EstimationError, match="conf_level"):
        RandomizedComparison(outcome="y").fit(d, conf_level=95)
    with pytest.raises(EstimationError, match="permutations"):
        RandomizedComparison(outcome="y").fit(d, permutations=-1)


def test_seed_without_permutations_raises(trial):
    with pytest.raises(EstimationError, match="seed= only applies"):
        RandomizedComparison(outcome="sick_weeks_52").fit(trial, seed=3)
