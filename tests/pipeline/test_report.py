"""`wiredesk report`: one self-contained HTML file, checked as text and in a real headless Chromium.

The browser test needs Debian's `chromium` (apt-get install -y chromium); it fails, not skips,
without it, so CI cannot pass without really rendering the report. A screenshot is kept under
$WIREDESK_ARTIFACTS (default: the test's tmp dir) and its path printed.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from pipeline import report
from pipeline.report.sections import OUTLET_PALETTE, PALETTE
from pipeline.report.svg import esc

WIREDESK = Path(sys.executable).with_name("wiredesk")
CMD = [str(WIREDESK)] if WIREDESK.exists() else [sys.executable, "-m", "pipeline.cli"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1"]
CHART_TITLES = ["Articles over time by agency", "Each agency's share by outlet", "Syndication lag distribution",
                "Dead letters by stage and reason"]


def wiredesk(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*CMD, *args], capture_output=True, text=True, cwd=cwd, timeout=180)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    """The demo corpus run into a warehouse, and `wiredesk report` on it."""
    tmp = tmp_path_factory.mktemp("report")
    warehouse = tmp / "demo.duckdb"
    proc = wiredesk("demo", "--warehouse", str(warehouse), "--progress", "off", "--log-level", "WARNING", cwd=tmp)
    assert proc.returncode == 0, proc.stderr
    out = tmp / "report.html"
    proc = wiredesk("report", "--warehouse", str(warehouse), "--out", str(out), "--log-level", "WARNING", cwd=tmp)
    assert proc.returncode == 0, proc.stderr
    assert str(out.resolve()) in proc.stdout
    return tmp, warehouse, out


def test_report_is_self_contained(demo_report):
    _, _, out = demo_report
    text = out.read_text(encoding="utf-8")
    assert "default-src 'none'" in text  # the browser may fetch nothing at all
    assert "<script" not in text.lower()
    for tag in re.findall(r"<(?:img|link|script|iframe|object|embed|source)\b[^>]*>", text, re.I):
        assert not re.search(r"(src|href)=\"(?!data:)", tag), tag
    assert "@import" not in text and "url(" not in text
    assert text.count('<svg class="chart"') == len(CHART_TITLES)
    for title in CHART_TITLES:
        assert f"<title>{esc(title)}</title>" in text


def test_report_shows_every_section_with_the_demo_facts(demo_report):
    _, _, out = demo_report
    text = out.read_text(encoding="utf-8")
    for sid in ("over-time", "agency-outlets", "lag", "stories", "paywall", "dead-letters", "feeds"):
        assert f'<section id="{sid}">' in text
    assert "Centre to set up 40 cold-storage hubs" in text  # a 3-outlet story
    assert "meridiantimes.example" in text and "asiawiredigest.example" in text
    assert "http_404" in text  # the demo's dead link
    assert text.count('class="badge ok"') == 4  # four healthy feeds
    assert re.search(r"4 copies; median \d+ min", text)


def test_report_escapes_untrusted_text_and_handles_an_empty_warehouse(tmp_path):
    from transforms.warehouse import duckdb_store

    path = tmp_path / "hostile.duckdb"
    con = duckdb_store.connect(path)
    duckdb_store.ensure_schema(con)
    empty = report.gather(con)
    html_empty = report.render(empty, str(path))
    assert "No dated articles yet." in html_empty and "No dead letters" in html_empty
    con.execute("INSERT INTO articles (article_id, url, outlet, title, published_at, story_id, agency) VALUES "
                "('a1', 'javascript:alert(1)', '<b>evil.example</b>', '<script>alert(1)</script><img src=x>', "
                "TIMESTAMPTZ '2026-03-01 10:00:00+00', 'a1', 'AP'), "
                "('a2', 'https://b.example/x?a=1&b=\"2\"', 'b.example', 'Copy', "
                "TIMESTAMPTZ '2026-03-01 12:30:00+00', 'a1', 'AP')")
    data = report.gather(con)
    con.close()
    page = report.render(data, str(path))
    assert "<script>" not in page and "<img src=x>" not in page and "<b>evil" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page
    assert "1 copies; median 2.5 h" in page


def test_report_refuses_a_file_that_is_not_a_warehouse(tmp_path):
    import duckdb

    duckdb.connect(str(tmp_path / "other.duckdb")).close()
    proc = wiredesk("report", "--warehouse", str(tmp_path / "other.duckdb"), "--out", str(tmp_path / "r.html"))
    assert proc.returncode == 2
    assert "not a wiredesk warehouse" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- in a real browser

def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("Chromium is needed to check the report renders: apt-get update && apt-get install -y chromium")


def run_chromium(args: list, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def read_png(path: Path):
    """An 8-bit RGB/RGBA non-interlaced PNG as a numpy array (height, width, 3), without Pillow."""
    import numpy as np

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp, raw = (3 if color == 2 else 4), zlib.decompress(idat)
    stride = width * bpp
    image = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], np.frombuffer(raw, np.uint8, stride, start + 1).copy()
        if ftype == 1:  # Sub: a running sum per channel
            line = (np.cumsum(line.reshape(-1, bpp).astype(np.int64), axis=0) % 256).astype(np.uint8).ravel()
        elif ftype == 2:  # Up
            line = line + prev
        elif ftype in (3, 4):  # Average, Paeth: sequential along the row
            cur, up = line.tolist(), prev.tolist()
            for x in range(stride):
                a = cur[x - bpp] if x >= bpp else 0
                b = up[x]
                if ftype == 3:
                    cur[x] = (cur[x] + (a + b) // 2) & 255
                else:
                    c = up[x - bpp] if x >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    cur[x] = (cur[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            line = np.array(cur, dtype=np.uint8)
        image[y] = line
        prev = line
    return image.reshape(height, width, bpp)[:, :, :3]


def pixels_of(image, color: str) -> int:
    import numpy as np

    rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8)
    return int(np.all(image == rgb, axis=2).sum())


CHECK_PAGE = """<!DOCTYPE html><html><body>
<iframe id="r" src="%s" style="width:1200px;height:4000px;border:0"></iframe>
<script>
document.getElementById('r').addEventListener('load', () => {
  const out = {};
  const doc = document.getElementById('r').contentDocument;
  if (!doc) { out.error = 'no access to the report document'; } else {
    out.charts = [...doc.querySelectorAll('svg.chart')].map(s => {
      const box = s.getBoundingClientRect();
      const marks = [...s.querySelectorAll('rect')].filter(r => { const b = r.getBBox(); return b.width > 0 && b.height > 0; });
      return {title: s.querySelector('title').textContent, width: box.width, height: box.height, marks: marks.length};
    });
    out.images = [...doc.images].map(i => ({src: i.src.slice(0, 40), complete: i.complete, width: i.naturalWidth}));
    out.sections = [...doc.querySelectorAll('section h2')].map(h => h.textContent);
    out.tables = doc.querySelectorAll('table tbody tr').length;
  }
  const pre = document.createElement('pre'); pre.id = 'verdict'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script></body></html>"""


def test_report_renders_in_headless_chromium(demo_report, tmp_path):
    tmp, _, out = demo_report
    artifacts = Path(os.environ.get("WIREDESK_ARTIFACTS") or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    # 1. The DOM after layout: every chart has a size and drawn bars; every <img> (if any) decoded.
    check = out.parent / "check.html"
    check.write_text(CHECK_PAGE % out.name, encoding="utf-8")
    proc = run_chromium(["--allow-file-access-from-files", "--virtual-time-budget=10000", "--dump-dom",
                         check.as_uri()], tmp_path / "profile-dom")
    found = re.search(r'<pre id="verdict">(.*?)</pre>', proc.stdout, re.S)
    assert found, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    verdict = json.loads(found.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
                         .replace("&quot;", '"'))
    assert "error" not in verdict, verdict
    assert [c["title"] for c in verdict["charts"]] == CHART_TITLES
    for chart in verdict["charts"]:
        assert chart["width"] > 300 and chart["height"] > 20 and chart["marks"] >= 1, chart
    assert all(img["complete"] and img["width"] > 0 for img in verdict["images"]), verdict["images"]
    assert len(verdict["sections"]) == 7 and verdict["tables"] >= 10
    # 2. The pixels: a full-page screenshot shows the charts' colours.
    shot = artifacts / "wiredesk-report.png"
    shot.unlink(missing_ok=True)
    proc = run_chromium([f"--screenshot={shot}", "--window-size=1200,3000", out.as_uri()], tmp_path / "profile-png")
    assert shot.exists() and shot.stat().st_size > 20000, (proc.returncode, proc.stderr[-2000:])
    print(f"\nreport screenshot: {shot}")
    image = read_png(shot)
    assert image.shape == (3000, 1200, 3)
    for color in (*PALETTE[:3], *OUTLET_PALETTE[:3]):  # agency bars; the three demo outlets
        assert pixels_of(image, color) > 800, color
    assert (image != 255).any(axis=2).mean() > 0.03  # not a blank page
