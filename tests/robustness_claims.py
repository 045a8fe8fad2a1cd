"""A checker that every status sentence of the report section "Hvor robust er resultatet?" follows from the
results bundle's ``robustness`` record (issue 14).

Used by tests/reporting/test_robustness_claims.py (the shipped studies, and false claims it must catch) and
tests/designs/test_family_conformance.py (the generated studies of every family and scenario). It checks:

1. every declared assumption has a row whose status is the bundle's, and that status is the worst verdict
   of its checks (and its own indicator test), ``kan_ikke_testes`` only without any verdict and then with a
   reason; each check named in the row carries its own status;
2. every check's status follows from its number by the rule it states (for the checks whose rule is known
   here: pre-trend and no-anticipation p-values, balance, overlap, attrition, HonestDiD, sensemakr);
3. the design's own checks are shown with their statuses and findings;
4. the numbers of the HonestDiD and sensemakr tables are the bundle's;
5. no raw identifiers: no analysis ids, no column names that have a Danish label, no underscored ids, no
   status codes.
"""

from __future__ import annotations

import math
import re
from typing import Any

from evaluation.designs.checks import worst_status
from evaluation.presentation.formatting import fmt_number
from evaluation.designs.check_report import analysis_label as _analysis_label
from evaluation.reporting.robustness import STATUS_LABELS
from evaluation.results import Bundle

__all__ = ["check_robustness_claims", "robustness_section", "status_follows_from_number"]

_ID = re.compile(r"(?<![\w#.-])[a-zæøå0-9]+_[a-zæøå0-9_]+\b")


def robustness_section(qmd: str) -> str:
    m = re.search(r"^# Hvor robust er resultatet\?.*?$(.*?)(?=^# |\Z)", qmd, re.S | re.M)
    return m.group(1) if m else ""


CRIT = {"high": "høj", "medium": "middel", "low": "lav"}
_HEAD = re.compile(r"^\*\*(A\d+)\. (.+?)\.\*\* Betydning: (\w+)\. Status: \*\*(.+?)\*\*\.$")


_ITEM = re.compile(r"^- \*\*(A\d+)\. (.+?)\.\*\* Betydning: (\w+)\.$")
_GROUP = re.compile(r"^\*\*Kan ikke testes\.\*\* (.*) Det gælder:$")
_IF = re.compile(r"^Hvis (A\d+(?:, A\d+)*(?: eller A\d+)?) ikke holder(, |: )(.*)$")


def _assumption_blocks(section: str) -> dict[str, dict[str, Any]]:
    """The assumption blocks of the section by their description (without its final full stop); an assumption
    without any check sits in a group "**Kan ikke testes.** <reason> Det gælder:" with its consequence said
    once for the assumptions it is the same for ("Hvis A1 eller A2 ikke holder, …")."""
    out: dict[str, dict[str, Any]] = {}
    by_code: dict[str, dict[str, Any]] = {}
    reason = None
    for line in section.splitlines():
        line = line.strip()
        g = _GROUP.match(line)
        if g:
            reason = g.group(1)
            continue
        if line.startswith("#") or _HEAD.match(line):
            reason = None
        it = _ITEM.match(line)
        if it and reason is not None:
            blk = {"code": it.group(1), "importance": it.group(3), "status": "Kan ikke testes", "checks": [],
                   "why": reason, "if_broken": ""}
            out[_norm(it.group(2))] = by_code[it.group(1)] = blk
            continue
        f = _IF.match(line)
        if f:
            for code in re.findall(r"A\d+", f.group(1)):
                if code in by_code:
                    by_code[code]["if_broken"] = ("Hvis antagelsen ikke holder, " + f.group(3) if f.group(2) == ", "
                                                  else f.group(3))
    checked = _checked_blocks(section)
    codes = {blk["code"]: blk for blk in checked.values()}
    for blk in checked.values():  # "Begrundelse: som for A4." is A4's reason, written out above
        ref = re.fullmatch(r"som for (A\d+)\.", blk["why"])
        if ref and ref.group(1) in codes and not codes[ref.group(1)]["why"].startswith("som for"):
            blk["why"] = codes[ref.group(1)]["why"]
    out.update(checked)
    return out


