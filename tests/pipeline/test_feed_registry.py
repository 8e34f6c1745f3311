"""The curated feed registry in feeds/: every file loads, no duplicates, real schemes, honest notes."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline.feeds_config import load_feeds_file
from transforms.tag.registry import load_registry_data

FEEDS_DIR = Path(__file__).resolve().parents[2] / "feeds"
FILES = sorted(FEEDS_DIR.glob("*.yaml"))


def test_registry_has_the_two_lists():
    assert {p.name for p in FILES} >= {"india-wires.yaml", "international-wires.yaml"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_loads_and_is_clean(path):
    specs = load_feeds_file(path)  # raises ConfigError on unknown keys, bad URLs, duplicates, bad intervals
    assert len(specs) >= 10
    for spec in specs:
        parts = urlsplit(spec.url)
        assert parts.scheme in ("https", "http") and parts.netloc, spec.url
        assert spec.name, f"{spec.url}: every registry entry names its outlet"
        assert spec.poll_interval_s is None or spec.poll_interval_s >= 300, f"{spec.url}: poll politely"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_entry_says_it_is_unverified(path):
    url_lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.lstrip("- ").startswith("url:")]
    assert url_lines
    for line in url_lines:
        assert "# verified: no (offline), listed 2026-11" in line, line


def test_no_feed_is_listed_twice_across_files():
    seen = {}
    for path in FILES:
        for spec in load_feeds_file(path):
            assert spec.url not in seen, f"{spec.url} in {path.name} and {seen.get(spec.url)}"
            seen[spec.url] = path.name


def test_agency_hints_are_canonical_registry_names():
    names = {entry["name"] for entry in load_registry_data(None)}
    hints = [(path.name, s.url, s.agency) for path in FILES for s in load_feeds_file(path) if s.agency]
    assert hints, "the international list names agencies' own feeds"
    for name, url, agency in hints:
        assert agency in names, f"{name}: {url}: agency {agency!r} is not a canonical name in agencies.yaml"
