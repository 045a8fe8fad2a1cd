"""A register several times larger than a hard memory cap, streamed in person blocks (not a test).

1. **Generate** a wide DREAM-style Parquet register of ``--persons`` × ``--weeks`` block by block:
   :func:`evaluation.synthetic.registers.simulate_registers` is called on chunks of
   ``--chunk`` persons with seeds ``seed, seed+1, …`` (persons renumbered ``p00000000`` …), and
   each chunk is appended to one Parquet file in row groups of ``--block`` persons (the same
   schema as :func:`evaluation.data.registers.write_register`: ``person`` string + one nullable
   ``int16`` column per week ``y_YYWW``). While a chunk is in memory the two metrics are
   computed on it **in memory** (the plain ``benefit_dependency(panel, participants)`` call):
   that is the reference for every person. The generator never holds more than one chunk.
2. **Stream under a hard cap**: a subprocess sets ``RLIMIT_AS`` (address space; kernel-enforced,
   every allocation beyond it fails) to ``--cap-gib`` *before importing anything*, then runs
   :func:`~evaluation.metrics.benefits.compute_streaming` over
   :func:`~evaluation.data.registers.iter_panel_blocks` for benefit dependency in weeks 1–52 and the
   long-term-unemployment share in weeks 1–52 (two passes over the file), for **all** persons.
   Peak RSS is the kernel's ``VmHWM``; ``VmPeak`` (peak address space) is ≤ the cap by
   construction.
3. **Compare**: the streamed answers must be identical (``np.array_equal``, NaN = NaN) to the
   in-memory reference for all persons, and to :func:`~evaluation.data.registers.read_register`
   (the in-memory reader: whole file → pandas wide frame → Panel) on a ``--subset``-person file
   written by ``write_register``, run in a separate uncapped subprocess (its peak RSS is
   reported too). Finally the in-memory reader is run on the big file **under the same cap**
   to show the cap bites (it is expected to fail).
4. Print a table.

The big file goes to ``--dir`` (default a fresh directory under /tmp) and is deleted at the end
unless ``--keep``.

    python benchmarks/bench_streaming.py                                      # 4M × 780 weeks, cap 1.5 GiB, ~15 min
    python benchmarks/bench_streaming.py --persons 200000 --weeks 260 --chunk 100000 --subset 50000  # smoke, ~1 min
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evaluation.metrics import benefits as B
from evaluation.data.registers import Panel, write_register
from evaluation.synthetic.registers import simulate_registers

from _record import Recorder, add_json_option, max_abs_diff, ours, peer, version

GiB = 1024 ** 3
REPO = Path(__file__).resolve().parents[1]

# Both metrics, as (name, function, keyword arguments); each is per person.
METRICS = [
    ("benefit_dependency [1,52]", "benefit_dependency", {"window": (1, 52)}),
    ("long_term_unemployment_share [1,52]", "long_term_unemployment_share", {"window": (1, 52)}),
]

# --------------------------------------------------------------------------- child processes
# The cap is set first thing, before numpy/pandas/pyarrow/DuckDB are imported, so everything
# the process ever maps counts against it.
CHILD_PRELUDE = r"""
import json, os, resource, sys, time
cap = int(os.environ["BENCH_CAP_BYTES"])
if cap > 0:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
def status():
    d = {}
    for line in open("/proc/self/status"):
        k = line.split(":")[0]
        if k in ("VmHWM", "VmPeak", "VmRSS"):
            d[k] = int(line.split()[1]) * 1024
    return d
base = status()
import numpy as np, pandas as pd
from evaluation.metrics import benefits as B
from evaluation.data.registers import iter_panel_blocks, read_register
args = json.loads(sys.argv[1])
out = {"cap": cap, "base": base, "after_imports": status()}
"""

STREAM_CHILD = CHILD_PRELUDE + r"""
import pyarrow.parquet as pq
# one contiguous Arrow string index: pd.read_parquet gives one chunk per row group, and taking 25k rows
# from a chunked index concatenates all chunks first (a 36 MB copy of 4M ids per block)
parts = pq.read_table(args["parts"]).combine_chunks().to_pandas().set_index("person")
out["after_participants"] = status()
for name, fn, kw in args["metrics"]:
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()}
    t = time.perf_counter()
    blocks = iter_panel_blocks(args["path"], "wide", block_persons=args["block"], memory_limit=args["duck_limit"])
    s = B.compute_streaming(getattr(B, fn), blocks, parts, **kw)
    el = time.perf_counter() - t
    np.save(os.path.join(args["out"], f"stream_{fn}.npy"), s.to_numpy(dtype=float))
    out[name] = {"seconds": el, **status(), "n": int(len(s))}
    del s
