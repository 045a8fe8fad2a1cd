"""Subgroup effects ("for whom") for moderators declared in the programme theory.

For each declared moderator, the analysis's design is refitted within each level of the
moderator, and an interaction test asks whether the effect differs between levels
(OLS of the outcome on treatment × level with HC2 standard errors; Wald test of the
interaction terms). Interaction p-values are Holm-corrected across the moderators of an
analysis. Moderators declared in the theory are *pre-specified*; others are *exploratory*.
No estimate is made for a level with fewer than the study's minimum group size in a group.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.stats.multitest import multipletests

from .exceptions import EvaluationError

__all__ = ["subgroup_table", "SUBGROUP_COLUMNS"]

SUBGROUP_COLUMNS = [
    "moderator", "moderator_label", "level", "prespecified", "n_treated", "n_control",
    "estimate", "ci_lower", "ci_upper", "p_value", "p_interaction", "p_interaction_holm", "note",
]


def _interaction_p(frame: pd.DataFrame, outcome: str, treat: str, var: str) -> float:
    df = pd.DataFrame({"y": frame[outcome].astype(float), "t": frame[treat].astype(float),
                       "m": frame[var].astype(str)}).dropna()
    if df["m"].nunique() < 2:
        return float("nan")
    fit = smf.ols("y ~ t * C(m)", data=df).fit(cov_type="HC2")
    names = [n for n in fit.params.index if n.startswith("t:C(m)")]
    if not names:
        return float("nan")
    r = np.zeros((len(names), len(fit.params)))
    for i, n in enumerate(names):
        r[i, list(fit.params.index).index(n)] = 1.0
    return float(np.asarray(fit.wald_test(r, scalar=True).pvalue))


def subgroup_table(design_cls, options: dict[str, Any], fit_options: dict[str, Any], frame: pd.DataFrame,
                   outcome: str, moderators: list[Any], *, min_group_size: int, threshold: int,
                   prespecified: set[str]) -> pd.DataFrame:
    """Subgroup estimates and Holm-corrected interaction tests for one analysis."""
    treat_col = options.get("treatment", "group")
    treated = options.get("treated", "intervention")
    control = options.get("control", "control")
    rows: list[dict[str, Any]] = []
    p_by_mod: dict[str, float] = {}
    for mod in moderators:
        var = mod.variable
        if var is None or var not in frame.columns:
            raise EvaluationError(f"moderator {mod.id!r} names the column {var!r}, which the data do not have")
        t = (frame[treat_col] == treated).astype(float).where(frame[treat_col].isin([treated, control]))
        work = frame.assign(__t=t)
        p_by_mod[mod.id] = _interaction_p(work[work[outcome].notna()], outcome, "__t", var)
        sub_opts = dict(options)
        if "covariates" in sub_opts:
            sub_opts["covariates"] = [c for c in sub_opts["covariates"] if c != var]
        fit_opts = {k: v for k, v in fit_options.items() if k not in ("permutations",)}
        for level in sorted(frame[var].dropna().unique(), key=str):
            part = frame[frame[var] == level]
            valid = part[part[outcome].notna()]
            n_t = int((valid[treat_col] == treated).sum())
            n_c = int((valid[treat_col] == control).sum())
            row = {"moderator": mod.id, "moderator_label": mod.label, "level": str(level),
                   "prespecified": mod.id in prespecified, "n_treated": n_t, "n_control": n_c,
                   "estimate": float("nan"), "ci_lower": float("nan"), "ci_upper": float("nan"),
                   "p_value": float("nan"), "note": ""}
            if min(n_t, n_c) < min_group_size:
                row["note"] = f"færre end {min_group_size} personer i en gruppe: intet estimat"
            else:
                res = design_cls(outcome=outcome, **sub_opts).fit(part, **fit_opts)
                from .metrics.targets import main_term

                e = main_term(res)
                row.update(estimate=e.estimate, ci_lower=e.ci_lower, ci_upper=e.ci_upper, p_value=e.p_value)
            rows.append(row)
    table = pd.DataFrame(rows, columns=[c for c in SUBGROUP_COLUMNS if c not in ("p_interaction", "p_interaction_holm")])
    mods = [m for m in p_by_mod if not np.isnan(p_by_mod[m])]
    holm = dict(zip(mods, multipletests([p_by_mod[m] for m in mods], method="holm")[1])) if mods else {}
    table["p_interaction"] = table["moderator"].map(p_by_mod).astype(float)
    table["p_interaction_holm"] = table["moderator"].map(holm).astype(float)
    return table[SUBGROUP_COLUMNS]
