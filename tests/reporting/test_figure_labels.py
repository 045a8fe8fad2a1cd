"""No raw identifier in any figure (issue 11 item 4): every text drawn in every figure of every rendered study
(shipped and generated) is free of underscore identifiers, analysis ids and column names that have a Danish
label; decimal numbers use a comma."""

from __future__ import annotations

import re

import matplotlib
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from evaluation.pipeline.figures import write_study_figures

matplotlib.use("Agg")

_ID = re.compile(r"(?<![\w.])[a-zæøå0-9]+_[a-zæøå0-9_]+\b")
# a decimal point (Danish thousands separators, "1.020", have exactly three digits after the point)
_DOT_DECIMAL = re.compile(r"(?<![\w.])\d+\.(?!\d{3}(?![\d]))\d+(?![\w.])")


@pytest.fixture()
def drawn(monkeypatch):
    texts: list[tuple[str, str]] = []
    original = Figure.savefig

    def spy(self, fname, *args, **kwargs):
        for t in self.findobj(Text):
            if t.get_visible() and t.get_text().strip():
                texts.append((str(fname), t.get_text()))
        return original(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    return texts


def test_every_figure_speaks_danish_without_identifiers(rendered_reports, drawn, tmp_path):
    problems = []
    n_figures = 0
    for slug, (_, bundle) in sorted(rendered_reports.items()):
        if bundle is None:
            continue
        drawn.clear()
        keys = write_study_figures(bundle, tmp_path / slug)
        n_figures += len(keys)
        # identifiers that cannot be ordinary Danish words (an id like "fornyet" or "status" can)
        ids = {a.id for a in bundle.analyses if re.search(r"[_\d-]", a.id)}
        labelled = {c for c, lab in (bundle.labels or {}).items() if c != lab and re.search(r"[_\d-]", c)}
        for fname, text in drawn:
            where = f"{slug}/{fname.rsplit('/', 1)[-1]}: {text!r}"
            if _ID.search(text):
                problems.append(f"{where} has an underscore identifier")
            if any(re.search(rf"(?<![\w-]){re.escape(x)}(?![\w-])", text) for x in ids | labelled):
                problems.append(f"{where} shows an analysis id or a column name instead of its label")
            if _DOT_DECIMAL.search(text):
                problems.append(f"{where} has a decimal point, not a comma")
    assert n_figures > 20, "almost no figures were drawn: the test is not looking at them"
    assert not problems, "\n".join(problems[:30])


def test_no_arrow_label_covers_a_box_in_any_rendered_logic_model(rendered_reports):
    """Every part of every rendered study's logic model, as the report draws it (shipped and generated): no label on
    an arrow covers a box (in flere-skal-med «M2 / A1,A2» covered «Ordinære timer og selvforsørgelse»), and no text
    runs past the figure's edge (the legend of a narrow part did)."""
    import matplotlib.pyplot as plt

    from evaluation.pipeline.figures import logic_model_figures
    from figure_checks import label_overlaps, texts_outside

    checked = 0
    for slug, (_, bundle) in rendered_reports.items():
        if bundle is None or not (bundle.theory or {}).get("nodes"):
            continue
        for fig in logic_model_figures(bundle.theory, bundle.robustness):
            try:
                assert label_overlaps(fig) == [], slug
                assert texts_outside(fig) == [], slug
                checked += 1
            finally:
                plt.close(fig)
    assert checked >= 7
