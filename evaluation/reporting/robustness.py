"""The report section "Hvor robust er resultatet?" (issue 14): every declared assumption with its check, its
status and what the conclusion would be if it failed; the design's own checks; the HonestDiD sensitivity
table and the sensitivity to unobserved confounding. It only displays the bundle's ``robustness`` field.
"""

from __future__ import annotations

from typing import Any

from evaluation.designs.check_report import analysis_label, effect_scale
from evaluation.designs.checks import CHECKS
from evaluation.presentation.markdown import DASH
from evaluation.results import Bundle

__all__ = ["section_robustness", "STATUS_LABELS", "effect_scale", "assumption_codes"]

#: how a status is shown in tables
STATUS_LABELS = {"holder": "Holder", "tvivlsom": "Tvivlsom", "brudt": "Brudt", "kan_ikke_testes": "Kan ikke testes"}
_CRIT = {"high": "Høj", "medium": "Middel", "low": "Lav"}


def _join(sentences) -> str:
    """Distinct sentences in order: whole sentences side by side, fragments separated by semicolons."""
    out = ""
    for x in dict.fromkeys(str(s).strip() for s in sentences if s):
        out = x if not out else f"{out} {x}" if out.endswith((".", "!", "?")) else f"{out}; {x}"
    return out


def assumption_codes(b: Bundle) -> dict[str, str]:
    """``A1``, ``A2`` … by the theory's order: the codes the logic-model diagram gives its assumptions."""
    return {a["id"]: f"A{i + 1}" for i, a in enumerate((b.theory or {}).get("assumptions", []))}


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
                    hows = [f"{c['name_da']} ({analysis_label(b, c['analysis'], indicator=not by_design)}): "
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
            labels = [analysis_label(b, x) for x in aids]
            who = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} og {labels[-1]}"
            lines = [f"**{who}**\n"]
            for name, st, finding, rule in keys:
                shown = "som ovenfor." if rule in rules_said and rule != DASH else rule
                rules_said.add(rule)
                lines.append(f"- {name}: **{STATUS_LABELS[st]}**. {finding} *Regel:* {shown}")
            out.append("\n".join(lines) + "\n")
    for c in checks:  # a check's own details (HonestDiD's table, sensemakr's bounds), written by its family
        check = CHECKS.get(c["check"])
        if check is not None and check.report_block is not None:
            out.append("\n" + check.report_block(b, c))
    return "\n".join(x for x in out if x) + "\n"
