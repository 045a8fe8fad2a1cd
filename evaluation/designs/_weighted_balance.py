"""Weighted covariate balance for observational comparisons (private helper of ``matched.py``).

``evaluation/designs/balance.py`` (the randomized-comparison balance table) did not exist when
this module was written; this module computes balance on *weights* (before and after
propensity-score weighting or matching), which that table does not need.

Conventions (those of R ``cobalt``/``MatchIt``, so numbers can be compared with them):

* standardized mean difference (SMD) = (weighted mean treated − weighted mean control) / s,
  where the standardizer ``s`` is computed once, on the *unadjusted* sample (only survey weights
  applied), so an "after" SMD cannot look better merely because the weights shrank the spread:
  the treated-group SD for the ATT, the pooled SD ``sqrt((s1² + s0²) / 2)`` for the ATE/ATO;
* for binary (0/1) covariates the SD is ``sqrt(p (1 − p))`` (no ``n − 1``);
* variances are weighted "reliability" variances ``Σw(x − x̄)² / (Σw − Σw²/Σw)``, which reduce
  to the ordinary ``n − 1`` sample variance when all weights are 1;
* variance ratio = variance treated / variance control, reported for non-binary covariates only
  (for a 0/1 variable it is a function of the means).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "BALANCE_COLUMNS",
    "weighted_mean",
    "weighted_var",
    "kish_ess",
    "is_binary",
    "weighted_balance_table",
    "balance_failures",
]

BALANCE_COLUMNS: tuple[str, ...] = (
    "covariate",
    "binary",
    "mean_treated",
    "mean_treated_after",
    "mean_control_before",
    "mean_control_after",
    "smd_before",
    "smd_after",
    "var_ratio_before",
    "var_ratio_after",
)


def weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    """Weighted mean ``Σ w x / Σ w`` (NaN when the weights sum to 0)."""
    sw = float(np.sum(w))
    return float(np.sum(w * x) / sw) if sw > 0 else float("nan")


def weighted_var(x: np.ndarray, w: np.ndarray) -> float:
    """Weighted reliability variance ``Σw(x − x̄)² / (Σw − Σw²/Σw)``; the ``n − 1`` variance for unit weights."""
    w = np.asarray(w, dtype=float)
    keep = w > 0
    x, w = np.asarray(x, dtype=float)[keep], w[keep]
    sw = w.sum()
    if sw <= 0:
        return float("nan")
    denom = sw - np.sum(w**2) / sw
    if denom <= 0:
        return float("nan")
    m = np.sum(w * x) / sw
    return float(np.sum(w * (x - m) ** 2) / denom)


def kish_ess(w: np.ndarray) -> float:
    """Kish effective sample size ``(Σw)² / Σw²`` (0 when there are no positive weights)."""
    w = np.asarray(w, dtype=float)
    s2 = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / s2) if s2 > 0 else 0.0


def is_binary(x: np.ndarray) -> bool:
    """True when every value is 0 or 1."""
    u = np.unique(np.asarray(x, dtype=float))
    return bool(len(u) <= 2 and np.all(np.isin(u, (0.0, 1.0))))


def _sd(x: np.ndarray, w: np.ndarray, binary: bool) -> float:
    if binary:
        p = weighted_mean(x, w)
        return float(np.sqrt(p * (1.0 - p)))
    return float(np.sqrt(weighted_var(x, w)))


def weighted_balance_table(
    data: pd.DataFrame,
    treated_mask: np.ndarray,
    covariates: Sequence[str],
    base_weights: np.ndarray,
    final_weights: np.ndarray,
    estimand: str = "ATT",
) -> pd.DataFrame:
    """Balance before (``base_weights``) and after (``final_weights``) adjustment.

    Parameters
    ----------
    data : DataFrame
        Holds the numeric ``covariates``; not modified.
    treated_mask : bool array
        True for the intervention group.
    covariates : sequence of str
    base_weights : array
        Survey/design weights (ones when there are none): the "before" comparison.
    final_weights : array
        The weights the effect is estimated with (survey × propensity or matching weights).
    estimand : {"ATT", "ATE", "ATO"}
        Chooses the SMD standardizer (treated SD for the ATT, pooled SD otherwise).

    Returns
    -------
    DataFrame
        Columns :data:`BALANCE_COLUMNS`, one row per covariate.
    """
    t = np.asarray(treated_mask, dtype=bool)
    c = ~t
    bw = np.asarray(base_weights, dtype=float)
    fw = np.asarray(final_weights, dtype=float)
    rows = []
    for cov in covariates:
        x = data[cov].to_numpy(dtype=float)
        binary = is_binary(x)
        sd_t = _sd(x[t], bw[t], binary)
        sd_c = _sd(x[c], bw[c], binary)
        s = sd_t if estimand == "ATT" else float(np.sqrt((sd_t**2 + sd_c**2) / 2.0))
        mt_b, mc_b = weighted_mean(x[t], bw[t]), weighted_mean(x[c], bw[c])
        mt_a, mc_a = weighted_mean(x[t], fw[t]), weighted_mean(x[c], fw[c])
        if s > 0:
            smd_b, smd_a = (mt_b - mc_b) / s, (mt_a - mc_a) / s
        else:  # constant in the standardizing group: any difference is infinite, none is 0
            smd_b = 0.0 if np.isclose(mt_b, mc_b) else np.sign(mt_b - mc_b) * np.inf
            smd_a = 0.0 if np.isclose(mt_a, mc_a) else np.sign(mt_a - mc_a) * np.inf
        if binary:
            vr_b = vr_a = float("nan")
        else:
            vc_b, vc_a = weighted_var(x[c], bw[c]), weighted_var(x[c], fw[c])
            vr_b = weighted_var(x[t], bw[t]) / vc_b if vc_b > 0 else float("inf")
            vr_a = weighted_var(x[t], fw[t]) / vc_a if vc_a > 0 else float("inf")
        rows.append(
            {
                "covariate": cov,
                "binary": binary,
                "mean_treated": mt_b,
                "mean_treated_after": mt_a,
                "mean_control_before": mc_b,
                "mean_control_after": mc_a,
                "smd_before": float(smd_b),
                "smd_after": float(smd_a),
                "var_ratio_before": float(vr_b),
                "var_ratio_after": float(vr_a),
            }
        )
    return pd.DataFrame(rows, columns=list(BALANCE_COLUMNS))


def balance_failures(table: pd.DataFrame, max_smd: float, var_ratio: tuple[float, float]) -> list[str]:
    """Covariates whose after-adjustment |SMD| exceeds ``max_smd`` or whose variance ratio is outside ``var_ratio``."""
    lo, hi = var_ratio
    bad = []
    for row in table.itertuples(index=False):
        smd_bad = not (abs(row.smd_after) <= max_smd)
        vr_bad = (not row.binary) and not (lo <= row.var_ratio_after <= hi)
        if smd_bad or vr_bad:
            reasons = []
            if smd_bad:
                reasons.append(f"|SMD| {abs(row.smd_after):.3f} > {max_smd:g}")
            if vr_bad:
                reasons.append(f"variance ratio {row.var_ratio_after:.2f} outside [{lo:g}, {hi:g}]")
            bad.append(f"{row.covariate} ({'; '.join(reasons)})")
    return bad
