"""Rambachan–Roth sensitivity (evaluation.designs.did._honest) against the HonestDiD package's published
Medicaid example (tests/reference/honestdid_medicaid.json names the source, commits and printed tables)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from evaluation.designs.did import _honest as H
from evaluation.exceptions import EstimationError

REF = json.loads((Path(__file__).resolve().parents[2] / "reference" / "honestdid_medicaid.json").read_text())


def _half_unit(printed: float) -> float:
    """Half a unit of the last of 3 significant digits."""
    return 0.5 * 10 ** (math.floor(math.log10(abs(printed))) - 2)


def _matches(ours: float, printed: float, slack: float = 1e-12) -> bool:
    return abs(ours - printed) <= _half_unit(printed) + slack


def _input(suffix: str = "") -> H.HonestInput:
    i = REF["inputs"]
    return H.HonestInput.make(i["betahat" + suffix], i["sigma" + suffix], i["num_pre"], i["num_post"])


def test_r_random_stream():
    """set.seed(0); rnorm(5) in R: 1.2629543 -0.3262334 1.3297993 1.2724293 0.4146414."""
    np.testing.assert_allclose(H.r_rnorm(5, 0), [1.2629543, -0.3262334, 1.3297993, 1.2724293, 0.4146414], atol=5e-8)


@pytest.mark.parametrize("table,suffix", [("smoothness_flci", ""), ("smoothness_flci_with_control", "_with_control")])
def test_smoothness_flci_reproduces_readme(table, suffix):
    h = _input(suffix)
    pub = REF["published"][table]
    for m, lb, ub in zip(pub["M"], pub["lb"], pub["ub"]):
        ours = H.smoothness_flci(h, m)
        slack = 2e-6 if (table == "smoothness_flci" and m == 0) else 1e-12  # REF["known_difference"]
        assert _matches(ours[0], lb, slack), (m, ours, lb)
        assert _matches(ours[1], ub), (m, ours, ub)


def test_relative_magnitudes_reproduce_readme():
    h = _input()
    pub = REF["published"]["relative_magnitudes_clf"]
    for mbar, lb, ub in zip(pub["Mbar"], pub["lb"], pub["ub"]):
        ours = H.relative_magnitudes_ci(h, mbar)
        assert _matches(ours[0], lb) and _matches(ours[1], ub), (mbar, ours, lb, ub)


def test_coarse_grid_search_equals_full_grid():
    """The coarse-then-bisect search finds the same end points as testing every grid point (on a 300-point
    grid with step 10 here; benchmarks/bench_honest_grid.py checks the package's 1,000-point grid)."""
    h = _input()
    grid = np.linspace(-20 * h.sd_theta, 20 * h.sd_theta, 300)
    for mbar in (0.5, 1.5):
        coarse = H.relative_magnitudes_ci(h, mbar, grid=grid, step=10)
        assert coarse == H.relative_magnitudes_ci(h, mbar, grid=grid, step=1)
        assert coarse[0] < h.theta < coarse[1]


def test_one_nuisance_fast_paths_equal_the_lp():
    """The closed-form LPs with one nuisance parameter (eta and its duals; the truncation bounds' vertex
    program) give the LP solver's answers on random problems, including zero slopes."""
    from scipy import optimize

    rng = np.random.default_rng(7)
    n_eta = n_max = 0
    for _ in range(300):
        m = int(rng.integers(2, 9))
        y, x, sd = rng.normal(size=m), rng.normal(size=m), rng.uniform(0.5, 2, m)
        x[rng.random(m) < 0.25] = 0.0
        fast = H._lp_eta_one(y, x, sd)
        if fast is not None:
            n_eta += 1
            res = optimize.linprog([1, 0], A_ub=-np.column_stack([sd, x]), b_ub=-y, bounds=[(None, None)] * 2,
                                   method="highs")
            assert abs(res.fun - fast[0]) < 1e-9
            np.testing.assert_allclose(-res.ineqlin.marginals, fast[2], atol=1e-8)
        f = rng.normal(size=m)
        vfast = H._max_program_one(f, sd, x)
        if vfast is not None:
            n_max += 1
            res = optimize.linprog(-f, A_eq=np.vstack([sd, x]), b_eq=[1, 0], bounds=[(0, None)] * m, method="highs")
            assert res.status == 0 and abs(res.fun - vfast.fun) < 1e-9
            np.testing.assert_allclose(res.x, vfast.x, atol=1e-8)
    assert n_eta > 50 and n_max > 100  # the fast paths were exercised


def test_folded_normal_quantile_without_full_partition():
    """The merge-based quantile of |z + mu| is numpy's type-7 quantile to the bit."""
    z = H.r_rnorm(20001, 3)
    zs = np.sort(z)
    for mu in (-3.0, -0.4, 0.0, 0.7, 2.5):
        for p in (0.5, 0.9, 0.95):
            assert H._sorted_abs_quantile7(zs, mu, p) == H._quantile7(np.abs(z + mu), p)


def test_original_interval_and_breakdown():
    h = _input()
    lo, hi = H.original_ci(h)
    assert lo < h.theta < hi and lo > 0
    # the robust sets grow with M and contain the original one at M = 0 for Delta^RM
    bd = H.breakdown_value(h, "relative_magnitudes")
    assert 1.5 < bd < 2.0  # the README: significant up to Mbar = 1.5, not at 2
    assert not (H.relative_magnitudes_ci(h, bd + 0.02)[0] > 0)
    bd_sd = H.breakdown_value(h, "smoothness")
    assert 0.02 < bd_sd < 0.03  # the README: "the breakdown value ... is M ≈ 0.03"
    lb, _ = H.smoothness_flci(h, bd_sd)
    assert lb > 0


def test_average_of_post_periods_and_one_post_period():
    i = REF["inputs"]
    avg = H.HonestInput.make(i["betahat"], i["sigma"], 5, 2, l_vec=[0.5, 0.5])
    lo, hi = H.relative_magnitudes_ci(avg, 0.5)
    assert lo < avg.theta < hi
    one = H.HonestInput.make(i["betahat"][:6], np.asarray(i["sigma"])[:6, :6], 5, 1)
    lo1, hi1 = H.relative_magnitudes_ci(one, 0.5)
    o = H.original_ci(one)
    assert lo1 <= o[0] + 1e-9 and hi1 >= o[1] - 1e-9
    flo, fhi = H.smoothness_flci(one, 0.0)
    assert flo < one.theta < fhi


def test_bad_input_is_refused():
    with pytest.raises(EstimationError):
        H.HonestInput.make([1, 2, 3], np.eye(2), 2, 1)
    with pytest.raises(EstimationError):
        H.HonestInput.make([1, 2, 3], np.eye(3), 1, 1)


def test_a_precise_estimate_far_from_zero_gets_its_whole_robust_set():
    """The package's grid is ±20 SD of theta-hat around 0: an effect 30 standard errors from 0 lies beyond it. The
    set is then found on the grid extended with the same spacing (before: cut off at the grid's end, excluding
    the estimate itself at M̄ = 0); a set inside the grid is the package's own."""
    i = REF["inputs"]
    one = H.HonestInput.make(i["betahat"][:6], np.asarray(i["sigma"])[:6, :6], 5, 1)
    shift = 30 * one.sd_theta - one.theta
    far = H.HonestInput.make(list(i["betahat"][:5]) + [i["betahat"][5] + shift], np.asarray(i["sigma"])[:6, :6], 5, 1)
    assert far.theta > 20 * far.sd_theta
    lo, hi = H.relative_magnitudes_ci(far, 0.0)
    olo, ohi = H.original_ci(far)
    assert lo < far.theta < hi and hi > H.rm_grid(far)[-1]
    assert abs((hi - lo) - (ohi - olo)) < 0.1 * (ohi - olo)
    cut = H.relative_magnitudes_ci(far, 0.0, grid=H.rm_grid(far))  # the package's grid alone
    assert math.isnan(cut[0]) or cut[1] <= H.rm_grid(far)[-1]
    # inside the grid nothing changes
    assert H.relative_magnitudes_ci(one, 0.5) == H.relative_magnitudes_ci(one, 0.5, grid=H.rm_grid(one))
