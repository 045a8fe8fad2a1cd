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


# ---------------------------------------------------------------- rare levels (issue 12 audit)

SICK = ["age", "prior_sick_weeks_52", "sex", "diagnosis_group", "sector"]


def _sickness(rare_arms=("intervention", "control")):
    """The shipped sickness trial, optionally with persons of a new, rare diagnosis group."""
    from tests.conftest import SYNTHETIC

    df = pd.read_csv(SYNTHETIC / "arbejdsfastholdelse-ved-sygdom" / "participants.csv")
    extra = df.iloc[: len(rare_arms)].copy()
    extra["person_id"] = [f"X{i}" for i in range(len(rare_arms))]
    extra["diagnosis_group"] = "sjaelden"
    extra["group"] = list(rare_arms)
    return df, pd.concat([df, extra], ignore_index=True)


def _sick_table(df, mods, prespecified=("diagnosis_group", "sector")):
    opts = {"treatment": "group", "treated": "intervention", "control": "control", "covariates": SICK}
    return subgroup_table(RandomizedComparison, opts, {"cov_type": "HC2"}, df, "sick_weeks_52", mods, min_group_size=20,
                          threshold=5, prespecified=set(prespecified))


def test_a_rare_moderator_level_is_left_out_of_the_interaction_test():
    """Two persons of a new diagnosis group (one per arm) made the diagnosis interaction p-value 1e-187
    (leverage 1 under HC2); left out, the test gives the p-value of the data without them."""
    base, rare = _sickness()
    mods = [_mod("diagnosis_group", "Diagnosegruppe"), _mod("sector", "Arbejdsplads")]
    before = _sick_table(base, mods).set_index(["moderator", "level"])
    with pytest.warns(UserWarning, match="«Diagnosegruppe» = «sjaelden» indgår ikke i interaktionstesten"):
        after = _sick_table(rare, mods).set_index(["moderator", "level"])
    p0, p1 = before.loc[("diagnosis_group", "andet"), "p_interaction"], after.loc[("diagnosis_group", "andet"), "p_interaction"]
    assert 0.1 < p0 < 0.9
    assert p1 == pytest.approx(p0, rel=1e-9)
    assert "indgår ikke i interaktionstesten: færre end 5 personer" in after.loc[("diagnosis_group", "sjaelden"), "note"]
    assert "'sjaelden' left out" in _sick_table(rare, mods).attrs["interaction_test"]["diagnosis_group"]
    # the other levels' estimates are those of the data without the rare persons (they are not in those levels)
    for lv in ("andet", "muskel_skelet", "psykisk"):
        assert after.loc[("diagnosis_group", lv), "estimate"] == pytest.approx(before.loc[("diagnosis_group", lv), "estimate"], abs=1e-12)
    # at or above the threshold a level is tested: the left-out rule is the disclosure threshold, not "any level"
    many = _sickness(("intervention",) * 5 + ("control",) * 5)[1]
    assert _sick_table(many, mods[:1]).p_interaction.iloc[0] != pytest.approx(p0, rel=1e-6)


def test_one_rare_covariate_category_does_not_remove_other_subgroups():
    """The rare diagnosis group sits in one arm only within each sector and sex level: before, every sector
    and sex estimate disappeared with a warning naming no covariate. Now the category is merged with the
    level's most common one for that level's refit, and the note says so."""
    base, rare = _sickness()
    mods = [_mod("sector", "Arbejdsplads"), _mod("sex", "Køn")]
    tab = _sick_table(rare, mods).set_index(["moderator", "level"])
    assert tab.estimate.notna().all(), tab.note.tolist()
    for (mod, lv), r in tab.iterrows():
        part = rare[rare[mod] == lv]
        counts = part[part.diagnosis_group == "sjaelden"].group.value_counts()
        if counts.min() >= 2 if len(counts) == 2 else counts.empty:
            continue
        common = part.diagnosis_group.value_counts().idxmax()
        assert "kovariaten «diagnosis_group»: kategorien «sjaelden» er for sjælden i en af grupperne" in r.note
        assert f"slået sammen med «{common}»" in r.note
        merged = part.assign(diagnosis_group=part.diagnosis_group.replace({"sjaelden": common}))
        e = RandomizedComparison(outcome="sick_weeks_52", covariates=[c for c in SICK if c != mod]).fit(
            merged, cov_type="HC2").estimate_for("adjusted_difference")
        assert r.estimate == pytest.approx(e.estimate, abs=1e-12) and r.ci_upper == pytest.approx(e.ci_upper, abs=1e-12)


