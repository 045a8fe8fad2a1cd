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

from evaluation.data.study_data import load_study_data
from evaluation.designs import get_design
from evaluation.exceptions import EstimationError
from evaluation.metrics.targets import main_term
from evaluation.declaration.study import load_study

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


def _binary(y: pd.Series) -> bool:
    v = y.dropna().unique()
    return len(v) > 0 and set(np.unique(v)).issubset({0, 1, 0.0, 1.0})


def _permute_labels(labels: np.ndarray, rng: np.random.Generator, unit: np.ndarray | None = None,
                    strata: np.ndarray | None = None) -> np.ndarray:
    """Permute ``labels`` (one per row) at the level of ``unit`` (rows of a unit share a label),
    within ``strata`` (constant within a unit)."""
    if unit is None:
        unit = np.arange(len(labels))
    inv = pd.factorize(unit)[0]
    _, first = np.unique(inv, return_index=True)
    ulab = labels[first]
    new = ulab.copy()
    if strata is None:
        new = rng.permutation(ulab)
    else:
        ust = np.asarray(strata)[first]
        for lev in pd.unique(ust):
            idx = np.flatnonzero(ust == lev)
            new[idx] = ulab[rng.permutation(idx)]
    return new[inv]


def _plasmode_comparison(frame: pd.DataFrame, outcome: str, treat: str, treated: Any, control: Any, tau: float,
                         rng: np.random.Generator, cluster: str | None = None, strata: str | None = None) -> pd.DataFrame:
    f = frame[frame[treat].isin([treated, control])].copy()
    f[treat] = _permute_labels(f[treat].to_numpy(), rng, None if cluster is None else f[cluster].to_numpy(),
                               None if strata is None else f[strata].astype(str).to_numpy())
    is_t = (f[treat] == treated).to_numpy()
    f[outcome] = _add_effect(f[outcome], is_t, tau, rng)
    return f


def _add_effect(col: pd.Series, is_t: np.ndarray, tau: float, rng: np.random.Generator) -> np.ndarray:
    """The outcome with a known effect ``tau`` in the rows ``is_t``: added, or for 0/1 outcomes by random flips."""
    y = col.astype(float).to_numpy().copy()
    if _binary(col):
        ok = ~np.isnan(y)
        if tau > 0:
            base = y[is_t & ok].mean() if (is_t & ok).any() else 0.0
            p = tau / max(1.0 - base, 1e-12)
            flip = is_t & ok & (y == 0) & (rng.random(len(y)) < min(p, 1.0))
            y[flip] = 1.0
        elif tau < 0:
            base = y[is_t & ok].mean() if (is_t & ok).any() else 0.0
            p = -tau / max(base, 1e-12)
            flip = is_t & ok & (y == 1) & (rng.random(len(y)) < min(p, 1.0))
            y[flip] = 0.0
    else:
        y[is_t] += tau
    return y


def _plasmode_prepost(frame: pd.DataFrame, p: dict[str, Any], tau: float, rng: np.random.Generator) -> pd.DataFrame:
    """Before/after data with no true change, then ``tau`` added at follow-up.

    Persons measured twice get their two measurements swapped with probability ½ (the pairing
    and its correlation are kept); the period labels of persons measured once are permuted.
    """
    per = frame[p["period"]].astype(str)
    b, fu = str(p["baseline"]), str(p["follow_up"])
    f = frame[per.isin([b, fu])].copy()
    labels = f[p["period"]].to_numpy().copy()
    once = np.ones(len(f), dtype=bool)
    if p.get("unit"):
        u = f[p["unit"]].to_numpy()
        counts = pd.Series(u).map(pd.Series(u).value_counts()).to_numpy()
        twice = counts == 2
        once = ~twice
        idx = np.flatnonzero(twice)
        order = idx[np.argsort(u[idx], kind="stable")]
        first, second = order[0::2], order[1::2]
        swap = rng.random(len(first)) < 0.5
        labels[first[swap]], labels[second[swap]] = labels[second[swap]], labels[first[swap]].copy()
    oi = np.flatnonzero(once)
    labels[oi] = labels[oi][rng.permutation(len(oi))]
    f[p["period"]] = labels
    is_fu = pd.Series(labels).astype(str).to_numpy() == fu
    f[p["outcome"]] = _add_effect(f[p["outcome"]], is_fu, tau, rng)
    return f


def _plasmode_staggered(frame: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str, tau: float,
                        rng: np.random.Generator) -> pd.DataFrame:
    persons = frame[[unit, cohort]].drop_duplicates(unit)
    new = dict(zip(persons[unit], rng.permutation(persons[cohort].to_numpy())))
    f = frame.copy()
    f[cohort] = f[unit].map(new)
    post = (f[cohort] > 0) & (f[time] >= f[cohort])
    f.loc[post, outcome] = f.loc[post, outcome].astype(float) + tau
    return f


