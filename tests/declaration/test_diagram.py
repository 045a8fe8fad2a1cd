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
from figure_checks import label_overlaps as _label_overlaps, texts_outside  # noqa: E402

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
        with pytest.raises(RenderError, match="png, .svg or .pdf"):
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
    assert "M1\nA1,A2" in tx
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


def _label(fig, text):
    return next(t for t in fig.findobj(Text) if t.get_text() == text)


def test_each_arrow_shows_the_worst_status_of_the_assumptions_it_rests_on():
    """An arrow's label is framed in the colour and line style of the worst status of its assumptions (holds only
    when all hold; an untested one makes it untested; tvivlsom and brudt above that), explained in the legend;
    an arrow without assumptions, or without statuses, keeps the plain thin grey frame."""
    from matplotlib.colors import to_hex

    from evaluation.declaration.diagram import LINK_STATUS_STYLE, STATUS_TAGS, link_status

    assert link_status(["holder", "holder"]) == "holder"
    assert link_status(["holder", "kan_ikke_testes"]) == "kan_ikke_testes"
    assert link_status(["kan_ikke_testes", "tvivlsom", "holder"]) == "tvivlsom"
    assert link_status(["tvivlsom", "brudt"]) == "brudt"
    assert link_status([None, None]) is None
    links = [dict(l) for l in LINKS]
    links[1]["assumptions"] = ["A1", "A2"]  # M1: tvivlsom + kan ikke testes -> tvivlsom
    links[3]["assumptions"] = ["A3"]  # holder
    links[5]["assumptions"] = ["A3", "A2"]  # holder + kan ikke testes -> kan ikke testes
    asm = [{"code": "A1", "text": "Arbejdsgiverne deltager i dialogen", "status": "tvivlsom"},
           {"code": "A2", "text": "Lægerne henviser tidligt", "status": "kan_ikke_testes"},
           {"code": "A3", "text": "Ingen smitte mellem grupperne", "status": "holder"}]
    fig = draw_logic_model(NODES, links, assumptions=asm)
    frames = {}
    for t in fig.findobj(Text):
        box = t.get_bbox_patch()
        if box is not None and "A" in t.get_text() and t.get_text() not in {v for v, _ in STATUS_TAGS.values()}:
            frames[t.get_text().split("\n")[-1]] = (to_hex(box.get_edgecolor()), box.get_linestyle(), box.get_linewidth(),
                                                    t.get_fontsize())
    want = {"A1,A2": "tvivlsom", "A3": "holder", "A3,A2": "kan_ikke_testes"}
    assert set(want) <= set(frames), frames
    styles = set()
    for codes, st in want.items():
        colour, ls, lw, size = frames[codes]
        assert colour == STATUS_TAGS[st][1] and lw > 1.0 and size >= 9
        styles.add(str(ls))
    assert len(styles) == 3  # the line style differs by status, not only the colour
    legend = " ".join(" ".join(texts(fig)).split())
    assert "Rammen om en pils mærke: den svageste status" in legend
    for st in want.values():
        assert f"{LINK_STATUS_STYLE[st][1]}: {STATUS_TAGS[st][0].lower()}" in legend
    assert "prikket: brudt" not in legend  # only the statuses drawn are explained
    # the arrow without assumptions keeps the plain frame
    m2 = _label(fig, "M2").get_bbox_patch()
    assert to_hex(m2.get_edgecolor()) == "#9aa0a8" and m2.get_linewidth() == pytest.approx(0.5)
    plt.close(fig)
    # without statuses: plain frames and no legend entry
    none = draw_logic_model(NODES, links, assumptions=[{**a, "status": None} for a in asm])
    box = _label(none, "M1\nA1,A2").get_bbox_patch()
    assert to_hex(box.get_edgecolor()) == "#9aa0a8" and box.get_linewidth() == pytest.approx(0.5)
    assert "Rammen om en pils mærke" not in " ".join(" ".join(texts(none)).split())
    plt.close(none)


# ---------------------------------------------------------------------------------------------- readable at its size


