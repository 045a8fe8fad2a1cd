"""Difference-in-differences designs: 2x2, two-way fixed effects and Callaway & Sant'Anna.

Three registered designs (evidence level 3 on the Maryland scale):

* :class:`DiD2x2` (``"did_2x2"``) -- treated vs comparison, before vs after, by OLS/WLS with
  cluster-robust standard errors;
* :class:`TWFE` (``"did_twfe"``) -- person and period fixed effects (linearmodels ``PanelOLS``),
  static or event study with relative-time dummies;
* :class:`CallawaySantAnna` (``"did_cs"``) -- staggered adoption with group-time effects
  ATT(g, t), aggregations, influence-function and multiplier-bootstrap inference, pre-trend
  test and placebo start dates.
"""

from __future__ import annotations

import weakref
from typing import Any, Sequence

import numpy as np
import pandas as pd
from evaluation._lazy import stats

from evaluation.exceptions import DataValidationError, EstimationError
from evaluation.results import EffectResult, Estimate
from evaluation.designs.did import _cs, _within
from evaluation.designs.base import Design, register_design

__all__ = ["DiD2x2", "TWFE", "CallawaySantAnna"]

#: above this many pre-enrolment cells the cell-level Wald test (did::att_gt's W) is skipped:
#: its covariance is then large and near-singular; the event-time test is always computed.
_MAX_PRE_CELLS_TEST = 300

#: validated, shift-independent CS panel parts per live data frame (see CallawaySantAnna._panel_base)
_PANEL_BASE: dict[tuple, tuple[Any, dict[str, Any]]] = {}

_COV_NAMES = {"cluster": "cluster-robust", "robust": "heteroskedasticity-robust (HC1)", "classical": "classical (homoskedastic)"}


def _as_tuple(x: str | Sequence[str] | None) -> tuple[str, ...]:
    if x is None:
        return ()
    if isinstance(x, str):
        return (x,)
    return tuple(x)


def _check_conf(conf_level: float) -> float:
    if not (0 < conf_level < 1):
        raise EstimationError(f"conf_level must be in (0, 1), got {conf_level}")
    return float(conf_level)


