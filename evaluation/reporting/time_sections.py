"""The report's Danish sections on time and money: time to first self-support, the cumulative effect on weeks
on public support, and the business case (Økonomi), with the business case's line for the summary.

Everything is written from the bundle's numbers (the durations and cumulative effects of the analyses that
declare them, ``bundle.economy``); tests/claims.py checks that each sentence follows from them.
"""

from __future__ import annotations

from typing import Mapping

from evaluation.designs.family import get_family
from evaluation.presentation.formatting import NBSP, fmt_ci, fmt_dkk, fmt_int, fmt_number, fmt_p, fmt_pct, is_missing
from evaluation.presentation.markdown import DASH, md_table
from evaluation.presentation.phrases import ci_label, level_pct
from evaluation.results import AnalysisRecord, Bundle, Estimate

__all__ = ["effects_time_sections", "economy_section", "economy_summary_line", "economy_summary_text", "horizon_text",
           "round_kr",
           "PROBABILITY_NOTE_DA"]

PROBABILITY_NOTE_DA = ("Sandsynligheden er regnet ud fra effektens usikkerhed (dens fordeling, som sikkerhedsintervallet "
                       "bygger på), som om alle mulige effekter var lige sandsynlige på forhånd")
PERSPECTIVE_DA = {
    "offentlig": "offentligt perspektiv: de udbetalte ydelser, uanset hvem der betaler dem",
    "kommunal": "kommunalt perspektiv: kommunens andel af ydelserne efter statsrefusion (refusionstrappen fra 2016)",
}


def horizon_text(weeks: int) -> str:
    """"52 uger (1 år)", "104 uger (2 år)", "78 uger"."""
    return f"{weeks} uger" + (f" ({weeks // 52} år)" if weeks % 52 == 0 else "")


def round_kr(x: float, step: int = 1000) -> float:
    """Totals in kroner are shown rounded to whole thousands (the estimate is not more precise than that)."""
    return float(round(x / step) * step)


def _w(x: float, dec: int = 1) -> str:
    return fmt_number(x, dec)


def _est(res, term: str) -> Estimate | None:
    return next((e for e in res.estimates if e.term == term), None)


def _names(rec: AnalysisRecord) -> tuple[str, str, str]:
    fam = get_family(rec.design)
    who = "interventionsgruppen" if fam.random_assignment else "deltagerne"
    than = fam.report.control_name()
    start = "lodtrækningen" if fam.random_assignment else "start"
    return who, than, start


def dir_ci(lo: float, hi: float, neg: str, pos: str, unit: str = "uger", dec: int = 1) -> str:
    """An interval of a signed difference in words: "1,2–5,4 uger kortere", or "fra 1,0 uger kortere til 2,0 uger
    længere" when it holds zero."""
    if is_missing(lo) or is_missing(hi):
        return DASH
    if hi <= 0:
        return f"{fmt_ci(abs(hi), abs(lo), dec)} {unit} {neg}"
    if lo >= 0:
        return f"{fmt_ci(lo, hi, dec)} {unit} {pos}"
    return f"fra {fmt_number(abs(lo), dec)} {unit} {neg} til {fmt_number(hi, dec)} {unit} {pos}"


def _group_name(rec: AnalysisRecord, which: str) -> str:
    """The Danish name of a compared group in table headings (designs without two labelled groups, such as
    difference in differences, compare participants with a comparison group)."""
    from evaluation.designs.report import CONTROL_DA, TREATED_DA

    fam = get_family(rec.design)
    spec = fam.groups(fam.Options(**rec.options))
    if spec is None:
        return TREATED_DA if which == "treated" else CONTROL_DA[fam.random_assignment]
    names = fam.report.group_names(rec)
    return names.get(str(spec.treated if which == "treated" else spec.control), which)


def _ci(e: Estimate, mult: float = 1.0, dec: int = 1) -> str:
    if is_missing(e.ci_lower):
        return DASH
    return fmt_ci(e.ci_lower * mult, e.ci_upper * mult, dec)


