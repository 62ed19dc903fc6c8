"""A small SVG line chart of accuracy per round (no plotting library needed)."""

from __future__ import annotations

from xml.sax.saxutils import escape

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#7f7f7f"]


def accuracy_svg(title: str, curves: dict[str, list[float]], levels: dict[str, float]) -> str:
    """`curves`: name -> accuracy per round (round 0 first); `levels`: name -> a
    horizontal reference line. Accuracies in 0..1."""
    w, h, left, right, top, bottom = 640, 360, 56, 180, 36, 44
    pw, ph = w - left - right, h - top - bottom
    rounds = max(len(c) for c in curves.values()) - 1
    x = lambda r: left + pw * r / max(rounds, 1)  # noqa: E731
    y = lambda a: top + ph * (1 - a)  # noqa: E731
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{left}" y="20" font-size="14">{escape(title)}</text>',
    ]
    for i in range(0, 11, 2):
        a = i / 10
        out.append(f'<line x1="{left}" y1="{y(a):.1f}" x2="{left + pw}" y2="{y(a):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(a) + 4:.1f}" text-anchor="end">{i * 10} %</text>')
    for r in range(rounds + 1):
        out.append(f'<text x="{x(r):.1f}" y="{top + ph + 16}" text-anchor="middle">{r}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 8}" text-anchor="middle">round</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    legend = 0
    for i, (name, acc) in enumerate(curves.items()):
        c = COLORS[i % len(COLORS)]
        pts = " ".join(f"{x(r):.1f},{y(a):.1f}" for r, a in enumerate(acc))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="2"/>')
        out += [f'<circle cx="{x(r):.1f}" cy="{y(a):.1f}" r="2.5" fill="{c}"/>' for r, a in enumerate(acc)]
        ly = top + 10 + 18 * legend
        out.append(f'<line x1="{left + pw + 12}" y1="{ly}" x2="{left + pw + 32}" y2="{ly}" stroke="{c}" stroke-width="2"/>')
        out.append(f'<text x="{left + pw + 38}" y="{ly + 4}">{escape(name)}</text>')
        legend += 1
    for j, (name, a) in enumerate(levels.items()):
        c = COLORS[(len(curves) + j) % len(COLORS)]
        out.append(f'<line x1="{left}" y1="{y(a):.1f}" x2="{left + pw}" y2="{y(a):.1f}" '
                   f'stroke="{c}" stroke-dasharray="6 4" stroke-width="1.5"/>')
        ly = top + 10 + 18 * legend
        out.append(f'<line x1="{left + pw + 12}" y1="{ly}" x2="{left + pw + 32}" y2="{ly}" '
                   f'stroke="{c}" stroke-dasharray="6 4" stroke-width="1.5"/>')
        out.append(f'<text x="{left + pw + 38}" y="{ly + 4}">{escape(name)}</text>')
        legend += 1
    out.append("</svg>")
    return "\n".join(out) + "\n"
