"""Recovery by the randomized comparison in the designs tests/synthetic/test_synthetic_sickness.py does not cover:
cluster randomization (CR1, t(G − 1)), weighted estimation (WLS, HC2) and block randomization with
unequal assignment shares (block-weighted difference).

500 replications each (MC SE of a coverage share near 0.95 ≈ 1 point); data are generated here
with numpy only, so each replication costs one fit.
"""

import numpy as np
import pandas as pd

from evaluation.designs.randomized.estimator import RandomizedComparison

REPS = 500


def _check(est, lo, hi, truth):
    est, lo, hi = map(np.asarray, (est, lo, hi))
    mc_se = est.std(ddof=1) / np.sqrt(len(est))
    assert abs(est.mean() - truth) < 3 * mc_se, (est.mean(), truth, mc_se)
    cover = np.mean((lo <= truth) & (truth <= hi))
    assert 0.93 <= cover <= 0.97, cover


def _run(design, make, term, truth):
    est, lo, hi = [], [], []
    for r in range(REPS):
        e = design.fit(make(np.random.default_rng(5000 + r))).estimate_for(term)
        est.append(e.estimate), lo.append(e.ci_lower), hi.append(e.ci_upper)
    _check(est, lo, hi, truth)


def test_cluster_randomized_cr1_coverage():
    G, m = 40, 10
    cl = np.repeat(np.arange(G), m)

    def make(rng):
        t = np.isin(cl, rng.choice(G, G // 2, replace=False))
        y = rng.normal(0, 0.7, G)[cl] + rng.normal(size=G * m) + 0.5 * t
        return pd.DataFrame({"group": np.where(t, "intervention", "control"), "y": y, "c": cl})

    _run(RandomizedComparison(outcome="y", cluster="c"), make, "difference_in_means", 0.5)


def test_weighted_heterogeneous_effect_coverage():
    n = 400

    def make(rng):
        x = rng.random(n) < 0.5
        t = rng.random(n) < 0.5
        y = rng.normal(size=n) + 0.5 * x - 1.0 * (x & t)
        return pd.DataFrame({"group": np.where(t, "intervention", "control"), "y": y, "w": np.where(x, 4.0, 1.0)})

    # population weighted ATE: -1 * E[w x] / E[w] = -1 * 2 / 2.5
    _run(RandomizedComparison(outcome="y", weights="w"), make, "difference_in_means", -0.8)


def test_block_randomized_unequal_shares_coverage():
    n = 400

    def make(rng):
        block = np.where(rng.random(n) < 0.5, "a", "b")
        p = np.where(block == "a", 0.2, 0.7)  # assignment share differs by block
        t = rng.random(n) < p
        y = rng.normal(size=n) + 2.0 * (block == "b") - np.where(block == "a", 0.2, 1.0) * t
        return pd.DataFrame({"group": np.where(t, "intervention", "control"), "y": y, "s": block})

    # ATE = 0.5 * -0.2 + 0.5 * -1.0 (the unadjusted difference is biased here)
    _run(RandomizedComparison(outcome="y", strata="s", adjustment="none"), make, "adjusted_difference", -0.6)
