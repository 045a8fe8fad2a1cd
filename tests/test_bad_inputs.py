"""A corpus of broken, hostile and borderline study files (issue 12): every case ends in exit code 2
with no traceback, and the message names the study file with a line and the field (or, for a data
path, the file); hostile cases run in a separate process under a 1 GiB address-space limit and a
30-second timeout. (Data-file cases are in the data tests; design-option cases in
tests/designs/test_options_corpus.py.)
"""

from __future__ import annotations

import codecs
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
import yaml
from click.testing import CliRunner

from claims import write_example_study
from evaluation.cli import main as cli
from evaluation.designs.family import FAMILIES

GiB = 1 << 30
PASSWD_LINE = "root:x:0:0"


def _base(tmp_path: Path) -> Path:
    return write_example_study(tmp_path, FAMILIES["randomized_comparison"], "effect")


# --------------------------------------------------------------------------------------------------
# the corpus: (id, mutation, expected field or kind in the message, command)
# a mutation gets the study folder and returns the new file content (str/bytes), a dict to dump,
# or None when it changed the folder itself
# --------------------------------------------------------------------------------------------------

Mutation = Callable[[Path, str, dict], "str | bytes | dict | None"]
CASES: list[tuple[str, Mutation, str, str]] = []


def case(cid: str, where: str, command: str = "validate"):
    def register(fn: Mutation) -> Mutation:
        CASES.append((cid, fn, where, command))
        return fn
    return register


def _set(d: dict, dotted: str, value) -> dict:
    *parents, last = dotted.split(".")
    node = d
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return d


def _drop(d: dict, dotted: str) -> dict:
    *parents, last = dotted.split(".")
    node = d
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    del node[last]
    return d


# --- YAML syntax ----------------------------------------------------------------------------------
case("unterminated quote", "(YAML syntax)")(lambda f, t, d: t.replace("title: ", "title: \"", 1))
case("tab indentation", "(YAML syntax)")(lambda f, t, d: t.replace("  name: Testrådet", "\tname: Testrådet", 1))
case("mapping value at wrong indentation", "(YAML syntax)")(lambda f, t, d: t.replace("  type: kommune", "    type: kommune", 1))
case("unclosed flow list", "(YAML syntax)")(lambda f, t, d: t + "extra: [a, b\n")
case("unclosed flow mapping", "(YAML syntax)")(lambda f, t, d: t + "extra: {a: 1\n")
case("undefined alias", "(YAML syntax)")(lambda f, t, d: t.replace("operator: Testjobcentret", "operator: *nowhere", 1))
case("duplicate anchor", "(YAML syntax)")(lambda f, t, d: t + "x1: &a 1\nx2: &a 2\n")
case("two documents", "(YAML syntax)")(lambda f, t, d: t + "---\nid: another\n")
case("unhashable key", "(YAML syntax)")(lambda f, t, d: t + "? [a, b]\n: c\n")
case("merge of a number", "(YAML syntax)")(lambda f, t, d: t.replace("funder:\n", "funder:\n  <<: 5\n", 1))
case("stray colon line", "(YAML syntax)")(lambda f, t, d: t.replace("operator: Testjobcentret", "operator: Test: jobcentret: x", 1))
case("document end marker mid-file", "(YAML syntax)")(lambda f, t, d: t.replace("theory:\n", "...\ntheory:\n", 1))

# --- duplicated keys ------------------------------------------------------------------------------
case("duplicated top-level key", "the field 'title' is given twice")(lambda f, t, d: t + "title: Igen\n")
case("duplicated nested key", "the field 'name' is given twice")(
    lambda f, t, d: t.replace("  type: kommune", "  type: kommune\n  name: Igen", 1))

# --- hostile YAML (also run in a separate, limited process below) -----------------------------------
def _laughs(f, t, d):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return t + "\n".join(lines) + "\nbomb: *a9\n"


