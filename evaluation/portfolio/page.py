"""The portfolio page: every study with a results bundle, its headline, evidence level and goals.

It reads only the (disclosure-controlled) bundles, like the study reports.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping

from evaluation.designs.family import get_family
from evaluation.exceptions import EvaluationError, StaleReportError
from evaluation.portfolio.catalogue import link_studies, load_catalogue
from evaluation.presentation.formatting import fmt_date, fmt_dkk, fmt_int, fmt_pct
from evaluation.presentation.markdown import md_table
from evaluation.presentation.phrases import ci_cell, ci_header, ci_label, common_level, result_level, scale_for
from evaluation.reporting.dates import report_date
from evaluation.reporting.quarto import QUARTO_YML, made_from
from evaluation.reporting.summary import (
    PROVENANCE_DA,
    business_case_week_price,
    effect_cost,
    is_synthetic,
    summary_record,
    synthetic_parts,
)
from evaluation.reporting.targets import counts_sentence
from evaluation.reporting.render import render_project
from evaluation.results import AnalysisRecord, Bundle, bundle_fingerprint, load_bundle, output_lock, replace_dir

_SLUG = re.compile(r"[a-z0-9][a-z0-9\-]*")

__all__ = ["build_portfolio", "write_portfolio_project", "portfolio_markdown", "collect_bundles", "mechanism_evidence",
           "mechanism_evidence_section"]


def collect_bundles(results_root: str | Path) -> list[Bundle]:
    """All bundles under ``results_root``, sorted by study id (hidden staging folders are not read)."""
    root = Path(results_root)
    bundles = [load_bundle(p) for p in sorted(root.glob("*/results.json")) if not p.parent.name.startswith(".")]
    if not bundles:
        raise EvaluationError(f"no results bundles under {root}/; run 'evaluation run --all' (or 'evaluation report --all') first")
    return bundles


def _head_record(b: Bundle) -> AnalysisRecord | None:
    """The analysis whose result heads the study on the portfolio (None for a study without analyses)."""
    heads = b.headline_analyses() or list(b.analyses[:1])
    return heads[0] if heads else None


def _headline(b: Bundle) -> tuple[str, str, int | None]:
    a = _head_record(b)
    if a is None:
        return "Ingen effektmåling", "–", None
    fam = get_family(a.design)
    res = a.result
    e = fam.main_term(res)
    if e.estimate is None or math.isnan(e.estimate):
        return a.indicator_label, "diskretioneret", res.evidence_level
    return a.indicator_label, fam.report.portfolio_headline(a), res.evidence_level


def _counts(b: Bundle) -> tuple[int | None, int | None]:
    """Participants and comparison persons of the study's summary analysis, counted apart (a comparison group is
    not participants)."""
    rec = summary_record(b)
    if rec is None:
        return None, None
    parts = get_family(rec.design).report
    return parts.n_participants(rec), parts.n_comparison(rec)


def _provenance_text(b: Bundle) -> str:
    """Where the study's numbers come from, for its card."""
    synthetic = synthetic_parts(b, files=True)
    if synthetic:
        return "Syntetiske data: " + ", ".join(synthetic) + " – ikke projektets faktiske resultater"
    kinds = {s.get("provenance") for s in b.data_sources.values()}
    kinds |= {(t.result.diagnostics or {}).get("provenance") for t in b.targets}
    kinds.discard(None)
    text = ", ".join(sorted(PROVENANCE_DA[k] for k in kinds)) if kinds else PROVENANCE_DA[None]
    return text[0].upper() + text[1:]


def _costs(b: Bundle, n: int | None) -> tuple[str, str]:
    """(kr. per participant, the card's price line: per participant and per unit of a clear effect)."""
    budget = b.study.get("budget_dkk")
    bc = (b.economy or {}).get("business_case") or {}
    if not budget and bc.get("cost") and bc.get("n_participants"):
        # no grant in the plan: the project's own report prices it with the business case's cost (its source is
        # named there), so the portfolio shows that price and says where it comes from
        budget, n = bc["cost"], bc["n_participants"]
        per = fmt_dkk(round(budget / n))
        line = f"{per} pr. deltager (pris fra rapportens økonomiafsnit)"
        week = business_case_week_price(bc)
        if week:
            line += f"; {fmt_dkk(round(week[0]))} pr. sparet uge på offentlig forsørgelse inden for {fmt_int(week[1])} uger"
        return f"{per}¹", line
    if not budget:
        return "–", "bevillingen står ikke i evalueringsplanen"
    if not n:
        return "–", f"bevilling {fmt_dkk(budget)}; antallet af deltagere er ikke målt"
    per = fmt_dkk(round(budget / n))
    line = f"{per} pr. deltager"
    rec = summary_record(b)
    cost = effect_cost(rec, budget, n, b.report_options.get("cost_unit")) if rec is not None else None
    if cost:
        line += f"; {fmt_dkk(round(cost['per']))} pr. {cost['cost_unit']}"
    return per, line


