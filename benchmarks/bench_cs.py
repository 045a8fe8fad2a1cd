"""Speed, memory and exactness benchmark of the Callaway & Sant'Anna design.

Run from the repository root::

    python benchmarks/bench_cs.py                      # 100,000 persons x 104 weeks, 52 weekly cohorts
    python benchmarks/bench_cs.py --persons 20000      # smaller
    python benchmarks/bench_cs.py --recovery 1000      # bias / coverage Monte Carlo only
    python benchmarks/bench_cs.py --persons 25000 --covariates reg,ipw,dr,dr_traditional --rounds 2   # against diff-diff

In one process, on one simulated panel, it times (wall clock) and measures the process peak
resident memory (``VmHWM`` from ``/proc/self/status``, reset before each phase through
``/proc/self/clear_refs``) of

1. the design as a user calls it (``CallawaySantAnna(...).fit(df)``: validation, panel
   building, all group-time cells, every aggregation with analytic influence-function SEs,
   pre-trend tests);
2. the same with a 999-draw multiplier bootstrap;
3. the baseline: a straightforward loop over the (g, t) cells with pandas subsetting
   (``tests/cs_reference.py: reference_group_time``) and, separately, a straightforward loop building the
   n-vector influence function of ``att_overall`` cell by cell (``reference_att_overall``);

and prints the largest differences between 1 and 3 (goal <= 1e-8) and the speed-up. Goals on
this machine (2 shared cores): <= 10 s and <= 3 GiB process peak for phase 1 at the default
size. Not a test: the machine is shared; run it once or twice.
"""

from __future__ import annotations

import argparse
import os
import time

import sys
from pathlib import Path

import numpy as np


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import cs_reference  # noqa: E402  (test-only straightforward references)
from evaluation.designs.did.estimators import CallawaySantAnna
from evaluation.synthetic.staggered import simulate_staggered

from _record import Recorder, add_json_option, ours, peer, version


