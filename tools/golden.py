"""Golden manifest: the SHA-256 of everything the shipped studies produce.

Runs every study under ``studies/`` (results bundle with tables and figures), writes each
report's Quarto project (``index.qmd``) and the portfolio's, and diagnoses every study with
``evaluation diagnose --draws 20 --seed 1``; then records the SHA-256 of every results.json,
table, figure, index.qmd and diagnosis. A refactoring keeps this manifest unchanged; a commit
that changes it names the fix that changed it.

    python tools/golden.py            # compare with tests/golden/manifest.json, print differences
    python tools/golden.py --update   # rewrite the manifest (commit it with the reason)

The reports are dated by a fixed ``SOURCE_DATE_EPOCH`` (1 January 2026), never by the clock. The
outputs are made with a fixed pseudonymisation key (``EVALUATION_PSEUDONYM_KEY``): persons are
ordered by pseudonym, and that order reaches the last digits of sums and the draws of
``diagnose``. The checkout's own folder is replaced by ``<root>`` in text outputs before hashing, so the
manifest does not depend on where the repository lives. The manifest also records the versions
of the numerical libraries: bytes of figures and the last digits of numbers may change with
them, and a mismatch says so.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import json
import math
import shutil
import sys
import tempfile
import warnings
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "tests" / "golden" / "manifest.json"
DRAWS, SEED = 20, 1
KEY = "golden-manifest-key"
EPOCH = "1767225600"  # 1 January 2026, the reports' date in the manifest
LIBRARIES = ("numpy", "scipy", "pandas", "statsmodels", "linearmodels", "scikit-learn", "matplotlib", "pydantic",
             "pingouin", "pyarrow", "duckdb")
TEXT_SUFFIXES = {".json", ".csv", ".qmd", ".yml", ".yaml", ".md", ".txt"}


@contextmanager
def fixed_key_and_date():
    """Run the block with the golden pseudonym key and report date (``KEY``, ``EPOCH``) set in the environment, and
    put back what was there before (the golden outputs and the test session's rendered tree are made under it)."""
    fixed = {"EVALUATION_PSEUDONYM_KEY": KEY, "SOURCE_DATE_EPOCH": EPOCH}
    previous = {k: os.environ.get(k) for k in fixed}
    os.environ.update(fixed)
    try:
        yield
    finally:
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def environment() -> dict[str, str]:
    """Python and numerical-library versions the outputs were produced with."""
    env = {"python": f"{sys.version_info.major}.{sys.version_info.minor}"}
    for lib in LIBRARIES:
        try:
            env[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            env[lib] = "absent"
    return env


def _normalised_bytes(path: Path, root: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix in TEXT_SUFFIXES:
        # the checkout's location must not change the manifest
        for prefix in {str(root), str(root.resolve())}:
            data = data.replace(prefix.encode(), b"<root>")
    return data


def _produce(out: Path, studies_root: Path, bundles: Path | None = None) -> None:
    from evaluation.pipeline.run import run_study
    from evaluation.portfolio.page import write_portfolio_project
    from evaluation.reporting.quarto import write_report_project

    try:
        from evaluation.planning.diagnose import diagnose_study
    except ImportError:  # before the move into evaluation.planning
        from evaluation.planning.diagnose import diagnose_study

    results, reports, diag = out / "results", out / "reports", out / "diagnose"
    for d in (results, reports, diag):
        d.mkdir(parents=True, exist_ok=True)
    studies = sorted(p.parent for p in studies_root.glob("*/study.yaml"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for study in studies:
            if bundles is None:
                bundle = run_study(study, results)
            else:  # made earlier by run_study under the same key and date (tests/conftest.py's rendered_tree)
                bundle = Path(shutil.copytree(bundles / study.name, results / study.name))
            write_report_project(bundle, reports / study.name)
            rows = diagnose_study(study, draws=DRAWS, seed=SEED)
            text = json.dumps({"draws": DRAWS, "seed": SEED, "rows": [_clean(r.to_dict()) for r in rows]},
                              sort_keys=True, indent=2, ensure_ascii=False)
            (diag / f"{study.name}.json").write_text(text + "\n", encoding="utf-8")
        write_portfolio_project(results, reports / "portfolio", studies_root=studies_root)


def produce(out: Path, studies_root: Path = ROOT / "studies", bundles: Path | None = None) -> Path:
    """Write every output of the shipped studies below ``out`` (results/, reports/, diagnose/).

    The reports are dated by ``SOURCE_DATE_EPOCH`` (fixed here), never by the clock. ``bundles``: a folder
    with each study's results bundle already made by ``run_study`` with ``KEY`` and ``EPOCH`` (the test
    session's); they are copied instead of running the studies again."""
    with fixed_key_and_date():
        _produce(out, studies_root, bundles)
    return out


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def _files(out: Path) -> Iterable[Path]:
    for p in sorted(out.rglob("*")):
        if not p.is_file() or (p.name.startswith(".") and p.name.endswith(".lock")):
            continue  # an output folder's lock file is not an output
        rel = p.relative_to(out)
        if rel.parts[0] == "reports" and (p.name == "_quarto.yml" or "figures" in rel.parts[:-1] and rel.parts[1] != "portfolio"):
            continue  # a report's figures are copies of the bundle's; its _quarto.yml is a constant
        yield p


def manifest_of(out: Path, root: Path = ROOT) -> dict[str, Any]:
    files = {str(p.relative_to(out)): hashlib.sha256(_normalised_bytes(p, root)).hexdigest() for p in _files(out)}
    return {"about": "SHA-256 of every output of the shipped studies; tools/golden.py writes and checks it",
            "diagnose": {"draws": DRAWS, "seed": SEED}, "environment": environment(), "files": files}


def compare(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Lines describing every difference (empty when the outputs are identical)."""
    lines = []
    e, a = expected["files"], actual["files"]
    for name in sorted(set(e) | set(a)):
        if name not in a:
            lines.append(f"missing now: {name}")
        elif name not in e:
            lines.append(f"new output:  {name}")
        elif e[name] != a[name]:
            lines.append(f"changed:     {name}")
    if lines:
        env_e, env_a = expected.get("environment", {}), actual["environment"]
        moved = [f"{k} {env_e.get(k)} -> {v}" for k, v in env_a.items() if env_e.get(k) != v]
        if moved:
            lines.append("the environment differs from the manifest's (" + "; ".join(moved) + "): figures and last "
                         "digits may differ for that reason alone")
    return lines


def json_differences(old: Any, new: Any, path: str = "", limit: int = 20) -> list[str]:
    """The first differing paths of two JSON documents (for reading a changed results.json)."""
    out: list[str] = []

    def walk(o: Any, n: Any, p: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(o, dict) and isinstance(n, dict):
            for k in sorted(set(o) | set(n)):
                if k not in n:
                    out.append(f"{p}.{k}: removed")
                elif k not in o:
                    out.append(f"{p}.{k}: added")
                else:
                    walk(o[k], n[k], f"{p}.{k}")
        elif isinstance(o, list) and isinstance(n, list) and len(o) == len(n):
            for i, (x, y) in enumerate(zip(o, n)):
                walk(x, y, f"{p}[{i}]")
        elif o != n:
            out.append(f"{p}: {str(o)[:80]!s} -> {str(n)[:80]!s}")

    walk(old, new, path)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--update", action="store_true", help="rewrite tests/golden/manifest.json")
    ap.add_argument("--keep", type=Path, default=None, help="keep the produced outputs in this folder")
    ap.add_argument("--against", type=Path, default=None,
                    help="a folder kept earlier with --keep: print how the JSON outputs differ from it")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="golden-"))
    try:
        out = produce(tmp / "out")
        actual = manifest_of(out)
        if args.keep:
            if args.keep.exists():
                shutil.rmtree(args.keep)
            shutil.copytree(out, args.keep)
        if args.against:
            for p in sorted(args.against.rglob("*.json")):
                q = out / p.relative_to(args.against)
                if q.is_file() and p.read_bytes() != q.read_bytes():
                    print(f"== {p.relative_to(args.against)}")
                    for line in json_differences(json.loads(p.read_text()), json.loads(q.read_text())):
                        print("   " + line)
        if args.update:
            MANIFEST.parent.mkdir(parents=True, exist_ok=True)
            MANIFEST.write_text(json.dumps(actual, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            print(f"wrote {MANIFEST} ({len(actual['files'])} files)")
            return 0
        expected = json.loads(MANIFEST.read_text(encoding="utf-8"))
        diff = compare(expected, actual)
        print("\n".join(diff) if diff else f"unchanged: {len(actual['files'])} files")
        return 1 if diff else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
