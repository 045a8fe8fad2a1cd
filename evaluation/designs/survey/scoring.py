"""Scoring a survey (brugermåling): scores, comparisons and disclosure control.

:func:`score_survey` turns a survey analysis (``design: survey``) into a JSON-ready record for
the results bundle; the survey family's figures and report parts draw only from that (already
disclosure-controlled) record.

Disclosure control (DESIGN.md §7) is applied in this module, once, before anything enters the
bundle. A published count of persons, or a share or mean computed from it, never rests on
1 … ``threshold - 1`` persons:

* **Distributions** (the whole survey, and by unit) are tables of category counts. A count of
  1 … threshold-1 is hidden (primary suppression). Then every *line* whose sum can be computed
  from other published numbers must hide zero or at least two cells (complementary
  suppression), repeated until nothing changes. The lines are: the valid categories of a row
  (their sum is the published number of valid answers), the missing codes of a row, the
  top-box and the other categories of a row whose top-box share is published (their sums follow
  from the share), and each category across units (its sum is the published total).
* **Top-box shares by unit** reveal ``k`` persons in and ``n - k`` out of the top box; a unit is
  hidden when ``n``, ``k`` or ``n - k`` is small, and when exactly one unit is hidden a second
  one (the smallest) is hidden too, since the total is published. A unit with a small ``n`` is
  hidden in every table of that item. A unit whose share is hidden also hides at least one
  top-box and one other category in its distribution row, so the share cannot be rebuilt.
* **Means** (per item and per unit) are published only when no valid category of the same
  distribution row is hidden: a mean and a row total are two equations that could recover two
  hidden cells.
* **Response rates** and **weighting classes** hide answer counts below the threshold and
  everything computed from them (:func:`~evaluation.disclosure.suppress_counts`).

Comparisons between units or waves use only the units whose shares are published.
Every hidden cell is written to the :class:`~evaluation.disclosure.SuppressionLog`.

The numbers of missing answers per item (returned questionnaires minus valid answers) are
published; the individual missing codes ("Ved ikke", two boxes ticked, blank) are protected as
above.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from evaluation._lazy import stats

from evaluation.disclosure import (
    SuppressionLog,
    check_threshold,
    is_small,
    suppress_counts,
)
from evaluation.exceptions import (
    DataValidationError,
    EstimationError,
    ReliabilityWarning,
)
from evaluation.metrics.scales import LikertScale, get_scale
from evaluation.metrics.survey import (
    compare_units,
    cronbach_alpha,
    distribution,
    item_mean,
    response_rate,
    scale_score,
    top_box_share,
    validate_answers,
    weighted_top_box,
)
from evaluation.results import Estimate, ScoreResult

__all__ = ["score_survey", "resolve_scale", "records_frame"]

_SMALL = "færre end {t} personer"
_SECONDARY = "sekundær diskretionering (ellers kunne en skjult celle regnes ud af de viste tal)"
_MEAN_REASON = "gennemsnittet kunne sammen med de viste tal afsløre en skjult celle"

#: the width in inches the survey charts are drawn and printed at (their text stays 9 pt)
FIGURE_WIDTH = 6.45


# ----------------------------------------------------------------------------- helpers
def _clean(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if (math.isnan(f) or math.isinf(f)) else f
    return v


def _records(df: pd.DataFrame) -> dict[str, Any]:
    return {"columns": [str(c) for c in df.columns],
            "data": [[_clean(v) for v in row] for row in df.itertuples(index=False, name=None)]}


def records_frame(rec: Mapping[str, Any] | None) -> pd.DataFrame:
    """A ``{"columns": [...], "data": [...]}`` record of the bundle as a DataFrame (None → empty)."""
    if not rec:
        return pd.DataFrame()
    return pd.DataFrame(rec["data"], columns=rec["columns"])


def resolve_scale(spec: str | Mapping[str, Any], where: str = "scale") -> LikertScale:
    """A shipped scale by name, or an inline scale declared in the study."""
    if isinstance(spec, str):
        return get_scale(spec)
    return LikertScale.from_dict(spec, where=where)


def _scale_record(scale: LikertScale) -> dict[str, Any]:
    return {
        "name": scale.name,
        "version": scale.version,
        "source": scale.source,
        "label_da": scale.label_da,
        "top_box_label_da": scale.top_box_label_da,
        "neutral": scale.neutral,
        "higher_is_positive": scale.higher_is_positive,
        "categories": [{"code": c, "label": lab, "top_box": c in scale.top_box}
                       for c, lab in zip(scale.codes, scale.labels)],
        "missing": [{"code": c, "label": lab} for c, lab in zip(scale.missing_codes, scale.missing_labels)],
        "blank_label": scale.blank_label,
    }


def _protect(counts: Sequence[float], lines: Sequence[Sequence[int]], hidden: np.ndarray,
             threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Primary + complementary suppression over lines of cells; returns (hidden, secondary)."""
    counts = [0.0 if c is None or pd.isna(c) else float(c) for c in counts]
    hidden = hidden.copy()
    secondary = np.zeros(len(counts), dtype=bool)
    for i, c in enumerate(counts):
        if is_small(c, threshold):
            hidden[i] = True
    changed = True
    while changed:
        changed = False
        for line in lines:
            h = [i for i in line if hidden[i]]
            if len(h) != 1:
                continue
            cand = [i for i in line if not hidden[i]]
            if not cand:
                continue
            pos = [i for i in cand if counts[i] > 0] or cand
            j = min(pos, key=lambda i: (counts[i], i))
            hidden[j] = True
            secondary[j] = True
            changed = True
    return hidden, secondary


