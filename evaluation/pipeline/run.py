"""Run a study: declaration + data → metrics → designs → results bundle (disclosure applied here).

The pipeline is a loop over the study's analyses; everything design-specific (checks,
estimation, subgroup tests, disclosure of its tables, the MDE) is asked of the analysis's design
family (:mod:`evaluation.designs.family`). The bundle (``results/<slug>/results.json`` plus tables
and figures) is the only thing the report and the portfolio read. It holds no timestamps, so
identical inputs give a byte-identical bundle.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd

from evaluation import __version__
from evaluation.data.registers import Panel
from evaluation.data.study_data import name_rows
from evaluation.declaration.study import Study, config_hash, load_study
from evaluation.designs.family import AnalysisInput
from evaluation.designs.subgroups import subgroup_table
from evaluation.disclosure import SuppressionLog, check_threshold, is_small, mask_prose, protect_bundle
from evaluation.exceptions import DataValidationError, EstimationError, EvaluationError, StudyConfigError
from evaluation.metrics.benefits import status_share_series
from evaluation.metrics.registry import describe_metric
from evaluation.pipeline.cmo import cmo_evidence
from evaluation.pipeline.mechanisms import add_mediation
from evaluation.pipeline.prepare import analysis_input, prepare_study
from evaluation.pipeline.robustness import analysis_checks, assess_assumptions
from evaluation.pipeline.targets import evaluate_target
from evaluation.results import (
    AnalysisRecord,
    Bundle,
    Result,
    TargetRecord,
    output_lock,
    replace_dir,
    write_json_atomic,
)

__all__ = ["run_study", "BUNDLE_FORMAT", "analysis_input"]

BUNDLE_FORMAT = "evaluation.results/1"


def _subgroups(study: Study, a, inp: AnalysisInput, result: Result) -> Result:
    """Subgroup effects for the analysis's declared moderators (pre-specified and exploratory tested apart)."""
    labels = study.data[a.data].labels
    parts = []
    mods = [m for m in study.theory.moderators if m.id in a.subgroups]
    explo = [SimpleNamespace(id=c, label=labels.get(c, c), variable=c) for c in a.exploratory_subgroups]
    # Holm correction within each family of moderators: pre-specified and exploratory tests are not pooled
    for group in (mods, explo):
        if group:
            parts.append(subgroup_table(a.family, a.options, a.fit.declared(), inp.frame, inp.outcome, group,
                                        min_group_size=inp.min_group_size, threshold=inp.threshold,
                                        prespecified={m.id for m in study.theory.moderators}))
    return dataclasses.replace(result, tables={**result.tables, "subgroups": pd.concat(parts, ignore_index=True)})


def _time_course(study: Study, data, threshold: int, log: SuppressionLog) -> dict[str, Any] | None:
    """Weekly share self-supporting since the index week, by group, for the primary register-based comparison."""
    primary = next((a for a in study.analyses if a.primary), study.analyses[0] if study.analyses else None)
    groups = primary.family.time_course_groups(primary.options) if primary is not None else None
    if groups is None:
        return None
    reg = next((n for n, s in study.data.items() if s.kind == "register" and s.participants == primary.data), None)
    if reg is None or not isinstance(data.frames.get(reg), Panel):
        return None
    treat = groups.column
    parts = data.frames[primary.data]
    if "index_week" not in parts.columns or treat not in parts.columns:
        return None
    series = status_share_series(data.frames[reg], parts, "self_support", weeks=(1, 52), by=treat)
    series = series.rename(columns={treat: "group"})
    series["share"] = series["share"].astype(float)
    series["n"] = pd.Series([int(x) for x in series["n"]], index=series.index, dtype=object)
    for i, r in series.iterrows():
        if is_small(r["n"], threshold) or is_small(r["n_status"], threshold) or is_small(r["n"] - r["n_status"], threshold):
            series.at[i, "share"] = float("nan")
            log.add("tidsforløb", f"{r['group']} uge {r['week']}", "share", f"bygger på færre end {threshold} personer")
    # Persons who can no longer be followed (emigrated, died) leave the weekly n: a week's n is published only when
    # the persons lost since the previous week with a published n are none or at least the threshold, and the share
    # goes with it (n follows from a share of a known range of n).
    for g, part in series.groupby("group", sort=False):
        last = max(int(x) for x in part["n"])
        for i in part.sort_values("week").index:
            lost = last - int(series.at[i, "n"])
            if 0 < lost < threshold:
                if not pd.isna(series.at[i, "share"]):
                    log.add("tidsforløb", f"{g} uge {series.at[i, 'week']}", "share",
                            f"færre end {threshold} personer kan ikke længere følges siden en tidligere vist uge")
                series.at[i, "share"], series.at[i, "n"] = float("nan"), None
            else:
                last = int(series.at[i, "n"])
    return {"status": "self_support", "analysis": primary.id,
            "records": series[["group", "week", "n", "share"]].to_dict(orient="list")}