def _theory(n_nodes: int, seed: int = 0):
    """A generated theory of ``n_nodes`` nodes over every column, with long Danish labels and crossing links."""
    import random

    rng = random.Random(seed)
    kinds = [("input", None), ("activity", None), ("output", None), ("outcome", "short"), ("outcome", "medium"),
             ("outcome", "long"), ("impact", None)]
    words = ["Virksomhedskonsulenter", "sygedagpengeforløb", "tidlig", "dialog", "med", "arbejdspladsen", "og",
             "ledighedsydelse", "for", "borgere", "i", "ressourceforløb", "mentor", "praktik", "uddannelse"]
    nodes = []
    for i in range(n_nodes):
        t, h = kinds[i % len(kinds)]
        label = " ".join(rng.choice(words) for _ in range(rng.randint(2, 9)))
        nodes.append({"id": f"n{i}", "type": t, "horizon": h, "label": label[0].upper() + label[1:]})
    order = {k: j for j, k in enumerate(kinds)}
    col = [order[(n["type"], n["horizon"])] for n in nodes]
    links = []
    for i in range(n_nodes):
        later = [j for j in range(n_nodes) if col[j] == col[i] + 1]
        for j in rng.sample(later, min(2, len(later))):
            links.append({"from": f"n{i}", "to": f"n{j}", "label": f"M{len(links) % 9 + 1}: Mekanisme {len(links) % 9 + 1}"})
    return nodes, links


@pytest.mark.parametrize("n_nodes", [6, 12, 20, 30])
def test_every_part_fits_the_page_with_text_of_at_least_9_pt(n_nodes):
    from evaluation.declaration.diagram import MAX_WIDTH, MIN_FONT, draw_logic_model_parts

    nodes, links = _theory(n_nodes)
    figs = draw_logic_model_parts(nodes, links)
    try:
        drawn = set()
        for fig in figs:
            w, _ = fig.get_size_inches()
            assert w <= MAX_WIDTH + 1e-6, (n_nodes, w)
            sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text().strip()]
            assert min(sizes) >= MIN_FONT, (n_nodes, min(sizes))
            drawn |= {" ".join(t.get_text().split()).replace("- ", "").replace("-", "") for t in fig.findobj(Text)}
        # every node is drawn in some part (labels are wrapped and hyphenated: compare without them)
        flat = " ".join(drawn)
        for n in nodes:
            assert n["label"].replace("-", "").replace(" ", "")[:12] in flat.replace(" ", ""), n["label"]
        # every link is drawn exactly once
        assert sum(len(fig.findobj(FancyArrowPatch)) for fig in figs) == len(links)
    finally:
        for fig in figs:
            plt.close(fig)


def test_a_wide_theory_is_split_by_layer_sharing_a_column():
    from evaluation.declaration.diagram import logic_model_parts

    nodes, links = _theory(14)
    parts = logic_model_parts(nodes, links)
    assert len(parts) >= 2
    cols = [{(n["type"], n.get("horizon")) for n in p_nodes if not n.get("ghost")} for p_nodes, _ in parts]
    for a, b in zip(cols, cols[1:]):
        assert a & b, "consecutive parts share a column"


def test_crossings_are_reduced_and_neighbours_in_a_column_get_a_straight_arrow():
    from evaluation.declaration.diagram import count_crossings, order_nodes

    nodes = [{"id": i, "type": t, "label": i} for i, t in
             [("a", "activity"), ("b", "activity"), ("c", "activity"), ("x", "output"), ("y", "output"), ("z", "output")]]
    links = [{"from": "a", "to": "z", "label": "M1: m"}, {"from": "b", "to": "y", "label": "M2: m"},
             {"from": "c", "to": "x", "label": "M3: m"}, {"from": "x", "to": "y", "label": "M4: m"}]
    assert count_crossings(nodes, links) > 0
    ordered = order_nodes(nodes, links)
    assert count_crossings(ordered, links) == 0
    fig = draw_logic_model(nodes, links)
    try:
        arrows = fig.findobj(FancyArrowPatch)
        verticals = [a for a in arrows if abs(a._posA_posB[0][0] - a._posA_posB[1][0]) < 1e-9]
        assert len(verticals) == 1  # x → y, neighbours in the output column
    finally:
        plt.close(fig)