def _hide_units(stats_by_unit: Mapping[Any, tuple[int, int | None]], threshold: int,
                already: Mapping[Any, str] | None = None) -> dict[Any, str]:
    """Units to hide: small n (or small k / n-k when k is given), then one more if only one is hidden."""
    hidden: dict[Any, str] = dict(already or {})
    for u, (n, k) in stats_by_unit.items():
        if u in hidden:
            continue
        if is_small(n, threshold):
            hidden[u] = _SMALL.format(t=threshold)
        elif k is not None and (is_small(k, threshold) or is_small(n - k, threshold)):
            hidden[u] = f"andelen svarer til {_SMALL.format(t=threshold)}"
    if len(hidden) == 1 and len(stats_by_unit) > 1:
        others = [u for u in stats_by_unit if u not in hidden and stats_by_unit[u][0] > 0]
        if others:
            j = min(others, key=lambda u: (stats_by_unit[u][0], str(u)))
            hidden[j] = _SECONDARY
    return hidden


def _mean_ci(x: pd.Series, conf_level: float) -> tuple[float, float, float, float, int]:
    x = x.dropna().astype(float)
    n = int(len(x))
    if n == 0:
        return float("nan"), float("nan"), float("nan"), float("nan"), 0
    m = float(x.mean())
    if n < 2:
        return m, float("nan"), float("nan"), float("nan"), n
    se = float(x.std(ddof=1)) / math.sqrt(n)
    t = stats.t.isf((1 - conf_level) / 2, n - 1)
    return m, se, m - t * se, m + t * se, n


def _fmt_rows(index: Sequence[Any]) -> str:
    shown = ", ".join(str(i) for i in list(index)[:5])
    return shown + (f", … ({len(index)} rows in all)" if len(index) > 5 else "")


