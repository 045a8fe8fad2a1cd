"""The portfolio page: every study with a results bundle, its headline, evidence level and goals.

It reads only the (disclosure-controlled) bundles, like the study reports.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping

from ..exceptions import EvaluationError
from ..metrics.targets import main_term
from ..results import read_bundle, result_from_dict
from .formatting import fmt_ci, fmt_date, fmt_dkk, fmt_int, fmt_number
from .quarto import QUARTO_YML, STATUS_LABELS, _scale, md_table

__all__ = ["build_portfolio", "portfolio_markdown", "collect_bundles"]


def collect_bundles(results_root: str | Path) -> list[dict[str, Any]]:
    """All bundles under ``results_root``, sorted by study id."""
    root = Path(results_root)
    bundles = [read_bundle(p) for p in sorted(root.glob("*/results.json"))]
    if not bundles:
        raise EvaluationError(f"no results bundles under {root}/; run 'evaluation run --all' (or 'evaluation report --all') first")
    return bundles


def _headline(b: Mapping[str, Any]) -> tuple[str, str, int | None]:
    analyses = b["analyses"]
    chosen = b["report_options"].get("headline_analyses") or [a["id"] for a in analyses if a["primary"]]
    heads = [a for a in analyses if a["id"] in chosen] or analyses[:1]
    if not heads:
        return "Ingen effektmåling", "–", None
    a = heads[0]
    res = result_from_dict(a["result"])
    e = main_term(res)
    mult, unit, dec = _scale(a.get("unit"), res.outcome_type)
    if e.estimate is None or math.isnan(e.estimate):
        return a["indicator_label"], "diskretioneret", res.evidence_level
    txt = f"{fmt_number(e.estimate * mult, dec)} {unit} ({fmt_ci(e.ci_lower * mult, e.ci_upper * mult, dec)})".replace("  ", " ")
    return a["indicator_label"], txt, res.evidence_level


def _n(b: Mapping[str, Any]) -> int | None:
    for a in b["analyses"]:
        e = main_term(result_from_dict(a["result"]))
        if e.n_treated is not None:
            return int(e.n_treated) + int(e.n_control or 0)
        if e.n:
            return int(e.n)
    return None


def portfolio_markdown(bundles: list[Mapping[str, Any]]) -> str:
    """The portfolio's ``index.qmd`` text."""
    out = ["---", 'title: "Porteføljeoversigt"', 'subtitle: "Evaluerede beskæftigelsesprojekter"', "lang: da", "---", ""]
    total = sum(b["study"].get("budget_dkk") or 0 for b in bundles)
    out.append(
        f"Oversigten viser {fmt_int(len(bundles))} evaluerede projekter med en samlet bevilling på {fmt_dkk(total)}. "
        "Effekten er vist med 95 %-sikkerhedsinterval; evidensniveauet går fra 5 (lodtrækning) til 1 (før/efter uden sammenligning).\n"
    )
    rows = []
    for b in bundles:
        s = b["study"]
        label, head, level = _headline(b)
        goals = b["targets"]
        goal_txt = ", ".join(
            f"{sum(1 for t in goals if t['result']['status'] == k)} {v.lower()}" for k, v in STATUS_LABELS.items()
            if any(t["result"]["status"] == k for t in goals)
        ) or "–"
        n = _n(b)
        rows.append((
            f"[{s['title']}](../{s['id']}/index.html)", f"{s['funder']['name']} ({s['funder']['type']})",
            f"{fmt_date(s['period']['start'])} – {fmt_date(s['period']['end'])}",
            fmt_dkk(s["budget_dkk"]) if s.get("budget_dkk") is not None else "–",
            b["theory"]["target_group"]["description"].strip(),
            fmt_int(n) if n else "–", f"{label}: {head}", str(level) if level else "–", goal_txt,
        ))
    out.append(md_table(["Projekt", "Bevilget af", "Periode", "Bevilling", "Målgruppe", "Antal", "Hovedresultat (95 %-sikkerhedsinterval)",
                         "Evidens", "Mål"], rows, align="lllrlrlcl"))
    return "\n".join(out) + "\n"


def build_portfolio(results_root: str | Path = "results", out_root: str | Path = "reports", *, studies_root: str | Path = "studies",
                    engine: str = "auto") -> dict[str, Path]:
    """Write and render ``out_root/portfolio/`` (atomically)."""
    from ..pipeline import _replace_dir
    from .render import render_project

    bundles = collect_bundles(results_root)
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    final = out_root / "portfolio"
    tmp = Path(tempfile.mkdtemp(prefix=".portfolio.", dir=out_root))
    try:
        (tmp / "_quarto.yml").write_text(QUARTO_YML, encoding="utf-8")
        (tmp / "index.qmd").write_text(portfolio_markdown(bundles), encoding="utf-8")
        render_project(tmp, formats=("html", "pdf"), engine=engine)
        _replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"html": final / "index.html", "pdf": final / "index.pdf"}
