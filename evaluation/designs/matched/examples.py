"""Generated example studies of the matched comparison (conformance tests and documentation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.designs.family import Example

__all__ = ["matched_example"]


def matched_example(scenario: str, seed: int = 1) -> Example:
    """Participants and a register pool selected on age and prior benefit dependency.

    ``imbalanced``: strong selection and nearest-neighbour matching with a caliper against a stated
    balance limit of 0,02, so balance after matching is not claimed unless it holds; ``small_cells``: 30
    participants, a binary covariate held by 3 of them; ``other_labels``: column ``status`` with
    ``deltager``/``pulje``.
    """
    rng = np.random.default_rng(seed)
    n_t, n_c = (30, 90) if scenario == "small_cells" else (150, 450)
    treat_col, treated, control = ("status", "deltager", "pulje") if scenario == "other_labels" else ("group", "intervention", "control")
    strength = 1.6 if scenario == "imbalanced" else 0.6
    # the pool is drawn wider than the participants, who are younger and more dependent
    age_t = rng.normal(38, 8, n_t)
    age_c = rng.normal(38 + 6 * strength, 10, n_c)
    prior_t = rng.beta(6, 3, n_t)
    prior_c = rng.beta(6 - 2 * strength, 3 + strength, n_c)
    age = np.r_[age_t, age_c].round()
    prior = np.r_[prior_t, prior_c].round(3)
    t = np.r_[np.ones(n_t, bool), np.zeros(n_c, bool)]
    effect = 0.0 if scenario == "null" else -0.06
    y = np.clip(0.2 + 0.5 * prior + 0.004 * (age - 40) + effect * t + rng.normal(0, 0.08, n_t + n_c), 0, 1).round(4)
    df = pd.DataFrame({"person_id": [f"M{i:05d}" for i in range(n_t + n_c)], treat_col: np.where(t, treated, control),
                       "age": age.astype(int), "prior_share": prior, "y": y})
    covs = ["age", "prior_share"]
    options = {"treatment": treat_col, "treated": treated, "control": control, "covariates": covs, "method": "ipw"}
    if scenario == "small_cells":
        rare = np.zeros(n_t + n_c, int)
        rare[:3] = 1
        df["rare"] = rare
        options["covariates"] = covs + ["rare"]
    if scenario == "imbalanced":
        options.update(method="nearest", caliper=0.5, balance_rule={"max_smd": 0.02})
    df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return Example(
        sources={"participants": (df, {
            "id_column": "person_id", "columns": [c for c in df.columns if c != "person_id"],
            "labels": {k: v for k, v in {"age": "Alder", "prior_share": "Andel af ugerne på offentlig forsørgelse året før",
                                         "rare": "Sjælden baggrund"}.items() if k in df}})},
        options=options, fit={}, truth=effect,
        indicator={"label": "Andel af ugerne på offentlig forsørgelse i året efter", "unit": "andel",
                   "metric": {"name": "column", "params": {"column": "y"}}})
