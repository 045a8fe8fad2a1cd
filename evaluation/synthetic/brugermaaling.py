"""Synthetic brugermåling (user survey) of Jobcenter Aalborg, built to match the published figures.

The source (a presentation "Brugermåling i Jobcenter Aalborg") reports: questionnaires on paper
after every planned meeting in weeks 6 and 7, 2070 planned meetings, 1032 returned answers
(50 %), some units below 50 %, four houses (Jobhuset, Job- og Aktivhuset, Sygedagpengehuset,
Uddannelseshuset), separate questionnaires for *myndighed* and *udfører*, and nine items with
97, 74, 94, 63, 80, 67, 81, 81 and 91 % answering "Ja, i høj grad" or "Ja, i nogen grad".

:func:`simulate_brugermaaling` constructs a data set in which those nine top-box shares hold
*exactly* after rounding to whole percent (over valid answers), whatever the seed: the number
of top-box answers per item is fixed first, and the seed only decides who gives them (via a
latent satisfaction with a person factor, house effects and item-specific house effects, so
houses differ and items correlate). Planned meetings and answers per house × meeting type
are fixed numbers chosen to sum to 2070 and 1032; they are illustrative, not published.

Examples
--------
>>> answers, planned = simulate_brugermaaling(seed=1)
>>> len(answers), int(planned["planned"].sum())
(1032, 2070)
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "ITEMS",
    "PUBLISHED_TOP_BOX",
    "HOUSES",
    "MEETING_TYPES",
    "CELLS",
    "DEFAULT_SEED",
    "simulate_brugermaaling",
    "write_brugermaaling",
    "percent_half_up",
]

DEFAULT_SEED = 20170213
"""Default seed (week 7 of 2017; the year of the source is not stated, the weeks are)."""

ITEMS: dict[str, str] = {
    "modtaget_godt": "Blev du taget godt imod af den medarbejder fra Jobcenter Aalborg, som du skulle tale med?",
    "mere_viden": "Gav samtalen dig mere viden om, hvad du kan/skal gøre for at komme tættere på job eller uddannelse?",
    "blev_lyttet_til": "Oplevede du, at der blev lyttet til det, du sagde under samtalen?",
    "tro_paa_job": "Har samtalen haft positiv betydning for din tro på, at du kommer i job eller uddannelse?",
    "raadgiver_tror": "Oplever du, at medarbejderen/rådgiveren fra Jobcenter Aalborg tror på, at du kommer i job eller uddannelse?",
    "opfoelgning": "Oplevede du, at der under samtalen blev fulgt op på aftaler fra tidligere samtaler?",
    "inddraget": "Føler du dig inddraget i forhold til de aftaler og beslutninger, som træffes i dit forløb i Jobcenter Aalborg?",
    "overblik": "Føler du, at du har overblik over, hvad der skal ske i dit forløb i Jobcenter Aalborg?",
    "tilfreds": "Er du tilfreds med din samtale med Jobcenter Aalborg?",
}
"""Item id → question text in Danish. Two texts are quoted in the source as questions; the
other seven are the source's result sentences ("angiver, at …") turned back into questions."""

PUBLISHED_TOP_BOX: dict[str, int] = {
    "modtaget_godt": 97,
    "mere_viden": 74,
    "blev_lyttet_til": 94,
    "tro_paa_job": 63,
    "raadgiver_tror": 80,
    "opfoelgning": 67,
    "inddraget": 81,
    "overblik": 81,
    "tilfreds": 91,
}
"""Published share (whole percent) answering 4–5, "i høj grad eller nogen grad", for the whole jobcentre."""

HOUSES = ("Jobhuset", "Job- og Aktivhuset", "Sygedagpengehuset", "Uddannelseshuset")
MEETING_TYPES = ("myndighed", "udfører")

