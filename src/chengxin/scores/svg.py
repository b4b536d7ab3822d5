"""The distribution chart as an SVG drawn here (no plotting library): bars per bin, band boundaries.

One or two series (a comparison draws the old model's bars behind the new one's). Text is escaped;
the figure scales with its container (viewBox) and carries a <title> for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from chengxin.scores.model import PointsModel

_COLOURS = ("#9bb7d4", "#c0392b")
W, H, LEFT, RIGHT, TOP, BOTTOM = 720, 300, 56, 16, 28, 44


def histogram_svg(model: PointsModel, edges: Sequence[int], series: Sequence[tuple[str, Sequence[int]]]) -> str:
    """An SVG histogram: ``edges`` (n+1 bin edges), ``series`` of (label, n counts)."""
    if len(edges) < 2 or not series:
        return ""
    lo, hi = edges[0], edges[-1]
    span = max(hi - lo, 1)
    peak = max((max(c) for _, c in series if len(c)), default=0) or 1
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(v: float) -> float:
        return LEFT + (v - lo) / span * plot_w

    def y(n: float) -> float:
        return TOP + plot_h - n / peak * plot_h

    title = f"{model.name_zh}（{model.id}）分值分布"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
           f'aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
           f"<title>{escape(title)}</title>",
           f'<rect x="0" y="0" width="{W}" height="{H}" fill="#fff"/>']
    for s_no, (label, counts) in enumerate(series):
        colour = _COLOURS[s_no % len(_COLOURS)]
        opacity = "0.55" if len(series) > 1 and s_no == 0 else "0.85"
        for i, n in enumerate(counts):
            if not n:
                continue
            x0, x1 = x(edges[i]), x(edges[i + 1])
            out.append(f'<rect x="{x0 + 1:.1f}" y="{y(n):.1f}" width="{max(x1 - x0 - 2, 1):.1f}" '
                       f'height="{TOP + plot_h - y(n):.1f}" fill="{colour}" fill-opacity="{opacity}">'
                       f"<title>{escape(label)} {edges[i]}–{edges[i + 1]}: {n}</title></rect>")
        out.append(f'<rect x="{W - RIGHT - 150}" y="{6 + 14 * s_no}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{W - RIGHT - 136}" y="{15 + 14 * s_no}">{escape(label)}</text>')
    for band in model.bands:
        if lo < band.min < hi:
            bx = x(band.min)
            out.append(f'<line x1="{bx:.1f}" y1="{TOP}" x2="{bx:.1f}" y2="{TOP + plot_h}" stroke="#555" '
                       f'stroke-dasharray="4 3"/><text x="{bx + 3:.1f}" y="{TOP + 10}" fill="#333">'
                       f"{escape(band.name_zh)}≥{band.min}</text>")
    base = TOP + plot_h
    out.append(f'<line x1="{LEFT}" y1="{base}" x2="{W - RIGHT}" y2="{base}" stroke="#000"/>')
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#000"/>')
    step = max(1, (len(edges) - 1) // 6)
    for i in range(0, len(edges), step):
        out.append(f'<text x="{x(edges[i]):.1f}" y="{base + 14}" text-anchor="middle">{edges[i]}</text>')
    for frac in (0.5, 1.0):
        out.append(f'<text x="{LEFT - 4}" y="{y(peak * frac) + 4:.1f}" text-anchor="end">{int(peak * frac)}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{H - 8}" text-anchor="middle">分值 score</text>')
    out.append(f'<text x="12" y="{TOP + plot_h / 2:.1f}" transform="rotate(-90 12 {TOP + plot_h / 2:.1f})" '
               f'text-anchor="middle">人数 subjects</text>')
    out.append("</svg>")
    return "".join(out)
