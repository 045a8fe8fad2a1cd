"""The business case worked out by hand: two benefit types, two years of rates, a known effect.

Twelve persons, index week 2021-W50, four weeks of follow-up: 2021-W51, 2021-W52 (rates of 2021) and 2022-W01,
2022-W02 (rates of 2022). Rates (kr. per week): kontanthjælp 2.000 (2021) and 2.100 (2022), sygedagpenge 4.000
(2021) and 4.200 (2022).

* Control (6 persons): kontanthjælp all four weeks: 2·2.000 + 2·2.100 = 8.200 kr., 4 weeks each.
* Intervention (6 persons): three on kontanthjælp in the two 2021 weeks, then self-supporting: 4.000 kr.; three on
  sygedagpenge in the two 2021 weeks, then self-supporting: 8.000 kr.; 2 weeks each. Mean 6.000 kr.

Effect per participant: 6.000 − 8.200 = −2.200 kr. and 2 − 4 = −2 weeks; by type kontanthjælp 1 − 4 = −3 weeks and
2.000 − 8.200 = −6.200 kr., sygedagpenge 1 − 0 = +1 week and 4.000 − 0 = +4.000 kr. (−6.200 + 4.000 = −2.200).
Cost 12.000 kr. for 6 participants: 2.000 kr. each; saved 6 · 2.200 = 13.200 kr.; net 13.200 − 12.000 = 1.200 kr.;
kr. per saved week 12.000 / (6 · 2) = 1.000; price of a week in the control group 8.200 / 4 = 2.050 kr., so break-even
is 12.000 / (6 · 2.050) = 0,9756 weeks per participant. The kroner effect's SE (Welch = HC2): the intervention
group's values 4.000 ×3 and 8.000 ×3 have variance 6·2.000²/5 = 4.800.000, the control group none, so
SE = sqrt(4.800.000 / 6) = 894,43 kr. with t(12 − 2 = 10). Municipal perspective: 80 % after refusion, so every
kroner figure × 0,8: effect −1.760 kr., net 6 · 1.760 − 12.000 = −1.440 kr.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.data.rates import RateTable
from evaluation.data.registers import register_from_frame
from evaluation.designs.business_case import business_case, net_draws
from evaluation.designs.family import AnalysisInput, get_family
from evaluation.pipeline.time import ValueTables, _joint_at_horizons, time_source

RATES = """
version: test-2
groups:
  kontanthjaelp:
    label_da: Kontanthjælp
    rates:
      2021: {amount: 2000, unit: week, source: by hand, verified: true}
      2022: {amount: 2100, unit: week, source: by hand, verified: true}
  sygedagpenge:
    label_da: Sygedagpenge
    rates:
      2021: {amount: 4000, unit: week, source: by hand, verified: true}
      2022: {amount: 4200, unit: week, source: by hand, verified: true}
refusion:
  source: test
  verified: true
  steps:
    - {first_week: 1, last_week: 52, refusion: 0.5, medfinansiering: 0.5}
    - {first_week: 53, last_week: null, refusion: 0.20, medfinansiering: 0.80}
