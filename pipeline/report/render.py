"""The report page: the cards, the sections and the CSS in one self-contained HTML file."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.report.data import TOP_STORIES, read_warehouse
from pipeline.report.sections import (
    section_agency_outlets,
    section_dead,
    section_feeds,
    section_lag,
    section_over_time,
    section_paywall,
    section_stories,
)
from pipeline.report.svg import esc, fmt_time
from schemas.errors import ConfigError

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
        ("paywall", "Paywalled articles by outlet", section_paywall(data)),
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
    data = read_warehouse(warehouse)
    path = Path(out)
    if path.parent and not path.parent.exists():
        raise ConfigError(f"--out {out}: directory {path.parent} does not exist")
    path.write_text(render(data, str(warehouse)), encoding="utf-8")
    return path
