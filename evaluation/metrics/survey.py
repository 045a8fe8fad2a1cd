"""Survey scoring for brugermålinger: distributions, top-box shares, means, response rates,
scale scores, reliability, comparisons between units or waves, and nonresponse weighting.

Every function is pure: it takes a pandas frame of answers (one row per returned
questionnaire, one column per item, answer codes as numbers, numeric strings or the scale's
labels), a :class:`~evaluation.metrics.scales.LikertScale`, and returns a new frame or a
:class:`~evaluation.results.ScoreResult` whose ``tidy()`` has the shared columns. Input frames
are never modified. Answers that are neither a valid code nor a missing code of the scale raise
:class:`~evaluation.exceptions.DataValidationError` naming the column and the rows.

Shares and means are over *valid* answers: missing codes ("Ved ikke", two boxes ticked) and
blanks are counted and reported but leave the denominator.

Examples
--------
>>> from evaluation.metrics.scales import get_scale
>>> from evaluation.synthetic.brugermaaling import simulate_brugermaaling
>>> answers, planned = simulate_brugermaaling()
>>> scale = get_scale("brugermaaling-5")
>>> res = top_box_share(answers, "modtaget_godt", scale)
>>> round(res.estimate_for("share_top_box").estimate, 2)
0.97
>>> rr = response_rate(answers, planned)
>>> round(rr.estimate_for("response_rate").estimate, 3)
0.499
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from evaluation._lazy import stats

from ..exceptions import DataValidationError, EstimationError, ReliabilityWarning, StudyConfigError
from ..results import Estimate, ScoreResult
from .scales import LikertScale

__all__ = [
    "validate_answers",
    "distribution",
    "top_box_share",
    "item_mean",
    "response_rate",
    "scale_score",
    "cronbach_alpha",
    "compare_units",
    "weighted_top_box",
    "INTERVAL_METHODS",
]

INTERVAL_METHODS: dict[str, tuple[str, str]] = {
    "wilson": ("wilson", "Wilson score interval"),
    "clopper_pearson": ("beta", "Clopper–Pearson exact interval"),
    "jeffreys": ("jeffreys", "Jeffreys interval"),
    "agresti_coull": ("agresti_coull", "Agresti–Coull interval"),
    "wald": ("normal", "Wald interval"),
}
"""Interval methods for a single share: our name → (statsmodels name, words for ``method``)."""

_MAX_ROWS_SHOWN = 5


# ----------------------------------------------------------------------------- helpers
def _as_list(x: str | Sequence[str] | None) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return list(x)


def _require_columns(df: pd.DataFrame, columns: Iterable[str], what: str = "answers") -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{what} has no column(s) {', '.join(map(repr, missing))}; columns are: {', '.join(map(str, df.columns))}"
        )


def _check_conf_level(conf_level: float) -> None:
    if not (isinstance(conf_level, (int, float)) and 0 < conf_level < 1):
        raise StudyConfigError(f"conf_level must be strictly between 0 and 1, got {conf_level!r}")


def _show(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return repr(value)


def _rows_text(index: pd.Index, values: pd.Series | None = None) -> str:
    shown = list(index[:_MAX_ROWS_SHOWN])
    if values is not None:
        parts = [f"{i} ({_show(values.loc[i])})" for i in shown]
    else:
        parts = [str(i) for i in shown]
    more = f", … ({len(index)} rows in all)" if len(index) > _MAX_ROWS_SHOWN else f" ({len(index)} row{'s' if len(index) != 1 else ''})"
    return ", ".join(parts) + more


def _codes_of(series: pd.Series, scale: LikertScale) -> tuple[pd.Series, pd.Index]:
    """Codes as float (valid and missing codes kept, blank → NaN) and the index of bad rows."""
    allowed = set(scale.codes) | set(scale.missing_codes)
    if pd.api.types.is_bool_dtype(series):
        return pd.Series(np.nan, index=series.index), series.index
    if pd.api.types.is_numeric_dtype(series):
        num = series.astype(float)
        blank = num.isna()
    else:
        text = series.astype("string").str.strip()
        blank = text.isna() | (text == "")
        num = pd.to_numeric(text.where(~blank), errors="coerce").astype(float)
        by_label = {lab.casefold(): code for code, lab in scale.label_map.items()}
        need = num.isna() & ~blank
        if need.any():
            num = num.copy()
            num[need] = text[need].str.casefold().map(by_label).astype(float)
    ok = blank | num.isin(list(allowed))
    num = num.where(~blank)
    return num, series.index[~ok.to_numpy()]


def _scale_text(scale: LikertScale) -> str:
    valid = ", ".join(map(str, scale.codes))
    missing = ", ".join(f"{c} ({lab})" for c, lab in zip(scale.missing_codes, scale.missing_labels))
    return f"scale {scale.name!r}: valid codes {valid}; missing codes {missing or 'none'} and blank"


def _classified(df: pd.DataFrame, items: Sequence[str], scale: LikertScale) -> dict[str, pd.Series]:
    """Codes per item (valid + missing codes, blank NaN); raises one error listing every bad column."""
    _require_columns(df, items)
    out, problems = {}, []
    for item in items:
        codes, bad = _codes_of(df[item], scale)
        if len(bad):
            problems.append(f"column {item!r}: rows {_rows_text(bad, df[item])}")
        out[item] = codes
    if problems:
        raise DataValidationError(
            "answers outside the scale (rows are index labels of the frame; "
            + _scale_text(scale) + "):\n  " + "\n  ".join(problems)
        )
    return out


def _valid_points(codes: pd.Series, scale: LikertScale) -> pd.Series:
    return scale.points(codes)


def _group_keys(df: pd.DataFrame, by: list[str]) -> list[tuple]:
    """Group keys in a stable order (categorical order, else sorted); NaN in a by column is an error."""
    _require_columns(df, by)
    for b in by:
        na = df.index[df[b].isna().to_numpy()]
        if len(na):
            raise DataValidationError(f"column {b!r} (used to group) is missing in rows {_rows_text(na)}")
    if not by:
        return [()]
    keys = df[by].drop_duplicates()
    levels = []
    for b in by:
        col = df[b]
        if isinstance(col.dtype, pd.CategoricalDtype):
            levels.append({v: i for i, v in enumerate(col.cat.categories)})
        else:
            try:
                levels.append({v: i for i, v in enumerate(sorted(col.unique()))})
            except TypeError:
                levels.append({v: i for i, v in enumerate(col.unique())})
    tuples = [tuple(r) for r in keys.itertuples(index=False, name=None)]
    return sorted(tuples, key=lambda t: tuple(levels[i][v] for i, v in enumerate(t)))


def _mask(df: pd.DataFrame, by: list[str], key: tuple) -> np.ndarray:
    m = np.ones(len(df), dtype=bool)
    for b, v in zip(by, key):
        m &= (df[b] == v).to_numpy()
    return m


def _term(base: str, by: list[str], key: tuple) -> str:
    if not by:
        return base
    return base + "[" + ", ".join(f"{b}={v}" for b, v in zip(by, key)) + "]"


def _codes_range_text(codes: Sequence[int]) -> str:
    cs = sorted(codes)
    if len(cs) > 1 and cs == list(range(cs[0], cs[-1] + 1)):
        return f"{cs[0]}–{cs[-1]}"
    return ", ".join(map(str, cs))


def _interval_method(method: str) -> tuple[str, str]:
    if method not in INTERVAL_METHODS:
        raise StudyConfigError(f"unknown interval method {method!r}; choose one of {', '.join(INTERVAL_METHODS)}")
    return INTERVAL_METHODS[method]


def _share_ci(count: int, nobs: int, conf_level: float, method: str) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    if nobs == 0:
        return float("nan"), float("nan")
    sm_method, _ = _interval_method(method)
    lo, hi = proportion_confint(count, nobs, alpha=1 - conf_level, method=sm_method)
    return float(max(lo, 0.0)), float(min(hi, 1.0))


def _wilson_float(p: float, n: float, conf_level: float) -> tuple[float, float]:
    """Wilson score interval for a share ``p`` on a (possibly non-integer) sample size ``n``."""
    if not n > 0 or math.isnan(p):
        return float("nan"), float("nan")
    z = stats.norm.isf((1 - conf_level) / 2)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _share_estimate(term: str, count: int, nobs: int, conf_level: float, method: str, words: str) -> Estimate:
    p = count / nobs if nobs else float("nan")
    se = math.sqrt(p * (1 - p) / nobs) if nobs else float("nan")
    lo, hi = _share_ci(count, nobs, conf_level, method)
    return Estimate(term=term, estimate=p, std_error=se, ci_lower=lo, ci_upper=hi, n=int(nobs), method=words)


def _by_group_table(by: list[str], keys: list[tuple], estimates: list[Estimate], extra: list[dict] | None = None) -> pd.DataFrame:
    rows = []
    for i, (key, e) in enumerate(zip(keys, estimates)):
        row = {b: v for b, v in zip(by, key)}
        if extra is not None:
            row.update(extra[i])
        row.update({c: getattr(e, c) for c in ("term", "estimate", "std_error", "ci_lower", "ci_upper", "n")})
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ public API
def validate_answers(
    df: pd.DataFrame,
    items: str | Sequence[str],
    scale: LikertScale,
    keep_missing_codes: bool = False,
) -> pd.DataFrame:
    """Check answer codes against the scale and return clean integer codes.

    Parameters
    ----------
    df : DataFrame
        One row per returned questionnaire. Item columns may hold numbers, numeric strings
        (``"5"``, ``" 4 "``), the scale's labels (case-insensitive) or blanks (NaN, ``""``).
    items : str or sequence of str
        Item columns to check.
    scale : LikertScale
    keep_missing_codes : bool, default False
        If False, missing codes ("Ved ikke", two boxes ticked) become ``<NA>`` like blanks, so
        the returned item columns hold valid answers only. If True they are kept as codes.

    Returns
    -------
    DataFrame
        A copy of ``df`` with each item column as nullable ``Int64`` codes.

    Raises
    ------
    DataValidationError
        If any answer is neither a valid code nor a missing code of the scale; the message names
        every offending column with its first rows (index labels) and values, and the count.

    Notes
    -----
    No estimand: this is the data boundary for survey answers. A value such as ``4.5`` or
    ``6`` on a 1–5 scale is an error, never silently treated as missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.metrics.scales import get_scale
    >>> raw = pd.DataFrame({"q1": ["5", "4", "", "9", "Både-og"]})
    >>> validate_answers(raw, "q1", get_scale("brugermaaling-5"))["q1"].tolist()
    [5, 4, <NA>, <NA>, 3]
    """
    items = _as_list(items)
    codes = _classified(df, items, scale)
    out = df.copy()
    for item in items:
        c = codes[item]
        if not keep_missing_codes:
            c = c.where(c.isin(list(scale.codes)))
        out[item] = c.round().astype("Int64")
    return out


def distribution(
    df: pd.DataFrame,
    item: str | Sequence[str],
    scale: LikertScale,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Full answer distribution of one or more items: every category of the scale plus missing.

    Parameters
    ----------
    df : DataFrame
        Answers, one row per returned questionnaire.
    item : str or sequence of str
        Item column(s).
    scale : LikertScale
        Categories come from the scale: a category nobody chose appears with count 0.
    by : str or sequence of str, optional
        Grouping column(s) (house, meeting type, wave).

    Returns
    -------
    DataFrame
        Long frame with columns ``[*by, "item", "code", "label", "kind", "count", "share",
        "share_all", "n_valid", "n_missing"]``. ``kind`` is ``"valid"`` for the scale's
        categories (ordered negative → positive) and ``"missing"`` for each missing code and for
        blanks (code ``None``; the column holds Python ints and None). ``share`` is count ÷ valid answers (NaN on missing rows);
        ``share_all`` is count ÷ all returned questionnaires.

    Notes
    -----
    Estimand: the share of valid answers in each category among the returned questionnaires
    (no weighting for nonresponse; see :func:`weighted_top_box`).

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.metrics.scales import get_scale
    >>> d = distribution(pd.DataFrame({"q1": [5, 5, 4, 9]}), "q1", get_scale("brugermaaling-5"))
    >>> d[["code", "count"]].to_dict("list")["count"]
    [0, 0, 0, 1, 2, 1, 0, 0]
    """
    items = _as_list(item)
    by = _as_list(by)
    codes = _classified(df, items, scale)
    keys = _group_keys(df, by)
    rows = []
    for key in keys:
        m = _mask(df, by, key)
        for it in items:
            c = codes[it][m]
            n_all = int(len(c))
            counts = c.value_counts(dropna=True)
            n_valid = int(sum(int(counts.get(k, 0)) for k in scale.codes))
            n_blank = int(c.isna().sum())
            n_missing = n_all - n_valid
            base = {b: v for b, v in zip(by, key)}
            for code, lab in zip(scale.codes, scale.labels):
                k = int(counts.get(code, 0))
                rows.append({**base, "item": it, "code": code, "label": lab, "kind": "valid", "count": k,
                             "share": k / n_valid if n_valid else float("nan"),
                             "share_all": k / n_all if n_all else float("nan"),
                             "n_valid": n_valid, "n_missing": n_missing})
            for code, lab in list(zip(scale.missing_codes, scale.missing_labels)) + [(pd.NA, scale.blank_label)]:
                k = n_blank if code is pd.NA else int(counts.get(code, 0))
                rows.append({**base, "item": it, "code": code, "label": lab, "kind": "missing", "count": k,
                             "share": float("nan"), "share_all": k / n_all if n_all else float("nan"),
                             "n_valid": n_valid, "n_missing": n_missing})
    out = pd.DataFrame(rows, columns=[*by, "item", "code", "label", "kind", "count", "share", "share_all", "n_valid", "n_missing"])
    # object column of Python ints and None (blank): JSON-safe in the results bundle
    out["code"] = pd.Series([None if pd.isna(c) else int(c) for c in out["code"]], index=out.index, dtype=object)
    out["count"] = out["count"].astype("int64")
    return out


