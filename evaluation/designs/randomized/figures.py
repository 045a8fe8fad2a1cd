"""Figures of the randomized comparison: the sensitivity of a mechanism's indirect effect (ACME) to ρ."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from evaluation.presentation.phrases import level_pct, result_level
from evaluation.presentation.plotting import DanishNumberFormatter

__all__ = ["mediation_sensitivity_figure", "mediation_figures"]


def mediation_sensitivity_figure(curve, rho_at_zero: float | None, ylabel: str, level: float = 0.95):
    """ACME(ρ) with its band at confidence ``level`` (medsens' plot): the indirect effect if an unmeasured confounder of mediator and
    outcome made the error correlation ρ; ρ = 0 is the analysis's assumption."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = curve.sort_values("rho")
    c = c[c["rho"].abs() <= 0.9 + 1e-9]  # medsens' plotting range; ACME(ρ) grows without bound as |ρ| → 1
    core = c[c["rho"].abs() <= 0.5 + 1e-9]
    lo = float(np.nanmin([core["ci_lower"].min(), core["acme"].min(), 0.0]))
    hi = float(np.nanmax([core["ci_upper"].max(), core["acme"].max(), 0.0]))
    pad = 0.15 * (hi - lo or 1.0)
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    ax.fill_between(c["rho"], c["ci_lower"], c["ci_upper"], color="#1f4e79", alpha=0.15, label=f"{level_pct(level)}-interval")
    ax.plot(c["rho"], c["acme"], color="#1f4e79", lw=1.6, label="Indirekte effekt (ACME) ved korrelationen \u03c1")
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0, color="#7f7f7f", lw=0.8, ls=":", label="\u03c1 = 0: analysens forudsætning")
    if rho_at_zero is not None:
        ax.axvline(rho_at_zero, color="#c00000", lw=0.9, ls="--", label="\u03c1, hvor den indirekte effekt er 0")
    ax.set_xlim(-0.9, 0.9)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("Korrelation \u03c1 mellem fejlleddene i mediator- og resultatmodellen")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_formatter(DanishNumberFormatter())
    ax.yaxis.set_major_formatter(DanishNumberFormatter())
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=7.5, loc="best")
    fig.tight_layout()
    return fig


def mediation_figures(records) -> dict[str, Any]:
    """``mediation_<analysis id>_<mediator>`` → sensitivity figure of the primary analyses with a mediation analysis
    (the first such analysis when none is primary)."""
    out: dict[str, Any] = {}
    with_med = [a for a in records if a.result.tables.get("mediation_sensitivity") is not None]
    chosen = [a for a in with_med if a.primary] or with_med[:1]
    for a in chosen:
        curve = a.result.tables.get("mediation_sensitivity")
        if curve is None or not len(curve):
            continue
        mult = 100.0 if a.unit == "andel" or getattr(a.result, "outcome_type", "") == "binary" else 1.0
        diag = a.result.diagnostics.get("mediation") or {}
        for mediator, part in curve.groupby("mediator", sort=False):
            part = part.copy()
            for col in ("acme", "ci_lower", "ci_upper"):
                part[col] = part[col].astype(float) * mult
            core = part[part["rho"].abs() <= 0.5 + 1e-9]
            if not np.isfinite(core[["acme", "ci_lower", "ci_upper"]].to_numpy(dtype=float)).any():
                # the indirect effect is undefined along the whole curve: no figure (the report says so), no crash
                warnings.warn(f"analysis {a.id!r}: the sensitivity curve of the indirect effect through {mediator!r} "
                              "has no finite values; its figure is left out", UserWarning, stacklevel=2)
                continue
            rho0 = (diag.get(mediator) or {}).get("rho_at_zero")
            unit = "procentpoint" if mult == 100.0 else (a.unit or "")
            out[f"mediation_{a.id}_{mediator}"] = mediation_sensitivity_figure(
                part, rho0, f"Indirekte effekt ({unit})" if unit else "Indirekte effekt", level=result_level(a.result))
    return out
