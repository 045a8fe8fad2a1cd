"""Benefit metrics on small hand-built panels worked out by hand (year boundaries, censoring,
missing weeks, persons with no benefit at all), plus the registry adapters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.exceptions import DataValidationError, StudyConfigError
from evaluation.metrics import benefits as B
from evaluation.metrics.registry import METRICS, compute_metric, describe_metric
from evaluation.data.registers import register_from_frame

# Weeks 2020-W50 … 2021-W05 (2020 has 53 weeks): columns W50 W51 W52 W53 W01 W02 W03 W04 W05.
#   a: sygedagpenge W51–W53, then nothing (missing weeks = no benefit)
#   b: kontanthjælp W50–2021-W02, emigrated (997) W03–W05
#   c: never on any benefit (absent from the long register)
#   d: SU W52–2021-W01, a-dagpenge W02–W03, nothing after
LONG = pd.DataFrame(
    [("a", w, 890) for w in ["2020-W51", "2020-W52", "2020-W53"]]
    + [("b", w, 130) for w in ["2020-W50", "2020-W51", "2020-W52", "2020-W53", "2021-W01", "2021-W02"]]
    + [("b", w, 997) for w in ["2021-W03", "2021-W04", "2021-W05"]]
    + [("d", w, 651) for w in ["2020-W52", "2020-W53", "2021-W01"]]
    + [("d", w, 111) for w in ["2021-W02", "2021-W03"]],
    columns=["person", "week", "code"],
)
PARTS = pd.DataFrame(
    {"index_week": ["2020-W52"] * 4, "group": ["I", "K", "I", "K"]},
    index=pd.Index(["a", "b", "c", "d"], name="person"),
)


@pytest.fixture(scope="module")
def panel():
    return register_from_frame(LONG, participants=PARTS, absent_persons="self_support")


def _vals(s):
    return [None if pd.isna(v) else v for v in s.tolist()]


def test_benefit_dependency_by_hand(panel):
    # window 1..4 = W53, W01, W02, W03
    assert _vals(B.benefit_dependency(panel, PARTS, (1, 4))) == [0.25, 1.0, 0.0, 0.5]
    # before the index week: W50, W51
    assert _vals(B.benefit_dependency(panel, PARTS, (-2, -1))) == [0.5, 1.0, 0.0, 0.0]
    # restricted to sygedagpenge
    assert _vals(B.benefit_dependency(panel, PARTS, (1, 4), ["sygedagpenge"])) == [0.25, 0.0, 0.0, 0.0]
    # W04..W07: W06, W07 are past the end of data; b censored throughout -> missing
    assert _vals(B.benefit_dependency(panel, PARTS, (5, 8))) == [0.0, None, 0.0, 0.0]
    c = B.benefit_dependency(panel, PARTS, (1, 4), counts=True)
    assert c["benefit_weeks"].tolist() == [1, 3, 0, 2] and c["observed_weeks"].tolist() == [4, 3, 4, 4]


def test_benefit_dependency_order_and_input_untouched(panel):
    parts = PARTS.iloc[::-1].copy()
    before = parts.copy()
    s = B.benefit_dependency(panel, parts, (1, 4))
    assert list(s.index) == ["d", "c", "b", "a"] and _vals(s) == [0.5, 0.0, 1.0, 0.25]
    pd.testing.assert_frame_equal(parts, before)


def test_self_support_week(panel):
    assert _vals(B.self_support_week(panel, PARTS, 1)) == [0.0, 0.0, 1.0, 0.0]   # W53 (SU is not self-support)
    assert _vals(B.self_support_week(panel, PARTS, 4)) == [1.0, None, 1.0, 0.0]  # W03: b emigrated


def test_status_at_month(panel):
    s = B.status_at_month(panel, PARTS, months=(1,))  # month 1 = week 4 = 2021-W03
    assert s["status_1m"].tolist() == ["self_support", "censored", "self_support", "a_dagpenge"]
    s4 = B.status_at_month(panel, PARTS, months=(1,), span=4)  # W53..W03, highest priority wins
    assert s4["status_1m"].tolist() == ["sygedagpenge", "kontanthjaelp", "self_support", "a_dagpenge"]
    assert B.status_at_month(panel, PARTS, months=(12,))["status_12m"].tolist() == ["censored"] * 4
    assert [B.month_to_week(m) for m in (1, 3, 6, 12)] == [4, 13, 26, 52]


def test_weeks_to_self_support(panel):
    w1 = B.weeks_to_self_support(panel, PARTS, min_weeks=1)
    assert w1["weeks"].tolist() == [2, 3, 1, 5] and w1["event"].tolist() == [1, 0, 1, 1]
    w3 = B.weeks_to_self_support(panel, PARTS, min_weeks=3)
    # d has only W04-W05 before the end of data -> censored at week 6 (W05)
    assert w3["weeks"].tolist() == [2, 3, 1, 6] and w3["event"].tolist() == [1, 0, 1, 0]
    h = B.weeks_to_self_support(panel, PARTS, min_weeks=1, horizon=1)
    assert h["weeks"].tolist() == [1, 1, 1, 1] and h["event"].tolist() == [0, 0, 1, 0]


def test_self_support_spell(panel):
    s = B.self_support_spell(panel, PARTS, min_weeks=4, window=(1, 6))
    assert _vals(s["spell"]) == [1.0, 0.0, 1.0, 0.0] and _vals(s["start"]) == [2.0, None, 1.0, None]
    s13 = B.self_support_spell(panel, PARTS, min_weeks=13, window=(1, 52))
    assert _vals(s13["spell"]) == [0.0, 0.0, 0.0, 0.0]


def test_full_time_persons(panel):
    f = B.full_time_persons(panel, ("2020-W51", "2021-W02"), PARTS,
                            benefit_types=["sygedagpenge", "kontanthjaelp", "a_dagpenge"])
    # 5 weeks: W51 W52 W53 W01 W02
    assert f.round(6).values.tolist() == [[0.6, 0, 0, 0.6], [0, 1.0, 0, 1.0], [0, 0, 0, 0], [0, 0, 0.2, 0.2]]
    summ = B.full_time_persons_summary(f, PARTS)
    assert summ.set_index("group")["public_support"].round(6).to_dict() == {"I": 0.6, "K": 1.2}
    with pytest.raises(DataValidationError, match="outside the register"):
        B.full_time_persons(panel, ("2020-W40", "2021-W02"))


def test_status_share_series(panel):
    s = B.status_share_series(panel, PARTS, weeks=(1, 4))
    i = s[s.group == "I"].set_index("week")
    k = s[s.group == "K"].set_index("week")
    assert i.loc[1, "share"] == 0.5 and i.loc[4, "share"] == 1.0
    assert (k.loc[1, "n"], k.loc[1, "share"]) == (2, 0.0)
    assert (k.loc[4, "n"], k.loc[4, "n_status"]) == (1, 0)  # b censored in W03


# ----------------------------------------------------------------------------- long-term unemployment
def _ltu_panel():
    weeks = 70  # 2019-W40 .. 2021-W04, crossing 2020-W53
    first = "2019-W40"
    from evaluation.data.weeks import WeekRange, parse_week
    wr = WeekRange(parse_week(first), weeks)
    u = np.zeros((4, weeks), dtype=int)
    u[0, :60] = 111                   # u: unemployed weeks 0..59
    u[1, :41] = 111; u[1, 50:] = 111  # v: 41 + gap + from 50 -> 43 of 52 -> LTU
    u[2, :39] = 111; u[2, 50:] = 111  # w: 39 + gap + from 50 -> 41 of 52 -> not LTU
    u[3, :] = 111; u[3, 65:] = 999    # x: dead (999) from column 65
    wide = pd.DataFrame(np.where(u == 0, np.nan, u), columns=wr.dream_columns())
    wide.insert(0, "person", ["u", "v", "w", "x"])
    return register_from_frame(wide), wr


def test_long_term_unemployment_matrix():
    p, wr = _ltu_panel()
    L = B.long_term_unemployment(p).to_numpy()
    assert (L[:, :51] == -1).all()                          # incomplete 52-week history
    assert (L[0, 51:60] == 1).all() and (L[0, 60:] == 0).all()
    assert (L[1, 51:] == 1).all()
    assert (L[2, 51:] == 0).all()
    assert (L[3, 51:65] == 1).all() and (L[3, 65:] == -1).all()
    assert "2020-W53" in B.long_term_unemployment(p).columns


def test_long_term_unemployed_relative_to_index():
    p, wr = _ltu_panel()
    parts = pd.DataFrame({"index_week": [wr.labels()[60]] * 4}, index=pd.Index(["u", "v", "w", "x"], name="person"))
    assert _vals(B.long_term_unemployed(p, parts, 0)) == [0.0, 1.0, 0.0, 1.0]
    assert _vals(B.long_term_unemployed(p, parts, 5)) == [0.0, 1.0, 0.0, None]
    assert _vals(B.long_term_unemployed(p, parts, -10)) == [None, None, None, None]  # column 50
    parts55 = parts.assign(index_week=wr.labels()[55])
    # columns 50..60: column 50 undefined; u is LTU in 51..59 (9 of 10)
    assert _vals(B.long_term_unemployment_share(p, parts55, (-5, 5))) == [0.9, 1.0, 0.0, 1.0]


def test_long_sickness_spells():
    from evaluation.data.weeks import WeekRange, parse_week
    wr = WeekRange(parse_week("2020-W40"), 60)
    m = np.zeros((4, 60))
    m[0, 5:32] = 890    # 27 weeks  -> longer than 26
    m[1, 5:31] = 890    # 26 weeks  -> not
    m[2, 0:27] = 890    # 27 weeks
    m[2, 30:60] = 890   # 30 weeks, cut by the end of the register
    wide = pd.DataFrame(np.where(m == 0, np.nan, m), columns=wr.dream_columns())
    wide.insert(0, "person", list("pqrs"))
    p = register_from_frame(wide)
    parts = pd.DataFrame({"index_week": [wr.labels()[10]] * 4}, index=pd.Index(list("pqrs"), name="person"))
    r = B.long_sickness_spells(p, parts, (1, 52))
    assert r["count"].tolist() == [1, 0, 2, 0] and r["longest"].tolist() == [27, 0, 30, 0]
    r2 = B.long_sickness_spells(p, parts, (25, 30))  # columns 35..40: only r's second spell
    assert r2["any"].tolist() == [0, 0, 1, 0]


# ----------------------------------------------------------------------------- errors
def test_index_week_outside_register(panel):
    bad = PARTS.assign(index_week=["2020-W52", "2021-W10", "2020-W52", "2019-W01"])
    with pytest.raises(DataValidationError, match=r"participants: column 'index_week': 2 index week\(s\) outside.*person b: 2021-W10"):
        B.benefit_dependency(panel, bad)


def test_participant_without_register_rows():
    p = register_from_frame(LONG)
    with pytest.raises(DataValidationError, match=r"1 participant\(s\) have no rows in the register \(e.g. c\)"):
        B.benefit_dependency(p, PARTS)


def test_bad_parameters(panel):
    with pytest.raises(StudyConfigError):
        B.benefit_dependency(panel, PARTS, (52, 1))
    with pytest.raises(DataValidationError, match="unknown benefit group"):
        B.benefit_dependency(panel, PARTS, (1, 4), ["nope"])
    with pytest.raises(StudyConfigError, match="censoring group"):
        B.benefit_dependency(panel, PARTS, (1, 4), ["doed"])
    with pytest.raises(DataValidationError, match="index-week column"):
        B.benefit_dependency(panel, PARTS.drop(columns="index_week"))


# ----------------------------------------------------------------------------- registry
NAMES = ["benefit_dependency", "self_support_week", "status_at_month", "self_support_spell", "weeks_to_self_support",
         "self_support_event", "long_term_unemployed", "long_term_unemployment_share", "full_time_persons",
         "long_sickness_spell"]


def test_registered_metrics_from_sources():
    reg = LONG.set_index("person")
    sources = {"register": reg, "participants": PARTS}
    s = compute_metric("benefit_dependency", sources, {"window": [1, 4], "absent_persons": "self_support"})
    assert _vals(s) == [0.25, 1.0, 0.0, 0.5]
    s = compute_metric("status_at_month", sources, {"month": 1, "status": "self_support", "absent_persons": "self_support"})
    assert _vals(s) == [1.0, None, 1.0, 0.0]
    s = compute_metric("full_time_persons", sources, {"period": ["2020-W51", "2021-W02"], "absent_persons": "self_support"})
    assert s.round(6).tolist() == [0.6, 1.0, 0.0, 0.2]
    with pytest.raises(DataValidationError, match="no rows in the register"):
        compute_metric("benefit_dependency", sources, {"window": [1, 4]})
    with pytest.raises(StudyConfigError, match="no parameter"):
        compute_metric("benefit_dependency", sources, {"windw": [1, 4]})


@pytest.mark.parametrize("name", NAMES)
def test_every_registered_metric_runs_and_has_a_danish_definition(name):
    assert name in METRICS
    params = {"absent_persons": "self_support"}
    if name == "full_time_persons":
        params["period"] = ["2020-W51", "2021-W02"]
    out = compute_metric(name, {"register": LONG.set_index("person"), "participants": PARTS}, params)
    assert isinstance(out, pd.Series) and list(out.index) == list(PARTS.index)
    text = describe_metric(name, {k: v for k, v in params.items() if k != "absent_persons"})
    assert len(text) > 40 and "indeksuge" in text
