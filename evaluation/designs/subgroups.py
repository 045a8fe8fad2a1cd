"""Subgroup effects ("for whom") for moderators declared in the programme theory.

For each declared moderator, the analysis's design is refitted within each level of the
moderator (with the analysis's weights, clusters and strata), and an interaction test asks
whether the effect differs between levels: for randomized comparisons a Wald test of the
treatment × level terms (WLS with declared weights, cluster-robust with a declared cluster,
stratum effects with declared strata, HC2 otherwise); for observational designs (matched,
difference-in-differences) Cochran's Q test of the within-level adjusted estimates. Interaction p-values are
Holm-corrected within one family of moderators (the pipeline passes pre-specified and
exploratory moderators separately). Moderators declared in the theory are *pre-specified*;
others are *exploratory* (``prespecified = False``). No estimate is made for a level with
fewer than the study's minimum group size in either group.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from evaluation.designs.family import Family, get_family
from evaluation.exceptions import EvaluationError

__all__ = ["subgroup_table", "SUBGROUP_COLUMNS"]

SUBGROUP_COLUMNS = [
    "moderator", "moderator_label", "level", "prespecified", "n_treated", "n_control",
    "estimate", "ci_lower", "ci_upper", "p_value", "p_interaction", "p_interaction_holm", "note",
]


def interaction_p(frame: pd.DataFrame, outcome: str, treat: str, var: str, options: dict[str, Any]) -> tuple[float, str]:
    """Wald test that the treatment effect is the same at every level of ``var``.

    Honours the analysis's declared ``weights`` (WLS), ``cluster`` (cluster-robust CR1, the
    unit of assignment) and ``strata`` (stratum fixed effects); otherwise HC2.
    """
    weights, cluster, strata = options.get("weights"), options.get("cluster"), options.get("strata")
    df = pd.DataFrame({"y": frame[outcome].astype(float), "t": frame[treat].astype(float),
                       "m": frame[var].astype(str)})
    if weights is not None:
        df["w"] = frame[weights].astype(float)
    if cluster is not None:
        df["cl"] = pd.factorize(frame[cluster])[0]
    if strata is not None and strata != var:
        df["s"] = frame[strata].astype(str)
    df = df.dropna()
    if df["m"].nunique() < 2:
        return float("nan"), ""
    formula = "y ~ t * C(m)" + (" + C(s)" if "s" in df else "")
    import statsmodels.formula.api as smf  # here, not at module import: the formula machinery costs ~0.1 s at start-up

    model = smf.wls(formula, data=df, weights=df["w"]) if weights is not None else smf.ols(formula, data=df)
    if cluster is not None:
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": df["cl"].to_numpy()}, use_t=True)
        se = f"cluster-robust (CR1) by {cluster}"
    else:
        fit = model.fit(cov_type="HC2", use_t=True)
        se = "HC2"
    names = [n for n in fit.params.index if n.startswith("t:C(m)")]
    if not names:
        return float("nan"), ""
    r = np.zeros((len(names), len(fit.params)))
    for i, n in enumerate(names):
        r[i, list(fit.params.index).index(n)] = 1.0
    how = (f"Wald test of treatment × {var} in {'WLS' if weights is not None else 'OLS'} "
           f"{formula.replace('t', 'treatment', 1)}, {se} covariance")
    return float(np.asarray(fit.wald_test(r, scalar=True, use_f=True).pvalue)), how


def _heterogeneity_p(est: list[float], se: list[float]) -> float:
    """Cochran-type Wald test that independent subgroup estimates are equal (chi2, k - 1 df)."""
    b, s = np.asarray(est, float), np.asarray(se, float)
    ok = np.isfinite(b) & np.isfinite(s) & (s > 0)
    if ok.sum() < 2:
        return float("nan")
    b, v = b[ok], s[ok] ** 2
    bw = np.sum(b / v) / np.sum(1 / v)
    q = float(np.sum((b - bw) ** 2 / v))
    return float(stats.chi2.sf(q, ok.sum() - 1))


def subgroup_table(family, options, fit_options: dict[str, Any], frame: pd.DataFrame,
                   outcome: str, moderators: list[Any], *, min_group_size: int, threshold: int,
                   prespecified: set[str]) -> pd.DataFrame:
    """Subgroup estimates and Holm-corrected interaction tests for one family of moderators.

    Parameters
    ----------
    family : Family, design name or estimator class
        The analysis's design family (:mod:`evaluation.designs.family`); its estimator is refitted
        within every level with the analysis's own ``options`` (weights, clusters, strata included)
        and ``fit_options`` (randomization inference and the bootstrap are dropped: only the
        interval of the main term is used).
    options : Options or dict
        The analysis's options (typed, or a dict validated by the family's options model).
    moderators : list
        Objects with ``id``, ``label`` and ``variable`` (the data column).
    min_group_size, threshold : int
        No estimate is made for a level in which the intervention or the comparison group has
        fewer than ``max(min_group_size, threshold)`` persons (``threshold`` is the disclosure
        threshold; studies guarantee ``min_group_size >= threshold``).
    prespecified : set of str
        Moderator ids declared in the programme theory; others are labelled exploratory
        (``prespecified = False`` and a note).

    Notes
    -----
    Interaction test: where the family makes a regression test valid (randomized comparison: a
    Wald test of the treatment × level terms in a regression of the outcome on treatment × level,
    WLS with the declared weights, stratum fixed effects with declared strata, cluster-robust by
    the declared cluster, HC2 otherwise; valid because allocation is random within every level),
    that test. Observational designs (matched comparison, difference-in-differences): an
    unadjusted regression would be confounded, so Cochran's Q test that the within-level
    estimates -- each the design's own adjusted estimate -- are equal (chi², levels − 1 df, each
    refit's own standard error; the levels are disjoint groups of persons, so their estimates are
    independent unless a declared cluster spans levels). Holm's correction is applied across the
    moderators passed in one call (one family).
    """
    if not isinstance(family, Family):  # a design name or an estimator class
        family = get_family(family if isinstance(family, str) else family.name)
    if isinstance(options, dict):
        options = family.Options(**options)
    floor = max(int(min_group_size), int(threshold))
    rows: list[dict[str, Any]] = []
    p_by_mod: dict[str, float] = {}
    how_by_mod: dict[str, str] = {}
    fit_opts = family.headline_fit(fit_options)
    for mod in moderators:
        var = mod.variable
        if var is None or var not in frame.columns:
            raise EvaluationError(f"moderator {mod.id!r} names the column {var!r}, which the data do not have")
        family.subgroup_check(options, frame, var, mod.id)
        test = family.interaction_test(frame, outcome, options, var)
        if test is not None:
            p_by_mod[mod.id], how_by_mod[mod.id] = test
        sub_opts = family.subgroup_options(options, var)
        level_est, level_se = [], []
        for level in sorted(frame[var].dropna().unique(), key=str):
            part = frame[frame[var] == level]
            n_t, n_c = family.subgroup_counts(options, part, outcome)
            row = {"moderator": mod.id, "moderator_label": mod.label, "level": str(level),
                   "prespecified": mod.id in prespecified, "n_treated": n_t, "n_control": n_c,
                   "estimate": float("nan"), "ci_lower": float("nan"), "ci_upper": float("nan"),
                   "p_value": float("nan"), "note": "" if mod.id in prespecified else "udforskende (ikke i programteorien)"}
            if min(n_t, n_c) < floor:
                row["note"] = "; ".join(x for x in (row["note"], f"færre end {floor} personer i en gruppe: intet estimat") if x)
            else:
                try:
                    res = family.Estimator(outcome=outcome, **sub_opts).fit(part, **fit_opts)
                except EvaluationError as exc:
                    # e.g. a covariate level that is rare overall occurs in one group only within this level: the
                    # study's other estimates stand; this level gets no estimate, and the report says which and why
                    row["note"] = "; ".join(x for x in (row["note"], "intet estimat: modellen kan ikke estimeres i "
                                                        "undergruppen (en kovariat er konstant eller findes kun i den "
                                                        "ene gruppe)") if x)
                    warnings.warn(f"undergruppen «{mod.label}» = «{level}»: intet estimat, fordi modellen ikke kan "
                                  "estimeres i undergruppen (en kovariat er konstant eller findes kun i den ene gruppe)",
                                  UserWarning, stacklevel=2)
                    logging.getLogger(__name__).info("subgroup %s=%s: %s", mod.id, level, exc)
                    rows.append(row)
                    continue
                e = family.main_term(res)
                row.update(estimate=e.estimate, ci_lower=e.ci_lower, ci_upper=e.ci_upper, p_value=e.p_value)
                level_est.append(e.estimate)
                level_se.append(e.std_error)
            rows.append(row)
        if test is None:
            p_by_mod[mod.id] = _heterogeneity_p(level_est, level_se)
            how_by_mod[mod.id] = "Cochran's Q test of equal within-level estimates of the design (chi², levels − 1 df)"
    table = pd.DataFrame(rows, columns=[c for c in SUBGROUP_COLUMNS if c not in ("p_interaction", "p_interaction_holm")])
    mods = [m for m in p_by_mod if not np.isnan(p_by_mod[m])]
    holm = dict(zip(mods, multipletests([p_by_mod[m] for m in mods], method="holm")[1])) if mods else {}
    table["p_interaction"] = table["moderator"].map(p_by_mod).astype(float)
    table["p_interaction_holm"] = table["moderator"].map(holm).astype(float)
    table.attrs["interaction_test"] = {m: how_by_mod.get(m, "") for m in p_by_mod}
    return table[SUBGROUP_COLUMNS]
