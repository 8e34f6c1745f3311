"""`wiredesk report`: one self-contained HTML file about a warehouse, charts drawn as inline SVG.

Why hand-written SVG rather than matplotlib: the report needs four plain chart shapes (stacked bars,
100% bars, a histogram, horizontal bars), and matplotlib would add ~40 MB of wheels (with Pillow,
fonttools, kiwisolver, contourpy) to install_requires, which is also what every Dataflow worker
installs, for a command that runs on a laptop. Inline SVG keeps text selectable and searchable,
gives hover tooltips through <title>, scales crisply, is deterministic (testable as text), and needs
nothing at view time: the page carries a Content-Security-Policy that forbids every network fetch.

Everything shown comes from pages on the web (titles, URLs, outlet names) and is escaped; links are
only made for http(s) URLs.
"""
from __future__ import annotations

import datetime as dt
import html
import math
from pathlib import Path

# Agencies and outlets get different palettes, so a colour never means both.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#2f4b7c", "#a05195", "#665191")
OUTLET_PALETTE = ("#1b9e77", "#7570b3", "#d95f02", "#e7298a", "#66a61e", "#a6761d", "#1f78b4", "#b2df8a",
                  "#fb9a99", "#cab2d6")
STAFF = "(staff)"
OTHER = "other"
GREY = "#bab0ac"
OTHER_COLOR = "#d7d2cc"
MAX_SERIES = 8
TOP_STORIES = 20
LAG_BINS = ((300, "< 5 min"), (900, "5–15 min"), (1800, "15–30 min"), (3600, "30–60 min"),
            (7200, "1–2 h"), (21600, "2–6 h"), (43200, "6–12 h"), (86400, "12–24 h"),
            (172800, "1–2 days"), (None, "> 2 days"))
REQUIRED_TABLES = ("articles", "dead_letters", "feed_state")


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


def colors_for(names: list, palette: tuple = PALETTE) -> dict:
    """Stable colours: in the given order from the palette; staff and 'other' are greys."""
    out, i = {}, 0
    for name in names:
        if name == STAFF:
            out[name] = GREY
        elif name == OTHER:
            out[name] = OTHER_COLOR
        else:
            out[name] = palette[i % len(palette)]
            i += 1
    return out


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


# ---------------------------------------------------------------- data

def _time_unit(first, last) -> tuple:
    span = (last - first).total_seconds() if first and last else 0
    if span <= 3 * 86400:
        return "hour", "%m-%d %H:00"
    if span <= 120 * 86400:
        return "day", "%Y-%m-%d"
    if span <= 3 * 365 * 86400:
        return "week", "%Y-%m-%d"
    return "month", "%Y-%m"


def _top_names(pairs: list, limit: int = MAX_SERIES) -> list:
    """Names ordered by count, the first `limit - 1` kept when there are more (the rest become 'other')."""
    counts: dict = {}
    for name, n in pairs:
        counts[name] = counts.get(name, 0) + n
    ordered = sorted(counts, key=lambda k: (-counts[k], k == STAFF, k))
    return ordered if len(ordered) <= limit else ordered[: limit - 1]


