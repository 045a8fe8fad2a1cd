"""README's speed table, generated from the benchmarks' JSON results.

The speed benchmarks write their comparisons with ``--json benchmarks/results/<name>.json``
(``benchmarks/_record.py``); this tool reads those files and rewrites the table in README.md
between ``<!-- speed-table:start -->`` and ``<!-- speed-table:end -->``. No number in the table is
typed by hand: a new measurement replaces the old one, better or worse.

    python tools/speed_table.py            # rewrite README.md's table from benchmarks/results/
    python tools/speed_table.py --check    # exit 1 if README.md differs from what the results give

Errors (a missing results file or comparison, a README without the markers) exit 2 and name the
file. A ratio shown in the table is computed here from the two recorded times, never copied.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
START = "<!-- speed-table:start -->"
END = "<!-- speed-table:end -->"

# every file the table needs, with the command that makes it (as README's command list runs it)
REQUIRED = {
    "bench_metrics": "python benchmarks/bench_metrics.py --n 1000000 --repeat 5",
    "bench_streaming": "python benchmarks/bench_streaming.py --persons 4000000 --weeks 780 --chunk 200000 "
                       "--block 10000 --subset 200000 --cap-gib 1.5",
    "bench_dask": "python benchmarks/bench_dask.py --n 1000000",
    "bench_twfe": "python benchmarks/bench_twfe.py",
    "bench_cs": "python benchmarks/bench_cs.py",
    "bench_survival": "python benchmarks/bench_survival.py --n 1000000 --repeat 5",
    "bench_cs_covariates": "python benchmarks/bench_cs.py --persons 100000 --covariates reg,ipw,dr,dr_traditional",
    "bench_startup": "python benchmarks/bench_startup.py",
}
# used when present: the covariate comparison at a second size
OPTIONAL = {
    "bench_cs_covariates_25000": "python benchmarks/bench_cs.py --persons 25000 --covariates reg,ipw,dr,dr_traditional",
}


class SpeedTableError(Exception):
    """A results file or comparison the table needs is missing or malformed (exit 2)."""


# --------------------------------------------------------------------------- reading
class Results:
    """One benchmark's JSON: comparisons by key, with errors that name the file."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.doc = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SpeedTableError(f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from None
        if not isinstance(self.doc, dict) or not isinstance(self.doc.get("comparisons"), list):
            raise SpeedTableError(f"{path}: no 'comparisons' list (write it with the benchmark's --json option)")
        self.by_key = {c.get("key"): c for c in self.doc["comparisons"]}

    def __getitem__(self, key: str) -> dict:
        if key not in self.by_key:
            raise SpeedTableError(f"{self.path}: no comparison {key!r} (has: {', '.join(map(str, self.by_key)) or 'none'})")
        return self.by_key[key]

    def __contains__(self, key: str) -> bool:
        return key in self.by_key

    def ours(self, key: str, field: str = "seconds") -> float:
        v = self[key]["ours"].get(field)
        if v is None:
            raise SpeedTableError(f"{self.path}: comparison {key!r} has no ours.{field}")
        return v

    def peer(self, key: str, i: int = 0) -> dict:
        peers = self[key]["peers"]
        if len(peers) <= i:
            raise SpeedTableError(f"{self.path}: comparison {key!r} has no peer number {i + 1}")
        return peers[i]

    def peer_seconds(self, key: str, i: int = 0) -> float:
        p = self.peer(key, i)
        if p.get("seconds") is None:
            raise SpeedTableError(f"{self.path}: comparison {key!r}, peer {p.get('name')!r} has no seconds")
        return p["seconds"]

    def ratio(self, key: str, i: int = 0) -> float:
        """Our time / the peer's time, from the recorded times."""
        return ratio(self.ours(key), self.peer_seconds(key, i))


def ratio(ours: float, theirs: float) -> float:
    if not theirs:
        raise SpeedTableError(f"cannot form a ratio against a peer time of {theirs!r}")
    return ours / theirs


