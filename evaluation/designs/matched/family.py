"""The matched comparison's family: options, estimation, disclosure of its tables, report parts."""

from __future__ import annotations

import dataclasses

from evaluation.designs.comparison import ComparisonFamily
from evaluation.designs.family import (
    AnalysisInput,
    Relation,
    disclose_estimates,
    disclose_tables,
    register_family,
)
from evaluation.designs.matched.estimator import MatchedComparison
from evaluation.designs.matched.examples import matched_example
from evaluation.designs.matched.options import MatchedFit, MatchedOptions
from evaluation.designs.matched.report import MatchedReport
from evaluation.disclosure import (
    SuppressionLog,
    is_small,
    suppress_counts,
    suppress_share_rows,
)
from evaluation.results import Result

__all__ = ["MatchedFamily"]


@register_family
class MatchedFamily(ComparisonFamily):
    design = "matched_comparison"
    #: the propensity-score model takes numeric covariates only
    option_roles = {"covariates": "numeric_covariate", "exact": "categorical", "cluster": "id", "weights": "weights"}
    family = "matched"
    evidence_level = 3
    Options = MatchedOptions
    Fit = MatchedFit
    Report = MatchedReport
    balance_column = "smd_after"
    Estimator = MatchedComparison
    main_terms = ("att", "ate", "ato")
    supports_duration = True
    time_mode = "person"
    label_da = "Matchet sammenligning: deltagerne sammenlignes med lignende personer fra registrene"
    estimand_da = "Den gennemsnitlige effekt for deltagerne (ATT) i forhold til lignende personer, der ikke deltog"
    short_da = "matchning"
    assumption_da = ("Deltagere og sammenligningsgruppe må ikke adskille sig på forhold, der påvirker resultatet, ud "
                     "over dem, der er justeret for (ingen umålte forskelle), og der skal være sammenlignelige personer "
                     "for alle deltagere (overlap)")

    def disclosure_relations(self, result, inp):
        """The score histogram's bins add up to the persons with a score in each group; each estimate's n is its
        treated plus comparison persons."""
        rels: list[Relation] = []
        h = result.tables.get("overlap_histogram")
        if h is not None:
            for col, key in (("n_treated", "n_treated_input"), ("n_control", "n_control_input")):
                if col in h.columns:
                    rels.append(Relation.total(("d", key), [("t", "overlap_histogram", i, col) for i in range(len(h))]))
        for e in result.estimates:
            if e.n_treated is not None:
                rels.append(Relation.total(("e", e.term, "n"), [("e", e.term, "n_treated"), ("e", e.term, "n_control")]))
        return rels

    def suppress(self, result: Result, inp: AnalysisInput, log: SuppressionLog) -> Result:
        """Generic suppression, then the matched tables: the 0 and 1 quantiles and the bounds of common
        support are single persons' scores and are dropped; the score histogram's counts and the counts in
        the diagnostics get small-cell suppression, and so do binary covariates' shares of few persons."""
        aid, threshold = inp.id, inp.threshold
        tables = disclose_tables(result.tables, aid, threshold, log)
        if "overlap" in tables:
            q = tables["overlap"]
            tables["overlap"] = q[(q["quantile"] > 0) & (q["quantile"] < 1)].reset_index(drop=True)
        if "balance" in tables and "binary" in tables["balance"].columns:
            b = tables["balance"]
            binary = b["binary"].astype(bool)
            sub = b[binary]
            sides = (("n_treated_input", ["mean_treated", "mean_treated_after"]), ("n_control_input", ["mean_control_before"]))
            for size_key, cols in sides:
                if binary.any() and result.diagnostics.get(size_key):
                    sub = suppress_share_rows(
                        sub.assign(_n=result.diagnostics[size_key]), table=f"{aid}: balance", share_column=cols[0],
                        n_column="_n", columns=cols + ["smd_before", "smd_after"], threshold=threshold, log=log,
                        label_column="covariate",
                    ).drop(columns="_n")
            b = b.astype({c: "float64" for c in sub.columns if c.startswith(("mean_", "smd_"))})
            b.loc[sub.index, sub.columns] = sub
            tables["balance"] = b
        if "overlap_histogram" in tables:
            h = tables["overlap_histogram"].copy()
            h["bin"] = [f"{lo:.1f}–{hi:.1f}" for lo, hi in zip(h["bin_lower"], h["bin_upper"])]
            h = suppress_counts(h, table=f"{aid}: propensity score-fordeling", count_columns=["n_treated", "n_control"],
                                label_column="bin", threshold=threshold, log=log)
            tables["overlap_histogram"] = h.drop(columns="bin")
        diagnostics = dict(result.diagnostics)
        diagnostics.pop("common_support", None)
        for key in ("n_outside_support_treated", "n_outside_support_control", "n_discarded_caliper",
                    "n_discarded_exact_treated", "n_discarded_exact_control"):
            if key in diagnostics and is_small(diagnostics[key], threshold):
                log.add(f"{aid}: diagnostik", key, "n", f"færre end {threshold} personer")
                diagnostics[key] = None
        estimates = disclose_estimates(result, aid, threshold, log)
        return dataclasses.replace(result, tables=tables, diagnostics=diagnostics, estimates=estimates)

    # -- durations and cumulative effects: the final weights, and the stacked equations on many columns
    def survival_design(self, inp):
        from evaluation.designs.matched.joint import matched_survival_design

        return matched_survival_design(inp.frame, inp.options, inp.fit)

    def joint_effects(self, inp, Y):
        from evaluation.designs.matched.joint import matched_joint_effects

        return matched_joint_effects(inp.frame, Y, inp.options, inp.fit)

    def example(self, scenario: str, seed: int = 1):
        return matched_example(scenario, seed)
from evaluation.designs.matched import checks as _checks  # noqa: E402,F401  (registers the matched assumption checks)
