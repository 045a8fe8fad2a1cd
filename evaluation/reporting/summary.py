"""What a council member reads first: the synthetic-data banner and the "Kort fortalt" box.

Both are written from the bundle alone. The banner appears when any data source or declared target
figure has ``provenance: synthetic``; the box answers five questions in the primary analysis's own
words (its design family writes "Virkede det?" and "Hvor sikkert?", see
:class:`evaluation.designs.report.ReportParts`): did it work, how sure, what did it cost (grant, kr.
per participant, kr. per unit of effect where an effect is shown), which period the data cover, and
when the report was made.

Both are fenced divs with an id (``#syntetiske-data``, ``#kort-fortalt``); the renderer's filter
moves them above the table of contents (see ``templates/callouts.lua``), and Quarto shows them first
in the body.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping

from evaluation.designs.family import get_family
from evaluation.presentation.formatting import fmt_date, fmt_dkk, fmt_int, fmt_number, is_missing
from evaluation.presentation.phrases import interval_in_parentheses, scale_for
from evaluation.reporting.targets import counts_sentence
from evaluation.reporting.time_sections import economy_summary_text
from evaluation.results import AnalysisRecord, Bundle

__all__ = ["KIND_DA", "PROVENANCE_DA", "source_name", "synthetic_parts", "is_synthetic", "banner", "summary_box",
           "effect_cost", "data_period", "week_label", "summary_record"]

#: what a data source holds, in Danish
KIND_DA = {"participants": "deltagerdata", "register": "registerdata", "survey": "spørgeskemasvar",
           "planned": "planlagte samtaler", "figures": "opgørelsestal"}
#: where a data source comes from, in Danish ("kilde ikke angivet" when the study does not say)
PROVENANCE_DA = {"synthetic": "syntetiske data (genereret, ikke virkelige personer)", "register": "registerudtræk",
                 "survey": "spørgeskemabesvarelser", "project": "projektets egne tal", None: "kilde ikke angivet"}


def source_name(src: Mapping[str, Any]) -> str:
    """A data source as the report names it: what it holds and its file ("deltagerdata (participants.csv)")."""
    file = str(src.get("path", "")).replace("\\", "/").rsplit("/", 1)[-1]
    kind = KIND_DA.get(str(src.get("kind")), "data")
    return f"{kind} ({file})" if file else kind


def synthetic_parts(b: Bundle, *, files: bool = False) -> list[str]:
    """The synthetic parts of the study's data, named for a reader (empty when none is synthetic); ``files`` adds
    each source's file name."""
    parts = [source_name(s) if files else KIND_DA.get(str(s.get("kind")), "data")
             for _, s in sorted(b.data_sources.items()) if s.get("provenance") == "synthetic"]
    parts = list(dict.fromkeys(parts))
    declared = [t for t in b.targets if (t.result.diagnostics or {}).get("provenance") == "synthetic"
                and not (t.result.diagnostics or {}).get("analysis")]
    if declared:
        parts.append(f"opfølgningstallene for {fmt_int(len(declared))} {'mål' if len(declared) > 1 else 'mål'}"
                     if len(declared) > 1 else "opfølgningstallet for ét mål")
    return parts


def is_synthetic(b: Bundle) -> bool:
    """True when any data source or declared target figure is synthetic."""
    return bool(synthetic_parts(b))


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " og " + parts[-1]


def banner(b: Bundle) -> str:
    """The synthetic-data banner (a fenced div), or "" when nothing is synthetic."""
    parts = synthetic_parts(b)
    if not parts:
        return ""
    real = [t for t in b.targets if (t.result.diagnostics or {}).get("provenance") in ("project", "register", "survey")]
    text = (f"Tallene er genereret til at vise metoden, ikke målt på virkelige personer ({_join(parts)}). "
            "Projektet er virkeligt, men resultaterne er ikke dets faktiske resultater.")
    if real:
        text += " Projektets egne opgørelser under *Målopfyldelse* er undtaget."
    return f"::: {{#syntetiske-data .callout-important title=\"Syntetiske data\"}}\n{text}\n:::\n"


def summary_record(b: Bundle) -> AnalysisRecord | None:
    """The analysis the summary speaks of: the first headline analysis, else the primary one."""
    heads = b.headline_analyses()
    return heads[0] if heads else b.primary


def week_label(iso_week: str) -> str:
    """"2014-W45" → "uge 45 i 2014" (anything else as given)."""
    text = str(iso_week)
    if len(text) >= 7 and text[4:6] == "-W" and text[:4].isdigit():
        return f"uge {int(text[6:])} i {text[:4]}"
    return text


