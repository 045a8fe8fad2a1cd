"""The one result vocabulary shared by every design, metric score and target check.

Every result exposes ``tidy()`` returning a :class:`pandas.DataFrame` with exactly the
columns in :data:`TIDY_COLUMNS` (plus :data:`COMPARISON_COLUMNS` extras for
intervention/control comparisons). The names are part of the public API and never change.

Results are frozen dataclasses; they serialise to plain JSON (``to_dict``) for the results
bundle and back (``from_dict``) for the report and the portfolio.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping

import numpy as np
import pandas as pd

from evaluation.exceptions import ConcurrentRunError, EvaluationError, UnknownNameError

__all__ = [
    "TIDY_COLUMNS",
    "COMPARISON_COLUMNS",
    "Estimate",
    "Result",
    "EffectResult",
    "ScoreResult",
    "SurveyResult",
    "TargetResult",
    "result_from_dict",
    "AnalysisRecord",
    "TargetRecord",
    "Bundle",
    "load_bundle",
    "write_json_atomic",
    "replace_dir",
    "bundle_fingerprint",
    "output_lock",
    "LOCK_TIMEOUT_ENV",
    "read_bundle",
]

TIDY_COLUMNS: tuple[str, ...] = (
    "term",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "ci_lower",
    "ci_upper",
    "n",
    "method",
    "role",
)
COMPARISON_COLUMNS: tuple[str, ...] = TIDY_COLUMNS + ("n_treated", "n_control")

#: what a row of ``tidy()`` is: an effect (a contrast with a counterfactual), a descriptive number (a
#: group's mean or share, a level, a response rate), a placebo check, or a target check
ROLES = ("effect", "descriptive", "placebo", "target")


def term_role(term: str) -> str:
    """The role of an estimate by its term (see :data:`ROLES`)."""
    if term.startswith("placebo"):
        return "placebo"
    if term.startswith(("mean_", "share_")) or term in ("baseline_level", "follow_up_level", "response_rate", "level"):
        return "descriptive"
    if term in ("assessment", "relative_change_from_baseline", "change_from_baseline"):
        return "target"
    return "effect"


def _clean(value: Any) -> Any:
    """Convert numpy scalars and NaN to JSON-friendly Python values (NaN -> None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    return value


def _fmt(x: Any, p: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if p:
        return "<0.001" if x < 0.001 else f"{x:.3f}"
    return f"{x:.4g}"


def _float_or_nan(value: Any) -> float:
    return float("nan") if value is None else float(value)


@dataclass(frozen=True)
class Estimate:
    """One row of a tidy result.

    Parameters
    ----------
    term : str
        What is estimated, snake_case (``"difference_in_proportions"``, ``"share_top_box"``).
    estimate, std_error, statistic, p_value, ci_lower, ci_upper : float
        NaN where the method gives no such quantity (e.g. no p-value for a share).
    n : int
        Number of units the estimate is based on.
    method : str
        Estimator and interval method in words, e.g. ``"difference in proportions, Newcombe"``.
    n_treated, n_control : int, optional
        Group sizes for comparisons.
    """

    term: str
    estimate: float
    std_error: float = float("nan")
    statistic: float = float("nan")
    p_value: float = float("nan")
    ci_lower: float = float("nan")
    ci_upper: float = float("nan")
    n: int = 0
    method: str = ""
    n_treated: int | None = None
    n_control: int | None = None

    @property
    def role(self) -> str:
        """An effect, a descriptive number, a placebo check or a target check (from the term)."""
        return term_role(self.term)

    def to_dict(self) -> dict[str, Any]:
        out = {c: _clean(getattr(self, c)) for c in TIDY_COLUMNS if c != "role"}
        if self.n_treated is not None or self.n_control is not None:
            out["n_treated"] = _clean(self.n_treated)
            out["n_control"] = _clean(self.n_control)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Estimate":
        return cls(
            term=d["term"],
            estimate=_float_or_nan(d.get("estimate")),
            std_error=_float_or_nan(d.get("std_error")),
            statistic=_float_or_nan(d.get("statistic")),
            p_value=_float_or_nan(d.get("p_value")),
            ci_lower=_float_or_nan(d.get("ci_lower")),
            ci_upper=_float_or_nan(d.get("ci_upper")),
            n=int(d.get("n") or 0),
            method=d.get("method", ""),
            n_treated=d.get("n_treated"),
            n_control=d.get("n_control"),
        )


def _frame_to_records(df: pd.DataFrame) -> dict[str, Any]:
    return {
        "columns": [str(c) for c in df.columns],
        "data": [[_clean(v) for v in row] for row in df.itertuples(index=False, name=None)],
    }


def _records_to_frame(d: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(d["data"], columns=d["columns"])


@dataclass(frozen=True)
class Result:
    """Base of every result: a tuple of :class:`Estimate` rows plus supporting tables.

    Attributes
    ----------
    kind : str
        ``"effect"``, ``"score"`` or ``"target"``.
    estimand : str
        The quantity estimated, in words (English); the report translates known estimands.
    estimates : tuple of Estimate
    conf_level : float
        Confidence level of every interval (default 0.95).
    tables : mapping of str to DataFrame
        Supporting tables (balance, group summaries, distributions), already aggregated.
    diagnostics : mapping
        JSON-serialisable scalars and small lists (seeds, draws, warnings).
    """

    estimand: str
    estimates: tuple[Estimate, ...]
    conf_level: float = 0.95
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "result"
    #: what the estimator keeps for the assumption checks run with it (e.g. the covariance matrix of the
    #: event-study coefficients); never serialised into the bundle, not compared
    internals: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_comparison(self) -> bool:
        return any(e.n_treated is not None for e in self.estimates)

    def tidy(self) -> pd.DataFrame:
        """Return the estimates with exactly the tidy columns (``COMPARISON_COLUMNS`` for comparisons)."""
        cols = COMPARISON_COLUMNS if self.is_comparison else TIDY_COLUMNS
        rows = []
        for e in self.estimates:
            row = {c: getattr(e, c) for c in cols}
            rows.append(row)
        df = pd.DataFrame(rows, columns=list(cols))
        float_cols = ["estimate", "std_error", "statistic", "p_value", "ci_lower", "ci_upper"]
        df[float_cols] = df[float_cols].astype(float)
        df["n"] = df["n"].astype("int64")
        if self.is_comparison:
            df["n_treated"] = df["n_treated"].astype("Int64")
            df["n_control"] = df["n_control"].astype("Int64")
        return df

    # -- the ecosystem's accessors (statsmodels, linearmodels)
    @property
    def params(self) -> pd.Series:
        """Estimates by term."""
        return self._series("estimate")

    @property
    def bse(self) -> pd.Series:
        """Standard errors by term."""
        return self._series("std_error")

    @property
    def pvalues(self) -> pd.Series:
        """p-values by term (NaN where the method gives none)."""
        return self._series("p_value")

    def _series(self, field_: str) -> pd.Series:
        return pd.Series([getattr(e, field_) for e in self.estimates], index=pd.Index([e.term for e in self.estimates], name="term"),
                         name=field_, dtype=float)

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Confidence intervals by term (columns ``lower``, ``upper``) at the level the result was fitted with.

        ``alpha`` is accepted for the familiar signature; an interval at another level needs a refit
        with ``conf_level`` (the methods are not all normal-based, so it is not rescaled here).
        """
        if alpha is not None and abs((1 - alpha) - self.conf_level) > 1e-12:
            raise ValueError(f"the intervals were computed at conf_level={self.conf_level}; refit with "
                             f"conf_level={1 - alpha} for alpha={alpha}")
        return pd.DataFrame({"lower": [e.ci_lower for e in self.estimates], "upper": [e.ci_upper for e in self.estimates]},
                            index=pd.Index([e.term for e in self.estimates], name="term"))

    def summary(self) -> str:
        """A printable table in the style of statsmodels: estimand, level, and per term the estimate, SE,
        interval, p-value, n and method."""
        level = f"{self.conf_level:.0%}"
        head = [f"{type(self).__name__}" + (f" — {getattr(self, 'design', '')}" if getattr(self, "design", "") else ""),
                f"Estimand: {self.estimand}", f"Intervals: {level}"]
        rows = [("term", "estimate", "std.err", f"[{level}", "interval]", "p", "n", "role")]
        for e in self.estimates:
            rows.append((e.term, _fmt(e.estimate), _fmt(e.std_error), _fmt(e.ci_lower), _fmt(e.ci_upper),
                         _fmt(e.p_value, p=True), str(e.n), e.role))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        line = "-" * (sum(widths) + 2 * (len(widths) - 1))
        body = ["  ".join(c.ljust(w) if i in (0, 7) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
        methods = list(dict.fromkeys(e.method for e in self.estimates if e.method))
        return "\n".join(head + [line, body[0], line] + body[1:] + [line] + [f"Method: {m}" for m in methods])

    def __repr__(self) -> str:
        main = self.estimates[0] if self.estimates else None
        what = getattr(self, "design", "") or self.kind
        if main is None:
            return f"<{type(self).__name__} {what}: no estimates>"
        return (f"<{type(self).__name__} {what}: {main.term} = {_fmt(main.estimate)} [{_fmt(main.ci_lower)}, "
                f"{_fmt(main.ci_upper)}], n = {main.n}; {len(self.estimates)} term(s), tables: "
                f"{', '.join(sorted(self.tables)) or 'none'}>")

    def estimate_for(self, term: str) -> Estimate:
        for e in self.estimates:
            if e.term == term:
                return e
        raise UnknownNameError(f"no estimate with term {term!r}; terms are {[e.term for e in self.estimates]}")

    def _extra_dict(self) -> dict[str, Any]:
        return {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "estimand": self.estimand,
            "conf_level": self.conf_level,
            "estimates": [e.to_dict() for e in self.estimates],
            "tables": {k: _frame_to_records(v) for k, v in sorted(self.tables.items())},
            "diagnostics": _json_safe(dict(self.diagnostics)),
        }
        out.update(self._extra_dict())
        return out


@dataclass(frozen=True, repr=False)
class EffectResult(Result):
    """An effect estimate from a design (comparison, DiD, ...).

    Attributes
    ----------
    design : str
        Registered design name (``"randomized_comparison"``).
    evidence_level : int
        Maryland scientific methods scale, 5 = randomized ... 1 = before/after.
    outcome_type : {"binary", "continuous"}
    """

    design: str = ""
    evidence_level: int = 0
    outcome_type: Literal["binary", "continuous"] = "continuous"
    kind: str = "effect"

    def _extra_dict(self) -> dict[str, Any]:
        return {
            "design": self.design,
            "evidence_level": self.evidence_level,
            "outcome_type": self.outcome_type,
        }


@dataclass(frozen=True, repr=False)
class ScoreResult(Result):
    """A descriptive score (survey share, mean, response rate) with its interval."""

    scale: str = ""
    kind: str = "score"

    def _extra_dict(self) -> dict[str, Any]:
        return {"scale": self.scale}


@dataclass(frozen=True, repr=False)
class SurveyResult(Result):
    """A survey's scores (e.g. the brugermåling): descriptive, with no comparison group.

    ``estimates`` are the headline numbers (top-box share per item ``share_top_box_<item>``, the
    response rate and the mean scale score); ``survey`` holds the whole disclosure-controlled record
    the report draws (distributions, shares and means by unit and wave, comparisons between units,
    weighted shares, reliability).
    """

    design: str = "survey"
    evidence_level: int = 0
    survey: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "survey"
    #: cells hidden while scoring, passed to the study's suppression log by the family (not serialised)
    suppressed: tuple[Mapping[str, Any], ...] = field(default=(), compare=False, repr=False)

    def _extra_dict(self) -> dict[str, Any]:
        return {"design": self.design, "evidence_level": self.evidence_level, "survey": _json_safe(dict(self.survey))}


@dataclass(frozen=True, repr=False)
class TargetResult(Result):
    """A goal-attainment check for a target (*måltal*): baseline, goal, result and status.

    ``status`` is ``"met"``, ``"not_met"`` or ``"undecidable"`` with ``reason`` in words, or ``"no_target"``
    for an indicator followed without a target (*intet måltal*).
    A target result never carries a causal claim.
    """

    target_id: str = ""
    status: Literal["met", "not_met", "undecidable", "no_target"] = "undecidable"
    reason: str = ""
    baseline: float | None = None
    goal: float | None = None
    observed: float | None = None
    kind: str = "target"

    def _extra_dict(self) -> dict[str, Any]:
        return {
            "target_id": self.target_id,
            "status": self.status,
            "reason": self.reason,
            "baseline": _clean(self.baseline),
            "goal": _clean(self.goal),
            "observed": _clean(self.observed),
        }


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return _frame_to_records(obj)
    if isinstance(obj, np.ndarray):
        return [_json_safe(v) for v in obj.tolist()]
    return _clean(obj)


_KINDS: dict[str, type[Result]] = {
    "effect": EffectResult,
    "score": ScoreResult,
    "survey": SurveyResult,
    "target": TargetResult,
    "result": Result,
}


def result_from_dict(d: Mapping[str, Any]) -> Result:
    """Rebuild a result written by ``Result.to_dict`` (used by reports and the portfolio)."""
    cls = _KINDS[d.get("kind", "result")]
    common = dict(
        estimand=d["estimand"],
        estimates=tuple(Estimate.from_dict(e) for e in d["estimates"]),
        conf_level=d.get("conf_level", 0.95),
        tables={k: _records_to_frame(v) for k, v in d.get("tables", {}).items()},
        diagnostics=d.get("diagnostics", {}),
    )
    if cls is EffectResult:
        return EffectResult(
            **common,
            design=d.get("design", ""),
            evidence_level=d.get("evidence_level", 0),
            outcome_type=d.get("outcome_type", "continuous"),
        )
    if cls is ScoreResult:
        return ScoreResult(**common, scale=d.get("scale", ""))
    if cls is SurveyResult:
        return SurveyResult(**common, design=d.get("design", "survey"), evidence_level=d.get("evidence_level", 0),
                            survey=d.get("survey", {}))
    if cls is TargetResult:
        return TargetResult(
            **common,
            target_id=d.get("target_id", ""),
            status=d.get("status", "undecidable"),
            reason=d.get("reason", ""),
            baseline=d.get("baseline"),
            goal=d.get("goal"),
            observed=d.get("observed"),
        )
    return Result(**common)


# ---------------------------------------------------------------------------
# the results bundle, typed
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisRecord:
    """One analysis in the results bundle: what was analysed, how, and its (published) result.

    The report, the portfolio and researchers read these typed records; ``results.json`` is
    their serialisation (:meth:`to_dict` / :meth:`from_dict`).
    """

    id: str
    design: str
    result: Result
    indicator: str | None = None
    indicator_label: str = ""
    unit: str | None = None
    phrase: str | None = None
    outcome: str | None = None
    outcome_label: str | None = None
    primary: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    fit: Mapping[str, Any] = field(default_factory=dict)
    definition_da: str | None = None
    metric: Mapping[str, Any] | None = None
    weeks_per_unit: int | None = None
    warnings: tuple[str, ...] = ()
    mde: Mapping[str, Any] | None = None
    #: time to first self-support (Kaplan–Meier, RMST, Cox, competing exits), when the analysis declares ``duration``
    duration: Result | None = None
    #: the effect accumulated week by week on weeks on public support, when it declares ``cumulative``
    cumulative: Result | None = None

    _FIELDS = ("id", "indicator", "indicator_label", "unit", "phrase", "outcome", "outcome_label", "primary", "design",
               "options", "fit", "definition_da", "metric", "weeks_per_unit", "warnings", "mde")

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self._FIELDS}
        out["options"], out["fit"], out["warnings"] = dict(self.options), dict(self.fit), list(self.warnings)
        out["result"] = self.result.to_dict()
        for k in ("duration", "cumulative"):  # written only when declared, so other bundles are unchanged
            if getattr(self, k) is not None:
                out[k] = getattr(self, k).to_dict()
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "AnalysisRecord":
        kw = {k: d.get(k) for k in cls._FIELDS if k in d}
        kw["warnings"] = tuple(d.get("warnings") or ())
        kw["options"] = dict(d.get("options") or {})
        kw["fit"] = dict(d.get("fit") or {})
        kw["primary"] = bool(d.get("primary", False))
        kw["indicator_label"] = d.get("indicator_label") or ""
        for k in ("duration", "cumulative"):
            if d.get(k):
                kw[k] = result_from_dict(d[k])
        return cls(result=result_from_dict(d["result"]), **kw)


@dataclass(frozen=True)
class TargetRecord:
    """A target (*resultatkrav*) of an indicator with its goal-attainment result."""

    indicator: str
    label: str
    unit: str | None
    target: Mapping[str, Any]
    result: "TargetResult"

    def to_dict(self) -> dict[str, Any]:
        return {"indicator": self.indicator, "label": self.label, "unit": self.unit, "target": dict(self.target),
                "result": self.result.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TargetRecord":
        return cls(indicator=d["indicator"], label=d["label"], unit=d.get("unit"), target=d["target"],
                   result=result_from_dict(d["result"]))


@dataclass(frozen=True)
class Bundle:
    """A study's results bundle (``results/<slug>/results.json``), typed.

    Everything the report and the portfolio show comes from here; disclosure control has been
    applied before it was written.
    """

    format: str
    study: Mapping[str, Any]
    theory: Mapping[str, Any]
    report_options: Mapping[str, Any]
    config_hash: str
    analyses: tuple[AnalysisRecord, ...] = ()
    targets: tuple[TargetRecord, ...] = ()
    disclosure: Mapping[str, Any] = field(default_factory=dict)
    data_hashes: Mapping[str, str] = field(default_factory=dict)
    data_notes: Mapping[str, Any] = field(default_factory=dict)
    package_version: str = ""
    code_list_version: str | None = None
    figures: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    value_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    time_course: Mapping[str, Any] | None = None
    #: every declared data source: its path relative to the study folder, kind, provenance (synthetic,
    #: register, survey, project or None) and, for a weekly register, its first and last ISO week
    data_sources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: the business case (økonomi), when the study declares ``economy``
    economy: Mapping[str, Any] | None = None
    #: assumption checks and the status of each declared assumption (evaluation.pipeline.robustness)
    robustness: Mapping[str, Any] | None = None
    #: the status of each CMO configuration from the evidence (evaluation.pipeline.cmo), empty in older bundles
    cmo_evidence: tuple[Mapping[str, Any], ...] = ()

    @property
    def threshold(self) -> int:
        return int(self.disclosure.get("threshold", 5))

    @property
    def primary(self) -> AnalysisRecord | None:
        """The first primary analysis (the first analysis when none is marked)."""
        return next((a for a in self.analyses if a.primary), self.analyses[0] if self.analyses else None)

    def headline_analyses(self) -> list[AnalysisRecord]:
        """The analyses the report's headline shows: ``report.headline_analyses``, else the primary ones."""
        chosen = self.report_options.get("headline_analyses") or [a.id for a in self.analyses if a.primary]
        return [a for a in self.analyses if a.id in chosen]

    def analysis(self, analysis_id: str) -> AnalysisRecord:
        return next(a for a in self.analyses if a.id == analysis_id)

    def label(self, column: str) -> str:
        """The Danish label of a data column; without one, the column name as words (never an identifier with
        underscores: ``years_on_cash_benefit`` → "Years on cash benefit")."""
        lab = (self.labels or {}).get(str(column))
        return str(lab) if lab else _readable(column)

    def value_label(self, column: str, value: Any) -> str:
        """The Danish label of a value of a column; without one, the value as words."""
        lab = ((self.value_labels or {}).get(str(column)) or {}).get(str(value))
        if lab:
            return str(lab)
        return _readable(value, capitalise=False) if isinstance(value, str) else str(value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format, "study": dict(self.study), "theory": dict(self.theory),
            "report_options": dict(self.report_options), "config_hash": self.config_hash,
            "analyses": [a.to_dict() for a in self.analyses], "targets": [t.to_dict() for t in self.targets],
            "disclosure": dict(self.disclosure),
            "data_hashes": dict(self.data_hashes), "data_notes": dict(self.data_notes),
            "package_version": self.package_version, "code_list_version": self.code_list_version,
            "figures": dict(self.figures), "labels": dict(self.labels), "value_labels": dict(self.value_labels),
            "time_course": self.time_course, "data_sources": {k: dict(v) for k, v in self.data_sources.items()},
            "robustness": self.robustness,
            "cmo_evidence": [dict(c) for c in self.cmo_evidence],
            **({"economy": _json_safe(dict(self.economy))} if self.economy is not None else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Bundle":
        if isinstance(d, Bundle):
            return d
        return cls(
            format=d.get("format", ""), study=d["study"], theory=d["theory"], report_options=d.get("report_options", {}),
            config_hash=d.get("config_hash", ""), analyses=tuple(AnalysisRecord.from_dict(a) for a in d.get("analyses", [])),
            targets=tuple(TargetRecord.from_dict(t) for t in d.get("targets", [])),
            disclosure=d.get("disclosure", {}),
            data_hashes=d.get("data_hashes", {}), data_notes=d.get("data_notes", {}),
            package_version=d.get("package_version", ""), code_list_version=d.get("code_list_version"),
            figures=d.get("figures", {}), labels=d.get("labels") or {}, value_labels=d.get("value_labels") or {},
            time_course=d.get("time_course"), data_sources=d.get("data_sources") or {}, economy=d.get("economy"),
            robustness=d.get("robustness"),
            cmo_evidence=tuple(d.get("cmo_evidence") or ()),
        )


def _readable(identifier: Any, capitalise: bool = True) -> str:
    # the same rule as evaluation.presentation.labels.readable_label (results sits below presentation)
    text = " ".join(str(identifier).replace("_", " ").split())
    return text[0].upper() + text[1:] if capitalise and text else text


def load_bundle(path: str | os.PathLike) -> Bundle:
    """Read a results bundle (a ``results.json`` file or the folder holding it) as a typed :class:`Bundle`."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    return Bundle.from_dict(read_bundle(path))


def dumps_canonical(obj: Any) -> str:
    """Serialise to JSON deterministically (sorted keys, fixed indentation, UTF-8)."""
    return json.dumps(_json_safe(obj), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as canonical JSON to ``path`` via a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dumps_canonical(obj))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_bundle(path: str | os.PathLike) -> dict[str, Any]:
    """Read a ``results.json`` bundle as a plain dict."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def replace_dir(src: Path, dst: Path) -> None:
    """Move the folder ``src`` into place at ``dst``, replacing an existing folder as atomically as the OS allows."""
    if dst.exists():
        old = dst.with_name(f".{dst.name}.old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(dst, old)
        os.replace(src, dst)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(src, dst)


# ---------------------------------------------------------------------------
# output folders: one writer per study at a time, no torn or stale folders
# ---------------------------------------------------------------------------

#: Seconds a run waits for another run of the same study to finish (default 30 minutes; 0: fail at once).
LOCK_TIMEOUT_ENV = "EVALUATION_LOCK_TIMEOUT"
_DEFAULT_LOCK_TIMEOUT = 1800.0


def _lock_timeout() -> float:
    raw = os.environ.get(LOCK_TIMEOUT_ENV)
    if raw is None or raw.strip() == "":
        return _DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or value < 0:
        raise EvaluationError(f"{LOCK_TIMEOUT_ENV}={raw!r}: expected a number of seconds >= 0")
    return value


def _recover(root: Path, name: str) -> None:
    """Finish or undo what a killed writer of ``root/name`` left behind (the caller holds the lock).

    A writer stages into ``.<name>.<random>/`` and swaps it in through ``.<name>.old/``; killed
    between the two renames it leaves no ``<name>/`` but a complete ``.<name>.old/``, which is put
    back. Every other ``.<name>.*`` folder is an abandoned staging folder and is removed.
    """
    final = root / name
    old = root / f".{name}.old"
    if not final.exists() and old.is_dir() and not old.is_symlink():
        os.replace(old, final)
    prefix = f".{name}."
    for p in root.iterdir():
        if p.name.startswith(prefix) and p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)


@contextmanager
def output_lock(root: str | os.PathLike, name: str, *, timeout: float | None = None) -> Iterator[Path]:
    """Hold the lock of the output folder ``root/name`` (a bundle, a report or the portfolio).

    The lock is an operating-system file lock on ``root/.<name>.lock`` (the ``filelock`` package:
    ``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows), so the operating system releases it
    when its process dies, however it dies. Another run of the same study waits up to
    ``EVALUATION_LOCK_TIMEOUT`` seconds and then stops with :class:`ConcurrentRunError` (exit 2).
    Once the lock is held, staging folders left by killed runs are cleaned (see :func:`_recover`).
    Yields the output folder's path.
    """
    from filelock import FileLock, Timeout

    root = Path(root)
    if root.is_dir() and not os.access(root, os.W_OK | os.X_OK):
        # a read-only folder (a bundle on a shared drive): nobody can write it from here, so nothing to lock
        yield root / name
        return
    root.mkdir(parents=True, exist_ok=True)
    wait = _lock_timeout() if timeout is None else timeout
    lock = FileLock(str(root / f".{name}.lock"))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise ConcurrentRunError(
            f"{root / name}: another run of {name!r} has been writing it for more than {wait:g} s; wait until it has "
            f"finished (or stop it) and run again (the wait is set by {LOCK_TIMEOUT_ENV})"
        ) from None
    try:
        _recover(root, name)
        yield root / name
    finally:
        lock.release()


def bundle_fingerprint(path: str | os.PathLike) -> str:
    """SHA-256 of a bundle's ``results.json`` bytes (``path``: the file or its folder): what a report was made from."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