def gather(con) -> dict:
    """Everything the report shows, read from an open warehouse connection."""
    q = lambda sql, *params: con.execute(sql, list(params)).fetchall()  # noqa: E731
    con.execute("SET TimeZone = 'UTC'")
    data = {}
    data["totals"] = dict(zip(
        ("articles", "outlets", "agencies", "first", "last"),
        q("SELECT count(*), count(DISTINCT outlet), count(DISTINCT agency), min(published_at), max(published_at) "
          "FROM articles")[0]))
    data["totals"].update(zip(("stories", "multi_outlet"),
                              q("SELECT count(*), count(*) FILTER (WHERE outlet_count > 1) FROM stories")[0]))
    data["totals"]["dead_letters"] = q("SELECT count(*) FROM dead_letters")[0][0]
    data["totals"]["feeds"] = q("SELECT count(*) FROM feed_state")[0][0]
    unit, label_fmt = _time_unit(data["totals"]["first"], data["totals"]["last"])
    data["time_unit"] = unit
    data["over_time"] = [(b.strftime(label_fmt), a, n) for b, a, n in q(
        f"SELECT date_trunc('{unit}', timezone('UTC', published_at)) AS b, coalesce(agency, '{STAFF}'), count(*) "
        "FROM articles WHERE published_at IS NOT NULL GROUP BY ALL ORDER BY b")]
    data["undated"] = q("SELECT count(*) FROM articles WHERE published_at IS NULL")[0][0]
    data["agency_outlet"] = q(
        f"SELECT coalesce(agency, '{STAFF}'), coalesce(outlet, '?'), count(*) FROM articles GROUP BY ALL ORDER BY 3 DESC")
    data["lags"] = q(
        f"SELECT coalesce(s.agency, a.agency, '{STAFF}'), epoch(a.published_at) - epoch(s.first_published_at) "
        "FROM articles a JOIN stories s USING (story_id) "
        "WHERE a.article_id <> s.first_article_id AND a.published_at IS NOT NULL AND s.first_published_at IS NOT NULL")
    data["stories"] = q(
        "SELECT story_id, title, first_url, agency, outlet_count, copies, first_published_at, last_published_at "
        "FROM stories ORDER BY outlet_count DESC, copies DESC, first_published_at NULLS LAST, story_id LIMIT ?",
        TOP_STORIES)
    ids = [row[0] for row in data["stories"]]
    first_seen: dict = {}
    if ids:
        for story_id, outlet, seen in q(
                "SELECT story_id, coalesce(outlet, '?'), min(published_at) FROM articles "
                "WHERE list_contains(?, story_id) GROUP BY ALL ORDER BY 3 NULLS LAST, 2", ids):
            first_seen.setdefault(story_id, []).append((outlet, seen))
    data["story_outlets"] = first_seen
    data["dead_by_reason"] = q("SELECT stage, error_class, count(*) FROM dead_letters GROUP BY ALL "
                               "ORDER BY 3 DESC, 1, 2")
    data["dead_examples"] = q("SELECT stage, error_class, coalesce(url, feed_url), message, failed_at "
                              "FROM dead_letters ORDER BY failed_at DESC NULLS LAST, stage LIMIT 25")
    data["feeds"] = q(
        "SELECT f.feed_url, f.last_status, f.consecutive_failures, f.last_polled_at, f.entries_seen, "
        "  (SELECT count(*) FROM articles a WHERE a.feed_url = f.feed_url), "
        "  (SELECT count(*) FROM dead_letters d WHERE d.feed_url = f.feed_url) "
        "FROM feed_state f ORDER BY f.consecutive_failures DESC, f.last_status NOT BETWEEN 200 AND 399 DESC, "
        "f.feed_url")
    return data


# ---------------------------------------------------------------- sections

def agency_colors(data: dict) -> dict:
    """One colour per agency for every chart, in order of article count."""
    names = _top_names([(a, n) for a, _, n in data["agency_outlet"]], limit=len(PALETTE) + 1)
    return colors_for(names + [OTHER])


def section_over_time(data: dict) -> str:
    rows = data["over_time"]
    if not rows:
        return '<p class="empty">No dated articles yet.</p>'
    keep = _top_names([(a, n) for _, a, n in rows])
    buckets: list = []
    for b, _, _ in rows:
        if b not in buckets:
            buckets.append(b)
    names = keep + ([OTHER] if any(a not in keep for _, a, _ in rows) else [])
    table = {name: [0] * len(buckets) for name in names}
    index = {b: i for i, b in enumerate(buckets)}
    for b, a, n in rows:
        table[a if a in keep else OTHER][index[b]] += n
    palette = agency_colors(data)
    colors = {n: palette.get(n, OTHER_COLOR) for n in names}
    note = f' {data["undated"]} article(s) without a publication time are not shown.' if data["undated"] else ""
    return (svg_stacked_bars(buckets, [(n, table[n]) for n in names], colors,
                             "Articles over time by agency", f"articles per {data['time_unit']}")
            + legend(colors) + f'<p class="note">Publication times in UTC, one bar per {data["time_unit"]}.{note}</p>')


def section_agency_outlets(data: dict) -> str:
    rows = data["agency_outlet"]
    if not rows:
        return '<p class="empty">No articles yet.</p>'
    agencies = _top_names([(a, n) for a, _, n in rows], limit=12)
    outlets = _top_names([(o, n) for a, o, n in rows if a in agencies], limit=MAX_SERIES + 2)
    names = outlets + ([OTHER] if any(o not in outlets for a, o, _ in rows if a in agencies) else [])
    colors = colors_for(names, OUTLET_PALETTE)
    bars = []
    for agency in agencies:
        seg: dict = {}
        for a, o, n in rows:
            if a == agency:
                key = o if o in outlets else OTHER
                seg[key] = seg.get(key, 0) + n
        ordered = [(name, seg[name]) for name in names if name in seg]
        bars.append((agency, sum(seg.values()), ordered))
    return (svg_share_bars(bars, colors, "Each agency's share by outlet") + legend(colors)
            + '<p class="note">Each bar is one agency (staff = no agency credit); segments are the outlets that '
              'carried its copy. Hover a segment for counts.</p>')


