"""Logic-model diagram, forest plot, bar chart and deterministic saving."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from evaluation.exceptions import RenderError  # noqa: E402
from evaluation.presentation.plotting import DanishNumberFormatter, forest_plot, group_bar_chart, save_figure  # noqa: E402
from evaluation.declaration.diagram import COLUMN_HEADERS, draw_logic_model  # noqa: E402

NODES = [
    {"id": "bevilling", "type": "input", "label": "LBR-bevilling på 1.425.000 kr."},
    {"id": "henvisning", "type": "activity", "label": "Egen læge henviser tidligt i sygeforløbet"},
    {"id": "plan", "type": "output", "label": "Plan for tilbagevenden aftalt med arbejdsgiver"},
    {"id": "sygefravaer", "type": "outcome", "horizon": "short", "primary": True, "label": "Kortere sygefravær"},
    {"id": "fastholdelse", "type": "outcome", "horizon": "long", "label": "Fastholdelse på arbejdspladsen"},
    {"id": "selvforsoergelse", "type": "impact", "label": "Færre på offentlig forsørgelse"},
]
LINKS = [
    {"from": "bevilling", "to": "henvisning", "label": "direkte"},
    {"from": "henvisning", "to": "plan", "label": "M1: Tidlig kontakt til arbejdspladsen"},
    {"from": "plan", "to": "sygefravaer", "label": "Gradvis tilbagevenden med delvis raskmelding"},
    {"from": "sygefravaer", "to": "fastholdelse", "label": "Tilknytning"},
    {"from": "henvisning", "to": "selvforsoergelse", "label": "direkte"},  # skips columns
    {"from": "fastholdelse", "to": "plan", "label": "Erfaringer"},  # backwards
]


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_columns_headers_and_wrapped_danish_labels():
    fig = draw_logic_model(NODES, LINKS, title="Programteori")
    try:
        t = texts(fig)
        joined = "\n".join(t)
        for key in ("input", "activity", "output", "outcome:short", "outcome:long", "impact"):
            assert COLUMN_HEADERS[key].split()[0] in joined
        # the empty medium-horizon column is left out
        assert "Mellemlange" not in joined
        assert "Programteori" in t
        # every node label is drawn (wrapped: compare without line breaks)
        flat = {" ".join(s.split()) for s in t}
        for n in NODES:
            assert any(n["label"] in f for f in flat), n["label"]
        assert any("æ" in s for s in t) and any("ø" in s for s in t)
        # one arrow per link
        assert len(fig.findobj(FancyArrowPatch)) == len(LINKS)
    finally:
        plt.close(fig)


def test_long_mechanisms_are_numbered_with_a_legend_and_codes_kept():
    fig = draw_logic_model(NODES, LINKS)
    try:
        t = texts(fig)
        assert "M1" in t  # caller's code is kept on the arrow
        assert "M1: Tidlig kontakt til arbejdspladsen" in t
        # the long unnumbered mechanism gets the next free code, spelt out in the legend
        assert "M2" in t and "M2: Gradvis tilbagevenden med delvis raskmelding" in t
        # short labels are written on the arrow itself
        assert "Tilknytning" in t and "Erfaringer" in t
        assert "Mekanismer" in t
        assert any("tilbagekobling" in s for s in t)
        assert any("primært resultat" in s for s in t)
    finally:
        plt.close(fig)


def test_primary_outcome_has_the_thickest_border():
    fig = draw_logic_model(NODES, LINKS)
    try:
        from matplotlib.patches import FancyBboxPatch

        widths = [p.get_linewidth() for p in fig.findobj(FancyBboxPatch) if p.get_linewidth() > 0]
        assert max(widths) > 2 * sorted(widths)[len(widths) // 2]
        assert sum(1 for w in widths if w == max(widths)) == 1
    finally:
        plt.close(fig)


def test_figure_grows_with_the_number_of_nodes():
    small = draw_logic_model(NODES[:3], LINKS[:2])
    many = [dict(n, id=f"{n['id']}{k}") for k in range(4) for n in NODES]
    links = [dict(l, **{"from": f"{l['from']}{k}", "to": f"{l['to']}{k}"}) for k in range(4) for l in LINKS]
    big = draw_logic_model(many[:25], [l for l in links if l["from"] in {n["id"] for n in many[:25]}
                                       and l["to"] in {n["id"] for n in many[:25]}])
    try:
        w0, h0 = small.get_size_inches()
        w1, h1 = big.get_size_inches()
        assert w1 > w0 and h1 > 2 * h0
    finally:
        plt.close(small)
        plt.close(big)


@pytest.mark.parametrize(
    ("nodes", "links", "message"),
    [
        ([], [], "no nodes"),
        ([{"id": "a", "type": "widget", "label": "x"}], [], "type 'widget'"),
        ([{"id": "a", "type": "outcome", "horizon": "soon", "label": "x"}], [], "horizon 'soon'"),
        (NODES, [{"from": "plan", "to": "nowhere", "label": "x"}], "unknown node 'nowhere'"),
        (NODES, [{"from": "plan", "to": "sygefravaer", "label": ""}], "missing label"),
        (NODES + [dict(NODES[0])], [], "used twice"),
    ],
)
def test_invalid_theory_raises_render_error(nodes, links, message):
    with pytest.raises(RenderError, match=message):
        draw_logic_model(nodes, links)


def test_save_figure_is_deterministic(tmp_path):
    paths = []
    for k in range(2):
        fig = draw_logic_model(NODES, LINKS, title="Programteori")
        paths.append(save_figure(fig, tmp_path / f"run{k}" / "logic_model", formats=("svg", "png")))
        plt.close(fig)
    (svg0, png0), (svg1, png1) = paths
    assert svg0.suffix == ".svg" and png0.suffix == ".png"
    assert svg0.read_bytes() == svg1.read_bytes()
    assert png0.read_bytes() == png1.read_bytes()
    svg = svg0.read_text(encoding="utf-8")
    assert "<dc:date>" not in svg
    assert png0.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # nothing left behind but the two figures
    assert sorted(p.name for p in (tmp_path / "run0").iterdir()) == ["logic_model.png", "logic_model.svg"]


def test_save_figure_png_at_150_dpi_and_rejects_unknown_format(tmp_path):
    fig = forest_plot([{"label": "Uger", "estimate": -3.1, "ci_lower": -5.4, "ci_upper": -0.8}], xlabel="Effekt (uger)")
    try:
        (p,) = save_figure(fig, tmp_path / "f.png")
        from PIL import Image

        with Image.open(p) as im:
            assert im.size == (round(fig.get_size_inches()[0] * 150), round(fig.get_size_inches()[1] * 150))
        with pytest.raises(RenderError, match="png or .svg"):
            save_figure(fig, tmp_path / "f.jpg")
    finally:
        plt.close(fig)


def test_forest_plot_prints_danish_estimates_and_decimal_comma_axis():
    rows = [
        {"label": "Uger på sygedagpenge", "estimate": -3.1, "ci_lower": -5.4, "ci_upper": -0.8},
        {"label": "   Køn: Kvinder", "estimate": -2.5, "ci_lower": -6.0, "ci_upper": 1.0},
        {"label": "Selvforsørgelse", "estimate": float("nan"), "ci_lower": float("nan"), "ci_upper": float("nan")},
    ]
    fig = forest_plot(rows, xlabel="Effekt (uger)", null=0)
    try:
        fig.canvas.draw()
        t = texts(fig)
        assert "−3,1 (−5,4 til −0,8)" in t
        assert "–" in t  # missing estimate
        ax = fig.axes[0]
        labels = [tl.get_text() for tl in ax.get_xticklabels() if tl.get_text()]
        assert labels and not any("." in s for s in labels)
        assert ax.get_xlabel() == "Effekt (uger)"
    finally:
        plt.close(fig)
    with pytest.raises(RenderError, match="missing 'ci_upper'"):
        forest_plot([{"label": "x", "estimate": 1, "ci_lower": 0}], xlabel="x")


def test_danish_axis_formatter():
    f = DanishNumberFormatter()
    f.set_locs([0.0, 0.5, 1.0, 1.5])
    assert [f(v) for v in (0.0, 0.5, 1.5)] == ["0,0", "0,5", "1,5"]
    f.set_locs([0, 1000, 2000])
    assert f(2000) == "2.000"
    pct = DanishNumberFormatter(suffix="\u00a0%", scale=100)
    pct.set_locs([0.0, 0.25, 0.5])
    assert pct(0.25) == "25\u00a0%"


def test_group_bar_chart_labels_in_percent():
    fig = group_bar_chart(["1 måned", "12 måneder"], {"Interventionsgruppe": [0.3, 0.71], "Kontrolgruppe": [0.28, None]},
                          ylabel="Andel i job", percent=True)
    try:
        t = texts(fig)
        assert "71\u00a0%" in t and "–" in t
        assert "Kontrolgruppe" in t
    finally:
        plt.close(fig)
    with pytest.raises(RenderError, match="has 1 values for 2 categories"):
        group_bar_chart(["a", "b"], {"g": [1.0]}, ylabel="y")


def test_assumptions_carry_their_status_tags_and_codes_on_arrows():
    """Each assumption is listed with a Danish status tag (word + colour, readable size); a link shows the codes
    of the assumptions it rests on; without statuses no tag is drawn."""
    from evaluation.declaration.diagram import STATUS_TAGS

    links = [dict(l) for l in LINKS]
    links[1]["assumptions"] = ["A1", "A2"]
    asm = [{"code": "A1", "text": "Arbejdsgiverne deltager i dialogen", "status": "tvivlsom"},
           {"code": "A2", "text": "Lægerne henviser tidligt", "status": "kan_ikke_testes"},
           {"code": "A3", "text": "Ingen smitte mellem grupperne", "status": "holder"}]
    fig = draw_logic_model(NODES, links, assumptions=asm)
    tx = texts(fig)
    assert "M1 · A1, A2" in tx
    for a in asm:
        tag = next(t for t in fig.findobj(Text) if t.get_text() == STATUS_TAGS[a["status"]][0])
        assert tag.get_fontsize() >= 7.5 and tag.get_bbox_patch() is not None
        assert matplotlib.colors.to_hex(tag.get_bbox_patch().get_facecolor()) == STATUS_TAGS[a["status"]][1]
        assert any(t.startswith(f"{a['code']}: ") for t in tx)
    assert "status efter tjek i data" in " ".join(" ".join(tx).split())
    plt.close(fig)
    plain = draw_logic_model(NODES, links, assumptions=[{**a, "status": None} for a in asm])
    assert not any(t in texts(plain) for t, _ in STATUS_TAGS.values())
    assert "status efter tjek i data" not in " ".join(" ".join(texts(plain)).split())
    plt.close(plain)