CELLS: tuple[tuple[str, str, int, int], ...] = (
    # house, meeting type, planned meetings (weeks 6-7), returned answers  -- illustrative
    ("Jobhuset", "myndighed", 520, 281),
    ("Jobhuset", "udfører", 240, 118),
    ("Job- og Aktivhuset", "myndighed", 380, 162),
    ("Job- og Aktivhuset", "udfører", 210, 92),
    ("Sygedagpengehuset", "myndighed", 330, 171),
    ("Sygedagpengehuset", "udfører", 60, 33),
    ("Uddannelseshuset", "myndighed", 250, 121),
    ("Uddannelseshuset", "udfører", 80, 54),
)
"""Planned meetings and answers per house × meeting type: totals 2070 and 1032 as published;
Job- og Aktivhuset is below 50 % ("for enkelte enheder har svarprocenten været under 50 %")."""

# latent-scale house effects (overall, and extra per item) -> variation between houses
_HOUSE_EFFECT = {"Jobhuset": 0.20, "Job- og Aktivhuset": -0.30, "Sygedagpengehuset": -0.05, "Uddannelseshuset": 0.15}
_ITEM_HOUSE_EFFECT = {
    ("tro_paa_job", "Sygedagpengehuset"): -0.35,
    ("tro_paa_job", "Uddannelseshuset"): 0.25,
    ("mere_viden", "Uddannelseshuset"): 0.30,
    ("opfoelgning", "Job- og Aktivhuset"): 0.30,
    ("raadgiver_tror", "Job- og Aktivhuset"): -0.25,
}
# share of the top box answering 5 ("i høj grad"), and how many give a non-answer
_SHARE_5_IN_TOP = {"modtaget_godt": 0.78, "mere_viden": 0.45, "blev_lyttet_til": 0.70, "tro_paa_job": 0.42,
                   "raadgiver_tror": 0.55, "opfoelgning": 0.50, "inddraget": 0.55, "overblik": 0.50, "tilfreds": 0.68}
_MISSING_RANGE = {"opfoelgning": (60, 110)}  # first meeting: nothing to follow up -> "Ved ikke"
_DEFAULT_MISSING_RANGE = (8, 30)
_BELOW_TOP_SPLIT = (0.20, 0.30, 0.50)  # codes 1, 2, 3 among answers below the top box


def percent_half_up(share: float) -> int:
    """A share in whole percent, rounding halves up as a printed report does (0.665 → 67)."""
    return int(math.floor(share * 100 + 0.5 + 1e-9))


def _top_count(target_pct: int, n_valid: int) -> int:
    k = int(math.floor(target_pct / 100 * n_valid + 0.5))
    # the nearest count always rounds to the target when n_valid > 100; check anyway
    for cand in (k, k - 1, k + 1):
        if 0 <= cand <= n_valid and percent_half_up(cand / n_valid) == target_pct:
            return cand
    raise ValueError(f"no count of {n_valid} valid answers rounds to {target_pct} %")


