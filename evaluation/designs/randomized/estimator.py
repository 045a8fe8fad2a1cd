"""Randomized comparison: intervention vs. control allocated by lottery (Maryland level 5).

Unadjusted differences (Welch / Newcombe), regression-adjusted differences (ANCOVA or Lin's
fully interacted estimator) with heteroskedasticity- or cluster-robust standard errors, block
(stratified) and cluster randomization, and randomization inference.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from evaluation._lazy import stats
from evaluation._lazy import confint_proportions_2indep, proportion_confint

from evaluation.designs.balance import (
    _examples,
    _group_masks,
    balance_table,
    expand_covariates,
    numeric_outcome,
    participant_flow,
)
from evaluation.designs.base import Design, register_design
from evaluation.designs.randomized.compliance import complier_effect
from evaluation.exceptions import DataValidationError, EstimationError
from evaluation.results import EffectResult, Estimate

__all__ = ["RandomizedComparison"]

_OUTCOME_TYPES = ("binary", "continuous")
_ADJUSTMENTS = ("none", "ancova", "lin")
_HC_TYPES = ("HC0", "HC1", "HC2", "HC3")
_PERM_CELLS = 4_000_000  # draws × units per chunk in randomization inference


def _lm():
    """statsmodels' linear models, imported on first use: ~0.2–0.6 s that ``evaluation --help``, ``validate`` and a
    study without a regression adjustment need not pay (not statsmodels.api: it imports every model, formula
    and plotting module, ~1 s)."""
    from statsmodels.regression import linear_model

    return linear_model


def _t_interval(est: float, se: float, df: float, conf: float) -> tuple[float, float, float, float]:
    """(statistic, p, lower, upper) for a t-based estimate."""
    q = stats.t.ppf(0.5 + conf / 2.0, df)
    stat = est / se if se > 0 else float("nan")
    p = float(2.0 * stats.t.sf(abs(stat), df)) if se > 0 else float("nan")
    return stat, p, est - q * se, est + q * se


@register_design
class RandomizedComparison(Design):
    """Intervention vs. control group allocated by lottery.

    Parameters
    ----------
    outcome : str
        Outcome column (numeric; 0/1 for a binary outcome). Missing outcomes are dropped and
        counted per group in ``diagnostics["n_missing_outcome"]`` and the ``flow`` table.
    treatment : str, default "group"
        Column with the allocated group.
    treated, control : str, default "intervention", "control"
        Labels of the two groups; any other value in ``treatment`` raises.
    outcome_type : {"binary", "continuous"} or None, default None
        None infers ``"binary"`` when every observed outcome is 0 or 1.
    covariates : list of str, default ()
        Baseline covariates (numeric, 0/1 or categorical) for the balance table and, unless
        ``adjustment="none"``, for regression adjustment. Categorical covariates enter the
        regression as indicators (first sorted level dropped).
    adjustment : {"lin", "ancova", "none"}, default "lin"
        ``"lin"``: OLS of y on T, centred covariates and T × centred covariates (Lin 2013);
        ``"ancova"``: OLS of y on T and covariates; ``"none"``: covariates are only described.
    strata : str, optional
        Block (stratum) of a block-randomized trial. Stratum indicators are added to the
        adjustment set; with ``"lin"`` or ``"none"`` they are interacted with T, which gives the
        block-size-weighted average of the within-block differences; with ``"ancova"`` stratum
        fixed effects. Randomization inference permutes within strata.
    cluster : str, optional
        Unit of assignment in a cluster-randomized trial (e.g. workplace, GP practice). Every
        interval then uses cluster-robust (CR1) standard errors with t(G − 1) critical values,
        and randomization inference permutes whole clusters.
    weights : str, optional
        Non-negative person weights (e.g. inverse probability of follow-up, or unequal
        assignment probabilities across blocks). Every estimate then targets the weighted
        population: differences and group means/shares are weighted least squares (WLS) fits
        with HC2 (or, with ``cluster``, CR1) standard errors and t intervals; Lin's adjustment
        centres covariates at their weighted means; randomization inference permutes the
        assignment and recomputes the *weighted* difference. Welch, Wilson and Newcombe
        intervals are not defined for weighted data and are then not used (the method string
        says which interval was used). The balance table and participant flow describe the
        allocation and stay unweighted.
    take_up : str, optional
        Whether each allocated person took the intervention up (1 = started, 0 = did not; a
        non-binary dose is allowed). Adds the complier effect beside the intention-to-treat
        estimates: term ``cace`` (for 0/1 take-up; ``iv_effect_per_unit`` otherwise), two-stage
        least squares of the outcome on take-up with allocation as the instrument, the covariates
        and stratum indicators in both stages, the declared weights and clusters
        (:mod:`evaluation.designs.randomized.compliance`); a ``take_up`` table per group; the
        first-stage F in the diagnostics, and a
        :class:`~evaluation.exceptions.WeakTakeUpWarning` when it is below 10.

    Notes
    -----
    Fitting: ``fit(data, conf_level=0.95, cov_type=None, permutations=0, seed=None)``:
    ``cov_type`` is the robust covariance of the adjusted regression: ``"HC2"`` (default),
    ``"HC0"``, ``"HC1"``, ``"HC3"`` or ``"nonrobust"``; with ``cluster`` it is ``"cluster"``
    (default then). A non-HC2 ``cov_type`` without an adjusted regression raises (the Welch SE of
    the unadjusted difference is the HC2 SE). ``permutations`` > 0 adds a randomization-inference
    p-value for the unadjusted difference (``diagnostics["p_value_randomization"]``, two-sided,
    ``(1 + #{|d*| >= |d|}) / (1 + permutations)``), drawn with ``numpy.random.default_rng(seed)``
    within strata and at cluster level when declared; ``permutations`` and ``seed`` are always
    recorded in the diagnostics. ``seed`` without ``permutations`` raises (it would have no use).

    The result's estimates are ``difference_in_means`` (or ``difference_in_proportions``),
    ``mean_``/``share_intervention``, ``mean_``/``share_control`` and, with covariates
    (``adjustment != "none"``) or strata, ``adjusted_difference``. Tables: ``groups`` (n
    analysed, mean or share, SD, missing outcomes per group), ``balance``
    (:func:`~evaluation.designs.balance.balance_table` over all allocated persons) and ``flow``
    (:func:`~evaluation.designs.balance.participant_flow`).

    Estimand: the average treatment effect E[Y(1) − Y(0)] of being *allocated* to the
    intervention rather than the control group (intention to treat), among persons with an
    observed outcome. Because allocation is random, the difference in group means (shares for a
    binary outcome) is unbiased for it; covariate adjustment only sharpens precision. Lin's
    estimator is consistent for the ATE and never less precise asymptotically than the
    unadjusted difference, even with heterogeneous effects (Lin 2013, Ann. Appl. Stat. 7:295–318).
    ANCOVA with stratum fixed effects estimates a precision-weighted average of block effects,
    which equals the ATE when the assignment share is constant across blocks or effects are
    homogeneous. The unadjusted difference ignores strata; it is unbiased when the assignment
    share is the same in every stratum, otherwise read ``adjusted_difference``. Dropping missing
    outcomes keeps the comparison randomized only if follow-up loss is unrelated to allocation
    and outcome (check the ``flow`` table).

    Intervals (``conf_level``): group means use t(n − 1); the difference in means Welch's t;
    group shares Wilson score intervals; the difference in proportions Newcombe's hybrid score
    interval (method 10 of Newcombe 1998, Stat. Med. 17:873–890) with a pooled two-sample z-test;
    adjusted differences the robust covariance ``cov_type`` with t(n − k) critical values
    (t(G − 1) and CR1 when clustered). With HC2, the unadjusted regression SE equals the Welch SE.

    Examples
    --------
    >>> from evaluation.synthetic import simulate_sickness_trial
    >>> from evaluation.designs.randomized.estimator import RandomizedComparison
    >>> df = simulate_sickness_trial(seed=126)
    >>> design = RandomizedComparison(outcome="sick_weeks_52", covariates=["age", "prior_sick_weeks_52", "diagnosis_group"])
    >>> res = design.fit(df, seed=1, permutations=200)
    >>> list(res.tidy()["term"])
    ['difference_in_means', 'mean_intervention', 'mean_control', 'adjusted_difference']
    >>> res.evidence_level
    5
    """

    name = "randomized_comparison"
    evidence_level = 5
    fit_options = frozenset({"conf_level", "cov_type", "permutations", "seed"})

    def __init__(
        self,
        *,
        outcome: str,
        treatment: str = "group",
        treated: str = "intervention",
        control: str = "control",
        outcome_type: str | None = None,
        covariates: Sequence[str] = (),
        adjustment: str = "lin",
        strata: str | None = None,
        cluster: str | None = None,
        weights: str | None = None,
        take_up: str | None = None,
    ):
        if not isinstance(outcome, str) or not outcome:
            raise EstimationError(f"outcome must be a column name, got {outcome!r}")
        if treated == control:
            raise EstimationError(f"treated and control labels must differ, both are {treated!r}")
        if outcome_type not in (None,) + _OUTCOME_TYPES:
            raise EstimationError(f"outcome_type must be one of {list(_OUTCOME_TYPES)} or None, got {outcome_type!r}")
        if adjustment not in _ADJUSTMENTS:
            raise EstimationError(f"adjustment must be one of {list(_ADJUSTMENTS)}, got {adjustment!r}")
        if isinstance(covariates, str):
            raise EstimationError(f"covariates must be a list of column names, got the string {covariates!r}")
        covariates = list(covariates)
        dup = sorted({c for c in covariates if covariates.count(c) > 1})
        if dup:
            raise EstimationError(f"covariates listed more than once: {dup}")
        if weights is not None and (not isinstance(weights, str) or not weights):
            raise EstimationError(f"weights must be a column name, got {weights!r}")
        if take_up is not None and (not isinstance(take_up, str) or not take_up):
            raise EstimationError(f"take_up must be a column name, got {take_up!r}")
        if take_up is not None and take_up in {outcome, treatment, strata, cluster, weights}:
            raise EstimationError(f"take_up {take_up!r} is also the outcome, treatment, strata, cluster or weights column")
        special = {outcome, treatment, strata, cluster, weights, take_up} - {None}
        clash = [c for c in covariates if c in special]
        if clash:
            raise EstimationError(f"covariates {clash} are also the outcome, treatment, strata, cluster, weights or take-up column")
        self.outcome = outcome
        self.treatment = treatment
        self.treated = treated
        self.control = control
        self.outcome_type = outcome_type
        self.covariates = covariates
        self.adjustment = adjustment
        self.strata = strata
        self.cluster = cluster
        self.weights = weights
        self.take_up = take_up

    def required_columns(self) -> list[str]:
        cols = [self.treatment, self.outcome, *self.covariates]
        return cols + [c for c in (self.strata, self.cluster, self.weights, self.take_up) if c is not None]

    # ------------------------------------------------------------------ validation
    def _validate(self, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
        t_all, c_all = _group_masks(data, self.treatment, self.treated, self.control)
        y_s = data[self.outcome]
        y = numeric_outcome(y_s, self.outcome)
        inf = np.isinf(y)
        if inf.any():
            raise DataValidationError(f"outcome column {self.outcome!r} has infinite values in rows {_examples(y_s.index[inf])}")
        obs = ~np.isnan(y)
        for label, m in ((self.treated, t_all), (self.control, c_all)):
            if not (m & obs).any():
                raise DataValidationError(
                    f"the group {label!r} has no observed outcome in column {self.outcome!r} "
                    f"({int(m.sum())} allocated, all missing)"
                )
        binary_values = bool(np.all(np.isin(y[obs], (0.0, 1.0))))
        otype = self.outcome_type or ("binary" if binary_values else "continuous")
        if otype == "binary" and not binary_values:
            bad = y_s.index[obs & ~np.isin(y, (0.0, 1.0))]
            raise DataValidationError(
                f"outcome_type='binary' but outcome column {self.outcome!r} has values other than 0/1 in rows {_examples(bad)}"
            )
        if self.weights is not None:
            ws = data[self.weights]
            if not pd.api.types.is_numeric_dtype(ws) or pd.api.types.is_bool_dtype(ws):
                raise DataValidationError(f"weights column {self.weights!r} must be numeric, got dtype {ws.dtype}")
            wv = ws.to_numpy(dtype=float)
            bad = obs & ~(np.isfinite(wv) & (wv >= 0))
            if bad.any():
                raise DataValidationError(
                    f"weights column {self.weights!r} must be finite and non-negative where the outcome is observed; "
                    f"rows {_examples(ws.index[bad])}"
                )
            for label, m in ((self.treated, t_all), (self.control, c_all)):
                if not (wv[m & obs] > 0).any():
                    raise DataValidationError(f"weights column {self.weights!r} is zero for every analysed person of {label!r}")
        for col in (self.strata, self.cluster):
            if col is not None and data[col].isna().any():
                raise DataValidationError(f"column {col!r} has missing values in rows {_examples(data.index[data[col].isna()])}")
        if self.cluster is not None:
            per = data.groupby(self.cluster, sort=False)[self.treatment].nunique()
            mixed = per.index[per > 1]
            if len(mixed):
                raise DataValidationError(
                    f"cluster column {self.cluster!r}: treatment must be constant within a cluster, but clusters "
                    f"{list(mixed[:5])} hold both groups"
                )
            if self.strata is not None:
                per_s = data.groupby(self.cluster, sort=False)[self.strata].nunique()
                bad_s = per_s.index[per_s > 1]
                if len(bad_s):
                    raise DataValidationError(f"clusters {list(bad_s[:5])} span several strata of {self.strata!r}")
        return t_all, y, obs, otype

    # ------------------------------------------------------------------ estimation
    def _fit(
        self,
        data: pd.DataFrame,
        conf_level: float = 0.95,
        cov_type: str | None = None,
        permutations: int = 0,
        seed: int | None = None,
    ) -> EffectResult:
        if not (isinstance(conf_level, (int, float)) and 0.0 < float(conf_level) < 1.0):
            raise EstimationError(f"conf_level must be strictly between 0 and 1, got {conf_level!r}")
        conf = float(conf_level)
        if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)) or permutations < 0:
            raise EstimationError(f"permutations must be a non-negative integer, got {permutations!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise EstimationError(f"seed must be an integer or None, got {seed!r}")
        if seed is not None and permutations == 0:
            raise EstimationError("seed= only applies with permutations > 0 (randomization inference); nothing else is random")
        regression = bool(self.strata is not None or (self.covariates and self.adjustment != "none"))
        if self.cluster is not None:
            if cov_type not in (None, "cluster"):
                raise EstimationError(
                    f"cluster={self.cluster!r} is declared, so standard errors are cluster-robust; cov_type must be "
                    f"'cluster' or None, got {cov_type!r}"
                )
            cov_used = "cluster"
        else:
            if cov_type is None:
                cov_used = "HC2"
            elif cov_type == "cluster":
                raise EstimationError("cov_type='cluster' needs a cluster column: declare cluster=... in the design")
            elif cov_type not in _HC_TYPES + ("nonrobust",):
                raise EstimationError(f"cov_type must be one of {list(_HC_TYPES + ('nonrobust',))}, got {cov_type!r}")
            elif not regression and self.take_up is None and cov_type != "HC2":
                raise EstimationError(
                    f"cov_type={cov_type!r} applies to the adjusted regression, which is only estimated with covariates "
                    "(and adjustment != 'none') or strata; the unadjusted difference uses Welch/Newcombe intervals "
                    "(the Welch SE equals the HC2 SE)"
                )
            else:
                cov_used = cov_type

        t_all, y_all, obs, otype = self._validate(data)
        c_all = ~t_all
        t = t_all[obs]
        y = y_all[obs]
        n1, n0 = int(t.sum()), int((~t).sum())
        n = n1 + n0
        lt, lc = str(self.treated), str(self.control)
        clusters = data[self.cluster].to_numpy()[obs] if self.cluster is not None else None
        w = data[self.weights].to_numpy(dtype=float)[obs] if self.weights is not None else None
        comp = {"n_treated": n1, "n_control": n0}

        estimates: list[Estimate] = []
        y1, y0 = y[t], y[~t]
        welch_df = None
        if clusters is not None:
            estimates += self._clustered_unadjusted(y, t, clusters, otype, conf, comp, w)
        elif w is not None:
            estimates += self._weighted_unadjusted(y, t, w, otype, conf, comp)
        elif otype == "binary":
            estimates += self._binary_rows(y1, y0, conf, comp)
        else:
            rows, welch_df = self._continuous_rows(y1, y0, conf, comp)
            estimates += rows

        diagnostics: dict[str, Any] = {
            "outcome_type": otype,
            "n_allocated": {lt: int(t_all.sum()), lc: int(c_all.sum())},
            "n_missing_outcome": {lt: int((t_all & ~obs).sum()), lc: int((c_all & ~obs).sum())},
            "n_analysed": {lt: n1, lc: n0},
            "adjustment": self.adjustment,
            "cov_type": (cov_used if regression or clusters is not None or self.take_up is not None
                         else "not used (no adjusted regression)"),
            "conf_level": conf,
            "permutations": int(permutations),
            "seed": seed,
            "weights": self.weights,
        }
        if clusters is not None:
            diagnostics["n_clusters"] = {lt: int(len(np.unique(clusters[t]))), lc: int(len(np.unique(clusters[~t])))}

        if welch_df is not None:
            diagnostics["welch_df"] = welch_df
        if regression:
            est, info = self._adjusted(data.loc[obs], y, t, clusters, cov_used, conf, comp, w)
            estimates.append(est)
            diagnostics.update(info)

        if permutations > 0:
            diagnostics.update(self._randomization_inference(data.loc[obs], y, t, int(permutations), seed, w))

        tables = {
            "groups": self._groups_table(y_all, t_all, obs, otype),
            "balance": balance_table(data, self.treatment, self.treated, self.control, self.covariates),
            "flow": participant_flow(data, self.treatment, self.outcome, self.treated, self.control),
        }
        if self.take_up is not None:
            cace, take_up_table, info = complier_effect(
                data.loc[obs], y, t, take_up=self.take_up,
                covariates=list(self.covariates) if self.adjustment != "none" else [], strata=self.strata,
                clusters=clusters, weights=w, cov_used=cov_used,
                conf=conf, comp=comp, treated_label=lt, control_label=lc, weights_name=self.weights)
            estimates.append(cace)
            tables["take_up"] = take_up_table
            diagnostics.update(info)
        estimand = (
            f"average treatment effect ({self.treated} − {self.control}) on {self.outcome}: "
            f"mean of Y(1) − Y(0) for allocation to {self.treated} rather than {self.control} (intention to treat)"
        )
        return EffectResult(
            estimand=estimand,
            estimates=tuple(estimates),
            conf_level=conf,
            tables=tables,
            diagnostics=diagnostics,
            design=self.name,
            evidence_level=self.evidence_level,
            outcome_type=otype,
        )

    # -- unadjusted, individually randomized
    def _continuous_rows(self, y1, y0, conf, comp) -> tuple[list[Estimate], float]:
        if len(y1) < 2 or len(y0) < 2:
            raise EstimationError("the difference in means needs at least 2 observed outcomes per group")
        n1, n0 = len(y1), len(y0)
        v1, v0 = np.var(y1, ddof=1), np.var(y0, ddof=1)
        diff = float(y1.mean() - y0.mean())
        se = float(np.sqrt(v1 / n1 + v0 / n0))
        if se > 0:
            res = stats.ttest_ind(y1, y0, equal_var=False)
            ci = res.confidence_interval(conf)
            stat, p, lo, hi, df = float(res.statistic), float(res.pvalue), float(ci.low), float(ci.high), float(res.df)
        else:
            stat = p = lo = hi = df = float("nan")
            lo = hi = diff
        rows = [Estimate("difference_in_means", diff, se, stat, p, lo, hi, n1 + n0,
                         f"difference in means, Welch t interval and test (df = {df:.2f})", **comp)]
        for term, v in (("mean_intervention", y1), ("mean_control", y0)):
            m, s = float(v.mean()), float(np.std(v, ddof=1) / np.sqrt(len(v)))
            q = stats.t.ppf(0.5 + conf / 2.0, len(v) - 1)
            rows.append(Estimate(term, m, s, float("nan"), float("nan"), m - q * s, m + q * s, len(v),
                                 f"mean, t interval (df = {len(v) - 1})", **comp))
        return rows, df

    def _binary_rows(self, y1, y0, conf, comp) -> list[Estimate]:
        n1, n0 = len(y1), len(y0)
        k1, k0 = int(round(y1.sum())), int(round(y0.sum()))
        p1, p0 = k1 / n1, k0 / n0
        alpha = 1.0 - conf
        lo, hi = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff", alpha=alpha)
        se = float(np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0))
        pp = (k1 + k0) / (n1 + n0)
        se0 = float(np.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n0)))
        if se0 > 0:
            z = (p1 - p0) / se0
            pval = float(2.0 * stats.norm.sf(abs(z)))
        else:
            z = pval = float("nan")
        rows = [Estimate("difference_in_proportions", p1 - p0, se, z, pval, float(lo), float(hi), n1 + n0,
                         "difference in proportions, Newcombe hybrid score interval (method 10); pooled two-sample z-test; "
                         "std_error unpooled", **comp)]
        for term, k, m in (("share_intervention", k1, n1), ("share_control", k0, n0)):
            l, u = proportion_confint(k, m, alpha=alpha, method="wilson")
            p = k / m
            rows.append(Estimate(term, p, float(np.sqrt(p * (1 - p) / m)), float("nan"), float("nan"), float(l), float(u), m,
                                 "proportion, Wilson score interval", **comp))
        return rows

    # -- unadjusted, individually randomized, weighted
    def _weighted_unadjusted(self, y, t, w, otype, conf, comp) -> list[Estimate]:
        n1, n0 = int(t.sum()), int((~t).sum())
        if n1 < 2 or n0 < 2:
            raise EstimationError("the weighted difference needs at least 2 observed outcomes per group")
        X = np.column_stack([np.ones(len(y)), t.astype(float)])
        fit = _lm().WLS(y, X, weights=w).fit(cov_type="HC2", use_t=True)
        est, se = float(fit.params[1]), float(fit.bse[1])
        df = len(y) - 2
        stat, p, lo, hi = _t_interval(est, se, df, conf)
        what = "proportions" if otype == "binary" else "means"
        rows = [Estimate(f"difference_in_{what}", est, se, stat, p, lo, hi, len(y),
                         f"difference in weighted {what} (WLS on treatment, weights {self.weights}), HC2 SE, t({df}) interval",
                         **comp)]
        for suffix, m in (("intervention", t), ("control", ~t)):
            f = _lm().WLS(y[m], np.ones((int(m.sum()), 1)), weights=w[m]).fit(cov_type="HC2", use_t=True)
            mean, s = float(f.params[0]), float(f.bse[0])
            q = stats.t.ppf(0.5 + conf / 2.0, int(m.sum()) - 1)
            term = ("share_" if otype == "binary" else "mean_") + suffix
            rows.append(Estimate(term, mean, s, float("nan"), float("nan"), mean - q * s, mean + q * s, int(m.sum()),
                                 f"weighted {'proportion' if otype == 'binary' else 'mean'}, HC2 SE, t({int(m.sum()) - 1}) interval",
                                 **comp))
        return rows

    # -- unadjusted, cluster randomized
    def _clustered_unadjusted(self, y, t, clusters, otype, conf, comp, w=None) -> list[Estimate]:
        g = pd.factorize(clusters)[0]
        G = int(g.max()) + 1
        if G < 3:
            raise EstimationError(f"cluster-robust inference needs at least 3 clusters, found {G}")
        X = np.column_stack([np.ones(len(y)), t.astype(float)])
        model = _lm().OLS(y, X) if w is None else _lm().WLS(y, X, weights=w)
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
        est, se = float(fit.params[1]), float(fit.bse[1])
        stat, p, lo, hi = _t_interval(est, se, G - 1, conf)
        what = "proportions" if otype == "binary" else "means"
        wtxt = "" if w is None else "weighted "
        how = "OLS" if w is None else f"WLS, weights {self.weights}"
        rows = [Estimate(f"difference_in_{what}", est, se, stat, p, lo, hi, len(y),
                         f"difference in {wtxt}{what} ({how} on treatment), cluster-robust SE (CR1, {G} clusters), t(G − 1) interval", **comp)]
        for term_suffix, m in (("intervention", t), ("control", ~t)):
            gm = pd.factorize(clusters[m])[0]
            Gm = int(gm.max()) + 1
            ym = y[m]
            if Gm < 2:
                mean = float(ym.mean() if w is None else np.average(ym, weights=w[m]))
                s, lo_m, hi_m = float("nan"), float("nan"), float("nan")
            else:
                mm = _lm().OLS(ym, np.ones((len(ym), 1))) if w is None else _lm().WLS(ym, np.ones((len(ym), 1)), weights=w[m])
                f = mm.fit(cov_type="cluster", cov_kwds={"groups": gm}, use_t=True)
                mean, s = float(f.params[0]), float(f.bse[0])
                q = stats.t.ppf(0.5 + conf / 2.0, Gm - 1)
                lo_m, hi_m = mean - q * s, mean + q * s
            term = ("share_" if otype == "binary" else "mean_") + term_suffix
            rows.append(Estimate(term, mean, s, float("nan"), float("nan"), lo_m, hi_m, int(m.sum()),
                                 f"{wtxt}{'proportion' if otype == 'binary' else 'mean'}, cluster-robust SE (CR1, {Gm} clusters), t(G − 1) interval",
                                 **comp))
        return rows

    # -- regression adjustment
    def _adjusted(self, obs_data, y, t, clusters, cov_used, conf, comp, w=None) -> tuple[Estimate, dict[str, Any]]:
        covs = list(self.covariates) if self.adjustment != "none" else []
        X, _ = expand_covariates(obs_data, covs, drop_first=True) if covs else (pd.DataFrame(index=obs_data.index), [])
        cols = {c: X[c].to_numpy(dtype=float) for c in X.columns}
        n_strata = None
        if self.strata is not None:
            s = obs_data[self.strata].astype(str).to_numpy()
            levels = sorted(np.unique(s))
            n_strata = len(levels)
            if self.adjustment in ("lin", "none"):
                tab = pd.crosstab(s, t)
                lacking = [lev for lev in levels if tab.loc[lev].min() == 0 or tab.loc[lev].shape[0] < 2]
                if lacking:
                    raise DataValidationError(
                        f"strata column {self.strata!r}: strata {lacking[:5]} lack an observed intervention or control "
                        "person, so no within-stratum difference exists"
                    )
            for lev in levels[1:]:
                cols[f"{self.strata} = {lev}"] = (s == lev).astype(float)
        dropped = [k for k, v in cols.items() if np.ptp(v) == 0]
        for k in dropped:
            del cols[k]
        names = list(cols)
        Z = np.column_stack([cols[k] for k in names]) if names else np.empty((len(y), 0))
        tf = t.astype(float)
        interacted = self.adjustment in ("lin", "none")
        if interacted:
            # centred at the (weighted) sample mean, so the T coefficient is the (weighted) ATE
            Zc = Z - (Z.mean(axis=0) if w is None else np.average(Z, axis=0, weights=w))
            X_full = np.column_stack([np.ones(len(y)), tf, Zc, tf[:, None] * Zc])
        else:
            X_full = np.column_stack([np.ones(len(y)), tf, Z])
        k = X_full.shape[1]
        rank = np.linalg.matrix_rank(X_full)
        if rank < k:
            raise EstimationError(
                f"the adjusted regression is rank deficient (rank {rank} < {k} columns): some covariate columns "
                f"({', '.join(names)}) are collinear with each other or with treatment within a group; remove or merge them"
            )
        if len(y) - k < 1:
            raise EstimationError(f"too few observations ({len(y)}) for {k} regression columns")
        if cov_used == "cluster":
            g = pd.factorize(clusters)[0]
            G = int(g.max()) + 1
            if G < 3:
                raise EstimationError(f"cluster-robust inference needs at least 3 clusters, found {G}")
            model = _lm().OLS(y, X_full) if w is None else _lm().WLS(y, X_full, weights=w)
            fit = model.fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
            df = G - 1
            se_txt = f"cluster-robust SE (CR1, {G} clusters), t(G − 1) interval"
        else:
            model = _lm().OLS(y, X_full) if w is None else _lm().WLS(y, X_full, weights=w)
            fit = model.fit(cov_type=cov_used, use_t=True)
            df = len(y) - k
            se_txt = (f"{cov_used} SE" if cov_used != "nonrobust" else "classical OLS SE") + f", t({df}) interval"
        est, se = float(fit.params[1]), float(fit.bse[1])
        if not np.isfinite(se):
            raise EstimationError("the robust standard error is not finite (a leverage of 1: an observation fits exactly)")
        stat, p, lo, hi = _t_interval(est, se, df, conf)
        if self.adjustment == "lin":
            how = "Lin (2013) OLS with treatment × centred covariates"
        elif self.adjustment == "ancova":
            how = "ANCOVA OLS with covariates" + (" and stratum fixed effects" if self.strata else "")
        else:
            how = "block-weighted difference (OLS with treatment × centred stratum indicators)"
        if self.strata is not None and self.adjustment == "lin":
            how += " (stratum indicators included)"
        if w is not None:
            how = how.replace("OLS", "WLS", 1) + f", weights {self.weights}"
        info = {"adjusted_columns": names, "dropped_constant_columns": dropped, "adjusted_df": float(df)}
        if n_strata is not None:
            info["n_strata"] = n_strata
        return Estimate("adjusted_difference", est, se, stat, p, lo, hi, len(y), f"{how}, {se_txt}", **comp), info

    # -- randomization inference
    def _randomization_inference(self, obs_data, y, t, draws: int, seed, w=None) -> dict[str, Any]:
        rng = np.random.default_rng(seed)
        n = len(y)
        n1 = int(t.sum())
        wv = np.ones(n) if w is None else np.asarray(w, dtype=float)
        wy = wv * y
        observed = float(wy[t].sum() / wv[t].sum() - wy[~t].sum() / wv[~t].sum())
        # units of assignment: clusters when declared, else persons
        if self.cluster is not None:
            unit = pd.factorize(obs_data[self.cluster].to_numpy())[0]
        else:
            unit = np.arange(n)
        U = int(unit.max()) + 1
        unit_t = np.zeros(U, dtype=bool)
        unit_t[unit] = t
        if self.strata is not None:
            ust = np.empty(U, dtype=object)
            ust[unit] = obs_data[self.strata].astype(str).to_numpy()
            blocks = [np.flatnonzero(ust == lev) for lev in sorted(set(ust))]
        else:
            blocks = [np.arange(U)]
        count = 0
        chunk = max(1, min(draws, _PERM_CELLS // max(n, U)))
        done = 0
        scale = max(1.0, abs(observed))
        while done < draws:
            b = min(chunk, draws - done)
            T = np.empty((b, U), dtype=bool)
            for idx in blocks:
                T[:, idx] = rng.permuted(np.broadcast_to(unit_t[idx], (b, len(idx))), axis=1)
            Tu = T[:, unit].astype(float)  # draws × persons
            nt = Tu @ wv
            s1 = Tu @ wy
            with np.errstate(invalid="ignore", divide="ignore"):
                stat = s1 / nt - (wy.sum() - s1) / (wv.sum() - nt)
            count += int(np.sum(np.abs(stat) >= abs(observed) - 1e-12 * scale))
            done += b
        p = (1 + count) / (1 + draws)
        scheme = "permuting " + ("clusters" if self.cluster is not None else "persons") + (
            " within strata" if self.strata is not None else "")
        return {
            "p_value_randomization": float(p),
            "randomization_statistic": ("difference in means (unadjusted)" if w is None else
                                        f"difference in weighted means (unadjusted, weights {self.weights})")
            + ", two-sided |stat*| >= |stat|",
            "randomization_observed": observed,
            "randomization_scheme": scheme,
            "randomization_n_treated": n1,
        }

    # -- tables
    def _groups_table(self, y_all, t_all, obs, otype) -> pd.DataFrame:
        rows = []
        for label, m in ((self.treated, t_all), (self.control, ~t_all)):
            v = y_all[m & obs]
            rows.append({
                "group": label,
                "n": int(len(v)),
                ("share" if otype == "binary" else "mean"): float(v.mean()) if len(v) else float("nan"),
                "sd": float(np.std(v, ddof=1)) if len(v) > 1 else float("nan"),
                "missing": int((m & ~obs).sum()),
            })
        return pd.DataFrame(rows)
