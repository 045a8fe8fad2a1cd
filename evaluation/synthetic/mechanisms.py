"""Seeded trials with known complier and mediation effects, for coverage simulations (benchmarks/, tests).

* :func:`simulate_take_up_trial` — a randomized trial in which only compliers (and always-takers) take the
  intervention up; the effect of taking it up varies between persons around a known population mean among the
  compliers (the CACE), and compliers differ from never-takers in a baseline covariate;
* :func:`simulate_mediation_trial` — a randomized trial with a mediator (0/1 or continuous) whose mediator and
  outcome models are linear, so the population ACME = α·β and ADE = θ are known exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_take_up_trial", "simulate_mediation_trial"]


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def simulate_take_up_trial(n: int = 400, *, share_compliers: float = 0.7, cace: float = -3.0,
                           always_takers: float = 0.0, seed: int | None = None) -> pd.DataFrame:
    """Allocation ``group`` (half intervention), take-up ``started`` and outcome ``y`` with a known population CACE.

    Compliers (probability rising with the covariate ``x``: logit share ± 0.8·x) start when offered; a share
    ``always_takers`` of the others start in either group (two-sided non-compliance); never-takers never start.
    The effect of starting is ``cace + e`` with e ~ N(0, 1) independent of type, so its mean among compliers — the
    population CACE — is ``cace``; never-takers' outcomes do not depend on the allocation (exclusion restriction).
    ``df.attrs["truth"] = {"cace": cace}``.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    t = rng.permutation(np.r_[np.ones(n // 2, bool), np.zeros(n - n // 2, bool)])
    logit = np.log(share_compliers / (1 - share_compliers))
    complier = rng.random(n) < _expit(logit + 0.8 * x)
    always = ~complier & (rng.random(n) < always_takers)
    d = (complier & t) | always
    effect = cace + rng.normal(0, 1, n)
    y = 10 + 2 * x + effect * d + rng.normal(0, 3, n)
    df = pd.DataFrame({"group": np.where(t, "intervention", "control"), "x": x, "started": d.astype(int), "y": y})
    df.attrs["truth"] = {"cace": float(cace)}
    return df


def simulate_mediation_trial(n: int = 600, *, alpha: float = 0.4, beta: float = -2.0, theta: float = -1.0,
                             binary_mediator: bool = True, seed: int | None = None) -> pd.DataFrame:
    """Allocation ``group``, covariates ``x`` (continuous) and ``z`` (0/1), mediator ``m`` and outcome ``y``.

    Mediator: 0/1 with P(m = 1) = 0.25 + α·T + 0.1·z (a linear probability, so the linear mediator model is right),
    or continuous m = 1 + α·T + 0.5·x + N(0, 1). Outcome y = 5 + x + β·m + θ·T + N(0, 2²). Sequential ignorability
    holds (the mediator's noise is independent of the outcome's). ``df.attrs["truth"]``: acme = α·β, ade = θ,
    total_effect = α·β + θ, prop_mediated.
    """
    if binary_mediator and not (0 <= 0.25 + alpha <= 0.9 and 0.25 + alpha + 0.1 <= 1):
        raise ValueError("with a 0/1 mediator, 0.25 + alpha + 0.1 must lie in [0, 1]")
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    z = (rng.random(n) < 0.5).astype(float)
    t = rng.permutation(np.r_[np.ones(n // 2, bool), np.zeros(n - n // 2, bool)]).astype(float)
    if binary_mediator:
        m = (rng.random(n) < 0.25 + alpha * t + 0.1 * z).astype(float)
    else:
        m = 1 + alpha * t + 0.5 * x + rng.normal(0, 1, n)
    y = 5 + x + beta * m + theta * t + rng.normal(0, 2, n)
    df = pd.DataFrame({"group": np.where(t == 1, "intervention", "control"), "x": x, "z": z, "m": m, "y": y})
    acme = alpha * beta
    df.attrs["truth"] = {"acme": acme, "ade": theta, "total_effect": acme + theta, "prop_mediated": acme / (acme + theta)}
    return df