def simulate_brugermaaling(seed: int = DEFAULT_SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate the 1032 answers and the 2070 planned meetings of the Aalborg brugermåling.

    Parameters
    ----------
    seed : int, default :data:`DEFAULT_SEED`
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same frames.

    Returns
    -------
    answers : DataFrame
        One row per returned questionnaire: ``respondent`` (``"R0001"``…), ``hus``,
        ``samtaletype`` (myndighed/udfører), ``uge`` (6 or 7) and one column per item of
        :data:`ITEMS` with codes 1–5, 9 (Ved ikke), 8 (to krydser) or ``<NA>`` (blank), as
        nullable ``Int64``.
    planned : DataFrame
        ``hus``, ``samtaletype``, ``planned`` (planned meetings in weeks 6–7), ``answers``.

    Notes
    -----
    Guarantee: for every item, the share of valid answers (codes 1–5) in the top box (4–5),
    rounded half up to whole percent, equals :data:`PUBLISHED_TOP_BOX`. The counts per house
    and meeting type are :data:`CELLS`.

    Examples
    --------
    >>> answers, planned = simulate_brugermaaling()
    >>> valid = answers["tro_paa_job"].isin([1, 2, 3, 4, 5])
    >>> percent_half_up(answers.loc[valid, "tro_paa_job"].isin([4, 5]).mean())
    63
    """
    rng = np.random.default_rng(seed)
    hus, typ = [], []
    for h, t, _planned, n_ans in CELLS:
        hus += [h] * n_ans
        typ += [t] * n_ans
    n = len(hus)
    order = rng.permutation(n)  # respondents in the order the questionnaires were keyed in
    hus = np.asarray(hus, dtype=object)[order]
    typ = np.asarray(typ, dtype=object)[order]
    answers = pd.DataFrame({
        "respondent": [f"R{i + 1:04d}" for i in range(n)],
        "hus": hus,
        "samtaletype": typ,
        "uge": rng.choice([6, 7], size=n),
    })
    person = rng.normal(size=n)
    house_eff = np.array([_HOUSE_EFFECT[h] for h in hus])
    for item, target in PUBLISHED_TOP_BOX.items():
        lo, hi = _MISSING_RANGE.get(item, _DEFAULT_MISSING_RANGE)
        n_missing = int(rng.integers(lo, hi + 1))
        missing_idx = rng.choice(n, size=n_missing, replace=False)
        kinds = rng.choice(np.array([9, 0, 8]), size=n_missing, p=[0.7, 0.2, 0.1])  # 0 marks blank
        item_eff = np.array([_ITEM_HOUSE_EFFECT.get((item, h), 0.0) for h in hus])
        latent = 0.75 * person + house_eff + item_eff + 0.65 * rng.normal(size=n)
        valid_mask = np.ones(n, dtype=bool)
        valid_mask[missing_idx] = False
        valid_idx = np.flatnonzero(valid_mask)
        n_valid = len(valid_idx)
        n_top = _top_count(target, n_valid)
        ranked = valid_idx[np.argsort(-latent[valid_idx], kind="stable")]
        codes = np.zeros(n, dtype=float)
        n5 = int(round(_SHARE_5_IN_TOP[item] * n_top))
        codes[ranked[:n5]] = 5
        codes[ranked[n5:n_top]] = 4
        rest = ranked[n_top:]
        n3 = int(round(_BELOW_TOP_SPLIT[2] * len(rest)))
        n2 = int(round(_BELOW_TOP_SPLIT[1] * len(rest)))
        codes[rest[:n3]] = 3
        codes[rest[n3:n3 + n2]] = 2
        codes[rest[n3 + n2:]] = 1
        codes[missing_idx] = np.where(kinds == 0, np.nan, kinds)
        answers[item] = pd.array(np.where(np.isnan(codes), None, codes), dtype="Int64")
    planned = pd.DataFrame([{"hus": h, "samtaletype": t, "planned": p, "answers": a} for h, t, p, a in CELLS])
    return answers, planned


def write_brugermaaling(folder: str | Path, seed: int = DEFAULT_SEED) -> tuple[Path, Path]:
    """Write ``answers.csv`` and ``planned.csv`` of :func:`simulate_brugermaaling` to ``folder``.

    Blank answers are written as empty fields. Returns the two paths.

    Examples
    --------
    >>> import tempfile
    >>> a, p = write_brugermaaling(tempfile.mkdtemp())
    >>> a.name, p.name
    ('answers.csv', 'planned.csv')
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    answers, planned = simulate_brugermaaling(seed)
    a, p = folder / "answers.csv", folder / "planned.csv"
    answers.to_csv(a, index=False, encoding="utf-8", lineterminator="\n")
    planned.to_csv(p, index=False, encoding="utf-8", lineterminator="\n")
    return a, p


if __name__ == "__main__":  # regenerate the shipped files
    root = Path(__file__).resolve().parents[2]
    for path in write_brugermaaling(root / "data" / "synthetic" / "brugermaaling-jobcenter-aalborg"):
        print(path)
