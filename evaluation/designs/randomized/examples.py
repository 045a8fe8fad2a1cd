"""Generated example studies of the randomized comparison (conformance tests and documentation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.designs.family import Example

__all__ = ["randomized_example"]


def randomized_example(scenario: str, seed: int = 1) -> Example:
    """Persons allocated by lottery; ``scenario`` as in :data:`evaluation.designs.family.SCENARIOS`.

    ``imbalanced`` makes the intervention group older by design (a lottery gone wrong), so no balance
    claim may be made; ``small_cells`` has 24 persons per group, a binary covariate held by 3 persons
    and a binary outcome with few events, so the estimates must be suppressed; ``other_labels`` uses
    the column ``arm`` with the labels ``indsats``/``venteliste``.

    Every scenario declares a take-up column ``started`` (one-sided: nobody in the control group can
    start): about 80 % of the intervention group start, and only those who start get the effect, so the
    exclusion restriction holds and the complier effect (CACE) is the effect itself, ``truth``, while the
    intention-to-treat effect is ``truth`` times the share who started. In ``small_cells`` only 3 of the
    24 in the intervention group do not start, a count below the disclosure threshold.
    """
    rng = np.random.default_rng(seed)
    small = scenario == "small_cells"
    n_t = n_c = 24 if small else 160
    treat_col, treated, control = ("arm", "indsats", "venteliste") if scenario == "other_labels" else ("group", "intervention", "control")
    t = np.r_[np.ones(n_t, bool), np.zeros(n_c, bool)]
    age = rng.normal(45, 10, n_t + n_c).round()
    if scenario == "imbalanced":
        age[t] += 9
    female = rng.binomial(1, 0.5, n_t + n_c)
    rare = np.zeros(n_t + n_c, int)
    rare[[2, 3, n_t + 1]] = 1  # 2 in the intervention group, 1 in the control group
    effect = 0.0 if scenario == "null" else -2.5
    # take-up, drawn after everything else so the other columns do not depend on it
    take_rng = np.random.default_rng([seed, 14])
    started = np.zeros(n_t + n_c, int)
    if small:
        started[:n_t] = 1
        started[[4, 5, 6]] = 0  # 3 of 24 do not start
    else:
        started[:n_t] = take_rng.random(n_t) < 0.8
    df = pd.DataFrame({
        "person_id": [f"R{i:05d}" for i in range(n_t + n_c)],
        treat_col: np.where(t, treated, control),
        "age": age.astype(int),
        "female": female,
    })
    df["started"] = started
    options = {"treatment": treat_col, "treated": treated, "control": control, "covariates": ["age", "female"],
               "take_up": "started"}
    if small:
        df["rare"] = rare
        events = np.zeros(n_t + n_c, int)
        events[[0, 1, n_t]] = 1  # 2 events in the intervention group, 1 in the control group
        df["y"] = events
        options["covariates"] = ["age", "female", "rare"]
        indicator = {"label": "Fik job inden for et år", "unit": "andel", "metric": {"name": "column", "params": {"column": "y"}}}
        truth = None
    else:
        y = 12 + 0.15 * (age - 45) + 1.5 * female + effect * started + rng.normal(0, 4, n_t + n_c)
        df["y"] = np.clip(y, 0, 52).round(1)
        indicator = {"label": "Uger på offentlig forsørgelse", "unit": "uger",
                     "metric": {"name": "column", "params": {"column": "y"}}}
        truth = effect
    df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return Example(
        sources={"participants": (df, {
            "id_column": "person_id", "columns": [c for c in df.columns if c != "person_id"],
            "labels": {k: v for k, v in {"age": "Alder", "female": "Kvinde", "rare": "Sjælden baggrund",
                                         "started": "Påbegyndt"}.items() if k in df},
            "value_labels": {"female": {"0": "Mand", "1": "Kvinde"}}})},
        options=options, fit={"cov_type": "HC2"}, indicator=indicator, truth=truth)
