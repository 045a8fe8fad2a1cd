"""Plasmode building blocks shared by the families' simulations for ``evaluation diagnose``.

A family's :meth:`~evaluation.designs.family.Family.simulate` redraws the assignment of the
study's own data the way the design declares it was made (so the true effect of the redrawn
assignment is zero) and adds a known effect ``tau``; these helpers do the redrawing and adding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["is_binary", "permute_labels", "add_effect", "plasmode_comparison"]


def is_binary(y: pd.Series) -> bool:
    """True when every observed value is 0 or 1."""
    v = y.dropna().unique()
    return len(v) > 0 and set(np.unique(v)).issubset({0, 1, 0.0, 1.0})


def permute_labels(labels: np.ndarray, rng: np.random.Generator, unit: np.ndarray | None = None,
                   strata: np.ndarray | None = None) -> np.ndarray:
    """Permute ``labels`` (one per row) at the level of ``unit`` (rows of a unit share a label),
    within ``strata`` (constant within a unit)."""
    if unit is None:
        unit = np.arange(len(labels))
    inv = pd.factorize(unit)[0]
    _, first = np.unique(inv, return_index=True)
    ulab = labels[first]
    new = ulab.copy()
    if strata is None:
        new = rng.permutation(ulab)
    else:
        ust = np.asarray(strata)[first]
        for lev in pd.unique(ust):
            idx = np.flatnonzero(ust == lev)
            new[idx] = ulab[rng.permutation(idx)]
    return new[inv]


def add_effect(col: pd.Series, is_t: np.ndarray, tau: float, rng: np.random.Generator) -> np.ndarray:
    """The outcome with a known effect ``tau`` in the rows ``is_t``: added, or for 0/1 outcomes by random
    flips (0 → 1 for tau > 0, 1 → 0 for tau < 0) with the probability that shifts the share by ``tau``."""
    y = col.astype(float).to_numpy().copy()
    if is_binary(col):
        ok = ~np.isnan(y)
        if tau > 0:
            base = y[is_t & ok].mean() if (is_t & ok).any() else 0.0
            p = tau / max(1.0 - base, 1e-12)
            flip = is_t & ok & (y == 0) & (rng.random(len(y)) < min(p, 1.0))
            y[flip] = 1.0
        elif tau < 0:
            base = y[is_t & ok].mean() if (is_t & ok).any() else 0.0
            p = -tau / max(base, 1e-12)
            flip = is_t & ok & (y == 1) & (rng.random(len(y)) < min(p, 1.0))
            y[flip] = 0.0
    else:
        y[is_t] += tau
    return y


def plasmode_comparison(frame: pd.DataFrame, outcome: str, treat: str, treated, control, tau: float,
                        rng: np.random.Generator, cluster: str | None = None, strata: str | None = None) -> pd.DataFrame:
    """Two labelled groups: the labels permuted (whole clusters, within strata), ``tau`` added to the new treated."""
    f = frame[frame[treat].isin([treated, control])].copy()
    f[treat] = permute_labels(f[treat].to_numpy(), rng, None if cluster is None else f[cluster].to_numpy(),
                              None if strata is None else f[strata].astype(str).to_numpy())
    is_t = (f[treat] == treated).to_numpy()
    f[outcome] = add_effect(f[outcome], is_t, tau, rng)
    return f
