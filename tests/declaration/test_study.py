"""Study declarations: loading, validation messages with file and line, schema, scaffold."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evaluation.exceptions import StudyConfigError
from evaluation.declaration.scaffold import scaffold_study
from evaluation.declaration.study import load_study, study_json_schema

from conftest import STUDIES


def _write(tmp_path: Path, text: str, slug: str = "proj") -> Path:
    d = tmp_path / slug
    d.mkdir(parents=True, exist_ok=True)
    (d / "study.yaml").write_text(text, encoding="utf-8")
    return d


@pytest.fixture
def template(tmp_path: Path) -> str:
    return scaffold_study("proj", tmp_path / "scaffold").read_text(encoding="utf-8")


def _problems(path: Path) -> list[str]:
    with pytest.raises(StudyConfigError) as exc:
        load_study(path)
    return exc.value.problems


def test_every_shipped_study_is_valid():
    studies = sorted(STUDIES.glob("*/study.yaml"))
    assert studies, "no studies shipped"
    for f in studies:
        s = load_study(f)
        assert s.id == f.parent.name
        assert s.theory.primary_outcomes


def test_scaffold_is_valid_and_not_overwritten(tmp_path: Path):
    path = scaffold_study("nyt-projekt", tmp_path)
    s = load_study(path)
    assert s.id == "nyt-projekt"
    assert "programteori" in path.read_text(encoding="utf-8").lower()
    before = path.read_bytes()
    with pytest.raises(StudyConfigError):
        scaffold_study("nyt-projekt", tmp_path)
    assert path.read_bytes() == before
    with pytest.raises(StudyConfigError):
        scaffold_study("Ugyldigt Navn", tmp_path)


def test_yaml_syntax_error_names_line(tmp_path: Path, template: str):
    lines = template.splitlines()
    idx = next(i for i, l in enumerate(lines) if l.startswith("title:"))
    lines[idx] = 'title: "unterminated'
    d = _write(tmp_path, "\n".join(lines))
    (p,) = _problems(d)
    assert re.match(rf"{re.escape(str(d / 'study.yaml'))}:\d+: \(YAML syntax\)", p)


def test_unknown_key_with_suggestion_and_line(tmp_path: Path, template: str):
    text = template.replace("operator:", "operatr:", 1)
    line = next(i + 1 for i, l in enumerate(text.splitlines()) if l.startswith("operatr:"))
    d = _write(tmp_path, text)
    problems = _problems(d)
    hit = [p for p in problems if "operatr" in p]
    assert hit and f"study.yaml:{line}: operatr: unknown field 'operatr'; did you mean 'operator'?" in hit[0]
    # the missing 'operator' is reported too: errors are collected, not first-only
    assert any("operator: required field is missing" in p for p in problems)


def test_wrong_enum_and_date(tmp_path: Path, template: str):
    text = template.replace("type: LBR-pulje", "type: LBR").replace("  start: 2026-01-01", "  start: 2026-02-30")
    problems = _problems(_write(tmp_path, text))
    assert any("funder.type: got 'LBR'; expected one of: 'LBR-pulje'" in p for p in problems)
    assert any("period.start:" in p and "YYYY-MM-DD" in p for p in problems)


def test_dangling_reference_and_unlabelled_link(tmp_path: Path, template: str):
    text = template.replace(
        "{from: output, to: resultat, mechanism: mekanisme, assumptions: [antagelse], context: [kontekst]}",
        "{from: output, to: resultatet, assumptions: [antagelse]}",
    )
    problems = _problems(_write(tmp_path, text))
    assert any("theory.links[2].to: refers to 'resultatet', which is not declared" in p for p in problems)
    assert any("theory.links[2]: the link output → resultatet has no label" in p for p in problems)


def test_orphan_duplicate_missing_indicator_and_primary(tmp_path: Path, template: str):
    text = template.replace(
        '    - {id: effekt, type: impact, label: "Den langsigtede samfundsmæssige effekt"}',
        '    - {id: effekt, type: impact, label: "Den langsigtede samfundsmæssige effekt"}\n'
        '    - {id: ekstra, type: outcome, horizon: long, label: "Et resultat uden indikator"}\n'
        '    - {id: effekt, type: impact, label: "dublet"}',
    ).replace("primary: true, ", "")
    problems = _problems(_write(tmp_path, text))
    joined = "\n".join(problems)
    assert "id 'effekt' is used twice" in joined
    assert "node 'ekstra' is an orphan" in joined
    assert "outcome 'ekstra' has no indicator" in joined
    assert "no primary outcome" in joined
    # every line has the file:line: path: message form
    for p in problems:
        assert re.match(r".+study\.yaml:\d+: \S+: .+", p), p


def test_missing_required_and_empty_file(tmp_path: Path, template: str):
    text = "\n".join(l for l in template.splitlines() if not l.startswith("operator:"))
    problems = _problems(_write(tmp_path, text))
    assert any("operator: required field is missing" in p for p in problems)
    assert "the study file is empty" in _problems(_write(tmp_path, "# nothing\n", "empty"))[0]
    assert "does not exist" in _problems(tmp_path / "nowhere")[0]


def test_duplicate_yaml_key(tmp_path: Path, template: str):
    text = template.replace("operator:", "title: \"igen\"\noperator:", 1)
    problems = _problems(_write(tmp_path, text))
    assert any("the field 'title' is given twice" in p for p in problems)


def test_unknown_metric_and_design(tmp_path: Path, study_tree):
    d = study_tree()
    f = d / "study.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("design: randomized_comparison", "design: randomised_comparison", 1)
                 .replace("name: column", "name: colum", 1), encoding="utf-8")
    joined = "\n".join(_problems(d))
    assert "unknown design 'randomised_comparison'; did you mean 'randomized_comparison'?" in joined
    assert "unknown metric 'colum'; did you mean 'column'?" in joined


def test_threshold_never_below_three(tmp_path: Path, template: str):
    text = template.replace("disclosure_threshold: 5", "disclosure_threshold: 2")
    problems = _problems(_write(tmp_path, text))
    assert any("report.disclosure_threshold" in p and "greater than or equal to 3" in p for p in problems)


def test_json_schema_describes_study():
    schema = study_json_schema()
    json.dumps(schema)
    assert {"id", "title", "funder", "theory", "analyses"} <= set(schema["properties"])
    assert "source_path" not in schema["properties"]
    funder_type = schema["$defs"]["Funder"]["properties"]["type"]
    assert set(funder_type["enum"]) == {"LBR-pulje", "RAR", "kommune", "STAR-pulje", "region", "fond"}
