"""The before/after design's report parts in Danish: a change over time, no effect wording."""

from __future__ import annotations

from evaluation.designs.report import ReportParts
from evaluation.presentation.formatting import (
    fmt_ci,
    fmt_int,
    fmt_number,
    fmt_pct,
    is_missing,
)
from evaluation.presentation.markdown import DASH, md_table
from evaluation.presentation.phrases import (
    ci_cell,
    ci_header,
    ci_label,
    EVIDENCE_SHORT_DA,
    interval_phrase,
    period_label,
    result_level,
    significance_sentence,
)

__all__ = ["PrePostReport", "CAUSE_CAVEAT_DA"]

CAUSE_CAVEAT_DA = ("Der er ingen sammenligningsgruppe, så tallet siger ikke noget om årsag: ændringen kunne være sket "
                   "uden projektet.")

METHOD_DA = {
    "baseline_level": "Niveau: Wilson-interval for en andel, t-interval for et gennemsnit",
    "follow_up_level": "Niveau: Wilson-interval for en andel, t-interval for et gennemsnit",
    "change": "Ændring: Newcombes score-interval for andele (parret for personer, der er målt begge gange), "
              "t-interval for gennemsnit",
    "relative_change": "Relativ ændring: deltametoden på logaritmen til forholdet",
}


def _unit(rec, outcome_type: str) -> tuple[bool, float, str, int]:
    """(is a share, multiplier, unit of a change, decimals)."""
    share = outcome_type == "binary" or rec.unit == "andel"
    return (True, 100.0, "procentpoint", 1) if share else (False, 1.0, rec.unit or "", 1)


def _overlap_counts(o):
    """Formatter of the before/after overlap table's counts by row name ("–" when suppressed or absent)."""
    n = dict(zip(o["measured"].astype(str), o["n"]))
    return lambda k: DASH if is_missing(n.get(k)) else fmt_int(n.get(k))


def _shown_change(before: float, after: float, change, mult: float, dec: int = 1) -> float:
    """The change as printed: when it is the plain difference of the two levels, the difference of the printed
    levels, so that "15,3 % til 12,3 %" is "et fald på 3,0 procentpoint" and the numbers add up for the reader
    (rounding the three numbers apart would print 3,1); otherwise the estimate itself."""
    if change is None or is_missing(change.estimate) or abs(change.estimate - (after - before)) < 1e-9:
        return round(after * mult, dec) - round(before * mult, dec)
    return change.estimate * mult


def _levels(before: float, after: float, share: bool, unit: str, change, mult: float) -> tuple[str, str, str]:
    """Both levels and the size of the change as printed (see :func:`_shown_change`)."""
    diff = _shown_change(before, after, change, mult)
    lvl = (lambda v: f"{fmt_number(v * mult, 1)}\u00a0%") if share else (lambda v: f"{fmt_number(v, 1)} {unit}".strip())
    return lvl(before), lvl(after), f"{fmt_number(abs(diff), 1)} {unit}".strip()


