"""The report's section on the programme theory in the light of the results: each CMO configuration's status
from the evidence (computed by :mod:`evaluation.pipeline.cmo` and stored in the bundle; this only displays it)."""

from __future__ import annotations

from evaluation.pipeline.cmo import rule_da
from evaluation.presentation.phrases import common_level, result_level
from evaluation.presentation.markdown import DASH, md_table
from evaluation.results import Bundle

__all__ = ["section_cmo_status", "CMO_HEADING"]

CMO_HEADING = "Programteorien i lyset af resultaterne"


def section_cmo_status(b: Bundle) -> str:
    """'Programteorien i lyset af resultaterne': the status of every CMO configuration, the rule and the reasons."""
    if not b.cmo_evidence:
        return ""
    ctx = {c["id"]: c["description"] for c in b.theory.get("context", [])}
    out = [f"# {CMO_HEADING} {{#cmo-status}}\n",
           "Programteoriens CMO-konfigurationer siger, hvilken mekanisme der i hvilken kontekst skal give hvilket resultat. "
           "Her får hver konfiguration en status ud fra resultaterne efter en fast regel. "
           + rule_da(common_level([result_level(a.result) for a in b.analyses] or [0.95])) + "\n"]
    rows = [("; ".join(ctx.get(c, c) for c in cmo["context"]) or DASH, cmo["mechanism_label"], cmo["outcome_label"],
             f"**{cmo['status_da']}**") for cmo in b.cmo_evidence]
    out.append(md_table(["Kontekst", "Mekanisme", "Resultat", "Status"], rows, align="llll"))
    for cmo in b.cmo_evidence:
        out.append(f"- **{cmo['mechanism_label']} → {cmo['outcome_label']}: {cmo['status_da']}.** " + " ".join(cmo["reasons_da"]))
    return "\n".join(out) + "\n"
