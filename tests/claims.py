"""Generated studies for any design family, and a checker that every claim sentence of a report
follows from the numbers of its results bundle.

Used by tests/test_family_conformance.py. Nothing here knows a design by name: studies come from
the family's own :meth:`~evaluation.designs.family.Family.example`, and the checks read only the
family's declared properties (random assignment, identifying assumption, balance column, main term).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from evaluation.designs.family import Family, get_family
from evaluation.presentation.formatting import fmt_number, fmt_p
from evaluation.presentation.phrases import scale_for
from evaluation.results import Bundle, load_bundle

LOTTERY_WORDS = re.compile(r"kontrolgrupp|lodtrækn", re.IGNORECASE)
BALANCE_CLAIM = re.compile(r"Alle standardiserede forskelle er under ([0-9]+(?:,[0-9]+)?)")


def write_example_study(root: Path, family: Family, scenario: str, seed: int = 1) -> Path:
    """Write ``studies/<slug>/study.yaml`` and its data files for the family's example of ``scenario``."""
    ex = family.example(scenario, seed)
    slug = f"gen-{family.design.replace('_', '-')}-{scenario.replace('_', '-')}"
    folder = root / "studies" / slug
    data_dir = root / "data" / slug
    folder.mkdir(parents=True)
    data_dir.mkdir(parents=True)
    sources = {}
    for name, (frame, decl) in ex.sources.items():
        frame.to_csv(data_dir / f"{name}.csv", index=False, lineterminator="\n")
        sources[name] = {"path": f"../../data/{slug}/{name}.csv", **decl}
    indicator = {"id": "maal", "outcome": "resultat", **ex.indicator}
    study = {
        "id": slug,
        "title": f"Genereret studie: {family.design}, {scenario}",
        "summary": "Et genereret studie med syntetiske data, der afprøver designfamiliens rapportdele.",
        "funder": {"name": "Testrådet", "type": "kommune"},
        "operator": "Testjobcentret",
        "period": {"start": "2020-01-01", "end": "2021-12-31"},
        "budget_dkk": 250000,
        "theory": {
            "target_group": {"description": "Ledige i testkommunen."},
            "nodes": [
                {"id": "indsats", "type": "activity", "label": "Indsatsen"},
                {"id": "resultat", "type": "outcome", "horizon": "short", "primary": True, "label": "Resultatet"},
            ],
            "links": [{"from": "indsats", "to": "resultat", "mechanism": "m1"}],
            "mechanisms": [{"id": "m1", "label": "Støtte", "resource": "Samtaler", "reasoning": "Deltagerne handler"}],
            "indicators": [indicator],
            "assumptions": _assumptions_for(family),
        },
        "data": sources,
        "analyses": [{"id": "analyse", "design": family.design, "data": ex.data, "indicator": "maal", "primary": True,
                      "options": dict(ex.options), "fit": dict(ex.fit)}],
    }
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def _assumptions_for(family: Family) -> list[dict[str, Any]]:
    """One declared assumption per kind the family's registered checks speak to, and one programme assumption
    without a check, so the report's robustness section has statuses to check (tests/robustness_claims.py)."""
    import evaluation.designs  # noqa: F401  (the families register their checks on import)
    from evaluation.designs.checks import KINDS, checks_for

    kinds = sorted({k for c in checks_for(family.design) for k in c.kinds})
    out = [{"id": f"antagelse_{i}", "description": f"Antagelsen om {KINDS.get(k, k)} holder i det genererede studie",
            "criticality": "high", "kind": k} for i, k in enumerate(kinds)]
    out.append({"id": "programteori", "description": "Deltagerne handler på støtten", "criticality": "medium"})
    return out


def _section(qmd: str, heading: str) -> str:
    """The text of the top-level section whose heading starts with ``heading``."""
    m = re.search(rf"^# {re.escape(heading)}.*?$(.*?)(?=^# |\Z)", qmd, re.S | re.M)
    return m.group(1) if m else ""


def _bullet(section: str, label: str) -> str:
    for line in section.splitlines():
        if line.startswith(f"- **{label}:**"):
            return line
    return ""


