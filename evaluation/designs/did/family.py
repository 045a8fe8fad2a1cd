"""The difference-in-differences families: 2×2, two-way fixed effects and Callaway–Sant'Anna."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from evaluation.designs.comparison import comparison_mde
from evaluation.designs.did.estimators import TWFE, CallawaySantAnna, DiD2x2
from evaluation.designs.did.examples import did_example
from evaluation.designs.did.options import (
    CSFit,
    CSOptions,
    DiD2x2Fit,
    DiD2x2Options,
    TWFEFit,
    TWFEOptions,
)
from evaluation.designs.did.report import DiDReport
from evaluation.designs.family import (
    AnalysisInput,
    Family,
    Options,
    Relation,
    disclose_estimates,
    disclose_tables,
    estimate_population,
    register_family,
)
from evaluation.designs.plasmode import permute_labels
from evaluation.designs.power import estimate_icc
from evaluation.disclosure import SuppressionLog, is_small, small_change, suppress_counts, whole_number_scale
from evaluation.exceptions import EstimationError
from evaluation.results import Result

__all__ = ["DiD2x2Family", "TWFEFamily", "CSFamily"]

_PARALLEL_DA = "Deltagere og sammenligningsgruppe skulle have udviklet sig ens uden indsatsen (parallel udvikling)"


class _DiDFamily(Family):
    """Shared by the DiD designs: parallel trends, persons as the unit, subgroups on baseline traits."""

    family = "did"
    option_roles = {"unit": "id", "time": "any", "covariates": "numeric_covariate", "weights": "weights", "cluster": "id"}
    Report = DiDReport
    evidence_level = 3
    assumption_da = _PARALLEL_DA
    estimand_da = ("Den gennemsnitlige effekt for deltagerne (ATT), under antagelsen om parallel udvikling uden "
                   "indsatsen")

    def example(self, scenario: str, seed: int = 1):
        return did_example(self.design, scenario, seed)

    def figures(self, records, bundle) -> dict[str, Any]:
        from evaluation.designs.did.figures import event_study_figures, honest_figures

        return {**event_study_figures(records), **honest_figures(records, bundle)}

    def subgroup_check(self, options: Options, frame: pd.DataFrame, variable: str, moderator: str) -> None:
        unit = getattr(options, "unit", None)
        if unit:
            varies = frame.groupby(unit)[variable].nunique(dropna=False) > 1
            if varies.any():
                raise EstimationError(
                    f"moderator {moderator!r}: column {variable!r} changes within a person; a subgroup must be a baseline trait"
                )

    def _treated_persons(self, options: Options, part: pd.DataFrame) -> pd.Series:
        raise NotImplementedError

    def subgroup_counts(self, options: Options, part: pd.DataFrame, outcome: str) -> tuple[int, int]:
        treated = self._treated_persons(options, part[part[outcome].notna()])
        return int(treated.sum()), int((~treated).sum())

    #: the options naming the columns that make a person treated (2×2: group; TWFE: treatment or cohort; CS: cohort)
    _group_options: tuple[str, ...] = ("group",)

    def population_counts(self, result, options, data_name, variables=None):
        """Each estimate's treated and comparison persons, as analysed persons of the groups the design compares."""
        base = (data_name, self.design) + tuple(getattr(options, o, None) for o in self._group_options)
        return estimate_population(result, base + ("treated",), base + ("comparison",))


