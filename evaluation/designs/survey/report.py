"""The survey family's report parts: the Danish section for a brugermåling, its headline and method note.

The section only displays the bundle's survey records (see :mod:`evaluation.designs.survey.scoring`),
which are disclosure-controlled already: a hidden cell is ``None`` and printed as «–». The
markdown is the subset both pandoc and Quarto understand (pipe tables, fenced divs, images
as files).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from evaluation.designs.report import ReportParts
from evaluation.designs.survey.scoring import FIGURE_WIDTH, records_frame
from evaluation.presentation.formatting import (
    NBSP,
    fmt_ci,
    fmt_int,
    fmt_number,
    fmt_p,
    fmt_pct,
)
from evaluation.presentation.phrases import ci_label, common_level, level_pct

__all__ = ["SurveyReport", "survey_section", "survey_headlines"]

DASH = "–"


def _ci(sv: Mapping[str, Any]) -> str:
    """"95 %-sikkerhedsinterval" at the survey's own confidence level."""
    return ci_label(sv.get("conf_level", 0.95))
LOW_RESPONSE = 0.5
ALPHA_OK = 0.7


def _nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _cell(x: Any) -> str:
    s = DASH if _nan(x) else str(x)
    return s.replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str, caption: str | None = None,
           widths: Sequence[int] | None = None) -> str:
    """A pipe table; ``widths`` (relative, dashes in the separator line) set the column widths
    when the table is wider than a line, as pandoc and Quarto read them."""
    widths = list(widths) if widths else [3] * len(align)
    if widths and any(w != 3 for w in widths):
        # pandoc uses the dashes as relative widths only when a line is longer than --columns
        # (the renderer uses 1000), so the separator is stretched past that
        factor = max(1, math.ceil(1010 / sum(widths)))
        widths = [w * factor for w in widths]
    marks = [(":" + "-" * max(w, 3)) if a == "l" else ("-" * max(w, 3) + ":") if a == "r" else (":" + "-" * max(w, 3) + ":")
             for a, w in zip(align, widths)]
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "|".join(marks) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    out = "\n".join(lines) + "\n"
    if caption:
        out += f"\n: {caption}\n"
    return out


def _pct(x: Any) -> str:
    return DASH if _nan(x) else fmt_pct(x)


def _pct_ci(lo: Any, hi: Any) -> str:
    if _nan(lo) or _nan(hi):
        return DASH
    return f"{fmt_ci(lo * 100, hi * 100, 0)}{NBSP}%"


def _share_with_ci(e: Any, lo: Any, hi: Any) -> str:
    if _nan(e):
        return DASH
    return f"{fmt_pct(e)} ({fmt_ci(lo * 100, hi * 100, 0)})" if not _nan(lo) else fmt_pct(e)


def _est(result: Mapping[str, Any] | None, term: str | None = None) -> dict[str, Any] | None:
    if not result:
        return None
    for e in result["estimates"]:
        if term is None or e["term"] == term:
            return e
    return None


def _unit_label(b: Mapping[str, Any], column: str | None, value: Any) -> str:
    if column is None:
        return str(value)
    return str((b.get("value_labels") or {}).get(column, {}).get(str(value), value))


def _col_label(b: Mapping[str, Any], column: str | None, default: str) -> str:
    if not column:
        return default
    return (b.get("labels") or {}).get(column, column)


def _top_words(sv: Mapping[str, Any]) -> str:
    """«Ja, i høj grad» eller «Ja, i nogen grad» (the scale's top box, most positive first)."""
    labs = [c["label"] for c in sv["scale"]["categories"] if c["top_box"]][::-1]
    return _join([f"«{x}»" for x in labs], "eller")


def _join(parts: Sequence[str], word: str = "og") -> str:
    parts = list(parts)
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" {word} " + parts[-1]


def _anchor(sv: Mapping[str, Any], many: bool) -> str:
    return "brugermaaling" if not many else f"brugermaaling-{sv['id'].replace('_', '-')}"


def _quote_item(text: str, limit: int = 90) -> str:
    t = text.strip()
    if len(t) > limit:
        t = t[: limit - 1].rsplit(" ", 1)[0] + " …"
    return f"«{t}»"


# ---------------------------------------------------------------------------
# sub-sections
# ---------------------------------------------------------------------------


