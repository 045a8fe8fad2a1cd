"""The randomized comparison's family: options, estimation, subgroup test, analytic power, report parts."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from evaluation.designs._weighted_balance import kish_ess
from evaluation.designs.balance import expand_covariates
from evaluation.designs.comparison import ComparisonFamily
from evaluation.designs.family import ONE, AnalysisInput, Relation, level_text, register_family, row_of
from evaluation.designs.power import estimate_icc
from evaluation.designs.randomized.compliance import CACE_TERMS, compliance_checks
from evaluation.designs.randomized.estimator import RandomizedComparison
from evaluation.designs.randomized.mediation import mediate_linear, sequential_ignorability
from evaluation.designs.randomized.examples import randomized_example
from evaluation.designs.randomized.options import RandomizedFit, RandomizedOptions
from evaluation.designs.randomized.report import RandomizedReport
from evaluation.designs.subgroups import interaction_p
from evaluation.disclosure import SuppressionLog, is_small, suppress_counts
from evaluation.results import Estimate, Result

__all__ = ["RandomizedFamily"]


@register_family
class RandomizedFamily(ComparisonFamily):
    design = "randomized_comparison"
    family = "randomized"
    evidence_level = 5
    Options = RandomizedOptions
    Fit = RandomizedFit
    Report = RandomizedReport
    balance_column = "smd"
    Estimator = RandomizedComparison
    random_assignment = True
    design_mde = True
    main_terms = ("adjusted_difference", "difference_in_proportions", "difference_in_means")
    auxiliary_fit = frozenset({"permutations", "seed", "mediation_draws", "mediation_seed"})
    supports_duration = True
    time_mode = "person"
    label_da = ("Randomiseret sammenligning: deltagerne er fordelt ved lodtrækning til en interventions- og en "
                "kontrolgruppe")
    estimand_da = ("Den gennemsnitlige effekt af at blive tildelt indsatsen (intention-to-treat): forskellen mellem "
                   "interventions- og kontrolgruppen")
    short_da = "lodtrækning"
    assumption_da = ("Lodtrækningen skal være gennemført som planlagt, og frafaldet må ikke hænge sammen med både "
                     "gruppe og resultat")

    def check_data(self, inp):
        """The shared checks, and (with Lin's adjustment) every level of a categorical covariate in both groups:
        a level found in one group only makes the treatment × covariate terms collinear."""
        problems = super().check_data(inp)
        o = inp.options
        frame = inp.frame
        if problems or frame is None or o.adjustment != "lin" or not o.covariates:
            return problems
        from evaluation.data.checks import RowRef, covariate_kind

        rows = inp.rows if inp.rows is not None else RowRef(inp.source_path, None, "row")
        keep = frame[inp.outcome].notna().to_numpy() if inp.outcome in frame.columns else np.ones(len(frame), bool)
        g = frame[o.treatment].to_numpy(dtype=object)
        for c in o.covariates:
            s = frame[c]
            if covariate_kind(s, inp.numbers, inp.types.get(c)) != "categorical":
                continue
            text = s.astype(str).to_numpy()
            for level in sorted(set(text[keep])):
                at = keep & (text == level)
                n_t, n_c = int((at & (g == o.treated)).sum()), int((at & (g == o.control)).sum())
                if n_t and n_c:
                    continue
                only = o.treated if n_t else o.control
                pos = np.flatnonzero(at)
                problems.append((None, f"{rows.head(pos)}: analysis {inp.id!r}: column {c!r} (categorical covariate): "
                                       f"the level {level!r} occurs only in the group {only!r} ({n_t + n_c} person(s): "
                                       f"{rows.where(pos)}); Lin's adjustment needs every level in both groups: merge "
                                       "it with another level, or set adjustment: ancova"))
        return problems

    # -- disclosure: flow margins, the same counts in the group table, the diagnostics and the estimates,
    #    and shares of a categorical covariate's levels adding up to 1
    def disclosure_relations(self, result, inp):
        spec = self.groups(inp.options)
        t = result.tables
        flow, groups, bal = t.get("flow"), t.get("groups"), t.get("balance")
        rels: list[Relation] = []
        labels = {str(spec.treated): "intervention", str(spec.control): "control"}
        if flow is not None:
            alloc, lost, anal = (row_of(flow, "step", s) for s in ("allocated", "lost_to_follow_up", "analysed"))
            cols = [c for c in flow.columns if c not in ("step", "total")]
            for g in cols:
                if None not in (alloc, lost, anal):
                    rels.append(Relation.total(("t", "flow", alloc, g), [("t", "flow", lost, g), ("t", "flow", anal, g)]))
                if groups is not None and (i := row_of(groups, "group", g)) is not None:
                    if anal is not None:
                        rels.append(Relation.equal(("t", "groups", i, "n"), ("t", "flow", anal, g)))
                    if lost is not None and "missing" in groups.columns:
                        rels.append(Relation.equal(("t", "groups", i, "missing"), ("t", "flow", lost, g)))
                for key, row in (("n_allocated", alloc), ("n_analysed", anal), ("n_missing_outcome", lost)):
                    if row is not None:
                        rels.append(Relation.equal(("d", key, g), ("t", "flow", row, g)))
                side = labels.get(g)
                if bal is not None and side and f"n_{side}" in bal.columns and alloc is not None:
                    rels += [Relation.equal(("t", "balance", i, f"n_{side}"), ("t", "flow", alloc, g)) for i in range(len(bal))]
            if "total" in flow.columns:
                rels += [Relation.total(("t", "flow", i, "total"), [("t", "flow", i, g) for g in cols]) for i in range(len(flow))]
            if anal is not None:
                for e in result.estimates:
                    if e.n_treated is not None or e.n_control is not None:
                        rels.append(Relation.equal(("e", e.term, "n_treated"), ("t", "flow", anal, str(spec.treated))))
                        rels.append(Relation.equal(("e", e.term, "n_control"), ("t", "flow", anal, str(spec.control))))
                    if e.term.endswith("_intervention"):  # a group mean or share rests on that group alone
                        rels.append(Relation.equal(("e", e.term, "n"), ("t", "flow", anal, str(spec.treated))))
                    elif e.term.endswith("_control"):
                        rels.append(Relation.equal(("e", e.term, "n"), ("t", "flow", anal, str(spec.control))))
                    elif e.n_treated is not None:
                        rels.append(Relation.total(("e", e.term, "n"), [("e", e.term, "n_treated"), ("e", e.term, "n_control")]))
                rels.append(Relation.equal(("d", "randomization_n_treated"), ("t", "flow", anal, str(spec.treated))))
        take = t.get("take_up")
        if take is not None and flow is not None and (anal := row_of(flow, "step", "analysed")) is not None:
            for i, g in enumerate(take["group"].astype(str)):
                if g in flow.columns:
                    rels.append(Relation.equal(("t", "take_up", i, "n"), ("t", "flow", anal, g)))
                if {"n_took_up", "n_not_took_up"} <= set(take.columns):
                    rels.append(Relation.total(("t", "take_up", i, "n"), [("t", "take_up", i, "n_took_up"),
                                                                          ("t", "take_up", i, "n_not_took_up")]))
        if bal is not None and {"variable", "level", "binary"} <= set(bal.columns):
            levels: dict[str, list[int]] = {}
            for i, (var, lev, binary) in enumerate(zip(bal["variable"], bal["level"], bal["binary"])):
                if bool(binary) and lev is not None and str(lev) not in ("", "nan", "None"):
                    levels.setdefault(str(var), []).append(i)
            for rows in levels.values():
                if len(rows) > 1:
                    for side in ("intervention", "control"):
                        rels.append(Relation.total(ONE, [("t", "balance", i, f"mean_{side}") for i in rows]))
        return rels

    def population_counts(self, result, options, data_name, variables=None):
        """The estimates' and subgroup levels' group sizes; the participant flow: allocated (every person of the
        group), lost to follow-up (missing outcome) and analysed, for each group; and the balance table's shares of
        a binary covariate's levels among the allocated persons (a level's persons = share × allocated), whose
        levels partition the group (the shares add up to 1)."""
        out = super().population_counts(result, options, data_name, variables)
        base = (data_name, "groups", options.treatment)
        flow = result.tables.get("flow")
        if flow is not None:
            for step, kind in (("allocated", "all"), ("lost_to_follow_up", "missing"), ("analysed", "analysed")):
                row = row_of(flow, "step", step)
                if row is not None:
                    out += [(base + (g,), kind, ("t", "flow", row, g)) for g in flow.columns if g not in ("step", "total")]
        bal = result.tables.get("balance")
        if bal is None or not {"variable", "level", "binary"} <= set(bal.columns):
            return out
        for label, side in ((str(options.treated), "intervention"), (str(options.control), "control")):
            if f"mean_{side}" not in bal.columns:
                continue
            group = base + (label,)
            levels: dict[str, list[tuple]] = {}
            shares: dict[str, list[float]] = {}
            for var, lev, binary, share in zip(bal["variable"], bal["level"], bal["binary"], bal[f"mean_{side}"]):
                if not bool(binary):
                    continue
                share = float(share) if share is not None else float("nan")
                pairs = [(lev, share)] if lev is not None and str(lev) not in ("", "nan", "None") else \
                    [("1", share), ("0", 1.0 - share)]  # a 0/1 covariate: the share of 1
                for lv, sh in pairs:
                    key = group + ("level", str(var), level_text(lv))
                    out.append((key, "share", (group, sh if np.isfinite(sh) else None)))
                    levels.setdefault(str(var), []).append(key)
                    shares.setdefault(str(var), []).append(sh)
            for var, keys in levels.items():
                s = shares[var]
                if len(keys) > 1 and (not all(np.isfinite(s)) or abs(sum(s) - 1.0) < 1e-6):
                    out.append((group, "partition", tuple(keys)))
        return out

    def disclosure_dependents(self):
        return {("groups", "n"): ("mean", "share", "sd"), ("balance", "mean_intervention"): ("sd_intervention", "smd"),
                ("balance", "mean_control"): ("sd_control", "smd"), ("take_up", "n_took_up"): ("share",),
                ("take_up", "n_not_took_up"): ("share",)}

    # -- disclosure of the complier effect: the take-up counts, and the CACE with them (ITT / CACE is the
    #    first stage, which reveals the take-up counts)
    def suppress(self, result: Result, inp: AnalysisInput, log: SuppressionLog) -> Result:
        published = super().suppress(result, inp, log)
        med = published.tables.get("mediation")
        if med is not None and any(np.isnan(e.estimate) for e in published.estimates if e.term in self.main_terms):
            # the analysis's estimates rest on a cell below the threshold: so do its mediation estimates
            med = med.copy()
            rows = ~med["term"].astype(str).str.startswith("mediator_")
            med.loc[rows, ["estimate", "std_error", "p_value", "ci_lower", "ci_upper"]] = np.nan
            for _, r in med[rows].iterrows():
                log.add(f"{inp.id}: mekanisme", f"{r['mediator']} {r['term']}", "estimate",
                        f"analysens estimater bygger på en celle med færre end {inp.threshold} personer")
            curve = published.tables.get("mediation_sensitivity")
            tables = {**published.tables, "mediation": med}
            if curve is not None:
                tables["mediation_sensitivity"] = curve.iloc[0:0]
            diag = dict(published.diagnostics)
            diag["mediation"] = {k: {**v, "rho_at_zero": None, "r2star_at_zero": None, "r2tilde_at_zero": None,
                                     "alpha": None, "beta": None} for k, v in (diag.get("mediation") or {}).items()}
            published = dataclasses.replace(published, tables=tables, diagnostics=diag)
        if med is not None and "n_with" in med.columns:
            # a 0/1 mediator's share in a group reveals how many had it and how many did not
            med = med.copy()
            for i, r in med.iterrows():
                k = r["n_with"]
                if k is None or (isinstance(k, float) and np.isnan(k)):
                    continue
                if is_small(k, inp.threshold) or is_small(r["n"] - k, inp.threshold):
                    med.loc[i, ["estimate", "n_with"]] = np.nan
                    log.add(f"{inp.id}: mekanisme", f"{r['mediator']} {r['term']}", "estimate",
                            f"bygger på færre end {inp.threshold} personer")
            published = dataclasses.replace(published, tables={**published.tables, "mediation": med})
        take = published.tables.get("take_up")
        if take is None or "n_took_up" not in take.columns:
            return published
        hidden = suppress_counts(take, table=f"{inp.id}: deltagelse", count_columns=["n_took_up", "n_not_took_up"],
                                 dependent={"*": ["share"]}, label_column="group", threshold=inp.threshold, log=log,
                                 complementary=False)
        return dataclasses.replace(published, tables={**published.tables, "take_up": hidden})

    def disclose(self, result: Result, inp: AnalysisInput, log: SuppressionLog) -> Result:
        published = super().disclose(result, inp, log)
        take = published.tables.get("take_up")
        if take is None or "n_took_up" not in take.columns:
            return published
        if not take[["n_took_up", "n_not_took_up"]].isna().to_numpy().any():
            return published
        estimates = []
        for e in published.estimates:
            if e.term in CACE_TERMS and not np.isnan(e.estimate):
                log.add(f"{inp.id}: effekt", e.term, "estimate",
                        "sammen med effekten af tilbuddet afslører den antallet, der tog imod indsatsen, som er skjult")
                e = Estimate(term=e.term, estimate=float("nan"), n=e.n, method=e.method, n_treated=e.n_treated,
                             n_control=e.n_control)
            estimates.append(e)
        diagnostics = dict(published.diagnostics)
        for key in ("first_stage_estimate", "first_stage_std_error", "first_stage_f"):
            if diagnostics.get(key) is not None:
                diagnostics[key] = None
                log.add(f"{inp.id}: diagnostik", key, "value", "afslører antallet, der tog imod indsatsen, som er skjult")
        return dataclasses.replace(published, estimates=tuple(estimates), diagnostics=diagnostics)

    # -- fit options that are not the estimator's: the mediation analysis's draws and seed
    def fit_kwargs(self, fit):
        return {k: v for k, v in fit.declared().items() if k not in ("mediation_draws", "mediation_seed")}

    # -- mechanisms: allocation is random, so the mediator and outcome models identify ACME and ADE under
    #    sequential ignorability (Imai, Keele & Yamamoto 2010)
    def mediation(self, inp: AnalysisInput, frame: pd.DataFrame, mediator: str):
        o = inp.options
        covs = list(o.covariates) if o.adjustment != "none" else []
        return mediate_linear(frame, outcome=inp.outcome, mediator=mediator, treatment=o.treatment, treated=o.treated,
                              control=o.control, covariates=[c for c in covs if c != mediator], strata=o.strata,
                              cluster=o.cluster, weights=o.weights, sims=inp.fit.mediation_draws,
                              seed=inp.fit.mediation_seed, conf_level=inp.fit.conf_level)

    # -- subgroups: a regression interaction test is valid because allocation is random within every level
    def interaction_test(self, frame: pd.DataFrame, outcome: str, options: Options, variable: str, exclude=()):
        spec = self.groups(options)
        t = (frame[spec.column] == spec.treated).astype(float).where(frame[spec.column].isin([spec.treated, spec.control]))
        work = frame.assign(__t=t)
        return interaction_p(work[work[outcome].notna()], outcome, "__t", variable, options.declared(), exclude)

    def subgroup_options(self, options: Options, variable: str) -> dict[str, Any]:
        opts = super().subgroup_options(options, variable)
        if opts.get("strata") == variable:
            opts.pop("strata")  # within a level of the stratification variable there is one stratum
        opts.pop("take_up", None)  # subgroups compare the intention-to-treat effect; no complier effect per level
        return opts

    # -- analytic power of the declared design
    def design_inputs(self, design: RandomizedComparison, data: pd.DataFrame) -> dict[str, Any]:
        """Group sizes, pooled within-group SD (or the control share), R² of the declared covariates and
        strata, ICC and mean size of the declared clusters, Kish effective sizes under declared weights."""
        p = design.get_params()
        out: dict[str, Any] = {"design": self.design, "icc": 0.0, "cluster_size": 1.0, "r2": 0.0}
        g = data[p["treatment"]]
        y = pd.to_numeric(data[p["outcome"]], errors="coerce")
        keep = g.isin([p["treated"], p["control"]]) & y.notna()
        d = data.loc[keep]
        t = (g[keep] == p["treated"]).to_numpy()
        yv = y[keep].to_numpy(float)
        w = d[p["weights"]].to_numpy(float) if p.get("weights") else None
        n_t, n_c = (int(t.sum()), int((~t).sum())) if w is None else (kish_ess(w[t]), kish_ess(w[~t]))
        binary = p.get("outcome_type") == "binary" or (p.get("outcome_type") is None and set(np.unique(yv)) <= {0.0, 1.0})
        resid = yv - np.where(t, yv[t].mean(), yv[~t].mean())
        out.update(n_treated=n_t, n_control=n_c, outcome_type="binary" if binary else "continuous")
        if binary:
            out["p_control"] = float(yv[~t].mean())
        else:
            out["sd"] = float(np.sqrt(np.sum(resid**2) / (len(yv) - 2)))
        cols = list(p.get("covariates") or []) if p.get("adjustment", "lin") != "none" else []
        if p.get("strata"):
            cols.append(p["strata"])
        if cols and not binary:
            Z, _ = expand_covariates(d, cols, drop_first=True)
            X = np.column_stack([np.ones(len(yv)), t.astype(float), Z.to_numpy(float)])
            beta = np.linalg.lstsq(X, yv, rcond=None)[0]
            ssr = float(np.sum((yv - X @ beta) ** 2))
            out["r2"] = float(max(0.0, 1 - ssr / np.sum(resid**2)))
            out["r2_from"] = cols
        if p.get("cluster"):
            cl = d[p["cluster"]].to_numpy()
            out["icc"] = estimate_icc(resid, cl)
            out["cluster_size"] = float(len(yv) / len(pd.unique(cl)))
        return out

    def figures(self, records, bundle) -> dict[str, Any]:
        from evaluation.designs.randomized.figures import mediation_figures

        return mediation_figures(records)

    def result_checks(self, result: Result) -> list[dict[str, Any]]:
        """The complier effect's checks (first stage, monotonicity) and the mediation's sequential ignorability."""
        return compliance_checks(result) + sequential_ignorability(result)

    # -- durations and cumulative effects: the same estimator (ITT, strata, clusters, weights) on many columns
    def survival_design(self, inp):
        from evaluation.designs.randomized.joint import randomized_survival_design

        return randomized_survival_design(inp.frame, inp.options)

    def placebo_input(self, inp):
        """The placebo compares the groups' weeks before the lottery without covariate adjustment (the covariates
        may include the pre-period outcome itself); strata, clusters and weights stay."""
        import dataclasses

        return dataclasses.replace(inp, options=inp.options.model_copy(update={"covariates": [], "adjustment": "none"}))

    def joint_effects(self, inp, Y):
        from evaluation.designs.randomized.joint import randomized_joint_effects

        return randomized_joint_effects(inp.frame, Y, inp.options, getattr(inp.fit, "cov_type", None))

    def example(self, scenario: str, seed: int = 1):
        return randomized_example(scenario, seed)
