"""Figures of the time analyses, drawn from the (disclosure-controlled) bundle: the share who have been
self-supporting week by week (Kaplan–Meier, with pointwise intervals and the simultaneous band), the first
exit by cause (Aalen–Johansen) and the cumulative effect on weeks on public support with its bands.
Drawing functions return figures; :func:`time_figures` hands them to the writer."""

from __future__ import annotations

from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from evaluation.designs.family import get_family  # noqa: E402
from evaluation.presentation.phrases import ci_label, level_pct  # noqa: E402
from evaluation.presentation.plotting import DanishNumberFormatter  # noqa: E402
from evaluation.results import AnalysisRecord, Bundle  # noqa: E402

__all__ = ["km_figure", "competing_figure", "cumulative_figure", "time_figures"]

_STYLES = [("#1f4e79", "-"), ("#c55a11", "--")]


def _names(rec: AnalysisRecord) -> dict[str, str]:
    names = get_family(rec.design).report.group_names(rec)
    names.pop("total", None)
    return names


def _start(rec: AnalysisRecord) -> str:
    return "lodtrækning" if get_family(rec.design).random_assignment else "start"


def _style(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.xaxis.set_major_formatter(DanishNumberFormatter())
    ax.yaxis.set_major_formatter(DanishNumberFormatter())


def km_figure(rec: AnalysisRecord):
    """Share who have been self-supporting at least once, by week since the index week: 100·(1 − S(t)) per group,
    the pointwise interval shaded and the simultaneous band dashed. Drawn from the published weeks only (each
    step covers at least the disclosure threshold of persons), held flat between them."""
    km = rec.duration.tables["km"]
    names = _names(rec)
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for i, (g, part) in enumerate(km.groupby("group", sort=False)):
        colour, ls = _STYLES[i % 2]
        # only the published weeks (disclosure: steps of at least `threshold` persons), drawn as steps between them
        part = part[part["share_not_self_supporting"].notna()]
        w = part["week"].to_numpy(float)
        s = 100 * (1 - part["share_not_self_supporting"].to_numpy(float))
        lo = 100 * (1 - part["ci_upper"].to_numpy(float))
        hi = 100 * (1 - part["ci_lower"].to_numpy(float))
        blo = 100 * (1 - part["band_upper"].to_numpy(float))
        bhi = 100 * (1 - part["band_lower"].to_numpy(float))
        label = names.get(str(g), str(g))
        ax.step(w, s, where="post", color=colour, ls=ls, lw=2, label=label)
        ax.fill_between(w, lo, hi, step="post", color=colour, alpha=0.15, lw=0)
        ax.step(w, blo, where="post", color=colour, lw=0.8, ls=":")
        ax.step(w, bhi, where="post", color=colour, lw=0.8, ls=":")
    for h in rec.duration.diagnostics.get("horizons", []):
        ax.axvline(h, color="#999999", lw=0.7, ls=(0, (2, 3)))
    _style(ax, f"Uger efter {_start(rec)}", "Har været selvforsørgende (%)")
    ax.set_xlim(0, float(km["week"].max()))
    ax.set_ylim(bottom=0)
    lvl = rec.duration.conf_level
    ax.plot([], [], color="#555555", lw=0.8, ls=":", label=f"Samtidigt {level_pct(lvl)}-bånd")
    ax.fill_between([], [], [], color="#555555", alpha=0.15, lw=0, label=f"{ci_label(lvl)} (punktvis)")
    ax.legend(frameon=False, loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def competing_figure(rec: AnalysisRecord):
    """First exit from public support by cause: cumulative incidence (%) per group, one panel per cause."""
    comp = rec.duration.tables["competing"]
    labels = rec.duration.diagnostics.get("cause_labels", {})
    causes = list(dict.fromkeys(comp["cause"]))
    names = _names(rec)
    fig, axes = plt.subplots(1, len(causes), figsize=(7.5, 3.2), sharey=True, squeeze=False)
    for ax, c in zip(axes[0], causes):
        part = comp[comp["cause"] == c]
        for i, (g, pg) in enumerate(part.groupby("group", sort=False)):
            colour, ls = _STYLES[i % 2]
            pg = pg[pg["cumulative_incidence"].notna()]  # the published weeks only, as steps between them
            w = pg["week"].to_numpy(float)
            ax.step(w, 100 * pg["cumulative_incidence"].to_numpy(float), where="post", color=colour, ls=ls, lw=1.8,
                    label=names.get(str(g), str(g)))
            ax.fill_between(w, 100 * pg["ci_lower"].to_numpy(float), 100 * pg["ci_upper"].to_numpy(float), step="post",
                            color=colour, alpha=0.15, lw=0)
        ax.set_title(labels.get(c, c), fontsize=9, loc="left")
        _style(ax, f"Uger efter {_start(rec)}", "Første afgang (%)" if ax is axes[0][0] else "")
        ax.set_xlim(0, float(part["week"].max()))
        ax.set_ylim(bottom=0)
    axes[0][0].legend(frameon=False, loc="upper left", fontsize=7.5)
    fig.tight_layout()
    return fig


def cumulative_figure(rec: AnalysisRecord):
    """The cumulative effect on weeks on public support (participants minus comparison) week by week, with the
    pointwise interval shaded and the simultaneous band dashed; negative = fewer weeks on public support."""
    res = rec.cumulative
    c = res.tables["curve"]
    c = c[c["estimate"].notna()]  # the published weeks only (disclosure), joined by lines
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    w = c["week"].to_numpy(float)
    ax.fill_between(w, c["ci_lower"].to_numpy(float), c["ci_upper"].to_numpy(float), color="#1f4e79", alpha=0.18, lw=0,
                    label=f"{ci_label(res.conf_level)} (punktvis)")
    ax.plot(w, c["band_lower"].to_numpy(float), color="#1f4e79", lw=0.8, ls=":", label=f"Samtidigt {level_pct(res.conf_level)}-bånd")
    ax.plot(w, c["band_upper"].to_numpy(float), color="#1f4e79", lw=0.8, ls=":")
    step = len(w) > 1 and np.all(np.diff(w) > 1)
    if step:
        ax.plot(w, c["estimate"].to_numpy(float), color="#1f4e79", lw=2, marker="o", ms=3, label="Kumuleret effekt")
    else:
        ax.plot(w, c["estimate"].to_numpy(float), color="#1f4e79", lw=2, label="Kumuleret effekt")
    ax.axhline(0, color="#777777", lw=0.9, ls=(0, (4, 3)))
    for h in res.diagnostics.get("horizons", []):
        ax.axvline(h, color="#999999", lw=0.7, ls=(0, (2, 3)))
    per_period = get_family(rec.design).time_mode == "period"
    _style(ax, "Uger fra begyndelsen af startperioden" if per_period else f"Uger efter {_start(rec)}",
           "Forskel i uger på offentlig forsørgelse")
    ax.set_xlim(0, float(w.max()))
    ax.legend(frameon=False, loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def time_figures(bundle: Bundle | Mapping[str, Any]) -> dict[str, Any]:
    """Figure key → figure for every analysis with durations or cumulative effects."""
    bundle = Bundle.from_dict(bundle)
    out: dict[str, Any] = {}
    for rec in bundle.analyses:
        if rec.duration is not None and "km" in rec.duration.tables:
            out[f"duration_{rec.id}"] = km_figure(rec)
            if "competing" in rec.duration.tables:
                out[f"competing_{rec.id}"] = competing_figure(rec)
        if rec.cumulative is not None and "curve" in rec.cumulative.tables:
            out[f"cumulative_{rec.id}"] = cumulative_figure(rec)
    return out