def _intro(b, sv) -> list[str]:
    out = []
    scale = sv["scale"]
    n_items = len(sv["items"])
    out.append(
        f"Borgerne besvarede {n_items} spørgsmål om mødet og samtalen med jobcentret. "
        f"I alt {fmt_int(sv['n_answers'])} spørgeskemaer kom retur. Spørgsmålene står i tabellen nedenfor.\n"
    )
    cats = sorted(scale["categories"], key=lambda c: c["code"], reverse=scale.get("higher_is_positive", True))
    scale_txt = "; ".join(f"{c['code']} = {c['label']}" for c in cats)
    miss = [m["label"] for m in scale.get("missing", [])] + [scale.get("blank_label", "Ikke besvaret")]
    out.append(
        f"**Svarskala:** {scale_txt}. Svarene {_join([f'«{m}»' for m in miss])} "
        "tælles som manglende svar og indgår ikke i andelene. "
        f"I rapporten kaldes {_top_words(sv)} under ét et *positivt svar*.\n"
    )
    return out


def _response(b, sv) -> list[str]:
    rr = sv.get("response_rate")
    if not rr:
        return ["## Svarprocent\n",
                "Der er ikke oplyst, hvor mange der fik spørgeskemaet, så svarprocenten kan ikke beregnes. "
                "Det betyder, at vi ikke ved, hvor godt de, der svarede, repræsenterer alle borgere.\n"]
    out = ["## Svarprocent\n"]
    e = rr["result"]["estimates"][0]
    out.append(
        f"{fmt_int(rr['answers'])} af {fmt_int(rr['planned'])} planlagte samtaler gav en besvarelse – en svarprocent på "
        f"{_pct(e['estimate'])} ({_ci(sv)} {_pct_ci(e['ci_lower'], e['ci_upper'])}).\n"
    )
    unit = sv.get("unit")
    t = records_frame(rr.get("by_unit"))
    if unit and len(t):
        rows = [(_unit_label(b, unit, r[unit]), fmt_int(r["planned"]), DASH if _nan(r["answers"]) else fmt_int(r["answers"]),
                 _pct(r["estimate"]), _pct_ci(r["ci_lower"], r["ci_upper"])) for _, r in t.iterrows()]
        rows.append(("**I alt**", f"**{fmt_int(rr['planned'])}**", f"**{fmt_int(rr['answers'])}**",
                     f"**{_pct(e['estimate'])}**", _pct_ci(e["ci_lower"], e["ci_upper"])))
        out.append(_table([_col_label(b, unit, "Enhed"), "Planlagte samtaler", "Besvarelser", "Svarprocent", _ci(sv)],
                          rows, "lrrrr", caption=_synthetic_caption(b, "Svarprocent i alt og for hver enhed")))
    low_total = not _nan(e["estimate"]) and e["estimate"] < LOW_RESPONSE + 0.005
    below = [_unit_label(b, unit, u) for u in rr.get("units_below", [])]
    if low_total or below:
        parts = []
        if low_total:
            parts.append(f"Kun omkring halvdelen af de planlagte samtaler gav en besvarelse ({_pct(e['estimate'])})."
                         if e["estimate"] >= 0.45 else
                         f"Kun {_pct(e['estimate'])} af de planlagte samtaler gav en besvarelse.")
        if below:
            rates = {str(r[unit]): r["estimate"] for _, r in t.iterrows()} if unit else {}
            listed = [f"{u} ({_pct(rates.get(str(u0)))})" for u, u0 in zip(below, rr.get("units_below", []))]
            parts.append(f"I {_join(listed)} svarede under halvdelen.")
        parts.append(
            "Hvis de, der ikke svarede, oplevede samtalen anderledes end dem, der svarede – fx fordi de var mere "
            "utilfredse eller havde travlt – kan andelene nedenfor være for høje eller for lave. Sikkerhedsintervallerne "
            "tager ikke højde for det; de viser kun den tilfældige usikkerhed blandt dem, der svarede."
        )
        out.append("::: {.callout-warning title=\"Frafald\"}\n" + " ".join(parts) + "\n:::\n")
    return out


