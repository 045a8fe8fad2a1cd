"""Synthetic register generator: seeded, realistic shape, known effect recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.exceptions import StudyConfigError
from evaluation.metrics.benefits import benefit_dependency, self_support_week
from evaluation.data.registers import read_participants, read_register
from evaluation.synthetic.registers import simulate_registers, write_synthetic


def test_seeded_and_deterministic():
    a = simulate_registers(300, seed=7, potential_outcomes=False)
    b = simulate_registers(300, seed=7, potential_outcomes=False)
    c = simulate_registers(300, seed=8, potential_outcomes=False)
    np.testing.assert_array_equal(a.panel.matrix, b.panel.matrix)
    pd.testing.assert_frame_equal(a.participants, b.participants)
    assert not np.array_equal(a.panel.matrix, c.panel.matrix)


@pytest.mark.parametrize("tg,entry", [("sick_listed", "sygedagpenge"), ("cash_benefit", "kontanthjaelp"),
                                      ("flex", "ledighedsydelse")])
def test_target_groups_enter_on_their_benefit_with_a_dip(tg, entry):
    sim = simulate_registers(3000, target_group=tg, seed=1, potential_outcomes=False)
    p = sim.participants
    at_index = benefit_dependency(sim.panel, p, (0, 0), [entry])
    assert at_index.min() == 1.0                       # everyone is on the target benefit at enrolment
    dip = benefit_dependency(sim.panel, p, (-2, -1)).mean()
    base = benefit_dependency(sim.panel, p, (-78, -53)).mean()
    assert dip > base + 0.2                             # Ashenfelter dip
    assert p["index_week"].nunique() > 20              # staggered enrolment


def test_known_effect_and_potential_outcomes():
    sim = simulate_registers(6000, target_group="sick_listed", hazard_ratio=1.6, seed=3)
    truth = sim.true_effect(window=(1, 52))
    assert truth < -0.05
    p = sim.participants
    d = benefit_dependency(sim.panel, p, (1, 52))
    est = d[p.group == "intervention"].mean() - d[p.group == "control"].mean()
    assert abs(est - truth) < 0.03                      # randomised difference recovers the truth
    # before enrolment the potential outcomes are identical
    np.testing.assert_array_equal(
        benefit_dependency(sim.potential["treated"], p, (-52, -1)), benefit_dependency(sim.potential["control"], p, (-52, -1))
    )
    null = simulate_registers(2000, hazard_ratio=1.0, seed=3)
    assert null.true_effect(window=(1, 52)) == 0.0
    assert null.true_effect("self_support_week", week=26) == 0.0


def test_seasonality_moves_exits():
    flat = simulate_registers(4000, seasonality=0.0, seed=2, potential_outcomes=False)
    assert flat.panel.shape == (4000, 260)
    with pytest.raises(StudyConfigError):
        simulate_registers(10, target_group="nope")
    with pytest.raises(StudyConfigError):
        simulate_registers(10, enrolment=(10, 400))


def test_write_and_read_back_all_layouts(tmp_path):
    sim = simulate_registers(200, n_weeks=60, enrolment=(20, 30), seed=4, potential_outcomes=False)
    files = write_synthetic(sim, tmp_path, layouts=("wide", "long", "spells"), formats=("parquet", "csv"))
    parts = read_participants(files["participants"])
    ref = benefit_dependency(sim.panel, sim.participants, (1, 26))
    for k, f in files.items():
        if k == "participants":
            continue
        p = read_register(f, participants=parts, absent_persons="self_support",
                          first_week=sim.panel.weeks.labels()[0], last_week=sim.panel.weeks.labels()[-1])
        np.testing.assert_allclose(benefit_dependency(p, parts, (1, 26)).to_numpy(), ref.to_numpy(), err_msg=k)


def test_cpr_like_ids_are_pseudonymised_on_read(tmp_path):
    sim = simulate_registers(50, n_weeks=40, enrolment=(10, 20), seed=4, potential_outcomes=False, cpr_like_ids=True)
    files = write_synthetic(sim, tmp_path, layouts=("long",), formats=("parquet",))
    p = read_register(files["long.parquet"], key=b"k")
    assert all(x.startswith("p_") for x in p.persons)
    _ = self_support_week  # imported for the registry side effect in other tests
