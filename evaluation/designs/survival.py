"""Survival estimators for duration outcomes: Kaplan–Meier, Aalen–Johansen, restricted mean survival
time (RMST), simultaneous bands and the Cox hazard ratio.

Why our own Kaplan–Meier, Aalen–Johansen and RMST and not lifelines' fitters: the designs weight
persons (a matched comparison's final weights), cluster them (cluster-randomized trials) and need
the influence function of every curve and area, so two groups' differences, cluster-robust
variances and simultaneous bands come from one place; lifelines' ``KaplanMeierFitter`` gives
neither influence functions nor cluster-robust variances, and its ``AalenJohansenFitter`` no
variance with weights. They are short closed forms (below), checked against R ``survival``,
``survRM2`` and ``cmprsk`` printed output (tests/reference/survival_published.json) and against
lifelines on the same data (benchmarks/bench_survival.py). The Cox model is lifelines'
``CoxPHFitter`` (Efron ties, robust sandwich variance, weights, clusters and strata), which needs
no reimplementation.

Notation: for one group with times ``T_i`` (weeks since the index week: the week of the event or
the last observed week), event indicator or cause ``δ_i`` and weights ``w_i``, at each distinct
time ``u``: ``Y(u) = Σ w_i 1[T_i ≥ u]`` (at risk), ``dN(u) = Σ w_i δ_i 1[T_i = u]``,
``h = dN/Y`` and ``S(u) = Π_{v ≤ u} (1 − h(v))``.

Variances
---------
* Unweighted and without clusters: Greenwood for ``S`` (R ``survfit``), Greenwood plug-in for the
  RMST (``survRM2::rmst2``), Aalen (1978) as computed by ``cmprsk::cuminc`` for the cumulative
  incidence.
* Weighted or clustered: the infinitesimal jackknife, i.e. the influence function of the
  product-limit estimator, ``IF_i(S(t)) = −S(t) w_i Σ_{u ≤ t} [δ_i 1(T_i = u) − h(u) 1(T_i ≥ u)] /
  (Y(u) − dN(u))``, summed within clusters (factor G/(G−1)); the RMST's is its integral, which
  reduces to ``−w_i [δ_i 1(T_i ≤ τ) A(T_i)/(Y − dN)(T_i) − Σ_{u ≤ min(T_i, τ)} h(u) A(u)/(Y(u) − dN(u))]``
  with ``A(u) = ∫_u^τ S(t) dt``, an O(n) pass.

Bands
-----
Equal-precision (Nair 1984) simultaneous bands on the log(−log) scale. Without weights the
critical value is the (1 − α) quantile of ``sup |B⁰(a)| / sqrt(a(1 − a))`` over the attained values
``a(t) = nσ²(t)/(1 + nσ²(t))`` (σ² the Greenwood sum), simulated from a Brownian bridge with a
fixed seed (Klein & Moeschberger 2003, §4.4, whose Table C.5 tabulates the same quantity); with
weights or clusters it is the sup-t critical value of the standardised influence process drawn
with Gaussian multipliers (per cluster), which is the same band asymptotically.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
from evaluation._lazy import stats

from evaluation.exceptions import DataValidationError, EstimationError

__all__ = [
    "SurvivalData",
    "KaplanMeier",
    "kaplan_meier",
    "CumulativeIncidence",
    "aalen_johansen",
    "rmst",
    "RMST",
    "rmst_difference",
    "ep_band_critical",
    "multiplier_band_critical",
    "cox_model",
    "cox_hazard_ratio",
    "km_band",
    "BAND_DRAWS",
    "BAND_SEED",
]

#: draws and seed of the simulated band critical values (fixed: the same data give the same band)
BAND_DRAWS = 20_000
BAND_SEED = 20_240_915


def _as_arrays(time, event, weights=None, cluster=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    t = np.asarray(time, dtype=float)
    d = np.asarray(event)
    if t.ndim != 1 or d.shape != t.shape:
        raise DataValidationError("time and event must be one-dimensional and of the same length")
    if len(t) == 0:
        raise DataValidationError("no persons to analyse")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise DataValidationError("times must be finite and non-negative")
    d = d.astype(np.int64)
    if np.any(d < 0):
        raise DataValidationError("event codes must be 0 (censored) or a positive cause number")
    w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != t.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise DataValidationError("weights must be finite, non-negative and one per person")
    cl = None if cluster is None else np.asarray(cluster)
    if cl is not None and cl.shape != t.shape:
        raise DataValidationError("one cluster label per person is required")
    return t, d, w, cl


def _cluster_sums(IF: np.ndarray, cluster: np.ndarray | None) -> tuple[np.ndarray, float]:
    """Influence functions summed within clusters and the CR1 factor G/(G−1) (1 without clusters)."""
    if cluster is None:
        return IF, 1.0
    codes, uniq = _factor(cluster)
    G = len(uniq)
    if G < 2:
        raise EstimationError("cluster-robust variances need at least two clusters")
    if IF.ndim == 1:
        return np.bincount(codes, weights=IF, minlength=G), G / (G - 1)
    out = np.zeros((G, IF.shape[1]))
    np.add.at(out, codes, IF)
    return out, G / (G - 1)


def _factor(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, codes = np.unique(np.asarray(x).astype(str), return_inverse=True)
    return codes, uniq


@dataclass(frozen=True)
class SurvivalData:
    """One group's durations: times, causes (0 = censored), weights and clusters, and the distinct
    times with their (weighted and unweighted) at-risk and event counts."""

    time: np.ndarray
    event: np.ndarray
    weights: np.ndarray
    cluster: np.ndarray | None
    u: np.ndarray               # distinct times (sorted)
    pos: np.ndarray             # position of each person's time in u
    at_risk: np.ndarray         # weighted Y(u)
    n_at_risk: np.ndarray       # persons at risk
    events: np.ndarray          # weighted dN(u), all causes, shape (U,)
    n_events: np.ndarray        # persons with an event at u, all causes
    cause_events: dict[int, np.ndarray] = field(default_factory=dict)    # weighted dN_k(u)
    n_cause_events: dict[int, np.ndarray] = field(default_factory=dict)  # persons with cause k at u

    @property
    def weighted(self) -> bool:
        return not np.all(self.weights == 1.0)

    @property
    def robust(self) -> bool:
        """Whether the influence-function (infinitesimal jackknife) variance is used."""
        return self.weighted or self.cluster is not None

    @classmethod
    def build(cls, time, event, weights=None, cluster=None) -> "SurvivalData":
        t, d, w, cl = _as_arrays(time, event, weights, cluster)
        ti = t.astype(np.int64)
        if len(t) and np.array_equal(ti, t) and ti.max() < 1_000_000:
            # whole weeks: distinct times by counting (no sort of a million floats)
            present = np.bincount(ti) > 0
            u = np.flatnonzero(present).astype(float)
            rank = np.cumsum(present) - 1
            pos = rank[ti]
        else:
            u, pos = np.unique(t, return_inverse=True)
        U = len(u)
        wt_count = np.bincount(pos, weights=w, minlength=U)
        n_count = np.bincount(pos, minlength=U).astype(float)
        at_risk = np.cumsum(wt_count[::-1])[::-1]
        n_at_risk = np.cumsum(n_count[::-1])[::-1]
        ev = d > 0
        events = np.bincount(pos, weights=w * ev, minlength=U)
        n_events = np.bincount(pos, weights=ev.astype(float), minlength=U)
        ce, nce = {}, {}
        for k in np.unique(d[ev]).tolist():
            m = d == k
            ce[int(k)] = np.bincount(pos, weights=w * m, minlength=U)
            nce[int(k)] = np.bincount(pos, weights=m.astype(float), minlength=U)
        return cls(t, d, w, cl, u, pos, at_risk, n_at_risk, events, n_events, ce, nce)


def _step_index(u: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Index of the last distinct time ≤ each of ``times`` (−1 before the first)."""
    return np.searchsorted(u, np.asarray(times, dtype=float), side="right") - 1


