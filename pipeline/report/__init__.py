"""`wiredesk report`: one self-contained HTML file about a warehouse, charts drawn as inline SVG.

data.py reads the warehouse, svg.py draws, sections.py builds the six sections, render.py writes
the page. The page carries a Content-Security-Policy that forbids every network fetch, so it needs
nothing at view time.
"""
from pipeline.report.data import MAX_SERIES, OTHER, REQUIRED_TABLES, STAFF, TOP_STORIES, gather, read_warehouse
from pipeline.report.render import CSS, render, write_report
from pipeline.report.sections import (
                                      GREY,
                                      LAG_BINS,
                                      OTHER_COLOR,
                                      OUTLET_PALETTE,
                                      PALETTE,
                                      agency_colors,
                                      colors_for,
                                      section_agency_outlets,
                                      section_dead,
                                      section_feeds,
                                      section_lag,
                                      section_over_time,
                                      section_stories,
)
from pipeline.report.svg import (
                                      esc,
                                      fmt_duration,
                                      fmt_time,
                                      legend,
                                      link,
                                      nice_step,
                                      svg_hbars,
                                      svg_share_bars,
                                      svg_stacked_bars,
)

__all__ = ["CSS", "GREY", "LAG_BINS", "MAX_SERIES", "OTHER", "OTHER_COLOR", "OUTLET_PALETTE", "PALETTE",
           "REQUIRED_TABLES", "STAFF", "TOP_STORIES", "agency_colors", "colors_for", "esc", "fmt_duration",
           "fmt_time", "gather", "legend", "link", "nice_step", "read_warehouse", "render", "section_agency_outlets",
           "section_dead", "section_feeds", "section_lag", "section_over_time", "section_stories", "svg_hbars",
           "svg_share_bars", "svg_stacked_bars", "write_report"]