# ---------------------------------------------------------------------------------------------- durations
def _duration_section(rec: AnalysisRecord, figures: Mapping[str, str], threshold: int, several: bool = False) -> str:
    res = rec.duration
    lvl = res.conf_level
    cil = ci_label(lvl)  # the interval's name at the analysis's level
    who, than, start = _names(rec)
    d = res.diagnostics
    m = int(d.get("min_weeks", 1))
    spell = "mindst én uge" if m == 1 else f"mindst {m} sammenhængende uger"
    fam = get_family(rec.design)
    out = ["## Tid til første selvforsørgelse" + (f" ({fam.short_da or rec.design})" if several else "") + "\n"]
    out.append(
        f"Figuren viser, hvor stor en andel af hver gruppe der har været selvforsørgende ({spell} uden "
        f"offentlig ydelse), efterhånden som ugerne går efter {start} (Kaplan–Meier). Det skraverede område er det punktvise "
        f"{cil}; de prikkede linjer er et samtidigt bånd, der med {level_pct(lvl)} sikkerhed rummer hele "
        "kurven på én gang. Personer, der udvandrer, dør eller ikke kan følges længere i registret, tæller med, så længe "
        f"de kan følges. Af hensyn til diskretionen er kurverne kun vist i de uger, hvor mindst {threshold} personer i "
        "gruppen er blevet selvforsørgende siden den forrige viste uge; ind imellem er de tegnet vandrette. I de viste "
        "uger er tallene de præcise Kaplan–Meier-skøn, og tabellen og hazard ratio nedenfor bygger på alle ugerne.\n"
    )
    if d.get("weights"):
        out.append("Sammenligningsgruppen er vægtet med designets endelige vægte; vægtene behandles som kendte i "
                   "usikkerheden på kurverne.\n")
    key = f"duration_{rec.id}"
    if key in figures:
        out.append(f"![Andel, der har været selvforsørgende, efter antal uger siden {start}]({figures[key]}){{width=90%}}\n")
    rows, sentences = [], []
    for h in d.get("horizons", []):
        e = _est(res, f"rmst_difference_h{h}")
        ti, tc = _est(res, f"mean_rmst_intervention_h{h}"), _est(res, f"mean_rmst_control_h{h}")
        if e is None or is_missing(e.estimate):
            continue
        rows.append((horizon_text(h), _w(ti.estimate), _w(tc.estimate), _w(e.estimate), _ci(e), fmt_p(e.p_value)))
        shorter = e.estimate < 0
        word = "kortere" if shorter else "længere"
        if abs(e.estimate) < 0.05:
            core = f"Inden for de første {h} uger var tiden til første selvforsørgelse i gennemsnit den samme i begge grupper"
        else:
            core = (f"Inden for de første {h} uger gik der i gennemsnit {_w(abs(e.estimate))} uger {word} tid, før "
                    f"{who} blev selvforsørgende første gang, end i {than}")
        sig = "" if is_missing(e.ci_lower) else (
            " Forskellen kan skyldes tilfældigheder." if e.ci_lower <= 0 <= e.ci_upper else "")
        sentences.append(f"{core} ({cil} {dir_ci(e.ci_lower, e.ci_upper, 'kortere', 'længere')}).{sig}")
    if rows:
        out.append(
            "**Tid til første selvforsørgelse inden for horisonten.** Tabellen viser det gennemsnitlige antal uger, "
            "før personerne blev selvforsørgende første gang, når tiden højst tælles til horisonten (restricted mean "
            f"survival time, RMST). Et negativt tal betyder, at {who} blev selvforsørgende hurtigere.\n")
        out.append(md_table(["Horisont", f"{_group_name(rec, 'treated')} (uger)", f"{_group_name(rec, 'control')} (uger)",
                             "Forskel (uger)", cil, "p-værdi"], rows, align="lrrrrr"))
        out.append(" ".join(sentences) + "\n")
    hr = _est(res, "hazard_ratio")
    if hr is not None and not is_missing(hr.estimate):
        out.append(
            f"**Hazard ratio (Cox):** Den ugentlige chance for at blive selvforsørgende var {fmt_number(hr.estimate, 2)} gange "
            f"så stor for {who} som for {than} ({cil} {fmt_ci(hr.ci_lower, hr.ci_upper, 2)}; {fmt_p(hr.p_value)}). "
            "Tallet forudsætter, at forholdet er det samme i hele perioden (proportionale hazards); forskellen i tid "
            "ovenfor (RMST) forudsætter det ikke.\n")
    comp = res.tables.get("competing")
    if comp is not None and len(comp):
        labels = d.get("cause_labels", {})
        out.append("## Første afgang fra offentlig forsørgelse\n")
        out.append(
            "Nogle forlader kontanthjælpen til selvforsørgelse, andre til fleksjob eller førtidspension eller til "
            "uddannelse. Figuren viser den første afgang af hver slags (kumuleret incidens efter Aalen–Johansen): den, "
            "der først kommer i fleksjob, tæller ikke som selvforsørgende, og omvendt. Årsager, som ingen nåede, "
            f"er udeladt. Af hensyn til diskretionen er kurverne kun vist i de uger, hvor mindst {threshold} personer "
            "i gruppen har haft denne afgang siden den forrige viste uge; ind imellem er de tegnet vandrette, og en "
            "horisont, hvor det ikke er muligt, står som «–» i tabellen.\n")
        key = f"competing_{rec.id}"
        if key in figures:
            out.append(f"![Første afgang fra offentlig forsørgelse efter årsag]({figures[key]}){{width=90%}}\n")
        rows = []
        for h in d.get("horizons", []):
            for cause in dict.fromkeys(comp["cause"]):
                e = _est(res, f"cif_difference_{cause}_h{h}")
                part = comp[(comp["cause"] == cause) & (comp["week"] == h)]
                if e is None or len(part) != 2:
                    continue
                vi, vc = (part.iloc[0]["cumulative_incidence"], part.iloc[1]["cumulative_incidence"])
                rows.append((labels.get(cause, cause), horizon_text(h),
                             DASH if is_missing(vi) else fmt_pct(vi, 1), DASH if is_missing(vc) else fmt_pct(vc, 1),
                             DASH if is_missing(e.estimate) else fmt_number(e.estimate * 100, 1), _ci(e, 100, 1)))
        if rows:
            out.append(md_table(["Første afgang", "Horisont", _group_name(rec, "treated"), _group_name(rec, "control"),
                                 "Forskel (procentpoint)", cil], rows, align="llrrrr"))
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- cumulative
def _cumulative_section(rec: AnalysisRecord, figures: Mapping[str, str], several: bool = False,
                        explain: bool = True) -> str:
    res = rec.cumulative
    lvl = res.conf_level
    cil = ci_label(lvl)  # the interval's name at the analysis's level
    who, than, start = _names(rec)
    d = res.diagnostics
    fam = get_family(rec.design)
    out = ["## Kumuleret effekt på uger på offentlig forsørgelse" + (f" ({fam.short_da or rec.design})" if several else "") + "\n"]
    per_period = get_family(rec.design).time_mode == "period"
    out.append(
        f"Figuren viser forskellen i antal uger på offentlig forsørgelse mellem {who} og {than}, lagt sammen uge for uge "
        f"fra {start}" + (" (kvartal for kvartal fra det kvartal, personen startede i)" if per_period else "") +
        (". Sikkerhedsintervallerne bruger den fælles usikkerhed på de ugentlige effekter – at en god uge ofte følges af "
         "en god uge – og ikke summen af uafhængige usikkerheder. Det skraverede område er punktvist, de prikkede linjer "
         "et samtidigt bånd for hele kurven. Uger efter død eller udvandring tæller som uger uden ydelse.\n" if explain
         else " (figur og intervaller som ved den første kumulerede effekt ovenfor).\n"))
    curve = res.tables.get("curve")
    if curve is not None and curve["estimate"].isna().any() and curve["estimate"].notna().any():
        out.append("Af hensyn til diskretionen springer kurven de uger over, hvor forskellen fra den forrige viste uge "
                   "ville vise, hvor få personer der var på eller uden for offentlig forsørgelse (typisk de første "
                   "uger).\n")
    key = f"cumulative_{rec.id}"
    if key in figures:
        out.append(f"![Kumuleret effekt på uger på offentlig forsørgelse]({figures[key]}){{width=90%}}\n")
    rows, sentences = [], []
    for h in d.get("horizons", []):
        e = _est(res, f"cumulative_weeks_h{h}")
        if e is None or is_missing(e.estimate):
            continue
        ti, tc = _est(res, f"mean_weeks_intervention_h{h}"), _est(res, f"mean_weeks_control_h{h}")
        rows.append((horizon_text(h), DASH if ti is None else _w(ti.estimate), DASH if tc is None else _w(tc.estimate),
                     _w(e.estimate), _ci(e), fmt_p(e.p_value)))
        word = "færre" if e.estimate < 0 else "flere"
        sentences.append(f"Over de første {horizon_text(h)} var {who} i alt {_w(abs(e.estimate))} uger {word} på "
                         f"offentlig forsørgelse end {than} ({cil} {dir_ci(e.ci_lower, e.ci_upper, 'færre', 'flere')}).")
    if rows:
        header = ["Horisont", f"{_group_name(rec, 'treated')} (uger)", f"{_group_name(rec, 'control')} (uger)",
                  "Forskel (uger)", cil, "p-værdi"]
        align = "lrrrrr"
        if all(r[1] == DASH and r[2] == DASH for r in rows):
            # Period designs (DiD) estimate the difference only; the group means do not exist, so their columns go.
            header, align = [header[0], *header[3:]], "lrrr"
            rows = [(r[0], *r[3:]) for r in rows]
        out.append(md_table(header, rows, align=align))
        out.append(" ".join(sentences) + "\n")
    if d.get("horizons_not_available"):
        out.append("Horisonter, som registret ikke dækker for alle: " +
                   ", ".join(horizon_text(h) for h in d["horizons_not_available"]) + ".\n")
    pl = next((e for e in res.estimates if e.term.startswith("placebo_cumulative")), None)
    if pl is not None and not is_missing(pl.estimate):
        weeks = d.get("placebo_weeks", 52)
        crosses = pl.ci_lower <= 0 <= pl.ci_upper
        tag = f" ({fam.short_da or fam.label_da})" if several else ""
        verdict = (f"Der var ingen sikker forskel før start{tag}, som forventet, hvis grupperne var sammenlignelige."
                   if crosses else f"Grupperne adskilte sig allerede før start{tag}; effekten ovenfor skal læses med forsigtighed.")
        how = "; uden justering for baggrundsforhold" if get_family(rec.design).random_assignment else ""
        what = ("summen af forskellene fra periode til periode i uger på offentlig forsørgelse" if per_period else
                "forskellen i uger på offentlig forsørgelse")
        out.append(f"**Placebotest:** I de {weeks} uger før {start} var {what} {_w(pl.estimate)} uger "
                   f"({cil} {_ci(pl)} uger{how}). {verdict}\n")
    return "\n".join(out)


