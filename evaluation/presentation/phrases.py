"""The Danish phrases of the reports: how a number, its interval and its significance are said.

Every report part builds its interval and significance wording here, so a council reads the
same phrase for the same thing in every section and every study:

* :func:`ci_label` — "95 %-sikkerhedsinterval" at the result's own confidence level (with a no-break space
  before %; :data:`CI_LABEL` is the 95 % default);
* :func:`scale_for` — how an estimate is shown (a share or a difference of shares in
  percent/procentpoint, otherwise in the indicator's unit);
* :func:`interval_phrase` — the interval in running text, reading naturally whatever the signs of
  its ends: "… 0,8–5,4 uger lavere" (a difference) or "…: et fald på 0,8–5,4 procentpoint" (a change
  over time);
* :func:`interval_in_parentheses` — "(95 %-sikkerhedsinterval 0,8–5,4 uger)" after a number;
* :func:`signed_phrase` — "3,1 uger lavere";
* :func:`significance_sentence` — what the interval and the p-value say about chance, without
  overclaiming;
* :func:`natural_frequency` — two shares as "Ud af 100 personer …".
"""

from __future__ import annotations

import math
from typing import Any

from evaluation.presentation.markdown import DASH
from evaluation.presentation.formatting import NBSP, fmt_ci, fmt_date, fmt_int, fmt_number, fmt_p, is_missing

__all__ = ["CI_LABEL", "CI_LABEL_DEF", "EVIDENCE_SHORT_DA", "level_pct", "ci_label", "result_level", "common_level", "ci_header", "ci_cell", "scale_for", "check_scale_for", "signed_phrase", "interval_phrase", "interval_in_parentheses",
           "significance_sentence", "natural_frequency", "period_label"]



def level_pct(level: float = 0.95) -> str:
    """A confidence level as Danish percent: "95 %", "90 %", "97,5 %" (no-break space before %).

    Examples
    --------
    >>> [level_pct(x).replace(NBSP, " ") for x in (0.95, 0.9, 0.975)]
    ['95 %', '90 %', '97,5 %']
    """
    v = 100.0 * float(level)
    txt = fmt_int(round(v)) if abs(v - round(v)) < 1e-9 else fmt_number(v, 1)
    return f"{txt}{NBSP}%"


def ci_label(level: float = 0.95, *, definite: bool = False, plural: bool = False) -> str:
    """"95 %-sikkerhedsinterval" at the result's own level; ``definite`` gives "…intervallet", ``plural``
    "…intervaller".

    Examples
    --------
    >>> ci_label(0.9).replace(NBSP, " "), ci_label(0.9, definite=True).replace(NBSP, " ")
    ('90 %-sikkerhedsinterval', '90 %-sikkerhedsintervallet')
    """
    return f"{level_pct(level)}-sikkerhedsinterval" + ("let" if definite else "ler" if plural else "")


def result_level(result: Any) -> float:
    """The confidence level a result's intervals were computed at (its ``conf_level``; 0.95 for an object
    without one)."""
    return float(getattr(result, "conf_level", 0.95))


def common_level(levels) -> float | None:
    """The one confidence level shared by ``levels`` (None when they differ or there are none)."""
    found = {round(float(x), 10) for x in levels if x is not None}
    return found.pop() if len(found) == 1 else None


def ci_header(levels) -> str:
    """A table column's heading for intervals at ``levels`` (one per row): "90 %-sikkerhedsinterval" when the
    rows share one level, else "Sikkerhedsinterval (niveau)" and every cell names its level (:func:`ci_cell`)."""
    lvl = common_level(levels)
    return ci_label(lvl) if lvl is not None else "Sikkerhedsinterval (niveau)"


def ci_cell(text: str, level: float, levels) -> str:
    """An interval's table cell: ``text``, with its level in parentheses when the column mixes levels."""
    return text if common_level(levels) is not None or text in ("", DASH) else f"{text} ({level_pct(level)})"


CI_LABEL = ci_label(0.95)
#: the same in definite form ("95 %-sikkerhedsintervallet")
CI_LABEL_DEF = ci_label(0.95, definite=True)

