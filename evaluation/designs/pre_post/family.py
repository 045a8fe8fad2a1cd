"""The before/after family: a change over time in the target group, never an effect."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from evaluation.designs.family import (
    AnalysisInput,
    Family,
    disclose_estimates,
    disclose_tables,
    register_family,
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

    def disclose(self, result: Result, inp: AnalysisInput, log: SuppressionLog) -> Result:
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
