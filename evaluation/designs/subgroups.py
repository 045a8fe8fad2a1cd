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

Rare levels and categories:

- A level of the moderator with fewer than the disclosure threshold of persons in the intervention or
  the comparison group is left out of the interaction test (its persons are dropped from the test's
  regression, so the p-value is the one the data without them would give). Its treatment × level term
  would rest on a handful of persons: with one person per group its HC2 leverage is 1 and the Wald
  statistic is meaningless (an audit saw p = 1e-187 from two such persons). The level's row says so.
- Within one level of a moderator, a covariate of a randomized comparison that cannot be adjusted for
  there is simplified for that level's refit only, and the row's note names it: a covariate that is
  the same for everyone in the level, or the same for everyone in one group, is left out; a category
  too rare to be adjusted for -- fewer than 2 persons in either group, which makes the within-group
  regression rank deficient or gives a person leverage 1 -- is merged with the level's most common
  category (the note says "for sjælden" without a count). Only what the fit needs is changed, so a
  category with, say, 4 persons in a group stays in the adjustment (the threshold is no reason to
  weaken it). Under random allocation covariates only buy precision, so the estimate stays unbiased;
  without this, one rare category elsewhere in the data would remove every estimate of other
  moderators. Observational designs need their covariates for identification, so there (apart from
  a covariate constant in the whole level, which confounds nothing within it) the level gets no
  estimate and the note names the covariate and the category instead.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd
from evaluation._lazy import stats
from evaluation._lazy import multipletests

from evaluation.designs.balance import _is_categorical
from evaluation.designs.family import Family, get_family
from evaluation.exceptions import EvaluationError

__all__ = ["subgroup_table", "SUBGROUP_COLUMNS"]

SUBGROUP_COLUMNS = [
    "moderator", "moderator_label", "level", "prespecified", "n_treated", "n_control",
    "estimate", "ci_lower", "ci_upper", "p_value", "p_interaction", "p_interaction_holm", "note",
]


