"""Machine-readable results of the speed benchmarks (``--json PATH``), read by ``tools/speed_table.py``.

Each benchmark keeps its own printed output and, in addition, records every comparison it makes:

    rec = Recorder("bench_twfe", args)                     # machine info, load average at start
    rec.add("static_balanced", "TWFE, balanced", {"persons": 100_000, "weeks": 104},
            ours(0.84, 1.2, peak_kind="process VmHWM"),
            [peer("pyfixest", 9.9, dist="pyfixest", agree=True, max_abs_diff=3e-16)])
    rec.finish(args.json)                                  # prints the comparisons; writes the JSON if a path was given

A comparison's ``ratio`` is always **our time / the peer's time** (below 1: we are faster); the
printed summary also shows the peer's time over ours where that reads better. A peer's ``version``
comes from ``importlib.metadata`` (``dist``) or is given (``version``) for a baseline that is not a
distribution (a kernel written in the benchmark: the numpy version it runs on).

The JSON is written only when ``--json PATH`` is given: the smoke runs documented in every
benchmark would otherwise overwrite the committed full-size results that README's table is
generated from.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

SCHEMA = 1


def version(dist: str) -> str:
    """Installed version of a distribution, or ``"absent"``."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "absent"


def _num(x):
    """JSON-safe float (NaN/inf -> None)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def ours(seconds: float, peak_gib: float | None = None, peak_kind: str | None = None, **extra) -> dict:
    """The package's side of a comparison: best time, peak memory and what the peak measures."""
    return {"seconds": _num(seconds), "peak_gib": _num(peak_gib), "peak_kind": peak_kind, **_clean(extra)}


def peer(name: str, seconds: float | None, *, dist: str | None = None, version_: str | None = None,
         agree: bool | None = None, max_abs_diff: float | None = None, peak_gib: float | None = None,
         **extra) -> dict:
    """A peer or baseline: name, version (from ``dist`` via importlib.metadata, or ``version_``), time,
    whether the answers agreed and their largest absolute difference (None: not compared)."""
    if version_ is None:
        version_ = version(dist) if dist else None
    return {"name": name, "dist": dist, "version": version_, "seconds": _num(seconds), "peak_gib": _num(peak_gib),
            "agree": None if agree is None else bool(agree), "max_abs_diff": _num(max_abs_diff), **_clean(extra)}


def _clean(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, float):
            v = _num(v)
        elif hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalar
            v = v.item()
            v = _num(v) if isinstance(v, float) else v
        out[k] = v
    return out


def max_abs_diff(a, b) -> float:
    """Largest absolute difference of two numeric arrays (NaN in the same place counts as equal;
    NaN against a number counts as infinite)."""
    import numpy as np

    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        return float("inf")
    na, nb = np.isnan(a), np.isnan(b)
    if (na != nb).any():
        return float("inf")
    if na.all():
        return 0.0
    return float(np.max(np.abs(a[~na] - b[~na])))


def machine() -> dict:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


class Recorder:
    def __init__(self, benchmark: str, args=None):
        self.benchmark = benchmark
        self.machine = machine()
        self.command = "python " + " ".join(["benchmarks/" + Path(sys.argv[0]).name, *sys.argv[1:]])
        self.args = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()} if args is not None else {}
        self.comparisons: list[dict] = []

    def add(self, key: str, task: str, sizes: dict, ours_: dict, peers: list[dict] = (), **extra) -> dict:
        if any(c["key"] == key for c in self.comparisons):
            raise ValueError(f"comparison {key!r} recorded twice")
        peers = [dict(p) for p in peers]
        for p in peers:
            p["ratio"] = (ours_["seconds"] / p["seconds"]
                          if ours_.get("seconds") is not None and p.get("seconds") else None)
        c = {"key": key, "task": task, "sizes": _clean(sizes), "ours": ours_, "peers": peers, **_clean(extra)}
        self.comparisons.append(c)
        return c

    def summary_lines(self) -> list[str]:
        lines = []
        for c in self.comparisons:
            o = c["ours"]
            head = f"{c['task']}: ours {o['seconds']:.3f} s" if o["seconds"] is not None else f"{c['task']}:"
            if o.get("peak_gib") is not None:
                head += f" ({o['peak_gib']:.3f} GiB)"
            parts = []
            for p in c["peers"]:
                v = "" if not p.get("version") else (f" [{p['dist']} {p['version']}]" if p.get("dist")
                                                      else f" [{p['version']}]")
                s = f"{p['name']}{v} {p['seconds']:.3f} s" if p["seconds"] is not None else f"{p['name']}{v}"
                if p["ratio"] is not None:
                    s += f", ours/peer {p['ratio']:.2f} (peer/ours {1 / p['ratio']:.1f})"
                if p["agree"] is not None:
                    s += f", agree {'yes' if p['agree'] else 'NO'}"
                if p["max_abs_diff"] is not None:
                    s += f" (max |diff| {p['max_abs_diff']:.1e})"
                parts.append(s)
            lines.append(head + ("; " + "; ".join(parts) if parts else ""))
        return lines

    def finish(self, path: str | Path | None) -> None:
        """Print every comparison (ratio, peer versions, agreement); write the JSON if ``path`` is given."""
        print()
        print(f"comparisons ({self.benchmark}; ratio = our time / peer time):")
        for line in self.summary_lines():
            print("  " + line)
        if path is None:
            return
        doc = {
            "schema": SCHEMA,
            "benchmark": self.benchmark,
            "command": self.command,
            "args": self.args,
            "machine": {**self.machine, "load_average_end": [round(x, 2) for x in os.getloadavg()]},
            "versions": {d: version(d) for d in ("evaluation", "numpy", "pandas")},
            "comparisons": self.comparisons,
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
        print(f"results written to {path}")


def add_json_option(ap) -> None:
    ap.add_argument("--json", type=Path, default=None, metavar="PATH",
                    help="also write the comparisons as JSON (README's speed table: benchmarks/results/<name>.json, "
                         "then python tools/speed_table.py)")