# ------------------------------------------------------------------- distributions
def _distribution_block(
    dist: pd.DataFrame,
    scale: LikertScale,
    by: str | None,
    units: list[Any],
    share_hidden: Mapping[Any, str],
    full_hidden: Mapping[Any, str],
    threshold: int,
    log: SuppressionLog,
    table: str,
    row_label,
) -> tuple[pd.DataFrame, dict[Any, bool]]:
    """Suppress one item's distribution (rows = units or the single total row).

    Returns the published frame and, per unit, whether any *valid* category was hidden.
    """
    dist = dist.reset_index(drop=True)
    cats = [("valid", c) for c in scale.codes] + [("missing", c) for c in scale.missing_codes] + [("missing", None)]
    n_cat = len(cats)
    keys = units if by else [None]

    def cell_index(u_pos: int, c_pos: int) -> int:
        return u_pos * n_cat + c_pos

    row_of: dict[int, int] = {}
    for i, r in dist.iterrows():
        u_pos = keys.index(r[by]) if by else 0
        code = None if r["code"] is None or pd.isna(r["code"]) else int(r["code"])
        c_pos = cats.index((r["kind"], code))
        row_of[cell_index(u_pos, c_pos)] = i
    size = len(keys) * n_cat
    counts = [float(dist.at[row_of[j], "count"]) if j in row_of else 0.0 for j in range(size)]
    hidden = np.zeros(size, dtype=bool)
    forced_reason: dict[int, str] = {}

    valid_pos = [p for p, (kind, _) in enumerate(cats) if kind == "valid"]
    missing_pos = [p for p, (kind, _) in enumerate(cats) if kind == "missing"]
    top_pos = [p for p, (kind, c) in enumerate(cats) if kind == "valid" and c in scale.top_box]
    rest_pos = [p for p in valid_pos if p not in top_pos]
    lines: list[list[int]] = []
    for u_pos, u in enumerate(keys):
        cells = lambda ps: [cell_index(u_pos, p) for p in ps]  # noqa: E731
        if u in full_hidden:
            for j in cells(range(n_cat)):
                hidden[j] = True
                forced_reason[j] = f"hele enheden skjules: {full_hidden[u]}"
            continue
        lines += [cells(valid_pos), cells(missing_pos)]
        if u not in share_hidden:
            lines += [cells(top_pos), cells(rest_pos)]
    if by:
        for p in range(n_cat):
            lines.append([cell_index(u_pos, p) for u_pos in range(len(keys))])
    # primary suppression first, then force a hidden top-box and a hidden other cell where the
    # share is hidden (so it cannot be rebuilt from the row), then complementary suppression
    for j, c in enumerate(counts):
        if is_small(c, threshold):
            hidden[j] = True
    for u_pos, u in enumerate(keys):
        if u in share_hidden and u not in full_hidden:
            for group in (top_pos, rest_pos):
                cs = [cell_index(u_pos, p) for p in group]
                if not any(hidden[j] for j in cs):
                    pos = [j for j in cs if counts[j] > 0] or cs
                    j = min(pos, key=lambda j: (counts[j], j))
                    hidden[j] = True
                    forced_reason[j] = f"andelen i øverste kategorier er skjult ({share_hidden[u]})"
    hidden, secondary = _protect(counts, lines, hidden, threshold)

    out = dist.copy()
    for col in ("count", "share", "share_all"):
        out[col] = out[col].astype("float64")
    any_valid_hidden: dict[Any, bool] = {}
    for u_pos, u in enumerate(keys):
        any_valid_hidden[u] = any(hidden[cell_index(u_pos, p)] for p in valid_pos)
    for j in range(size):
        if not hidden[j] or j not in row_of:
            continue
        i = row_of[j]
        if j in forced_reason:
            reason = forced_reason[j]
        elif secondary[j]:
            reason = _SECONDARY
        else:
            reason = _SMALL.format(t=threshold)
        label = row_label(out.loc[i])
        if counts[j] > 0 or j in forced_reason or secondary[j]:
            log.add(table, label, "antal og andele", reason)
        for col in ("count", "share", "share_all"):
            out.at[i, col] = float("nan")
    return out, any_valid_hidden


# ------------------------------------------------------------------------ one survey
def _wrap_validation(exc: Exception, path: Path, survey_id: str, source: str) -> DataValidationError:
    msg = str(exc).replace("rows are index labels of the frame", "rows are line numbers in the file, header = line 1")
    return DataValidationError(f"{path}: survey {survey_id!r} (data source {source!r}): {msg}")


