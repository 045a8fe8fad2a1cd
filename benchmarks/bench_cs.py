"""Speed, memory and recovery benchmark of the Callaway & Sant'Anna design.

Run from the repository root::

    python benchmarks/bench_cs.py                      # 100,000 persons x 104 weeks, 52 cohorts
    python benchmarks/bench_cs.py --persons 20000      # smaller
    python benchmarks/bench_cs.py --recovery 1000      # bias / coverage Monte Carlo only

Prints wall time and peak traced memory (tracemalloc; numpy reports its buffers to it) of the
fast kernel (analytic SEs, then a 999-draw multiplier bootstrap) and of the straightforward
loop-over-(g, t) pandas reference, and the largest difference between the two (goal 1e-8).
Not a test: the machine is shared, run it once or twice.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from evaluation.designs import _cs
from evaluation.designs.did import CallawaySantAnna
from evaluation.synthetic.staggered import simulate_staggered


def timed(label, fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**30
    tracemalloc.stop()
    print(f"{label:<42s} {dt:8.2f} s   peak {peak:6.2f} GiB")
    return out, dt, peak


def speed(n_persons: int, n_weeks: int, n_cohorts: int, reference: bool) -> None:
    df = simulate_staggered(n_persons=n_persons, n_weeks=n_weeks, n_cohorts=n_cohorts, seed=1)
    print(f"panel: {n_persons:,} persons x {n_weeks} weeks = {len(df):,} rows, {n_cohorts} weekly cohorts")
    design = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort")
    fast, _, _ = timed("fast kernel, analytic SEs", lambda: design.fit(df))
    timed("fast kernel, multiplier bootstrap 999", lambda: design.fit(df, bootstrap=True, draws=999, seed=1))
    print(f"  cells: {fast.diagnostics['n_group_time_cells']}, att_overall = "
          f"{fast.estimate_for('att_overall').estimate:.5f} (truth {df.attrs['truth']['att']})")
    if reference:
        ref, _, _ = timed(
            "slow reference (pandas, loop over (g,t))",
            lambda: _cs.reference_group_time(df.assign(cohort=df.cohort.fillna(np.inf)), unit="person",
                                             period="week", outcome="benefit", cohort="cohort"),
        )
        gt = fast.tables["group_time"]
        d_att = np.max(np.abs(gt.att.to_numpy() - ref.att.to_numpy()))
        d_se = np.max(np.abs(gt.std_error.to_numpy() - ref.se.to_numpy()))
        print(f"  max |fast - reference|: att {d_att:.2e}, se {d_se:.2e}  (goal <= 1e-8)")
    print(f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


def recovery(reps: int) -> None:
    """Bias and 95 % CI coverage with an Ashenfelter dip handled by anticipation=2."""
    est, cover, se = [], [], []
    for r in range(reps):
        df = simulate_staggered(n_persons=400, n_weeks=20, n_cohorts=10, dip_weeks=2, dip=0.06,
                                effect=-0.05, seed=10_000 + r)
        res = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort", anticipation=2).fit(df)
        e = res.estimate_for("att_overall")
        est.append(e.estimate)
        se.append(e.std_error)
        cover.append(e.ci_lower <= -0.05 <= e.ci_upper)
    est = np.array(est)
    mc = est.std(ddof=1) / np.sqrt(reps)
    cov = np.mean(cover)
    print(f"recovery, {reps} replications: bias {est.mean() + 0.05:+.5f} (MC se {mc:.5f}), "
          f"sd of estimates {est.std(ddof=1):.5f} vs mean analytic se {np.mean(se):.5f}, "
          f"coverage {cov:.3f} (MC se {np.sqrt(cov * (1 - cov) / reps):.3f})")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--cohorts", type=int, default=52)
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--recovery", type=int, default=0, help="only run the recovery Monte Carlo with this many replications")
    a = ap.parse_args()
    if a.recovery:
        recovery(a.recovery)
    else:
        speed(a.persons, a.weeks, a.cohorts, not a.no_reference)
