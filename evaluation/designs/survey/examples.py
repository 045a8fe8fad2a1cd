"""Generated example surveys (conformance tests and documentation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.designs.family import Example

__all__ = ["survey_example"]

_ITEMS = [("modtaget", "Blev du taget godt imod?"), ("viden", "Gav samtalen dig mere viden?"),
          ("tilfreds", "Er du tilfreds med samtalen?")]


def survey_example(scenario: str, seed: int = 1) -> Example:
    """Answers on the brugermåling scale (5 = «Ja, i høj grad» … 1 = «Nej, slet ikke», 9 = «Ved ikke»)
    from three units, with the planned meetings per unit.

    ``small_cells``: one unit has 4 respondents and one category is rare, so shares by unit and
    distribution cells must be hidden; ``other_labels``: the unit column is called ``afdeling``.
    """
    rng = np.random.default_rng(seed)
    unit = "afdeling" if scenario == "other_labels" else "hus"
    units = {"Nord": 120, "Syd": 90, "Vest": 4 if scenario == "small_cells" else 60}
    rows = []
    for u, n in units.items():
        for _ in range(n):
            probs = [0.45, 0.30, 0.12, 0.08, 0.03, 0.02] if scenario != "null" else [0.2, 0.2, 0.2, 0.2, 0.15, 0.05]
            rows.append([u] + [int(rng.choice([5, 4, 3, 2, 1, 9], p=probs)) for _ in _ITEMS])
    answers = pd.DataFrame(rows, columns=[unit] + [c for c, _ in _ITEMS])
    answers.insert(0, "respondent", [f"S{i:05d}" for i in range(len(answers))])
    planned = pd.DataFrame({unit: list(units), "planned": [int(n * 1.8) for n in units.values()]})
    return Example(
        sources={"answers": (answers, {"kind": "survey", "id_column": "respondent", "columns": [unit] + [c for c, _ in _ITEMS],
                                       "labels": {unit: "Jobcentrets hus" if unit == "hus" else "Afdeling"}}),
                 "planned": (planned, {"kind": "planned", "columns": [unit, "planned"]})},
        data="answers",
        options={"title": "Brugermåling", "scale": "brugermaaling-5", "unit": unit, "planned": "planned",
                 "items": [{"column": c, "text": t} for c, t in _ITEMS]},
        indicator={"label": "Andel med en positiv oplevelse af samtalen", "unit": "andel",
                   "qualitative": {"method": "spørgeskema", "description": "Brugermåling efter samtalen"}})
