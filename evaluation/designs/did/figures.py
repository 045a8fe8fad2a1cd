"""Figures of the difference-in-differences designs: the event study."""

from __future__ import annotations

from typing import Any

from evaluation.presentation.plotting import DanishNumberFormatter

__all__ = ["event_study_figure", "event_study_figures"]


def event_study_figure(table, xlabel: str, ylabel: str):
    """Event-study estimates with 95\u00a0% intervals (and a uniform band when present)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = table.sort_values(table.columns[0])
    x = t[t.columns[0]].astype(float)
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    if "cband_lower" in t.columns and t["cband_lower"].notna().any():
        ax.fill_between(x, t["cband_lower"], t["cband_upper"], color="#1f4e79", alpha=0.12, label="Samtidigt 95\u00a0%-bånd")
    lo = t["ci_lower"] if "ci_lower" in t.columns else t["estimate"] - 1.96 * t["std_error"]
    hi = t["ci_upper"] if "ci_upper" in t.columns else t["estimate"] + 1.96 * t["std_error"]
    pre = x < 0
    ax.errorbar(x[pre], t["estimate"][pre], yerr=[t["estimate"][pre] - lo[pre], hi[pre] - t["estimate"][pre]], fmt="o",
                color="#7f7f7f", ms=3, lw=1, label="Før start (test af parallel udvikling)")
    ax.errorbar(x[~pre], t["estimate"][~pre], yerr=[t["estimate"][~pre] - lo[~pre], hi[~pre] - t["estimate"][~pre]], fmt="o",
                color="#1f4e79", ms=3, lw=1, label="Efter start (effekt)")
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(-0.5, color="black", lw=0.6, ls=":")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(DanishNumberFormatter())
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def event_study_figures(records) -> dict[str, Any]:
    """``event_<analysis id>`` → event-study figure for every analysis with an event-study table."""
    out: dict[str, Any] = {}
    for a in records:
        res = a.result
        es = res.tables.get("event_study")
        if es is None or not len(es):
            continue
        binary = a.unit == "andel"
        mult = 100.0 if binary else 1.0
        es = es.copy()
        for c in ("estimate", "std_error", "ci_lower", "ci_upper", "cband_lower", "cband_upper"):
            if c in es.columns:
                es[c] = es[c].astype(float) * mult
        period = res.diagnostics.get("period_label", "perioder")
        out[f"event_{a.id}"] = event_study_figure(es, f"Tid i forhold til start ({period})",
                                                  "Effekt (procentpoint)" if binary else f"Effekt ({a.unit or ''})")
    return out
