"""The report's seven sections, each an HTML fragment built from gather()'s data."""
from __future__ import annotations

import math

from pipeline.report.data import MAX_SERIES, OTHER, STAFF, top_names
from pipeline.report.svg import esc, fmt_duration, fmt_time, legend, link, svg_hbars, svg_share_bars, svg_stacked_bars

# Agencies and outlets get different palettes, so a colour never means both.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#2f4b7c", "#a05195", "#665191")
OUTLET_PALETTE = ("#1b9e77", "#7570b3", "#d95f02", "#e7298a", "#66a61e", "#a6761d", "#1f78b4", "#b2df8a",
                  "#fb9a99", "#cab2d6")
GREY = "#bab0ac"
OTHER_COLOR = "#d7d2cc"
LAG_BINS = ((300, "< 5 min"), (900, "5–15 min"), (1800, "15–30 min"), (3600, "30–60 min"),
            (7200, "1–2 h"), (21600, "2–6 h"), (43200, "6–12 h"), (86400, "12–24 h"),
            (172800, "1–2 days"), (None, "> 2 days"))


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


def agency_colors(data: dict) -> dict:
    """One colour per agency for every chart, in order of article count."""
    names = top_names([(a, n) for a, _, n in data["agency_outlet"]], limit=len(PALETTE) + 1)
    return colors_for(names + [OTHER])


def section_over_time(data: dict) -> str:
    rows = data["over_time"]
    if not rows:
        return '<p class="empty">No dated articles yet.</p>'
    keep = top_names([(a, n) for _, a, n in rows])
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
    agencies = top_names([(a, n) for a, _, n in rows], limit=12)
    outlets = top_names([(o, n) for a, o, n in rows if a in agencies], limit=MAX_SERIES + 2)
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
    keep = top_names([(a, 1) for a, _ in lags])
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


def section_paywall(data: dict) -> str:
    rows = data.get("paywall")
    if rows is None:
        return ('<p class="empty">This warehouse predates the paywall columns (schema 3); the next '
                '<code>wiredesk run</code> on it adds them.</p>')
    if not rows:
        return '<p class="empty">No articles yet.</p>'
    out = ['<table><thead><tr><th>Outlet</th><th>Articles</th><th>Declared</th><th>Paywalled</th>'
           '<th>Share paywalled</th><th>Teasers</th></tr></thead><tbody>']
    for outlet, articles, declared, paywalled, truncated in rows:
        share = f"{100.0 * paywalled / articles:.1f}%" if articles else "–"
        out.append(f'<tr><td>{esc(outlet)}</td><td class="num">{articles}</td><td class="num">{declared}</td>'
                   f'<td class="num">{paywalled}</td><td class="num">{share}</td><td class="num">{truncated}</td></tr>')
    out.append('</tbody></table><p class="note">Paywalled: the page declares schema.org isAccessibleForFree '
               'false (for the article or a part of it). Declared: pages that say either way. Teasers: bodies '
               'evidently cut short (shorter than the declared wordCount, or ending in a call to subscribe).</p>')
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
