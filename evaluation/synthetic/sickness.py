"""Synthetic randomized trial for seed project 126 "Arbejdsfastholdelse ved sygdom".

Aalborg, Socialmedicinsk Enhed, 2010–2012: sick-listed workers (or workers at risk of sick
leave) with a workplace, referred by their general practitioner, are allocated by lottery to an
early workplace-oriented intervention or to usual case management (300 + 300). Goals: less
sickness absence, less risk of renewed absence, more job retention.

Potential outcomes are generated for every person, so the true effects are known exactly.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
from scipy.optimize import brentq

__all__ = ["simulate_sickness_trial", "SICKNESS_OUTCOMES"]

SICKNESS_OUTCOMES: tuple[str, ...] = ("sick_weeks_52", "renewed_absence_12m", "job_retention_12m")

_START = _dt.date(2010, 6, 1)   # project start
_LAST = _dt.date(2011, 12, 26)  # last randomisation, so 52 weeks of follow-up end in 2012


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _scale_to_effect(y0: np.ndarray, effect: float, cap: float) -> np.ndarray:
    """Y(1) = min(cap, r · Y(0)) with r ≥ 0 solved so that mean(Y(1) − Y(0)) == effect."""
    m0 = float(y0.mean())
    lo_lim, hi_lim = -m0, float(np.minimum(cap, np.where(y0 > 0, cap, 0.0)).mean()) - m0
    if not (lo_lim <= effect <= hi_lim):
        raise ValueError(
            f"effect_absence_weeks={effect} is not attainable: with a multiplicative effect on weeks capped at {cap} "
            f"it must lie in [{lo_lim:.2f}, {hi_lim:.2f}] for this sample"
        )
    if effect <= 0:
        return y0 * (1.0 + effect / m0)
    lo, hi = 1.0, 2.0
    while np.minimum(cap, hi * y0).mean() - m0 < effect:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if np.minimum(cap, mid * y0).mean() - m0 < effect:
            lo = mid
        else:
            hi = mid
    y1 = np.minimum(cap, hi * y0)
    return y1


def _flip_to_effect(y0: np.ndarray, effect: float, weight: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Binary Y(1): flip exactly round(|effect|·n) persons (monotone effect), chosen with probability ∝ ``weight``."""
    n = len(y0)
    k = int(round(abs(effect) * n))
    pool = np.flatnonzero(y0 == (1 if effect < 0 else 0))
    if k > len(pool):
        raise ValueError(f"effect {effect} needs {k} persons to change outcome, but only {len(pool)} can")
    y1 = y0.copy()
    if k:
        w = weight[pool] / weight[pool].sum()
        chosen = rng.choice(pool, size=k, replace=False, p=w)
        y1[chosen] = 0 if effect < 0 else 1
    return y1