def _lag_bin(seconds: float) -> int:
    for i, (limit, _) in enumerate(LAG_BINS):
        if limit is None or seconds < limit:
            return i
    return len(LAG_BINS) - 1


def _quantile(values: list, q: float):
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def section_lag(data: dict) -> str:
    lags = [(a, max(0.0, float(s))) for a, s in data["lags"] if s is not None]
    if not lags:
        return '<p class="empty">No story has a second copy yet, so there is no syndication lag to show.</p>'
    keep = _top_names([(a, 1) for a, _ in lags])
    names = keep + ([OTHER] if any(a not in keep for a, _ in lags) else [])
    table = {n: [0] * len(LAG_BINS) for n in names}
    for a, s in lags:
        table[a if a in keep else OTHER][_lag_bin(s)] += 1
    palette = agency_colors(data)
    colors = {n: palette.get(n, OTHER_COLOR) for n in names}
    values = [s for _, s in lags]
    stats = (f"{len(values)} copies; median {fmt_duration(_quantile(values, 0.5))}, "
             f"90th percentile {fmt_duration(_quantile(values, 0.9))}, longest {fmt_duration(max(values))}.")
    return (svg_stacked_bars([label for _, label in LAG_BINS], [(n, table[n]) for n in names], colors,
                             "Syndication lag distribution", "copies")
            + legend(colors)
            + f'<p class="note">Lag = a copy\'s publication time minus its story\'s first publication. {esc(stats)}</p>')