def load(results_dir: Path) -> dict[str, Results]:
    out = {}
    for name, command in REQUIRED.items():
        path = results_dir / f"{name}.json"
        if not path.exists():
            raise SpeedTableError(f"{path}: missing; make it with `{command} --json {_rel(path)}`")
        out[name] = Results(path)
    for name in OPTIONAL:
        path = results_dir / f"{name}.json"
        if path.exists():
            out[name] = Results(path)
    return out


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- formatting
def sec(x: float) -> str:
    """Seconds as the table writes them: two decimals below 1 s, one decimal above."""
    return f"{x:.2f} s" if x < 0.995 else f"{x:.1f} s"


def sec_range(xs) -> str:
    lo, hi = min(xs), max(xs)
    if sec(lo) == sec(hi):
        return sec(lo)
    return f"{sec(lo)[:-2]}–{sec(hi)}"


def num_range(xs, fmt: str) -> str:
    lo, hi = format(min(xs), fmt), format(max(xs), fmt)
    return lo if lo == hi else f"{lo}–{hi}"


def persons(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n:,}"


def version_of(p: dict) -> str:
    return f" {p['version']}" if p.get("version") else ""


def agreement(p: dict, identical: str = "identical") -> str:
    """'identical', 'agree to 1.2e-14', or a loud 'answers DIFFER' from a peer's record."""
    if p.get("agree") is None:
        return ""
    if not p["agree"]:
        d = p.get("max_abs_diff")
        return "answers DIFFER" + (f" (largest difference {d:.1e})" if d is not None else "")
    d = p.get("max_abs_diff")
    return identical if not d else f"agree to {d:.1e}"


def differ_note(peers, labels=None) -> str:
    """'; <peer>: answers DIFFER (…)' for every peer whose answers did not agree (labels: one per peer)."""
    labels = labels or [p["name"] for p in peers]
    bad = [(lab, p) for lab, p in zip(labels, peers) if p.get("agree") is False]
    return "; " + "; ".join(f"{lab}: {agreement(p)}" for lab, p in bad) if bad else ""


# --------------------------------------------------------------------------- rows
OTHER_WINDOW_METRICS = ("benefit_dependency_m52_m1", "self_support_week", "status_at_month", "self_support_spell",
                        "weeks_to_self_support", "long_term_unemployment_share", "long_sickness_spells",
                        "status_share_series")


def row_metrics(M: Results) -> list[list[str]]:
    bd = M["benefit_dependency_1_52"]
    n, w = bd["sizes"]["persons"], bd["sizes"]["weeks"]
    np_ = M.peer("benefit_dependency_1_52")
    pl = M.peer("benefit_dependency_polars")
    pdp = M.peer("benefit_dependency_pandas")
    pdn = M["benefit_dependency_pandas"]["sizes"]["persons"]
    rows = [[
        f"benefit dependency, {n:,} persons × {w} weeks, end to end from ISO-week strings",
        f"{sec(M.ours('benefit_dependency_1_52'))}, {M.ours('benefit_dependency_1_52', 'peak_gib'):.3f} GiB beyond the input",
        f"tight numpy kernel {sec(np_['seconds'])} (ratio {M.ratio('benefit_dependency_1_52'):.2f}); "
        f"polars{version_of(pl)} {sec(pl['seconds'])}; pandas{version_of(pdp)} merge/groupby {sec(pdp['seconds'])} and "
        f"{pdp['peak_gib']:.2f} GiB for {pdn:,} persons"
        + differ_note([np_, pl, pdp]),
    ]]
    others = [M[k] for k in OTHER_WINDOW_METRICS]
    rows.append([
        f"every other window metric (benefit dependency before the index week, spells, status, shares, LTU share), "
        f"{persons(n)} × {w}",
        f"{sec_range([c['ours']['seconds'] for c in others])}, ≤ {max(c['ours']['peak_gib'] for c in others):.2f} GiB",
        f"its tight numpy kernel: ratio {num_range([M.ratio(k) for k in OTHER_WINDOW_METRICS], '.2f')}"
        + differ_note([p for c in others for p in c["peers"]]),
    ])
    lt = M.peer("long_term_unemployment")
    rows.append([
        f"long-term unemployment for every person-week, {persons(n)} × {w}",
        f"{sec(M.ours('long_term_unemployment'))}, {M.ours('long_term_unemployment', 'peak_gib'):.2f} GiB (the int8 result)",
        f"numpy range test with shift-and-add: {sec(lt['seconds'])} (ratio {M.ratio('long_term_unemployment'):.2f})"
        + differ_note([lt]),
    ])
    return rows