def test_the_pdf_of_a_figure_keeps_its_text(tmp_path):
    from pypdf import PdfReader

    fig = draw_logic_model(NODES, LINKS)
    try:
        (pdf,) = save_figure(fig, tmp_path / "logic_model.pdf")
        again = save_figure(fig, tmp_path / "again.pdf")[0]
    finally:
        plt.close(fig)
    text = PdfReader(str(pdf)).pages[0].extract_text()
    assert "Kortere sygefravær" in text.replace("\n", " ")
    assert pdf.read_bytes() == again.read_bytes()  # deterministic


@pytest.mark.parametrize("codes", [["A1", "A2"], ["A1", "A2", "A3"]])
def test_arrow_labels_with_assumption_codes_do_not_cover_the_boxes(codes):
    """Two arrows from one output box to two outcome boxes, each labelled with its mechanism and the assumptions it
    rests on (as in flere-skal-med, where «M2 / A1,A2» covered the outcome box's text): the columns move apart so
    every label fits between them, the boxes' text stays readable, and a split into parts still fits the page."""
    from evaluation.declaration.diagram import MAX_WIDTH, draw_logic_model_parts

    nodes = [{"id": "a", "type": "activity", "label": "Sagsgennemgang og inddeling i tre grupper"},
             {"id": "o", "type": "output", "label": "Borgere i projekt og udsluset"},
             {"id": "y1", "type": "outcome", "horizon": "short", "label": "Ordinære timer og selvforsørgelse (gruppe 1)"},
             {"id": "y2", "type": "outcome", "horizon": "short", "label": "Afklaret til ressourceforløb, fleksjob eller førtidspension"}]
    links = [{"from": "a", "to": "o", "label": "M1: Den rette indsats"},
             {"from": "o", "to": "y1", "label": "M2: Personlig jobformidler", "assumptions": codes},
             {"from": "o", "to": "y2", "label": "M3: Fokussag", "assumptions": ["A3"]}]
    asm = [{"code": c, "text": f"Antagelse {c}", "status": "kan_ikke_testes"} for c in ("A1", "A2", "A3")]
    fig = draw_logic_model(nodes, links, assumptions=asm)
    try:
        assert f"M2\n{','.join(codes)}" in texts(fig)
        assert _label_overlaps(fig) == []
    finally:
        plt.close(fig)
    # a wide theory whose every arrow carries three assumption codes: the wider gaps still leave every part
    # within the page (how densely labelled arrows share a gap is another matter: see the shipped studies' test)
    wide_nodes, wide_links = _theory(20)
    wide_links = [dict(l, assumptions=["A1", "A2", "A3"]) for l in wide_links]
    figs = draw_logic_model_parts(wide_nodes, wide_links, assumptions=asm)
    try:
        assert len(figs) > 1 and all(f.get_size_inches()[0] <= MAX_WIDTH + 1e-6 for f in figs)
        assert all(texts_outside(f) == [] for f in figs)  # the legend is wrapped to each part's width
    finally:
        for f in figs:
            plt.close(f)


def test_a_narrow_theory_gets_a_legend_wide_enough_to_read_in_lines():
    """Two columns and six assumptions: the legend is wrapped to at least LEGEND_MIN_WIDTH inches, not to the two
    columns' width (a strip of a few words a line pushed the figure onto a page of its own); no text leaves the
    figure and the assumptions' texts take one line each."""
    from evaluation.declaration.diagram import LEGEND_MIN_WIDTH

    nodes = [{"id": "a", "type": "activity", "label": "Indsatsen"},
             {"id": "o", "type": "outcome", "horizon": "short", "label": "Resultatet", "primary": True}]
    links = [{"from": "a", "to": "o", "label": "M1: Støtte"}]
    asm = [{"code": f"A{i}", "text": f"Antagelsen om {w} holder i studiet", "status": "holder"}
           for i, w in enumerate(["frafald", "balance", "overlap", "smitte", "ingen uobserverede forskelle"], start=1)]
    fig = draw_logic_model(nodes, links, assumptions=asm)
    width, height = fig.get_size_inches()
    assert width >= LEGEND_MIN_WIDTH - 1e-9
    assert not texts_outside(fig)
    tx = texts(fig)
    for a in asm:
        assert f"{a['code']}: {a['text']}" in tx, f"{a['code']} was wrapped in a {width:.1f} in wide figure"
    plt.close(fig)