case("billion laughs", "(YAML aliases)")(_laughs)
case("recursive alias", "(YAML aliases)")(lambda f, t, d: t + "loop: &x [1, *x]\n")
case("recursive mapping alias", "(YAML aliases)")(lambda f, t, d: t + "loop: &x {a: *x}\n")
case("5,000-deep list", "(YAML nesting)")(lambda f, t, d: t + "deep: " + "[" * 5000 + "]" * 5000 + "\n")
case("5,000-deep mapping", "(YAML nesting)")(lambda f, t, d: t + "deep: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n")
case("65-deep block list", "(YAML nesting)")(lambda f, t, d: t + "deep:\n" + "".join("  " * i + "-\n" for i in range(65)) + "  " * 65 + "- 1\n")
case("file above 1 MiB", "(file size)")(lambda f, t, d: t + ("# padding " * 120_000) + "\n")
case("python object tag", "(YAML tag)")(lambda f, t, d: t.replace("operator: Testjobcentret", "operator: !!python/object/apply:os.system [ls]", 1))
case("python name tag", "(YAML tag)")(lambda f, t, d: t.replace("operator: Testjobcentret", "operator: !!python/name:os.system ''", 1))
case("binary tag", "(YAML tag)")(lambda f, t, d: t.replace("operator: Testjobcentret", "operator: !!binary aGVq", 1))
case("set tag", "(YAML tag)")(lambda f, t, d: t.replace("operator: Testjobcentret", "operator: !!set {a, b}", 1))
case("omap tag", "(YAML tag)")(lambda f, t, d: t.replace("funder:\n", "funder: !!omap\n", 1).replace("  name: Testrådet\n  type: kommune\n", "  - name: Testrådet\n  - type: kommune\n", 1))
case("custom include tag", "(YAML tag)")(lambda f, t, d: t.replace("operator: Testjobcentret", "operator: !include /etc/passwd", 1))
case("number of 5,000 digits", "(YAML value)")(lambda f, t, d: t.replace("budget_dkk: 250000", "budget_dkk: " + "9" * 5000, 1))

# --- encodings and bytes --------------------------------------------------------------------------
case("Latin-1 file", "(encoding)")(lambda f, t, d: t.replace("Testrådet", "Testrådet æøå").encode("latin-1"))
case("Windows-1252 quotes", "(encoding)")(lambda f, t, d: t.replace("Testjobcentret", "\u201cTestjobcentret\u201d").encode("cp1252"))
case("UTF-16 with BOM", "(encoding)")(lambda f, t, d: codecs.BOM_UTF16_LE + t.encode("utf-16-le"))
case("UTF-32 with BOM", "(encoding)")(lambda f, t, d: t.encode("utf-32"))
case("NUL byte", "(encoding)")(lambda f, t, d: t.replace("Testjobcentret", "Test\x00jobcentret", 1))
case("bell control character", "(encoding)")(lambda f, t, d: t.replace("Testjobcentret", "Test\x07jobcentret", 1))
case("random binary", "(encoding)")(lambda f, t, d: bytes(range(256)) * 4)

# --- empty and wrong shapes -----------------------------------------------------------------------
case("empty file", "(file)")(lambda f, t, d: "")
case("only comments", "(file)")(lambda f, t, d: "# nothing here\n# yet\n")
case("only blank lines", "(file)")(lambda f, t, d: "\n\n   \n")
case("top level is a list", "(top level)")(lambda f, t, d: "- id: x\n- title: y\n")
case("top level is text", "(top level)")(lambda f, t, d: "just some text\n")
case("top level is a number", "(top level)")(lambda f, t, d: "42\n")


@case("study.yaml is a folder", "(file)")
def _folder_study(f, t, d):
    (f / "study.yaml").unlink()
    (f / "study.yaml").mkdir()


@case("no study.yaml in the folder", "(file)")
def _missing_study(f, t, d):
    (f / "study.yaml").unlink()


@case("study.yaml links to /etc/passwd", "(top level)")
def _passwd_study(f, t, d):
    if not Path("/etc/passwd").is_file():
        pytest.skip("no /etc/passwd here")
    (f / "study.yaml").unlink()
    (f / "study.yaml").symlink_to("/etc/passwd")


