"""Every shipped study and the portfolio rendered from a copy of the repository (the session's
rendered_reports), then scanned as a disclosure reviewer would: no cell under the threshold, nothing shaped like a person identifier."""

from __future__ import annotations

import json
import re

import pytest

from evaluation.data.pseudonym import CPR_PATTERN
from evaluation.reporting.render import html_text, pdf_text

from conftest import STUDIES

COUNT_KEYS = re.compile(r"^(n|n_.*|count.*|answers|planned|valid|missing|n_status|.*_n)$")


@pytest.fixture(scope="module")
def published(rendered_reports):
    """(root, {slug or "portfolio": {"html": path, "pdf": path}}) of the session's rendered copy of the
    repository (tests/conftest.py: the shipped studies run, reported and put in a portfolio, plus one generated
    study per family), so the scans below read what a council would get without rendering it all again."""
    folder, _ = rendered_reports["portfolio"]
    root = folder.parent.parent
    outputs = {}
    for name, (report, _) in rendered_reports.items():
        outputs[name] = {fmt: report / f"index.{fmt}" for fmt in ("html", "pdf") if (report / f"index.{fmt}").is_file()}
    assert all(set(out) == {"html", "pdf"} for name, out in outputs.items() if name != "portfolio"), outputs
    return root, outputs


def test_every_study_and_the_portfolio_rendered(published):
    root, outputs = published
    studies = {p.parent.name for p in STUDIES.glob("*/study.yaml")}
    assert studies <= set(outputs)
    for name, out in outputs.items():
        for fmt, path in out.items():
            assert path.is_file() and path.stat().st_size > 1000, (name, fmt)


def _walk_tables(obj, path=""):
    """Yield (path, column, values) for every {"columns": [...], "data": [...]} table in a bundle."""
    if isinstance(obj, dict):
        if set(obj) == {"columns", "data"} and isinstance(obj["columns"], list):
            for j, c in enumerate(obj["columns"]):
                yield path, c, [row[j] for row in obj["data"]]
        for k, v in obj.items():
            yield from _walk_tables(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _walk_tables(v, f"{path}[{i}]")


def test_no_bundle_count_below_threshold(published):
    root, _ = published
    checked = 0
    for f in sorted((root / "results").glob("*/results.json")):
        b = json.loads(f.read_text(encoding="utf-8"))
        thr = b["disclosure"]["threshold"]
        for path, col, values in _walk_tables(b):
            if not COUNT_KEYS.match(str(col)):
                continue
            for v in values:
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    checked += 1
                    assert v == 0 or v >= thr, f"{f.parent.name}{path}: column {col} publishes {v} < {thr}"
        for a in b["analyses"]:
            for e in a["result"]["estimates"]:
                for k in ("n", "n_treated", "n_control"):
                    if e.get(k):
                        checked += 1
                        assert e[k] >= thr
    assert checked > 50, "the scan found almost no counts: it is not looking at the bundles"


def test_no_identifier_in_any_published_file(published):
    root, outputs = published
    texts = []
    for out in outputs.values():
        texts.append(html_text(out["html"]))
        texts.append(pdf_text(out["pdf"]))
    for f in (root / "results").rglob("*"):
        if f.is_file() and f.suffix in (".json", ".csv"):
            # decimal fractions (0.0502640675) are numbers, not identifiers: mask them so the
            # CPR scan looks at every other token (a CPR number has no decimal point)
            texts.append(re.sub(r"\d+\.\d+(?:[eE][-+]?\d+)?", "0.0", f.read_text(encoding="utf-8")))
    assert len(texts) > 10
    for t in texts:
        m = CPR_PATTERN.search(t)
        assert not m, t[max(0, m.start() - 80):m.end() + 80]
        assert not re.search(r"\bp_[0-9a-f]{16}\b", t), "a pseudonymised id was published"
        assert not re.search(r"\b(P\d{4}|R\d{4}(?!\.aspx)|p\d{7})\b", t), "a raw synthetic person id was published"


def test_small_cells_in_report_tables(published):
    root, outputs = published
    checked = 0
    for name, out in outputs.items():
        qmd = (out["html"].parent / "index.qmd").read_text(encoding="utf-8")
        for block in re.findall(r"(?:^\|.*\|\n)+", qmd, flags=re.M):
            lines = block.strip().splitlines()
            head = [c.strip() for c in lines[0].strip("|").split(" | ")]
            for line in lines[2:]:
                cells = [c.strip() for c in line.strip("|").split(" | ")]
                for h, c in zip(head, cells):
                    if h.startswith("Antal") and re.fullmatch(r"[\d.]+", c):
                        n = int(c.replace(".", ""))
                        checked += 1
                        assert n == 0 or n >= 5, (name, h, line)
    assert checked > 0


@pytest.mark.browser
def test_portfolio_opens_in_chromium(published, tmp_path):
    from evaluation.reporting.browser import check_html_in_chromium, find_chromium

    if find_chromium() is None:
        pytest.skip("Chromium is not installed (tools/install-system-deps.sh installs it on Debian/Ubuntu)")
    root, outputs = published
    res = check_html_in_chromium(outputs["portfolio"]["html"], screenshot=tmp_path / "portfolio.png")
    assert res["loaded"] and res["external_requests"] == [] and res["static_external"] == []
    dom = res["dom"]
    assert "Porteføljeoversigt" in dom and "Rådets projektkatalog" in dom
    # every study is linked from the portfolio, and the link resolves to a rendered report
    for slug in (p.parent.name for p in STUDIES.glob("*/study.yaml")):
        assert f"../{slug}/index.html" in dom
        assert (outputs["portfolio"]["html"].parent / ".." / slug / "index.html").resolve().is_file()


def test_portfolio_effects_figure_leaves_out_before_after_changes(published):
    """A before/after change (evidence level 1) is not drawn among the effects, and the page says why."""
    import json

    from evaluation.portfolio.page import _forest_rows

    root, outputs = published
    bundles = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((root / "results").glob("*/results.json"))]
    labels = [r["label"] for rows in _forest_rows(bundles).values() for r in rows]
    assert labels and not any("fleksjob" in label.lower() for label in labels)
    assert any("Flere skal med" in label for label in labels)
    qmd = (outputs["portfolio"]["html"].parent / "index.qmd").read_text(encoding="utf-8")
    assert "Udvikling af fleksjob er ikke med: en før/efter-måling uden sammenligningsgruppe" in qmd
    assert "faldt fra 15,3\u00a0% til 12,3\u00a0%" in qmd and "ikke en effekt" in qmd
