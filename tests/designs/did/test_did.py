"""DiD 2x2 and TWFE: textbook values, weights/cluster behaviour, and conformance of all DiD designs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaluation.designs import get_design
from evaluation.designs.did.estimators import TWFE, CallawaySantAnna, DiD2x2
from evaluation.exceptions import DataValidationError, EstimationError
from evaluation.results import COMPARISON_COLUMNS
from evaluation.synthetic.staggered import simulate_staggered, simulate_two_by_two

REFERENCE = Path(__file__).resolve().parents[2] / "reference"
SRC = json.loads((REFERENCE / "did_sources.json").read_text())


# ---------------------------------------------------------------- 2x2: Wooldridge examples


@pytest.mark.parametrize(
    "spec,covs",
    [("no_covariates", []), ("age_agesq", ["age", "agesq"]),
     ("full", ["age", "agesq", "intst", "land", "area", "rooms", "baths"])],
)
def test_kielmc_incinerator_table_13_2(spec, covs):
    pub = SRC["did_kielmc.csv"]["values"][spec]
    df = pd.read_csv(REFERENCE / "did_kielmc.csv")
    res = DiD2x2("rprice", group="nearinc", time="year", covariates=covs).fit(df, cov_type="classical")
    e = res.estimate_for("did")
    assert e.estimate == pytest.approx(pub["did"], abs=0.01)
    assert e.std_error == pytest.approx(pub["se"], abs=0.01)
    assert e.n == 321 and e.n_treated + e.n_control == 321
    assert "classical" in e.method


def test_kielmc_raw_difference_of_differences():
    """The 2x2 estimate is the difference of the four cell means (Wooldridge eq. 13.6)."""
    df = pd.read_csv(REFERENCE / "did_kielmc.csv")
    res = DiD2x2("rprice", group="nearinc", time="year").fit(df, cov_type="robust")
    m = res.tables["cell_means"].set_index(["group", "after"])["mean"]
    assert (m[(1, 1)] - m[(0, 1)]) == pytest.approx(-30688.27, abs=0.01)
    assert (m[(1, 0)] - m[(0, 0)]) == pytest.approx(-18824.37, abs=0.01)
    assert res.estimate_for("did").estimate == pytest.approx(m[(1, 1)] - m[(0, 1)] - m[(1, 0)] + m[(0, 0)], abs=1e-6)


def test_injury_kentucky_example_13_4():
    pub = SRC["did_injury_ky.csv"]["values"]
    df = pd.read_csv(REFERENCE / "did_injury_ky.csv")
    e = DiD2x2("ldurat", group="highearn", time="afchnge").fit(df, cov_type="classical").estimate_for("did")
    assert round(e.estimate, 3) == pub["did"]
    assert round(e.std_error, 3) == pub["se"]
    assert e.n == pub["n"]


def test_2x2_cluster_weights_and_errors():
    df = simulate_two_by_two(n_persons=600, effect=-0.05, seed=4)
    base = DiD2x2("benefit", group="treated", time="post", unit="person")
    r_cl = base.fit(df).estimate_for("did")
    r_hc = base.fit(df, cov_type="robust").estimate_for("did")
    assert r_cl.estimate == pytest.approx(r_hc.estimate, abs=1e-12)
    assert abs(r_cl.std_error - r_hc.std_error) > 1e-5  # person clustering uses the panel correlation
    r_jc = DiD2x2("benefit", group="treated", time="post", unit="person", cluster="jobcentre").fit(df).estimate_for("did")
    assert abs(r_jc.std_error - r_cl.std_error) > 1e-5 and "jobcentre" in r_jc.method
    r_w = DiD2x2("benefit", group="treated", time="post", unit="person", weights="weight").fit(df).estimate_for("did")
    assert abs(r_w.estimate - r_cl.estimate) > 1e-6 and "WLS" in r_w.method
    # WLS equals the weighted cell-mean difference in differences
    w = df.assign(wy=df.benefit * df.weight).groupby(["treated", "post"])[["wy", "weight"]].sum()
    m = w.wy / w.weight
    assert r_w.estimate == pytest.approx(m[(1, 1)] - m[(1, 0)] - m[(0, 1)] + m[(0, 0)], abs=1e-10)
    assert abs(r_cl.estimate + 0.05) < 3 * r_cl.std_error
    with pytest.raises(EstimationError, match="unit or cluster"):
        DiD2x2("benefit", group="treated", time="post").fit(df)
    with pytest.raises(DataValidationError, match="exactly two periods"):
        DiD2x2("benefit", group="treated", time="age", unit="person").fit(df)
    with pytest.raises(EstimationError, match="cov_type"):
        base.fit(df, cov_type="hc3")


# ---------------------------------------------------------------- TWFE


def test_twfe_event_study_jtrain_example_14_1():
    """Wooldridge Example 14.1: FE with year effects, grant and grant_1 = event times 0 and 1."""
    pub = SRC["did_jtrain.csv"]["values"]
    df = pd.read_csv(REFERENCE / "did_jtrain.csv")
    res = TWFE("lscrap", unit="fcode", time="year", cohort="grant_year", event_study=True,
               event_window=(0, 1)).fit(df, cov_type="unadjusted")
    e0, e1 = res.estimate_for("e0"), res.estimate_for("e1")
    assert round(e0.estimate, 3) == pub["grant"] and round(e0.std_error, 3) == pub["se_grant"]
    assert round(e1.estimate, 3) == pub["grant_1"] and round(e1.std_error, 3) == pub["se_grant_1"]
    assert res.diagnostics["n_obs"] == pub["n_obs"]
    # the same model with the textbook's own regressors
    res2 = TWFE("lscrap", unit="fcode", time="year", treatment="grant", covariates=["grant_1"]).fit(df, cov_type="unadjusted")
    assert res2.estimate_for("twfe").estimate == pytest.approx(e0.estimate, abs=1e-10)


def test_twfe_panelols_equals_dummy_regression():
    df = simulate_staggered(n_persons=120, n_weeks=8, n_cohorts=3, seed=8)
    res = TWFE("benefit", unit="person", time="week", treatment="enrolled").fit(df, cov_type="unadjusted")
    X = pd.get_dummies(df[["person", "week"]].astype(str), drop_first=True, dtype=float)
    X.insert(0, "enrolled", df.enrolled.astype(float))
    ols = sm.OLS(df.benefit.to_numpy(), sm.add_constant(X).to_numpy()).fit()
    e = res.estimate_for("twfe")
    assert e.estimate == pytest.approx(ols.params[1], abs=1e-10)
    assert e.std_error == pytest.approx(ols.bse[1], rel=1e-8)
    # clustered by person (default): CR1 as Stata xtreg fe / reghdfe -- CR0 of the dummy regression
    # times G/(G-1) (N-1)/(N-K) with K = treatment + 7 week effects (person effects nested in clusters)
    cl = TWFE("benefit", unit="person", time="week", treatment="enrolled").fit(df).estimate_for("twfe")
    cr0 = sm.OLS(df.benefit.to_numpy(), sm.add_constant(X).to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": df.person.to_numpy(), "use_correction": False})
    G, N, K = 120, len(df), 1 + 7
    assert cl.std_error == pytest.approx(cr0.bse[1] * np.sqrt(G / (G - 1) * (N - 1) / (N - K)), rel=1e-6)
    from scipy import stats as st

    assert cl.ci_upper - cl.estimate == pytest.approx(st.t.ppf(0.975, G - 1) * cl.std_error, rel=1e-10)
    assert "CR1" in cl.method and "t(119)" in cl.method
    jc = TWFE("benefit", unit="person", time="week", treatment="enrolled", cluster="jobcentre").fit(df).estimate_for("twfe")
    assert cl.estimate == pytest.approx(e.estimate, abs=1e-12)
    assert len({round(cl.std_error, 8), round(jc.std_error, 8), round(e.std_error, 8)}) == 3
    # weights change the estimate
    df["w"] = np.repeat(np.random.default_rng(2).choice([1.0, 3.0], size=120), 8)
    wt = TWFE("benefit", unit="person", time="week", treatment="enrolled", weights="w").fit(df).estimate_for("twfe")
    assert abs(wt.estimate - e.estimate) > 1e-6


def test_twfe_event_study_recovers_constant_effect():
    df = simulate_staggered(n_persons=1500, n_weeks=12, n_cohorts=4, effect=-0.05, seed=12)
    res = TWFE("benefit", unit="person", time="week", cohort="cohort", event_study=True).fit(df)
    es = res.tables["event_study"].set_index("event_time")
    assert -1 not in es.index
    post = es.loc[es.index >= 0]
    pre = es.loc[es.index < -1]
    assert (np.abs(post.estimate + 0.05) < 4 * post.std_error).all()
    assert (np.abs(pre.estimate) < 4 * pre.std_error).all()
    with pytest.raises(EstimationError, match="cohort"):
        TWFE("benefit", unit="person", time="week", event_study=True)


# ---------------------------------------------------------------- conformance over the DiD designs


def _cases():
    two = simulate_two_by_two(n_persons=200, seed=1)
    stag = simulate_staggered(n_persons=200, n_weeks=10, n_cohorts=4, seed=1)
    return [
        ("did_2x2", dict(outcome="benefit", group="treated", time="post", unit="person"), two, {}),
        ("did_twfe", dict(outcome="benefit", unit="person", time="week", treatment="enrolled"), stag, {}),
        ("did_cs", dict(outcome="benefit", unit="person", time="week", cohort="cohort"), stag,
         {"bootstrap": True, "seed": 3, "draws": 199}),
    ]


@pytest.mark.parametrize("name,spec,data,opts", _cases(), ids=["did_2x2", "did_twfe", "did_cs"])
def test_conformance(name, spec, data, opts):
    cls = get_design(name)
    assert cls.evidence_level == 3
    design = cls(**spec)
    before = data.copy(deep=True)
    r1 = design.fit(data, **opts)
    pd.testing.assert_frame_equal(data, before)
    r2 = design.fit(data, **opts)
    pd.testing.assert_frame_equal(r1.tidy(), r2.tidy())
    assert r1.design == name and r1.kind == "effect"
    assert tuple(r1.tidy().columns) == COMPARISON_COLUMNS
    assert r1.tidy().std_error.gt(0).all()
    with pytest.raises(DataValidationError, match="lacks the column"):
        design.fit(data.drop(columns=[spec["outcome"]]), **opts)
    with pytest.raises(TypeError, match="does not support"):
        design.fit(data, not_an_option=1)
    r1.to_dict()  # serialisable for the results bundle


def test_cs_is_registered_with_its_class():
    assert get_design("did_cs") is CallawaySantAnna
    assert get_design("did_twfe") is TWFE
    assert get_design("did_2x2") is DiD2x2


def test_twfe_arguments_it_would_not_use_raise():
    with pytest.raises(EstimationError, match="cohort= only applies"):
        TWFE("benefit", unit="person", time="week", treatment="enrolled", cohort="cohort")
    with pytest.raises(EstimationError, match="treatment= is not used"):
        TWFE("benefit", unit="person", time="week", treatment="enrolled", cohort="cohort", event_study=True)
    df = simulate_staggered(n_persons=200, n_weeks=8, n_cohorts=3, seed=3)
    es = TWFE("benefit", unit="person", time="week", cohort="cohort", event_study=True).fit(df).tables["event_study"]
    assert {"ci_lower", "ci_upper"} <= set(es.columns) and (es.ci_lower < es.estimate).all()