def check_report_claims(qmd: str, bundle: Bundle | dict) -> list[str]:
    """Every claim of the report that must follow from the bundle; returns the violations (empty = all hold)."""
    b = Bundle.from_dict(bundle)
    problems: list[str] = []
    fams = [get_family(a.design) for a in b.analyses]
    # 1. lottery words only where every design formed its groups by lottery
    if fams and not all(f.random_assignment for f in fams):
        for m in LOTTERY_WORDS.finditer(qmd):
            line = qmd[:m.start()].count("\n") + 1
            problems.append(f"line {line}: '{m.group(0)}…' in a report without random assignment")
    # 2. a balance claim only when every standardised difference on the final weights is published and below it
    for m in BALANCE_CLAIM.finditer(qmd):
        limit = float(m.group(1).replace(",", "."))
        ok = False
        for a, f in zip(b.analyses, fams):
            bal = a.result.tables.get("balance")
            if f.balance_column and bal is not None and f.balance_column in bal.columns:
                vals = bal[f.balance_column].tolist()
                ok = ok or all(v is not None and not (isinstance(v, float) and math.isnan(v)) and abs(v) < limit for v in vals)
        if not ok:
            problems.append(f"balance claimed below {m.group(1)}, but a standardised difference on the final weights is "
                            "not below it or not published")
    # ... and the converse: balance that holds is not denied
    for a, f in zip(b.analyses, fams):
        bal = a.result.tables.get("balance")
        if a.primary and f.balance_column and bal is not None and len(bal) and "## Baggrundsforhold og balance" in qmd:
            vals = bal[f.balance_column].tolist()
            limit = float((a.result.diagnostics.get("balance_rule") or {}).get("max_smd", 0.1))
            holds = all(v is not None and not (isinstance(v, float) and math.isnan(v)) and abs(v) < limit for v in vals)
            if holds and not BALANCE_CLAIM.search(qmd):
                problems.append("every standardised difference is below the limit, but the report does not say so")
    # 3. headline significance words follow the interval and the p-value; the numbers are the bundle's
    head = _section(qmd, "Hovedresultater")
    for a, f in zip(b.analyses, fams):
        if not f.is_effect or a not in b.headline_analyses():
            continue
        line = _bullet(head, a.indicator_label)
        if not line:
            problems.append(f"no headline sentence for {a.id}")
            continue
        e = f.main_term(a.result)
        if e.estimate is None or math.isnan(e.estimate):
            if "kan ikke offentliggøres" not in line:
                problems.append(f"{a.id}: the estimate is suppressed, but the headline does not say so")
            continue
        lo, hi, p = e.ci_lower, e.ci_upper, e.p_value
        excludes = lo > 0 or hi < 0
        p_sig = None if p is None or math.isnan(p) else p < 1 - a.result.conf_level
        if "næppe skyldes tilfældigheder" in line and not (excludes and p_sig is not False):
            problems.append(f"{a.id}: 'næppe skyldes tilfældigheder' with interval [{lo}, {hi}] and p = {p}")
        if "Vi kan ikke udelukke" in line and not (not excludes and p_sig is not True):
            problems.append(f"{a.id}: 'Vi kan ikke udelukke' with interval [{lo}, {hi}] and p = {p}")
        if p_sig is not None and ("næppe skyldes" in line or "på grænsen" in line) and fmt_p(p) not in line:
            problems.append(f"{a.id}: the headline's p-value is not {fmt_p(p)}")
        mult, unit, dec = scale_for(a.unit, getattr(a.result, "outcome_type", "continuous"))
        for v in (e.estimate, lo, hi):
            shown = fmt_number(abs(v) * mult, dec)
            if v is e.estimate and shown == fmt_number(0.0, dec):
                if "på samme niveau" not in line:
                    problems.append(f"{a.id}: an estimate of {shown} is not called 'på samme niveau'")
                continue
            if shown not in line:
                problems.append(f"{a.id}: {shown} (from the bundle) is not in the headline: {line}")
    # 4. the caveats name every design's identifying assumption
    caveats = _section(qmd, "Forbehold")
    for f in set(fams):
        if f.assumption_da and f.assumption_da not in caveats:
            problems.append(f"the caveats do not name the identifying assumption of {f.design}")
    return problems


def load(bundle_dir: Path) -> Bundle:
    return load_bundle(bundle_dir)


__all__ = ["write_example_study", "check_report_claims", "load"]
_ = Any
