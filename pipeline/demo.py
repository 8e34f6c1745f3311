"""`wiredesk demo`: serve the bundled sample corpus on 127.0.0.1 and run the whole pipeline over it."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml

from pipeline.corpus_server import CorpusServer, Route
from pipeline.queries import run_sql
from pipeline.run import print_summary, run_pipeline

DEMO_DIR = Path(__file__).resolve().parent / "demo_corpus"
# Printed after the demo run, each with the `wiredesk query` command that runs it.
EXAMPLE_QUERIES = [
    ("Articles per agency",
     "SELECT coalesce(agency, '(staff)') AS agency, count(*) AS articles FROM articles GROUP BY 1 ORDER BY 2 DESC"),
    ("Stories carried by more than one outlet",
     "SELECT title, outlet_count, agency, first_outlet FROM stories WHERE outlet_count > 1 "
     "ORDER BY outlet_count DESC, first_published_at"),
    ("Dead letters by stage and reason",
     "SELECT stage, error_class, url FROM dead_letters ORDER BY stage, error_class"),
]


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
    manifest = demo_manifest()
    with tempfile.TemporaryDirectory(prefix="wiredesk-demo-") as tmp, CorpusServer(demo_routes(manifest)) as server:
        feeds = write_demo_feeds(Path(tmp), manifest)
        print(f"demo corpus: {len(manifest['feeds'])} feeds, {len(manifest['pages'])} pages, "
              f"served by a local proxy at {server.url}")
        # The outlets live on .example hosts that only the local proxy knows; the proxy resolves them.
        # 15 pages take less time in this process than starting worker processes would.
        workers = [] if any(a.startswith("--direct_num_workers") for a in beam_args) else ["--direct_num_workers", "1"]
        outcome = run_pipeline(["--feeds", str(feeds), "--warehouse", warehouse, "--proxy", server.url]
                               + workers + beam_args)
    print_summary(outcome)
    for title, sql in EXAMPLE_QUERIES:
        print(f"\n-- {title}\n$ wiredesk query --warehouse {warehouse} \"{sql}\"")
        print(run_sql(warehouse, sql))
    return 0