def simulate_sickness_trial(
    n_intervention: int = 300,
    n_control: int = 300,
    seed: int | None = 126,
    effect_absence_weeks: float = -3.0,
    effect_renewed: float = -0.08,
    effect_retention: float = 0.10,
    dropout: float = 0.03,
    mean_absence_weeks_control: float = 16.0,
    share_renewed_control: float = 0.30,
    share_retention_control: float = 0.65,
    potential_outcomes: bool = False,
    mediator: bool = False,
    mediator_effect_weeks: float = -4.0,
    dialogue_share_control: float = 0.30,
    dialogue_increase: float = 0.45,
) -> pd.DataFrame:
    """Simulate the randomized trial of project 126 with known effects.

    Parameters
    ----------
    n_intervention, n_control : int, default 300, 300
        Group sizes (complete randomization: exactly these numbers are allocated).
    seed : int or None, default 126
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same frame.
    effect_absence_weeks : float, default -3.0
        Average effect on ``sick_weeks_52`` (weeks). Implemented multiplicatively,
        ``Y(1) = min(52, r · Y(0))`` with ``r`` solved so that the sample average of
        ``Y(1) − Y(0)`` equals this value exactly (persons with long absence gain most).
    effect_renewed : float, default -0.08
        Average effect on ``renewed_absence_12m`` (risk difference). Exactly
        ``round(|effect|·n)`` persons change outcome (monotone: only in the effect's direction),
        chosen with probability rising with their baseline risk factors.
    effect_retention : float, default 0.10
        Average effect on ``job_retention_12m`` (risk difference), constructed like ``effect_renewed``.
    dropout : float, default 0.03
        Probability, independent of everything else (missing completely at random), that a
        person is lost to follow-up: all three outcomes are NaN.
    mean_absence_weeks_control : float, default 16.0
        Approximate mean of ``sick_weeks_52`` without the intervention.
    share_renewed_control, share_retention_control : float, default 0.30, 0.65
        Approximate shares with renewed absence / job retention without the intervention.
    potential_outcomes : bool, default False
        Also return both potential outcomes of every outcome as columns ``<outcome>_y0`` and
        ``<outcome>_y1`` (never missing), e.g. to check the truth or study estimands.
    mediator : bool, default False
        Also simulate the mechanism *dialogue with the workplace within four weeks* (column
        ``dialogue_4w``, 0/1, measured for everybody) through which part of the effect on sick weeks
        runs; see Notes. ``False`` leaves every column exactly as without it.
    mediator_effect_weeks : float, default -4.0
        With ``mediator``: the effect of a dialogue on sick weeks (β: Y(t, 1) − Y(t, 0) before the 0–52 bounds).
    dialogue_share_control, dialogue_increase : float, default 0.30, 0.45
        With ``mediator``: the share with a dialogue under usual case management (a little higher at public
        workplaces) and how much the intervention raises it (monotone: nobody loses a dialogue).

    Returns
    -------
    DataFrame
        One row per person, in randomisation order: ``person_id`` ("P0001"…), ``group``
        ("intervention"/"control"), ``randomisation_week`` (ISO week, e.g. "2010-W22"; June 2010 to December 2011, so follow-up ends in 2012),
        ``age`` (20–64), ``sex`` ("kvinde"/"mand"), ``diagnosis_group`` ("muskel_skelet",
        "psykisk", "andet"), ``sector`` ("offentlig"/"privat"), ``prior_sick_weeks_52`` (sick
        weeks in the 52 weeks before randomisation, integer 0–52), ``sick_weeks_52`` (weeks of
        sickness absence in the 52 weeks after randomisation, 0–52, right-skewed, fractional
        weeks from days), ``renewed_absence_12m`` (0/1: a new sickness spell after return to work
        within 12 months), ``job_retention_12m`` (0/1: with the same employer at 12 months).
        ``df.attrs["truth"]`` holds the true effects (see Notes) and the parameters.

    Notes
    -----
    Truth: potential outcomes Y(0), Y(1) are generated for every simulated person, and
    ``attrs["truth"][outcome]`` is the *sample* average treatment effect
    ``mean(Y(1) − Y(0))`` over all ``n_intervention + n_control`` persons (including those
    later lost to follow-up). By construction it equals ``effect_absence_weeks`` exactly, and
    ``round(effect·n)/n`` for the binary outcomes (exactly the parameter when ``effect·n`` is
    an integer, as for the defaults with n = 600). Because it is the same in every sample, it
    is also the expectation over repeated samples: the population ATE that an unbiased
    estimator of the intention-to-treat effect recovers on average.

    Baseline: a latent frailty ``u ~ N(0, 1)`` raises prior and future absence and renewed
    absence and lowers retention; psychiatric diagnoses and higher prior absence lengthen
    absence; covariates are therefore prognostic, so adjustment (ANCOVA/Lin) gains precision.

    Mechanism (``mediator=True``): potential mediators M(0), M(1) (dialogue within four weeks without and
    with the intervention) come from one uniform draw per person, M(t) = [v < p_t], with p₀ =
    ``dialogue_share_control`` (± 0.05 by sector) and p₁ = p₀ + ``dialogue_increase``, so they depend
    on the observed sector and the allocation only: sequential ignorability holds given the sector.
    Sick weeks become Y(t, m) = min(52, max(0, Y₀ + δ·t + β·m)), where Y₀ are the weeks without the
    intervention and without a dialogue (the gamma draw above, independent of the mediator's draw), and δ
    is solved so that the total effect mean(Y(1, M(1)) − Y(0, M(0))) is exactly ``effect_absence_weeks``;
    the control group's weeks are Y(0, M(0)), so they too differ from those without ``mediator``. ``attrs["truth"]["mediation"]`` holds the sample natural indirect
    effect (ACME) and natural direct effect (ADE), each averaged over the two reference conditions
    (ACME = ½[mean(Y(1, M(1)) − Y(1, M(0))) + mean(Y(0, M(1)) − Y(0, M(0)))], ADE likewise), their sum
    (the total effect) and the share mediated. The mediator's draws come after every other draw, so the
    other columns are as without it.

    Examples
    --------
    >>> from evaluation.synthetic import simulate_sickness_trial
    >>> df = simulate_sickness_trial(seed=1)
    >>> df.shape
    (600, 11)
    >>> df.attrs["truth"]["sick_weeks_52"], df.attrs["truth"]["job_retention_12m"]
    (-3.0, 0.1)
    """
    for name, v in (("n_intervention", n_intervention), ("n_control", n_control)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 2:
            raise ValueError(f"{name} must be an integer >= 2, got {v!r}")
    if not (0.0 <= dropout < 1.0):
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    for name, v in (("share_renewed_control", share_renewed_control), ("share_retention_control", share_retention_control)):
        if not (0.0 < v < 1.0):
            raise ValueError(f"{name} must be in (0, 1), got {v!r}")
    if not (0.0 < mean_absence_weeks_control < 52.0):
        raise ValueError(f"mean_absence_weeks_control must be in (0, 52), got {mean_absence_weeks_control!r}")

    rng = np.random.default_rng(seed)
    n = int(n_intervention) + int(n_control)

    # baseline characteristics
    u = rng.standard_normal(n)
    female = rng.random(n) < 0.60
    age = np.clip(np.round(rng.normal(45.0, 10.0, n)), 20, 64).astype(int)
    diag = rng.choice(np.array(["muskel_skelet", "psykisk", "andet"]), size=n, p=[0.45, 0.35, 0.20])
    public = rng.random(n) < np.where(female, 0.55, 0.30)
    prior_mean = 5.0 * np.exp(0.5 * u - 0.125)
    prior = np.clip(rng.poisson(rng.gamma(1.5, prior_mean / 1.5)), 0, 52).astype(int)

    # potential outcome Y(0): sick weeks, right-skewed gamma around a covariate-driven mean
    psych = diag == "psykisk"
    lin = (
        0.35 * u
        + 0.25 * psych
        - 0.10 * (diag == "andet")
        + 0.02 * (prior - 5.0)
        + 0.01 * (age - 45)
        - 0.05 * public
    )
    mu = np.exp(lin)
    mu = mu * (mean_absence_weeks_control / mu.mean())
    shape = 1.6
    y0_weeks = np.minimum(52.0, rng.gamma(shape, mu / shape))
    y1_weeks = _scale_to_effect(y0_weeks, float(effect_absence_weeks), 52.0)

    def logit_shares(target: float, lin_pred: np.ndarray) -> np.ndarray:
        # intercept chosen so that the mean risk equals target
        a = brentq(lambda c: _expit(c + lin_pred).mean() - target, -30.0, 30.0, xtol=1e-12)
        return _expit(a + lin_pred)

    risk_renew = logit_shares(share_renewed_control, 0.5 * u + 0.4 * psych + 0.03 * (prior - 5.0))
    risk_keep = logit_shares(share_retention_control, -0.5 * u - 0.3 * psych - 0.02 * (prior - 5.0) + 0.3 * public)
    ren0 = (rng.random(n) < risk_renew).astype(int)
    ret0 = (rng.random(n) < risk_keep).astype(int)
    ren1 = _flip_to_effect(ren0, float(effect_renewed), risk_renew, rng)
    ret1 = _flip_to_effect(ret0, float(effect_retention), 1.0 - risk_keep, rng)

    # complete randomization and calendar
    treated = np.zeros(n, dtype=bool)
    treated[rng.choice(n, size=int(n_intervention), replace=False)] = True
    span = (_LAST - _START).days
    days = np.sort(rng.integers(0, span + 1, size=n))
    uniq, inv = np.unique(days, return_inverse=True)
    labels = []
    for d in uniq:
        iso = (_START + _dt.timedelta(days=int(d))).isocalendar()
        labels.append(f"{iso.year}-W{iso.week:02d}")
    weeks = np.asarray(labels, dtype=object)[inv]

    lost = rng.random(n) < dropout
    mediation_truth = None
    if mediator:
        if not (0.05 <= dialogue_share_control and dialogue_share_control + dialogue_increase <= 0.95
                and dialogue_increase >= 0):
            raise ValueError("dialogue shares must stay within [0, 1]: need 0.05 <= dialogue_share_control and "
                             "dialogue_share_control + dialogue_increase <= 0.95, dialogue_increase >= 0")
        v = rng.random(n)
        p0 = dialogue_share_control + np.where(public, 0.05, -0.05)
        m0 = (v < p0).astype(float)
        m1 = (v < p0 + dialogue_increase).astype(float)
        beta = float(mediator_effect_weeks)
        base = y0_weeks  # the weeks without intervention and without dialogue: independent of the mediator draw

        def y_of(t: float, m: np.ndarray, delta: float) -> np.ndarray:
            return np.clip(base + delta * t + beta * m, 0.0, 52.0)

        y0_weeks = y_of(0.0, m0, 0.0)
        delta = brentq(lambda dl: float(np.mean(y_of(1.0, m1, dl) - y0_weeks)) - effect_absence_weeks,
                       -60.0, 60.0, xtol=1e-13)
        y1_weeks = y_of(1.0, m1, delta)
        nie1 = float(np.mean(y1_weeks - y_of(1.0, m0, delta)))
        nie0 = float(np.mean(y_of(0.0, m1, delta) - y0_weeks))
        nde0 = float(np.mean(y_of(1.0, m0, delta) - y0_weeks))
        nde1 = float(np.mean(y1_weeks - y_of(0.0, m1, delta)))
        acme, ade = (nie0 + nie1) / 2.0, (nde0 + nde1) / 2.0
        total = float(effect_absence_weeks)  # acme + ade, up to floating-point noise
        mediation_truth = {
            "outcome": "sick_weeks_52", "mediator": "dialogue_4w",
            "acme": acme, "ade": ade, "total_effect": total, "prop_mediated": acme / total,
            "acme_treated": nie1, "acme_control": nie0, "ade_treated": nde1, "ade_control": nde0,
            "mediator_effect_weeks": beta, "direct_effect_parameter": float(delta),
            "effect_on_mediator": float(np.mean(m1 - m0)),
            "definition": "sample natural indirect (ACME) and direct (ADE) effects from the potential outcomes "
                          "Y(t, M(t')), each averaged over the two reference conditions",
        }
        dialogue = np.where(treated, m1, m0)
    sick = np.where(treated, y1_weeks, y0_weeks)
    renewed = np.where(treated, ren1, ren0).astype(float)
    retained = np.where(treated, ret1, ret0).astype(float)
    sick[lost] = np.nan
    renewed[lost] = np.nan
    retained[lost] = np.nan

    # the sample ATE equals the parameter by construction; report the parameter itself rather
    # than the same number with floating-point noise (-2.9999999999999996)
    weeks_truth = float(np.mean(y1_weeks - y0_weeks))
    if abs(weeks_truth - effect_absence_weeks) > 1e-9 * max(1.0, abs(effect_absence_weeks)):
        raise RuntimeError(f"internal error: sample ATE {weeks_truth} differs from effect_absence_weeks")
    weeks_truth = float(effect_absence_weeks)

    width = max(4, len(str(n)))
    df = pd.DataFrame({
        "person_id": [f"P{i + 1:0{width}d}" for i in range(n)],
        "group": np.where(treated, "intervention", "control"),
        "randomisation_week": weeks,
        "age": age,
        "sex": np.where(female, "kvinde", "mand"),
        "diagnosis_group": diag,
        "sector": np.where(public, "offentlig", "privat"),
        "prior_sick_weeks_52": prior,
        "sick_weeks_52": sick,
        "renewed_absence_12m": renewed,
        "job_retention_12m": retained,
    })
    if mediator:
        df["dialogue_4w"] = dialogue
    if potential_outcomes:
        for name, a0, a1 in (("sick_weeks_52", y0_weeks, y1_weeks), ("renewed_absence_12m", ren0, ren1),
                             ("job_retention_12m", ret0, ret1)):
            df[f"{name}_y0"] = np.asarray(a0, dtype=float)
            df[f"{name}_y1"] = np.asarray(a1, dtype=float)
    df.attrs["truth"] = {
        "sick_weeks_52": weeks_truth,
        "renewed_absence_12m": int(np.sum(ren1 - ren0)) / n,
        "job_retention_12m": int(np.sum(ret1 - ret0)) / n,
        "definition": "sample average treatment effect mean(Y(1) - Y(0)) over all allocated persons "
                      "(intention to treat), equal in every sample; intervention minus control",
        "parameters": {
            "n_intervention": int(n_intervention), "n_control": int(n_control), "seed": seed,
            "effect_absence_weeks": float(effect_absence_weeks), "effect_renewed": float(effect_renewed),
            "effect_retention": float(effect_retention), "dropout": float(dropout),
            "mean_absence_weeks_control": float(mean_absence_weeks_control),
            "share_renewed_control": float(share_renewed_control),
            "share_retention_control": float(share_retention_control),
        },
    }
    if mediation_truth is not None:
        df.attrs["truth"]["mediation"] = mediation_truth
        df.attrs["truth"]["parameters"].update({
            "mediator": True, "mediator_effect_weeks": float(mediator_effect_weeks),
            "dialogue_share_control": float(dialogue_share_control), "dialogue_increase": float(dialogue_increase)})
    return df
