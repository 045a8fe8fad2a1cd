"""The report section "Hvor robust er resultatet?" (issue 14): every declared assumption with its check, its
status and what the conclusion would be if it failed; the design's own checks; the HonestDiD sensitivity
table and the sensitivity to unobserved confounding. It only displays the bundle's ``robustness`` field.
"""

from __future__ import annotations

from typing import Any

from evaluation.designs.family import get_family
from evaluation.presentation.formatting import fmt_number, is_missing
from evaluation.presentation.labels import readable_label
from evaluation.presentation.markdown import DASH, md_table
from evaluation.results import Bundle

__all__ = ["section_robustness", "STATUS_LABELS"]

#: how a status is shown in tables
STATUS_LABELS = {"holder": "Holder", "tvivlsom": "Tvivlsom", "brudt": "Brudt", "kan_ikke_testes": "Kan ikke testes"}
_CRIT = {"high": "Høj", "medium": "Middel", "low": "Lav"}


def _num(x: Any, dec: int = 3) -> str:
    return DASH if is_missing(x) else fmt_number(float(x), dec)


def _ci(lo: Any, hi: Any, dec: int = 3) -> str:
    if is_missing(lo) or is_missing(hi):
        return DASH
    return f"{fmt_number(float(lo), dec)} til {fmt_number(float(hi), dec)}"


def _join(sentences) -> str:
    """Distinct sentences in order: whole sentences side by side, fragments separated by semicolons."""
    out = ""
    for x in dict.fromkeys(str(s).strip() for s in sentences if s):
        out = x if not out else f"{out} {x}" if out.endswith((".", "!", "?")) else f"{out}; {x}"
    return out


def _analysis_label(b: Bundle, aid: str, *, indicator: bool = True) -> str:
    """An analysis as a reader knows it: its indicator's label, and its design's short name when several analyses
    measure the same indicator (never the analysis id)."""
    try:
        a = b.analysis(aid)
    except StopIteration:
        return readable_label(aid)
    short = get_family(a.design).short_da or readable_label(a.design, capitalise=False)
    if not indicator:
        return short
    if sum(1 for x in b.analyses if x.indicator_label == a.indicator_label) > 1:
        return f"{a.indicator_label} ({short})"
    return a.indicator_label


def _honest_block(b: Bundle, r: dict[str, Any]) -> str:
    d = r.get("details") or {}
    rm, sd = d.get("relative_magnitudes"), d.get("smoothness")
    if not rm:
        return ""
    rows = [("Parallelle tendenser (M̄ = 0)" if m == 0 else f"M̄ = {fmt_number(m, 1)}", _ci(lo, hi))
            for m, lo, hi in zip(rm["Mbar"], rm["lb"], rm["ub"])]
    rows.insert(0, ("Sædvanligt interval", _ci(*d["original"])))
    out = [f"### Følsomhed for brud på parallelle tendenser: {_analysis_label(b, r['analysis'])}\n",
           f"Parameteren er {d.get('parameter', 'effekten efter start')} (hændelsestider {', '.join(fmt_number(t, 0) for t in d.get('event_times', []))}). "
           "M̄ angiver, hvor mange gange større bruddet på parallelle tendenser efter start må være end det største brud "
           "mellem to på hinanden følgende perioder før start. Intervallerne er robuste 95\u00a0%-sikkerhedsintervaller "
           f"({rm.get('method', '')}, Rambachan & Roth 2023).\n",
           md_table(["Antagelse om bruddet", "Robust 95\u00a0%-sikkerhedsinterval"], rows, align="lr")]
    fig = (b.figures or {}).get(f"honest_{r['analysis']}")
    if fig:
        out.append(f"\nFiguren viser de robuste intervaller mod M̄ og M; længst til venstre det sædvanlige interval under "
                   "parallelle tendenser.\n\n"
                   f"![Følsomhed for brud på parallelle tendenser: {_analysis_label(b, r['analysis'])}]({fig}){{width=90%}}\n")
    bd = rm.get("breakdown")
    if not is_missing(bd):
        out.append(f"\nNedbrydningsværdi: M̄ = {fmt_number(float(bd), 2)} (det største M̄, hvor intervallet ikke indeholder 0).\n")
    if sd:
        srows = [(fmt_number(m, 4), _ci(lo, hi)) for m, lo, hi in zip(sd["M"], sd["lb"], sd["ub"])]
        out.append("\nGlathed (M: hvor meget hældningen af forskellen i udvikling højst må ændre sig fra periode til "
                   "periode; optimalt interval med fast længde):\n\n" + md_table(["M", "Robust 95\u00a0%-sikkerhedsinterval"], srows, align="rr"))
        if not is_missing(sd.get("breakdown")):
            out.append(f"\nNedbrydningsværdi: M = {fmt_number(float(sd['breakdown']), 4)}.\n")
    if d.get("note"):
        out.append(f"\n{d['note']}\n")
    return "\n".join(out)


