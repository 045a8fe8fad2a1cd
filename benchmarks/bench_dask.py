"""The Dask path against the in-process path, with its per-task overhead (not a test).

Generates N persons × 260 weeks, writes them as person-partitioned wide Parquet files
(:func:`~evaluation.metrics.benefits.partition_register`), starts a local cluster of two worker
processes with one thread each, and measures in one run:

* in process: reading the same partition files (the same reader the workers use) and
  ``benefit_dependency`` on the panel in memory (best of ``--rounds``);
* on Dask, ``compute_on_dask(benefit_dependency, client, participants, path=<directory>)``:
  the first call of a study (the workers read their own partition files and keep them; the
  participants are sent once to every worker) and later calls (best of ``--rounds``, interleaved
  with the in-process calls), and a second metric on the resident partitions;
* the in-process time both while the cluster runs (interleaved) and before it started (the cluster's
  idle processes slow the in-process call on a small machine), and the peak memory of every worker
  and of this process;
* the per-task overhead: a round trip of one empty task, and of one task per worker that touches
  each resident partition (``len``), so what remains of a call is the metric's own work;
* what crosses the network per call (the size of the results) and whether any task moved
  register data between workers (task-stream ``transfer`` records).

Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``; that freezes glibc's mmap
threshold, and numpy temporaries above 128 KiB then cost an mmap, page faults and an munmap each.
The benchmark runs the cluster both ways: with Dask's default environment and with that variable
unset (``dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})``).

    python benchmarks/bench_dask.py --n 1000000
    python benchmarks/bench_dask.py --n 50000 --rounds 2      # smoke run
"""

from __future__ import annotations

import argparse
import os
import pickle
import tempfile
import time
from importlib import metadata
from pathlib import Path

import pandas as pd

from _record import Recorder, add_json_option, max_abs_diff, ours, peer


def best(fn, rounds):
    b, out = float("inf"), None
    for _ in range(rounds):
        t = time.perf_counter()
        out = fn()
        b = min(b, time.perf_counter() - t)
    return b, out


