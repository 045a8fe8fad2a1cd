"""Synthetic observational data: an intervention group and a register comparison pool.

Selection into the intervention depends on observed covariates (confounding), the outcome
depends on the same covariates, and the true effects are known, so matched-comparison
estimators can be checked for bias and interval coverage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["COVARIATES", "ObservationalSample", "make_observational"]

COVARIATES = ["age", "female", "prior_benefit_share", "educ_years"]


@dataclass(frozen=True)
class ObservationalSample:
    """Simulated data plus the truths an estimator should recover.

    Attributes
    ----------
    data : DataFrame
        One row per person: ``person_id``, ``group`` ("intervention"/"control"), covariates
        ``age``, ``female``, ``prior_benefit_share`` (share of the 52 weeks before start on public
        support), ``educ_years``, ``start_quarter`` (calendar start period, for exact matching),
        ``design_weight`` (a survey/design weight, 1 or 3 by region) and the outcome
        ``weeks_on_benefit`` (weeks on public support in weeks 1–52 after start, continuous).
    true_att : float
        Sample ATT: mean of Y(1) − Y(0) over the intervention group.
    true_att_weighted : float
        The same, weighted by ``design_weight``.
    true_ate : float
        Sample ATE over all rows.
    true_ato : float
        Sample ATO: mean of Y(1) − Y(0) weighted by e(X)(1 − e(X)) with the true propensity score.
    propensity : ndarray
        True propensity score of every row.
    """

    data: pd.DataFrame
    true_att: float
    true_att_weighted: float
    true_ate: float
    true_ato: float
    propensity: np.ndarray


def make_observational(
    n_treated: int = 300,
    n_pool: int = 3000,
    att: float = -2.0,
    heterogeneity: float = 4.0,
    confounding: float = 1.0,
    noise_sd: float = 6.0,
    seed: int | None = 0,
) -> ObservationalSample:
    """Simulate an intervention group and a comparison pool with confounded selection.

    Parameters
    ----------
    n_treated, n_pool : int
        Expected group sizes (the realised sizes are random: the treated share is fixed by the
        selection model's intercept, calibrated to ``n_treated / (n_treated + n_pool)``).
    att : float, default -2.0
        Average effect (in weeks on benefit) at the covariate mean; negative = fewer weeks.
    heterogeneity : float, default 4.0
        The effect varies as ``att + heterogeneity · (prior_benefit_share − 0.5) + region term``,
        so ATT, ATE and ATO differ and design weights matter.
    confounding : float, default 1.0
        Multiplies the selection coefficients (0 = random assignment).
    noise_sd : float, default 6.0
        Residual SD of the outcome.
    seed : int or None

    Returns
    -------
    ObservationalSample

    Notes
    -----
    Selection: ``logit e(X) = a + confounding · (1.2·(prior − 0.5) − 0.04·(age − 40) + 0.4·female
    − 0.1·(educ − 12) + 0.15·quarter)`` — linear in the covariates (the logistic PS model is
    correct). Outcome: ``Y(0) = 14 + 30·prior + 0.15·(age − 40) − 0.6·(educ − 12) + 1.5·female
    + 0.8·quarter + ε`` — linear (the DR outcome model is correct), ``Y(1) = Y(0) + τ(X)``.
    Persons on more benefit before start are more likely to join and have higher outcomes, so
    the naive difference is biased upwards.

    Examples
    --------
    >>> sim = make_observational(n_treated=100, n_pool=400, seed=3)
    >>> sorted(sim.data["group"].unique())
    ['control', 'intervention']
    >>> round(sim.true_att, 1) != round(sim.true_ate, 1)
    True
    """
    rng = np.random.default_rng(seed)
    n = int(n_treated + n_pool)
    age = rng.integers(20, 61, n).astype(float)
    female = rng.binomial(1, 0.5, n).astype(float)
    educ = np.clip(np.round(rng.normal(12, 2, n)), 7, 20)
    prior = rng.beta(2, 2, n)
    quarter = rng.integers(0, 4, n)
    region = rng.binomial(1, 0.3, n)
    weight = np.where(region == 1, 3.0, 1.0)
    index = confounding * (
        1.2 * (prior - 0.5) - 0.04 * (age - 40) + 0.4 * female - 0.1 * (educ - 12) + 0.15 * quarter
    )
    share = n_treated / n
    # calibrate the intercept so that the expected treated share is n_treated / n
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(mid + index)))) < share:
            lo = mid
        else:
            hi = mid
    e = 1 / (1 + np.exp(-(lo + index)))
    treated = rng.random(n) < e
    y0 = (
        14 + 30 * prior + 0.15 * (age - 40) - 0.6 * (educ - 12) + 1.5 * female + 0.8 * quarter
        + rng.normal(0, noise_sd, n)
    )
    tau = att + heterogeneity * (prior - 0.5) - 1.5 * region
    y = np.where(treated, y0 + tau, y0)
    data = pd.DataFrame(
        {
            "person_id": np.arange(1, n + 1),
            "group": np.where(treated, "intervention", "control"),
            "age": age,
            "female": female.astype(int),
            "prior_benefit_share": prior,
            "educ_years": educ,
            "start_quarter": pd.Categorical.from_codes(quarter, ["2023Q1", "2023Q2", "2023Q3", "2023Q4"]).astype(str),
            "design_weight": weight,
            "weeks_on_benefit": y,
        }
    )
    h = e * (1 - e)
    return ObservationalSample(
        data=data,
        true_att=float(tau[treated].mean()),
        true_att_weighted=float(np.average(tau[treated], weights=weight[treated])),
        true_ate=float(tau.mean()),
        true_ato=float(np.sum(h * tau) / np.sum(h)),
        propensity=e,
    )