def row_streaming(S: Results) -> list[str]:
    c = S["stream_benefit_dependency"]
    z = c["sizes"]
    ref = c["peers"][0]
    capped = next((p for p in c["peers"] if "under the same cap" in p["name"]), None)
    if capped is None:
        peer_text = "`read_register` in memory under the same cap: not run"
    elif capped.get("failed"):
        peer_text = "`read_register` in memory fails under the same cap"
    else:
        peer_text = f"`read_register` in memory does NOT fail under the same cap (peak RSS {capped['peak_gib']:.2f} GiB)"
    same = agreement(ref, "identical answers")
    return [
        f"benefit dependency streamed over {z['persons']:,} × {z['weeks']} weeks under a hard {z['cap_gib']:g} GiB "
        f"address-space cap (the register is {z['dense_uint8_gib']:.1f} GiB as uint8, "
        f"{z['pandas_wide_float64_gib']:.0f} GiB as a pandas frame)",
        f"{c['ours']['seconds']:.0f} s, peak RSS {c['ours']['peak_gib']:.2f} GiB, {same}",
        peer_text,
    ]


def row_dask(D: Results) -> list[str]:
    cs = [D["dask_default_env"], D["dask_trim_unset"]]
    z = cs[0]["sizes"]
    o = cs[0]["ours"]
    idle = [c["peers"][0]["seconds"] for c in cs]
    ratios = [ratio(c["ours"]["seconds"], c["peers"][0]["seconds"]) for c in cs]
    return [
        f"Dask {o['dask']}, {z['workers']} local worker processes, benefit dependency on {persons(z['persons'])} × "
        f"{z['weeks']} read by the workers from person-partitioned Parquet",
        f"{sec_range([c['ours']['seconds'] for c in cs])} per metric call (first call, reading: "
        f"{sec_range([c['ours']['first_call_s'] for c in cs])}; worker peak {max(c['ours']['peak_gib'] for c in cs):.1f} GiB)",
        f"in process, same run, cluster idle: {sec_range(idle)} (ratio {num_range(ratios, '.2f')})"
        + differ_note([p for c in cs for p in c["peers"]]),
    ]


def row_twfe(T: Results) -> list[str]:
    keys = ("static_balanced", "static_unbalanced", "event_study")
    z = T["static_balanced"]["sizes"]
    peers = [T.peer(k) for k in keys]
    faster = ", ".join(f"{1 / T.ratio(k):.1f}" for k in keys)
    same = ("same estimates and SEs" if all(p.get("agree") for p in peers)
            else differ_note(peers, ["balanced", "unbalanced", "event study"])[2:])
    return [
        f"TWFE, {z['persons']:,} persons × {z['weeks']} weeks, person + week effects, CR1 by person",
        f"{sec(T.ours('static_balanced'))} (unbalanced {sec(T.ours('static_unbalanced'))}; event study, "
        f"{T['event_study'].get('terms')} dummies, {sec(T.ours('event_study'))})",
        f"pyfixest{version_of(peers[0])} {sec(peers[0]['seconds'])} ({sec(peers[1]['seconds'])}; "
        f"{sec(peers[2]['seconds'])}), pyfixest / package {faster}; {same}",
    ]


