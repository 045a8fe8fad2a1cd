"""The critical values of the simultaneous bands (issue 15 items 1–2), checked against independent derivations.

* Equal-precision Kaplan–Meier band (Nair 1984): the quantile of max_j |B⁰(a_j)| / sqrt(a_j(1 − a_j)) for a
  Brownian bridge B⁰. With t = ½ log(a / (1 − a)) that standardised bridge is a stationary Ornstein–Uhlenbeck
  process with correlation exp(−|t − s|), so it can be simulated by the exact AR(1) recursion — a different
  algorithm from the package's (cumulated Brownian increments). Both are evaluated at the same points.
* Sup-t multiplier band: with independent influence-function columns the critical value is the Šidák
  quantile of m independent |N(0, 1)|; with identical columns it is the pointwise 1.96.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from evaluation.designs.survival import ep_band_critical, multiplier_band_critical


def _ou_critical(a: np.ndarray, conf: float, draws: int, seed: int) -> float:
    t = 0.5 * np.log(a / (1 - a))
    rho = np.exp(-np.diff(t))
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(draws)
    best = np.abs(u)
    for r in rho:
        u = r * u + np.sqrt(1 - r * r) * rng.standard_normal(draws)
        np.maximum(best, np.abs(u), out=best)
    return float(np.quantile(best, conf))


def test_equal_precision_band_matches_the_ornstein_uhlenbeck_derivation():
    rng = np.random.default_rng(3)
    for lo, hi, n in ((0.1, 0.9, 250), (0.05, 0.6, 80), (0.3, 0.7, 20)):
        a = np.sort(rng.uniform(lo, hi, n))
        pkg = ep_band_critical(a, 0.95, draws=40_000, seed=11)
        ref = _ou_critical(a, 0.95, 40_000, 12)
        assert abs(pkg - ref) < 0.04, (lo, hi, n, pkg, ref)
        # wider than the pointwise 1.96 and widening with the span covered
        assert pkg > 1.96
    wide = ep_band_critical(np.linspace(0.05, 0.95, 200), 0.95, draws=20_000, seed=1)
    narrow = ep_band_critical(np.linspace(0.4, 0.6, 200), 0.95, draws=20_000, seed=1)
    assert wide > narrow + 0.2


def test_multiplier_band_independent_and_identical_columns():
    rng = np.random.default_rng(5)
    n, m = 4000, 10
    IF = rng.standard_normal((n, m)) / n
    se = np.sqrt((IF ** 2).sum(axis=0))
    sidak = stats.norm.ppf(0.5 + 0.95 ** (1 / m) / 2)  # 2.80 for m = 10
    got = multiplier_band_critical(IF, se, 0.95, draws=20_000, seed=2)
    assert abs(got - sidak) < 0.06, (got, sidak)
    same = np.repeat(IF[:, :1], m, axis=1)
    se1 = np.sqrt((same ** 2).sum(axis=0))
    got1 = multiplier_band_critical(same, se1, 0.95, draws=20_000, seed=2)
    assert abs(got1 - 1.96) < 0.05, got1
