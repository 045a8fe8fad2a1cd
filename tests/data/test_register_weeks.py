"""A register declares the weeks it covers (issue 13 item 3): wide, long and spells give the same metrics.

Hand-worked panel, weeks 2020-W01 … 2020-W10, index week 2020-W01 for everyone, window weeks 1–8
(2020-W02 … 2020-W09):

* person A: kontanthjælp (code 130) in 2020-W03 only → on benefit 1 of 8 weeks = 0.125; self-supporting
  in week 5 (2020-W06);
* person B: kontanthjælp in 2020-W02 … 2020-W05 → 4 of 8 = 0.5; self-supporting in week 5;
* person C: sygedagpenge (code 890) 2020-W06 … 2020-W09 → 4 of 8 = 0.5; on benefit in week 5.

In the long and spells files, A's last code is in 2020-W03 and no one has a code in 2020-W10: without
declared weeks A's weeks after 2020-W05 (the last week any code shows) would be censored, A would
score 1/4 = 0.25 instead of 0.125, and C's week 5 would still be known but the register would end at
2020-W09. With ``weeks: {first: 2020-W01, last: 2020-W10}`` every layout gives the hand-worked numbers.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.data.registers import read_register
from evaluation.declaration.study import load_study
from evaluation.metrics.benefits import benefit_dependency, self_support_week
from evaluation.pipeline.prepare import prepare_study

WEEKS = [f"2020-W{w:02d}" for w in range(1, 11)]
CODES = {"A": {"2020-W03": 130}, "B": {f"2020-W{w:02d}": 130 for w in range(2, 6)},
         "C": {f"2020-W{w:02d}": 890 for w in range(6, 10)}}
EXPECTED_DEPENDENCY = {"A": 0.125, "B": 0.5, "C": 0.5}
EXPECTED_WEEK5 = {"A": 1.0, "B": 1.0, "C": 0.0}


def _wide() -> pd.DataFrame:
    cols = {f"y_{w[2:4]}{w[-2:]}": [CODES[p].get(w) for p in "ABC"] for w in WEEKS}
    return pd.DataFrame({"person": list("ABC"), **cols})


def _long() -> pd.DataFrame:
    return pd.DataFrame([(p, w, c) for p in "ABC" for w, c in CODES[p].items()], columns=["person", "week", "code"])


def _spells() -> pd.DataFrame:
    return pd.DataFrame({"person": list("ABC"), "start_week": ["2020-W03", "2020-W02", "2020-W06"],
                         "end_week": ["2020-W03", "2020-W05", "2020-W09"], "code": [130, 130, 890]})


PARTICIPANTS = pd.DataFrame({"index_week": ["2020-W01"] * 3}, index=pd.Index(list("ABC"), name="person"))


def _metrics(panel) -> tuple[dict, dict]:
    dep = benefit_dependency(panel, PARTICIPANTS, window=(1, 8))
    wk5 = self_support_week(panel, PARTICIPANTS, week=5)
    return {k: float(v) for k, v in dep.items()}, {k: float(v) for k, v in wk5.items()}


@pytest.mark.parametrize("layout, make", [("wide", _wide), ("long", _long), ("spells", _spells)])
def test_declared_weeks_give_the_hand_worked_numbers(tmp_path, layout, make):
    f = tmp_path / f"{layout}.csv"
    make().to_csv(f, index=False)
    panel = read_register(f, layout, first_week="2020-W01", last_week="2020-W10")
    assert panel.weeks.labels() == WEEKS
    dep, wk5 = _metrics(panel)
    assert dep == EXPECTED_DEPENDENCY
    assert wk5 == EXPECTED_WEEK5


@pytest.mark.parametrize("layout, make", [("long", _long), ("spells", _spells)])
def test_without_the_last_week_the_extract_ends_at_its_last_code(tmp_path, layout, make):
    """The failure the declaration fixes (so the test above can fail): an extract holding only A's rows ends
    at A's last code, so A's weeks after it are censored and A scores 1/2 instead of 1/8."""
    f = tmp_path / f"{layout}.csv"
    only_a = make()
    only_a[only_a["person"] == "A"].to_csv(f, index=False)
    part = PARTICIPANTS.loc[["A"]]
    cut = read_register(f, layout, first_week="2020-W01")
    assert cut.weeks.labels()[-1] == "2020-W03"
    assert float(benefit_dependency(cut, part, window=(1, 8)).iloc[0]) == 0.5
    assert np.isnan(self_support_week(cut, part, week=5).iloc[0])
    full = read_register(f, layout, first_week="2020-W01", last_week="2020-W10")
    assert float(benefit_dependency(full, part, window=(1, 8)).iloc[0]) == 0.125
    assert float(self_support_week(full, part, week=5).iloc[0]) == 1.0


STUDY = """\
id: uger
title: Registeruger
funder: {name: Test, type: kommune}
operator: Test
period: {start: 2020-01-01, end: 2020-12-31}
theory:
  target_group: {description: Test}
  nodes:
    - {id: indsats, type: activity, label: Indsats}
    - {id: udfald, type: outcome, horizon: short, primary: true, label: Udfald}
  links:
    - {from: indsats, to: udfald, direct: true}
  indicators:
    - {id: afhaengighed, outcome: udfald, label: Andel uger på ydelse, unit: andel,
       metric: {name: benefit_dependency, params: {window: [1, 8]}}}
    - {id: selvforsoergende_5, outcome: udfald, label: Selvforsørgende i uge 5, unit: andel,
       metric: {name: self_support_week, params: {week: 5}}}