def _catalogue_section(studies_root: str | Path | None) -> str:
    """How much of what the council funded has been evaluated, and every catalogue project with its study."""
    cat = load_catalogue()
    links = link_studies(cat, studies_root) if studies_root is not None and Path(studies_root).is_dir() else None
    linked = {} if links is None else {(r.series, str(r.number)): r.study_id for r in links.itertuples()}
    series_da = {"KOU": "Koordinationsudvalget (1999–2006)", "LBR": "Det Lokale Beskæftigelsesråd (2007–2011)"}
    out = ["# Rådets projektkatalog {#katalog}\n"]
    rows = []
    for series, part in cat.groupby("series", sort=True):
        ev = part[[(series, str(n)) in linked for n in part["number"]]]
        rows.append((series_da.get(series, series), fmt_int(len(part)), fmt_dkk(part["grant_dkk"].sum()),
                     fmt_int(len(ev)), fmt_dkk(ev["grant_dkk"].sum())))
    ev_all = cat[[(s_, str(n)) in linked for s_, n in zip(cat["series"], cat["number"])]]
    rows.append(("**I alt**", f"**{fmt_int(len(cat))}**", f"**{fmt_dkk(cat['grant_dkk'].sum())}**",
                 f"**{fmt_int(len(ev_all))}**", f"**{fmt_dkk(ev_all['grant_dkk'].sum())}**"))
    share = ev_all["grant_dkk"].sum() / cat["grant_dkk"].sum() if cat["grant_dkk"].sum() else float("nan")
    out.append(
        f"Projektkataloget for Aalborg (1999–2011) rummer {fmt_int(len(cat))} bevillinger. {fmt_int(len(ev_all))} af dem er "
        f"evalueret med en erklæret evalueringsplan her – svarende til {fmt_pct(share, 1)} af de bevilgede kroner. "
        "Beløbene er aflæst i katalogets bevillingstekster; flerårige bevillinger er lagt sammen.\n"
    )
    out.append(md_table(["Råd", "Projekter", "Bevilget", "Evalueret", "Heraf bevilget"], rows, align="lrrrr"))
    out.append("## Alle projekter i kataloget\n")
    rows = []
    for r in cat.itertuples():
        sid = linked.get((r.series, str(r.number)))
        rows.append((f"{r.series} {r.number}", r.title, r.operator or "–", fmt_date(r.council_date) if r.council_date else "–",
                     fmt_dkk(r.grant_dkk) if r.grant_dkk == r.grant_dkk else "–",
                     f"[Rapport](../{sid}/index.html)" if sid else "–"))
    out.append(md_table(["Nr.", "Projekt", "Projektholder", "Bevilget", "Bevilling", "Evaluering"], rows, align="llllrl"))
    return "\n".join(out)