def top_box_share(
    df: pd.DataFrame,
    item: str,
    scale: LikertScale,
    by: str | Sequence[str] | None = None,
    conf_level: float = 0.95,
    method: str = "wilson",
) -> ScoreResult:
    """Share of valid answers in the top box (e.g. "Ja, i høj grad" or "Ja, i nogen grad").

    Parameters
    ----------
    df : DataFrame
        Answers, one row per returned questionnaire.
    item : str
        Item column.
    scale : LikertScale
    by : str or sequence of str, optional
        Grouping column(s); one estimate per group after the total.
    conf_level : float, default 0.95
    method : {"wilson", "clopper_pearson", "jeffreys", "agresti_coull", "wald"}
        Interval for a binomial share (statsmodels ``proportion_confint``).

    Returns
    -------
    ScoreResult
        Term ``"share_top_box"`` for all answers, and ``"share_top_box[<by>=<value>]"`` per
        group; ``n`` is the number of valid answers; ``std_error`` is the binomial
        ``sqrt(p(1-p)/n)``. Tables: ``"by_group"`` (when ``by``) and ``"distribution"``.

    Notes
    -----
    Estimand: among the people who returned a questionnaire and gave a valid answer to the
    item, the proportion answering in the top box. Missing codes and blanks are excluded from
    the denominator. Nonresponse is not corrected (see :func:`weighted_top_box`).

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.metrics.scales import get_scale
    >>> df = pd.DataFrame({"q": [5] * 81 + [2] * 182})
    >>> r = top_box_share(df, "q", get_scale("brugermaaling-5"))
    >>> r.tidy()[["estimate", "ci_lower", "ci_upper", "n"]].round(4).values.tolist()
    [[0.308, 0.2553, 0.3662, 263.0]]
    """
    _check_conf_level(conf_level)
    _, words = _interval_method(method)
    by = _as_list(by)
    codes = _classified(df, [item], scale)[item]
    keys = _group_keys(df, by)
    method_text = f"share in top box ({_codes_range_text(scale.top_box)}), {words}"
    valid = codes.isin(list(scale.codes))
    top = codes.isin(list(scale.top_box))
    total = _share_estimate("share_top_box", int(top.sum()), int(valid.sum()), conf_level, method, method_text)
    estimates = [total]
    tables: dict[str, pd.DataFrame] = {}
    if by:
        group_est = []
        for key in keys:
            m = _mask(df, by, key)
            group_est.append(_share_estimate(_term("share_top_box", by, key), int(top[m].sum()), int(valid[m].sum()),
                                             conf_level, method, method_text))
        estimates += group_est
        tables["by_group"] = _by_group_table(by, keys, group_est)
    tables["distribution"] = distribution(df, item, scale, by=by or None)
    return ScoreResult(
        estimand=f"share of valid answers in the top box ({_codes_range_text(scale.top_box)}) of item {item!r}",
        estimates=tuple(estimates),
        conf_level=conf_level,
        tables=tables,
        diagnostics={"item": item, "scale_version": scale.version, "n_missing": int((~valid).sum()),
                     "interval_method": method},
        scale=scale.name,
    )