def row_cs(C: Results) -> list[str]:
    c = C["cs_no_covariates"]
    z, o = c["sizes"], c["ours"]
    p = C.peer("cs_no_covariates")
    return [
        f"Callaway–Sant'Anna, {z['persons']:,} persons × {z['weeks']} weeks, {z['cohorts']} weekly cohorts, no covariates "
        f"(all aggregations, analytic SEs)",
        f"{sec(o['seconds'])}, {o['peak_gib']:.2f} GiB process peak ({sec(o['bootstrap_999_s'])} with a 999-draw bootstrap)",
        f"straightforward pandas loop over (g, t): {sec(p['seconds'])}; estimates agree to {p['max_abs_att_diff']:.1e}, "
        f"SEs to {p['max_abs_se_diff']:.1e}" + differ_note([p]),
    ]


def row_survival(V: Results) -> list[str]:
    keys = ("km", "rmst", "cum4", "cum1")
    z = V["km"]["sizes"]
    h = z["horizon"]
    bd = V.peer_seconds("km")
    ll = V.peer("rmst", 1)
    ll_same = agreement(ll, "identical")
    ll_same = f"curves and RMST {ll_same}" if ll.get("agree") else ll_same
    return [
        f"durations and cumulative effects, {z['persons']:,} persons × {z['weeks']} weeks, from the code matrix (no long "
        f"frame): exit times + Kaplan–Meier per group; + Greenwood SE and RMST at 52/104/{h} weeks; cumulative weeks on "
        f"support with SE every 4th week / every week to {h}",
        f"{sec(V.ours('km'))}; {sec(V.ours('rmst'))}; {sec(V.ours('cum4'))} / {sec(V.ours('cum1'))}; "
        f"≤ {max(V.ours(k, 'peak_gib') for k in keys):.3f} GiB beyond the input",
        f"benefit dependency over the same {h} weeks, interleaved: {sec(bd)} (ratios "
        f"{', '.join(f'{V.ratio(k):.2f}' for k in keys)}); lifelines{version_of(ll)} `KaplanMeierFitter` + RMST on our "
        f"exit times {sec(ll['seconds'])}, {ll_same}",
    ]


def row_cs_covariates(K: Results, K25: Results | None) -> list[str]:
    cs = [c for c in K.doc["comparisons"] if c["key"].startswith("cs_")]
    if not cs:
        raise SpeedTableError(f"{K.path}: no comparison 'cs_<method>'")
    meth = [c["est_method"] for c in cs]
    peers = [c["peers"][0] for c in cs]
    agree = [m for m, p in zip(meth, peers) if p.get("agree")]
    differ = [m for m, p in zip(meth, peers) if not p.get("agree")]
    notes = []
    if agree:
        d = max(p.get("max_abs_diff") or 0.0 for p in peers if p.get("agree"))
        notes.append(f"{'/'.join(agree)} " + ("identical" if d == 0 else f"agree to {d:.1e}"))
    dr_like = [m for m in differ if m.startswith("dr")]
    if dr_like:
        notes.append(f"{'/'.join(dr_like)} differ by design: diff-diff's dr normalises the comparison group's weights "
                     f"by the treated total")
    if [m for m in differ if not m.startswith("dr")]:
        notes.append(f"{'/'.join(m for m in differ if not m.startswith('dr'))}: answers DIFFER")
    faster = [1 / ratio(c["ours"]["seconds"], p["seconds"]) for c, p in zip(cs, peers)]
    text = (f"diff-diff{version_of(peers[0])}: {', '.join(sec(p['seconds']) for p in peers)}; "
            f"diff-diff / package {num_range(faster, '.1f')} ({'; '.join(notes)})")
    if K25 is not None:
        c25 = [c for c in K25.doc["comparisons"] if c["key"].startswith("cs_")]
        f25 = [1 / ratio(c["ours"]["seconds"], c["peers"][0]["seconds"]) for c in c25]
        text += f"; at {c25[0]['sizes']['persons']:,} persons {num_range(f25, '.1f')}"
    return [
        f"Callaway–Sant'Anna with {len(cs[0]['covariates'])} covariates, same panel "
        f"({cs[0]['sizes']['persons']:,} persons)",
        ", ".join(f"{m} {sec(c['ours']['seconds'])}" for m, c in zip(meth, cs))
        + f"; ≤ {max(c['ours']['peak_gib'] for c in cs):.2f} GiB",
        text,
    ]