def _sensemakr_block(b: Bundle, r: dict[str, Any]) -> str:
    d = r.get("details") or {}
    if "rv_q" not in d:
        return ""
    rows = [(x["label_da"], fmt_number(100 * x["r2dz_x"], 1) + " %", fmt_number(100 * x["r2yz_dx"], 1) + " %",
             _num(x["adjusted_estimate"]), _ci(x["adjusted_lower"], x["adjusted_upper"])) for x in d.get("bounds", [])]
    out = [f"### Følsomhed for ikke-målte forskelle: {_analysis_label(b, r['analysis'])}\n",
           f"Regressionsjusteret forskel {_num(d['estimate'])} (t = {fmt_number(d['t'], 2)}). Deltagelsen forklarer "
           f"{fmt_number(100 * d['partial_r2'], 1)} % af den resterende variation i resultatet. Robusthedsværdier "
           f"(Cinelli & Hazlett 2020): RV = {fmt_number(100 * d['rv_q'], 1)} % (bringer estimatet til 0) og "
           f"RV = {fmt_number(100 * d['rv_qa'], 1)} % (gør det ikke statistisk sikkert).\n",
           # sensemakr's bounds are defined for a linear regression; the weighted/matched estimate has no such
           # decomposition, so the check uses an ordinary regression and the reader is told so
           f"Følsomhedsanalysen bygger på en almindelig regression ({d.get('model') or 'OLS af resultatet på gruppe og baggrundsforhold'}), "
           "ikke på den matchede sammenlignings vægte; den regressionsjusterede forskel er derfor ikke præcis "
           "hovedresultatet, men viser, hvor følsom en sammenligning på de samme baggrundsforhold er.\n"]
    if rows:
        out.append("En ikke-målt forskel lige så stærk som hvert målt baggrundsforhold:\n\n" + md_table(
            ["Lige så stærk som", "Forklarer af deltagelse", "Forklarer af resultat", "Justeret forskel",
             "95\u00a0%-sikkerhedsinterval"], rows, align="lrrrr"))
    if not is_missing(d.get("evalue")):
        out.append(f"\nE-værdi for risikoforholdet {fmt_number(d['risk_ratio'], 2)}: {fmt_number(d['evalue'], 2)} "
                   "(VanderWeele & Ding 2017).\n")
    return "\n".join(out)


def section_robustness(b: Bundle) -> str:
    rob = b.robustness
    if not rob or (not rob.get("assumptions") and not rob.get("checks")):
        return ""
    checks = rob.get("checks", [])
    out = ["# Hvor robust er resultatet? {#robusthed}\n",
           "Hver antagelse i programteorien og i designet er holdt op mod data, hvor det kan lade sig gøre. "
           "«Holder» betyder, at data ikke viser tegn på, at antagelsen svigter, efter den angivne regel; det beviser "
           "ikke antagelsen. «Kan ikke testes» siger, hvorfor data ikke kan afgøre det.\n"]
    if rob.get("assumptions"):
        rows = []
        for a in rob["assumptions"]:
            mine = [checks[i] for i in a.get("checks", [])]
            if mine:
                # the same check with the same status on every analysis is said once; otherwise each is named
                # (by its design when the designs differ, else by its indicator)
                said = {(c["name_da"], c["status"]) for c in mine}
                if len(said) == 1:
                    how = f"{mine[0]['name_da']}: {STATUS_LABELS[mine[0]['status']]}"
                else:
                    by_design = len({b.analysis(c["analysis"]).design for c in mine if any(
                        x.id == c["analysis"] for x in b.analyses)}) > 1
                    how = "; ".join(f"{c['name_da']} ({_analysis_label(b, c['analysis'], indicator=not by_design)}): "
                                    f"{STATUS_LABELS[c['status']]}" for c in mine)
            elif a.get("own_test"):
                how = "Antagelsens egen indikatortest"
            else:
                how = DASH
            # the findings that gave the verdict; the reasons why other analyses could not test it stay in the
            # 'Tjek' column's status (they would bury the finding that matters)
            decisive = [c for c in mine if c["status"] != "kan_ikke_testes"] or mine
            why = a.get("reason_da") or _join(c["finding_da"] for c in decisive if c.get("finding_da"))
            rows.append((a["description"], _CRIT.get(a["criticality"], a["criticality"]), how,
                         STATUS_LABELS[a["status"]], why or DASH, a.get("if_broken_da") or DASH))
        out.append("## Programteoriens antagelser\n")
        out.append(md_table(["Antagelse", "Betydning", "Tjek", "Status", "Begrundelse", "Hvis den ikke holder"], rows,
                            align="llllll"))
    dc = [checks[i] for i in rob.get("design_checks", [])]
    if dc:
        out.append("\n## Designets egne antagelser\n")
        rows = [(_analysis_label(b, c["analysis"]), c["name_da"], STATUS_LABELS[c["status"]], c.get("finding_da") or DASH,
                 c.get("rule_da") or DASH) for c in dc]
        out.append(md_table(["Analyse", "Tjek", "Status", "Fund", "Regel"], rows, align="lllll"))
    for c in checks:
        if c["check"] == "honest_did":
            out.append("\n" + _honest_block(b, c))
        elif c["check"] == "sensemakr":
            out.append("\n" + _sensemakr_block(b, c))
    return "\n".join(x for x in out if x) + "\n"
