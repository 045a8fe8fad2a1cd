"""The Danish user guide (``docs/vejledning/``), generated from the typed models so it cannot drift.

``evaluation guide`` writes ``index.qmd`` and ``_quarto.yml`` and renders them with the reports'
own toolchain (:func:`evaluation.reporting.render.render_project`: Quarto when it is on ``PATH``,
otherwise pandoc + typst). Everything the guide says about options comes from the code:

* the table of designs from the registered families (label, evidence level, identifying assumption);
* one complete example per design family — ``evaluation new`` → data → ``validate`` → ``run`` →
  ``report`` — with the first rows of the family's own example data (``Family.example("effect")``,
  the data ``evaluation new`` writes) and the study file's data and analysis sections as the
  scaffold writes them (:func:`evaluation.declaration.scaffold.design_sections`);
* a table of every option and fit option of every design, every data-source field, every analysis
  field and every report setting: name, type, default, allowed values and the Danish meaning
  (``json_schema_extra=da(...)``, via :func:`evaluation.declaration.scaffold.field_docs`).

The committed ``docs/vejledning/index.qmd`` is checked by a test: regenerating it must give the same
text (``tests/reporting/test_guide.py``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from evaluation.declaration.scaffold import FieldDoc, design_sections, designs_in_order, example_frames, field_docs
from evaluation.declaration.study import AnalysisBase, DataSource, EconomySpec, ReportOptions
from evaluation.designs.family import Family
from evaluation.presentation.formatting import evidence_level_text
from evaluation.presentation.markdown import md_table

from .render import render_project

__all__ = ["guide_markdown", "write_guide", "build_guide", "GUIDE_DIR", "GUIDE_QUARTO_YML"]

#: where ``evaluation guide`` writes by default (relative to the repository root)
GUIDE_DIR = Path("docs") / "vejledning"

GUIDE_QUARTO_YML = """project:
  type: default
  output-dir: .
lang: da
format:
  html:
    embed-resources: true
    toc: true
    toc-depth: 2
    number-sections: true
  typst:
    papersize: a4
    toc: true
    toc-depth: 2
    number-sections: true
"""

_FIRST_ROWS = 6

# The guide has what reports do not: commands, CSV and YAML blocks, and tables of options. A raw HTML
# block (ignored by the typst/PDF output) styles them: code blocks scroll sideways on a phone instead
# of widening the page, names in tables stay on one line, and on a narrow screen every table row
# becomes a small card with its cells labelled (the labels match the tables' headers).
_HTML_STYLE = """header-includes:
  - |
    ```{=html}
    <style>
    pre { overflow-x: auto; background: var(--zebra, #f6f7f9); border: 1px solid var(--rule, #d5d9e0);
          border-radius: 4px; padding: 0.6rem 0.8rem; font-size: 0.85rem; line-height: 1.45; }
    pre code { background: none; padding: 0; overflow-wrap: normal; font-size: inherit; }
    td code { white-space: nowrap; overflow-wrap: normal; }
    @media (max-width: 40rem) {
      .cards table, .cards tbody, .cards tr, .cards td { display: block; width: auto; }
      .cards thead { display: none; }
      .cards tr { border-bottom: 1px solid var(--rule, #d5d9e0); padding: 0.45rem 0.2rem; }
      .cards td { border: 0; padding: 0.05rem 0; }
      .cards td:first-child { font-weight: 650; }
      .cards td::before { color: var(--muted, #596273); }
      .fields td:nth-child(2)::before { content: "Type: "; }
      .fields td:nth-child(3)::before { content: "Standard: "; }
      .fields td:nth-child(4)::before { content: "Mulige værdier: "; }
      .designs td:nth-child(3)::before { content: "Evidensniveau: "; }
      .designs td:nth-child(4)::before { content: "Forudsætning: "; }
    }
    </style>
    ```