def test_a_covariate_constant_within_a_subgroup_arm_is_left_out_and_named():
    df = _trial(seed=4)
    df["dose"] = np.round(np.random.default_rng(4).normal(size=len(df)), 3)
    df.loc[(df.x == 1) & (df.group == "intervention"), "dose"] = 0.0  # constant in one arm of level x = 1
    df["site"] = "A"
    df.loc[df.x == 0, "site"] = np.where(np.arange((df.x == 0).sum()) % 2 == 0, "A", "B")  # constant within x = 1
    opts = {"covariates": ["age", "dose", "site"]}
    tab = _table(df, opts, [_mod("x")]).set_index("level")
    one = tab.loc["1"]
    assert np.isfinite(one.estimate)
    assert "kovariaten «dose» er ens for alle i den ene gruppe i undergruppen og indgår ikke i justeringen" in one.note
    assert "kovariaten «site» er ens for alle i undergruppen" in one.note
    e = RandomizedComparison(outcome="y", covariates=["age"]).fit(df[df.x == 1]).estimate_for("adjusted_difference")
    assert one.estimate == pytest.approx(e.estimate, abs=1e-12)
    assert tab.loc["0", "note"] == ""  # level 0 needs nothing left out


def test_observational_designs_name_the_rare_covariate_category_instead_of_merging_it():
    from evaluation.designs import get_design
    from evaluation.designs.family import main_estimate as main_term
    from evaluation.synthetic.observational import make_observational

    df = make_observational(n_treated=300, n_pool=1500, seed=3).data
    df["east"] = 0
    df.loc[df.index[(df.group == "intervention") & (df.female == 1)][:1], "east"] = 1  # one person
    cls = get_design("matched_comparison")
    opts = {"covariates": ["age", "prior_benefit_share", "east"], "method": "dr"}
    tab = subgroup_table(cls, opts, {}, df, "weeks_on_benefit", [_mod("female")], min_group_size=20, threshold=5,
                         prespecified={"female"}).set_index("level")
    assert np.isnan(tab.loc["1", "estimate"]) and "intet estimat: kovariaten «east» har værdien «1», der er for sjælden" in tab.loc["1", "note"]
    # in level 0 the covariate is constant: left out there (it confounds nothing within the level), named
    assert np.isfinite(tab.loc["0", "estimate"]) and "kovariaten «east» er ens for alle i undergruppen" in tab.loc["0", "note"]
    e = main_term(cls(outcome="weeks_on_benefit", **{**opts, "covariates": ["age", "prior_benefit_share"]}).fit(df[df.female == 0]))
    assert tab.loc["0", "estimate"] == pytest.approx(e.estimate, abs=1e-12)


def test_the_shipped_study_with_two_rare_persons_keeps_its_subgroups_and_the_report_says_why(study_tree, tmp_path):
    """The audit's case end to end: run the sickness study with two persons of a new diagnosis group; the diagnosis
    interaction p-value is that of the shipped data, every sector and sex estimate is there, and the report lists
    under the subgroup table which level left the test and which category was merged, and why."""
    import warnings

    from evaluation.pipeline import run_study
    from evaluation.reporting.quarto import report_markdown
    from evaluation.results import load_bundle

    folder = study_tree("arbejdsfastholdelse-ved-sygdom")
    csv = tmp_path / "data" / "synthetic" / "arbejdsfastholdelse-ved-sygdom" / "participants.csv"
    base, rare = _sickness()
    rare.to_csv(csv, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = load_bundle(run_study(folder, tmp_path / "results", figures=False))
    sub = b.analysis("sygefravaer").result.tables["subgroups"].set_index(["moderator", "level"])
    ref = _sick_table(base, [_mod("diagnosis_group")]).p_interaction.iloc[0]
    assert sub.loc[("diagnose", "andet"), "p_interaction"] == pytest.approx(ref, rel=1e-6)
    assert sub.loc[[("sektor", "offentlig"), ("sektor", "privat"), ("sex", "kvinde"), ("sex", "mand")], "estimate"].notna().all()
    qmd = report_markdown(b)
    section = qmd[qmd.index("# Hvordan og for hvem"):]
    assert "Bemærkninger:" in section
    assert "- Diagnosegruppe = sjaelden: indgår ikke i interaktionstesten: færre end 5 personer i en af grupperne." in section
    assert ("- Arbejdsplads (offentlig/privat) = Offentlig: kovariaten «Diagnosegruppe»: kategorien «sjaelden» er for "
            "sjælden i en af grupperne i undergruppen til at blive justeret for særskilt og er slået sammen med «Muskel og "
            "skelet».") in section


def test_a_category_with_a_few_persons_per_group_stays_in_the_adjustment():
    """Only what the fit needs is changed: 3 persons of a category in one group of a level is estimable, so the
    level's refit adjusts for it as declared (the disclosure threshold is no reason to weaken the adjustment)."""
    df = _trial(seed=5)
    df["kind"] = "a"
    idx = df.index[(df.x == 1) & (df.group == "control")][:3].tolist() + df.index[(df.x == 1) & (df.group == "intervention")][:6].tolist()
    df.loc[idx, "kind"] = "b"
    df.loc[df.index[df.x == 0][:40], "kind"] = "b"
    tab = _table(df, {"covariates": ["age", "kind"]}, [_mod("x")]).set_index("level")
    assert tab.loc["1", "note"] == "" and tab.loc["0", "note"] == ""
    e = RandomizedComparison(outcome="y", covariates=["age", "kind"]).fit(df[df.x == 1]).estimate_for("adjusted_difference")
    assert tab.loc["1", "estimate"] == pytest.approx(e.estimate, abs=1e-12)
