"""The fixed cost of the command line stays low (issue 16 item 5): importing what ``evaluation run`` and
``evaluation --help`` need does not import the heavy libraries a design only needs when it fits or draws.
Timings live in benchmarks/bench_startup.py; this guards the cause (a module-level import) deterministically."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("scipy.stats", "statsmodels", "matplotlib.pyplot", "linearmodels", "xarray",
         "sklearn", "lifelines", "dask", "polars")


@pytest.mark.parametrize("module", ["evaluation.cli", "evaluation.pipeline.run"])
def test_no_heavy_library_at_import(module):
    code = (f"import json, sys; import {module}; "
            f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == [], f"importing {module} loads {loaded}: import them where a fit or a figure uses them"
