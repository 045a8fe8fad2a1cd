"""Recovery of a known effect by the 2×2 and TWFE designs: bias within Monte-Carlo error, 95 % coverage.

500 replications each: the Monte-Carlo SE of a coverage share near 0.95 is
sqrt(0.95 · 0.05 / 500) = 0.97 points, so [0.93, 0.97] is about ±2 MC SE. The simulated data
are small (300 persons × 2 periods; 150 persons × 8 weeks) so each file stays well under a
minute. The Callaway–Sant'Anna recovery is in tests/designs/did/test_cs.py, the randomized ones in
tests/synthetic/test_synthetic_sickness.py and tests/designs/randomized/test_randomized_recovery.py.
"""

import numpy as np

from evaluation.designs.did.estimators import TWFE, DiD2x2
from evaluation.synthetic.staggered import simulate_staggered, simulate_two_by_two

REPS = 500


def check_recovery(est, lo, hi, truth):
    est, lo, hi = map(np.asarray, (est, lo, hi))
    reps = len(est)
    mc_se = est.std(ddof=1) / np.sqrt(reps)
    assert abs(est.mean() - truth) < 3 * mc_se, (est.mean(), truth, mc_se)
    cover = np.mean((lo <= truth) & (truth <= hi))
    assert 0.93 <= cover <= 0.97, cover
    return cover


def test_did_2x2_recovers_att_with_cluster_robust_coverage():
    est, lo, hi = [], [], []
    design = DiD2x2("benefit", group="treated", time="post", unit="person")
    for r in range(REPS):
        df = simulate_two_by_two(n_persons=300, effect=-0.05, seed=1000 + r)
        e = design.fit(df).estimate_for("did")
        est.append(e.estimate), lo.append(e.ci_lower), hi.append(e.ci_upper)
    check_recovery(est, lo, hi, -0.05)


def test_twfe_recovers_constant_effect_with_clustered_coverage():
    est, lo, hi, se = [], [], [], []
    design = TWFE("benefit", unit="person", time="week", treatment="enrolled")
    for r in range(REPS):
        df = simulate_staggered(n_persons=150, n_weeks=8, n_cohorts=3, effect=-0.05, dip=0.0, seed=2000 + r)
        e = design.fit(df).estimate_for("twfe")
        est.append(e.estimate), lo.append(e.ci_lower), hi.append(e.ci_upper), se.append(e.std_error)
    check_recovery(est, lo, hi, -0.05)
    # the CR1 standard error tracks the sampling sd (ratio 1 within ~3 MC SE of an sd at 500 draws)
    assert 0.9 <= np.mean(se) / np.std(est, ddof=1) <= 1.1
