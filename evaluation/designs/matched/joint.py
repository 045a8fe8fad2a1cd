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

from evaluation.designs.matched.estimator import MatchedComparison, _weight_derivative_factors
from evaluation.designs.timeeffects import JointEffects, SurvivalDesign
from evaluation.exceptions import EstimationError

__all__ = ["matched_joint_effects", "matched_survival_design", "m_influence_matrix"]


def m_influence_matrix(R, t, s, e, w, Xps, strata, estimand, method, Xout=None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~evaluation.designs.matched.estimator._m_estimation_influence` for many outcome columns at once.

    The estimating equations are linear in the outcome, so every term of the column-by-column influence
    function is a fixed per-person factor times the column: the propensity and stratum parts are shared, the
    outcome regression's part is ``(X_o (M⁺)ᵀ v)_i s_i (1 − t_i) r_ik``. Returns the ``n × K`` influence
    functions and the K estimates; tests/designs/test_time_effects.py checks it against the scalar function.
    """
    R = np.asarray(R, dtype=float)
    n, K = R.shape
    Xt = np.column_stack([np.ones(n), Xps])
    info = (Xt * (s * e * (1.0 - e))[:, None]).T @ Xt / n
    score = Xt * (s * (t - e))[:, None]
    if_beta = score @ np.linalg.pinv(info).T
    Mp = None
    if Xout is not None:
        Xo = np.column_stack([np.ones(n), Xout])
        c = ~t
        Mp = np.linalg.pinv((Xo[c] * s[c][:, None]).T @ Xo[c] / n)
    c1, c0 = _weight_derivative_factors(method, estimand, e)
    groups = np.zeros(n, dtype=np.int64) if strata is None else pd.factorize(strata)[0]
    rescaled = strata is not None and method in ("ipw", "dr")
    a = s * t if estimand == "ATT" else s
    total = np.zeros((n, K))
    est = np.zeros(K)
    for g in (np.unique(groups) if rescaled else [None]):
        ind = np.ones(n, dtype=bool) if g is None else groups == g
        diffs, ifs = [], []
        for grp, cg in ((t, c1), (~t, c0)):
            sel = ind & grp
            wg = np.where(sel, w, 0.0)
            D = wg.sum() / n
            mu = (wg @ R) / np.sum(wg)
            dev = np.where(sel[:, None], R - mu[None, :], 0.0)
            if_mu = wg[:, None] * dev + if_beta @ ((Xt * (wg * cg)[:, None]).T @ dev / n)
            if Mp is not None:
                v = (Xo * wg[:, None]).sum(axis=0) / n
                b = (Xo @ (Mp.T @ v)) * s * (~t)
                if_mu = if_mu - b[:, None] * R
            diffs.append(mu)
            ifs.append(if_mu / D)
        if g is None:
            pi, if_pi = 1.0, np.zeros(n)
        else:
            pi = float(np.sum(a * ind) / np.sum(a))
            if_pi = a * (ind - pi) / a.mean()
        est += pi * (diffs[0] - diffs[1])
        total += if_pi[:, None] * (diffs[0] - diffs[1])[None, :] + pi * (ifs[0] - ifs[1])
    return total, est


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
        if design.method == "dr":
            # the comparison group's outcome regression for every column at once (the design's _dr_residuals)
            X1 = np.column_stack([np.ones(len(Y)), design._outcome_design(Xcov, strata)])
            cc = k & ~t
            sw = np.sqrt(s[cc])
            B, *_ = np.linalg.lstsq(X1[cc] * sw[:, None], Y[cc] * sw[:, None], rcond=None)
            num = Y - X1 @ B
        else:
            num = Y
        infl, est = m_influence_matrix(num[k], t[k], s[k], fit.ps[k], w[k], Xps,
                                       None if strata is None else strata[k], design.estimand, design.method, Xout)
        IF = infl / nk
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
