"""A small bar or line chart as SVG text, drawn without a browser, a network or a plotting
library, so a PDF report renders the same on any server."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

__all__ = ["svg_chart"]

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 10, 10, 60
_DATE = re.compile(r"\d{4}-\d{2}(-\d{2})?")


def svg_chart(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str | None:
    """The chart of a (label, ..., number) result of 2 to 60 rows, or None when it is not
    that shape: a line when the labels are dates, else bars."""
    if len(columns) < 2 or not 2 <= len(rows) <= 60:
        return None
    values = [row[-1] for row in rows]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return None
    labels = ["" if row[0] is None else str(row[0]) for row in rows]
    numbers = [float(v) for v in values]  # type: ignore[arg-type]
    top = max(max(numbers), 0.0) or 1.0
    bottom = min(min(numbers), 0.0)
    span = (top - bottom) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h * (top - value) / span

    step = plot_w / len(numbers)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans" font-size="9">',
             f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{WIDTH - RIGHT}" y2="{y(0):.1f}" '
             'stroke="#999"/>']
    for tick in (bottom, (bottom + top) / 2, top):
        parts.append(f'<text x="{LEFT - 4}" y="{y(tick) + 3:.1f}" text-anchor="end">'
                     f"{tick:,.0f}</text>")
    if all(_DATE.fullmatch(label) for label in labels):
        points = " ".join(f"{LEFT + step * (i + 0.5):.1f},{y(v):.1f}"
                          for i, v in enumerate(numbers))
        parts.append(f'<polyline points="{points}" fill="none" stroke="#1f5fbf" '
                     'stroke-width="1.5"/>')
    else:
        for i, value in enumerate(numbers):
            x0, y0 = LEFT + step * i + step * 0.15, min(y(value), y(0))
            parts.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{step * 0.7:.1f}" '
                         f'height="{abs(y(value) - y(0)):.1f}" fill="#1f5fbf"/>')
    every = max(1, len(labels) // 15)  # at most ~15 labels, so they stay readable
    for i in range(0, len(labels), every):
        x = LEFT + step * (i + 0.5)
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 12}" text-anchor="end" '
                     f'transform="rotate(-35 {x:.1f} {HEIGHT - BOTTOM + 12})">'
                     f"{html.escape(labels[i][:18])}</text>")
    parts.append("</svg>")
    return "".join(parts)