# --- wrong types and values of every top-level field --------------------------------------------
case("id is a number", "id")(lambda f, t, d: _set(d, "id", 123))
case("id with capitals and spaces", "id")(lambda f, t, d: _set(d, "id", "Mit Projekt"))
case("id differs from the folder", "id")(lambda f, t, d: _set(d, "id", "et-andet-navn"))
case("id missing", "id")(lambda f, t, d: _drop(d, "id"))
case("title empty", "title")(lambda f, t, d: _set(d, "title", ""))
case("title is a list", "title")(lambda f, t, d: _set(d, "title", ["a", "b"]))
case("summary is a mapping", "summary")(lambda f, t, d: _set(d, "summary", {"a": 1}))
case("funder is text", "funder")(lambda f, t, d: _set(d, "funder", "Testrådet"))
case("funder type unknown", "funder.type")(lambda f, t, d: _set(d, "funder.type", "EU"))
case("funder missing", "funder")(lambda f, t, d: _drop(d, "funder"))
case("funder decision date malformed", "funder.decision_date")(lambda f, t, d: _set(d, "funder.decision_date", "20. maj"))
case("operator is a mapping", "operator")(lambda f, t, d: _set(d, "operator", {"navn": "x"}))
case("period is text", "period")(lambda f, t, d: _set(d, "period", "2020"))
case("period start not a date", "period.start")(lambda f, t, d: _set(d, "period.start", "snart"))
case("period start impossible date", "period.start")(lambda f, t, d: _set(d, "period.start", "2020-13-45"))
case("period ends before it starts", "period")(lambda f, t, d: _set(d, "period.end", "2019-01-01"))
case("budget is text", "budget_dkk")(lambda f, t, d: _set(d, "budget_dkk", "mange penge"))
case("budget negative", "budget_dkk")(lambda f, t, d: _set(d, "budget_dkk", -5))
case("budget infinite", "budget_dkk")(lambda f, t, d: t.replace("budget_dkk: 250000", "budget_dkk: .inf", 1))
case("budget not a number", "budget_dkk")(lambda f, t, d: t.replace("budget_dkk: 250000", "budget_dkk: .nan", 1))
case("language unknown", "language")(lambda f, t, d: _set(d, "language", "fr"))
case("catalogue number is text", "catalogue_number")(lambda f, t, d: _set(d, "catalogue_number", "abc"))
case("unknown top-level field", "titel")(lambda f, t, d: _set(d, "titel", "x"))
case("number as a top-level key", "1: 1 is not a field name")(lambda f, t, d: t + "1: x\n")
case("null as a top-level key", "an empty key (~ or null) is not a field name")(lambda f, t, d: t + "~: x\n")
case("theory is a list", "theory")(lambda f, t, d: _set(d, "theory", [1, 2]))
case("theory missing", "theory")(lambda f, t, d: _drop(d, "theory"))
case("theory has no nodes", "theory.nodes")(lambda f, t, d: _set(d, "theory.nodes", []))
case("node type unknown", "theory.nodes[0].type")(lambda f, t, d: _set(d, "theory.nodes.0.type", "aktivitet"))
case("node id with spaces", "theory.nodes[0].id")(lambda f, t, d: _set(d, "theory.nodes.0.id", "min indsats"))
case("target group missing", "theory.target_group")(lambda f, t, d: _drop(d, "theory.target_group"))
case("links is a mapping", "theory.links")(lambda f, t, d: _set(d, "theory.links", {"from": "indsats"}))
case("data is a list", "data")(lambda f, t, d: _set(d, "data", ["participants.csv"]))
case("data path is a number", "data.participants.path")(lambda f, t, d: _set(d, "data.participants.path", 123))
case("data format unknown", "data.participants.format")(lambda f, t, d: _set(d, "data.participants.format", "sav"))
case("value label with a number key", "data.participants.value_labels.female")(
    lambda f, t, d: t.replace("'0': Mand", "0: Mand", 1))
case("analyses is a mapping", "analyses")(lambda f, t, d: _set(d, "analyses", {"id": "x"}))
case("analysis id used twice", "analyses[1].id")(lambda f, t, d: d["analyses"].append(dict(d["analyses"][0])) or d)
case("analysis indicator unknown", "analyses[0].indicator")(lambda f, t, d: _set(d, "analyses.0.indicator", "ukendt"))
case("analysis data source unknown", "analyses[0].data")(lambda f, t, d: _set(d, "analyses.0.data", "register"))
case("analysis subgroup not a moderator", "analyses[0].subgroups[0]")(lambda f, t, d: _set(d, "analyses.0.subgroups", ["alder"]))
case("targets is text", "targets")(lambda f, t, d: _set(d, "targets", "mange"))
case("disclosure threshold below 3", "report.disclosure_threshold")(lambda f, t, d: _set(d, "report", {"disclosure_threshold": 2}))
case("report format unknown", "report.formats[0]")(lambda f, t, d: _set(d, "report", {"formats": ["docx"]}))
case("report field unknown", "report.treshold")(lambda f, t, d: _set(d, "report", {"treshold": 5}))

# --- the programme theory's graph -----------------------------------------------------------------
case("theory cycle", "the links form a cycle indsats → resultat → indsats")(
    lambda f, t, d: d["theory"]["links"].append({"from": "resultat", "to": "indsats", "direct": True}) or d)
case("theory self-loop", "to itself")(
    lambda f, t, d: d["theory"]["links"].append({"from": "indsats", "to": "indsats", "direct": True}) or d)