def item_mean(
    df: pd.DataFrame,
    item: str,
    scale: LikertScale,
    by: str | Sequence[str] | None = None,
    conf_level: float = 0.95,
    reverse: bool = False,
) -> ScoreResult:
    """Mean answer on the scale's points, with a t interval.

    Parameters
    ----------
    df : DataFrame
    item : str
    scale : LikertScale
    by : str or sequence of str, optional
    conf_level : float, default 0.95
    reverse : bool, default False
        Reverse-key the item (``min + max - code``) before averaging.

    Returns
    -------
    ScoreResult
        Term ``"mean"`` (and ``"mean[<by>=<value>]"`` per group); ``std_error`` is
        ``s / sqrt(n)``; interval ``mean ± t(n-1) · s / sqrt(n)`` (NaN for n < 2).

    Notes
    -----
    Estimand: the mean of the valid answers' points (1 = most negative … k = most positive on
    a 1–k scale) among respondents with a valid answer. Treating ordinal codes as equally
    spaced is a convention; prefer :func:`top_box_share` for the headline.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.metrics.scales import get_scale
    >>> r = item_mean(pd.DataFrame({"q": [5, 4, 4, 3, 9]}), "q", get_scale("brugermaaling-5"))
    >>> r.estimate_for("mean").estimate, r.estimate_for("mean").n
    (4.0, 4)
    """
    _check_conf_level(conf_level)
    by = _as_list(by)
    codes = _classified(df, [item], scale)[item]
    pts = _valid_points(codes, scale)
    if reverse:
        lo, hi = min(scale.codes), max(scale.codes)
        pts = (lo + hi) - pts
    method_text = "mean of scale points" + (" (reverse keyed)" if reverse else "") + ", t interval"

    def est(term: str, x: pd.Series) -> Estimate:
        x = x.dropna()
        n = int(len(x))
        if n == 0:
            return Estimate(term=term, estimate=float("nan"), n=0, method=method_text)
        mean = float(x.mean())
        if n < 2:
            return Estimate(term=term, estimate=mean, n=n, method=method_text)
        se = float(x.std(ddof=1)) / math.sqrt(n)
        t = stats.t.isf((1 - conf_level) / 2, n - 1)
        return Estimate(term=term, estimate=mean, std_error=se, ci_lower=mean - t * se, ci_upper=mean + t * se,
                        n=n, method=method_text)

    estimates = [est("mean", pts)]
    tables: dict[str, pd.DataFrame] = {}
    if by:
        keys = _group_keys(df, by)
        g = [est(_term("mean", by, k), pts[_mask(df, by, k)]) for k in keys]
        estimates += g
        tables["by_group"] = _by_group_table(by, keys, g)
    return ScoreResult(
        estimand=f"mean answer (scale points) of item {item!r}",
        estimates=tuple(estimates),
        conf_level=conf_level,
        tables=tables,
        diagnostics={"item": item, "scale_version": scale.version, "reverse": reverse},
        scale=scale.name,
    )