data:
  participants: {path: participants.csv, id_column: person_id, columns: [group, index_week]}
  register:
    path: register.csv
    kind: register
    layout: {layout}
    id_column: person_id
    weeks: {first: 2020-W01, last: 2020-W10}
analyses:
  - {id: a, indicator: afhaengighed, design: randomized_comparison, options: {treatment: group}}
  - {id: b, indicator: selvforsoergende_5, design: randomized_comparison, options: {treatment: group}}
report: {disclosure_threshold: 3, min_group_size: 3}
"""


def _study(tmp_path: Path, layout: str, make) -> Path:
    folder = tmp_path / "studies" / "uger"
    folder.mkdir(parents=True)
    # the hand-worked persons A, B, C and 9 more persons without codes, so every group has >= 3 persons
    reg = make().rename(columns={"person": "person_id"})
    ids = list("ABC") + [f"X{i}" for i in range(9)]
    parts = pd.DataFrame({"person_id": ids, "group": (["intervention", "control"] * 6), "index_week": "2020-W01"})
    if layout == "wide":
        extra = pd.DataFrame({"person_id": ids[3:], **{c: None for c in reg.columns if c != "person_id"}})
        reg = pd.concat([reg, extra], ignore_index=True)
    parts.to_csv(folder / "participants.csv", index=False)
    reg.to_csv(folder / "register.csv", index=False)
    text = STUDY.replace("{layout}", layout)
    if layout != "wide":
        text = text.replace("    id_column: person_id\n    weeks:", "    id_column: person_id\n    absent_persons: self_support\n    weeks:")
    (folder / "study.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


@pytest.mark.parametrize("layout, make", [("wide", _wide), ("long", _long), ("spells", _spells)])
def test_study_register_weeks_in_every_layout(tmp_path, layout, make):
    prepared = prepare_study(load_study(_study(tmp_path, layout, make)))
    panel = prepared.data.frames["register"]
    assert panel.weeks.labels() == WEEKS
    a, b = prepared.inputs["a"].frame, prepared.inputs["b"].frame
    by_line = prepared.data.rows["participants"].by_person
    # persons by their line in participants.csv: A on line 2, B on 3, C on 4, the rest 5..13
    dep = {int(by_line[p]): float(v) for p, v in a["afhaengighed"].items()}
    wk5 = {int(by_line[p]): float(v) for p, v in b["selvforsoergende_5"].items()}
    assert dep[2] == 0.125 and dep[3] == 0.5 and dep[4] == 0.5
    assert wk5[2] == 1.0 and wk5[3] == 1.0 and wk5[4] == 0.0
    assert all(dep[i] == 0.0 and wk5[i] == 1.0 for i in range(5, 14))
    assert not np.isnan(list(wk5.values())).any()