def _vmhwm_gib() -> float:
    """This process's peak resident memory (VmHWM) in GiB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def run_cluster(recorder, rec_key, label, trim, files_dir, panel, parts, rounds, ref, inproc, t_idle, t_read):
    import dask
    import distributed

    from evaluation.metrics import benefits as B

    cfg = {} if trim else {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    # the nanny writes its pre-spawn environment into this process's os.environ (and an os.environ
    # value overrides the config), so a previous cluster's setting must be removed first
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set(cfg):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = distributed.Client(cluster)
    try:
        env = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
        rd = {"pseudonymise": False}
        call = lambda: B.compute_on_dask(B.benefit_dependency, client, parts, path=files_dir, reader=rd, window=(1, 52))  # noqa: E731
        t = time.perf_counter()
        with distributed.get_task_stream(client) as ts_first:
            first = call()
        t_first = time.perf_counter() - t
        t_dask = t_in = float("inf")
        transfers = 0
        moved: list[str] = []
        for _ in range(rounds):  # interleaved with the in-process call
            with distributed.get_task_stream(client) as ts:
                d, got = best(call, 1)
            t_dask = min(t_dask, d)
            for rec in ts.data:
                for s in rec["startstops"]:
                    if s["action"] == "transfer":
                        transfers += 1
                        moved.append(f"{rec['key'].split('-')[0]} from {s.get('source', '?')} to {rec.get('worker', '?')} "
                                     f"({s['stop'] - s['start']:.3f} s)")
            t_in = min(t_in, best(inproc, 1)[0])
        identical = bool(got.equals(ref)) and bool(first.equals(ref))
        diff = max(max_abs_diff(got.to_numpy(), ref.to_numpy()), max_abs_diff(first.to_numpy(), ref.to_numpy()))
        t_second, st = best(lambda: B.compute_on_dask(B.status_at_month, client, parts, path=files_dir, reader=rd,
                                                      months=(3, 6)), rounds)
        st_ok = st.astype(str).equals(B.status_at_month(panel, parts, (3, 6)).astype(str))
        # per-task overhead
        key = next(k for k, v in B._DASK_RESIDENT.items() if v[0]() is client and isinstance(k[1], tuple))
        futs = B._DASK_RESIDENT[key][2]
        workers = sorted(client.scheduler_info()["workers"])
        t_empty, _ = best(lambda: client.gather(client.submit(lambda: None, pure=False)), max(rounds, 5))
        touch = lambda: client.gather([client.submit(lambda ps: [len(p) for p in ps], [futs[k] for k in range(w, len(futs), len(workers))],  # noqa: E731
                                                     pure=False, workers=[workers[w]]) for w in range(len(workers))])
        t_touch, _ = best(touch, max(rounds, 5))
        result_bytes = len(parts) * 8  # float64 values; positions (int64) only on the first call
        reads = [s["stop"] - s["start"] for rec in ts_first.data if rec["key"].startswith("_read_partition")
                 for s in rec["startstops"] if s["action"] == "compute"]
        peaks = client.run(_vmhwm_gib)  # every worker's peak resident memory
    finally:
        B.dask_release(client)
        client.close()
        cluster.close()
    print(f"[{label}] worker MALLOC_TRIM_THRESHOLD_={list(env.values())[0]}; first call (workers read their partitions, "
          f"participants sent once) {t_first:.2f} s, partition reads {min(reads):.2f}-{max(reads):.2f} s each; later calls "
          f"{t_dask:.3f} s vs in process {t_in:.3f} s -> ratio {t_dask / t_in:.2f}; identical {identical}; "
          f"status_at_month on the resident partitions {t_second:.3f} s (identical {st_ok}); empty task round trip "
          f"{t_empty * 1e3:.1f} ms; one task per worker touching its partitions {t_touch * 1e3:.1f} ms; results "
          f"{result_bytes / 2**20:.1f} MiB per call; dependency transfers between workers during the timed calls "
          f"{transfers}{': ' + '; '.join(moved) if moved else ''}; in process with the cluster idle (before it started) "
          f"{t_idle:.3f} s -> ratio {t_dask / t_idle:.2f}; first call vs in-process read + compute "
          f"{t_first / (t_read + t_idle):.2f}; worker peak memory "
          f"{', '.join(f'{v:.2f}' for v in peaks.values())} GiB", flush=True)
    recorder.add(rec_key, f"benefit_dependency [1,52] on 2 local Dask workers ({label})",
            {"persons": len(panel), "weeks": panel.shape[1], "partitions": len(futs), "workers": len(workers)},
            ours(t_dask, max(peaks.values()), "largest worker peak RSS (VmHWM)", first_call_s=t_first,
                 partition_read_s=[min(reads), max(reads)], status_at_month_s=t_second, status_at_month_identical=st_ok,
                 empty_task_ms=t_empty * 1e3, per_worker_touch_ms=t_touch * 1e3, transfers=transfers,
                 worker_malloc_trim_threshold=list(env.values())[0], in_process_read_s=t_read,
                 dask=metadata.version("dask"), distributed=metadata.version("distributed")),
            [peer("in process, before the cluster started", t_idle, dist="evaluation", agree=identical, max_abs_diff=diff),
             peer("in process, interleaved with the Dask calls", t_in, dist="evaluation", agree=identical,
                  max_abs_diff=diff)])
    return {"cluster": label, "first call s": t_first, "partition read s (each)": max(reads), "call s": t_dask,
            "in-process s": t_in, "ratio": t_dask / t_in, "in-process s (cluster idle)": t_idle,
            "ratio (cluster idle)": t_dask / t_idle, "first / (read + compute)": t_first / (t_read + t_idle),
            "worker peak GiB (max)": max(peaks.values()), "identical": identical, "empty task ms": t_empty * 1e3,
            "per-worker touch ms": t_touch * 1e3, "result MiB": result_bytes / 2**20, "transfers": transfers}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--weeks", type=int, default=260)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cache", type=Path, default=None, help="pickle of (panel, participants) to reuse")
    add_json_option(ap)
    a = ap.parse_args()
    rec = Recorder("bench_dask", a)

    from evaluation.metrics import benefits as B
    from evaluation.synthetic.registers import simulate_registers

    if a.cache and a.cache.exists():
        panel, parts = pickle.loads(a.cache.read_bytes())
    else:
        sim = simulate_registers(a.n, n_weeks=a.weeks, enrolment=(60, a.weeks - 60), potential_outcomes=False, seed=1)
        panel, parts = sim.panel, sim.participants
        if a.cache:
            a.cache.write_bytes(pickle.dumps((panel, parts), protocol=5))
    parts = parts.copy()
    parts.index = pd.Index(parts.index.to_numpy(), name="person")
    print(f"# {len(panel):,} persons x {panel.shape[1]} weeks; dask {metadata.version('dask')}, distributed "
          f"{metadata.version('distributed')}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        t = time.perf_counter()
        files = B.partition_register(panel, d, a.partitions)
        t_write = time.perf_counter() - t
        size = sum(f.stat().st_size for f in files)
        t_read, _ = best(lambda: [B._read_partition(str(f), None, {"pseudonymise": False}) for f in files], 1)
        inproc = lambda: B.benefit_dependency(panel, parts, (1, 52))  # noqa: E731
        inproc()
        t_in, ref = best(inproc, a.rounds)
        print(f"# {a.partitions} partition files, {size / 2**20:.0f} MiB, written in {t_write:.1f} s; read in process "
              f"{t_read:.2f} s; benefit_dependency in process {t_in:.3f} s", flush=True)
        rows = [run_cluster(rec, "dask_default_env", "dask default worker environment", True, d, panel, parts, a.rounds, ref, inproc, t_in, t_read),
                run_cluster(rec, "dask_trim_unset", "MALLOC_TRIM_THRESHOLD_ unset on the workers", False, d, panel, parts, a.rounds, ref, inproc,
                            t_in, t_read)]
    print(f"# peak memory of this (client, in-process) process {_vmhwm_gib():.2f} GiB")
    print()
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3g"))
    rec.finish(a.json)


if __name__ == "__main__":
    main()