def response_rate(
    answers: pd.DataFrame | int,
    planned: pd.DataFrame | int,
    by: str | Sequence[str] | None = None,
    planned_col: str = "planned",
    conf_level: float = 0.95,
    flag_below: float | None = 0.5,
) -> ScoreResult:
    """Response rate (returned questionnaires ÷ planned meetings), per unit and in total.

    Parameters
    ----------
    answers : DataFrame or int
        Returned questionnaires (one row each), or their number when ``by`` is None.
    planned : DataFrame or int
        Planned meetings: a frame with the ``by`` columns and ``planned_col`` (finer rows, e.g.
        house × meeting type, are summed), or a total when ``by`` is None.
    by : str or sequence of str, optional
        Unit column(s) present in both frames.
    planned_col : str, default "planned"
    conf_level : float, default 0.95
    flag_below : float or None, default 0.5
        Units whose rate is below this are listed in ``diagnostics["units_below"]`` (the source
        notes that results of units under 50 % may generalise poorly). None: no flagging.

    Returns
    -------
    ScoreResult
        Term ``"response_rate"`` (total) and ``"response_rate[<by>=<value>]"``; ``n`` is the
        number of planned meetings; Wilson score interval. Table ``"by_group"`` with
        ``answers`` and ``planned`` per unit.

    Raises
    ------
    DataValidationError
        Units with answers but no planned meetings, more answers than planned meetings, or a
        missing/negative planned count.

    Notes
    -----
    Estimand: the proportion of planned meetings in the survey weeks whose questionnaire was
    returned. The interval treats each planned meeting as an independent Bernoulli trial of a
    stable response propensity (a model-based reading; as a census of the two weeks the
    rate itself has no sampling error).

    Examples
    --------
    >>> r = response_rate(1032, 2070)
    >>> t = r.tidy().round(4)
    >>> t[["estimate", "ci_lower", "ci_upper", "n"]].values.tolist()
    [[0.4986, 0.477, 0.5201, 2070.0]]
    """
    _check_conf_level(conf_level)
    by = _as_list(by)
    words = "response rate (returned questionnaires / planned meetings), Wilson score interval"
    if not by:
        n_ans = len(answers) if isinstance(answers, pd.DataFrame) else int(answers)
        if isinstance(planned, pd.DataFrame):
            _require_columns(planned, [planned_col], "planned")
            n_plan = int(pd.to_numeric(planned[planned_col], errors="raise").sum())
        else:
            n_plan = int(planned)
        if n_plan <= 0:
            raise DataValidationError(f"planned meetings must be positive, got {n_plan}")
        if n_ans > n_plan:
            raise DataValidationError(f"{n_ans} answers but only {n_plan} planned meetings")
        e = _share_estimate("response_rate", n_ans, n_plan, conf_level, "wilson", words)
        return ScoreResult(estimand="response rate", estimates=(e,), conf_level=conf_level,
                           diagnostics={"answers": n_ans, "planned": n_plan})
    if not isinstance(answers, pd.DataFrame) or not isinstance(planned, pd.DataFrame):
        raise DataValidationError("with `by`, both `answers` and `planned` must be DataFrames")
    _require_columns(answers, by, "answers")
    _require_columns(planned, [*by, planned_col], "planned")
    _group_keys(answers, by)  # NaN check
    _group_keys(planned, by)
    pv = pd.to_numeric(planned[planned_col], errors="coerce")
    bad = planned.index[(pv.isna() | (pv < 0)).to_numpy()]
    if len(bad):
        raise DataValidationError(f"planned: column {planned_col!r} must be a non-negative count; rows {_rows_text(bad, planned[planned_col])}")
    plan = planned.assign(**{planned_col: pv}).groupby(by, sort=False)[planned_col].sum()
    ans = answers.groupby(by, sort=False).size()
    unknown = [k for k in ans.index if k not in plan.index]
    if unknown:
        raise DataValidationError(f"answers from unit(s) {unknown} that have no planned meetings in `planned` (by {by})")
    keys = _group_keys(planned, by)
    estimates, extra = [], []
    for key in keys:
        k = key[0] if len(by) == 1 else key
        n_plan, n_ans = int(plan.loc[k]), int(ans.get(k, 0))
        if n_ans > n_plan:
            raise DataValidationError(f"unit {dict(zip(by, key))}: {n_ans} answers but only {n_plan} planned meetings")
        if n_plan == 0:
            raise DataValidationError(f"unit {dict(zip(by, key))}: 0 planned meetings")
        estimates.append(_share_estimate(_term("response_rate", by, key), n_ans, n_plan, conf_level, "wilson", words))
        extra.append({"answers": n_ans, "planned": n_plan})
    n_ans_tot, n_plan_tot = int(ans.sum()), int(plan.sum())
    total = _share_estimate("response_rate", n_ans_tot, n_plan_tot, conf_level, "wilson", words)
    below = [dict(zip(by, k)) for k, e in zip(keys, estimates) if flag_below is not None and e.estimate < flag_below]
    return ScoreResult(
        estimand="response rate",
        estimates=(total, *estimates),
        conf_level=conf_level,
        tables={"by_group": _by_group_table(by, keys, estimates, extra)},
        diagnostics={"answers": n_ans_tot, "planned": n_plan_tot, "flag_below": flag_below, "units_below": below},
    )


