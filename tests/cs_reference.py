"""Straightforward reference implementations of the Callaway & Sant'Anna kernels (tests and benchmarks only).

These loop cell by cell with pandas subsetting and are kept out of the package: the fast
kernels in ``evaluation.designs.did._cs`` are validated against them (tests/designs/did/test_cs.py)
and timed against them (benchmarks/bench_cs.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evaluation.designs.did._cs import GroupTime, Panel, _cell_layout, did_2x2_panel
from evaluation.exceptions import EstimationError


def group_time_covariates_reference(
    panel: Panel, *, control_group: str, anticipation: int, base_period: str, est_method: str
) -> GroupTime:
    """The straightforward version of :func:`group_time_covariates`: :func:`did_2x2_panel` cell by
    cell on its own sample, influence functions stored per cell (for validation)."""
    if panel.X is None:
        raise EstimationError("group_time_covariates needs covariates")
    cells, mask = _cell_layout(panel, control_group, anticipation, base_period)
    n = panel.n
    w_all = np.ones(n) if panel.w is None else panel.w
    X_all = np.column_stack([np.ones(n), panel.X])
    counts = panel.counts.astype(float)
    res: dict[str, list[Any]] = {k: [] for k in ("g", "t", "ti", "bi", "att", "se", "n1", "n0", "rows", "vals")}
    for (c, ti, bi, _gp), m in zip(cells, mask):
        if not m.any():
            continue
        rows = np.concatenate([np.arange(panel.starts[c], panel.starts[c + 1])] + [
            np.arange(panel.starts[k], panel.starts[k + 1]) for k in np.flatnonzero(m)
        ])
        D = (panel.cohort[rows] == c).astype(float)
        dy = panel.Y[rows, ti] - panel.Y[rows, bi]
        att, inf = did_2x2_panel(dy, D, X_all[rows], w_all[rows], est_method)
        psi = inf * (n / len(rows))
        res["g"].append(panel.cohorts[c])
        res["t"].append(panel.periods[ti])
        res["ti"].append(ti)
        res["bi"].append(bi)
        res["att"].append(att)
        res["se"].append(np.sqrt(np.sum(psi**2)) / n)
        res["n1"].append(counts[c])
        res["n0"].append(float(m @ counts))
        res["rows"].append(rows)
        res["vals"].append(psi)
    return GroupTime(
        g=np.array(res["g"]), t=np.array(res["t"]), ti=np.array(res["ti"]), bi=np.array(res["bi"]),
        att=np.array(res["att"]), se=np.array(res["se"]), n_treated=np.array(res["n1"]),
        n_control=np.array(res["n0"]), if_rows=res["rows"], if_vals=res["vals"],
    )


def _reference_controls(G, gpos_all, g, ti, bi, control_group: str, anticipation: int):
    """Comparison persons of cell (g, t) in the straightforward references: never treated, or not yet treated by
    the later of the two compared periods (plus anticipation) and not in cohort g."""
    if control_group == "nevertreated":
        return ~np.isfinite(G)
    return (~np.isfinite(G)) | ((gpos_all > max(ti, bi) + anticipation) & (G != g))


def reference_group_time(
    df, *, unit: str, period: str, outcome: str, cohort: str, control_group: str = "nevertreated",
    anticipation: int = 0, base_period: str = "varying",
):
    """Straightforward loop-over-(g, t) implementation with pandas subsetting (for validation).

    ``cohort`` holds the start period, ``inf`` for never treated. Returns a DataFrame with
    ``g, t, att, se`` computed cell by cell from the unit-level differences.
    """
    import pandas as pd

    periods = np.sort(df[period].unique())
    pos = {p: i for i, p in enumerate(periods)}
    wide = df.pivot(index=unit, columns=period, values=outcome)
    G = df.groupby(unit)[cohort].first().reindex(wide.index)
    n = len(wide)
    gpos_all = G.map(lambda x: pos.get(x, np.inf) if np.isfinite(x) else np.inf)
    out = []
    for g in np.sort(G[np.isfinite(G)].unique()):
        gp = pos[g]
        ref = gp - anticipation - 1
        if ref < 0:
            continue
        for ti in range((1 if base_period == "varying" else 0), len(periods)):
            bi = ref if (base_period == "universal" or ti >= gp) else ti - 1
            if ti == bi:
                continue
            ctrl = _reference_controls(G, gpos_all, g, ti, bi, control_group, anticipation)
            if not ctrl.any():
                continue
            dy = wide[periods[ti]] - wide[periods[bi]]
            d1 = dy[G == g]
            d0 = dy[ctrl]
            att = d1.mean() - d0.mean()
            psi1 = n / len(d1) * (d1 - d1.mean())
            psi0 = n / len(d0) * (d0 - d0.mean())
            se = np.sqrt((psi1**2).sum() + (psi0**2).sum()) / n
            out.append({"g": g, "t": periods[ti], "att": att, "se": se})
    return pd.DataFrame(out)


def reference_att_overall(
    df, *, unit: str, period: str, outcome: str, cohort: str, control_group: str = "nevertreated",
    anticipation: int = 0, base_period: str = "varying",
) -> tuple[float, float]:
    """Straightforward ``att_overall`` and its analytic SE (``did::aggte(type = "simple")``).

    Loops over the post-enrolment (g, t) cells with pandas subsetting, builds each cell's
    influence function as an ``n``-vector, accumulates ``sum_k w_k psi_k`` with ``w_k = pg_k /
    sum pg`` and adds the estimated-weight term ``wif`` of ``did::aggte``; for validation of the
    fast kernel (unweighted, no covariates).
    """
    periods = np.sort(df[period].unique())
    pos = {p: i for i, p in enumerate(periods)}
    wide = df.pivot(index=unit, columns=period, values=outcome)
    G = df.groupby(unit)[cohort].first().reindex(wide.index)
    n = len(wide)
    gpos_all = G.map(lambda x: pos.get(x, np.inf) if np.isfinite(x) else np.inf)
    pg_of = (G.value_counts() / n).to_dict()
    # accumulated over cells k (memory O(n)): sum pg_k psi_k, sum (1[G = g_k] - pg_k) att_k,
    # sum (1[G = g_k] - pg_k), sum pg_k, sum pg_k att_k
    acc_psi, acc_if1, acc_cnt = np.zeros(n), np.zeros(n), np.zeros(n)
    S = SA = 0.0
    for g in np.sort(G[np.isfinite(G)].unique()):
        gp = pos[g]
        ref = gp - anticipation - 1
        if ref < 0:
            continue
        treat = G == g
        ind = treat.to_numpy().astype(float)
        for ti in range(gp, len(periods)):
            bi = ref
            ctrl = _reference_controls(G, gpos_all, g, ti, bi, control_group, anticipation)
            if not ctrl.any():
                continue
            dy = wide[periods[ti]] - wide[periods[bi]]
            d1, d0 = dy[treat], dy[ctrl]
            att = d1.mean() - d0.mean()
            psi = np.zeros(n)
            psi[treat.to_numpy()] = n / len(d1) * (d1 - d1.mean())
            psi[ctrl.to_numpy()] -= n / len(d0) * (d0 - d0.mean())
            pg = pg_of[g]
            acc_psi += pg * psi
            acc_if1 += (ind - pg) * att
            acc_cnt += ind - pg
            S += pg
            SA += pg * att
    est = float(SA / S)
    # aggregated influence function plus the estimated cohort-share weights (did::aggte wif %*% att)
    IF = acc_psi / S + acc_if1 / S - acc_cnt * SA / S**2
    return est, float(np.sqrt(np.sum(IF**2)) / n)