case("link to an undeclared node", "theory.links[0].to")(lambda f, t, d: _set(d, "theory.links.0.to", "ingenting"))
case("link from an undeclared node", "theory.links[0].from")(lambda f, t, d: _set(d, "theory.links.0.from", "ingenting"))
case("link without a mechanism", "theory.links[0]")(lambda f, t, d: _drop(d, "theory.links.0.mechanism"))
case("link mechanism undeclared", "theory.links[0].mechanism")(lambda f, t, d: _set(d, "theory.links.0.mechanism", "m9"))
case("indicator for an undeclared outcome", "theory.indicators[0].outcome")(lambda f, t, d: _set(d, "theory.indicators.0.outcome", "x"))
case("indicator metric unknown", "theory.indicators[0].metric.name")(lambda f, t, d: _set(d, "theory.indicators.0.metric.name", "kolonne"))
case("indicator with metric and method", "theory.indicators[0]")(
    lambda f, t, d: _set(d, "theory.indicators.0.qualitative", {"method": "interview", "description": "x"}))
def _drop_primary(d: dict) -> dict:
    """Remove the primary flag from whichever node carries it (the generated study's node order may change)."""
    carriers = [n for n in d["theory"]["nodes"] if n.get("primary")]
    assert carriers, "the generated study has no primary outcome to remove"
    for n in carriers:
        del n["primary"]
    return d


case("no primary outcome", "theory.nodes")(lambda f, t, d: _drop_primary(d))

# --- data paths (run reads them) ------------------------------------------------------------------
case("data path is /etc/passwd", "data.participants.path", "run")(lambda f, t, d: _set(d, "data.participants.path", "/etc/passwd"))
case("data path climbs out of the project", "data.participants.path", "run")(
    lambda f, t, d: _set(d, "data.participants.path", "../" * 12 + "etc/passwd"))
case("data path with a NUL byte", "data.participants.path", "run")(
    lambda f, t, d: t.replace("path: ../../data/", 'path: "\\0../../data/', 1).replace("participants.csv\n", 'participants.csv"\n', 1))
case("code list outside the project", "data.participants.codes", "run")(lambda f, t, d: _set(d, "data.participants.codes", "/etc/hosts"))


@case("data path is a link to /etc/passwd", "data.participants.path", "run")
def _linked_passwd(f, t, d):
    (f / "data.csv").symlink_to("/etc/passwd")
    return _set(d, "data.participants.path", "data.csv")


@case("data path is a link loop", "data.participants.path", "run")
def _link_loop(f, t, d):
    (f / "a.csv").symlink_to(f / "b.csv")
    (f / "b.csv").symlink_to(f / "a.csv")
    return _set(d, "data.participants.path", "a.csv")


@case("data file missing", "participants.csv", "run")
def _data_missing(f, t, d):
    (f.parents[1] / "data" / f.name / "participants.csv").unlink()


@case("data path is a folder", "participants.csv", "run")
def _data_folder(f, t, d):
    p = f.parents[1] / "data" / f.name / "participants.csv"
    p.unlink()
    p.mkdir()


@case("data file empty", "participants.csv", "run")
def _data_empty(f, t, d):
    (f.parents[1] / "data" / f.name / "participants.csv").write_bytes(b"")


HOSTILE = {"billion laughs", "recursive alias", "5,000-deep list", "5,000-deep mapping", "file above 1 MiB",
           "number of 5,000 digits", "random binary"}


def _write_case(tmp_path: Path, cid: str) -> tuple[Path, str, str]:
    _, mutate, where, command = next(c for c in CASES if c[0] == cid)
    folder = _base(tmp_path)
    y = folder / "study.yaml"
    text = y.read_text(encoding="utf-8")
    new = mutate(folder, text, yaml.safe_load(text))
    if isinstance(new, dict):
        y.write_text(yaml.safe_dump(new, allow_unicode=True, sort_keys=False), encoding="utf-8")
    elif isinstance(new, str):
        y.write_text(new, encoding="utf-8")
    elif isinstance(new, bytes):
        y.write_bytes(new)
    return folder, where, command


def _check_output(output: str, where: str, folder: Path, command: str) -> None:
    assert "Traceback" not in output and "Internal error" not in output, output
    assert PASSWD_LINE not in output, "a message echoed the content of a system file"
    lines = [x for x in output.splitlines() if where in x]
    assert lines, f"{where!r} not named in:\n{output}"
    named = [x for x in lines if re.search(r"study\.yaml:\d+: ", x)] or (
        [x for x in lines if "participants.csv" in x] if command == "run" else [])
    assert named, f"no file:line with {where!r} in:\n{output}"


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60, len(CASES)


