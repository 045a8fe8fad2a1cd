"""Numerical kernels of the Callaway & Sant'Anna (2021) group-time DiD estimator.

Private module: :class:`evaluation.designs.did.estimators.CallawaySantAnna` is the public entry point.

Layout of the computation (balanced panel, ``n`` units, ``T`` periods, ``C`` cohorts):

* the outcome is held as a dense ``n x T`` matrix ``Y`` with units sorted by cohort, so each
  cohort is a contiguous row block (no per-(g, t) subsetting of a DataFrame);
* without covariates every ATT(g, t) is a difference of cohort-by-period means, computed from
  cohort sums ``S = Y_c' 1`` (``C x T``) and the standard error of every cell from cohort
  Gram matrices ``Y_c' W_c^2 Y_c`` (``C x T x T``): one pass over ``Y``;
* the influence function of cell (g, t) for a unit in cohort ``c`` is
  ``w_i (alpha_{gt}(c) (Y_{i t} - Y_{i b}) - beta_{gt}(c))``: linear in the unit's outcome row
  with coefficients that depend on its cohort only. Any linear combination of cells (an
  aggregation) therefore has influence function ``w_i (Y_i . A_k[c] - B_k[c]) + wif_k[c]`` with
  ``A`` a small ``K x C x T`` array: the ``n x K`` influence matrix of the aggregated parameters
  is one matrix product per cohort block, never an ``n x cells`` matrix;
* with covariates each cell is the 2x2 estimator of Sant'Anna & Zhao (2020) on the units of its
  comparison. Cells whose samples coincide (same cohort, same comparison cohorts: with
  never-treated comparisons every cell of a cohort) are estimated together: the propensity model
  is fitted once per sample, the outcome regressions of all its cells are one QR solve with one
  right-hand side per cell, and the influence functions are an ``n_sample x cells`` block built
  with a few passes. They are not stored: aggregation rebuilds a sample's block from its
  propensity coefficients and adds it to the targets through the cells' few non-zero weights, so
  memory holds one block at a time (``group_time_covariates_reference`` in tests/cs_reference.py is the cell-by-cell
  version it is tested against).

Standard errors follow the R package ``did`` (``bstrap = FALSE``): ``se = sqrt(sum(psi^2)) / n``
with ``psi`` the influence function scaled to the full sample; the multiplier bootstrap
reproduces ``did::mboot`` (IQR-based standard errors, sup-t critical values).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from evaluation._lazy import stats

from evaluation.exceptions import EstimationError

__all__ = [
    "Panel",
    "GroupTime",
    "build_panel",
    "group_time_unconditional",
    "group_time_covariates",
    "aggregation_weights",
    "multiplier_bootstrap",
]

NEVER = np.inf


def _one_blas_thread():
    """Limit BLAS to one thread (threadpoolctl, installed with scikit-learn). The covariate path
    runs thousands of skinny products (n x 3 designs); OpenBLAS threads gain nothing there and,
    when another process holds a core, spin-wait: 25,000 persons took 15 s instead of 3.5 s."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


# ----------------------------------------------------------------------------- panel


@dataclass
class Panel:
    """A balanced panel as arrays, units sorted by cohort.

    Attributes
    ----------
    Y : ndarray (n, T)
        Outcome; column ``j`` is period ``periods[j]``.
    cohort : ndarray (n,)
        Cohort index of each unit into ``cohorts`` (never-treated last).
    cohorts : ndarray (C,)
        Cohort start periods (period values), ``inf`` for never treated, ascending.
    starts : ndarray (C + 1,)
        Row offsets of each cohort block in ``Y``.
    periods : ndarray (T,)
    w : ndarray (n,) or None
        Unit weights normalised to mean one (None = equal weights).
    X : ndarray (n, p) or None
        Time-invariant covariates (values in the base period), no intercept.
    unit_ids : ndarray (n,)
    """

    Y: np.ndarray
    cohort: np.ndarray
    cohorts: np.ndarray
    starts: np.ndarray
    periods: np.ndarray
    w: np.ndarray | None
    X: np.ndarray | None
    unit_ids: np.ndarray
    cluster: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.Y.shape[0]

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.starts)

    def block(self, c: int) -> slice:
        return slice(int(self.starts[c]), int(self.starts[c + 1]))


def build_panel(
    unit: np.ndarray,
    period: np.ndarray,
    y: np.ndarray,
    g_unit: np.ndarray,
    periods: np.ndarray,
    w_unit: np.ndarray | None = None,
    X_unit: np.ndarray | None = None,
    cluster_unit: np.ndarray | None = None,
    unit_ids: np.ndarray | None = None,
) -> Panel:
    """Assemble a :class:`Panel` from integer codes.

    ``unit`` (codes 0..n-1) and ``period`` (codes 0..T-1) index long rows; ``g_unit`` holds the
    cohort start period per unit code (``inf`` = never treated).
    """
    n = len(g_unit)
    T = len(periods)
    unit = np.asarray(unit)
    period = np.asarray(period)
    if (len(y) == n * T and (period.reshape(n, T) == np.arange(T)).all()
            and (unit.reshape(n, T) == np.arange(n)[:, None]).all()):
        Yfull = np.asarray(y, dtype=float).reshape(n, T)  # long rows already unit by unit, period by period
    else:
        Yfull = np.empty((n, T))
        Yfull[unit, period] = y
    cohorts = np.unique(g_unit)
    cidx = np.searchsorted(cohorts, g_unit)
    order = np.argsort(cidx, kind="stable")
    counts = np.bincount(cidx, minlength=len(cohorts))
    starts = np.concatenate([[0], np.cumsum(counts)])
    return Panel(
        Y=np.ascontiguousarray(Yfull[order]),
        cohort=cidx[order],
        cohorts=cohorts.astype(float),
        starts=starts,
        periods=np.asarray(periods),
        w=None if w_unit is None else w_unit[order] / w_unit.mean(),
        X=None if X_unit is None else X_unit[order],
        unit_ids=(np.arange(n) if unit_ids is None else unit_ids)[order],
        cluster=None if cluster_unit is None else cluster_unit[order],
    )