def _item_points(df: pd.DataFrame, items: list[str], scale: LikertScale, reverse_items: Sequence[str]) -> pd.DataFrame:
    if len(set(items)) != len(items):
        raise StudyConfigError(f"items are not unique: {items}")
    rev = _as_list(reverse_items)
    unknown = [r for r in rev if r not in items]
    if unknown:
        raise StudyConfigError(f"reverse_items {unknown} are not among the items {items}")
    codes = _classified(df, items, scale)
    lo, hi = min(scale.codes), max(scale.codes)
    out = {}
    for it in items:
        p = _valid_points(codes[it], scale)
        out[it] = (lo + hi) - p if it in rev else p
    return pd.DataFrame(out, index=df.index)


def scale_score(
    df: pd.DataFrame,
    items: Sequence[str],
    scale: LikertScale,
    min_items: int | None = None,
    reverse_items: Sequence[str] = (),
) -> pd.Series:
    """Scale score per respondent: mean of the valid item answers, reverse-keyed items recoded.

    Parameters
    ----------
    df : DataFrame
    items : sequence of str
        Items forming the scale.
    scale : LikertScale
    min_items : int, optional
        Minimum number of valid answers for a score; fewer gives NaN. Default: half the items,
        rounded up.
    reverse_items : sequence of str, default ()
        Items worded in the negative direction; recoded ``min + max - code`` first.

    Returns
    -------
    Series
        Float, named ``"scale_score"``, same index as ``df``.

    Notes
    -----
    Estimand (per respondent): the mean of the points of the valid answers among ``items``
    (the person-mean of available items, i.e. prorated sum ÷ k), when at least ``min_items``
    are valid.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.metrics.scales import get_scale
    >>> df = pd.DataFrame({"a": [5, 4, 9], "b": [1, 2, 9], "c": [5, 9, 9]})
    >>> scale_score(df, ["a", "b", "c"], get_scale("brugermaaling-5"), reverse_items=["b"]).tolist()
    [5.0, 4.0, nan]
    """
    items = _as_list(items)
    if not items:
        raise StudyConfigError("scale_score needs at least one item")
    if min_items is None:
        min_items = math.ceil(len(items) / 2)
    if not (isinstance(min_items, (int, np.integer)) and 1 <= min_items <= len(items)):
        raise StudyConfigError(f"min_items must be an integer between 1 and {len(items)}, got {min_items!r}")
    pts = _item_points(df, items, scale, reverse_items)
    n_valid = pts.notna().sum(axis=1)
    score = pts.mean(axis=1, skipna=True).where(n_valid >= min_items)
    return score.astype(float).rename("scale_score")


def _feldt(alpha: float, n: int, k: int, conf_level: float) -> tuple[float, float]:
    df1 = n - 1
    df2 = df1 * (k - 1)
    a = 1 - conf_level
    return (1 - (1 - alpha) * stats.f.isf(a / 2, df1, df2), 1 - (1 - alpha) * stats.f.isf(1 - a / 2, df1, df2))


def cronbach_alpha(
    df: pd.DataFrame,
    items: Sequence[str],
    scale: LikertScale,
    reverse_items: Sequence[str] = (),
    conf_level: float = 0.95,
    nan_policy: str = "pairwise",
) -> ScoreResult:
    """Cronbach's alpha with a Feldt interval, item–rest correlations and alpha if item deleted.

    Parameters
    ----------
    df : DataFrame
    items : sequence of str
        At least two items.
    scale : LikertScale
    reverse_items : sequence of str, default ()
        Reverse-keyed items, recoded before the analysis.
    conf_level : float, default 0.95
    nan_policy : {"pairwise", "listwise"}, default "pairwise"
        As :func:`pingouin.cronbach_alpha` (R ``psych::alpha`` ``use="pairwise"`` or
        ``"complete.obs"``). Respondents with no valid answer to any item are dropped first.

    Returns
    -------
    ScoreResult
        Term ``"cronbach_alpha"`` with the Feldt interval and ``n`` respondents; table
        ``"items"`` with ``item``, ``item_rest_correlation``, ``alpha_if_deleted``, ``n_valid``
        and ``reverse_keyed``.

    Warns
    -----
    ReliabilityWarning
        If an item correlates negatively with the sum of the other items — usually a
        reverse-keyed item that was not declared in ``reverse_items``.

    Raises
    ------
    EstimationError
        Fewer than two items or two respondents, or a total score without variance.

    Notes
    -----
    Estimand: coefficient alpha, ``k/(k-1) · (1 - Σ var(item) / var(total))``, computed from the
    (pairwise or listwise) covariance matrix of the item points by
    :func:`pingouin.cronbach_alpha`. The interval is Feldt, Woodruff & Salih (1987),
    ``1 - (1 - alpha) · F`` with ``n - 1`` and ``(n - 1)(k - 1)`` degrees of freedom; it is
    recomputed here without pingouin's rounding to three decimals, with ``n`` the respondents
    analysed (under ``"listwise"`` the complete rows; pingouin 0.7 uses the row count before
    deletion, so its listwise interval is narrower than it should be). The item–rest correlation is
    the Pearson correlation of an item with the sum of the other items (prorated from the mean
    of the available other items under ``"pairwise"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.metrics.scales import get_scale
    >>> from evaluation.synthetic.brugermaaling import simulate_brugermaaling, ITEMS
    >>> answers, _ = simulate_brugermaaling()
    >>> r = cronbach_alpha(answers, list(ITEMS), get_scale("brugermaaling-5"))
    >>> 0.6 < r.estimate_for("cronbach_alpha").estimate < 0.95
    True
    """
    import pingouin as pg

    _check_conf_level(conf_level)
    if nan_policy not in ("pairwise", "listwise"):
        raise StudyConfigError(f"nan_policy must be 'pairwise' or 'listwise', got {nan_policy!r}")
    items = _as_list(items)
    if len(items) < 2:
        raise EstimationError(f"Cronbach's alpha needs at least two items, got {items}")
    pts = _item_points(df, items, scale, reverse_items)
    pts = pts[pts.notna().any(axis=1)]
    if nan_policy == "listwise":
        pts = pts.dropna(how="any")
    n, k = pts.shape
    if n < 2:
        raise EstimationError(f"Cronbach's alpha needs at least two respondents with valid answers ({nan_policy}), got {n}")
    cov = pts.cov()
    if not np.isfinite(cov.to_numpy()).all() or cov.to_numpy().sum() <= 0:
        raise EstimationError("Cronbach's alpha is undefined: the total score has no variance (or an item pair was never answered together)")
    alpha, _ci_rounded = pg.cronbach_alpha(data=pts.astype(float), nan_policy=nan_policy, ci=conf_level)
    alpha = float(alpha)
    lo, hi = _feldt(alpha, n, k, conf_level)

    rows, negative = [], []
    rev = set(_as_list(reverse_items))
    for it in items:
        others = [o for o in items if o != it]
        if nan_policy == "listwise":
            rest = pts[others].sum(axis=1)
        else:
            rest = pts[others].mean(axis=1, skipna=True) * len(others)
        pair = pd.concat([pts[it], rest], axis=1).dropna()
        r = float(pair.iloc[:, 0].corr(pair.iloc[:, 1])) if len(pair) > 2 else float("nan")
        if k >= 3:
            sub = pts[others]
            sub = sub[sub.notna().any(axis=1)]
            a_del = float(pg.cronbach_alpha(data=sub.astype(float), nan_policy=nan_policy)[0])
        else:
            a_del = float("nan")
        rows.append({"item": it, "item_rest_correlation": r, "alpha_if_deleted": a_del,
                     "n_valid": int(pts[it].notna().sum()), "reverse_keyed": it in rev})
        if r < 0:
            negative.append((it, r))
    table = pd.DataFrame(rows)
    messages = []
    if negative:
        listed = ", ".join(f"{it!r} (r = {r:.2f})" for it, r in negative)
        msg = (f"item(s) {listed} correlate negatively with the rest of the scale; "
               "is the item reverse keyed? Declare it in reverse_items")
        messages.append(msg)
        warnings.warn(msg, ReliabilityWarning, stacklevel=2)
    e = Estimate(term="cronbach_alpha", estimate=alpha, ci_lower=float(lo), ci_upper=float(hi), n=int(n),
                 method=f"Cronbach's alpha ({nan_policy} covariances, pingouin), Feldt F interval")
    return ScoreResult(
        estimand=f"Cronbach's alpha of the {k}-item scale",
        estimates=(e,),
        conf_level=conf_level,
        tables={"items": table},
        diagnostics={"items": items, "reverse_items": sorted(rev), "k": int(k), "nan_policy": nan_policy,
                     "warnings": messages, "scale_version": scale.version},
        scale=scale.name,
    )


