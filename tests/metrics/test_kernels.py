"""The register block kernels (evaluation.metrics._kernels) give exactly what a straightforward
person-by-person loop gives, on random panels with censoring, windows past both register edges,
several block sizes, code lists whose tables are ranges and tables that are not; and the metric
layer's person lookup cache and index-week parsing give the uncached answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.exceptions import DataValidationError
from evaluation.metrics import _kernels as K
from evaluation.metrics import benefits as B
from evaluation.synthetic.registers import simulate_registers

N_CAT = 9  # categories 0..8; 8 is "outside"
FILL = N_CAT - 1


def _matrix(rng, n=300, T=70, p_code=0.5):
    M = np.where(rng.random((n, T)) < p_code, rng.integers(1, N_CAT - 1, (n, T)), 0).astype(np.uint8)
    M[rng.random((n, T)) < 0.01] = 7  # a censoring code
    return M


# tables over categories 0..8: ranges (fast path) and scattered (lookup path)
LUTS = {
    "range": np.array([0, 1, 1, 1, 0, 0, 0, 0, 0], dtype=np.uint8),
    "two_ranges": np.array([0, 1, 1, 0, 0, 1, 1, 0, 0], dtype=np.uint8),
    "scattered": np.array([1, 0, 1, 0, 1, 0, 1, 0, 0], dtype=np.uint8),
}
CENS = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1], dtype=np.uint8)


def _cell(M, r, c):
    return M[r, c] if 0 <= c < M.shape[1] else FILL


def _window(M, r, s, width):
    return np.array([_cell(M, r, s + k) for k in range(width)], dtype=np.uint8)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    M = _matrix(rng)
    rows = rng.integers(0, M.shape[0], 250)
    start = rng.integers(-30, M.shape[1] + 10, 250)  # windows past both edges
    return M, rows, start


def test_member_range_tests_equal_the_table(data):
    M = data[0]
    for lut in (*LUTS.values(), CENS, np.zeros(N_CAT, np.uint8), np.ones(N_CAT, np.uint8)):
        np.testing.assert_array_equal(K._member(M, lut, K._ranges(lut)), lut[M].astype(bool))
        np.testing.assert_array_equal(K._member(M, lut, None), lut[M].astype(bool))
    big = np.arange(300, dtype=np.uint16).reshape(10, 30)
    lut = np.zeros(300, np.uint8)
    lut[250:] = 1  # a range that runs to the end of the code list
    np.testing.assert_array_equal(K._member(big, lut, K._ranges(lut)), lut[big].astype(bool))


@pytest.mark.parametrize("name", list(LUTS))
@pytest.mark.parametrize("width", [1, 7, 52, 121, 130])
def test_window_sums_equal_loop(data, name, width):
    M, rows, start = data
    lut = LUTS[name]
    got = K.window_sums(M, rows, start, width, [lut, CENS], FILL, block=64)
    one = K.window_sums(M, rows, start, width, [lut], FILL, block=1000)[0]
    ref = [np.array([lut[_window(M, r, s, width)].sum() for r, s in zip(rows, start)]),
           np.array([CENS[_window(M, r, s, width)].sum() for r, s in zip(rows, start)])]
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    np.testing.assert_array_equal(one, ref[0])


@pytest.mark.parametrize("lookback,need", [(52, 42), (5, 3), (1, 1), (13, 13), (255, 200), (300, 250)])
@pytest.mark.parametrize("name", ["range", "scattered"])
def test_long_term_unemployment_equals_loop(lookback, need, name):
    rng = np.random.default_rng(lookback)
    M = _matrix(rng, n=120, T=320, p_code=0.85)
    u = LUTS[name]
    got = K.long_term_unemployment(M, u, CENS, lookback, need, block=50)
    ref = np.empty_like(got)
    for i in range(M.shape[0]):
        for t in range(M.shape[1]):
            if t < lookback - 1 or CENS[M[i, t]]:
                ref[i, t] = -1
            else:
                ref[i, t] = int(u[M[i, t]] == 1 and u[M[i, t - lookback + 1:t + 1]].sum() >= need)
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("w", [1, 2, 4, 13])
@pytest.mark.parametrize("width", [1, 13, 60])
def test_first_run_equals_loop(data, w, width):
    M, rows, start = data
    member = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0], dtype=np.uint8)  # self-support = no code
    found, k, obs = K.first_run(M, rows, start, width, member, CENS, w, FILL, block=64)
    for i, (r, s) in enumerate(zip(rows, start)):
        win = _window(M, r, s, width)
        c = np.flatnonzero(CENS[win])
        o = int(c[0]) if len(c) else width
        kk = next((j for j in range(0, o - w + 1) if member[win[j:j + w]].all()), -1)
        assert (found[i], k[i], obs[i]) == (kk >= 0, kk, o), i


@pytest.mark.parametrize("min_length", [1, 3, 20])
def test_runs_overlapping_equals_loop(data, min_length):
    M, rows, _ = data
    rng = np.random.default_rng(min_length)
    lo = rng.integers(-5, M.shape[1], len(rows))
    hi = lo + rng.integers(0, 40, len(rows))
    lut = LUTS["two_ranges"]
    count, longest = K.runs_overlapping(M, rows, lo, hi, lut, min_length, block=64)
    for i, r in enumerate(rows):
        runs, t = [], 0
        while t < M.shape[1]:
            if lut[M[r, t]]:
                e = t
                while e + 1 < M.shape[1] and lut[M[r, e + 1]]:
                    e += 1
                runs.append((t, e))
                t = e + 1
            else:
                t += 1
        ok = [e - s + 1 for s, e in runs if e - s + 1 >= min_length and s <= hi[i] and e >= lo[i]]
        assert (count[i], longest[i]) == (len(ok), max(ok, default=0)), i


def test_column_sums_by_label_equal_loop(data):
    M, rows, start = data
    labels = np.random.default_rng(3).integers(0, 4, len(rows))
    got = K.column_sums_by_label(M, rows, start, 20, [LUTS["range"], LUTS["scattered"]], labels, 5, FILL, block=16)
    for lut, g in zip((LUTS["range"], LUTS["scattered"]), got):
        ref = np.zeros((5, 20), dtype=np.int64)
        for r, s, lab in zip(rows, start, labels):
            ref[lab] += lut[_window(M, r, s, 20)]
        np.testing.assert_array_equal(g, ref)


def test_person_lookup_is_cached_per_index_object():
    sim = simulate_registers(500, n_weeks=80, enrolment=(30, 50), potential_outcomes=False, seed=2)
    panel = sim.panel.take(np.arange(500))
    parts = sim.participants.iloc[::-1].copy()
    parts.index = pd.Index(parts.index.to_numpy(), name="person")  # not the panel's own index object
    rows = panel.rows_of(parts.index)
    assert panel.rows_of(parts.index) is rows and not rows.flags.writeable
    np.testing.assert_array_equal(rows, panel.persons.get_indexer(parts.index))
    other = parts.iloc[:10]
    np.testing.assert_array_equal(panel.rows_of(other.index), rows[:10])
    # metrics with and without a warm cache, and on a plain list of the same persons, agree
    a = B.benefit_dependency(panel, parts, (1, 26))
    b = B.benefit_dependency(panel, parts, (1, 26))
    c = B.benefit_dependency(panel, parts.set_axis(list(parts.index), axis=0).rename_axis("person"), (1, 26))
    pd.testing.assert_series_equal(a, b)
    pd.testing.assert_series_equal(a, c)


def test_index_weeks_parsed_once_per_spelling_and_errors_name_persons():
    sim = simulate_registers(200, n_weeks=80, enrolment=(30, 50), potential_outcomes=False, seed=4)
    parts = sim.participants.copy()
    ref = B.benefit_dependency(sim.panel, parts, (1, 10))
    # the same weeks spelled differently (and as an object column) give the same answer
    alt = parts.assign(index_week=[w.replace("-W", "") if i % 2 else w for i, w in enumerate(parts.index_week)])
    alt["index_week"] = alt["index_week"].astype(object)
    pd.testing.assert_series_equal(B.benefit_dependency(sim.panel, alt, (1, 10)), ref)
    bad = parts.copy()
    bad.iloc[3, bad.columns.get_loc("index_week")] = "2019-W54"
    with pytest.raises(DataValidationError, match=f"row {parts.index[3]}: '2019-W54'"):
        B.benefit_dependency(sim.panel, bad, (1, 10))
    missing = parts.copy()
    missing["index_week"] = missing["index_week"].astype(object)
    missing.iloc[5, missing.columns.get_loc("index_week")] = None
    with pytest.raises(DataValidationError, match="not ISO year-weeks"):
        B.benefit_dependency(sim.panel, missing, (1, 10))


def test_benefit_dependency_by_period_equals_straightforward():
    from evaluation.metrics.panels import benefit_dependency_by_period

    sim = simulate_registers(300, n_weeks=60, enrolment=(20, 40), potential_outcomes=False, seed=5)
    out = benefit_dependency_by_period(sim.panel, sim.participants, period_weeks=4)
    M = sim.panel.matrix[sim.panel.rows_of(sim.participants.index)]
    pub, cen = sim.panel.codes.lut("public_support"), sim.panel.codes.lut("censored")
    expect = []
    for i in range(len(M)):
        for p in range(15):
            w = M[i, 4 * p:4 * p + 4]
            den = 4 - cen[w].sum()
            expect.append(pub[w].sum() / den if den else np.nan)
    np.testing.assert_array_equal(out["value"].to_numpy(), np.array(expect))
    assert out.index.name == "person" and out["period_start"].iloc[1] == sim.panel.weeks.labels()[4]
    assert list(out.index[:16]) == [sim.participants.index[0]] * 15 + [sim.participants.index[1]]


def test_panel_pickles_without_its_lookup_cache():
    import pickle

    sim = simulate_registers(50, n_weeks=60, enrolment=(20, 30), potential_outcomes=False, seed=1)
    panel = sim.panel.take(np.arange(50))
    panel.rows_of(sim.participants.index)
    back = pickle.loads(pickle.dumps(panel))
    np.testing.assert_array_equal(back.matrix, panel.matrix)
    assert "_rows_cache" not in back.__dict__ and list(back.persons) == list(panel.persons)


def test_partition_reader_equals_the_general_reader(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from evaluation.data.registers import read_register, write_register

    sim = simulate_registers(300, n_weeks=60, enrolment=(20, 30), potential_outcomes=False, seed=8)
    f = write_register(sim.panel, tmp_path / "w.parquet", "wide", row_group_size=100)  # nullable int16 weeks
    ref = read_register(f, pseudonymise=False)
    for rg in (None, [1, 2]):
        got = B._read_partition(str(f), rg, {"pseudonymise": False})
        want = ref.take(np.arange(100, 300)) if rg else ref
        np.testing.assert_array_equal(got.matrix, want.matrix)
        assert list(got.persons) == list(want.persons) and got.weeks == want.weeks
    # an unknown code is reported as the general reader reports it
    t = pq.read_table(f)
    col = t.schema.get_field_index("y_1610") if "y_1610" in t.schema.names else 3
    bad = t.set_column(col, t.schema.names[col], pa.array(np.full(t.num_rows, 12345, dtype=np.int16)))
    pq.write_table(bad, tmp_path / "bad.parquet")
    with pytest.raises(DataValidationError, match="12345"):
        B._read_partition(str(tmp_path / "bad.parquet"), None, {"pseudonymise": False})
    # float-typed week columns go through the general reader
    flt = t.set_column(col, t.schema.names[col], t.column(col).cast(pa.float64()))
    pq.write_table(flt, tmp_path / "flt.parquet")
    np.testing.assert_array_equal(B._read_partition(str(tmp_path / "flt.parquet"), None, {"pseudonymise": False}).matrix,
                                  ref.matrix)
