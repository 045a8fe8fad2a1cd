"""Duration outcomes and cumulative effects of any design family that can give them.

Two analyses a study may add to an analysis of a register outcome (``duration:`` and ``cumulative:``
in ``study.yaml``):

* **duration** — time from the index week to the first self-support (or the first exit from
  public support by competing cause) per group: Kaplan–Meier curves with pointwise and
  simultaneous bands, the RMST difference at declared horizons (weeks), the Cox hazard ratio and
  Aalen–Johansen cumulative incidence of each exit. The family says who is compared and how each
  person counts (:meth:`~evaluation.designs.family.Family.survival_design`: weights, clusters,
  strata).
* **cumulative** — the effect on weeks on public support accumulated week by week (the curve)
  and at declared horizons, with intervals from the joint sampling covariance of the weekly effects,
  a simultaneous band and a placebo over the weeks before the index week. Families comparing
  persons give the joint influence functions of their own estimator applied to many outcome
  columns at once (:meth:`~evaluation.designs.family.Family.joint_effects`); difference-in-
  differences gives event-time effects on calendar periods
  (:meth:`~evaluation.designs.family.Family.event_time_effects`).

Everything here returns a :class:`~evaluation.results.EffectResult` with its curves as tables, so
the bundle, disclosure and the report treat them like any other result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from evaluation._lazy import stats

from evaluation.designs import survival as sv
from evaluation.exceptions import EstimationError
from evaluation.results import EffectResult, Estimate

__all__ = ["JointEffects", "SurvivalDesign", "TimeSource", "duration_analysis", "cumulative_analysis",
           "person_effects", "period_effects", "BAND_DRAWS"]

BAND_DRAWS = 5_000


@dataclass(frozen=True)
class JointEffects:
    """Effects of one design on several outcome columns with their joint sampling covariance.

    ``influence`` has one row per person (or per cluster, already summed) and one column per
    outcome, scaled so that ``cov = factor · influenceᵀ influence``; ``df`` is the t reference's
    degrees of freedom (None: normal).
    """

    estimates: np.ndarray
    influence: np.ndarray
    factor: float = 1.0
    df: float | None = None
    n_treated: int = 0
    n_control: int = 0
    method: str = ""
    means_treated: np.ndarray | None = None
    means_control: np.ndarray | None = None

    def cov(self) -> np.ndarray:
        return self.factor * self.influence.T @ self.influence

    def std_errors(self) -> np.ndarray:
        return np.sqrt(self.factor * np.einsum("ij,ij->j", self.influence, self.influence))

    def quantile(self, conf_level: float) -> float:
        p = 0.5 + conf_level / 2
        return float(stats.norm.ppf(p) if self.df is None else stats.t.ppf(p, self.df))

    def combine(self, a: np.ndarray) -> "JointEffects":
        """The linear combinations ``a @ estimates`` (``a`` of shape (m, K)) with their influence functions."""
        a = np.atleast_2d(np.asarray(a, dtype=float))
        mt = None if self.means_treated is None else a @ self.means_treated
        mc = None if self.means_control is None else a @ self.means_control
        return JointEffects(a @ self.estimates, self.influence @ a.T, self.factor, self.df, self.n_treated,
                            self.n_control, self.method, mt, mc)

    def sup_t(self, conf_level: float, seed: int = sv.BAND_SEED, draws: int = BAND_DRAWS) -> float:
        """Simultaneous (sup-t) critical value over all columns: the ``conf_level`` quantile of ``max_j |Z_j|`` for Z
        normal with the correlation of the estimates (what Gaussian multipliers on the influence rows give; drawn from
        the K × K covariance, which costs K² per draw instead of n·K)."""
        se = self.std_errors()
        ok = se > 0
        if not ok.any():
            return float("nan")
        C = self.cov()[np.ix_(ok, ok)] / np.outer(se[ok], se[ok])
        vals, vecs = np.linalg.eigh(C)
        L = vecs * np.sqrt(np.clip(vals, 0, None))[None, :]
        rng = np.random.default_rng(seed)
        Z = rng.standard_normal((draws, L.shape[1])) @ L.T
        c = float(np.quantile(np.max(np.abs(Z), axis=1), conf_level))
        if self.df is not None:  # t reference for the pointwise intervals: keep the band at least as wide
            c *= self.quantile(conf_level) / float(stats.norm.ppf(0.5 + conf_level / 2))
        return c


@dataclass(frozen=True)
class SurvivalDesign:
    """Who a duration analysis compares and how each person counts.

    ``rows`` are positions in the analysis frame; ``treated`` (bool), ``weights``, ``cluster`` and
    ``strata`` are aligned with them.
    """

    rows: np.ndarray
    treated: np.ndarray
    weights: np.ndarray | None = None
    cluster: np.ndarray | None = None
    strata: np.ndarray | None = None
    note: str = ""


@dataclass
class TimeSource:
    """The register values a time analysis reads, prepared by the pipeline (families never see the panel).

    ``event_matrix(persons, weeks, kind)`` returns a persons × weeks matrix in event time (NaN outside the
    register); ``period_matrix(persons, kind)`` the values summed over the calendar periods of the
    analysis's panel metric (``period_weeks`` weeks each); ``exit_times(persons, horizon)`` the exit times.
    ``kind`` names a value table the pipeline registered (``"support"``: 1 on public support; ``"kroner"``;
    ``"weeks:<group>"``, ``"kroner:<group>"`` …).
    """

    event_matrix: Callable[[pd.Index, tuple[int, int], str], np.ndarray]
    period_matrix: Callable[[pd.Index, str], np.ndarray] | None = None
    exit_times: Callable[..., pd.DataFrame] | None = None
    period_weeks: int | None = None
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------------- duration
def _group_km(times, events, weights, cluster, conf_level):
    return sv.kaplan_meier(times, events, weights, cluster, conf_level=conf_level)


def duration_analysis(design: SurvivalDesign, self_support: pd.DataFrame, competing: pd.DataFrame | None = None, *,
                      horizons: Sequence[int], conf_level: float = 0.95, causes: Sequence[str] = (),
                      hazard_ratio: bool = True, design_name: str = "", evidence_level: int = 0,
                      group_labels: tuple[str, str] = ("intervention", "control"), min_weeks: int = 1) -> EffectResult:
    """Kaplan–Meier curves, RMST differences, the Cox hazard ratio and cumulative incidence of the exits.

    ``self_support`` (aligned with ``design.rows``) holds ``weeks`` and ``event`` of the time to first
    self-support: other exits (førtidspension, fleksjob, education) are not events and do not censor, since a
    person there may still become self-supporting; censoring is emigration, death or the end of the register.
    ``competing`` holds the first exit of any kind (``event`` = the position of its cause in ``causes``,
    1-based) for the Aalen–Johansen cumulative incidence.
    """
    ss_time = self_support["weeks"].to_numpy(float)
    ss_event = self_support["event"].to_numpy(np.int64)
    if competing is not None:
        t_all = competing["weeks"].to_numpy(float)
        e_all = competing["event"].to_numpy(np.int64)
    tr = np.asarray(design.treated, dtype=bool)
    w = design.weights
    cl = design.cluster
    z = stats.norm.ppf(0.5 + conf_level / 2)
    H = int(max(horizons))
    grid = np.arange(0, H + 1, dtype=float)
    n1, n0 = int(tr.sum()), int((~tr).sum())
    comp = {"n_treated": n1, "n_control": n0}
    weighted = w is not None
    robust_txt = ("; vægte" if weighted else "") + ("; klynger" if cl is not None else "")
    var_method = ("influence function (infinitesimal jackknife)" + (", weighted" if weighted else "")
                  + (", clustered G/(G−1)" if cl is not None else "")) if (weighted or cl is not None) else "Greenwood"
    kms = {}
    rows_km = []
    for lab, m in ((group_labels[0], tr), (group_labels[1], ~tr)):
        km = _group_km(ss_time[m], ss_event[m], None if w is None else w[m], None if cl is None else cl[m], conf_level)
        kms[lab] = km
        S = km.at(grid)
        lo, hi = km.conf_int(grid, "log-log")
        blo, bhi, crit = sv.km_band(km, grid, conf_level=conf_level)
        idx = sv._step_index(km.data.u, grid)
        D = km.data
        # persons at risk at the start of week k (T >= k) and events up to week k (unweighted counts)
        at_risk = len(D.time) - np.searchsorted(np.sort(D.time), grid, side="left")
        cum_events = np.where(idx >= 0, np.cumsum(D.n_events)[np.maximum(idx, 0)], 0.0)
        # persons whose follow-up ended by the end of week k (an event or censoring: T <= k), for disclosure
        cum_left = np.searchsorted(np.sort(D.time), grid, side="right")
        rows_km.append(pd.DataFrame({
            "group": lab, "week": grid.astype(np.int64), "n_at_risk": at_risk.astype(np.int64),
            "n_events_cum": cum_events.astype(np.int64), "n_left_cum": cum_left.astype(np.int64),
            "n": np.full(len(grid), len(D.time), dtype=np.int64),
            "share_not_self_supporting": S, "ci_lower": lo, "ci_upper": hi, "band_lower": blo, "band_upper": bhi,
            "band_critical": np.full(len(grid), crit),
        }))
    estimates: list[Estimate] = []
    for h in sorted({int(x) for x in horizons}):
        r1 = sv.rmst(kms[group_labels[0]], h, influence=True)
        r0 = sv.rmst(kms[group_labels[1]], h, influence=True)
        if cl is not None:
            jif = np.zeros(len(tr))
            jif[tr] = r1.influence
            jif[~tr] = -r0.influence
            d = sv.rmst_difference(r1, r0, conf_level=conf_level, joint_influence=jif, cluster=cl)
        else:
            d = sv.rmst_difference(r1, r0, conf_level=conf_level)
        meth = f"difference in restricted mean time to first self-support (RMST, {h} weeks), {r1.method}, normal interval"
        estimates.append(Estimate(f"rmst_difference_h{h}", d["estimate"], d["std_error"], d["statistic"], d["p_value"],
                                  d["ci_lower"], d["ci_upper"], n1 + n0, meth, **comp))
        for lab, r, nn in (("intervention", r1, n1), ("control", r0, n0)):
            estimates.append(Estimate(f"mean_rmst_{lab}_h{h}", r.estimate, r.std_error, float("nan"), float("nan"),
                                      r.estimate - z * r.std_error, r.estimate + z * r.std_error, nn,
                                      f"restricted mean time to first self-support ({h} weeks), {r.method}", **comp))
    diagnostics: dict[str, Any] = {"horizons": sorted({int(x) for x in horizons}), "variance": var_method,
                                   "weights": bool(weighted), "clustered": cl is not None,
                                   "min_weeks": int(min_weeks), "note": design.note,
                                   "band": "equal-precision simultaneous band, log(-log) scale"}
    if hazard_ratio:
        try:
            hr = sv.cox_hazard_ratio(ss_time, ss_event, tr.astype(float), weights=w, cluster=cl, strata=design.strata,
                                     conf_level=conf_level)
            estimates.append(Estimate("hazard_ratio", hr["estimate"], hr["std_error"], hr["statistic"], hr["p_value"],
                                      hr["ci_lower"], hr["ci_upper"], n1 + n0,
                                      hr["method"] + "; std_error is that of log(HR), interval exponentiated", **comp))
        except EstimationError as exc:
            diagnostics["hazard_ratio_error"] = str(exc)
    tables = {"km": pd.concat(rows_km, ignore_index=True)}
    if competing is not None and len(causes) > 1:
        rows_ci = []
        for lab, m in ((group_labels[0], tr), (group_labels[1], ~tr)):
            ci = sv.aalen_johansen(t_all[m], e_all[m], None if w is None else w[m], None if cl is None else cl[m],
                                   conf_level=conf_level)
            D = ci.data
            for k, name in enumerate(causes, start=1):
                F = ci.at(k, grid)
                se = ci.std_error(k, grid)
                lo, hi = ci.conf_int(k, grid)
                idx = sv._step_index(D.u, grid)
                nk = D.n_cause_events.get(k, np.zeros(len(D.u)))
                cum = np.where(idx >= 0, np.cumsum(nk)[np.maximum(idx, 0)], 0.0)
                rows_ci.append(pd.DataFrame({"group": lab, "cause": name, "week": grid.astype(np.int64),
                                             "n": np.full(len(grid), len(D.time), dtype=np.int64),
                                             "n_events_cum": cum.astype(np.int64), "cumulative_incidence": F,
                                             "std_error": se, "ci_lower": lo, "ci_upper": hi}))
        tables["competing"] = pd.concat(rows_ci, ignore_index=True)
        # differences in cumulative incidence at each horizon (groups independent unless clustered)
        for h in sorted({int(x) for x in horizons}):
            for k, name in enumerate(causes, start=1):
                part = tables["competing"][(tables["competing"]["week"] == h) & (tables["competing"]["cause"] == name)]
                if len(part) != 2:
                    continue
                a, b = part.iloc[0], part.iloc[1]
                diff = float(a["cumulative_incidence"] - b["cumulative_incidence"])
                se = float(math.hypot(a["std_error"], b["std_error"])) if cl is None else float("nan")
                if cl is not None:
                    ci1 = sv.aalen_johansen(t_all[tr], e_all[tr], None if w is None else w[tr], cl[tr], conf_level=conf_level)
                    ci0 = sv.aalen_johansen(t_all[~tr], e_all[~tr], None if w is None else w[~tr], cl[~tr], conf_level=conf_level)
                    jif = np.zeros(len(tr))
                    jif[tr] = ci1.influence(k, [h])[:, 0]
                    jif[~tr] = -ci0.influence(k, [h])[:, 0]
                    S_, f = sv._cluster_sums(jif, cl)
                    se = float(np.sqrt(f * np.sum(S_**2)))
                stat = diff / se if se > 0 else float("nan")
                estimates.append(Estimate(f"cif_difference_{name}_h{h}", diff, se, stat,
                                          float(2 * stats.norm.sf(abs(stat))) if se > 0 else float("nan"),
                                          diff - z * se, diff + z * se, n1 + n0,
                                          f"difference in Aalen-Johansen cumulative incidence of the first exit to {name} "
                                          f"by week {h}, " + ("Aalen (cmprsk) variance" if not (weighted or cl is not None)
                                                              else var_method) + ", normal interval", **comp))
    return EffectResult(
        estimand=("difference in restricted mean time to first self-support (weeks not yet self-supporting within the "
                  "horizon), hazard ratio of first self-support, and cumulative incidence of the first exit by cause"),
        estimates=tuple(estimates), conf_level=conf_level, tables=tables, diagnostics=diagnostics,
        design=design_name, evidence_level=evidence_level, outcome_type="continuous")


# ----------------------------------------------------------------------------------------- cumulative
def _curve_table(joint: JointEffects, weeks: np.ndarray, conf_level: float) -> pd.DataFrame:
    se = joint.std_errors()
    q = joint.quantile(conf_level)
    crit = joint.sup_t(conf_level)
    est = joint.estimates
    out = pd.DataFrame({"week": weeks.astype(np.int64), "estimate": est, "std_error": se,
                        "ci_lower": est - q * se, "ci_upper": est + q * se,
                        "band_lower": est - crit * se, "band_upper": est + crit * se})
    if joint.means_treated is not None:
        out["mean_intervention"] = joint.means_treated
        out["mean_control"] = joint.means_control
    out["band_critical"] = crit
    return out


def _estimate(term: str, j: JointEffects, i: int, conf_level: float, method: str, n: int) -> Estimate:
    b = float(j.estimates[i])
    se = float(j.std_errors()[i])
    q = j.quantile(conf_level)
    stat = b / se if se > 0 else float("nan")
    if se > 0:
        p = float(2 * (stats.norm.sf(abs(stat)) if j.df is None else stats.t.sf(abs(stat), j.df)))
    else:
        p = float("nan")
    return Estimate(term, b, se, stat, p, b - q * se, b + q * se, n, method, n_treated=j.n_treated, n_control=j.n_control)


def person_effects(fam, inp, source: TimeSource, weeks: tuple[int, int], kinds: Sequence[str]) -> tuple[JointEffects, list[str], np.ndarray]:
    """Accumulated values (weeks ``weeks[0]`` .. k) of each ``kind`` for every k, as one :class:`JointEffects`
    (columns: kind-major, week-minor). Persons whose register does not cover the whole window are left out
    (their number is returned in the notes)."""
    frame = inp.frame
    spec = fam.groups(inp.options)
    keep = frame[spec.column].isin([spec.treated, spec.control]).to_numpy()
    persons = pd.Index(frame.index[keep], name="person")
    mats = [source.event_matrix(persons, weeks, k) for k in kinds]
    full = np.all([np.isfinite(m).all(axis=1) for m in mats], axis=0)
    notes = []
    if not full.all():
        notes.append(f"{int((~full).sum())} person(er) kan ikke følges i hele perioden (registrets slut) og indgår ikke")
    rows = np.flatnonzero(keep)[full]
    Y = np.column_stack([np.cumsum(m[full], axis=1) for m in mats])
    sub = _subset_input(inp, rows)
    return fam.joint_effects(sub, Y), notes, rows


def _subset_input(inp, rows: np.ndarray):
    import dataclasses

    return dataclasses.replace(inp, frame=inp.frame.iloc[rows])


def period_effects(fam, inp, source: TimeSource, kinds: Sequence[str]) -> tuple[dict[str, JointEffects], list[str]]:
    """Event-time effects on calendar periods for each ``kind`` (difference in differences)."""
    out = {}
    for k in kinds:
        out[k] = fam.event_time_effects(inp, source, k)
    return out, []


def cumulative_analysis(fam, inp, source: TimeSource, *, horizons: Sequence[int], placebo_weeks: int = 52,
                        conf_level: float = 0.95, kind: str = "support", unit_term: str = "weeks") -> EffectResult:
    """The effect on ``kind`` (weeks on public support) accumulated from week 1 to every week k, at the
    declared horizons, with intervals from the joint covariance of the weekly effects, a simultaneous band
    over the curve and a placebo over the ``placebo_weeks`` weeks before the index week."""
    horizons = sorted({int(h) for h in horizons})
    H = max(horizons)
    notes: list[str] = []
    mode = fam.time_mode
    if mode == "person":
        joint, notes, rows = person_effects(fam, inp, source, (1, H), [kind])
        weeks = np.arange(1, H + 1)
        n = len(rows)
        placebo = None
        if placebo_weeks:
            pj, pnotes, _ = person_effects(fam, fam.placebo_input(inp), source, (-int(placebo_weeks), -1), [kind])
            placebo = pj.combine(np.eye(pj.estimates.shape[0])[[-1]])
    elif mode == "period":
        pw = int(source.period_weeks or 0)
        if pw <= 0:
            raise EstimationError("cumulative effects of a difference in differences need the analysis's period length")
        ev = fam.event_time_effects(inp, source, kind)
        e_labels = ev["event_times"]
        post = [i for i, e in enumerate(e_labels) if e >= 0]
        n_post = len(post)
        # accumulate whole periods: weeks k = pw, 2pw, …; a horizon must be a whole number of periods
        max_periods = min(n_post, H // pw)
        if max_periods < 1:
            raise EstimationError(f"no post-enrolment period of {pw} weeks is estimable within {H} weeks")
        A = np.tril(np.ones((max_periods, max_periods)))
        base = ev["joint"].combine(np.eye(len(e_labels))[post[:max_periods]])
        joint = base.combine(A)
        weeks = pw * np.arange(1, max_periods + 1)
        horizons = [h for h in horizons if h % pw == 0 and h // pw <= max_periods]
        n = int(ev["n"])
        placebo = None
        pre = [i for i, e in enumerate(e_labels) if e < 0][-max(1, int(placebo_weeks) // pw):] if placebo_weeks else []
        if pre:
            placebo = ev["joint"].combine(np.ones((1, len(pre))) @ np.eye(len(e_labels))[pre])
            notes.append(f"placebo: summen af de {len(pre)} perioders effekter før start (forskel fra periode til periode)")
        notes.extend(ev.get("notes", []))
    else:
        raise EstimationError(f"design {fam.design!r} gives no cumulative effects")
    horizons_ok = [h for h in horizons if h <= int(weeks[-1])]
    missing = [h for h in sorted({int(h) for h in horizons}) if h not in horizons_ok]
    curve = _curve_table(joint, weeks, conf_level)
    estimates = []
    method = f"{joint.method}; joint covariance of the weekly effects (influence functions), " + \
        ("normal" if joint.df is None else f"t({joint.df:g})") + " interval"
    for h in horizons_ok:
        i = int(np.flatnonzero(weeks == h)[0]) if h in set(weeks.tolist()) else None
        if i is None:
            continue
        estimates.append(_estimate(f"cumulative_{unit_term}_h{h}", joint, i, conf_level,
                                   f"effect on {unit_term} accumulated over weeks 1-{h}; " + method, n))
        if joint.means_treated is not None:
            for lab, vals in (("intervention", joint.means_treated), ("control", joint.means_control)):
                estimates.append(Estimate(f"mean_{unit_term}_{lab}_h{h}", float(vals[i]), n=n,
                                          method=f"mean {unit_term} over weeks 1-{h}", n_treated=joint.n_treated,
                                          n_control=joint.n_control))
    if placebo is not None:
        estimates.append(_estimate(f"placebo_cumulative_pre{int(placebo_weeks)}", placebo, 0, conf_level,
                                   f"placebo: effect on {unit_term} accumulated over the {int(placebo_weeks)} weeks before "
                                   "the index week (zero when the groups were comparable); " + method, n))
    diagnostics = {"horizons": horizons_ok, "horizons_not_available": missing, "notes": notes,
                   "band": "sup-t simultaneous band (Gaussian multipliers on the influence functions)",
                   "placebo_weeks": int(placebo_weeks), "kind": kind}
    return EffectResult(
        estimand=f"effect on {unit_term} on public support accumulated from the first week after the index week",
        estimates=tuple(estimates), conf_level=conf_level, tables={"curve": curve}, diagnostics=diagnostics,
        design=fam.design, evidence_level=fam.evidence_level, outcome_type="continuous")