def _forest_rows(bundles: list[Bundle | Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The primary effects of every study, grouped by unit (designs without an effect are left out)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for b in map(Bundle.from_dict, bundles):
        for a in b.analyses:
            fam = get_family(a.design)
            if not a.primary or not fam.is_effect:
                continue
            res = a.result
            e = fam.main_term(res)
            if e.estimate is None or math.isnan(e.estimate) or math.isnan(e.ci_lower):
                continue
            mult, unit, _ = scale_for(a.unit, res.outcome_type)
            title = b.study["title"].split(" – ")[0]
            if len(title) > 38:
                title = title[:38].rsplit(" ", 1)[0] + " …"
            groups.setdefault(unit, []).append({"label": title,
                                                "estimate": e.estimate * mult, "ci_lower": e.ci_lower * mult,
                                                "ci_upper": e.ci_upper * mult, "conf_level": res.conf_level})
    return groups


def mechanism_evidence(bundles: list[Bundle]) -> list[dict[str, Any]]:
    """CMO evidence of every project grouped by the kind of mechanism (``mechanism.category``, else its label):
    per kind, the projects and the number of CMO configurations understøttet / ikke understøttet / uafklaret."""
    groups: dict[str, dict[str, Any]] = {}
    for b in bundles:
        for c in b.cmo_evidence:
            g = groups.setdefault(c["category"], {"category": c["category"], "projects": [], "cmo": [],
                                                  "supported": 0, "not_supported": 0, "undetermined": 0})
            g[c["status"]] += 1
            if b.study["id"] not in g["projects"]:
                g["projects"].append(b.study["id"])
            g["cmo"].append({"study": b.study["id"], "title": b.study["title"], "id": c["id"],
                             "mechanism": c["mechanism_label"], "outcome": c["outcome_label"], "status": c["status"],
                             "status_da": c["status_da"]})
    return sorted(groups.values(), key=lambda g: (-g["supported"], g["not_supported"], g["category"].lower()))


def mechanism_evidence_section(bundles: list[Bundle]) -> str:
    """'Hvilke mekanismer har vi evidens for?': the CMO statuses of all projects, grouped by kind of mechanism."""
    groups = mechanism_evidence(bundles)
    if not groups:
        return ""
    out = ["# Hvilke mekanismer har vi evidens for? {#mekanismer}\n",
           "Hvert projekts programteori har CMO-konfigurationer: en mekanisme, der i en bestemt kontekst skal give et "
           "resultat. Hver konfiguration har fået en status ud fra projektets egne resultater efter samme regel i alle "
           "projekter (se rapporternes afsnit «Programteorien i lyset af resultaterne»). Tabellen samler dem efter "
           "slags mekanisme på tværs af projekterne.\n"]
    rows = []
    for g in groups:
        detail = "; ".join(f"{c['title'].split(' – ')[0]}: {c['mechanism']} → {c['outcome']} ({c['status_da']})"
                           for c in g["cmo"])
        rows.append((g["category"], fmt_int(len(g["projects"])), fmt_int(g["supported"]), fmt_int(g["not_supported"]),
                     fmt_int(g["undetermined"]), detail))
    out.append(md_table(["Mekanisme", "Projekter", "Understøttet", "Ikke understøttet", "Uafklaret", "Konfigurationer"],
                        rows, align="lrrrrl"))
    return "\n".join(out)


def portfolio_markdown(bundles: list[Bundle | Mapping[str, Any]], *, studies_root: str | Path | None = None,
                       figures: Mapping[str, str] | None = None) -> str:
    """The portfolio's ``index.qmd`` text."""
    bundles = [Bundle.from_dict(b) for b in bundles]
    out = ["---", 'title: "Porteføljeoversigt"', 'subtitle: "Evaluerede beskæftigelsesprojekter"', "lang: da",
           "toc: true", 'toc-title: "Indhold"', "---", ""]
    total = sum(b.study.get("budget_dkk") or 0 for b in bundles)
    head_records = [_head_record(b) for b in bundles]
    levels = [result_level(a.result) for a in head_records if a is not None]
    lvl = common_level(levels) if levels else 0.95
    shown_with = (f"med {ci_label(lvl)}" if lvl is not None
                  else "med sikkerhedsinterval på det niveau, projektets evalueringsplan fastlagde (angivet i parentes)")
    n_budget = sum(1 for b in bundles if b.study.get("budget_dkk"))
    n_synthetic = sum(1 for b in bundles if is_synthetic(b))
    if n_synthetic:
        out.append("::: {#syntetiske-data .callout-important title=\"Syntetiske data\"}\n"
                   f"{fmt_int(n_synthetic)} af de {fmt_int(len(bundles))} projekter bygger på syntetiske data: tallene er "
                   "genereret til at vise metoden og er ikke projekternes faktiske resultater. De er markeret nedenfor.\n:::\n")
    out.append("# Overblik {#overblik}\n")
    out.append(
        f"Oversigten viser {fmt_int(len(bundles))} evaluerede projekter. {fmt_int(n_budget)} af dem har en bevilling i "
        f"evalueringsplanen, tilsammen {fmt_dkk(total)} Hovedresultatet er vist {shown_with}. Deltagere og "
        "personer i en sammenligningsgruppe er talt hver for sig. Evidensniveauet går fra 5 (lodtrækning) til 1 "
        "(før/efter uden sammenligning); projekter uden effektmåling har intet evidensniveau for effekt.\n"
    )
    rows, cards = [], []
    for b, head_rec in zip(bundles, head_records):
        s = b.study
        label, head, level = _headline(b)
        goal_txt = counts_sentence(b, report_date(b.report_options)) or "–"
        n_part, n_comp = _counts(b)
        per, price = _costs(b, n_part)
        mark = " *(syntetiske data)*" if is_synthetic(b) else ""
        rows.append((f"[{s['title']}](../{s['id']}/index.html){mark}",
                     fmt_int(n_part) if n_part else "–", fmt_int(n_comp) if n_comp else "–",
                     head if head in ("–", "diskretioneret") else ci_cell(head, result_level(head_rec.result), levels), per,
                     str(level) if level else "–", goal_txt))
        tg = b.theory["target_group"]["description"].strip()
        first = tg.split(". ")[0].rstrip(".") + "."
        card = [f"## {s['title']}\n"]
        if is_synthetic(b):
            card.append("::: {.callout-important title=\"Syntetiske data\"}\nTallene for dette projekt er genereret til at "
                        "vise metoden og er ikke projektets faktiske resultater.\n:::\n")
        card.append(md_table(["Projekt", s["operator"]], [
            ("Bevilget af", f"{s['funder']['name']} ({s['funder']['type']})"),
            ("Periode", f"{fmt_date(s['period']['start'])} – {fmt_date(s['period']['end'])}"),
            ("Bevilling", fmt_dkk(s["budget_dkk"]) if s.get("budget_dkk") is not None else "–"),
            ("Målgruppe", first),
            ("Deltagere", fmt_int(n_part) if n_part else "–"),
            ("Sammenligningsgruppe", fmt_int(n_comp) if n_comp else "ingen"),
            ("Hovedresultat", f"{label}: {head}"),
            ("Pris", price[0].upper() + price[1:]),
            ("Evidensniveau", f"{level} af 5" if level else "ingen effektmåling"),
            ("Målopfyldelse", goal_txt[0].upper() + goal_txt[1:] if goal_txt != "–" else goal_txt),
            ("Data", _provenance_text(b)),
            ("Rapport", f"[Læs rapporten](../{s['id']}/index.html)"),
        ], align="ll"))
        cards.append("\n".join(card))
    out.append(md_table(["Projekt", "Deltagere", "Sammen­ligning", f"Hovedresultat ({ci_header(levels or [0.95])})",
                         "Kr. pr. deltager", "Evidens", "Mål"], rows, align="lrrlrcl", widths=[22, 9, 11, 28, 10, 7, 16]))
    note = ("Bevillingerne står på projekternes kort nedenfor; «Kr. pr. deltager» er bevillingen delt med antallet af "
            "deltagere.")
    if any(r[4].endswith("¹") for r in rows):
        note += (" ¹ Ingen bevilling i evalueringsplanen: prisen er den, projektets rapport regner med i sit "
                 "økonomiafsnit, delt med dens antal deltagere.")
    out.append(note + "\n")
    if figures:
        out.append("## Effekter på tværs af projekter\n")
        out.append("Figuren viser de primære effekter, der er målt i samme enhed, side om side.")
        left_out: dict[str, list[str]] = {}  # why a study's primary result is not an effect -> studies
        for b in bundles:
            for a in b.analyses:
                fam = get_family(a.design)
                if a.primary and not fam.is_effect:
                    left_out.setdefault(fam.report.not_an_effect_da, []).append(b.study["title"].split(" – ")[0])
                    break
        for why, titles in left_out.items():
            out.append(" " + ", ".join(titles) + " er" + f" ikke med: {why}.")
        out.append("\n")
    for key, fig in sorted((figures or {}).items()):
        out.append(f"![Primære effekter på tværs af projekter ({key.split('_', 1)[1].replace('_', ' ')})]({fig}){{width=95%}}\n")
    out.append(mechanism_evidence_section(bundles))
    from evaluation.portfolio.economy import economy_section

    econ = economy_section(bundles)
    if econ:
        out.append(econ)
    out.append("# Projekterne {#projekterne}\n")
    out.extend(cards)
    out.append(_catalogue_section(studies_root))
    return "\n".join(out) + "\n"


def write_portfolio_project(results_root: str | Path, project_dir: str | Path, *, studies_root: str | Path = "studies",
                            bundles: list[Bundle] | None = None) -> Path:
    """Write the portfolio's Quarto project (``_quarto.yml``, ``index.qmd``, ``figures/``) into ``project_dir``."""
    import matplotlib.pyplot as plt

    from evaluation.presentation.plotting import forest_plot, save_figure

    bundles = collect_bundles(results_root) if bundles is None else bundles
    project_dir = Path(project_dir)
    project_dir.mkdir(parents=True, exist_ok=True)
    (project_dir / "_quarto.yml").write_text(QUARTO_YML, encoding="utf-8")
    figures = {}
    for i, (unit, rows) in enumerate(sorted(_forest_rows(bundles).items())):
        fig = forest_plot(rows, xlabel=f"Effekt ({unit})", null=0, level=common_level(r["conf_level"] for r in rows))
        (project_dir / "figures").mkdir(exist_ok=True)
        save_figure(fig, project_dir / "figures" / f"forest_{i + 1}.png")
        plt.close(fig)
        figures[f"forest_{unit.replace(' ', '_')}"] = f"figures/forest_{i + 1}.png"
    (project_dir / "index.qmd").write_text(portfolio_markdown(bundles, studies_root=studies_root, figures=figures),
                                           encoding="utf-8")
    return project_dir


def _bundles_matching_reports(results_root: Path, reports_root: Path) -> list[Bundle]:
    """Every bundle, read under its study's locks, checked against the report the portfolio links to.

    A study's report (``reports_root/<slug>/``) must have been made from the bundle shown
    (:func:`~evaluation.reporting.quarto.made_from`); otherwise the portfolio would link numbers to a
    report that shows others, and it refuses with :class:`StaleReportError` naming every such study.
    A study without a report folder is shown without one.
    """
    slugs = {p.parent.name for p in results_root.glob("*/results.json") if not p.parent.name.startswith(".")}
    # a study whose bundle is being swapped in this instant has only its lock file: wait for it too
    slugs |= {p.name[1:-len(".lock")] for p in results_root.glob(".*.lock") if _SLUG.fullmatch(p.name[1:-len(".lock")])}
    bundles, stale = [], []
    for slug in sorted(slugs):
        with output_lock(reports_root, slug), output_lock(results_root, slug):
            if not (results_root / slug / "results.json").is_file():
                continue
            fingerprint = bundle_fingerprint(results_root / slug)
            bundles.append(load_bundle(results_root / slug))
            report = reports_root / slug
            if report.is_dir() and made_from(report) != fingerprint:
                stale.append(f"{report}: made from {made_from(report) or 'an unrecorded bundle'}, but "
                             f"{results_root / slug / 'results.json'} is {fingerprint}")
    if not bundles:
        return collect_bundles(results_root)
    if stale:
        raise StaleReportError(
            "the portfolio would link to report(s) made from another results bundle than the one it shows; run "
            "'evaluation report' for these studies, then the portfolio again. / Porteføljen ville henvise til "
            "rapporter, der er lavet fra en anden resultatfil end den, den viser; kør 'evaluation report' for "
            "disse studier og derefter porteføljen igen:\n  " + "\n  ".join(stale)
        )
    return bundles


def build_portfolio(results_root: str | Path = "results", out_root: str | Path = "reports", *, studies_root: str | Path = "studies",
                    engine: str = "auto") -> dict[str, Path]:
    """Write and render ``out_root/portfolio/`` (atomically)."""
    collect_bundles(results_root)  # fail before creating anything when there is nothing to show
    out_root = Path(out_root)
    with output_lock(out_root, "portfolio"):
        bundles = _bundles_matching_reports(Path(results_root), out_root)
        final = out_root / "portfolio"
        tmp = Path(tempfile.mkdtemp(prefix=".portfolio.", dir=out_root))
        try:
            write_portfolio_project(results_root, tmp, studies_root=studies_root, bundles=bundles)
            render_project(tmp, formats=("html", "pdf"), engine=engine)
            replace_dir(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return {"html": final / "index.html", "pdf": final / "index.pdf"}