def score_survey(sv, frames: Mapping[str, pd.DataFrame], paths: Mapping[str, str], threshold: int, log: SuppressionLog,
                 conf_level: float = 0.95, where: str = "options.scale") -> dict[str, Any]:
    """Score one survey and return its disclosure-controlled, JSON-ready record.

    ``sv`` carries the survey's declaration (``id``, ``data``, ``indicator`` and the fields of
    :class:`~evaluation.designs.survey.options.SurveyOptions`); ``frames`` and ``paths`` are the
    study's data sources and their files (for messages). Every hidden cell goes to ``log``.
    """
    threshold = check_threshold(threshold)
    path = paths.get(sv.data, sv.data)
    scale = resolve_scale(sv.scale, where=where)
    df = frames[sv.data].reset_index(drop=True)
    df.index = pd.RangeIndex(2, len(df) + 2)  # line numbers in the file (header = line 1)
    items = [{"id": it.id or it.column, "column": it.column, "text": it.text, "reversed": it.reversed} for it in sv.items]
    columns = [it["column"] for it in items]
    group_cols = [c for c in dict.fromkeys([sv.unit, sv.wave, *sv.weighting_classes]) if c]
    absent = [c for c in dict.fromkeys(columns + group_cols) if c not in df.columns]
    if absent:
        raise DataValidationError(
            f"{path}: survey {sv.id!r} (data source {sv.data!r}) has no column(s) {', '.join(map(repr, absent))}; "
            f"the file has: {', '.join(map(str, df.columns))}")
    for c in group_cols:
        na = df.index[df[c].isna().to_numpy()]
        if len(na):
            raise DataValidationError(f"{path}: survey {sv.id!r}: column {c!r} is empty in rows {_fmt_rows(na)} "
                                      "(line numbers in the file, header = line 1)")
    try:
        validate_answers(df, columns, scale, keep_missing_codes=True)
    except DataValidationError as exc:
        raise _wrap_validation(exc, path, sv.id, sv.data) from None
    # plain object columns for grouping (stable sort of units, JSON-friendly values)
    for c in group_cols:
        if not pd.api.types.is_numeric_dtype(df[c]):
            df[c] = df[c].astype(str)
        else:
            df[c] = df[c].astype("int64") if (df[c].dropna() % 1 == 0).all() else df[c].astype(float)

    unit = sv.unit
    units = sorted(df[unit].unique().tolist(), key=lambda v: (str(type(v)), v)) if unit else []
    messages: list[str] = []
    notes: list[str] = []

    # ---------------------------------------------------------------- response rate
    planned_df = None
    rr_record = None
    if sv.planned:
        ppath = paths.get(sv.planned, sv.planned)
        planned_df = frames[sv.planned].reset_index(drop=True)
        planned_df.index = pd.RangeIndex(2, len(planned_df) + 2)
        if sv.planned_column not in planned_df.columns:
            raise DataValidationError(f"{ppath}: survey {sv.id!r}: data source {sv.planned!r} has no column "
                                      f"{sv.planned_column!r} (planned_column); the file has: {', '.join(map(str, planned_df.columns))}")
        for c in group_cols:
            if c in planned_df.columns:
                planned_df[c] = planned_df[c].astype(str) if not pd.api.types.is_numeric_dtype(df[c]) else planned_df[c]
        by = [unit] if unit and unit in planned_df.columns else None
        try:
            rr = response_rate(df, planned_df, by=by, planned_col=sv.planned_column, conf_level=conf_level)
        except DataValidationError as exc:
            raise DataValidationError(f"{ppath}: survey {sv.id!r}: {exc}") from None
        total = rr.estimate_for("response_rate")
        rr_record = {
            "result": ScoreResult(estimand=rr.estimand, estimates=(total,), conf_level=conf_level,
                                  diagnostics={"answers": rr.diagnostics["answers"], "planned": rr.diagnostics["planned"]}).to_dict(),
            "answers": int(rr.diagnostics["answers"]),
            "planned": int(rr.diagnostics["planned"]),
            "by_unit": None,
            "units_below": [],
        }
        if by:
            t = rr.tables["by_group"][[unit, "planned", "answers", "estimate", "ci_lower", "ci_upper"]]
            t = suppress_counts(t, table=f"{sv.id}: svarprocent efter {unit}", count_columns=["answers"],
                                dependent={"answers": ["estimate", "ci_lower", "ci_upper"]}, label_column=unit,
                                threshold=threshold, log=log)
            rr_record["by_unit"] = _records(t)
            rr_record["units_below"] = [r[unit] for _, r in t.iterrows() if not pd.isna(r["estimate"]) and r["estimate"] < 0.5]

    # ---------------------------------------------------------------- per item
    dist_total = distribution(df, columns, scale)
    dist_unit = distribution(df, columns, scale, by=unit) if unit else None
    weighting_ok = bool(sv.weighting_classes) and planned_df is not None and all(
        c in planned_df.columns for c in sv.weighting_classes)
    if sv.weighting_classes and not weighting_ok:
        notes.append("weighting: the planned source lacks the weighting class columns "
                     f"{[c for c in sv.weighting_classes if planned_df is None or c not in planned_df.columns]}")
    item_records = []
    for it in items:
        col, iid = it["column"], it["id"]
        tb = top_box_share(df, col, scale, by=unit, conf_level=conf_level)
        mean = item_mean(df, col, scale, by=unit, conf_level=conf_level, reverse=False)
        total = tb.estimate_for("share_top_box")
        n_valid = int(total.n)
        n_answers = int(len(df))
        k_total = int(round(total.estimate * n_valid)) if n_valid else 0

        # total: hide the share when n, k or n-k is small
        total_hidden: dict[Any, str] = {}
        if is_small(n_valid, threshold):
            total_hidden[None] = _SMALL.format(t=threshold)
        elif is_small(k_total, threshold) or is_small(n_valid - k_total, threshold):
            total_hidden[None] = f"andelen svarer til {_SMALL.format(t=threshold)}"
        d_tot = dist_total[dist_total["item"] == col].drop(columns=["n_valid", "n_missing"])
        full_total = {None: total_hidden[None]} if None in total_hidden and is_small(n_valid, threshold) else {}
        d_tot, any_tot_hidden = _distribution_block(
            d_tot, scale, None, [None], total_hidden, full_total, threshold, log,
            f"{sv.id}: svarfordeling", lambda r, iid=iid: f"{iid}: {r['label']}")
        tb_total = total
        if None in total_hidden:
            log.add(f"{sv.id}: andel i øverste kategorier", iid, "estimate", total_hidden[None])
            tb_total = Estimate(term=total.term, estimate=float("nan"), n=0 if full_total else n_valid, method=total.method)
        m_total = mean.estimate_for("mean")
        if None in total_hidden or any_tot_hidden[None]:
            if not pd.isna(m_total.estimate):
                log.add(f"{sv.id}: gennemsnit", iid, "estimate",
                        total_hidden.get(None) or _MEAN_REASON)
            m_total = Estimate(term="mean", estimate=float("nan"), n=0 if full_total else m_total.n, method=m_total.method)

        rec: dict[str, Any] = {
            **it,
            "n_answers": n_answers,
            "n_valid": None if full_total else n_valid,
            "n_missing": None if full_total else n_answers - n_valid,
            "distribution": _records(d_tot),
            "top_box": ScoreResult(estimand=tb.estimand, estimates=(tb_total,), conf_level=conf_level,
                                   diagnostics={"item": col, "scale_version": scale.version,
                                                "interval_method": "wilson"}, scale=scale.name).to_dict(),
            "mean": ScoreResult(estimand=mean.estimand, estimates=(m_total,), conf_level=conf_level,
                                diagnostics={"item": col, "scale_version": scale.version}, scale=scale.name).to_dict(),
            "distribution_by_unit": None,
            "top_box_by_unit": None,
            "mean_by_unit": None,
            "compare_units": None,
            "compare_waves": None,
            "weighted": None,
        }

        if unit:
            bg = tb.tables["by_group"]
            n_u = {r[unit]: int(r["n"]) for _, r in bg.iterrows()}
            k_u = {r[unit]: int(round(r["estimate"] * r["n"])) if r["n"] else 0 for _, r in bg.iterrows()}
            full = _hide_units({u: (n_u[u], None) for u in units}, threshold)
            share_hidden = _hide_units({u: (n_u[u], k_u[u]) for u in units}, threshold, already=full)
            d_u = dist_unit[dist_unit["item"] == col].drop(columns=["n_valid", "n_missing"])
            d_u, any_u_hidden = _distribution_block(
                d_u, scale, unit, units, share_hidden, full, threshold, log,
                f"{sv.id}: svarfordeling efter {unit}", lambda r, iid=iid: f"{iid}: {r[unit]}: {r['label']}")
            rec["distribution_by_unit"] = _records(d_u)
            rows, mrows = [], []
            mbg = mean.tables["by_group"]
            for u in units:
                r = bg[bg[unit] == u].iloc[0]
                row = {unit: u, "n": float(n_u[u]), "estimate": float(r["estimate"]),
                       "ci_lower": float(r["ci_lower"]), "ci_upper": float(r["ci_upper"])}
                if u in share_hidden:
                    cols = ("n", "estimate", "ci_lower", "ci_upper") if u in full else ("estimate", "ci_lower", "ci_upper")
                    for c in cols:
                        row[c] = float("nan")
                    log.add(f"{sv.id}: andel i øverste kategorier efter {unit}", f"{iid}: {u}",
                            "antal, andel og sikkerhedsinterval" if u in full else "andel og sikkerhedsinterval",
                            share_hidden[u])
                rows.append(row)
                mr = mbg[mbg[unit] == u].iloc[0]
                mrow = {unit: u, "n": float(mr["n"]), "estimate": float(mr["estimate"]),
                        "ci_lower": float(mr["ci_lower"]), "ci_upper": float(mr["ci_upper"])}
                if u in share_hidden or any_u_hidden[u]:
                    reason = share_hidden.get(u, _MEAN_REASON)
                    log.add(f"{sv.id}: gennemsnit efter {unit}", f"{iid}: {u}", "gennemsnit og sikkerhedsinterval", reason)
                    for c in ("estimate", "ci_lower", "ci_upper"):
                        mrow[c] = float("nan")
                    if u in full:
                        mrow["n"] = float("nan")
                mrows.append(mrow)
            rec["top_box_by_unit"] = _records(pd.DataFrame(rows, columns=[unit, "n", "estimate", "ci_lower", "ci_upper"]))
            rec["mean_by_unit"] = _records(pd.DataFrame(mrows, columns=[unit, "n", "estimate", "ci_lower", "ci_upper"]))
            ok = [u for u in units if u not in share_hidden]
            rec["compare_units"] = _comparison(df, col, scale, unit, ok, units, share_hidden, conf_level)

        if sv.wave:
            waves = sorted(df[sv.wave].unique().tolist(), key=lambda v: (str(type(v)), v))
            wtb = top_box_share(df, col, scale, by=sv.wave, conf_level=conf_level).tables["by_group"]
            n_w = {r[sv.wave]: int(r["n"]) for _, r in wtb.iterrows()}
            k_w = {r[sv.wave]: int(round(r["estimate"] * r["n"])) if r["n"] else 0 for _, r in wtb.iterrows()}
            w_hidden = _hide_units({w: (n_w[w], k_w[w]) for w in waves}, threshold)
            for w, reason in sorted(w_hidden.items(), key=lambda kv: str(kv[0])):
                log.add(f"{sv.id}: andel i øverste kategorier efter {sv.wave}", f"{iid}: {w}", "estimate", reason)
            ok = [w for w in waves if w not in w_hidden]
            rec["compare_waves"] = _comparison(df, col, scale, sv.wave, ok, waves, w_hidden, conf_level)

        if weighting_ok:
            rec["weighted"] = _weighted(df, col, iid, scale, sv, planned_df, threshold, log, conf_level, notes)
        item_records.append(rec)

    # ---------------------------------------------------------------- scale score and reliability
    reliability = None
    if sv.scale_score and len(columns) >= 2:
        reliability = _reliability(df, items, scale, unit, units, threshold, log, conf_level, sv.id, messages)

    return {
        "id": sv.id,
        "title": sv.title,
        "data": sv.data,
        "planned_source": sv.planned,
        "indicator": sv.indicator,
        "unit": unit,
        "wave": sv.wave,
        "weighting_classes": list(sv.weighting_classes),
        "units": units,
        "scale": _scale_record(scale),
        "n_answers": int(len(df)),
        "response_rate": rr_record,
        "items": item_records,
        "reliability": reliability,
        "warnings": sorted(set(messages)),
        "notes": sorted(set(notes)),
        "conf_level": conf_level,
    }


