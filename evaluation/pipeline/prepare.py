"""Prepare a study for estimation: read its data, compute its analysis frames and check them.

This is everything ``evaluation run`` does short of estimating, and ``evaluation validate`` runs
exactly this, so a study that validates does not fail at run time on its data (issue 12 item 4):
the same reading, the same metric inputs, the same checks of each design family
(:meth:`~evaluation.designs.family.Family.check_data`). Every problem is collected and reported at
once, each with the study file's line (``study.yaml:182: analyses[0].options: …``) or the data
file, the column and the file's own rows (``participants.csv:57: column 'age' …``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaluation.data.checks import RowRef, numeric_problems
from evaluation.data.registers import Panel
from evaluation.data.study_data import StudyData, load_study_data, name_rows
from evaluation.data.weeks import format_week, parse_weeks
from evaluation.declaration.study import Study
from evaluation.designs.checks import CHECKS
from evaluation.designs.checks import param_problems as check_param_problems
from evaluation.designs.family import AnalysisInput
from evaluation.exceptions import DataValidationError, EvaluationError
from evaluation.metrics.registry import METRICS, metric_inputs, param_problems
from evaluation.pipeline.frames import analysis_frame
from evaluation.pipeline.follow_up import resolve_targets
from evaluation.data.tables import column_list, shown

__all__ = ["PreparedStudy", "prepare_study", "analysis_input"]


@dataclass
class PreparedStudy:
    """A study ready for estimation: its data, one checked input per analysis, its targets with figures read.

    Attributes
    ----------
    study : Study
    data : StudyData
    inputs : dict
        Analysis id → :class:`~evaluation.designs.family.AnalysisInput`.
    warnings : dict
        Analysis id → warnings raised while its frame was computed (persons left out of a panel …).
    targets : list
        The study's targets, with values read from ``figures`` data sources filled in.
    """

    study: Study
    data: StudyData
    inputs: dict[str, AnalysisInput] = field(default_factory=dict)
    warnings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    targets: list[Any] = field(default_factory=list)


def analysis_input(study: Study, analysis, data: StudyData, frame: pd.DataFrame | None = None) -> AnalysisInput:
    """What the analysis's family needs: its typed options, the analysis frame and a few study settings."""
    fam = analysis.family
    ind = study.theory.indicator(analysis.indicator) if analysis.indicator else None
    source = study.data.get(analysis.data)
    frame = analysis_frame(study, analysis, data) if frame is None else frame
    src_rows = getattr(data, "rows", {}).get(analysis.data)
    rows = None
    if src_rows is not None and isinstance(frame, pd.DataFrame):
        rows = src_rows.ref_for(frame, data.frames.get(analysis.data))
    return AnalysisInput(
        id=analysis.id, design=analysis.design, options=analysis.options, fit=analysis.fit,
        outcome=ind.id if ind is not None and fam.needs_metric else None,
        frame=frame,
        sources=data.frames, source_path=src_rows.file if src_rows is not None else (
            str(study.resolve_path(source.path)) if source is not None else ""),
        threshold=study.report.disclosure_threshold, min_group_size=study.report.min_group_size,
        unit=ind.unit if ind is not None else None, labels=dict(source.labels) if source is not None else {},
        data_name=analysis.data, indicator=analysis.indicator,
        paths={name: str(study.resolve_path(src.path)) for name, src in study.data.items()},
        rows=rows, numbers=src_rows.numbers if src_rows is not None else None,
        types=dict(getattr(source, "types", {}) or {}) if source is not None else {},
    )


def _constant_outcome_problems(study: Study, analysis, ind, inp: AnalysisInput, j: int) -> list[str]:
    """An outcome with one and the same value for every analysed person (in both compared groups): nothing can
    be compared — no effect, standard error or test exists, and the estimators would fail or print an
    interval of width zero (an audit saw run end in an internal error in the mechanism figure). It is almost
    always the wrong column or metric, so it is refused with the file and column (or the indicator's line)."""
    frame = inp.frame
    if not isinstance(frame, pd.DataFrame) or inp.outcome is None or inp.outcome not in frame.columns:
        return []
    spec = analysis.family.groups(inp.options)
    rows = frame
    if spec is not None and spec.column in frame.columns:
        rows = frame[frame[spec.column].isin([spec.treated, spec.control])]
    y = pd.to_numeric(rows[inp.outcome], errors="coerce").dropna()
    if len(y) < 2 or y.nunique() != 1:
        return []
    value = y.iloc[0]
    shown_value = f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
    who = "every analysed person in both groups" if spec is not None else "every analysed row"
    inputs = [(src, col) for src, col, kind in metric_inputs(ind.metric.name, ind.metric.params) if kind == "numeric"] \
        if ind.metric is not None and ind.metric.name in METRICS else []
    if len(inputs) == 1:
        src, col = inputs[0]
        file = shown(inp.paths[src]) if src != inp.data_name and inp.paths.get(src) else inp.source_path
        where = f"{file or src}: column {col!r} (the outcome of indicator {ind.id!r})"
    else:
        read = [inp.source_path or inp.data_name]
        if ind.metric is not None and ind.metric.name in METRICS and "register" in METRICS[ind.metric.name].params():
            reg = str(ind.metric.params.get("register", "register"))
            read.append(shown(inp.paths[reg]) if inp.paths.get(reg) else reg)
        where = (f"{study.where(('theory', 'indicators', j, 'metric'))}: the outcome of indicator {ind.id!r} (metric "
                 f"{ind.metric.name if ind.metric is not None else '?'!r} on {' and '.join(read)})")
    return [f"{where} has the same value ({shown_value}) for {who} ({len(y)} rows): there is nothing to compare, so "
            f"analysis {analysis.id!r} can estimate no effect, standard error or test; check that the indicator reads "
            "the right column (or metric and parameters)"]


