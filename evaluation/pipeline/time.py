"""Run the time analyses of a study: durations, cumulative effects and the business case.

For every analysis that declares ``duration:`` or ``cumulative:`` this module reads the weekly register
attached to the analysis's data (as a :class:`~evaluation.data.registers.Panel`), hands the analysis's
family what it needs (exit times, weekly or per-period values), and applies disclosure control to the
curves before they reach the bundle. The study's ``economy:`` prices the cumulative effect of one
analysis with the benefit rates (:mod:`evaluation.data.rates`) and sets it against the project's cost
(:mod:`evaluation.designs.business_case`). Families never see the panel or the rates.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from evaluation.data.rates import RateTable, rates_path
from evaluation.data.registers import Panel
from evaluation.declaration.study import register_of
from evaluation.designs.business_case import business_case
from evaluation.designs.family import AnalysisInput
from evaluation.designs.timeeffects import JointEffects, TimeSource, cumulative_analysis, duration_analysis
from evaluation.disclosure import SuppressionLog, coarsen_steps, coarsen_sums, is_small
from evaluation.exceptions import DataValidationError, EstimationError
from evaluation.metrics.duration import CAUSE_LABELS_DA, DEFAULT_CAUSES, column_years, exit_times, period_values, weekly_values
from evaluation.results import EffectResult

__all__ = ["ValueTables", "time_source", "run_duration", "run_cumulative", "run_economy"]


class ValueTables:
    """The weekly value tables a time analysis may ask for, by name.

    ``support`` (1 on public support, or on the declared benefit groups), ``kroner`` (the week's benefit in
    kroner by benefit group and calendar year), ``weeks:<group>``, ``kroner:<group>`` (one benefit group),
    and ``persons:<group>`` (1 in a week of the group; its accumulation counts persons ever on it).
    """

    def __init__(self, panel: Panel, *, benefit_types=None, rates: RateTable | None = None,
                 perspective: str = "offentlig"):
        self.panel = panel
        self.benefit_types = list(benefit_types) if benefit_types else None
        self.rates = rates
        self.perspective = perspective
        self.years = np.unique(column_years(panel))
        self.info: dict[str, Any] = {}
        self._cache: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}

    def __call__(self, kind: str) -> tuple[np.ndarray, np.ndarray | None]:
        if kind in self._cache:
            return self._cache[kind]
        codes = self.panel.codes
        if kind == "support":
            lut = codes.lut("groups", self.benefit_types) if self.benefit_types else codes.lut("public_support")
            out = (lut.astype(float), None)
        elif kind.startswith(("weeks:", "persons:")):
            out = (codes.lut("groups", [kind.split(":", 1)[1]]).astype(float), None)
        elif kind == "kroner" or kind.startswith("kroner:"):
            if self.rates is None:
                raise EstimationError("kroner need a rate table (economy: rates)")
            groups = None if kind == "kroner" else [kind.split(":", 1)[1]]
            table, info = self.rates.category_table(codes, self.years, perspective=self.perspective, groups=groups)
            if kind == "kroner":
                self.info = info
            out = (table, self.years)
        else:
            raise EstimationError(f"unknown value table {kind!r}")
        self._cache[kind] = out
        return out


def time_source(panel: Panel, participants: pd.DataFrame, tables: ValueTables, *, period_weeks: int | None = None,
                index_week: str = "index_week") -> TimeSource:
    """The :class:`~evaluation.designs.timeeffects.TimeSource` of one analysis."""

    def event_matrix(persons: pd.Index, weeks: tuple[int, int], kind: str) -> np.ndarray:
        table, years = tables(kind)
        return weekly_values(panel, participants.loc[persons], weeks, table, years=years, index_week=index_week)[1]

    def period_matrix(persons: pd.Index, kind: str) -> np.ndarray:
        table, years = tables(kind)
        return period_values(panel, participants.loc[persons], int(period_weeks), table, years=years)

    return TimeSource(event_matrix=event_matrix, period_matrix=period_matrix if period_weeks else None,
                      period_weeks=period_weeks)


def _panel_and_parts(study, analysis, data) -> tuple[Panel, pd.DataFrame]:
    reg = register_of(study, analysis)
    panel = data.frames.get(reg) if reg else None
    if not isinstance(panel, Panel):
        raise EstimationError(f"analysis {analysis.id!r}: no weekly register is attached to data source {analysis.data!r}")
    return panel, data.frames[analysis.data]


def _period_weeks(study, analysis) -> int | None:
    ind = study.theory.indicator(analysis.indicator) if analysis.indicator else None
    if ind is None or ind.metric is None:
        return None
    return int(ind.metric.params.get("period_weeks", 4)) if "by_period" in ind.metric.name else None


# ------------------------------------------------------------------------------------------- duration
def run_duration(study, analysis, data, inp: AnalysisInput, log: SuppressionLog) -> EffectResult:
    """The duration analysis of one analysis, disclosure-controlled."""
    fam = analysis.family
    spec = analysis.duration
    panel, parts = _panel_and_parts(study, analysis, data)
    design = fam.survival_design(inp)
    persons = pd.Index(inp.frame.index[design.rows], name="person")
    H = int(max(spec.horizons))
    ss = exit_times(panel, parts.loc[persons], horizon=H, min_weeks=spec.min_weeks)
    causes: dict[str, Any] = {}
    competing = None
    if spec.competing:
        causes = dict(DEFAULT_CAUSES) if spec.competing is True else dict(spec.competing)
        if "self_support" not in causes:
            causes = {"self_support": "self_support", **causes}
        competing = exit_times(panel, parts.loc[persons], horizon=H, min_weeks=spec.min_weeks, causes=causes)
        # causes nobody reached are left out (their incidence is zero and has no interval)
        seen = set(competing["event"].unique().tolist())
        kept = [k for i, k in enumerate(causes, start=1) if i in seen or k == "self_support"]
        if len(kept) < len(causes):
            remap = {i: (kept.index(k) + 1 if k in kept else 0) for i, k in enumerate(causes, start=1)}
            remap[0] = 0
            competing = competing.assign(event=competing["event"].map(remap).astype(np.int64))
            causes = {k: causes[k] for k in kept}
    spec_g = fam.groups(inp.options)
    res = duration_analysis(design, ss, competing, horizons=spec.horizons, conf_level=inp.fit.conf_level,
                            causes=list(causes), hazard_ratio=spec.hazard_ratio, design_name=fam.design,
                            evidence_level=fam.evidence_level, group_labels=(str(spec_g.treated), str(spec_g.control)),
                            min_weeks=spec.min_weeks)
    diag = dict(res.diagnostics)
    diag["causes"] = {k: (v if isinstance(v, str) else list(v)) for k, v in causes.items()}
    diag["cause_labels"] = {k: CAUSE_LABELS_DA.get(k, k) for k in causes}
    return disclose_duration(dataclasses.replace(res, diagnostics=diag), inp, log)


def disclose_duration(result: EffectResult, inp: AnalysisInput, log: SuppressionLog) -> EffectResult:
    """Curves fit for publication (:func:`evaluation.disclosure.coarsen_steps`): each group's curve is published
    only at the weeks where it has fallen by at least ``threshold`` persons with an event since the previous
    published week, while at least ``threshold`` persons have had none; the weeks of the horizons are kept when
    the rule allows it, otherwise their row is published empty. The number at risk (persons still followed and
    not yet self-supporting at the end of the week) is shown only where no small number of persons censored
    follows by subtraction. The published values are the exact estimates at the published weeks; the estimates
    (RMST, hazard ratio) are computed from the full data and are not affected."""
    thr = inp.threshold
    tables = dict(result.tables)
    horizons = [int(h) for h in result.diagnostics.get("horizons", [])]
    step_reason = f"kurven vises kun i uger, hvor mindst {thr} personer er kommet til siden den forrige viste uge"
    km = tables.get("km")
    if km is not None:
        parts = []
        cols = ["share_not_self_supporting", "ci_lower", "ci_upper", "band_lower", "band_upper"]
        for g, part in km.groupby("group", sort=False):
            part = part.sort_values("week").reset_index(drop=True)
            n = int(part["n"].iloc[0])
            pub, risk = coarsen_steps(part["n_events_cum"].to_numpy(), thr, n=n, left_cum=part["n_left_cum"].to_numpy(),
                                      anchors=part.index[part["week"].isin(horizons)])
            keep = sorted(set(pub) | set(part.index[part["week"].isin(horizons)]))
            out = part.loc[keep].copy()
            out["n_at_risk"] = (n - out["n_left_cum"]).astype("float64")
            out.loc[~out.index.isin(pub), cols] = np.nan
            out.loc[~out.index.isin(risk), "n_at_risk"] = np.nan
            table = f"{inp.id}: tid til selvforsørgelse"
            for i in part.index.difference(pub):
                log.add(table, f"{g} uge {int(part.at[i, 'week'])}", "share", step_reason)
            for i in sorted(set(pub) - set(risk)):
                log.add(table, f"{g} uge {int(part.at[i, 'week'])}", "n_at_risk",
                        f"antallet i risiko ville vise færre end {thr} personer (i risiko eller censureret)")
            parts.append(out)
        tables["km"] = pd.concat(parts, ignore_index=True).drop(columns=["n_events_cum", "n_left_cum"])
    comp = tables.get("competing")
    if comp is not None:
        parts = []
        cols = ["cumulative_incidence", "std_error", "ci_lower", "ci_upper"]
        for g, pg in comp.groupby("group", sort=False):
            # persons with an exit of any cause by each week: those without one must not be a small number
            any_exit = pg.groupby("week")["n_events_cum"].sum().sort_index()
            for c, part in pg.groupby("cause", sort=False):
                part = part.sort_values("week").reset_index(drop=True)
                n = int(part["n"].iloc[0])
                pub, _ = coarsen_steps(part["n_events_cum"].to_numpy(), thr, n=n,
                                       others_cum=any_exit.reindex(part["week"]).to_numpy(),
                                       anchors=part.index[part["week"].isin(horizons)])
                keep = sorted(set(pub) | set(part.index[part["week"].isin(horizons)]))
                out = part.loc[keep].copy()
                out.loc[~out.index.isin(pub), cols] = np.nan
                for i in part.index.difference(pub):
                    log.add(f"{inp.id}: første afgang", f"{g} {c} uge {int(part.at[i, 'week'])}", "cumulative_incidence",
                            step_reason)
                parts.append(out)
        comp = pd.concat(parts, ignore_index=True)
        tables["competing"] = comp.drop(columns=["n_events_cum"])
        # a difference of two cumulative incidences is hidden when either is
        hidden = {(r["cause"], int(r["week"])) for _, r in comp.iterrows() if pd.isna(r["cumulative_incidence"])}
        ests = []
        for e in result.estimates:
            if e.term.startswith("cif_difference_"):
                name, h = e.term[len("cif_difference_"):].rsplit("_h", 1)
                if (name, int(h)) in hidden:
                    log.add(f"{inp.id}: første afgang", e.term, "estimate", f"bygger på færre end {thr} personer")
                    e = dataclasses.replace(e, estimate=float("nan"), std_error=float("nan"), statistic=float("nan"),
                                            p_value=float("nan"), ci_lower=float("nan"), ci_upper=float("nan"))
            ests.append(e)
        result = dataclasses.replace(result, estimates=tuple(ests))
    diagnostics = {**result.diagnostics, "curve_steps": (
        f"curves published only at weeks where they moved by at least {thr} persons with an event since the previous "
        "published week; n_at_risk = persons still followed without the event at the end of the week")}
    return dataclasses.replace(result, tables=tables, diagnostics=diagnostics)


# ------------------------------------------------------------------------------------------- cumulative
def run_cumulative(study, analysis, data, inp: AnalysisInput, log: SuppressionLog | None = None) -> EffectResult:
    """The cumulative effect on weeks on public support of one analysis, disclosure-controlled."""
    fam = analysis.family
    spec = analysis.cumulative
    panel, parts = _panel_and_parts(study, analysis, data)
    tables = ValueTables(panel, benefit_types=spec.benefit_types)
    source = time_source(panel, parts, tables, period_weeks=_period_weeks(study, analysis))
    res = cumulative_analysis(fam, inp, source, horizons=spec.horizons, placebo_weeks=spec.placebo_weeks,
                              conf_level=inp.fit.conf_level)
    counts = None
    if fam.time_mode == "person" and "curve" in res.tables:
        g = fam.groups(inp.options)
        weeks = res.tables["curve"]["week"].to_numpy(np.int64)
        counts = []
        for lab in (g.treated, g.control):
            persons = pd.Index(inp.frame.index[(inp.frame[g.column] == lab).to_numpy()], name="person")
            M = source.event_matrix(persons, (1, int(weeks.max())), "support")
            on = np.nansum(M == 1, axis=0).astype(float)
            off = np.sum(np.isfinite(M), axis=0) - on
            counts += [np.cumsum(on)[weeks - 1], np.cumsum(off)[weeks - 1]]
    return disclose_cumulative(res, inp, log if log is not None else SuppressionLog(inp.threshold), counts)


def disclose_cumulative(result: EffectResult, inp: AnalysisInput, log: SuppressionLog,
                        counts: list[np.ndarray] | None = None) -> EffectResult:
    """The cumulative curve fit for publication. The groups' means (mean weeks on support accumulated to each week)
    are published at the horizons only: from week to week they differ by the share of the group on support that
    week, so n × the difference is the number of persons on support (and n minus it, off support) in one week,
    often below the threshold in the first weeks. With ``counts`` (each group's person-weeks on and off support,
    accumulated to each week of the curve; :func:`evaluation.disclosure.coarsen_sums`) the effect curve is
    published only at weeks where each of them grew by none or at least the threshold since the previous
    published week. The values at the published weeks and the horizons' estimates are unchanged."""
    curve = result.tables.get("curve")
    if curve is None:
        return result
    curve = curve.copy()
    horizons = [int(h) for h in result.diagnostics.get("horizons", [])]
    if "mean_intervention" in curve.columns:
        off = ~curve["week"].isin(horizons)
        curve.loc[off, ["mean_intervention", "mean_control"]] = np.nan
        for w in curve.loc[off, "week"]:
            log.add(f"{inp.id}: kumuleret effekt", f"uge {int(w)}", "mean_intervention, mean_control",
                    "gruppernes gennemsnit vises kun ved horisonterne (fra uge til uge giver de antallet af personer på "
                    "ydelse i én uge)")
    if counts is not None:
        # the effect from one published week to the next is (on-support person-weeks)/n1 − (…)/n0 over the weeks
        # between them, which without adjustment may have a single solution in whole numbers: publish the curve
        # only where each group's person-weeks on and off support grew by none or at least the threshold
        zero = [np.r_[0.0, np.asarray(c, float)] for c in counts]
        anchors = [i + 1 for i, w in enumerate(curve["week"]) if int(w) in horizons]
        pub = {i - 1 for i in coarsen_sums(zero, inp.threshold, anchors=anchors) if i > 0}
        hide = [i for i in range(len(curve)) if i not in pub]
        if hide:
            cols = [c for c in ("estimate", "std_error", "ci_lower", "ci_upper", "band_lower", "band_upper")
                    if c in curve.columns]
            curve.loc[curve.index[hide], cols] = np.nan
            for i in hide:
                log.add(f"{inp.id}: kumuleret effekt", f"uge {int(curve['week'].iloc[i])}", "estimate",
                        f"kurven vises kun i uger, hvor personugerne på og uden for ydelse i hver gruppe er steget med 0 "
                        f"eller mindst {inp.threshold} siden den forrige viste uge")
    return dataclasses.replace(result, tables={**result.tables, "curve": curve})


