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
from evaluation.reporting.robustness import STATUS_LABELS
from evaluation.results import Bundle

__all__ = ["check_robustness_claims", "robustness_section", "status_follows_from_number"]

_ID = re.compile(r"(?<![\w#.-])[a-zæøå0-9]+_[a-zæøå0-9_]+\b")


def robustness_section(qmd: str) -> str:
    m = re.search(r"^# Hvor robust er resultatet\?.*?$(.*?)(?=^# |\Z)", qmd, re.S | re.M)
    return m.group(1) if m else ""


def _rows(section: str, first_header: str) -> list[list[str]]:
    """The body rows of the pipe table whose first header cell is ``first_header``."""
    lines = section.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"| {first_header} |"):
            out = []
            for row in lines[i + 2:]:
                if not row.startswith("| "):
                    break
                cells = re.split(r"(?<!\\) \| ", row[2:-2])
                out.append([c.replace("\\|", "|").strip() for c in cells])
            return out
    return []


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
    # 1. assumptions
    rows = _rows(sec, "Antagelse")
    by_desc = {_norm(r[0]): r for r in rows if len(r) == 6}
    for a in rob.get("assumptions", []):
        row = by_desc.get(_norm(a["description"]))
        if row is None:
            problems.append(f"assumption {a['id']!r} has no row in the section")
            continue
        mine = [checks[i] for i in a.get("checks", [])]
        own = a.get("own_test")
        want = worst_status([c["status"] for c in mine] + ([own["status"]] if own else []))
        if a["status"] != want:
            problems.append(f"assumption {a['id']!r}: status {a['status']} in the bundle, but its checks give {want}")
        if row[3] != STATUS_LABELS[a["status"]]:
            problems.append(f"assumption {a['id']!r}: the section says {row[3]!r}, the bundle {a['status']!r}")
        if a["status"] == "kan_ikke_testes" and row[4] in ("", "–"):
            problems.append(f"assumption {a['id']!r}: 'Kan ikke testes' without a reason")
        for c in mine:
            if c["name_da"] not in row[2] or f": {STATUS_LABELS[c['status']]}" not in row[2]:
                problems.append(f"assumption {a['id']!r}: its check {c['check']} ({STATUS_LABELS[c['status']]}) is not "
                                f"shown with its status: {row[2]}")
        if a["status"] != "kan_ikke_testes":
            for c in mine:
                if c["status"] == a["status"] and _norm(c["finding_da"]) not in _norm(row[4]):
                    problems.append(f"assumption {a['id']!r}: the finding of {c['check']} that decides it is not shown")
    # 3. the design's own checks
    drows = _rows(sec, "Analyse")
    for i in rob.get("design_checks", []):
        c = checks[i]
        hit = [r for r in drows if len(r) == 5 and r[1] == c["name_da"] and _norm(r[3]) == _norm(c.get("finding_da") or "–")]
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
                    cell = f"{fmt_number(lo, 3)} til {fmt_number(hi, 3)}"
                    if cell not in sec:
                        problems.append(f"honest_did: the robust interval at M̄ = {m} ({cell}) is not in the section")
            bd = rm.get("breakdown")
            if bd is not None and not (isinstance(bd, float) and math.isnan(bd)):
                if f"Nedbrydningsværdi: M̄ = {fmt_number(bd, 2)}" not in sec:
                    problems.append(f"honest_did: the breakdown value {bd} is not the one shown")
        if c["check"] == "sensemakr" and "rv_q" in d:
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
