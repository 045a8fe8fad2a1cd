"""Generated example studies of the before/after design (conformance tests and documentation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.designs.family import Example

__all__ = ["pre_post_example"]


def pre_post_example(scenario: str, seed: int = 1) -> Example:
    """A target group measured at two dates, most persons twice; a 0/1 status.

    ``null``: the share does not change; ``small_cells``: 40 persons and a status that few leave or
    enter, so cells of the paired table are small; ``other_labels``: period column ``dato`` with
    other labels. ``imbalanced`` has no meaning without a comparison group and gives a changing share.
    """
    rng = np.random.default_rng(seed)
    n = 40 if scenario == "small_cells" else 600
    p0, p1 = (0.30, 0.30) if scenario == "null" else (0.30, 0.22)
    if scenario == "small_cells":
        p0, p1 = 0.10, 0.05
    before = rng.random(n) < p0
    stay = rng.random(n) < 0.6
    after = np.where(stay, before, rng.random(n) < p1)
    both = rng.random(n) < 0.8
    period, base, follow = ("dato", "marts 2019", "marts 2021") if scenario == "other_labels" else ("period", "2019-03-31", "2021-03-31")
    rows = []
    for i in range(n):
        if both[i] or rng.random() < 0.5:
            rows.append((f"P{i:05d}", base, int(before[i])))
        if both[i] or not rows or rows[-1][0] != f"P{i:05d}":
            rows.append((f"P{i:05d}", follow, int(after[i])))
    df = pd.DataFrame(rows, columns=["person_id", period, "status"])
    return Example(
        sources={"participants": (df, {"id_column": "person_id", "period_column": period, "columns": [period, "status"],
                                       "labels": {period: "Måletidspunkt", "status": "På ledighedsydelse"}})},
        options={"period": period, "baseline": base, "follow_up": follow, "unit": "person"}, truth=p1 - p0,
        indicator={"label": "Andel på ledighedsydelse", "unit": "andel", "metric": {"name": "column", "params": {"column": "status"}}})