def _protect_bundle(study: Study, results: dict[str, Result], inputs: dict[str, AnalysisInput], threshold: int,
                    log: SuppressionLog) -> dict[str, Result]:
    """Secondary suppression across the analyses of the bundle (counts of the same persons in several analyses)."""
    decls = {a.id: a for a in study.analyses}
    variables = {m.id: m.variable or m.id for m in study.theory.moderators}
    relations, population, dependents = {}, {}, {}
    for aid, res in results.items():
        fam, inp = decls[aid].family, inputs[aid]
        relations[aid] = fam.disclosure_relations(res, inp)
        population[aid] = fam.population_counts(res, inp.options, inp.data_name, variables)
        dependents[aid] = fam.disclosure_dependents()
    return protect_bundle(results, relations, population, threshold=threshold, log=log, dependents=dependents)


def _in_analysis(exc: EvaluationError, study: Study, i: int, a, inp, data) -> EvaluationError:
    """``exc`` naming the analysis (study file and line), its data file and the column, with rows, not person ids."""
    where = f"{study.where(('analyses', i))} ({a.id}; data {inp.source_path or a.data}"
    where += f", outcome {inp.outcome!r})" if inp.outcome else ")"
    msgs = getattr(exc, "problems", None) or [str(exc)]
    out = [f"{where}: {name_rows(m, data.rows)}" for m in msgs]
    cls = type(exc)
    try:
        return cls(out) if issubclass(cls, (DataValidationError, StudyConfigError)) else cls("\n".join(out))
    except TypeError:  # an error class with another constructor
        return EstimationError("\n".join(out))


def _weeks_per_unit(metric) -> int | None:
    """Weeks in the window of a share-of-weeks metric (so a share can be shown as weeks), else None."""
    if metric.name == "benefit_dependency":
        lo, hi = metric.params.get("window", (1, 52))
        return int(hi) - int(lo) + 1
    return None


def _data_sources(study: Study, data) -> dict[str, dict[str, Any]]:
    """What the report says about each data source: its path relative to the study folder (never this machine's
    absolute path), kind, declared provenance and, for a weekly register, its first and last ISO week."""
    out: dict[str, dict[str, Any]] = {}
    for name, src in sorted(study.data.items()):
        path = Path(src.path)
        if path.is_absolute():
            try:
                path = Path(os.path.relpath(path, study.folder))
            except ValueError:  # another drive (Windows): the file name is all that may be published
                path = Path(path.name)
        entry: dict[str, Any] = {"path": path.as_posix(), "kind": src.kind, "provenance": src.provenance}
        frame = data.frames.get(name)
        if isinstance(frame, Panel) and frame.shape[1]:
            labels = frame.weeks.labels()
            entry["weeks"] = [labels[0], labels[-1]]
        out[name] = entry
    return out


def _study_meta(study: Study) -> dict[str, Any]:
    return study.model_dump(mode="json", by_alias=True, include={
        "id", "title", "summary", "funder", "operator", "period", "budget_dkk", "language", "catalogue_number",
    })


def run_study(study_dir: str | os.PathLike, out_root: str | os.PathLike = "results", *, figures: bool = True) -> Path:
    """Run every analysis and target of a study and write its results bundle.

    Parameters
    ----------
    study_dir : path
        The study folder (with ``study.yaml``).
    out_root : path, default "results"
        The bundle goes to ``out_root/<study id>/`` (written to a temporary folder and moved
        into place, so a failed run leaves the previous bundle intact).

    Returns
    -------
    Path
        The bundle folder.

    Runs of one study are serialised by :func:`~evaluation.results.output_lock`: a second run waits
    for the first (and stops with exit 2 after ``EVALUATION_LOCK_TIMEOUT`` seconds), then cleans the
    staging folders a killed run left behind.
    """
    study = load_study(study_dir)
    with output_lock(out_root, study.id):
        return _run_locked(study, Path(out_root), figures=figures)


