"""Report text for before/after analyses (design ``pre_post``): no comparison group, no effect wording.

Used by :mod:`evaluation.reporting.quarto`; it only displays the bundle.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..results import result_from_dict
from evaluation.presentation.formatting import fmt_ci, fmt_date, fmt_int, fmt_number, fmt_pct
from evaluation.presentation.formatting import is_missing as _nan

__all__ = ["PRE_POST", "period_label", "pre_post_sentence", "pre_post_participants", "pre_post_section", "CAUSE_CAVEAT_DA"]

PRE_POST = "pre_post"
DASH = "–"
CAUSE_CAVEAT_DA = ("Der er ingen sammenligningsgruppe, så tallet siger ikke noget om årsag: ændringen kunne være sket "
                   "uden projektet.")


def period_label(x: Any) -> str:
    """A period label as a Danish date when it is an ISO date (``2016-06-30`` → ``30. juni 2016``), else as given."""
    text = str(x)
    if len(text) >= 10:
        try:
            return fmt_date(text)
        except ValueError:
            pass
    return text


def _unit(analysis: Mapping[str, Any], outcome_type: str) -> tuple[bool, float, str, int]:
    """(is a share, multiplier, unit of a change, decimals)."""
    share = outcome_type == "binary" or analysis.get("unit") == "andel"
    return (True, 100.0, "procentpoint", 1) if share else (False, 1.0, analysis.get("unit") or "", 1)


def _change_ci(lo: float, hi: float, unit: str, dec: int) -> str:
    """Danish interval phrase for a change over time (fald/stigning)."""
    if _nan(lo) or _nan(hi):
        return "intet sikkerhedsinterval"
    if lo >= 0 or hi <= 0:
        a, b = sorted([abs(lo), abs(hi)])
        word = "en stigning" if lo >= 0 else "et fald"
        return f"95 %-sikkerhedsinterval: {word} på {fmt_ci(a, b, dec)} {unit}".rstrip()
    return (f"95 %-sikkerhedsinterval fra et fald på {fmt_number(abs(lo), dec)} til en stigning på "
            f"{fmt_number(abs(hi), dec)} {unit}").rstrip()


def _terms(res) -> dict[str, Any]:
    return {e.term: e for e in res.estimates}


def pre_post_sentence(analysis: Mapping[str, Any]) -> str:
    """Headline: the level at both dates, the change and the relative change with intervals, and the caveat."""
    res = result_from_dict(analysis["result"])
    t = _terms(res)
    label = analysis["indicator_label"]
    b, f, ch, rel = (t.get(k) for k in ("baseline_level", "follow_up_level", "change", "relative_change"))
    if any(x is None or _nan(x.estimate) for x in (b, f, ch)):
        return f"**{label}:** resultatet kan ikke offentliggøres, fordi det bygger på for få personer."
    share, mult, unit, dec = _unit(analysis, res.outcome_type)
    d = res.diagnostics
    level = (lambda v: fmt_pct(v, 1)) if share else (lambda v: f"{fmt_number(v, dec)} {unit}".strip())
    verb = "faldt" if ch.estimate < 0 else "steg" if ch.estimate > 0 else "var uændret"
    core = f"{verb} fra {level(b.estimate)} ({period_label(d.get('baseline', ''))}) til {level(f.estimate)} " \
           f"({period_label(d.get('follow_up', ''))})"
    if ch.estimate != 0:
        core += f", dvs. {fmt_number(abs(ch.estimate) * mult, dec)} {unit}".rstrip()
    sentence = f"**{label}:** {core} ({_change_ci(ch.ci_lower * mult, ch.ci_upper * mult, unit, dec)})."
    if rel is not None and not _nan(rel.estimate) and not _nan(rel.ci_lower) and ch.estimate != 0:
        word = "fald" if rel.estimate < 0 else "stigning"
        sentence += (f" Det er et relativt {word} på {fmt_pct(abs(rel.estimate), 0)} "
                     f"({_change_ci(rel.ci_lower * 100, rel.ci_upper * 100, '%', 0)}).")
    if not _nan(ch.ci_lower) and ch.ci_lower <= 0 <= ch.ci_upper:
        sentence += " Ændringen er så lille, at den kan skyldes tilfældigheder."
    return sentence + " " + CAUSE_CAVEAT_DA


def _overlap_counts(o):
    """Formatter of the before/after overlap table's counts by row name ("–" when suppressed or absent)."""
    n = dict(zip(o["measured"].astype(str), o["n"]))
    return lambda k: DASH if _nan(n.get(k)) else fmt_int(n.get(k))


def _overlap_text(res) -> str | None:
    o = res.tables.get("overlap")
    if o is None or not len(o):
        return None
    c = _overlap_counts(o)
    return (f"Af personerne var {c('both')} med ved begge målinger, {c('baseline_only')} kun ved udgangspunktet "
            f"(fx overgået til pension eller ude af målgruppen) og {c('follow_up_only')} kun ved opfølgningen "
            "(nye i målgruppen).")


