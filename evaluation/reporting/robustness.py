"""The report section "Hvor robust er resultatet?" (issue 14): every declared assumption with its check, its
status and what the conclusion would be if it failed; the design's own checks; the HonestDiD sensitivity
table and the sensitivity to unobserved confounding. It only displays the bundle's ``robustness`` field.
"""

from __future__ import annotations

from typing import Any

from evaluation.designs.did.figures import HONEST_WIDTH_IN
from evaluation.designs.family import get_family
from evaluation.presentation.formatting import fmt_number, is_missing
from evaluation.presentation.labels import readable_label
from evaluation.presentation.markdown import DASH, md_table
from evaluation.presentation.phrases import check_scale_for, ci_label
from evaluation.results import Bundle

__all__ = ["section_robustness", "STATUS_LABELS", "effect_scale", "assumption_codes"]

#: how a status is shown in tables
STATUS_LABELS = {"holder": "Holder", "tvivlsom": "Tvivlsom", "brudt": "Brudt", "kan_ikke_testes": "Kan ikke testes"}
_CRIT = {"high": "Høj", "medium": "Middel", "low": "Lav"}


def _num(x: Any, dec: int = 3, mult: float = 1.0) -> str:
    return DASH if is_missing(x) else fmt_number(mult * float(x), dec)


def _ci(lo: Any, hi: Any, dec: int = 3, mult: float = 1.0) -> str:
    if is_missing(lo) or is_missing(hi):
        return DASH
    return f"{fmt_number(mult * float(lo), dec)} til {fmt_number(mult * float(hi), dec)}"


def _join(sentences) -> str:
    """Distinct sentences in order: whole sentences side by side, fragments separated by semicolons."""
    out = ""
    for x in dict.fromkeys(str(s).strip() for s in sentences if s):
        out = x if not out else f"{out} {x}" if out.endswith((".", "!", "?")) else f"{out}; {x}"
    return out


def effect_scale(b: Bundle, aid: str) -> tuple[float, str, int]:
    """Multiplier, Danish unit and decimals for an effect of analysis ``aid``, as its main results show it: a share's
    effects in procentpoint (the sensitivity figure draws the same scale), other units as they are."""
    try:
        a = b.analysis(aid)
    except StopIteration:
        return 1.0, "", 3
    return check_scale_for(a.unit, getattr(a.result, "outcome_type", "continuous"))


def assumption_codes(b: Bundle) -> dict[str, str]:
    """``A1``, ``A2`` … by the theory's order: the codes the logic-model diagram gives its assumptions."""
    return {a["id"]: f"A{i + 1}" for i, a in enumerate((b.theory or {}).get("assumptions", []))}


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


def _level_of(b: Bundle, aid: str) -> float:
    """The confidence level the analysis was planned with; its checks' intervals use it too."""
    try:
        return float(getattr(b.analysis(aid).result, "conf_level", 0.95))
    except StopIteration:
        return 0.95


def _honest_block(b: Bundle, r: dict[str, Any]) -> str:
    d = r.get("details") or {}
    lvl = _level_of(b, r["analysis"])
    rm, sd = d.get("relative_magnitudes"), d.get("smoothness")
    if not rm:
        return ""
    mult, unit, dec = effect_scale(b, r["analysis"])
    in_unit = f" ({unit})" if unit else ""

    def ci(lo, hi):
        return _ci(lo, hi, dec, mult)

    rows = [("Parallelle tendenser (M̄ = 0)" if m == 0 else f"M̄ = {fmt_number(m, 1)}", ci(lo, hi))
            for m, lo, hi in zip(rm["Mbar"], rm["lb"], rm["ub"])]
    rows.insert(0, ("Sædvanligt interval", ci(*d["original"])))
    out = [f"### Følsomhed for brud på parallelle tendenser: {_analysis_label(b, r['analysis'])}\n",
           f"Parameteren er {d.get('parameter', 'effekten efter start')} (hændelsestider {', '.join(fmt_number(t, 0) for t in d.get('event_times', []))}). "
           "M̄ angiver, hvor mange gange større bruddet på parallelle tendenser efter start må være end det største brud "
           "mellem to på hinanden følgende perioder før start. Intervallerne er robuste "
           f"{ci_label(lvl, plural=True)} "
           f"({rm.get('method', '')}, Rambachan & Roth 2023){', i ' + unit if unit else ''}.\n",
           md_table(["Antagelse om bruddet", f"Robust {ci_label(lvl)}{in_unit}"], rows, align="lr")]
    fig = (b.figures or {}).get(f"honest_{r['analysis']}")
    if fig:
        out.append(f"\nFiguren viser de robuste intervaller mod M̄ og M; længst til venstre det sædvanlige interval under "
                   "parallelle tendenser.\n\n"
                   # printed at its own size (9 pt text); on a narrow screen it scrolls sideways instead of shrinking
                   f"::: {{.figure-scroll}}\n![Følsomhed for brud på parallelle tendenser: {_analysis_label(b, r['analysis'])}]"
                   f"({fig}){{width={HONEST_WIDTH_IN}in}}\n:::\n")
    bd = rm.get("breakdown")
    if not is_missing(bd):
        out.append(f"\nNedbrydningsværdi: M̄ = {fmt_number(float(bd), 2)} (det største M̄, hvor intervallet ikke indeholder 0).\n")
    if sd:
        m_dec = 2 if mult != 1.0 else 4  # M as the figure's axis shows it
        srows = [(fmt_number(mult * m, m_dec), ci(lo, hi)) for m, lo, hi in zip(sd["M"], sd["lb"], sd["ub"])]
        out.append("\nGlathed (M: hvor meget hældningen af forskellen i udvikling højst må ændre sig fra periode til "
                   f"periode{', i ' + unit if unit else ''}; optimalt interval med fast længde):\n\n"
                   + md_table([f"M{in_unit}", f"Robust {ci_label(lvl)}{in_unit}"], srows, align="rr"))
        if not is_missing(sd.get("breakdown")):
            out.append(f"\nNedbrydningsværdi: M = {fmt_number(mult * float(sd['breakdown']), m_dec)}{' ' + unit if unit else ''}.\n")
    if d.get("note"):
        out.append(f"\n{d['note']}\n")
    return "\n".join(out)


