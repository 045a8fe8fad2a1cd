"""Generated example studies of the difference-in-differences designs (conformance tests, documentation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.designs.family import Example

__all__ = ["did_example"]


def _panel(scenario: str, seed: int, n_periods: int, staggered: bool) -> tuple[pd.DataFrame, float]:
    """A long person × period panel of a share of weeks on benefit; persons enrol in period ``cohort``
    (0 = never), and the benefit share falls by the effect from enrolment on."""
    rng = np.random.default_rng(seed)
    n = 60 if scenario == "small_cells" else 400
    effect = 0.0 if scenario == "null" else -0.08
    treated = rng.random(n) < 0.5
    if staggered:
        cohort = np.where(treated, rng.integers(3, n_periods, n), 0)
    else:
        cohort = np.where(treated, n_periods - 1, 0)
    level = rng.beta(5, 3, n)
    trend = -0.01 * np.arange(n_periods)
    rows = []
    for i in range(n):
        for p in range(n_periods):
            on = cohort[i] > 0 and p >= cohort[i]
            y = level[i] + trend[p] + (effect if on else 0.0) + rng.normal(0, 0.05)
            rows.append((f"D{i:05d}", p + 1, int(cohort[i] + 1) if cohort[i] > 0 else 0, int(on), int(cohort[i] > 0),
                         int(p == n_periods - 1), float(np.clip(y, 0, 1).round(4))))
    df = pd.DataFrame(rows, columns=["person_id", "period", "cohort", "treated_now", "treated", "post", "y"])
    return df, effect


def did_example(design: str, scenario: str, seed: int = 1) -> Example:
    """A panel for ``did_2x2`` (two periods), ``did_twfe`` or ``did_cs`` (staggered enrolment over 8 periods).

    ``small_cells``: 60 persons; ``other_labels``: the period column is called ``kvartal``; the other
    scenarios are a true effect or none (DiD designs show no balance table).
    """
    staggered = design != "did_2x2"
    df, effect = _panel(scenario, seed, 8 if staggered else 2, staggered)
    time = "period"
    if scenario == "other_labels":
        df = df.rename(columns={"period": "kvartal"})
        time = "kvartal"
    if design == "did_2x2":
        options = {"group": "treated", "time": "post", "unit": "person"}
        df = df.drop(columns=["cohort", "treated_now"])
    elif design == "did_twfe":
        options = {"unit": "person", "time": time, "treatment": "treated_now"}
    else:
        options = {"unit": "person", "time": time, "cohort": "cohort", "control_group": "nevertreated"}
    period_column = "post" if design == "did_2x2" else time
    return Example(
        sources={"participants": (df, {"id_column": "person_id", "period_column": period_column,
                                       "columns": [c for c in df.columns if c != "person_id"],
                                       "labels": {time: "Kvartal" if time == "kvartal" else "Periode"}})},
        options=options, truth=effect,
        indicator={"label": "Andel af ugerne på offentlig forsørgelse i perioden", "unit": "andel",
                   "metric": {"name": "column", "params": {"column": "y"}}})
