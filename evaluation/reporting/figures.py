"""Figures a study report needs, drawn from the (already disclosure-controlled) bundle.

Only this module and the report writer save files; the drawing functions return figures.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..metrics.targets import main_term  # noqa: E402
from ..results import result_from_dict  # noqa: E402
from evaluation.reporting.diagram import draw_logic_model  # noqa: E402
from evaluation.presentation.plotting import forest_plot, save_figure  # noqa: E402

__all__ = ["write_study_figures", "logic_model_figure", "effects_forest_rows"]


def logic_model_figure(theory: Mapping[str, Any], title: str | None = None):
    """The logic-model diagram of a theory given as the bundle's plain dict."""
    mech_no = {m["id"]: f"M{i + 1}" for i, m in enumerate(theory.get("mechanisms", []))}
    mech_label = {m["id"]: m["label"] for m in theory.get("mechanisms", [])}
    nodes = [
        {"id": n["id"], "type": n["type"], "label": n["label"], "horizon": n.get("horizon"), "primary": n.get("primary", False)}
        for n in theory["nodes"]
    ]
    links = []
    for l in theory.get("links", []):
        if l.get("mechanism"):
            label = f"{mech_no[l['mechanism']]}: {mech_label[l['mechanism']]}"
        else:
            label = "direkte"
        links.append({"from": l["from"], "to": l["to"], "label": label})
    return draw_logic_model(nodes, links, title=title)


def effects_forest_rows(bundle: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Forest-plot rows grouped by unit: main effect of each analysis and its subgroups."""
    groups: dict[str, list[dict[str, Any]]] = {}
    short = {"randomized_comparison": "lodtrækning", "matched_comparison": "matchning", "did_2x2": "2×2 DiD",
             "did_twfe": "TWFE", "did_cs": "Callaway–Sant'Anna"}
    counts: dict[str, int] = {}
    for a in bundle["analyses"]:
        counts[a["indicator_label"]] = counts.get(a["indicator_label"], 0) + 1
    for a in bundle["analyses"]:
        if a.get("design") == "pre_post":  # a change over time, not an effect: no place in the effects forest plot
            continue
        res = result_from_dict(a["result"])
        binary = res.outcome_type == "binary" or a.get("unit") == "andel"
        mult, unit = (100.0, "procentpoint") if binary else (1.0, a.get("unit") or "")
        e = main_term(res)
        if e.estimate is None or math.isnan(e.estimate):
            continue
        rows = groups.setdefault(unit, [])
        label = a["indicator_label"] + (f" ({short.get(a['design'], a['design'])})" if counts[a["indicator_label"]] > 1 else "")
        rows.append({"label": label, "estimate": e.estimate * mult,
                     "ci_lower": e.ci_lower * mult, "ci_upper": e.ci_upper * mult})
        sub = res.tables.get("subgroups")
        if sub is not None:
            for _, r in sub.iterrows():
                if r["estimate"] is None or math.isnan(r["estimate"]):
                    continue
                rows.append({"label": f"   {r['moderator_label']}: {r['level']}", "estimate": r["estimate"] * mult,
                             "ci_lower": r["ci_lower"] * mult, "ci_upper": r["ci_upper"] * mult})
    return groups


GROUP_DA = {"intervention": "Interventionsgruppe", "control": "Kontrolgruppe", "comparison": "Sammenligningsgruppe"}


def time_course_figure(time_course: Mapping[str, Any]):
    """Share self-supporting in each week since the index week, one line per group."""
    from evaluation.presentation.plotting import DanishNumberFormatter

    rec = time_course["records"]
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    groups = list(dict.fromkeys(rec["group"]))
    styles = {"intervention": ("#1f4e79", "-"), "control": ("#c55a11", "--"), "comparison": ("#c55a11", "--")}
    for g in groups:
        wk = [w for w, gg in zip(rec["week"], rec["group"]) if gg == g]
        sh = [float("nan") if s is None else 100 * s for s, gg in zip(rec["share"], rec["group"]) if gg == g]
        colour, ls = styles.get(g, (None, "-"))
        ax.plot(wk, sh, ls, color=colour, lw=2, label=GROUP_DA.get(g, g))
    ax.set_xlabel("Uger efter start (lodtrækning)")
    ax.set_ylabel("Andel selvforsørgende (%)")
    ax.yaxis.set_major_formatter(DanishNumberFormatter())
    ax.set_xlim(1, max(rec["week"]))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


def event_study_figure(table, xlabel: str, ylabel: str):
    """Event-study estimates with 95 % intervals (and a uniform band when present)."""
    from evaluation.presentation.plotting import DanishNumberFormatter

    t = table.sort_values(table.columns[0])
    x = t[t.columns[0]].astype(float)
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    if "cband_lower" in t.columns and t["cband_lower"].notna().any():
        ax.fill_between(x, t["cband_lower"], t["cband_upper"], color="#1f4e79", alpha=0.12, label="Samtidigt 95 %-bånd")
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


def write_study_figures(bundle: Mapping[str, Any], folder: str | Path) -> dict[str, str]:
    """Draw and save every figure of a study; return figure key → path relative to the report."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, str] = {}
    fig = logic_model_figure(bundle["theory"])
    save_figure(fig, folder / "logic_model.png")
    plt.close(fig)
    out["logic_model"] = "figures/logic_model.png"
    if bundle.get("time_course"):
        fig = time_course_figure(bundle["time_course"])
        save_figure(fig, folder / "time_course.png")
        plt.close(fig)
        out["time_course"] = "figures/time_course.png"
    for a in bundle["analyses"]:
        res = result_from_dict(a["result"])
        es = res.tables.get("event_study")
        if es is not None and len(es):
            binary = a.get("unit") == "andel"
            mult = 100.0 if binary else 1.0
            es = es.copy()
            for c in ("estimate", "std_error", "ci_lower", "ci_upper", "cband_lower", "cband_upper"):
                if c in es.columns:
                    es[c] = es[c].astype(float) * mult
            period = res.diagnostics.get("period_label", "perioder")
            fig = event_study_figure(es, f"Tid i forhold til start ({period})",
                                     "Effekt (procentpoint)" if binary else f"Effekt ({a.get('unit') or ''})")
            save_figure(fig, folder / f"event_{a['id']}.png")
            plt.close(fig)
            out[f"event_{a['id']}"] = f"figures/event_{a['id']}.png"
    if bundle.get("surveys"):
        from ..survey_pipeline import write_survey_figures

        out.update(write_survey_figures(bundle, folder))
    for i, (unit, rows) in enumerate(sorted(effects_forest_rows(bundle).items())):
        fig = forest_plot(rows, xlabel=f"Effekt ({unit})" if unit else "Effekt", null=0)
        name = f"forest_{i + 1}.png"
        save_figure(fig, folder / name)
        plt.close(fig)
        out[f"forest_{i + 1}"] = f"figures/{name}"
    return out
