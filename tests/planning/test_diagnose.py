"""Design diagnosis by plasmode simulation: a known effect is recovered, a null is rejected ~5 % of the time."""

import numpy as np
import pandas as pd
import pytest

from evaluation.designs.randomized.estimator import RandomizedComparison
from evaluation.planning.diagnose import diagnose_study, simulate_analysis
from evaluation.synthetic.sickness import simulate_sickness_trial


def test_null_effect_size_and_known_effect_recovery():
    df = simulate_sickness_trial(seed=5)
    design = RandomizedComparison(outcome="sick_weeks_52", covariates=["age", "prior_sick_weeks_52"])
    null = simulate_analysis(design, df, {}, 0.0, 300, seed=2)
    # rejection rate of a true null is the size: 5 % ± Monte-Carlo error (sd 1.3 % at 300 draws)
    assert 0.01 <= null.power <= 0.10, null
    assert abs(null.bias) < 4 * null.bias_mc_se + 1e-12
    eff = simulate_analysis(design, df, {}, -4.0, 300, seed=3)
    assert abs(eff.bias) < 4 * eff.bias_mc_se, eff
    assert 0.90 <= eff.coverage <= 0.99, eff
    assert eff.power > null.power


def test_binary_plasmode_shifts_the_share_by_tau():
    df = simulate_sickness_trial(seed=6)
    design = RandomizedComparison(outcome="job_retention_12m")
    r = simulate_analysis(design, df, {}, 0.10, 200, seed=4)
    assert abs(r.bias) < 4 * r.bias_mc_se, r


def test_diagnose_study_runs_every_analysis(study_tree):
    d = study_tree()
    calls = []
    rows = diagnose_study(d, draws=20, seed=1, effects={"sygefravaer": -3.0},
                          progress_factory=lambda desc, total: (lambda: calls.append(desc)))
    assert [r.analysis for r in rows] == ["sygefravaer", "fornyet", "fastholdelse"]
    assert rows[0].true_effect == -3.0 and len(calls) == 60
    assert all(np.isfinite([r.rmse, r.coverage, r.power]).all() for r in rows)


# ---------------------------------------------------------------- assignment redrawn as declared; DiD designs

from evaluation.designs.did.estimators import TWFE, CallawaySantAnna, DiD2x2  # noqa: E402
from evaluation.designs.plasmode import plasmode_comparison as _plasmode_comparison  # noqa: E402
from evaluation.synthetic.staggered import simulate_staggered, simulate_two_by_two  # noqa: E402


def test_plasmode_keeps_clusters_whole_and_strata_sizes():
    rng = np.random.default_rng(0)
    n = 400
    cl = rng.integers(0, 40, n)
    strata = np.where(cl < 20, "nord", "syd")
    arm = np.where(np.isin(cl, [0, 1, 2, 3, 4, 20, 21, 22, 23, 24, 25, 26]), "intervention", "control")
    df = pd.DataFrame({"group": arm, "y": rng.normal(size=n), "c": cl, "s": strata})
    before = df.groupby("s").apply(lambda d: d.drop_duplicates("c").group.eq("intervention").sum())
    for seed in range(5):
        f = _plasmode_comparison(df, "y", "group", "intervention", "control", 1.0, np.random.default_rng(seed),
                                 cluster="c", strata="s")
        assert f.groupby("c").group.nunique().max() == 1  # whole clusters
        after = f.groupby("s").apply(lambda d: d.drop_duplicates("c").group.eq("intervention").sum())
        pd.testing.assert_series_equal(before, after)  # treated clusters per stratum unchanged
        t = (f.group == "intervention").to_numpy()
        np.testing.assert_allclose(f.y.to_numpy() - df.y.to_numpy(), np.where(t, 1.0, 0.0))


def test_cluster_randomized_diagnosis_has_nominal_coverage():
    rng = np.random.default_rng(1)
    cl = np.repeat(np.arange(30), 10)
    arm = np.where(cl < 15, "intervention", "control")
    y = rng.normal(0, 1.0, 30)[cl] + rng.normal(size=300)
    df = pd.DataFrame({"group": arm, "y": y, "c": cl})
    r = simulate_analysis(RandomizedComparison(outcome="y", cluster="c"), df, {}, 0.5, 200, seed=1)
    assert 0.88 <= r.coverage <= 0.99, r  # 200 draws: MC se 1.5 points
    assert abs(r.bias) < 4 * r.bias_mc_se


@pytest.mark.parametrize("case", ["did_2x2", "did_twfe", "did_cs_bootstrap"])
def test_did_designs_can_be_diagnosed(case):
    if case == "did_2x2":
        df = simulate_two_by_two(n_persons=300, seed=2)
        design, fit = DiD2x2("benefit", group="treated", time="post", unit="person"), {}
    elif case == "did_twfe":
        df = simulate_staggered(n_persons=120, n_weeks=6, n_cohorts=2, seed=2)
        design, fit = TWFE("benefit", unit="person", time="week", treatment="enrolled"), {}
    else:
        df = simulate_staggered(n_persons=200, n_weeks=8, n_cohorts=3, seed=2)
        design = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort")
        fit = {"bootstrap": True, "seed": 3, "draws": 199, "placebo_shift": 1}
    r = simulate_analysis(design, df, fit, -0.05, 60, seed=4)
    assert r.draws == 60 and abs(r.bias) < 4 * r.bias_mc_se, r
    assert 0.80 <= r.coverage <= 1.0 and r.power > 0.5, r


def test_pre_post_plasmode_recovers_a_known_change():
    from evaluation.designs.pre_post.estimator import PrePost
    from evaluation.synthetic.prepost import simulate_pre_post

    df = simulate_pre_post(n_both=500, n_baseline_only=200, n_follow_up_only=200, seed=4)
    design = PrePost(outcome="on_ledighedsydelse", baseline="2016-06-30", follow_up="2018-03-31", period="period", unit="person_id")
    null = simulate_analysis(design, df, {}, 0.0, 300, seed=1)
    assert null.term == "change" and abs(null.bias) < 4 * null.bias_mc_se
    assert 0.01 <= null.power <= 0.10, null
    eff = simulate_analysis(design, df, {}, -0.04, 300, seed=2)
    assert abs(eff.bias) < 4 * eff.bias_mc_se, eff
    assert 0.90 <= eff.coverage <= 0.99, eff
    assert eff.power > null.power
