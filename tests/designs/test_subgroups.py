"""Subgroup effects ("for whom"): refits per level, interaction tests, Holm, exploratory labels, minimum size."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from evaluation.designs.did.estimators import DiD2x2
from evaluation.designs.randomized.estimator import RandomizedComparison
from evaluation.exceptions import EvaluationError
from evaluation.designs.subgroups import SUBGROUP_COLUMNS, subgroup_table


def _mod(var, label=None):
    return SimpleNamespace(id=var, label=label or var, variable=var)


def _trial(n=1200, seed=0, n_clusters=40):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n)  # true moderator: only x = 1 responds
    z = rng.choice(["a", "b", "c"], n)  # no moderation
    cl = rng.integers(0, n_clusters, n)
    t = np.isin(cl, np.arange(n_clusters // 2))  # cluster-randomized
    age = rng.normal(40, 10, n)
    y = 10 + 0.1 * (age - 40) + rng.normal(0, 1.0, n_clusters)[cl] + rng.normal(size=n) - 2.0 * x * t
    return pd.DataFrame({"group": np.where(t, "intervention", "control"), "y": y, "x": x, "z": z, "age": age,
                         "workplace": cl, "w": np.where(x == 1, 3.0, 1.0)})


def _table(df, options, mods, prespecified=None, min_group_size=20, threshold=5, fit=None):
    return subgroup_table(RandomizedComparison, options, fit or {}, df, "y", mods, min_group_size=min_group_size,
                          threshold=threshold, prespecified={m.id for m in mods} if prespecified is None else prespecified)


def test_estimates_are_refits_within_levels_and_holm_is_applied():
    df = _trial()
    opts = {"covariates": ["age", "x"]}
    tab = _table(df, opts, [_mod("x"), _mod("z")])
    assert list(tab.columns) == SUBGROUP_COLUMNS
    assert list(tab.level) == ["0", "1", "a", "b", "c"]
    for _, r in tab.iterrows():
        part = df[df[r.moderator].astype(str) == r.level]
        covs = [c for c in opts["covariates"] if c != r.moderator]
        e = RandomizedComparison(outcome="y", covariates=covs).fit(part).estimate_for("adjusted_difference")
        assert r.estimate == pytest.approx(e.estimate, abs=1e-12) and r.ci_lower == pytest.approx(e.ci_lower, abs=1e-12)
    px, pz = tab.groupby("moderator").p_interaction.first()[["x", "z"]]
    assert px < 1e-6  # the true moderator is detected
    assert pz > 1e-3
    # Holm with two tests: smallest p doubled, the other max(previous, p)
    hx, hz = tab.groupby("moderator").p_interaction_holm.first()[["x", "z"]]
    lo, hi = sorted([px, pz])
    h_lo, h_hi = min(1.0, 2 * lo), max(min(1.0, 2 * lo), hi)
    assert (hx, hz) == pytest.approx((h_lo, h_hi) if px < pz else (h_hi, h_lo), rel=1e-12)


def test_interaction_test_honours_cluster_and_weights():
    df = _trial(seed=1)
    t = (df.group == "intervention").astype(float)
    d = df.assign(t=t, m=df.z.astype(str))
    hc2 = smf.ols("y ~ t * C(m)", data=d).fit(cov_type="HC2", use_t=True)
    cl = smf.ols("y ~ t * C(m)", data=d).fit(cov_type="cluster", cov_kwds={"groups": d.workplace.to_numpy()}, use_t=True)
    wl = smf.wls("y ~ t * C(m)", data=d, weights=d.w).fit(cov_type="cluster", cov_kwds={"groups": d.workplace.to_numpy()},
                                                         use_t=True)
    R = [[1.0 if n == k else 0.0 for n in hc2.params.index] for k in hc2.params.index if k.startswith("t:C(m)")]

    def p(fit):
        return float(fit.wald_test(np.array(R), scalar=True, use_f=True).pvalue)

    person = _table(df, {}, [_mod("z")]).p_interaction.iloc[0]
    clustered = _table(df, {"cluster": "workplace"}, [_mod("z")])
    weighted = _table(df, {"cluster": "workplace", "weights": "w"}, [_mod("z")]).p_interaction.iloc[0]
    assert person == pytest.approx(p(hc2), rel=1e-10)
    assert clustered.p_interaction.iloc[0] == pytest.approx(p(cl), rel=1e-10)
    assert weighted == pytest.approx(p(wl), rel=1e-10)
    assert len({round(person, 10), round(clustered.p_interaction.iloc[0], 10), round(weighted, 10)}) == 3
    assert "CR1" in clustered.attrs["interaction_test"]["z"]
    # within-level refits are clustered too
    part = df[df.z == "a"]
    e = RandomizedComparison(outcome="y", cluster="workplace").fit(part).estimate_for("difference_in_means")
    assert clustered.estimate.iloc[0] == pytest.approx(e.estimate) and clustered.ci_lower.iloc[0] == pytest.approx(e.ci_lower)


def test_exploratory_label_and_minimum_group_size():
    df = _trial(seed=2)
    df["rare"] = np.where(np.arange(len(df)) < 30, "few", "many")  # 'few' has < 20 per group
    tab = _table(df, {}, [_mod("x"), _mod("rare")], prespecified={"x"})
    r = tab.set_index(["moderator", "level"])
    assert bool(r.loc[("x", "0"), "prespecified"]) and not bool(r.loc[("rare", "few"), "prespecified"])
    assert "udforskende" in r.loc[("rare", "many"), "note"]
    few = r.loc[("rare", "few")]
    assert min(few.n_treated, few.n_control) < 20
    assert np.isnan(few.estimate) and np.isnan(few.ci_lower) and "færre end 20" in few.note
    assert np.isfinite(r.loc[("rare", "many"), "estimate"])
    # the disclosure threshold is a floor too
    big = _table(df, {}, [_mod("x")], min_group_size=20, threshold=10_000)
    assert big.estimate.isna().all() and big.note.str.contains("færre end 10000").all()


def test_randomization_options_are_not_passed_to_refits():
    df = _trial(seed=3)
    tab = _table(df, {"covariates": ["age"]}, [_mod("x")], fit={"permutations": 500, "seed": 1, "cov_type": "HC3"})
    e = RandomizedComparison(outcome="y", covariates=["age"]).fit(df[df.x == 1], cov_type="HC3").estimate_for("adjusted_difference")
    assert tab.estimate.iloc[1] == pytest.approx(e.estimate, abs=1e-12) and tab.ci_upper.iloc[1] == pytest.approx(e.ci_upper)


def _two_by_two(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    tr = rng.integers(0, 2, n)
    x = rng.integers(0, 2, n)
    lvl = rng.normal(0.5, 0.15, n)
    y0 = lvl + rng.normal(0, 0.1, n)
    y1 = lvl - 0.02 - 0.1 * tr * x + rng.normal(0, 0.1, n)
    return pd.DataFrame({"person": np.repeat(np.arange(n), 2), "post": np.tile([0, 1], n),
                         "treated": np.repeat(tr, 2), "x": np.repeat(x, 2), "z": np.repeat(rng.integers(0, 2, n), 2),
                         "y": np.column_stack([y0, y1]).ravel()})


def test_did_subgroups_use_independent_estimates():
    df = _two_by_two()
    opts = {"group": "treated", "time": "post", "unit": "person"}
    tab = subgroup_table(DiD2x2, opts, {}, df, "y", [_mod("x"), _mod("z")], min_group_size=20, threshold=5,
                         prespecified={"x", "z"})
    r = tab.set_index(["moderator", "level"])
    fits = [DiD2x2("y", **opts).fit(df[df.x == v]).estimate_for("did") for v in (0, 1)]
    assert r.loc[("x", "1"), "estimate"] == pytest.approx(fits[1].estimate, abs=1e-12)
    assert r.loc[("x", "0"), "n_treated"] + r.loc[("x", "1"), "n_treated"] == df.groupby("person").treated.first().sum()
    q = (fits[0].estimate - fits[1].estimate) ** 2 / (fits[0].std_error ** 2 + fits[1].std_error ** 2)
    assert r.loc[("x", "0"), "p_interaction"] == pytest.approx(stats.chi2.sf(q, 1), rel=1e-10)
    assert r.loc[("x", "0"), "p_interaction"] < 1e-6 and r.loc[("z", "0"), "p_interaction"] > 1e-3
    with pytest.raises(EvaluationError, match="changes within a person"):
        subgroup_table(DiD2x2, opts, {}, df.assign(v=np.arange(len(df)) % 2), "y", [_mod("v")], min_group_size=20,
                       threshold=5, prespecified=set())


def test_observational_designs_compare_their_own_adjusted_estimates():
    """A matched comparison is not randomized within levels: the interaction test compares the design's
    own within-level estimates (Cochran's Q), not an unadjusted regression."""
    from evaluation.designs import get_design
    from evaluation.synthetic.observational import make_observational

    df = make_observational(n_treated=300, n_pool=1500, seed=3).data
    cls = get_design("matched_comparison")
    opts = {"covariates": ["age", "prior_benefit_share", "female"], "method": "dr"}
    tab = subgroup_table(cls, opts, {}, df, "weeks_on_benefit", [_mod("female")], min_group_size=20, threshold=5,
                         prespecified={"female"})
    from evaluation.designs.family import main_estimate as main_term

    fits = [main_term(cls(outcome="weeks_on_benefit", **{**opts, "covariates": ["age", "prior_benefit_share"]})
                      .fit(df[df.female == v])) for v in (0, 1)]
    assert tab.estimate.tolist() == pytest.approx([f.estimate for f in fits], abs=1e-12)
    q = (fits[0].estimate - fits[1].estimate) ** 2 / (fits[0].std_error ** 2 + fits[1].std_error ** 2)
    assert tab.p_interaction.iloc[0] == pytest.approx(stats.chi2.sf(q, 1), rel=1e-10)
    assert "Cochran" in tab.attrs["interaction_test"]["female"]