@register_family
class DiD2x2Family(_DiDFamily):
    design = "did_2x2"
    guide_example = True  # the simplest DiD to follow in the user guide's worked example
    option_roles = {**_DiDFamily.option_roles, "group": "binary"}
    Options = DiD2x2Options
    Fit = DiD2x2Fit
    Estimator = DiD2x2
    main_terms = ("did",)
    label_da = ("Forskel-i-forskelle: udviklingen før og efter hos deltagerne sammenlignes med udviklingen i en "
                "sammenligningsgruppe")
    short_da = "2×2 DiD"

    def _treated_persons(self, options, part):
        key = part[options.unit] if options.unit else pd.Series(np.arange(len(part)), index=part.index)
        return part.groupby(key)[options.group].first().astype(float) == 1

    def mde(self, result: Result, inp: AnalysisInput) -> dict[str, Any] | None:
        return comparison_mde(result, inp.unit, self.estimator(inp.options, inp.outcome), inp.frame)

    def suppress(self, result: Result, inp: AnalysisInput, log: SuppressionLog) -> Result:
        """The shared suppression, and the cell means of groups × periods with fewer persons than the threshold."""
        result = super().suppress(result, inp, log)
        cm = result.tables.get("cell_means")
        if cm is not None and "n" in cm.columns:
            cm = suppress_counts(cm.assign(_label=cm["group"].astype(str) + " / " + cm["after"].astype(str)),
                                 table=f"{inp.id}: gennemsnit pr. gruppe og periode", count_columns=["n"],
                                 dependent={"n": ["mean"]}, label_column="_label", threshold=inp.threshold,
                                 log=log, complementary=False).drop(columns="_label")
            cm = _coarsen_cell_means(cm, inp, log)
            result = dataclasses.replace(result, tables={**result.tables, "cell_means": cm})
        return result

    def disclosure_relations(self, result, inp):
        """Each estimate's n is its treated plus comparison persons."""
        return [Relation.total(("e", e.term, "n"), [("e", e.term, "n_treated"), ("e", e.term, "n_control")])
                for e in result.estimates if e.n_treated is not None]

    def simulate(self, design, frame: pd.DataFrame, tau: float, rng: np.random.Generator) -> pd.DataFrame:
        """The group label permuted across persons (across rows within each period for repeated
        cross-sections, across clusters when declared); ``tau`` added in the after period of the new group."""
        p = design.get_params()
        f = frame.copy()
        g = f[p["group"]].to_numpy()
        if p.get("cluster"):
            new = permute_labels(g, rng, f[p["cluster"]].to_numpy())
        elif p.get("unit"):
            new = permute_labels(g, rng, f[p["unit"]].to_numpy())
        else:  # repeated cross-sections: permute within each period
            new = permute_labels(g, rng, None, f[p["time"]].astype(str).to_numpy())
        f[p["group"]] = new
        after = (f[p["time"]] == np.sort(pd.unique(f[p["time"]]))[-1]).to_numpy()
        y = f[p["outcome"]].astype(float).to_numpy().copy()
        y[(new.astype(float) == 1) & after] += tau
        f[p["outcome"]] = y
        return f

    def design_inputs(self, design: DiD2x2, data: pd.DataFrame) -> dict[str, Any]:
        """Before-period SD, before/after correlation ρ and the ICC of the change score within declared clusters."""
        p = design.get_params()
        out: dict[str, Any] = {"design": self.design, "icc": 0.0, "cluster_size": 1.0, "r2": 0.0}
        if not p.get("unit"):
            raise EstimationError("the analytic MDE of did_2x2 needs a panel (unit=) to estimate the before/after correlation")
        periods = np.sort(pd.unique(data[p["time"]]))
        if len(periods) != 2:
            raise EstimationError(f"did_2x2 needs exactly two periods in {p['time']!r}")
        wide = data.pivot(index=p["unit"], columns=p["time"], values=p["outcome"])
        # units in the data's order (pivot sorts them by their pseudonymised id): sums must not depend on the key
        wide = wide.reindex(pd.unique(data[p["unit"]])).dropna()
        grp = data.groupby(p["unit"])[p["group"]].first().reindex(wide.index).astype(float)
        before, after = wide[periods[0]].to_numpy(float), wide[periods[1]].to_numpy(float)
        t = (grp == 1).to_numpy()
        dm = lambda v: v - np.where(t, v[t].mean(), v[~t].mean())  # noqa: E731
        b, a = dm(before), dm(after)
        out.update(n_treated=int(t.sum()), n_control=int((~t).sum()), outcome_type="continuous",
                   sd=float(np.sqrt(np.sum(b**2) / (len(b) - 2))), rho=float(np.corrcoef(b, a)[0, 1]))
        if p.get("weights"):
            raise EstimationError("the analytic MDE of did_2x2 does not take weights; use evaluation diagnose")
        if p.get("cluster"):
            cl = data.groupby(p["unit"])[p["cluster"]].first().reindex(wide.index).to_numpy()
            out["icc"] = estimate_icc(a - b, cl)
            out["cluster_size"] = float(len(b) / len(pd.unique(cl)))
        return out


