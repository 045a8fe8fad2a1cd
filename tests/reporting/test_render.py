"""Rendering a Quarto project with pandoc (HTML) and pandoc + typst (PDF)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from evaluation.exceptions import RenderError  # noqa: E402
from evaluation.reporting.browser import find_external_resources  # noqa: E402
from evaluation.presentation.plotting import save_figure  # noqa: E402
from evaluation.reporting.render import (  # noqa: E402
    _pandoc,
    _template,
    html_headings,
    html_text,
    pdf_headings,
    pdf_text,
    project_metadata,
    render_project,
)

pytest.importorskip("pypdf")

QMD = """---
title: "Tidlig indsats for sygemeldte på Ærø"
subtitle: "Evaluering af Jobcenter Ærø – rapport til LBR Ærø"
lang: da
toc: true
toc-title: "Indhold"
number-sections: true
---

# Hovedresultater {#hovedresultater}

Deltagerne var i gennemsnit 3,1 uger færre på sygemelding i de første 52 uger (95 %-sikkerhedsinterval 0,8–5,4 uger).

::: {.callout-note title="Evidensniveau"}
**Evidensniveau 5 af 5:** Lodtrækning (randomiseret forsøg) – højeste evidensniveau
:::

::: {.callout-warning}
Målopfyldelse uden sammenligningsgruppe siger ikke noget om årsag.
:::

# Projektet og programteorien {#projektet}

| Oplysning | Værdi |
|:--|--:|
| Bevilling | 1.425.000 kr. |
| Projektperiode | 1. marts 2010 – 31. december 2012 |
| Målgruppe | Sygemeldte på Ærø og i Søby |

![Programteori for projektet](figures/figur.png){width=80%}

## Antagelser

- Egen læge henviser *tidligt* i forløbet.

# Forbehold {#forbehold}

Resultatet gælder for målgruppen i projektperioden.
"""

QUARTO_YML = """project:
  type: default
  output-dir: .
lang: da
format:
  html:
    embed-resources: true
  typst:
    papersize: a4
