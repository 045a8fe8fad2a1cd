"""The report's goal-attainment section (*Målopfyldelse*) and the goal counts of the summary and portfolio.

Every word about a target comes from its declaration and its result in the bundle: the kind and
direction give the goal in words (:func:`evaluation.presentation.targets.goal_phrase`), the status
is said relative to the deadline and the report's reference date
(:func:`evaluation.presentation.targets.status_label`: "endnu" only before the deadline), a census
is compared without a sampling interval and says so, and an indicator without a target shows
"Intet måltal".
"""

from __future__ import annotations

import datetime as _dt
from evaluation.designs.family import get_family
from evaluation.presentation.formatting import fmt_ci, fmt_date, is_missing
from evaluation.presentation.markdown import DASH, md_table
from evaluation.presentation.phrases import ci_label, common_level, period_label
from evaluation.presentation.targets import (
    KIND_LABELS,
    change_text,
    goal_phrase,
    is_count,
    is_share,
    status_label,
    value_text,
)
from evaluation.results import Bundle, TargetRecord

__all__ = ["targets_section", "goals_overview", "counts_sentence", "target_counts", "target_status", "goal_text", "PROVENANCE_TARGET_DA"]

#: where a target's figures come from, as the report says it
PROVENANCE_TARGET_DA = {"synthetic": "syntetiske tal (ikke projektets faktiske resultat)",
                        "register": "registertal", "survey": "spørgeskemadata", "project": "projektets egne tal"}


def _sentence(text: str) -> str:
    """A sentence ends with a full stop (a requirement quoted from a source often does not)."""
    text = " ".join(str(text).split())
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def _comparison(b: Bundle, t: TargetRecord) -> str:
    """The comparison group of an effect target, in definite form (kontrolgruppen only after a lottery)."""
    aid = (t.result.diagnostics or {}).get("analysis")
    if aid:
        try:
            rec = b.analysis(aid)
        except StopIteration:
            rec = None
        if rec is not None:
            return get_family(rec.design).report.control_name()
    return "sammenligningsgruppen"


def _count(t: TargetRecord) -> bool:
    tg, r = t.target, t.result
    figures = [tg.get("baseline"), r.baseline, (r.diagnostics or {}).get("observed_figure")]
    if tg.get("goal_type") in ("level", "absolute_change"):
        figures.append(tg.get("goal"))
    return is_count(t.unit, figures)


def goal_text(b: Bundle, t: TargetRecord) -> str:
    """The target's goal in words ("falde med mindst 4 %")."""
    tg = t.target
    return goal_phrase(tg.get("goal_type", "level"), tg.get("direction"), tg.get("goal"), unit=t.unit, count=_count(t),
                       comparison=_comparison(b, t))


def target_status(t: TargetRecord, reference_date: _dt.date) -> str:
    """The status label of a target at the report's reference date."""
    return status_label(t.result.status, deadline=t.target.get("deadline"), reference_date=reference_date,
                        because=(t.result.diagnostics or {}).get("undecided_because"))


def _main(t: TargetRecord):
    return t.result.estimates[0] if t.result.estimates else None


def _extra(t: TargetRecord, term: str):
    return next((e for e in t.result.estimates if e.term == term), None)


def _result_parts(t: TargetRecord) -> tuple[str, str]:
    """(the result as the table shows it, its interval or "") — a level, a signed change or an effect."""
    tg = t.target
    kind = tg.get("goal_type", "level")
    e = _main(t)
    if e is None or is_missing(e.estimate):
        return DASH, ""
    count = _count(t)
    if kind in ("level", "none"):
        return (value_text(e.estimate, unit=t.unit, count=count),
                _interval(e, 100.0 if is_share(t.unit) else 1.0, "%" if is_share(t.unit) else (t.unit or "")))
    if kind == "relative_change":
        return change_text(e.estimate, kind, unit=t.unit), _interval(e, 100.0, "%")
    # an absolute change or an effect, in the indicator's unit (a share's in procentpoint)
    return (change_text(e.estimate, kind, unit=t.unit, count=count),
            _interval(e, 100.0 if is_share(t.unit) else 1.0, "procentpoint" if is_share(t.unit) else (t.unit or "")))