@register_family
class TWFEFamily(_DiDFamily):
    option_roles = {**_DiDFamily.option_roles, "treatment": "binary", "cohort": ("any", True)}
    design = "did_twfe"
    Options = TWFEOptions
    Fit = TWFEFit
    Estimator = TWFE
    main_terms = ("twfe",)
    _group_options = ("treatment", "cohort")
    label_da = "Forskel-i-forskelle med faste effekter for person og periode"
    short_da = "TWFE"

    def subgroup_check(self, options, frame, variable, moderator):
        if not options.unit:
            raise EstimationError(f"subgroups for {self.design} need the option 'unit'")
        super().subgroup_check(options, frame, variable, moderator)

    def _treated_persons(self, options, part):
        return part.groupby(options.unit)[options.treatment].max().astype(float) == 1

    def simulate(self, design, frame: pd.DataFrame, tau: float, rng: np.random.Generator) -> pd.DataFrame:
        """Whole treatment paths permuted across persons; ``tau`` added where the new path is treated."""
        p = design.get_params()
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


@register_family
class CSFamily(_DiDFamily):
    option_roles = {**_DiDFamily.option_roles, "time": "numeric", "cohort": ("any", True)}
    design = "did_cs"
    Options = CSOptions
    Fit = CSFit
    Estimator = CallawaySantAnna
    main_terms = ("att_overall",)
    _group_options = ("cohort",)
    auxiliary_fit = frozenset({"bootstrap", "placebo_shift", "draws", "seed", "bootstrap_weights"})
    label_da = "Forskel-i-forskelle med løbende optag (Callaway–Sant'Anna)"
    estimand_da = ("Den gennemsnitlige effekt for deltagerne (ATT) samlet over optagelseskohorter, under antagelsen om "
                   "parallel udvikling")
    short_da = "Callaway–Sant'Anna"
    time_mode = "period"

    def event_time_effects(self, inp, source, kind):
        """Event-time effects (``did::aggte`` dynamic) of the value ``kind`` summed over the analysis's calendar
        periods, with their influence functions: the same cohorts, comparison group, covariates and estimator
        as the analysis, only the outcome replaced."""
        from evaluation.designs.did import _cs
        from evaluation.designs.timeeffects import JointEffects

        if source.period_matrix is None:
            raise EstimationError("event-time effects need the register's calendar periods")
        opts, frame = inp.options, inp.frame
        persons = pd.Index(pd.unique(frame[opts.unit]))
        P = source.period_matrix(persons, kind)
        periods = frame[opts.time].to_numpy()
        first = int(np.min(periods))
        y = P[persons.get_indexer(frame[opts.unit]), periods.astype(np.int64) - first]
        est = self.estimator(opts, "__value__")
        panel, _ = est._panel(frame.assign(__value__=y))
        gt = est._estimate_cells(panel)
        agg = _cs.aggregation_weights(gt, panel)
        ev = [i for i, k in enumerate(agg.kinds) if k == "event"]
        a = agg.a[ev]
        IF = _cs.influence_matrix(gt, panel, a, [agg.wif_cells[i] for i in ev])
        n = panel.n
        factor, df = 1.0, None
        method = f"Callaway-Sant'Anna event-time effects ({opts.est_method if opts.covariates else 'unconditional'})"
        if panel.cluster is not None:
            IF = _cs._cluster_sum(IF, panel.cluster)
            G = IF.shape[0]
            factor, df = G / (G - 1), float(G - 1)
            method += f", clustered ({G} clusters)"
        n_never = int(panel.counts[~np.isfinite(panel.cohorts)].sum())
        return {"event_times": [int(agg.labels[i]) for i in ev],
                "joint": JointEffects(a @ gt.att, IF / n, factor, df, int(n - n_never), n_never, method),
                "n": int(n)}

    def subgroup_check(self, options, frame, variable, moderator):
        if not options.unit:
            raise EstimationError(f"subgroups for {self.design} need the option 'unit'")
        super().subgroup_check(options, frame, variable, moderator)

    def _treated_persons(self, options, part):
        g = part.groupby(options.unit)[options.cohort].first().astype(float)
        return np.isfinite(g) & (g != 0)

    def simulate(self, design, frame: pd.DataFrame, tau: float, rng: np.random.Generator) -> pd.DataFrame:
        """Enrolment cohorts permuted across persons; ``tau`` added from enrolment on."""
        p = design.get_params()
        unit, cohort, time, outcome = p["unit"], p["cohort"], p["time"], p["outcome"]
        persons = frame[[unit, cohort]].drop_duplicates(unit)
        new = dict(zip(persons[unit], rng.permutation(persons[cohort].to_numpy())))
        f = frame.copy()
        f[cohort] = f[unit].map(new)
        post = (f[cohort] > 0) & (f[time] >= f[cohort])
        f.loc[post, outcome] = f.loc[post, outcome].astype(float) + tau
        return f

    def disclosure_relations(self, result, inp):
        """Cohort sizes add up to the persons analysed; the never-treated cohort is the comparison group; every
        cohort table repeats its cohort's size; the aggregates count treated and comparison persons."""
        t = result.tables
        sizes = t.get("cohort_sizes")
        rels: list[Relation] = []
        if sizes is None:
            return rels
        rows = {str(int(c)): i for i, c in enumerate(sizes["cohort"].tolist()) if c == c}
        all_rows = [("t", "cohort_sizes", i, "n") for i in rows.values()]
        treated_rows = [("t", "cohort_sizes", i, "n") for c, i in rows.items() if c != "0"]
        rels.append(Relation.total(("d", "n_persons"), all_rows))
        if "0" in rows:
            rels.append(Relation.equal(("d", "n_never_treated"), ("t", "cohort_sizes", rows["0"], "n")))
        for name in ("by_cohort", "group_time"):
            tab = t.get(name)
            col = "cohort" if tab is not None and "cohort" in tab.columns else "group"
            if tab is not None and "n" in tab.columns and col in tab.columns:
                for i, c in enumerate(tab[col].tolist()):
                    key = str(int(c)) if c == c else None
                    if key in rows:
                        rels.append(Relation.equal(("t", name, i, "n"), ("t", "cohort_sizes", rows[key], "n")))
        for e in result.estimates:
            if e.n_treated is not None:
                rels.append(Relation.total(("e", e.term, "n_treated"), treated_rows))
                rels.append(Relation.total(("e", e.term, "n"), [("e", e.term, "n_treated"), ("e", e.term, "n_control")]))
        return rels

    def population_counts(self, result, options, data_name, variables=None):
        """The aggregates' treated and comparison persons, and each cohort's persons (cohort_sizes)."""
        out = super().population_counts(result, options, data_name, variables)
        sizes = result.tables.get("cohort_sizes")
        if sizes is not None and "n" in sizes.columns:
            base = (data_name, self.design, options.cohort)
            out += [(base + (f"cohort {c}",), "analysed", ("t", "cohort_sizes", i, "n"))
                    for i, c in enumerate(sizes["cohort"].tolist()) if c == c]
        return out

    def disclosure_dependents(self):
        value_cols = ("estimate", "std_error", "ci_lower", "ci_upper", "att")
        return {("by_cohort", "n"): value_cols, ("group_time", "n"): value_cols}

    def suppress(self, result: Result, inp: AnalysisInput, log: SuppressionLog) -> Result:
        """Persons per cohort added to the cohort tables, cohorts below the threshold suppressed; then the
        shared suppression. The group-time table's treated and comparison counts are not published: with
        not-yet-treated comparisons they change from period to period by exactly one cohort's size."""
        result = _disclose_cohorts(result, inp, log)
        result = _coarsen_group_time(result, inp, log)
        gt = result.tables.get("group_time")
        if gt is not None:
            result = dataclasses.replace(result, tables={**result.tables, "group_time": gt.drop(
                columns=[c for c in ("n_treated", "n_control") if c in gt.columns])})
        tables = disclose_tables(result.tables, inp.id, inp.threshold, log)
        estimates = disclose_estimates(result, inp.id, inp.threshold, log)
        return dataclasses.replace(result, tables=tables, estimates=estimates)


