"""Design diagnosis by plasmode simulation: a known effect is recovered, a null is rejected ~5 % of the time."""

import numpy as np
import pandas as pd

from evaluation.designs.randomized import RandomizedComparison
from evaluation.diagnose import diagnose_study, simulate_analysis
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
