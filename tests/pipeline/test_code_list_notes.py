"""A study whose register results rely on an unverified DREAM code group says so in its data appendix.

The rule (``evaluation.data.study_data.relied_on_groups``): a group is relied on when one of its
codes occurs in the study's register, or when one of the study's metrics names it (e.g.
``benefit_types``). Unverified groups among these get a Danish data note in the bundle's
``data_notes``, which the report prints in its data appendix; a study whose code list is verified
for every group it relies on gets no such note.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from click.testing import CliRunner

from evaluation.cli import main
from evaluation.pipeline.run import run_study

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "data" / "codes" / "dream_benefit_groups.yaml"
NOTE = "er ikke efterprøvet mod offentliggjort DREAM-dokumentation"


def _study(root: Path, *, codes: dict | None = None, benefit_types: list[str] | None = None) -> Path:
    """A small randomised study on a weekly register with kontanthjælp (730) and sygedagpenge (890) weeks."""
    root.mkdir(parents=True)
    n = 60
    ids = [f"p{i:03d}" for i in range(n)]
    pd.DataFrame({"person_id": ids, "group": ["intervention", "control"] * (n // 2), "index_week": "2021-W02"}).to_csv(
        root / "participants.csv", index=False)
    rng = np.random.default_rng(7)
    m = np.where(rng.random((n, 20)) < 0.5, 730.0, np.nan)
    m[:6, :4] = 890
    reg = pd.DataFrame(m, columns=[f"y_21{w:02d}" for w in range(1, 21)])
    reg.insert(0, "person_id", ids)
    reg.to_csv(root / "register.csv", index=False)
    register = {"path": "register.csv", "kind": "register", "layout": "wide", "id_column": "person_id",
                "participants": "participants"}
    if codes is not None:
        (root / "codes.yaml").write_text(yaml.safe_dump(codes, allow_unicode=True, sort_keys=False), encoding="utf-8")
        register["codes"] = "codes.yaml"
    params = {"window": [1, 12]}
    if benefit_types:
        params["benefit_types"] = benefit_types
    study = {
        "id": root.name, "title": "Lille registerstudie",
        "funder": {"name": "Det Lokale Beskæftigelsesråd Aalborg", "type": "LBR-pulje"},
        "operator": "Jobcenter Aalborg", "period": {"start": "2021-01-01", "end": "2021-12-31"}, "budget_dkk": 100000,
        "theory": {
            "target_group": {"description": "Kontanthjælpsmodtagere"},
            "nodes": [{"id": "indsats", "type": "activity", "label": "Indsats"},
                      {"id": "forsoergelse", "type": "outcome", "horizon": "short", "primary": True,
                       "label": "Mindre forsørgelse"}],
            "links": [{"from": "indsats", "to": "forsoergelse", "direct": True}],
            "indicators": [{"id": "afh", "outcome": "forsoergelse", "label": "Andel uger på offentlig forsørgelse",
                            "unit": "andel", "metric": {"name": "benefit_dependency", "params": params}}],
        },
        "data": {"participants": {"path": "participants.csv", "id_column": "person_id",
                                  "columns": ["group", "index_week"]},
                 "register": register},
        "analyses": [{"id": "hoved", "indicator": "afh", "design": "randomized_comparison", "primary": True,
                      "options": {"treatment": "group"}}],
    }
    (root / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def _code_list(**unverified: str) -> dict:
    """The shipped grouping with the named groups marked unverified (group id → reason)."""
    doc = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    doc["version"] = "test-codes-1"
    for g in doc["groups"]:
        if g["id"] in unverified:
            g["verified"] = False
            g["note"] = unverified[g["id"]]
    return doc


def _notes(study: Path, tmp_path: Path) -> list[str]:
    bundle = json.loads((run_study(study, tmp_path / "results", figures=False) / "results.json").read_text("utf-8"))
    return bundle["data_notes"]["register"]


def test_shipped_code_list_gives_no_note(tmp_path):
    notes = _notes(_study(tmp_path / "s"), tmp_path)
    assert not [n for n in notes if NOTE in n]


def test_unverified_group_in_the_data_is_named_in_the_bundle(tmp_path):
    notes = _notes(_study(tmp_path / "s", codes=_code_list(kontanthjaelp="ikke tjekket")), tmp_path)
    note = [n for n in notes if NOTE in n]
    assert note == [
        "Kodelisten test-codes-1: koderne for ydelsesgruppen «Kontanthjælp (inkl. aktivering)» (130–131, 133–139, "
        "730–731, 733–739) er ikke efterprøvet mod offentliggjort DREAM-dokumentation. Kontrollér dem mod "
        "kodelisten, der fulgte med registerudtrækket, og angiv en kodeliste med de rigtige koder (codes: i "
        "registerets datadeklaration), hvis de afviger."
    ]


def test_verified_custom_code_list_gives_no_note(tmp_path):
    doc = _code_list()
    for g in doc["groups"]:
        g["source"] = "kodeliste leveret med DREAM-udtrækket, version 2024-11"
        g["verified"] = True
    notes = _notes(_study(tmp_path / "s", codes=doc), tmp_path)
    assert "kodeliste test-codes-1" in notes
    assert not [n for n in notes if NOTE in n]


def test_unverified_group_neither_in_the_data_nor_named_gives_no_note(tmp_path):
    notes = _notes(_study(tmp_path / "s", codes=_code_list(jobafklaringsforloeb="gæt")), tmp_path)
    assert not [n for n in notes if NOTE in n]


def test_unverified_group_named_by_a_metric_is_noted_even_without_codes_in_the_data(tmp_path):
    study = _study(tmp_path / "s", codes=_code_list(jobafklaringsforloeb="gæt", sygedagpenge="gæt"),
                   benefit_types=["sygedagpenge", "jobafklaringsforloeb"])
    note = [n for n in _notes(study, tmp_path) if NOTE in n]
    assert len(note) == 1
    assert "ydelsesgrupperne «Sygedagpenge» (774, 890, 893–899) og «Jobafklaringsforløb» (785)" in note[0]


def test_bad_code_list_exits_2_with_file_line_and_group(tmp_path):
    doc = _code_list()
    del doc["groups"][2]["source"]
    study = _study(tmp_path / "s", codes=doc)
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        res = CliRunner().invoke(main, ["run", str(study)], catch_exceptions=False)
    finally:
        os.chdir(old)
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert "codes.yaml:" in res.output and "groups[2] (id 'kontanthjaelp'): missing field(s) 'source'" in res.output