def _disclose_cohorts(result: Result, inp: AnalysisInput, log: SuppressionLog) -> Result:
    frame, threshold, analysis_id = inp.frame, inp.threshold, inp.id
    unit, cohort = inp.options.unit, inp.options.cohort
    if unit not in frame.columns or cohort not in frame.columns:
        return result
    persons = frame.drop_duplicates(unit)
    sizes = persons.groupby(cohort)[unit].size()
    tables = dict(result.tables)
    cs = sizes.rename("n").reset_index().rename(columns={cohort: "cohort"})
    if "period_start" in frame.columns and "period" in frame.columns:
        starts = frame.drop_duplicates("period").set_index("period")["period_start"]
        cs["period_start"] = cs["cohort"].map(starts)
    tables["cohort_sizes"] = suppress_counts(cs.assign(_label=cs["cohort"].astype(str)), table=f"{analysis_id}: kohorter",
                                             count_columns=["n"], label_column="_label", threshold=threshold,
                                             log=log).drop(columns="_label")
    for name, col in (("by_cohort", "cohort"), ("group_time", "cohort")):
        t = tables.get(name)
        if t is None or col not in t.columns:
            continue
        t = t.copy()
        t["n"] = t[col].map(sizes).astype(float)
        value_cols = [c for c in t.columns if c not in (col, "n", "period", "time", "event_time")]
        tables[name] = suppress_counts(t.assign(_label=t[col].astype(str)), table=f"{analysis_id}: {name}",
                                       count_columns=["n"], dependent={"n": value_cols}, label_column="_label",
                                       threshold=threshold, log=log, complementary=False).drop(columns="_label")
    return dataclasses.replace(result, tables=tables)