def _status(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 2**20  # kB -> GiB
    return float("nan")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak RSS (VmHWM) to the current RSS
        return True
    except OSError:
        return False


def timed(label: str, fn):
    resettable = _reset_peak()
    before = _status("VmRSS")
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = _status("VmHWM")
    note = "" if resettable else "  (peak not resettable: process peak so far)"
    print(f"{label:<52s} {dt:8.2f} s   process peak {peak:5.2f} GiB (+{peak - before:4.2f} over {before:4.2f}){note}",
          flush=True)
    return out, dt, peak


def speed(n_persons: int, n_weeks: int, n_cohorts: int, reference: bool, rec: Recorder) -> None:
    (df, _, _) = timed("simulate panel", lambda: simulate_staggered(n_persons=n_persons, n_weeks=n_weeks,
                                                                      n_cohorts=n_cohorts, seed=1))
    print(f"panel: {n_persons:,} persons x {n_weeks} weeks = {len(df):,} rows, {n_cohorts} weekly cohorts; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other jobs inflate the times)")
    design = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort")
    fast, t_fast, p_fast = timed("1. fit, analytic SEs (all aggregations)", lambda: design.fit(df))
    _, t_boot, _ = timed("2. fit, multiplier bootstrap 999 draws", lambda: design.fit(df, bootstrap=True, draws=999, seed=1))
    e = fast.estimate_for("att_overall")
    print(f"  cells: {fast.diagnostics['n_group_time_cells']}, att_overall = {e.estimate:.6f} "
          f"(se {e.std_error:.6f}; truth {df.attrs['truth']['att']})")
    print(f"  goals for 1: <= 10 s -> {'met' if t_fast <= 10 else 'NOT met'} ({t_fast:.2f} s); "
          f"<= 3 GiB process peak -> {'met' if p_fast <= 3 else 'NOT met'} ({p_fast:.2f} GiB)")
    sizes = {"persons": n_persons, "weeks": n_weeks, "cohorts": n_cohorts}
    mine = ours(t_fast, p_fast, "process peak RSS (VmHWM) of the phase", bootstrap_999_s=t_boot,
                cells=int(fast.diagnostics["n_group_time_cells"]))
    if reference:
        dfr = df.assign(cohort=df.cohort.fillna(np.inf))
        ref, t_ref, _ = timed(
            "3a. baseline: pandas loop over (g,t) cells, att + se",
            lambda: cs_reference.reference_group_time(dfr, unit="person", period="week", outcome="benefit", cohort="cohort"),
        )
        (r_est, r_se), t_ref2, _ = timed(
            "3b. baseline: loop building att_overall's influence fn",
            lambda: cs_reference.reference_att_overall(dfr, unit="person", period="week", outcome="benefit", cohort="cohort"),
        )
        gt = fast.tables["group_time"]
        d_att = np.max(np.abs(gt.att.to_numpy() - ref.att.to_numpy()))
        d_se = np.max(np.abs(gt.std_error.to_numpy() - ref.se.to_numpy()))
        print(f"  max |fit - baseline| over {len(ref)} cells: att {d_att:.2e}, se {d_se:.2e}; "
              f"att_overall {abs(e.estimate - r_est):.2e}, its se {abs(e.std_error - r_se):.2e}  (goal <= 1e-8)")
        rec.add("cs_no_covariates", "Callaway-Sant'Anna, no covariates, all aggregations, analytic SEs", sizes, mine,
                [peer("pandas loop over (g, t) cells (tests/cs_reference.py)", t_ref, dist="pandas",
                      agree=max(d_att, d_se) <= 1e-8, max_abs_diff=max(d_att, d_se), max_abs_att_diff=d_att,
                      max_abs_se_diff=d_se, att_overall_loop_s=t_ref2,
                      max_abs_att_overall_diff=abs(e.estimate - r_est), max_abs_att_overall_se_diff=abs(e.std_error - r_se))])
        print(f"  pandas {version('pandas')}; ratio fit / cell loop {t_fast / t_ref:.2f}")
        print(f"  speed-up of 1 over the cell loop 3a: {t_ref / t_fast:.1f}x (3a + 3b: {(t_ref + t_ref2) / t_fast:.1f}x); "
              f"load average now {os.getloadavg()[0]:.1f}")
    else:
        rec.add("cs_no_covariates", "Callaway-Sant'Anna, no covariates, all aggregations, analytic SEs", sizes, mine)


def covariates(n_persons: int, n_weeks: int, n_cohorts: int, methods: list[str], rounds: int, rec: Recorder) -> None:
    """CS with two baseline covariates (age and a standard-normal x2): the package against diff-diff.

    Same panel and options for both (never-treated comparisons, varying base period, analytic
    influence-function SEs; diff-diff with ``pscore_trim=1e-6`` so that neither side trims the
    propensity scores here, as the package's one-sided 1 - 1e-6 cap does not bind either). diff-diff
    is timed with its default BLAS threads and with one BLAS thread (the faster counts). ``dr`` is
    three estimators: the package's ``dr`` is DRDID's improved estimator (``drdid_imp_panel``), its
    ``dr_traditional`` is DRDID's ``drdid_panel`` (R ``did``'s ``"dr"``), and diff-diff's ``"dr"``
    normalises the comparison group's IPW weights by the treated total (not by their own total,
    as DRDID does), so it matches neither exactly.
    """
    from importlib import metadata

    import pandas as pd
    from threadpoolctl import threadpool_limits

    from diff_diff import CallawaySantAnna as DD

    df = simulate_staggered(n_persons=n_persons, n_weeks=n_weeks, n_cohorts=n_cohorts, seed=1)
    rng = np.random.default_rng(5)
    df["x2"] = np.repeat(rng.normal(size=n_persons), n_weeks)
    df = df[["person", "week", "benefit", "cohort", "age", "x2"]].copy()
    df["first_treat"] = df["cohort"].fillna(0).astype(np.int64)
    print(f"covariates: {n_persons:,} persons x {n_weeks} weeks, {n_cohorts} weekly cohorts, covariates age + x2; "
          f"diff-diff {metadata.version('diff-diff')}; load average {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    # the package's process peak per method before any diff-diff call (later phases would inherit the
    # peer's memory: glibc keeps freed heap in the process, so VmHWM cannot be reset below it)
    clean_peak = {}
    for meth in methods:
        d0 = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort", covariates=["age", "x2"],
                              est_method=meth)
        _, _, clean_peak[meth] = timed(f"  package {meth} (before any peer call)", lambda: d0.fit(df))
    for meth in methods:
        peer_method = {"dr_traditional": "dr"}.get(meth, meth)
        design = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort", covariates=["age", "x2"],
                                  est_method=meth)

        def theirs():
            return DD(estimation_method=peer_method, pscore_trim=1e-6).fit(
                df, outcome="benefit", unit="person", time="week", first_treat="first_treat", covariates=["age", "x2"])

        def theirs_one_thread():
            with threadpool_limits(1, user_api="blas"):
                return theirs()

        t_o = t_t = t_t1 = float("inf")
        p_o = p_t = 0.0
        for _ in range(rounds):
            r, d, pk = timed(f"  package {meth}", lambda: design.fit(df))
            t_o, p_o = min(t_o, d), max(p_o, pk)
            m, d2, pk2 = timed(f"  diff-diff {peer_method} (default BLAS threads)", theirs)
            t_t, p_t = min(t_t, d2), max(p_t, pk2)
            m1, d3, pk3 = timed(f"  diff-diff {peer_method} (one BLAS thread)", theirs_one_thread)
            t_t1, p_t = min(t_t1, d3), max(p_t, pk3)
        gt = r.tables["group_time"].set_index(["group", "time"])
        dgt = pd.DataFrame([{"group": int(g), "time": int(t), "dd_att": v["effect"], "dd_se": v["se"]}
                            for (g, t), v in m.group_time_effects.items()]).set_index(["group", "time"])
        j = gt.join(dgt, how="inner")
        e = r.estimate_for("att_overall")
        best_peer = min(t_t, t_t1)
        row = {"method": f"{meth} vs diff-diff {peer_method}", "persons": n_persons, "package s": t_o,
               "package peak GiB (clean)": clean_peak[meth],
               "diff-diff s": best_peer, "diff-diff peak GiB": p_t, "diff-diff / package": best_peer / t_o,
               "cells": f"{len(j)}/{len(gt)}", "max |cell att diff|": float(np.nanmax(np.abs(j.att - j.dd_att))),
               "max |cell SE diff|": float(np.nanmax(np.abs(j.std_error - j.dd_se))),
               "att_overall diff": abs(e.estimate - m.overall_att), "SE diff": abs(e.std_error - m.overall_se)}
        rows.append(row)
        diffs = [row["max |cell att diff|"], row["max |cell SE diff|"], row["att_overall diff"], row["SE diff"]]
        rec.add(f"cs_{meth}", f"Callaway-Sant'Anna with covariates age + x2, {meth}",
                {"persons": n_persons, "weeks": n_weeks, "cohorts": n_cohorts},
                ours(t_o, clean_peak[meth], "process peak RSS (VmHWM) before any peer call"),
                [peer(f"diff-diff CallawaySantAnna, estimation_method={peer_method!r}", best_peer, dist="diff-diff",
                      agree=max(diffs) <= 1e-8, max_abs_diff=max(diffs), peak_gib=p_t, default_threads_s=t_t,
                      one_thread_s=t_t1, cells_compared=f"{len(j)}/{len(gt)}",
                      max_abs_cell_att_diff=diffs[0], max_abs_cell_se_diff=diffs[1])],
                est_method=meth, covariates=["age", "x2"])
        print(f"  => {meth}: package {t_o:.2f} s ({clean_peak[meth]:.2f} GiB process peak before any peer call), diff-diff {best_peer:.2f} s (default threads {t_t:.2f}, "
              f"one thread {t_t1:.2f}); diff-diff/package {best_peer / t_o:.2f}; cells {len(j)}/{len(gt)}: max |att diff| "
              f"{row['max |cell att diff|']:.1e}, max |SE diff| {row['max |cell SE diff|']:.1e}; att_overall "
              f"{e.estimate:.12f} vs {m.overall_att:.12f}, SE {e.std_error:.12f} vs {m.overall_se:.12f}", flush=True)
    print()
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3g"))


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
    ap.add_argument("--covariates", default="", help="comma-separated est_methods: compare CS with covariates to diff-diff")
    ap.add_argument("--rounds", type=int, default=1, help="interleaved rounds of the covariate comparison")
    add_json_option(ap)
    a = ap.parse_args()
    rec = Recorder("bench_cs_covariates" if a.covariates else "bench_cs", a)
    if a.recovery:
        recovery(a.recovery)
    elif a.covariates:
        covariates(a.persons, a.weeks, a.cohorts, a.covariates.split(","), a.rounds, rec)
        rec.finish(a.json)
    else:
        speed(a.persons, a.weeks, a.cohorts, not a.no_reference, rec)
        rec.finish(a.json)
