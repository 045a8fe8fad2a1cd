"""The before/after family: a change over time in the target group, never an effect."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from evaluation.designs.family import (
    AnalysisInput,
    Family,
    Relation,
    disclose_estimates,
    disclose_tables,
    register_family,
    row_of,
)
from evaluation.designs.plasmode import add_effect
from evaluation.designs.pre_post.estimator import PrePost
from evaluation.designs.pre_post.examples import pre_post_example
from evaluation.designs.pre_post.options import PrePostFit, PrePostOptions
from evaluation.designs.pre_post.report import PrePostReport
from evaluation.disclosure import SuppressionLog, is_small, suppress_counts
from evaluation.results import Result

__all__ = ["PrePostFamily"]


@register_family
class PrePostFamily(Family):
    design = "pre_post"
    family = "pre_post"
    evidence_level = 1
    Options = PrePostOptions
    Fit = PrePostFit
    Report = PrePostReport
    Estimator = PrePost
    is_effect = False
    measures_levels = True
    main_terms = ("change",)
    #: estimates that are a level (share of n persons), checked for small cells like group shares
    level_terms = ("baseline_level", "follow_up_level")
    label_da = ("Før/efter-måling uden sammenligningsgruppe: målgruppens niveau ved udgangspunktet sammenlignes med "
                "niveauet ved opfølgningen; personer, der er målt begge gange, parres")
    estimand_da = ("Ændringen over tid i målgruppen fra udgangspunktet til opfølgningen (og den relative ændring). Der er "
                   "ingen sammenligningsgruppe, så tallet siger ikke noget om årsag: ændringen kunne være sket uden projektet")
    short_da = "før/efter"
    assumption_da = ("Uden sammenligningsgruppe forudsætter en årsagsfortolkning, at intet andet end projektet ændrede "
                     "tallet – en antagelse, målingen ikke kan efterprøve")

    option_roles = {"period": "any", "unit": "id"}

    def check_data(self, inp: AnalysisInput) -> list[tuple[tuple | None, str]]:
        """The shared checks, and the baseline and follow-up labels against the period column's values."""
        problems = super().check_data(inp)
        o = inp.options
        frame = inp.frame
        if frame is None or o.period not in frame.columns:
            return problems
        values = frame[o.period].dropna()
        counts = values.value_counts()
        found = ", ".join(f"{k!r} ({v})" for k, v in counts.items()) or "no values"
        texts = {str(k).strip(): k for k in counts.index}
        file = inp.rows.file if inp.rows is not None else inp.source_path
        for name in ("baseline", "follow_up"):
            label = getattr(o, name)
            if label in counts.index:
                continue
            hint = ""
            if str(label).strip() in texts:
                hint = f"; the column holds {texts[str(label).strip()]!r}: write the label as it is in the data"
            problems.append((("options", name), f"the {name.replace('_', '-')} label {label!r} does not occur in column "
                             f"{o.period!r} of {file}, which holds: {found}; set {name}: to one of these{hint}"))
        return problems

    def suppress(self, result: Result, inp: AnalysisInput, log: SuppressionLog) -> Result:
        """Shared suppression, then the overlap table: persons measured at both dates, at one only, and (0/1
        outcome) by status at both dates; the status cells add up to 'both', so each part gets its own
        complementary suppression. The change of persons measured twice reveals the status-change cells, so a
        small status cell suppresses every estimate."""
        aid, threshold = inp.id, inp.threshold
        tables = disclose_tables(result.tables, aid, threshold, log)
        small = False
        if "overlap" in tables:
            o = tables["overlap"]
            cells = o["measured"].astype(str).str.startswith("both_")
            parts = [suppress_counts(o[m], table=f"{aid}: målt før og efter", count_columns=["n"],
                                     label_column="measured", threshold=threshold, log=log)
                     for m in (~cells, cells) if m.any()]
            tables["overlap"] = pd.concat(parts).sort_index()
        if getattr(result, "outcome_type", "") == "binary" and "overlap" in result.tables:
            o = result.tables["overlap"]
            small = any(is_small(n, threshold) for m, n in zip(o["measured"], o["n"]) if str(m).startswith("both_"))
        estimates = disclose_estimates(result, aid, threshold, log, level_terms=self.level_terms, small=small)
        return dataclasses.replace(result, tables=tables, estimates=estimates)

    def disclosure_relations(self, result, inp):
        """Persons at each date = measured at both + at that date only; 'both' = its four status cells; the
        levels' n and the diagnostics repeat the group counts."""
        t = result.tables
        g, o = t.get("groups"), t.get("overlap")
        d = result.diagnostics
        rels: list[Relation] = []
        rb = row_of(g, "group", d.get("baseline"))
        rf = row_of(g, "group", d.get("follow_up"))
        ob, obo, ofo = (row_of(o, "measured", k) for k in ("both", "baseline_only", "follow_up_only"))
        if None not in (rb, ob, obo):
            rels.append(Relation.total(("t", "groups", rb, "n"), [("t", "overlap", ob, "n"), ("t", "overlap", obo, "n")]))
        if None not in (rf, ob, ofo):
            rels.append(Relation.total(("t", "groups", rf, "n"), [("t", "overlap", ob, "n"), ("t", "overlap", ofo, "n")]))
        cells = [row_of(o, "measured", f"both_baseline_{a}_follow_up_{b}") for a in (0, 1) for b in (0, 1)]
        if ob is not None and all(c is not None for c in cells):
            rels.append(Relation.total(("t", "overlap", ob, "n"), [("t", "overlap", c, "n") for c in cells]))
        for key, row in (("n_baseline", rb), ("n_follow_up", rf)):
            if row is not None:
                rels.append(Relation.equal(("d", key), ("t", "groups", row, "n")))
        if ob is not None:
            rels.append(Relation.equal(("d", "n_both"), ("t", "overlap", ob, "n")))
        for term, row in (("baseline_level", rb), ("follow_up_level", rf)):
            if row is not None and any(e.term == term for e in result.estimates):
                rels.append(Relation.equal(("e", term, "n"), ("t", "groups", row, "n")))
        return rels

    def disclosure_dependents(self):
        return {("groups", "n"): ("share", "mean", "sd")}

    def simulate(self, design, frame: pd.DataFrame, tau: float, rng: np.random.Generator) -> pd.DataFrame:
        """Before/after data with no true change, then ``tau`` added at follow-up.

        Persons measured twice get their two measurements swapped with probability ½ (the pairing and its
        correlation are kept); the period labels of persons measured once are permuted.
        """
        p = design.get_params()
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
        f[p["outcome"]] = add_effect(f[p["outcome"]], is_fu, tau, rng)
        return f

    def example(self, scenario: str, seed: int = 1):
        return pre_post_example(scenario, seed)
