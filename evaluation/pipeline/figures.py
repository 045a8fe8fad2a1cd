"""The figures of a results bundle, drawn from the (already disclosure-controlled) bundle.

The logic model, the week-by-week time course and the forest plots of effects are drawn here;
every design family adds its own figures (:meth:`evaluation.designs.family.Family.figures`).
Drawing functions return figures; only :func:`write_study_figures` saves files.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from evaluation.declaration.diagram import draw_logic_model, draw_logic_model_parts  # noqa: E402
from evaluation.designs.family import families, get_family  # noqa: E402
from evaluation.presentation.phrases import common_level  # noqa: E402
from evaluation.presentation.plotting import (  # noqa: E402
    DanishNumberFormatter,
    forest_plot,
    save_figure,
)
from evaluation.results import Bundle  # noqa: E402

__all__ = ["write_study_figures", "logic_model_figure", "logic_model_figures", "effects_forest_rows", "time_course_figure"]


def _logic_model_input(theory: Mapping[str, Any], robustness: Mapping[str, Any] | None = None):
    """Nodes, links and assumptions for the diagram; with the bundle's robustness record each assumption
    carries its status, and each link the codes of the assumptions it rests on (the diagram frames the link's
    label with the worst of their statuses, :func:`evaluation.declaration.diagram.link_status`)."""
    status = {a["id"]: a["status"] for a in (robustness or {}).get("assumptions", [])}
    asm_code = {a["id"]: f"A{i + 1}" for i, a in enumerate(theory.get("assumptions", []))}
    assumptions = [{"code": asm_code[a["id"]], "text": a["description"], "status": status.get(a["id"])}
                   for a in theory.get("assumptions", [])]
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
        links.append({"from": l["from"], "to": l["to"], "label": label,
                      "assumptions": [asm_code[x] for x in l.get("assumptions", []) if x in asm_code]})
    return nodes, links, assumptions


def logic_model_figure(theory: Mapping[str, Any], title: str | None = None,
                       robustness: Mapping[str, Any] | None = None):
    """The logic-model diagram of a theory given as the bundle's plain dict (one figure, any width)."""
    nodes, links, assumptions = _logic_model_input(theory, robustness)
    return draw_logic_model(nodes, links, title=title, assumptions=assumptions)


def logic_model_figures(theory: Mapping[str, Any], robustness: Mapping[str, Any] | None = None) -> list:
    """The logic model as printed in the report: one figure, or parts split by layer so that each fits the A4
    text width with its smallest text at 9 pt (:func:`evaluation.declaration.diagram.draw_logic_model_parts`)."""
    nodes, links, assumptions = _logic_model_input(theory, robustness)
    return draw_logic_model_parts(nodes, links, assumptions=assumptions)


