"""Sensitivity of a regression-adjusted (or matched) comparison to unobserved confounding.

* **Omitted-variable bias in partial R² terms** (Cinelli & Hazlett 2020, "Making Sense of Sensitivity",
  JRSS-B 82(1)): from the treatment coefficient's t-statistic and residual degrees of freedom, the partial
  R² of treatment with outcome, the robustness values RV_q (how strongly a confounder must be associated
  with treatment and outcome, as shares of residual variance, to reduce the estimate by 100q %) and
  RV_{q,α} (… to make it no longer significant at level α), and bounds on a confounder k times as strong
  as an observed covariate (``ovb_bounds``: the adjusted estimate, standard error, t and interval).
* **E-values** for ratio outcomes (VanderWeele & Ding 2017, Annals of Internal Medicine 167(4)): the
  minimum strength of association, on the risk-ratio scale, that a confounder needs with both treatment
  and outcome to explain away an observed risk ratio (and its confidence limit closest to 1).

Why our own code: the formulas are closed-form and short. The Python port ``PySensemakr`` (PyPI 0.0.8,
last released February 2024) pulls in jupyter and matplotlib as hard dependencies; the R package
``sensemakr`` is the reference, and its published Darfur example is reproduced to the printed digits in
tests/designs/test_sensemakr.py (data from PySensemakr's wheel, tests/reference/darfur.csv).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from evaluation._lazy import stats

from evaluation.exceptions import EstimationError

__all__ = [
    "partial_r2",
    "robustness_value",
    "OVBBound",
    "ovb_bounds",
    "Sensemakr",
    "sensemakr",
    "evalue_rr",
]


def partial_r2(t_statistic: float, dof: float) -> float:
    """Partial R² of a regressor with the outcome from its t-statistic: t² / (t² + dof)."""
    t2 = float(t_statistic) ** 2
    return t2 / (t2 + float(dof))


def robustness_value(t_statistic: float, dof: float, q: float = 1.0, alpha: float | None = None) -> float:
    """RV_q (``alpha=None``) or RV_{q,α} of ``sensemakr::robustness_value``.

    With f_q = q |t| / sqrt(dof) and f* = |t_{α/2, dof−1}| / sqrt(dof − 1) (0 without α), f = f_q − f*:
    RV = 2 / (1 + sqrt(1 + 4 / f²)) when f > 0, 0 otherwise; when f_q > 1/f* the constraint that both
    partial R² are equal does not bind and RV is the extreme value (f_q² − f*²)/(1 + f_q²).
    """
    if dof <= 1:
        raise EstimationError("the robustness value needs more than one residual degree of freedom")
    fq = q * abs(float(t_statistic)) / math.sqrt(dof)
    fcrit = 0.0 if alpha is None else abs(stats.t.ppf(alpha / 2, dof - 1)) / math.sqrt(dof - 1)
    fqa = fq - fcrit
    if fqa <= 0:
        return 0.0
    if fcrit > 0 and fq > 1 / fcrit:
        return (fq**2 - fcrit**2) / (1 + fq**2)
    return 2 / (1 + math.sqrt(1 + 4 / fqa**2))


@dataclass(frozen=True)
class OVBBound:
    """A confounder ``kd`` (``ky``) times as strong as ``benchmark`` and the estimate it would leave."""

    label: str
    benchmark: str
    kd: float
    ky: float
    r2dz_x: float
    r2yz_dx: float
    adjusted_estimate: float
    adjusted_se: float
    adjusted_t: float
    adjusted_lower: float
    adjusted_upper: float


def _adjusted(est: float, se: float, dof: float, r2dz: float, r2yz: float, alpha: float) -> tuple[float, float, float, float, float]:
    """Estimate, SE, t and interval after removing the bias of a confounder with partial R² (r2dz, r2yz),
    in the direction that reduces |estimate| (``reduce = TRUE``)."""
    bias = math.sqrt(r2yz * r2dz / (1 - r2dz)) * se * math.sqrt(dof)
    new = math.copysign(abs(est) - bias, est) if est != 0 else -bias
    new_se = math.sqrt(max(1 - r2yz, 0.0) / (1 - r2dz)) * se * math.sqrt(dof / (dof - 1))
    tcrit = abs(stats.t.ppf(alpha / 2, dof - 1))
    # r2yz = 1 (a bound capped at 1, as sensemakr caps it): the confounder explains all the remaining outcome
    # variation, the adjusted estimate is exact (standard error 0) and its t-value infinite in its sign
    t = new / new_se if new_se > 0 else math.copysign(math.inf, new) if new != 0 else float("nan")
    return float(new), float(new_se), float(t), float(new - tcrit * new_se), float(new + tcrit * new_se)


def ovb_bounds(est: float, se: float, dof: float, r2dxj_x: float, r2yxj_dx: float, *, benchmark: str,
               kd: Sequence[float] = (1, 2, 3), ky: Sequence[float] | None = None, alpha: float = 0.05) -> list[OVBBound]:
    """Bounds from a benchmark covariate (``ovb_partial_r2_bound`` with ``kd``/``ky`` multiples).

    ``r2dxj_x``: partial R² of the benchmark with the treatment given the other covariates;
    ``r2yxj_dx``: partial R² of the benchmark with the outcome given treatment and the other covariates.
    """
    ky = list(kd) if ky is None else list(ky)
    out = []
    for k_d, k_y in zip(kd, ky):
        r2dz = k_d * r2dxj_x / (1 - r2dxj_x)
        if r2dz >= 1:
            raise EstimationError(f"a confounder {k_d}x as strong as {benchmark!r} is impossible (R² with the treatment ≥ 1)")
        r2zxj = k_d * r2dxj_x**2 / ((1 - k_d * r2dxj_x) * (1 - r2dxj_x))
        if r2zxj >= 1:
            raise EstimationError(f"a confounder {k_d}x as strong as {benchmark!r} is impossible")
        r2yz = ((math.sqrt(k_y) + math.sqrt(r2zxj)) / math.sqrt(1 - r2zxj)) ** 2 * (r2yxj_dx / (1 - r2yxj_dx))
        r2yz = min(r2yz, 1.0)
        adj = _adjusted(est, se, dof, r2dz, r2yz, alpha)
        label = f"{k_d:g}x {benchmark}"
        out.append(OVBBound(label, benchmark, float(k_d), float(k_y), r2dz, r2yz, *adj))
    return out


@dataclass(frozen=True)
class Sensemakr:
    """The sensitivity statistics of one treatment coefficient."""

    estimate: float
    se: float
    t: float
    dof: float
    partial_r2: float
    rv_q: float
    rv_qa: float
    q: float
    alpha: float
    bounds: tuple[OVBBound, ...] = ()


def _ols(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """OLS coefficients, classical standard errors and residual degrees of freedom (rank-aware)."""
    Q, R = np.linalg.qr(X)
    rank = np.linalg.matrix_rank(R)
    if rank < X.shape[1]:
        raise EstimationError("the regression's columns are collinear")
    beta = np.linalg.solve(R, Q.T @ y)
    resid = y - X @ beta
    dof = X.shape[0] - X.shape[1]
    if dof <= 1:
        raise EstimationError("too few observations for the sensitivity regression")
    s2 = float(resid @ resid) / dof
    Rinv = np.linalg.inv(R)
    se = np.sqrt(np.sum(Rinv**2, axis=1) * s2)
    return beta, se, float(dof)


def _design(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, list[str], dict[str, list[int]]]:
    """An intercept plus the columns (categorical ones as dummies, first level dropped), with the positions
    of each column's dummies."""
    parts, names, where = [np.ones(len(frame))], ["(Intercept)"], {}
    for c in columns:
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            where[c] = [len(names)]
            parts.append(s.to_numpy(float))
            names.append(c)
        else:
            levels = sorted(pd.unique(s.astype(str)))
            where[c] = []
            for lev in levels[1:]:
                where[c].append(len(names))
                parts.append((s.astype(str) == lev).to_numpy(float))
                names.append(f"{c}{lev}")
    return np.column_stack(parts), names, where