def _chart(b, sv, figures) -> list[str]:
    key = f"survey_{sv['id']}"
    if key not in figures:
        return []
    hidden_any = any(records_frame(it["distribution"])["count"].isna().any() for it in sv["items"])
    out = ["## Svarfordeling\n",
           "Figuren viser, hvordan de gyldige svar fordeler sig på hvert spørgsmål. Negative svar står til venstre og "
           "positive til højre for den lodrette streg; «Både-og» er delt ligeligt på begge sider.\n"
           if sv["scale"].get("neutral") is not None else
           "Figuren viser, hvordan de gyldige svar fordeler sig på hvert spørgsmål (negative svar til venstre, positive til højre).\n",
           f"::: {{.figure-scroll}}\n![Svarfordeling for hvert spørgsmål (andel af gyldige svar)]({figures[key]})"
           f"{{width={FIGURE_WIDTH}in}}\n:::\n"]
    if hidden_any:
        out.append(f"Svarkategorier med færre end {b['disclosure']['threshold']} svar (og de celler, der skal skjules "
                   "sammen med dem) er udeladt af figuren og tabellerne.\n")
    return out


def _share_table(b, sv) -> list[str]:
    out = ["## Andel med et positivt svar\n",
           f"Tabellen viser for hvert spørgsmål andelen af de gyldige svar, der var {_top_words(sv)}, med "
           f"{_ci(sv)}, gennemsnittet på skalaen 1–5 (5 er mest positivt) og antallet af gyldige og manglende svar.\n"]
    rows = []
    for it in sv["items"]:
        e = _est(it["top_box"])
        m = _est(it["mean"])
        rows.append((it["text"], _pct(e["estimate"]), _pct_ci(e["ci_lower"], e["ci_upper"]),
                     DASH if _nan(m["estimate"]) else fmt_number(m["estimate"], 1),
                     DASH if it["n_valid"] is None else fmt_int(it["n_valid"]),
                     DASH if it["n_missing"] is None else fmt_int(it["n_missing"])))
    out.append(_table(["Spørgsmål", "Positivt svar", _ci(sv), "Gennemsnit (1–5)", "Gyldige svar", "Manglende svar"],
                      rows, "lrrrrr", caption=f"Andel, der svarede {_top_words(sv)}",
                      widths=[40, 10, 14, 11, 9, 10]))
    return out


def _by_unit(b, sv, figures) -> list[str]:
    unit = sv.get("unit")
    if not unit:
        return []
    units = sv["units"]
    ulab = _col_label(b, unit, "enhed")
    out = [f"## Forskelle mellem enhederne ({ulab.lower()})\n",
           f"Tabellen viser andelen med et positivt svar i hver enhed med {_ci(sv)} i parentes. "
           "«–» betyder, at tallet er skjult, fordi det bygger på for få personer eller ellers kunne regnes ud "
           "(diskretionering).\n"]
    heads = ["Spørgsmål"] + [_unit_label(b, unit, u) for u in units] + ["I alt"]
    rows = []
    n_row = ["*Gyldige svar (første spørgsmål)*"]
    for it in sv["items"]:
        t = records_frame(it["top_box_by_unit"])
        cells = []
        for u in units:
            r = t[t[unit] == u]
            cells.append(DASH if r.empty else _share_with_ci(r["estimate"].iloc[0], r["ci_lower"].iloc[0], r["ci_upper"].iloc[0]))
        e = _est(it["top_box"])
        rows.append([it["text"]] + cells + [_share_with_ci(e["estimate"], e["ci_lower"], e["ci_upper"])])
    first = records_frame(sv["items"][0]["top_box_by_unit"])
    for u in units:
        r = first[first[unit] == u]
        n_row.append(DASH if r.empty or _nan(r["n"].iloc[0]) else fmt_int(r["n"].iloc[0]))
    n_row.append(DASH if sv["items"][0]["n_valid"] is None else fmt_int(sv["items"][0]["n_valid"]))
    rows.append(n_row)
    out.append(_table(heads, rows, "l" + "r" * (len(units) + 1),
                      caption=_synthetic_caption(b, f"Andel med et positivt svar efter {ulab.lower()} ({_ci(sv)} i parentes)"),
                      widths=[30] + [12] * (len(units) + 1)))
    key = f"survey_{sv['id']}_units"
    if key in figures:
        syn = " (syntetiske data)" if b.get("synthetic") else ""
        out.append(f"::: {{.figure-scroll}}\n![Andel med et positivt svar efter {ulab.lower()} med {_ci(sv)}{syn}]({figures[key]})"
                   f"{{width={FIGURE_WIDTH}in}}\n:::\n")
    out += _comparisons(b, sv, "compare_units", unit, ulab)
    return out


