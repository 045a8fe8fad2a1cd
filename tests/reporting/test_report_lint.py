"""The report lint (evaluation/reporting/lint.py) over every shipped study and a generated study of every design
family: no English method words, no raw identifiers, no NaN/None, no machine paths, no "endnu" after a deadline, no
big numbers without a thousands separator, no shares off the per-cent scale, no repeated sentence, a "Kort fortalt"
box above the contents and the synthetic-data banner wherever the data are synthetic. And the lint is not vacuous:
it fails on reports that break each rule."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from evaluation.reporting.lint import lint_report, lint_report_dir
from evaluation.reporting.render import html_text

REFERENCE = dt.date(2026, 1, 1)
SHIPPED = ["arbejdsfastholdelse-ved-sygdom", "beskaeftigelsesplan-2015", "brugermaaling-jobcenter-aalborg",
           "flere-skal-med", "jobfirst", "udvikling-af-fleksjob", "udviklingsplatform-midtjylland"]


def _reports(rendered_reports):
    return {k: v for k, v in rendered_reports.items() if k != "portfolio"}


def test_every_report_passes_the_lint(rendered_reports):
    reports = _reports(rendered_reports)
    assert set(SHIPPED) <= set(reports) and len(reports) >= len(SHIPPED) + 5  # and one generated study per family
    problems = []
    for slug, (folder, bundle) in sorted(reports.items()):
        problems += [f"{slug}: {p}" for p in lint_report_dir(folder, bundle, REFERENCE)]
    assert not problems, "\n".join(problems)


def test_every_claim_of_every_report_follows_from_its_bundle(rendered_reports):
    from claims import check_report_claims

    problems = []
    for slug, (folder, bundle) in sorted(_reports(rendered_reports).items()):
        qmd = (folder / "index.qmd").read_text(encoding="utf-8")
        problems += [f"{slug}: {p}" for p in check_report_claims(qmd, bundle)]
    assert not problems, "\n".join(problems)


def test_the_portfolio_passes_the_text_lint(rendered_reports):
    from evaluation.reporting.lint import lint_text

    folder, _ = rendered_reports["portfolio"]
    assert not lint_text(html_text(folder / "index.html"), "portfolio/index.html")


def _inputs(rendered_reports, slug):
    folder, bundle = rendered_reports[slug]
    return (folder / "index.qmd").read_text(encoding="utf-8"), html_text(folder / "index.html"), bundle


@pytest.mark.parametrize("bad, rule", [
    ("Forskellen blev beregnet som difference in means med et Welch t interval.", "English"),
    ("Effekten for muskel_skelet var størst.", "identifier"),
    ("Resultatet var NaN for gruppen.", "missing value"),
    ("Data blev læst fra /tmp/abc/participants.csv i går.", "machine path"),
    ("I alt 2443 rækker blev læst.", "thousands separator"),
])
def test_the_lint_catches_each_text_problem(rendered_reports, bad, rule):
    qmd, visible, bundle = _inputs(rendered_reports, "jobfirst")
    assert not lint_report(qmd, visible, bundle, REFERENCE)
    problems = lint_report(qmd, visible + "\n" + bad + "\n", bundle, REFERENCE)
    assert any(rule in p for p in problems), problems


def test_the_lint_catches_structural_problems(rendered_reports):
    qmd, visible, bundle = _inputs(rendered_reports, "udvikling-af-fleksjob")
    assert not lint_report(qmd, visible, bundle, REFERENCE)
    # no summary box; no banner although the data are synthetic
    no_box = re.sub(r"::: \{#kort-fortalt.*?\n:::\n", "", qmd, flags=re.S)
    assert any("Kort fortalt" in p for p in lint_report(no_box, visible.replace("Kort fortalt", ""), bundle, REFERENCE))
    no_banner = re.sub(r"::: \{#syntetiske-data.*?\n:::\n", "", qmd, flags=re.S)
    assert any("banner" in p for p in lint_report(no_banner, visible, bundle, REFERENCE))
    # "endnu" in a status after the deadline (31 March 2018), but not before it
    late = qmd.replace("| **Ikke nået** |", "| **Ikke nået endnu** |")
    assert late != qmd
    assert any("endnu" in p for p in lint_report(late, visible, bundle, REFERENCE))
    assert not any("endnu" in p for p in lint_report(late, visible, bundle, dt.date(2017, 1, 1)))
    # a sentence printed twice
    sentence = "Dette er en sætning, som kun må stå én gang i hele rapporten."
    twice = qmd + f"\n{sentence}\n\n{sentence}\n"
    assert any("twice" in p for p in lint_report(twice, visible, bundle, REFERENCE))


def test_the_lint_catches_shares_off_the_percent_scale(rendered_reports):
    qmd, visible, bundle = _inputs(rendered_reports, "jobfirst")
    table = ("Andele er vist i procent.\n\n| Baggrundsforhold | Interventionsgruppe | Kontrolgruppe | SMD |\n"
             "|:---|---:|---:|---:|\n| Andel af ugerne på offentlig forsørgelse | 1,0 | 0,9 | 0,02 |\n"
             "| Køn: Kvinde (%) | 147,2 | 41,3 | 0,12 |\n")
    problems = lint_report(qmd + "\n" + table, visible, bundle, REFERENCE)
    assert any("0–1 scale" in p for p in problems) and any("outside 0–100" in p for p in problems)


def test_the_lint_catches_a_unit_table_without_the_synthetic_note(rendered_reports):
    qmd, visible, bundle = _inputs(rendered_reports, "brugermaaling-jobcenter-aalborg")
    assert not lint_report(qmd, visible, bundle, REFERENCE)
    bare = qmd.replace(" – syntetiske data, ikke enhedernes faktiske resultater", "")
    assert any("synthetic-data note" in p for p in lint_report(bare, visible, bundle, REFERENCE))