"""

SECTIONS = ["Hovedresultater", "Projektet og programteorien", "Antagelser", "Forbehold"]


def make_project(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_quarto.yml").write_text(QUARTO_YML, encoding="utf-8")
    (folder / "index.qmd").write_text(QMD, encoding="utf-8")
    fig, ax = plt.subplots(figsize=(3, 1.5))
    ax.plot([0, 1, 2], [1, 3, 2])
    ax.set_title("Sygefravær, æøå")
    save_figure(fig, folder / "figures" / "figur.png")
    plt.close(fig)
    return folder


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """One sample project rendered to both formats (shared: rendering costs about a second)."""
    project = make_project(tmp_path_factory.mktemp("render") / "rapport")
    out = render_project(project, formats=("html", "pdf"), engine="pandoc")
    return project, out


def test_outputs_are_written_in_the_project(rendered):
    project, out = rendered
    assert out == {"html": project / "index.html", "pdf": project / "index.pdf"}
    assert out["pdf"].read_bytes()[:5] == b"%PDF-"
    # no temporary files left behind
    assert not [p.name for p in project.iterdir() if p.name.startswith(".")]


def test_html_is_self_contained(rendered):
    _, out = rendered
    html = out["html"].read_text(encoding="utf-8")
    assert find_external_resources(html) == []
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "mathjax" not in html.lower() and "@import" not in html
    assert re.search(r'<img[^>]+src="data:image/png;base64,', html)
    assert '<html lang="da"' in html
    # our stylesheet is embedded
    assert ".callout-title" in html and "<style" in html


def test_html_has_headings_table_and_callouts(rendered):
    _, out = rendered
    heads = html_headings(out["html"])
    assert heads[0] == "Tidlig indsats for sygemeldte på Ærø"
    assert "Indhold" in heads
    assert [h for h in heads if h in SECTIONS] == SECTIONS
    text = html_text(out["html"])
    assert "Evidensniveau" in text.splitlines()  # callout title is visible text, not a tooltip
    assert "Advarsel" in text.splitlines()  # Danish default title for a warning
    assert "1. marts 2010 – 31. december 2012" in text
    html = out["html"].read_text(encoding="utf-8")
    assert 'class="callout callout-note"' in html and 'class="callout callout-warning"' in html
    assert "<table" in html and "<th" in html
    assert '<span class="header-section-number">1</span>' in html


def test_pdf_has_the_same_sections_as_html(rendered):
    _, out = rendered
    html_sections = [h for h in html_headings(out["html"]) if h not in ("Indhold",)][1:]
    assert pdf_headings(out["pdf"]) == html_sections == SECTIONS
    text = pdf_text(out["pdf"])
    assert "Tidlig indsats for sygemeldte på Ærø" in text
    assert "Evidensniveau" in text and "Advarsel" in text
    assert "Målgruppe" in text and "Søby" in text
    assert "Side 1 af" in text  # page numbers
    assert re.search(r"1\s+Hovedresultater", text)  # numbered sections


def test_typst_filter_keeps_danish_dates_in_table_cells_as_text(tmp_path):
    md = "| a | b |\n|--|--|\n| Periode | 1. marts 2010 |\n| - | x |\n"
    out = subprocess.run(
        [_pandoc(), "-f", "markdown", "-t", "typst", f"--lua-filter={_template('callouts.lua')}"],
        input=md, capture_output=True, text=True, check=True,
    ).stdout
    assert "[1\\. marts 2010]" in out  # "1. " would otherwise start a typst numbered list
    assert "[\\-]" in out


def test_failed_render_leaves_previous_outputs_intact(rendered, tmp_path):
    project = tmp_path / "rapport"
    shutil.copytree(rendered[0], project)
    before = {n: (project / n).read_bytes() for n in ("index.html", "index.pdf")}
    (project / "figures" / "figur.png").unlink()
    for fmt, needle in (("pdf", "figures/figur.png"), ("html", "figures/figur.png"), (("html", "pdf"), "figur.png")):
        with pytest.raises(RenderError, match=re.escape(needle)) as info:
            render_project(project, formats=(fmt,) if isinstance(fmt, str) else fmt, engine="pandoc")
        assert "Traceback" not in str(info.value)
        assert {n: (project / n).read_bytes() for n in before} == before
    assert not [p.name for p in project.iterdir() if p.name.startswith(".")]


def test_typst_error_names_the_report_not_a_temporary_file(tmp_path):
    project = make_project(tmp_path / "rapport")
    (project / "index.qmd").write_text(QMD.replace("figures/figur.png", "figures/mangler.png"), encoding="utf-8")
    with pytest.raises(RenderError, match="typst could not make the PDF") as info:
        render_project(project, formats=("pdf",), engine="pandoc")
    msg = str(info.value)
    assert "mangler.png" in msg and "index.qmd" in msg and ".index-" not in msg


def test_only_requested_formats_are_written(tmp_path):
    project = make_project(tmp_path / "rapport")
    out = render_project(project, formats=("html",), engine="pandoc")
    assert set(out) == {"html"}
    assert not (project / "index.pdf").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"formats": ("docx",)}, "unknown output format"),
        ({"formats": ()}, "no output format"),
        ({"engine": "latex"}, "unknown render engine"),
    ],
)
def test_bad_arguments_raise_render_error(tmp_path, kwargs, message):
    project = make_project(tmp_path / "rapport")
    with pytest.raises(RenderError, match=message):
        render_project(project, **kwargs)


def test_missing_project_or_source(tmp_path):
    with pytest.raises(RenderError, match="does not exist"):
        render_project(tmp_path / "nope")
    (tmp_path / "tom").mkdir()
    with pytest.raises(RenderError, match="no index.qmd"):
        render_project(tmp_path / "tom")


def test_broken_front_matter_is_reported(tmp_path):
    project = make_project(tmp_path / "rapport")
    (project / "index.qmd").write_text('---\ntitle: "uafsluttet\n---\n\n# A\n', encoding="utf-8")
    with pytest.raises(RenderError, match="front matter"):
        render_project(project, formats=("html",), engine="pandoc")


@pytest.mark.skipif(shutil.which("quarto") is not None, reason="quarto is installed here")
def test_quarto_engine_without_quarto_is_a_clear_error(tmp_path):
    project = make_project(tmp_path / "rapport")
    with pytest.raises(RenderError, match="quarto command is not on PATH"):
        render_project(project, engine="quarto")


def test_metadata_merges_quarto_yml_and_front_matter(tmp_path):
    project = make_project(tmp_path / "rapport")
    html = project_metadata(project, "html")
    typ = project_metadata(project, "typst")
    assert html["embed-resources"] is True and "papersize" not in html
    assert typ["papersize"] == "a4"
    assert html["toc"] is True and html["toc-title"] == "Indhold" and html["lang"] == "da"
