"""The randomized comparison's family: options, estimation, subgroup test, analytic power, report parts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaluation.designs._weighted_balance import kish_ess
from evaluation.designs.balance import expand_covariates
from evaluation.designs.comparison import ComparisonFamily
from evaluation.designs.family import ONE, Options, Relation, register_family, row_of
from evaluation.designs.power import estimate_icc
from evaluation.designs.randomized.estimator import RandomizedComparison
from evaluation.designs.randomized.examples import randomized_example
from evaluation.designs.randomized.options import RandomizedFit, RandomizedOptions
from evaluation.designs.randomized.report import RandomizedReport
from evaluation.designs.subgroups import interaction_p

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
    auxiliary_fit = frozenset({"permutations", "seed"})
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

    def disclosure_dependents(self):
        return {("groups", "n"): ("mean", "share", "sd"), ("balance", "mean_intervention"): ("sd_intervention", "smd"),
                ("balance", "mean_control"): ("sd_control", "smd")}

    # -- subgroups: a regression interaction test is valid because allocation is random within every level
    def interaction_test(self, frame: pd.DataFrame, outcome: str, options: Options, variable: str):
        spec = self.groups(options)
        t = (frame[spec.column] == spec.treated).astype(float).where(frame[spec.column].isin([spec.treated, spec.control]))
        work = frame.assign(__t=t)
        return interaction_p(work[work[outcome].notna()], outcome, "__t", variable, options.declared())

    def subgroup_options(self, options: Options, variable: str) -> dict[str, Any]:
        opts = super().subgroup_options(options, variable)
        if opts.get("strata") == variable:
            opts.pop("strata")  # within a level of the stratification variable there is one stratum
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