def _result_text(t: TargetRecord) -> str:
    txt, ci = _result_parts(t)
    if (t.result.diagnostics or {}).get("census") and txt != DASH:
        return f"{txt} (totaltælling)"
    return f"{txt} ({ci})" if ci else txt


def _interval(e, mult: float, unit: str) -> str:
    if is_missing(e.ci_lower) or is_missing(e.ci_upper):
        return ""
    text = fmt_ci(e.ci_lower * mult, e.ci_upper * mult, 1)
    return f"{text}\u00a0%" if unit == "%" else f"{text} {unit}".strip()


def _baseline_text(t: TargetRecord) -> str:
    tg, r = t.target, t.result
    if tg.get("goal_type") in ("effect", "none"):
        return DASH
    base = r.baseline if r.baseline is not None else tg.get("baseline")
    return DASH if base is None else value_text(base, unit=t.unit, count=_count(t))


def _why(b: Bundle, t: TargetRecord) -> str:
    """Why the target has its status, in words that fit the kind of result."""
    r = t.result
    d = r.diagnostics or {}
    because = d.get("undecided_because")
    e = _main(t)
    if r.status == "no_target":
        return r.reason or "der er ikke sat et måltal, så resultatet vises uden status"
    if r.status == "undecidable":
        if because == "interval":
            _, ci = _result_parts(t)
            return (f"{ci_label(r.conf_level, definite=True)} ({ci}) rummer både værdier, der når målet, og værdier, der ikke gør; datagrundlaget er "
                    "for lille til at afgøre det")
        if because == "assessed":
            return f"vurderet kvalitativt: {r.reason}"
        if because in ("no_result", "no_assessment"):
            hidden = e is not None and e.term != "assessment" and "diskretioneret" in (r.reason or "")
            return "resultatet foreligger ikke" + (" (eller er skjult, fordi det bygger på for få personer)" if hidden else "")
        if because == "no_interval":
            return "resultatet har intet sikkerhedsinterval, så det kan ikke afgøres, om målet er nået"
        return r.reason
    if d.get("census"):
        return "hele populationen er talt (totaltælling), så tallet er sammenlignet direkte med målet uden sikkerhedsinterval"
    if e is not None and not is_missing(e.ci_lower) and not is_missing(e.ci_upper):
        side = "rigtige" if r.status == "met" else "forkerte"
        return f"hele {ci_label(r.conf_level, definite=True)} ligger på den {side} side af målet"
    if t.target.get("goal") is None:
        return f"vurderet kvalitativt: {r.reason}"
    return "tallet har ingen stikprøveusikkerhed og er sammenlignet direkte med målet"


def _cap(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def target_counts(b: Bundle, reference_date: _dt.date) -> tuple[int, dict[str, int], int]:
    """(number of targets with a goal or requirement, status label → count, indicators without a target)."""
    counts: dict[str, int] = {}
    n, none = 0, 0
    for t in b.targets:
        if t.result.status == "no_target":
            none += 1
            continue
        n += 1
        lab = target_status(t, reference_date)
        counts[lab] = counts.get(lab, 0) + 1
    return n, counts, none


def counts_sentence(b: Bundle, reference_date: _dt.date) -> str:
    """"5 mål: 2 nået, 3 ikke nået; 2 indikatorer uden måltal" (empty without targets)."""
    n, counts, none = target_counts(b, reference_date)
    parts = []
    if n:
        parts.append(f"{n} mål: " + ", ".join(f"{k} {lab.lower()}" for lab, k in counts.items()))
    if none:
        parts.append(f"{none} {'indikator' if none == 1 else 'indikatorer'} uden måltal")
    return "; ".join(parts)


def goals_overview(b: Bundle, reference_date: _dt.date) -> str:
    """The goals by status for the headline section: "Nået: A og B. Ikke nået: C." (empty without targets)."""
    by: dict[str, list[str]] = {}
    for t in b.targets:
        if t.result.status == "no_target":
            continue
        by.setdefault(target_status(t, reference_date), []).append(t.label)
    parts = []
    for lab, names in by.items():
        names = [n[0].lower() + n[1:] if not n[:2].isupper() and not n.startswith("Mål ") else n for n in names]
        parts.append(f"{lab}: " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " og " + names[-1]) + ".")
    none = sum(1 for t in b.targets if t.result.status == "no_target")
    if none:
        parts.append(f"Uden måltal: {none} {'indikator' if none == 1 else 'indikatorer'}, som følges med projektets egne tal."
                     if all((t.result.diagnostics or {}).get("provenance") == "project" for t in b.targets if t.result.status == "no_target")
                     else f"Uden måltal: {none} {'indikator' if none == 1 else 'indikatorer'}.")
    return " ".join(parts)


