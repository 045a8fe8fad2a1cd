"""The portfolio's business-case table: projects with a business case sorted by net result per participant."""

from __future__ import annotations

import math
from typing import Any, Sequence

from evaluation.presentation.formatting import NBSP, fmt_ci, fmt_dkk
from evaluation.presentation.markdown import md_table
from evaluation.presentation.phrases import ci_cell, ci_header
from evaluation.reporting.time_sections import _p_text, horizon_text
from evaluation.results import Bundle

__all__ = ["economy_rows", "economy_section"]


def economy_rows(bundles: Sequence[Bundle]) -> list[dict[str, Any]]:
    """One row per study with a business case (its longest horizon), sorted by net result per participant,
    best first; studies without a cost (no net result) come last, by saved expenses per participant."""
    rows = []
    for b in bundles:
        e = b.economy
        if not e:
            continue
        H = {int(k): v for k, v in e["business_case"]["horizons"].items()}
        if not H:
            continue
        h = max(H)
        r = H[h]
        rows.append({"id": b.study["id"], "title": b.study["title"], "horizon": h,
                     "net_per_participant": r.get("net_per_participant"), "net_per_participant_ci": r.get("net_per_participant_ci"),
                     "p_pays": r.get("p_pays"), "saved_per_participant": r["saved_per_participant"],
                     "cost_per_participant": e["business_case"].get("cost_per_participant"),
                     "cost_source": e.get("cost_source"), "perspective": e["perspective"],
                     "conf_level": float(e["business_case"].get("conf_level", 0.95))})

    def key(r):
        net = r["net_per_participant"]
        return (0, -net) if net is not None and not math.isnan(net) else (1, -r["saved_per_participant"])

    return sorted(rows, key=key)


def economy_section(bundles: Sequence[Bundle]) -> str:
    """"Økonomi på tværs af projekter" (empty when no study has a business case)."""
    rows = economy_rows(bundles)
    if not rows:
        return ""
    table = []
    levels = [r["conf_level"] for r in rows]
    for r in rows:
        net = "–" if r["net_per_participant"] is None else fmt_dkk(r["net_per_participant"])
        ci = "–" if r["net_per_participant_ci"] is None else fmt_ci(*r["net_per_participant_ci"], 0) + f"{NBSP}kr."
        table.append((f"[{r['title']}](../{r['id']}/index.html)", horizon_text(r["horizon"]),
                      fmt_dkk(r["saved_per_participant"]),
                      "–" if r["cost_per_participant"] is None else fmt_dkk(r["cost_per_participant"]), net,
                      ci_cell(ci, r["conf_level"], levels),
                      "–" if r["p_pays"] is None else _p_text(r["p_pays"])))
    out = ["## Økonomi på tværs af projekter\n",
           "Projekterne med en business case, sorteret efter nettoresultat pr. deltager (bedst først): sparede offentlige "
           "ydelser pr. deltager minus projektets pris pr. deltager over den længste horisont. Projekter uden oplyst pris "
           "står sidst. Se hver rapports afsnit om økonomi for satser, perspektiv og antagelser.\n",
           md_table(["Projekt", "Horisont", "Sparede ydelser pr. deltager", "Pris pr. deltager", "Nettoresultat pr. deltager",
                     ci_header(levels), "Sandsynlighed for at betale sig"], table, align="llrrrrr")]
    return "\n".join(out)
