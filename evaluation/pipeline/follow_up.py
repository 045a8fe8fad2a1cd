"""Targets read from follow-up figures: a ``figures`` data source (e.g. a jobindsats.dk export).

A target may name where its numbers are instead of writing them (``targets[].figures``): the data
source, the row (chosen by column values, compared as text) and the column of each number. The
numbers are read here, before goal attainment is evaluated; a cell holding a declared missing
value (jobindsats.dk writes ``..`` for figures withheld for discretion) leaves the number unknown,
so the target is "not yet decidable". Problems name the study file's line, and the figures file,
its column and its rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaluation.data.checks import as_numbers
from evaluation.data.tables import column_list

__all__ = ["resolve_targets"]

_NUMBERS = ("baseline", "observed", "n_baseline", "n_observed")


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _cell(study, data, i: int, figures, key: str, spec, problems: list[str], reported: set) -> tuple[bool, float | None]:
    """(found, value) of one number; problems are appended (a row selection's problem once)."""
    loc = ("targets", i, "figures", key)
    frame = data.frames.get(figures.data)
    rows = data.rows.get(figures.data)
    if frame is None or rows is None:
        return False, None
    if isinstance(spec, str):
        select, column = dict(figures.row), spec
    else:
        select, column = {**dict(figures.row), **dict(spec.row)}, spec.column
    missing = [c for c in [*select, column] if c not in frame.columns]
    if missing:
        problems.append(f"{study.where(loc)}: the figures in {rows.file} have no column(s) "
                        f"{', '.join(map(repr, missing))}; they have: {column_list(frame.columns)}")
        return False, None
    mask = np.ones(len(frame), dtype=bool)
    for col, value in select.items():
        mask &= frame[col].map(lambda v: _text(v) if v is not None and v is not pd.NA else None).to_numpy() == _text(value)
    hits = np.flatnonzero(mask)
    ref = rows.ref()
    chosen = ", ".join(f"{c} = {v!r}" for c, v in select.items()) or "no row selection"
    if len(hits) != 1:
        what = "no row" if not len(hits) else f"{len(hits)} rows ({ref.where(hits)})"
        hint = "" if select else "; choose it with row: {column: value}"
        shared = isinstance(spec, str)
        if not (shared and (i, "row") in reported):
            where = study.where(("targets", i, "figures", "row") if shared and figures.row else loc)
            problems.append(f"{where}: {chosen} selects {what} of {rows.file}; expected exactly one{hint}")
            if shared:
                reported.add((i, "row"))
        return False, None
    s = frame[column].iloc[hits]
    if s.isna().all():
        return True, None  # withheld or not yet available: the number is unknown
    vals, ok = as_numbers(s, rows.numbers)
    if not ok[0] or not np.isfinite(vals[0]):
        problems.append(f"{ref.head(hits)}: column {column!r} holds {s.iloc[0]!r}, which is not a number (target "
                        f"{study.targets[i].id!r}, {study.where(loc).split(': ')[0]}); declare it as missing "
                        "(missing_values on the data source) if it means 'not available'")
        return False, None
    v = float(vals[0])
    if key.startswith("n_"):
        if v < 0 or not v.is_integer():
            problems.append(f"{ref.head(hits)}: column {column!r} holds {s.iloc[0]!r}, which is not a number of persons "
                            f"(target {study.targets[i].id!r})")
            return False, None
        return True, int(v)
    return True, v


def resolve_targets(study, data, problems: list[str]) -> list[Any]:
    """The study's targets with the numbers their ``figures`` name filled in (problems appended)."""
    out = []
    for i, t in enumerate(study.targets):
        figures = getattr(t, "figures", None)
        if figures is None:
            out.append(t)
            continue
        update: dict[str, Any] = {}
        reported: set = set()
        for key in _NUMBERS:
            spec = getattr(figures, key)
            if spec is None:
                continue
            found, value = _cell(study, data, i, figures, key, spec, problems, reported)
            if found:
                update[key] = value
        out.append(t.model_copy(update=update))
    return out