def targets_section(b: Bundle, reference_date: _dt.date) -> str:
    """The whole *Målopfyldelse* section (empty when the study declares no targets)."""
    if not b.targets:
        return ""
    out = ["# Målopfyldelse {#maal}\n"]
    numeric = [t for t in b.targets if t.result.status == "no_target" and _main(t) is not None and not is_missing(_main(t).estimate)
               or t.target.get("goal") is not None]
    qual = [t for t in b.targets if t not in numeric]
    sampled = any(not (t.result.diagnostics or {}).get("census") and _main(t) is not None and not is_missing(_main(t).ci_lower)
                  for t in numeric if t.result.status != "no_target")
    census = any((t.result.diagnostics or {}).get("census") for t in numeric)
    lvl = common_level(t.result.conf_level for t in numeric if t.result.status != "no_target")
    the_ci = ci_label(lvl, definite=True) if lvl is not None else "sikkerhedsintervallet (på det niveau, målet er opgjort med)"
    intro = []
    if sampled:
        intro.append(f"Et mål er nået, når hele {the_ci} ligger på den rigtige side af målet, og ikke nået, når hele "
                     "intervallet ligger på den forkerte side; ellers er resultatet for usikkert til at afgøre.")
    if census:
        intro.append("Tal markeret «totaltælling» omfatter hele populationen og ikke en stikprøve; de har ingen "
                     "stikprøveusikkerhed og sammenlignes direkte med målet.")
    deadlines = [t.target.get("deadline") for t in b.targets if t.target.get("deadline")]
    if deadlines:
        open_ = [d for d in deadlines if str(d) > reference_date.isoformat()]
        intro.append(f"Status er opgjort pr. rapportdatoen {fmt_date(reference_date)}"
                     + ("; for mål med en senere frist er status foreløbig." if open_ else ", efter fristerne for målene."))
    if any(t.target.get("goal_type") not in ("effect", "none") for t in b.targets):
        intro.append("Et mål, der er nået, siger i sig selv ikke, at projektet var årsagen – det kan kun en sammenligning med en "
                     "sammenligningsgruppe vise.")
    if intro:
        out.append(" ".join(intro) + "\n")
    if numeric:
        rows = []
        for t in numeric:
            kind = t.target.get("goal_type", "level")
            rows.append((t.label, KIND_LABELS.get(kind, kind), _baseline_text(t),
                         DASH if kind == "none" else goal_text(b, t), _result_text(t),
                         f"**{target_status(t, reference_date)}**"))
        out.append(md_table(["Indikator", "Type", "Udgangspunkt", "Mål", "Resultat", "Status"], rows, align="llllll"))
        if sampled:
            lvl = common_level(t.result.conf_level for t in numeric)
            out.append(f"Tal i parentes under *Resultat* er {ci_label(lvl, definite=True) if lvl is not None else 'sikkerhedsintervallet på det niveau, målet er opgjort med (se detaljerne nedenfor)'}.\n")
    if qual:
        out.append("## Kvalitative resultatkrav\n")
        rows = []
        for t in qual:
            why = t.result.reason if t.result.status in ("met", "not_met") or (t.result.diagnostics or {}).get(
                "undecided_because") == "assessed" else _why(b, t)
            rows.append((t.label, t.target.get("requirement") or DASH, f"**{target_status(t, reference_date)}**",
                         _sentence(_cap(why))))
        out.append(md_table(["Indikator", "Resultatkrav", "Status", "Begrundelse"], rows, align="llll"))
    details = []
    for t in b.targets:
        tg, r = t.target, t.result
        d = r.diagnostics or {}
        bits = []
        if t in numeric and r.status != "no_target":
            bits.append(f"*Status:* {target_status(t, reference_date).lower()} – {_why(b, t)}.")
        if r.status == "no_target" and r.reason and (d.get("observed_figure") is not None or t in numeric):
            bits.append(f"*Opgørelse:* {_sentence(_cap(r.reason))}")
        if d.get("baseline_label") and d.get("follow_up_label"):
            bits.append(f"*Resultatet* er målt på persondata i før/efter-analysen ({period_label(d['baseline_label'])} "
                        f"til {period_label(d['follow_up_label'])}); udgangspunktet er den målte værdi.")
        for e in r.estimates[1:]:
            if is_missing(e.estimate):
                continue
            ci = "" if d.get("census") or is_missing(e.ci_lower) else None
            if e.term == "relative_change_from_baseline":
                iv = "" if ci == "" else f" ({ci_label(r.conf_level)} {_interval(e, 100.0, '%')})"
                word = "en stigning på" if e.estimate > 0 else "et fald på" if e.estimate < 0 else "ingen ændring:"
                bits.append(f"*Relativ ændring:* {word} {change_text(e.estimate, 'relative_change', unit=t.unit, signed=False)}{iv}.")
            elif e.term == "change_from_baseline":
                u = "procentpoint" if is_share(t.unit) else (t.unit or "")
                iv = "" if ci == "" else f" ({ci_label(r.conf_level)} {_interval(e, 100.0 if is_share(t.unit) else 1.0, u)})"
                value = e.estimate
                main = _main(t)
                if (tg.get("goal_type") == "level" and is_share(t.unit) and r.baseline is not None and main is not None
                        and not is_missing(main.estimate) and abs(value - (main.estimate - r.baseline)) < 1e-9):
                    # the difference of the printed levels, so that the numbers in the row add up
                    value = (round(main.estimate * 100, 1) - round(r.baseline * 100, 1)) / 100
                word = "en stigning på" if value > 0 else "et fald på"
                size = change_text(value, "absolute_change", unit=t.unit, count=_count(t), signed=False)
                bits.append(f"*Ændring fra udgangspunktet:* {word} {size}{iv}." if abs(value) > 1e-12 else
                            "*Ændring fra udgangspunktet:* ingen.")
        if tg.get("goal_type") == "relative_change" and r.baseline is not None and d.get("observed_figure") is not None:
            bits.append(f"*Tal:* {value_text(r.baseline, unit=t.unit, count=_count(t))} ved udgangspunktet og "
                        f"{value_text(d['observed_figure'], unit=t.unit, count=_count(t))} ved opfølgningen.")
        if tg.get("requirement") and t in numeric:
            bits.append(f"*Resultatkrav:* {_sentence(tg['requirement'])}")
        if tg.get("measurement_method"):
            bits.append(f"*Målemetode:* {_sentence(tg['measurement_method'])}")
        if tg.get("follow_up"):
            bits.append(f"*Opfølgning:* {_sentence(tg['follow_up'])}")
        if tg.get("deadline"):
            bits.append(f"*Frist:* {fmt_date(tg['deadline'])}.")
        if d.get("measured_at"):
            bits.append(f"*Opgjort:* {fmt_date(d['measured_at'])}.")
        if d.get("provenance"):
            bits.append(f"*Kilde:* {PROVENANCE_TARGET_DA.get(d['provenance'], d['provenance'])}.")
        if bits:
            details.append(f"- **{_sentence(t.label)}** " + " ".join(bits))
    if details:
        out.append("\n".join(details) + "\n")
    return "\n".join(out)