def _checked_blocks(section: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    cur: dict[str, Any] | None = None
    field = None
    for line in section.splitlines():
        m = _HEAD.match(line.strip())
        if m:
            cur = {"code": m.group(1), "importance": m.group(3), "status": m.group(4), "checks": [], "why": "",
                   "if_broken": ""}
            out[_norm(m.group(2))] = cur
            field = None
            continue
        if cur is None:
            continue
        if line.startswith("## ") or line.startswith("### "):
            cur = None
            continue
        if line.startswith("- Tjek:"):
            field = "checks"
            rest = line[len("- Tjek:"):].strip()
            if rest and not rest.startswith("intet tjek"):
                cur["checks"].append(rest.rstrip("."))
        elif line.startswith("    - ") and field == "checks":
            cur["checks"].append(line.strip()[2:].rstrip("."))
        elif line.startswith("- Begrundelse:"):
            field, cur["why"] = "why", line[len("- Begrundelse:"):].strip()
        elif line.startswith("- Hvis den ikke holder:"):
            field, cur["if_broken"] = "if_broken", line[len("- Hvis den ikke holder:"):].strip()
        elif line.startswith("- Hvis den ikke holder, "):  # the bundle's "Hvis antagelsen ikke holder, …" as a sentence
            field, cur["if_broken"] = "if_broken", "Hvis antagelsen ikke holder, " + line[len("- Hvis den ikke holder, "):].strip()
    return out


def _scale(b: Bundle, aid: str) -> tuple[float, int]:
    """How the section must show an effect of analysis ``aid``: a share's (a 0/1 outcome or unit 'andel') in
    procentpoint with 2 decimals like its main results, other units with 2 decimals, no unit with 3."""
    a = next(x for x in b.analyses if x.id == aid)
    if a.unit == "andel" or getattr(a.result, "outcome_type", "") == "binary":
        return 100.0, 2
    return 1.0, 2 if a.unit else 3


_CHECK_LINE = re.compile(r"^- (.+?): \*\*(.+?)\*\*\. (.*?) \*Regel:\* (.*)$")


def _design_check_lines(section: str) -> list[tuple[str, str, str, str, str]]:
    """(analysis label, check name, status, finding, rule) of every line under "Designets egne antagelser"."""
    m = re.search(r"^## Designets egne antagelser.*?$(.*?)(?=^##|\Z)", section, re.S | re.M)
    out, analysis = [], ""
    for line in (m.group(1) if m else "").splitlines():
        head = re.fullmatch(r"\*\*(.+)\*\*", line.strip())
        if head:
            analysis = head.group(1)
            continue
        hit = _CHECK_LINE.match(line)
        if hit:
            out.append((analysis, *hit.groups()))
    return out


def _norm(s: str) -> str:
    return " ".join(str(s).split())


def _p_status(p: float) -> str:
    return "holder" if p >= 0.10 else "tvivlsom" if p >= 0.05 else "brudt"


def status_follows_from_number(rec: dict[str, Any]) -> str | None:
    """None when the record's status follows from its number by its stated rule, else what is wrong."""
    cid, st, x, d = rec["check"], rec["status"], rec.get("number"), rec.get("details") or {}
    if st == "kan_ikke_testes":
        if not rec.get("finding_da"):
            return f"{cid}: 'kan ikke testes' without a reason"
        if cid == "honest_did" and d.get("original"):
            lo, hi = d["original"]
            if not (lo <= 0 <= hi):
                return f"honest_did: 'kan ikke testes' although the interval {lo, hi} excludes 0"
        if cid == "sensemakr" and "rv_qa" in d and d["rv_qa"] > 0:
            return "sensemakr: 'kan ikke testes' although the robustness value is positive"
        return None
    if x is None or (isinstance(x, float) and math.isnan(x)):
        if cid in ("pretrends", "no_anticipation", "balance", "honest_did", "sensemakr"):
            return f"{cid}: status {st} without the number it follows from"
        return None
    if cid in ("pretrends", "no_anticipation"):
        want = _p_status(x)
    elif cid == "balance":
        want = "holder" if x < 0.1 else "tvivlsom" if x < 0.25 else "brudt"
    elif cid == "overlap":
        want = "holder" if x < 0.01 else "tvivlsom" if x < 0.05 else "brudt"
        if want == "holder" and (d.get("max_weight_share_control") or 0) > 0.05:
            want = "tvivlsom"
    elif cid == "honest_did":
        lo, hi = d["original"]
        if lo <= 0 <= hi:
            return "honest_did: a verdict although the usual interval contains 0"
        want = "holder" if x >= 1.0 else "tvivlsom"
    elif cid == "sensemakr":
        pos = d["estimate"] >= 0
        safe = all(b["adjusted_lower"] is not None and b["adjusted_upper"] is not None
                   and ((b["adjusted_lower"] > 0) if pos else (b["adjusted_upper"] < 0)) for b in d.get("bounds", []))
        want = "holder" if safe else "tvivlsom"
    elif cid == "attrition":
        if abs(x) >= 0.10 and st != "brudt":
            return f"attrition: a difference of {x} is not 'brudt'"
        if st == "holder" and abs(x) >= 0.05:
            return f"attrition: 'holder' with a difference of {x}"
        return None
    else:
        return None  # a check whose rule this checker does not know: its status is only shown faithfully
    return None if st == want else f"{cid} ({rec['analysis']}): status {st}, but its number {x} gives {want}"


def check_robustness_claims(qmd: str, bundle: Bundle | dict) -> list[str]:
    """Every status sentence of the robustness section against the bundle; returns the violations."""
    b = bundle if isinstance(bundle, Bundle) else Bundle.from_dict(bundle)
    rob = b.robustness or {}
    sec = robustness_section(qmd)
    problems: list[str] = []
    if not rob.get("assumptions") and not rob.get("checks"):
        return ["the report has a robustness section without a robustness record"] if sec else []
    if not sec:
        return ["the bundle has a robustness record, but the report has no section 'Hvor robust er resultatet?'"]
    checks = rob.get("checks", [])
    # 2. each check's status from its number
    for rec in checks:
        why = status_follows_from_number(rec)
        if why:
            problems.append(why)
    # 1. assumptions: one block each, "**A4. description.** Betydning: høj. Status: **Tvivlsom**." and its bullets
    blocks = _assumption_blocks(sec)
    codes = {a["id"]: f"A{i + 1}" for i, a in enumerate((b.theory or {}).get("assumptions", []))}
    for a in rob.get("assumptions", []):
        blk = blocks.get(_norm(a["description"]).rstrip("."))
        if blk is None:
            problems.append(f"assumption {a['id']!r} has no block in the section")
            continue
        if codes.get(a["id"]) and blk["code"] != codes[a["id"]]:
            problems.append(f"assumption {a['id']!r}: shown as {blk['code']}, the diagram calls it {codes[a['id']]}")
        if blk["importance"] != CRIT[a["criticality"]]:
            problems.append(f"assumption {a['id']!r}: importance {blk['importance']!r}, declared {a['criticality']!r}")
        mine = [checks[i] for i in a.get("checks", [])]
        own = a.get("own_test")
        want = worst_status([c["status"] for c in mine] + ([own["status"]] if own else []))
        if a["status"] != want:
            problems.append(f"assumption {a['id']!r}: status {a['status']} in the bundle, but its checks give {want}")
        if blk["status"] != STATUS_LABELS[a["status"]]:
            problems.append(f"assumption {a['id']!r}: the section says {blk['status']!r}, the bundle {a['status']!r}")
        if a["status"] == "kan_ikke_testes" and blk["why"] in ("", "–"):
            problems.append(f"assumption {a['id']!r}: 'Kan ikke testes' without a reason")
        for c in mine:
            shown = [h for h in blk["checks"] if h.startswith(c["name_da"])]
            if not any(h.endswith(f": {STATUS_LABELS[c['status']]}") for h in shown):
                problems.append(f"assumption {a['id']!r}: its check {c['check']} ({STATUS_LABELS[c['status']]}) is not "
                                f"shown with its status: {blk['checks']}")
        if not mine and own and not any(h.endswith(f": {STATUS_LABELS[own['status']]}") for h in blk["checks"]):
            problems.append(f"assumption {a['id']!r}: its own indicator test is not shown with its status")
        if a["status"] != "kan_ikke_testes":
            for c in mine:
                if c["status"] == a["status"] and _norm(c["finding_da"]) not in _norm(blk["why"]):
                    problems.append(f"assumption {a['id']!r}: the finding of {c['check']} that decides it is not shown")
        if _norm(a.get("if_broken_da") or "–") != _norm(blk["if_broken"]):
            problems.append(f"assumption {a['id']!r}: 'Hvis den ikke holder' is not the bundle's")
    if len(blocks) != len(rob.get("assumptions", [])):
        problems.append(f"{len(blocks)} assumption blocks for {len(rob.get('assumptions', []))} assumptions")
    # 3. the design's own checks
    drows = _design_check_lines(sec)
    for k, r in enumerate(drows):  # "som ovenfor" only for a rule already written out for the same check
        if r[4] == "som ovenfor." and not any(x[1] == r[1] and x[4] != "som ovenfor." for x in drows[:k]):
            problems.append(f"design check {r[1]!r}: its rule refers back to nothing")
    for i in rob.get("design_checks", []):
        c = checks[i]
        rule = _norm(c.get("rule_da") or "–")
        hit = [r for r in drows if _analysis_label(b, c["analysis"]) in r[0] and r[1] == c["name_da"]
               and _norm(r[3]) == _norm(c.get("finding_da") or "–")
               and (_norm(r[4]) == rule or (r[4] == "som ovenfor." and any(
                   x[1] == r[1] and _norm(x[4]) == rule for x in drows)))]
        if not hit:
            problems.append(f"design check {c['check']} ({c['analysis']}) is not shown with its finding")
        elif not any(r[2] == STATUS_LABELS[c["status"]] for r in hit):
            problems.append(f"design check {c['check']} ({c['analysis']}): shown status differs from {c['status']}")
        if c["check"] == "balance" and c.get("number") is not None and fmt_number(c["number"], 2) not in c["finding_da"]:
            problems.append("balance: the finding does not state the largest standardised difference")
    # 4. the sensitivity tables' numbers
    for c in checks:
        d = c.get("details") or {}
        if c["check"] == "honest_did" and d.get("relative_magnitudes"):
            rm = d["relative_magnitudes"]
            for m, lo, hi in zip(rm["Mbar"], rm["lb"], rm["ub"]):
                if not (isinstance(lo, float) and math.isnan(lo)):
                    mult, dec = _scale(b, c["analysis"])
                    cell = f"{fmt_number(mult * lo, dec)} til {fmt_number(mult * hi, dec)}"
                    if cell not in sec:
                        problems.append(f"honest_did: the robust interval at M̄ = {m} ({cell}) is not in the section")
            sd = d.get("smoothness") or {}
            mult, dec = _scale(b, c["analysis"])
            for m, lo, hi in zip(sd.get("M", []), sd.get("lb", []), sd.get("ub", [])):
                if not (isinstance(lo, float) and math.isnan(lo)):
                    row = f"| {fmt_number(mult * m, 2 if mult != 1.0 else 4)} | {fmt_number(mult * lo, dec)} til {fmt_number(mult * hi, dec)} |"
                    if row not in sec:
                        problems.append(f"honest_did: the smoothness row M = {m} ({row}) is not in the section's scale")
            bd = rm.get("breakdown")
            if bd is not None and not (isinstance(bd, float) and math.isnan(bd)):
                if f"Nedbrydningsværdi: M̄ = {fmt_number(bd, 2)}" not in sec:
                    problems.append(f"honest_did: the breakdown value {bd} is not the one shown")
        if c["check"] == "sensemakr" and "rv_q" in d:
            mult, dec = _scale(b, c["analysis"])
            if f"Regressionsjusteret forskel {fmt_number(mult * d['estimate'], dec)}" not in sec:
                problems.append(f"sensemakr: the adjusted estimate {d['estimate']} is not shown on the results' scale")
            for key in ("rv_q", "rv_qa"):
                if f"RV = {fmt_number(100 * d[key], 1)} %" not in sec:
                    problems.append(f"sensemakr: {key} = {d[key]} is not the one shown")
            if "almindelig regression" not in sec or "vægte" not in sec:
                problems.append("sensemakr: the section does not say it uses an ordinary regression, not the weights")
    # 5. raw identifiers
    text = re.sub(r"\]\([^)]*\)", "]", re.sub(r"\{[#.][^}]*\}", "", sec))  # anchors, attributes, file paths
    for a in b.analyses:
        if re.search(rf"(?<![\w-]){re.escape(a.id)}(?![\w-])", text) and len(a.id) > 3:
            problems.append(f"the analysis id {a.id!r} appears in the section")
    for col, label in (b.labels or {}).items():
        if col != label and re.search(rf"\({re.escape(col)}\)|«{re.escape(col)}»", text):
            problems.append(f"the column name {col!r} appears instead of its label {label!r}")
    for m in _ID.finditer(text):
        problems.append(f"raw identifier {m.group(0)!r} in the section")
    return problems
