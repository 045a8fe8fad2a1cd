"""Design diagnosis by simulation: bias, RMSE, interval coverage and power of each declared analysis.

For every analysis of a study the design is refitted many times on *plasmode* data: the study's
own data (real or synthetic) with the treatment assignment redrawn at random — so the true
effect of the redrawn assignment is zero — plus a known effect τ added to the outcome of the
redrawn treated group. Because τ is known, the simulation measures what the declared
estimator does with data shaped like the study's: the bias and RMSE of its estimate, how often
its 95 % interval covers τ, and how often it rejects "no effect" (power at τ).

* continuous outcomes: τ is added to every treated outcome;
* binary outcomes: treated outcomes are switched 0 → 1 (τ > 0) or 1 → 0 (τ < 0) with the
  probability that shifts the treated share by exactly τ in expectation;
Each design family's :meth:`~evaluation.designs.family.Family.simulate` does the redrawing:

* the assignment is redrawn the way the design declares it was made: whole clusters when the
  design has a ``cluster``, within each stratum when it has ``strata`` (so the diagnosed
  interval is the one the study will use, not one for a simpler lottery);
* 2×2 DiD (``did_2x2``): the group label is permuted across persons (across rows within each
  period for repeated cross-sections, across clusters when declared) and τ is added in the
  after period of the new treated group;
* static TWFE (``did_twfe``): whole treatment paths are permuted across persons and τ is added
  where the new path is treated (a balanced panel is needed);
* staggered DiD (``did_cs``): enrolment cohorts are permuted across persons and τ is added to
  the outcome in the periods from enrolment on;
* before/after (``pre_post``): persons measured twice have their two measurements swapped with
  probability ½, the dates of persons measured once are permuted, and τ is added at follow-up
  (so τ is the true change).

Randomization inference, the bootstrap and placebo refits are switched off in the simulated
fits (only the headline interval is diagnosed); every other fit option is kept.

Analytic power (:mod:`evaluation.designs.power`) complements this before data exist.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from evaluation.declaration.study import load_study
from evaluation.designs.family import get_family
from evaluation.pipeline.prepare import prepare_study

__all__ = ["DiagnosisRow", "diagnose_study", "simulate_analysis"]


@dataclass(frozen=True)
class DiagnosisRow:
    """Diagnosis of one analysis at one true effect."""

    analysis: str
    design: str
    term: str
    true_effect: float
    draws: int
    mean_estimate: float
    bias: float
    bias_mc_se: float
    rmse: float
    coverage: float
    coverage_mc_se: float
    power: float
    mean_std_error: float
    sd_estimate: float

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def simulate_analysis(design, frame: pd.DataFrame, fit_options: dict[str, Any], tau: float, draws: int, seed: int,
                      *, analysis_id: str = "", progress: Callable[[], None] | None = None) -> DiagnosisRow:
    """Refit ``design`` on ``draws`` plasmode data sets with true effect ``tau``."""
    family = get_family(design.name)
    rng = np.random.default_rng(seed)
    fit_options = family.headline_fit(fit_options)
    est, se, cover, reject = [], [], [], []
    term = None
    for _ in range(draws):
        data = family.simulate(design, frame, tau, rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e = family.main_term(design.fit(data, **fit_options))
        term = e.term
        est.append(e.estimate)
        se.append(e.std_error)
        cover.append(e.ci_lower <= tau <= e.ci_upper)
        reject.append(e.ci_lower > 0 or e.ci_upper < 0)
        if progress is not None:
            progress()
    est_a = np.asarray(est, dtype=float)
    cov = float(np.mean(cover))
    return DiagnosisRow(
        analysis=analysis_id, design=design.name, term=term or "", true_effect=float(tau), draws=draws,
        mean_estimate=float(est_a.mean()), bias=float(est_a.mean() - tau),
        bias_mc_se=float(est_a.std(ddof=1) / math.sqrt(draws)) if draws > 1 else float("nan"),
        rmse=float(np.sqrt(np.mean((est_a - tau) ** 2))), coverage=cov,
        coverage_mc_se=float(math.sqrt(cov * (1 - cov) / draws)), power=float(np.mean(reject)),
        mean_std_error=float(np.nanmean(se)), sd_estimate=float(est_a.std(ddof=1)) if draws > 1 else float("nan"),
    )


def diagnose_study(study_dir, *, draws: int = 200, seed: int = 1, effects: dict[str, float] | None = None,
                   progress_factory=None) -> list[DiagnosisRow]:
    """Diagnose every analysis of a study (see the module docstring).

    Parameters
    ----------
    draws : int
        Simulated data sets per analysis.
    effects : dict, optional
        True effect per analysis id; default: the analysis's own estimate on the real data
        (so the diagnosis asks "if the effect were what we estimated, how well would we see it?").
    progress_factory : callable, optional
        ``progress_factory(description, total)`` returning a callable advanced once per draw.
    """
    study = load_study(study_dir)
    prepared = prepare_study(study)  # the data read and checked as by `run` (problems name file, column, rows)
    rows = []
    for k, a in enumerate(study.analyses):
        family = a.family
        if not family.simulates:
            continue
        ind = study.theory.indicator(a.indicator)
        frame = prepared.inputs[a.id].frame
        design = family.estimator(a.options, ind.id)
        fit = a.fit.declared()
        tau = (effects or {}).get(a.id)
        if tau is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tau = float(family.main_term(design.fit(frame, **family.headline_fit(fit))).estimate)
        tick = progress_factory(f"{a.id} ({a.design})", draws) if progress_factory else None
        rows.append(simulate_analysis(design, frame, fit, tau, draws, seed + k, analysis_id=a.id, progress=tick))
    return rows
