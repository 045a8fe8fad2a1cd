"""The portfolio's overview says what each project's bundle says (issue 11 item 7): synthetic projects counted
and marked, participants and comparison persons apart, the survey's headline, and the price per participant —
the grant, or when the plan has none, the cost the project's own report uses (marked and explained)."""

from __future__ import annotations

import re

from evaluation.designs.family import get_family
from evaluation.presentation.formatting import fmt_dkk, fmt_int
from evaluation.reporting.summary import is_synthetic, summary_record


def _overview(qmd: str) -> dict[str, list[str]]:
    """Title → cells of the overview table (the first table whose header starts with "Projekt | Deltagere")."""
    lines = qmd.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Projekt | Deltagere"))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("| "):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\) \| ", line[2:-2])]
        title = re.match(r"\[(.+?)\]\(", cells[0]).group(1)
        rows[title] = cells
    return rows


def test_the_overview_follows_from_the_bundles(rendered_reports):
    folder, _ = rendered_reports["portfolio"]
    qmd = (folder / "index.qmd").read_text(encoding="utf-8")
    rows = _overview(qmd)
    shipped = [b for name, (_, b) in rendered_reports.items() if b is not None and not name.startswith("gen-")]
    assert len(shipped) == 7 and set(rows) == {b.study["title"] for b in shipped}
    n_syn = sum(is_synthetic(b) for b in shipped)
    assert f"{n_syn} af de 7 projekter bygger på syntetiske data" in qmd
    footnote = False
    for b in shipped:
        cells = rows[b.study["title"]]
        assert ("*(syntetiske data)*" in cells[0]) == is_synthetic(b), b.study["id"]
        rec = summary_record(b)
        n_part = n_comp = None
        if rec is not None:
            # the design family's own count of participants (randomised or enrolled) and comparison persons
            parts = get_family(rec.design).report
            n_part, n_comp = parts.n_participants(rec), parts.n_comparison(rec)
        if n_part:
            # participants and comparison persons apart, never added together
            assert cells[1] == fmt_int(n_part), (b.study["id"], cells[1], n_part)
            assert cells[2] == (fmt_int(n_comp) if n_comp else "–"), (b.study["id"], cells[2], n_comp)
        budget = b.study.get("budget_dkk")
        bc = (b.economy or {}).get("business_case") or {}
        if budget and n_part:
            assert cells[4] == fmt_dkk(round(budget / n_part)), (b.study["id"], cells[4])
        elif not budget and bc.get("cost") and bc.get("n_participants"):
            assert cells[4] == fmt_dkk(round(bc["cost"] / bc["n_participants"])) + "¹", (b.study["id"], cells[4])
            footnote = True
        elif not budget:
            assert cells[4] == "–", (b.study["id"], cells[4])
        if rec is not None and rec.design == "survey":
            assert "svarede positivt" in cells[3] and "ikke en effektmåling" in cells[3]
    assert footnote == ("¹ Ingen bevilling i evalueringsplanen" in qmd)
    assert footnote, "no shipped study prices itself from its business case: the fallback is not exercised"