"""


@pytest.fixture()
def setup(tmp_path):
    path = tmp_path / "rates.yaml"
    path.write_text(RATES, encoding="utf-8")
    rows = []
    persons = [f"k{i}" for i in range(6)] + [f"i{i}" for i in range(6)]
    for p in persons:
        rows.append((p, "2021-W50", 730))  # everyone on kontanthjælp in the index week
        if p.startswith("k"):
            rows += [(p, w, 730) for w in ("2021-W51", "2021-W52", "2022-W01", "2022-W02")]
        elif int(p[1:]) < 3:
            rows += [(p, w, 730) for w in ("2021-W51", "2021-W52")]
        else:
            rows += [(p, w, 890) for w in ("2021-W51", "2021-W52")]
    panel = register_from_frame(pd.DataFrame(rows, columns=["person", "week", "code"]), layout="long",
                                first_week="2021-W40", last_week="2022-W10")
    parts = pd.DataFrame({"group": ["control"] * 6 + ["intervention"] * 6, "index_week": "2021-W50"},
                         index=pd.Index(persons, name="person"))
    fam = get_family("randomized_comparison")
    inp = AnalysisInput(id="x", design=fam.design, options=fam.Options(), fit=fam.Fit(), outcome=None, frame=parts)
    return RateTable.load(path), panel, parts, fam, inp


def _effects(rates, panel, parts, fam, inp, perspective="offentlig"):
    tables = ValueTables(panel, rates=rates, perspective=perspective)
    source = time_source(panel, parts, tables)
    kinds = ["kroner", "support", "weeks:kontanthjaelp", "kroner:kontanthjaelp", "weeks:sygedagpenge",
             "kroner:sygedagpenge"]
    joint, covered = _joint_at_horizons(fam, inp, source, kinds, [4])
    assert covered == [4]
    return {k: joint[k] for k in kinds}


def test_effects_by_hand(setup):
    j = _effects(*setup)
    assert j["kroner"].estimates[0] == pytest.approx(-2200)
    assert j["support"].estimates[0] == pytest.approx(-2)
    assert j["weeks:kontanthjaelp"].estimates[0] == pytest.approx(-3)
    assert j["kroner:kontanthjaelp"].estimates[0] == pytest.approx(-6200)
    assert j["weeks:sygedagpenge"].estimates[0] == pytest.approx(1)
    assert j["kroner:sygedagpenge"].estimates[0] == pytest.approx(4000)
    assert j["kroner"].std_errors()[0] == pytest.approx(math.sqrt(4_800_000 / 6))
    assert j["kroner"].df == 10


def test_business_case_by_hand(setup):
    j = _effects(*setup)
    kr, wk = j["kroner"], j["support"]
    effects = {4: {"kroner": {"estimate": kr.estimates[0], "std_error": kr.std_errors()[0], "df": kr.df},
                   "weeks": {"estimate": wk.estimates[0], "std_error": wk.std_errors()[0], "df": wk.df},
                   "control_kroner": 8200.0, "control_weeks": 4.0}}
    bc = business_case(effects, n_participants=6, cost=12_000, rate_factors=[0.5])
    r = bc["horizons"][4]
    se = math.sqrt(4_800_000 / 6)
    assert bc["cost_per_participant"] == 2000
    assert r["saved_per_participant"] == pytest.approx(2200)
    assert r["saved_total"] == pytest.approx(13_200)
    assert r["net"] == pytest.approx(1200)
    assert r["cost_per_saved_week"] == pytest.approx(1000)
    assert r["price_per_week"] == pytest.approx(2050)
    assert r["break_even_weeks_per_participant"] == pytest.approx(12_000 / (6 * 2050))
    q = stats.t.ppf(0.975, 10)
    assert r["net_ci"] == pytest.approx([13_200 - 6 * q * se - 12_000, 13_200 + 6 * q * se - 12_000])
    assert r["p_pays"] == pytest.approx(stats.t.cdf(1200 / (6 * se), 10))
    # the sensitivity table scales the rates: at half the rates the saving halves
    half = next(s for s in bc["sensitivity"] if s["rate_factor"] == 0.5)
    assert half["net"] == pytest.approx(6600 - 12_000)
    # simulation from the effect's sampling distribution agrees with the exact (linear) results
    d = net_draws(effects[4]["kroner"], n_participants=6, cost=12_000, draws=400_000, seed=3)
    assert np.mean(d > 0) == pytest.approx(r["p_pays"], abs=0.003)
    assert np.quantile(d, [0.025, 0.975]) == pytest.approx(r["net_ci"], rel=0.01)


def test_municipal_perspective_by_hand(setup):
    j = _effects(*setup, perspective="kommunal")
    assert j["kroner"].estimates[0] == pytest.approx(-2200 * 0.8)
    bc = business_case({4: {"kroner": {"estimate": j["kroner"].estimates[0], "std_error": j["kroner"].std_errors()[0],
                                       "df": 10.0},
                            "weeks": {"estimate": -2.0, "std_error": 0.0, "df": 10.0}}}, n_participants=6, cost=12_000)
    assert bc["horizons"][4]["net"] == pytest.approx(-1440)


def test_rates_between_listed_years_use_the_nearest(setup):
    rates = setup[0]
    r, used = rates.rate("kontanthjaelp", 2025)
    assert used == 2022 and r.weekly == 2100
    assert rates.rate("kontanthjaelp", 2019)[1] == 2021
    table, info = rates.category_table(setup[1].codes, [2021, 2022, 2023])
    assert ("kontanthjaelp", 2023, 2022) in info["substituted"]
    assert "a_dagpenge" in info["unpriced"]


def test_tiny_probabilities_are_computed_and_written_alike_in_every_table():
    """The sensitivity table printed '(0 %)' where the main table printed 'under 1 %' for the same kind of number:
    1 − cdf rounded a tail below 1e-16 to 0. Now the tail is the survival function, and the text is one rule."""
    from evaluation.reporting.time_sections import _p_text

    effects = {52: {"kroner": {"estimate": 5000.0, "std_error": 600.0, "df": None},
                    "weeks": {"estimate": 2.0, "std_error": 0.1, "df": None}, "control_kroner": 1000.0,
                    "control_weeks": 1.0}}
    bc = business_case(effects, n_participants=100, cost=100_000, rate_factors=[0.8, 1.2])
    main = bc["horizons"][52]["p_pays"]
    assert main == pytest.approx(stats.norm.sf((100_000 + 100 * 5000) / (100 * 600)), rel=1e-9)
    assert 0 < main < 1e-16  # 1 - cdf gave exactly 0
    for s in bc["sensitivity"]:
        z = (100_000 + 100 * 5000 * s["rate_factor"]) / (100 * 600 * s["rate_factor"])
        assert s["p_pays"] == pytest.approx(stats.norm.sf(z), rel=1e-9) and s["p_pays"] > 0
    texts = {_p_text(main), *(_p_text(s["p_pays"]) for s in bc["sensitivity"])}
    assert texts == {"under 1\u00a0%"}
    # a probability of exactly 0 or 1 (no sampling uncertainty) follows the same rule
    assert _p_text(0.0) == "under 1\u00a0%" and _p_text(1.0) == "over 99\u00a0%" and _p_text(0.5) == "50\u00a0%"
    known = business_case({52: {**effects[52], "kroner": {"estimate": -5000.0, "std_error": 0.0, "df": None}}},
                          n_participants=100, cost=100_000)
    assert known["horizons"][52]["p_pays"] == 1.0