"""


def _code(text: str) -> str:
    return f"`{text}`"


def _slug(family: Family) -> str:
    return "eksempel-" + family.design.replace("_", "-")


def _wrap_table(table: str, kind: str) -> str:
    """A pipe table in a div that scrolls sideways if it must (report.css: .table-wrap) and whose rows
    become labelled cards on a phone (``kind``: "fields" or "designs", see _HTML_STYLE)."""
    return f"::: {{.table-wrap .cards .{kind}}}\n" + table + ":::\n"


def _field_table(docs: Sequence[FieldDoc], *, caption: str | None = None) -> str:
    rows = []
    for d in docs:
        default = "skal angives" if d.required else _code(d.default)
        rows.append([_code(d.name), d.type_da, default, d.allowed or "–", d.meaning])
    table = md_table(["Felt", "Type", "Standard", "Mulige værdier", "Betydning"], rows, align="lllll", caption=caption)
    out = _wrap_table(table, "fields")
    for d in docs:
        if d.nested:
            out += f"\nFelterne i {_code(d.name)}:\n\n" + _field_table(d.nested)
    return out


def _family_heads() -> list[Family]:
    """One design per family, in evidence order: the guide's worked examples."""
    heads: dict[str, Family] = {}
    for f in designs_in_order():
        if f.family not in heads or f.guide_example:
            heads[f.family] = f
    order = [f.family for f in designs_in_order()]
    return sorted(heads.values(), key=lambda f: order.index(f.family))


def _designs_table() -> str:
    rows = []
    for f in designs_in_order():
        level = f"{f.evidence_level} af 5" if f.evidence_level else "ingen effektmåling"
        rows.append([_code(f.design), f.label_da, level, f.assumption_da or "–"])
    return _wrap_table(md_table(["Design", "Hvad det er", "Evidensniveau", "Forudsætning"], rows, align="llll"), "designs")


def _yaml_without_comments(text: str) -> str:
    lines = [l for l in text.splitlines() if not l.lstrip().startswith("#")]
    out: list[str] = []
    for l in lines:
        if l.strip() == "" and (not out or out[-1].strip() == ""):
            continue
        out.append(l)
    return "\n".join(out).strip("\n")


def _csv_head(frame, rows: int = _FIRST_ROWS) -> str:
    return frame.head(rows).to_csv(index=False, lineterminator="\n").rstrip("\n")


def _columns_text(ex) -> str:
    """What each column of the analysis's example data is for, from the declaration (options, labels, indicator)."""
    frame, decl = ex.sources[ex.data]
    roles: dict[str, list[str]] = {}
    for key, value in ex.options.items():
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(v, dict):  # a survey's items name their column
                v = v.get("column")
            if isinstance(v, str) and v in frame.columns and key not in ("treated", "control"):
                roles.setdefault(v, []).append(_code(f"{key}:"))
    groups = ex.options.get("treatment")
    if groups in frame.columns and "treated" in ex.options and "control" in ex.options:
        roles.setdefault(groups, []).append(
            f"værdierne {_code(str(ex.options['treated']))} ({_code('treated:')}) og "
            f"{_code(str(ex.options['control']))} ({_code('control:')})")
    metric = (ex.indicator.get("metric") or {}).get("params", {}).get("column")
    items = []
    for col in frame.columns:
        what = []
        if col == decl.get("id_column"):
            what.append("personens id (" + _code("id_column:") + ")")
        if col == metric:
            what.append(f"resultatet, der måles: {ex.indicator['label'].lower()}")
        if col in (decl.get("labels") or {}):
            what.append(f"«{decl['labels'][col]}»")
        if col in roles:
            what.append("bruges i " + ", ".join(roles[col]))
        items.append(f"{_code(col)}" + (f" – {', '.join(what)}" if what else ""))
    return "Kolonnerne i " + _code(f"{ex.data}") + ": " + "; ".join(items) + "."


