"""The corpus's sources/ folder (sitemaps, robots.txt, ninjs, NewsML-G2, NewsML 1.2) and its manifest rows."""
from __future__ import annotations

import csv
import json

from tests.support.corpus import CORPUS

SOURCES = CORPUS / "sources"


def manifest_rows(*prefixes: str) -> list:
    """manifest.csv rows whose path starts with one of prefixes, in file order."""
    with (SOURCES / "manifest.csv").open(encoding="utf-8", newline="") as f:
        return [row for row in csv.DictReader(f) if row["path"].startswith(prefixes)]


def truth(row: dict) -> dict:
    """The row's full ground truth (ground_truth_json)."""
    return json.loads(row["ground_truth_json"]) if row["ground_truth_json"] else {}


def read(row: dict) -> bytes:
    return (SOURCES / row["path"]).read_bytes()