#: the evidence levels (Maryland scale) in a few words, for the summary box
EVIDENCE_SHORT_DA = {
    1: "før/efter uden sammenligningsgruppe – det laveste niveau",
    2: "sammenligning med en gruppe, der kan have været anderledes fra start",
    3: "sammenligning med en lignende gruppe uden indsatsen",
    4: "sammenligning, der også tager højde for forskelle, registrene ikke viser",
    5: "lodtrækning – det højeste niveau",
}

# words for a value below and above zero, by kind of quantity
_WORDS = {
    "difference": ("lavere", "højere"),
    "change": ("et fald", "en stigning"),
}


def scale_for(unit: str | None, outcome_type: str) -> tuple[float, str, int]:
    """Multiplier, Danish unit and decimals used to show an estimate of a difference.

    A 0/1 outcome or an indicator measured as a share (``unit: andel``) is shown in procentpoint.
    """
    if outcome_type == "binary" or unit == "andel":
        return 100.0, "procentpoint", 1
    return 1.0, unit or "", 1


def check_scale_for(unit: str | None, outcome_type: str) -> tuple[float, str, int]:
    """Multiplier, Danish unit and decimals for the numbers of an assumption check (sensitivity intervals,
    placebo effects): the results' scale (:func:`scale_for`), with two decimals, or three when the effect has
    no unit. The check findings and the section "Hvor robust er resultatet?" both use it."""
    mult, shown, _ = scale_for(unit, outcome_type)
    return mult, shown, 2 if shown else 3


def signed_phrase(value: float, unit: str, decimals: int, *, kind: str = "difference") -> str:
    """A magnitude with its direction word: "3,1 uger lavere" (difference), "et fald på 3,1 uger" (change)."""
    below, above = _WORDS[kind]
    word = below if value < 0 else above
    if kind == "change":
        return f"{word} på {fmt_number(abs(value), decimals)} {unit}".rstrip()
    return f"{fmt_number(abs(value), decimals)} {unit} {word}".replace("  ", " ")


def interval_phrase(lo: Any, hi: Any, unit: str = "", decimals: int = 1, *, kind: str = "difference",
                    level: float = 0.95) -> str:
    """The confidence interval in words that read naturally whatever the signs of its ends.

    ``kind="difference"``: "95 %-sikkerhedsinterval 0,8–5,4 uger lavere" or "… fra 2,0 uger lavere
    til 1,0 uger højere". ``kind="change"`` (a change over time): "95 %-sikkerhedsinterval: et fald på
    0,8–5,4 uger" or "… fra et fald på 2,0 til en stigning på 1,0 uger". ``level`` is the interval's
    confidence level (the result's ``conf_level``).

    Examples
    --------
    >>> print(interval_phrase(-5.4, -0.8, "uger", 1).replace(NBSP, " "))
    95 %-sikkerhedsinterval 0,8–5,4 uger lavere
    >>> print(interval_phrase(-2.0, 1.0, "uger", 1, kind="change").replace(NBSP, " "))
    95 %-sikkerhedsinterval fra et fald på 2,0 til en stigning på 1,0 uger
    """
    if is_missing(lo) or is_missing(hi):
        return "intet sikkerhedsinterval"
    lo, hi = float(lo), float(hi)
    below, above = _WORDS[kind]
    label = ci_label(level)
    if lo >= 0 or hi <= 0:
        a, b = sorted([abs(lo), abs(hi)])
        word = above if lo >= 0 else below
        if kind == "change":
            return f"{label}: {word} på {fmt_ci(a, b, decimals)} {unit}".rstrip()
        return f"{label} {fmt_ci(a, b, decimals)} {unit} {word}".replace("  ", " ")
    if kind == "change":
        return (f"{label} fra {below} på {fmt_number(abs(lo), decimals)} til {above} på "
                f"{fmt_number(abs(hi), decimals)} {unit}").rstrip()
    return f"{label} fra {signed_phrase(lo, unit, decimals)} til {signed_phrase(hi, unit, decimals)}"


def interval_in_parentheses(lo: Any, hi: Any, decimals: int = 1, unit: str = "", *, level: float = 0.95) -> str:
    """"(95 %-sikkerhedsinterval 0,8–5,4 uger)" after a number; "" without an interval.

    Examples
    --------
    >>> print(interval_in_parentheses(0.8, 5.4, 1, "uger").replace(NBSP, " "))
    (95 %-sikkerhedsinterval 0,8–5,4 uger)
    """
    if is_missing(lo) or is_missing(hi):
        return ""
    return f"({ci_label(level)} {fmt_ci(lo, hi, decimals)}{' ' + unit if unit else ''})"