from evaluation.designs.did import checks as _checks  # noqa: E402,F401  (registers the DiD assumption checks)


def _outcome_sums(inp: AnalysisInput) -> tuple[pd.DataFrame, int, float] | None:
    """The analysis frame with the outcome in whole units (persons with a 0/1 status, person-weeks of a share of a
    fixed number of weeks) as ``_units``, the scale and each person's largest value in units; None when the
    outcome's sums are no whole numbers (a continuous outcome)."""
    frame, y = inp.frame, inp.outcome
    if frame is None or y is None or y not in frame.columns:
        return None
    values = pd.to_numeric(frame[y], errors="coerce")
    w = whole_number_scale(values.dropna())
    if w is None:
        return None
    top = max(1.0, float(values.max())) * w
    return frame.assign(_units=(values * w).round()), w, top


def _coarsen_cell_means(cm: pd.DataFrame, inp: AnalysisInput, log: SuppressionLog) -> pd.DataFrame:
    """The 2×2 cell means on an outcome with whole-number sums: a group's means are hidden when its summed outcome
    (persons with the status, person-weeks) or the rest of it (without) in a period is a positive number below the
    threshold; all four are hidden when a group's sum changed between the periods by a positive number below it (the
    difference in differences, always published, ties the groups' changes together, so one group's change follows
    from the other's)."""
    sums = _outcome_sums(inp)
    o = inp.options
    if sums is None or "mean" not in cm.columns or o.group not in inp.frame.columns or o.time not in inp.frame.columns:
        return cm
    frame, _, top = sums
    frame = frame[frame["_units"].notna()]
    units = frame.groupby([pd.to_numeric(frame[o.group], errors="coerce").astype(float), frame[o.time]])["_units"].sum()
    counts = frame.groupby([pd.to_numeric(frame[o.group], errors="coerce").astype(float), frame[o.time]]).size()
    periods = sorted(pd.unique(frame[o.time]))
    if len(periods) != 2:
        return cm
    thr = inp.threshold
    hide_groups: set[float] = set()
    reason = {}
    for g in sorted(set(float(x) for x in cm["group"])):
        on = [float(units.get((g, p), 0.0)) for p in periods]
        n = [float(counts.get((g, p), 0)) for p in periods]
        if any(is_small(x, thr) or is_small(k * top - x, thr) for x, k in zip(on, n)):
            hide_groups.add(g)
            reason[g] = f"gruppens antal med og uden udfaldet i en periode er under {thr}"
    changed = any(small_change(units.get((g, periods[0]), 0.0), units.get((g, periods[1]), 0.0), thr)
                  for g in set(float(x) for x in cm["group"]))
    out = cm.copy()
    out["mean"] = out["mean"].astype("float64")
    for i, r in out.iterrows():
        g = float(r["group"])
        if (g in hide_groups or changed) and not pd.isna(r["mean"]):
            out.at[i, "mean"] = float("nan")
            why = reason.get(g) if g in hide_groups else (
                f"en gruppes antal med udfaldet ændrer sig med færre end {thr} mellem perioderne (forskellen i "
                "forskelle giver den anden gruppes ændring)")
            log.add(f"{inp.id}: gennemsnit pr. gruppe og periode", f"{r['group']} / {r['after']}", "mean", why)
    return out


