"""Analytic power, sample size and minimum detectable effect (MDE) for two-group comparisons.

Every function returns a :class:`~evaluation.results.ScoreResult` (``tidy()`` in the shared
columns; all inputs and adjustments in ``diagnostics``), so power calculations travel in the
results bundle like any other number.

Adjustments, applied in this order:

* clustering: design effect ``deff = 1 + (m − 1)·ICC`` (Kish); each group's effective size is
  ``n / deff``, so the MDE grows by ``sqrt(deff)``;
* covariate adjustment: the residual SD is ``sd · sqrt(1 − R²)``, so the MDE shrinks by
  ``sqrt(1 − R²)`` (degrees of freedom lost to covariates are ignored);
* difference-in-differences with one measurement before and one after: the analysed outcome
  is the change, with SD ``sd · sqrt(2 (1 − ρ))`` (``estimator="change"``), or an ANCOVA on
  the baseline with SD ``sd · sqrt(1 − ρ²)`` (``estimator="ancova"``; McKenzie 2012).

Means use the two-sample t-test (statsmodels ``TTestIndPower``, noncentral t) by default or the
normal approximation (``test="normal"``, ``NormalIndPower``). Proportions use Cohen's effect
size h = 2·asin(√p₁) − 2·asin(√p₀) with the normal approximation (``NormalIndPower``), i.e. the
arcsine-transformation test, not the exact binomial test.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from evaluation._lazy import stats

from evaluation.designs.family import get_family
from evaluation.exceptions import EstimationError
from evaluation.presentation.formatting import fmt_int, fmt_number, fmt_pct, fmt_pp
from evaluation.results import Estimate, ScoreResult

__all__ = [
    "design_effect",
    "mde_multiplier",
    "mde_means",
    "power_means",
    "sample_size_means",
    "mde_proportions",
    "power_proportions",
    "cohens_h",
    "mde_did",
    "mde_sentence_da",
    "estimate_icc",
    "design_inputs",
    "mde_for_design",
    "power_for_design",
]

_ALTERNATIVES = {"two-sided": "two-sided", "larger": "larger", "one-sided": "larger"}


def _check_prob(x: float, name: str) -> float:
    x = float(x)
    if not (0 < x < 1):
        raise EstimationError(f"{name} must be strictly between 0 and 1, got {x!r}")
    return x


def _alt(alternative: str) -> str:
    if alternative not in _ALTERNATIVES:
        raise EstimationError(f"alternative must be 'two-sided' or 'one-sided', got {alternative!r}")
    return _ALTERNATIVES[alternative]


def design_effect(cluster_size: float = 1.0, icc: float = 0.0) -> float:
    """Kish design effect ``1 + (m − 1)·ICC`` for clusters of average size ``m``.

    Examples
    --------
    >>> design_effect(20, 0.05)
    1.95
    """
    if cluster_size < 1:
        raise EstimationError(f"cluster_size must be >= 1, got {cluster_size!r}")
    if not (0 <= icc < 1):
        raise EstimationError(f"icc must be in [0, 1), got {icc!r}")
    return round(1.0 + (float(cluster_size) - 1.0) * float(icc), 12)


def mde_multiplier(alpha: float = 0.05, power: float = 0.8, alternative: str = "two-sided") -> float:
    """Normal-approximation MDE multiplier ``z(1−α/2) + z(power)`` (Bloom 1995).

    Examples
    --------
    >>> round(mde_multiplier(0.05, 0.8), 2)
    2.8
    """
    alpha, power = _check_prob(alpha, "alpha"), _check_prob(power, "power")
    a = alpha / 2 if _alt(alternative) == "two-sided" else alpha
    return float(stats.norm.ppf(1 - a) + stats.norm.ppf(power))


def _solver(test: str):
    from statsmodels.stats.power import NormalIndPower, TTestIndPower

    if test == "t":
        return TTestIndPower()
    if test == "normal":
        return NormalIndPower()
    raise EstimationError(f"test must be 't' or 'normal', got {test!r}")


def _groups(n_treated: float, n_control: float | None) -> tuple[float, float]:
    n_t = float(n_treated)
    n_c = n_t if n_control is None else float(n_control)
    if n_t < 2 or n_c < 2:
        raise EstimationError("each group needs at least 2 persons")
    return n_t, n_c


def _adjust(sd: float, icc: float, cluster_size: float, r2: float) -> tuple[float, float]:
    if not sd > 0:
        raise EstimationError(f"sd must be positive, got {sd!r}")
    if not (0 <= r2 < 1):
        raise EstimationError(f"r2 must be in [0, 1), got {r2!r}")
    deff = design_effect(cluster_size, icc)
    return deff, float(sd) * math.sqrt(1.0 - float(r2))


def _method(test: str, deff: float, r2: float, extra: str = "") -> str:
    base = "two-sample t-test (noncentral t)" if test == "t" else "two-sample z-test (normal approximation)"
    parts = [base]
    if deff != 1.0:
        parts.append(f"design effect {deff:g}")
    if r2:
        parts.append(f"R² {r2:g}")
    if extra:
        parts.append(extra)
    return ", ".join(parts)


def _result(estimand, estimates, diagnostics, scale="") -> ScoreResult:
    return ScoreResult(estimand=estimand, estimates=tuple(estimates), diagnostics=diagnostics, scale=scale)


def _mde_core(n_t, n_c, sd_eff, deff, alpha, power, alternative, test):
    n_t_eff, n_c_eff = n_t / deff, n_c / deff
    if test == "normal":  # closed form (Bloom 1995); ignores the negligible opposite rejection tail
        d = mde_multiplier(alpha, power, alternative) * math.sqrt(1 / n_t_eff + 1 / n_c_eff)
        return d, d * sd_eff
    d = _solver(test).solve_power(
        effect_size=None, nobs1=n_t_eff, ratio=n_c_eff / n_t_eff, alpha=alpha, power=power, alternative=_alt(alternative)
    )
    d = float(np.atleast_1d(d)[0])
    return d, d * sd_eff


def mde_means(
    n_treated: float,
    n_control: float | None = None,
    *,
    sd: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: str = "two-sided",
    icc: float = 0.0,
    cluster_size: float = 1.0,
    r2: float = 0.0,
    test: str = "t",
    unit: str = "",
) -> ScoreResult:
    """Minimum detectable difference in means between two groups.

    Parameters
    ----------
    n_treated, n_control : float
        Persons per group (``n_control`` defaults to ``n_treated``).
    sd : float, default 1
        Outcome SD (1 gives the standardized MDE, Cohen's d).
    alpha, power : float
        Significance level and power.
    alternative : {"two-sided", "one-sided"}
    icc, cluster_size : float
        Intra-cluster correlation and average cluster size (design effect 1 + (m − 1)·ICC).
    r2 : float
        Share of outcome variance explained by baseline covariates.
    test : {"t", "normal"}
    unit : str
        Unit of the outcome, kept for :func:`mde_sentence_da`.

    Returns
    -------
    ScoreResult
        Estimates ``mde`` (outcome units) and ``mde_standardized`` (in units of the adjusted SD).

    Notes
    -----
    The MDE is the smallest true difference μ₁ − μ₀ that the test rejects with probability
    ``power`` at level ``alpha``. Normal approximation: MDE = (z₁₋α/₂ + z_power) · σ ·
    sqrt(deff (1 − R²) (1/n₁ + 1/n₀)); the t version solves the noncentral t power equation
    with the effective sizes n/deff.

    Examples
    --------
    >>> res = mde_means(300, sd=8.0)
    >>> round(res.estimate_for("mde").estimate, 2)
    1.83
    """
    n_t, n_c = _groups(n_treated, n_control)
    alpha, power = _check_prob(alpha, "alpha"), _check_prob(power, "power")
    deff, sd_eff = _adjust(sd, icc, cluster_size, r2)
    d, mde = _mde_core(n_t, n_c, sd_eff, deff, alpha, power, alternative, test)
    method = _method(test, deff, r2)
    diag = _diag(n_t, n_c, sd, alpha, power, alternative, icc, cluster_size, deff, r2, test, unit)
    return _result(
        "minimum detectable difference in means (treated − control)",
        [
            Estimate("mde", mde, n=int(round(n_t + n_c)), method=method),
            Estimate("mde_standardized", d, n=int(round(n_t + n_c)), method=method),
        ],
        diag,
        scale=unit,
    )


def _diag(n_t, n_c, sd, alpha, power, alternative, icc, cluster_size, deff, r2, test, unit, **extra) -> dict[str, Any]:
    out = {
        "n_treated": n_t,
        "n_control": n_c,
        "sd": float(sd),
        "alpha": alpha,
        "power": power,
        "alternative": alternative,
        "icc": float(icc),
        "cluster_size": float(cluster_size),
        "design_effect": deff,
        "r2": float(r2),
        "test": test,
        "unit": unit,
        "multiplier_normal": mde_multiplier(alpha, power, alternative),
    }
    out.update(extra)
    return out


def power_means(
    effect: float,
    n_treated: float,
    n_control: float | None = None,
    *,
    sd: float = 1.0,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    icc: float = 0.0,
    cluster_size: float = 1.0,
    r2: float = 0.0,
    test: str = "t",
) -> ScoreResult:
    """Power to detect a true difference in means ``effect`` (same adjustments as :func:`mde_means`).

    Notes
    -----
    Power = P(reject H0 | μ₁ − μ₀ = effect), for a standardized effect effect / (sd·sqrt(1 − R²))
    and effective group sizes n/deff. One-sided tests look for an effect in the direction of
    ``effect``.

    Examples
    --------
    >>> round(power_means(0.5, 64).estimate_for("power").estimate, 3)
    0.801
    """
    n_t, n_c = _groups(n_treated, n_control)
    alpha = _check_prob(alpha, "alpha")
    deff, sd_eff = _adjust(sd, icc, cluster_size, r2)
    d = abs(float(effect)) / sd_eff
    p = _solver(test).power(effect_size=d, nobs1=n_t / deff, ratio=n_c / n_t, alpha=alpha, alternative=_alt(alternative))
    p = float(np.atleast_1d(p)[0])
    method = _method(test, deff, r2)
    return _result(
        "power of the two-group comparison of means",
        [Estimate("power", p, n=int(round(n_t + n_c)), method=method)],
        _diag(n_t, n_c, sd, alpha, p, alternative, icc, cluster_size, deff, r2, test, "", effect=float(effect)),
    )


def sample_size_means(
    effect: float,
    *,
    sd: float = 1.0,
    ratio: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: str = "two-sided",
    icc: float = 0.0,
    cluster_size: float = 1.0,
    r2: float = 0.0,
    test: str = "t",
) -> ScoreResult:
    """Persons needed per group to detect ``effect`` (control group = ``ratio`` × treated group).

    Returns estimates ``n_treated`` and ``n_control`` rounded up to whole persons (after the
    design effect), and ``power_achieved`` at those sizes.

    Notes
    -----
    Solves power(n) = ``power`` for the smallest n; Cohen (1988) Table 2.4.1 gives n = 64 per
    group for d = 0.5, α = 0.05 two-sided, power 0.80.

    Examples
    --------
    >>> int(sample_size_means(0.5).estimate_for("n_treated").estimate)
    64
    """
    alpha, power = _check_prob(alpha, "alpha"), _check_prob(power, "power")
    if not ratio > 0:
        raise EstimationError(f"ratio must be positive, got {ratio!r}")
    if effect == 0:
        raise EstimationError("effect must be non-zero")
    deff, sd_eff = _adjust(sd, icc, cluster_size, r2)
    d = abs(float(effect)) / sd_eff
    solver = _solver(test)
    n_eff = float(np.atleast_1d(solver.solve_power(effect_size=d, nobs1=None, ratio=ratio, alpha=alpha, power=power, alternative=_alt(alternative)))[0])
    n_t = math.ceil(n_eff * deff - 1e-9)
    n_c = math.ceil(n_eff * ratio * deff - 1e-9)
    achieved = float(np.atleast_1d(solver.power(effect_size=d, nobs1=n_t / deff, ratio=n_c / n_t, alpha=alpha, alternative=_alt(alternative)))[0])
    method = _method(test, deff, r2)
    return _result(
        "persons per group needed to detect the effect",
        [
            Estimate("n_treated", float(n_t), n=n_t + n_c, method=method),
            Estimate("n_control", float(n_c), n=n_t + n_c, method=method),
            Estimate("power_achieved", achieved, n=n_t + n_c, method=method),
        ],
        _diag(n_t, n_c, sd, alpha, power, alternative, icc, cluster_size, deff, r2, test, "", effect=float(effect), ratio=float(ratio)),
    )


def cohens_h(p_treated: float, p_control: float) -> float:
    """Cohen's h = 2·asin(√p₁) − 2·asin(√p₀).

    Examples
    --------
    >>> round(cohens_h(0.65, 0.45), 3)
    0.405
    """
    p1 = float(p_treated)
    p0 = float(p_control)
    if not (0 <= p1 <= 1 and 0 <= p0 <= 1):
        raise EstimationError("proportions must be in [0, 1]")
    return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p0))


def mde_proportions(
    p_control: float,
    n_treated: float,
    n_control: float | None = None,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: str = "two-sided",
    direction: str = "increase",
    icc: float = 0.0,
    cluster_size: float = 1.0,
    r2: float = 0.0,
) -> ScoreResult:
    """Minimum detectable difference in proportions, from the control-group proportion.

    Parameters
    ----------
    p_control : float
        Expected proportion in the comparison group (e.g. share self-supporting after a year).
    direction : {"increase", "decrease"}
        Whether the MDE is sought above or below ``p_control``.
    Other parameters as :func:`mde_means`.

    Returns
    -------
    ScoreResult
        ``mde`` (difference p₁ − p₀ on the 0–1 scale), ``p_treated`` and ``mde_h`` (Cohen's h).

    Notes
    -----
    Arcsine method: the detectable h = (z₁₋α/₂ + z_power)·sqrt(1/n₁ + 1/n₀) with effective sizes
    n/deff, is multiplied by sqrt(1 − R²), and is mapped back as
    p₁ = sin²(asin(√p₀) ± h/2).

    Examples
    --------
    >>> res = mde_proportions(0.30, 300)
    >>> round(res.estimate_for("mde").estimate, 3)
    0.109
    """
    p0 = _check_prob(p_control, "p_control")
    n_t, n_c = _groups(n_treated, n_control)
    alpha, power = _check_prob(alpha, "alpha"), _check_prob(power, "power")
    if direction not in ("increase", "decrease"):
        raise EstimationError(f"direction must be 'increase' or 'decrease', got {direction!r}")
    deff, factor = _adjust(1.0, icc, cluster_size, r2)
    h, _ = _mde_core(n_t, n_c, 1.0, deff, alpha, power, alternative, "normal")
    h *= factor
    phi0 = math.asin(math.sqrt(p0))
    phi1 = phi0 + h / 2 if direction == "increase" else phi0 - h / 2
    if not (0 <= phi1 <= math.pi / 2):
        raise EstimationError("the groups are too small: no proportion in [0, 1] is detectable in that direction")
    p1 = math.sin(phi1) ** 2
    method = "Cohen's h (arcsine), normal approximation" + (f", design effect {deff:g}" if deff != 1 else "") + (f", R² {r2:g}" if r2 else "")
    n = int(round(n_t + n_c))
    return _result(
        "minimum detectable difference in proportions (treated − control)",
        [
            Estimate("mde", p1 - p0, n=n, method=method),
            Estimate("p_treated", p1, n=n, method=method),
            Estimate("mde_h", h if direction == "increase" else -h, n=n, method=method),
        ],
        _diag(n_t, n_c, float("nan"), alpha, power, alternative, icc, cluster_size, deff, r2, "normal", "procentpoint", p_control=p0, direction=direction),
        scale="proportion",
    )


def power_proportions(
    p_treated: float,
    p_control: float,
    n_treated: float,
    n_control: float | None = None,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    icc: float = 0.0,
    cluster_size: float = 1.0,
    r2: float = 0.0,
) -> ScoreResult:
    """Power to detect proportions ``p_treated`` vs ``p_control`` (Cohen's h, normal approximation).

    Examples
    --------
    >>> round(power_proportions(0.5, 0.3, 100).estimate_for("power").estimate, 2)
    0.83
    """
    from statsmodels.stats.power import NormalIndPower

    n_t, n_c = _groups(n_treated, n_control)
    alpha = _check_prob(alpha, "alpha")
    deff, factor = _adjust(1.0, icc, cluster_size, r2)
    h = abs(cohens_h(p_treated, p_control)) / factor
    p = float(np.atleast_1d(NormalIndPower().power(effect_size=h, nobs1=n_t / deff, ratio=n_c / n_t, alpha=alpha, alternative=_alt(alternative)))[0])
    return _result(
        "power of the two-group comparison of proportions",
        [Estimate("power", p, n=int(round(n_t + n_c)), method="Cohen's h (arcsine), normal approximation")],
        _diag(n_t, n_c, float("nan"), alpha, p, alternative, icc, cluster_size, deff, r2, "normal", "", p_treated=float(p_treated), p_control=float(p_control)),
        scale="proportion",
    )


def mde_did(
    n_treated: float,
    n_control: float | None = None,
    *,
    sd: float = 1.0,
    rho: float = 0.5,
    estimator: str = "change",
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: str = "two-sided",
    icc: float = 0.0,
    cluster_size: float = 1.0,
    test: str = "t",
    unit: str = "",
) -> ScoreResult:
    """MDE of a difference-in-differences with one measurement before and one after.

    Parameters
    ----------
    sd : float
        Outcome SD at each time point (assumed equal before and after).
    rho : float
        Correlation between a person's outcome before and after.
    estimator : {"change", "ancova"}
        ``"change"``: DiD of means (outcome = after − before, SD ``sd·sqrt(2(1 − ρ))``);
        ``"ancova"``: after-outcome adjusted for the before-outcome (SD ``sd·sqrt(1 − ρ²)``),
        which is never less precise (McKenzie 2012).

    Notes
    -----
    Estimand: (μ₁,after − μ₁,before) − (μ₀,after − μ₀,before). The DiD is more precise than a
    post-only comparison only when ρ > 0.5.

    Examples
    --------
    >>> post = mde_means(300, sd=10).estimate_for("mde").estimate
    >>> did = mde_did(300, sd=10, rho=0.5).estimate_for("mde").estimate
    >>> round(did / post, 6)
    1.0
    """
    if not (-1 < float(rho) < 1):
        raise EstimationError(f"rho must be in (-1, 1), got {rho!r}")
    if estimator == "change":
        factor = math.sqrt(2 * (1 - rho))
    elif estimator == "ancova":
        factor = math.sqrt(1 - rho**2)
    else:
        raise EstimationError(f"estimator must be 'change' or 'ancova', got {estimator!r}")
    res = mde_means(n_treated, n_control, sd=sd * factor, alpha=alpha, power=power, alternative=alternative, icc=icc, cluster_size=cluster_size, test=test, unit=unit)
    diag = dict(res.diagnostics, sd=float(sd), rho=float(rho), estimator=estimator, sd_factor=factor)
    extra = f"DiD ({estimator}, rho {rho:g})"
    ests = [Estimate(e.term, e.estimate, n=e.n, method=f"{e.method}, {extra}") for e in res.estimates]
    return _result("minimum detectable difference-in-differences (treated − control, after − before)", ests, diag, scale=unit)


def mde_sentence_da(result: ScoreResult, unit: str | None = None, decimals: int = 1) -> str:
    """A Danish sentence stating the MDE of a result from :func:`mde_means`, :func:`mde_did` or :func:`mde_proportions`.

    Parameters
    ----------
    result : ScoreResult
        Output of an ``mde_*`` function.
    unit : str, optional
        Unit word after the number ("uger", "kr."); defaults to the unit given to the function.
        Proportions are always stated in percentage points.
    decimals : int, default 1

    Examples
    --------
    >>> mde_sentence_da(mde_means(300, sd=8.4, unit="uger")).replace("\\u00a0", " ")
    'Med 300 personer i hver gruppe kunne undersøgelsen med 80 % sandsynlighed påvise en effekt på 1,9 uger eller mere.'
    """
    try:
        mde = abs(result.estimate_for("mde").estimate)
    except KeyError:
        raise EstimationError("mde_sentence_da needs a result from an mde_* function") from None
    d = result.diagnostics
    n_t, n_c = d["n_treated"], d["n_control"]
    if n_t == n_c:
        who = f"Med {fmt_int(n_t)} personer i hver gruppe"
    else:
        who = f"Med {fmt_int(n_t)} personer i indsatsgruppen og {fmt_int(n_c)} i sammenligningsgruppen"
    u = d.get("unit", "") if unit is None else unit
    if result.scale == "proportion" or u == "andel":  # a share (also a mean share of weeks) in percentage points
        size = fmt_pp(mde, decimals)
    else:
        size = fmt_number(mde, decimals) + (f" {u}" if u else "")
    return f"{who} kunne undersøgelsen med {fmt_pct(d['power'])} sandsynlighed påvise en effekt på {size} eller mere."


# ----------------------------------------------------------------------------- the declared design


def estimate_icc(y, cluster) -> float:
    """One-way ANOVA estimator of the intra-cluster correlation (unequal cluster sizes).

    ``ICC = (MSB − MSW) / (MSB + (m₀ − 1) MSW)`` with ``m₀ = (N − Σ nᵢ² / N) / (k − 1)``
    (Donner 1986), truncated at 0.

    Examples
    --------
    >>> import numpy as np
    >>> estimate_icc(np.array([1.0, 1.2, 3.0, 3.1, 5.0, 5.3]), np.array([0, 0, 1, 1, 2, 2])) > 0.9
    True
    """
    import pandas as pd

    y = np.asarray(y, dtype=float)
    codes = pd.factorize(np.asarray(cluster))[0]
    k = int(codes.max()) + 1
    N = len(y)
    if k < 2 or N - k < 1:
        raise EstimationError(f"the ICC needs at least 2 clusters and more persons than clusters (got {k} and {N})")
    n_i = np.bincount(codes).astype(float)
    means = np.bincount(codes, weights=y) / n_i
    msb = float(np.sum(n_i * (means - y.mean()) ** 2) / (k - 1))
    msw = float(np.sum((y - means[codes]) ** 2) / (N - k))
    m0 = (N - np.sum(n_i**2) / N) / (k - 1)
    denom = msb + (m0 - 1) * msw
    return float(max(0.0, (msb - msw) / denom)) if denom > 0 else 0.0


def design_inputs(design, data) -> dict[str, Any]:
    """The inputs of the analytic MDE/power of a declared design, estimated from (pilot or baseline) data.

    Each design family says what its precision depends on
    (:meth:`~evaluation.designs.family.Family.design_inputs`): ``randomized_comparison`` (group
    sizes; pooled within-group SD or the control share for a binary outcome; R² of the declared
    covariates and strata within groups; ICC and mean size of the declared clusters; Kish effective
    sizes under declared weights) and ``did_2x2`` on a panel (before-period SD, before/after
    correlation ρ, ICC of the change score within the declared clusters). Other designs raise:
    their precision depends on the cohort structure and is diagnosed by simulation
    (``evaluation diagnose``).
    """
    return get_family(getattr(design, "name", "")).design_inputs(design, data)


def _planned(inp: dict[str, Any], n_treated, n_control) -> dict[str, Any]:
    if n_treated is None and n_control is None:
        return inp
    if n_treated is None or n_control is None:
        raise EstimationError("give both n_treated and n_control (the planned group sizes), or neither")
    return {**inp, "n_treated": float(n_treated), "n_control": float(n_control),
            "n_from_data": (inp["n_treated"], inp["n_control"])}


def mde_for_design(design, data, *, n_treated: float | None = None, n_control: float | None = None,
                   alpha: float = 0.05, power: float = 0.8, alternative: str = "two-sided",
                   direction: str = "increase", unit: str = "") -> ScoreResult:
    """Analytic MDE of a declared design with its inputs estimated from data (see :func:`design_inputs`).

    ``data`` may be the study's own baseline/pilot data; ``n_treated``/``n_control`` then give
    the planned group sizes (persons; clusters keep the size estimated from the data).

    Examples
    --------
    >>> from evaluation.designs.randomized.estimator import RandomizedComparison
    >>> from evaluation.synthetic import simulate_sickness_trial
    >>> df = simulate_sickness_trial(seed=126)
    >>> res = mde_for_design(RandomizedComparison(outcome="sick_weeks_52", covariates=["prior_sick_weeks_52"]), df)
    >>> res.diagnostics["design"], res.diagnostics["r2"] > 0
    ('randomized_comparison', True)
    """
    inp = _planned(design_inputs(design, data), n_treated, n_control)
    common = dict(alpha=alpha, power=power, alternative=alternative, icc=inp["icc"], cluster_size=inp["cluster_size"])
    if "rho" in inp:  # one measurement before and one after (2×2 DiD): the change score
        res = mde_did(inp["n_treated"], inp["n_control"], sd=inp["sd"], rho=inp["rho"], unit=unit, **common)
    elif inp["outcome_type"] == "binary":
        res = mde_proportions(inp["p_control"], inp["n_treated"], inp["n_control"], direction=direction, **common)
    else:
        res = mde_means(inp["n_treated"], inp["n_control"], sd=inp["sd"], r2=inp["r2"], unit=unit, **common)
    return _result(res.estimand + f" for the declared {inp['design']}", list(res.estimates),
                   {**res.diagnostics, **{k: v for k, v in inp.items() if k not in ("n_treated", "n_control")}},
                   scale=res.scale)


def power_for_design(design, data, effect: float, *, n_treated: float | None = None, n_control: float | None = None,
                     alpha: float = 0.05, alternative: str = "two-sided") -> ScoreResult:
    """Analytic power of a declared design to detect ``effect`` (outcome units; for a binary
    outcome a difference in shares), inputs estimated from data as in :func:`design_inputs`
    (planned group sizes as in :func:`mde_for_design`)."""
    inp = _planned(design_inputs(design, data), n_treated, n_control)
    common = dict(alpha=alpha, alternative=alternative, icc=inp["icc"], cluster_size=inp["cluster_size"])
    if "rho" in inp:
        sd = inp["sd"] * math.sqrt(2 * (1 - inp["rho"]))
        res = power_means(effect, inp["n_treated"], inp["n_control"], sd=sd, **common)
    elif inp["outcome_type"] == "binary":
        p0 = inp["p_control"]
        res = power_proportions(p0 + effect, p0, inp["n_treated"], inp["n_control"], **common)
    else:
        res = power_means(effect, inp["n_treated"], inp["n_control"], sd=inp["sd"], r2=inp["r2"], **common)
    return _result(res.estimand + f" for the declared {inp['design']}", list(res.estimates),
                   {**res.diagnostics, **{k: v for k, v in inp.items() if k not in ("n_treated", "n_control")}},
                   scale=res.scale)