def _run_locked(study: Study, out_root: Path, *, figures: bool) -> Path:
    threshold = check_threshold(study.report.disclosure_threshold)
    prepared = prepare_study(study)
    data = prepared.data
    log = SuppressionLog(threshold)

    analyses: list[AnalysisRecord] = []
    results: dict[str, Result] = {}
    inputs: dict[str, AnalysisInput] = {}
    check_records: list[dict[str, Any]] = []
    any_primary = any(x.primary for x in study.analyses)
    for i, a in enumerate(study.analyses):
        fam = a.family
        ind = study.theory.indicator(a.indicator) if a.indicator else None
        inp = prepared.inputs[a.id]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = fam.estimate(inp)
                # the mechanisms (links naming a mediator) before the checks, so the sensitivity check sees them
                result = add_mediation(study, a, inp, result, data)
                check_records.extend(analysis_checks(study, a, inp, result))
                if a.subgroups or a.exploratory_subgroups:
                    result = _subgroups(study, a, inp, result)
                result = fam.disclose(result, inp, log)
                mde = fam.mde(result, inp)
            except EvaluationError as exc:
                raise _in_analysis(exc, study, i, a, inp, data) from None
        results[a.id] = result
        inputs[a.id] = inp
        duration = cumulative = None
        if a.duration is not None or a.cumulative is not None:
            from evaluation.pipeline.time import run_cumulative, run_duration

            duration = run_duration(study, a, data, inp, log) if a.duration is not None else None
            cumulative = run_cumulative(study, a, data, inp, log) if a.cumulative is not None else None
        node = study.theory.node(ind.outcome) if ind is not None else None
        metric = ind.metric if ind is not None and ind.metric is not None else None
        analyses.append(AnalysisRecord(
            id=a.id, design=a.design, result=result,
            indicator=ind.id if ind is not None else None,
            indicator_label=(ind.label if ind is not None else getattr(a.options, "title", a.id))
            + (f" ({a.label})" if a.label else ""),
            unit=ind.unit if ind is not None else None,
            phrase=ind.phrase if ind is not None else None,
            outcome=node.id if node is not None else None,
            outcome_label=node.label if node is not None else None,
            # the analyses marked primary are primary; without any mark, those on a primary outcome are
            primary=a.primary if any_primary else bool(node is not None and node.primary),
            options=a.options.declared(), fit=a.fit.declared(),
            definition_da=describe_metric(metric.name, metric.params) if metric is not None else fam.definition_da(a.options),
            metric=metric.model_dump(mode="json") if metric is not None else None,
            weeks_per_unit=_weeks_per_unit(metric) if metric is not None else None,
            warnings=tuple(sorted(set(prepared.warnings.get(a.id, ())) | {str(w.message) for w in caught})),
            mde=mde,
            duration=duration, cumulative=cumulative,
        ))

    # analyses of the same persons publish counts of the same groups: nothing hidden in one may be recovered from
    # another (disclosure.protect_bundle); estimates are not touched
    results = _protect_bundle(study, results, inputs, threshold, log)
    analyses = [dataclasses.replace(a, result=results[a.id]) if results[a.id] is not a.result else a for a in analyses]

    targets: list[TargetRecord] = []
    for ind in study.theory.indicators:
        if ind.target is None:
            continue
        declared = [t for t in prepared.targets if t.indicator == ind.id]
        tr = evaluate_target(ind, declared[0] if declared else None, study, results)
        targets.append(TargetRecord(indicator=ind.id, label=ind.label, unit=ind.unit,
                                    target=ind.target.model_dump(mode="json"), result=tr))

    time_course = _time_course(study, data, threshold, log)
    economy = None
    if study.economy is not None:
        from evaluation.pipeline.time import run_economy

        economy = run_economy(study, data, inputs, log)
    robustness = assess_assumptions(study, check_records, {t.indicator: t for t in targets})

    # counts of persons in prose (data notes, the analyses' warnings) go through the same rule as every
    # table cell, with the totals they could be subtracted from (disclosure.mask_prose)
    notes, warns = mask_prose(dict(sorted(data.notes.items())), {a.id: a.warnings for a in analyses}, threshold, log)
    analyses = [dataclasses.replace(a, warnings=warns[a.id]) for a in analyses]
    cmo = cmo_evidence(study.theory.model_dump(mode="json", by_alias=True), analyses,
                       {x["id"]: x["status"] for x in (robustness or {}).get("assumptions", [])})

    bundle = Bundle(
        format=BUNDLE_FORMAT,
        time_course=time_course,
        economy=economy,
        robustness=robustness,
        study=_study_meta(study),
        theory=study.theory.model_dump(mode="json", by_alias=True),
        report_options=study.report.model_dump(mode="json"),
        config_hash=config_hash(study.source_path),
        data_hashes=dict(sorted(data.hashes.items())),
        data_notes=notes,
        package_version=__version__,
        code_list_version="; ".join(sorted({f.codes.version for f in data.frames.values() if hasattr(f, "codes")})) or None,
        analyses=tuple(analyses),
        targets=tuple(targets),
        cmo_evidence=tuple(cmo),
        disclosure={"threshold": threshold, "min_group_size": study.report.min_group_size, "log": log.to_list()},
        labels={k: v for src in study.data.values() for k, v in sorted(src.labels.items())},
        data_sources=_data_sources(study, data),
        value_labels={k: dict(sorted(v.items())) for src in study.data.values() for k, v in sorted(src.value_labels.items())},
    )

    final = out_root / study.id
    tmp = Path(tempfile.mkdtemp(prefix=f".{study.id}.", dir=out_root))
    try:
        if figures:
            from evaluation.pipeline.figures import write_study_figures

            bundle = dataclasses.replace(bundle, figures=write_study_figures(bundle, tmp / "figures"))
        tables_dir = tmp / "tables"
        tables_dir.mkdir()
        for a in analyses:
            res = results[a.id]
            res.tidy().to_csv(tables_dir / f"{a.id}_estimates.csv", index=False, lineterminator="\n")
            for name, table in sorted(res.tables.items()):
                table.to_csv(tables_dir / f"{a.id}_{name}.csv", index=False, lineterminator="\n")
        write_json_atomic(tmp / "results.json", bundle.to_dict())
        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
