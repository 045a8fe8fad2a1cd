"""The Danish user guide (docs/vejledning): generated from the typed models, committed fresh, renders,
reads on a phone, and its worked examples run as written."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from evaluation.cli import main as cli
from evaluation.declaration.scaffold import design_sections, field_docs
from evaluation.declaration.study import AnalysisBase, DataSource, ReportOptions
from evaluation.designs.family import families
from evaluation.reporting.browser import CHROMIUM_FLAGS, check_html_in_chromium, find_chromium
from evaluation.reporting.guide import GUIDE_QUARTO_YML, guide_markdown, write_guide
from evaluation.reporting.render import html_headings, html_text, render_project

from conftest import ROOT

GUIDE = ROOT / "docs" / "vejledning"


def _renderer_missing() -> str | None:
    if shutil.which("quarto"):
        return None
    try:
        import pypandoc

        pypandoc.get_pandoc_path()
    except (ImportError, OSError):
        return "neither quarto nor pandoc (pypandoc-binary) is available to render the guide"
    return None


@pytest.fixture(scope="module")
def qmd() -> str:
    return guide_markdown()


def test_committed_guide_is_fresh(qmd):
    """docs/vejledning/index.qmd is what the code generates now (regenerate with: evaluation guide)."""
    committed = (GUIDE / "index.qmd").read_text(encoding="utf-8")
    assert committed == qmd, "docs/vejledning/index.qmd is stale: run `evaluation guide` and commit it"
    assert (GUIDE / "_quarto.yml").read_text(encoding="utf-8") == GUIDE_QUARTO_YML


def _flat(text: str) -> str:
    return " ".join(text.replace("\\|", "|").split())


def test_guide_lists_every_option_and_field_with_its_meaning(qmd):
    flat = _flat(qmd)
    for fam in families():
        section = qmd[qmd.index(f"{{#indstillinger-{fam.design.replace('_', '-')}}}"):]
        section = section[: section.find("\n## ", 1) if "\n## " in section[1:] else len(section)]
        for model in (fam.Options, fam.Fit):
            for doc in field_docs(model):
                row = re.search(rf"^\| `{doc.name}` \| ([^|]+) \| ([^|]+) \| ([^|]+) \| (.+) \|$", section, re.M)
                assert row, f"{fam.design}: no table row for {doc.name}"
                assert row.group(2) == ("skal angives" if doc.required else f"`{doc.default}`")
                assert _flat(row.group(4)) == _flat(doc.meaning)
                for sub in doc.nested:
                    assert f"| `{sub.name}` |" in section, (fam.design, doc.name, sub.name)
    for model in (DataSource, AnalysisBase, ReportOptions):
        for doc in field_docs(model):
            assert f"| `{doc.name}` |" in qmd and _flat(doc.meaning) in flat, (model.__name__, doc.name)
    # Literal values are listed as the allowed values
    assert re.search(r"^\| `adjustment` \| valg \| `lin` \| lin, ancova, none \|", qmd, re.M)
    assert re.search(r"^\| `conf_level` \| tal \| `0.95` \| > 0 og < 1 \|", qmd, re.M)


def _example_blocks(qmd: str, design: str) -> tuple[list[str], list[str]]:
    part = qmd[qmd.index(f"{{#eksempel-{design.replace('_', '-')}}}"):]
    part = part[: part.index("\n## ") if "\n## " in part else part.index("\n# ")]
    commands = re.findall(r"```sh\n(.*?)\n```", part, re.S)
    yamls = re.findall(r"```yaml\n(.*?)\n```", part, re.S)
    return commands, yamls


def test_one_worked_example_per_family_with_the_scaffolds_sections(qmd):
    examples = re.findall(r"\{#eksempel-([a-z0-9-]+)\}", qmd)
    heads = [d.replace("-", "_") for d in examples]
    assert sorted({f.family for f in families() if f.design in heads}) == sorted({f.family for f in families()})
    assert len(heads) == len({f.family for f in families()})
    for design in heads:
        commands, yamls = _example_blocks(qmd, design)
        verbs = [shlex.split(c)[1] for c in commands]
        assert verbs == ["new", "validate", "run", "report"], (design, verbs)
        slug = shlex.split(commands[0])[2]
        indicator, sections = design_sections(design, slug)
        # the YAML shown is the scaffold's, comments left out
        assert yaml.safe_load(yamls[0]) == yaml.safe_load(indicator)
        assert yaml.safe_load(yamls[1]) == yaml.safe_load(sections)


@pytest.mark.parametrize("design", ["randomized_comparison", "survey"])
def test_the_worked_examples_run_as_written(tmp_path, qmd, design):
    """The guide's commands, as written (report limited to HTML to keep the test quick)."""
    commands, _ = _example_blocks(qmd, design)
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        for c in commands:
            args = shlex.split(c)[1:]
            if args[0] == "report":
                args += ["--format", "html"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = CliRunner().invoke(cli, args)
            assert r.exit_code == 0, (c, r.output)
    finally:
        os.chdir(old)
    slug = shlex.split(commands[0])[2]
    assert (tmp_path / "reports" / slug / "index.html").is_file()


def test_cli_guide_writes_the_project(tmp_path):
    r = CliRunner().invoke(cli, ["guide", "--out", str(tmp_path / "g"), "--no-render"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "g" / "index.qmd").read_text(encoding="utf-8") == guide_markdown()
    assert not (tmp_path / "g" / "index.html").exists()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    reason = _renderer_missing()
    if reason:
        pytest.skip(reason)
    project = write_guide(tmp_path_factory.mktemp("vejledning"))
    return render_project(project, formats=("html",))["html"]


def test_guide_renders_with_the_reports_toolchain(rendered):
    headings = html_headings(rendered)
    for h in ("Kom i gang", "Hvilket design passer?", "Et fuldt eksempel for hver designfamilie", "Alle indstillinger",
              "Datakilder (data:)", "Analyser (analyses:)", "Når noget går galt"):
        assert h in headings, h
    for f in families():
        assert f.design in headings
    text = html_text(rendered)
    assert "evaluation new eksempel-randomized-comparison --design randomized_comparison" in text
    assert "kolonnen med den gruppe, personen blev trukket lod til" in text


# Headless Chromium will not make a window narrower than 500 px, so the page is measured inside an
# iframe of the wanted width; the page measures itself and posts the result to the frame's parent.
_MEASURE = """<script>
(function () {
  var d = document.documentElement, wide = [];
  document.querySelectorAll('main *').forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.right > d.clientWidth + 1 && !el.closest('.table-wrap, pre')) wide.push(el.tagName);
  });
  parent.postMessage({scroll: d.scrollWidth, client: d.clientWidth, wide: wide.slice(0, 10).join(',') || '-'}, '*');
})();
</script></body>"""

_FRAME = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe src="index.html" style="border:0;width:{width}px;height:1600px"></iframe>
<script>window.addEventListener('message', function (e) {{
  for (var k in e.data) document.body.setAttribute('data-' + k, e.data[k]); }});</script></body></html>"""


def _chromium(url: str, *extra: str, cwd: Path) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([find_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
                               *extra, url], capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.mark.browser
@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("width", [390, 1200])
def test_guide_reads_on_a_phone_and_a_desktop(tmp_path, rendered, width):
    """No element outside a scrolling table or code block is wider than the screen; nothing is fetched."""
    res = check_html_in_chromium(rendered, window_size=(width, 1600))
    assert res["loaded"], res["stderr"][-2000:]
    assert res["external_requests"] == [] and res["static_external"] == []
    (tmp_path / "index.html").write_text(rendered.read_text(encoding="utf-8").replace("</body>", _MEASURE, 1), encoding="utf-8")
    frame = tmp_path / "frame.html"
    frame.write_text(_FRAME.format(width=width), encoding="utf-8")
    dom = _chromium(frame.as_uri(), "--window-size=1300,1700", "--dump-dom", cwd=tmp_path).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    got = dict(re.findall(r'data-(scroll|client|wide)="([^"]*)"', body))
    assert got, f"the page did not report its size: {body}"
    assert int(got["client"]) == width
    assert int(got["scroll"]) <= width and got["wide"] == "-", f"the page is wider than {width} px: {got}"