def _example_section(family: Family) -> str:
    slug = _slug(family)
    folder = f"studies/{slug}"
    ex = example_frames(family.design)
    indicator, sections = design_sections(family.design, slug)
    others = [f.design for f in designs_in_order() if f.family == family.family and f.design != family.design]
    parts = [f"## {family.short_da[:1].upper() + family.short_da[1:] if family.short_da else family.design} "
             f"({_code(family.design)}) {{#eksempel-{family.design.replace('_', '-')}}}\n\n"]
    parts.append(f"{family.label_da}.")
    if family.evidence_level:
        parts.append(f" Evidensniveau {family.evidence_level}: {evidence_level_text(family.evidence_level)}.")
    parts.append("\n")
    if family.assumption_da:
        parts.append(f"\n**Forudsætning:** {family.assumption_da}.\n")
    if others:
        parts.append(f"\nSamme familie: {', '.join(_code(o) for o in others)} (se deres indstillinger i "
                     "[Alle indstillinger](#alle-indstillinger)); eksemplet nedenfor bruger "
                     f"{_code(family.design)}.\n")

    parts.append("\n**1. Opret studiet.**\n\n")
    parts.append(f"```sh\nevaluation new {slug} --design {family.design}\n```\n\n")
    files = ", ".join(_code(f"data/{slug}/{name}.csv") for name in ex.sources)
    parts.append(f"Kommandoen skriver {_code(folder + '/study.yaml')} og syntetiske eksempeldata i {files}. "
                 "Studiet kan køres, som det er, så du kan se hele vejen til rapporten, før du skifter til "
                 "projektets egne data.\n")

    parts.append("\n**2. Data.** ")
    parts.append("De første rækker af eksempeldata (sådan ser filen ud):\n")
    for name, (frame, decl) in ex.sources.items():
        kind = decl.get("kind", "participants")
        parts.append(f"\n{_code(f'data/{slug}/{name}.csv')} ({_code('kind: ' + kind)}, {len(frame)} rækker):\n\n")
        parts.append("```text\n" + _csv_head(frame) + "\n```\n")
    parts.append("\n" + _columns_text(ex) + "\n")
    parts.append("\nDine egne data skal have samme form: én kolonne pr. oplysning og kolonnenavnene i første "
                 f"række. Hedder dine kolonner noget andet, retter du navnene under {_code('data:')} og "
                 f"{_code('options:')} i study.yaml. Skift {_code('provenance: synthetic')} ud med, hvor dine "
                 "data kommer fra.\n")

    parts.append("\n**3. Tjek planen.**\n\n")
    parts.append(f"```sh\nevaluation validate {folder}\n```\n\n")
    parts.append("Kommandoen læser study.yaml og melder hver fejl med fil, linje og felt, fx et felt, der er "
                 "stavet forkert, eller en værdi, der ikke er tilladt. Intet køres, før planen er i orden.\n")
    parts.append("\n**4. Kør analyserne.**\n\n")
    parts.append(f"```sh\nevaluation run {folder}\n```\n\n")
    parts.append(f"Resultaterne skrives i {_code(f'results/{slug}/results.json')} med tabeller og figurer. "
                 "Personernes id pseudonymiseres ved indlæsningen, og små celler skjules, før noget skrives.\n")
    parts.append("\n**5. Skriv rapporten.**\n\n")
    parts.append(f"```sh\nevaluation report {folder}\n```\n\n")
    parts.append(f"Rapporten på dansk ligger derefter i {_code(f'reports/{slug}/index.html')} og "
                 f"{_code(f'reports/{slug}/index.pdf')}.\n")

    parts.append("\n**Eksemplets indikator, data og analyse i study.yaml.** I filen står hver indstillings "
                 "betydning på linjen over den, og indstillinger med standardværdi er kommenteret ud; her er "
                 "kommentarerne udeladt. Indikatoren står sidst under `theory.indicators:`:\n\n")
    parts.append("```yaml\n" + _yaml_without_comments(indicator) + "\n```\n\n")
    parts.append("Datakilderne og analysen:\n\n")
    parts.append("```yaml\n" + _yaml_without_comments(sections) + "\n```\n")
    return "".join(parts)


def _options_section(family: Family) -> str:
    out = [f"## {_code(family.design)} {{#indstillinger-{family.design.replace('_', '-')}}}\n\n{family.label_da}.\n\n"]
    out.append(f"Indstillinger under {_code('options:')}:\n\n")
    out.append(_field_table(field_docs(family.Options)))
    out.append(f"\nIndstillinger for usikkerheden under {_code('fit:')}:\n\n")
    out.append(_field_table(field_docs(family.Fit)))
    return "".join(out)


def _reading_note() -> str:
    """What a Danish Excel file needs, from the reading settings DataSource offers now."""
    fields = DataSource.model_fields
    settings = [_code('separator: ";"')]
    if "decimal" in fields:
        settings.append(_code('decimal: ","'))
    if "thousands" in fields:
        settings.append(_code('thousands: "."'))
    if "encoding" in fields:
        settings.append(_code("encoding: cp1252"))
    joined = settings[0] if len(settings) == 1 else ", ".join(settings[:-1]) + " og " + settings[-1]
    what = "semikolon mellem felterne" + (" og komma som decimaltegn" if "decimal" in fields else "")
    detected = [k for k in ("separator", "decimal", "encoding") if k in fields and fields[k].default is None]
    if len(detected) == len([k for k in ("separator", "decimal", "encoding") if k in fields]):
        return (f"Dansk Excel gemmer CSV-filer med {what}. Det finder programmet selv ud af ud fra filen; vil du "
                f"sige det udtrykkeligt, skriver du {joined} under datakilden.")
    return f"Dansk Excel gemmer CSV-filer med {what}. Skriv da {joined} under datakilden."


