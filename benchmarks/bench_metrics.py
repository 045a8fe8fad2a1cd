"""Speed and memory of the register metrics at national scale (not a test).

Generates N persons × 260 weeks with :func:`evaluation.synthetic.registers.simulate_registers`,
times every metric (best of ``--repeat``), measures the memory each allocates beyond the loaded
input (tracemalloc peak, numpy allocations included), runs a straightforward pandas version of
benefit dependency and long-term unemployment on the same data and checks that the answers
agree, then streams a wide Parquet copy of the register through DuckDB in person blocks in a
subprocess and reports its peak RSS. Prints a markdown table.

    python benchmarks/bench_metrics.py --n 1000000 --pandas-n 250000
    python benchmarks/bench_metrics.py --n 20000 --pandas-n 20000   # quick smoke run
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.metrics import benefits as B
from evaluation.data.registers import write_register
from evaluation.synthetic.registers import simulate_registers

GiB = 1024 ** 3


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
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak, out


# --------------------------------------------------------------------------- pandas baselines
def pandas_long(panel, rows):
    """The register as a pandas long frame of benefit weeks (what a pandas user would start from)."""
    m = panel.matrix[rows]
    r, c = np.nonzero(m)
    return pd.DataFrame({"person": np.asarray(panel.persons)[rows][r], "t": c.astype(np.int32), "cat": m[r, c]})


def pandas_dependency(long: pd.DataFrame, parts: pd.DataFrame, cats: pd.DataFrame, lo: int, hi: int, n_weeks: int):
    """Straightforward pandas: merge, filter the window, group by person, count."""
    df = long.merge(cats, on="cat").merge(parts[["idx"]].reset_index(), on="person")
    rel = df["t"] - df["idx"]
    df = df[(rel >= lo) & (rel <= hi)]
    num = df[df["public"]].groupby("person").size()
    cen = df[df["censored"]].groupby("person").size()
    width = (np.minimum(parts["idx"] + hi, n_weeks - 1) - np.maximum(parts["idx"] + lo, 0) + 1).clip(lower=0)
    den = width - cen.reindex(parts.index, fill_value=0)
    return (num.reindex(parts.index, fill_value=0) / den.where(den > 0)).rename("benefit_dependency")


def pandas_ltu(panel, rows, unemployed_lut):
    """Straightforward pandas: pivot to person × week, rolling 52-week sums."""
    long = pandas_long(panel, rows)
    long["u"] = unemployed_lut[long["cat"].to_numpy()]
    wide = long.pivot_table(index="person", columns="t", values="u", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=range(panel.matrix.shape[1]), fill_value=0)
    roll = wide.T.rolling(52).sum().T
    return ((roll >= 42) & (wide == 1)).astype(np.int8), roll.isna()


# --------------------------------------------------------------------------- streaming subprocess
STREAM_CHILD = r"""
import json, sys, time
import numpy as np, pandas as pd
from evaluation.metrics import benefits as B
from evaluation.data.registers import iter_panel_blocks
path, parts_path, block, ref_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
parts = pd.read_parquet(parts_path)
def hwm():  # VmHWM: peak RSS of this process (ru_maxrss would inherit the parent's peak across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
base = hwm()
t = time.perf_counter()
blocks = iter_panel_blocks(path, "wide", block_persons=block, memory_limit="256MB")
s = B.compute_streaming(B.benefit_dependency, blocks, parts, window=(1, 52))
el = time.perf_counter() - t
peak = hwm()
ref = np.load(ref_path)
print(json.dumps({"seconds": el, "base_rss_kib": base, "peak_rss_kib": peak,
                  "identical": bool(np.array_equal(s.to_numpy(), ref, equal_nan=True))}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--weeks", type=int, default=260)
    ap.add_argument("--pandas-n", type=int, default=250_000, help="persons for the pandas baselines")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--stream-block", type=int, default=50_000)
    ap.add_argument("--no-stream", action="store_true")
    args = ap.parse_args()

    t = time.perf_counter()
    sim = simulate_registers(args.n, n_weeks=args.weeks, enrolment=(60, args.weeks - 60), potential_outcomes=False, seed=1)
    gen = time.perf_counter() - t
    panel, parts = sim.panel, sim.participants
    print(f"generated {args.n:,} persons × {args.weeks} weeks in {gen:.1f} s; matrix {panel.matrix.nbytes / GiB:.2f} GiB",
          file=sys.stderr)

    rows = []

    def run(name, fn):
        sec, peak, out = timed(fn, args.repeat)
        rows.append({"metric": name, "n": args.n, "engine": "numpy kernels", "seconds": sec, "peak_gib": peak / GiB})
        print(f"{name}: {sec:.2f} s, {peak / GiB:.2f} GiB", file=sys.stderr)
        return out

    dep = run("benefit_dependency [1,52]", lambda: B.benefit_dependency(panel, parts, (1, 52)))
    run("benefit_dependency [-52,-1]", lambda: B.benefit_dependency(panel, parts, (-52, -1)))
    run("self_support_week 26", lambda: B.self_support_week(panel, parts, 26))
    run("status_at_month 1,3,6,12", lambda: B.status_at_month(panel, parts))
    run("self_support_spell w=13 [1,52]", lambda: B.self_support_spell(panel, parts, 13, (1, 52)))
    run("weeks_to_self_support w=4", lambda: B.weeks_to_self_support(panel, parts, 4))
    run("long_term_unemployment (all person-weeks)", lambda: B.long_term_unemployment(panel))
    run("full_time_persons (1 year)", lambda: B.full_time_persons(panel, (panel.weeks.labels()[100], panel.weeks.labels()[151])))
    run("long_sickness_spells [1,52]", lambda: B.long_sickness_spells(panel, parts, (1, 52)))
    run("status_share_series [1,104] by group", lambda: B.status_share_series(panel, parts, weeks=(1, 104)))

    # pandas comparison on the first pandas_n persons (same data, same answers)
    pn = min(args.pandas_n, args.n)
    sub_rows = np.arange(pn)
    sub_parts = parts.iloc[:pn].copy()
    sub_panel = panel.take(sub_rows)
    sub_parts["idx"] = (B.parse_weeks(sub_parts["index_week"].to_numpy(), file="p") - panel.weeks.first).astype(np.int32)
    cl = panel.codes
    cats = pd.DataFrame({"cat": np.arange(cl.n_categories, dtype=np.uint8),
                         "public": cl.lut("public_support").astype(bool), "censored": cl.lut("censored").astype(bool)})
    long = pandas_long(panel, sub_rows)
    sec_np, peak_np, dep_np = timed(lambda: B.benefit_dependency(sub_panel, sub_parts, (1, 52)), args.repeat)
    sec_pd, peak_pd, dep_pd = timed(lambda: pandas_dependency(long, sub_parts, cats, 1, 52, args.weeks), 1)
    agree_dep = bool(np.allclose(dep_np.to_numpy(), dep_pd.reindex(dep_np.index).to_numpy(), equal_nan=True))
    rows += [
        {"metric": "benefit_dependency [1,52]", "n": pn, "engine": "numpy kernels", "seconds": sec_np, "peak_gib": peak_np / GiB},
        {"metric": "benefit_dependency [1,52]", "n": pn, "engine": "pandas merge/groupby", "seconds": sec_pd,
         "peak_gib": peak_pd / GiB, "agree": agree_dep},
    ]
    del long
    ltu_n = min(pn, 100_000)
    sec_np2, peak_np2, L_np = timed(lambda: B.long_term_unemployment(panel.take(np.arange(ltu_n))), args.repeat)
    sec_pd2, peak_pd2, (L_pd, undefined) = timed(lambda: pandas_ltu(panel, np.arange(ltu_n), cl.lut("unemployed")), 1)
    Lp = L_pd.reindex(L_np.index).to_numpy()
    Ln = L_np.to_numpy()
    mask = (Ln != -1) & ~undefined.reindex(L_np.index).to_numpy()
    agree_ltu = bool((Lp[mask] == Ln[mask]).all())
    rows += [
        {"metric": "long_term_unemployment", "n": ltu_n, "engine": "numpy kernels", "seconds": sec_np2, "peak_gib": peak_np2 / GiB},
        {"metric": "long_term_unemployment", "n": ltu_n, "engine": "pandas pivot/rolling", "seconds": sec_pd2,
         "peak_gib": peak_pd2 / GiB, "agree": agree_ltu},
    ]

    # streaming: wide Parquet, DuckDB record batches of stream_block persons, in a subprocess
    if not args.no_stream:
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            f = write_register(panel, d / "wide.parquet", "wide", row_group_size=args.stream_block)
            parts[["index_week", "group"]].to_parquet(d / "parts.parquet")
            np.save(d / "ref.npy", dep.to_numpy())
            out = subprocess.run([sys.executable, "-c", STREAM_CHILD, str(f), str(d / "parts.parquet"),
                                  str(args.stream_block), str(d / "ref.npy")], capture_output=True, text=True, check=True)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append({"metric": "benefit_dependency [1,52] streamed", "n": args.n,
                         "engine": f"DuckDB wide Parquet, blocks of {args.stream_block:,}", "seconds": res["seconds"],
                         "peak_gib": (res["peak_rss_kib"] - res["base_rss_kib"]) / 1024 ** 2,
                         "agree": res["identical"],
                         "note": f"peak RSS {res['peak_rss_kib'] / 1024 ** 2:.2f} GiB incl. interpreter; "
                                 f"parquet {f.stat().st_size / GiB:.2f} GiB on disk, dense matrix {panel.matrix.nbytes / GiB:.2f} GiB"})

    table = pd.DataFrame(rows)
    table["seconds"] = table["seconds"].round(3)
    table["peak_gib"] = table["peak_gib"].round(3)
    print(table.to_markdown(index=False) if hasattr(table, "to_markdown") else table.to_string(index=False))
    speed = sec_pd / sec_np
    print(f"\nbenefit dependency: numpy {speed:.1f}× faster than pandas at n={pn:,}; answers agree: {agree_dep}")
    print(f"long-term unemployment: numpy {sec_pd2 / sec_np2:.1f}× faster than pandas at n={ltu_n:,}; answers agree: {agree_ltu}")


if __name__ == "__main__":
    main()
