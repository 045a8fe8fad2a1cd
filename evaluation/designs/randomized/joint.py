"""The randomized comparison's estimator applied to many outcome columns at once, with joint influence functions.

The adjusted difference is linear in the outcome: with the design matrix ``X`` of
:class:`~evaluation.designs.randomized.estimator.RandomizedComparison` (treatment, centred covariates,
their interactions for Lin's estimator, stratum indicators; weights for WLS) the treatment coefficient
of outcome column k is ``a'Y_k`` with ``a' = e_T'(X'WX)⁻¹X'W``. Its HC2 variance is
``Σ_i a_i² e_ik² / (1 − h_ii)`` and its CR1 variance ``G/(G−1)·(N−1)/(N−K)·Σ_g (Σ_{i∈g} a_i e_ik)²``
(statsmodels' conventions, which the estimator uses), so ``IF_ik = a_i e_ik / sqrt(1 − h_ii)`` (HC2) or
``a_i e_ik`` summed within clusters gives every column's variance and every covariance — the joint
sampling distribution of the weekly effects that a cumulative effect needs. Without covariates or
strata this is the difference in means with the Welch (= HC2) standard error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.designs.balance import expand_covariates
from evaluation.designs.timeeffects import JointEffects, SurvivalDesign
from evaluation.exceptions import EstimationError

__all__ = ["randomized_joint_effects", "randomized_survival_design"]


def _design_matrix(frame: pd.DataFrame, t: np.ndarray, options, w: np.ndarray | None) -> np.ndarray:
    covs = list(options.covariates) if options.adjustment != "none" else []
    if covs:
        Xc, _ = expand_covariates(frame, covs, drop_first=True)
        cols = {c: Xc[c].to_numpy(dtype=float) for c in Xc.columns}
    else:
        cols = {}
    if options.strata is not None:
        s = frame[options.strata].astype(str).to_numpy()
        for lev in sorted(np.unique(s))[1:]:
            cols[f"stratum={lev}"] = (s == lev).astype(float)
    cols = {k: v for k, v in cols.items() if np.ptp(v) > 0}
    Z = np.column_stack(list(cols.values())) if cols else np.empty((len(t), 0))
    tf = t.astype(float)
    if options.adjustment in ("lin", "none"):
        Zc = Z - (Z.mean(axis=0) if w is None else np.average(Z, axis=0, weights=w))
        X = np.column_stack([np.ones(len(t)), tf, Zc, tf[:, None] * Zc])
    else:
        X = np.column_stack([np.ones(len(t)), tf, Z])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise EstimationError("the adjusted regression is rank deficient for the cumulative effects (collinear covariates)")
    return X


def randomized_joint_effects(frame: pd.DataFrame, Y: np.ndarray, options, cov_type: str | None = None) -> JointEffects:
    """Joint effects of a randomized comparison on the columns of ``Y`` (rows aligned with ``frame``)."""
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if not np.all(np.isfinite(Y)):
        raise EstimationError("the outcome columns of a joint estimate must be observed for every person")
    t = (frame[options.treatment] == options.treated).to_numpy()
    w = frame[options.weights].to_numpy(dtype=float) if options.weights else None
    X = _design_matrix(frame, t, options, w)
    n, k = X.shape
    ww = np.ones(n) if w is None else w
    XtW = X.T * ww[None, :]
    A = np.linalg.inv(XtW @ X)
    a = (A @ XtW)[1]                          # treatment coefficient weights (n,)
    B = A @ (XtW @ Y)
    E = Y - X @ B
    est = B[1]
    if options.cluster is not None:
        g = pd.factorize(frame[options.cluster])[0]
        G = int(g.max()) + 1
        if G < 3:
            raise EstimationError(f"cluster-robust inference needs at least 3 clusters, found {G}")
        IF = np.zeros((G, Y.shape[1]))
        np.add.at(IF, g, a[:, None] * E)
        factor = G / (G - 1) * (n - 1) / (n - k)
        df, se_txt = float(G - 1), f"cluster-robust (CR1, {G} clusters)"
    else:
        if cov_type not in (None, "HC2"):
            raise EstimationError(f"joint effects use HC2 (or CR1 with clusters), not {cov_type!r}")
        h = np.einsum("ij,jk,ik->i", X, A, X) * ww
        if np.any(h >= 1 - 1e-12):
            raise EstimationError("a leverage of 1: the HC2 variance is not defined")
        IF = a[:, None] * E / np.sqrt(1.0 - h)[:, None]
        factor, df, se_txt = 1.0, float(n - k), "HC2"
    if options.covariates and options.adjustment == "lin":
        how = "Lin (2013) regression-adjusted difference"
    elif options.covariates and options.adjustment == "ancova":
        how = "ANCOVA-adjusted difference"
    else:
        how = "difference in means" + (" (block-weighted)" if options.strata else "")
    if w is not None:
        how += ", weighted"
    mt = (Y[t] * ww[t, None]).sum(axis=0) / ww[t].sum()
    mc = (Y[~t] * ww[~t, None]).sum(axis=0) / ww[~t].sum()
    return JointEffects(est, IF, factor, df, int(t.sum()), int((~t).sum()), f"{how}, {se_txt} SE", mt, mc)


def randomized_survival_design(frame: pd.DataFrame, options) -> SurvivalDesign:
    """Every allocated person, the allocated group, declared weights, clusters and strata."""
    keep = frame[options.treatment].isin([options.treated, options.control]).to_numpy()
    rows = np.flatnonzero(keep)
    f = frame.iloc[rows]
    return SurvivalDesign(
        rows=rows, treated=(f[options.treatment] == options.treated).to_numpy(),
        weights=f[options.weights].to_numpy(dtype=float) if options.weights else None,
        cluster=f[options.cluster].to_numpy() if options.cluster else None,
        strata=f[options.strata].to_numpy() if options.strata else None,
        note="intention to treat: every person allocated by the lottery, in the allocated group",
    )
