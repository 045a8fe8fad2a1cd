"""Speed and memory of the register metrics at national scale, against tight numpy kernels (not a test).

Generates N persons × 260 weeks with :func:`evaluation.synthetic.registers.simulate_registers`
(participants get their own person index, as when they are read from their own file). For every
window metric it times, in one run and on the same data,

* the package **end to end** (from the participants table with ISO-week strings to the returned
  Series/DataFrame): the first call of the study (which looks the persons up) and the best of
  ``--repeat`` later calls;
* a **tight numpy kernel** written here independently of the package: each distinct index week
  parsed once (``pd.factorize`` + ``datetime.date.fromisocalendar``), the persons' rows looked up
  once per study (outside the timing, as the package caches it), uint8 gathers of each person's
  window, one lookup-table pass, byte sums in 32-bit lanes (benefit dependency, as described in
  issue 16), numpy range tests (one per run of unemployment categories) with a shift-and-add 52-week
  window sum in uint8 (long-term unemployment), boolean/cumulative-sum run tests (spells), column sums per group (status shares);

and prints the ratio package / numpy, whether the answers are identical, and the memory each
allocates beyond the loaded input (tracemalloc peak; numpy allocations are traced). It also runs
polars on benefit dependency (the register as a long frame of coded weeks: join, filter, group by),
the straightforward pandas baselines, and streams a wide Parquet copy through DuckDB in a subprocess.

    python benchmarks/bench_metrics.py --n 1000000 --repeat 5
    python benchmarks/bench_metrics.py --n 20000 --repeat 2 --pandas-n 20000 --stream-block 5000   # smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from evaluation.metrics import benefits as B
from evaluation.data.registers import write_register
from evaluation.synthetic.registers import simulate_registers

from _record import Recorder, add_json_option, max_abs_diff, ours, peer

GiB = 1024 ** 3
EPOCH = dt.date(1969, 12, 29)  # Monday of ISO week 1970-W01


def best_of(fn, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def traced_peak(fn) -> float:
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / GiB


def same(a, b) -> bool:
    """Identical answers: equal values (NaN = NaN) and, for frames, equal columns."""
    if isinstance(a, pd.DataFrame):
        return list(a.columns) == list(b.columns) and all(same(a[c], b[c]) for c in a.columns)
    a = a.to_numpy() if isinstance(a, pd.Series) else np.asarray(a)
    b = b.to_numpy() if isinstance(b, pd.Series) else np.asarray(b)
    if a.dtype == object or b.dtype == object or isinstance(a.dtype, pd.CategoricalDtype):
        return bool((pd.Series(a).astype(str).to_numpy() == pd.Series(b).astype(str).to_numpy()).all())
    return bool(np.array_equal(a.astype(float), b.astype(float), equal_nan=True))


def largest_diff(a, b) -> float | None:
    """Largest absolute difference over the numeric columns (None when the answer is categorical only)."""
    if isinstance(a, pd.DataFrame):
        d = [largest_diff(a[c], b[c]) for c in a.columns if c in b.columns]
        d = [x for x in d if x is not None]
        return max(d) if d else None
    a = a.to_numpy() if isinstance(a, pd.Series) else np.asarray(a)
    b = b.to_numpy() if isinstance(b, pd.Series) else np.asarray(b)
    if a.dtype == object or b.dtype == object or isinstance(a.dtype, pd.CategoricalDtype):
        return None
    return max_abs_diff(a, b)


# --------------------------------------------------------------------------- tight numpy kernels
class Tight:
    """Straightforward, tight numpy versions of the metrics (independent of the package's kernels)."""

    BLOCK = 8192

    def __init__(self, panel, parts):
        self.M = panel.matrix
        self.T = self.M.shape[1]
        self.first = panel.weeks.first
        self.codes = panel.codes
        self.parts = parts
        self.rows = panel.persons.get_indexer(parts.index)  # looked up once per study (not timed)
        assert (self.rows >= 0).all()
        self.cats = panel.codes.n_categories
        self.index = pd.Index(parts.index, name="person")

    def cols(self) -> np.ndarray:
        """Index-week column of each participant: each distinct week parsed once."""
        codes, uniq = pd.factorize(self.parts["index_week"])
        ords = np.array([(dt.date.fromisocalendar(int(u[:4]), int(u[-2:]), 1) - EPOCH).days // 7 for u in uniq])
        return (ords - self.first)[codes]

    def _windows(self, start: np.ndarray, width: int):
        """uint8 windows per block of persons; a window past the last register week is padded with the
        'outside' category (a padded copy of the block's rows only where needed)."""
        sw = sliding_window_view(self.M, width, axis=1)
        for a in range(0, len(start), self.BLOCK):
            b = min(len(start), a + self.BLOCK)
            s = start[a:b]
            if s.max() + width <= self.T:
                yield a, b, sw[self.rows[a:b], s]
            else:
                P = np.full((b - a, self.T + width), self.cats - 1, dtype=self.M.dtype)
                P[:, : self.T] = self.M[self.rows[a:b]]
                yield a, b, sliding_window_view(P, width, axis=1)[np.arange(b - a), s]

    def benefit_dependency(self, lo: int, hi: int) -> pd.Series:
        width = hi - lo + 1
        assert width <= 60, "nibble lanes hold at most 15 cells each"
        start = self.cols() + lo
        comb = (self.codes.lut("public_support") + 16 * self.codes.lut("censored")).astype(np.uint8)
        wp = (width + 3) // 4 * 4
        num = np.empty(len(start), dtype=np.int32)
        cen = np.empty(len(start), dtype=np.int32)
        buf = np.zeros((self.BLOCK, wp), dtype=np.uint8)
        for a, b, W in self._windows(start, width):
            L = buf[: b - a]
            np.take(comb, W, out=L[:, :width])  # one lookup-table pass
            # byte sums in 32-bit lanes: each byte lane adds width/4 cells of (num + 16 cens), so the
            # nibbles hold the counts (width <= 60); then the four lanes' nibbles are added
            lanes = L.view(np.uint32).sum(axis=1, dtype=np.uint32)
            lo_n = lanes & 0x0F0F0F0F
            hi_n = (lanes >> 4) & 0x0F0F0F0F
            num[a:b] = (lo_n & 0xFF) + ((lo_n >> 8) & 0xFF) + ((lo_n >> 16) & 0xFF) + (lo_n >> 24)
            cen[a:b] = (hi_n & 0xFF) + ((hi_n >> 8) & 0xFF) + ((hi_n >> 16) & 0xFF) + (hi_n >> 24)
        den = width - cen
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(den > 0, num / np.maximum(den, 1), np.nan)
        return pd.Series(share, index=self.index, name="benefit_dependency")

    def self_support_week(self, week: int) -> pd.Series:
        W = self.M[self.rows, self.cols() + week]
        cens = self.codes.lut("censored")[W].astype(bool)
        return pd.Series(np.where(cens, np.nan, (W == 0).astype(float)), index=self.index)

    def status_at_month(self, months=(1, 3, 6, 12)) -> pd.DataFrame:
        cl = self.codes
        groups = [g for g in cl.groups if g.category != "censoring"]
        cats = ["self_support", *[g.id for g in groups], "censored"]
        code = np.zeros(self.cats, dtype=np.int16)  # category -> label code (one status per week: span 1)
        for i, c in enumerate(cl.codes):
            g = cl.group_of(int(c))
            code[i + 1] = len(cats) - 1 if g.category == "censoring" else cats.index(g.id)
        code[-1] = len(cats) - 1
        cols = self.cols()
        out = {}
        for m in months:
            k = int(np.floor(4.33 * m + 0.5))
            out[f"status_{m:g}m"] = pd.Categorical.from_codes(code[self.M[self.rows, cols + k]], categories=cats)
        return pd.DataFrame(out, index=self.index)

    def self_support_spell(self, w: int, lo: int, hi: int) -> pd.DataFrame:
        width = hi - lo + 1
        start = self.cols() + lo
        ss, cens = self.codes.lut("self_support").astype(bool), self.codes.lut("censored").astype(bool)
        spell = np.empty(len(start))
        first = np.empty(len(start))
        for a, b, W in self._windows(start, width):
            C = cens[W]
            obs = np.where(C.any(axis=1), C.argmax(axis=1), width)
            cs = np.zeros((b - a, width + 1), dtype=np.int16)
            np.cumsum(ss[W], axis=1, dtype=np.int16, out=cs[:, 1:])
            ok = (cs[:, w:] - cs[:, :-w]) == w
            ok &= np.arange(width - w + 1)[None, :] <= (obs - w)[:, None]
            f = ok.any(axis=1)
            spell[a:b] = np.where(f, 1.0, np.where(obs > 0, 0.0, np.nan))
            first[a:b] = np.where(f, ok.argmax(axis=1) + lo, np.nan)
        return pd.DataFrame({"spell": spell, "start": first}, index=self.index)

    def weeks_to_self_support(self, w: int, start: int = 1) -> pd.DataFrame:
        cols = self.cols()
        s0 = cols + start
        ss, cens = self.codes.lut("self_support").astype(bool), self.codes.lut("censored").astype(bool)
        weeks = np.empty(len(cols), dtype=np.int64)
        event = np.empty(len(cols), dtype=np.int64)
        pos = np.arange(self.T)
        for a in range(0, len(cols), self.BLOCK):  # whole rows: the follow-up runs to the end of the register
            b = min(len(cols), a + self.BLOCK)
            Mb = self.M[self.rows[a:b]]
            after = pos[None, :] >= s0[a:b, None]
            C = cens[Mb] & after
            cfirst = np.where(C.any(axis=1), C.argmax(axis=1), self.T)
            cs = np.zeros((b - a, self.T + 1), dtype=np.int16)
            np.cumsum(ss[Mb], axis=1, dtype=np.int16, out=cs[:, 1:])
            R = (cs[:, w:] - cs[:, :-w]) == w
            R &= after[:, : self.T - w + 1] & (pos[None, : self.T - w + 1] + w <= cfirst[:, None])
            f = R.any(axis=1)
            weeks[a:b] = np.where(f, R.argmax(axis=1), cfirst - 1) - cols[a:b]
            event[a:b] = f
        return pd.DataFrame({"weeks": weeks, "event": event}, index=self.index)

    def _ltu_block(self, Mb, runs_u, lo_c, lookback=52, need=42):
        # range tests: the unemployment codes are a few runs of categories (DREAM groups are code ranges)
        (lo_u, n_u), *more = runs_u
        U = (Mb - np.uint8(lo_u)) < np.uint8(n_u)
        for lo_u, n_u in more:
            U |= (Mb - np.uint8(lo_u)) < np.uint8(n_u)
        u = U.view(np.uint8)
        s = u.copy()  # shift-and-add 52-week window sums in uint8: 1, 2, 4, ..., 32 and 52 = 32 + 16 + 4
        sums = {1: u}
        k = 1
        while k * 2 <= 32:
            nxt = sums[k].copy()
            nxt[:, k:] += sums[k][:, :-k]
            sums[k * 2] = nxt
            k *= 2
        s = sums[32].copy()
        s[:, 32:] += sums[16][:, :-32]
        s[:, 48:] += sums[4][:, :-48]
        res = ((s >= need) & U).view(np.int8).copy()
        res[Mb >= np.uint8(lo_c)] = -1  # censoring codes and 'outside' are the last categories
        res[:, : lookback - 1] = -1
        return res

    def _runs(self, lut):
        d = np.diff(np.concatenate([[0], lut.astype(np.int8), [0]]))
        a, e = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
        return list(zip(a.tolist(), (e - a).tolist()))

    def long_term_unemployment(self) -> np.ndarray:
        runs_u = self._runs(self.codes.lut("unemployed"))
        (lo_c, n_c), = self._runs(self.codes.lut("censored"))
        assert lo_c + n_c == self.cats
        out = np.empty(self.M.shape, dtype=np.int8)
        for a in range(0, self.M.shape[0], self.BLOCK):
            out[a:a + self.BLOCK] = self._ltu_block(self.M[a:a + self.BLOCK], runs_u, lo_c)
        return out

    def long_term_unemployment_share(self, lo: int, hi: int) -> pd.Series:
        runs_u = self._runs(self.codes.lut("unemployed"))
        (lo_c, _), = self._runs(self.codes.lut("censored"))
        cols = self.cols()
        width = hi - lo + 1
        num = np.empty(len(cols))
        den = np.empty(len(cols))
        for a in range(0, len(cols), self.BLOCK):
            b = min(len(cols), a + self.BLOCK)
            L = self._ltu_block(self.M[self.rows[a:b]], runs_u, lo_c)
            W = sliding_window_view(L, width, axis=1)[np.arange(b - a), cols[a:b] + lo]
            num[a:b] = (W == 1).sum(axis=1)
            den[a:b] = (W != -1).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return pd.Series(np.where(den > 0, num / np.maximum(den, 1), np.nan), index=self.index)

    def long_sickness_spells(self, lo: int, hi: int, longer_than: int = 26) -> pd.DataFrame:
        sick = self.codes.lut("groups", ["sygedagpenge"]).astype(bool)
        cols = self.cols()
        count = np.zeros(len(cols), dtype=np.int64)
        longest = np.zeros(len(cols), dtype=np.int64)
        for a in range(0, len(cols), self.BLOCK):
            b = min(len(cols), a + self.BLOCK)
            S = np.zeros((b - a, self.T + 2), dtype=np.int8)
            S[:, 1:-1] = sick[self.M[self.rows[a:b]]]
            d = np.diff(S, axis=1)
            r, s = np.nonzero(d == 1)
            _, e = np.nonzero(d == -1)
            keep = (e - s > longer_than) & (s <= cols[a:b][r] + hi) & (e - 1 >= cols[a:b][r] + lo)
            r, ln = r[keep], (e - s)[keep]
            count[a:b] = np.bincount(r, minlength=b - a)
            np.maximum.at(longest[a:b], r, ln)
        return pd.DataFrame({"count": count.astype(float), "any": (count > 0).astype(float),
                             "longest": longest.astype(float)}, index=self.index)

    def status_share_series(self, lo: int, hi: int, by: str = "group") -> pd.DataFrame:
        width = hi - lo + 1
        start = self.cols() + lo
        ss, cens = self.codes.lut("self_support"), self.codes.lut("censored")
        g, labels = pd.factorize(self.parts[by], sort=True)
        n_st = np.zeros((len(labels), width), dtype=np.int64)
        n_ce = np.zeros((len(labels), width), dtype=np.int64)
        for a, b, W in self._windows(start, width):
            gb = g[a:b]
            for k in range(len(labels)):  # column sums of each group's windows
                Wk = W[gb == k]
                n_st[k] += ss[Wk].sum(axis=0, dtype=np.int64)
                n_ce[k] += cens[Wk].sum(axis=0, dtype=np.int64)
        n_in = np.bincount(g, minlength=len(labels))
        frames = []
        for k, lab in enumerate(labels):
            n = (n_in[k] - n_ce[k]).astype(np.int64)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(n > 0, n_st[k] / np.maximum(n, 1), np.nan)
            frames.append(pd.DataFrame({by: lab, "week": np.arange(lo, hi + 1), "n": n,
                                        "n_status": n_st[k].astype(np.int64), "share": share}))
        return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- peers and baselines
def polars_dependency(long, cats, pp, first, lo, hi):
    """polars: the register as a long frame of coded weeks; parse index weeks, join, filter, group by."""
    import polars as pl

    p2 = pp.with_columns(pl.col("index_week").str.slice(0, 4).cast(pl.Int32).alias("y"),
                         pl.col("index_week").str.slice(6, 2).cast(pl.Int32).alias("w"))
    p2 = p2.with_columns(((pl.date(pl.col("y"), 1, 4).dt.truncate("1w") - pl.date(1969, 12, 29)).dt.total_days()
                          .floordiv(7) + pl.col("w") - 1 - first).alias("idx"))
    rel = pl.col("t").cast(pl.Int32) - pl.col("idx")
    agg = (long.lazy().join(p2.lazy().select("row", "idx"), on="row").filter((rel >= lo) & (rel <= hi))
           .join(cats.lazy(), on="cat").group_by("row").agg(pl.col("num").sum(), pl.col("cen").sum())).collect()
    out = p2.select("row").join(agg, on="row", how="left").sort("row").fill_null(0)
    return (out["num"] / ((hi - lo + 1) - out["cen"])).to_numpy()


def pandas_long(panel, rows):
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


def version(lib: str) -> str:
    try:
        return metadata.version(lib)
    except metadata.PackageNotFoundError:
        return "absent"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--weeks", type=int, default=260)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pandas-n", type=int, default=100_000, help="persons for the pandas baseline (0: skip)")
    ap.add_argument("--stream-block", type=int, default=50_000)
    ap.add_argument("--no-stream", action="store_true")
    ap.add_argument("--no-polars", action="store_true")
    add_json_option(ap)
    args = ap.parse_args()
    rec = Recorder("bench_metrics", args)
    sizes = {"persons": args.n, "weeks": args.weeks}
    peak_kind = "tracemalloc peak beyond the loaded input"

    t = time.perf_counter()
    sim = simulate_registers(args.n, n_weeks=args.weeks, enrolment=(60, args.weeks - 60), potential_outcomes=False, seed=1)
    gen = time.perf_counter() - t
    panel = sim.panel
    parts = sim.participants.copy()
    parts.index = pd.Index(parts.index.to_numpy(), name="person")  # the participants' own index object
    print(f"# {args.n:,} persons × {args.weeks} weeks generated in {gen:.1f} s; matrix {panel.matrix.nbytes / GiB:.2f} GiB "
          f"(uint8); {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; numpy {np.__version__}, "
          f"pandas {pd.__version__}, polars {version('polars')}", flush=True)
    tight = Tight(panel, parts)
    lab = panel.weeks.labels()
    cases = [
        ("benefit_dependency_1_52", "benefit_dependency [1,52]", lambda: B.benefit_dependency(panel, parts, (1, 52)), lambda: tight.benefit_dependency(1, 52)),
        ("benefit_dependency_m52_m1", "benefit_dependency [-52,-1]", lambda: B.benefit_dependency(panel, parts, (-52, -1)), lambda: tight.benefit_dependency(-52, -1)),
        ("self_support_week", "self_support_week 26", lambda: B.self_support_week(panel, parts, 26), lambda: tight.self_support_week(26)),
        ("status_at_month", "status_at_month 1,3,6,12", lambda: B.status_at_month(panel, parts), lambda: tight.status_at_month()),
        ("self_support_spell", "self_support_spell w=13 [1,52]", lambda: B.self_support_spell(panel, parts, 13, (1, 52)),
         lambda: tight.self_support_spell(13, 1, 52)),
        ("weeks_to_self_support", "weeks_to_self_support w=4 (to end of data)", lambda: B.weeks_to_self_support(panel, parts, 4),
         lambda: tight.weeks_to_self_support(4)),
        ("long_term_unemployment", "long_term_unemployment, every person-week", lambda: B.long_term_unemployment(panel).to_numpy(),
         lambda: tight.long_term_unemployment()),
        ("long_term_unemployment_share", "long_term_unemployment_share [1,52]", lambda: B.long_term_unemployment_share(panel, parts, (1, 52)),
         lambda: tight.long_term_unemployment_share(1, 52)),
        ("long_sickness_spells", "long_sickness_spells [1,52]", lambda: B.long_sickness_spells(panel, parts, (1, 52)),
         lambda: tight.long_sickness_spells(1, 52)),
        ("status_share_series", "status_share_series [1,104] by group", lambda: B.status_share_series(panel, parts, weeks=(1, 104)),
         lambda: tight.status_share_series(1, 104)),
        ("full_time_persons", "full_time_persons (52 calendar weeks, all types)",
         lambda: B.full_time_persons(panel, (lab[100], lab[151])), None),
    ]
    rows = []
    first = True
    for key, name, pkg, ref in cases:
        t = time.perf_counter()
        out = pkg()
        first_call = time.perf_counter() - t
        if first:
            print(f"# first metric of the study (persons looked up and cached on the panel): {first_call:.3f} s", flush=True)
            first = False
        # interleaved rounds: package, numpy, package, numpy, ...
        tp, tr, ref_out = float("inf"), float("inf"), None
        for _ in range(args.repeat):
            tp = min(tp, best_of(pkg, 1)[0])
            if ref is not None:
                d, ref_out = best_of(ref, 1)
                tr = min(tr, d)
        pp = traced_peak(pkg)
        rp = traced_peak(ref) if ref is not None else float("nan")
        agree = same(out, ref_out) if ref is not None else None
        peers = [] if ref is None else [peer("tight numpy kernel (this script)", tr, dist="numpy", agree=agree,
                                             max_abs_diff=largest_diff(out, ref_out), peak_gib=rp)]
        rec.add(key, name, sizes, ours(tp, pp, peak_kind, first_call_s=first_call), peers)
        rows.append({"metric": name, "package s": tp, "package peak GiB": pp, "numpy s": tr if ref else float("nan"),
                     "numpy peak GiB": rp, "ratio": tp / tr if ref else float("nan"), "identical": agree})
        if ref is None:
            print(f"{name}: package {tp:.3f} s ({pp:.3f} GiB); no numpy reference (calendar period, not a window)", flush=True)
        else:
            print(f"{name}: package {tp:.3f} s ({pp:.3f} GiB), numpy {tr:.3f} s ({rp:.3f} GiB), ratio {tp / tr:.2f}, "
                  f"identical {agree}", flush=True)
        del out, ref_out

    # polars on benefit dependency
    if not args.no_polars:
        import polars as pl

        r, c = np.nonzero(panel.matrix)
        long = pl.DataFrame({"row": panel.persons.get_indexer(panel.persons)[r].astype(np.int32), "t": c.astype(np.int16),
                             "cat": panel.matrix[r, c]})
        del r, c
        num, cen = panel.codes.lut("public_support"), panel.codes.lut("censored")
        cats = pl.DataFrame({"cat": np.arange(len(num), dtype=np.uint8), "num": num.astype(np.int8), "cen": cen.astype(np.int8)})
        pp_ = pl.DataFrame({"row": tight.rows.astype(np.int32), "index_week": parts["index_week"].to_numpy().astype(str)})
        f = lambda: polars_dependency(long, cats, pp_, panel.weeks.first, 1, 52)  # noqa: E731
        tpl = float("inf")
        tpk = float("inf")
        for _ in range(max(2, args.repeat // 2)):
            tpl = min(tpl, best_of(f, 1)[0])
            tpk = min(tpk, best_of(lambda: B.benefit_dependency(panel, parts, (1, 52)), 1)[0])
        got = f()
        ref = B.benefit_dependency(panel, parts, (1, 52)).to_numpy()
        pl_peak = traced_peak(f)
        agree = bool(np.array_equal(got, ref, equal_nan=True))
        rows.append({"metric": f"benefit_dependency [1,52]: polars {pl.__version__} (long frame: join/filter/group_by)",
                     "package s": tpk, "package peak GiB": float("nan"), "numpy s": tpl, "numpy peak GiB": pl_peak,
                     "ratio": tpk / tpl, "identical": agree})
        rec.add("benefit_dependency_polars", "benefit_dependency [1,52] against polars", sizes,
                ours(tpk), [peer("polars (long frame: join/filter/group_by)", tpl, dist="polars", agree=agree,
                                 max_abs_diff=max_abs_diff(got, ref), peak_gib=pl_peak,
                                 peak_kind="tracemalloc (polars' own allocations are not traced)")])
        print(f"polars {pl.__version__}: {tpl:.3f} s (peak traced {pl_peak:.3f} GiB; polars' own allocations are not "
              f"traced); package {tpk:.3f} s; polars / package {tpl / tpk:.1f}; identical {agree}", flush=True)
        del long

    # pandas baseline on the first pandas_n persons
    if args.pandas_n:
        pn = min(args.pandas_n, args.n)
        sub_rows = np.arange(pn)
        sub_parts = parts.iloc[:pn].copy()
        sub_panel = panel.take(sub_rows)
        sub_parts["idx"] = (B.parse_weeks(sub_parts["index_week"].to_numpy(), file="p") - panel.weeks.first).astype(np.int32)
        cl = panel.codes
        catsd = pd.DataFrame({"cat": np.arange(cl.n_categories, dtype=np.uint8),
                              "public": cl.lut("public_support").astype(bool), "censored": cl.lut("censored").astype(bool)})
        longd = pandas_long(panel, sub_rows)
        sec_np, dep_np = best_of(lambda: B.benefit_dependency(sub_panel, sub_parts, (1, 52)), args.repeat)
        sec_pd, dep_pd = best_of(lambda: pandas_dependency(longd, sub_parts, catsd, 1, 52, args.weeks), 1)
        pk_pd = traced_peak(lambda: pandas_dependency(longd, sub_parts, catsd, 1, 52, args.weeks))
        agree = bool(np.allclose(dep_np.to_numpy(), dep_pd.reindex(dep_np.index).to_numpy(), equal_nan=True))
        rows.append({"metric": f"benefit_dependency [1,52], {pn:,} persons: pandas {pd.__version__} merge/groupby",
                     "package s": sec_np, "package peak GiB": float("nan"), "numpy s": sec_pd, "numpy peak GiB": pk_pd,
                     "ratio": sec_np / sec_pd, "identical": agree})
        rec.add("benefit_dependency_pandas", f"benefit_dependency [1,52] against pandas, {pn:,} persons",
                {"persons": pn, "weeks": args.weeks}, ours(sec_np),
                [peer("pandas merge/filter/groupby", sec_pd, dist="pandas", agree=agree, peak_gib=pk_pd,
                      max_abs_diff=max_abs_diff(dep_np.to_numpy(), dep_pd.reindex(dep_np.index).to_numpy()))])
        print(f"pandas {pd.__version__} merge/groupby at {pn:,}: {sec_pd:.2f} s ({pk_pd:.2f} GiB); package {sec_np:.3f} s; "
              f"pandas / package {sec_pd / sec_np:.0f}; agree {agree}",
              flush=True)
        del longd

    if not args.no_stream:
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            f = write_register(panel, d / "wide.parquet", "wide", row_group_size=args.stream_block)
            parts[["index_week", "group"]].to_parquet(d / "parts.parquet")
            np.save(d / "ref.npy", B.benefit_dependency(panel, parts, (1, 52)).to_numpy())
            out = subprocess.run([sys.executable, "-c", STREAM_CHILD, str(f), str(d / "parts.parquet"),
                                  str(args.stream_block), str(d / "ref.npy")], capture_output=True, text=True, check=True)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            rec.add("benefit_dependency_duckdb_stream", f"benefit_dependency [1,52] streamed from wide Parquet through "
                    f"DuckDB in blocks of {args.stream_block:,}", sizes,
                    ours(res["seconds"], (res["peak_rss_kib"] - res["base_rss_kib"]) / 1024 ** 2,
                         "peak RSS rise of the streaming process", duckdb=version("duckdb")),
                    [peer("benefit_dependency in memory (the reference)", None, dist="evaluation",
                          agree=res["identical"])])
            print(f"streamed (DuckDB wide Parquet, blocks of {args.stream_block:,}): {res['seconds']:.1f} s, peak RSS rise "
                  f"{(res['peak_rss_kib'] - res['base_rss_kib']) / 1024 ** 2:.2f} GiB (peak {res['peak_rss_kib'] / 1024 ** 2:.2f}"
                  f" GiB incl. interpreter), identical {res['identical']}", flush=True)

    table = pd.DataFrame(rows)
    for c in ("package s", "numpy s", "package peak GiB", "numpy peak GiB", "ratio"):
        table[c] = table[c].round(3)
    print()
    print("(for the peer and baseline rows the 'numpy' columns hold the peer's time and peak; ratio = package / other)")
    print(table.to_markdown(index=False))
    rec.finish(args.json)


if __name__ == "__main__":
    main()