def effects_time_sections(b: Bundle, figures: Mapping[str, str]) -> str:
    """The duration and cumulative-effect subsections of the report's effects section (empty when none declared)."""
    out = []
    n_dur = sum(1 for r in b.analyses if r.duration is not None)
    n_cum = sum(1 for r in b.analyses if r.cumulative is not None)
    explained = False
    for rec in b.analyses:
        if rec.duration is not None and "km" in rec.duration.tables:
            out.append(_duration_section(rec, figures, b.threshold, several=n_dur > 1))
        if rec.cumulative is not None and "curve" in rec.cumulative.tables:
            out.append(_cumulative_section(rec, figures, several=n_cum > 1, explain=not explained))
            explained = True
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- economy
def _kr(x: float) -> str:
    return fmt_dkk(x)


def _kr_ci(ci) -> str:
    return fmt_ci(ci[0], ci[1], 0) + f"{NBSP}kr."


def _kr_total(x: float) -> str:
    return fmt_dkk(round_kr(x))


def _kr_total_ci(ci) -> str:
    return fmt_ci(round_kr(ci[0]), round_kr(ci[1]), 0) + f"{NBSP}kr."


def _p_text(p: float) -> str:
    """The probability in whole per cent; below 0.5 % "under 1 %" and from 99.5 % "over 99 %", zero and one
    included, so every table and sentence writes the same kind of number the same way (a probability computed
    as exactly 0 -- a tail beyond floating point, or no uncertainty -- printed "0 %" in the sensitivity table
    where the main table said "under 1 %")."""
    v = 100 * p
    if v < 0.5:
        return f"under 1{NBSP}%"
    if v >= 99.5:
        return f"over 99{NBSP}%"
    return f"{fmt_number(v, 0)}{NBSP}%"