def _numeric(data: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    for c in cols:
        if not pd.api.types.is_numeric_dtype(data[c]) and not pd.api.types.is_bool_dtype(data[c]):
            raise DataValidationError(f"{what} column {c!r} must be numeric, got dtype {data[c].dtype}")
        if data[c].isna().any():
            raise DataValidationError(f"{what} column {c!r} has {int(data[c].isna().sum())} missing value(s)")


def _binary(s: pd.Series, name: str) -> np.ndarray:
    vals = pd.unique(s.astype(float))
    if not set(vals) <= {0.0, 1.0}:
        raise DataValidationError(f"column {name!r} must be 0/1, found values {sorted(vals)[:5]}")
    return s.astype(float).to_numpy()


def _weights(data: pd.DataFrame, col: str | None) -> np.ndarray | None:
    if col is None:
        return None
    _numeric(data, [col], "weights")
    w = data[col].to_numpy(dtype=float)
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise DataValidationError(f"weights column {col!r} must be finite, non-negative and not all zero")
    return w


# ============================================================================ 2x2


@register_design
class DiD2x2(Design):
    """Two-group, two-period difference-in-differences by least squares.

    Parameters
    ----------
    outcome : str
        Outcome column (e.g. benefit dependency in a window).
    group : str
        0/1 column, 1 = intervention (treated) group.
    time : str
        Column identifying the period: a 0/1 post indicator or exactly two period values
        (the larger is "after").
    unit : str, optional
        Person (unit) identifier; default cluster for standard errors. Omit for repeated
        cross-sections (then pass ``cov_type="robust"`` or ``"classical"`` to ``fit``, or a
        ``cluster``).
    covariates : sequence of str, optional
        Additional regressors (entered linearly).
    weights : str, optional
        Non-negative weight column; the model is then estimated by weighted least squares.
    cluster : str, optional
        Assignment-unit column to cluster on instead of ``unit`` (e.g. jobcentre or cohort).

    Notes
    -----
    Estimand: the average treatment effect on the treated in the after period,

    .. math:: \\tau = (E[Y|G=1, \\text{after}] - E[Y|G=1, \\text{before}])
                   - (E[Y|G=0, \\text{after}] - E[Y|G=0, \\text{before}]),

    identified under parallel trends (and, with covariates, conditional parallel trends in a
    linear model). It is the coefficient on ``group x after`` in
    ``Y = a + b group + c after + tau group x after (+ X'g) + e``. Standard errors are
    cluster-robust by unit (statsmodels, small-sample factor ``G/(G-1) (N-1)/(N-K)``,
    t reference distribution with ``G - 1`` degrees of freedom) unless ``cov_type`` says
    otherwise.

    Examples
    --------
    >>> from evaluation.synthetic.staggered import simulate_two_by_two
    >>> df = simulate_two_by_two(n_persons=400, effect=-0.05, seed=1)
    >>> res = DiD2x2("benefit", group="treated", time="post", unit="person").fit(df)
    >>> e = res.estimate_for("did")
    >>> bool(e.ci_lower < -0.05 < e.ci_upper)
    True
    """

    name = "did_2x2"
    evidence_level = 3
    fit_options = frozenset({"cov_type", "conf_level"})

    def __init__(
        self,
        outcome: str,
        group: str,
        time: str,
        unit: str | None = None,
        covariates: Sequence[str] | None = None,
        weights: str | None = None,
        cluster: str | None = None,
    ):
        self.outcome = outcome
        self.group = group
        self.time = time
        self.unit = unit
        self.covariates = _as_tuple(covariates)
        self.weights = weights
        self.cluster = cluster

    def required_columns(self) -> list[str]:
        return [self.outcome, self.group, self.time, self.unit, *self.covariates, self.weights, self.cluster]

    def _fit(self, data: pd.DataFrame, cov_type: str = "cluster", conf_level: float = 0.95) -> EffectResult:
        from statsmodels.regression.linear_model import OLS, WLS

        conf_level = _check_conf(conf_level)
        if cov_type not in _COV_NAMES:
            raise EstimationError(f"cov_type must be one of {sorted(_COV_NAMES)}, got {cov_type!r}")
        if self.cluster is not None and cov_type != "cluster":
            raise EstimationError(
                f"cluster={self.cluster!r} is declared, so standard errors are clustered on it; "
                f"cov_type={cov_type!r} would ignore it (drop cluster= or use cov_type='cluster')"
            )
        _numeric(data, [self.outcome, self.group, *self.covariates], "model")
        if data[self.time].isna().any():
            raise DataValidationError(f"time column {self.time!r} has missing values")
        tvals = np.sort(pd.unique(data[self.time]))
        if len(tvals) != 2:
            raise DataValidationError(
                f"DiD2x2 needs exactly two periods in {self.time!r}, found {len(tvals)}; use did_twfe or did_cs for more"
            )
        post = (data[self.time] == tvals[1]).to_numpy(dtype=float)
        grp = _binary(data[self.group], self.group)
        if len(np.unique(grp)) < 2:
            raise DataValidationError(f"group column {self.group!r} has only one group")
        y = data[self.outcome].to_numpy(dtype=float)
        X = np.column_stack([np.ones(len(y)), grp, post, grp * post] + [data[c].to_numpy(float) for c in self.covariates])
        names = ["const", "group", "after", "did", *self.covariates]
        w = _weights(data, self.weights)
        cl_col = self.cluster or self.unit
        model = WLS(y, X, weights=w) if w is not None else OLS(y, X)
        if cov_type == "cluster":
            if cl_col is None:
                raise EstimationError(
                    "cov_type='cluster' needs a unit or cluster column; for repeated cross-sections pass "
                    "cov_type='robust' or 'classical'"
                )
            groups = pd.factorize(data[cl_col])[0]
            res = model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
            ncl = int(groups.max() + 1)
            cov_desc = f"cluster-robust by {cl_col} ({ncl} clusters)"
        elif cov_type == "robust":
            res = model.fit(cov_type="HC1", use_t=True)
            cov_desc = _COV_NAMES["robust"]
        else:
            res = model.fit(use_t=True)
            cov_desc = _COV_NAMES["classical"]
        if not np.all(np.isfinite(res.params)) or np.linalg.matrix_rank(X) < X.shape[1]:
            raise EstimationError("the 2x2 regression is rank deficient (collinear covariates?)")
        j = 3
        est, se = float(res.params[j]), float(res.bse[j])
        ci = res.conf_int(alpha=1 - conf_level)[j]
        units = data[self.unit] if self.unit else pd.Series(np.arange(len(data)))
        n_t = int(units[grp == 1].nunique())
        n_c = int(units[grp == 0].nunique())
        method = f"2x2 difference-in-differences, {'WLS' if w is not None else 'OLS'}" + (
            f" with covariates ({', '.join(self.covariates)})" if self.covariates else ""
        ) + f", {cov_desc} SE"
        cells = (
            pd.DataFrame({"group": grp, "after": post, "y": y, "w": w if w is not None else 1.0})
            .assign(wy=lambda d: d.w * d.y)
            .groupby(["group", "after"])
            .agg(n=("y", "size"), wy=("wy", "sum"), w=("w", "sum"))
            .assign(mean=lambda d: d.wy / d.w)
            .reset_index()[["group", "after", "n", "mean"]]
        )
        coef = pd.DataFrame(
            {"term": names, "estimate": res.params, "std_error": res.bse, "p_value": res.pvalues}
        )
        return EffectResult(
            estimand="ATT in the after period (difference in before-after changes, treated minus comparison)",
            estimates=(
                Estimate(
                    term="did", estimate=est, std_error=se, statistic=float(res.tvalues[j]),
                    p_value=float(res.pvalues[j]), ci_lower=float(ci[0]), ci_upper=float(ci[1]),
                    n=int(units.nunique()), method=method, n_treated=n_t, n_control=n_c,
                ),
            ),
            conf_level=conf_level,
            tables={"cell_means": cells, "coefficients": coef},
            diagnostics={
                "cov_type": cov_type, "cluster": cl_col if cov_type == "cluster" else None,
                "weights": self.weights, "n_obs": int(len(y)), "df_resid": float(res.df_resid),
                "periods": [str(v) for v in tvals],
            },
            design=self.name,
            evidence_level=self.evidence_level,
            outcome_type="continuous",
        )


# ============================================================================ TWFE


@register_design
class TWFE(Design):
    """Two-way fixed-effects DiD: person and period effects (linearmodels ``PanelOLS``).

    Parameters
    ----------
    outcome, unit, time : str
        Outcome, person (entity) and period columns of a long panel.
    treatment : str, optional
        0/1 column "treatment in effect" for the static model (term ``"twfe"``).
    cohort : str, optional
        First treated period per unit (NaN/inf = never treated); required for the event study.
    event_study : bool, default False
        Replace the static dummy by relative-time dummies ``e = t - cohort`` (terms ``"e{k}"``).
    event_window : (int, int), optional
        Event times with their own dummy. Beyond the upper end event times are binned into
        it; if the lower end is negative, earlier event times are binned into it, otherwise all
        pre-periods are reference. ``e = -1`` is always the reference. Default: all event times.
    covariates : sequence of str, optional
    weights : str, optional
        Weights (PanelOLS weighted least squares).
    cluster : str, optional
        Assignment-unit column to cluster on; default clusters by ``unit``.

    Notes
    -----
    Estimand: the coefficient ``beta`` in ``Y_it = a_i + l_t + beta D_it (+ X'g) + e_it``. With
    homogeneous effects it is the ATT; with staggered adoption and effects varying over time or
    cohorts it is a variance-weighted average of 2x2 comparisons that can put negative weight
    on some effects (Goodman-Bacon 2021) -- use :class:`CallawaySantAnna` then. The event-study
    coefficients are ``E[Y(e) - Y(-1)]`` contrasts under homogeneity across cohorts.
    Standard errors: cluster-robust by person by default (``cov_type="clustered"``), or
    ``"robust"``/``"unadjusted"``. Clustered standard errors are CR1 as in Stata's ``xtreg, fe
    vce(cluster)`` and ``reghdfe``: the CR0 sandwich of the within regression scaled by
    ``G/(G-1) (N-1)/(N-K)``, where ``K`` counts the regressors and the period effects but not
    the person effects when persons are nested in clusters (they are then absorbed within
    clusters and cost no cluster-level degrees of freedom); intervals and p-values use
    t(G - 1). linearmodels' own default counts the person effects in ``K``, which inflated
    the standard error by about ``sqrt(N / (N - n_persons))`` (4-7 % in short panels) and gave
    over-coverage in the recovery tests.

    Examples
    --------
    >>> from evaluation.synthetic.staggered import simulate_staggered
    >>> df = simulate_staggered(n_persons=300, n_weeks=20, n_cohorts=4, seed=2)
    >>> res = TWFE("benefit", unit="person", time="week", treatment="enrolled").fit(df)
    >>> res.estimates[0].term
    'twfe'
    """

    name = "did_twfe"
    evidence_level = 3
    fit_options = frozenset({"cov_type", "conf_level"})

    def __init__(
        self,
        outcome: str,
        unit: str,
        time: str,
        treatment: str | None = None,
        cohort: str | None = None,
        event_study: bool = False,
        event_window: tuple[int, int] | None = None,
        covariates: Sequence[str] | None = None,
        weights: str | None = None,
        cluster: str | None = None,
    ):
        if event_study and cohort is None:
            raise EstimationError("event_study=True needs cohort= (first treated period per unit)")
        if not event_study and treatment is None:
            raise EstimationError("the static TWFE model needs treatment= (0/1 treatment-in-effect column)")
        if event_window is not None and not event_study:
            raise EstimationError("event_window only applies with event_study=True")
        if cohort is not None and not event_study:
            raise EstimationError("cohort= only applies with event_study=True (the static model uses treatment=)")
        if treatment is not None and event_study:
            raise EstimationError("treatment= is not used by the event study (relative-time dummies come from cohort=); drop it")
        self.outcome = outcome
        self.unit = unit
        self.time = time
        self.treatment = treatment
        self.cohort = cohort
        self.event_study = bool(event_study)
        self.event_window = None if event_window is None else (int(event_window[0]), int(event_window[1]))
        self.covariates = _as_tuple(covariates)
        self.weights = weights
        self.cluster = cluster

    def required_columns(self) -> list[str]:
        return [self.outcome, self.unit, self.time, self.treatment, self.cohort, *self.covariates, self.weights, self.cluster]

    def _design_matrix(self, data: pd.DataFrame) -> tuple[list[str], list[np.ndarray], list[str]]:
        """Regressor names, columns (event-time dummies as booleans) and the reported terms."""
        names: list[str] = []
        cols: list[np.ndarray] = []
        if not self.event_study:
            names.append("twfe")
            cols.append(_binary(data[self.treatment], self.treatment))
            terms = ["twfe"]
        else:
            g = data[self.cohort].astype(float).to_numpy()
            if not (data[self.time] == 0).any():
                g = np.where(g == 0.0, np.nan, g)
            g = np.where(np.isfinite(g), g, np.nan)
            e = data[self.time].astype(float).to_numpy() - g
            ev = e[~np.isnan(e)]
            if ev.size == 0:
                raise DataValidationError(f"cohort column {self.cohort!r} has no treated unit")
            lo, hi = (int(ev.min()), int(ev.max())) if self.event_window is None else self.event_window
            eb = np.minimum(e, hi)  # NaN (never treated) stays NaN
            if lo < 0:
                eb = np.maximum(eb, lo)
            terms = []
            for k in range(lo, hi + 1):
                if k == -1:
                    continue
                d = eb == k
                if not d.any():
                    continue
                names.append(f"e{k}")
                cols.append(d)
                terms.append(f"e{k}")
        for c in self.covariates:
            names.append(c)
            cols.append(data[c].to_numpy(dtype=float))
        return names, cols, terms

    def _fit(self, data: pd.DataFrame, cov_type: str = "clustered", conf_level: float = 0.95) -> EffectResult:
        conf_level = _check_conf(conf_level)
        if cov_type not in ("clustered", "robust", "unadjusted"):
            raise EstimationError(f"cov_type must be 'clustered', 'robust' or 'unadjusted', got {cov_type!r}")
        if self.cluster is not None and cov_type != "clustered":
            raise EstimationError(
                f"cluster={self.cluster!r} is declared, so standard errors are clustered on it; "
                f"cov_type={cov_type!r} would ignore it (drop cluster= or use cov_type='clustered')"
            )
        _numeric(data, [self.outcome, self.time, *self.covariates], "model")
        # person and period codes once; duplicates found from the codes (one pass, no row hashing)
        ua, n_units = _within.codes_of(data[self.unit].to_numpy())
        tb, n_times = _within.codes_of(data[self.time].to_numpy())
        if (ua < 0).any():
            raise DataValidationError(f"unit column {self.unit!r} has missing values")
        if _within.has_duplicate_pairs(ua, tb, n_units, n_times):
            raise DataValidationError(f"duplicate ({self.unit}, {self.time}) rows: a panel has one row per person and period")
        names, cols, terms = self._design_matrix(data)
        w = _weights(data, self.weights)
        # exact two-way within transformation (evaluation.designs.did._within) and least squares on the
        # demeaned data; variances from the demeaned data, as linearmodels' PanelOLS computed them.
        # One N x (k + 1) array, demeaned in place.
        tw = _within.TwoWay(ua, tb, n_units, n_times, w)
        XY = np.empty((len(data), len(cols) + 1), order="F")
        for j, c in enumerate(cols):
            XY[:, j] = c
        XY[:, -1] = data[self.outcome].to_numpy(float)
        del cols
        norms = _within.column_norms(XY[:, :-1], w)
        tw.demean(XY, out=XY)
        Xd, yd = XY[:, :-1], XY[:, -1]
        bad = _within.absorbed(Xd, w=w, norms=norms)
        if bad:
            raise EstimationError(
                "variable(s) absorbed by the person and period effects or collinear with other regressors: "
                + ", ".join(names[j] for j in bad)
            )
        beta, resid, inv = _within.ols(Xd, yd, w)
        N, k = Xd.shape
        crit_df = None
        if cov_type == "clustered":
            # CR0 from the demeaned data (no automatic df adjustment), then the CR1 factor below
            if self.cluster is None:
                codes, G = ua, n_units
                nested = True
                cl_name = self.unit
            else:
                codes, G = _within.codes_of(data[self.cluster].to_numpy())
                if (codes < 0).any():
                    raise DataValidationError(f"cluster column {self.cluster!r} has missing values")
                first = np.full(n_units, -1, dtype=np.intp)
                first[ua] = codes
                nested = bool(np.array_equal(first[ua], codes))
                cl_name = self.cluster
            if G < 3:
                raise EstimationError(f"cluster-robust inference needs at least 3 clusters, found {G}")
            V = _within.vcov_clustered(Xd, resid, inv, codes, G, w)
            K = k + (n_times - 1) + (0 if nested else n_units - 1)
            factor = G / (G - 1) * (N - 1) / (N - K)
            V = V * factor
            se_all = np.sqrt(np.diag(V))
            crit_df = G - 1
            cov_desc = f"clustered by {cl_name} (CR1, {G} clusters, t({G - 1}))"
        elif cov_type == "robust":
            V = _within.vcov_robust(Xd, resid, inv, tw.n_effects, w)
            se_all = np.sqrt(np.diag(V))
            cov_desc = "heteroskedasticity-robust"
        else:
            V = _within.vcov_unadjusted(resid, inv, tw.n_effects, k, w)
            se_all = np.sqrt(np.diag(V))
            cov_desc = "classical (unadjusted)"
        df_resid = N - (k + tw.n_effects)
        if crit_df is None:
            z = stats.norm.ppf(0.5 + conf_level / 2)
        else:
            z = stats.t.ppf(0.5 + conf_level / 2, crit_df)
        pos = {c: j for j, c in enumerate(names)}
        if self.event_study:
            gcol = data[self.cohort].astype(float)
            treated_rows = (np.isfinite(gcol) & (gcol != 0 if not (data[self.time] == 0).any() else True)).to_numpy()
        else:
            treated_rows = (data[self.treatment].astype(float) == 1).to_numpy()
        n_t = int(np.count_nonzero(np.bincount(ua[treated_rows], minlength=n_units)))
        n_all = n_units
        kind = "event study (relative-time dummies, reference e=-1)" if self.event_study else "static"
        method = f"TWFE {kind}, PanelOLS person + period effects{' WLS' if w is not None else ''}, {cov_desc} SE"
        rows = []
        for tname in terms:
            b, s = float(beta[pos[tname]]), float(se_all[pos[tname]])
            if crit_df is None:
                # PanelOLS conventions: t statistic against t(df_resid)
                stat = b / s
                pv = float(2 * stats.t.sf(abs(stat), df_resid))
            else:
                stat = b / s if s > 0 else float("nan")
                pv = float(2 * stats.t.sf(abs(stat), crit_df)) if s > 0 else float("nan")
            rows.append(
                Estimate(
                    term=tname, estimate=b, std_error=s, statistic=stat,
                    p_value=pv, ci_lower=b - z * s, ci_upper=b + z * s,
                    n=n_all, method=method, n_treated=n_t, n_control=n_all - n_t,
                )
            )
        tables = {}
        if self.event_study:
            tables["event_study"] = pd.DataFrame(
                {"event_time": [int(t[1:]) for t in terms], "estimate": [r.estimate for r in rows],
                 "std_error": [r.std_error for r in rows], "ci_lower": [r.ci_lower for r in rows],
                 "ci_upper": [r.ci_upper for r in rows]}
            )
        return EffectResult(
            estimand=(
                "two-way fixed-effects coefficient on treatment (ATT under homogeneous effects)"
                if not self.event_study else "event-time contrasts E[Y(e) - Y(-1)] from a TWFE event study"
            ),
            estimates=tuple(rows),
            conf_level=conf_level,
            tables=tables,
            diagnostics={"cov_type": cov_type, "cluster": (self.cluster or self.unit) if cov_type == "clustered" else None,
                         "n_obs": int(N), "cluster_df": crit_df,
                         "weights": self.weights, "event_window": list(self.event_window) if self.event_window else None},
            design=self.name,
            evidence_level=self.evidence_level,
            # the covariance matrix of the reported terms, for the assumption checks (HonestDiD)
            internals={"vcov": V[np.ix_([pos[t] for t in terms], [pos[t] for t in terms])], "terms": list(terms),
                       "event_times": [int(t[1:]) for t in terms] if self.event_study else None},
        )


# ============================================================================ Callaway & Sant'Anna


@register_design
class CallawaySantAnna(Design):
    """Staggered-adoption DiD with group-time effects (Callaway & Sant'Anna 2021).

    Parameters
    ----------
    outcome, unit, time : str
        Outcome, person and period (integer-coded, e.g. week) columns of a balanced long panel.
    cohort : str
        Period of first treatment per person (enrolment week); NaN, inf or 0 (when 0 is not a
        period) = never treated. Persons first treated after the last period count as never
        treated; persons treated before a base period exists are dropped (both reported).
    covariates : sequence of str, optional
        Time-invariant (baseline) covariates for conditional parallel trends.
    weights : str, optional
        Time-invariant person weights (e.g. sampling weights); normalised to mean one.
    cluster : str, optional
        Time-invariant assignment-unit column: influence functions are summed within clusters
        for analytic SEs, the bootstrap draws one multiplier per cluster.
    control_group : {"nevertreated", "notyettreated"}
    anticipation : int, default 0
        Periods before enrolment in which behaviour may already change (e.g. an Ashenfelter
        dip): the base period becomes ``g - anticipation - 1``.
    base_period : {"varying", "universal"}
    est_method : {"dr", "reg", "ipw", "dr_traditional"}
        Only matters with covariates (without covariates all equal the difference in mean
        changes). ``"dr"`` is the improved, locally efficient doubly robust estimator of
        Sant'Anna & Zhao (2020) (inverse probability tilting + weighted OLS, ``DRDID::
        drdid_imp_panel``); ``"dr_traditional"`` is logit + OLS (``drdid_panel``, the ``"dr"``
        of the R package ``did``).
    cohort_bin : int, default 1
        Coarsen enrolment periods into bins of this many periods (weeks -> 4 for months, 13 for
        quarters). A person is assigned to the first period of its bin, so no treated period is
        counted as untreated; bins start at the first period that has a base period. Reported in
        diagnostics.

    Notes
    -----
    Estimand: the group-time average treatment effects

    .. math:: ATT(g, t) = E[Y_t(g) - Y_t(0) \\mid G = g],

    identified under (conditional) parallel trends from the base period and limited
    anticipation, and their aggregations (``did::aggte``): ``att_overall`` (cohort-size weighted
    average of all post-enrolment cells, the headline), event time ``att_e{k}`` (dynamic),
    cohort ``att_g{g}``, calendar ``att_t{t}`` and their overall summaries. Standard errors come
    from the influence function (``bootstrap=False``) or a multiplier bootstrap with IQR
    standard errors and sup-t uniform bands for the event study (``bootstrap=True``).

    Examples
    --------
    >>> from evaluation.synthetic.staggered import simulate_staggered
    >>> df = simulate_staggered(n_persons=600, n_weeks=30, n_cohorts=6, effect=-0.08, seed=3)
    >>> cs = CallawaySantAnna("benefit", unit="person", time="week", cohort="cohort")
    >>> round(cs.fit(df).estimate_for("att_overall").estimate, 1)
    -0.1
    """

    name = "did_cs"
    evidence_level = 3
    fit_options = frozenset({"bootstrap", "draws", "seed", "bootstrap_weights", "conf_level", "placebo_shift"})

    def __init__(
        self,
        outcome: str,
        unit: str,
        time: str,
        cohort: str,
        covariates: Sequence[str] | None = None,
        weights: str | None = None,
        cluster: str | None = None,
        control_group: str = "nevertreated",
        anticipation: int = 0,
        base_period: str = "varying",
        est_method: str = "dr",
        cohort_bin: int = 1,
    ):
        if control_group not in ("nevertreated", "notyettreated"):
            raise EstimationError(f"control_group must be 'nevertreated' or 'notyettreated', got {control_group!r}")
        if base_period not in ("varying", "universal"):
            raise EstimationError(f"base_period must be 'varying' or 'universal', got {base_period!r}")
        if est_method not in ("dr", "reg", "ipw", "dr_traditional"):
            raise EstimationError(f"est_method must be 'dr', 'reg', 'ipw' or 'dr_traditional', got {est_method!r}")
        if int(anticipation) != anticipation or anticipation < 0:
            raise EstimationError(f"anticipation must be a non-negative integer, got {anticipation!r}")
        if int(cohort_bin) != cohort_bin or cohort_bin < 1:
            raise EstimationError(f"cohort_bin must be a positive integer, got {cohort_bin!r}")
        self.outcome = outcome
        self.unit = unit
        self.time = time
        self.cohort = cohort
        self.covariates = _as_tuple(covariates)
        self.weights = weights
        self.cluster = cluster
        self.control_group = control_group
        self.anticipation = int(anticipation)
        self.base_period = base_period
        self.est_method = est_method
        self.cohort_bin = int(cohort_bin)

    def required_columns(self) -> list[str]:
        return [self.outcome, self.unit, self.time, self.cohort, *self.covariates, self.weights, self.cluster]

    # ---------------------------------------------------------------- data -> panel
    def _panel(self, data: pd.DataFrame, shift: int = 0) -> tuple[_cs.Panel, dict[str, Any]]:
        base = self._panel_base(data)
        uc, uniq_units, periods, tc, n = base["uc"], base["uniq_units"], base["periods"], base["tc"], base["n"]

        def per_unit(col: str, what: str) -> np.ndarray:
            # validated once per data frame (the placebo fit reuses it)
            key = ("per_unit", col)
            if key not in base:
                v = data[col].to_numpy(dtype=float)
                first = np.full(n, np.nan)
                first[uc] = v
                if not np.allclose(v, first[uc], equal_nan=True):
                    raise DataValidationError(f"{what} column {col!r} must be constant within each {self.unit}")
                base[key] = first
            return base[key]

        g = base["g"].copy()
        finite = np.isfinite(g)
        g[finite] -= shift
        info: dict[str, Any] = {}
        after = finite & (g > periods[-1])
        info["n_treated_after_panel_as_never"] = int(after.sum())
        g[after] = np.inf
        finite = np.isfinite(g)
        # cohort binning: bins start at the first period with a base period
        first_ok = periods[0] + 1 + self.anticipation
        if self.cohort_bin > 1:
            late = finite & (g >= first_ok)
            g[late] = first_ok + np.floor((g[late] - first_ok) / self.cohort_bin) * self.cohort_bin
        early = finite & (g < first_ok)
        info["n_dropped_already_treated"] = int(early.sum())
        keep_u = ~early
        if not np.isfinite(g[keep_u]).any():
            raise EstimationError("no treated cohort has a pre-period in the panel")
        if np.isfinite(g[keep_u]).all() and self.control_group == "nevertreated":
            raise EstimationError("control_group='nevertreated' but no person is never treated; use 'notyettreated'")
        w_u = per_unit(self.weights, "weights") if self.weights else None
        if w_u is not None and ((w_u < 0).any() or not np.isfinite(w_u).all()):
            raise DataValidationError(f"weights column {self.weights!r} must be finite and non-negative")
        X_u = np.column_stack([per_unit(c, "covariate") for c in self.covariates]) if self.covariates else None
        cl_u = None
        if self.cluster:
            if "cluster" not in base:
                cc = pd.factorize(data[self.cluster])[0].astype(float)
                first = np.full(n, np.nan)
                first[uc] = cc
                if not np.array_equal(first[uc], cc):
                    raise DataValidationError(f"cluster column {self.cluster!r} must be constant within each {self.unit}")
                base["cluster"] = first
            cl_u = base["cluster"]
        # restrict to kept units
        ku = np.flatnonzero(keep_u)
        y = base["y"]
        if len(ku) == n:  # nothing dropped: no row selection (no copy of the long columns)
            unit_codes, period_codes = uc, tc
        else:
            remap = np.full(n, -1)
            remap[ku] = np.arange(len(ku))
            rows = keep_u[uc]
            unit_codes, period_codes, y = remap[uc[rows]], tc[rows], y[rows]
        panel = _cs.build_panel(
            unit_codes, period_codes, y, g[ku], periods,
            None if w_u is None else w_u[ku], None if X_u is None else X_u[ku],
            None if cl_u is None else cl_u[ku], np.asarray(uniq_units)[ku],
        )
        return panel, info

    def _panel_base(self, data: pd.DataFrame) -> dict[str, Any]:
        """The validated, shift-independent part of the panel (unit and period codes, balance and
        duplicate checks, cohort per unit), computed once per data frame: the placebo fit builds its
        shifted panel from it instead of re-validating every row."""
        key = (id(data), self.unit, self.time, self.cohort, self.outcome)
        cached = _PANEL_BASE.get(key)
        if cached is not None and cached[0]() is data:
            return cached[1]
        _numeric(data, [self.outcome, self.time, *self.covariates], "model")
        tcol = data[self.time]
        if not pd.api.types.is_integer_dtype(tcol) and not np.all(np.mod(tcol.to_numpy(float), 1) == 0):
            raise DataValidationError(f"time column {self.time!r} must hold integer period codes (e.g. week numbers)")
        uc, uniq_units = pd.factorize(data[self.unit], sort=False)
        periods = np.sort(tcol.unique()).astype(np.int64)
        T = len(periods)
        if T < 2:
            raise DataValidationError("a DiD panel needs at least two periods")
        if np.any(np.diff(periods) != 1):
            raise DataValidationError(
                f"time column {self.time!r} must hold consecutive integer periods (gaps found); recode periods first"
            )
        tc = tcol.to_numpy(np.int64) - periods[0]
        n = len(uniq_units)
        uc = uc.astype(np.int64, copy=False)
        cnt = np.bincount(uc * T + tc, minlength=n * T)
        if cnt.max() > 1:
            raise DataValidationError(f"duplicate ({self.unit}, {self.time}) rows")
        if cnt.min() == 0:
            bad = int((cnt.reshape(n, T).min(axis=1) == 0).sum())
            raise DataValidationError(
                f"the panel is unbalanced: {bad} person(s) miss some of the {T} periods; the CS estimator here needs a balanced panel"
            )
        del cnt
        graw = pd.to_numeric(data[self.cohort], errors="coerce").to_numpy(dtype=float)
        nan_raw = np.isnan(graw)
        if nan_raw.sum() != data[self.cohort].isna().sum():
            raise DataValidationError(f"cohort column {self.cohort!r} must be numeric (a period code) or missing")
        g = np.full(n, np.nan)
        g[uc] = graw
        gcheck = g[uc]
        # constant within unit: equal values, or missing in both (NaN != NaN)
        if not ((gcheck == graw) | (np.isnan(gcheck) & nan_raw)).all():
            raise DataValidationError(f"cohort column {self.cohort!r} must be constant within each {self.unit}")
        if periods[0] > 0 or periods[-1] < 0:
            g[g == 0] = np.nan
        g[~np.isfinite(g)] = np.inf
        finite = np.isfinite(g)
        if np.any(np.mod(g[finite], 1) != 0):
            raise DataValidationError(f"cohort column {self.cohort!r} must hold integer period codes")
        base = {"uc": uc, "uniq_units": uniq_units, "periods": periods, "tc": tc, "n": n, "g": g,
                "y": data[self.outcome].to_numpy(float)}
        _PANEL_BASE[key] = (weakref.ref(data), base)
        weakref.finalize(data, _PANEL_BASE.pop, key, None)  # dropped with the frame
        return base

    def _estimate_cells(self, panel: _cs.Panel) -> _cs.GroupTime:
        kw = dict(control_group=self.control_group, anticipation=self.anticipation, base_period=self.base_period)
        if panel.X is None:
            return _cs.group_time_unconditional(panel, **kw)
        return _cs.group_time_covariates(panel, est_method=self.est_method, **kw)

    # ---------------------------------------------------------------- fit
    def _fit(
        self,
        data: pd.DataFrame,
        bootstrap: bool = False,
        draws: int = 999,
        seed: int | None = None,
        bootstrap_weights: str = "mammen",
        conf_level: float = 0.95,
        placebo_shift: int | None = None,
    ) -> EffectResult:
        conf_level = _check_conf(conf_level)
        alpha = 1 - conf_level
        if bootstrap:
            if seed is None:
                raise EstimationError("bootstrap=True needs seed= so the result is reproducible")
            if int(draws) != draws or draws < 99:
                raise EstimationError(f"draws must be an integer >= 99, got {draws!r}")
            if bootstrap_weights not in ("mammen", "rademacher"):
                raise EstimationError(f"bootstrap_weights must be 'mammen' or 'rademacher', got {bootstrap_weights!r}")
        else:
            for opt, val, default in (("draws", draws, 999), ("seed", seed, None), ("bootstrap_weights", bootstrap_weights, "mammen")):
                if val != default:
                    raise EstimationError(f"{opt}= only applies with bootstrap=True")
        panel, info = self._panel(data)
        gt = self._estimate_cells(panel)
        agg = _cs.aggregation_weights(gt, panel)
        K0 = agg.a.shape[0]
        IF = _cs.influence_matrix(gt, panel, agg.a, agg.wif_cells, extra=len(agg.combos))
        est = agg.a @ gt.att
        names = list(agg.names)
        kinds = list(agg.kinds)
        labels = list(agg.labels)
        # overall summaries of dynamic / group / calendar aggregations (did::aggte), in the
        # columns influence_matrix reserved after the K0 aggregation targets
        for j, (nm, (rows, wts, _gv)) in enumerate(agg.combos.items()):
            names.append(nm)
            kinds.append("overall")
            labels.append(np.nan)
            est = np.append(est, wts @ est[rows])
            col = IF[:, rows] @ wts
            if nm == "att_group_overall":
                # estimated cohort-share weights enter the influence function (did::aggte wif)
                col += self._group_wif(panel, _gv, est[rows])
            IF[:, K0 + j] = col
        cluster = panel.cluster
        se = _cs.se_from_if(IF, cluster)
        cell_se = gt.se
        crit = None
        bdiag: dict[str, Any] = {"bootstrap": bool(bootstrap)}
        if cluster is not None:
            # cluster-robust cell SEs need the per-cell influence functions
            cell_if = _cs.influence_matrix(gt, panel, np.eye(gt.n_cells), [None] * gt.n_cells) if gt.n_cells <= 2000 else None
            if cell_if is None:
                raise EstimationError("cluster-robust SEs for more than 2000 group-time cells: coarsen with cohort_bin")
            cell_se = _cs.se_from_if(cell_if, cluster)
        if bootstrap:
            bres, bse = _cs.multiplier_bootstrap(IF, draws=int(draws), seed=int(seed), kind=bootstrap_weights, cluster=cluster)
            se = bse
            ev_cols = np.array([k == "event" for k in kinds])
            crit = _cs.sup_t_critical(bres[:, ev_cols], bse[ev_cols], panel.n, alpha) if ev_cols.any() else float("nan")
            bdiag.update({"draws": int(draws), "seed": int(seed), "weights": bootstrap_weights, "uniform_critical_value": crit})
        # analytic clustered SEs: CR1-type factor (in se_from_if) and t(G - 1) critical values;
        # otherwise (and for the bootstrap, as did::mboot) the normal reference
        t_df = _cs.n_clusters(cluster) - 1 if (cluster is not None and not bootstrap) else None
        z = stats.norm.ppf(1 - alpha / 2) if t_df is None else stats.t.ppf(1 - alpha / 2, t_df)

        def pval(stat: float) -> float:
            return float(2 * (stats.norm.sf(abs(stat)) if t_df is None else stats.t.sf(abs(stat), t_df)))

        # pre-trend test on pre-period event-time effects
        pre = np.array([k == "event" and lab < 0 for k, lab in zip(kinds, labels)])
        W, df, p = _cs.wald_test(est[pre], IF[:, pre], cluster)
        # Wald test on the pre-period ATT(g, t) cells as in did::att_gt (W, Wpval)
        pre_cells = np.flatnonzero(gt.t < gt.g)  # pre-enrolment cells
        if 0 < pre_cells.size <= _MAX_PRE_CELLS_TEST:
            Pc = np.zeros((pre_cells.size, gt.n_cells))
            Pc[np.arange(pre_cells.size), pre_cells] = 1.0
            cif = _cs.influence_matrix(gt, panel, Pc, [None] * pre_cells.size)
            Wc, dfc, pc = _cs.wald_test(gt.att[pre_cells], cif, cluster)
        else:
            Wc, dfc, pc = float("nan"), 0, float("nan")  # reported as skipped in diagnostics
        # group-time table
        gpos = np.searchsorted(panel.periods, gt.g)
        counts = panel.counts
        n_never = int(counts[~np.isfinite(panel.cohorts)].sum())
        n_treated_total = int(panel.n - n_never)
        gt_tab = pd.DataFrame({
            "group": gt.g.astype(np.int64), "time": gt.t.astype(np.int64), "event_time": (gt.ti - gpos).astype(np.int64),
            "base_period": panel.periods[gt.bi].astype(np.int64), "att": gt.att, "std_error": cell_se,
            "ci_lower": gt.att - z * cell_se, "ci_upper": gt.att + z * cell_se,
            "n_treated": gt.n_treated.astype(np.int64), "n_control": gt.n_control.astype(np.int64),
        })
        method = (
            f"CS-DiD {self.est_method if panel.X is not None else 'unconditional'}, "
            f"{'never-treated' if self.control_group == 'nevertreated' else 'not-yet-treated'} controls, "
            + (f"multiplier bootstrap ({bootstrap_weights}, {draws} draws)" if bootstrap else "analytic influence function")
            + (f", clustered by {self.cluster} ({_cs.n_clusters(cluster)} clusters"
               + (f", CR1 factor G/(G-1), t({t_df}) intervals)" if t_df is not None else ")")
               if cluster is not None else "")
            + (f", anticipation {self.anticipation} period(s)" if self.anticipation else "")
            + (f", enrolment cohorts binned into {self.cohort_bin}-period bins" if self.cohort_bin > 1 else "")
        )

        def est_row(i: int) -> Estimate:
            b, s = float(est[i]), float(se[i])
            stat = b / s if s > 0 else float("nan")
            return Estimate(
                term=names[i], estimate=b, std_error=s, statistic=stat,
                p_value=pval(stat) if s > 0 else float("nan"),
                ci_lower=b - z * s, ci_upper=b + z * s, n=int(panel.n), method=method,
                n_treated=n_treated_total if kinds[i] != "group" else int(counts[np.searchsorted(panel.cohorts, labels[i])]),
                n_control=n_never if self.control_group == "nevertreated" else int(panel.n - (n_treated_total if kinds[i] != "group" else int(counts[np.searchsorted(panel.cohorts, labels[i])]))),
            )

        order = [names.index("att_overall")] + [i for i, nm in enumerate(names) if kinds[i] == "overall"] + [
            i for i, k in enumerate(kinds) if k == "event"
        ]
        estimates = [est_row(i) for i in order]

        def table(kind: str, col: str) -> pd.DataFrame:
            idx = [i for i, k in enumerate(kinds) if k == kind]
            t = pd.DataFrame({
                col: np.array([labels[i] for i in idx]).astype(np.int64) if idx else np.array([], dtype=np.int64),
                "estimate": est[idx], "std_error": se[idx],
                "ci_lower": est[idx] - z * se[idx], "ci_upper": est[idx] + z * se[idx],
            })
            if kind == "event" and crit is not None:
                t["cband_lower"] = t["estimate"] - crit * t["std_error"]
                t["cband_upper"] = t["estimate"] + crit * t["std_error"]
            return t

        tables = {
            "group_time": gt_tab,
            "event_study": table("event", "event_time"),
            "by_cohort": table("group", "cohort"),
            "by_calendar": table("calendar", "period"),
        }
        diagnostics: dict[str, Any] = {
            "control_group": self.control_group,
            "est_method": self.est_method if panel.X is not None else "unconditional (reg = ipw = dr without covariates)",
            "anticipation": self.anticipation,
            "base_period": self.base_period,
            "cohort_bin": self.cohort_bin,
            "n_cohorts": int(np.isfinite(panel.cohorts).sum()),
            "n_group_time_cells": int(gt.n_cells),
            "n_persons": int(panel.n),
            "n_never_treated": n_never,
            "n_periods": int(len(panel.periods)),
            "pretrend_test": {"statistic": W, "df": df, "p_value": p,
                              "tested": "pre-enrolment event-time effects, Wald with influence-function covariance"},
            "pretrend_test_cells": {"statistic": Wc, "df": dfc, "p_value": pc,
                                    "tested": "pre-enrolment ATT(g,t) cells (did::att_gt Wpval)",
                                    "skipped": bool(pre_cells.size > _MAX_PRE_CELLS_TEST)},
            "bootstrap": bdiag,
            "covariates": list(self.covariates),
            "weights": self.weights,
            "cluster": self.cluster,
            **info,
        }
        ev_idx = [i for i, k in enumerate(kinds) if k == "event"]
        # the event-time estimates' covariance (analytic, from the influence functions), for the checks
        internals = {"event_times": [int(labels[i]) for i in ev_idx],
                     "event_estimates": [float(est[i]) for i in ev_idx],
                     "vcov": _cs.vcov_from_if(IF[:, ev_idx], cluster) if ev_idx else None,
                     "base_period": self.base_period, "anticipation": self.anticipation}
        if placebo_shift is not None:
            analytic_method = method.replace(f"multiplier bootstrap ({bootstrap_weights}, {draws} draws)",
                                             "analytic influence function")
            if cluster is not None and bootstrap:
                analytic_method = analytic_method.replace(
                    f"({_cs.n_clusters(cluster)} clusters)",
                    f"({_cs.n_clusters(cluster)} clusters, CR1 factor G/(G-1), t({_cs.n_clusters(cluster) - 1}) intervals)")
            zp = z if (cluster is None or not bootstrap) else stats.t.ppf(1 - alpha / 2, _cs.n_clusters(cluster) - 1)
            estimates.append(self._placebo(data, int(placebo_shift), zp, analytic_method, diagnostics))
        return EffectResult(
            estimand="ATT(g,t) = E[Y_t(g) - Y_t(0) | G = g] and its cohort-size weighted average over post-enrolment cells",
            estimates=tuple(estimates),
            conf_level=conf_level,
            tables=tables,
            diagnostics=diagnostics,
            design=self.name,
            evidence_level=self.evidence_level,
            internals=internals,
        )

    def _group_wif(self, panel: _cs.Panel, gvals: np.ndarray, att_g: np.ndarray) -> np.ndarray:
        """did::aggte estimated-weight term for the pg-weighted average of cohort effects."""
        pg_c = _cs._pg(panel)
        cidx = np.searchsorted(panel.cohorts, gvals)
        pg = pg_c[cidx]
        S = pg.sum()
        C = len(panel.cohorts)
        coef = np.zeros(C)
        coef[cidx] = att_g / S - np.sum(pg * att_g) / S**2
        const = np.sum(pg * att_g) / S - np.sum(pg) * np.sum(pg * att_g) / S**2
        w = np.ones(panel.n) if panel.w is None else panel.w
        return w * coef[panel.cohort] - const

    def _placebo(self, data: pd.DataFrame, k: int, z: float, method: str, diagnostics: dict) -> Estimate:
        """Fake start dates ``k`` periods early, using only true pre-enrolment periods.

        Cohorts are shifted to ``g - k``; only cells ``t - (g - k)`` in ``[0, k - 1 - anticipation]``
        enter, so every outcome used is before the true (anticipation-adjusted) start. Under
        parallel trends the placebo ATT is zero.
        """
        if k < 1 + self.anticipation:
            raise EstimationError(f"placebo_shift must be at least anticipation + 1 = {1 + self.anticipation}")
        panel, _ = self._panel(data, shift=k)
        gt = self._estimate_cells(panel)
        agg = _cs.aggregation_weights(gt, panel, max_e=k - 1 - self.anticipation)
        i = agg.names.index("att_overall") if "att_overall" in agg.names else None
        if i is None:
            raise EstimationError("no placebo cell is estimable with this shift")
        a = agg.a[[i]]
        IF = _cs.influence_matrix(gt, panel, a, [agg.wif_cells[i]])
        b = float((a @ gt.att)[0])
        s = float(_cs.se_from_if(IF, panel.cluster)[0])
        stat = b / s if s > 0 else float("nan")
        if panel.cluster is None:
            p = float(2 * stats.norm.sf(abs(stat)))
        else:  # analytic clustered SE: t(G - 1), as for the main estimates
            p = float(2 * stats.t.sf(abs(stat), _cs.n_clusters(panel.cluster) - 1))
        diagnostics["placebo"] = {"shift": k, "estimate": b, "std_error": s, "p_value": p}
        return Estimate(term=f"placebo_shift{k}", estimate=b, std_error=s, statistic=stat, p_value=p,
                        ci_lower=b - z * s, ci_upper=b + z * s, n=int(panel.n),
                        method=f"placebo start dates {k} periods early; " + method,
                        n_treated=int(panel.n - panel.counts[~np.isfinite(panel.cohorts)].sum()),
                        n_control=int(panel.counts[~np.isfinite(panel.cohorts)].sum()))
