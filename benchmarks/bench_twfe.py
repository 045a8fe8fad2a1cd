"""Two-way fixed effects: the package's TWFE design against pyfixest on the same data (not a test).

One simulated panel (``simulate_staggered``: 100,000 persons × 104 weeks = 10.4M rows by default,
52 weekly cohorts), person and week effects, standard errors clustered by person. In one process,
interleaved rounds (minimum reported), with the wall time and the process peak RSS of every phase
(``VmHWM`` reset before each phase through ``/proc/self/clear_refs``):

1. static TWFE, balanced panel: ``TWFE(...).fit(df)`` as a user calls it (its time includes
   ``Design.fit``'s defensive deep copy of the input, which is reported separately) against
   ``pyfixest.feols("y ~ d | person + week", vcov={"CRV1": "person"})``;
2. the same on an unbalanced panel (a random 10 % of the rows dropped): the package's exact
   normal-equations path against pyfixest's alternating projections;
3. event-study TWFE with binned event times (``event_window``) against pyfixest's
   ``i(event_time, ref=-1)`` on the same binned column.

It prints each comparison's ratio (pyfixest time / package time), the largest estimate and SE
differences, and pyfixest's version. pyfixest's default small-sample correction counts one more
parameter than Stata's ``reghdfe`` and this package when the person effects are nested in the
clusters (``K = regressors + week effects + 1``), so its CR1 SE is larger by a factor
``sqrt((N - K) / (N - K - 1))``; the script prints the raw difference and the difference after
that one-parameter adjustment.

    python benchmarks/bench_twfe.py                       # 100,000 persons x 104 weeks
    python benchmarks/bench_twfe.py --persons 5000 --rounds 1   # smoke run
"""

from __future__ import annotations

import argparse
import gc
import os
import time
import warnings
from importlib import metadata

import numpy as np
import pandas as pd

from evaluation.designs.did import TWFE
from evaluation.synthetic.staggered import simulate_staggered

from _record import Recorder, add_json_option, ours, peer

warnings.simplefilter("ignore")