def economy_summary_line(b: Bundle) -> str | None:
    """One line for the report's summary: what the project saved (or cost) in benefits per participant over the
    longest horizon, the net result per participant and the probability that it paid for itself."""
    text = economy_summary_text(b)
    return None if text is None else "**Økonomi:** " + text


def economy_summary_text(b: Bundle) -> str | None:
    """The summary line's sentence without its label (the "Kort fortalt" box's *Betaler det sig?*)."""
    e = b.economy
    if not e:
        return None
    bc = e["business_case"]
    cil = ci_label(bc.get("conf_level", 0.95))  # the intervals' name at the business case's level
    hs = sorted(int(h) for h in bc["horizons"])
    if not hs:
        return None
    h = hs[-1]
    r = bc["horizons"][h] if h in bc["horizons"] else bc["horizons"][str(h)]
    saved = r["saved_per_participant"]
    verb = "sparede" if saved >= 0 else "kostede"
    line = (f"Over {horizon_text(h)} {verb} projektet det offentlige {_kr(abs(saved))} i ydelser pr. deltager "
            f"({cil} {_kr_ci(r['saved_per_participant_ci'])} sparet)")
    if "net" in r:
        line += (f"; med en pris på {_kr(bc['cost_per_participant'])} pr. deltager er nettoresultatet "
                 f"{_kr(r['net_per_participant'])} pr. deltager ({_kr_ci(r['net_per_participant_ci'])}), og sandsynligheden "
                 f"for, at projektet har betalt sig, er {_p_text(r['p_pays'])}.")
    else:
        line += f". Projektets pris er ikke oplyst; det betaler sig, hvis det koster under {_kr(max(saved, 0))} pr. deltager."
    return line