# ----------------------------------------------------------------------------- cells


@dataclass
class GroupTime:
    """Group-time cells with what is needed to build influence functions.

    ``alpha``/``beta`` (cells x C) are the per-cohort coefficients of the unconditional
    influence function; with covariates ``cov_groups`` holds the cells grouped by sample with
    their propensity coefficients, from which :func:`influence_matrix` recomputes the influence
    functions (``if_rows``/``if_vals``: influence functions stored per cell, as the straightforward
    reference builds them). Exactly one representation is set.
    """

    g: np.ndarray  # cohort start period
    t: np.ndarray  # period value
    ti: np.ndarray  # period index of t
    bi: np.ndarray  # period index of base period
    att: np.ndarray
    se: np.ndarray
    n_treated: np.ndarray
    n_control: np.ndarray
    alpha: np.ndarray | None = None
    beta: np.ndarray | None = None
    if_rows: list[np.ndarray] = field(default_factory=list)
    if_vals: list[np.ndarray] = field(default_factory=list)
    cov_groups: list["CovGroup"] = field(default_factory=list)
    est_method: str | None = None

    @property
    def n_cells(self) -> int:
        return len(self.att)


def _cell_layout(
    panel: Panel, control_group: str, anticipation: int, base_period: str
) -> tuple[list[tuple[int, int, int, int]], np.ndarray]:
    """Enumerate cells as (cohort index, t index, base index, -) and the control mask (cells x C).

    Periods are positions 0..T-1 (consecutive). A cohort with start period at position ``gp``
    has "post" cells ``t >= gp``; base period is ``gp - anticipation - 1`` for post cells (and
    for every cell with ``base_period="universal"``), ``t - 1`` for pre cells with "varying".
    Controls: never treated, or (not-yet-treated) cohorts starting after
    ``max(t, base) + anticipation``; never the cell's own cohort.
    """
    per = panel.periods
    T = len(per)
    C = len(panel.cohorts)
    cells: list[tuple[int, int, int, int]] = []
    masks: list[np.ndarray] = []
    cpos = np.array([np.searchsorted(per, g) if np.isfinite(g) else np.iinfo(np.int64).max for g in panel.cohorts])
    never = ~np.isfinite(panel.cohorts)
    for c in range(C):
        if never[c]:
            continue
        gp = int(cpos[c])
        ref = gp - anticipation - 1
        if ref < 0:
            continue
        t_start = 1 if base_period == "varying" else 0
        for ti in range(t_start, T):
            if base_period == "universal" or ti >= gp:
                bi = ref
            else:
                bi = ti - 1
            if ti == bi:
                continue  # the universal base period itself is normalised to zero
            if control_group == "nevertreated":
                m = never.copy()
            else:
                m = never | (cpos > max(ti, bi) + anticipation)
                m[c] = False
            cells.append((c, ti, bi, gp))
            masks.append(m)
    if not cells:
        raise EstimationError("no estimable group-time cell: every treated cohort starts too early in the panel")
    return cells, np.array(masks, dtype=bool)