def _comparison(df, col, scale, unit, ok, all_units, hidden, conf_level) -> dict[str, Any] | None:
    left_out = [u for u in all_units if u not in ok]
    if len(ok) < 2:
        return {"result": None, "left_out": left_out, "reason": "fewer than two units with publishable shares"}
    try:
        r = compare_units(df, col, scale, unit, conf_level=conf_level, p_adjust="holm", units=ok)
    except EstimationError as exc:
        return {"result": None, "left_out": left_out, "reason": str(exc)}
    tables = {k: v for k, v in r.tables.items() if k != "distribution"}
    diag = dict(r.diagnostics)
    diag["units_left_out"] = left_out
    res = ScoreResult(estimand=r.estimand, estimates=r.estimates, conf_level=r.conf_level, tables=tables,
                      diagnostics=diag, scale=r.scale)
    return {"result": res.to_dict(), "left_out": left_out, "reason": None}


def _weighted(df, col, iid, scale, sv, planned_df, threshold, log, conf_level, notes) -> dict[str, Any] | None:
    cls = list(sv.weighting_classes)
    try:
        r = weighted_top_box(df, col, scale, cls, planned_df, planned_col=sv.planned_column, conf_level=conf_level)
    except EstimationError as exc:
        notes.append(f"weighting of {iid!r} not possible: {exc}")
        return {"result": None, "reason": str(exc)}
    classes = r.tables["classes"][[*cls, "planned", "answers", "weight"]].copy()
    classes["_label"] = classes[cls].astype(str).agg(" / ".join, axis=1)
    classes = suppress_counts(classes, table=f"{sv.id}: vægtningsklasser ({iid})", count_columns=["answers"],
                              dependent={"answers": ["weight"]}, label_column="_label", threshold=threshold,
                              log=log).drop(columns="_label")
    unw, wtd = r.estimates
    out = ScoreResult(estimand=r.estimand, estimates=(unw, wtd), conf_level=r.conf_level,
                      tables={"classes": classes},
                      diagnostics={k: v for k, v in r.diagnostics.items()}, scale=r.scale)
    return {"result": out.to_dict(), "reason": None}