def row_startup(U: Results) -> list[str]:
    return [
        "start-up: `evaluation --help`; imports of `evaluation run`",
        f"{sec(U.ours('help'))}; {sec(U.ours('run_imports'))} (scipy.stats, statsmodels, linearmodels and pyplot are "
        f"imported when a fit or figure first uses them)",
        f"`python -c pass` {sec(U.peer_seconds('help'))}; `import pandas, scipy.stats` alone {sec(U.peer_seconds('run_imports'))}",
    ]


def provenance(res: dict[str, Results]) -> str:
    dates = sorted(r.doc["machine"]["date"] for r in res.values())
    loads = [r.doc["machine"]["load_average_start"][0] for r in res.values()]
    cores = sorted({r.doc["machine"]["cores"] for r in res.values()})
    py = sorted({r.doc["machine"]["python"] for r in res.values()})
    day = sorted({d[:10] for d in dates})
    return (f"Generated by `tools/speed_table.py` from `benchmarks/results/*.json`; measured "
            f"{' to '.join([day[0], day[-1]] if len(day) > 1 else day)} on {'/'.join(map(str, cores))} cores, "
            f"Python {'/'.join(py)}, load average (1 min) {num_range(loads, '.1f')} at the start of the runs.")


def render(results_dir: Path = RESULTS) -> str:
    """The text between the markers (without them)."""
    res = load(results_dir)
    rows = []
    rows += row_metrics(res["bench_metrics"])
    rows.append(row_streaming(res["bench_streaming"]))
    rows.append(row_dask(res["bench_dask"]))
    rows.append(row_twfe(res["bench_twfe"]))
    rows.append(row_cs(res["bench_cs"]))
    rows.append(row_survival(res["bench_survival"]))
    rows.append(row_cs_covariates(res["bench_cs_covariates"], res.get("bench_cs_covariates_25000")))
    rows.append(row_startup(res["bench_startup"]))
    lines = [provenance(res), "", "| task | this package | baseline or peer in the same run |", "|---|---|---|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in rows]
    return "\n".join(lines)


def replace_table(readme_text: str, table: str, readme: Path = README) -> str:
    if readme_text.count(START) != 1 or readme_text.count(END) != 1:
        raise SpeedTableError(f"{readme}: needs exactly one {START} and one {END} marker")
    a = readme_text.index(START) + len(START)
    b = readme_text.index(END)
    if b < a:
        raise SpeedTableError(f"{readme}: {END} comes before {START}")
    return readme_text[:a] + "\n" + table + "\n" + readme_text[b:]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if README.md's table differs from the results")
    ap.add_argument("--results", type=Path, default=RESULTS, help="directory of the benchmarks' JSON results")
    ap.add_argument("--readme", type=Path, default=README)
    a = ap.parse_args(argv)
    try:
        text = a.readme.read_text(encoding="utf-8")
        new = replace_table(text, render(a.results), a.readme)
    except (SpeedTableError, OSError) as exc:
        print(f"speed_table: {exc}", file=sys.stderr)
        return 2
    if a.check:
        if new != text:
            diff = difflib.unified_diff(text.splitlines(), new.splitlines(), str(a.readme), "generated", lineterm="", n=0)
            print("\n".join(diff))
            print(f"speed_table: {a.readme}'s speed table differs from {a.results}; run python tools/speed_table.py",
                  file=sys.stderr)
            return 1
        print(f"{a.readme}: speed table matches {a.results}")
        return 0
    if new != text:
        a.readme.write_text(new, encoding="utf-8")
        print(f"{a.readme}: speed table rewritten from {a.results}")
    else:
        print(f"{a.readme}: speed table already up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
