"""The report's drawing primitives: escaped text, links, times, and three SVG chart shapes.

Why hand-written SVG rather than matplotlib: the report needs four plain chart shapes (stacked bars,
100% bars, a histogram, horizontal bars), and matplotlib would add ~40 MB of wheels (with Pillow,
fonttools, kiwisolver, contourpy) to install_requires, which is also what every Dataflow worker
installs, for a command that runs on a laptop. Inline SVG keeps text selectable and searchable,
gives hover tooltips through <title>, scales crisply, is deterministic (testable as text), and needs
nothing at view time.

Everything shown comes from pages on the web (titles, URLs, outlet names): esc() every text, and
link() makes links only for http(s) URLs.
"""
from __future__ import annotations

import datetime as dt
import html
import math


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def fmt_time(moment) -> str:
    if moment is None:
        return "—"
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def fmt_duration(seconds) -> str:
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def link(url, text=None) -> str:
    label = esc(text if text is not None else url)
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
        return f'<a href="{esc(url)}" rel="noreferrer noopener">{label}</a>'
    return label


def nice_step(maximum: float, ticks: int = 5) -> float:
    """A 1/2/5 x 10^n step (at least 1) giving about `ticks` gridlines up to maximum."""
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return max(1, m * power)  # counts: never a fractional step
    return 10 * power


def legend(colors: dict) -> str:
    items = "".join(f'<span class="key"><i style="background:{c}"></i>{esc(n)}</span>' for n, c in colors.items())
    return f'<div class="legend">{items}</div>'


def svg_stacked_bars(categories: list, series: list, colors: dict, title: str, y_label: str,
                     width: int = 960, height: int = 300) -> str:
    """Vertical stacked bars; series: [(name, [value per category])]."""
    left, right, top, bottom = 52, 12, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(vals[i] for _, vals in series) for i in range(len(categories))]
    top_value = max(totals, default=0) or 1
    step = nice_step(top_value)
    y_max = math.ceil(top_value / step) * step
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>']
    y = 0.0
    while y <= y_max + 1e-9:
        py = top + plot_h - plot_h * y / y_max
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{py:.1f}" y2="{py:.1f}"/>'
                     f'<text class="tick" x="{left - 6}" y="{py + 4:.1f}" text-anchor="end">{y:g}</text>')
        y += step
    parts.append(f'<text class="axis" transform="translate(14 {top + plot_h / 2:.0f}) rotate(-90)" '
                 f'text-anchor="middle">{esc(y_label)}</text>')
    n = max(len(categories), 1)
    slot = plot_w / n
    bar_w = max(1.0, min(48.0, slot * 0.8))
    label_every = max(1, math.ceil(n / (plot_w / 70)))
    for i, cat in enumerate(categories):
        x = left + slot * i + (slot - bar_w) / 2
        base = top + plot_h
        for name, vals in series:
            v = vals[i]
            if not v:
                continue
            h = plot_h * v / y_max
            base -= h
            parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{colors[name]}"><title>{esc(cat)} · {esc(name)}: {v}</title></rect>')
        if i % label_every == 0:
            cx = left + slot * i + slot / 2
            parts.append(f'<text class="tick" x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
                         f'{esc(cat)}</text>')
    parts.append(f'<line class="axisline" x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
                 f'y2="{top + plot_h}"/></svg>')
    return "".join(parts)


def svg_share_bars(rows: list, colors: dict, title: str, width: int = 960) -> str:
    """Horizontal 100% bars; rows: [(label, total, [(segment name, value)])]."""
    left, right, row_h, top = 150, 70, 30, 6
    height = top + row_h * len(rows) + 6
    plot_w = width - left - right
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>']
    for r, (label, total, segments) in enumerate(rows):
        y = top + r * row_h
        parts.append(f'<text class="label" x="{left - 8}" y="{y + 19}" text-anchor="end">{esc(label)}</text>')
        x = float(left)
        for name, value in segments:
            w = plot_w * value / total if total else 0
            share = 100.0 * value / total if total else 0
            parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{colors[name]}">'
                         f'<title>{esc(label)} · {esc(name)}: {value} ({share:.0f}%)</title></rect>')
            if w > 7.5 * len(str(name)) + 40:
                parts.append(f'<text class="inbar" x="{x + 5:.1f}" y="{y + 19}">{esc(name)} {share:.0f}%</text>')
            x += w
        parts.append(f'<text class="tick" x="{width - right + 6}" y="{y + 19}">{total} art.</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_hbars(rows: list, title: str, color: str = "#e15759", width: int = 960) -> str:
    """Horizontal bars; rows: [(label, value)]."""
    left, right, row_h, top = 260, 50, 24, 6
    height = top + row_h * len(rows) + 6
    plot_w = width - left - right
    top_value = max((v for _, v in rows), default=0) or 1
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>']
    for r, (label, value) in enumerate(rows):
        y = top + r * row_h
        w = max(1.0, plot_w * value / top_value)
        parts.append(f'<text class="label" x="{left - 8}" y="{y + 16}" text-anchor="end">{esc(label)}</text>'
                     f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{color}">'
                     f'<title>{esc(label)}: {value}</title></rect>'
                     f'<text class="tick" x="{left + w + 6:.1f}" y="{y + 16}">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)