def _metric_input_problems(study: Study, data: StudyData, ind, j: int) -> list[str]:
    """The columns an indicator's metric reads, checked in their source with the file's own rows."""
    name, params = ind.metric.name, dict(ind.metric.params)
    if name not in METRICS or param_problems(name, params):
        return []  # named by load_study with the study file's line
    out: list[str] = []
    for src, column, kind in metric_inputs(name, params):
        frame = data.frames.get(src)
        rows = data.rows.get(src)
        if frame is None or rows is None or isinstance(frame, Panel):
            continue
        if column not in frame.columns:
            key = next((k for k, v in params.items() if v == column), None)
            loc = ("theory", "indicators", j, "metric") + (("params", key) if key else ())
            out.append(f"{study.where(loc)}: metric {name!r} reads the column {column!r} from data source {src!r} "
                       f"({rows.file}), which does not have it; it has: {column_list(frame.columns)}")
            continue
        ref = rows.ref_for(frame, frame)
        s = frame[column]
        if kind == "numeric":
            out += numeric_problems(s, ref, column, role=f"the outcome of indicator {ind.id!r}", numbers=rows.numbers)
        elif kind == "week":
            out += _week_problems(study, data, s, ref, column, params)
    return out


def _week_problems(study: Study, data: StudyData, s: pd.Series, ref: RowRef, column: str, params) -> list[str]:
    labels = [f"{ref.word} {ref.line(i)}" for i in range(len(s))]
    try:
        ords = parse_weeks(s.astype("object").where(s.notna(), None).to_numpy(), file=ref.file, column=column, rows=labels)
    except DataValidationError as exc:
        return [f"{ref.file}: {m.split(': ', 1)[1]}" if m.startswith(ref.file) else m for m in exc.problems]
    panel = data.frames.get(params.get("register", "register"))
    if not isinstance(panel, Panel) or not len(panel.weeks):
        return []
    out = np.flatnonzero((ords < panel.weeks.first) | (ords > panel.weeks.last))
    if not len(out):
        return []
    return [f"{ref.head(out)}: column {column!r} (index week) has {len(out)} week(s) outside the register's weeks "
            f"{format_week(panel.weeks.first)}–{format_week(panel.weeks.last)}: "
            f"{ref.at(out, [s.iloc[i] for i in out])}; the register must cover every index week (declare its "
            "weeks: {first: …, last: …} if the extract covers more than its codes show)"]


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for m in items:
        if m not in seen:
            seen.add(m)
            out.append(m)
    return out


def prepare_study(study: Study) -> PreparedStudy:
    """Read, compute and check everything ``run`` needs, short of estimating (``validate`` runs this).

    Raises
    ------
    DataValidationError
        Every problem found, one line each, with the study file's line or the data file, column and rows.
    """
    problems: list[str] = []
    data = load_study_data(study, problems=problems)
    prepared = PreparedStudy(study=study, data=data)
    indicator_pos = {ind.id: j for j, ind in enumerate(study.theory.indicators)}
    for i, a in enumerate(study.analyses):
        if a.data not in data.frames:
            continue  # its source's problems are listed
        fam = a.family
        ind = study.theory.indicator(a.indicator) if a.indicator else None
        if fam.needs_metric and ind is not None and ind.metric is not None:
            bad = _metric_input_problems(study, data, ind, indicator_pos[ind.id])
            if bad:
                problems += bad
                continue
            needed = [src for src, _, _ in metric_inputs(ind.metric.name, ind.metric.params)]
            needed += [v for k, v in ind.metric.params.items() if k in ("register", "participants", "source") and isinstance(v, str)]
            if "register" in METRICS[ind.metric.name].params() and "register" not in ind.metric.params:
                needed.append("register")
            if any(src in study.data and src not in data.frames for src in needed):
                continue  # a source it reads failed: its problems are listed
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                inp = analysis_input(study, a, data)
            except EvaluationError as exc:
                where = study.where(("analyses", i))
                msgs = getattr(exc, "problems", None) or [str(exc)]
                problems += [f"{where} ({a.id}): {name_rows(m, data.rows)}" for m in msgs]
                continue
        prepared.warnings[a.id] = tuple(sorted({str(w.message) for w in caught}))
        found = fam.check_data(inp)
        for loc, msg in found:
            problems.append(name_rows(msg, data.rows) if loc is None else f"{study.where(('analyses', i) + tuple(loc))}: {msg}")
        if not found and ind is not None:
            problems += _constant_outcome_problems(study, a, ind, inp, indicator_pos[ind.id])
        for cid, params in a.check_params.items():
            # the check's parameters against the data (an event time the data have …); names and values were
            # checked when the study was loaded
            check = CHECKS.get(cid)
            if check is not None and check.applies_to(a.design) and not check_param_problems(check, params):
                for sub, msg in check_param_problems(check, params, inp):
                    problems.append(f"{study.where(('analyses', i, 'check_params', cid) + sub)}: {msg}")
        prepared.inputs[a.id] = inp
    prepared.targets = resolve_targets(study, data, problems)
    problems = _dedupe(problems)
    if problems:
        raise DataValidationError(problems)
    return prepared
