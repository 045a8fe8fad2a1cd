"""What the two-group comparison families (randomized, matched) share: groups, time course,
plasmode simulation, subgroup counts and the minimum detectable effect."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaluation.designs.family import AnalysisInput, Family, GroupSpec, Options
from evaluation.designs.plasmode import plasmode_comparison
from evaluation.designs.power import (
    mde_for_design,
    mde_means,
    mde_proportions,
    mde_sentence_da,
)
from evaluation.exceptions import DataValidationError, EstimationError
from evaluation.results import Result

__all__ = ["ComparisonFamily", "comparison_mde"]


class ComparisonFamily(Family):
    """A design comparing two labelled groups of one column (``treatment``, ``treated``, ``control``)."""

    #: whether the analytic MDE of the declared design (clusters, strata, R²) is available
    design_mde: bool = False

    def groups(self, options: Options) -> GroupSpec:
        return GroupSpec(options.treatment, options.treated, options.control)

    def time_course_groups(self, options: Options) -> GroupSpec:
        return self.groups(options)

    def simulate(self, design, frame: pd.DataFrame, tau: float, rng: np.random.Generator) -> pd.DataFrame:
        p = design.get_params()
        return plasmode_comparison(frame, p["outcome"], p["treatment"], p["treated"], p["control"], tau, rng,
                                   cluster=p.get("cluster"), strata=p.get("strata"))

    def mde(self, result: Result, inp: AnalysisInput) -> dict[str, Any] | None:
        design = self.estimator(inp.options, inp.outcome)
        return comparison_mde(result, inp.unit, design if self.design_mde else None, inp.frame)


def comparison_mde(result: Result, unit: str | None, design=None, frame: pd.DataFrame | None = None) -> dict[str, Any] | None:
    """Minimum detectable effect (80 % power, 5 % two-sided) of an analysis.

    With ``design`` (randomized comparison, 2×2 DiD) it is the declared design's own (clusters,
    strata, covariates' R², before/after correlation: :func:`evaluation.designs.power.mde_for_design`);
    otherwise that of a plain two-group comparison with the observed group sizes and spread.
    """
    if design is not None and frame is not None:
        try:
            r = mde_for_design(design, frame, unit=unit or "")
        except (EstimationError, DataValidationError, ValueError):
            r = None
        if r is not None:
            m = r.estimate_for("mde")
            if np.isfinite(m.estimate):
                return {"mde": float(m.estimate), "sentence_da": mde_sentence_da(r, unit=unit), "method": m.method}

    groups = result.tables.get("groups")
    e = next((x for x in result.estimates if x.n_treated is not None), None)
    if groups is None or e is None or not e.n_treated or not e.n_control:
        return None
    if getattr(result, "outcome_type", "continuous") == "binary":
        ctrl = groups[groups["group"] == "control"]
        col = "share" if "share" in groups.columns else "mean"
        if ctrl.empty or pd.isna(ctrl[col].iloc[0]) or not 0 < float(ctrl[col].iloc[0]) < 1:
            return None  # no outcome in the comparison group (or all): the power formula has no variance to work with
        r = mde_proportions(float(ctrl[col].iloc[0]), e.n_treated, e.n_control)
    else:
        if "sd" not in groups.columns or groups["sd"].isna().any():
            return None
        n, sd = groups["n"].astype(float), groups["sd"].astype(float)
        pooled = float(np.sqrt(((n - 1) * sd**2).sum() / (n.sum() - 2)))
        if not np.isfinite(pooled) or pooled <= 0:
            return None  # a constant outcome has no minimum detectable effect
        r = mde_means(e.n_treated, e.n_control, sd=pooled, unit=unit or "")
    return {"mde": float(r.estimate_for("mde").estimate), "sentence_da": mde_sentence_da(r, unit=unit),
            "method": r.estimate_for("mde").method}
