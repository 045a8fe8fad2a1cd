"""Speed and memory of durations and cumulative effects at national scale, from the dense code matrix (issue 15 item 4).

Generates N persons × 260 weeks (evaluation/synthetic/registers.py, index weeks 52–103 so every person has three
years of follow-up) and times, in one run and on the same data, with peak memory beyond the loaded input
(tracemalloc):

* the **baseline**: benefit dependency over the same follow-up window (weeks 1–156) and over weeks 1–52
  (:func:`evaluation.metrics.benefits.benefit_dependency`);
* **Kaplan–Meier**: exit times from the matrix (:func:`evaluation.metrics.duration.exit_times`, one run-kernel pass
  over each person's window) and the two groups' curves with Greenwood standard errors at every week;
* **RMST** at 52, 104 and 156 weeks per group with the survRM2 Greenwood plug-in variance, and the differences;
* **cumulative effects**: weeks on public support accumulated over weeks 1..k, every fourth week to 156 (the curve
  at 39 points, the horizons exactly) and, for comparison, every week; the difference of the groups' means with its
  standard error (:func:`evaluation.metrics.duration.cumulative_moments`: per group and week the sums of C_ik and
  C_ik², in person blocks; on the 4-week grid four weeks' bytes are added in one 32-bit word first);
* **lifelines** on the same exit times: ``KaplanMeierFitter`` per group and
  ``lifelines.utils.restricted_mean_survival_time``; the answers are compared (survival at every week, RMST).

No long person × week frame is built anywhere. The package's tasks and the baseline run in interleaved rounds
(each once per round, best of ``--repeat`` rounds), so a burst of load on a shared machine hits all of them.

    python benchmarks/bench_survival.py --n 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd

from evaluation.designs import survival as sv
from evaluation.metrics import benefits as B
from evaluation.metrics.duration import cumulative_moments, exit_times
from evaluation.synthetic.registers import simulate_registers

from _record import Recorder, add_json_option, max_abs_diff, peer
from _record import ours as ours_side

GiB = 1024 ** 3
H = 156
HORIZONS = (52, 104, 156)


def timed(fn, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / GiB
    tracemalloc.stop()
    return best, peak, out


def km_rmst(panel, parts, treated):
    """Exit times from the matrix, KM per group with Greenwood SE at every week, RMST with Greenwood variance."""
    ex = exit_times(panel, parts, horizon=H)
    t, e = ex["weeks"].to_numpy(), ex["event"].to_numpy()
    grid = np.arange(0, H + 1)
    out = {}
    for lab, m in (("treated", treated), ("control", ~treated)):
        km = sv.kaplan_meier(t[m], e[m])
        out[lab] = {"surv": km.at(grid), "se": km.std_error(grid),
                    "rmst": {h: sv.rmst(km, h) for h in HORIZONS}}
    out["diff"] = {h: sv.rmst_difference(out["treated"]["rmst"][h], out["control"]["rmst"][h]) for h in HORIZONS}
    return out, t, e


def km_only(panel, parts, treated):
    ex = exit_times(panel, parts, horizon=H)
    t, e = ex["weeks"].to_numpy(), ex["event"].to_numpy()
    grid = np.arange(0, H + 1)
    return [sv.kaplan_meier(t[m], e[m]).at(grid) for m in (treated, ~treated)]


def cumulative(panel, parts, labels, step=4):
    mom = cumulative_moments(panel, parts, (1, H), panel.codes.lut("public_support"), labels, 2, step=step)
    n, s1, s2 = (mom[k].astype(float) for k in ("n", "sum", "sumsq"))
    mean = s1 / n
    var = (s2 - n * mean**2) / (n - 1)
    est = mean[1] - mean[0]
    se = np.sqrt(var[1] / n[1] + var[0] / n[0])
    return mom["weeks"], est, se


def lifelines_km_rmst(t, e, treated):
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    out = {}
    for lab, m in (("treated", treated), ("control", ~treated)):
        kmf = KaplanMeierFitter().fit(t[m], e[m] > 0)
        out[lab] = {"surv": kmf.survival_function_at_times(np.arange(0, H + 1)).to_numpy(),
                    "rmst": {h: float(restricted_mean_survival_time(kmf, t=h)) for h in HORIZONS}}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    add_json_option(ap)
    args = ap.parse_args()
    rec = Recorder("bench_survival", args)
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    sim = simulate_registers(args.n, n_weeks=260, enrolment=(52, 103), potential_outcomes=False, seed=1)
    panel = sim.panel
    parts = sim.participants.copy()
    parts.index = pd.Index(parts.index.to_numpy(), name="person")
    treated = (parts["group"] == "intervention").to_numpy()
    labels = treated.astype(np.int64)
    print(f"# {args.n:,} persons × 260 weeks generated in {time.perf_counter() - t0:.1f} s; matrix "
          f"{panel.matrix.nbytes / GiB:.2f} GiB; follow-up weeks 1–{H}")
    B.benefit_dependency(panel, parts, (1, 52))  # the persons' rows are looked up once per study (cached), as in a run

    # Interleaved rounds (every task once per round, minimum over rounds) so that a burst of load from other
    # jobs on the shared machine hits the baseline and the tasks alike; peak memory in one extra call each.
    tasks = {
        "bd156": lambda: B.benefit_dependency(panel, parts, (1, H)),
        "bd52": lambda: B.benefit_dependency(panel, parts, (1, 52)),
        "km": lambda: km_only(panel, parts, treated),
        "rmst": lambda: km_rmst(panel, parts, treated),
        "cum4": lambda: cumulative(panel, parts, labels),
        "cum1": lambda: cumulative(panel, parts, labels, step=1),
    }
    best = {k: float("inf") for k in tasks}
    res = {}
    for _ in range(args.repeat):
        for k, fn in tasks.items():
            gc.collect()
            t1 = time.perf_counter()
            res[k] = fn()
            best[k] = min(best[k], time.perf_counter() - t1)
    peak = {k: timed(fn, 0)[1] for k, fn in tasks.items()}
    ours, t, e = res["rmst"]
    wk, est, se = res["cum4"]
    wk1, est1, se1 = res["cum1"]
    tll, mll, theirs = timed(lambda: lifelines_km_rmst(t, e, treated), args.repeat)
    tb156 = best["bd156"]
    names = [("bd156", "baseline: benefit dependency, weeks 1–156"),
             ("bd52", "baseline: benefit dependency, weeks 1–52"),
             ("km", "Kaplan–Meier (exit times from the matrix + 2 curves)"),
             ("rmst", "KM + Greenwood SE at every week + RMST 52/104/156 + differences"),
             ("cum4", "cumulative effect on weeks on support, every 4th week to 156, with SE"),
             ("cum1", "cumulative effect, every week 1–156, with SE (the weekly curve)")]
    rows = [(name, best[k], peak[k], best[k] / tb156) for k, name in names]
    rows.append(("lifelines KaplanMeierFitter + RMST on the same exit times (not incl. exit times)", tll, mll, tll / tb156))
    width = max(len(r[0]) for r in rows)
    print(f"{'task':<{width}}  {'time (s)':>9}  {'peak GiB':>9}  {'× bd 1–156':>10}")
    for name, tt, mm, ratio in rows:
        print(f"{name:<{width}}  {tt:9.3f}  {mm:9.3f}  {ratio:10.2f}")
    same_surv = all(np.allclose(ours[g]["surv"], theirs[g]["surv"], rtol=0, atol=1e-12) for g in ("treated", "control"))
    same_rmst = all(abs(ours[g]["rmst"][h].estimate - theirs[g]["rmst"][h]) < 1e-9 for g in ("treated", "control") for h in HORIZONS)
    from importlib.metadata import version as _v
    print(f"survival at every week identical to lifelines {_v('lifelines')}: {same_surv}; RMST identical: {same_rmst}")
    print("RMST differences (weeks):", {h: round(d['estimate'], 3) for h, d in ours["diff"].items()})
    at = {int(w): i for i, w in enumerate(wk)}
    print("cumulative effect (weeks) at 52/104/156:", [round(float(est[at[h]]), 3) for h in HORIZONS],
          "SE:", [round(float(se[at[h]]), 3) for h in HORIZONS],
          "; identical to the weekly curve at those weeks:",
          all(abs(est[at[h]] - est1[h - 1]) < 1e-12 and abs(se[at[h]] - se1[h - 1]) < 1e-12 for h in HORIZONS))
    for name, tt, _, ratio in rows[2:6]:
        print(f"within 2× benefit dependency over the same weeks: {name}: {ratio <= 2.0}")

    sizes = {"persons": args.n, "weeks": 260, "horizon": H}
    kind = "tracemalloc peak beyond the loaded input"
    base = peer("benefit dependency, weeks 1–156 (same package, interleaved)", tb156, dist="evaluation")
    d_surv = max(max_abs_diff(ours[g]["surv"], theirs[g]["surv"]) for g in ("treated", "control"))
    d_rmst = max(abs(ours[g]["rmst"][h].estimate - theirs[g]["rmst"][h]) for g in ("treated", "control") for h in HORIZONS)
    same_cum = all(abs(est[at[h]] - est1[h - 1]) < 1e-12 and abs(se[at[h]] - se1[h - 1]) < 1e-12 for h in HORIZONS)
    rec.add("bd52", "benefit dependency, weeks 1–52", sizes, ours_side(best["bd52"], peak["bd52"], kind), [base])
    rec.add("km", names[2][1], sizes, ours_side(best["km"], peak["km"], kind), [base])
    rec.add("rmst", names[3][1], sizes, ours_side(best["rmst"], peak["rmst"], kind),
            [base, peer("lifelines KaplanMeierFitter + restricted_mean_survival_time on our exit times", tll,
                        dist="lifelines", agree=same_surv and same_rmst, max_abs_diff=max(d_surv, d_rmst), peak_gib=mll,
                        max_abs_survival_diff=d_surv, max_abs_rmst_diff=d_rmst)])
    rec.add("cum4", names[4][1], sizes, ours_side(best["cum4"], peak["cum4"], kind, identical_to_weekly_curve=same_cum), [base])
    rec.add("cum1", names[5][1], sizes, ours_side(best["cum1"], peak["cum1"], kind), [base])
    rec.finish(args.json)


if __name__ == "__main__":
    main()
