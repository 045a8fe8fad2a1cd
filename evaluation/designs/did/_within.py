"""Two-way fixed-effects kernel: within transformation, least squares and variances on demeaned data.

Private module: :class:`evaluation.designs.did.TWFE` is the public entry point. Pure numpy
functions of integer codes and float arrays; nothing here forms a dummy matrix.

Model: ``y = a_i + l_t + X b + e`` with (optional) weights ``w``, person codes ``a`` and period
codes ``b``. By Frisch-Waugh-Lovell, ``b`` is the least-squares coefficient of the two-way
demeaned ``y`` on the two-way demeaned ``X``, and the residuals of that regression are the
residuals of the full dummy regression, so every variance below comes from demeaned data.

Two exact within transformations (no iteration, no tolerance):

* **balanced, unweighted** (every person observed in every period once):
  ``v~ = v - mean_i(v) - mean_t(v) + mean(v)``: three group sums and two gathers per column;
* **any other panel** (unbalanced and/or weighted): demean by the factor with more levels
  (``A``, persons), then remove the other factor (``B``, periods, ``m`` levels) by solving its
  ``m x m`` normal equations ``S l = D_B' W M_A v`` with
  ``S = D_B' W M_A D_B = diag(W_t) - P' diag(1/W_i) P`` (``P[i, t]`` the weight of person
  ``i`` in period ``t``), accumulated over person blocks by dense matrix products. This is the
  exact solution that alternating projections (pyfixest, reghdfe) approach iteratively; its
  cost is ``O(N k + n_A m^2)`` -- for weekly or quarterly DiD panels (``m`` up to a few
  hundred periods) a fraction of one pass of alternating projections over the data, and the
  answer does not depend on a convergence tolerance. linearmodels' PanelOLS, which this
  replaced, does the same in principle but by ``lstsq`` on an ``N x (m - 1)`` dense dummy matrix.

Variances follow linearmodels' PanelOLS conventions (which the design's earlier results used):
``vcov_clustered`` is the CR0 sandwich (the design applies the CR1 factor), ``vcov_robust`` and
``vcov_unadjusted`` scale by ``N / (N - n_effects - k)`` with ``n_effects = n_A + m - 1``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "codes_of",
    "has_duplicate_pairs",
    "TwoWay",
    "ols",
    "absorbed",
    "vcov_clustered",
    "vcov_robust",
    "vcov_unadjusted",
    "cluster_sums",
]

#: a regressor is absorbed by the effects when less than this share of its norm survives demeaning
#: (linearmodels' ``check_absorbed`` threshold).
ABSORBED_TOL = 1e-5

#: persons per block when accumulating the period normal equations of an unbalanced/weighted panel.
_BLOCK = 1 << 14


def codes_of(values) -> tuple[np.ndarray, int]:
    """Integer codes 0..n-1 (first-appearance order) and the number of levels.

    Examples
    --------
    >>> c, n = codes_of(np.array(["b", "a", "b"]))
    >>> c.tolist(), n
    ([0, 1, 0], 2)
    """
    codes, uniq = pd.factorize(np.asarray(values), sort=False)
    return codes.astype(np.intp, copy=False), len(uniq)


def has_duplicate_pairs(a: np.ndarray, b: np.ndarray, n_a: int, n_b: int) -> bool:
    """Whether some ``(a, b)`` pair occurs on more than one row (counting table if it is small, else hashing).

    Examples
    --------
    >>> has_duplicate_pairs(np.array([0, 0, 1]), np.array([0, 1, 0]), 2, 2), has_duplicate_pairs(np.array([0, 0]), np.array([1, 1]), 1, 2)
    (False, True)
    """
    n = len(a)
    if n > n_a * n_b:
        return True
    key = np.asarray(a, dtype=np.int64) * n_b + np.asarray(b, dtype=np.int64)
    if n_a * n_b <= 8 * max(n, 1):
        return bool(np.bincount(key, minlength=n_a * n_b).max(initial=0) > 1)
    return bool(pd.Index(key).has_duplicates)


class TwoWay:
    """Two crossed factors (persons ``a``, periods ``b``) with optional row weights.

    Parameters
    ----------
    a, b : ndarray of int
        Codes ``0..n_a-1`` and ``0..n_b-1`` per row; each ``(a, b)`` pair at most once.
    n_a, n_b : int
    w : ndarray, optional
        Non-negative row weights.

    Examples
    --------
    >>> a = np.repeat(np.arange(3), 2); b = np.tile(np.arange(2), 3)
    >>> tw = TwoWay(a, b, 3, 2)
    >>> tw.balanced
    True
    >>> v = np.array([1.0, 2.0, 3.0, 5.0, 0.0, 0.0])
    >>> (np.round(tw.demean(v[:, None])[:, 0], 12) + 0.0).tolist()  # v - person mean - period mean + grand mean
    [0.0, 0.0, -0.5, 0.5, 0.5, -0.5]
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, n_a: int, n_b: int, w: np.ndarray | None = None):
        self.a = np.asarray(a, dtype=np.intp)
        self.b = np.asarray(b, dtype=np.intp)
        self.n_a, self.n_b = int(n_a), int(n_b)
        self.w = None if w is None else np.asarray(w, dtype=float)
        self.n = len(self.a)
        self.balanced = self.n == self.n_a * self.n_b
        self._normal = None  # cached factor of the period normal equations (general path)
        # the general path demeans by the factor with more levels and solves the other's normal equations
        if self.n_b <= self.n_a:
            self._A, self._B, self._nA, self._nB = self.a, self.b, self.n_a, self.n_b
        else:
            self._A, self._B, self._nA, self._nB = self.b, self.a, self.n_b, self.n_a

    @property
    def n_effects(self) -> int:
        """Effects PanelOLS counts in the degrees of freedom: ``n_a + n_b - 1``."""
        return self.n_a + self.n_b - 1

    # ------------------------------------------------------------------ within transformation
    def demean(self, V: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Two-way demeaned columns of ``V`` (``N x k``), weighted if the panel has weights.

        ``out`` (e.g. ``V`` itself, Fortran-ordered) receives the result: a column is read in full
        before it is written, so demeaning in place is exact and needs no second ``N x k`` array.
        """
        V = np.asarray(V, dtype=float)
        if V.ndim == 1:
            V = V[:, None]
        V = np.asfortranarray(V)  # columns contiguous: every pass below runs down one column
        if out is None:
            out = np.empty_like(V, order="F")
        if self.w is None and self.balanced:
            return self._demean_balanced(V, out)
        return self._demean_general(V, out)

    def _demean_balanced(self, V: np.ndarray, out: np.ndarray) -> np.ndarray:
        a, b = self.a, self.b
        for j in range(V.shape[1]):
            v = V[:, j]
            ma = np.bincount(a, weights=v, minlength=self.n_a) / self.n_b
            mb = np.bincount(b, weights=v, minlength=self.n_b) / self.n_a
            mb -= v.sum() / self.n  # fold the grand mean into the period means
            o = out[:, j]
            np.subtract(v, ma[a], out=o)
            o -= mb[b]
        return out

    # general path: demeaning by the larger factor A, then the exact projection on the smaller factor B
    def _weights_A(self) -> np.ndarray:
        if self.w is not None:
            return np.bincount(self._A, weights=self.w, minlength=self._nA)
        return np.bincount(self._A, minlength=self._nA).astype(float)

    def _mean_A(self, v: np.ndarray, WA: np.ndarray) -> np.ndarray:
        s = np.bincount(self._A, weights=v if self.w is None else self.w * v, minlength=self._nA)
        return np.divide(s, WA, out=np.zeros_like(s), where=WA > 0)

    def _system_B(self, WA: np.ndarray) -> np.ndarray:
        """``S = D_B' W M_A D_B`` (``n_B x n_B``), accumulated over blocks of A levels."""
        m, A, B = self._nB, self._A, self._B
        w = np.ones(self.n) if self.w is None else self.w
        S = np.diag(np.bincount(B, weights=w, minlength=m))
        order = np.argsort(A, kind="stable")
        bounds = np.searchsorted(A[order], np.arange(0, self._nA + _BLOCK, _BLOCK))
        inv_w = np.divide(1.0, WA, out=np.zeros_like(WA), where=WA > 0)
        for k in range(len(bounds) - 1):
            r0, r1 = int(bounds[k]), int(bounds[k + 1])
            if r1 <= r0:
                continue
            rows = order[r0:r1]
            p0 = k * _BLOCK
            P = np.zeros((min(self._nA, p0 + _BLOCK) - p0, m))
            P[A[rows] - p0, B[rows]] = w[rows]
            S -= (P * inv_w[p0:p0 + P.shape[0], None]).T @ P
        return S

    def _demean_general(self, V: np.ndarray, out: np.ndarray) -> np.ndarray:
        WA = self._weights_A()
        A, B, w = self._A, self._B, self.w
        if self._nB > 1 and self._normal is None:
            # the B effects are identified up to the A effects' span: fix the first level's effect
            # at 0 (a connected panel leaves S[1:, 1:] positive definite)
            S1 = self._system_B(WA)[1:, 1:]
            try:
                self._normal = ("chol", np.linalg.cholesky(S1))
            except np.linalg.LinAlgError:  # disconnected panel: minimum-norm solution
                self._normal = ("pinv", np.linalg.pinv(S1, hermitian=True))
        for j in range(V.shape[1]):
            o = out[:, j]
            np.subtract(V[:, j], self._mean_A(V[:, j], WA)[A], out=o)
            if self._nB <= 1:
                continue
            rhs = np.bincount(B, weights=o if w is None else w * o, minlength=self._nB)[1:]
            kind, F = self._normal
            lam1 = np.linalg.solve(F.T, np.linalg.solve(F, rhs)) if kind == "chol" else F @ rhs
            fit = np.concatenate([[0.0], lam1])[B]
            o -= fit
            o += self._mean_A(fit, WA)[A]
        return out


# ---------------------------------------------------------------------- least squares
def ols(Xd: np.ndarray, yd: np.ndarray, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares on demeaned data: ``(beta, residuals, (X'WX)^-1)``.

    Examples
    --------
    >>> X = np.array([[1.0], [-1.0], [2.0]]); y = 2 * X[:, 0] + np.array([0.1, 0.2, -0.05])
    >>> b, e, _ = ols(X, y)
    >>> round(float(b[0]), 12), bool(abs(float(X[:, 0] @ e)) < 1e-12)  # residuals orthogonal to X
    (1.966666666667, True)
    """
    XtX = _gram(Xd, w)
    inv = np.linalg.inv(XtX)
    beta = inv @ (Xd.T @ (yd if w is None else w * yd))
    resid = yd - Xd @ beta
    return beta, resid, inv


def _gram(X: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """``X'WX`` (symmetrised), weighted column by column (no ``N x k`` temporary)."""
    if w is None:
        G = X.T @ X
    else:
        G = np.empty((X.shape[1], X.shape[1]))
        for j in range(X.shape[1]):
            G[:, j] = X.T @ (w * X[:, j])
    return (G + G.T) / 2


def column_norms(X: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Weighted Euclidean norm of every column, ``sqrt(sum w x^2)``, one column at a time."""
    return np.array([np.sqrt(X[:, j] @ X[:, j] if w is None else (w * X[:, j]) @ X[:, j]) for j in range(X.shape[1])])


def absorbed(Xd: np.ndarray, X: np.ndarray | None = None, w: np.ndarray | None = None, *,
             norms: np.ndarray | None = None) -> list[int]:
    """Columns absorbed by the effects (``|x~| < 1e-5 |x|``, weighted norms; pass the columns ``X``
    before demeaning or their ``norms``) or collinear after demeaning."""
    if norms is None:
        norms = column_norms(X, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        size = column_norms(Xd, w) / norms
    out = [int(j) for j in np.flatnonzero(~(size >= ABSORBED_TOL))]
    if out or Xd.shape[1] == 0:
        return out
    G = _gram(Xd, w)
    d = np.sqrt(np.diag(G))
    C = G / np.outer(d, d)
    ev, vec = np.linalg.eigh(C)
    tol = C.shape[0] * np.finfo(float).eps * 1e3
    if ev[0] > tol:
        return []
    # the columns that carry the null direction
    v = vec[:, 0]
    return [int(j) for j in np.flatnonzero(np.abs(v) > 1e-8 * np.abs(v).max())]


# ---------------------------------------------------------------------- variances
def cluster_sums(Z: np.ndarray, clusters: np.ndarray, n_clusters: int, u: np.ndarray | None = None) -> np.ndarray:
    """Column sums of ``Z`` (``N x k``, times ``u`` if given) within clusters (codes 0..G-1): ``G x k``,
    one column at a time (no ``N x k`` temporary)."""
    out = np.empty((n_clusters, Z.shape[1]))
    for j in range(Z.shape[1]):
        out[:, j] = np.bincount(clusters, weights=Z[:, j] if u is None else Z[:, j] * u, minlength=n_clusters)
    return out


def vcov_clustered(Xd: np.ndarray, resid: np.ndarray, inv: np.ndarray, clusters: np.ndarray, n_clusters: int,
                   w: np.ndarray | None = None) -> np.ndarray:
    """CR0 sandwich ``(X'WX)^-1 (sum_g s_g s_g') (X'WX)^-1`` with ``s_g = sum_{i in g} w_i x~_i e_i``.

    The design multiplies it by the CR1 factor ``G/(G-1) (N-1)/(N-K)``.
    """
    u = resid if w is None else w * resid
    s = cluster_sums(Xd, clusters, n_clusters, u)
    V = inv @ (s.T @ s) @ inv
    return (V + V.T) / 2


def vcov_robust(Xd: np.ndarray, resid: np.ndarray, inv: np.ndarray, n_effects: int,
                w: np.ndarray | None = None) -> np.ndarray:
    """White (HC0) sandwich scaled by ``N / (N - n_effects - k)`` (PanelOLS ``cov_type="robust"``)."""
    N, k = Xd.shape
    u = resid if w is None else w * resid
    u2 = u * u
    meat = np.empty((k, k))
    for j in range(k):  # one column at a time (no N x k temporary)
        meat[:, j] = Xd.T @ (Xd[:, j] * u2)
    V = inv @ ((meat + meat.T) / 2) @ inv * (N / (N - n_effects - k))
    return (V + V.T) / 2


def vcov_unadjusted(resid: np.ndarray, inv: np.ndarray, n_effects: int, k: int, w: np.ndarray | None = None) -> np.ndarray:
    """``s^2 (X'WX)^-1`` with ``s^2 = e'We / (N - n_effects - k)`` (PanelOLS ``cov_type="unadjusted"``)."""
    N = len(resid)
    ss = float(resid @ resid) if w is None else float((w * resid) @ resid)
    V = ss / (N - n_effects - k) * inv
    return (V + V.T) / 2