def _sensemakr_block(b: Bundle, r: dict[str, Any]) -> str:
    d = r.get("details") or {}
    lvl = _level_of(b, r["analysis"])
    if "rv_q" not in d:
        return ""
    mult, unit, dec = effect_scale(b, r["analysis"])
    in_unit = f" ({unit})" if unit else ""

    def num(x):
        return _num(x, dec, mult)

    def ci(lo, hi):
        return _ci(lo, hi, dec, mult)

    rows = [(x["label_da"], fmt_number(100 * x["r2dz_x"], 1) + " %", fmt_number(100 * x["r2yz_dx"], 1) + " %",
             num(x["adjusted_estimate"]), ci(x["adjusted_lower"], x["adjusted_upper"])) for x in d.get("bounds", [])]
    out = [f"### Følsomhed for ikke-målte forskelle: {_analysis_label(b, r['analysis'])}\n",
           f"Regressionsjusteret forskel {num(d['estimate'])}{' ' + unit if unit else ''} (t = {fmt_number(d['t'], 2)}). Deltagelsen forklarer "
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
            ["Lige så stærk som", "Forklarer af deltagelse", "Forklarer af resultat", f"Justeret forskel{in_unit}",
             ci_label(lvl)], rows, align="lrrrr"))
    if not is_missing(d.get("evalue")):
        txt = (f"\nRisikoforholdet mellem grupperne i hovedresultatet (vægtet/matchet) er {fmt_number(d['risk_ratio'], 2)}"
               + (f" ({ci_label(lvl)} {_ci(float(d['risk_ratio_lower']), float(d['risk_ratio_upper']), 2)})"
                  if not is_missing(d.get("risk_ratio_lower")) else "")
               + f". E-værdi: {fmt_number(d['evalue'], 2)}")
        if not is_missing(d.get("evalue_ci")):
            txt += f"; for sikkerhedsgrænsen nærmest 1: {fmt_number(d['evalue_ci'], 2)}"
        out.append(txt + " (VanderWeele & Ding 2017). En ikke-målt forskel, der hænger sammen med både deltagelse og "
                   "resultat med et risikoforhold på mindst E-værdien, kan forklare risikoforholdet væk"
                   + ("; en, der når E-værdien for sikkerhedsgrænsen, kan gøre det foreneligt med 1.\n"
                      if not is_missing(d.get("evalue_ci")) else ".\n"))
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
        # one short block per assumption (its code from the diagram, importance, status, then its checks, the
        # reason and what follows if it fails): a six-column table left a few words per line on paper and phone
        codes = assumption_codes(b)
        out.append("## Programteoriens antagelser\n")
        lead = "Hvis antagelsen ikke holder, "

        def head(k: int, a: dict[str, Any]) -> str:
            desc = " ".join(str(a["description"]).split()).rstrip(".")
            crit = _CRIT.get(a["criticality"], a["criticality"])
            return f"**{codes.get(a['id'], f'A{k + 1}')}. {desc}.** Betydning: {crit.lower()}."

        untested: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        whys: dict[str, str] = {}  # a reason already written out → the assumption it was written for
        for k, a in enumerate(rob["assumptions"]):
            mine = [checks[i] for i in a.get("checks", [])]
            if not mine and not a.get("own_test"):
                # no check at all: said together with the others that share its reason (one reason, once)
                untested.setdefault(a.get("reason_da") or DASH, []).append((k, a))
                continue
            hows: list[str] = []
            if mine:
                # the same check with the same status on every analysis is said once; otherwise each is named
                # (by its design when the designs differ, else by its indicator)
                said = {(c["name_da"], c["status"]) for c in mine}
                if len(said) == 1:
                    hows = [f"{mine[0]['name_da']}: {STATUS_LABELS[mine[0]['status']]}"]
                else:
                    by_design = len({b.analysis(c["analysis"]).design for c in mine if any(
                        x.id == c["analysis"] for x in b.analyses)}) > 1
                    hows = [f"{c['name_da']} ({_analysis_label(b, c['analysis'], indicator=not by_design)}): "
                            f"{STATUS_LABELS[c['status']]}" for c in mine]
            else:
                hows = [f"Antagelsens egen indikatortest: {STATUS_LABELS[a['own_test']['status']]}"]
            # the findings that gave the verdict; the reasons why other analyses could not test it stay with the
            # checks' statuses (they would bury the finding that matters)
            decisive = [c for c in mine if c["status"] != "kan_ikke_testes"] or mine
            why = a.get("reason_da") or _join(c["finding_da"] for c in decisive if c.get("finding_da"))
            block = [f"{head(k, a)} Status: **{STATUS_LABELS[a['status']]}**.\n"]
            if len(hows) == 1:
                block.append(f"- Tjek: {hows[0]}.")
            else:
                block.append("- Tjek:")
                block.extend(f"    - {h}." for h in hows)
            why = why or DASH
            if why != DASH and why in whys:  # the same reason as an assumption above: said once
                block.append(f"- Begrundelse: som for {whys[why]}.")
            else:
                whys.setdefault(why, codes.get(a["id"], f"A{k + 1}"))
                block.append(f"- Begrundelse: {why}")
            broken = a.get("if_broken_da") or DASH
            block.append(f"- Hvis den ikke holder, {broken[len(lead):]}\n" if broken.startswith(lead)
                         else f"- Hvis den ikke holder: {broken}\n")
            out.append("\n".join(block))
        for reason, group in untested.items():
            block = [f"**Kan ikke testes.** {reason} Det gælder:\n"]
            block.extend(f"- {head(k, a)}" for k, a in group)
            # what follows if they fail, once for the assumptions it is the same for
            by_broken: dict[str, list[str]] = {}
            for k, a in group:
                by_broken.setdefault(a.get("if_broken_da") or DASH, []).append(codes.get(a["id"], f"A{k + 1}"))
            block.append("")
            for broken, cs in by_broken.items():
                who = cs[0] if len(cs) == 1 else f"{', '.join(cs[:-1])} eller {cs[-1]}"
                block.append(f"Hvis {who} ikke holder, {broken[len(lead):]}\n" if broken.startswith(lead)
                             else f"Hvis {who} ikke holder: {broken}\n")
            out.append("\n".join(block))
    dc = [checks[i] for i in rob.get("design_checks", [])]
    if dc:
        # by analysis, one line per check (status, finding, rule): a five-column table of long texts did not
        # fit a phone's width
        out.append("\n## Designets egne antagelser\n")
        # a check that says the same on several analyses (the same persons' attrition) is said once, under all
        # of them
        said: dict[tuple[str, str, str, str], list[str]] = {}
        for c in dc:
            key = (c["name_da"], c["status"], (c.get("finding_da") or DASH).strip(), (c.get("rule_da") or DASH).strip())
            said.setdefault(key, []).append(c["analysis"])
        by_analyses: dict[tuple[str, ...], list[tuple[str, str, str, str]]] = {}
        for key, aids in said.items():
            by_analyses.setdefault(tuple(dict.fromkeys(aids)), []).append(key)
        rules_said: set[str] = set()  # a rule is written out once; later lines refer back to it
        for aids, keys in by_analyses.items():
            labels = [_analysis_label(b, x) for x in aids]
            who = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} og {labels[-1]}"
            lines = [f"**{who}**\n"]
            for name, st, finding, rule in keys:
                shown = "som ovenfor." if rule in rules_said and rule != DASH else rule
                rules_said.add(rule)
                lines.append(f"- {name}: **{STATUS_LABELS[st]}**. {finding} *Regel:* {shown}")
            out.append("\n".join(lines) + "\n")
    for c in checks:
        if c["check"] == "honest_did":
            out.append("\n" + _honest_block(b, c))
        elif c["check"] == "sensemakr":
            out.append("\n" + _sensemakr_block(b, c))
    return "\n".join(x for x in out if x) + "\n"