print(json.dumps(out))
"""

INMEM_CHILD = CHILD_PRELUDE + r"""
t = time.perf_counter()
stage = "read_register"
try:
    panel = read_register(args["path"], "wide")
    out["read_seconds"] = time.perf_counter() - t
    out["after_read"] = status()
    parts = pd.read_parquet(args["parts"]).set_index("person")
    for name, fn, kw in args["metrics"]:
        stage = name
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()}
        t1 = time.perf_counter()
        s = getattr(B, fn)(panel, parts, **kw)
        out[name] = {"seconds": time.perf_counter() - t1, **status()}
        np.save(os.path.join(args["out"], f"inmem_{fn}.npy"), s.to_numpy(dtype=float))
except BaseException as exc:  # under the cap: MemoryError, or DuckDB's out-of-memory wrapped by the reader
    out["failed"] = f"{type(exc).__name__} in {stage}: {str(exc).splitlines()[0][:200]}"
out["seconds"] = time.perf_counter() - t
out["end"] = status()
print(json.dumps(out))
"""


def run_child(code: str, cap_bytes: int, **args) -> dict:
    env = dict(os.environ)
    env["BENCH_CAP_BYTES"] = str(int(cap_bytes))
    env["MALLOC_ARENA_MAX"] = "2"          # glibc reserves 64 MiB of address space per arena otherwise
    env["OPENBLAS_NUM_THREADS"] = "1"      # OpenBLAS reserves buffers per thread
    env["ARROW_DEFAULT_MEMORY_POOL"] = "system"  # glibc malloc: no allocator-reserved address space
    
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    res = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(f"child failed (rc {res.returncode}):\n{res.stderr[-4000:]}")
    # the result is the last line's JSON object: DuckDB may draw a progress bar (no newline) on stdout before it
    for line in reversed(res.stdout.strip().splitlines()):
        if "{" in line:
            return json.loads(line[line.index("{"):])
    raise RuntimeError(f"child printed no result:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")


# --------------------------------------------------------------------------- generator
def wide_schema(weeks) -> pa.Schema:
    return pa.schema([("person", pa.string())] + [(c, pa.int16()) for c in weeks.dream_columns()])


def append_wide(writer: pq.ParquetWriter, panel: Panel, schema: pa.Schema, row_group_size: int) -> None:
    """Append ``panel`` as wide row groups (same encoding as ``write_register(..., "wide")`` to Parquet)."""
    lut = np.concatenate([[0], panel.codes.codes, [-1]]).astype(np.int16)
    for a in range(0, len(panel), row_group_size):
        b = min(len(panel), a + row_group_size)
        raw = lut[panel.matrix[a:b]]
        arrays = [pa.array(np.asarray(panel.persons[a:b], dtype=object), type=pa.string())]
        arrays += [pa.array(raw[:, j], mask=raw[:, j] == 0, type=pa.int16()) for j in range(raw.shape[1])]
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=row_group_size)


def generate(args, d: Path) -> dict:
    n, W = args.persons, args.weeks
    ref = {fn: np.empty(n, dtype=float) for _, fn, _ in METRICS}
    ids_all, weeks_all, groups_all = [], [], []
    path = d / "register_wide.parquet"
    subset_path = d / "subset_wide.parquet"
    writer = schema = None
    t0 = time.perf_counter()
    t_ref = 0.0
    for c, off in enumerate(range(0, n, args.chunk)):
        m = min(args.chunk, n - off)
        sim = simulate_registers(m, n_weeks=W, first_week=args.first_week, enrolment=(60, W - 60),
                                 potential_outcomes=False, seed=args.seed + c)
        ids = pd.Index([f"p{off + i:08d}" for i in range(m)], name="person")
        panel = Panel(sim.panel.matrix, ids, sim.panel.weeks, sim.panel.codes)
        parts = sim.participants[["index_week", "group"]].set_axis(ids, axis=0)
        t = time.perf_counter()
        for _, fn, kw in METRICS:                     # in-memory reference on the chunk
            ref[fn][off:off + m] = getattr(B, fn)(panel, parts, **kw).to_numpy(dtype=float)
        t_ref += time.perf_counter() - t
        if writer is None:
            schema = wide_schema(panel.weeks)
            writer = pq.ParquetWriter(path, schema)
        append_wide(writer, panel, schema, args.block)
        if off == 0 and args.subset:
            k = min(args.subset, m)
            write_register(panel.take(np.arange(k)), subset_path, "wide", row_group_size=args.block)
            parts.iloc[:k].reset_index().to_parquet(d / "subset_participants.parquet", index=False)
        ids_all.append(pa.array(np.asarray(ids, dtype=object), type=pa.string()))
        weeks_all.append(pa.array(parts["index_week"].to_numpy(dtype=object), type=pa.string()))
        groups_all.append(pa.array(parts["group"].to_numpy(dtype=object), type=pa.string()))
        del sim, panel, parts
        print(f"  chunk {c}: persons {off:,}–{off + m - 1:,} written ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    writer.close()
    pq.write_table(pa.table({"person": pa.chunked_array(ids_all),
                             "index_week": pa.chunked_array(weeks_all).dictionary_encode(),
                             "group": pa.chunked_array(groups_all).dictionary_encode()}), d / "participants.parquet")
    for fn, arr in ref.items():
        np.save(d / f"ref_{fn}.npy", arr)
    return {"path": path, "subset_path": subset_path, "seconds": time.perf_counter() - t0, "ref_seconds": t_ref}


# --------------------------------------------------------------------------- record
def record(rec, args, s, sub, capped, identical, diff_ref, size, cap) -> None:
    """One comparison per streamed metric: the in-memory reference (same package, chunk by chunk), the
    in-memory reader on the subset (uncapped) and the in-memory reader on the big file under the cap."""
    n, W = args.persons, args.weeks
    k = min(args.subset, args.chunk, n)
    sizes = {"persons": n, "weeks": W, "block": args.block, "cap_gib": cap / GiB, "parquet_gib": size / GiB,
             "dense_uint8_gib": n * W / GiB, "pandas_wide_float64_gib": n * W * 8 / GiB}
    versions = {"duckdb": version("duckdb"), "pyarrow": pa.__version__}
    for name, fn, _ in METRICS:
        r = s[name]
        peers = [peer(f"in-memory {fn} on each generated chunk of {args.chunk:,} persons (the reference)", None,
                      dist="evaluation", agree=identical[name], max_abs_diff=diff_ref[name])]
        if sub is not None:
            peers.append(peer(f"read_register in memory, uncapped, first {k:,} persons", sub["read_seconds"] +
                              sub[name]["seconds"], dist="evaluation", agree=sub[name]["identical"],
                              max_abs_diff=sub[name]["max_abs_diff"], peak_gib=sub["end"]["VmHWM"] / GiB, persons=k))
        if capped is not None:
            peers.append(peer("read_register in memory on the big file under the same cap", None, dist="evaluation",
                              failed=capped.get("failed"), after_s=capped["seconds"],
                              peak_gib=capped["end"]["VmHWM"] / GiB))
        rec.add(f"stream_{fn}", f"{name} streamed under RLIMIT_AS {args.cap_gib:g} GiB", sizes,
                ours(r["seconds"], r["VmHWM"] / GiB, "process peak RSS (VmHWM) under the cap",
                     peak_address_space_gib=r["VmPeak"] / GiB), peers, versions=versions)


# --------------------------------------------------------------------------- main
def gib(x) -> str:
    return f"{x / GiB:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--persons", type=int, default=4_000_000)
    ap.add_argument("--weeks", type=int, default=780, help="register weeks (780 = 15 years)")
    ap.add_argument("--first-week", default="2010-W01")
    ap.add_argument("--chunk", type=int, default=200_000, help="persons simulated at a time by the generator")
    ap.add_argument("--block", type=int, default=10_000, help="persons per Parquet row group and streamed block")
    ap.add_argument("--cap-gib", type=float, default=1.5, help="RLIMIT_AS of the streaming subprocess")
    ap.add_argument("--duck-limit", default="256MB", help="DuckDB memory_limit inside iter_panel_blocks")
    ap.add_argument("--subset", type=int, default=200_000, help="persons for the uncapped read_register check")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", default=None, help="working directory (default: new directory under /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--skip-capped-inmemory", action="store_true",
                    help="do not run read_register on the big file under the cap")
    add_json_option(ap)
    args = ap.parse_args()
    rec = Recorder("bench_streaming", args)
    if args.chunk % args.block:
        ap.error("--chunk must be a multiple of --block (row groups = person blocks)")
    cap = int(args.cap_gib * GiB)
    d = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench_streaming_", dir="/tmp"))
    d.mkdir(parents=True, exist_ok=True)
    try:
        n, W = args.persons, args.weeks
        print(f"generating {n:,} persons × {W} weeks in chunks of {args.chunk:,} into {d}", file=sys.stderr)
        g = generate(args, d)
        size = g["path"].stat().st_size
        md = pq.ParquetFile(g["path"]).metadata
        print(f"generated in {g['seconds']:.0f} s (of which in-memory reference metrics {g['ref_seconds']:.0f} s); "
              f"{size / GiB:.2f} GiB on disk, {md.num_row_groups} row groups", file=sys.stderr)
        metrics = [[name, fn, kw] for name, fn, kw in METRICS]

        # 2. stream under the cap
        print(f"streaming under RLIMIT_AS = {args.cap_gib:g} GiB …", file=sys.stderr)
        s = run_child(STREAM_CHILD, cap, path=str(g["path"]), parts=str(d / "participants.parquet"), block=args.block,
                      duck_limit=args.duck_limit, metrics=metrics, out=str(d))
        print(json.dumps({"stream": s}), file=sys.stderr, flush=True)

        # 3a. identical to the in-memory reference, every person
        identical, diff_ref = {}, {}
        for name, fn, _ in METRICS:
            a, b = np.load(d / f"stream_{fn}.npy"), np.load(d / f"ref_{fn}.npy")
            identical[name] = bool(a.shape == b.shape and np.array_equal(a, b, equal_nan=True))
            diff_ref[name] = max_abs_diff(a, b)

        # 3b. read_register in memory (uncapped) on the subset file
        sub = None
        if args.subset:
            print("read_register in memory on the subset (uncapped) …", file=sys.stderr)
            sub = run_child(INMEM_CHILD, 0, path=str(g["subset_path"]), parts=str(d / "subset_participants.parquet"),
                            metrics=metrics, out=str(d))
            if "failed" in sub:
                raise RuntimeError(f"read_register on the subset failed: {sub['failed']}")
            k = min(args.subset, args.chunk, n)
            for name, fn, _ in METRICS:
                a = np.load(d / f"stream_{fn}.npy")[:k]
                b = np.load(d / f"inmem_{fn}.npy")
                sub[name]["identical"] = bool(a.shape == b.shape and np.array_equal(a, b, equal_nan=True))
                sub[name]["max_abs_diff"] = max_abs_diff(a, b)

        # 3c. the in-memory reader on the big file under the same cap
        capped = None
        if not args.skip_capped_inmemory:
            print(f"read_register in memory on the big file under the same cap …", file=sys.stderr)
            capped = run_child(INMEM_CHILD, cap, path=str(g["path"]), parts=str(d / "participants.parquet"),
                               metrics=metrics, out=str(d))

        # 4. table
        dense = n * W                      # uint8 category matrix
        wide64 = n * W * 8                 # pandas wide frame, one float64 column per week
        rows = []
        for name, _, _ in METRICS:
            r = s[name]
            rows.append({
                "metric (all persons, streamed)": name,
                "persons × weeks": f"{n:,} × {W}",
                "Parquet GiB": gib(size),
                "dense uint8 GiB": gib(dense),
                "pandas wide float64 GiB": gib(wide64),
                "cap GiB (RLIMIT_AS)": gib(cap),
                "peak RSS GiB": gib(r["VmHWM"]),
                "peak addr. space GiB": gib(r["VmPeak"]),
                "seconds": f"{r['seconds']:.1f}",
                "identical to in-memory": identical[name],
            })
        table = pd.DataFrame(rows)
        print(table.to_markdown(index=False) if hasattr(table, "to_markdown") else table.to_string(index=False))
        print(f"\nblocks of {args.block:,} persons ({args.block * W / 2 ** 20:.0f} MiB as uint8); DuckDB memory_limit "
              f"{args.duck_limit}; {md.num_row_groups} row groups.")
        print(f"dense uint8 register = {dense / cap:.1f}× the cap; pandas wide float64 = {wide64 / cap:.1f}× the cap; "
              f"peak RSS = {s[METRICS[-1][0]]['VmHWM'] / GiB:.2f} GiB "
              f"(after imports {s['after_imports']['VmHWM'] / GiB:.2f}, after loading {n:,} participants "
              f"{s['after_participants']['VmHWM'] / GiB:.2f}).")
        if sub is not None:
            k = min(args.subset, args.chunk, n)
            print(f"read_register in memory, uncapped, first {k:,} persons: read {sub['read_seconds']:.1f} s, "
                  f"peak RSS {sub['end']['VmHWM'] / GiB:.2f} GiB (≈ {sub['end']['VmHWM'] / GiB * n / k:.0f} GiB if scaled "
                  f"to {n:,} persons); identical to streamed: "
                  + ", ".join(f"{name}: {sub[name]['identical']}" for name, _, _ in METRICS))
        if capped is not None:
            if "failed" in capped:
                print(f"read_register in memory on the big file under the same cap: failed after "
                      f"{capped['seconds']:.1f} s with {capped['failed']} (peak RSS {capped['end']['VmHWM'] / GiB:.2f} GiB)")
            else:
                print("read_register in memory on the big file under the same cap: did NOT fail "
                      f"(peak RSS {capped['end']['VmHWM'] / GiB:.2f} GiB)")
        print(json.dumps({"stream": s, "subset_inmemory": sub, "capped_inmemory": capped}), file=sys.stderr)
        record(rec, args, s, sub, capped, identical, diff_ref, size, cap)
        rec.finish(args.json)
        ok = all(identical.values()) and (sub is None or all(sub[nm]["identical"] for nm, _, _ in METRICS))
        if not ok:
            raise SystemExit("streamed answers differ from the in-memory path")
    finally:
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
