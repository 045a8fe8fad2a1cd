"""Checks on drawn matplotlib figures shared by tests (the logic model's labels and boxes)."""

from __future__ import annotations

from matplotlib.text import Text


def label_overlaps(fig) -> list[tuple[str, float]]:
    """Arrow labels (framed texts drawn above the boxes) whose frame overlaps a node's box, with the overlap in
    square points, measured on the drawn figure."""
    from matplotlib.patches import FancyBboxPatch

    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [p.get_window_extent(r) for p in fig.findobj(FancyBboxPatch) if p.get_zorder() == 4]
    out = []
    for t in fig.findobj(Text):
        frame = t.get_bbox_patch()
        if frame is None or t.get_zorder() != 6:
            continue
        e = frame.get_window_extent(r)
        for b in boxes:
            w, h = min(e.x1, b.x1) - max(e.x0, b.x0), min(e.y1, b.y1) - max(e.y0, b.y0)
            if w > 0.5 and h > 0.5:
                out.append((t.get_text(), w * h))
    return out


def texts_outside(fig) -> list[str]:
    """Texts of the figure that run past its edges (more than half a point), measured on the drawn figure."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    w, h = fig.canvas.get_width_height()
    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip():
            continue
        e = t.get_window_extent(r)
        if e.x0 < -0.5 or e.y0 < -0.5 or e.x1 > w + 0.5 or e.y1 > h + 0.5:
            out.append(t.get_text())
    return out
