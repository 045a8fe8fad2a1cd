"""A fast version of benchmarks/bench_time_coverage.py (500 draws there: every coverage in [0.93, 0.97]).

Forty draws cannot pin coverage to a few per cent, but intervals half as wide as they should be would cover
about 70 % of the time and fail here; the bias must also lie within 4 Monte Carlo standard errors."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from evaluation.data.rates import RateTable

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from time_coverage import coverage, population_truth, replicate  # noqa: E402  (the harness bench_time_coverage runs)


def test_coverage_of_rmst_cumulative_effect_and_net_result_fast():
    warnings.simplefilter("ignore")
    truth = population_truth(n=6000, seed=77, horizons=(52, 104))
    rates = RateTable.load()
    res = [replicate(s, truth, n_per_arm=100, horizons=(52, 104), rates=rates) for s in range(101, 141)]
    tab = coverage(res).set_index("quantity")
    assert set(tab.index) == {"rmst_h52", "rmst_h104", "weeks_h52", "weeks_h104", "net_h52", "net_h104"}
    assert (tab["coverage"] >= 0.85).all(), tab
    assert ((tab["bias"].abs()) <= 4 * tab["bias_mc_se"]).all(), tab
