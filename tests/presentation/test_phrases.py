"""The one Danish phrase builder for intervals and significance (evaluation.presentation.phrases)."""

from __future__ import annotations

import math

import pytest

from evaluation.presentation.formatting import NBSP
from evaluation.presentation.phrases import (
    ci_cell,
    ci_header,
    ci_label,
    common_level,
    level_pct,
    CI_LABEL,
    interval_in_parentheses,
    interval_phrase,
    scale_for,
    signed_phrase,
    significance_sentence,
)


def plain(s: str) -> str:
    return s.replace(NBSP, " ")


def test_the_label_has_a_no_break_space_before_percent():
    assert CI_LABEL == "95\u00a0%-sikkerhedsinterval"


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (-5.4, -0.8, "95 %-sikkerhedsinterval 0,8–5,4 uger lavere"),
    (0.8, 5.4, "95 %-sikkerhedsinterval 0,8–5,4 uger højere"),
    (-2.0, 1.0, "95 %-sikkerhedsinterval fra 2,0 uger lavere til 1,0 uger højere"),
    (math.nan, 1.0, "intet sikkerhedsinterval"),
])
def test_difference_interval_reads_naturally_whatever_the_signs(lo, hi, expected):
    assert plain(interval_phrase(lo, hi, "uger", 1)) == expected


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (-5.4, -0.8, "95 %-sikkerhedsinterval: et fald på 0,8–5,4 procentpoint"),
    (0.8, 5.4, "95 %-sikkerhedsinterval: en stigning på 0,8–5,4 procentpoint"),
    (-2.0, 1.0, "95 %-sikkerhedsinterval fra et fald på 2,0 til en stigning på 1,0 procentpoint"),
])
def test_change_interval_speaks_of_fall_and_rise(lo, hi, expected):
    assert plain(interval_phrase(lo, hi, "procentpoint", 1, kind="change")) == expected


def test_signed_phrase_and_scale():
    assert signed_phrase(-3.14, "uger", 1) == "3,1 uger lavere"
    assert signed_phrase(2.0, "uger", 1, kind="change") == "en stigning på 2,0 uger"
    assert scale_for("andel", "continuous") == (100.0, "procentpoint", 1)
    assert scale_for("uger", "binary") == (100.0, "procentpoint", 1)
    assert scale_for("uger", "continuous") == (1.0, "uger", 1)


def test_interval_in_parentheses():
    assert plain(interval_in_parentheses(0.8, 5.4, 1, "uger")) == "(95 %-sikkerhedsinterval 0,8–5,4 uger)"
    assert interval_in_parentheses(math.nan, 1.0) == ""


@pytest.mark.parametrize(("lo", "hi", "p", "word"), [
    (-5.4, -0.8, 0.004, "næppe skyldes tilfældigheder (p = 0,004)"),
    (-5.4, -0.8, None, "næppe skyldes tilfældigheder."),
    (-1.0, 0.5, 0.3, "Vi kan ikke udelukke"),
    (-1.0, 0.5, None, "Vi kan ikke udelukke"),
    (0.0, 0.5, 0.06, "Vi kan ikke udelukke"),      # an interval that touches zero does not exclude it
    (0.01, 0.5, 0.06, "på grænsen"),               # interval and test disagree: said so, not overclaimed
    (-0.5, 0.01, 0.03, "på grænsen"),
])
def test_significance_follows_interval_and_p(lo, hi, p, word):
    assert word in significance_sentence(lo, hi, p)


def test_significance_of_a_change_only_comments_chance():
    assert significance_sentence(-1.0, 1.0, kind="change").startswith("Ændringen er så lille")
    assert significance_sentence(-2.0, -1.0, kind="change") == ""
    assert significance_sentence(math.nan, 1.0) == ""


def test_an_interval_names_its_own_confidence_level():
    sp = lambda s: s.replace(NBSP, " ")  # noqa: E731
    assert [sp(level_pct(x)) for x in (0.95, 0.9, 0.99, 0.975, 0.8)] == ["95 %", "90 %", "99 %", "97,5 %", "80 %"]
    assert sp(ci_label(0.9)) == "90 %-sikkerhedsinterval"
    assert sp(ci_label(0.9, definite=True)) == "90 %-sikkerhedsintervallet"
    assert sp(ci_label(0.99, plural=True)) == "99 %-sikkerhedsintervaller"
    assert sp(interval_phrase(-5.4, -0.8, "uger", 1, level=0.9)) == "90 %-sikkerhedsinterval 0,8–5,4 uger lavere"
    assert sp(interval_phrase(-2.0, 1.0, "uger", 1, kind="change", level=0.8)).startswith("80 %-sikkerhedsinterval fra et fald")
    assert sp(interval_in_parentheses(0.8, 5.4, 1, "uger", level=0.99)) == "(99 %-sikkerhedsinterval 0,8–5,4 uger)"


def test_a_column_of_intervals_at_one_or_several_levels():
    sp = lambda s: s.replace(NBSP, " ")  # noqa: E731
    assert common_level([0.9, 0.9]) == 0.9 and common_level([0.9, 0.95]) is None and common_level([]) is None
    assert sp(ci_header([0.9, 0.9])) == "90 %-sikkerhedsinterval"
    assert ci_header([0.9, 0.95]) == "Sikkerhedsinterval (niveau)"
    assert ci_cell("1,0–2,0", 0.9, [0.9, 0.9]) == "1,0–2,0"
    assert sp(ci_cell("1,0–2,0", 0.9, [0.9, 0.95])) == "1,0–2,0 (90 %)"
    assert ci_cell("–", 0.9, [0.9, 0.95]) == "–"
