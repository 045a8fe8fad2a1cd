"""The first study rendered end to end, read as a council member and as a disclosure reviewer would."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evaluation.data.pseudonym import CPR_PATTERN
from evaluation.reporting.render import html_headings, html_text, pdf_headings, pdf_text

from conftest import SYNTHETIC

SLUG = "arbejdsfastholdelse-ved-sygdom"
SECTIONS = ["Hovedresultater", "Projektet og programteorien", "Hvem deltog", "Metode", "Effekter",
            "Hvordan og for hvem", "Målopfyldelse", "Økonomi", "Forbehold", "Bilag"]


@pytest.fixture(scope="module")
def rendered(rendered_reports):
    """The study as the session ran and reported it from a copy of studies/ and data/ (tests/conftest.py's
    rendered_tree: run_study, then build_report with its default formats, as here before)."""
    folder, _ = rendered_reports[SLUG]
    root = folder.parent.parent
    bundle_dir = root / "results" / SLUG
    outputs = {fmt: folder / f"index.{fmt}" for fmt in ("html", "pdf")}
    assert all(path.is_file() for path in outputs.values()), outputs
    return {"root": root, "bundle": json.loads((bundle_dir / "results.json").read_text(encoding="utf-8")), **outputs}


def _norm(s: str) -> str:
    return re.sub(r"^[\d.\s]+", "", s).strip()


def test_same_sections_in_html_and_pdf(rendered):
    h = [_norm(x) for x in html_headings(rendered["html"])]
    p = [_norm(x) for x in pdf_headings(rendered["pdf"])]
    for s in SECTIONS:
        assert s in h, (s, h)
    top_h = [x for x in h if x in SECTIONS]
    top_p = [x for x in p if x in SECTIONS]
    assert top_h == top_p == SECTIONS


def test_danish_text_and_numbers(rendered):
    text = html_text(rendered["html"])
    assert "95 %-sikkerhedsinterval" in text.replace("\u00a0", " ")
    assert re.search(r"\d+,\d", text), "decimal comma expected"
    assert "1.425.000 kr." in text
    assert "Evidensniveau 5 af 5" in text
    digest = rendered["bundle"]["config_hash"].split(":")[1]
    assert " ".join(digest[i:i + 16] for i in range(0, 64, 16)) in text, "the full config hash is printed"
    assert "Ud af 100 personer i kontrolgruppen" in text
    pdf = pdf_text(rendered["pdf"])
    assert "Hovedresultater" in pdf and "sikkerhedsinterval" in pdf


def test_primary_estimate_recovers_the_known_truth(rendered):
    truth = json.loads((SYNTHETIC / SLUG / "truth.json").read_text(encoding="utf-8"))
    a = next(a for a in rendered["bundle"]["analyses"] if a["id"] == "sygefravaer")
    e = next(e for e in a["result"]["estimates"] if e["term"] == "adjusted_difference")
    true = truth["effects"]["sick_weeks_52"]
    assert e["ci_lower"] <= true <= e["ci_upper"], (e, true)
    assert abs(e["estimate"] - true) < 2 * e["std_error"] + 1e-9


def _pipe_tables(md: str):
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("| ") and i + 1 < len(lines) and re.match(r"^\|[:\-|]+\|$", lines[i + 1]):
            head = [c.strip() for c in lines[i].strip("|").split(" | ")]
            rows = []
            j = i + 2
            while j < len(lines) and lines[j].startswith("| "):
                rows.append([c.strip() for c in lines[j].strip("|").split(" | ")])
                j += 1
            yield head, rows
            i = j
        else:
            i += 1


def test_no_small_cells_and_no_identifiers_published(rendered):
    threshold = rendered["bundle"]["disclosure"]["threshold"]
    qmd = (rendered["html"].parent / "index.qmd").read_text(encoding="utf-8")
    checked = 0
    for head, rows in _pipe_tables(qmd):
        for k, h in enumerate(head):
            if h.startswith("Antal") or h in ("Interventionsgruppe", "Kontrolgruppe") and "Trin" in head:
                for r in rows:
                    for v in re.findall(r"\d[\d.]*", r[k]):
                        n = int(v.replace(".", ""))
                        assert n == 0 or n >= threshold, (h, r)
                        checked += 1
    assert checked > 0, "the scan found no count cells: the scan itself is broken"
    for path in (rendered["html"], rendered["pdf"]):
        text = html_text(path) if path.suffix == ".html" else pdf_text(path)
        assert not CPR_PATTERN.search(text), "something shaped like a CPR number was published"
        assert not re.search(r"\bP\d{4}\b|\bp_[0-9a-f]{16}\b", text), "a person identifier was published"


@pytest.mark.browser
def test_report_opens_in_chromium(rendered, tmp_path):
    from evaluation.reporting.browser import check_html_in_chromium, find_chromium

    if find_chromium() is None:
        pytest.skip("Chromium is not installed (tools/install-system-deps.sh installs it on Debian/Ubuntu)")
    res = check_html_in_chromium(rendered["html"], screenshot=tmp_path / "shot.png")
    assert res["loaded"]
    assert res["external_requests"] == [] and res["static_external"] == []
    assert "Hovedresultater" in res["dom"]
    assert re.search(r'<img[^>]+src="data:image/png;base64', res["dom"]), "the logic-model diagram is missing"
    assert (tmp_path / "shot.png").stat().st_size > 10_000