def interaction_p(frame: pd.DataFrame, outcome: str, treat: str, var: str, options: dict[str, Any],
                  exclude: Sequence[Any] = ()) -> tuple[float, str]:
    """Wald test that the treatment effect is the same at every level of ``var``.

    Honours the analysis's declared ``weights`` (WLS), ``cluster`` (cluster-robust CR1, the
    unit of assignment) and ``strata`` (stratum fixed effects); otherwise HC2. The persons of the
    levels in ``exclude`` (too few persons in a group) are left out of the test.
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
    left_out = sorted({str(v) for v in exclude} & set(df["m"]))
    df = df[~df["m"].isin(left_out)]
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
    if left_out:
        how += f"; level(s) {', '.join(map(repr, left_out))} left out (too few persons in a group)"
    return float(np.asarray(fit.wald_test(r, scalar=True, use_f=True).pvalue)), how


def _fmt_levels(levels: Sequence[Any]) -> str:
    quoted = [f"«{v}»" for v in levels]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " og " + quoted[-1]


def _covariates_in_level(part: pd.DataFrame, outcome: str, covariates: Sequence[str], arms: tuple[Any, ...] | None,
                         floor: int) -> tuple[list[str], dict[str, dict[str, str]], list[str], list[str]]:
    """What one subgroup level's refit can adjust for.

    Returns the covariates to keep, the categories to merge per covariate (``{column: {category: merged
    into}}``), the notes (Danish) for the changes and the problems (Danish) that a design which needs its
    covariates cannot work around. ``arms`` is ``(column, treated, control)``; counts are persons with an
    observed outcome. A category with fewer than ``floor`` (2) persons in either group is merged with the
    level's most common category; a covariate the same for everyone in the level or in one group is left
    out (both would make the within-group regression rank deficient, or give a person leverage 1).
    """
    if not covariates or arms is None:
        return list(covariates), {}, [], []
    col, treated, control = arms
    obs = part[part[outcome].notna() & part[col].isin([treated, control])]
    is_t = (obs[col] == treated).to_numpy()
    keep: list[str] = []
    merges: dict[str, dict[str, str]] = {}
    notes: list[str] = []
    problems: list[str] = []
    for cov in covariates:
        s = obs[cov]
        if s.nunique(dropna=True) <= 1:
            # constant within the level: nothing to adjust for there, in any design
            notes.append(f"kovariaten «{cov}» er ens for alle i undergruppen og indgår ikke i justeringen")
            continue
        if _is_categorical(s) or s.nunique(dropna=True) == 2:
            as_str = s.astype(str)
            tab = pd.crosstab(as_str, is_t).reindex(columns=[True, False], fill_value=0)
            rare = sorted(tab.index[tab.min(axis=1) < floor], key=str)
            if not rare:
                keep.append(cov)
                continue
            word = (('kategorien' if len(rare) == 1 else 'kategorierne') if _is_categorical(s)
                    else ('værdien' if len(rare) == 1 else 'værdierne'))
            problems.append(f"kovariaten «{cov}» har {word} {_fmt_levels(rare)}, der er for sjælden"
                            f"{'' if len(rare) == 1 else 'e'} i en af grupperne i undergruppen til at blive justeret for")
            common = tab.drop(index=rare)
            if len(common) < 2 or not _is_categorical(s):
                notes.append(f"kovariaten «{cov}» indgår ikke i justeringen: {word} {_fmt_levels(rare)} er for "
                             f"sjælden{'' if len(rare) == 1 else 'e'} i en af grupperne i undergruppen")
                continue
            # the most common category (ties: the first by name) takes in the rare ones
            target = str(sorted(common.index, key=lambda v: (-int(common.loc[v].sum()), str(v)))[0])
            merges[cov] = {str(v): target for v in rare}
            notes.append(f"kovariaten «{cov}»: {word} {_fmt_levels(rare)} er for sjælden{'' if len(rare) == 1 else 'e'} "
                         f"i en af grupperne i undergruppen til at blive justeret for særskilt og er slået sammen med "
                         f"«{target}»")
            keep.append(cov)
            continue
        x = s.to_numpy(dtype=float)
        if np.ptp(x[is_t]) == 0 or np.ptp(x[~is_t]) == 0:
            notes.append(f"kovariaten «{cov}» er ens for alle i den ene gruppe i undergruppen og indgår ikke i justeringen")
            problems.append(f"kovariaten «{cov}» er ens for alle i den ene gruppe i undergruppen")
            continue
        keep.append(cov)
    return keep, merges, notes, problems


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
    rare_floor = max(2, int(threshold))
    spec = family.groups(options)
    arms = (spec.column, spec.treated, spec.control) if spec is not None else None
    for mod in moderators:
        var = mod.variable
        if var is None or var not in frame.columns:
            raise EvaluationError(f"moderator {mod.id!r} names the column {var!r}, which the data do not have")
        family.subgroup_check(options, frame, var, mod.id)
        levels = sorted(frame[var].dropna().unique(), key=str)
        counts = {lv: family.subgroup_counts(options, frame[frame[var] == lv], outcome) for lv in levels}
        # a level with too few persons in a group is left out of the interaction test (module docstring)
        too_few = [lv for lv in levels if min(counts[lv]) < rare_floor]
        test = family.interaction_test(frame, outcome, options, var, exclude=[str(lv) for lv in too_few])
        if test is not None:
            p_by_mod[mod.id], how_by_mod[mod.id] = test
        sub_opts = family.subgroup_options(options, var)
        level_est, level_se = [], []
        for level in levels:
            part = frame[frame[var] == level]
            n_t, n_c = counts[level]
            notes = [] if mod.id in prespecified else ["udforskende (ikke i programteorien)"]
            row = {"moderator": mod.id, "moderator_label": mod.label, "level": str(level),
                   "prespecified": mod.id in prespecified, "n_treated": n_t, "n_control": n_c,
                   "estimate": float("nan"), "ci_lower": float("nan"), "ci_upper": float("nan"),
                   "p_value": float("nan"), "note": ""}
            if test is not None and level in too_few:
                notes.append(f"indgår ikke i interaktionstesten: færre end {rare_floor} personer i en af grupperne")
                warnings.warn(f"undergruppen «{mod.label}» = «{level}» indgår ikke i interaktionstesten, fordi den har "
                              f"færre end {rare_floor} personer i en af grupperne", UserWarning, stacklevel=2)
            if min(n_t, n_c) < floor:
                notes.append(f"færre end {floor} personer i en gruppe: intet estimat")
                row["note"] = "; ".join(notes)
                rows.append(row)
                continue
            opts, fit_part = dict(sub_opts), part
            covs, merges, cov_notes, problems = _covariates_in_level(part, outcome, sub_opts.get("covariates") or [],
                                                                     arms, 2)
            if problems and not family.random_assignment:
                # an observational design needs its covariates for identification: no estimate, and say why
                notes.append("intet estimat: " + "; ".join(problems))
                warnings.warn(f"undergruppen «{mod.label}» = «{level}»: intet estimat, fordi "
                              + "; ".join(problems), UserWarning, stacklevel=2)
                row["note"] = "; ".join(notes)
                rows.append(row)
                continue
            if cov_notes:
                opts["covariates"] = covs
                if merges:
                    fit_part = part.assign(**{c: part[c].astype(str).replace(m) for c, m in merges.items()})
                notes.extend(cov_notes)
            try:
                res = family.Estimator(outcome=outcome, **opts).fit(fit_part, **fit_opts)
            except EvaluationError as exc:
                # what the simplification above does not foresee (e.g. two covariates collinear within this level):
                # the study's other estimates stand; this level gets no estimate, and the note and warning say why
                notes.append("intet estimat: modellen kan ikke estimeres i undergruppen")
                warnings.warn(f"undergruppen «{mod.label}» = «{level}»: intet estimat, fordi modellen ikke kan "
                              f"estimeres i undergruppen: {exc}", UserWarning, stacklevel=2)
                logging.getLogger(__name__).info("subgroup %s=%s: %s", mod.id, level, exc)
                row["note"] = "; ".join(notes)
                rows.append(row)
                continue
            e = family.main_term(res)
            row.update(estimate=e.estimate, ci_lower=e.ci_lower, ci_upper=e.ci_upper, p_value=e.p_value,
                       note="; ".join(notes))
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