# ------------------------------------------------------------------------------------------- economy
def _joint_at_horizons(fam, inp: AnalysisInput, source: TimeSource, kinds: list[str], horizons: list[int]):
    """{kind: JointEffects over horizons} (columns = horizons) and the horizons the register covers for everyone."""
    if fam.time_mode == "person":
        frame = inp.frame
        g = fam.groups(inp.options)
        keep = frame[g.column].isin([g.treated, g.control]).to_numpy()
        persons = pd.Index(frame.index[keep], name="person")
        H = max(horizons)
        mats = {k: source.event_matrix(persons, (1, H), k) for k in kinds}
        cover = np.isfinite(mats[kinds[0]])
        covered = [h for h in horizons if cover[:, :h].all()]
        if not covered:
            raise EstimationError("the register does not cover the first horizon of the business case for every person")
        cols = [np.nansum(mats[k][:, :h], axis=1) for k in kinds for h in covered]
        sub = dataclasses.replace(inp, frame=frame.iloc[np.flatnonzero(keep)])
        joint = fam.joint_effects(sub, np.column_stack(cols))
        m = len(covered)
        return {k: joint.combine(np.eye(len(kinds) * m)[i * m:(i + 1) * m]) for i, k in enumerate(kinds)}, covered
    pw = int(source.period_weeks or 0)
    out, covered = {}, None
    for k in kinds:
        ev = fam.event_time_effects(inp, source, k)
        post = [i for i, e in enumerate(ev["event_times"]) if e >= 0]
        hs = [h for h in horizons if h % pw == 0 and 0 < h // pw <= len(post)]
        covered = hs if covered is None else [h for h in covered if h in hs]
        E = np.eye(len(ev["event_times"]))
        A = np.array([E[post[: h // pw]].sum(axis=0) for h in hs]) if hs else np.zeros((0, len(E)))
        out[k] = ev["joint"].combine(A) if hs else None
    if not covered:
        raise EstimationError(f"no horizon of the business case is a whole number of estimable {pw}-week periods")
    for k in kinds:
        hs_k = [h for h in horizons if h % pw == 0 and 0 < h // pw]
        idx = [hs_k.index(h) for h in covered]
        out[k] = out[k].combine(np.eye(out[k].estimates.shape[0])[idx])
    return out, covered


def _control_means(fam, inp, source, kinds, horizons) -> dict[str, dict[int, float]]:
    """The comparison group's mean of each value over weeks 1..h (event time, from the comparison persons' own or
    fictitious index weeks), whose ratio is the price of a week on support. For calendar periods (difference in
    differences) the never-enrolled persons' values over the periods from the first enrolment on give the ratio."""
    frame = inp.frame
    out: dict[str, dict[int, float]] = {}
    if fam.time_mode == "person":
        g = fam.groups(inp.options)
        persons = pd.Index(frame.index[(frame[g.column] == g.control).to_numpy()], name="person")
        for k in kinds:
            M = source.event_matrix(persons, (1, max(horizons)), k)
            out[k] = {h: float(np.nanmean(np.nansum(M[:, :h], axis=1))) for h in horizons}
        return out
    opts = inp.options
    per = frame.drop_duplicates(opts.unit)
    cohort = pd.to_numeric(per[opts.cohort], errors="coerce").fillna(0)
    never = pd.Index(per.loc[cohort <= 0, opts.unit])
    first = int(cohort[cohort > 0].min()) if (cohort > 0).any() else 1
    p0 = int(frame[opts.time].min())
    for k in kinds:
        P = source.period_matrix(never, k)
        total = float(np.nansum(P[:, first - p0:]))
        out[k] = {h: total for h in horizons}
    return out


def run_economy(study, data, inputs: Mapping[str, AnalysisInput], log: SuppressionLog) -> dict[str, Any] | None:
    """The business case of the study (None without ``economy:``)."""
    e = study.economy
    if e is None:
        return None
    a = study.analysis(e.analysis) if e.analysis else next(x for x in study.analyses if x.cumulative is not None)
    fam = a.family
    inp = inputs[a.id]
    rates = RateTable.load(rates_path(e.rates, study.folder))
    panel, parts = _panel_and_parts(study, a, data)
    tables = ValueTables(panel, benefit_types=a.cumulative.benefit_types if a.cumulative else None, rates=rates,
                         perspective=e.perspective)
    source = time_source(panel, parts, tables, period_weeks=_period_weeks(study, a))
    horizons = sorted({int(h) for h in (e.horizons or (a.cumulative.horizons if a.cumulative else [52]))})
    tables("kroner")  # rate info for the whole register
    # benefit groups paid to the analysed persons: a breakdown by type, small types pooled (disclosure)
    kinds = ["kroner", "support"]
    types = _types_for_breakdown(fam, inp, source, panel, horizons, inp.threshold)
    for t in types["shown"]:
        kinds += [f"weeks:{t}", f"kroner:{t}"]
    joint, covered = _joint_at_horizons(fam, inp, source, kinds, horizons)
    ctrl = _control_means(fam, inp, source, ["kroner", "support"], covered)
    effects = {}
    kr, wk = joint["kroner"], joint["support"]
    for i, h in enumerate(covered):
        effects[h] = {
            "kroner": {"estimate": float(kr.estimates[i]), "std_error": float(kr.std_errors()[i]), "df": kr.df},
            "weeks": {"estimate": float(wk.estimates[i]), "std_error": float(wk.std_errors()[i]), "df": wk.df},
            "control_kroner": ctrl.get("kroner", {}).get(h), "control_weeks": ctrl.get("support", {}).get(h),
        }
    cost = e.cost_dkk if e.cost_dkk is not None else study.budget_dkk
    cost_source = e.cost_source or ("bevillingen (budget_dkk)" if e.cost_dkk is None and study.budget_dkk is not None else None)
    n_part = kr.n_treated
    bc = business_case(effects, n_participants=n_part, cost=cost, conf_level=inp.fit.conf_level,
                       rate_factors=e.rate_factors)
    q = kr.quantile(inp.fit.conf_level)
    breakdown = []
    for t in types["shown"]:
        jw, jk = joint[f"weeks:{t}"], joint[f"kroner:{t}"]
        for i, h in enumerate(covered):
            sw, sk = jw.std_errors()[i], jk.std_errors()[i]
            breakdown.append({"group": t, "label": rates.labels.get(t, panel.codes.group(t).label_da), "horizon": h,
                              "weeks": float(jw.estimates[i]), "weeks_ci": [float(jw.estimates[i] - q * sw), float(jw.estimates[i] + q * sw)],
                              "kroner": float(jk.estimates[i]), "kroner_ci": [float(jk.estimates[i] - q * sk), float(jk.estimates[i] + q * sk)]})
    info = tables.info
    used_groups = set(types["shown"]) | set(types["pooled"])
    years = _follow_up_years(panel, parts, inp, fam, max(covered))
    rate_rows = []
    for key, r in info.get("rates", {}).items():
        gid, y = key.split(":")
        if gid in used_groups and int(y) in years:
            rate_rows.append({"group": gid, "label": rates.labels.get(gid, gid), "year": int(y), **r})
    info = {**info, "unverified": [u for u in info.get("unverified", []) if any(
                r["group"] == u[0] and r["year_used"] == u[1] for r in rate_rows)],
            "substituted": [u for u in info.get("substituted", []) if u[1] in years]}
    return {
        "analysis": a.id, "design": a.design, "perspective": e.perspective, "rates_version": rates.version,
        "rates_file": "data/rates/" + rates_path(e.rates, study.folder).name if not e.rates.endswith((".yaml", ".yml")) else e.rates,
        "cost": cost, "cost_source": cost_source, "budget_dkk": study.budget_dkk,
        "horizons_declared": horizons, "horizons": covered, "method": kr.method,
        "business_case": bc, "breakdown": breakdown, "pooled_types": types["pooled"],
        "rates": [r for r in rate_rows if r["group"] in used_groups],
        "unpriced": [g for g in info.get("unpriced", []) if g in used_groups],
        "unverified": [{"group": g, "year": y, "source": s} for g, y, s in info.get("unverified", []) if g in used_groups],
        "substituted": [{"group": g, "year": y, "year_used": u} for g, y, u in info.get("substituted", []) if g in used_groups],
        "refusion": dict(rates.refusion) if e.perspective == "kommunal" else None,
    }


def _follow_up_years(panel: Panel, parts: pd.DataFrame, inp: AnalysisInput, fam, horizon: int) -> set[int]:
    """Calendar (ISO) years of the weeks the business case prices: weeks 1..horizon after the analysed persons'
    index weeks (event time), or the register's periods from the first enrolment on (calendar periods)."""
    from evaluation.data.weeks import ordinal_to_iso, parse_weeks

    if fam.time_mode == "person":
        persons = inp.frame.index
    else:
        persons = pd.Index(pd.unique(inp.frame[inp.options.unit]))
    ords = parse_weeks(np.asarray(parts.loc[persons, "index_week"].astype(str).unique(), dtype=object))
    lo, hi = int(ords.min()) + 1, min(int(ords.max()) + int(horizon), panel.weeks.last)
    return set(np.unique(ordinal_to_iso(np.arange(lo, hi + 1))[0]).tolist())


def _types_for_breakdown(fam, inp, source, panel: Panel, horizons, threshold: int) -> dict[str, list[str]]:
    """Public-support groups paid to the analysed persons within the longest horizon, split into those shown one by
    one and those pooled (fewer than ``threshold`` persons on the group in a compared group, pooled until the pool
    itself rests on at least ``threshold`` persons in each group or is empty)."""
    codes = panel.codes
    candidates = [g.id for g in codes.groups if g.category == "public_support"]
    frame = inp.frame
    if fam.time_mode == "person":
        g = fam.groups(inp.options)
        groups = {lab: pd.Index(frame.index[(frame[g.column] == lab).to_numpy()], name="person") for lab in (g.treated, g.control)}
    else:
        unit = inp.options.unit
        persons = frame.drop_duplicates(unit)
        cohort = inp.options.cohort
        treated = pd.to_numeric(persons[cohort], errors="coerce").fillna(0) > 0
        groups = {"t": pd.Index(persons.loc[treated, unit]), "c": pd.Index(persons.loc[~treated, unit])}
    H = max(horizons)
    ever: dict[str, list[np.ndarray]] = {}
    for gid in candidates:
        cols = []
        for persons in groups.values():
            M = source.event_matrix(persons, (1, H), f"persons:{gid}") if fam.time_mode == "person" else \
                source.period_matrix(persons, f"persons:{gid}")
            cols.append(np.nansum(M, axis=1) > 0)
        if any(c.any() for c in cols):
            ever[gid] = cols
    counts = {gid: [int(c.sum()) for c in cols] for gid, cols in ever.items()}
    shown = [gid for gid, cs in counts.items() if min(cs) >= threshold]
    pooled = [gid for gid in counts if gid not in shown]

    def pool_ok(pool: list[str]) -> bool:
        # distinct persons on any pooled group, in each compared group: zero or at least the threshold
        for j in range(2):
            k = int(np.any([ever[g][j] for g in pool], axis=0).sum()) if pool else 0
            if is_small(k, threshold):
                return False
        return True

    shown.sort(key=lambda g: min(counts[g]))
    while pooled and not pool_ok(pooled) and shown:
        pooled.append(shown.pop(0))
    if pooled and not pool_ok(pooled):  # nothing left to pool with: show no breakdown at all
        pooled, shown = pooled + shown, []
    return {"shown": sorted(shown, key=candidates.index), "pooled": sorted(pooled, key=candidates.index), "counts": counts}
