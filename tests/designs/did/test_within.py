"""The two-way fixed-effects kernel (evaluation.designs.did._within) against the dummy-variable regression."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from evaluation.designs.did import _within


def _panel(rng, n_a=40, n_b=7, keep=1.0, weights=False):
    a = np.repeat(np.arange(n_a), n_b)
    b = np.tile(np.arange(n_b), n_a)
    rows = rng.permutation(len(a))[: int(round(keep * len(a)))]  # shuffled rows, possibly unbalanced
    a, b = a[rows], b[rows]
    x = rng.normal(size=(len(a), 2)) + 0.3 * a[:, None] / n_a + 0.1 * b[:, None]
    y = x @ np.array([0.5, -1.0]) + rng.normal(size=n_a)[a] + rng.normal(size=n_b)[b] + rng.normal(size=len(a))
    w = rng.uniform(0.5, 2.0, len(a)) if weights else None
    return a, b, x, y, w


def _dummies(a, b, n_a, n_b):
    D = np.zeros((len(a), n_a + n_b - 1))
    D[np.arange(len(a)), a] = 1.0
    nz = b > 0
    D[np.flatnonzero(nz), n_a + b[nz] - 1] = 1.0
    return D


def _residualise(V, D, w=None):
    """Residuals of each column of V on the dummies (weighted projection): the within transformation by brute force."""
    rw = np.ones(len(D)) if w is None else np.sqrt(w)
    coef = np.linalg.lstsq(D * rw[:, None], V * rw[:, None], rcond=None)[0]
    return V - D @ coef


@pytest.mark.parametrize("keep,weights", [(1.0, False), (1.0, True), (0.8, False), (0.8, True)],
                         ids=["balanced", "balanced-weighted", "unbalanced", "unbalanced-weighted"])
def test_within_transform_equals_dummy_projection(keep, weights):
    rng = np.random.default_rng(1)
    a, b, x, y, w = _panel(rng, keep=keep, weights=weights)
    V = np.column_stack([x, y])
    tw = _within.TwoWay(a, b, 40, 7, w)
    assert tw.balanced == (keep == 1.0)
    np.testing.assert_allclose(tw.demean(V), _residualise(V, _dummies(a, b, 40, 7), w), atol=1e-12)
    # more periods than persons: the roles of the two factors swap; same projection
    tw2 = _within.TwoWay(b, a, 7, 40, w)
    np.testing.assert_allclose(tw2.demean(V), _residualise(V, _dummies(a, b, 40, 7), w), atol=1e-12)


def test_disconnected_panel_still_projects_exactly():
    # two groups of persons observed in disjoint periods: the period effects are not all identified,
    # the projection on the dummies still is
    a = np.concatenate([np.repeat(np.arange(5), 3), np.repeat(np.arange(5, 10), 3)])
    b = np.concatenate([np.tile(np.arange(3), 5), np.tile(np.arange(3, 6), 5)])
    rng = np.random.default_rng(2)
    V = rng.normal(size=(len(a), 2))
    got = _within.TwoWay(a, b, 10, 6).demean(V)
    np.testing.assert_allclose(got, _residualise(V, _dummies(a, b, 10, 6)), atol=1e-10)


@pytest.mark.parametrize("weights", [False, True])
def test_ols_and_variances_equal_the_dummy_regression(weights):
    rng = np.random.default_rng(3)
    a, b, x, y, w = _panel(rng, n_a=60, n_b=6, keep=0.85, weights=weights)
    tw = _within.TwoWay(a, b, 60, 6, w)
    Z = tw.demean(np.column_stack([x, y]))
    beta, resid, inv = _within.ols(Z[:, :2], Z[:, 2], w)
    D = _dummies(a, b, 60, 6)
    full = np.column_stack([x, D])
    mod = sm.WLS(y, full, weights=w) if weights else sm.OLS(y, full)
    ref = mod.fit()
    np.testing.assert_allclose(beta, ref.params[:2], rtol=1e-10)
    np.testing.assert_allclose(resid, ref.resid / 1.0, atol=1e-10)
    k = 2
    # classical: s^2 with every effect in the degrees of freedom
    V = _within.vcov_unadjusted(resid, inv, tw.n_effects, k, w)
    np.testing.assert_allclose(np.sqrt(np.diag(V)), ref.bse[:2], rtol=1e-9)
    # robust: HC1 of the dummy regression (N / (N - all parameters))
    V = _within.vcov_robust(Z[:, :2], resid, inv, tw.n_effects, w)
    np.testing.assert_allclose(np.sqrt(np.diag(V)), mod.fit(cov_type="HC1").bse[:2], rtol=1e-9)
    # clustered by person: CR0 of the dummy regression
    V = _within.vcov_clustered(Z[:, :2], resid, inv, a, 60, w)
    cr0 = mod.fit(cov_type="cluster", cov_kwds={"groups": a, "use_correction": False})
    np.testing.assert_allclose(np.sqrt(np.diag(V)), cr0.bse[:2], rtol=1e-9)


def test_absorbed_and_duplicates():
    rng = np.random.default_rng(4)
    a, b, x, y, _ = _panel(rng, keep=0.9)
    person_level = rng.normal(size=40)[a]  # constant within person: absorbed
    X = np.column_stack([x[:, 0], person_level, x[:, 1], 2 * x[:, 1]])
    Xd = _within.TwoWay(a, b, 40, 7).demean(X)
    assert _within.absorbed(Xd[:, :3], X[:, :3]) == [1]
    assert _within.absorbed(Xd[:, [0, 2, 3]], X[:, [0, 2, 3]]) == [1, 2]  # collinear pair
    assert _within.absorbed(Xd[:, [0, 2]], X[:, [0, 2]]) == []
    assert not _within.has_duplicate_pairs(a, b, 40, 7)
    assert _within.has_duplicate_pairs(np.r_[a, a[:1]], np.r_[b, b[:1]], 40, 7)
    # sparse pairs (hash path) find the same
    big = 10**6
    assert _within.has_duplicate_pairs(np.array([3, 5, 3]) * 1000, np.array([big - 1, 2, big - 1]), 10**4, big)
    assert not _within.has_duplicate_pairs(np.array([3, 5, 3]) * 1000, np.array([big - 1, 2, 7]), 10**4, big)
