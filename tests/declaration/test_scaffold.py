"""``evaluation new --design``: the scaffold of every design validates, runs and reports as written;
every option and data-source field is there with its Danish meaning; uncommenting a default changes
nothing; example data never overwrite a file; every option model field has a Danish meaning."""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from evaluation.cli import main as cli
from evaluation.declaration.scaffold import field_docs, scaffold, study_text
from evaluation.declaration.study import AnalysisBase, DataSource, ReportOptions, analysis_models, load_study
from evaluation.designs.family import families, get_family, meaning_da
from evaluation.exceptions import StudyConfigError, UnknownNameError
from evaluation.pipeline import run_study
from evaluation.reporting.quarto import write_report_project
from evaluation.results import load_bundle

DESIGNS = [f.design for f in families()]
_COMMENTED = re.compile(r"^(\s*)# ([a-z_]+): (.*)$")


def _invoke(*args: str, cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def _nested_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    from evaluation.declaration.scaffold import _model_of

    out = []
    for f in model.model_fields.values():
        inner = _model_of(f.annotation)
        if inner is not None:
            out += [inner] + _nested_models(inner)
    return out


def test_every_field_a_study_file_may_set_has_a_danish_meaning():
    models: list[type[BaseModel]] = [DataSource, AnalysisBase, ReportOptions]
    for fam in families():
        models += [fam.Options, fam.Fit] + _nested_models(fam.Options) + _nested_models(fam.Fit)
    models += list(analysis_models().values())
    missing = []
    for m in models:
        for name in m.model_fields:
            try:
                text = meaning_da(m, name)
            except KeyError:
                missing.append(f"{m.__name__}.{name}")
                continue
            assert len(text) > 10 and text == text.strip(), (m.__name__, name, text)
    assert not missing, "fields without json_schema_extra=da(...): " + ", ".join(missing)


def test_a_field_without_meaning_is_found():
    from pydantic import Field

    from evaluation.designs.family import Options

    class Bare(Options):
        x: int = Field(default=1, description="no Danish")

    with pytest.raises(KeyError, match="Bare.x has no Danish meaning"):
        field_docs(Bare)


@pytest.mark.parametrize("design", DESIGNS)
def test_scaffold_of_a_design_validates_runs_and_reports_unchanged(tmp_path, design):
    made = scaffold("nyt-projekt", tmp_path / "studies", design=design)
    text = made.study.read_text(encoding="utf-8")
    family = get_family(design)
    ex = family.example("effect", 1)
    # the example data are written beside the studies, never inside the package, and declared synthetic
    assert {p.name for p in made.data} == {f"{n}.csv" for n in ex.sources}
    assert all(p.parent == tmp_path / "data" / "nyt-projekt" for p in made.data)
    study = load_study(made.study)
    (analysis,) = study.analyses
    assert analysis.design == design and analysis.primary
    assert analysis.options.model_dump() == family.Options.model_validate(dict(ex.options)).model_dump()
    assert analysis.fit.model_dump() == family.Fit.model_validate(dict(ex.fit)).model_dump()
    assert analysis.fit.conf_level == 0.95 and re.search(r"^      conf_level: 0\.95$", text, re.M)
    for name, (frame, decl) in ex.sources.items():
        src = study.data[name]
        assert src.provenance == "synthetic"
        assert pd.read_csv(study.resolve_path(src.path)).shape == frame.shape
        for key in ("kind", "id_column", "columns", "period_column"):
            if key in decl:
                assert getattr(src, key) == decl[key], key
    # covariates are named in Danish; value_labels is there to fill in
    source = study.data[analysis.data]
    for c in analysis.options.declared().get("covariates", []):
        assert c in source.labels
    assert re.search(r"^    value_labels:", text, re.M)
    # group labels are explicit wherever the design has them
    for label in ("treated", "control"):
        if label in family.Options.model_fields:
            assert re.search(rf"^      {label}: \S", text, re.M), label
    # every option, fit option and data-source reading option is there, preceded by its meaning
    for model, header in ((family.Options, "    options:\n"), (family.Fit, "    fit:\n")):
        block = text[text.index(header):]
        for doc in field_docs(model):
            m = re.search(rf"^ {{6}}(# )?{doc.name}:", block, re.M)
            assert m, f"{design}: option {doc.name} missing"
            before = block[: m.start()].rstrip("\n").splitlines()
            comment = " ".join(l.strip().lstrip("# ").strip() for l in before[-8:] if l.strip().startswith("#"))
            assert " ".join(doc.meaning.split()) in " ".join(comment.split()), (design, doc.name)
            for sub in doc.nested:
                assert f"- {sub.name} (" in text, (design, doc.name, sub.name)
    for doc in field_docs(DataSource):
        if not doc.meaning.startswith("register:"):
            assert re.search(rf"^    (# )?{doc.name}:", text, re.M), f"data source field {doc.name} missing"
    assert not any(l.startswith("# register:") for l in text.splitlines())
    # run and report as written
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle_dir = run_study(made.study.parent, tmp_path / "results")
    bundle = load_bundle(bundle_dir)
    assert [a.design for a in bundle.analyses] == [design]
    qmd = (write_report_project(bundle_dir, tmp_path / "reports" / "nyt-projekt") / "index.qmd").read_text(encoding="utf-8")
    assert "Projektets titel" in qmd


@pytest.mark.parametrize("design", DESIGNS)
def test_uncommenting_a_default_gives_the_same_typed_options(tmp_path, design):
    made = scaffold("nyt-projekt", tmp_path / "studies", design=design)
    text = made.study.read_text(encoding="utf-8")
    base = load_study(made.study)

    def dump(s):
        return ({k: v.model_dump() for k, v in s.data.items()},
                [(a.model_dump(exclude={"options", "fit"}), a.options.model_dump(), a.fit.model_dump()) for a in s.analyses])

    lines = text.splitlines(keepends=True)
    start = next(i for i, l in enumerate(lines) if l.startswith("data:"))
    fields = set(DataSource.model_fields) | set(AnalysisBase.model_fields)
    fam = get_family(design)
    fields |= set(fam.Options.model_fields) | set(fam.Fit.model_fields)
    tried = 0
    for i in range(start, len(lines)):
        m = _COMMENTED.match(lines[i])
        if not m or m.group(2) not in fields:
            continue
        edited = lines[:i] + [f"{m.group(1)}{m.group(2)}: {m.group(3)}\n"] + lines[i + 1:]
        made.study.write_text("".join(edited), encoding="utf-8")
        try:
            s = load_study(made.study)
        except StudyConfigError as exc:  # pragma: no cover - the message says which line broke
            pytest.fail(f"{design}: uncommenting line {i + 1} ({lines[i].strip()}) broke the study: {exc}")
        assert dump(s) == dump(base), f"{design}: uncommenting {lines[i].strip()} changed the typed options"
        tried += 1
    assert tried >= 5, f"{design}: only {tried} commented defaults found"


def test_the_template_without_design_is_unchanged_in_spirit(tmp_path):
    made = scaffold("uden-design", tmp_path / "studies")
    text = made.study.read_text(encoding="utf-8")
    assert made.data == () and not (tmp_path / "data").exists()
    s = load_study(made.study)
    assert not s.data and not s.analyses
    assert "--design" in text and "#@" not in text
    assert text == study_text("uden-design")


def test_example_data_never_overwrite_and_an_existing_study_stops_everything(tmp_path):
    data = tmp_path / "data" / "mit-projekt"
    data.mkdir(parents=True)
    own = data / "participants.csv"
    own.write_text("person_id,group,y\nA,intervention,1\n", encoding="utf-8")
    digest = hashlib.sha256(own.read_bytes()).hexdigest()
    made = scaffold("mit-projekt", tmp_path / "studies", design="randomized_comparison")
    assert made.kept == (own,) and made.data == ()
    assert hashlib.sha256(own.read_bytes()).hexdigest() == digest
    # the kept file is not declared synthetic: nobody knows where it came from
    assert load_study(made.study).data["participants"].provenance == "project"
    study_bytes = made.study.read_bytes()
    with pytest.raises(StudyConfigError, match="already exists"):
        scaffold("mit-projekt", tmp_path / "studies", design="matched_comparison")
    assert made.study.read_bytes() == study_bytes
    # nothing is written for an unknown design
    with pytest.raises(UnknownNameError, match="did you mean 'matched_comparison'"):
        scaffold("andet-projekt", tmp_path / "studies", design="matched_comparisn")
    assert not (tmp_path / "studies" / "andet-projekt").exists()


def test_without_example_data_the_sources_point_where_the_data_go(tmp_path):
    made = scaffold("egne-data", tmp_path / "studies", design="pre_post", example_data=False)
    assert made.data == () and not (tmp_path / "data").exists()
    s = load_study(made.study)
    src = s.data["participants"]
    assert src.provenance == "project" and src.path == "../../data/egne-data/participants.csv"
    assert "SYNTETISKE" not in made.study.read_text(encoding="utf-8")


def test_cli_new_with_design_and_unknown_design(tmp_path):
    r = _invoke("new", "mit-projekt", "--design", "did_cs", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert "created studies/mit-projekt/study.yaml" in r.output and "data/mit-projekt/participants.csv" in r.output
    assert _invoke("validate", "studies/mit-projekt", cwd=tmp_path).exit_code == 0
    r = _invoke("new", "andet", "--design", "randomised_comparison", cwd=tmp_path)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "did you mean 'randomized_comparison'?" in r.output and "known designs:" in r.output
    assert not (tmp_path / "studies" / "andet").exists()
    r = _invoke("new", "--help", cwd=tmp_path)
    assert "--design" in r.output and "matched_comparison" in r.output


def test_every_design_is_named_where_the_evaluator_looks_first(tmp_path):
    """The help of `evaluation new` and the template list the designs (static text, kept in step by this test)."""
    help_text = " ".join(_invoke("new", "--help", cwd=tmp_path).output.split())
    template = study_text("x")
    for design in DESIGNS:
        assert design in help_text, f"`evaluation new --help` does not name {design}"
        assert design in template, f"study_template.yaml does not name {design}"
