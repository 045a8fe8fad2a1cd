"""Mechanisms: the mediation analyses a study's programme theory asks for.

A link of the theory may name a ``mediator`` — an indicator measuring the link's mechanism (e.g.
dialogue with the workplace within four weeks). Every analysis of an outcome *downstream* of that link
(the link's ``to`` node or a node reachable from it) then gets a causal mediation analysis of its effect
through the mediator, when its design identifies one (randomized assignment; the family's
:meth:`~evaluation.designs.family.Family.mediation`). The results are added to the analysis's result as
two tables before disclosure control:

* ``mediation`` — per link and mediator: ACME, ADE, total effect and proportion mediated with bootstrap
  intervals, and the mediator's mean (share) by group;
* ``mediation_sensitivity`` — ACME(ρ) with its interval on a grid of the error correlation ρ;

and the diagnostics ``mediation`` (per mediator: the ρ at which the ACME is zero, R²*·R²* and R̃²·R̃² there,
α and β). A mediator missing for between 1 and threshold − 1 persons of a group is not analysed (the
number left out could be computed from the published group sizes); the diagnostics say why.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from evaluation.designs.family import AnalysisInput
from evaluation.disclosure import is_small
from evaluation.exceptions import DataValidationError, EstimationError
from evaluation.metrics.registry import METRICS, compute_metric
from evaluation.results import Result

__all__ = ["mediator_links", "add_mediation", "downstream"]


def downstream(theory, node: str) -> set[str]:
    """The node and every node reachable from it along the theory's links."""
    out, todo = {node}, [node]
    while todo:
        x = todo.pop()
        for link in theory.links:
            if link.from_ == x and link.to not in out:
                out.add(link.to)
                todo.append(link.to)
    return out


def mediator_links(study, analysis) -> list[tuple[int, Any]]:
    """The (index, link) pairs of links naming a mediator upstream of the analysis's outcome node."""
    if analysis.indicator is None:
        return []
    outcome = study.theory.indicator(analysis.indicator).outcome
    return [(i, link) for i, link in enumerate(study.theory.links)
            if link.mediator is not None and outcome in downstream(study.theory, link.to)]


def _mediator_values(study, data, indicator_id: str, frame: pd.DataFrame) -> pd.Series:
    ind = study.theory.indicator(indicator_id)
    if METRICS[ind.metric.name].kind == "panel":
        raise EstimationError(f"the mediator {indicator_id!r} is a panel metric; a mediator needs one value per person")
    values = compute_metric(ind.metric.name, data.frames, ind.metric.params)
    if not frame.index.is_unique:
        raise EstimationError(f"the mediator {indicator_id!r} needs one row per person in the analysis data")
    return values.reindex(frame.index)


def add_mediation(study, analysis, inp: AnalysisInput, result: Result, data) -> Result:
    """The analysis's result with its mediation tables (unchanged when no link names a mediator for it)."""
    links = mediator_links(study, analysis)
    if not links or inp.frame is None or inp.outcome is None:
        return result
    rows: list[dict[str, Any]] = []
    curves: list[pd.DataFrame] = []
    diag: dict[str, Any] = {}
    fam = analysis.family
    spec = fam.groups(inp.options)
    for i, link in links:
        key = f"{link.from_} → {link.to}"
        col = f"__mediator__{link.mediator}"
        info: dict[str, Any] = {"link": key, "link_index": i, "mechanism": link.mechanism, "mediator": link.mediator}
        try:
            frame = inp.frame.assign(**{col: _mediator_values(study, data, link.mediator, inp.frame)})
            allocated = frame[spec.column].isin([spec.treated, spec.control]) & frame[inp.outcome].notna()
            missing = frame.loc[allocated & frame[col].isna(), spec.column].value_counts()
            small = {str(g): int(k) for g, k in missing.items() if is_small(k, inp.threshold)}
            if small:
                info["skipped"] = (f"the mediator is missing for fewer than {inp.threshold} persons in a group; their number "
                                   "could be computed from the published group sizes")
                diag[link.mediator] = info
                continue
            med = fam.mediation(inp, frame, col)
        except (EstimationError, DataValidationError) as exc:
            info["skipped"] = str(exc).replace(col, link.mediator)
            diag[link.mediator] = info
            continue
        base = {"link": key, "mechanism": link.mechanism, "mediator": link.mediator}
        for e in med.estimates:
            rows.append({**base, "term": e.term, "estimate": e.estimate, "std_error": e.std_error, "p_value": e.p_value,
                         "ci_lower": e.ci_lower, "ci_upper": e.ci_upper, "n": e.n, "n_treated": e.n_treated,
                         "n_control": e.n_control, "method": e.method.replace(col, link.mediator)})
        for label, side in ((str(spec.treated), "intervention"), (str(spec.control), "control")):
            mm = med.mediator_means[label]
            rows.append({**base, "term": f"mediator_{side}", "estimate": mm["mean"], "std_error": None, "p_value": None,
                         "ci_lower": None, "ci_upper": None, "n": mm["n"], "n_treated": None, "n_control": None,
                         "method": "share with the mediator" if mm["binary"] else "mean of the mediator",
                         "n_with": mm["n_with"]})
        curves.append(med.sensitivity.assign(link=key, mediator=link.mediator))
        info.update({"rho_at_zero": med.rho_at_zero, "r2star_at_zero": med.r2star_at_zero,
                     "r2tilde_at_zero": med.r2tilde_at_zero, "alpha": med.alpha, "beta": med.beta,
                     "r2_mediator": med.r2_mediator, "r2_outcome": med.r2_outcome, "sims": med.sims, "seed": med.seed,
                     "failed_draws": med.n_failed_draws, "mediator_binary": bool(med.mediator_means[str(spec.treated)]["binary"]),
                     "sensitivity_method": med.diagnostics["sensitivity_method"]})
        diag[link.mediator] = info
    tables = dict(result.tables)
    if rows:
        t = pd.DataFrame(rows)
        cols = ["link", "mechanism", "mediator", "term", "estimate", "std_error", "p_value", "ci_lower", "ci_upper", "n",
                "n_treated", "n_control", "n_with", "method"]
        tables["mediation"] = t.reindex(columns=cols)
        tables["mediation_sensitivity"] = pd.concat(curves, ignore_index=True)[
            ["link", "mediator", "rho", "acme", "ci_lower", "ci_upper", "r2star", "r2tilde"]]
    return dataclasses.replace(result, tables=tables, diagnostics={**result.diagnostics, "mediation": diag})