def guide_markdown() -> str:
    """The guide's ``index.qmd`` (Danish), built from the registered families and the typed models."""
    heads = _family_heads()
    parts: list[str] = []
    parts.append('---\ntitle: "Vejledning i evaluation"\nsubtitle: "Fra nyt projekt til rapport – for evaluatorer"\n'
                 "lang: da\n" + _HTML_STYLE + "---\n\n")
    parts.append("::: {.callout-note}\n## Om vejledningen\n\n"
                 "Vejledningen er skrevet af kommandoen `evaluation guide` ud fra programmets egne modeller: "
                 "eksemplerne, deres data og tabellerne over indstillinger kommer direkte fra koden og passer "
                 "derfor til den version, der er installeret. Ret ikke i `docs/vejledning/index.qmd`; kør "
                 "`evaluation guide` igen.\n:::\n\n")

    parts.append("# Kom i gang {#kom-i-gang}\n\n")
    parts.append("`evaluation` laver en virkningsevaluering af et beskæftigelsesprojekt ud fra én fil, "
                 "evalueringsplanen `study.yaml`: projektets programteori, dets data og det design, effekten "
                 "måles med. Ud kommer effektestimater med sikkerhedsintervaller og en rapport på dansk, som et "
                 "LBR, et RAR eller et udvalg kan læse. Det hele foregår på kommandolinjen:\n\n")
    parts.append("1. `evaluation new <id> --design <design>` opretter `studies/<id>/study.yaml` med alle "
                 "designets indstillinger og deres betydning og skriver små syntetiske eksempeldata i "
                 "`data/<id>/`.\n"
                 "2. Du udfylder programteorien, lægger projektets data i `data/<id>/` og retter datakilder og "
                 "kolonnenavne i study.yaml.\n"
                 "3. `evaluation validate studies/<id>` tjekker planen og melder hver fejl med fil, linje og felt.\n"
                 "4. `evaluation run studies/<id>` beregner resultaterne (`results/<id>/results.json`).\n"
                 "5. `evaluation report studies/<id>` skriver rapporten (`reports/<id>/index.html` og "
                 "`index.pdf`).\n\n")
    parts.append("Installation (kræver Python 3.11 eller nyere):\n\n"
                 "```sh\npython3 -m venv .venv && .venv/bin/pip install -e . && . .venv/bin/activate\n```\n\n"
                 "Uden `--design` skriver `evaluation new` kun skabelonen til programteorien; data og analyser "
                 "kan så tilføjes senere. `evaluation schema > study.schema.json` giver en beskrivelse af filen, "
                 "som en editor kan bruge til autoudfyldning.\n\n")

    parts.append("## Hvilket design passer? {#designs}\n\n")
    parts.append("Designet afgør, hvad resultatet kan sige. Kun en sammenligning med en sammenligningsgruppe kan "
                 "vise en effekt; jo højere evidensniveau, jo færre forudsætninger hviler effekten på.\n\n")
    parts.append(_designs_table())

    parts.append("\n## Sådan læses study.yaml {#study-yaml}\n\n")
    parts.append("- Feltnavnene er på engelsk (så editoren kan hjælpe), teksterne skriver du på dansk. Alt efter "
                 "`#` på en linje er en kommentar.\n"
                 "- Over hver indstilling står dens betydning. En indstilling, der står med sin standardværdi, er "
                 "kommenteret ud (`# adjustment: lin`): fjern `#` for at ændre den; fjerner du `#` uden at ændre "
                 "værdien, sker der ingenting.\n"
                 "- Gruppernes navne skrives altid ud (`treated:` og `control:`). De skal stå præcis, som de står i "
                 "gruppekolonnen i data: hedder grupperne `indsats` og `kontrol` i dine data, skriver du "
                 "`treated: indsats` og `control: kontrol`.\n"
                 "- `labels:` giver kolonnerne danske navne i rapportens tabeller, og `value_labels:` giver "
                 "værdierne navne (fx `\"0\": Mand`, `\"1\": Kvinde`).\n"
                 "- `provenance:` siger, hvor data kommer fra (`synthetic`, `register`, `survey` eller "
                 "`project`); rapporten skriver det i bilaget.\n"
                 "- Personernes id (`id_column`) pseudonymiseres ved indlæsningen; i analyserne hedder "
                 "kolonnen derefter `person` (fx `unit: person`).\n"
                 f"- {_reading_note()}\n\n")

    parts.append("# Et fuldt eksempel for hver designfamilie {#eksempler}\n\n")
    parts.append("Hvert eksempel kan køres, som det står: kommandoerne skriver studiet og eksempeldata og går "
                 "hele vejen til rapporten.\n\n")
    for f in heads:
        parts.append(_example_section(f) + "\n")

    parts.append("# Alle indstillinger {#alle-indstillinger}\n\n")
    parts.append("Tabellerne viser hver indstilling, et design tager under `options:` og `fit:` i en analyse: "
                 "navn, type, standardværdi, de tilladte værdier og betydningen. \"skal angives\" betyder, at "
                 "indstillingen ikke har nogen standardværdi.\n\n")
    for f in designs_in_order():
        parts.append(_options_section(f) + "\n")

    parts.append("# Datakilder (`data:`) {#datakilder}\n\n")
    parts.append("Hver datakilde under `data:` har et navn (fx `participants`) og disse felter. Felter, der "
                 "begynder med \"register:\", bruges kun af en registerkilde (`kind: register`).\n\n")
    parts.append(_field_table(field_docs(DataSource)))
    parts.append("\n# Analyser (`analyses:`) {#analyser}\n\n")
    parts.append("Hver analyse anvender et design på en indikator. Ud over `options:` og `fit:` (se [Alle "
                 "indstillinger](#alle-indstillinger)) har den disse felter:\n\n")
    parts.append(_field_table([d for d in field_docs(AnalysisBase)]))
    parts.append("\n# Økonomi (`economy:`) {#oekonomi}\n\n")
    parts.append("En business case sætter de offentlige ydelser, projektet sparede, op mod projektets pris. Ugerne "
                 "prissættes med satserne i `data/rates/dk_satser.yaml` (hver sats med kilde og år); analysen, hvis effekt "
                 "prissættes, skal have `cumulative:`.\n\n")
    parts.append(_field_table(field_docs(EconomySpec)))
    parts.append("\n# Rapporten (`report:`) {#rapporten}\n\n")
    parts.append(_field_table(field_docs(ReportOptions)))

    parts.append("\n# Når noget går galt {#fejl}\n\n")
    parts.append("- Fejl i study.yaml eller i data skrives som en almindelig besked, og kommandoen slutter med "
                 "kode 2. Beskeden nævner filen, linjen og feltet (for data: filen, kolonnen og rækkerne), fx\n\n"
                 "  ```text\n  studies/mit-projekt/study.yaml:12: operatr: unknown field 'operatr'; did you mean "
                 "'operator'?\n  ```\n\n"
                 "- Et design, der ikke findes, får et forslag: `evaluation new x --design randomised_comparison` "
                 "svarer med \"did you mean 'randomized_comparison'?\".\n"
                 "- Står der andre gruppenavne i data end `treated:` og `control:` i study.yaml, skal navnene rettes "
                 "i study.yaml (se [Sådan læses study.yaml](#study-yaml)).\n"
                 "- Ingen tal, der bygger på færre end `report.disclosure_threshold` personer (standard 5), "
                 "offentliggøres; de skjulte celler står i rapportens bilag.\n"
                 "- Kommer der en besked om en intern fejl, er det en fejl i programmet og ikke i dit studie: kør "
                 "kommandoen igen med `EVALUATION_DEBUG=1` foran, og send udskriften til udviklerne.\n")
    return "".join(parts)


def write_guide(out_dir: str | os.PathLike = GUIDE_DIR) -> Path:
    """Write ``index.qmd`` and ``_quarto.yml`` of the guide into ``out_dir`` (created when missing)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "_quarto.yml").write_text(GUIDE_QUARTO_YML, encoding="utf-8")
    (out / "index.qmd").write_text(guide_markdown(), encoding="utf-8")
    return out


def build_guide(out_dir: str | os.PathLike = GUIDE_DIR, *, engine: str = "auto",
                formats: Sequence[str] = ("html", "pdf")) -> dict[str, Path]:
    """Write the guide and render it with the reports' toolchain; format → rendered file."""
    return render_project(write_guide(out_dir), formats=formats, engine=engine)