def _plasmode_2x2(frame: pd.DataFrame, p: dict[str, Any], tau: float, rng: np.random.Generator) -> pd.DataFrame:
    f = frame.copy()
    g = f[p["group"]].to_numpy()
    if p.get("cluster"):
        new = _permute_labels(g, rng, f[p["cluster"]].to_numpy())
    elif p.get("unit"):
        new = _permute_labels(g, rng, f[p["unit"]].to_numpy())
    else:  # repeated cross-sections: permute within each period
        new = _permute_labels(g, rng, None, f[p["time"]].astype(str).to_numpy())
    f[p["group"]] = new
    after = (f[p["time"]] == np.sort(pd.unique(f[p["time"]]))[-1]).to_numpy()
    y = f[p["outcome"]].astype(float).to_numpy().copy()
    y[(new.astype(float) == 1) & after] += tau
    f[p["outcome"]] = y
    return f


def _plasmode_twfe(frame: pd.DataFrame, p: dict[str, Any], tau: float, rng: np.random.Generator) -> pd.DataFrame:
    if p.get("event_study"):
        raise EstimationError("design diagnosis of an event-study TWFE is not available (its terms have different "
                              "truths); diagnose the static model or did_cs")
    unit, time, treat = p["unit"], p["time"], p["treatment"]
    wide = frame.pivot(index=unit, columns=time, values=treat)
    if wide.isna().any().any():
        raise EstimationError("design diagnosis of did_twfe needs a balanced panel (every person in every period)")
    perm = wide.to_numpy()[rng.permutation(len(wide))]
    new = pd.DataFrame(perm, index=wide.index, columns=wide.columns).stack()
    f = frame.copy()
    d = new.reindex(pd.MultiIndex.from_arrays([f[unit], f[time]])).to_numpy(dtype=float)
    f[treat] = d.astype(frame[treat].dtype)
    f[p["outcome"]] = f[p["outcome"]].astype(float) + tau * (d == 1)
    return f


def _headline_options(fit_options: dict[str, Any]) -> dict[str, Any]:
    """Fit options without randomization inference, the bootstrap and placebo refits (and the
    seeds and draws that only serve them): only the headline interval is diagnosed."""
    drop = {"permutations", "bootstrap", "placebo_shift"}
    if fit_options.get("bootstrap") or fit_options.get("permutations"):
        drop |= {"draws", "seed", "bootstrap_weights"}
    return {k: v for k, v in fit_options.items() if k not in drop}


def simulate_analysis(design, frame: pd.DataFrame, fit_options: dict[str, Any], tau: float, draws: int, seed: int,
                      *, analysis_id: str = "", progress: Callable[[], None] | None = None) -> DiagnosisRow:
    """Refit ``design`` on ``draws`` plasmode data sets with true effect ``tau``."""
    params = design.get_params()
    rng = np.random.default_rng(seed)
    fit_options = _headline_options(fit_options)
    est, se, cover, reject = [], [], [], []
    term = None
    for _ in range(draws):
        if design.name == "did_cs":
            data = _plasmode_staggered(frame, params["outcome"], params["unit"], params["time"], params["cohort"], tau, rng)
        elif design.name == "did_2x2":
            data = _plasmode_2x2(frame, params, tau, rng)
        elif design.name == "did_twfe":
            data = _plasmode_twfe(frame, params, tau, rng)
        elif design.name == "pre_post":
            data = _plasmode_prepost(frame, params, tau, rng)
        elif "treatment" in params and "treated" in params:
            data = _plasmode_comparison(frame, params["outcome"], params["treatment"], params["treated"], params["control"],
                                        tau, rng, cluster=params.get("cluster"), strata=params.get("strata"))
        else:
            raise EstimationError(f"design diagnosis is not available for design {design.name!r}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e = main_term(design.fit(data, **fit_options))
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
    from evaluation.pipeline.run import _outcome_frame

    study = load_study(study_dir)
    data = load_study_data(study)
    rows = []
    for k, a in enumerate(study.analyses):
        ind = study.theory.indicator(a.indicator)
        frame = _outcome_frame(study, a, data)
        design = get_design(a.design)(outcome=ind.id, **a.options)
        tau = (effects or {}).get(a.id)
        if tau is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tau = float(main_term(design.fit(frame, **_headline_options(dict(a.fit)))).estimate)
        tick = progress_factory(f"{a.id} ({a.design})", draws) if progress_factory else None
        rows.append(simulate_analysis(design, frame, dict(a.fit), tau, draws, seed + k, analysis_id=a.id, progress=tick))
    return rows