def _comparisons(b, sv, key: str, col: str, col_label: str) -> list[str]:
    out = ["### Er forskellene større end tilfældigheder?\n" if key == "compare_units" else ""]
    rows, tested, not_tested = [], 0, []
    n_pairs = 0
    overall_sig = 0
    lower_count: dict[str, set] = {}
    for no, it in enumerate(sv["items"], start=1):
        c = it.get(key)
        if not c or not c.get("result"):
            not_tested.append(it["text"])
            continue
        tested += 1
        res = c["result"]
        chi = _est(res, "chi_square_top_box")
        if chi and not _nan(chi["p_value"]) and chi["p_value"] < 0.05:
            overall_sig += 1
        pw = records_frame(res["tables"].get("pairwise"))
        n_pairs = max(n_pairs, len(pw))
        for _, r in pw.iterrows():
            if _nan(r["p_value"]) or r["p_value"] >= 0.05:
                continue
            first_higher = r["difference"] > 0
            hi_u, lo_u = (r["unit_a"], r["unit_b"]) if first_higher else (r["unit_b"], r["unit_a"])
            hi_s, lo_s = (r["share_a"], r["share_b"]) if first_higher else (r["share_b"], r["share_a"])
            a, bnd = sorted([abs(r["ci_lower"]), abs(r["ci_upper"])])
            lower_count.setdefault(str(lo_u), set()).add(no)
            rows.append((f"{no}. {_quote_item(it['text'], 70)[1:-1]}",
                         f"{_unit_label(b, col, hi_u)} ({_pct(hi_s)})", f"{_unit_label(b, col, lo_u)} ({_pct(lo_s)})",
                         fmt_number(abs(r["difference"]) * 100, 0), fmt_ci(a * 100, bnd * 100, 0),
                         fmt_p(r["p_value"]).replace("p = ", "").replace("p ", "")))
    if tested == 0:
        out.append("Enhederne kan ikke sammenlignes, fordi for få af dem har tal, der kan vises.\n")
        return out
    out.append(
        f"For hvert spørgsmål er alle par af enheder sammenlignet ({n_pairs} sammenligninger pr. spørgsmål). "
        "Når man laver mange sammenligninger, vil nogle forskelle se store ud alene ved et tilfælde; derfor er "
        "p-værdierne korrigeret med Holms metode, og kun forskelle med en korrigeret p-værdi under 0,05 vises.\n"
    )
    if rows:
        out.append(_table(["Spørgsmål", "Højere andel", "Lavere andel", "Forskel (procentpoint)", _ci(sv), "p (Holm)"],
                          rows, "lllrrr", caption=_synthetic_caption(b, "Forskelle mellem enhederne, der er større end tilfældigheder let kan forklare"),
                          widths=[32, 17, 17, 12, 13, 9]))
        common = max(lower_count.items(), key=lambda kv: (len(kv[1]), kv[0]))
        if len(common[1]) >= max(2, tested // 2):
            out.append(
                (f"I de syntetiske data har {_unit_label(b, col, common[0])}" if b.get("synthetic") else
                 f"{_unit_label(b, col, common[0])} har")
                + f" en lavere andel positive svar end mindst én anden enhed på {len(common[1])} af {tested} spørgsmål. ")
        out.append(
            "For de øvrige par og spørgsmål kan forskellene skyldes tilfældigheder. "
            "Forskellene siger ikke i sig selv, at samtalerne er bedre i én enhed end i en anden: enhederne har forskellige "
            "målgrupper (fx ledighedslængde, helbred og alder) og forskellige svarprocenter, og det kan give forskellige svar.\n"
        )
    else:
        out.append(
            "Ingen af forskellene mellem enhederne er større, end tilfældigheder kan forklare, efter korrektion for "
            "de mange sammenligninger. Det betyder ikke, at enhederne er ens – kun at denne måling ikke kan vise en forskel.\n"
        )
    out.append(
        f"En samlet test (chi-i-anden) finder forskelle mellem enhederne i andelen med positive svar på {overall_sig} af "
        f"{tested} spørgsmål (p < 0,05, ikke korrigeret for, at der er flere spørgsmål).\n"
    )
    left = sorted({str(u) for it in sv["items"] for u in ((it.get(key) or {}).get("left_out") or [])})
    if left:
        out.append(f"Enheder, hvis tal er skjult for et spørgsmål, indgår ikke i sammenligningen af det spørgsmål "
                   f"({', '.join(_unit_label(b, col, u) for u in left)}).\n")
    if not_tested:
        out.append("Ikke sammenlignet (for få enheder med tal, der kan vises): "
                   + "; ".join(_quote_item(t) for t in not_tested) + ".\n")
    return out


def _waves(b, sv) -> list[str]:
    if not sv.get("wave"):
        return []
    wl = _col_label(b, sv["wave"], "måling")
    out = [f"## Udvikling over tid ({wl.lower()})\n"]
    rows = []
    waves = None
    for it in sv["items"]:
        c = it.get("compare_waves")
        if not c or not c.get("result"):
            continue
        u = records_frame(c["result"]["tables"]["units"])
        waves = waves or [w for w in u[sv["wave"]].tolist()]
        cells = []
        for w in waves:
            r = u[u[sv["wave"]] == w]
            cells.append(DASH if r.empty else _share_with_ci(r["estimate"].iloc[0], r["ci_lower"].iloc[0], r["ci_upper"].iloc[0]))
        rows.append([it["text"]] + cells)
    if waves:
        out.append(_table(["Spørgsmål"] + [_unit_label(b, sv["wave"], w) for w in waves], rows, "l" + "r" * len(waves),
                          caption=f"Andel med et positivt svar efter {wl.lower()}"))
    comp = _comparisons(b, sv, "compare_waves", sv["wave"], wl)
    out += [x for x in comp if x]
    return out


def _reliability(b, sv) -> list[str]:
    rel = sv.get("reliability")
    if not rel:
        return []
    out = ["## Samlet skala og pålidelighed\n"]
    e = _est(rel.get("alpha"))
    s = _est(rel.get("score"))
    k = len(rel["items"])
    if s and not _nan(s["estimate"]):
        out.append(
            f"Svarene på de {k} spørgsmål kan lægges sammen til én samlet score for hver borger (gennemsnittet af de "
            f"gyldige svar, 1–5). Den gennemsnitlige score var {fmt_number(s['estimate'], 2)} "
            f"({_ci(sv)} {fmt_ci(s['ci_lower'], s['ci_upper'], 2)}; {fmt_int(s['n'])} borgere).\n"
        )
    if e and not _nan(e["estimate"]):
        verdict = ("Det er over 0,7, som normalt regnes for tilstrækkeligt til at bruge den samlede score"
                   if e["estimate"] >= ALPHA_OK else
                   "Det er under 0,7, så spørgsmålene måler næppe det samme, og den samlede score bør bruges med forsigtighed")
        out.append(
            f"Cronbachs alfa, der måler, hvor godt spørgsmålene hænger sammen, er {fmt_number(e['estimate'], 2)} "
            f"({_ci(sv)} {fmt_ci(e['ci_lower'], e['ci_upper'], 2)}). {verdict}.\n"
        )
        items = records_frame(rel["alpha"]["tables"].get("items"))
        texts = {it["id"]: it["text"] for it in sv["items"]}
        neg = [r for _, r in items.iterrows() if not _nan(r["item_rest_correlation"]) and r["item_rest_correlation"] < 0]
        if neg:
            out.append(
                "**Obs:** Disse spørgsmål trækker i modsat retning af de øvrige (negativ sammenhæng med resten af skalaen); "
                "måske er de formuleret omvendt: "
                + "; ".join(f"{_quote_item(texts.get(r['item'], r['item']))} (r = {fmt_number(r['item_rest_correlation'], 2)})" for r in neg)
                + ".\n")
        else:
            lo = items.sort_values("item_rest_correlation").iloc[0] if len(items) else None
            if lo is not None:
                out.append(
                    f"Alle spørgsmål hænger positivt sammen med resten af skalaen; svagest er "
                    f"{_quote_item(texts.get(lo['item'], lo['item']))} (korrelation {fmt_number(lo['item_rest_correlation'], 2)}).\n")
    elif rel.get("alpha_error"):
        out.append("Cronbachs alfa kunne ikke beregnes for disse svar.\n")
    return out


def _weighted(b, sv) -> list[str]:
    items = [it for it in sv["items"] if it.get("weighted") and it["weighted"].get("result")]
    failed = [it for it in sv["items"] if it.get("weighted") and not it["weighted"].get("result")]
    if not items and not failed:
        return []
    cls = " og ".join(_col_label(b, c, c).lower() for c in sv.get("weighting_classes", []))
    out = ["## Vægtede andele\n",
           f"Svarprocenten var forskellig fra gruppe til gruppe ({cls}). Hvis grupper med lav svarprocent svarer anderledes "
           "end andre, kan de samlede andele blive skæve. I de vægtede andele tæller hver gruppe med sin andel af de "
           "planlagte samtaler i stedet for sin andel af besvarelserne.\n"]
    rows = []
    diffs = []
    for it in items:
        u, w = it["weighted"]["result"]["estimates"]
        rows.append((it["text"], _pct(u["estimate"]), _pct(w["estimate"]), _pct_ci(w["ci_lower"], w["ci_upper"])))
        if not _nan(u["estimate"]) and not _nan(w["estimate"]):
            diffs.append(abs(w["estimate"] - u["estimate"]))
    if rows:
        out.append(_table(["Spørgsmål", "Uvægtet", "Vægtet", f"{_ci(sv)} (vægtet)"], rows, "lrrr",
                          caption="Andel med et positivt svar, uvægtet og vægtet for frafald", widths=[55, 10, 10, 18]))
        if diffs:
            out.append(
                f"Vægtningen flytter andelene højst {fmt_number(max(diffs) * 100, 1)} procentpoint. "
                + ("Forskellene i svarprocent mellem grupperne ændrer altså ikke billedet. "
                   if max(diffs) < 0.02 else "Resultaterne afhænger altså noget af, hvem der svarede. ")
                + "Vægtningen retter kun for forskelle i svarprocent *mellem* grupperne – ikke for, at de, der svarede, "
                "kan være anderledes end dem, der ikke svarede, *inden for* den samme gruppe.\n")
    if failed:
        out.append("For " + "; ".join(_quote_item(it["text"]) for it in failed)
                   + " kunne der ikke vægtes, fordi mindst én gruppe havde planlagte samtaler, men ingen besvarelser.\n")
    return out


def _caveats(b, sv) -> list[str]:
    return [
        "## Forbehold ved brugermålingen\n",
        "- En brugermåling viser, hvordan borgerne oplevede samtalen. Den siger ikke noget om, hvorvidt samtalerne "
        "får flere i job eller uddannelse – det kræver en sammenligning med borgere, der ikke fik samtalen.\n"
        "- Resultaterne gælder dem, der svarede. Frafald kan trække andelene i begge retninger, og borgere, der er "
        "utilfredse, svarer ofte sjældnere.\n"
        "- Skemaet blev udleveret efter samtalen; nogle borgere kan have svaret mere positivt, end de mente, fordi "
        "medarbejderen var i nærheden, selv om besvarelsen var anonym.\n"
        "- Forskelle mellem enhederne kan skyldes forskellige målgrupper og ikke nødvendigvis forskellig kvalitet i samtalerne.\n"
        f"- Tal, der bygger på færre end {b['disclosure']['threshold']} personer, er skjult («–»).\n",
    ]


# ---------------------------------------------------------------------------
# the family's report parts
# ---------------------------------------------------------------------------


def _view(bundle) -> dict[str, Any]:
    """What the survey sections read of the bundle: labels, value labels and the disclosure threshold."""
    return {"labels": dict(bundle.labels), "value_labels": dict(bundle.value_labels), "disclosure": dict(bundle.disclosure),
            "synthetic": any(src.get("provenance") == "synthetic" for src in bundle.data_sources.values())}


def _synthetic_caption(b: Mapping[str, Any], caption: str) -> str:
    """A table naming real units (houses, jobcentres) carries the synthetic-data note in its own caption."""
    return f"{caption} – syntetiske data, ikke enhedernes faktiske resultater" if b.get("synthetic") else caption


def survey_section(b: Mapping[str, Any], surveys: Sequence[Mapping[str, Any]], figures: Mapping[str, str]) -> str:
    """The report section(s) for the given survey records (Danish markdown)."""
    figures = figures or {}
    many = len(surveys) > 1
    blocks = []
    for sv in surveys:
        title = sv.get("title") or "Brugermåling"
        out = [f"# {title} {{#{_anchor(sv, many)}}}\n"]
        out += _intro(b, sv)
        out.append(_table(["Nr.", "Spørgsmål"], [(str(i + 1), it["text"]) for i, it in enumerate(sv["items"])], "rl",
                          widths=[4, 90]))
        out += _response(b, sv)
        out += _chart(b, sv, figures)
        out += _share_table(b, sv)
        out += _by_unit(b, sv, figures)
        out += _waves(b, sv)
        out += _reliability(b, sv)
        out += _weighted(b, sv)
        out += _caveats(b, sv)
        blocks.append("\n".join(x for x in out if x))
    return "\n".join(blocks) + "\n"


def survey_headlines(sv: Mapping[str, Any]) -> list[str]:
    """One to three plain-Danish headline sentences for a survey (first item, range, response rate)."""
    lines: list[str] = []
    shown = [(it, _est(it["top_box"])) for it in sv["items"]]
    shown = [(it, e) for it, e in shown if e and not _nan(e["estimate"])]
    if not shown:
        return [f"{sv['title']}: resultaterne kan ikke vises, fordi de bygger på for få svar."]
    it, e = shown[0]
    first = (f"{_pct(e['estimate'])} af borgerne svarede {_top_words(sv)} på spørgsmålet {_quote_item(it['text'], 200)} "
             f"({_ci(sv)} {_pct_ci(e['ci_lower'], e['ci_upper'])})")
    rr = sv.get("response_rate")
    if rr:
        first += (f"; {fmt_int(rr['answers'])} af {fmt_int(rr['planned'])} planlagte samtaler gav et svar "
                  f"(svarprocent {_pct(rr['result']['estimates'][0]['estimate'])})")
    lines.append(first + ".")
    if len(shown) > 1:
        lo_it, lo_e = min(shown, key=lambda p: p[1]["estimate"])
        hi_it, hi_e = max(shown, key=lambda p: p[1]["estimate"])
        lines.append(
            f"På de {len(sv['items'])} spørgsmål svarede mellem {_pct(lo_e['estimate'])} og {_pct(hi_e['estimate'])} "
            f"positivt; lavest lå {_quote_item(lo_it['text'], 200)}. En brugermåling viser oplevelsen af samtalen, "
            "ikke om den får flere i job.")
    return lines


_METHOD_DA = {"share_top_box": "Andel med et positivt svar (Wilson-interval)",
              "response_rate": "Svarprocent (Wilson-interval)",
              "mean_scale_score": "Gennemsnitlig skalascore (t-interval)"}


class SurveyReport(ReportParts):
    body_slot = "after_subgroups"
    not_an_effect_da = "en brugermåling viser borgernes oplevelse, ikke en effekt"

    def shown_terms(self, result):
        return list(result.estimates)

    def term_label(self, term: str) -> str:
        return {"response_rate": "Svarprocent", "mean_scale_score": "Gennemsnitlig skalascore"}.get(term) or (
            "Andel med et positivt svar" if term.startswith("share_top_box") else super().term_label(term))

    def method_da(self, rec, e, labels):
        key = "share_top_box" if e.term.startswith("share_top_box") else e.term
        return _METHOD_DA.get(key) or self.term_label(e.term)

    def technical_rows(self, rec, bundle):
        sv = rec.result.survey
        items = {f"share_top_box_{it['id']}": it for it in sv.get("items", [])} if isinstance(sv, Mapping) else {}
        top = sorted(c["code"] for c in sv["scale"]["categories"] if c["top_box"]) if isinstance(sv, Mapping) and sv.get("scale") else []
        top_txt = f" (svar {top[0]}–{top[-1]})" if len(top) > 1 else (f" (svar {top[0]})" if top else "")
        rows = []
        n_items = sum(1 for e in rec.result.estimates if e.term in items)
        if n_items:
            rows.append((f"Andel med et positivt svar ({fmt_int(n_items)} spørgsmål)",
                         f"Andel af de gyldige svar i skalaens øverste kategorier{top_txt}; Wilson-interval"))
        for e in rec.result.estimates:
            if e.term == "response_rate":
                rows.append(("Svarprocent", "Besvarede spørgeskemaer divideret med planlagte samtaler; Wilson-interval"))
            elif e.term == "mean_scale_score":
                rows.append(("Gennemsnitlig skalascore", "Gennemsnit af hver borgers gyldige svar (mindst halvdelen af "
                             "spørgsmålene besvaret); t-interval"))
        return rows

    def headline(self, rec, bundle) -> str:
        return survey_headlines(rec.result.survey)[0]

    def headline_lines(self, rec, bundle) -> list[str]:
        return [f"- {line}" for line in survey_headlines(rec.result.survey)[:3]]

    def n_persons(self, rec) -> int | None:
        return rec.result.survey.get("n_answers")

    def n_participants(self, rec) -> int | None:
        return None  # respondents answer a questionnaire; they are not counted as the project's participants

    def n_comparison(self, rec) -> int | None:
        return None

    def summary_worked(self, rec, bundle, design_doubt: bool = False) -> str:
        sv = rec.result.survey
        shown = [(it, _est(it["top_box"])) for it in sv["items"]]
        shown = [(it, e) for it, e in shown if e and not _nan(e["estimate"])]
        if not shown:
            return "En brugermåling måler ikke effekt, og dens tal kan ikke vises (for få svar)."
        lo, hi = min(e["estimate"] for _, e in shown), max(e["estimate"] for _, e in shown)
        spread = (f"mellem {_pct(lo)} og {_pct(hi)} svarede positivt på de {len(shown)} spørgsmål" if len(shown) > 1
                  else f"{_pct(lo)} svarede positivt")
        return f"Det kan en brugermåling ikke sige: den viser borgernes oplevelse, ikke effekt. Her {spread}."

    def summary_certainty(self, rec, bundle) -> str:
        sv = rec.result.survey
        rr = sv.get("response_rate")
        parts = []
        if rr:
            e = rr["result"]["estimates"][0]
            parts.append(f"Svarprocent {_pct(e['estimate'])} ({fmt_int(rr['answers'])} af {fmt_int(rr['planned'])}); "
                         "svarer de øvrige anderledes, kan andelene være skæve.")
        else:
            parts.append("Svarprocenten er ukendt, så det vides ikke, hvor godt svarene repræsenterer alle.")
        parts.append("Intet evidensniveau for effekt: der er ingen sammenligningsgruppe.")
        return " ".join(parts)

    def participants(self, rec, bundle) -> str:
        return ""  # who answered is part of the survey's own section (response rate)

    def method_notes(self, records) -> list[str]:
        levels = [r.result.survey.get("conf_level", 0.95) for r in records]
        lvl = common_level(levels)
        cis = (ci_label(lvl, plural=True) if lvl is not None
               else "sikkerhedsintervaller på " + " og ".join(sorted({level_pct(x) for x in levels})) + "s niveau")
        return [
            f"**Spørgeskemaundersøgelse:** andele og gennemsnit er beskrivende tal for dem, der svarede, med {cis} "
            "(Wilson-interval for andele, t-interval for gennemsnit, Newcombe-interval for forskelle mellem enheder). "
            "En brugermåling har ingen sammenligningsgruppe og siger ikke noget om effekt (evidensniveau 1 for årsagssammenhænge).\n"
        ]

    def body(self, records, bundle, figures) -> str:
        return survey_section(_view(bundle), [r.result.survey for r in records], figures)

    def portfolio_headline(self, rec) -> str:
        sv = rec.result.survey
        shown = [(it, _est(it["top_box"])) for it in sv["items"]]
        shown = [(it, e) for it, e in shown if e and not _nan(e["estimate"])]
        if not shown:
            return "diskretioneret"
        it, e = shown[0]
        n = f"; {fmt_int(sv['n_answers'])} svar" if sv.get("n_answers") else ""
        return (f"{_pct(e['estimate'])} svarede positivt på {_quote_item(it['text'], 60)} "
                f"({_pct_ci(e['ci_lower'], e['ci_upper'])}){n}; en brugermåling, ikke en effektmåling")
