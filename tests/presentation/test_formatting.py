"""Danish number, date and plain-language formatting (the interval and significance phrases: test_phrases.py)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from evaluation.presentation.formatting import (
    MINUS,
    NBSP,
    evidence_level_text,
    fmt_ci,
    fmt_date,
    fmt_dkk,
    fmt_int,
    fmt_number,
    fmt_p,
    fmt_pct,
    fmt_pp,
)
from evaluation.presentation.phrases import natural_frequency


def plain(s: str) -> str:
    """Non-breaking spaces as ordinary spaces, so expectations stay readable."""
    return s.replace(NBSP, " ")


@pytest.mark.parametrize(
    ("x", "dec", "expected"),
    [
        (3.14159, 1, "3,1"),
        (1425000, 0, "1.425.000"),
        (1425000.256, 2, "1.425.000,26"),
        (999.95, 1, "1.000,0"),
        (0.5, 0, "0"),  # Python rounds half to even on the stored binary value
        (-3.1, 1, f"{MINUS}3,1"),
        (-0.04, 1, "0,0"),  # no negative zero
        (np.float64(2.25), 2, "2,25"),
        (np.int64(12345), 0, "12.345"),
    ],
)
def test_fmt_number(x, dec, expected):
    assert fmt_number(x, dec) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT])
def test_missing_values_print_as_dash(missing):
    assert fmt_number(missing) == "–"
    assert fmt_int(missing) == "–"
    assert fmt_pct(missing) == "–"
    assert fmt_pp(missing) == "–"
    assert fmt_dkk(missing) == "–"
    assert fmt_p(missing) == "–"
    assert fmt_date(missing) == "–"
    assert fmt_ci(missing, 1.0) == "–"
    assert fmt_ci(1.0, missing) == "–"


def test_units_and_percent():
    assert fmt_int(1425000) == "1.425.000"
    assert fmt_pct(0.123) == f"12{NBSP}%"
    assert fmt_pct(0.1234, 1) == f"12,3{NBSP}%"
    assert plain(fmt_pp(0.042)) == "4,2 procentpoint"
    assert plain(fmt_pp(-0.042)) == f"{MINUS}4,2 procentpoint"
    assert plain(fmt_dkk(1425000)) == "1.425.000 kr."


def test_fmt_ci_uses_dash_or_til_for_negative_bounds():
    assert fmt_ci(0.8, 5.4, 1) == "0,8–5,4"
    assert fmt_ci(0.8, 5.4, 1, unit="uger") == "0,8–5,4 uger"
    assert fmt_ci(-1.23, 3.4, 1) == f"{MINUS}1,2 til 3,4"
    assert fmt_ci(-5.4, -0.8, 1) == f"{MINUS}5,4 til {MINUS}0,8"


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0.03, "p = 0,03"), (0.0004, "p < 0,001"), (0.004, "p = 0,004"), (0.0496, "p = 0,050"),
     (0.047, "p = 0,047"), (0.051, "p = 0,05"), (0.5, "p = 0,50"), (0.999, "p > 0,99"), (0.0, "p < 0,001")],
)
def test_fmt_p(p, expected):
    assert fmt_p(p) == expected


def test_fmt_p_rejects_values_outside_unit_interval():
    with pytest.raises(ValueError, match="between 0 and 1"):
        fmt_p(1.2)


def test_fmt_date_accepts_dates_timestamps_and_iso_strings():
    assert fmt_date(dt.date(2010, 5, 20)) == "20. maj 2010"
    assert fmt_date(dt.datetime(2012, 12, 31, 13, 5)) == "31. december 2012"
    assert fmt_date(pd.Timestamp("2011-03-01")) == "1. marts 2011"
    assert fmt_date("2010-02-14") == "14. februar 2010"
    with pytest.raises(ValueError, match="ISO date"):
        fmt_date("20/05/2010")
    with pytest.raises(TypeError):
        fmt_date(20100520)


def test_natural_frequency():
    assert natural_frequency(0.62, 0.71, "i job efter 12 måneder") == (
        "Ud af 100 personer i kontrolgruppen var 62 i job efter 12 måneder; i interventionsgruppen var det 71."
    )
    # 0.625 rounds half up (62.5 → 63), not to even
    assert "var 63 i job" in natural_frequency(0.625, 0.7, "i job")
    with pytest.raises(ValueError, match="between 0 and 1"):
        natural_frequency(62, 0.71, "i job")


def test_evidence_levels():
    assert evidence_level_text(5) == "Lodtrækning (randomiseret forsøg) – højeste evidensniveau"
    assert "laveste" in evidence_level_text(1)
    texts = {evidence_level_text(k) for k in range(1, 6)}
    assert len(texts) == 5
    for bad in (0, 6, 2.5, "fem", None, True):
        with pytest.raises(ValueError):
            evidence_level_text(bad)