def sensemakr(frame: pd.DataFrame, outcome: str, treatment: str, covariates: Sequence[str], *,
              benchmarks: Sequence[str] = (), kd: Sequence[float] = (1, 2, 3), q: float = 1.0,
              alpha: float = 0.05) -> Sensemakr:
    """``sensemakr(lm(outcome ~ treatment + covariates), treatment, benchmark_covariates, kd)`` on a data frame.

    The treatment must be numeric (0/1). Rows with a missing value in any used column are dropped (as
    ``lm`` does). Each benchmark must be a numeric covariate (one coefficient).
    """
    cols = [outcome, treatment, *covariates]
    d = frame[cols].dropna()
    X, names, where = _design(d, [treatment, *covariates])
    y = d[outcome].to_numpy(float)
    beta, se, dof = _ols(y, X)
    j = where[treatment][0]
    est, s = float(beta[j]), float(se[j])
    t = est / s
    bounds: list[OVBBound] = []
    for bname in benchmarks:
        if len(where.get(bname, [])) != 1:
            raise EstimationError(f"benchmark {bname!r} must be one numeric covariate of the model")
        bj = where[bname][0]
        r2yxj = partial_r2(beta[bj] / se[bj], dof)
        # treatment regression on the covariates: the benchmark's partial R² with the treatment
        keep = [i for i in range(X.shape[1]) if i != j]
        bd, sd, dofd = _ols(X[:, j], X[:, keep])
        pos = keep.index(bj)
        r2dxj = partial_r2(bd[pos] / sd[pos], dofd)
        bounds.extend(ovb_bounds(est, s, dof, r2dxj, r2yxj, benchmark=bname, kd=kd, alpha=alpha))
    return Sensemakr(estimate=est, se=s, t=t, dof=dof, partial_r2=partial_r2(t, dof),
                     rv_q=robustness_value(t, dof, q), rv_qa=robustness_value(t, dof, q, alpha),
                     q=q, alpha=alpha, bounds=tuple(bounds))


def evalue_rr(rr: float, lo: float | None = None, hi: float | None = None) -> tuple[float, float | None]:
    """E-value of a risk ratio and of its confidence limit closest to 1 (VanderWeele & Ding 2017):
    E = RR + sqrt(RR (RR − 1)) for RR ≥ 1 (RR inverted below 1); the limit's E-value is 1 when the interval
    contains 1."""
    if not (rr > 0):
        raise EstimationError("a risk ratio must be positive")

    def e(x: float) -> float:
        x = 1 / x if x < 1 else x
        return x + math.sqrt(x * (x - 1))

    ev = e(rr)
    if lo is None or hi is None:
        return ev, None
    if lo <= 1 <= hi:
        return ev, 1.0
    return ev, e(lo if rr > 1 else hi)
