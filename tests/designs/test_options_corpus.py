"""Every design's options are documented in the schema and checked on load: a corpus of misspelt,
foreign, misplaced and mistyped options all end in exit 2 with file:line and the field named."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner

from claims import write_example_study
from evaluation.cli import main as cli
from evaluation.designs.family import FAMILIES, families


def _fields(model) -> dict:
    return model.model_fields


def _mutations(family):
    """(description, function(analysis dict) -> None, expected field path, expected words)."""
    opts = list(_fields(family.Options))
    fits = list(_fields(family.Fit))
    name = opts[0]
    misspelt = name[:-1] if len(name) > 3 else name + "x"
    foreign_opt = next((k for f in families() if f.design != family.design for k in _fields(f.Options)
                        if k not in _fields(family.Options)), None)
    out = [
        ("misspelt option", lambda a: a["options"].__setitem__(misspelt, a["options"].get(name, "x")),
         f"analyses[0].options.{misspelt}", "unknown field"),
        ("misspelt fit option", lambda a: a["fit"].__setitem__("conf_levl", 0.9), "analyses[0].fit.conf_levl",
         "did you mean 'conf_level'"),
        ("option placed under fit", lambda a: a["fit"].__setitem__(name, "x"), f"analyses[0].fit.{name}", "unknown field"),
        ("fit option placed under options", lambda a: a["options"].__setitem__("conf_level", 0.9),
         "analyses[0].options.conf_level", "unknown field"),
        ("confidence level out of range", lambda a: a["fit"].__setitem__("conf_level", 95), "analyses[0].fit.conf_level", ""),
        ("unknown design", lambda a: a.__setitem__("design", family.design + "x"), "analyses[0].design",
         f"did you mean '{family.design}'"),
        ("design missing", lambda a: a.pop("design"), "analyses[0].design", "required"),
        ("options not a mapping", lambda a: a.__setitem__("options", "oops"), "analyses[0].options", ""),
    ]
    if foreign_opt:
        out.append(("option of another design", lambda a: a["options"].__setitem__(foreign_opt, "x"),
                    f"analyses[0].options.{foreign_opt}", "it is an option of"))
    list_fields = [k for k, f in _fields(family.Options).items() if "list" in str(f.annotation)]
    if list_fields:
        k = list_fields[0]
        out.append(("a list given as a string", lambda a, k=k: a["options"].__setitem__(k, "age"), f"analyses[0].options.{k}", ""))
    literal = [(k, f) for k, f in {**_fields(family.Options), **_fields(family.Fit)}.items() if "Literal" in str(f.annotation)]
    if literal:
        k, _ = literal[0]
        where = "options" if k in _fields(family.Options) else "fit"
        out.append(("a value outside the allowed ones", lambda a, k=k, where=where: a[where].__setitem__(k, "no-such-value"),
                    f"analyses[0].{where}.{k}", "expected one of"))
    return out


CASES = [(f.design, i) for f in families() for i in range(len(_mutations(f)))]


@pytest.mark.parametrize("design,i", CASES, ids=[f"{d}-{i}" for d, i in CASES])
def test_bad_option_exits_2_naming_file_line_and_field(tmp_path, design, i):
    family = FAMILIES[design]
    what, mutate, path, words = _mutations(family)[i]
    folder = write_example_study(tmp_path, family, "effect")
    y = folder / "study.yaml"
    study = yaml.safe_load(y.read_text(encoding="utf-8"))
    mutate(study["analyses"][0])
    y.write_text(yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for command in (["validate", str(folder)], ["run", str(folder), "--out", str(tmp_path / "results")]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2, (what, result.output)
        assert "Traceback" not in result.output and "Internal error" not in result.output, result.output
        line = next((x for x in result.output.splitlines() if path in x), "")
        assert line, f"{what}: {path} not named in:\n{result.output}"
        assert re.search(r"study\.yaml:\d+: ", line), line
        assert words in line, (what, line)
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


def test_schema_documents_every_designs_options():
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    defs = schema["$defs"]
    items = schema["properties"]["analyses"]["items"]
    assert items["discriminator"]["propertyName"] == "design"
    assert set(items["discriminator"]["mapping"]) == set(FAMILIES)
    for family in families():
        opts = defs[family.Options.__name__]
        assert opts.get("additionalProperties") is False
        for name, field in family.Options.model_fields.items():
            prop = opts["properties"][name]
            assert prop.get("description"), f"{family.design}.options.{name} has no one-line meaning"
            if not field.is_required() and field.default_factory is None and field.default is not None:
                assert "default" in prop, f"{family.design}.options.{name} has no default in the schema"
        fit = defs[family.Fit.__name__]
        assert "conf_level" in fit["properties"] and fit.get("additionalProperties") is False
    # allowed values are listed
    assert set(defs["RandomizedOptions"]["properties"]["adjustment"]["enum"]) == {"lin", "ancova", "none"}
