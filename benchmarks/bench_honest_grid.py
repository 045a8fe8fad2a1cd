"""HonestDiD relative-magnitudes sets: the coarse-then-bisect grid search against testing every grid point.

``relative_magnitudes_ci`` tests every 25th of the package's 1,000 grid points and bisects each end of the
accepted region (evaluation.designs.did._honest._grid_bounds). That is exact when each robust set is an
interval no narrower than 25 grid points. This script checks that claim on the published Medicaid example
(tests/reference/honestdid_medicaid.json: first post period, average of both post periods, one post
period) at every Mbar of the README's table and at the values between, and prints both timings.
(Moved here from tests/designs/did/test_honest_did.py: testing all 1,000 points took ~43 s in CI before the
tests were vectorised; tests/ keeps a version on a coarser grid.)

    python benchmarks/bench_honest_grid.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from evaluation.designs.did import _honest as H

REF = json.loads((Path(__file__).resolve().parents[1] / "tests" / "reference" / "honestdid_medicaid.json").read_text())


def main() -> int:
    i = REF["inputs"]
    cases = {
        "first post period": H.HonestInput.make(i["betahat"], i["sigma"], i["num_pre"], i["num_post"]),
        "average of 2 post periods": H.HonestInput.make(i["betahat"], i["sigma"], 5, 2, l_vec=[0.5, 0.5]),
        "one post period": H.HonestInput.make(i["betahat"][:6], np.asarray(i["sigma"])[:6, :6], 5, 1),
    }
    failures = 0
    t_coarse = t_full = 0.0
    for name, h in cases.items():
        for mbar in (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0):
            t0 = time.process_time()
            coarse = H.relative_magnitudes_ci(h, mbar)
            t1 = time.process_time()
            full = H.relative_magnitudes_ci(h, mbar, step=1)
            t2 = time.process_time()
            t_coarse += t1 - t0
            t_full += t2 - t1
            same = coarse == full or (all(np.isnan(coarse)) and all(np.isnan(full)))
            failures += not same
            print(f"{name:28s} Mbar={mbar:4.2f}  coarse={coarse}  full={full}  {'same' if same else 'DIFFERENT'}")
    print(f"CPU: coarse search {t_coarse:.2f} s, every grid point {t_full:.2f} s; {failures} differences")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
