"""Fast coverage checks of the complier effect and the mediation analysis (the 500-draw version with every scenario
is benchmarks/bench_mechanisms_coverage.py; its results are in the README). With few draws the coverage band is
wider than 93–97 %: at 200 draws a true coverage of 95 % gives 0.95 ± 0.031 (2 Monte Carlo SEs)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from bench_mechanisms_coverage import cace_draws, mediation_draws  # noqa: E402


def _check(sim, lo, hi):
    n = len(sim)
    cov = sim["cover"].mean()
    assert lo <= cov <= hi, f"coverage {cov:.3f} of {n} draws outside [{lo}, {hi}]"
    mcse = sim["error"].std(ddof=1) / np.sqrt(n)
    assert abs(sim["error"].mean()) <= 4 * mcse, f"bias {sim['error'].mean():.4f} beyond 4 Monte Carlo SEs ({mcse:.4f})"
    # the reported standard errors match the spread of the estimates
    assert sim["se"].mean() == pytest.approx(sim["error"].std(ddof=1), rel=0.2)


def test_cace_intervals_cover_the_known_complier_effect():
    _check(cace_draws(200, seed0=7_000_000), 0.91, 0.99)


def test_cace_two_sided_non_compliance():
    _check(cace_draws(200, seed0=7_100_000, always_takers=0.2), 0.91, 0.99)


def test_mediation_intervals_cover_the_known_acme_and_ade():
    sim = mediation_draws(150, seed0=7_200_000, sims=299)
    for term in ("acme", "ade"):
        _check(sim[sim["term"] == term], 0.90, 0.99)