def section_stories(data: dict) -> str:
    if not data["stories"]:
        return '<p class="empty">No stories yet.</p>'
    out = ['<table><thead><tr><th>#</th><th>Story (first copy)</th><th>Agency</th><th>Outlets</th>'
           '<th>First seen</th><th>Outlets, by first-seen time</th></tr></thead><tbody>']
    for i, (sid, title, url, agency, n_outlets, copies, first, last) in enumerate(data["stories"], 1):
        seen = data["story_outlets"].get(sid, [])
        outlets = "<br>".join(
            f"{esc(o)} <span class=\"muted\">{esc(fmt_time(t))}"
            f"{' (+' + esc(fmt_duration((t - first).total_seconds())) + ')' if t and first and t > first else ''}"
            f"</span>" for o, t in seen)
        out.append(f"<tr><td>{i}</td><td>{link(url, title or url or sid)}</td><td>{esc(agency or 'staff')}</td>"
                   f"<td class=\"num\">{n_outlets}<span class=\"muted\"> ({copies} copies)</span></td>"
                   f"<td>{esc(fmt_time(first))}</td><td>{outlets}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def section_dead(data: dict) -> str:
    if not data["dead_by_reason"]:
        return '<p class="empty">No dead letters: nothing failed.</p>'
    chart = svg_hbars([(f"{stage} / {reason}", n) for stage, reason, n in data["dead_by_reason"]],
                      "Dead letters by stage and reason")
    rows = "".join(f"<tr><td>{esc(s)}</td><td>{esc(r)}</td><td>{link(u)}</td><td>{esc((m or '')[:200])}</td>"
                   f"<td>{esc(fmt_time(t))}</td></tr>" for s, r, u, m, t in data["dead_examples"])
    return (chart + '<h3>Most recent</h3><table><thead><tr><th>Stage</th><th>Reason</th><th>URL</th>'
            f'<th>Message</th><th>Failed at</th></tr></thead><tbody>{rows}</tbody></table>')


def section_feeds(data: dict) -> str:
    if not data["feeds"]:
        return '<p class="empty">No feed has been polled yet.</p>'
    out = ['<table><thead><tr><th>Feed</th><th>Last status</th><th>Failures in a row</th><th>Last polled</th>'
           '<th>Entries last poll</th><th>Articles</th><th>Dead letters</th></tr></thead><tbody>']
    for url, status, failures, polled, entries, articles, dead in data["feeds"]:
        ok = status is not None and 200 <= status < 400 and not failures
        badge = "ok" if ok else "bad"
        shown = "no response" if status == 0 else status
        out.append(f'<tr><td>{link(url)}</td><td><span class="badge {badge}">{esc(shown)}</span></td>'
                   f'<td class="num">{esc(failures)}</td><td>{esc(fmt_time(polled))}</td>'
                   f'<td class="num">{esc(entries)}</td><td class="num">{articles}</td><td class="num">{dead}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:24px auto;max-width:1000px;
padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}.muted,.note{color:#666}.note{font-size:12.5px;margin:4px 0}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;
min-width:110px}.card b{display:block;font-size:20px}.card span{color:#666;font-size:12px}
svg.chart{display:block;max-width:100%;height:auto;font:12px system-ui,sans-serif}svg .grid{stroke:#eee}
svg .axisline{stroke:#999}svg .tick{fill:#555;font-size:11px}svg .label{fill:#222}svg .axis{fill:#555}
svg .inbar{fill:#fff;font-size:11px;pointer-events:none}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:6px 0 0 52px;font-size:12.5px}
.key i{display:inline-block;width:11px;height:11px;margin-right:5px;vertical-align:-1px;border-radius:2px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #eee;padding:5px 6px;
text-align:left;vertical-align:top}th{background:#fafafa}td.num{text-align:right;white-space:nowrap}
a{color:#2f5f9e;text-decoration:none;word-break:break-word}.badge{border-radius:3px;padding:1px 6px;font-size:12px}
.badge.ok{background:#e3f1e0;color:#2d6a27}.badge.bad{background:#fbe1e1;color:#a12222}.empty{color:#888;font-style:italic}
"""


def render(data: dict, warehouse: str, generated_at: dt.datetime | None = None) -> str:
    t = data["totals"]
    generated_at = generated_at or dt.datetime.now(dt.timezone.utc)
    cards = [("articles", t["articles"]), ("stories", t["stories"]), ("stories in 2+ outlets", t["multi_outlet"]),
             ("outlets", t["outlets"]), ("agencies", t["agencies"]), ("feeds", t["feeds"]),
             ("dead letters", t["dead_letters"])]
    card_html = "".join(f'<div class="card"><b>{v}</b><span>{esc(k)}</span></div>' for k, v in cards)
    sections = [
        ("over-time", "Articles over time, by agency", section_over_time(data)),
        ("agency-outlets", "Each agency's share by outlet", section_agency_outlets(data)),
        ("lag", "Syndication lag", section_lag(data)),
        ("stories", f"Top story clusters (widest first, up to {TOP_STORIES})", section_stories(data)),
        ("dead-letters", "Dead letters by stage and reason", section_dead(data)),
        ("feeds", "Feed health", section_feeds(data)),
    ]
    body = "".join(f'<section id="{sid}"><h2>{esc(title)}</h2>{content}</section>' for sid, title, content in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wiredesk report — {esc(Path(warehouse).name)}</title>
<style>{CSS}</style></head><body>
<h1>wiredesk report</h1>
<p class="muted">Warehouse {esc(warehouse)} · generated {esc(fmt_time(generated_at))} · articles published
{esc(fmt_time(t["first"]))} to {esc(fmt_time(t["last"]))}</p>
<div class="cards">{card_html}</div>
{body}
<p class="note">Made by <code>wiredesk report</code>. Self-contained: no scripts, no fonts or images fetched.</p>
</body></html>
"""


def write_report(warehouse: str, out: str) -> Path:
    """Read the warehouse and write the HTML report; returns the file written."""
    from transforms.warehouse import duckdb_store

    con = duckdb_store.connect(warehouse, read_only=True)
    try:
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        missing = [t for t in REQUIRED_TABLES if t not in present]
        if missing or "stories" not in present:
            raise duckdb_store.WarehouseError(
                f"{warehouse}: not a wiredesk warehouse (missing {', '.join(missing or ['stories'])}); "
                "run `wiredesk run` or `wiredesk demo` to create one")
        data = gather(con)
    finally:
        con.close()
    path = Path(out)
    if path.parent and not path.parent.exists():
        from schemas.errors import ConfigError

        raise ConfigError(f"--out {out}: directory {path.parent} does not exist")
    path.write_text(render(data, str(warehouse)), encoding="utf-8")
    return path
