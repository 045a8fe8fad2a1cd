"""Recovery of known effects by RandomizedComparison on simulate_sickness_trial (long Monte Carlo run).

Run: ``python benchmarks/bench_randomized_recovery.py [reps]`` (default 2000 replications).
Prints, per outcome and estimator, bias with its Monte Carlo SE, empirical SD, mean reported SE
and 95 % CI coverage with its Monte Carlo SE, plus a cluster-randomized scenario.
The fast version (400 replications) is tests/synthetic/test_synthetic_sickness.py.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from evaluation.designs.randomized.estimator import RandomizedComparison
from evaluation.synthetic import simulate_sickness_trial

COVS = ["age", "prior_sick_weeks_52", "sex", "diagnosis_group", "sector"]
TERMS = ("difference_in_means", "difference_in_proportions", "adjusted_difference")


def run(reps: int) -> pd.DataFrame:
    designs = {o: RandomizedComparison(outcome=o, covariates=COVS) for o in
               ("sick_weeks_52", "renewed_absence_12m", "job_retention_12m")}
    rows = []
    for r in range(reps):
        df = simulate_sickness_trial(seed=1_000_000 + r)
        truth = df.attrs["truth"]
        df.attrs = {}
        for o, d in designs.items():
            for e in d.fit(df).estimates:
                if e.term in TERMS:
                    rows.append((o, e.term, e.estimate - truth[o], e.std_error, e.ci_lower <= truth[o] <= e.ci_upper))
    return pd.DataFrame(rows, columns=["outcome", "term", "error", "se", "cover"])


def run_cluster(reps: int, G: int = 40, m: int = 15, effect: float = 0.5) -> pd.DataFrame:
    rows = []
    for r in range(reps):
        rng = np.random.default_rng(2_000_000 + r)
        cl = np.repeat(np.arange(G), m)
        tc = np.zeros(G, bool)
        tc[rng.choice(G, G // 2, replace=False)] = True
        x = rng.normal(size=G * m)
        y = rng.normal(0, 0.7, G)[cl] + rng.normal(size=G * m) + 0.5 * x + effect * tc[cl]
        df = pd.DataFrame({"group": np.where(tc[cl], "intervention", "control"), "y": y, "x": x, "c": cl})
        res = RandomizedComparison(outcome="y", covariates=["x"], cluster="c").fit(df)
        for e in res.estimates:
            if e.term in TERMS:
                rows.append(("cluster_sim", e.term, e.estimate - effect, e.std_error, e.ci_lower <= effect <= e.ci_upper))
    return pd.DataFrame(rows, columns=["outcome", "term", "error", "se", "cover"])


def summarise(sim: pd.DataFrame) -> pd.DataFrame:
    g = sim.groupby(["outcome", "term"])
    out = pd.DataFrame({
        "reps": g.size(),
        "bias": g["error"].mean(),
        "bias_mcse": g["error"].std(ddof=1) / np.sqrt(g.size()),
        "emp_sd": g["error"].std(ddof=1),
        "mean_se": g["se"].mean(),
        "coverage": g["cover"].mean(),
    })
    out["coverage_mcse"] = np.sqrt(out["coverage"] * (1 - out["coverage"]) / out["reps"])
    return out


if __name__ == "__main__":
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    t0 = time.perf_counter()
    table = pd.concat([summarise(run(reps)), summarise(run_cluster(max(reps // 2, 1)))])
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4f}".format):
        print(table)
    print(f"{time.perf_counter() - t0:.1f} s")
