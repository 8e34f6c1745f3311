"""Each benchmark's --quick mode runs to the end and prints its key figures (a smoke check, not a measurement).

Peers come from the optional [bench] extra; without it a benchmark prints them as unavailable and
goes on, which these tests accept.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# Whole-pipeline runs over a corpus, subprocesses or emulators: `pytest -m 'not slow'` leaves them out.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("WIREDESK_CORPUS", REPO.parent / "shared" / "corpus"))

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not checked out beside the repo")


def run_quick(script: str, *args: str, timeout: int = 240) -> str:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), "--quick", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{script} --quick exited {proc.returncode}\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return proc.stdout


def peer_lines_ok(out: str) -> None:
    """Every peer is either scored or reported unavailable with a reason."""
    for peer in ("trafilatura", "newspaper4k", "news-please", "readability-lxml", "goose3"):
        assert re.search(rf"^{re.escape(peer)}\s+(?:\d\.\d{{4}}|unavailable)", out, re.M), (peer, out)


@needs_corpus
def test_extraction_quick():
    out = run_quick("extraction.py")
    assert re.search(r"^wiredesk\s+\d\.\d{4} ±\d\.\d{4}\s+\d\.\d{4} ±\d\.\d{4}\s+\d\.\d{4} ±\d\.\d{4}\s+[\d.]+", out, re.M), out
    peer_lines_ok(out)
    assert "target F1 >= 0.975" in out


@needs_corpus
def test_metadata_quick():
    out = run_quick("metadata.py")
    assert re.search(r"^wiredesk\s+\d\.\d{4} ±\d\.\d{4} \d\.\d{4} ±\d\.\d{4} \d\.\d{4} ±\d\.\d{4}", out, re.M), out
    peer_lines_ok(out)
    assert "dates within 24h: wiredesk" in out
    assert re.search(r"wiredesk dates: \d+ given, 0 without a source, 0 in the future", out), out


@needs_corpus
def test_throughput_quick(tmp_path):
    one = run_quick("throughput.py", timeout=300)
    out = run_quick("throughput.py", "--copies", "2", "--profile", str(tmp_path / "profile.txt"), timeout=300)
    pages = []
    for text in (one, out):
        match = re.search(r"1 worker\s+pipeline (\d+) pages in [\d.]+s = ([\d.]+) pages/s \| bare fetch\+trafilatura "
                          r"(\d+) pages .* ratio ([\d.]+)", text)
        assert match, text
        assert int(match.group(1)) == int(match.group(3)) > 0  # both sides did the same pages
        pages.append(int(match.group(1)))
    assert pages[1] == 2 * pages[0]  # every copy was fetched
    # The stage clock names the fused stages and the time outside them, and they add up to the run.
    assert re.search(r"^\s+[\d.]+s \+\s*[\d.]+s\s+Fetch Articles \+ Extract Articles", out, re.M), out
    outside = re.search(r"outside any stage .*: ([\d.]+)s of ([\d.]+)s", out)
    assert outside and 0 <= float(outside.group(1)) < float(outside.group(2)), out
    assert "per-page cost (ms/page" in out and (tmp_path / "profile.txt").stat().st_size > 0


def test_dedup_scaling_quick():
    out = run_quick("dedup_scaling.py")
    assert re.search(r"^wiredesk\s+n=\s+1000 .*s .*peak \+\d+ MB .*F1=\d\.\d{4}", out, re.M), out
    assert re.search(r"^wiredesk: time\(3000\) / time\(1000\) = [\d.]+", out, re.M), out
    assert re.search(r"^datasketch\s+n=|datasketch: unavailable", out, re.M), out


@needs_corpus
def test_history_scaling_quick():
    out = run_quick("history_scaling.py", timeout=300)
    for size in ("2,000", "20,000"):
        joined = re.search(rf"^copies joined their stored stories \({size}\): (\d+)/(\d+) ok; "
                           rf"new rows landed (\d+)/(\d+) ok", out, re.M)
        assert joined and joined.group(1) == joined.group(2) and int(joined.group(2)) > 0, out
        assert joined.group(3) == joined.group(4), out
    assert "FAIL" not in out, out
    proto = re.search(r"^proto bytes by size: 2,000: (\d+); 20,000: (\d+)", out, re.M)
    assert proto, out
    small, large = int(proto.group(1)), int(proto.group(2))
    assert max(small, large) < 1024 * 1024, out  # the graph carries no stored rows
    assert abs(small - large) <= 500, out  # ...so it does not grow with the history
    assert re.search(r"^target no-op rerun 20,000 <= 2x 2,000: (met|NOT met)", out, re.M), out


@needs_corpus
def test_realwire_quick():
    out = run_quick("realwire.py")
    # The sample's credited pages are scored, the baseline beside them, and nothing is lost.
    match = re.search(r"^wiredesk all\s+P=(\d\.\d{4}) R=(\d\.\d{4}) F1=(\d\.\d{4})", out, re.M)
    assert match, out
    assert float(match.group(3)) >= 0.9, out
    assert re.search(r"^baseline all\s+P=\d\.\d{4}", out, re.M), out
    assert re.search(r"^per agency", out, re.M) and "target agency F1 >= 0.97" in out
    assert re.search(r"dead letters among labelled pages: 0 ", out), out


def test_internet_scale_quick():
    out = run_quick("internet_scale.py", timeout=240)
    polled = re.search(r"politeness: max (\d+) request\(s\) in flight per host \((\d+) hosts over 1\); "
                       r"min gap ([\d.]+) s vs host gap ([\d.]+) s \((\d+) violations\); "
                       r"([\d,]+)/([\d,]+) feeds polled", out)
    assert polled, out
    assert polled.group(1) == "1" and polled.group(2) == "0" and polled.group(5) == "0", out
    assert float(polled.group(3)) >= float(polled.group(4)) > 0, out
    assert polled.group(6) == polled.group(7), out  # every feed was polled
    per_core = re.search(r"^304 polls per core: (\d+)/s \(([\d.]+) \+ ([\d.]+) ms\)", out, re.M)
    assert per_core and int(per_core.group(1)) > 0 and float(per_core.group(2)) > 0, out
    track = re.search(r"^feed track: pickled (\d+) B mean, (\d+) B p99.*; in memory (\d+) B", out, re.M)
    assert track and 0 < int(track.group(1)) <= int(track.group(2)) and int(track.group(3)) > 0, out
    assert re.search(r"^start-up: every feed polled once after [\d.]+ s; first polls over \d+ s, max \d+/s",
                     out, re.M), out
    for target in ("polls/s per core on 304s", "B state per feed", "politeness never violated"):
        assert re.search(rf"^target .*{re.escape(target)}: (met|NOT met)", out, re.M), (target, out)
    index = re.search(r"^per member: heap ([\d,]+) B .* state record ([\d,]+) B", out, re.M)
    assert index and int(index.group(1).replace(",", "")) > 0 and int(index.group(2).replace(",", "")) > 0, out
    assert re.search(r"^single-key index fits one n2-standard-2 worker .*: (yes|NO)", out, re.M), out
    batch = re.search(r"^batch 40 pages \(2 feeds\): (\d+) s .* peak RSS ([\d,]+) MiB \(largest process\), "
                      r"(\d+) articles", out, re.M)
    assert batch and int(batch.group(2).replace(",", "")) > 0 and int(batch.group(3)) > 0, out