def economy_section(b: Bundle) -> str:
    """"Økonomi": the business case from ``bundle.economy``."""
    e = b.economy
    bc = e["business_case"]
    cil = ci_label(bc.get("conf_level", 0.95))  # the intervals' name at the business case's level
    rec = b.analysis(e["analysis"])
    fam = get_family(rec.design)
    who, than, start = _names(rec)
    n = bc["n_participants"]
    hs = sorted(int(h) for h in bc["horizons"])
    H = {int(k): v for k, v in bc["horizons"].items()}
    out = ["# Økonomi {#oekonomi}\n"]
    out.append(
        "Business casen sætter de offentlige udgifter til ydelser, som projektet sparede (eller kostede), op mod "
        f"projektets pris ({PERSPECTIVE_DA[e['perspective']]}). Udgifterne er regnet uge for uge for hver person: den "
        f"ydelse, personen fik den uge, gange satsen for ydelsen i det år (satstabel {e['rates_version']}, "
        f"{e['rates_file']}; satsen for en enlig over 30 år uden børn). Effekten kommer fra samme sammenligning som "
        f"analysen «{rec.indicator_label}» ({fam.short_da or rec.design}), og usikkerheden på effekten føres direkte "
        "igennem til nettoresultatet. Kun ydelserne tælles med: ikke administration, skat af lønindkomst eller "
        "andre gevinster ved beskæftigelse.\n")
    cost = bc.get("cost")
    if cost is not None:
        src = f" ({e['cost_source']})" if e.get("cost_source") else ""
        out.append(f"**Projektets pris:** {_kr(cost)}{src}, dvs. {_kr(bc['cost_per_participant'])} pr. deltager "
                   f"({fmt_int(n)} deltagere).\n")
    else:
        out.append(f"**Projektets pris er ikke oplyst.** Tabellen viser derfor de sparede udgifter ({fmt_int(n)} deltagere) "
                   "og ikke et nettoresultat.\n")
    rows = []
    for h in hs:
        r = H[h]
        row = [horizon_text(h), _w(r["saved_weeks_per_participant"]), _kr(r["saved_per_participant"]),
               _kr_ci(r["saved_per_participant_ci"])]
        if cost is not None:
            row += [_kr(r["net_per_participant"]), _kr_ci(r["net_per_participant_ci"]), _p_text(r["p_pays"])]
        rows.append(tuple(row))
    head = ["Horisont", "Sparede uger pr. deltager", "Sparede udgifter pr. deltager", cil]
    if cost is not None:
        head += ["Nettoresultat pr. deltager", cil, "Sandsynlighed for at betale sig"]
    out.append(md_table(head, rows, align="l" + "r" * (len(head) - 1)))
    out.append("Positive tal er besparelser. Negative sparede udgifter betyder, at deltagerne kostede mere i ydelser "
               f"end {than}.\n")
    h = hs[-1]
    r = H[h]
    lines = []
    saved = r["saved_per_participant"]
    verb = "sparede" if saved >= 0 else "kostede"
    lines.append(f"Over {horizon_text(h)} {verb} projektet i alt {_kr_total(abs(r['saved_total']))} i ydelser "
                 f"({cil} {_kr_total_ci(r['saved_total_ci'])} sparet; afrundet til hele 1.000 kr.).")
    if cost is not None:
        pays = r["net_ci"][0] > 0
        loses = r["net_ci"][1] < 0
        verdict = ("Projektet har med stor sikkerhed betalt sig." if pays else
                   "Projektet har med stor sikkerhed ikke betalt sig på ydelserne alene." if loses else
                   "Det kan ikke afgøres, om projektet har betalt sig.")
        lines.append(f"Nettoresultatet er {_kr_total(r['net'])} ({cil} {_kr_total_ci(r['net_ci'])}). {verdict} "
                     f"Sandsynligheden for, at projektet har betalt sig, er {_p_text(r['p_pays'])}. {PROBABILITY_NOTE_DA}.")
        if r.get("break_even_weeks_per_participant") is not None and r.get("price_per_week"):
            lines.append(f"**Break-even:** For at betale sig skulle hver deltager spare "
                         f"{_w(r['break_even_weeks_per_participant'])} uger på offentlig forsørgelse inden for {h} uger, "
                         f"når en uge i gennemsnit koster {_kr(r['price_per_week'])} (gennemsnittet i {than}). "
                         f"Deltagerne sparede {_w(r['saved_weeks_per_participant'])} uger ({cil} "
                         f"{fmt_ci(*r['saved_weeks_per_participant_ci'], 1)} uger).")
        if r.get("cost_per_saved_week") is not None:
            ci = r.get("cost_per_saved_week_ci")
            lines.append(f"**Pris pr. sparet uge:** {_kr(r['cost_per_saved_week'])}" +
                         (f" ({cil} {_kr_ci(ci)})." if ci else "; sikkerhedsintervallet for de sparede uger rummer 0, "
                          "så prisen har ingen øvre grænse."))
    out.append(" ".join(lines) + "\n")
    # fewer weeks, but a dearer mix of benefits
    dearer = [x["label"] for x in e.get("breakdown", []) if x["horizon"] == h and x["kroner"] > 0]
    price = r.get("price_per_week")
    if r["saved_weeks_per_participant"] > 0 and saved < 0:
        out.append("Deltagerne var færre uger på offentlig forsørgelse, men flere af ugerne var på dyrere ydelser"
                   + (f" ({', '.join(dearer)})" if dearer else "") + ", så udgifterne steg.\n")
    elif price and r["saved_weeks_per_participant"] > 0 and dearer and \
            saved < 0.9 * r["saved_weeks_per_participant"] * price:
        out.append(f"Udgifterne faldt mindre, end de sparede uger alene tilsiger ({_w(r['saved_weeks_per_participant'])} uger "
                   f"à {_kr(price)}), fordi flere af deltagernes uger var på dyrere ydelser ({', '.join(dearer)}).\n")
    bd = [x for x in e.get("breakdown", []) if x["horizon"] == h]
    if bd:
        out.append(f"## Fordelt på ydelser over {horizon_text(h)}\n")
        rows = [(x["label"], _w(x["weeks"]), fmt_ci(*x["weeks_ci"], 1), _kr(x["kroner"]), _kr_ci(x["kroner_ci"])) for x in bd]
        out.append(md_table(["Ydelse", "Forskel i uger pr. deltager", cil,
                             "Forskel i udgifter pr. deltager", cil], rows, align="lrrrr"))
        note = "Negative tal er færre uger og lavere udgifter hos deltagerne."
        if e.get("pooled_types"):
            note += (" Ydelser, som færre end " + fmt_int(b.threshold) + " personer i en gruppe fik, er ikke vist hver for "
                     "sig, men indgår i totalen.")
        out.append(note + "\n")
    sens = bc.get("sensitivity") or []
    if sens and cost is not None:
        out.append("## Følsomhed over for satser og horisont\n")
        factors = sorted({s["rate_factor"] for s in sens})
        rows = []
        for hh in hs:
            row = [horizon_text(hh)]
            for f in factors:
                s = next(x for x in sens if x["horizon"] == hh and x["rate_factor"] == f)
                row.append(f"{_kr_total(s['net'])} ({_p_text(s['p_pays'])})")
            rows.append(tuple(row))
        out.append(md_table(["Horisont"] + [f"Satser {fmt_number(100 * f, 0)}{NBSP}%" for f in factors], rows,
                            align="l" + "r" * len(factors)))
        out.append("Nettoresultat i alt (afrundet til hele 1.000 kr.) og i parentes sandsynligheden for, at projektet har "
                   "betalt sig, når alle satser er lavere eller højere end i satstabellen.\n")
    # rates used
    rates = e.get("rates") or []
    if rates:
        out.append("## Satser\n")
        out.append("Satserne, der er brugt for de år, deltagerne og sammenligningsgruppen blev fulgt. En måned er 52/12 uger, "
                   "en dag en femtedel af en uge.\n")
        grouped: dict[tuple, list[int]] = {}
        info: dict[tuple, dict] = {}
        for x in rates:
            k = (x["label"], x["year_used"])
            grouped.setdefault(k, []).append(int(x["year"]))
            info[k] = x
        rows = []
        for (label, used), years in sorted(grouped.items()):
            years = sorted(years)
            span = str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
            x = info[(label, used)]
            applied = span if years == [used] else f"{span} (satsen for {used})"
            rows.append((label, applied, fmt_dkk(x["weekly"]), "Ja" if x["verified"] else "Nej", x["source"]))
        out.append(md_table(["Ydelse", "År", "Pr. uge", "Verificeret", "Kilde"], rows, align="llrll"))
        notes = []
        if e.get("substituted"):
            notes.append("For år uden en offentliggjort sats i tabellen er satsen fra det nærmeste år brugt (markeret ovenfor).")
        if e.get("unverified"):
            notes.append("Satser markeret «Nej» er ikke kontrolleret mod en officiel offentliggørelse for ydelsen og året "
                         "(sekundær kilde eller samme lovbestemte niveau som en anden ydelse); de bør efterprøves.")
        if e.get("unpriced"):
            notes.append("Ydelser uden sats i tabellen er ikke prissat (0 kr.): " + ", ".join(e["unpriced"]) + ".")
        if notes:
            out.append(" ".join(notes) + "\n")
    return "\n".join(out)