def _reliability(df, items, scale, unit, units, threshold, log, conf_level, sid, messages) -> dict[str, Any]:
    cols = [it["column"] for it in items]
    rev = [it["column"] for it in items if it["reversed"]]
    ids = {it["column"]: it["id"] for it in items}
    out: dict[str, Any] = {"items": [ids[c] for c in cols], "reverse_items": [ids[c] for c in rev]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReliabilityWarning)
        try:
            alpha = cronbach_alpha(df, cols, scale, reverse_items=rev, conf_level=conf_level)
        except EstimationError as exc:
            alpha = None
            out["alpha_error"] = str(exc)
    messages.extend(str(w.message) for w in caught if issubclass(w.category, ReliabilityWarning))
    if alpha is not None:
        t = alpha.tables["items"].copy()
        t["item"] = t["item"].map(ids)
        alpha = ScoreResult(estimand=alpha.estimand, estimates=alpha.estimates, conf_level=alpha.conf_level,
                            tables={"items": t}, diagnostics=alpha.diagnostics, scale=alpha.scale)
        out["alpha"] = alpha.to_dict()
        messages.extend(alpha.diagnostics.get("warnings", []))
    else:
        out["alpha"] = None
    score = scale_score(df, cols, scale, reverse_items=rev)
    m, se, lo, hi, n = _mean_ci(score, conf_level)
    method = "mean of the respondents' scale scores (mean of valid item points, at least half the items), t interval"
    est = Estimate(term="mean_scale_score", estimate=m, std_error=se, ci_lower=lo, ci_upper=hi, n=n, method=method)
    if is_small(n, threshold):
        log.add(f"{sid}: samlet skala", "i alt", "estimate", _SMALL.format(t=threshold))
        est = Estimate(term="mean_scale_score", estimate=float("nan"), n=0, method=method)
    out["score"] = ScoreResult(estimand="mean scale score", estimates=(est,), conf_level=conf_level,
                               diagnostics={"min_items": math.ceil(len(cols) / 2)}, scale=scale.name).to_dict()
    out["score_by_unit"] = None
    if unit:
        per = {u: _mean_ci(score[(df[unit] == u).to_numpy()], conf_level) for u in units}
        hidden = _hide_units({u: (per[u][4], None) for u in units}, threshold)
        rows = []
        for u in units:
            mu, _, lu, hu, nu = per[u]
            if u in hidden:
                log.add(f"{sid}: samlet skala efter {unit}", str(u), "antal, gennemsnit og sikkerhedsinterval", hidden[u])
                mu = lu = hu = float("nan")
                nu = float("nan")
            rows.append({unit: u, "n": nu, "estimate": mu, "ci_lower": lu, "ci_upper": hu})
        out["score_by_unit"] = _records(pd.DataFrame(rows, columns=[unit, "n", "estimate", "ci_lower", "ci_upper"]))
    return out
