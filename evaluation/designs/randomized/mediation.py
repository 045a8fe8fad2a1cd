"""Causal mediation analysis of a randomized comparison with linear models (Imai, Keele & Yamamoto 2010).

A programme theory says *why* an intervention works: allocation → a mechanism (measured by a mediator
indicator, e.g. dialogue with the workplace within four weeks) → the outcome. With the allocation
randomized, the mediator and outcome models

    M = a₀ + α·T + ξ₂ᵀX + ε₂          (mediator model)
    Y = b₀ + θ·T + β·M + ξ₃ᵀX + ε₃    (outcome model)

identify, under *sequential ignorability* (given T and the baseline covariates X, the mediator is as good
as randomly assigned with respect to the outcome: no unmeasured mediator–outcome confounder), the

* average causal mediation effect, ACME = α·β — the part of the effect that runs through the mediator;
* average direct effect, ADE = θ — the rest;
* total effect = ACME + ADE (= the intention-to-treat effect of the same covariate-adjusted model), and the
  proportion mediated, ACME / total effect.

This is what R's ``mediation::mediate`` computes for two ``lm`` fits without a treatment–mediator
interaction: its point estimates with ``boot = TRUE`` are these, computed on the sample; its intervals are
nonparametric bootstrap percentiles (here with ``numpy.random.default_rng(seed)``, so they agree with R's
within Monte Carlo error, not to the digit). p-values are R's: twice the smaller share of bootstrap draws
on either side of zero.

Sensitivity (``medsens``): sequential ignorability cannot be tested. The sensitivity parameter ρ is the
correlation between ε₂ and ε₃ that an unmeasured confounder of mediator and outcome would create; ρ = 0 is
the assumption. For each ρ the two equations are re-estimated as seemingly unrelated regressions with that
error correlation by iterated feasible GLS, exactly as ``medsens`` does for two linear models, giving
ACME(ρ) with a normal (delta-method) interval; the ρ at which the ACME is zero, and the products of the
shares of (residual, R²*; total, R̃²) variance of mediator and outcome an unmeasured confounder would have to
explain for that, say how strong a violation would have to be to overturn the mechanism. For two linear
models ACME(ρ) has the closed form α·σ₁/σ₂·(ρ̃ − ρ·√((1 − ρ̃²)/(1 − ρ²))) (IKY 2010, Theorem 2), where ρ̃ is
the correlation of the residuals of the mediator model and of the outcome regression without the
mediator; the ρ at which the ACME is zero is ρ̃ (the tests check both).

Written here rather than taken from a library: statsmodels' ``Mediation`` implements the quasi-Bayesian and
bootstrap estimates but not IKY's sensitivity analysis nor stratified/cluster bootstraps, and no maintained
Python package offers ``medsens``; the estimator is a few lines of least squares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from evaluation._lazy import optimize, stats

from evaluation.designs.balance import _examples, _group_masks, expand_covariates, numeric_outcome
from evaluation.exceptions import DataValidationError, EstimationError
from evaluation.results import Estimate

__all__ = ["MediationResult", "mediate_linear", "sensitivity_curve", "sequential_ignorability", "MEDIATION_TERMS", "RHO_GRID"]

#: the estimates of a mediation analysis, in the order R's summary prints them
MEDIATION_TERMS = ("acme", "ade", "total_effect", "prop_mediated")

#: ρ values of the sensitivity curve (medsens' rho.by = 0.05 over (−1, 1))
RHO_GRID = tuple(round(-0.95 + 0.05 * i, 2) for i in range(39))

_BOOT_CELLS = 2_000_000  # draws × persons per chunk of the bootstrap


@dataclass(frozen=True)
class MediationResult:
    """ACME, ADE, total effect and proportion mediated with bootstrap intervals, and the sensitivity to ρ.

    Attributes
    ----------
    estimates : tuple of Estimate
        ``acme``, ``ade``, ``total_effect``, ``prop_mediated`` (std_error = SD of the bootstrap draws).
    alpha, beta : float
        The effect of allocation on the mediator (α) and of the mediator on the outcome (β, given T and X).
    mediator_means : dict
        Mean of the mediator by group (shares for a 0/1 mediator), with the group sizes.
    rho_at_zero : float or None
        The error correlation ρ at which the ACME is zero (None when no ρ in (−1, 1) makes it zero).
    r2star_at_zero, r2tilde_at_zero : float or None
        R²*_M·R²*_Y (residual variance) and R̃²_M·R̃²_Y (total variance) at that ρ.
    sensitivity : DataFrame
        ``rho, acme, ci_lower, ci_upper, r2star, r2tilde`` on :data:`RHO_GRID`.
    sims, seed : int
        Bootstrap draws and their seed.
    """

    estimates: tuple[Estimate, ...]
    alpha: float
    beta: float
    n: int
    n_treated: int
    n_control: int
    mediator_means: dict[str, Any]
    rho_at_zero: float | None
    r2star_at_zero: float | None
    r2tilde_at_zero: float | None
    r2_mediator: float
    r2_outcome: float
    sensitivity: pd.DataFrame
    sims: int
    seed: int | None
    conf_level: float
    method: str
    n_failed_draws: int = 0
    diagnostics: dict[str, Any] = field(default_factory=dict)

    def estimate_for(self, term: str) -> Estimate:
        return next(e for e in self.estimates if e.term == term)


# ---------------------------------------------------------------------------
# least squares pieces
# ---------------------------------------------------------------------------


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    if w is None:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    sw = np.sqrt(w)
    return np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]


def _r2(X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> float:
    b = _wls(X, y, w)
    r = y - X @ b
    ww = np.ones(len(y)) if w is None else w
    ybar = np.average(y, weights=ww)
    return float(1.0 - np.sum(ww * r**2) / np.sum(ww * (y - ybar) ** 2))


def _sur(Xm: np.ndarray, m: np.ndarray, Xy: np.ndarray, y: np.ndarray, rho: float, w: np.ndarray | None,
         eps: float = 1e-26, max_iter: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Mediator and outcome equations as seemingly unrelated regressions with error correlation ``rho``, by the
    iterated feasible GLS of R ``mediation::medsens`` (linear–linear case; classical covariance).

    ``medsens`` stops when the squared change of the coefficients is below √(machine ε) ≈ 1.5e-8; this runs to
    convergence (1e-26), so its numbers are the fixed point's, which medsens' printed digits agree with.

    Returns the stacked coefficients (mediator model first) and their covariance matrix.
    """
    if w is not None:
        sw = np.sqrt(w)
        Xm, m, Xy, y = Xm * sw[:, None], m * sw, Xy * sw[:, None], y * sw
    n = len(y)
    km = Xm.shape[1]
    # every iteration needs only these cross products (O(k²) per iteration instead of O(nk))
    mm, my, yy = Xm.T @ Xm, Xm.T @ Xy, Xy.T @ Xy
    xm_m, xm_y, xy_m, xy_y = Xm.T @ m, Xm.T @ y, Xy.T @ m, Xy.T @ y
    sm_, sy_, cm, cy = m.sum(), y.sum(), Xm.sum(axis=0), Xy.sum(axis=0)
    mtm, yty = m @ m, y @ y
    k = km + Xy.shape[1]
    xvx = np.empty((k, k))

    def gls(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b1, b2 = b[:km], b[km:]
        ss1 = mtm - 2 * b1 @ xm_m + b1 @ mm @ b1
        ss2 = yty - 2 * b2 @ xy_y + b2 @ yy @ b2
        s1 = np.sqrt(max(ss1 - (sm_ - b1 @ cm) ** 2 / n, 0.0) / (n - 1))  # R's sd(): centred
        s2 = np.sqrt(max(ss2 - (sy_ - b2 @ cy) ** 2 / n, 0.0) / (n - 1))
        o11, o22, o12 = ss1 / (n - 1), ss2 / (n - 1), rho * s1 * s2
        det = o11 * o22 - o12 * o12
        i11, i22, i12 = o22 / det, o11 / det, -o12 / det
        xvx[:km, :km], xvx[:km, km:], xvx[km:, :km], xvx[km:, km:] = i11 * mm, i12 * my, i12 * my.T, i22 * yy
        xvy = np.concatenate([i11 * xm_m + i12 * xm_y, i12 * xy_m + i22 * xy_y])
        cov = np.linalg.inv(xvx)
        return cov @ xvy, cov

    b = np.concatenate([np.linalg.solve(mm, xm_m), np.linalg.solve(yy, xy_y)])
    # medsens iterates b ← GLS(Ω(b)) until the squared change is small; the iteration converges linearly (slowly for
    # large |ρ|), so its fixed point is found with Steffensen's acceleration (scipy's fixed_point, del2), which
    # converges to the same point
    try:
        b = optimize.fixed_point(lambda v: gls(v)[0], b, xtol=1e-13, maxiter=max_iter, method="del2")
    except RuntimeError:  # acceleration did not settle: the plain iteration
        for _ in range(max_iter):
            b_new = gls(b)[0]
            done = float(np.sum((b_new - b) ** 2)) <= eps
            b = b_new
            if done:
                break
    b, cov = gls(b)
    return b, cov


def sensitivity_curve(Xm, m, Xy, y, *, t_col: int, m_col: int, w=None, rhos: Sequence[float] = RHO_GRID,
                      conf_level: float = 0.95, r2: tuple[float, float] | None = None) -> pd.DataFrame:
    """ACME(ρ) with its delta-method interval for each ρ (medsens' table), and R²*, R̃² products.

    ``t_col`` is the column of T in both design matrices, ``m_col`` the column of M in the outcome's.
    """
    km = Xm.shape[1]
    z = stats.norm.ppf(0.5 + conf_level / 2.0)
    rows = []
    r2m, r2y = r2 if r2 is not None else (_r2(Xm, m, w), _r2(Xy, y, w))
    for rho in rhos:
        b, cov = _sur(Xm, m, Xy, y, float(rho), w)
        a, bb = b[t_col], b[km + m_col]
        va, vb = cov[t_col, t_col], cov[km + m_col, km + m_col]
        d = a * bb
        se = float(np.sqrt(a**2 * vb + bb**2 * va))
        rows.append({"rho": float(rho), "acme": float(d), "ci_lower": float(d - z * se), "ci_upper": float(d + z * se),
                     "r2star": float(rho**2), "r2tilde": float(rho**2 * (1 - r2m) * (1 - r2y))})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# the estimator
# ---------------------------------------------------------------------------


def _covariate_matrix(data: pd.DataFrame, covariates: Sequence[str], strata: str | None) -> tuple[np.ndarray, list[str]]:
    cols: dict[str, np.ndarray] = {}
    if covariates:
        X, _ = expand_covariates(data, list(covariates), drop_first=True)
        cols.update({c: X[c].to_numpy(dtype=float) for c in X.columns})
    if strata is not None:
        s = data[strata].astype(str).to_numpy()
        for lev in sorted(np.unique(s))[1:]:
            cols[f"{strata} = {lev}"] = (s == lev).astype(float)
    cols = {k: v for k, v in cols.items() if np.ptp(v) > 0}
    names = list(cols)
    Z = np.column_stack([cols[k] for k in names]) if names else np.empty((len(data), 0))
    return Z, names


def _pval(draws: np.ndarray, est: float) -> float:
    """R mediation's bootstrap p-value: 2·min(#draws > 0, #draws < 0) / draws, capped at 1 (1 when est is 0)."""
    if est == 0:
        return 1.0
    return float(min(1.0, 2.0 * min(np.sum(draws > 0), np.sum(draws < 0)) / len(draws)))


def _boot_counts(rng: np.random.Generator, b: int, units: np.ndarray, blocks: list[np.ndarray], n_units: int) -> np.ndarray:
    """(b, persons) resampling frequencies: units drawn with replacement within each block, persons inherit
    their unit's count."""
    counts = np.zeros((b, n_units))
    for idx in blocks:
        draws = rng.integers(0, len(idx), size=(b, len(idx)))
        np.add.at(counts, (np.repeat(np.arange(b), len(idx)), idx[draws].ravel()), 1.0)
    return counts[:, units]


def mediate_linear(data: pd.DataFrame, *, outcome: str, mediator: str, treatment: str = "group",
                   treated: Any = "intervention", control: Any = "control", covariates: Sequence[str] = (),
                   strata: str | None = None, cluster: str | None = None, weights: str | None = None,
                   sims: int = 1000, seed: int | None = None, conf_level: float = 0.95,
                   sensitivity: bool = True) -> MediationResult:
    """Causal mediation analysis of a randomized comparison with linear mediator and outcome models.

    Parameters
    ----------
    data : DataFrame
        One row per allocated person; not modified. Persons with a missing outcome or mediator are left out
        (``diagnostics['n_missing']`` counts them per group).
    outcome, mediator : str
        Numeric columns (0/1 allowed: linear probability models).
    treatment, treated, control : str, labels
        The allocation column and its two labels (as the randomized comparison).
    covariates : sequence of str
        Baseline covariates in both models (categorical ones as indicators).
    strata, cluster, weights : str, optional
        Stratum indicators enter both models and the bootstrap resamples within strata; the bootstrap
        resamples whole clusters; weights make both models weighted least squares (and the sensitivity
        equations are weighted as in ``medsens``).
    sims : int, default 1000
        Bootstrap draws (R's ``sims``); at least 100.
    seed : int, optional
        Seed of ``numpy.random.default_rng`` for the bootstrap.
    sensitivity : bool, default True
        Compute the sensitivity analysis (ρ curve and the ρ at which the ACME is zero); ``False`` skips it
        (coverage simulations).

    Returns
    -------
    MediationResult

    Examples
    --------
    >>> from evaluation.synthetic import simulate_sickness_trial
    >>> df = simulate_sickness_trial(seed=5, mediator=True)
    >>> r = mediate_linear(df, outcome="sick_weeks_52", mediator="dialogue_4w", covariates=["age", "prior_sick_weeks_52"],
    ...                    sims=200, seed=1)
    >>> [e.term for e in r.estimates]
    ['acme', 'ade', 'total_effect', 'prop_mediated']
    """
    if not isinstance(sims, (int, np.integer)) or isinstance(sims, bool) or sims < 100:
        raise EstimationError(f"sims must be an integer of at least 100 bootstrap draws, got {sims!r}")
    if not 0 < conf_level < 1:
        raise EstimationError(f"conf_level must lie between 0 and 1, got {conf_level!r}")
    special = {outcome, mediator, treatment, strata, cluster, weights} - {None}
    clash = [c for c in covariates if c in special]
    if clash:
        raise EstimationError(f"covariates {clash} are also the outcome, mediator, treatment, strata, cluster or weights column")
    if mediator in (outcome, treatment):
        raise EstimationError(f"the mediator {mediator!r} must differ from the outcome and the treatment column")
    t_all, c_all = _group_masks(data, treatment, treated, control)
    y_all = numeric_outcome(data[outcome], outcome)
    m_s = data[mediator]
    if not (pd.api.types.is_numeric_dtype(m_s) or pd.api.types.is_bool_dtype(m_s)):
        num = pd.to_numeric(m_s, errors="coerce")
        bad = m_s.index[num.isna() & m_s.notna()]
        raise DataValidationError(f"mediator column {mediator!r} must be numeric; non-numeric values in rows {_examples(bad)}")
    m_all = m_s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    for name, v in ((outcome, y_all), (mediator, m_all)):
        if np.isinf(v).any():
            raise DataValidationError(f"column {name!r} has infinite values in rows {_examples(data.index[np.isinf(v)])}")
    keep = (t_all | c_all) & ~np.isnan(y_all) & ~np.isnan(m_all)
    d = data.loc[keep]
    t = t_all[keep]
    y, m = y_all[keep], m_all[keep]
    n1, n0 = int(t.sum()), int((~t).sum())
    if n1 < 2 or n0 < 2:
        raise EstimationError("the mediation analysis needs at least 2 persons with outcome and mediator in each group")
    if np.ptp(m) == 0:
        raise EstimationError(f"the mediator {mediator!r} has the same value for everybody, so nothing can run through it")
    w = d[weights].to_numpy(dtype=float) if weights is not None else None
    if w is not None and (np.any(~np.isfinite(w)) or np.any(w < 0)):
        raise DataValidationError(f"weights column {weights!r} must be finite and non-negative")
    Z, names = _covariate_matrix(d, covariates, strata)
    n = len(y)
    one = np.ones((n, 1))
    tf = t.astype(float)[:, None]
    Xm = np.hstack([one, tf, Z])              # M ~ 1 + T + X
    Xy = np.hstack([one, tf, m[:, None], Z])  # Y ~ 1 + T + M + X
    Xt = np.hstack([one, tf, Z])              # Y ~ 1 + T + X (for the residual correlation)
    for X, what in ((Xm, "mediator"), (Xy, "outcome")):
        if np.linalg.matrix_rank(X) < X.shape[1]:
            raise EstimationError(f"the {what} model is rank deficient: a covariate is collinear with the allocation, the "
                                  f"mediator or another covariate ({', '.join(names) or 'no covariates'})")
    if n - Xy.shape[1] < 1:
        raise EstimationError(f"too few persons ({n}) for the outcome model's {Xy.shape[1]} columns")
    bm, by = _wls(Xm, m, w), _wls(Xy, y, w)
    alpha, theta, beta = float(bm[1]), float(by[1]), float(by[2])
    point = {"acme": alpha * beta, "ade": theta}
    point["total_effect"] = point["acme"] + point["ade"]
    point["prop_mediated"] = point["acme"] / point["total_effect"] if point["total_effect"] != 0 else float("nan")

    # nonparametric bootstrap: persons (or clusters) with replacement, within strata
    rng = np.random.default_rng(seed)
    if cluster is not None:
        units = pd.factorize(d[cluster])[0]
    else:
        units = np.arange(n)
    n_units = int(units.max()) + 1
    if strata is not None:
        ust = np.empty(n_units, dtype=object)
        ust[units] = d[strata].astype(str).to_numpy()
        blocks = [np.flatnonzero(ust == lev) for lev in sorted(set(ust))]
    else:
        blocks = [np.arange(n_units)]
    draws = {k: np.full(sims, np.nan) for k in MEDIATION_TERMS}
    chunk = max(1, min(sims, _BOOT_CELLS // max(n, 1)))
    base_w = np.ones(n) if w is None else w
    done = 0
    while done < sims:
        b = min(chunk, sims - done)
        C = _boot_counts(rng, b, units, blocks, n_units) * base_w  # (b, n)
        ok = (C[:, t].sum(axis=1) > 0) & (C[:, ~t].sum(axis=1) > 0)
        A1 = np.einsum("bn,ni,nj->bij", C, Xm, Xm)
        A2 = np.einsum("bn,ni,nj->bij", C, Xy, Xy)
        r1, r2 = C @ (Xm * m[:, None]), C @ (Xy * y[:, None])
        g1 = np.full((b, Xm.shape[1]), np.nan)
        g2 = np.full((b, Xy.shape[1]), np.nan)
        for j in np.flatnonzero(ok):  # a singular resample (a covariate level drawn in one group only) is left out
            try:
                g1[j] = np.linalg.solve(A1[j], r1[j])
                g2[j] = np.linalg.solve(A2[j], r2[j])
            except np.linalg.LinAlgError:
                g1[j] = g2[j] = np.nan
        acme, ade = g1[:, 1] * g2[:, 2], g2[:, 1]
        sl = slice(done, done + b)
        draws["acme"][sl], draws["ade"][sl] = acme, ade
        draws["total_effect"][sl] = acme + ade
        with np.errstate(divide="ignore", invalid="ignore"):
            draws["prop_mediated"][sl] = np.where(acme + ade != 0, acme / (acme + ade), np.nan)
        done += b
    failed = int(np.isnan(draws["acme"]).sum())
    lo_q, hi_q = (1 - conf_level) / 2, 1 - (1 - conf_level) / 2
    n_w = f", weights {weights}" if weights else ""
    scheme = ("clusters" if cluster else "persons") + (" within strata" if strata else "")
    method = (f"linear mediator and outcome models (Imai, Keele & Yamamoto 2010; as R mediation::mediate), "
              f"nonparametric bootstrap ({sims} draws of {scheme}, seed {seed}), percentile interval{n_w}")
    comp = {"n_treated": n1, "n_control": n0}
    estimates = []
    for term in MEDIATION_TERMS:
        dr = draws[term][~np.isnan(draws[term])]
        lo, hi = (np.quantile(dr, [lo_q, hi_q]) if len(dr) else (np.nan, np.nan))
        estimates.append(Estimate(term, float(point[term]), float(np.std(dr, ddof=1)) if len(dr) > 1 else float("nan"),
                                  float("nan"), _pval(dr, point[term]) if len(dr) else float("nan"), float(lo), float(hi),
                                  n, method, **comp))

    # sensitivity to mediator–outcome confounding
    r2m, r2y = _r2(Xm, m, w), _r2(Xy, y, w)
    rho0 = None
    if sensitivity:
        curve = sensitivity_curve(Xm, m, Xy, y, t_col=1, m_col=2, w=w, conf_level=conf_level, r2=(r2m, r2y))

        def acme_at(rho: float) -> float:
            b, _ = _sur(Xm, m, Xy, y, rho, w)
            return float(b[1] * b[Xm.shape[1] + 2])

        lo_r, hi_r = -0.999, 0.999
        f_lo, f_hi = acme_at(lo_r), acme_at(hi_r)
        if point["acme"] == 0:
            rho0 = 0.0
        elif np.sign(f_lo) != np.sign(f_hi):
            rho0 = float(optimize.brentq(acme_at, lo_r, hi_r, xtol=1e-10))
    else:
        curve = pd.DataFrame(columns=["rho", "acme", "ci_lower", "ci_upper", "r2star", "r2tilde"])
    means = {}
    for label, mask in ((str(treated), t), (str(control), ~t)):
        mv = m[mask]
        means[label] = {"n": int(mask.sum()), "mean": float(np.average(mv, weights=None if w is None else w[mask])),
                        "binary": bool(np.all(np.isin(m, (0.0, 1.0)))),
                        "n_with": int(mv.sum()) if np.all(np.isin(m, (0.0, 1.0))) else None}
    missing = {str(treated): int((t_all & ~keep).sum()), str(control): int((c_all & ~keep).sum())}
    return MediationResult(
        estimates=tuple(estimates), alpha=alpha, beta=beta, n=n, n_treated=n1, n_control=n0, mediator_means=means,
        rho_at_zero=rho0, r2star_at_zero=None if rho0 is None else rho0**2,
        r2tilde_at_zero=None if rho0 is None else rho0**2 * (1 - r2m) * (1 - r2y), r2_mediator=r2m, r2_outcome=r2y,
        sensitivity=curve, sims=int(sims), seed=seed, conf_level=conf_level, method=method, n_failed_draws=failed,
        diagnostics={"n_missing": missing, "covariates": names, "outcome": outcome, "mediator": mediator,
                     "sensitivity_method": "medsens linear-linear: iterated FGLS of the two equations as SUR with error "
                                           "correlation rho, classical covariance, delta-method interval"},
    )


# ---------------------------------------------------------------------------
# the assumption behind the mechanism: sequential ignorability, with its sensitivity analysis
# ---------------------------------------------------------------------------

from evaluation.designs.checks import Check, CheckContext, CheckResult, register_check  # noqa: E402

SEQUENTIAL_RULE_DA = ("kan ikke testes med data; følsomhedsanalysen angiver den korrelation ρ mellem fejlleddene i "
                      "mediator- og resultatmodellen, som et umålt forhold skulle skabe, før den indirekte effekt er nul")
SEQUENTIAL_IF_BROKEN_DA = ("Påvirker et umålt forhold både mediatoren og resultatet, kan den indirekte effekt (og dermed "
                           "den direkte) være skæv; den samlede effekt bygger kun på lodtrækningen og gælder stadig.")


def sequential_ignorability(result) -> list[dict[str, Any]]:
    """Per mediator of a result's mediation analyses: the check of sequential ignorability (always
    ``kan_ikke_testes``) with the number that speaks to it, the ρ at which the ACME is zero."""
    from evaluation.presentation.formatting import fmt_number

    out = []
    for mediator, info in ((result.diagnostics or {}).get("mediation") or {}).items():
        if info.get("skipped"):
            r = CheckResult.untestable(f"Mekanismeanalysen blev ikke gennemført: {info['skipped']}", rule_da=SEQUENTIAL_RULE_DA,
                                       if_broken_da=SEQUENTIAL_IF_BROKEN_DA)
        elif info.get("rho_at_zero") is None:
            r = CheckResult(status="kan_ikke_testes", number=None, rule_da=SEQUENTIAL_RULE_DA,
                            finding_da="Ingen korrelation mellem −1 og 1 ville gøre den indirekte effekt nul.",
                            if_broken_da=SEQUENTIAL_IF_BROKEN_DA)
        else:
            rho = float(info["rho_at_zero"])
            r = CheckResult(status="kan_ikke_testes", number=rho, number_label_da="ρ, hvor den indirekte effekt er nul",
                            rule_da=SEQUENTIAL_RULE_DA,
                            finding_da=f"Den indirekte effekt ville være nul ved ρ = {fmt_number(rho, 2)}.",
                            if_broken_da=SEQUENTIAL_IF_BROKEN_DA)
        out.append({"id": "mediation_sensitivity", "mediator": mediator, "mechanism": info.get("mechanism"),
                    "kind": "sequential_ignorability", **r.to_dict()})
    return out


def _sequential_check(ctx: CheckContext) -> CheckResult:
    found = sequential_ignorability(ctx.result)
    if not found:
        return CheckResult.untestable("Analysen har ingen mekanismeanalyse (ingen pil i programteorien med en mediator).",
                                      rule_da=SEQUENTIAL_RULE_DA, if_broken_da=SEQUENTIAL_IF_BROKEN_DA)
    f = found[0]
    return CheckResult(status=f["status"], number=f["number"], rule_da=f["rule_da"], finding_da=f["finding_da"],
                       if_broken_da=f["if_broken_da"], number_label_da=f["number_label_da"])


register_check(Check(
    id="mediation_sensitivity", kinds=("sequential_ignorability",), name_da="Følsomhed for umålte forhold mellem "
    "mediator og resultat (Imai, Keele & Yamamoto)", run=_sequential_check, designs=("randomized_comparison",),
    automatic=False, description="the rho at which the ACME of a mediation analysis is zero (medsens)"))
