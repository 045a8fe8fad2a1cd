"""Recovery of known effects by MatchedComparison on simulated confounded data (bias, RMSE, CI coverage).

Run: ``python benchmarks/bench_matched_recovery.py [reps]`` (default 500 replications per method;
both standard errors are computed on every draw: the default one and, as the baseline, the robust
SE that treats the weights as fixed). Not part of the test suite (tests/designs/matched/test_matched.py runs 400
draws of a smaller version for ipw, overlap and dr).
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

from evaluation.designs.matched.estimator import MatchedComparison
from evaluation.synthetic.observational import COVARIATES, make_observational

SPECS = {
    "ipw_att": (dict(method="ipw"), "true_att"),
    "ipw_ate": (dict(method="ipw", estimand="ATE"), "true_ate"),
    "overlap_ato": (dict(method="overlap"), "true_ato"),
    "dr_att": (dict(method="dr"), "true_att"),
    "nearest_att_repl": (dict(method="nearest", caliper=None), "true_att"),
    "nearest_att_norepl_k2": (dict(method="nearest", replace=False, k=2, caliper=None), "true_att"),
}
#: standard errors compared on the same draws: the default (M-estimation for the weighting methods,
#: the fixed-weight robust SE for matching) and the fixed-weight robust SE as the baseline
SE_KINDS = ("default", "robust")


def run(reps: int = 500, n_treated: int = 300, n_pool: int = 3000) -> pd.DataFrame:
    rows = []
    for name, (kw, truth_attr) in SPECS.items():
        design = MatchedComparison(outcome="weeks_on_benefit", covariates=COVARIATES, exact=["start_quarter"], **kw)
        est, cover, ses = [], {k: [] for k in SE_KINDS}, {k: [] for k in SE_KINDS}
        labels = {}
        t0 = time.time()
        for r in range(reps):
            sim = make_observational(n_treated=n_treated, n_pool=n_pool, seed=10_000 + r)
            truth = getattr(sim, truth_attr)
            for kind in SE_KINDS:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = design.fit(sim.data) if kind == "default" else design.fit(sim.data, se="robust")
                row = res.tidy().iloc[0]
                labels[kind] = res.diagnostics["se"]
                if kind == "default":
                    est.append(row.estimate - truth)
                ses[kind].append(row.std_error)
                cover[kind].append(row.ci_lower <= truth <= row.ci_upper)
        err = np.asarray(est)
        rows.append(
            {
                "spec": name,
                "reps": reps,
                "bias": err.mean(),
                "mc_se_bias": err.std(ddof=1) / np.sqrt(reps),
                "rmse": float(np.sqrt(np.mean(err**2))),
                "sd_estimates": err.std(ddof=1),
                "se_default": labels["default"],
                "mean_se_default": float(np.mean(ses["default"])),
                "coverage_default": float(np.mean(cover["default"])),
                "mean_se_fixed_weights": float(np.mean(ses["robust"])),
                "coverage_fixed_weights": float(np.mean(cover["robust"])),
                "seconds": round(time.time() - t0, 1),
            }
        )
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


if __name__ == "__main__":
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    print(run(reps).round(3).to_string(index=False))
