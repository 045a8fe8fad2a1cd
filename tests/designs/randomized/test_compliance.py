"""Complier effects of the randomized comparison (take_up): a published IV estimate, the Wald identity,
weights/clusters/strata against linearmodels, the weak take-up warning, bad input, disclosure and the
assumption checks."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from linearmodels.datasets import card
from linearmodels.iv import IV2SLS

from evaluation.designs.family import get_family
from evaluation.designs.randomized.compliance import compliance_checks
from evaluation.designs.randomized.estimator import RandomizedComparison
from evaluation.exceptions import DataValidationError, EstimationError, WeakTakeUpWarning
from evaluation.results import EffectResult, Estimate

REFERENCE = Path(__file__).resolve().parents[2] / "reference"
CARD_EXOG = ["exper", "expersq", "black", "smsa", "south", "smsa66"] + [f"reg66{i}" for i in range(2, 10)]


@pytest.fixture(scope="module")
def card_fit():
    d = card.load()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a strong first stage: no weak take-up warning
        return RandomizedComparison(outcome="lwage", treatment="nearc4", treated=1, control=0, covariates=CARD_EXOG,
                                    adjustment="ancova", take_up="educ").fit(d, cov_type="nonrobust")


@pytest.mark.parametrize("pub", json.loads((REFERENCE / "iv_card_proximity.json").read_text("utf-8"))["published"],
                         ids=lambda p: p["source"][:30])
def test_card_return_to_schooling_matches_the_published_digits(card_fit, pub):
    """Wooldridge Example 15.4, R AER::ivreg and iv.sensemakr: educ instrumented by college proximity."""
    e = card_fit.estimate_for("iv_effect_per_unit")
    d = card_fit.diagnostics
    k = pub["digits"]
    assert round(e.estimate, k) == pytest.approx(pub["iv_educ"], abs=10 ** -(k + 3))
    if "iv_educ_se" in pub:
        assert round(e.std_error, k) == pytest.approx(pub["iv_educ_se"], abs=10 ** -(k + 3))
    if "first_stage_nearc4" in pub:
        assert round(d["first_stage_estimate"], k) == pytest.approx(pub["first_stage_nearc4"], abs=10 ** -(k + 3))
    if "first_stage_nearc4_se" in pub:
        assert round(d["first_stage_std_error"], k) == pytest.approx(pub["first_stage_nearc4_se"], abs=10 ** -(k + 3))
    if "first_stage_t" in pub:
        assert round(np.sqrt(d["first_stage_f"]), 5) == pytest.approx(pub["first_stage_t"], abs=1e-8)
    if "weak_instruments_f" in pub:
        assert round(d["first_stage_f"], 3) == pytest.approx(pub["weak_instruments_f"], abs=1e-9)
        assert d["first_stage_df"] == pub["df_residual"]
    if "n" in pub:
        assert e.n == pub["n"]
    if "ols_educ" in pub:  # the OLS comparison of the textbook, on the same data
        import statsmodels.api as sm

        data = card.load()
        ols = sm.OLS(data["lwage"], sm.add_constant(data[["educ"] + CARD_EXOG])).fit()
        assert round(ols.params["educ"], 3) == pub["ols_educ"] and round(ols.bse["educ"], 3) == pub["ols_educ_se"]


def test_card_is_a_dose_not_a_cace(card_fit):
    assert card_fit.diagnostics["take_up_binary"] is False
    assert "effect per unit of take-up" in card_fit.estimate_for("iv_effect_per_unit").method
    assert list(card_fit.tables["take_up"].columns) == ["group", "n", "mean"]


def _trial(n=400, share=0.7, effect=-3.0, seed=3, two_sided=0.0):
    rng = np.random.default_rng(seed)
    site = rng.integers(0, 30, n)
    t = rng.permutation(np.r_[np.ones(15, bool), np.zeros(15, bool)])[site]  # allocated by site
    x = rng.normal(0, 1, n)
    complier = rng.random(n) < share
    always = (~complier) & (rng.random(n) < two_sided)
    d = (complier & t) | always
    y = 10 + 2 * x + effect * d + rng.normal(0, 3, n)
    return pd.DataFrame({"group": np.where(t, "intervention", "control"), "y": y, "x": x, "d": d.astype(int),
                         "w": rng.uniform(0.5, 2, n), "site": site, "blok": site % 3})


def test_without_covariates_the_cace_is_the_wald_ratio():
    df = _trial()
    r = RandomizedComparison(outcome="y", take_up="d").fit(df)
    t = df["group"] == "intervention"
    wald = (df.y[t].mean() - df.y[~t].mean()) / (df.d[t].mean() - df.d[~t].mean())
    assert r.estimate_for("cace").estimate == pytest.approx(wald, rel=1e-12)
    take = r.tables["take_up"].set_index("group")
    assert take.loc["intervention", "n_took_up"] == df.d[t].sum() and take.loc["control", "n_took_up"] == 0
    assert (take["n_took_up"] + take["n_not_took_up"] == take["n"]).all()
    assert r.diagnostics["take_up_one_sided"] is True
    assert r.estimate_for("cace").role == "effect"


@pytest.mark.parametrize("kw,fit,lm", [
    ({"covariates": ["x"], "weights": "w"}, {}, {"cov_type": "robust", "debiased": True}),
    ({"covariates": ["x"], "cluster": "site"}, {}, {"cov_type": "clustered", "debiased": True}),
    ({"covariates": ["x"]}, {"cov_type": "HC0"}, {"cov_type": "robust", "debiased": False}),
])
def test_weights_clusters_and_covariances_are_linearmodels(kw, fit, lm):
    df = _trial(two_sided=0.1)
    r = RandomizedComparison(outcome="y", take_up="d", **kw).fit(df, **fit)
    X = pd.DataFrame({"const": 1.0, "x": df.x})
    Z = (df.group == "intervention").astype(float).rename("z").to_frame()
    extra = {}
    if "cluster" in kw:
        extra["clusters"] = pd.Series(pd.factorize(df.site)[0])
    ref = IV2SLS(df.y, X, df[["d"]], Z, weights=df.w if "weights" in kw else None).fit(**lm, **extra)
    e = r.estimate_for("cace")
    assert e.estimate == pytest.approx(ref.params["d"], rel=1e-10)
    assert e.std_error == pytest.approx(ref.std_errors["d"], rel=1e-10)
    assert r.diagnostics["take_up_one_sided"] is False


def test_strata_enter_both_stages():
    df = _trial()
    r = RandomizedComparison(outcome="y", take_up="d", strata="blok").fit(df)
    X = pd.get_dummies(df.blok.astype(str), prefix="b", drop_first=True, dtype=float).assign(const=1.0)
    ref = IV2SLS(df.y, X, df[["d"]], (df.group == "intervention").astype(float).to_frame("z")).fit(cov_type="robust")
    assert r.estimate_for("cace").estimate == pytest.approx(ref.params["d"], rel=1e-10)
    assert "stratum indicators" in r.estimate_for("cace").method


def test_weak_take_up_warns_with_the_first_stage_f():
    df = _trial(n=200, share=0.05, seed=8, two_sided=0.4)
    with pytest.warns(WeakTakeUpWarning, match="F = "):
        r = RandomizedComparison(outcome="y", take_up="d").fit(df)
    assert r.diagnostics["weak_take_up"] is True and r.diagnostics["first_stage_f"] < 10
    assert {c["id"]: c["status"] for c in compliance_checks(r)}["take_up_relevance"] in ("tvivlsom", "brudt")


def test_bad_take_up_input_is_named():
    df = _trial()
    bad = df.assign(d=df.d.astype(object))
    bad.loc[3, "d"] = "ja"
    with pytest.raises(DataValidationError, match="take-up column 'd' must be numeric"):
        RandomizedComparison(outcome="y", take_up="d").fit(bad)
    miss = df.assign(d=df.d.astype(float))
    miss.loc[[5, 9], "d"] = np.nan
    with pytest.raises(DataValidationError, match="missing for 2 analysed"):
        RandomizedComparison(outcome="y", take_up="d").fit(miss)
    with pytest.raises(EstimationError, match="take_up 'y' is also"):
        RandomizedComparison(outcome="y", take_up="y")
    with pytest.raises(EstimationError, match="same value for every"):
        RandomizedComparison(outcome="y", take_up="d").fit(df.assign(d=0))


def test_assumption_checks_follow_the_stated_rules():
    def res(f, one_sided):
        return EffectResult(estimand="", estimates=(Estimate("cace", 1.0),), diagnostics={
            "take_up_column": "d", "first_stage_f": f, "take_up_one_sided": one_sided})
    status = lambda r: {c["id"]: c["status"] for c in compliance_checks(r)}  # noqa: E731
    assert status(res(10.0, True)) == {"take_up_relevance": "holder", "exclusion_restriction": "kan_ikke_testes",
                                       "take_up_monotonicity": "holder"}
    assert status(res(9.99, False))["take_up_relevance"] == "tvivlsom"
    assert status(res(3.83, False))["take_up_relevance"] == "brudt"
    assert status(res(None, False)) == {"take_up_relevance": "kan_ikke_testes", "exclusion_restriction": "kan_ikke_testes",
                                        "take_up_monotonicity": "kan_ikke_testes"}
    assert compliance_checks(EffectResult(estimand="", estimates=(Estimate("x", 1.0),))) == []


def test_the_checks_are_in_the_registry_and_run_through_it():
    from evaluation.designs.checks import CheckContext, checks_for, get_check, run_check
    from evaluation.designs.family import AnalysisInput

    fam = get_family("randomized_comparison")
    ids = {c.id for c in checks_for("randomized_comparison")}
    assert {"take_up_relevance", "exclusion_restriction", "take_up_monotonicity"} <= ids
    assert get_check("exclusion_restriction").kinds == ("exclusion_restriction",)
    df = _trial()
    opts = fam.Options(take_up="d", treatment="group")
    inp = AnalysisInput(id="a", design=fam.design, options=opts, fit=fam.Fit(), outcome="y", frame=df)
    res = fam.estimate(inp)
    got = run_check(get_check("take_up_relevance"), CheckContext(inp=inp, result=res, family=fam))
    assert got.status == "holder" and got.number == pytest.approx(res.diagnostics["first_stage_f"])
    none = AnalysisInput(id="a", design=fam.design, options=fam.Options(treatment="group"), fit=fam.Fit(), outcome="y",
                         frame=df)
    res0 = fam.estimate(none)
    got0 = run_check(get_check("take_up_relevance"), CheckContext(inp=none, result=res0, family=fam))
    assert got0.status == "kan_ikke_testes" and "take_up" in got0.finding_da


def test_a_small_take_up_count_hides_the_cace_and_the_first_stage():
    """3 of 24 did not start: the count is hidden, and with it the CACE and the first stage (ITT / CACE would
    give the share who started)."""
    from evaluation.designs.family import AnalysisInput
    from evaluation.disclosure import SuppressionLog

    fam = get_family("randomized_comparison")
    ex = fam.example("small_cells")
    df = ex.sources["participants"][0]
    df = df.assign(y=df["age"] / 10.0 + np.random.default_rng(1).normal(0, 1, len(df)))  # continuous: ITT published
    opts = fam.Options(**ex.options)
    inp = AnalysisInput(id="a", design=fam.design, options=opts, fit=fam.Fit(), outcome="y", frame=df,
                        threshold=5, min_group_size=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fam.estimate(inp)
        log = SuppressionLog(5)
        pub = fam.disclose(res, inp, log)
    take = pub.tables["take_up"].set_index("group")
    assert np.isnan(take.loc["intervention", "n_not_took_up"]) and np.isnan(take.loc["intervention", "n_took_up"])
    assert np.isnan(pub.estimate_for("cace").estimate)
    assert not np.isnan(pub.estimate_for("difference_in_means").estimate)
    assert pub.diagnostics["first_stage_estimate"] is None and pub.diagnostics["first_stage_f"] is None
    assert any(e["column"] == "estimate" and e["row"] == "cace" for e in log.to_list())


def test_jobfirst_reports_itt_and_cace_and_every_claim_follows(study_tree, tmp_path):
    """The shipped JobFirst study declares take-up (144 of 178 started); its report's take-up section states the
    bundle's numbers, and the checker catches a changed number or status."""
    from claims import check_report_claims
    from evaluation.pipeline import run_study
    from evaluation.reporting.quarto import report_markdown
    from evaluation.results import load_bundle

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = load_bundle(run_study(study_tree("jobfirst"), tmp_path / "results", figures=False))
    rec = b.analysis("forsoergelse")
    take = rec.result.tables["take_up"].set_index("group")
    assert (take.loc["intervention", "n_took_up"], take.loc["intervention", "n"]) == (144, 178)
    assert take.loc["control", "n_took_up"] == 0
    cace, itt = rec.result.estimate_for("cace"), rec.result.estimate_for("adjusted_difference")
    assert cace.estimate < itt.estimate < 0  # the CACE is the ITT scaled up by 1 / (share who started)
    assert cace.estimate == pytest.approx(itt.estimate / (144 / 178), rel=0.1)
    qmd = report_markdown(b)
    assert "I interventionsgruppen tog 144 af 178 (81\u00a0%) imod indsatsen." in qmd
    assert not check_report_claims(qmd, b)
    bad = qmd.replace("tog 144 af 178", "tog 150 af 178")
    assert any("take-up 144 of 178" in p for p in check_report_claims(bad, b))
    flipped = qmd.replace("| **kan ikke testes** |", "| **holder** |", 1)
    assert any("exclusion_restriction" in p for p in check_report_claims(flipped, b))
