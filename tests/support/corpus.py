"""The third-party corpus beside the repository: its paths, and its syndication split as local routes."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from pipeline.corpus_server import Route

REPO = Path(__file__).resolve().parents[2]
# CI clones the repo with shared/ beside it; WIREDESK_CORPUS points elsewhere when needed.
CORPUS = Path(os.environ.get("WIREDESK_CORPUS", REPO.parent / "shared" / "corpus"))
SYNDICATION_DEV = CORPUS / "syndication" / "dev"
SEED = CORPUS / "seed"


def syndication_routes(split_dir: Path) -> dict:
    """Routes for a split of the syndication corpus: its feeds and every labelled page."""
    split_dir = Path(split_dir)
    routes = {}
    for feed in json.loads((split_dir / "feeds" / "index.json").read_text(encoding="utf-8")):
        routes[feed["feed_url"]] = Route(path=split_dir / feed["path"],
                                         content_type=_feed_type(feed.get("format")))
    for line in (split_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            label = json.loads(line)
            routes[label["url"]] = Route(path=split_dir / label["path"], content_type="text/html; charset=utf-8")
    return routes


def syndication_feed_urls(split_dir: Path) -> list:
    """The feed URLs of a syndication split, in index order."""
    index = json.loads((Path(split_dir) / "feeds" / "index.json").read_text(encoding="utf-8"))
    return [feed["feed_url"] for feed in index]


def _feed_type(fmt: str | None) -> str:
    return "application/atom+xml; charset=utf-8" if fmt == "atom" else "application/rss+xml; charset=utf-8"


_ITEM = re.compile(r"<item>.*?</item>\s*", re.S)
_ENTRY = re.compile(r"<entry>.*?</entry>\s*", re.S)


def feed_index() -> list:
    return json.loads((SYNDICATION_DEV / "feeds" / "index.json").read_text(encoding="utf-8"))


def sliced_feed(feed: dict, count: int) -> bytes:
    """The feed's file with only its first `count` items (RSS items or Atom entries)."""
    text = (SYNDICATION_DEV / feed["path"]).read_text(encoding="utf-8")
    pattern = _ENTRY if feed.get("format") == "atom" else _ITEM
    items = pattern.findall(text)
    head = text[: text.index(items[0])]
    tail = text[text.index(items[-1]) + len(items[-1]):]
    return (head + "".join(items[:count]) + tail).encode("utf-8")