def _cohort_moments(
    panel: Panel, bases: list[np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-cohort weighted sums: W=sum w, S=sum w Y, W2=sum w^2, S2=sum w^2 Y, G=sum w^2 Y Y'.

    ``bases`` (per cohort, optional) lists the base-period columns whose Gram entries
    ``G[c][:, b]`` are needed; then only those columns, the diagonal and the first off-diagonal
    (adjacent periods, the varying base of pre-periods) are computed -- the other entries of
    ``G`` stay zero and must not be used. Cost ``n_c T |bases|`` instead of ``n_c T^2``.
    """
    C = len(panel.cohorts)
    T = panel.Y.shape[1]
    W = np.zeros(C)
    S = np.zeros((C, T))
    W2 = np.zeros(C)
    S2 = np.zeros((C, T))
    G = np.zeros((C, T, T))
    for c in range(C):
        blk = panel.block(c)
        Yc = panel.Y[blk]
        if panel.w is None:
            W[c] = W2[c] = Yc.shape[0]
            S[c] = S2[c] = Yc.sum(axis=0)
            Yw = Yc
        else:
            wc = panel.w[blk]
            W[c] = wc.sum()
            W2[c] = (wc * wc).sum()
            S[c] = wc @ Yc
            S2[c] = (wc * wc) @ Yc
            Yw = Yc * wc[:, None]
        if bases is None or Yw.shape[0] == 0:
            G[c] = Yw.T @ Yw
            continue
        b = bases[c]
        if b.size:
            cols = Yw.T @ Yw[:, b]  # T x |b|
            G[c][:, b] = cols
            G[c][b, :] = cols.T
        ii = np.arange(T)
        G[c][ii, ii] = np.einsum("ij,ij->j", Yw, Yw)
        if T > 1:
            adj = np.einsum("ij,ij->j", Yw[:, 1:], Yw[:, :-1])
            G[c][ii[1:], ii[:-1]] = adj
            G[c][ii[:-1], ii[1:]] = adj
    return W, S, W2, S2, G


def group_time_unconditional(
    panel: Panel, *, control_group: str, anticipation: int, base_period: str
) -> GroupTime:
    """All ATT(g, t) without covariates from cohort moments (no per-cell data subsetting).

    ATT(g, t) = weighted mean of ``Y_t - Y_b`` in cohort g minus that in the control cohorts,
    which is what outcome regression, IPW and doubly robust estimators all reduce to when the
    only covariate is an intercept.
    """
    cells, mask = _cell_layout(panel, control_group, anticipation, base_period)
    counts = panel.counts.astype(float)
    ci = np.array([c[0] for c in cells])
    ti = np.array([c[1] for c in cells])
    bi = np.array([c[2] for c in cells])
    K = len(cells)
    C = len(panel.cohorts)
    # Gram entries needed per cohort: (t, b) of every cell it takes part in (as treated or control);
    # adjacent pairs come from the first off-diagonal, the rest from the base-period columns
    part = mask.copy()
    part[np.arange(K), ci] = True
    far = np.abs(ti - bi) != 1
    bases = [np.unique(bi[part[:, c] & far]) for c in range(C)]
    W, S, W2, S2, G = _cohort_moments(panel, bases)
    # per (cell, cohort): sum of w*dY, w^2*dY, w^2*dY^2
    dS = S[:, ti].T - S[:, bi].T  # K x C
    dS2 = S2[:, ti].T - S2[:, bi].T
    dG = G[:, ti, ti].T + G[:, bi, bi].T - 2.0 * G[:, ti, bi].T
    treat = np.zeros((K, C), dtype=bool)
    treat[np.arange(K), ci] = True
    W1 = W[ci]
    W0 = mask @ W
    has_ctrl = W0 > 0
    keep = has_ctrl
    m1 = dS[np.arange(K), ci] / W1
    m0 = np.where(has_ctrl, (mask * dS).sum(axis=1) / np.where(has_ctrl, W0, 1.0), np.nan)
    att = m1 - m0
    n = float(panel.n)
    # alpha: coefficient on w_i * dY_i; beta: the centring constant (alpha * role mean)
    alpha = np.where(treat, n / W1[:, None], 0.0) - np.where(mask, n / np.where(has_ctrl, W0, 1.0)[:, None], 0.0)
    beta = np.where(treat, (n / W1 * m1)[:, None], 0.0) - np.where(
        mask, (n / np.where(has_ctrl, W0, 1.0) * np.nan_to_num(m0))[:, None], 0.0
    )
    # sum_i w_i^2 (alpha dY_i - beta)^2 summed over the cohorts involved
    ss = (alpha**2 * dG - 2.0 * alpha * beta * dS2 + beta**2 * W2[None, :]).sum(axis=1)
    se = np.sqrt(np.maximum(ss, 0.0)) / n
    n_treated = counts[ci]
    n_control = mask @ counts
    gt = GroupTime(
        g=panel.cohorts[ci],
        t=panel.periods[ti],
        ti=ti,
        bi=bi,
        att=att,
        se=se,
        n_treated=n_treated,
        n_control=n_control,
        alpha=alpha,
        beta=beta,
    )
    return _select(gt, keep)


def _select(gt: GroupTime, keep: np.ndarray) -> GroupTime:
    if keep.all():
        return gt
    if gt.cov_groups:
        raise EstimationError("internal: cells of the covariate path are selected when they are built")
    idx = np.flatnonzero(keep)
    return GroupTime(
        g=gt.g[idx], t=gt.t[idx], ti=gt.ti[idx], bi=gt.bi[idx], att=gt.att[idx], se=gt.se[idx],
        n_treated=gt.n_treated[idx], n_control=gt.n_control[idx],
        alpha=None if gt.alpha is None else gt.alpha[idx],
        beta=None if gt.beta is None else gt.beta[idx],
        if_rows=[gt.if_rows[i] for i in idx] if gt.if_rows else [],
        if_vals=[gt.if_vals[i] for i in idx] if gt.if_vals else [],
    )


# ----------------------------------------------------------------------------- 2x2 with covariates


def _logit_coef(X: np.ndarray, D: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted logistic regression by Newton-Raphson: the coefficients."""
    beta = np.zeros(X.shape[1])
    for _ in range(100):
        eta = np.clip(X @ beta, -35, 35)
        p = 1.0 / (1.0 + np.exp(-eta))
        grad = X.T @ (w * (D - p))
        H = (X * (w * p * (1 - p))[:, None]).T @ X
        step = np.linalg.solve(H, grad)
        beta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    else:
        raise EstimationError("propensity-score logit did not converge (separation?)")
    return beta


def _logit_at(X: np.ndarray, D: np.ndarray, w: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fitted p and ``n * (X'WX)^-1`` of a logit at its coefficients."""
    eta = np.clip(X @ beta, -35, 35)
    p = 1.0 / (1.0 + np.exp(-eta))
    H = (X * (w * p * (1 - p))[:, None]).T @ X
    return p, len(D) * np.linalg.inv(H)


def _logit(X: np.ndarray, D: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logistic regression by Newton-Raphson; returns (fitted p, n * (X'WX)^-1)."""
    return _logit_at(X, D, w, _logit_coef(X, D, w))


def _ipt_coef(X: np.ndarray, D: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Coefficients of the inverse probability tilting propensity score (see :func:`_ipt`)."""
    beta = np.zeros(X.shape[1])
    n1 = (w * D).sum()
    n0 = (w * (1 - D)).sum()
    beta[0] = np.log(n1 / n0)
    for _ in range(200):
        e = np.exp(np.clip(X @ beta, -50, 50))
        grad = -(X.T @ (w * (D - (1 - D) * e)))
        H = (X * (w * (1 - D) * e)[:, None]).T @ X
        step = np.linalg.solve(H, grad)
        # damped Newton on a convex objective
        lam = 1.0
        obj = lambda b: -np.sum(w * (D * (X @ b) - (1 - D) * np.exp(np.clip(X @ b, -50, 50))))  # noqa: E731
        f0 = obj(beta)
        while obj(beta - lam * step) > f0 + 1e-14 * abs(f0) and lam > 1e-8:
            lam /= 2
        beta -= lam * step
        if np.max(np.abs(lam * step)) < 1e-12:
            break
    else:
        raise EstimationError("inverse-probability-tilting propensity score did not converge")
    return beta


def _ipt(X: np.ndarray, D: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Inverse probability tilting propensity score (Graham, Pinto & Egel 2012), as in
    ``DRDID::drdid_imp_panel``: minimises ``-mean(w (D X'g - (1 - D) exp(X'g)))``, so the
    control odds ``exp(X'g)`` reweight the controls to the treated covariate totals exactly."""
    eta = np.clip(X @ _ipt_coef(X, D, w), -35, 35)
    return 1.0 / (1.0 + np.exp(-eta))


def _wls_linrep(X: np.ndarray, y: np.ndarray, wts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WLS fit and its asymptotic linear representation (n x p), as in DRDID."""
    XtWX = (X * wts[:, None]).T @ X
    beta = np.linalg.solve(XtWX, X.T @ (wts * y))
    fitted_all = X @ beta
    n = len(y)
    linrep = (wts * (y - fitted_all))[:, None] * X @ np.linalg.inv(XtWX / n)
    return beta, linrep


def did_2x2_panel(
    dy: np.ndarray, D: np.ndarray, X: np.ndarray, w: np.ndarray, est_method: str
) -> tuple[float, np.ndarray]:
    """Two-period panel DiD with covariates; returns (ATT, influence function on this sample).

    ``X`` includes the intercept. Formulas follow Sant'Anna & Zhao (2020) and the R package
    DRDID: ``reg`` = ``reg_did_panel``, ``ipw`` = ``std_ipw_did_panel`` (Hajek), ``dr`` =
    ``drdid_imp_panel`` (improved, locally efficient: IPT propensity score and WLS outcome
    model weighted by the control odds; first-step estimation does not enter the influence
    function), ``dr_traditional`` = ``drdid_panel`` (logit + OLS, R ``did``'s ``"dr"``).
    """
    w = w / w.mean()
    if est_method == "reg":
        _, linrep = _wls_linrep(X, dy, w * (1 - D))
        beta = np.linalg.lstsq(X[D == 0] * np.sqrt(w[D == 0])[:, None], dy[D == 0] * np.sqrt(w[D == 0]), rcond=None)[0]
        out = X @ beta
        wt = w * D
        att_t = wt * dy
        att_c = wt * out
        eta_t = att_t.mean() / wt.mean()
        eta_c = att_c.mean() / wt.mean()
        inf_t = (att_t - wt * eta_t) / wt.mean()
        M1 = (wt[:, None] * X).mean(axis=0)
        inf_c = (att_c - wt * eta_c + linrep @ M1) / wt.mean()
        return float(eta_t - eta_c), inf_t - inf_c
    if est_method in ("ipw", "dr_traditional"):
        ps, Hinv = _logit(X, D, w)
        ps = np.minimum(ps, 1 - 1e-6)
        score = (w * (D - ps))[:, None] * X
        linrep_ps = score @ Hinv
        wt = w * D
        wc = w * ps * (1 - D) / (1 - ps)
        if est_method == "ipw":
            att_t = wt * dy
            att_c = wc * dy
            eta_t = att_t.mean() / wt.mean()
            eta_c = att_c.mean() / wc.mean()
            inf_t = (att_t - wt * eta_t) / wt.mean()
            M2 = (wc * (dy - eta_c))[:, None] * X
            inf_c = (att_c - wc * eta_c + linrep_ps @ M2.mean(axis=0)) / wc.mean()
            return float(eta_t - eta_c), inf_t - inf_c
        beta, linrep = _wls_linrep(X, dy, w * (1 - D))
        out = X @ beta
        r = dy - out
        att_t = wt * r
        att_c = wc * r
        eta_t = att_t.mean() / wt.mean()
        eta_c = att_c.mean() / wc.mean()
        M1 = (wt[:, None] * X).mean(axis=0)
        inf_t = (att_t - wt * eta_t - linrep @ M1) / wt.mean()
        M2 = ((wc * (r - eta_c))[:, None] * X).mean(axis=0)
        M3 = (wc[:, None] * X).mean(axis=0)
        inf_c = (att_c - wc * eta_c + linrep_ps @ M2 - linrep @ M3) / wc.mean()
        return float(eta_t - eta_c), inf_t - inf_c
    if est_method == "dr":
        ps = np.minimum(_ipt(X, D, w), 1 - 1e-6)
        odds = ps / (1 - ps)
        c = D == 0
        sw = np.sqrt(w[c] * odds[c])
        beta = np.linalg.lstsq(X[c] * sw[:, None], dy[c] * sw, rcond=None)[0]
        r = dy - X @ beta
        wt = w * D
        wc = w * odds * (1 - D)
        eta_t = (wt * r).mean() / wt.mean()
        eta_c = (wc * r).mean() / wc.mean()
        inf = (wt * (r - eta_t)) / wt.mean() - (wc * (r - eta_c)) / wc.mean()
        return float(eta_t - eta_c), inf
    raise EstimationError(f"unknown est_method {est_method!r}")


@dataclass
class CovGroup:
    """Group-time cells whose 2x2 samples coincide: the same treated cohort and the same comparison
    cohorts (with never-treated comparisons, every cell of a cohort). The propensity model is fitted
    once per group (``gamma``); outcome regressions for all the group's cells are one least-squares
    solve with one right-hand side per cell."""

    c: int  # treated cohort index
    ctrl: np.ndarray  # comparison cohort indices, ascending
    cells: np.ndarray  # positions of the group's cells in the GroupTime arrays
    ti: np.ndarray
    bi: np.ndarray
    gamma: np.ndarray | None  # propensity-model coefficients (None for "reg")

    def rows(self, panel: Panel) -> np.ndarray:
        """Panel rows of the sample: the treated cohort's block, then the comparison blocks."""
        return np.concatenate([np.arange(panel.starts[k], panel.starts[k + 1]) for k in (self.c, *self.ctrl)])


def _wls_many(X: np.ndarray, Y: np.ndarray, wts: np.ndarray) -> np.ndarray:
    """Weighted least squares of every column of ``Y`` on ``X``: one QR factorisation of the
    weighted design for all columns (LAPACK's SVD-based ``lstsq`` was ~60x slower with many
    right-hand sides)."""
    sw = np.sqrt(wts)
    q, r = np.linalg.qr(X * sw[:, None])
    return np.linalg.solve(r, q.T @ (Y * sw[:, None]))


def _att_inf_many(dY: np.ndarray, X: np.ndarray, D: np.ndarray, w: np.ndarray, gamma: np.ndarray | None,
                  est_method: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`did_2x2_panel` for many outcome differences on one sample: ATT per column of ``dY``
    (``n x k``) and the ``n x k`` influence functions.

    The sample's treated rows come first (``D`` is 1 on a leading block), ``w`` is normalised to
    mean one and ``gamma`` holds the propensity coefficients (logit, or IPT for ``"dr"``). The
    formulas are :func:`did_2x2_panel`'s with the terms that vanish on treated or comparison rows
    dropped, so each influence function is a few passes over the ``n x k`` block.
    """
    n = len(D)
    n1 = int(D.sum())
    if not (D[:n1] == 1).all():
        raise EstimationError("internal: treated rows must lead the sample")
    t_, c_ = slice(0, n1), slice(n1, n)
    wt = w * D
    mwt = wt.mean()
    inf = np.empty_like(dY)
    if est_method in ("reg", "dr_traditional"):
        wols = w * (1 - D)
        XtWX = (X * wols[:, None]).T @ X
        Hinv = np.linalg.inv(XtWX / n)
        M1 = (wt[:, None] * X).mean(axis=0)
        h1 = X @ (Hinv @ M1)  # DRDID's linrep @ M1 = (wols * residual) * h1
    if est_method == "reg":
        beta = _wls_many(X[c_], dY[c_], wols[c_])
        np.subtract(dY, X @ beta, out=inf)  # residuals of the comparison-group regression
        eta_t = (w[t_] @ dY[t_]) / n / mwt
        att = eta_t - ((w[t_] @ X[t_]) @ beta) / n / mwt
        # treated: w (dY - out - att); comparison: -w h1 (dY - out)
        inf[t_] -= att
        inf[t_] *= w[t_, None]
        inf[c_] *= -(wols[c_] * h1[c_])[:, None]
        inf /= mwt
        return att, inf
    if est_method in ("ipw", "dr_traditional"):
        ps, Hinv_ps = _logit_at(X, D, w, gamma)
        ps = np.minimum(ps, 1 - 1e-6)
        linrep_ps = ((w * (D - ps))[:, None] * X) @ Hinv_ps
        wc = w * ps * (1 - D) / (1 - ps)
        mwc = wc.mean()
        if est_method == "ipw":
            eta_t = (w[t_] @ dY[t_]) / n / mwt
            eta_c = (wc[c_] @ dY[c_]) / n / mwc
            Rc = np.subtract(dY[c_], eta_c, out=inf[c_])
            Rc *= wc[c_, None]  # comparison rows: wc (dY - eta_c)
            M2 = (Rc.T @ X[c_]) / n  # k x p
            np.subtract(dY[t_], eta_t, out=inf[t_])
            inf[t_] *= (w[t_] / mwt)[:, None]
            inf[c_] *= -1.0 / mwc
            inf -= (linrep_ps @ M2.T) / mwc
            return eta_t - eta_c, inf
        beta = np.linalg.solve(XtWX, X[c_].T @ (wols[c_, None] * dY[c_]))
        r = np.subtract(dY, X @ beta, out=inf)
        eta_t = (w[t_] @ r[t_]) / n / mwt
        eta_c = (wc[c_] @ r[c_]) / n / mwc
        M3 = (wc[:, None] * X).mean(axis=0)
        h3 = X @ (Hinv @ M3)
        M2 = ((wc[c_, None] * (r[c_] - eta_c)).T @ X[c_]) / n
        lin = (linrep_ps @ M2.T) / mwc
        # treated: w (r - eta_t)/mwt; comparison: -(wols (h1/mwt - h3/mwc) + wc/mwc) r + wc eta_c/mwc;
        # both minus the propensity term
        r[t_] -= eta_t
        r[t_] *= (w[t_] / mwt)[:, None]
        cr = r[c_]
        coef = wols[c_] * (h1[c_] / mwt - h3[c_] / mwc)
        cr *= -(coef + wc[c_] / mwc)[:, None]
        cr += (wc[c_] / mwc)[:, None] * eta_c
        inf -= lin
        return eta_t - eta_c, inf
    if est_method == "dr":
        ps = np.minimum(1.0 / (1.0 + np.exp(-np.clip(X @ gamma, -35, 35))), 1 - 1e-6)
        odds = ps / (1 - ps)
        wc = w * odds * (1 - D)
        mwc = wc.mean()
        beta = _wls_many(X[c_], dY[c_], wc[c_])
        r = np.subtract(dY, X @ beta, out=inf)
        eta_t = (w[t_] @ r[t_]) / n / mwt
        eta_c = (wc[c_] @ r[c_]) / n / mwc
        r[t_] -= eta_t
        r[t_] *= (w[t_] / mwt)[:, None]
        r[c_] -= eta_c
        r[c_] *= -(wc[c_] / mwc)[:, None]
        return eta_t - eta_c, inf
    raise EstimationError(f"unknown est_method {est_method!r}")


def _group_sample(panel: Panel, grp: CovGroup) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rows = grp.rows(panel)
    D = (panel.cohort[rows] == grp.c).astype(float)
    X = np.column_stack([np.ones(len(rows)), panel.X[rows]])
    w = np.ones(len(rows)) if panel.w is None else panel.w[rows]
    return rows, D, X, w / w.mean()


def _group_psi(panel: Panel, grp: CovGroup, est_method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sample rows, ATTs, influence functions scaled to the full sample) of a group's cells."""
    rows, D, X, w = _group_sample(panel, grp)
    dY = np.empty((len(rows), len(grp.ti)))
    r0 = 0
    for k in (grp.c, *grp.ctrl):  # the sample's cohort blocks, in order
        Yk = panel.Y[panel.block(k)]
        np.subtract(Yk[:, grp.ti], Yk[:, grp.bi], out=dY[r0:r0 + len(Yk)])
        r0 += len(Yk)
    att, inf = _att_inf_many(dY, X, D, w, grp.gamma, est_method)
    inf *= panel.n / len(rows)
    return rows, att, inf


def group_time_covariates(
    panel: Panel, *, control_group: str, anticipation: int, base_period: str, est_method: str
) -> GroupTime:
    """ATT(g, t) with covariates: the 2x2 Sant'Anna-Zhao estimator of every cell, one sample at a time.

    Cells are grouped by their sample (treated cohort and comparison cohorts); per group the
    propensity model is fitted once and the cells' outcome regressions and influence functions are
    computed together, column by column of the group's outcome differences. Influence functions
    are not stored: :func:`influence_matrix` recomputes a group's from its propensity coefficients
    when it aggregates (the same operations, so the same numbers).
    """
    if panel.X is None:
        raise EstimationError("group_time_covariates needs covariates")
    cells, mask = _cell_layout(panel, control_group, anticipation, base_period)
    counts = panel.counts.astype(float)
    kept = [j for j in range(len(cells)) if mask[j].any()]
    groups: dict[tuple[int, bytes], list[int]] = {}
    for pos, j in enumerate(kept):
        groups.setdefault((cells[j][0], mask[j].tobytes()), []).append(pos)
    att = np.empty(len(kept))
    se = np.empty(len(kept))
    cov_groups = []
    with _one_blas_thread():
        for (c, _), poss in groups.items():
            poss = np.asarray(poss)
            grp = CovGroup(
                c=int(c), ctrl=np.flatnonzero(mask[kept[poss[0]]]), cells=poss,
                ti=np.array([cells[kept[p]][1] for p in poss]), bi=np.array([cells[kept[p]][2] for p in poss]),
                gamma=None,
            )
            if est_method != "reg":
                _, D, X, w = _group_sample(panel, grp)
                grp.gamma = _ipt_coef(X, D, w) if est_method == "dr" else _logit_coef(X, D, w)
            _, a, psi = _group_psi(panel, grp, est_method)
            att[poss] = a
            se[poss] = np.sqrt(np.einsum("ij,ij->j", psi, psi)) / panel.n
            cov_groups.append(grp)
    ci = np.array([cells[j][0] for j in kept], dtype=np.intp)
    ti = np.array([cells[j][1] for j in kept], dtype=np.intp)
    bi = np.array([cells[j][2] for j in kept], dtype=np.intp)
    return GroupTime(
        g=panel.cohorts[ci], t=panel.periods[ti], ti=ti, bi=bi, att=att, se=se, n_treated=counts[ci],
        n_control=mask[kept].astype(float) @ counts, cov_groups=cov_groups, est_method=est_method,
    )


# ----------------------------------------------------------------------------- aggregation


@dataclass
class Aggregation:
    """Linear aggregation targets over cells.

    ``a`` (K x cells) are weights on cell ATTs; ``wif_groups`` per target is None or the
    (cells, pg) data needed for the estimated-weight term of ``did::aggte``; ``combine`` lists
    targets defined as averages of other targets (dynamic/calendar overall).
    """

    names: list[str]
    kinds: list[str]
    labels: list[float]
    a: np.ndarray
    wif_cells: list[np.ndarray | None]


def aggregation_weights(
    gt: GroupTime, panel: Panel, *, max_e: int | None = None, min_e: int | None = None
) -> Aggregation:
    """Weights of the four ``did::aggte`` aggregations and their overall summaries.

    Cohort shares ``pg`` are (weighted) shares of all units; post cells are ``t >= g``.
    Simple: post cells weighted by ``pg``. Dynamic: per event time ``e = t - g`` cells weighted
    by ``pg``; overall = mean over ``e >= 0``. Group: per cohort the mean over its post cells;
    overall = ``pg``-weighted. Calendar: per period the ``pg``-weighted mean of post cells;
    overall = mean over periods.
    """
    K = gt.n_cells
    per = panel.periods
    gpos = np.searchsorted(per, gt.g)
    e = gt.ti - gpos
    pg_c = _pg(panel)
    cpos = np.searchsorted(panel.cohorts, gt.g)
    pg = pg_c[cpos]
    post = e >= 0
    if max_e is not None:
        post &= e <= max_e
    names: list[str] = []
    kinds: list[str] = []
    labels: list[float] = []
    rows: list[np.ndarray] = []
    wifs: list[np.ndarray | None] = []

    def add(name, kind, label, sel, weights, wif):
        a = np.zeros(K)
        a[sel] = weights
        names.append(name)
        kinds.append(kind)
        labels.append(label)
        rows.append(a)
        wifs.append(wif)

    # simple
    sel = np.flatnonzero(post)
    if sel.size:
        add("att_overall", "simple", np.nan, sel, pg[sel] / pg[sel].sum(), sel)
    # dynamic
    lo = e.min() if min_e is None else max(e.min(), min_e)
    hi = e.max() if max_e is None else min(e.max(), max_e)
    dyn_rows = []
    for ev in range(int(lo), int(hi) + 1):
        sel = np.flatnonzero(e == ev)
        if sel.size == 0:
            continue
        add(f"att_e{ev}", "event", float(ev), sel, pg[sel] / pg[sel].sum(), sel)
        if ev >= 0:
            dyn_rows.append(len(rows) - 1)
    # group
    grp_rows = []
    for g in np.unique(gt.g):
        sel = np.flatnonzero((gt.g == g) & post)
        if sel.size == 0:
            continue
        add(f"att_g{_fmt(g)}", "group", float(g), sel, np.full(sel.size, 1.0 / sel.size), None)
        grp_rows.append(len(rows) - 1)
    # calendar
    cal_rows = []
    for t in np.unique(gt.t[post]):
        sel = np.flatnonzero((gt.t == t) & post)
        add(f"att_t{_fmt(t)}", "calendar", float(t), sel, pg[sel] / pg[sel].sum(), sel)
        cal_rows.append(len(rows) - 1)
    A = np.array(rows) if rows else np.zeros((0, K))
    agg = Aggregation(names, kinds, labels, A, wifs)
    agg.combos = {}  # type: ignore[attr-defined]
    if dyn_rows:
        agg.combos["att_dynamic_overall"] = (np.array(dyn_rows), np.full(len(dyn_rows), 1.0 / len(dyn_rows)), None)  # type: ignore[attr-defined]
    if grp_rows:
        gvals = np.array([labels[r] for r in grp_rows])
        pgg = pg_c[np.searchsorted(panel.cohorts, gvals)]
        agg.combos["att_group_overall"] = (np.array(grp_rows), pgg / pgg.sum(), gvals)  # type: ignore[attr-defined]
    if cal_rows:
        agg.combos["att_calendar_overall"] = (np.array(cal_rows), np.full(len(cal_rows), 1.0 / len(cal_rows)), None)  # type: ignore[attr-defined]
    return agg


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _pg(panel: Panel) -> np.ndarray:
    """Cohort shares of all units (weighted), per cohort index."""
    if panel.w is None:
        return panel.counts / panel.n
    return np.bincount(panel.cohort, weights=panel.w, minlength=len(panel.cohorts)) / panel.n


def _wif_by_cohort(panel: Panel, gt: GroupTime, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Estimated-weight influence term of ``did::aggte`` (``wif %*% att``) for a pg-weighted
    average of cells ``sel``: returns (per-cohort coefficient on w_i, constant), so that the
    term for unit i is ``w_i * coef[c_i] - const``."""
    pg_c = _pg(panel)
    cidx = np.searchsorted(panel.cohorts, gt.g[sel])
    pg = pg_c[cidx]
    Ssum = pg.sum()
    att = gt.att[sel]
    C = len(panel.cohorts)
    coef = np.zeros(C)
    # if1: sum_k (w 1[c = g_k] - pg_k) att_k / S
    np.add.at(coef, cidx, att / Ssum)
    const = np.sum(pg * att) / Ssum
    # if2: (sum_k (w 1[c = g_k] - pg_k)) * sum_k pg_k att_k / S^2
    cnt = np.zeros(C)
    np.add.at(cnt, cidx, 1.0)
    scale = np.sum(pg * att) / Ssum**2
    coef -= cnt * scale
    const -= np.sum(pg) * scale
    return coef, const


def influence_matrix(
    gt: GroupTime, panel: Panel, a: np.ndarray, wif_cells: list[np.ndarray | None], extra: int = 0
) -> np.ndarray:
    """``n x K`` influence functions of the targets ``a @ att`` (rows in panel order).

    ``extra`` > 0 appends that many zero columns (filled by the caller), so the matrix is
    allocated once."""
    K = a.shape[0]
    n = panel.n
    C = len(panel.cohorts)
    T = panel.Y.shape[1]
    IF = np.zeros((n, K + extra))
    w = panel.w
    if gt.alpha is not None:
        Acoef = np.zeros((K, C, T))
        B = a @ gt.beta  # K x C
        for k in range(K):
            nz = np.flatnonzero(a[k])
            if nz.size == 0:
                continue
            wa = gt.alpha[nz] * a[k, nz][:, None]  # nz x C
            np.add.at(Acoef[k].T, gt.ti[nz], wa)
            np.add.at(Acoef[k].T, gt.bi[nz], -wa)
        for c in range(C):
            blk = panel.block(c)
            if blk.stop == blk.start:
                continue
            # only the targets and periods in which this cohort has a non-zero coefficient
            Ac = Acoef[:, c, :]
            ks = np.flatnonzero(np.any(Ac != 0, axis=1) | (B[:, c] != 0))
            if ks.size == 0:
                continue
            ts = np.flatnonzero(np.any(Ac[ks] != 0, axis=0))
            Yc = panel.Y[blk] if ts.size == T else panel.Y[blk][:, ts]
            part = Yc @ Ac[np.ix_(ks, ts)].T - B[ks, c]
            if w is not None:
                part *= w[blk, None]
            if ks.size == K:
                IF[blk, :K] = part
            else:
                IF[blk, ks] = part
    elif gt.cov_groups:
        from scipy import sparse

        with _one_blas_thread():
            _cov_influence(IF, gt, panel, a, K, sparse)
    else:
        for j in range(gt.n_cells):
            ks = np.flatnonzero(a[:, j])
            if ks.size:
                IF[np.ix_(gt.if_rows[j], ks)] += gt.if_vals[j][:, None] * a[ks, j][None, :]
    for k in range(K):
        sel = wif_cells[k]
        if sel is None:
            continue
        coef, const = _wif_by_cohort(panel, gt, sel)
        ww = np.ones(n) if w is None else w
        IF[:, k] += ww * coef[panel.cohort] - const
    return IF


def _cov_influence(IF: np.ndarray, gt: GroupTime, panel: Panel, a: np.ndarray, K: int, sparse) -> None:
    """Add the covariate path's cells to the targets' influence matrix, group by group: a group's
    influence functions are rebuilt (never stored for all cells) and enter the targets through
    the few non-zero weights of its cells."""
    for grp in gt.cov_groups:
        A = a[:, grp.cells]
        ks = np.flatnonzero(np.any(A != 0, axis=1))
        if ks.size == 0:
            continue
        _, _, psi = _group_psi(panel, grp, gt.est_method)
        dense = ks.size > K // 2  # add whole row slabs rather than scattered columns
        Asel = A if dense else A[ks]
        contrib = (sparse.csr_matrix(Asel) @ psi.T).T  # n_s x (K or |ks|): cost (non-zero weights) x n_s
        r0 = 0
        for k in (grp.c, *grp.ctrl):
            s0, s1 = int(panel.starts[k]), int(panel.starts[k + 1])
            if dense:
                IF[s0:s1, :K] += contrib[r0:r0 + s1 - s0]
            else:
                IF[s0:s1, ks] += contrib[r0:r0 + s1 - s0]
            r0 += s1 - s0


def n_clusters(cluster: np.ndarray) -> int:
    return int(len(np.unique(cluster)))


def se_from_if(IF: np.ndarray, cluster: np.ndarray | None = None) -> np.ndarray:
    """Analytic standard errors ``sqrt(sum psi^2) / n``.

    Clustered: influence functions are summed within clusters first and the variance is
    multiplied by the small-sample factor ``G / (G - 1)`` (as CR1); the caller then uses
    t(G - 1) critical values. Without the factor and with normal critical values coverage was
    0.930-0.934 at 30-60 clusters in 1,000-replication simulations, with it 0.939-0.947.
    """
    n = IF.shape[0]
    factor = 1.0
    if cluster is not None:
        IF = _cluster_sum(IF, cluster)
        G = IF.shape[0]
        if G < 2:
            raise EstimationError("cluster-robust standard errors need at least 2 clusters")
        factor = G / (G - 1)
    return np.sqrt(factor * np.einsum("ij,ij->j", IF, IF)) / n


def vcov_from_if(IF: np.ndarray, cluster: np.ndarray | None = None) -> np.ndarray:
    """The covariance matrix whose diagonal :func:`se_from_if` takes the square root of (same factor)."""
    n = IF.shape[0]
    factor = 1.0
    if cluster is not None:
        IF = _cluster_sum(IF, cluster)
        G = IF.shape[0]
        factor = G / (G - 1)
    return factor * (IF.T @ IF) / n**2


def _cluster_sum(IF: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    codes, inv = np.unique(cluster, return_inverse=True)
    out = np.zeros((len(codes), IF.shape[1]))
    np.add.at(out, inv, IF)
    return out


def multiplier_bootstrap(
    IF: np.ndarray, *, draws: int, seed: int, kind: str, cluster: np.ndarray | None = None,
    block: int = 20000,
) -> tuple[np.ndarray, np.ndarray]:
    """Multiplier bootstrap as ``did::mboot``: returns (bootstrap draws of sqrt(n)(theta* - theta),
    K) and per-target standard errors (IQR / (z_.75 - z_.25) / sqrt(n)).

    ``kind`` is ``"mammen"`` (two-point, mean 0, variance 1, third moment 1) or
    ``"rademacher"``. With a cluster the weights are drawn per cluster and the influence
    function summed within clusters (``did`` clustered bootstrap).
    """
    n = IF.shape[0]
    M = _cluster_sum(IF, cluster) if cluster is not None else IF
    m = M.shape[0]
    rng = np.random.default_rng(seed)
    out = np.zeros((draws, M.shape[1]))
    for s in range(0, m, block):
        e = min(m, s + block)
        if kind == "rademacher":
            xi = rng.integers(0, 2, size=(draws, e - s)).astype(np.float64) * 2.0 - 1.0
        elif kind == "mammen":
            k1 = (1 - np.sqrt(5)) / 2
            k2 = (1 + np.sqrt(5)) / 2
            pk = (np.sqrt(5) + 1) / (2 * np.sqrt(5))
            u = rng.random(size=(draws, e - s))
            xi = np.where(u < pk, k1, k2)
        else:
            raise EstimationError(f"unknown bootstrap weights {kind!r}; use 'mammen' or 'rademacher'")
        out += xi @ M[s:e]
    bres = np.sqrt(n) * out / n
    q = np.quantile(bres, [0.25, 0.75], axis=0)
    se = (q[1] - q[0]) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25)) / np.sqrt(n)
    return bres, se


def sup_t_critical(bres: np.ndarray, se: np.ndarray, n: int, alpha: float) -> float:
    """Uniform (sup-t) critical value over the columns of ``bres``."""
    ok = np.isfinite(se) & (se > 1e-12 * max(1.0, np.nanmax(np.abs(se))))
    if not ok.any():
        return float("nan")
    t = np.abs(bres[:, ok]) / (se[ok] * np.sqrt(n))
    return float(np.quantile(t.max(axis=1), 1 - alpha))


def wald_test(est: np.ndarray, IF: np.ndarray, cluster: np.ndarray | None = None) -> tuple[float, int, float]:
    """Joint Wald test that all ``est`` are zero with covariance from the influence functions."""
    if est.size == 0:
        return float("nan"), 0, float("nan")
    n = IF.shape[0]
    M = _cluster_sum(IF, cluster) if cluster is not None else IF
    V = M.T @ M / n**2
    if cluster is not None:
        V *= M.shape[0] / (M.shape[0] - 1)  # same small-sample factor as se_from_if
    rank = np.linalg.matrix_rank(V)
    stat = float(est @ np.linalg.pinv(V) @ est)
    return stat, int(rank), float(stats.chi2.sf(stat, rank))
