"""Generated studies for any design family, and a checker that every claim sentence of a report
follows from the numbers of its results bundle.

Used by tests/designs/test_family_conformance.py. Nothing here knows a design by name: studies come from
the family's own :meth:`~evaluation.designs.family.Family.example`, and the checks read only the
family's declared properties (random assignment, identifying assumption, balance column, main term).
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path
from typing import Any

import yaml

from evaluation.designs.family import Family, get_family
from evaluation.pipeline import run_study
from evaluation.presentation.formatting import fmt_dkk, fmt_number, fmt_p
from evaluation.presentation.phrases import scale_for
from evaluation.results import Bundle, load_bundle

#: the generated scenarios in Danish (the title of a generated study)
SCENARIOS_DA = {"effect": "sand effekt", "null": "ingen effekt", "imbalanced": "skæve baggrundsforhold",
                "small": "små celler", "labels": "andre navne"}

LOTTERY_WORDS = re.compile(r"kontrolgrupp|lodtrækn", re.IGNORECASE)
BALANCE_CLAIM = re.compile(r"Alle standardiserede forskelle er under ([0-9]+(?:,[0-9]+)?)")


def run_bundle(folder: Path, root: Path) -> Bundle:
    """Run the study in ``folder`` into ``root/results`` without figures and warnings, and load its bundle."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_bundle(run_study(folder, root / "results", figures=False))


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
        sources[name] = {"path": f"../../data/{slug}/{name}.csv", "provenance": "synthetic", **decl}
    indicator = {"id": "maal", "outcome": "resultat", **ex.indicator}
    nodes = [{"id": "indsats", "type": "activity", "label": "Indsatsen"},
             {"id": "resultat", "type": "outcome", "horizon": "short", "primary": True, "label": "Resultatet"}]
    links = [{"from": "indsats", "to": "resultat", "mechanism": "m1"}]
    indicators = [indicator]
    if ex.mediator is not None:  # a link naming the mediator: the mechanism analysis runs for the outcome downstream
        nodes.insert(1, {"id": "proces", "type": "output", "label": "Mekanismen målt"})
        links += [{"from": "indsats", "to": "proces", "mechanism": "m1", "mediator": "mediator"},
                  {"from": "proces", "to": "resultat", "direct": True}]
        indicators.append({"id": "mediator", "outcome": "proces", "label": ex.mediator["label"],
                           "unit": ex.mediator.get("unit"), "direction": "increase",
                           "metric": {"name": "column", "params": {"column": ex.mediator["column"]}}})
    study = {
        "id": slug,
        "title": f"Genereret studie ({family.short_da or family.label_da.split(':')[0]}, {SCENARIOS_DA.get(scenario, scenario)})",
        "summary": "Et genereret studie med syntetiske data, der afprøver designfamiliens rapportdele.",
        "funder": {"name": "Testrådet", "type": "kommune"},
        "operator": "Testjobcentret",
        "period": {"start": "2020-01-01", "end": "2021-12-31"},
        "budget_dkk": 250000,
        "theory": {
            "target_group": {"description": "Ledige i testkommunen."},
            "nodes": nodes,
            "links": links,
            "mechanisms": [{"id": "m1", "label": "Støtte", "resource": "Samtaler", "reasoning": "Deltagerne handler"}],
            "indicators": indicators,
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
    # 5. the summary box ("Kort fortalt"): its answer and numbers follow from the primary result
    box = re.search(r"::: \{#kort-fortalt[^\n]*\n(.*?)\n:::", qmd, re.S)
    if box is None:
        problems.append("no 'Kort fortalt' box")
    else:
        box_text = box.group(1)
        worked = next((l for l in box_text.splitlines() if l.startswith("- **Virkede det?**")), "")
        heads = b.headline_analyses() or ([b.primary] if b.primary else [])
        rec = heads[0] if heads else None
        fam = get_family(rec.design) if rec is not None else None
        if rec is not None and fam.is_effect:
            e = fam.main_term(rec.result)
            if e.estimate is not None and not math.isnan(e.estimate) and not math.isnan(e.ci_lower):
                excludes = e.ci_lower > 0 or e.ci_upper < 0
                p = e.p_value
                p_sig = None if p is None or math.isnan(p) else p < 1 - rec.result.conf_level
                wanted = next((t.target.get("direction") for t in b.targets if t.indicator == rec.indicator
                               and t.target.get("direction")), None)
                went = "increase" if e.estimate > 0 else "decrease"
                if "Ja." in worked and not (excludes and p_sig is not False and wanted == went):
                    problems.append(f"summary says 'Ja.' for {rec.id} with interval [{e.ci_lower}, {e.ci_upper}], "
                                    f"p = {p} and wanted direction {wanted}")
                doubt = any(c["analysis"] == rec.id and c["status"] == "brudt"
                            for c in (b.robustness or {}).get("checks", []))
                clear = fam.report.verdict(rec) == "clear"
                if doubt and clear and not worked.startswith("- **Virkede det?** Usikkert: forskellen er klar, men "
                                                             "designets egne tjek er brudt."):
                    problems.append(f"'Virkede det?' answers a clear difference without saying the design's checks "
                                    f"are broken: {worked}")
                if "tjek er brudt" in worked and not (doubt and clear):
                    problems.append(f"'Virkede det?' says design checks are broken (doubt={doubt}, clear={clear}): {worked}")
                if "Det kan ikke påvises" in worked and not (not excludes and p_sig is not True):
                    problems.append(f"summary says 'kan ikke påvises' for {rec.id} with interval [{e.ci_lower}, {e.ci_upper}]")
                mult, unit, dec = scale_for(rec.unit, getattr(rec.result, "outcome_type", "continuous"))
                shown = fmt_number(abs(e.estimate) * mult, dec)
                if shown != fmt_number(0.0, dec) and shown not in worked:
                    problems.append(f"the summary's effect is not the bundle's {shown}: {worked}")
        # the cost per participant is the grant divided by the participants the family counts
        cost = next((l for l in box_text.splitlines() if l.startswith("- **Hvad kostede det?**")), "")
        budget = b.study.get("budget_dkk")
        if rec is not None and budget:
            n = fam.report.n_participants(rec)
            if n and f"{fmt_number(round(budget / n), 0)}\u00a0kr. pr. deltager" not in cost:
                problems.append(f"the summary's cost per participant is not {budget} / {n}: {cost}")
        bc = (b.economy or {}).get("business_case") or {}
        if not budget and bc.get("cost"):
            # no grant, a business-case cost: the box states that cost and its per-participant figure, as Økonomi does
            want = f"{fmt_number(round(bc['cost_per_participant']), 0)}\u00a0kr. pr. deltager"
            if want not in cost or "kan ikke opgøres" in cost:
                problems.append(f"the summary's cost disagrees with the business case ({want}): {cost}")
        # the price per unit of a clear effect: the cost over the total effect (a share of weeks × the window's
        # weeks × the participants); no price for a share of persons or an effect that is not clear
        price, n_price = budget, fam.report.n_participants(rec) if rec is not None and budget else None
        if not budget and bc.get("cost"):
            # priced by the business case: its cost per saved week at its longest horizon, as Økonomi says
            hz = bc.get("horizons") or {}
            last = hz[max(hz, key=int)] if hz else {}
            cpw = last.get("cost_per_saved_week")
            if cpw is not None and f"{fmt_number(round(cpw), 0)}\u00a0kr. pr. sparet uge" not in cost:
                problems.append(f"the summary's price per saved week is not the business case's {cpw}: {cost}")
            if cpw is None and "pr. sparet uge" in cost:
                problems.append(f"the summary prices a saved week the business case does not price: {cost}")
        if rec is not None and fam.is_effect and price and n_price:
            e = fam.main_term(rec.result)
            weeks = rec.weeks_per_unit
            clear = (e.estimate is not None and not math.isnan(e.estimate) and e.estimate != 0
                     and not math.isnan(e.ci_lower) and (e.ci_lower > 0 or e.ci_upper < 0)
                     and not (e.p_value is not None and not math.isnan(e.p_value)
                              and e.p_value >= 1 - rec.result.conf_level))
            costable = weeks or (getattr(rec.result, "outcome_type", "continuous") != "binary" and rec.unit != "andel")
            per = (f"{fmt_number(round(price / (abs(e.estimate) * n_price * (weeks or 1))), 0)}\u00a0kr. pr. "
                   if clear else "")
            if clear and costable and per not in cost:
                problems.append(f"the summary gives no price per unit of the clear effect ({per}…): {cost}")
            if (not clear or not costable) and re.search(r"kr\. pr\. (sparet|ekstra) ", cost):
                problems.append(f"the summary prices an effect that cannot be priced: {cost}")
        # how sure: the main interval and the evidence level are the bundle's
        sure = next((l for l in box_text.splitlines() if l.startswith("- **Hvor sikkert?**")), "")
        if rec is not None and fam.is_effect:
            e = fam.main_term(rec.result)
            if e.estimate is not None and not math.isnan(e.ci_lower):
                mult, _, dec = scale_for(rec.unit, getattr(rec.result, "outcome_type", "continuous"))
                ends = sorted([fmt_number(abs(e.ci_lower) * mult, dec), fmt_number(abs(e.ci_upper) * mult, dec)])
                if not all(x in sure for x in ends):
                    problems.append(f"'Hvor sikkert?' does not give the interval {ends}: {sure}")
            lvl = rec.result.evidence_level
            if lvl and f"Evidensniveau {lvl} af 5" not in sure:
                problems.append(f"'Hvor sikkert?' does not give evidence level {lvl}: {sure}")
            # a broken design check of this analysis is said beside the interval, and only then
            # (every check of the analysis, whether or not a declared assumption claims it)
            broken = [c["name_da"].lower() for c in (b.robustness or {}).get("checks", [])
                      if c["analysis"] == rec.id and c["status"] == "brudt"]
            if broken and not ("antagelser svigter" in sure and all(x in sure for x in broken)):
                problems.append(f"'Hvor sikkert?' does not say the design checks {broken} are broken: {sure}")
            if not broken and "antagelser svigter" in sure:
                problems.append(f"'Hvor sikkert?' says design assumptions fail, but no design check is broken: {sure}")
            if fam.report.verdict(rec) == "clear" and "da der ikke er en klar effekt" in cost:
                problems.append(f"the cost line says there is no clear effect, but the verdict is clear: {cost}")
    # 6. the synthetic-data banner exactly when a data source or declared figure is synthetic
    synthetic = any(s.get("provenance") == "synthetic" for s in b.data_sources.values()) or any(
        (t.result.diagnostics or {}).get("provenance") == "synthetic" for t in b.targets)
    if synthetic != ("#syntetiske-data" in qmd):
        problems.append(f"synthetic data: {synthetic}, but the banner is {'absent' if synthetic else 'present'}")
    # 6b. take-up and the complier effect, and the mechanisms: every number and status is the bundle's
    problems += check_compliance_claims(qmd, b)
    problems += check_mechanism_claims(qmd, b)
    problems += check_cmo_claims(qmd, b)
    # 7. the caveats name every design's identifying assumption
    caveats = _section(qmd, "Forbehold")
    for f in set(fams):
        if f.assumption_da and f.assumption_da not in caveats:
            problems.append(f"the caveats do not name the identifying assumption of {f.design}")
    problems.extend(check_time_claims(qmd, b))
    problems.extend(check_level_claims(qmd, b))
    return problems


#: a confidence level named in the text: "90 %-sikkerhedsinterval", "95 %-bånd", "97,5 %-SI", "… med 90 % sikkerhed"
LEVEL_NAMED = re.compile(r"(\d+(?:,\d+)?)[\s\u00a0]%(?:-(?:sikkerhedsinterval|bånd|interval|SI)| sikkerhed| af intervallerne)")


def check_level_claims(qmd: str, b: Bundle) -> list[str]:
    """Every confidence level the report names is one its intervals were computed at: the analyses' ``conf_level``
    (their checks, durations and business case use it too), or a declared target figure's 95 % interval."""
    levels = {round(float(a.result.conf_level), 10) for a in b.analyses}
    levels |= {round(float(t.result.conf_level), 10) for t in b.targets}
    if b.economy:
        levels.add(round(float(b.economy["business_case"].get("conf_level", 0.95)), 10))
    problems = []
    for m in LEVEL_NAMED.finditer(qmd):
        named = round(float(m.group(1).replace(",", ".")) / 100, 10)
        if named not in levels:
            line = qmd[:m.start()].count("\n") + 1
            problems.append(f"line {line}: '{m.group(0)}' names a level no interval of the bundle has "
                            f"({', '.join(f'{x:g}' for x in sorted(levels))})")
    return problems


def _sub(qmd: str, heading: str) -> str:
    """The text of every second-level section whose heading starts with ``heading`` (joined)."""
    return "\n".join(m.group(1) for m in re.finditer(rf"^## {re.escape(heading)}.*?$(.*?)(?=^#{{1,2}} |\Z)", qmd, re.S | re.M))


def check_time_claims(qmd: str, b: Bundle) -> list[str]:
    """The sentences on durations, cumulative effects and the business case follow from the bundle's numbers."""
    from evaluation.reporting.time_sections import _p_text, horizon_text, round_kr

    problems: list[str] = []
    nb = "\u00a0"
    for a in b.analyses:
        if a.duration is not None:
            text = _sub(qmd, "Tid til første selvforsørgelse")
            for e in a.duration.estimates:
                if not e.term.startswith("rmst_difference_h") or math.isnan(e.estimate):
                    continue
                h = int(e.term.rsplit("_h", 1)[1])
                m = re.search(rf"Inden for de første {h} uger ([^.]*?)\((95{nb}%-sikkerhedsinterval [^)]*)\)\.( Forskellen kan skyldes tilfældigheder\.)?", text)
                if not m:
                    problems.append(f"{a.id}: no RMST sentence for {h} weeks")
                    continue
                if abs(e.estimate) >= 0.05:
                    word = "kortere" if e.estimate < 0 else "længere"
                    if f"{fmt_number(abs(e.estimate), 1)} uger {word}" not in m.group(1):
                        problems.append(f"{a.id}: RMST at {h} weeks is {e.estimate:.3f}, the sentence says: {m.group(1)}")
                crosses = e.ci_lower <= 0 <= e.ci_upper
                if bool(m.group(3)) != crosses:
                    problems.append(f"{a.id}: RMST at {h} weeks: 'kan skyldes tilfældigheder' must appear exactly when the interval holds 0")
            hr = next((e for e in a.duration.estimates if e.term == "hazard_ratio"), None)
            if hr is not None and not math.isnan(hr.estimate) and f"var {fmt_number(hr.estimate, 2)} gange" not in text:
                problems.append(f"{a.id}: the hazard ratio {hr.estimate:.3f} is not printed as {fmt_number(hr.estimate, 2)}")
        if a.cumulative is not None:
            text = _sub(qmd, "Kumuleret effekt")
            for e in a.cumulative.estimates:
                if e.term.startswith("cumulative_weeks_h") and not math.isnan(e.estimate):
                    h = int(e.term.rsplit("_h", 1)[1])
                    word = "færre" if e.estimate < 0 else "flere"
                    phrase = f"Over de første {horizon_text(h)} var"
                    expected = f"i alt {fmt_number(abs(e.estimate), 1)} uger {word} på offentlig forsørgelse"
                    if not any(phrase in seg and expected in seg for seg in text.split(". ")):
                        problems.append(f"{a.id}: the cumulative effect at {h} weeks ({e.estimate:.3f}) is not '{expected}'")
                if e.term.startswith("placebo_cumulative") and not math.isnan(e.estimate):
                    crosses = e.ci_lower <= 0 <= e.ci_upper
                    says_none = "ingen sikker forskel før start" in text
                    if says_none != crosses:
                        problems.append(f"{a.id}: the placebo's verdict does not follow its interval [{e.ci_lower}, {e.ci_upper}]")
    e = b.economy
    if e:
        bc = e["business_case"]
        H = {int(k): v for k, v in bc["horizons"].items()}
        head = _section(qmd, "Hovedresultater")
        line = next((ln for ln in head.splitlines() if ln.startswith("**Økonomi:**")), "")
        if not line:
            problems.append("the summary has no line on the business case")
        elif H:
            h = max(H)
            r = H[h]
            verb = "sparede" if r["saved_per_participant"] >= 0 else "kostede"
            if f"Over {horizon_text(h)} {verb} projektet" not in line:
                problems.append(f"economy summary: expected '{verb}' over {horizon_text(h)}")
            if fmt_dkk(abs(r["saved_per_participant"])) not in line:
                problems.append("economy summary: the saved amount per participant is not the bundle's")
            if "net" in r:
                if fmt_dkk(r["net_per_participant"]) not in line or f"er {_p_text(r['p_pays'])}" not in line:
                    problems.append("economy summary: the net result or the probability is not the bundle's")
            elif "ikke oplyst" not in line:
                problems.append("economy summary: without a cost the line must say the price is not known")
        # the "Kort fortalt" box answers "Betaler det sig?" with the same (checked) sentence
        box = re.search(r"::: \{#kort-fortalt[^\n]*\n(.*?)\n:::", qmd, re.S)
        pays_line = next((ln for ln in (box.group(1) if box else "").splitlines()
                          if ln.startswith("- **Betaler det sig?**")), "")
        if line and pays_line.removeprefix("- **Betaler det sig?** ") != line.removeprefix("**Økonomi:** ").removesuffix(
                " Se afsnittet *Økonomi*."):
            problems.append(f"the summary box's 'Betaler det sig?' is not the summary's economy line: {pays_line!r}")
        sec = _section(qmd, "Økonomi")
        if H and bc.get("cost") is not None:
            r = H[max(H)]
            lo, hi = r["net_ci"]
            pays, loses = "med stor sikkerhed betalt sig" in sec, "med stor sikkerhed ikke betalt sig" in sec
            undecided = "Det kan ikke afgøres, om projektet har betalt sig" in sec
            if pays != (lo > 0) or loses != (hi < 0) or undecided != (lo <= 0 <= hi):
                problems.append(f"economy: the verdict does not follow the net result's interval [{lo:.0f}, {hi:.0f}]")
            if f"Nettoresultatet er {fmt_dkk(round_kr(r['net']))}" not in sec:
                problems.append("economy: the net result printed is not the bundle's (rounded to whole thousands)")
        elif bc.get("cost") is None and "Projektets pris er ikke oplyst" not in sec:
            problems.append("economy: without a cost the section must say the price is not known")
        if e.get("unverified") and "Satser markeret «Nej»" not in sec:
            problems.append("economy: unverified rates are used, but the section does not say so")
        rows = [ln for ln in sec.splitlines() if ln.startswith("| ") and ln.count("|") >= 6]
        for x in e.get("rates") or []:
            flag = "Ja" if x["verified"] else "Nej"
            if not any(x["label"] in ln and fmt_dkk(x["weekly"]) in ln and f"| {flag} |" in ln for ln in rows):
                problems.append(f"economy: the rate of {x['group']} {x['year']} ({x['weekly']:.0f} kr., verified "
                                f"{x['verified']}) is not in the rate table")
    elif "**Betaler det sig?**" in qmd:
        problems.append("the summary box answers 'Betaler det sig?' without a business case in the bundle")
    return problems


def _subsection(qmd: str, heading: str) -> str:
    """The text of the second-level section whose heading is ``heading`` (up to the next heading of level 1 or 2)."""
    m = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^#{{1,2}} |\Z)", qmd, re.S | re.M)
    return m.group(1) if m else ""


def check_compliance_claims(qmd: str, b: Bundle) -> list[str]:
    """The take-up section of each analysis with a complier effect states the bundle's counts, effects, F and
    assumption statuses (recomputed from the published result by the stated rules)."""
    from evaluation.designs.randomized.compliance import CACE_TERMS, STATUS_DA, compliance_checks

    problems = []
    for a in b.analyses:
        cace = next((e for e in a.result.estimates if e.term in CACE_TERMS), None)
        if cace is None:
            continue
        sec = _subsection(qmd, f"Deltagelse og effekt for dem, der tog imod indsatsen: {a.indicator_label}")
        if not sec:
            problems.append(f"{a.id}: a complier effect but no take-up section")
            continue
        take = a.result.tables["take_up"]
        ref = re.search(r"Deltagelsen er den samme som i analysen af «(.+?)» ovenfor\.", sec)
        if ref is not None:
            # a back-reference is a claim too: an earlier analysis with the same take-up table states it
            earlier = [x for x in b.analyses[:b.analyses.index(a)] if x.indicator_label == ref.group(1)
                       and "take_up" in x.result.tables and x.result.tables["take_up"].equals(take)]
            if not earlier:
                problems.append(f"{a.id}: the take-up is said to equal that of «{ref.group(1)}», which it does not")
            take = take.iloc[0:0]
        if "n_took_up" in take.columns:
            for _, r in take.iterrows():
                if r["n_took_up"] is None or (isinstance(r["n_took_up"], float) and math.isnan(r["n_took_up"])):
                    if "ikke vises" not in sec:
                        problems.append(f"{a.id}: a hidden take-up count is not said to be hidden")
                elif int(r["n_took_up"]) == 0:
                    if f"Ingen af de {fmt_number(r['n'], 0)} i" not in sec:
                        problems.append(f"{a.id}: no take-up in group {r['group']} is not stated")
                elif f"tog {fmt_number(r['n_took_up'], 0)} af {fmt_number(r['n'], 0)} " not in sec:
                    problems.append(f"{a.id}: take-up {int(r['n_took_up'])} of {int(r['n'])} in group {r['group']} is not stated")
        mult, unit, dec = scale_for(a.unit, getattr(a.result, "outcome_type", "continuous"))
        itt = get_family(a.design).main_term(a.result)
        for name, e in (("ITT", itt), ("CACE", cace)):
            if e.estimate is None or math.isnan(e.estimate):
                if "kan ikke offentliggøres" not in sec:
                    problems.append(f"{a.id}: the {name} is hidden, but the section does not say so")
                continue
            for v in (e.estimate, e.ci_lower, e.ci_upper):
                if fmt_number(abs(v) * mult, dec) not in sec:
                    problems.append(f"{a.id}: the {name} number {fmt_number(abs(v) * mult, dec)} is not in the section")
        checks = compliance_checks(a.result)
        if "Forudsætning | Hvad data viser | Status" in sec:
            for c in checks:
                row = next((ln for ln in sec.splitlines() if ln.startswith(f"| {c['name_da']} |")), "")
                if f"**{STATUS_DA[c['status']]}**" not in row:
                    problems.append(f"{a.id}: assumption {c['id']} should be '{STATUS_DA[c['status']]}': {row}")
                if c["id"] == "take_up_relevance" and c["number"] is not None and f"F = {fmt_number(c['number'], 1)}" not in row:
                    problems.append(f"{a.id}: the first-stage F {c['number']} is not in the table")
                if c["rule_da"] not in sec:
                    problems.append(f"{a.id}: the rule of {c['id']} is not stated")
            weak = any(c["id"] == "take_up_relevance" and c["status"] in ("tvivlsom", "brudt") for c in checks)
            if weak != ("**Advarsel:**" in sec):
                problems.append(f"{a.id}: the weak take-up warning {'is missing' if weak else 'is shown without cause'}")
        elif "samme som for" not in sec:
            problems.append(f"{a.id}: the take-up section shows no assumptions")
    return problems


def check_mechanism_claims(qmd: str, b: Bundle) -> list[str]:
    """The mechanisms section states each mediation analysis's published numbers: the mediator's shares, the ACME,
    ADE and total effect with intervals (the share mediated only when the total effect excludes zero), the verdict
    on the ACME that its interval gives, and the ρ at which the ACME is zero."""
    from evaluation.designs.randomized.mechanisms_report import excludes_zero
    from evaluation.presentation.formatting import fmt_ci, fmt_pct

    problems = []
    sec = _section(qmd, "Mekanismer")
    for a in b.analyses:
        t = a.result.tables.get("mediation")
        if t is None:
            continue
        if not sec:
            problems.append(f"{a.id}: a mediation analysis but no mechanisms section")
            continue
        mult, unit, dec = scale_for(a.unit, getattr(a.result, "outcome_type", "continuous"))
        diag = a.result.diagnostics.get("mediation") or {}
        for mediator, part in t.groupby("mediator", sort=False):
            rows = {r["term"]: r for _, r in part.iterrows()}
            mech = next((m for m in b.theory.get("mechanisms", []) if m["id"] == rows["acme"]["mechanism"]), None)
            if mech is not None and f": {mech['label']}" not in sec:
                problems.append(f"{a.id}: the mechanism {mech['label']} has no heading")
            for side in ("mediator_intervention", "mediator_control"):
                r = rows.get(side)
                if r is not None and str(r["method"]).startswith("share") and r["estimate"] is not None \
                        and not (isinstance(r["estimate"], float) and math.isnan(r["estimate"])) \
                        and fmt_pct(r["estimate"], 0) not in sec:
                    problems.append(f"{a.id}: the mediator share {fmt_pct(r['estimate'], 0)} ({side}) is not stated")
            line = next((ln for ln in sec.splitlines() if ln.startswith(f"| {a.indicator_label}")), "")
            bullet = _bullet(sec, a.indicator_label)
            if rows["acme"]["estimate"] is None or (isinstance(rows["acme"]["estimate"], float)
                                                    and math.isnan(rows["acme"]["estimate"])):
                if "kan ikke offentliggøres" not in bullet:
                    problems.append(f"{a.id}: the hidden indirect effect is not said to be hidden: {bullet}")
                continue
            for term in ("acme", "ade", "total_effect"):
                r = rows[term]
                cell = f"{fmt_number(r['estimate'] * mult, dec)} ({fmt_ci(r['ci_lower'] * mult, r['ci_upper'] * mult, dec)})"
                if cell not in line:
                    problems.append(f"{a.id}: {term} {cell} is not in the mechanisms table: {line}")
            cells = [c.strip() for c in line.strip("|").split("|")]
            prop_shown = len(cells) == 5 and cells[-1] not in ("–", "")
            if prop_shown != excludes_zero(rows["total_effect"]):
                problems.append(f"{a.id}: the share mediated is {'shown' if prop_shown else 'hidden'} although the total "
                                "effect's interval " + ("crosses" if prop_shown else "excludes") + " zero")
            if excludes_zero(rows["acme"]) != ("Intervallet udelukker nul" in bullet):
                problems.append(f"{a.id}: the verdict on the indirect effect does not follow from its interval: {bullet}")
            if not excludes_zero(rows["acme"]) and "Vi kan ikke udelukke" not in bullet:
                problems.append(f"{a.id}: an indirect effect whose interval crosses zero is not said to be uncertain")
            rho0 = (diag.get(mediator) or {}).get("rho_at_zero")
            if rho0 is not None and f"ρ = {fmt_number(rho0, 2)}" not in bullet:
                problems.append(f"{a.id}: the ρ at which the indirect effect is zero ({rho0}) is not stated")
    return problems


def check_cmo_claims(qmd: str, b: Bundle) -> list[str]:
    """Every CMO status shown follows from the bundle by the stated rule (recomputed from the published results)."""
    from evaluation.pipeline.cmo import cmo_evidence
    from evaluation.reporting.cmo import CMO_HEADING

    problems = []
    if not b.cmo_evidence:
        return problems
    recomputed = {c["id"]: c for c in cmo_evidence(b.theory, b.analyses)}
    sec = _section(qmd, CMO_HEADING)
    for c in b.cmo_evidence:
        r = recomputed.get(c["id"])
        if r is None or r["status"] != c["status"]:
            problems.append(f"CMO {c['id']}: stored status {c['status']} is not what the rule gives "
                            f"({None if r is None else r['status']})")
        bullet = f"- **{c['mechanism_label']} → {c['outcome_label']}: {c['status_da']}.**"
        if bullet not in sec:
            problems.append(f"CMO {c['id']}: the report does not state '{c['status_da']}' for it")
        for reason in c["reasons_da"]:
            if reason not in sec:
                problems.append(f"CMO {c['id']}: the reason '{reason}' is not in the report")
    return problems


def load(bundle_dir: Path) -> Bundle:
    return load_bundle(bundle_dir)


__all__ = ["write_example_study", "check_report_claims", "check_compliance_claims", "check_mechanism_claims", "check_cmo_claims", "check_time_claims", "load"]
_ = Any
