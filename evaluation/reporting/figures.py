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
from .diagram import draw_logic_model, forest_plot, save_figure  # noqa: E402

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
    for a in bundle["analyses"]:
        res = result_from_dict(a["result"])
        binary = res.outcome_type == "binary" or a.get("unit") == "andel"
        mult, unit = (100.0, "procentpoint") if binary else (1.0, a.get("unit") or "")
        e = main_term(res)
        if e.estimate is None or math.isnan(e.estimate):
            continue
        rows = groups.setdefault(unit, [])
        rows.append({"label": a["indicator_label"], "estimate": e.estimate * mult,
                     "ci_lower": e.ci_lower * mult, "ci_upper": e.ci_upper * mult})
        sub = res.tables.get("subgroups")
        if sub is not None:
            for _, r in sub.iterrows():
                if r["estimate"] is None or math.isnan(r["estimate"]):
                    continue
                rows.append({"label": f"   {r['moderator_label']}: {r['level']}", "estimate": r["estimate"] * mult,
                             "ci_lower": r["ci_lower"] * mult, "ci_upper": r["ci_upper"] * mult})
    return groups


def write_study_figures(bundle: Mapping[str, Any], folder: str | Path) -> dict[str, str]:
    """Draw and save every figure of a study; return figure key → path relative to the report."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, str] = {}
    fig = logic_model_figure(bundle["theory"])
    save_figure(fig, folder / "logic_model.png")
    plt.close(fig)
    out["logic_model"] = "figures/logic_model.png"
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
