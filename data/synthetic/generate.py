"""Write the small synthetic data files the shipped studies use.

Run from the repository root::

    python data/synthetic/generate.py            # every data set
    python data/synthetic/generate.py arbejdsfastholdelse-ved-sygdom

Each entry of :data:`GENERATORS` maps a study slug to a function returning ``{file name: content}``
(a DataFrame is written as CSV, a dict as canonical JSON, e.g. ``truth.json`` with the true
effects); files go to ``data/synthetic/<slug>/`` with fixed seeds, so the output is reproducible.
Add a new data set by adding one entry.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import pandas as pd

from evaluation.results import dumps_canonical
from evaluation.synthetic import simulate_sickness_trial

HERE = Path(__file__).resolve().parent


def _sickness() -> dict[str, pd.DataFrame | dict]:
    # project 126, LBR Aalborg: 300 intervention / 300 control, true effects -3 weeks, -8 and +10 points; the
    # mechanism "dialogue with the workplace within 4 weeks" (dialogue_4w) carries part of the effect on sick weeks
    df = simulate_sickness_trial(n_intervention=300, n_control=300, seed=126, mediator=True)
    truth = dict(df.attrs["truth"])
    effects = {k: truth.pop(k) for k in ("sick_weeks_52", "renewed_absence_12m", "job_retention_12m")}
    df.attrs = {}
    return {
        "participants.csv": df,
        "truth.json": {"generator": "evaluation.synthetic.simulate_sickness_trial", "effects": effects, **truth},
    }


def _fleksjob() -> dict[str, pd.DataFrame | dict]:
    # seed 003 (Aalborg, Udvikling af fleksjob): quarterly shares and the <= 10-hour cohort (evaluation/synthetic/targets.py)
    # plus person-level status on ledighedsydelse at baseline (June 2016: 334 of 2,180, 15.3 % as in the application)
    # and at the deadline (March 2018: 282 of 2,301, the synthetic share in shares.csv), 1,650 persons in both
    from evaluation.synthetic.prepost import simulate_pre_post
    from evaluation.synthetic.targets import udvikling_af_fleksjob

    frames = udvikling_af_fleksjob(seed=2017)
    persons = simulate_pre_post(n_both=1650, n_baseline_only=530, n_follow_up_only=651, p_baseline=334 / 2180,
                                p_follow_up=282 / 2301, persistence=0.35, baseline="2016-06-30", follow_up="2018-03-31",
                                outcome="on_ledighedsydelse", exact_counts=True, seed=2018)
    truth = {"generator": "evaluation.synthetic.simulate_pre_post", "seed": 2018, **persons.attrs["truth"],
             "n_both": 1650, "n_baseline_only": 530, "n_follow_up_only": 651,
             "exact_counts": True}
    persons.attrs = {}
    return {"shares.csv": frames["shares"], "cohort.csv": frames["cohort"], "persons.csv": persons, "persons_truth.json": truth}


GENERATORS: dict[str, Callable[[], dict[str, pd.DataFrame | dict]]] = {
    "arbejdsfastholdelse-ved-sygdom": _sickness,
    # seed 001 (Aalborg): JobFirst (randomised) and Flere skal med (staggered DiD); see evaluation/synthetic/jobcentre.py
    "jobfirst": lambda: __import__("evaluation.synthetic.jobcentre", fromlist=["_"]).jobfirst_files(seed=2016),
    "udvikling-af-fleksjob": _fleksjob,
    "flere-skal-med": lambda: __import__("evaluation.synthetic.jobcentre", fromlist=["_"]).flere_skal_med_files(seed=2017),
}


def generate(names: list[str] | None = None, root: Path = HERE) -> list[Path]:
    """Write the data sets ``names`` (all when None) below ``root``; return the written paths."""
    names = list(GENERATORS) if not names else names
    unknown = [n for n in names if n not in GENERATORS]
    if unknown:
        raise SystemExit(f"unknown data set(s) {unknown}; known: {sorted(GENERATORS)}")
    written = []
    for name in names:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for fname, content in GENERATORS[name]().items():
            path = folder / fname
            if isinstance(content, pd.DataFrame):
                content.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")
            else:
                path.write_text(dumps_canonical(content), encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    for p in generate(sys.argv[1:]):
        print(p)
