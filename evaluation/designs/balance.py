"""Baseline covariate balance and participant flow for two-group comparisons.

Public helpers shared by the comparison designs:

* :func:`balance_table` — one row per covariate (one per level of a categorical covariate) with
  group means (shares for binary covariates), standard deviations, the standardized mean
  difference (SMD) with the pooled SD ``sqrt((s1² + s0²) / 2)`` and the group sizes;
* :func:`participant_flow` — allocated, lost to follow-up (missing outcome) and analysed, per group.

Neither function modifies its input.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from .base import check_columns

__all__ = ["BALANCE_TABLE_COLUMNS", "FLOW_STEPS", "balance_table", "participant_flow", "expand_covariates"]

BALANCE_TABLE_COLUMNS: tuple[str, ...] = (
    "covariate",
    "variable",
    "level",
    "binary",
    "mean_intervention",
    "mean_control",
    "sd_intervention",
    "sd_control",
    "smd",
    "n_intervention",
    "n_control",
)

FLOW_STEPS: tuple[str, ...] = ("allocated", "lost_to_follow_up", "analysed")


def _examples(index: pd.Index, k: int = 5) -> str:
    shown = ", ".join(map(repr, list(index[:k])))
    return shown + (f" … ({len(index)} rows)" if len(index) > k else "")


def numeric_outcome(y_s: pd.Series, column: str) -> np.ndarray:
    """The outcome column as float (missing values as NaN); a non-numeric column raises naming the rows."""
    if pd.api.types.is_bool_dtype(y_s):
        y_s = y_s.astype(float)
    if not pd.api.types.is_numeric_dtype(y_s):
        num = pd.to_numeric(y_s, errors="coerce")
        bad = y_s.index[num.isna() & y_s.notna()]
        raise DataValidationError(
            f"outcome column {column!r} must be numeric (dtype {y_s.dtype}); non-numeric values "
            f"{list(map(repr, y_s[bad].unique()[:5]))} in rows {_examples(bad)}"
        )
    return y_s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _is_categorical(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


def expand_covariates(data: pd.DataFrame, covariates: Sequence[str], *, drop_first: bool) -> tuple[pd.DataFrame, list[dict]]:
    """Numeric design columns for ``covariates``; categorical ones become 0/1 indicators per level.

    Parameters
    ----------
    data : DataFrame
        Holds the covariates; not modified. Missing values raise :class:`DataValidationError`.
    covariates : sequence of str
    drop_first : bool
        Drop the first (sorted) level of each categorical covariate (for regression); keep all
        levels for balance tables.

    Returns
    -------
    (DataFrame, list of dict)
        The float columns (named ``"var"`` or ``"var = level"``) and, per column, a dict with
        ``variable``, ``level`` (None for numeric covariates) and ``binary``.
    """
    check_columns(data, covariates, what="data (covariates)")
    cols: dict[str, np.ndarray] = {}
    info: list[dict] = []
    for cov in covariates:
        s = data[cov]
        miss = s.isna()
        if miss.any():
            raise DataValidationError(
                f"covariate column {cov!r} has {int(miss.sum())} missing value(s), e.g. rows {_examples(s.index[miss])}; "
                "impute or drop them before the analysis (a baseline covariate cannot be silently dropped)"
            )
        if _is_categorical(s):
            levels = sorted(pd.unique(s.astype(str)))
            use = levels[1:] if drop_first else levels
            as_str = s.astype(str).to_numpy()
            for lev in use:
                name = f"{cov} = {lev}"
                cols[name] = (as_str == lev).astype(float)
                info.append({"variable": cov, "level": lev, "binary": True})
        else:
            x = s.to_numpy(dtype=float)
            if not np.all(np.isfinite(x)):
                bad = s.index[~np.isfinite(x)]
                raise DataValidationError(f"covariate column {cov!r} has non-finite values, e.g. rows {_examples(bad)}")
            cols[cov] = x
            u = np.unique(x)
            info.append({"variable": cov, "level": None, "binary": bool(len(u) <= 2 and np.all(np.isin(u, (0.0, 1.0))))})
    return pd.DataFrame(cols, index=data.index), info


def _wmean(x: np.ndarray, w: np.ndarray) -> float:
    sw = w.sum()
    return float(np.sum(w * x) / sw) if sw > 0 else float("nan")


def _wsd(x: np.ndarray, w: np.ndarray, binary: bool) -> float:
    if binary:
        p = _wmean(x, w)
        return float(np.sqrt(p * (1.0 - p)))
    sw = w.sum()
    denom = sw - np.sum(w**2) / sw if sw > 0 else 0.0
    if denom <= 0:
        return float("nan")
    m = np.sum(w * x) / sw
    return float(np.sqrt(np.sum(w * (x - m) ** 2) / denom))


def _group_masks(data: pd.DataFrame, treatment: str, treated, control) -> tuple[np.ndarray, np.ndarray]:
    check_columns(data, [treatment], what="data (treatment)")
    g = data[treatment].to_numpy(dtype=object)
    t = g == treated
    c = g == control
    other = ~(t | c)
    if other.any():
        vals = pd.Series(g[other]).map(lambda v: "<missing>" if pd.isna(v) else v)
        counts = vals.value_counts()
        listed = ", ".join(f"{k!r} ({v})" for k, v in counts.items())
        raise DataValidationError(
            f"treatment column {treatment!r} must hold only {treated!r} (treated) or {control!r} (control); "
            f"found {listed} in rows {_examples(data.index[other])}"
        )
    for label, m in ((treated, t), (control, c)):
        if not m.any():
            raise DataValidationError(f"the group {label!r} in treatment column {treatment!r} is empty")
    return t, c


def balance_table(
    data: pd.DataFrame,
    treatment: str,
    treated="intervention",
    control="control",
    covariates: Sequence[str] = (),
    weights: str | np.ndarray | pd.Series | None = None,
) -> pd.DataFrame:
    """Baseline characteristics by group with standardized mean differences.

    Parameters
    ----------
    data : DataFrame
        One row per person; not modified.
    treatment : str
        Column holding the group label.
    treated, control : scalar
        The labels of the intervention and the control group; any other value raises.
    covariates : sequence of str
        Numeric covariates (0/1 covariates are reported as shares) and categorical covariates
        (strings, categories), which are expanded to one row per level (the share at that level).
    weights : str, array or Series, optional
        Non-negative unit weights (a column name or values aligned with ``data``). Means are
        weighted means and SDs weighted "reliability" SDs ``sqrt(Σw(x − x̄)² / (Σw − Σw²/Σw))``;
        without weights these are the ordinary mean and ``n − 1`` SD.

    Returns
    -------
    DataFrame
        Columns :data:`BALANCE_TABLE_COLUMNS`: ``covariate`` (display name, ``"var = level"`` for a
        level of a categorical covariate), ``variable``, ``level``, ``binary``,
        ``mean_intervention``, ``mean_control``, ``sd_intervention``, ``sd_control``, ``smd``,
        ``n_intervention``, ``n_control`` (unweighted counts).

    Notes
    -----
    SMD = (mean_intervention − mean_control) / sqrt((s1² + s0²) / 2). For binary covariates the
    SD is ``sqrt(p (1 − p))`` (the convention of R ``cobalt``); for other covariates the sample SD.
    When both SDs are 0 the SMD is 0 for equal means and ±inf otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.designs.balance import balance_table
    >>> df = pd.DataFrame({"group": ["intervention", "control"] * 3,
    ...                    "age": [30, 40, 50, 40, 40, 40], "sex": ["k", "m", "k", "k", "m", "m"]})
    >>> balance_table(df, "group", covariates=["age", "sex"])[["covariate", "mean_intervention", "mean_control"]]
      covariate  mean_intervention  mean_control
    0       age          40.000000     40.000000
    1   sex = k           0.666667      0.333333
    2   sex = m           0.333333      0.666667
    """
    t, c = _group_masks(data, treatment, treated, control)
    if weights is None:
        w = np.ones(len(data))
    else:
        if isinstance(weights, str):
            check_columns(data, [weights], what="data (weights)")
            w = data[weights].to_numpy(dtype=float)
        else:
            w = np.asarray(weights, dtype=float)
        if w.shape != (len(data),):
            raise DataValidationError(f"weights must have one value per row ({len(data)}), got shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise DataValidationError("weights must be finite and non-negative")
    X, info = expand_covariates(data, covariates, drop_first=False)
    rows = []
    for name, meta in zip(X.columns, info):
        x = X[name].to_numpy()
        binary = bool(meta["binary"])
        m1, m0 = _wmean(x[t], w[t]), _wmean(x[c], w[c])
        s1, s0 = _wsd(x[t], w[t], binary), _wsd(x[c], w[c], binary)
        pooled = float(np.sqrt((s1**2 + s0**2) / 2.0))
        if pooled > 0:
            smd = (m1 - m0) / pooled
        elif np.isnan(pooled):
            smd = float("nan")
        else:
            smd = 0.0 if np.isclose(m1, m0) else float(np.sign(m1 - m0) * np.inf)
        rows.append({
            "covariate": name,
            "variable": meta["variable"],
            "level": meta["level"],
            "binary": binary,
            "mean_intervention": m1,
            "mean_control": m0,
            "sd_intervention": s1,
            "sd_control": s0,
            "smd": float(smd),
            "n_intervention": int(t.sum()),
            "n_control": int(c.sum()),
        })
    return pd.DataFrame(rows, columns=list(BALANCE_TABLE_COLUMNS))


def participant_flow(
    data: pd.DataFrame,
    treatment: str,
    outcome: str,
    treated="intervention",
    control="control",
) -> pd.DataFrame:
    """Participant flow per group: allocated, lost to follow-up (missing outcome), analysed.

    Parameters
    ----------
    data : DataFrame
        One row per allocated person; not modified.
    treatment, outcome : str
        Group and outcome columns; a missing outcome counts as lost to follow-up.
    treated, control : scalar
        Group labels.

    Returns
    -------
    DataFrame
        Columns ``step`` (:data:`FLOW_STEPS`), one count column per group label, and ``total``.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.designs.balance import participant_flow
    >>> df = pd.DataFrame({"group": ["intervention", "control", "control"], "y": [1.0, None, 2.0]})
    >>> participant_flow(df, "group", "y")
                    step  intervention  control  total
    0          allocated             1        2      3
    1  lost_to_follow_up             0        1      1
    2           analysed             1        1      2
    """
    check_columns(data, [outcome], what="data (outcome)")
    t, c = _group_masks(data, treatment, treated, control)
    miss = data[outcome].isna().to_numpy()
    out = {"step": list(FLOW_STEPS)}
    for label, m in ((treated, t), (control, c)):
        out[str(label)] = [int(m.sum()), int((m & miss).sum()), int((m & ~miss).sum())]
    out["total"] = [a + b for a, b in zip(out[str(treated)], out[str(control)])]
    return pd.DataFrame(out)