_P_ADJUST = {"holm": "Holm", "bonferroni": "Bonferroni", "fdr_bh": "Benjamini–Hochberg", "none": "no"}


def compare_units(
    df: pd.DataFrame,
    item: str,
    scale: LikertScale,
    unit: str,
    conf_level: float = 0.95,
    reference: Any = None,
    p_adjust: str = "holm",
    units: Sequence[Any] | None = None,
) -> ScoreResult:
    """Compare top-box shares between units (houses, teams) or waves (years).

    Parameters
    ----------
    df : DataFrame
    item : str
    scale : LikertScale
    unit : str
        Column naming the unit or the wave.
    conf_level : float, default 0.95
    reference : optional
        Compare every unit with this one only; default: every pair of units.
    p_adjust : {"holm", "bonferroni", "fdr_bh", "none"}, default "holm"
        Adjustment of the pairwise p-values (statsmodels ``multipletests``).
    units : sequence, optional
        Units to compare and their order; default all units in the data (sorted, or in
        categorical order). Rows of other units are left out (listed in diagnostics).

    Returns
    -------
    ScoreResult
        Terms ``"share_top_box[<unit>=<u>]"`` (Wilson), ``"difference_top_box[<a> - <b>]"``
        (Newcombe hybrid score interval; ``statistic`` the pooled z; ``p_value`` adjusted),
        ``"chi_square_top_box"`` (Pearson chi-square, top box vs not, across all units) and
        ``"kruskal_wallis"`` (on the full scale). Tables ``"units"``, ``"pairwise"`` (with raw
        and adjusted p-values) and ``"distribution"``.

    Raises
    ------
    EstimationError
        Fewer than two units, or a unit without valid answers.

    Notes
    -----
    Estimand of a pair: ``p_a - p_b``, the difference in the share of valid answers in the top
    box. Its interval is Newcombe's (1998) method 10, the hybrid of two Wilson score
    intervals (statsmodels ``confint_proportions_2indep(method="newcomb")``); intervals are
    not adjusted for multiplicity, p-values are. The pairwise p-value is the two-sample
    z-test with pooled variance (equal to Pearson's 2×2 chi-square without continuity
    correction), so an interval and its p-value can disagree at the margin. The overall tests
    answer "do the units differ at all": Pearson's chi-square on the units × (top box, not)
    table and the Kruskal–Wallis rank test on the valid answers' points (ties corrected).

    Examples
    --------
    >>> from evaluation.metrics.scales import get_scale
    >>> from evaluation.synthetic.brugermaaling import simulate_brugermaaling
    >>> answers, _ = simulate_brugermaaling()
    >>> r = compare_units(answers, "tro_paa_job", get_scale("brugermaaling-5"), "hus")
    >>> len(r.tables["pairwise"])
    6
    """
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import confint_proportions_2indep

    _check_conf_level(conf_level)
    if p_adjust not in _P_ADJUST:
        raise StudyConfigError(f"p_adjust must be one of {', '.join(_P_ADJUST)}, got {p_adjust!r}")
    codes = _classified(df, [item], scale)[item]
    all_units = [k[0] for k in _group_keys(df, [unit])]
    if units is None:
        units = all_units
    else:
        units = list(units)
        unknown = [u for u in units if u not in all_units]
        if unknown:
            raise DataValidationError(f"units {unknown} do not occur in column {unit!r}; units are {all_units}")
    if len(units) < 2:
        raise EstimationError(f"compare_units needs at least two units in column {unit!r}, got {units}")
    if reference is not None and reference not in units:
        raise StudyConfigError(f"reference {reference!r} is not one of the units {units}")
    valid = codes.isin(list(scale.codes))
    top = codes.isin(list(scale.top_box))
    pts = _valid_points(codes, scale)
    unit_col = df[unit]
    counts, nobs = {}, {}
    for u in units:
        m = (unit_col == u).to_numpy()
        counts[u], nobs[u] = int(top[m].sum()), int(valid[m].sum())
        if nobs[u] == 0:
            raise EstimationError(f"unit {u!r} has no valid answers to item {item!r}")
    tb = _codes_range_text(scale.top_box)
    share_words = f"share in top box ({tb}), Wilson score interval"
    unit_est = [_share_estimate(_term("share_top_box", [unit], (u,)), counts[u], nobs[u], conf_level, "wilson", share_words)
                for u in units]

    pairs = list(itertools.combinations(units, 2)) if reference is None else [(u, reference) for u in units if u != reference]
    raw_p, pair_rows = [], []
    for a, b in pairs:
        lo, hi = confint_proportions_2indep(counts[a], nobs[a], counts[b], nobs[b], method="newcomb",
                                            compare="diff", alpha=1 - conf_level)
        pa, pb = counts[a] / nobs[a], counts[b] / nobs[b]
        pooled = (counts[a] + counts[b]) / (nobs[a] + nobs[b])
        se0 = math.sqrt(pooled * (1 - pooled) * (1 / nobs[a] + 1 / nobs[b]))
        if se0 > 0:
            z = (pa - pb) / se0
            p = float(2 * stats.norm.sf(abs(z)))
        else:  # both units all in (or all out of) the top box: no observable difference
            z, p = 0.0, 1.0
        se = math.sqrt(pa * (1 - pa) / nobs[a] + pb * (1 - pb) / nobs[b])
        raw_p.append(p)
        pair_rows.append({"unit_a": a, "unit_b": b, "n_a": nobs[a], "n_b": nobs[b], "share_a": pa, "share_b": pb,
                          "difference": pa - pb, "std_error": se, "ci_lower": float(lo), "ci_upper": float(hi),
                          "statistic": z, "p_value_raw": p})
    if p_adjust == "none":
        adj = list(raw_p)
    else:
        adj = list(multipletests(raw_p, method=p_adjust)[1])
    adj_words = "unadjusted p" if p_adjust == "none" else f"{_P_ADJUST[p_adjust]}-adjusted p"
    pair_words = f"difference in top-box share, Newcombe hybrid score interval; pooled z-test, {adj_words}"
    pair_est = []
    for row, pa in zip(pair_rows, adj):
        row["p_value"] = float(pa)
        pair_est.append(Estimate(term=f"difference_top_box[{row['unit_a']} - {row['unit_b']}]", estimate=row["difference"],
                                 std_error=row["std_error"], statistic=row["statistic"], p_value=float(pa),
                                 ci_lower=row["ci_lower"], ci_upper=row["ci_upper"], n=row["n_a"] + row["n_b"],
                                 method=pair_words))
    n_total = sum(nobs.values())
    # overall chi-square on units x (top box, not)
    table = np.array([[counts[u], nobs[u] - counts[u]] for u in units], dtype=float)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if (table.sum(axis=0) > 0).all():
        chi2, chi_p, chi_df, _ = stats.chi2_contingency(table, correction=False)
        chi2, chi_p = float(chi2), float(chi_p)
    else:
        chi2, chi_p, chi_df = float("nan"), float("nan"), len(units) - 1
    chi_est = Estimate(term="chi_square_top_box", estimate=float("nan"), statistic=chi2, p_value=chi_p, n=n_total,
                       method=f"Pearson chi-square test, top box ({tb}) vs not across {len(units)} units (df = {int(chi_df)})")
    groups = [pts[(unit_col == u).to_numpy()].dropna().to_numpy() for u in units]
    pooled_values = np.concatenate(groups)
    if np.unique(pooled_values).size < 2:  # every answer identical: the rank test is undefined
        h, kw_p = float("nan"), float("nan")
    else:
        h, kw_p = stats.kruskal(*groups)
        h, kw_p = float(h), float(kw_p)
    kw_est = Estimate(term="kruskal_wallis", estimate=float("nan"), statistic=h, p_value=kw_p, n=n_total,
                      method=f"Kruskal–Wallis rank test on the full scale across {len(units)} units (tie-corrected, df = {len(units) - 1})")
    left_out = [u for u in all_units if u not in units]
    return ScoreResult(
        estimand=f"difference in the share of valid answers in the top box ({tb}) of item {item!r} between units of {unit!r}",
        estimates=tuple(unit_est + pair_est + [chi_est, kw_est]),
        conf_level=conf_level,
        tables={
            "units": _by_group_table([unit], [(u,) for u in units], unit_est,
                                     [{"count_top_box": counts[u]} for u in units]),
            "pairwise": pd.DataFrame(pair_rows),
            "distribution": distribution(df.loc[unit_col.isin(units)], item, scale, by=unit),
        },
        diagnostics={"item": item, "unit": unit, "units": list(units), "units_left_out": left_out,
                     "reference": reference, "p_adjust": p_adjust,
                     "min_expected_count": float(expected.min()) if np.isfinite(expected).all() else None,
                     "scale_version": scale.version},
        scale=scale.name,
    )


