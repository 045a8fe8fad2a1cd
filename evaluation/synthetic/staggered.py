"""Synthetic staggered-enrolment panels with a known effect (for DiD designs).

Persons enrol in a project in weekly cohorts; the outcome is a benefit-dependency-like index
(share of the week on public support, on a continuous scale so the truth is exactly linear):

.. math:: Y_{it} = a_i + \\lambda_t + \\text{dip}\\,1[-A \\le t - G_i < 0] + \\tau\\,1[t \\ge G_i] + \\varepsilon_{it}

with person levels ``a_i`` that differ by cohort (selection on levels, which DiD allows),
common week effects ``lambda_t`` (seasonality and a trend), an Ashenfelter dip -- dependency
rises in the ``A`` weeks before enrolment, because people enrol when they are in trouble --
and a constant effect ``tau`` from the enrolment week on. Parallel trends hold from week
``G - A - 1`` back, so a Callaway-Sant'Anna estimator with ``anticipation=A`` recovers ``tau``
exactly in expectation, while one with ``anticipation=0`` is biased by the dip.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_staggered", "simulate_two_by_two"]


def simulate_staggered(
    n_persons: int = 2000,
    n_weeks: int = 104,
    n_cohorts: int = 52,
    first_cohort_week: int | None = None,
    share_never: float = 0.3,
    effect: float = -0.05,
    dip: float = 0.04,
    dip_weeks: int = 0,
    noise_sd: float = 0.1,
    person_sd: float = 0.15,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate a balanced weekly panel with staggered enrolment.

    Parameters
    ----------
    n_persons, n_weeks : int
        Panel size; weeks are numbered ``1..n_weeks``.
    n_cohorts : int
        Number of weekly enrolment cohorts, in consecutive weeks starting at
        ``first_cohort_week`` (default ``dip_weeks + 3``).
    share_never : float
        Share of persons never enrolled (comparison pool).
    effect : float
        True effect ``tau`` on the outcome in every week from enrolment on (negative = less
        benefit dependency).
    dip, dip_weeks : float, int
        Size and length (weeks before enrolment) of the Ashenfelter dip.
    noise_sd, person_sd : float
        Standard deviations of the idiosyncratic noise and of person levels.
    seed : int

    Returns
    -------
    DataFrame
        Long panel: ``person``, ``week``, ``cohort`` (enrolment week, NaN = never),
        ``enrolled`` (0/1, enrolled in this or an earlier week), ``benefit`` (outcome),
        ``jobcentre`` (assignment unit, 20 values), ``age`` (baseline covariate).
        ``df.attrs["truth"]`` holds the true effect and the data-generating settings.

    Examples
    --------
    >>> df = simulate_staggered(n_persons=100, n_weeks=10, n_cohorts=3, seed=1)
    >>> df.shape
    (1000, 7)
    """
    rng = np.random.default_rng(seed)
    if first_cohort_week is None:
        first_cohort_week = dip_weeks + 3
    last = first_cohort_week + n_cohorts - 1
    if last > n_weeks:
        raise ValueError(f"cohorts run to week {last} but the panel ends in week {n_weeks}")
    never = rng.random(n_persons) < share_never
    cohort = rng.integers(first_cohort_week, last + 1, size=n_persons).astype(float)
    cohort[never] = np.nan
    age = rng.integers(18, 60, size=n_persons).astype(float)
    # levels: enrolled persons are more benefit dependent, later cohorts slightly less
    level = (
        0.45 + 0.1 * ~never - 0.001 * np.nan_to_num(cohort - first_cohort_week)
        + 0.002 * (age - 40) + person_sd * rng.standard_normal(n_persons)
    )
    weeks = np.arange(1, n_weeks + 1)
    season = 0.03 * np.sin(2 * np.pi * weeks / 52) - 0.0005 * weeks
    Y = level[:, None] + season[None, :] + noise_sd * rng.standard_normal((n_persons, n_weeks))
    e = weeks[None, :] - cohort[:, None]  # NaN for never treated
    with np.errstate(invalid="ignore"):
        treated = e >= 0
        dipm = (e < 0) & (e >= -dip_weeks)
    Y += effect * treated + dip * dipm
    df = pd.DataFrame({
        "person": np.repeat(np.arange(1, n_persons + 1), n_weeks),
        "week": np.tile(weeks, n_persons),
        "cohort": np.repeat(cohort, n_weeks),
        "enrolled": treated.ravel().astype(np.int8),
        "benefit": Y.ravel(),
        "jobcentre": np.repeat(rng.integers(1, 21, size=n_persons), n_weeks),
        "age": np.repeat(age, n_weeks),
    })
    df.attrs["truth"] = {
        "att": effect, "dip": dip, "dip_weeks": dip_weeks, "n_cohorts": n_cohorts,
        "first_cohort_week": first_cohort_week, "seed": seed,
    }
    return df


def simulate_two_by_two(
    n_persons: int = 1000, effect: float = -0.05, share_treated: float = 0.5, seed: int = 0,
    noise_sd: float = 0.1,
) -> pd.DataFrame:
    """Two-period panel (before/after) with a known effect on a benefit-dependency outcome.

    Returns columns ``person``, ``post`` (0/1), ``treated`` (0/1), ``benefit``, ``age``,
    ``jobcentre`` and ``weight`` (a design weight, 1 or 2); ``df.attrs["truth"]["att"]`` is
    the effect.

    Examples
    --------
    >>> simulate_two_by_two(n_persons=10).shape
    (20, 7)
    """
    rng = np.random.default_rng(seed)
    treated = (rng.random(n_persons) < share_treated).astype(int)
    age = rng.integers(18, 60, size=n_persons).astype(float)
    level = 0.5 + 0.1 * treated + 0.002 * (age - 40) + 0.15 * rng.standard_normal(n_persons)
    y0 = level + noise_sd * rng.standard_normal(n_persons)
    y1 = level - 0.03 + effect * treated + noise_sd * rng.standard_normal(n_persons)
    df = pd.DataFrame({
        "person": np.repeat(np.arange(1, n_persons + 1), 2),
        "post": np.tile([0, 1], n_persons),
        "treated": np.repeat(treated, 2),
        "benefit": np.column_stack([y0, y1]).ravel(),
        "age": np.repeat(age, 2),
        "jobcentre": np.repeat(rng.integers(1, 11, size=n_persons), 2),
        "weight": np.repeat(rng.choice([1.0, 2.0], size=n_persons), 2),
    })
    df.attrs["truth"] = {"att": effect, "seed": seed}
    return df