def _status(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def phase(fn):
    gc.collect()
    _reset_peak()
    before = _status("VmRSS")
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t, _status("VmHWM"), before


def compare(rec, key, sizes, label, mine, theirs, rounds, terms, pf_terms, K_of):
    """Interleaved rounds; records the comparison and returns a result row."""
    t_o = t_t = float("inf")
    p_o = p_t = 0.0
    for _ in range(rounds):
        r, d, pk, _b = phase(mine)
        t_o, p_o = min(t_o, d), max(p_o, pk)
        m, d2, pk2, _b2 = phase(theirs)
        t_t, p_t = min(t_t, d2), max(p_t, pk2)
    est = np.array([r.estimate_for(t).estimate for t in terms])
    se = np.array([r.estimate_for(t).std_error for t in terms])
    b = m.coef().reindex(pf_terms).to_numpy()
    s = m.se().reindex(pf_terms).to_numpy()
    N, K = r.diagnostics["n_obs"], K_of(len(terms))
    adj = np.sqrt((N - K) / (N - K - 1))
    row = {
        "comparison": label, "package s": t_o, "package peak GiB": p_o, "pyfixest s": t_t, "pyfixest peak GiB": p_t,
        "pyfixest / package": t_t / t_o, "max |estimate diff|": float(np.max(np.abs(est - b))),
        "max |SE diff| raw": float(np.max(np.abs(se - s))), "max |SE diff| K+1 adjusted": float(np.max(np.abs(se * adj - s))),
    }
    agree = row["max |estimate diff|"] <= 1e-10 and row["max |SE diff| K+1 adjusted"] <= 1e-10
    rec.add(key, label, sizes, ours(t_o, p_o, "process peak RSS (VmHWM) of the phase"),
            [peer("pyfixest feols, CRV1 by person", t_t, dist="pyfixest", agree=agree, peak_gib=p_t,
                  max_abs_diff=max(row["max |estimate diff|"], row["max |SE diff| K+1 adjusted"]),
                  max_abs_estimate_diff=row["max |estimate diff|"], max_abs_se_diff_raw=row["max |SE diff| raw"],
                  max_abs_se_diff_adjusted=row["max |SE diff| K+1 adjusted"])], terms=len(terms))
    print(f"{label}: package {t_o:.2f} s ({p_o:.2f} GiB peak), pyfixest {metadata.version('pyfixest')} {t_t:.2f} s ({p_t:.2f} GiB); pyfixest/package "
          f"{t_t / t_o:.1f}x; max|d estimate| {row['max |estimate diff|']:.1e}, max|d SE| raw {row['max |SE diff| raw']:.1e}, "
          f"after pyfixest's extra parameter {row['max |SE diff| K+1 adjusted']:.1e}", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--cohorts", type=int, default=52)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--window", type=int, nargs=2, default=(-4, 8))
    add_json_option(ap)
    a = ap.parse_args()
    rec = Recorder("bench_twfe", a)
    import pyfixest as pf

    df = simulate_staggered(n_persons=a.persons, n_weeks=a.weeks, n_cohorts=a.cohorts, seed=1)
    df = df[["person", "week", "enrolled", "benefit", "cohort"]].copy()
    print(f"# {a.persons:,} persons x {a.weeks} weeks = {len(df):,} rows, {a.cohorts} weekly cohorts; pyfixest "
          f"{metadata.version('pyfixest')}, numpy {np.__version__}; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; process RSS {_status('VmRSS'):.2f} GiB after simulating", flush=True)
    rows = []
    weeks_K = lambda k: k + (a.weeks - 1)  # noqa: E731  regressors + week effects (persons nested in clusters)
    static = TWFE("benefit", unit="person", time="week", treatment="enrolled")
    sizes = {"persons": a.persons, "weeks": a.weeks, "cohorts": a.cohorts, "rows": len(df)}
    rows.append(compare(rec, "static_balanced", sizes, "static, balanced", lambda: static.fit(df),
                        lambda: pf.feols("benefit ~ enrolled | person + week", data=df, vcov={"CRV1": "person"}),
                        a.rounds, ["twfe"], ["enrolled"], weeks_K))
    # the deep copy Design.fit makes of the input (outside this kernel; reported for the record)
    _, t_copy, _, _ = phase(lambda: df.copy(deep=True))
    _, t_inner, pk_inner, _ = phase(lambda: static._fit(df))
    print(f"   of which Design.fit's deep copy of the input: {t_copy:.2f} s; TWFE._fit alone {t_inner:.2f} s "
          f"({pk_inner:.2f} GiB peak)", flush=True)
    rec.comparisons[-1]["ours"].update(input_copy_s=t_copy, fit_alone_s=t_inner, fit_alone_peak_gib=pk_inner)
    rows.append({"comparison": "   TWFE._fit alone (no input copy)", "package s": t_inner, "package peak GiB": pk_inner})
    rng = np.random.default_rng(7)
    ub = df.iloc[np.sort(rng.choice(len(df), int(0.9 * len(df)), replace=False))].reset_index(drop=True)
    rows.append(compare(rec, "static_unbalanced", {**sizes, "rows": len(ub)}, "static, unbalanced (10 % of rows dropped)", lambda: static.fit(ub),
                        lambda: pf.feols("benefit ~ enrolled | person + week", data=ub, vcov={"CRV1": "person"}),
                        a.rounds, ["twfe"], ["enrolled"], weeks_K))
    lo, hi = a.window
    es = TWFE("benefit", unit="person", time="week", cohort="cohort", event_study=True, event_window=(lo, hi))
    e = (df["week"] - df["cohort"]).clip(upper=hi)
    e = e.where(e >= lo, lo) if lo < 0 else e
    dfe = df.assign(eb=e.fillna(-1).astype(int))  # never treated: the reference -1 (all dummies 0)
    terms = [f"e{k}" for k in range(lo, hi + 1) if k != -1]
    pf_terms = [f"C(eb, contr.treatment(base=-1))[T.{k}]" for k in range(lo, hi + 1) if k != -1]
    probe = pf.feols("benefit ~ i(eb, ref=-1) | person + week", data=dfe.head(50_000), vcov={"CRV1": "person"})
    names = list(probe.coef().index)
    pf_terms = [next(nm for nm in names if nm.endswith(f"::{k}") or nm.endswith(f"[T.{k}]") or nm.endswith(f"[{k}]"))
                for k in range(lo, hi + 1) if k != -1]
    rows.append(compare(rec, "event_study", sizes, f"event study, window [{lo}, {hi}] ({len(terms)} event-time dummies), balanced",
                        lambda: es.fit(dfe),
                        lambda: pf.feols("benefit ~ i(eb, ref=-1) | person + week", data=dfe, vcov={"CRV1": "person"}),
                        a.rounds, terms, pf_terms, weeks_K))
    table = pd.DataFrame(rows)
    print()
    print(table.to_markdown(index=False, floatfmt=".3g"))
    rec.finish(a.json)


if __name__ == "__main__":
    main()
