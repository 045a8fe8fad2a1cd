"""How a target (*resultatkrav*) and its status are said in Danish.

A target's kind (``level``, ``absolute_change``, ``relative_change``, ``effect`` or ``none``) and
direction decide the verb phrase: a level is reached ("falde til højst 13 %", "stige til mindst 7
aktører"), a change is a distance ("falde med mindst 4 %", "stige med mindst 2,0 procentpoint"), an
effect is a difference from the comparison group ("mindst 2,0 uger lavere end i kontrolgruppen").
Shares are levels in per cent and changes in percentage points; counts are whole numbers.

The status depends on the deadline and the report's reference date: after the deadline a target is
"Nået", "Ikke nået" or "For usikkert til at afgøre" (or "Ikke opgjort" when no result exists); "endnu"
is only said before the deadline; an indicator followed without a target has "Intet måltal".

Examples
--------
>>> goal_phrase("relative_change", "decrease", -0.04, unit="personer").replace(NBSP, " ")
'falde med mindst 4 %'
>>> goal_phrase("level", "decrease", 0.13, unit="andel").replace(NBSP, " ")
'falde til højst 13 %'
>>> status_label("not_met", deadline="2018-03-31", reference_date="2026-01-01")
'Ikke nået'
>>> status_label("undecidable", deadline="2030-12-31", reference_date="2026-01-01", because="interval")
'Kan ikke afgøres endnu'
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Iterable

from evaluation.presentation.formatting import NBSP, fmt_int, fmt_number, is_missing

__all__ = ["KIND_LABELS", "is_share", "is_count", "pct_text", "value_text", "change_text", "goal_phrase",
           "status_label", "before_deadline", "STATUS_WORDS"]

#: Danish names of the target kinds (the table's "Type" column)
KIND_LABELS = {"level": "Niveau", "absolute_change": "Ændring", "relative_change": "Relativ ændring",
               "effect": "Effekt", "none": "Opfølgning"}

#: every status label the report may print, with whether it contains "endnu" (only before a deadline)
STATUS_WORDS = ("Nået", "Ikke nået", "Ikke nået endnu", "For usikkert til at afgøre", "Kan ikke afgøres endnu",
                "Ikke opgjort", "Kan ikke afgøres", "Intet måltal")


def is_share(unit: str | None) -> bool:
    """An indicator measured as a share (0–1): levels in %, changes in procentpoint."""
    return unit == "andel"


def _integral(x: Any) -> bool:
    return not is_missing(x) and math.isfinite(float(x)) and abs(float(x) - round(float(x))) < 1e-9


def is_count(unit: str | None, values: Iterable[Any]) -> bool:
    """A count (persons, actors, placements): not a share, and every declared figure a whole number."""
    vals = [v for v in values if not is_missing(v)]
    return not is_share(unit) and bool(vals) and all(_integral(v) for v in vals)


def _smart(x: float, max_decimals: int = 1) -> str:
    """A number with as few decimals as it needs (up to ``max_decimals``): 13 → "13", 15,3 → "15,3"."""
    for d in range(max_decimals + 1):
        if abs(round(x, d) - x) < 1e-9:
            return fmt_number(x, d)
    return fmt_number(x, max_decimals)


def pct_text(share: Any, decimals: int | None = None) -> str:
    """A share (0–1) in per cent: 0.13 → "13 %", 0.123 → "12,3 %" (``decimals`` fixes the digits)."""
    if is_missing(share):
        return "–"
    v = float(share) * 100
    return f"{_smart(v) if decimals is None else fmt_number(v, decimals)}{NBSP}%"


def _with_unit(text: str, unit: str | None) -> str:
    return f"{text} {unit}" if unit else text


def value_text(value: Any, *, unit: str | None, count: bool = False, decimals: int | None = 1) -> str:
    """A level of the indicator: a share in %, a count as a whole number, else with one decimal; with the unit.
    ``decimals=None`` prints as few decimals as the value needs (a goal of 13 % is "13 %", not "13,0 %")."""
    if is_missing(value):
        return "–"
    if is_share(unit):
        return pct_text(value, decimals)
    if decimals is None and not count:
        return _with_unit(_smart(float(value)), unit)
    if count:
        return _with_unit(fmt_int(round(float(value))), unit)
    return _with_unit(fmt_number(float(value), decimals), unit)


def change_text(value: Any, kind: str, *, unit: str | None, count: bool = False, signed: bool = True,
                decimals: int = 1) -> str:
    """A change or difference: a share's in procentpoint, a relative change in %, a count whole; signed by default."""
    if is_missing(value):
        return "–"
    v = float(value) if signed else abs(float(value))
    if kind == "relative_change":
        text = f"{fmt_number(v * 100, decimals)}{NBSP}%"
    elif is_share(unit):
        text = f"{fmt_number(v * 100, decimals)}{NBSP}procentpoint"
    elif count:
        text = _with_unit(fmt_int(round(v)), unit)
    else:
        text = _with_unit(fmt_number(v, decimals), unit)
    # a change is signed both ways: "+6,2 %" beside "−4,0 %" (fmt_number writes the minus only)
    return ("+" + text) if signed and text[0].isdigit() and any(ch not in "0,." for ch in text.split()[0]) else text