def _coarsen_group_time(result: Result, inp: AnalysisInput, log: SuppressionLog) -> Result:
    """Callaway–Sant'Anna group-time effects without covariates or weights are differences of means between two
    periods, Δ_g/n_g − Δ_c/n_c, which on an outcome with whole-number sums often have a single solution in whole
    numbers: the change of the cohort's and of the comparison group's summed outcome (persons with a status,
    person-weeks) between the base period and the period. Such an effect is published only where both changes are
    none or at least the threshold; the aggregated estimates (overall, by event time, by cohort, by calendar
    period) are unchanged."""
    gt = result.tables.get("group_time")
    o = inp.options
    if gt is None or o.covariates or o.weights or "base_period" not in gt.columns:
        return result
    sums = _outcome_sums(inp)
    if sums is None or o.cohort not in inp.frame.columns:
        return result
    frame = sums[0]
    frame = frame[frame["_units"].notna()]
    cohort = pd.to_numeric(frame[o.cohort], errors="coerce").fillna(0).to_numpy(float)
    time = pd.to_numeric(frame[o.time], errors="coerce").to_numpy(float)
    units = frame["_units"].to_numpy(float)
    by = pd.DataFrame({"c": cohort, "t": time, "u": units}).groupby(["c", "t"])["u"].sum()
    cohorts = sorted(set(cohort))
    thr = inp.threshold
    out = gt.copy()
    cols = [c for c in ("att", "std_error", "ci_lower", "ci_upper") if c in out.columns]
    out[cols] = out[cols].astype("float64")

    def total(cs, t):
        return sum(float(by.get((c, t), 0.0)) for c in cs)

    for i, r in out.iterrows():
        if pd.isna(r.get("att")):
            continue
        g, t, b = float(r["group"]), float(r["time"]), float(r["base_period"])
        if o.control_group == "nevertreated":
            ctrl = [c for c in cohorts if c == 0]
        else:
            last = max(t, b) + o.anticipation
            ctrl = [c for c in cohorts if c == 0 or c > last]
        if small_change(total([g], t), total([g], b), thr) or small_change(total(ctrl, t), total(ctrl, b), thr):
            out.loc[i, cols] = float("nan")
            log.add(f"{inp.id}: effekter pr. kohorte og periode", f"kohorte {r['group']} periode {r['time']}", "att",
                    f"forskellen mellem perioderne svarer til en ændring på færre end {thr} (personer eller personuger) "
                    "i kohorten eller sammenligningsgruppen")
    return dataclasses.replace(result, tables={**result.tables, "group_time": out})
