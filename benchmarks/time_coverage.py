"""Interval coverage of the time analyses on simulated registers with a known effect.

One replication draws a randomized register study (:func:`evaluation.synthetic.durations.simulate_duration_register`),
runs the same code the pipeline runs — the randomized family's survival design and joint effects, the duration and
cumulative analyses (:mod:`evaluation.designs.timeeffects`), the business case priced with the shipped rates
(:mod:`evaluation.pipeline.time`) — and records whether each 95 % interval holds the population truth (from one
large simulation). ``benchmarks/bench_time_coverage.py`` runs 500+ replications; tests/pipeline/test_time_coverage.py a
fast version. A simulation harness for those two, not part of the package.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaluation.data.rates import RateTable
from evaluation.designs.business_case import business_case
from evaluation.designs.family import AnalysisInput, get_family
from evaluation.designs.timeeffects import cumulative_analysis, duration_analysis
from evaluation.metrics.duration import exit_times
from evaluation.pipeline.time import ValueTables, _joint_at_horizons, time_source
from evaluation.synthetic.durations import duration_truth, simulate_duration_register

__all__ = ["population_truth", "replicate", "coverage"]


def population_truth(n: int = 20_000, seed: int = 999, horizons=(52, 104, 156), **sim_kw) -> dict:
    """Population effects from one large simulation (both arms of every person)."""
    return duration_truth(simulate_duration_register(n, n, seed=seed, **sim_kw), horizons)


def replicate(seed: int, truth: dict, *, n_per_arm: int = 150, horizons=(52, 104, 156), cost_per_participant: float = 30_000,
              rates: RateTable | None = None, **sim_kw) -> dict[str, Any]:
    """One simulated study: estimates, intervals and whether they cover the truth."""
    sim = simulate_duration_register(n_per_arm, n_per_arm, seed=seed, **sim_kw)
    parts, panel = sim["participants"], sim["panel"]
    fam = get_family("randomized_comparison")
    opts = fam.Options(treatment="group", treated="intervention", control="control")
    inp = AnalysisInput(id="sim", design=fam.design, options=opts, fit=fam.Fit(), outcome=None, frame=parts)
    rates = rates or RateTable.load()
    out: dict[str, Any] = {}
    # duration: RMST difference
    design = fam.survival_design(inp)
    ss = exit_times(panel, parts.iloc[design.rows], horizon=max(horizons))
    dur = duration_analysis(design, ss, None, horizons=horizons, hazard_ratio=False)
    for h in horizons:
        e = dur.estimate_for(f"rmst_difference_h{h}")
        out[f"rmst_h{h}"] = (e.estimate, e.ci_lower, e.ci_upper, truth["rmst_difference"][h])
    # cumulative effect on weeks on public support
    tables = ValueTables(panel, rates=rates)
    source = time_source(panel, parts, tables)
    cum = cumulative_analysis(fam, inp, source, horizons=horizons, placebo_weeks=0)
    for h in horizons:
        e = cum.estimate_for(f"cumulative_weeks_h{h}")
        out[f"weeks_h{h}"] = (e.estimate, e.ci_lower, e.ci_upper, truth["cumulative_weeks"][h])
    # business case: kroner and the net result
    joint, covered = _joint_at_horizons(fam, inp, source, ["kroner", "support"], list(horizons))
    kr, wk = joint["kroner"], joint["support"]
    effects = {h: {"kroner": {"estimate": float(kr.estimates[i]), "std_error": float(kr.std_errors()[i]), "df": kr.df},
                   "weeks": {"estimate": float(wk.estimates[i]), "std_error": float(wk.std_errors()[i]), "df": wk.df}}
               for i, h in enumerate(covered)}
    n = kr.n_treated
    cost = cost_per_participant * n
    bc = business_case(effects, n_participants=n, cost=cost)
    for h in covered:
        r = bc["horizons"][h]
        true_net = -n * truth["cumulative_kroner"][h] - cost
        out[f"net_h{h}"] = (r["net"], r["net_ci"][0], r["net_ci"][1], true_net)
    return out


def coverage(results: list[dict[str, Any]]) -> pd.DataFrame:
    """Coverage, its Monte Carlo SE, bias and the bias's Monte Carlo SE for every quantity."""
    rows = []
    for key in results[0]:
        a = np.array([r[key] for r in results], dtype=float)
        est, lo, hi, truth = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
        cov = np.mean((lo <= truth) & (truth <= hi))
        bias = np.mean(est - truth)
        rows.append({"quantity": key, "draws": len(a), "coverage": cov, "mc_se": np.sqrt(cov * (1 - cov) / len(a)),
                     "truth": float(truth[0]), "bias": bias, "bias_mc_se": np.std(est, ddof=1) / np.sqrt(len(a))})
    return pd.DataFrame(rows)