def pre_post_participants(b: Mapping[str, Any], analysis: Mapping[str, Any]) -> str:
    """'Hvem blev målt' for a primary before/after analysis: persons at each date and the overlap."""
    res = result_from_dict(analysis["result"])
    share, mult, unit, dec = _unit(analysis, res.outcome_type)
    out = ["# Hvem blev målt {#deltagere}\n"]
    out.append(
        f"Målgruppen er målt to gange. Tabellen viser antallet af personer ved hver måling og resultatet for "
        f"«{analysis['indicator_label'][0].lower() + analysis['indicator_label'][1:]}».\n"
    )
    from evaluation.presentation.markdown import md_table

    g = res.tables.get("groups")
    if g is not None and len(g):
        col = "share" if "share" in g.columns else "mean"
        names = {str(res.diagnostics.get("baseline")): "Udgangspunkt", str(res.diagnostics.get("follow_up")): "Opfølgning"}
        rows = [(f"{names.get(str(r['group']), '')} ({period_label(r['group'])})".strip(),
                 DASH if _nan(r["n"]) else fmt_int(r["n"]),
                 DASH if _nan(r[col]) else fmt_number(float(r[col]) * mult, dec)) for _, r in g.iterrows()]
        head = "Andel (%)" if share else (f"Gennemsnit ({unit})" if unit else "Gennemsnit")
        out.append(md_table(["Måling", "Antal personer", head], rows))
    txt = _overlap_text(res)
    if txt:
        out.append(txt + " Personer, der er målt begge gange, indgår parvis i beregningen af ændringen.\n")
    o = res.tables.get("overlap")
    if share and o is not None and o["measured"].astype(str).str.startswith("both_").any():
        c = _overlap_counts(o)
        col = ((analysis.get("metric") or {}).get("params") or {}).get("column")
        what = (b.get("labels") or {}).get(col) if col else None
        what = what or analysis["indicator_label"]
        out.append(f"Status for de {c('both')} personer, der var med begge gange (antal personer):\n")
        out.append(md_table([f"{what} ved udgangspunktet", "Ja ved opfølgningen", "Nej ved opfølgningen"], [
            ("Ja", c("both_baseline_1_follow_up_1"), c("both_baseline_1_follow_up_0")),
            ("Nej", c("both_baseline_0_follow_up_1"), c("both_baseline_0_follow_up_0")),
        ]))
    return "\n".join(out)


def pre_post_section(b: Mapping[str, Any]) -> str:
    """'Udvikling før og efter': a table of levels, change and relative change for every pre/post analysis."""
    analyses = [a for a in b["analyses"] if a.get("design") == PRE_POST]
    if not analyses:
        return ""
    from evaluation.presentation.markdown import md_table

    out = ["# Udvikling før og efter {#foer-efter}\n"]
    out.append(
        "Tallene viser, hvordan målgruppen udviklede sig fra udgangspunktet til opfølgningen. Der er ingen "
        "sammenligningsgruppe (evidensniveau 1), så ændringen er ikke en effekt af projektet: den siger ikke noget om "
        "årsag, fordi den også kan skyldes fx konjunkturer, regler eller at målgruppen har ændret sig.\n"
    )
    rows = []
    for a in analyses:
        res = result_from_dict(a["result"])
        share, mult, unit, dec = _unit(a, res.outcome_type)
        d = res.diagnostics
        for e in res.estimates:
            if e.term == "baseline_level":
                what, m, u = f"Udgangspunkt ({period_label(d.get('baseline'))})", mult, "%" if share else unit
            elif e.term == "follow_up_level":
                what, m, u = f"Opfølgning ({period_label(d.get('follow_up'))})", mult, "%" if share else unit
            elif e.term == "change":
                what, m, u = "Ændring", mult, unit
            elif e.term == "relative_change":
                what, m, u = "Relativ ændring", 100.0, "%"
            else:
                continue
            val = DASH if _nan(e.estimate) else f"{fmt_number(e.estimate * m, dec)} {u}".strip()
            ci = DASH if _nan(e.ci_lower) else f"{fmt_ci(e.ci_lower * m, e.ci_upper * m, dec)} {u}".strip()
            rows.append((a["indicator_label"], what, val, ci, fmt_int(e.n)))
    if len({r[0] for r in rows}) == 1:  # one indicator: name it once instead of in every row
        out.append(f"**{rows[0][0]}**\n")
        out.append(md_table(["Måling", "Værdi", "95 %-sikkerhedsinterval", "Antal personer"], [r[1:] for r in rows],
                            align="lrrr"))
    else:
        out.append(md_table(["Mål", "Måling", "Værdi", "95 %-sikkerhedsinterval", "Antal personer"], rows, align="llrrr"))
    out.append("Ændringen er opfølgning minus udgangspunkt; negative tal betyder et fald. Den relative ændring er "
               "ændringen i procent af udgangspunktet.\n")
    return "\n".join(out)