def data_period(b: Bundle) -> str:
    """Which period the data cover, in words."""
    rec = summary_record(b)
    if rec is not None:
        text = get_family(rec.design).report.data_period(rec, b)
        if text:
            return text
    weeks = [s["weeks"] for s in b.data_sources.values() if s.get("weeks")]
    if weeks:
        first, last = min(w[0] for w in weeks), max(w[1] for w in weeks)
        return f"registerdata fra {week_label(first)} til {week_label(last)}"
    measured = sorted({(t.result.diagnostics or {}).get("measured_at") for t in b.targets} - {None})
    if measured:
        return "opgjort " + _join([fmt_date(m) for m in measured])
    p = b.study["period"]
    return f"projektperioden {fmt_date(p['start'])} – {fmt_date(p['end'])}"


def effect_cost(rec: AnalysisRecord, budget: float | None, n_participants: int | None,
                cost_unit: str | None = None) -> dict[str, Any] | None:
    """The grant per unit of a clear effect, or None when no price can be put on it.

    The effect per participant times the number of participants is the total effect (a share of weeks
    in a window is turned into weeks: share × window length); the grant divided by it is the price per
    unit, and the interval's ends give its range. A share of persons (a 0/1 outcome) gets no price.
    Returns a dict with ``total``, ``lo``, ``hi``, ``per``, ``per_lo``, ``per_hi`` and ``unit``.
    """
    if not budget or not n_participants:
        return None
    fam = get_family(rec.design)
    res = rec.result
    e = fam.main_term(res)
    weeks = rec.weeks_per_unit
    can_cost = weeks or (getattr(res, "outcome_type", "continuous") != "binary" and rec.unit != "andel")
    if not can_cost or is_missing(e.estimate) or is_missing(e.ci_lower) or fam.report.verdict(rec) != "clear":
        return None
    scale = float(weeks) if weeks else 1.0
    total = abs(e.estimate) * n_participants * scale
    lo, hi = sorted([abs(e.ci_lower) * n_participants * scale, abs(e.ci_upper) * n_participants * scale])
    _, unit, _ = scale_for(rec.unit, getattr(res, "outcome_type", "continuous"))
    fewer = e.estimate < 0
    if weeks:
        unit = f"{'færre' if fewer else 'flere'} uger på offentlig forsørgelse"
        cost_unit = f"{'sparet' if fewer else 'ekstra'} uge på offentlig forsørgelse"
    else:
        unit = f"{'færre' if fewer else 'flere'} {unit}".strip()
        cost_unit = f"{'sparet' if fewer else 'ekstra'} {cost_unit}" if cost_unit else None
    return {"total": total, "lo": lo, "hi": hi, "unit": unit, "cost_unit": cost_unit or unit,
            "per": budget / total, "per_lo": budget / hi, "per_hi": budget / lo}


def business_case_week_price(bc: Mapping[str, Any]) -> tuple[float, int] | None:
    """(cost per saved week on public support, horizon in weeks) at the business case's longest horizon, as the
    section Økonomi states it; None when it gives none (no saved weeks to price)."""
    hz = bc.get("horizons") or {}
    if not hz:
        return None
    h = max(hz, key=int)
    cpw = hz[h].get("cost_per_saved_week")
    return None if cpw is None or is_missing(cpw) else (float(cpw), int(h))


def _cost_line(b: Bundle) -> str:
    budget = b.study.get("budget_dkk")
    econ = b.economy or {}
    bc = econ.get("business_case") or {}
    if not budget and bc.get("cost"):
        # no grant in the plan, but the business case declares the project's cost: the box uses that cost and
        # says where it comes from, so it agrees with the section Økonomi
        line = (f"Bevillingen står ikke i evalueringsplanen; økonomiafsnittet regner med en pris på "
                f"{fmt_dkk(round(bc['cost']))} (kilden står under Økonomi), dvs. {fmt_dkk(round(bc['cost_per_participant']))} pr. deltager "
                f"({fmt_int(bc['n_participants'])} deltagere)")
        week = business_case_week_price(bc)
        if week:
            line += f" og {fmt_dkk(round(week[0]))} pr. sparet uge på offentlig forsørgelse inden for {fmt_int(week[1])} uger"
        return line + "."
    if not budget:
        return "Bevillingen står ikke i evalueringsplanen, så prisen kan ikke opgøres."
    rec = summary_record(b)
    parts = [f"Bevilling {fmt_dkk(budget)}"]
    n = get_family(rec.design).report.n_participants(rec) if rec is not None else None
    if n:
        parts.append(f"{fmt_dkk(round(budget / n))} pr. deltager ({fmt_int(n)} deltagere)")
        cost = effect_cost(rec, budget, n, b.report_options.get("cost_unit"))
        if cost:
            parts.append(f"{fmt_dkk(round(cost['per']))} pr. {cost['cost_unit']}")
        elif rec is not None and get_family(rec.design).is_effect:
            # say which of the two reasons holds: a clear effect on a share has no unit to price, else no clear effect
            parts.append("ingen pris pr. enhed af effekten, da målet er en andel, der ikke kan gøres op i enheder"
                         if get_family(rec.design).report.verdict(rec) == "clear"
                         else "ingen pris pr. enhed af effekten, da der ikke er en klar effekt")
    else:
        expected = (b.theory.get("target_group") or {}).get("expected_n")
        if expected:
            parts.append(f"antallet af deltagere er ikke målt; planen forventede {fmt_int(expected)}, dvs. "
                         f"{fmt_dkk(round(budget / expected))} pr. forventet deltager")
        else:
            parts.append("antallet af deltagere er ikke målt, så prisen pr. deltager kan ikke opgøres")
    return "; ".join(parts) + "."