def goal_phrase(kind: str, direction: str | None, goal: Any, *, unit: str | None, count: bool = False,
                comparison: str = "kontrolgruppen") -> str:
    """The target in words, e.g. "falde med mindst 4 %" or "mindst 2,0 uger lavere end i kontrolgruppen".

    Parameters
    ----------
    kind : {"level", "absolute_change", "relative_change", "effect", "none"}
    direction : {"increase", "decrease"} or None
    goal : float
        The goal as declared: a share as 0–1, a relative change as e.g. −0.04, an effect or a change in
        the indicator's unit (a share's as 0–1).
    unit : str or None
        The indicator's unit (``andel`` for a share).
    count : bool
        The indicator counts whole things (persons, actors): the goal is printed as a whole number.
    comparison : str
        The comparison group in definite form, for an effect.
    """
    if kind == "none" or is_missing(goal):
        return "intet måltal"
    up = direction == "increase"
    g = float(goal)
    if kind == "level":
        return f"{'stige til mindst' if up else 'falde til højst'} {value_text(g, unit=unit, count=count, decimals=None)}"
    if kind == "relative_change":
        magnitude = f"{_smart(abs(g) * 100)}{NBSP}%"
    elif is_share(unit):
        magnitude = f"{_smart(abs(g) * 100)}{NBSP}procentpoint"
    elif count:
        magnitude = _with_unit(fmt_int(round(abs(g))), unit)
    else:
        magnitude = _with_unit(_smart(abs(g)), unit)
    if kind == "effect":
        # the goal's sign says which side of zero it lies: decrease to −2 is "at least 2 lower"
        if (up and g >= 0) or (not up and g <= 0):
            return f"mindst {magnitude} {'højere' if up else 'lavere'} end i {comparison}"
        return f"højst {magnitude} {'lavere' if up else 'højere'} end i {comparison}"
    if (up and g >= 0) or (not up and g <= 0):
        return f"{'stige' if up else 'falde'} med mindst {magnitude}"
    return f"{'falde' if up else 'stige'} med højst {magnitude}"


def _date(x: Any) -> _dt.date | None:
    if is_missing(x):
        return None
    if isinstance(x, _dt.datetime):
        return x.date()
    if isinstance(x, _dt.date):
        return x
    return _dt.date.fromisoformat(str(x)[:10])


def before_deadline(deadline: Any, reference_date: Any) -> bool:
    """True when the report's reference date lies before the deadline (a target without deadline is due)."""
    d, r = _date(deadline), _date(reference_date)
    return d is not None and r is not None and r < d


def status_label(status: str, *, deadline: Any = None, reference_date: Any = None, because: str | None = None) -> str:
    """The status as the report prints it.

    ``because`` says why an undecidable target was not decided (``interval``, ``no_interval``,
    ``assessed``: too uncertain; ``no_result``, ``no_assessment``: no result; ``no_baseline``).
    """
    if status == "no_target":
        return "Intet måltal"
    before = before_deadline(deadline, reference_date)
    if status == "met":
        return "Nået"
    if status == "not_met":
        return "Ikke nået endnu" if before else "Ikke nået"
    if status != "undecidable":
        raise ValueError(f"unknown target status {status!r}")
    if before:
        return "Kan ikke afgøres endnu"
    if because in ("no_result", "no_assessment"):
        return "Ikke opgjort"
    if because == "no_baseline":
        return "Kan ikke afgøres"
    return "For usikkert til at afgøre"