def significance_sentence(lo: Any, hi: Any, p_value: Any = None, *, kind: str = "effect", level: float = 0.95) -> str:
    """What the interval (and the p-value) say about chance, as a sentence to follow the estimate.

    ``kind="effect"``: an interval on one side of zero whose p-value (if any) is below ``1 − level`` —
    "Forskellen er så stor, at den næppe skyldes tilfældigheder (p = …)."; an interval containing zero
    whose p-value (if any) is at least ``1 − level`` — "Vi kan ikke udelukke, at indsatsen ingen effekt
    havde på dette mål."; an interval and a test that disagree (they come from different methods, e.g.
    a score interval and a z-test) — a sentence that says the result lies at the border. ``kind="change"``:
    only an interval containing zero is commented ("Ændringen er så lille, at den kan skyldes
    tilfældigheder."). Returns "" without an interval.

    Examples
    --------
    >>> significance_sentence(-5.4, -0.8, 0.004)
    'Forskellen er så stor, at den næppe skyldes tilfældigheder (p = 0,004).'
    >>> significance_sentence(-1.0, 0.5, 0.3)
    'Vi kan ikke udelukke, at indsatsen ingen effekt havde på dette mål.'
    """
    if is_missing(lo) or is_missing(hi):
        return ""
    crosses = lo <= 0 <= hi
    if kind == "change":
        return "Ændringen er så lille, at den kan skyldes tilfældigheder." if crosses else ""
    alpha = 1.0 - level
    p_txt = f" ({fmt_p(p_value)})" if not is_missing(p_value) else ""
    test_says_chance = None if is_missing(p_value) else float(p_value) >= alpha
    if not crosses and test_says_chance is not True:
        return f"Forskellen er så stor, at den næppe skyldes tilfældigheder{p_txt}."
    if crosses and test_says_chance is not False:
        return "Vi kan ikke udelukke, at indsatsen ingen effekt havde på dette mål."
    return (f"Resultatet ligger på grænsen af, hvad tilfældigheder kan forklare{p_txt}: sikkerhedsintervallet og "
            "testen peger ikke samme vej, så det bør læses med forsigtighed.")


def natural_frequency(
    p_control: float,
    p_treated: float,
    outcome_phrase: str,
    *,
    control: str = "kontrolgruppen",
    treated: str = "interventionsgruppen",
    verb: str = "var",
    per: int = 100,
) -> str:
    """Two shares as natural frequencies ("Ud af 100 personer i kontrolgruppen var 62 …").

    Parameters
    ----------
    p_control, p_treated : float
        Shares between 0 and 1.
    outcome_phrase : str
        What the counted persons were/had, after ``verb`` ("i job efter 12 måneder").
    control, treated : str
        Names of the groups in definite form (the comparison group is a *kontrolgruppe* only after a
        lottery).
    verb : str, default "var"
    per : int, default 100
        Size of the imagined group.

    Examples
    --------
    >>> natural_frequency(0.62, 0.71, "i job efter 12 måneder")
    'Ud af 100 personer i kontrolgruppen var 62 i job efter 12 måneder; i interventionsgruppen var det 71.'
    """
    for name, p in (("p_control", p_control), ("p_treated", p_treated)):
        if is_missing(p):
            raise ValueError(f"natural_frequency needs {name}; got a missing value")
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"{name} must be a share between 0 and 1, got {p!r}")
    if not isinstance(per, int) or per <= 0:
        raise ValueError(f"per must be a positive integer, got {per!r}")

    def count(p: float) -> str:
        return fmt_int(math.floor(float(p) * per + 0.5))

    return (
        f"Ud af {fmt_int(per)} personer i {control} {verb} {count(p_control)} {outcome_phrase}; "
        f"i {treated} {verb} det {count(p_treated)}."
    )


def period_label(x: Any) -> str:
    """A period label as a Danish date when it is an ISO date (``2016-06-30`` → ``30. juni 2016``), else as given."""
    text = str(x)
    if len(text) >= 10:
        try:
            return fmt_date(text)
        except ValueError:
            pass
    return text
