"""Register readers: three layouts × three formats, pseudonymisation, bad input, streaming, code lists."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.exceptions import DataValidationError
from evaluation.data.registers import (
    CodeList,
    Panel,
    default_code_list,
    iter_panel_blocks,
    read_participants,
    read_register,
    register_from_frame,
    write_register,
)

ROOT = Path(__file__).resolve().parents[2]

# Hand-built register over the 2015/16 boundary (2015 has 53 weeks).
LONG = pd.DataFrame({
    "person": ["a", "a", "a", "b", "b", "c"],
    "week": ["2015-W52", "2015-W53", "2016-W01", "2015-W53", "2016-W02", "2016-W02"],
    "code": [890, 890, 997, 130, 651, 111],
})
SPELLS = pd.DataFrame({
    "person": ["a", "a", "b", "b", "c"],
    "start_week": ["2015-W52", "2016-W01", "2015-W53", "2016-W02", "2016-W02"],
    "end_week": ["2015-W53", "2016-W01", "2015-W53", "2016-W02", "2016-W02"],
    "code": [890, 997, 130, 651, 111],
})
WIDE = pd.DataFrame({
    "person": ["a", "b", "c"],
    "y_1552": [890, None, None],
    "y_1553": [890, 130, None],
    "y_1601": [997, None, None],
    "y_1602": [None, 651, 111],
})
EXPECTED_RAW = np.array([[890, 890, 997, 0], [0, 130, 0, 651], [0, 0, 0, 111]])


def _check(panel: Panel):
    assert panel.weeks.labels() == ["2015-W52", "2015-W53", "2016-W01", "2016-W02"]
    assert list(panel.persons) == ["a", "b", "c"]
    np.testing.assert_array_equal(panel.raw_codes(), EXPECTED_RAW)
    assert panel.matrix.dtype == np.uint8


@pytest.mark.parametrize("layout,frame", [("long", LONG), ("spells", SPELLS), ("wide", WIDE)])
@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_three_layouts_three_formats_give_the_same_panel(tmp_path, layout, frame, fmt):
    f = tmp_path / f"reg.{fmt}"
    {"csv": lambda: frame.to_csv(f, index=False), "parquet": lambda: frame.to_parquet(f, index=False),
     "xlsx": lambda: frame.to_excel(f, index=False)}[fmt]()
    before = f.read_bytes()
    _check(read_register(f))
    assert f.read_bytes() == before  # never modify input


@pytest.mark.parametrize("frame", [LONG, SPELLS, WIDE])
def test_frames_auto_layout_and_input_not_modified(frame):
    copy = frame.copy()
    _check(register_from_frame(frame))
    pd.testing.assert_frame_equal(frame, copy)


def test_round_trip_through_writers(tmp_path):
    p = register_from_frame(LONG)
    for layout in ("wide", "long", "spells"):
        for ext in ("csv", "parquet"):
            _check(read_register(write_register(p, tmp_path / f"{layout}.{ext}", layout)))


def test_week_range_can_be_widened_and_missing_weeks_are_no_code():
    p = register_from_frame(LONG, first_week="2015-W50", last_week="2016-W03")
    assert len(p.weeks) == 7
    assert p.raw_codes()[0].tolist() == [0, 0, 890, 890, 997, 0, 0]


def test_cpr_like_ids_are_pseudonymised_consistently(tmp_path):
    reg = LONG.assign(person=LONG["person"].map({"a": "010190-1234", "b": "020290-2345", "c": "030390-3456"}))
    key = b"test-key"
    p = register_from_frame(reg, key=key)
    assert all(str(x).startswith("p_") for x in p.persons)
    assert not any("0101" in str(x) for x in p.persons)
    parts = read_participants(pd.DataFrame({"person": ["010190-1234"], "group": ["I"], "index_week": ["2015-W52"]}), key=key)
    assert parts.index[0] in set(p.persons)
    f = tmp_path / "reg.parquet"
    reg.to_parquet(f)
    assert set(read_register(f, key=key).persons) == set(p.persons)


def test_participants_without_register_rows(tmp_path):
    parts = pd.Index(["a", "z"])
    with pytest.raises(DataValidationError, match=r"1 participant\(s\) have no rows in the register \(e.g. z\)"):
        register_from_frame(LONG, participants=parts)
    p = register_from_frame(LONG, participants=parts, absent_persons="self_support")
    assert list(p.persons) == ["a", "z"] and p.raw_codes()[1].tolist() == [0, 0, 0, 0]
    assert any("uden rækker" in n for n in p.notes)
    assert any("2 person(er) i registret er ikke deltagere" in n for n in p.notes)  # b and c are counted, not silently dropped

def test_dropped_register_persons_are_counted():
    p = register_from_frame(LONG, participants=pd.Index(["a"]))
    assert any("2 person(er) i registret er ikke deltagere" in n for n in p.notes)


# ----------------------------------------------------------------------------- bad input
def _write(tmp_path, frame, name="reg.csv"):
    f = tmp_path / name
    if name.endswith(".csv"):
        frame.to_csv(f, index=False)
    else:
        frame.to_parquet(f, index=False)
    return f


@pytest.mark.parametrize("name", ["reg.csv", "reg.parquet"])
def test_non_iso_week_long(tmp_path, name):
    bad = LONG.copy()
    bad.loc[4, "week"] = "2016-W53"
    f = _write(tmp_path, bad, name)
    with pytest.raises(DataValidationError) as e:
        read_register(f)
    msg = str(e.value)
    assert name in msg and "'week'" in msg and "2016-W53" in msg and (("line 6" if name.endswith(".csv") else "row 5") in msg)


def test_non_iso_week_column_wide():
    bad = WIDE.rename(columns={"y_1602": "y_1653"})
    with pytest.raises(DataValidationError, match=r"not ISO year-weeks.*y_1653"):
        register_from_frame(bad, file="dream.csv")


def test_gap_in_wide_weeks_is_an_error():
    with pytest.raises(DataValidationError, match=r"not contiguous.*2015-W53"):
        register_from_frame(WIDE.drop(columns=["y_1553"]), file="dream.csv")


@pytest.mark.parametrize("name", ["reg.csv", "reg.parquet"])
def test_duplicate_person_weeks_long(tmp_path, name):
    f = _write(tmp_path, pd.concat([LONG, LONG.iloc[[1]]], ignore_index=True), name)
    with pytest.raises(DataValidationError) as e:
        read_register(f)
    msg = str(e.value)
    assert "duplicate person-weeks" in msg and name in msg and "'week'" in msg and "2015-W53" in msg


def test_duplicate_person_weeks_frame_names_rows():
    with pytest.raises(DataValidationError, match=r"reg.csv: duplicate person-weeks.*line 8: 2015-W53"):
        register_from_frame(pd.concat([LONG, LONG.iloc[[1]]], ignore_index=True), file="reg.csv")


def test_overlapping_spells_and_duplicate_wide_person():
    bad = pd.concat([SPELLS, pd.DataFrame({"person": ["a"], "start_week": ["2015-W53"], "end_week": ["2016-W02"],
                                           "code": [890]})], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"duplicate person-weeks.*overlapping spells"):
        register_from_frame(bad, file="spells.csv")
    with pytest.raises(DataValidationError, match=r"dream.csv: duplicate person-weeks: column 'person'.*line 2, line 5$"):
        register_from_frame(pd.concat([WIDE, WIDE.iloc[[0]]], ignore_index=True), file="dream.csv")


@pytest.mark.parametrize("name", ["reg.csv", "reg.parquet"])
def test_unknown_codes_are_listed(tmp_path, name):
    bad = LONG.copy()
    bad.loc[[2, 5], "code"] = [4242, 4243]
    f = _write(tmp_path, bad, name)
    with pytest.raises(DataValidationError) as e:
        read_register(f)
    msg = str(e.value)
    assert name in msg and "'code'" in msg and "4242, 4243" in msg and ("line 4" if name.endswith(".csv") else "row 3") in msg


def test_unknown_codes_wide_name_column_and_row():
    bad = WIDE.copy()
    bad.loc[1, "y_1601"] = 5
    with pytest.raises(DataValidationError, match=r"dream.csv: column 'y_1601' has 1 benefit code\(s\) not in code list.*5.*line 3"):
        register_from_frame(bad, file="dream.csv")


@pytest.mark.parametrize("name", ["reg.csv", "reg.parquet"])
def test_non_numeric_codes(tmp_path, name):
    bad = LONG.astype({"code": object})
    bad.loc[3, "code"] = "kth"
    f = _write(tmp_path, bad.astype({"code": str}), name)
    with pytest.raises(DataValidationError) as e:
        read_register(f)
    msg = str(e.value)
    assert name in msg and "'code'" in msg and "not numbers" in msg and "'kth'" in msg and ("line 5" if name.endswith(".csv") else "row 4") in msg


def test_non_numeric_codes_wide():
    bad = WIDE.astype({"y_1553": object})
    bad.loc[2, "y_1553"] = "x1"
    with pytest.raises(DataValidationError, match=r"dream.csv: column 'y_1553' \(benefit code\) has 1 value\(s\) that are not numbers.*line 4: 'x1'"):
        register_from_frame(bad, file="dream.csv")


def test_blank_person_id(tmp_path):
    bad = LONG.copy()
    bad.loc[2, "person"] = None
    with pytest.raises(DataValidationError, match=r"'person' is empty"):
        read_register(_write(tmp_path, bad))


def test_participants_reader(tmp_path):
    f = tmp_path / "p.csv"
    pd.DataFrame({"person": ["a", "b"], "group": ["I", "K"], "index_week": [201553, "y_1601"], "age": [30, 40]}).to_csv(f, index=False)
    p = read_participants(f)
    assert p["index_week"].tolist() == ["2015-W53", "2016-W01"] and "age" in p.columns
    pd.DataFrame({"person": ["a", "a"], "group": ["I", "K"], "index_week": [201553, 201601]}).to_csv(f, index=False)
    with pytest.raises(DataValidationError, match="more than one row"):
        read_participants(f)
    pd.DataFrame({"person": ["a"], "group": ["I"], "index_week": ["2015-W54"]}).to_csv(f, index=False)
    with pytest.raises(DataValidationError, match=r"p.csv: column 'index_week'.*row 2"):
        read_participants(f)


# ----------------------------------------------------------------------------- streaming
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_streaming_blocks_reassemble_the_panel(tmp_path, layout):
    from evaluation.synthetic.registers import simulate_registers

    sim = simulate_registers(500, n_weeks=80, enrolment=(30, 40), potential_outcomes=False, seed=5)
    f = write_register(sim.panel, tmp_path / f"r_{layout}.parquet", layout, row_group_size=128)
    blocks = list(iter_panel_blocks(f, layout, block_persons=128, first_week=sim.panel.weeks.labels()[0],
                                    last_week=sim.panel.weeks.labels()[-1]))
    assert len(blocks) == 4
    persons = np.concatenate([np.asarray(b.persons, dtype=object) for b in blocks])
    mat = np.vstack([b.matrix for b in blocks])
    order = pd.Index(persons).get_indexer(sim.panel.persons)
    assert (order >= 0).all()
    np.testing.assert_array_equal(mat[order], sim.panel.matrix)


# ----------------------------------------------------------------------------- code lists
def test_packaged_code_list_is_identical_to_data_codes():
    assert filecmp.cmp(ROOT / "data/codes/dream_benefit_groups.yaml",
                       ROOT / "evaluation/codes/dream_benefit_groups.yaml", shallow=False)


def test_code_list_content_and_overrides():
    cl = default_code_list()
    assert cl.version and "DREAM" in cl.source
    assert cl.group_of(111).id == "a_dagpenge" and cl.group_of(111).unemployed
    assert cl.group_of(895).id == "sygedagpenge" and not cl.group_of(895).unemployed
    assert cl.group_of(997).category == "censoring" and cl.group_of(651).category == "education"
    assert cl.group_of(783).id == "foertidspension" and cl.group_of(771).id == "fleksjob"
    ov = cl.with_overrides({"651-652": "fleksjob"})
    assert ov.group_of(651).id == "fleksjob" and ov.version.endswith("+study")
    with pytest.raises(DataValidationError, match="unknown group"):
        cl.with_overrides({111: "nope"})
    p = register_from_frame(LONG, codes={"130": "uddannelseshjaelp"})
    assert p.codes.group_of(130).id == "uddannelseshjaelp"


def test_bad_code_list_file(tmp_path):
    f = tmp_path / "codes.yaml"
    f.write_text("version: x\ngroups:\n  - {id: a, category: public_support, codes: ['1-3'], source: s, verified: false}\n"
                 "  - {id: b, category: public_support, codes: [2], source: s, verified: false}\n")
    with pytest.raises(DataValidationError, match="code 2 is already in group 'a'"):
        CodeList.load(f)


def test_register_layout_is_one_frozen_object_and_keywords_build_it():
    import dataclasses

    from evaluation.data.registers import RegisterLayout
    from evaluation.exceptions import UnknownOptionError

    lay = RegisterLayout.of("long", week_column="uge", first_week="2021-W01", last_week="2021-W08")
    with pytest.raises(dataclasses.FrozenInstanceError):
        lay.kind = "wide"
    with pytest.raises(UnknownOptionError, match="did you mean 'week_column'"):
        RegisterLayout.of("long", week_colum="uge")
    with pytest.raises(UnknownOptionError, match="week_colum"):
        register_from_frame(pd.DataFrame({"person": ["a"], "uge": ["2021-W01"], "code": [890]}), "long", week_colum="uge")
    with pytest.raises(DataValidationError, match="unknown register layout 'diagonal'"):
        RegisterLayout("diagonal")
    # a person on benefit in 1 of the 8 declared weeks: the 7 weeks without rows are weeks without benefit,
    # whether the layout comes as an object or as keywords
    df = pd.DataFrame({"person": ["a"], "uge": ["2021-W01"], "code": [890]})
    by_object = register_from_frame(df, lay)
    by_keywords = register_from_frame(df, "long", week_column="uge", first_week="2021-W01", last_week="2021-W08")
    assert by_object.weeks.labels() == by_keywords.weeks.labels() and len(by_object.weeks) == 8
    np.testing.assert_array_equal(by_object.matrix, by_keywords.matrix)
    assert int((by_object.matrix[0] > 0).sum()) == 1
    assert register_from_frame(df, "long", week_column="uge").shape == (1, 1)  # undeclared: only the weeks present
