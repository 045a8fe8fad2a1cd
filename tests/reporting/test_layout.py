"""The rendered reports on a phone (390 px), a laptop (1280 px) and A4 paper.

Browser (headless Chromium; skipped with the reason when it is not installed): the page never scrolls
sideways, every table sits in a wrapper that scrolls when the table is wider, the synthetic-data banner and the
first line of "Kort fortalt" are in the first screen, and the logic model's smallest text is at least 11 CSS px.
PDF (read with pypdf): no text smaller than 7 pt, none of the logic model's smaller than 9 pt, and nothing past
the right margin.
"""

from __future__ import annotations

import pytest

from evaluation.reporting.browser import find_chromium, layout_in_chromium
from pdf_layout import page_size, text_spans

FIGURE_DPI = 200  # the logic model's PNG
MIN_FIGURE_PT = 9.0
MARGIN_PT = 2.3 / 2.54 * 72  # report.typst: 2.3 cm left and right
HYPHEN_OVERHANG_PT = 6.0  # typst lets a line's final hyphen hang into the margin


needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed "
                                    "(tools/install-system-deps.sh installs it)")


@needs_chromium
@pytest.mark.parametrize("width", [390, 1280])
def test_the_page_fits_the_screen(rendered_reports, width):
    problems = []
    for slug, (folder, bundle) in sorted(rendered_reports.items()):
        m = layout_in_chromium(folder / "index.html", width)
        assert m["innerWidth"] == width
        if m["scrollWidth"] > width or m["bodyScrollWidth"] > width:
            problems.append(f"{slug} at {width}px: the page is {m['scrollWidth']}px wide and scrolls sideways")
        for t in m["tables"]:
            if not t["wrapped"]:
                problems.append(f"{slug} at {width}px: table {t['index']} ({t['head']!r}) has no scroll wrapper")
            elif t["tableWidth"] > t["wrapWidth"] + 1 and t["wrapScroll"] not in ("auto", "scroll"):
                problems.append(f"{slug} at {width}px: table {t['index']} ({t['head']!r}) is clipped")
        if slug != "portfolio":
            blocks = m["blocks"]
            if "kort-fortalt" not in blocks or blocks["kort-fortalt"]["firstLineBottom"] > m["innerHeight"]:
                problems.append(f"{slug} at {width}px: 'Kort fortalt' is not in the first screen: {blocks.get('kort-fortalt')}")
            if "syntetiske-data" in blocks and blocks["syntetiske-data"]["firstLineBottom"] > m["innerHeight"]:
                problems.append(f"{slug} at {width}px: the synthetic-data banner is not in the first screen")
            if bundle is not None and any(s.get("provenance") == "synthetic" for s in bundle.data_sources.values()) \
                    and "syntetiske-data" not in blocks:
                problems.append(f"{slug}: synthetic data but no banner")
            if blocks.get("TOC") and blocks.get("kort-fortalt") and blocks["TOC"]["top"] < blocks["kort-fortalt"]["top"]:
                problems.append(f"{slug}: the contents come before 'Kort fortalt'")
        for f in m["figures"]:
            if "logikmodel" not in f["alt"]:
                continue
            px_per_inch = f["width"] / (f["naturalWidth"] / FIGURE_DPI)
            smallest = MIN_FIGURE_PT / 72 * px_per_inch
            if smallest < 11:
                problems.append(f"{slug} at {width}px: the logic model's smallest text is {smallest:.1f} CSS px")
            if f["width"] > (f["scrollerWidth"] or width) + 1 and not f["inScroller"]:
                problems.append(f"{slug} at {width}px: the logic model is wider than the screen without scrolling")
    assert not problems, "\n".join(problems)


def test_pdf_text_sizes_and_margins(rendered_reports):
    problems = []
    for slug, (folder, _) in sorted(rendered_reports.items()):
        pdf = folder / "index.pdf"
        spans = text_spans(pdf)
        width, _ = page_size(pdf)
        body = [s for s in spans if not s.in_figure]
        figure = [s for s in spans if s.in_figure]
        if min(s.size for s in body) < 7.0:
            problems.append(f"{slug}: text at {min(s.size for s in body):.1f} pt (tables need at least 7 pt)")
        if slug != "portfolio":
            if not figure:
                problems.append(f"{slug}: the logic model is not in the PDF as text (embedded as an image?)")
            elif min(s.size for s in figure) < MIN_FIGURE_PT - 1e-6:
                problems.append(f"{slug}: the logic model's smallest text is {min(s.size for s in figure):.2f} pt")
        over = [s for s in body if s.x_end > width - MARGIN_PT + HYPHEN_OVERHANG_PT]
        if over:
            s = over[0]
            problems.append(f"{slug}: {len(over)} strings run past the right margin (page {s.page}, {s.x_end:.0f} pt)")
    assert not problems, "\n".join(problems)


def test_the_layout_probe_sees_a_clipped_table(tmp_path):
    """The browser check is not vacuous: a wide table without its wrapper makes the page scroll sideways."""
    if find_chromium() is None:
        pytest.skip("Chromium is not installed")
    page = tmp_path / "wide.html"
    cells = "".join(f"<td>kolonne{i}-med-lang-tekst</td>" for i in range(12))
    page.write_text(f"<!DOCTYPE html><html><head><meta name='viewport' content='width=device-width'></head><body><main>"
                    f"<table><tr>{cells}</tr></table></main></body></html>", encoding="utf-8")
    m = layout_in_chromium(page, 390)
    assert m["scrollWidth"] > 390 and not m["tables"][0]["wrapped"]


def test_pdf_first_page_leads_with_the_banner_and_the_summary(rendered_reports):
    """Paper readers see, on page 1 and before the contents, the synthetic-data banner (exactly when the data
    are synthetic) and the summary box "Kort fortalt" (issue 11 items 1–2)."""
    from pypdf import PdfReader

    from evaluation.reporting.summary import is_synthetic

    problems = []
    for slug, (folder, bundle) in sorted(rendered_reports.items()):
        if bundle is None:
            continue
        first = " ".join(PdfReader(str(folder / "index.pdf")).pages[0].extract_text().split())
        toc = first.find("Indhold")
        box = first.find("Kort fortalt")
        if box < 0 or (toc >= 0 and box > toc):
            problems.append(f"{slug}: 'Kort fortalt' is not on page 1 before the contents")
        banner = first.find("Syntetiske data")
        if is_synthetic(bundle) and (banner < 0 or banner > box):
            problems.append(f"{slug}: the synthetic-data banner is not on page 1 above the summary")
        if not is_synthetic(bundle) and banner >= 0:
            problems.append(f"{slug}: a synthetic-data banner on a report whose data are not synthetic")
    assert not problems, "\n".join(problems)
