"""Synthetic follow-up figures: reproducible, shipped as generated, and the same as in the studies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from evaluation.synthetic.targets import beskaeftigelsesplan_2015, udvikling_af_fleksjob, write_all

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("make", [udvikling_af_fleksjob, beskaeftigelsesplan_2015])
def test_generators_are_seeded(make):
    a, b, c = make(), make(), make(seed=1)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert any(not a[name].equals(c[name]) for name in a)


def test_shipped_files_equal_a_fresh_generation(tmp_path):
    for path in write_all(tmp_path):
        shipped = ROOT / "data" / "synthetic" / path.parent.name / path.name
        assert shipped.read_bytes() == path.read_bytes(), f"{shipped} differs from the generator"


def _declared(slug: str) -> dict[str, dict]:
    study = yaml.safe_load((ROOT / "studies" / slug / "study.yaml").read_text(encoding="utf-8"))
    return {t["indicator"]: t for t in study["targets"]}


def test_fleksjob_targets_are_the_last_synthetic_measurement():
    shares = udvikling_af_fleksjob()["shares"]
    last = shares[shares["measured_at"] == "2018-03-31"].set_index("indicator")
    declared = _declared("udvikling-af-fleksjob")
    ind = "andel_oeget_timetal"
    assert declared[ind]["observed"] == last.loc[ind, "share"]
    assert declared[ind]["n_observed"] == last.loc[ind, "n"]
    assert (shares["source"] == "synthetic").all()
    # the share on ledighedsydelse is measured on the person file (pre/post analysis), which holds the same
    # March 2018 figure as the quarterly series
    assert declared["andel_ledighedsydelse"]["analysis"] == "ledighedsydelse_foer_efter"
    persons = pd.read_csv(ROOT / "data" / "synthetic" / "udvikling-af-fleksjob" / "persons.csv")
    march = persons[persons["period"] == "2018-03-31"]["on_ledighedsydelse"]
    assert (len(march), int(march.sum())) == (last.loc["andel_ledighedsydelse", "n"], last.loc["andel_ledighedsydelse", "count"])
    june = persons[persons["period"] == "2016-06-30"]["on_ledighedsydelse"]
    assert round(june.mean(), 3) == 0.153  # the application's baseline


def test_fleksjob_person_file_is_reproduced_by_the_generator(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate", ROOT / "data" / "synthetic" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    gen.generate(["udvikling-af-fleksjob"], root=tmp_path)
    for name in ("persons.csv", "persons_truth.json", "shares.csv", "cohort.csv"):
        shipped = ROOT / "data" / "synthetic" / "udvikling-af-fleksjob" / name
        assert (tmp_path / "udvikling-af-fleksjob" / name).read_bytes() == shipped.read_bytes(), name


def test_beskaeftigelsesplan_targets_are_the_synthetic_figures():
    figures = beskaeftigelsesplan_2015()["figures"].set_index("indicator")
    declared = _declared("beskaeftigelsesplan-2015")
    for ind, row in figures.iterrows():
        assert declared[ind]["observed"] == pytest.approx(row["observed"])
        if ind != "samarbejdsgrad":  # its baseline (32 %, 2013) comes from the plan itself
            assert declared[ind]["baseline"] == pytest.approx(row["baseline"])


def test_studies_say_their_figures_are_synthetic():
    for slug in ("udvikling-af-fleksjob", "beskaeftigelsesplan-2015"):
        study = yaml.safe_load((ROOT / "studies" / slug / "study.yaml").read_text(encoding="utf-8"))
        assert "syntetiske tal" in study["summary"]
        assert all("Syntetisk" in t["note"] for t in study["targets"])