_WEIGHTED_METHODS = {
    "wilson_effective_n": "Wilson score interval on the effective sample size p(1-p)/var_lin",
    "linearisation": "Wald interval with linearisation (Taylor) standard error",
}


def weighted_top_box(
    df: pd.DataFrame,
    item: str,
    scale: LikertScale,
    cls: str | Sequence[str],
    planned_by_class: pd.DataFrame | Mapping[Any, int],
    planned_col: str = "planned",
    conf_level: float = 0.95,
    method: str = "wilson_effective_n",
) -> ScoreResult:
    """Top-box share weighted for nonresponse by class, next to the unweighted share.

    Parameters
    ----------
    df : DataFrame
        Returned questionnaires, with the class column(s).
    item : str
    scale : LikertScale
    cls : str or sequence of str
        Weighting class column(s), e.g. ``"hus"`` or ``["hus", "samtaletype"]``.
    planned_by_class : DataFrame or mapping
        Planned meetings per class: a frame with the ``cls`` columns and ``planned_col``, or
        (single class column) a mapping class → planned.
    planned_col : str, default "planned"
    conf_level : float, default 0.95
    method : {"wilson_effective_n", "linearisation"}, default "wilson_effective_n"
        Interval for the weighted share.

    Returns
    -------
    ScoreResult
        Terms ``"share_top_box_unweighted"`` (Wilson) and ``"share_top_box_weighted"``
        (``std_error`` by linearisation; ``n`` valid answers). Table ``"classes"`` with
        planned, answers, weight, valid answers and top-box share per class; diagnostics hold
        the design effect and effective n.

    Raises
    ------
    DataValidationError
        Classes in the answers without planned meetings, or more answers than planned.
    EstimationError
        A class with planned meetings but no answers (collapse classes).

    Notes
    -----
    Estimand: the share in the top box among all planned meetings' participants, under the
    assumption that within a class respondents and nonrespondents answer alike (missing at
    random given class). Each returned questionnaire in class ``c`` gets weight
    ``w_c = planned_c / answers_c``; the weighted share is
    ``p_w = Σ w_i y_i / Σ w_i`` over valid answers (item nonresponse is not reweighted).
    Its variance is the linearised (Taylor) variance of a ratio estimator, with-replacement
    approximation, weights treated as fixed:
    ``v = n/(n-1) · Σ w_i² (y_i - p_w)² / (Σ w_i)²``. The default interval is Wilson's on the
    effective sample size ``n_eff = p_w (1 - p_w) / v`` (Kish's ``(Σw)²/Σw²`` when p_w is 0
    or 1), which keeps the interval inside [0, 1]; ``"linearisation"`` gives ``p_w ± z√v``
    clipped to [0, 1].

    Examples
    --------
    >>> from evaluation.metrics.scales import get_scale
    >>> from evaluation.synthetic.brugermaaling import simulate_brugermaaling
    >>> answers, planned = simulate_brugermaaling()
    >>> r = weighted_top_box(answers, "tro_paa_job", get_scale("brugermaaling-5"), ["hus", "samtaletype"], planned)
    >>> r.tidy()["term"].tolist()
    ['share_top_box_unweighted', 'share_top_box_weighted']
    """
    _check_conf_level(conf_level)
    if method not in _WEIGHTED_METHODS:
        raise StudyConfigError(f"method must be one of {', '.join(_WEIGHTED_METHODS)}, got {method!r}")
    cls = _as_list(cls)
    if isinstance(planned_by_class, Mapping):
        if len(cls) != 1:
            raise StudyConfigError("a mapping of planned meetings needs exactly one class column; pass a DataFrame")
        planned_by_class = pd.DataFrame({cls[0]: list(planned_by_class), planned_col: list(planned_by_class.values())})
    _require_columns(planned_by_class, [*cls, planned_col], "planned_by_class")
    codes = _classified(df, [item], scale)[item]
    _group_keys(df, cls)
    pv = pd.to_numeric(planned_by_class[planned_col], errors="coerce")
    bad = planned_by_class.index[(pv.isna() | (pv < 0)).to_numpy()]
    if len(bad):
        raise DataValidationError(f"planned_by_class: column {planned_col!r} must be a non-negative count; rows {_rows_text(bad)}")
    plan = planned_by_class.assign(**{planned_col: pv}).groupby(cls)[planned_col].sum()
    ans = df.groupby(cls).size()
    unknown = [k for k in ans.index if k not in plan.index]
    if unknown:
        raise DataValidationError(f"answers in class(es) {unknown} of {cls} that have no planned meetings in planned_by_class")
    rows, weights = [], pd.Series(np.nan, index=df.index)
    valid = codes.isin(list(scale.codes))
    top = codes.isin(list(scale.top_box)).astype(float)
    for k in plan.index:
        n_plan, n_ans = float(plan.loc[k]), int(ans.get(k, 0))
        key = k if isinstance(k, tuple) else (k,)
        if n_plan > 0 and n_ans == 0:
            raise EstimationError(f"class {dict(zip(cls, key))} has {int(n_plan)} planned meetings but no answers; collapse it with a neighbouring class")
        if n_ans > n_plan:
            raise DataValidationError(f"class {dict(zip(cls, key))}: {n_ans} answers but only {int(n_plan)} planned meetings")
        if n_ans == 0:
            continue
        m = _mask(df, cls, key)
        w = n_plan / n_ans
        weights[m] = w
        nv = int(valid[m].sum())
        rows.append({**dict(zip(cls, key)), "planned": int(n_plan), "answers": n_ans, "weight": w, "n_valid": nv,
                     "count_top_box": int(top[m & valid.to_numpy()].sum()),
                     "share_top_box": float(top[m & valid.to_numpy()].mean()) if nv else float("nan")})
    w = weights[valid].to_numpy(dtype=float)
    y = top[valid].to_numpy(dtype=float)
    n = int(len(y))
    tb = _codes_range_text(scale.top_box)
    unweighted = _share_estimate("share_top_box_unweighted", int(y.sum()), n, conf_level, "wilson",
                                 f"share in top box ({tb}), unweighted, Wilson score interval")
    if n < 2:
        raise EstimationError(f"weighted share needs at least two valid answers to item {item!r}, got {n}")
    pw = float(np.sum(w * y) / np.sum(w))
    var = float(n / (n - 1) * np.sum((w * (y - pw)) ** 2) / np.sum(w) ** 2)
    se = math.sqrt(var)
    kish = float(np.sum(w) ** 2 / np.sum(w ** 2))
    n_eff = pw * (1 - pw) / var if var > 0 else kish
    if method == "wilson_effective_n":
        lo, hi = _wilson_float(pw, n_eff, conf_level)
    else:
        z = stats.norm.isf((1 - conf_level) / 2)
        lo, hi = max(0.0, pw - z * se), min(1.0, pw + z * se)
    weighted = Estimate(term="share_top_box_weighted", estimate=pw, std_error=se, ci_lower=float(lo), ci_upper=float(hi),
                        n=n, method=f"share in top box ({tb}), nonresponse-weighted by {' × '.join(cls)} "
                                    f"(planned / answers), {_WEIGHTED_METHODS[method]}")
    p0 = unweighted.estimate
    deff = var / (p0 * (1 - p0) / n) if 0 < p0 < 1 else float("nan")
    return ScoreResult(
        estimand=f"share in the top box ({tb}) of item {item!r} among all planned meetings (nonresponse-weighted)",
        estimates=(unweighted, weighted),
        conf_level=conf_level,
        tables={"classes": pd.DataFrame(rows)},
        diagnostics={"item": item, "classes": cls, "effective_n": n_eff, "kish_effective_n": kish,
                     "design_effect": deff, "interval_method": method, "scale_version": scale.version},
        scale=scale.name,
    )
