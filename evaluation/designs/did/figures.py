"""Figures of the difference-in-differences designs: the event study and the HonestDiD sensitivity plot."""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

from evaluation.designs.did.report import HONEST_WIDTH_IN
from evaluation.presentation.phrases import level_pct, result_level
from evaluation.presentation.plotting import DanishNumberFormatter

__all__ = ["event_study_figure", "event_study_figures", "honest_figure", "honest_figures", "HONEST_WIDTH_IN"]


def event_study_figure(table, xlabel: str, ylabel: str, level: float = 0.95):
    """Event-study estimates with their intervals at confidence ``level`` (and a uniform band when present)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = table.sort_values(table.columns[0])
    x = t[t.columns[0]].astype(float)
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    if "cband_lower" in t.columns and t["cband_lower"].notna().any():
        ax.fill_between(x, t["cband_lower"], t["cband_upper"], color="#1f4e79", alpha=0.12, label=f"Samtidigt {level_pct(level)}-bånd")
    z = NormalDist().inv_cdf(0.5 + level / 2)  # a table without intervals: normal ones at ``level``
    lo = t["ci_lower"] if "ci_lower" in t.columns else t["estimate"] - z * t["std_error"]
    hi = t["ci_upper"] if "ci_upper" in t.columns else t["estimate"] + z * t["std_error"]
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
                                                  "Effekt (procentpoint)" if binary else f"Effekt ({a.unit or ''})",
                                                  level=result_level(res))
    return out


def honest_figure(details: dict[str, Any], ylabel: str, mult: float = 1.0):
    """The Rambachan–Roth sensitivity plot: robust 95 % intervals against M̄ (relative magnitudes) and against
    M (smoothness), each beside the usual interval under exact parallel trends (as HonestDiD's
    ``createSensitivityPlot``/``createSensitivityPlot_relativeMagnitudes``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from evaluation.presentation.formatting import fmt_number

    panels = [(k, details[k]) for k in ("relative_magnitudes", "smoothness") if details.get(k)]
    # the panels are stacked, printed at their own size (no text under 9 pt): side by side they shrank to
    # unreadable text on a phone
    fig, axes = plt.subplots(len(panels), 1, figsize=(HONEST_WIDTH_IN, 2.7 * len(panels) + 0.7), sharey=True, squeeze=False)
    axes = [list(axes[:, 0])]
    olo, ohi = (float(v) * mult for v in details["original"])
    for ax, (kind, d) in zip(axes[0], panels):
        ms = [float(m) for m in (d["Mbar"] if kind == "relative_magnitudes" else d["M"])]
        lo = [float("nan") if v is None else float(v) * mult for v in d["lb"]]
        hi = [float("nan") if v is None else float(v) * mult for v in d["ub"]]
        step = (ms[-1] - ms[0]) / max(len(ms) - 1, 1) or 1.0
        xo = ms[0] - 1.2 * step  # the usual interval, to the left of the first M
        ax.errorbar([xo], [(olo + ohi) / 2], yerr=[[(ohi - olo) / 2], [(ohi - olo) / 2]], fmt="none", color="#7f7f7f",
                    lw=2.2, capsize=4, label="Sædvanligt interval")
        ax.errorbar(ms, [(a + b) / 2 for a, b in zip(lo, hi)], yerr=[[(b - a) / 2 for a, b in zip(lo, hi)]] * 2,
                    fmt="none", color="#1f4e79", lw=2.2, capsize=4, label="Robust interval")
        ax.axhline(0, color="black", lw=0.8)
        bd = d.get("breakdown")
        if bd is not None and bd == bd and ms[0] <= bd <= ms[-1]:
            ax.axvline(bd, color="#a35a12", lw=1, ls="--", label="Nedbrydningsværdi")
        ax.set_xticks([xo] + ms)
        if kind == "relative_magnitudes":
            ticks = [fmt_number(m, 1) for m in ms]
        else:  # M is in the outcome's units, shown in the y axis' units
            ticks = [fmt_number(m * mult, 2 if mult != 1.0 else 4) for m in ms]
        ax.set_xticklabels(["Sædv."] + ticks, fontsize=9)
        ax.tick_params(axis="y", labelsize=9)
        ax.set_xlabel("M̄ (brud efter start i forhold til største brud før)" if kind == "relative_magnitudes"
                      else "M (ændring i hældning pr. periode" + (", procentpoint)" if mult == 100.0 else ")"), fontsize=9)
        ax.set_title("Relative størrelser" if kind == "relative_magnitudes" else "Glathed", fontsize=10)
        ax.yaxis.set_major_formatter(DanishNumberFormatter())
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes[0]:
        ax.set_ylabel(ylabel, fontsize=9)
    handles, labels = axes[0][0].get_legend_handles_labels()
    for ax in axes[0][1:]:  # the breakdown line may be drawn in one panel only
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, fontsize=9)
    fig.tight_layout(rect=(0, 0.6 / fig.get_figheight(), 1, 1))
    return fig


def honest_figures(records, bundle) -> dict[str, Any]:
    """``honest_<analysis id>`` → the sensitivity plot of every analysis with a HonestDiD check result."""
    out: dict[str, Any] = {}
    units = {a.id: a.unit for a in records}
    for c in (getattr(bundle, "robustness", None) or {}).get("checks", []):
        d = c.get("details") or {}
        if c.get("check") != "honest_did" or c.get("analysis") not in units or not d.get("relative_magnitudes"):
            continue
        binary = units[c["analysis"]] == "andel"
        out[f"honest_{c['analysis']}"] = honest_figure(
            d, "Effekt (procentpoint)" if binary else f"Effekt ({units[c['analysis']] or ''})", 100.0 if binary else 1.0)
    return out