# ---------------------------------------------------------------------------------- Kaplan–Meier
@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan–Meier curve of one group (``S`` at the distinct times ``data.u``)."""

    data: SurvivalData
    surv: np.ndarray
    hazard: np.ndarray
    greenwood: np.ndarray       # Σ dN/(Y(Y − dN)) up to each time (σ² without S²)
    conf_level: float = 0.95

    def at(self, times) -> np.ndarray:
        """S(t) at ``times`` (right-continuous step function; 1 before the first time)."""
        idx = _step_index(self.data.u, times)
        return np.where(idx >= 0, self.surv[np.maximum(idx, 0)], 1.0)

    def influence(self, times) -> np.ndarray:
        """``n × len(times)`` influence functions of S(t) (person rows in input order; not clustered)."""
        D = self.data
        times = np.asarray(times, dtype=float)
        denom = D.at_risk - D.events
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(denom > 0, self.hazard / denom, 0.0)   # h/(Y − dN)
            jump = np.where(denom > 0, 1.0 / denom, 0.0)        # 1/(Y − dN) at the person's own time
        G = np.cumsum(g)
        idx = _step_index(D.u, times)                           # (m,)
        p = D.pos                                               # (n,)
        # term_i(t) = δ_i 1(T_i ≤ t)/(Y − dN)(T_i) − G(min(t, T_i))
        mi = np.minimum(idx[None, :], p[:, None])               # index of min(t, T_i)
        Gm = np.where(mi >= 0, G[np.maximum(mi, 0)], 0.0)
        ev = (D.event > 0).astype(float)
        own = (ev * jump[p])[:, None] * (p[:, None] <= idx[None, :])
        S = self.at(times)
        return -(S[None, :]) * D.weights[:, None] * (own - Gm)

    def std_error(self, times) -> np.ndarray:
        """Standard error of S(t): Greenwood (unweighted, no clusters) or the clustered influence function."""
        times = np.asarray(times, dtype=float)
        S = self.at(times)
        if not self.data.robust:
            idx = _step_index(self.data.u, times)
            gw = np.where(idx >= 0, self.greenwood[np.maximum(idx, 0)], 0.0)
            return S * np.sqrt(gw)
        IF, f = _cluster_sums(self.influence(times), self.data.cluster)
        return np.sqrt(f * np.sum(IF**2, axis=0))

    def conf_int(self, times, conf_type: str = "log-log") -> tuple[np.ndarray, np.ndarray]:
        """Pointwise interval: ``"log-log"`` (Kalbfleisch–Prentice; lifelines, Stata), ``"log"`` (R's default)
        or ``"plain"``."""
        S, se = self.at(times), self.std_error(times)
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        return _transform_ci(S, se, z, conf_type)


def _transform_ci(S: np.ndarray, se: np.ndarray, z: float, conf_type: str) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "log":
            lo, hi = S * np.exp(-z * se / S), np.minimum(1.0, S * np.exp(z * se / S))
        elif conf_type == "log-log":
            lS = np.log(S)
            sel = se / (S * np.abs(lS))
            lo, hi = S ** np.exp(-z * sel), S ** np.exp(z * sel)  # S^exp(±z·se/(S|log S|))
            lo, hi = np.where(lS < 0, lo, np.nan), np.where(lS < 0, hi, np.nan)
            lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
        elif conf_type == "plain":
            lo, hi = np.maximum(0.0, S - z * se), np.minimum(1.0, S + z * se)
        else:
            raise EstimationError(f"conf_type must be 'log', 'log-log' or 'plain', got {conf_type!r}")
    return np.where(S > 0, lo, np.nan), np.where(S > 0, hi, np.nan)


def kaplan_meier(time, event, weights=None, cluster=None, *, conf_level: float = 0.95) -> KaplanMeier:
    """The (weighted) Kaplan–Meier estimate of S(t) = P(T > t); any positive ``event`` counts as an event.

    Examples
    --------
    The 6-MP-like toy: four persons, events at 2 and 3, censored at 3 and 5.

    >>> km = kaplan_meier([2, 3, 3, 5], [1, 1, 0, 0])
    >>> km.at([0, 2, 3, 5]).round(4).tolist()
    [1.0, 0.75, 0.5, 0.5]
    """
    D = SurvivalData.build(time, event, weights, cluster)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(D.at_risk > 0, D.events / D.at_risk, 0.0)
        gw_inc = np.where(D.at_risk > D.events, D.events / (D.at_risk * (D.at_risk - D.events)), 0.0)
    return KaplanMeier(D, np.cumprod(1.0 - h), h, np.cumsum(gw_inc), conf_level)


# ---------------------------------------------------------------------------------- RMST
@dataclass(frozen=True)
class RMST:
    """Restricted mean survival time up to ``tau`` with its standard error and per-person influence."""

    tau: float
    estimate: float
    std_error: float
    influence: np.ndarray | None  # (n,) per person, input order; None for the Greenwood variance
    method: str


def _areas(km: KaplanMeier, tau: float) -> tuple[float, np.ndarray]:
    """RMST(τ) and A(u_j) = ∫_{u_j}^τ S(t) dt for every distinct time (0 for u_j ≥ τ)."""
    u = km.data.u
    knots = np.concatenate([[0.0], u[u < tau], [tau]])
    vals = np.concatenate([[1.0], km.surv[u < tau]])        # S on [knots_j, knots_{j+1})
    seg = np.diff(knots) * vals
    total = float(seg.sum())
    tail = np.cumsum(seg[::-1])[::-1]                       # area from knots_j to τ
    A = np.zeros(len(u))
    inside = np.flatnonzero(u < tau)
    A[inside] = tail[1:len(inside) + 1]                     # from u_j (after its drop) to τ
    return total, A


def rmst(km: KaplanMeier, tau: float, *, influence: bool | None = None) -> RMST:
    """RMST(τ) = ∫_0^τ S(t) dt of a Kaplan–Meier curve, its standard error (Greenwood plug-in as in
    survRM2 without weights or clusters, else the influence function) and, when asked or needed, the
    per-person influence function.

    Examples
    --------
    >>> r = rmst(kaplan_meier([2, 3, 3, 5], [1, 1, 0, 0]), 4)
    >>> round(r.estimate, 4)  # 2·1 + 1·0.75 + 1·0.5
    3.25
    """
    tau = float(tau)
    D = km.data
    if tau <= 0:
        raise EstimationError(f"the RMST horizon must be positive, got {tau}")
    est, A = _areas(km, tau)
    need_if = D.robust if influence is None else influence
    IF = None
    if need_if:
        denom = D.at_risk - D.events
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(denom > 0, km.hazard / denom, 0.0)
            jump = np.where(denom > 0, 1.0 / denom, 0.0)
        C = np.cumsum(g * A)
        p = D.pos
        ev = (D.event > 0) & (D.u[p] < tau)
        IF = -D.weights * (ev * A[p] * jump[p] - C[p])
    if D.robust:
        S_, f = _cluster_sums(IF, D.cluster)
        se = float(np.sqrt(f * np.sum(S_**2)))
        method = "influence function (infinitesimal jackknife)" + (", clustered (G/(G−1))" if D.cluster is not None else "")
    else:
        inside = D.u < tau
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(D.at_risk > D.events, A**2 * D.events / (D.at_risk * (D.at_risk - D.events)), 0.0)
        se = float(np.sqrt(np.sum(terms[inside])))
        method = "Greenwood plug-in variance (survRM2)"
    return RMST(tau, est, se, IF, method)


def rmst_difference(a: RMST, b: RMST, *, conf_level: float = 0.95, joint_influence: np.ndarray | None = None,
                    cluster: np.ndarray | None = None) -> dict[str, float]:
    """Difference ``a − b`` of two groups' RMSTs with a normal interval.

    Independent groups: ``se = sqrt(se_a² + se_b²)``. When one cluster holds persons of both groups,
    pass ``joint_influence`` (the per-person influence of ``a − b`` over both groups) and ``cluster``.
    """
    diff = a.estimate - b.estimate
    if joint_influence is not None:
        S_, f = _cluster_sums(np.asarray(joint_influence, dtype=float), cluster)
        se = float(np.sqrt(f * np.sum(S_**2)))
    else:
        se = float(math.hypot(a.std_error, b.std_error))
    z = stats.norm.ppf(0.5 + conf_level / 2)
    stat = diff / se if se > 0 else float("nan")
    p = float(2 * stats.norm.sf(abs(stat))) if se > 0 else float("nan")
    return {"estimate": diff, "std_error": se, "statistic": stat, "p_value": p,
            "ci_lower": diff - z * se, "ci_upper": diff + z * se}


# ---------------------------------------------------------------------------------- Aalen–Johansen
@dataclass(frozen=True)
class CumulativeIncidence:
    """Aalen–Johansen cumulative incidence ``F_k(t) = Σ_{u ≤ t} S(u−) dN_k(u)/Y(u)`` of every cause."""

    data: SurvivalData
    km: KaplanMeier
    cif: dict[int, np.ndarray]          # F_k at the distinct times
    aalen_var: dict[int, np.ndarray]    # cmprsk's variance at the distinct times (unweighted only)
    conf_level: float = 0.95

    def at(self, cause: int, times) -> np.ndarray:
        idx = _step_index(self.data.u, times)
        F = self.cif.get(int(cause))
        if F is None:
            return np.zeros(len(np.atleast_1d(times)))
        return np.where(idx >= 0, F[np.maximum(idx, 0)], 0.0)

    def influence(self, cause: int, times) -> np.ndarray:
        """``n × len(times)`` influence functions of F_k(t)."""
        D = self.data
        times = np.asarray(times, dtype=float)
        U = len(D.u)
        n = len(D.time)
        Sminus = np.concatenate([[1.0], self.km.surv[:-1]])
        with np.errstate(divide="ignore", invalid="ignore"):
            hk = np.where(D.at_risk > 0, D.cause_events.get(int(cause), np.zeros(U)) / D.at_risk, 0.0)
            invY = np.where(D.at_risk > 0, 1.0 / D.at_risk, 0.0)
        # IF of S(u−) at each distinct time (n × U), then F_k's increments
        u_minus = np.concatenate([[-np.inf], D.u[:-1]])
        IF_Sm = np.zeros((n, U))
        valid = np.isfinite(u_minus)
        if valid.any():
            IF_Sm[:, valid] = self.km.influence(u_minus[valid])
        p = D.pos
        own_k = ((D.event == int(cause)).astype(float) * D.weights)
        atrisk = (p[:, None] >= np.arange(U)[None, :]).astype(float) * D.weights[:, None]
        d_hk = (np.zeros((n, U)))
        d_hk[np.arange(n), p] = own_k
        d_hk = (d_hk - atrisk * hk[None, :]) * invY[None, :]
        inc = IF_Sm * hk[None, :] + Sminus[None, :] * d_hk
        cum = np.cumsum(inc, axis=1)
        idx = _step_index(D.u, times)
        out = np.where(idx[None, :] >= 0, cum[:, np.maximum(idx, 0)], 0.0)
        return out

    def std_error(self, cause: int, times) -> np.ndarray:
        times = np.asarray(times, dtype=float)
        if not self.data.robust:
            idx = _step_index(self.data.u, times)
            v = self.aalen_var.get(int(cause))
            if v is None:
                return np.zeros(len(times))
            return np.sqrt(np.where(idx >= 0, v[np.maximum(idx, 0)], 0.0))
        IF, f = _cluster_sums(self.influence(cause, times), self.data.cluster)
        return np.sqrt(f * np.sum(IF**2, axis=0))

    def conf_int(self, cause: int, times) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise log(−log) interval of F_k (cmprsk/tidycmprsk: ``F^exp(±z·se/(F log F))``)."""
        F, se = self.at(cause, times), self.std_error(cause, times)
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            lF = np.log(F)
            e = np.exp(z * se / (F * lF))
            lo, hi = F**e, F ** (1 / e)
        ok = (F > 0) & (F < 1)
        return np.where(ok, np.minimum(lo, hi), np.nan), np.where(ok, np.maximum(lo, hi), np.nan)


def _cmprsk_variance(D: SurvivalData, km: KaplanMeier, F: np.ndarray, cause: int) -> np.ndarray:
    """The variance ``cmprsk::cuminc`` reports (Gray's routine ``cinc``, after Aalen 1978), at every distinct
    time, for unweighted data: accumulated over event times with the tie correction ``1 − (d − 1)/(Y − 1)``;
    it changes only at times with an event of ``cause``. Written from the published algorithm."""
    U = len(D.u)
    d1 = D.n_cause_events.get(int(cause), np.zeros(U))
    d2 = D.n_events - d1
    Y = D.n_at_risk
    fk_prev = np.concatenate([[1.0], km.surv[:-1]])
    v1 = v2 = v3 = 0.0
    out = np.zeros(U)
    cur = 0.0
    for j in range(U):
        if d1[j] + d2[j] == 0:
            out[j] = cur
            continue
        fk, fkn, f, rs = fk_prev[j], km.surv[j], F[j], Y[j]
        if d2[j] > 0 and fkn > 0:
            t5 = 1.0 - (d2[j] - 1.0) / (rs - 1.0) if d2[j] > 1 else 1.0
            t6 = fk * fk * t5 * d2[j] / (rs * rs)
            t3, t4 = 1.0 / fkn, f / fkn
            v1 += t4 * t4 * t6
            v2 += t3 * t4 * t6
            v3 += t3 * t3 * t6
        if d1[j] > 0:
            t5 = 1.0 - (d1[j] - 1.0) / (rs - 1.0) if d1[j] > 1 else 1.0
            t6 = fk * fk * t5 * d1[j] / (rs * rs)
            t3 = 1.0 / fkn if fkn > 0 else 0.0
            t4 = 1.0 + t3 * f
            v1 += t4 * t4 * t6
            v2 += t3 * t4 * t6
            v3 += t3 * t3 * t6
            cur = v1 + f * f * v3 - 2.0 * f * v2
        out[j] = cur
    return out


def aalen_johansen(time, event, weights=None, cluster=None, *, conf_level: float = 0.95) -> CumulativeIncidence:
    """Cumulative incidence of every cause (``event`` = cause number, 0 = censored) by Aalen–Johansen.

    Examples
    --------
    >>> ci = aalen_johansen([1, 2, 2, 3, 4], [1, 2, 1, 0, 1])
    >>> ci.at(1, [4]).round(4).tolist(), ci.at(2, [4]).round(4).tolist()
    ([0.8], [0.2])
    """
    km = kaplan_meier(time, event, weights, cluster, conf_level=conf_level)
    D = km.data
    Sminus = np.concatenate([[1.0], km.surv[:-1]])
    cif, av = {}, {}
    for k, dk in D.cause_events.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            inc = np.where(D.at_risk > 0, Sminus * dk / D.at_risk, 0.0)
        cif[k] = np.cumsum(inc)
        if not D.robust:
            av[k] = _cmprsk_variance(D, km, cif[k], k)
    return CumulativeIncidence(D, km, cif, av, conf_level)


# ---------------------------------------------------------------------------------- bands
def ep_band_critical(a_values: np.ndarray, conf_level: float = 0.95, *, draws: int = BAND_DRAWS,
                     seed: int = BAND_SEED) -> float:
    """Critical value of the equal-precision band: the ``conf_level`` quantile of
    ``max_j |B⁰(a_j)| / sqrt(a_j(1 − a_j))`` for a Brownian bridge B⁰ at the attained ``a_j`` in (0, 1)."""
    a = np.unique(np.asarray(a_values, dtype=float))
    a = a[(a > 0) & (a < 1)]
    if len(a) == 0:
        return float(stats.norm.ppf(0.5 + conf_level / 2))
    rng = np.random.default_rng(seed)
    steps = np.diff(np.concatenate([[0.0], a, [1.0]]))
    out = np.empty(draws)
    chunk = max(1, 2_000_000 // (len(a) + 1))
    for s in range(0, draws, chunk):
        m = min(chunk, draws - s)
        inc = rng.standard_normal((m, len(steps))) * np.sqrt(steps)[None, :]
        W = np.cumsum(inc, axis=1)
        B = W[:, :-1] - a[None, :] * W[:, -1:]
        out[s:s + m] = np.max(np.abs(B) / np.sqrt(a * (1 - a))[None, :], axis=1)
    return float(np.quantile(out, conf_level))


def multiplier_band_critical(IF: np.ndarray, se: np.ndarray, conf_level: float = 0.95, *,
                             cluster: np.ndarray | None = None, draws: int = 5_000, seed: int = BAND_SEED) -> float:
    """Sup-t critical value of a simultaneous band from influence functions (``n × m``, the standard errors
    ``se`` of the m points): the ``conf_level`` quantile of ``max_j |Σ_i ξ_i IF_ij| / se_j`` with standard
    normal multipliers ξ drawn per person, or per cluster when ``cluster`` is given."""
    S_, f = _cluster_sums(np.asarray(IF, dtype=float), cluster)
    keep = se > 0
    if not keep.any():
        return float(stats.norm.ppf(0.5 + conf_level / 2))
    Z = S_[:, keep] * math.sqrt(f) / se[keep][None, :]
    rng = np.random.default_rng(seed)
    out = np.empty(draws)
    chunk = max(1, 4_000_000 // max(Z.shape[0], 1))
    for s in range(0, draws, chunk):
        m = min(chunk, draws - s)
        xi = rng.standard_normal((m, Z.shape[0]))
        out[s:s + m] = np.max(np.abs(xi @ Z), axis=1)
    return float(np.quantile(out, conf_level))


def km_band(km: KaplanMeier, times, *, conf_level: float = 0.95, min_at_risk: int = 1) -> tuple[np.ndarray, np.ndarray, float]:
    """Equal-precision simultaneous band (log(−log) scale) of S at ``times``; points with fewer than
    ``min_at_risk`` persons at risk, S = 1 or S = 0 get no band. Returns (lower, upper, critical value)."""
    times = np.asarray(times, dtype=float)
    D = km.data
    S = km.at(times)
    se = km.std_error(times)
    idx = _step_index(D.u, times)
    n_risk = np.where(idx + 1 < len(D.u), D.n_at_risk[np.minimum(idx + 1, len(D.u) - 1)], 0.0)
    ok = (S > 0) & (S < 1) & (se > 0) & (n_risk >= min_at_risk)
    if not ok.any():
        nan = np.full(len(times), np.nan)
        return nan, nan, float("nan")
    if not D.robust:
        n = float(len(D.time))
        gw = km.greenwood[np.maximum(idx, 0)]
        a = n * gw / (1 + n * gw)
        c = ep_band_critical(a[ok], conf_level)
    else:
        c = multiplier_band_critical(km.influence(times[ok]), se[ok], conf_level, cluster=D.cluster)
    lo, hi = _transform_ci(S, se, c, "log-log")
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan), c


# ---------------------------------------------------------------------------------- Cox
def cox_model(time, event, covariates: Mapping[str, Any], *, weights=None, cluster=None, strata=None,
              robust: bool = True, conf_level: float = 0.95) -> dict[str, dict[str, float]]:
    """A Cox proportional hazards model from lifelines' ``CoxPHFitter`` (Efron ties, Newton–Raphson to a
    step norm of 1e-10 so the coefficients agree with R ``coxph`` to its printed digits), with the robust
    sandwich variance (clustered when ``cluster`` is given) unless ``robust=False``, optional weights and
    strata. Returns, per covariate, ``coef``, ``std_error``, ``statistic``, ``p_value`` and the interval of
    the coefficient.

    lifelines' sandwich does not carry Efron's tie correction into the score residuals, so with many tied
    event times its robust SE differs slightly from R's (0.07 % on the diabetic data of
    tests/reference/survival_published.json).
    """
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from lifelines import CoxPHFitter
        from lifelines.exceptions import ConvergenceError, ConvergenceWarning
    t, d, w, cl = _as_arrays(time, event, weights, cluster)
    df = pd.DataFrame({"_T": t, "_E": (d > 0).astype(int)})
    names = []
    for name, col in dict(covariates).items():
        df[str(name)] = np.asarray(col, dtype=float)
        names.append(str(name))
    kw: dict[str, Any] = {"duration_col": "_T", "event_col": "_E", "robust": bool(robust or weights is not None),
                          "fit_options": {"precision": 1e-10}}
    if weights is not None:
        df["_w"] = w
        kw["weights_col"] = "_w"
    if cl is not None:
        df["_cl"] = _factor(cl)[0]
        kw["cluster_col"] = "_cl"
        kw["robust"] = True
    if strata is not None:
        df["_strata"] = _factor(np.asarray(strata))[0]
        kw["strata"] = ["_strata"]
    if df["_E"].sum() == 0:
        raise EstimationError("no events: a Cox model cannot be estimated")
    cph = CoxPHFitter(alpha=1 - conf_level)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*weights are not integers.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        try:
            cph.fit(df, **kw)
        except (ConvergenceError, ConvergenceWarning) as exc:
            raise EstimationError(f"the Cox model did not converge: {exc}") from exc
    z = stats.norm.ppf(0.5 + conf_level / 2)
    out = {}
    for name in names:
        row = cph.summary.loc[name]
        b, se = float(row["coef"]), float(row["se(coef)"])
        stat = b / se if se > 0 else float("nan")
        out[name] = {"coef": b, "std_error": se, "statistic": stat,
                     "p_value": float(2 * stats.norm.sf(abs(stat))) if se > 0 else float("nan"),
                     "ci_lower": b - z * se, "ci_upper": b + z * se}
    out["_n_events"] = {"value": float(df["_E"].sum())}
    return out


def cox_hazard_ratio(time, event, treated, *, weights=None, cluster=None, strata=None,
                     conf_level: float = 0.95) -> dict[str, Any]:
    """Hazard ratio of ``treated`` (0/1) from :func:`cox_model` with the robust sandwich variance.

    Returns the hazard ratio, the standard error of its log, z, p and the exponentiated interval.
    """
    fit = cox_model(time, event, {"treated": treated}, weights=weights, cluster=cluster, strata=strata,
                    robust=True, conf_level=conf_level)
    r = fit["treated"]
    return {"estimate": math.exp(r["coef"]), "log_hr": r["coef"], "std_error": r["std_error"],
            "statistic": r["statistic"], "p_value": r["p_value"],
            "ci_lower": math.exp(r["ci_lower"]), "ci_upper": math.exp(r["ci_upper"]),
            "n_events": int(fit["_n_events"]["value"]),
            "method": "Cox proportional hazards (Efron ties), robust sandwich SE"
                      + (", clustered" if cluster is not None else "") + (", weighted" if weights is not None else "")
                      + (", stratified" if strata is not None else "") + " (lifelines CoxPHFitter)"}
