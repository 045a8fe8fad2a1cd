"""Coverage of the Rambachan–Roth robust confidence sets when the declared restriction holds (issue 14, item 7).

Event-study coefficients are drawn as ``betahat ~ N(tau + delta, Sigma)`` at event times −4, −3, −2, 0, 1 (3 pre-periods, 2 post-periods;
the reference period −1 left out), an MA(1)-type covariance (standard error 1, correlation 0.3 between
neighbours) and true post-period effects ``tau = (1, 2)``. The parameter is the average of the two
post-period effects. Parallel trends fail by ``delta``:

* ``linear``: a linear trend of ``slope`` (default 2 standard errors) per period — inside Delta^RM(Mbar) for
  Mbar >= 1 (every change equals the largest pre-period change) and inside Delta^SD(M) for every M >= 0;
* ``boundary``: for Delta^RM(Mbar), pre-period changes of ``slope`` and post-period changes of Mbar x slope
  (on the edge of the set); for Delta^SD(M), a trend whose slope changes by exactly M each period
  (curvature M, the edge of the set).

The usual interval under exact parallel trends is reported beside the robust one: with these violations it
rarely covers, so a robust set that covers is not trivially right.

    python benchmarks/bench_honest_coverage.py                 # 500 draws per case
    python benchmarks/bench_honest_coverage.py --draws 100     # quicker
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from evaluation.designs.did import _honest as H

NUM_PRE, NUM_POST = 3, 2
TAU = np.array([1.0, 2.0])
L_VEC = np.array([0.5, 0.5])


def _sigma(rho: float = 0.3) -> np.ndarray:
    n = NUM_PRE + NUM_POST
    return np.array([[rho ** abs(i - j) if abs(i - j) <= 1 else 0.0 for j in range(n)] for i in range(n)])


def _delta(restriction: str, m: float, shape: str, slope: float) -> np.ndarray:
    """delta at event times -4, -3, -2, (reference -1: 0), 0, 1."""
    times = np.array([-4, -3, -2, 0, 1])
    if shape == "linear":
        return slope * (times + 1.0)
    if restriction == "relative_magnitudes":  # pre changes of slope, post changes of m * slope
        return np.array([-3 * slope, -2 * slope, -slope, m * slope, 2 * m * slope])
    # smoothness: delta_t = slope * (t + 1) + m/2 * (t + 1) * t  has second differences exactly m
    t1 = times + 1.0
    return slope * t1 + 0.5 * m * t1 * (t1 - 1)


def simulate(restriction: str, m: float, *, draws: int, seed: int, shape: str = "linear", slope: float = 2.0,
             alpha: float = 0.05) -> dict[str, float]:
    """Share of draws whose robust set (and usual interval) contains the true average post-period effect."""
    rng = np.random.default_rng(seed)
    S = _sigma()
    root = np.linalg.cholesky(S)
    beta_true = np.concatenate([np.zeros(NUM_PRE), TAU]) + _delta(restriction, m, shape, slope)
    theta = float(L_VEC @ TAU)
    hits = orig = 0
    t0 = time.process_time()
    for _ in range(draws):
        b = beta_true + root @ rng.standard_normal(NUM_PRE + NUM_POST)
        h = H.HonestInput.make(b, S, NUM_PRE, NUM_POST, l_vec=L_VEC)
        if restriction == "relative_magnitudes":
            lo, hi = H.relative_magnitudes_ci(h, m, alpha=alpha)
        else:
            lo, hi = H.smoothness_flci(h, m, alpha=alpha)
        hits += bool(lo <= theta <= hi)
        o = H.original_ci(h, alpha)
        orig += bool(o[0] <= theta <= o[1])
    return {"robust": hits / draws, "original": orig / draws, "draws": draws,
            "cpu_per_draw": (time.process_time() - t0) / draws}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    cases = [("relative_magnitudes", 1.0, "linear"), ("relative_magnitudes", 1.0, "boundary"),
             ("relative_magnitudes", 0.5, "boundary"), ("smoothness", 0.0, "linear"), ("smoothness", 0.5, "boundary")]
    print(f"{'restriction':20s} {'M':>4s} {'delta':9s} {'robust':>7s} {'(95 % MC interval)':>20s} {'usual':>6s} {'s/draw':>7s}")
    below = 0
    for i, (restr, m, shape) in enumerate(cases):
        r = simulate(restr, m, draws=args.draws, seed=args.seed + i, shape=shape)
        se = math.sqrt(r["robust"] * (1 - r["robust"]) / args.draws)
        lo, hi = r["robust"] - 1.96 * se, r["robust"] + 1.96 * se
        ok = hi >= 0.95  # not significantly below nominal
        below += not ok
        print(f"{restr:20s} {m:4.1f} {shape:9s} {r['robust']:7.3f} {f'[{lo:.3f}; {hi:.3f}]':>20s} {r['original']:6.3f} "
              f"{r['cpu_per_draw']:7.3f}{'' if ok else '  BELOW NOMINAL'}")
    return 1 if below else 0


if __name__ == "__main__":
    raise SystemExit(main())
