"""The robust confidence sets cover the true effect at least at the nominal rate when the declared restriction
holds (issue 14, item 7), here with few draws and a loose bound; benchmarks/bench_honest_coverage.py runs the
same simulation with 500+ draws and reports the numbers (benchmarks/README.md).

The design is chosen so the test can fail: parallel trends are violated by a linear trend of two standard
errors per period, so the usual interval almost never covers (asserted), while the trend lies inside
Delta^RM(Mbar = 1) (post-period changes as large as the pre-period ones) and inside Delta^SD(M = 0).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from bench_honest_coverage import simulate  # noqa: E402


def test_relative_magnitudes_sets_cover_under_a_linear_trend():
    r = simulate("relative_magnitudes", 1.0, draws=40, seed=11)
    assert r["robust"] >= 0.85, r  # nominal 0.95; 40 draws: P(< 0.85 | 0.95) < 1 %
    assert r["original"] <= 0.5, r  # the violation is large enough to matter


def test_smoothness_flci_covers_under_a_linear_trend():
    r = simulate("smoothness", 0.0, draws=60, seed=12)
    assert r["robust"] >= 0.85, r
    assert r["original"] <= 0.5, r
