"""ISO week utilities: 53-week years, year boundaries, parsing and rejection of non-ISO weeks."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from evaluation.exceptions import DataValidationError
from evaluation.data.weeks import (
    WeekRange,
    dream_column,
    format_week,
    iso_to_ordinal,
    ordinal_to_iso,
    parse_week,
    parse_weeks,
    weeks_in_year,
)


def test_ordinals_match_python_isocalendar_for_three_decades():
    for y in range(1995, 2031):
        for w in range(1, weeks_in_year(y) + 1):
            expected = (dt.date.fromisocalendar(y, w, 1) - dt.date(1969, 12, 29)).days // 7
            assert int(iso_to_ordinal(y, w)) == expected
            yy, ww = ordinal_to_iso(np.array([expected]))
            assert (int(yy[0]), int(ww[0])) == (y, w)


def test_53_week_years():
    assert [y for y in range(2010, 2031) if weeks_in_year(y) == 53] == [2015, 2020, 2026]


def test_year_boundary_is_consecutive():
    o = parse_weeks(["2015-W52", "2015-W53", "2016-W01", "y_2053", "202101"])
    assert (o[1] - o[0], o[2] - o[1], o[4] - o[3]) == (1, 1, 1)
    assert format_week(int(o[1])) == "2015-W53"
    assert dream_column(int(o[3])) == "y_2053"


def test_all_spellings():
    want = int(iso_to_ordinal(2018, 1))
    for v in ["2018-W01", "2018W01", "2018-01", "2018W1", 201801, "201801", "y_1801", dt.date(2018, 1, 3), 201801.0]:
        assert parse_week(v) == want, v
    assert parse_week("y_9901") == int(iso_to_ordinal(1999, 1))


@pytest.mark.parametrize("bad", ["2016-W53", "2018-W00", "2018-W54", "abc", 201860, "", None, float("nan"), 18, "2018-13-01"])
def test_non_iso_weeks_are_rejected_with_file_column_and_row(bad):
    with pytest.raises(DataValidationError) as e:
        parse_weeks(["2018-W01", bad], file="reg.csv", column="week", rows=[2, 3])
    msg = str(e.value)
    assert "reg.csv" in msg and "'week'" in msg and "row 3" in msg


def test_week_range():
    r = WeekRange.from_iso("2020-W52", "2021-W02")
    assert len(r) == 4 and r.labels()[1] == "2020-W53"
    assert r.dream_columns() == ["y_2052", "y_2053", "y_2101", "y_2102"]
    assert r.position("2021-W02") == 3
    with pytest.raises(DataValidationError):
        WeekRange.from_iso("2021-W02", "2020-W52")