class PrePostReport(ReportParts):
    term_labels = {
        "baseline_level": "Niveau ved udgangspunktet",
        "follow_up_level": "Niveau ved opfølgningen",
        "change": "Ændring (opfølgning minus udgangspunkt)",
        "relative_change": "Relativ ændring",
    }
    body_slot = "before_effects"
    not_an_effect_da = "en før/efter-måling uden sammenligningsgruppe viser en udvikling, ikke en effekt"

    def method_da(self, rec, e, labels):
        return METHOD_DA.get(e.term) or self.term_label(e.term)

    def method_technical_da(self, rec, e, bundle):
        d = rec.result.diagnostics
        share = rec.result.outcome_type == "binary" or rec.unit == "andel"
        what = "Andel" if share else "Gennemsnit"
        if e.term in ("baseline_level", "follow_up_level"):
            when = period_label(d.get("baseline" if e.term == "baseline_level" else "follow_up", ""))
            return f"{what} {when}; " + ("Wilson-interval" if share else "t-interval")
        if e.term == "change":
            n_both = d.get("n_both")
            paired = (f"{fmt_int(n_both)} personer er målt begge gange, og korrelationen mellem deres to målinger indgår"
                      if n_both else "ingen er målt begge gange")
            if share:
                return ("Forskel i andele (opfølgning minus udgangspunkt); Newcombes interval fra Wilson-grænserne "
                        f"(kvadrer og læg sammen); {paired}; Wald-z-test")
            return f"Forskel i gennemsnit (opfølgning minus udgangspunkt); t-interval; {paired}"
        if e.term == "relative_change":
            return ("Relativ ændring (opfølgning minus udgangspunkt, divideret med udgangspunktet); deltametoden på logaritmen "
                    "til forholdet, med kovariansen for personer målt begge gange; z-test")
        return self.method_da(rec, e, bundle.labels)

    def headline(self, rec, bundle) -> str:
        """The level at both dates, the change and the relative change with intervals, and the caveat."""
        res = rec.result
        t = {e.term: e for e in res.estimates}
        label = rec.indicator_label
        b, f, ch, rel = (t.get(k) for k in ("baseline_level", "follow_up_level", "change", "relative_change"))
        if any(x is None or is_missing(x.estimate) for x in (b, f, ch)):
            return f"**{label}:** resultatet kan ikke offentliggøres, fordi det bygger på for få personer."
        share, mult, unit, dec = _unit(rec, res.outcome_type)
        d = res.diagnostics
        lv = _levels(b.estimate, f.estimate, share, unit, ch, mult)
        verb = "faldt" if ch.estimate < 0 else "steg" if ch.estimate > 0 else "var uændret"
        core = f"{verb} fra {lv[0]} ({period_label(d.get('baseline', ''))}) til {lv[1]} " \
               f"({period_label(d.get('follow_up', ''))})"
        if ch.estimate != 0:
            core += f", dvs. {'et fald' if ch.estimate < 0 else 'en stigning'} på {lv[2]}"
        level = result_level(res)
        sentence = f"**{label}:** {core} ({interval_phrase(ch.ci_lower * mult, ch.ci_upper * mult, unit, dec, kind='change', level=level)})."
        if rel is not None and not is_missing(rel.estimate) and not is_missing(rel.ci_lower) and ch.estimate != 0:
            word = "fald" if rel.estimate < 0 else "stigning"
            sentence += (f" Det er et relativt {word} på {fmt_pct(abs(rel.estimate), 0)} "
                         f"({interval_phrase(rel.ci_lower * 100, rel.ci_upper * 100, '%', 0, kind='change', level=level)}).")
        sig = significance_sentence(ch.ci_lower, ch.ci_upper, kind="change")
        if sig:
            sentence += " " + sig
        return sentence + " " + CAUSE_CAVEAT_DA

    def summary_worked(self, rec, bundle, design_doubt: bool = False) -> str:
        """No effect claim: how the indicator moved, and why that does not answer the question."""
        res = rec.result
        t = {e.term: e for e in res.estimates}
        b, f = t.get("baseline_level"), t.get("follow_up_level")
        if b is None or f is None or is_missing(b.estimate) or is_missing(f.estimate):
            return "Det kan rapporten ikke sige: der er ingen sammenligningsgruppe, og tallene kan ikke vises (for få personer)."
        share, mult, unit, dec = _unit(rec, res.outcome_type)
        d = res.diagnostics
        lv = _levels(b.estimate, f.estimate, share, unit, t.get("change"), mult)
        verb = "faldt" if f.estimate < b.estimate else "steg" if f.estimate > b.estimate else "var uændret"
        label = rec.indicator_label[0].lower() + rec.indicator_label[1:]
        return (f"Det kan rapporten ikke sige, for der er ingen sammenligningsgruppe. «{label[0].upper() + label[1:]}» "
                f"{verb} fra {lv[0]} ({period_label(d.get('baseline', ''))}) til {lv[1]} ({period_label(d.get('follow_up', ''))}).")

    def summary_certainty(self, rec, bundle) -> str:
        res = rec.result
        ch = next((e for e in res.estimates if e.term == "change"), None)
        share, mult, unit, dec = _unit(rec, res.outcome_type)
        parts = []
        if ch is not None and not is_missing(ch.ci_lower):
            level = result_level(res)
            txt = interval_phrase(ch.ci_lower * mult, ch.ci_upper * mult, unit, dec, kind="change", level=level)
            rest = txt[len(ci_label(level)):].lstrip(": ").strip()
            parts.append(f"{ci_label(level, definite=True)} for ændringen: {rest}.")
        parts.append(f"Evidensniveau 1 af 5: {EVIDENCE_SHORT_DA[1]}; ændringen kan skyldes andet end projektet.")
        return " ".join(parts)

    def data_period(self, rec, bundle) -> str | None:
        d = rec.result.diagnostics
        if d.get("baseline") and d.get("follow_up"):
            return f"målt {period_label(d['baseline'])} og {period_label(d['follow_up'])}"
        return None

    def n_participants(self, rec) -> int | None:
        return None  # the whole target group is measured twice: no count of participants

    def n_comparison(self, rec) -> int | None:
        return None

    def participants(self, rec, bundle) -> str:
        """'Hvem blev målt': persons at each date and the overlap."""
        res = rec.result
        share, mult, unit, dec = _unit(rec, res.outcome_type)
        out = ["# Hvem blev målt {#deltagere}\n"]
        out.append(
            f"Målgruppen er målt to gange. Tabellen viser antallet af personer ved hver måling og resultatet for "
            f"«{rec.indicator_label[0].lower() + rec.indicator_label[1:]}».\n"
        )
        g = res.tables.get("groups")
        if g is not None and len(g):
            col = "share" if "share" in g.columns else "mean"
            names = {str(res.diagnostics.get("baseline")): "Udgangspunkt", str(res.diagnostics.get("follow_up")): "Opfølgning"}
            rows = [(f"{names.get(str(r['group']), '')} ({period_label(r['group'])})".strip(),
                     DASH if is_missing(r["n"]) else fmt_int(r["n"]),
                     DASH if is_missing(r[col]) else fmt_number(float(r[col]) * mult, dec)) for _, r in g.iterrows()]
            head = "Andel (%)" if share else (f"Gennemsnit ({unit})" if unit else "Gennemsnit")
            out.append(md_table(["Måling", "Antal personer", head], rows))
        o = res.tables.get("overlap")
        if o is not None and len(o):
            c = _overlap_counts(o)
            out.append(f"Af personerne var {c('both')} med ved begge målinger, {c('baseline_only')} kun ved udgangspunktet "
                       f"(fx overgået til pension eller ude af målgruppen) og {c('follow_up_only')} kun ved opfølgningen "
                       "(nye i målgruppen). Personer, der er målt begge gange, indgår parvis i beregningen af ændringen.\n")
        if share and o is not None and o["measured"].astype(str).str.startswith("both_").any():
            c = _overlap_counts(o)
            col = ((rec.metric or {}).get("params") or {}).get("column")
            what = bundle.labels.get(col) if col else None
            what = what or rec.indicator_label
            out.append(f"Status for de {c('both')} personer, der var med begge gange (antal personer):\n")
            out.append(md_table([f"{what} ved udgangspunktet", "Ja ved opfølgningen", "Nej ved opfølgningen"], [
                ("Ja", c("both_baseline_1_follow_up_1"), c("both_baseline_1_follow_up_0")),
                ("Nej", c("both_baseline_0_follow_up_1"), c("both_baseline_0_follow_up_0")),
            ]))
        return "\n".join(out)

    def body(self, records, bundle, figures) -> str:
        """'Udvikling før og efter': levels, change and relative change for every before/after analysis."""
        out = ["# Udvikling før og efter {#foer-efter}\n"]
        out.append(
            "Tallene viser, hvordan målgruppen udviklede sig fra udgangspunktet til opfølgningen. Der er ingen "
            "sammenligningsgruppe (evidensniveau 1), så ændringen er ikke en effekt af projektet: den siger ikke noget om "
            "årsag, fordi den også kan skyldes fx konjunkturer, regler eller at målgruppen har ændret sig.\n"
        )
        rows = []
        levels = [result_level(a.result) for a in records]
        for a in records:
            res = a.result
            level = result_level(res)
            share, mult, unit, dec = _unit(a, res.outcome_type)
            d = res.diagnostics
            for e in res.estimates:
                if e.term == "baseline_level":
                    what, m, u = f"Udgangspunkt ({period_label(d.get('baseline'))})", mult, "%" if share else unit
                elif e.term == "follow_up_level":
                    what, m, u = f"Opfølgning ({period_label(d.get('follow_up'))})", mult, "%" if share else unit
                elif e.term == "change":
                    what, m, u = "Ændring", mult, unit
                    lv = {x.term: x for x in res.estimates}
                    b_, f_ = lv.get("baseline_level"), lv.get("follow_up_level")
                    if b_ is not None and f_ is not None and not is_missing(e.estimate) and not is_missing(b_.estimate) \
                            and not is_missing(f_.estimate):
                        shown = _shown_change(b_.estimate, f_.estimate, e, mult, dec)
                        ci = DASH if is_missing(e.ci_lower) else f"{fmt_ci(e.ci_lower * m, e.ci_upper * m, dec)} {u}".strip()
                        rows.append((a.indicator_label, what, f"{fmt_number(shown, dec)} {u}".strip(),
                                     ci_cell(ci, level, levels), fmt_int(e.n)))
                        continue
                elif e.term == "relative_change":
                    what, m, u = "Relativ ændring", 100.0, "%"
                else:
                    continue
                val = DASH if is_missing(e.estimate) else f"{fmt_number(e.estimate * m, dec)} {u}".strip()
                ci = DASH if is_missing(e.ci_lower) else f"{fmt_ci(e.ci_lower * m, e.ci_upper * m, dec)} {u}".strip()
                rows.append((a.indicator_label, what, val, ci_cell(ci, level, levels), fmt_int(e.n)))
        if len({r[0] for r in rows}) == 1:  # one indicator: name it once instead of in every row
            out.append(f"**{rows[0][0]}**\n")
            out.append(md_table(["Måling", "Værdi", ci_header(levels), "Antal personer"], [r[1:] for r in rows],
                                align="lrrr"))
        else:
            out.append(md_table(["Mål", "Måling", "Værdi", ci_header(levels), "Antal personer"], rows, align="llrrr"))
        out.append("Ændringen er opfølgning minus udgangspunkt; negative tal betyder et fald. Den relative ændring er "
                   "ændringen i procent af udgangspunktet.\n")
        return "\n".join(out)

    def caveats(self, records, bundle) -> list[str]:
        return [
            "- **Før/efter-målingen** har ingen sammenligningsgruppe (evidensniveau 1). Den viser, hvordan tallet udviklede "
            "sig i målgruppen, men siger ikke noget om årsag: udviklingen kan også skyldes konjunkturer, nye regler eller "
            "at målgruppen har ændret sammensætning. Den kan bruges til at følge op på målene, ikke til at vurdere effekt."
        ]

    def portfolio_headline(self, rec) -> str:
        res = rec.result
        t = {e.term: e for e in res.estimates}
        b, f, ch = t.get("baseline_level"), t.get("follow_up_level"), t.get("change")
        if any(x is None or is_missing(x.estimate) for x in (b, f, ch)):
            return "diskretioneret"
        share, mult, unit, dec = _unit(rec, res.outcome_type)
        lv = _levels(b.estimate, f.estimate, share, unit, ch, mult)
        verb = "faldt" if ch.estimate < 0 else "steg" if ch.estimate > 0 else "var uændret"
        ci = "" if is_missing(ch.ci_lower) else f"; ændring {fmt_ci(ch.ci_lower * mult, ch.ci_upper * mult, dec)} {unit}".rstrip()
        return f"{verb} fra {lv[0]} til {lv[1]}{ci}; før/efter uden sammenligningsgruppe, så ikke en effekt"


