"""`wiredesk demo`: serve the bundled sample corpus on 127.0.0.1 and run the whole pipeline over it."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml

from pipeline.corpus_server import CorpusServer, Route

DEMO_DIR = Path(__file__).resolve().parent / "demo_corpus"


def demo_manifest() -> dict:
    return json.loads((DEMO_DIR / "manifest.json").read_text(encoding="utf-8"))


def demo_routes(manifest: dict | None = None) -> dict:
    """Every URL of the demo corpus mapped to its file."""
    manifest = manifest or demo_manifest()
    routes = {}
    for item in manifest["feeds"] + manifest["pages"]:
        routes[item["url"]] = Route(path=DEMO_DIR / item["file"], content_type=item.get("content_type"))
    return routes


def write_demo_feeds(directory: Path, manifest: dict | None = None) -> Path:
    """A feeds YAML file for the demo outlets, as a user would write one."""
    manifest = manifest or demo_manifest()
    path = Path(directory) / "demo-feeds.yaml"
    feeds = [{"url": f["url"], "name": f["name"]} for f in manifest["feeds"]]
    path.write_text(yaml.safe_dump(feeds, sort_keys=False), encoding="utf-8")
    return path


def run_demo(warehouse: str, beam_args: list) -> int:
    from pipeline.cli import EXAMPLE_QUERIES, print_summary, query, run_pipeline

    manifest = demo_manifest()
    with tempfile.TemporaryDirectory(prefix="wiredesk-demo-") as tmp, CorpusServer(demo_routes(manifest)) as server:
        feeds = write_demo_feeds(Path(tmp), manifest)
        print(f"demo corpus: {len(manifest['feeds'])} feeds, {len(manifest['pages'])} pages, "
              f"served by a local proxy at {server.url}")
        # The outlets live on .example hosts that only the local proxy knows; the proxy resolves them.
        outcome = run_pipeline(["--feeds", str(feeds), "--warehouse", warehouse, "--proxy", server.url]
                               + beam_args)
    print_summary(outcome)
    for title, sql in EXAMPLE_QUERIES:
        print(f"\n-- {title}\n$ wiredesk query --warehouse {warehouse} \"{sql}\"")
        print(query(warehouse, sql))
    return 0