def effects_forest_rows(bundle: Bundle | Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Forest-plot rows grouped by unit: the main effect of each effect analysis and its subgroups.

    Analyses whose design does not estimate an effect (before/after, surveys) have no place here.
    """
    bundle = Bundle.from_dict(bundle)
    groups: dict[str, list[dict[str, Any]]] = {}
    counts: dict[str, int] = {}
    for a in bundle.analyses:
        counts[a.indicator_label] = counts.get(a.indicator_label, 0) + 1
    for a in bundle.analyses:
        fam = get_family(a.design)
        if not fam.is_effect:
            continue
        res = a.result
        binary = getattr(res, "outcome_type", "") == "binary" or a.unit == "andel"
        mult, unit = (100.0, "procentpoint") if binary else (1.0, a.unit or "")
        e = fam.main_term(res)
        if e.estimate is None or math.isnan(e.estimate):
            continue
        rows = groups.setdefault(unit, [])
        label = a.indicator_label + (f" ({fam.short_da or a.design})" if counts[a.indicator_label] > 1 else "")
        rows.append({"label": label, "estimate": e.estimate * mult,
                     "ci_lower": e.ci_lower * mult, "ci_upper": e.ci_upper * mult, "conf_level": res.conf_level})
        sub = res.tables.get("subgroups")
        if sub is not None:
            mod_vars = {m["id"]: m.get("variable") or m["id"] for m in bundle.theory.get("moderators", [])}
            for _, r in sub.iterrows():
                if r["estimate"] is None or math.isnan(r["estimate"]):
                    continue
                # the level as the report's tables name it (value labels), never the code in the data
                level = bundle.value_label(mod_vars.get(r["moderator"], r["moderator"]), r["level"])
                rows.append({"label": f"   {r['moderator_label']}: {level}", "estimate": r["estimate"] * mult,
                             "ci_lower": r["ci_lower"] * mult, "ci_upper": r["ci_upper"] * mult,
                             "conf_level": res.conf_level})
    return groups


def time_course_figure(time_course: Mapping[str, Any], names: Mapping[str, str] | None = None, *,
                       start: str = "start"):
    """Share self-supporting in each week since the index week, one line per group.

    ``names`` maps the group labels in the data to their Danish names (the intervention group first);
    ``start`` names what week 0 is ("lodtrækning" only when the groups were formed by lottery).
    """
    rec = time_course["records"]
    names = dict(names or {})
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    groups = list(dict.fromkeys(rec["group"]))
    order = list(names)
    styles = [("#1f4e79", "-"), ("#c55a11", "--")]
    for g in groups:
        wk = [w for w, gg in zip(rec["week"], rec["group"]) if gg == g]
        sh = [float("nan") if s is None else 100 * s for s, gg in zip(rec["share"], rec["group"]) if gg == g]
        colour, ls = styles[order.index(str(g))] if str(g) in order[:2] else (None, "-")
        # a published week between hidden ones (disclosure) is drawn as a point, since a line needs two
        ok = [s == s for s in sh]
        lone = any(o and (i == 0 or not ok[i - 1]) and (i == len(ok) - 1 or not ok[i + 1]) for i, o in enumerate(ok))
        ax.plot(wk, sh, ls, color=colour, lw=2, label=names.get(str(g), str(g)), marker="o" if lone else None, ms=3)
    ax.set_xlabel(f"Uger efter {start}")
    ax.set_ylabel("Andel selvforsørgende (%)")
    ax.yaxis.set_major_formatter(DanishNumberFormatter())
    ax.set_xlim(1, max(rec["week"]))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


def _save(fig, folder: Path, name: str) -> str:
    save_figure(fig, folder / name)
    plt.close(fig)
    return f"figures/{name}"


def write_study_figures(bundle: Bundle | Mapping[str, Any], folder: str | Path) -> dict[str, str]:
    """Draw and save every figure of a study; return figure key → path relative to the report."""
    bundle = Bundle.from_dict(bundle)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, str] = {}
    parts = logic_model_figures(bundle.theory, bundle.robustness)
    for i, fig in enumerate(parts, 1):
        # printed at its own size: a PNG for the web page (200 dpi) and a PDF (text kept as text) for the PDF report
        name = "logic_model" if len(parts) == 1 else f"logic_model_{i}"
        save_figure(fig, folder / name, formats=("png", "pdf"), dpi=200)
        plt.close(fig)
        out[name] = f"figures/{name}.png"
    if bundle.time_course:
        rec = bundle.analysis(bundle.time_course["analysis"])
        fam = get_family(rec.design)
        names = fam.report.group_names(rec)
        names.pop("total", None)
        fig = time_course_figure(bundle.time_course, names,
                                 start="start (lodtrækning)" if fam.random_assignment else "start")
        out["time_course"] = _save(fig, folder, "time_course.png")
    for fam in families():
        records = [a for a in bundle.analyses if a.design == fam.design]
        if records:
            for key, fig in fam.figures(records, bundle).items():
                out[key] = _save(fig, folder, f"{key}.png")
    from evaluation.pipeline.time_figures import time_figures

    for key, fig in time_figures(bundle).items():
        out[key] = _save(fig, folder, f"{key}.png")
    for i, (unit, rows) in enumerate(sorted(effects_forest_rows(bundle).items())):
        fig = forest_plot(rows, xlabel=f"Effekt ({unit})" if unit else "Effekt", null=0,
                          level=common_level(r["conf_level"] for r in rows))
        out[f"forest_{i + 1}"] = _save(fig, folder, f"forest_{i + 1}.png")
    return out
