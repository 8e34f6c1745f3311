"""`wiredesk report`: one self-contained HTML file about a warehouse, charts drawn as inline SVG.

data.py reads the warehouse, svg.py draws, sections.py builds the seven sections, render.py writes
the page. The page carries a Content-Security-Policy that forbids every network fetch, so it needs
nothing at view time.
"""
from pipeline.report.data import gather
from pipeline.report.render import render, write_report

__all__ = ["gather", "render", "write_report"]