def _broken_checks(b: Bundle, rec: AnalysisRecord) -> list[str]:
    """The names (Danish, lower case) of the design's own checks that are broken for the analysis, whether or
    not the study declared an assumption they test."""
    checks = (b.robustness or {}).get("checks", [])
    return list(dict.fromkeys(c["name_da"].lower() for c in checks
                              if c["analysis"] == rec.id and c["status"] == "brudt"))


def _broken_design_checks(broken: list[str]) -> str:
    """A sentence naming the design's own checks that are broken for the summary's analysis (the interval is
    only as good as the design), or "" when none is."""
    if not broken:
        return ""
    names = broken[0] if len(broken) == 1 else ", ".join(broken[:-1]) + " og " + broken[-1]
    return (f" Men designets egne antagelser svigter ({names}: brudt), så forskellen kan skyldes forskelle mellem "
            "grupperne; se afsnittet «Hvor robust er resultatet?».")


def summary_box(b: Bundle, reference_date: _dt.date) -> str:
    """The "Kort fortalt" box (a fenced div)."""
    rec = summary_record(b)
    lines = []
    if rec is not None:
        parts = get_family(rec.design).report
        broken = _broken_checks(b, rec)
        lines.append(f"- **Virkede det?** {parts.summary_worked(rec, b, design_doubt=bool(broken))}")
        lines.append(f"- **Hvor sikkert?** {parts.summary_certainty(rec, b)}{_broken_design_checks(broken)}")
    elif b.targets:
        lines.append("- **Virkede det?** Det kan rapporten ikke sige: den viser målopfyldelse uden sammenligningsgruppe, "
                     "ikke effekt.")
        lines.append("- **Hvor sikkert?** Evidensniveau 1 af 5: uden sammenligningsgruppe kan et nået mål også skyldes "
                     "andet end projektet.")
    else:
        lines.append("- **Virkede det?** Der er ingen kvantitative resultater for projektet.")
    goals = counts_sentence(b, reference_date)
    if goals:
        lines.append(f"- **Mål:** {goals[0].upper() + goals[1:]}.")
    lines.append(f"- **Hvad kostede det?** {_cost_line(b)}")
    pays = economy_summary_text(b)
    if pays:
        lines.append(f"- **Betaler det sig?** {pays}")
    synthetic = " Syntetiske data, ikke virkelige personer." if is_synthetic(b) else ""
    period = data_period(b)
    lines.append(f"- **Data:** {period[0].upper() + period[1:]}.{synthetic}")
    lines.append(f"- **Rapportdato:** {fmt_date(reference_date)}.")
    return "::: {#kort-fortalt .callout-summary title=\"Kort fortalt\"}\n" + "\n".join(lines) + "\n:::\n"


def economy_lines(b: Bundle) -> list[str]:
    """The *Økonomi* section's paragraphs (empty without a grant and a count of participants)."""
    budget = b.study.get("budget_dkk")
    rec = summary_record(b)
    if not budget or rec is None:
        return []
    parts = get_family(rec.design).report
    n = parts.n_participants(rec)
    if not n:
        return []
    out = [f"Bevillingen på {fmt_dkk(budget)} svarer til {fmt_dkk(round(budget / n))} pr. deltager "
           f"({fmt_int(n)} deltagere i {parts.participants_word()}).\n"]
    cost = effect_cost(rec, budget, n, b.report_options.get("cost_unit"))
    res = rec.result
    if cost:
        out.append(f"Effekten svarer til {fmt_number(cost['total'], 0)} {cost['unit']} i alt for deltagerne "
                   f"{interval_in_parentheses(cost['lo'], cost['hi'], 0, level=getattr(res, 'conf_level', 0.95))}, dvs. {fmt_dkk(round(cost['per']))} pr. "
                   f"{cost['cost_unit']} (mellem {fmt_dkk(round(cost['per_lo']))} og {fmt_dkk(round(cost['per_hi']))}).\n")
    elif getattr(res, "outcome_type", "") == "binary" or (rec.unit == "andel" and not rec.weeks_per_unit):
        out.append("Det primære mål er en andel af personer, så der beregnes ingen pris pr. enhed af effekten.\n")
    else:
        out.append("Da effekten på det primære mål ikke er sikkert påvist, beregnes ingen pris pr. opnået effekt.\n")
    return out
