"""Danish number, date and plain-language formatting."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from evaluation.presentation.formatting import (
    MINUS,
    NBSP,
    ci_sentence,
    evidence_level_text,
    fmt_ci,
    fmt_date,
    fmt_dkk,
    fmt_int,
    fmt_number,
    fmt_p,
    fmt_pct,
    fmt_pp,
    natural_frequency,
    significance_phrase,
)


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


def test_ci_sentence_for_a_mean_with_interval_on_one_side():
    s = ci_sentence(-3.1, (-5.4, -0.8), unit="uger", more="flere", less="færre",
                    outcome="på sygemelding i de første 52 uger")
    assert plain(s) == ("Deltagerne var i gennemsnit 3,1 uger færre på sygemelding i de første 52 uger "
                        "(95 %-sikkerhedsinterval 0,8–5,4 uger)")


def test_ci_sentence_for_a_share_in_percentage_points():
    s = ci_sentence(0.09, (0.021, 0.159), unit="procentpoint", more="højere", less="lavere", scale=100,
                    subject="Andelen i job efter 12 måneder", qualifier="", outcome="blandt deltagerne")
    assert plain(s) == ("Andelen i job efter 12 måneder var 9,0 procentpoint højere blandt deltagerne "
                        "(95 %-sikkerhedsinterval 2,1–15,9 procentpoint)")


def test_ci_sentence_names_both_directions_when_interval_crosses_zero():
    s = plain(ci_sentence(-1.0, (-3.0, 1.0), unit="uger", more="flere", less="færre", outcome="på sygemelding"))
    assert "1,0 uger færre på sygemelding" in s
    assert "fra 3,0 uger færre til 1,0 uger flere" in s
    assert MINUS not in s


def test_ci_sentence_zero_estimate_and_singular_unit():
    s = plain(ci_sentence(0.0001, (-0.2, 0.3), unit="uger", more="flere", less="færre", outcome="på sygemelding"))
    assert s.startswith("Deltagerne var i gennemsnit hverken flere eller færre på sygemelding (forskel 0,0 uger;")
    s1 = plain(ci_sentence(1, (0.2, 2), unit="uger", unit_one="uge", more="flere", less="færre", decimals=0))
    assert s1.startswith("Deltagerne var i gennemsnit 1 uge flere")


def test_ci_sentence_validates_input():
    with pytest.raises(ValueError, match="lower bound"):
        ci_sentence(1.0, (2.0, 0.5), unit="uger", more="flere", less="færre")
    with pytest.raises(ValueError, match="estimate"):
        ci_sentence(float("nan"), (0.0, 1.0), unit="uger", more="flere", less="færre")
    s = ci_sentence(1.0, (None, None), unit="uger", more="flere", less="færre")
    assert "sikkerhedsintervallet kunne ikke beregnes" in s


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


def test_significance_phrase_does_not_overclaim():
    crossing = significance_phrase(-1.0, 2.0)
    assert crossing.startswith("Vi kan ikke udelukke, at indsatsen ingen effekt havde")
    assert significance_phrase(0.0, 2.0).startswith("Vi kan ikke udelukke")
    above = significance_phrase(0.5, 2.0)
    assert "over nul" in above and "Vi kan ikke udelukke" not in above
    assert "under nul" in significance_phrase(-2.0, -0.5)
    assert "sikkerhedsintervallet" in plain(above)  # definite form spelt correctly
    assert "kunne ikke beregnes" in significance_phrase(math.nan, 1.0)
    # relative to a non-zero null (e.g. a ratio of 1)
    assert significance_phrase(0.8, 1.2, null=1.0).startswith("Vi kan ikke udelukke")
