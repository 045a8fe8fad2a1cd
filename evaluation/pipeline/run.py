"""Run a study: declaration + data → metrics → designs → results bundle (disclosure applied here).

The bundle (``results/<slug>/results.json`` plus tables and figures) is the only thing the
report and the portfolio read. It holds no timestamps, so identical inputs give a
byte-identical bundle.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation import __version__
from evaluation.designs import get_design
from evaluation.disclosure import SuppressionLog, check_threshold, is_small, suppress_counts, suppress_share_rows
from evaluation.data.study_data import load_study_data
from evaluation.exceptions import DataValidationError, DisclosureError, EstimationError, SmallCellWarning
from evaluation.metrics.registry import compute_metric, describe_metric
from evaluation.results import EffectResult, Estimate, Result, replace_dir, write_json_atomic
from evaluation.declaration.study import Study, config_hash, load_study
from evaluation.metrics.targets import evaluate_target
from evaluation.designs.subgroups import subgroup_table

__all__ = ["run_study", "BUNDLE_FORMAT"]

BUNDLE_FORMAT = "evaluation.results/1"


def _outcome_frame(study: Study, analysis, data) -> pd.DataFrame:
    """The analysis data: the source frame with the indicator's metric as a column named by the indicator.

    For a panel metric (person × period), the long panel is joined to the source's person columns
    and the person id becomes a column ``person`` (designs with person fixed effects need it).
    """
    from evaluation.metrics.registry import METRICS

    ind = study.theory.indicator(analysis.indicator)
    values = compute_metric(ind.metric.name, data.frames, ind.metric.params)
    frame = data.frames[analysis.data]
    if METRICS[ind.metric.name].kind == "panel":
        long = values.rename(columns={"value": ind.id})
        extra = [c for c in frame.columns if c not in long.columns]
        out = long.join(frame[extra], how="left").reset_index()
        # panel designs need a balanced panel: persons with a censored period (emigrated, died, outside the
        # register) are left out, and the number is reported
        incomplete = out.loc[out[ind.id].isna(), "person"].unique()
        if len(incomplete):
            out = out[~out["person"].isin(incomplete)].reset_index(drop=True)
            warnings.warn(
                f"{len(incomplete)} person(er) med en periode uden observerede uger (udvandret, død eller uden for "
                f"registret) indgår ikke i analysen «{analysis.id}»", UserWarning, stacklevel=2)
        return out
    out = frame.copy()
    if not out.index.is_unique:
        # persons measured at several dates (a data source with period_column): one row per person and date.
        # The metric must give one value per row, in the same order; the pseudonymised id becomes a column
        # ``person`` so a design can pair a person's measurements.
        if not values.index.equals(out.index):
            raise EstimationError(
                f"analysis {analysis.id!r}: data source {analysis.data!r} has several rows per person (period_column), "
                f"but metric {ind.metric.name!r} gives one value per person; use a row-level metric such as 'column'"
            )
        out[ind.id] = values.to_numpy()
        return out.reset_index()
    out[ind.id] = values.reindex(out.index)
    return out


def _check_groups(study: Study, analysis, design, frame: pd.DataFrame) -> None:
    """Refuse to estimate when a compared group is empty or below the disclosure threshold."""
    params = design.get_params()
    col, treated, control = params.get("treatment"), params.get("treated"), params.get("control")
    if col is None or col not in frame.columns or treated is None or control is None:
        return
    path = study.resolve_path(study.data[analysis.data].path)
    counts = frame[col].value_counts(dropna=False)
    for label in (treated, control):
        n = int(counts.get(label, 0))
        if n == 0:
            found = ", ".join(f"{k!r} ({v})" for k, v in counts.items())
            raise DisclosureError(
                f"{path}: analysis {analysis.id!r}: the group {label!r} in column {col!r} is empty; "
                f"values found: {found}"
            )
        if n < study.report.disclosure_threshold:
            raise DisclosureError(
                f"{path}: analysis {analysis.id!r}: the group {label!r} in column {col!r} has {n} person(s), "
                f"fewer than the disclosure threshold of {study.report.disclosure_threshold}; no estimate can be published"
            )
        if n < study.report.min_group_size:
            raise EstimationError(
                f"{path}: analysis {analysis.id!r}: the group {label!r} has {n} persons, fewer than the study's "
                f"minimum group size of {study.report.min_group_size} (report.min_group_size)"
            )


def _disclose_matched(tables: dict, result: EffectResult, analysis_id: str, threshold: int,
                      log: SuppressionLog) -> tuple[dict, dict]:
    """Tables and diagnostics of a matched comparison, fit for publication.

    The 0 and 1 quantiles and the bounds of common support are single persons' scores and are
    dropped; the score histogram's counts and the counts in the diagnostics get small-cell
    suppression, and so do binary covariates' shares that rest on few persons.
    """
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
                    sub.assign(_n=result.diagnostics[size_key]), table=f"{analysis_id}: balance", share_column=cols[0],
                    n_column="_n", columns=cols + ["smd_before", "smd_after"], threshold=threshold, log=log,
                    label_column="covariate",
                ).drop(columns="_n")
        b = b.astype({c: "float64" for c in sub.columns if c.startswith(("mean_", "smd_"))})
        b.loc[sub.index, sub.columns] = sub
        tables["balance"] = b
    if "overlap_histogram" in tables:
        h = tables["overlap_histogram"].copy()
        h["bin"] = [f"{lo:.1f}–{hi:.1f}" for lo, hi in zip(h["bin_lower"], h["bin_upper"])]
        h = suppress_counts(h, table=f"{analysis_id}: propensity score-fordeling", count_columns=["n_treated", "n_control"],
                            label_column="bin", threshold=threshold, log=log)
        tables["overlap_histogram"] = h.drop(columns="bin")
    diagnostics = dict(result.diagnostics)
    diagnostics.pop("common_support", None)
    for key in ("n_outside_support_treated", "n_outside_support_control", "n_discarded_caliper",
                "n_discarded_exact_treated", "n_discarded_exact_control"):
        if key in diagnostics and is_small(diagnostics[key], threshold):
            log.add(f"{analysis_id}: diagnostik", key, "n", f"færre end {threshold} personer")
            diagnostics[key] = None
    return tables, diagnostics


def _disclose_effect(result: EffectResult, analysis_id: str, threshold: int, log: SuppressionLog) -> EffectResult:
    tables = dict(result.tables)
    if "groups" in tables:
        g = tables["groups"]
        counts = [c for c in ("n", "missing") if c in g.columns]
        deps = [c for c in g.columns if c not in ("group", "n", "missing")]
        tables["groups"] = suppress_counts(
            g, table=f"{analysis_id}: grupper", count_columns=counts, dependent={"n": deps},
            label_column="group" if "group" in g.columns else None, threshold=threshold, log=log,
        )
    if "balance" in tables:
        b = tables["balance"]
        lab = "covariate" if "covariate" in b.columns else None
        binary = b["binary"].astype(bool) if "binary" in b.columns else pd.Series(False, index=b.index)
        if binary.any():
            sub = b[binary]
            for side in ("intervention", "control"):
                if f"mean_{side}" in sub.columns and f"n_{side}" in sub.columns:
                    sub = suppress_share_rows(
                        sub, table=f"{analysis_id}: balance", share_column=f"mean_{side}", n_column=f"n_{side}",
                        columns=[f"mean_{side}", "smd"], threshold=threshold, log=log, label_column=lab,
                    )
            b = b.astype({c: "float64" for c in sub.columns if c in ("mean_intervention", "mean_control", "smd")})
            b.loc[sub.index, sub.columns] = sub
        tables["balance"] = b
    if "subgroups" in tables:
        # per moderator, so a suppressed level cannot be recovered from the group total
        parts = []
        for mod, part in tables["subgroups"].groupby("moderator", sort=False):
            parts.append(suppress_counts(
                part.assign(_label=part["moderator"] + "=" + part["level"].astype(str)),
                table=f"{analysis_id}: undergrupper", count_columns=["n_treated", "n_control"],
                dependent={"*": ["estimate", "ci_lower", "ci_upper", "p_value"]}, label_column="_label",
                threshold=threshold, log=log,
            ).drop(columns="_label"))
        tables["subgroups"] = pd.concat(parts, ignore_index=True)
    if "flow" in tables:
        f = tables["flow"]
        counts = [c for c in f.columns if c != "step" and pd.api.types.is_numeric_dtype(f[c])]
        tables["flow"] = suppress_counts(
            f, table=f"{analysis_id}: deltagerflow", count_columns=counts,
            label_column="step" if "step" in f.columns else None, threshold=threshold, log=log, complementary=False,
        )
    diagnostics = result.diagnostics
    if result.design == "matched_comparison":
        tables, diagnostics = _disclose_matched(tables, result, analysis_id, threshold, log)
    elif "overlap" in tables:
        # pre/post: persons measured at both dates, at one only, and (0/1 outcome) by status at both dates;
        # the status cells add up to 'both', so each part gets its own complementary suppression
        o = tables["overlap"]
        cells = o["measured"].astype(str).str.startswith("both_")
        parts = [suppress_counts(o[m], table=f"{analysis_id}: målt før og efter", count_columns=["n"],
                                 label_column="measured", threshold=threshold, log=log)
                 for m in (~cells, cells) if m.any()]
        tables["overlap"] = pd.concat(parts).sort_index()
    estimates = list(result.estimates)
    if result.outcome_type == "binary":
        # a share of n persons reveals k = share*n with and n-k without the outcome
        small = False
        level_terms = ("baseline_level", "follow_up_level") if result.design == "pre_post" else ()
        for e in estimates:
            if (e.term.startswith("share_") or e.term in level_terms) and not pd.isna(e.estimate):
                k = round(e.estimate * e.n)
                if is_small(k, threshold) or is_small(e.n - k, threshold):
                    small = True
        if result.design == "pre_post" and "overlap" in result.tables:
            # the change and its standard error for persons measured twice reveal the status-change cells
            o = result.tables["overlap"]
            small = small or any(is_small(n, threshold) for m, n in zip(o["measured"], o["n"]) if str(m).startswith("both_"))
        if small:
            kept = []
            for e in estimates:
                log.add(f"{analysis_id}: effekt", e.term, "estimate", f"bygger på en celle med færre end {threshold} personer")
                kept.append(Estimate(term=e.term, estimate=float("nan"), n=e.n, method=e.method,
                                     n_treated=e.n_treated, n_control=e.n_control))
            estimates = kept
            warnings.warn(f"{analysis_id}: estimates suppressed (a cell below {threshold} persons)", SmallCellWarning, stacklevel=2)
    return EffectResult(
        estimand=result.estimand, estimates=tuple(estimates), conf_level=result.conf_level, tables=tables,
        diagnostics=diagnostics, design=result.design, evidence_level=result.evidence_level,
        outcome_type=result.outcome_type,
    )


def _mde(result: EffectResult, unit: str | None, design=None, frame: pd.DataFrame | None = None) -> dict[str, Any] | None:
    """Minimum detectable effect (80 % power, 5 % two-sided) of the analysis.

    For a randomized comparison and a 2×2 DiD it is the declared design's own (clusters, strata,
    covariates' R², before/after correlation: :func:`evaluation.designs.power.mde_for_design`); otherwise
    that of a plain two-group comparison with the observed group sizes and spread.
    """
    from evaluation.designs.power import mde_for_design, mde_means, mde_proportions, mde_sentence_da

    if design is not None and frame is not None and design.name in ("randomized_comparison", "did_2x2"):
        try:
            r = mde_for_design(design, frame, unit=unit or "")
        except (EstimationError, DataValidationError, ValueError):
            r = None
        if r is not None:
            m = r.estimate_for("mde")
            if np.isfinite(m.estimate):
                return {"mde": float(m.estimate), "sentence_da": mde_sentence_da(r, unit=unit), "method": m.method}

    groups = result.tables.get("groups")
    e = next((x for x in result.estimates if x.n_treated is not None), None)
    if groups is None or e is None or not e.n_treated or not e.n_control:
        return None
    if result.outcome_type == "binary":
        ctrl = groups[groups["group"] == "control"]
        col = "share" if "share" in groups.columns else "mean"
        if ctrl.empty or pd.isna(ctrl[col].iloc[0]):
            return None
        r = mde_proportions(float(ctrl[col].iloc[0]), e.n_treated, e.n_control)
    else:
        if "sd" not in groups.columns or groups["sd"].isna().any():
            return None
        n, sd = groups["n"].astype(float), groups["sd"].astype(float)
        pooled = float(np.sqrt(((n - 1) * sd**2).sum() / (n.sum() - 2)))
        r = mde_means(e.n_treated, e.n_control, sd=pooled, unit=unit or "")
    return {"mde": float(r.estimate_for("mde").estimate), "sentence_da": mde_sentence_da(r, unit=unit),
            "method": r.estimate_for("mde").method}


def _disclose_cohorts(result: EffectResult, frame: pd.DataFrame, design, analysis_id: str, threshold: int,
                      log: SuppressionLog) -> EffectResult:
    """Add persons per cohort to cohort tables and suppress cohorts below the threshold."""
    params = design.get_params()
    unit, cohort = params.get("unit"), params.get("cohort")
    if unit not in frame.columns or cohort not in frame.columns:
        return result
    persons = frame.drop_duplicates(unit)
    sizes = persons.groupby(cohort)[unit].size()
    tables = dict(result.tables)
    cs = sizes.rename("n").reset_index().rename(columns={cohort: "cohort"})
    if "period_start" in frame.columns and "period" in frame.columns:
        starts = frame.drop_duplicates("period").set_index("period")["period_start"]
        cs["period_start"] = cs["cohort"].map(starts)
    tables["cohort_sizes"] = suppress_counts(cs.assign(_label=cs["cohort"].astype(str)), table=f"{analysis_id}: kohorter",
                                             count_columns=["n"], label_column="_label", threshold=threshold,
                                             log=log).drop(columns="_label")
    for name, col in (("by_cohort", "cohort"), ("group_time", "cohort")):
        t = tables.get(name)
        if t is None or col not in t.columns:
            continue
        t = t.copy()
        t["n"] = t[col].map(sizes).astype(float)
        value_cols = [c for c in t.columns if c not in (col, "n", "period", "time", "event_time")]
        tables[name] = suppress_counts(t.assign(_label=t[col].astype(str)), table=f"{analysis_id}: {name}",
                                       count_columns=["n"], dependent={"n": value_cols}, label_column="_label",
                                       threshold=threshold, log=log, complementary=False).drop(columns="_label")
    return dataclasses.replace(result, tables=tables)


def _time_course(study: Study, data, threshold: int, log: SuppressionLog) -> dict[str, Any] | None:
    """Weekly share self-supporting since the index week, by group, for the primary register-based comparison."""
    from evaluation.metrics.benefits import status_share_series
    from evaluation.data.registers import Panel

    primary = next((a for a in study.analyses if a.primary), study.analyses[0] if study.analyses else None)
    if primary is None or primary.design not in ("randomized_comparison", "matched_comparison"):
        return None
    reg = next((n for n, s in study.data.items() if s.kind == "register" and s.participants == primary.data), None)
    if reg is None or not isinstance(data.frames.get(reg), Panel):
        return None
    treat = primary.options.get("treatment", "group")
    parts = data.frames[primary.data]
    if "index_week" not in parts.columns or treat not in parts.columns:
        return None
    series = status_share_series(data.frames[reg], parts, "self_support", weeks=(1, 52), by=treat)
    series = series.rename(columns={treat: "group"})
    series["share"] = series["share"].astype(float)
    for i, r in series.iterrows():
        if is_small(r["n"], threshold) or is_small(r["n_status"], threshold) or is_small(r["n"] - r["n_status"], threshold):
            series.at[i, "share"] = float("nan")
            log.add("tidsforløb", f"{r['group']} uge {r['week']}", "share", f"bygger på færre end {threshold} personer")
    return {"status": "self_support", "analysis": primary.id,
            "records": series[["group", "week", "n", "share"]].to_dict(orient="list")}


def _weeks_per_unit(metric) -> int | None:
    """Weeks in the window of a share-of-weeks metric (so a share can be shown as weeks), else None."""
    if metric.name == "benefit_dependency":
        lo, hi = metric.params.get("window", (1, 52))
        return int(hi) - int(lo) + 1
    return None


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
    """
    study = load_study(study_dir)
    threshold = check_threshold(study.report.disclosure_threshold)
    data = load_study_data(study)
    log = SuppressionLog(threshold)

    analyses: list[dict[str, Any]] = []
    results: dict[str, Result] = {}
    for a in study.analyses:
        ind = study.theory.indicator(a.indicator)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = _outcome_frame(study, a, data)
            design = get_design(a.design)(outcome=ind.id, **a.options)
            _check_groups(study, a, design, frame)
            result = design.fit(frame, **a.fit)
        if a.subgroups or a.exploratory_subgroups:
            labels = study.data[a.data].labels
            parts = []
            mods = [m for m in study.theory.moderators if m.id in a.subgroups]
            explo = [SimpleNamespace(id=c, label=labels.get(c, c), variable=c) for c in a.exploratory_subgroups]
            # Holm correction within each family: pre-specified and exploratory tests are not pooled
            for family in (mods, explo):
                if family:
                    parts.append(subgroup_table(type(design), dict(a.options), dict(a.fit), frame, ind.id, family,
                                                min_group_size=study.report.min_group_size, threshold=threshold,
                                                prespecified={m.id for m in study.theory.moderators}))
            result = dataclasses.replace(result, tables={**result.tables, "subgroups": pd.concat(parts, ignore_index=True)})
        if a.design == "did_cs":
            result = _disclose_cohorts(result, frame, design, a.id, threshold, log)
        result = _disclose_effect(result, a.id, threshold, log)
        results[a.id] = result
        node = study.theory.node(ind.outcome)
        analyses.append({
            "id": a.id,
            "indicator": ind.id,
            "indicator_label": ind.label,
            "unit": ind.unit,
            "phrase": ind.phrase,
            "outcome": node.id,
            "outcome_label": node.label,
            # the analyses marked primary are primary; without any mark, those on a primary outcome are
            "primary": a.primary if any(x.primary for x in study.analyses) else node.primary,
            "design": a.design,
            "options": dict(a.options),
            "fit": dict(a.fit),
            "definition_da": describe_metric(ind.metric.name, ind.metric.params),
            "metric": ind.metric.model_dump(mode="json"),
            "weeks_per_unit": _weeks_per_unit(ind.metric),
            "warnings": sorted({str(w.message) for w in caught}),
            "mde": _mde(result, ind.unit, design, frame) if a.design in ("randomized_comparison", "matched_comparison", "did_2x2") else None,
            "result": result.to_dict(),
        })

    targets: list[dict[str, Any]] = []
    for ind in study.theory.indicators:
        if ind.target is None:
            continue
        declared = [t for t in study.targets if t.indicator == ind.id]
        tr = evaluate_target(ind, declared[0] if declared else None, study, results)
        targets.append({"indicator": ind.id, "label": ind.label, "unit": ind.unit,
                        "target": ind.target.model_dump(mode="json"), "result": tr.to_dict()})

    surveys: list[dict[str, Any]] = []
    if study.surveys:
        from evaluation.survey_pipeline import run_surveys

        surveys = run_surveys(study, data, threshold, log)

    time_course = _time_course(study, data, threshold, log)

    bundle = {
        "format": BUNDLE_FORMAT,
        "time_course": time_course,
        "study": _study_meta(study),
        "theory": study.theory.model_dump(mode="json", by_alias=True),
        "report_options": study.report.model_dump(mode="json"),
        "config_hash": config_hash(study.source_path),
        "data_hashes": dict(sorted(data.hashes.items())),
        "data_notes": {k: v for k, v in sorted(data.notes.items())},
        "package_version": __version__,
        "code_list_version": "; ".join(sorted({f.codes.version for f in data.frames.values() if hasattr(f, "codes")})) or None,
        "analyses": analyses,
        "targets": targets,
        "surveys": surveys,
        "disclosure": {
            "threshold": threshold,
            "min_group_size": study.report.min_group_size,
            "log": log.to_list(),
        },
        "figures": {},
        "labels": {k: v for src in study.data.values() for k, v in sorted(src.labels.items())},
        "value_labels": {k: dict(sorted(v.items())) for src in study.data.values() for k, v in sorted(src.value_labels.items())},
    }

    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    final = out_root / study.id
    tmp = Path(tempfile.mkdtemp(prefix=f".{study.id}.", dir=out_root))
    try:
        if figures:
            from evaluation.reporting.figures import write_study_figures

            bundle["figures"] = write_study_figures(bundle, tmp / "figures")
        tables_dir = tmp / "tables"
        tables_dir.mkdir()
        for a in analyses:
            res = results[a["id"]]
            res.tidy().to_csv(tables_dir / f"{a['id']}_estimates.csv", index=False, lineterminator="\n")
            for name, table in sorted(res.tables.items()):
                table.to_csv(tables_dir / f"{a['id']}_{name}.csv", index=False, lineterminator="\n")
        write_json_atomic(tmp / "results.json", bundle)
        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
