"""Small server-rendered SVG charts. Every label is escaped; each chart has a table beside it on
the page, so nothing is only in the picture."""

from __future__ import annotations

from html import escape


def paired_bars(categories: list[str], series: dict[str, list[float]], colours: list[str],
                title: str, width: int = 560, height: int = 260, percent: bool = True) -> str:
    """Grouped vertical bars: one group per category, one bar per series (values 0..1 if
    `percent`). Returns an <svg> element with a <title> and text labels."""
    names = list(series)
    top = max([v for values in series.values() for v in values if v is not None] + [1e-9])
    top = min(1.0, top * 1.15) if percent else top * 1.15
    left, bottom, plot_h = 48, 40, height - 70
    group_w = (width - left - 10) / max(len(categories), 1)
    bar_w = group_w * 0.8 / max(len(names), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
             f'width="100%" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for tick in range(5):
        value = top * tick / 4
        y = height - bottom - plot_h * tick / 4
        label = f"{value:.0%}" if percent else f"{value:.1f}"
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#ddd"/><text x="{left - 6}" y="{y + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{label}</text>')
    for i, category in enumerate(categories):
        x0 = left + i * group_w + group_w * 0.1
        for j, name in enumerate(names):
            value = series[name][i] or 0.0
            h = plot_h * value / top
            x = x0 + j * bar_w
            y = height - bottom - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                         f'fill="{colours[j % len(colours)]}"><title>{escape(category)}: '
                         f'{escape(name)} {value:.1%}</title></rect>')
        parts.append(f'<text x="{x0 + group_w * 0.4:.1f}" y="{height - bottom + 16}" '
                     f'font-size="12" text-anchor="middle">{escape(category)}</text>')
    for j, name in enumerate(names):
        x = left + j * 190
        parts.append(f'<rect x="{x}" y="{height - 16}" width="12" height="12" '
                     f'fill="{colours[j % len(colours)]}"/><text x="{x + 16}" y="{height - 6}" '
                     f'font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)