@pytest.mark.parametrize("cid", [c[0] for c in CASES])
def test_bad_study_file_exits_2_naming_file_line_and_field(tmp_path, cid, monkeypatch):
    monkeypatch.setenv("EVALUATION_PSEUDONYM_KEY", "bad-inputs")
    folder, where, command = _write_case(tmp_path, cid)
    args = ["validate", str(folder)] if command == "validate" else ["run", str(folder), "--out", str(tmp_path / "results")]
    if cid in HOSTILE:
        # a separate process with at most 1 GiB of address space and 30 s
        import resource

        def limit():
            resource.setrlimit(resource.RLIMIT_AS, (GiB, GiB))

        proc = subprocess.run([sys.executable, "-m", "evaluation.cli", *args], capture_output=True, text=True,
                              timeout=30, preexec_fn=limit, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        assert proc.returncode == 2, proc.stdout + proc.stderr
        _check_output(proc.stdout + proc.stderr, where, folder, command)
        return
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, (cid, result.output, result.exception)
    _check_output(result.output, where, folder, command)
    assert not (tmp_path / "results" / folder.name).exists()


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    folder = _base(tmp_path)
    y = folder / "study.yaml"
    y.write_bytes(codecs.BOM_UTF8 + y.read_bytes())
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert result.exit_code == 0, result.output


def test_aliases_that_reuse_a_block_are_accepted_and_errors_inside_them_are_placed(tmp_path):
    folder = _base(tmp_path)
    y = folder / "study.yaml"
    text = y.read_text(encoding="utf-8")
    # an anchored block reused with an alias and with a merge key that overrides one field
    reused = text.replace("funder:\n  name: Testrådet\n  type: kommune\n",
                          "funder: &f\n  name: Testrådet\n  type: kommune\n", 1)
    reused = reused.replace("analyses:", "targets:\n- id: t1\n  note: *f\n- id: t2\n  <<: {note: x, label: y}\n  label: z\nanalyses:", 1)
    y.write_text(reused, encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert result.exit_code == 2, result.output
    line = next((x for x in result.output.splitlines() if "targets[0].note" in x), "")
    assert re.search(r"study\.yaml:(\d+): targets\[0\]\.note: ", line), result.output
    assert int(re.search(r"study\.yaml:(\d+):", line).group(1)) == reused.splitlines().index("  note: *f") + 1
    assert "given twice" not in result.output  # a merge key's override is not a duplicate
    assert "targets[1]" not in result.output  # the merged mapping is valid
    y.write_text(reused.replace("  note: *f", "  note: ok"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert result.exit_code == 0, result.output


def test_the_study_file_is_never_modified(tmp_path):
    for cid in ("Latin-1 file", "billion laughs", "theory cycle"):
        folder, _, _ = _write_case(tmp_path / cid.replace(" ", "_"), cid)
        before = (folder / "study.yaml").read_bytes()
        CliRunner().invoke(cli, ["validate", str(folder)])
        assert (folder / "study.yaml").read_bytes() == before


@pytest.mark.parametrize("cid", ["billion laughs", "5,000-deep list", "recursive alias", "5,000-deep mapping"])
def test_a_hostile_code_list_is_refused_with_its_line(tmp_path, cid):
    """A register's code list (the study's 'codes:' file) is parsed under the same limits as a study file."""
    from evaluation.data.registers import CodeList
    from evaluation.exceptions import DataValidationError

    shipped = Path(__file__).resolve().parents[1] / "evaluation" / "codes" / "dream_benefit_groups.yaml"
    f = tmp_path / "codes.yaml"
    _, mutate, where, _ = next(c for c in CASES if c[0] == cid)
    new = mutate(tmp_path, shipped.read_text(encoding="utf-8"), {})
    f.write_bytes(new if isinstance(new, bytes) else new.encode("utf-8"))
    with pytest.raises(DataValidationError, match=rf"codes\.yaml:\d+: {re.escape(where)}"):
        CodeList.load(f)


def test_a_hostile_study_file_does_not_break_the_portfolio(tmp_path, monkeypatch):
    """The portfolio reads every study's funder for the catalogue: a hostile file there is an exit 2 naming it."""
    monkeypatch.setenv("EVALUATION_PSEUDONYM_KEY", "bad-inputs")
    folder = _base(tmp_path)
    result = CliRunner().invoke(cli, ["run", str(folder), "--out", str(tmp_path / "results")])
    assert result.exit_code == 0, result.output
    y = folder / "study.yaml"
    y.write_text(y.read_text(encoding="utf-8") + "deep: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["portfolio", "--studies", str(tmp_path / "studies"), "--results",
                                      str(tmp_path / "results"), "--out", str(tmp_path / "reports")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Internal error" not in result.output
    assert re.search(r"study\.yaml:\d+: \(YAML nesting\)", result.output), result.output
