"""Interval coverage of durations, cumulative effects and the business case on simulated registers (issue 15).

Each draw simulates a randomized register study with a known effect on time to first self-support
(evaluation/synthetic/durations.py, 150 + 150 persons, three years of weekly follow-up) and runs the
pipeline's own code through the harness benchmarks/time_coverage.py: the RMST difference (Greenwood plug-in), the
cumulative effect on weeks on public support (HC2, joint covariance of the weekly effects) and the net
result of the business case priced with the shipped rates (data/rates/dk_satser.yaml). The truth is the
population effect from one large simulation (20,000 + 20,000 persons, common random numbers).

    python benchmarks/bench_time_coverage.py --draws 500
"""

from __future__ import annotations

import argparse
import time
import warnings

from evaluation.data.rates import RateTable
from time_coverage import coverage, population_truth, replicate  # benchmarks/time_coverage.py


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--n", type=int, default=150, help="persons per arm")
    ap.add_argument("--first-seed", type=int, default=1)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    truth = population_truth()
    rates = RateTable.load()
    res = [replicate(s, truth, n_per_arm=args.n, rates=rates) for s in range(args.first_seed, args.first_seed + args.draws)]
    tab = coverage(res)
    print(f"{args.draws} draws of {args.n} + {args.n} persons, {time.perf_counter() - t0:.0f} s")
    print(tab.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    ok = tab["coverage"].between(0.93, 0.97) & ((tab["bias"].abs()) <= 4 * tab["bias_mc_se"])
    print("every coverage in [0.93, 0.97] and |bias| within 4 Monte Carlo SE:", bool(ok.all()))


if __name__ == "__main__":
    main()
