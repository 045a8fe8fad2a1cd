"""The matched comparison's estimator applied to many outcome columns at once, and its weights for durations.

The propensity score, the final weights and the exact strata do not depend on the outcome, so they are
estimated once; for every outcome column the estimate and its influence function come from the same
stacked estimating equations as the design's M-estimation standard error
(:func:`~evaluation.designs.matched.estimator._m_estimation_influence`: the logistic score, for the
doubly robust estimator the comparison group's outcome regression, and the weighted means), so the
accounting for the estimated propensity score carries over to every week of a cumulative effect and
to their covariances. Nearest-neighbour matching has no such equations: its columns get the
fixed-weight sandwich (as the design's ``se="robust"``), which the method text says.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.designs.matched.estimator import MatchedComparison, _m_estimation_influence
from evaluation.designs.timeeffects import JointEffects, SurvivalDesign
from evaluation.exceptions import EstimationError

__all__ = ["matched_joint_effects", "matched_survival_design"]


def _prepare(frame: pd.DataFrame, options, fit_options, y0: np.ndarray):
    design = MatchedComparison(outcome="__y__", **{k: v for k, v in options.declared().items()})
    data = frame.assign(__y__=y0)
    t = (data[design.treatment] == design.treated).to_numpy()
    Xcov = data[design.covariates].to_numpy(dtype=float)
    strata = design._strata(data)
    wcol = getattr(fit_options, "weights", None)
    s = data[wcol].to_numpy(dtype=float) if wcol else np.ones(len(data))
    fit = design._estimate_once(y0, t, Xcov, strata, s, wcol is not None)
    return design, data, t, Xcov, strata, s, fit


def matched_joint_effects(frame: pd.DataFrame, Y: np.ndarray, options, fit_options) -> JointEffects:
    """Joint effects of a matched comparison on the columns of ``Y`` (rows aligned with ``frame``)."""
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if not np.all(np.isfinite(Y)):
        raise EstimationError("the outcome columns of a joint estimate must be observed for every person")
    design, data, t, Xcov, strata, s, fit = _prepare(frame, options, fit_options, Y[:, 0])
    k = fit.keep
    w = fit.weights
    ccol = getattr(fit_options, "cluster", None)
    clus = pd.factorize(data[ccol])[0] if ccol else None
    K = Y.shape[1]
    est = np.empty(K)
    pos = w > 0
    mt = (Y[pos & t] * w[pos & t, None]).sum(axis=0) / w[pos & t].sum()
    mc = (Y[pos & ~t] * w[pos & ~t, None]).sum(axis=0) / w[pos & ~t].sum()
    if design.method != "nearest":
        nk = int(k.sum())
        Xps, _ = design._ps_design(Xcov, strata, k)
        Xout = design._outcome_design(Xcov, strata)[k] if design.method == "dr" else None
        IF = np.empty((nk, K))
        for j in range(K):
            num = design._dr_residuals(Y[:, j], t, Xcov, strata, s, k) if design.method == "dr" else Y[:, j]
            infl, e = _m_estimation_influence(num[k], t[k], s[k], fit.ps[k], w[k], Xps,
                                              None if strata is None else strata[k], design.estimand, design.method, Xout)
            IF[:, j], est[j] = infl / nk, e
        se_txt = "M-estimation sandwich stacking the propensity-score equations"
        factor, rows_cl = 1.0, None if clus is None else clus[k]
        if design.method == "dr":
            # the doubly robust estimate is a difference in weighted means of the outcome-model residuals
            mt = mc = None
    else:
        # fixed-weight sandwich (HC1-type) of the weighted difference in means, matched sets as clusters
        W1, W0 = w[pos & t].sum(), w[pos & ~t].sum()
        est = mt - mc
        dev = np.where(t[:, None], Y - mt[None, :], Y - mc[None, :])
        scale = np.where(t, 1.0 / W1, -1.0 / W0) * w
        IF = (scale[:, None] * dev)[pos]
        n = int(pos.sum())
        factor = n / (n - 2)
        rows_cl = fit.cluster[pos] if (fit.cluster is not None and clus is None) else (None if clus is None else clus[pos])
        se_txt = "robust SE treating the matching weights as fixed"
    df = None
    if rows_cl is not None:
        codes, inv = np.unique(rows_cl, return_inverse=True)
        G = len(codes)
        if G < 2:
            raise EstimationError("cluster-robust standard errors need at least two clusters")
        S = np.zeros((G, K))
        np.add.at(S, inv, IF)
        IF, factor = S, factor * G / (G - 1)
        se_txt += f", clustered ({G} clusters)"
    how = {"ipw": "IPW", "overlap": "overlap-weighted", "dr": "doubly robust (AIPW)", "nearest": "nearest-neighbour matched"}[design.method]
    return JointEffects(est, IF, factor, df, int(np.sum(pos & t)), int(np.sum(pos & ~t)),
                        f"{how} difference ({design.estimand}), {se_txt}", mt, mc)


def matched_survival_design(frame: pd.DataFrame, options, fit_options) -> SurvivalDesign:
    """The persons with a positive final weight, their groups and final weights (treated as known), the
    declared clusters (or matched sets) and the exact strata."""
    y0 = np.zeros(len(frame))
    design, data, t, Xcov, strata, s, fit = _prepare(frame, options, fit_options, y0)
    pos = fit.weights > 0
    rows = np.flatnonzero(pos)
    ccol = getattr(fit_options, "cluster", None)
    cl = data[ccol].to_numpy()[rows] if ccol else (fit.cluster[rows] if fit.cluster is not None else None)
    return SurvivalDesign(
        rows=rows, treated=t[rows], weights=fit.weights[rows], cluster=cl,
        strata=None if strata is None else strata[rows],
        note=f"the matched comparison's final {design.method} weights ({design.estimand}), treated as known",
    )
