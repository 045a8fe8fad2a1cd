"""Coverage of the complier effect (CACE) and of the mediation analysis (ACME, ADE) by simulation (issue 14 item 7).

Run: ``python benchmarks/bench_mechanisms_coverage.py [draws]`` (default 500 draws per scenario).
Each scenario simulates a trial with a known population value (evaluation/synthetic/mechanisms.py), fits it and
records whether the 95 % interval covers the truth; printed: bias with its Monte Carlo SE, mean reported SE
against the empirical SD, coverage with its Monte Carlo SE, and seconds. The fast version is
tests/designs/randomized/test_mechanisms_coverage.py.

Scenarios
---------
CACE (RandomizedComparison(take_up=...), HC2 → HC1 robust 2SLS SE, t interval): one-sided non-compliance with
70 % compliers, n = 400, with and without the covariate; two-sided (20 % always-takers); a cluster-randomized
version (40 sites, CR1).
Mediation (mediate_linear, 999 bootstrap draws, percentile interval): 0/1 mediator (α = 0.4, β = −2, θ = −1,
n = 600), continuous mediator, and a null indirect effect through a mediator that does not matter (β = 0).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from evaluation.designs.randomized.estimator import RandomizedComparison
from evaluation.designs.randomized.mediation import mediate_linear
from evaluation.synthetic import simulate_mediation_trial, simulate_take_up_trial


def _clustered_take_up(seed: int, cace: float = -3.0, G: int = 40, n: int = 400) -> pd.DataFrame:
    """Sites allocated by lottery (half to the intervention), 70 % compliers, a site effect, known CACE."""
    rng = np.random.default_rng(seed)
    site = rng.integers(0, G, n)
    t = rng.permutation(np.r_[np.ones(G // 2, bool), np.zeros(G - G // 2, bool)])[site]
    x = rng.normal(0, 1, n)
    started = ((rng.random(n) < 0.7) & t).astype(int)
    y = 10 + 2 * x + rng.normal(0, 0.8, G)[site] + (cace + rng.normal(0, 1, n)) * started + rng.normal(0, 3, n)
    df = pd.DataFrame({"group": np.where(t, "intervention", "control"), "x": x, "site": site, "started": started, "y": y})
    df.attrs["truth"] = {"cace": cace}
    return df


def cace_draws(draws: int, *, seed0: int, covariates: bool = True, always_takers: float = 0.0,
               clustered: bool = False) -> pd.DataFrame:
    rows = []
    for r in range(draws):
        if clustered:
            df = _clustered_take_up(seed0 + r)
            kw = {"cluster": "site"}
        else:
            df = simulate_take_up_trial(n=400, always_takers=always_takers, seed=seed0 + r)
            kw = {}
        truth = df.attrs["truth"]["cace"]
        fit = RandomizedComparison(outcome="y", take_up="started", covariates=["x"] if covariates else [], **kw).fit(df)
        e = fit.estimate_for("cace")
        rows.append((e.estimate - truth, e.std_error, e.ci_lower <= truth <= e.ci_upper))
    return pd.DataFrame(rows, columns=["error", "se", "cover"])


def mediation_draws(draws: int, *, seed0: int, binary: bool = True, beta: float = -2.0, sims: int = 999) -> pd.DataFrame:
    rows = []
    for r in range(draws):
        df = simulate_mediation_trial(n=600, beta=beta, binary_mediator=binary, seed=seed0 + r)
        truth = df.attrs["truth"]
        res = mediate_linear(df, outcome="y", mediator="m", covariates=["x", "z"], sims=sims, seed=r, sensitivity=False)
        for term in ("acme", "ade"):
            e = res.estimate_for(term)
            rows.append((term, e.estimate - truth[term], e.std_error, e.ci_lower <= truth[term] <= e.ci_upper))
    return pd.DataFrame(rows, columns=["term", "error", "se", "cover"])


def summarise(sim: pd.DataFrame, label: str, seconds: float) -> dict:
    n = len(sim)
    cov = sim["cover"].mean()
    return {"scenario": label, "draws": n, "bias": sim["error"].mean(), "bias_mcse": sim["error"].std(ddof=1) / np.sqrt(n),
            "emp_sd": sim["error"].std(ddof=1), "mean_se": sim["se"].mean(), "coverage": cov,
            "coverage_mcse": np.sqrt(cov * (1 - cov) / n), "seconds": seconds}


def main(draws: int) -> pd.DataFrame:
    out = []
    for label, kw in (("CACE, one-sided, covariate", {}), ("CACE, one-sided, no covariate", {"covariates": False}),
                      ("CACE, two-sided (20 % always-takers)", {"always_takers": 0.2}),
                      ("CACE, cluster-randomized (40 sites, CR1)", {"clustered": True})):
        t0 = time.perf_counter()
        sim = cace_draws(draws, seed0=3_000_000, **kw)
        out.append(summarise(sim, label, time.perf_counter() - t0))
    for label, kw in (("mediation, 0/1 mediator", {}), ("mediation, continuous mediator", {"binary": False}),
                      ("mediation, null indirect effect (beta = 0)", {"beta": 0.0})):
        t0 = time.perf_counter()
        sim = mediation_draws(draws, seed0=4_000_000, **kw)
        secs = time.perf_counter() - t0
        for term, part in sim.groupby("term"):
            out.append(summarise(part, f"{label}: {term.upper()}", secs))
    return pd.DataFrame(out)


if __name__ == "__main__":
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    table = main(draws)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(4).to_string(index=False))
