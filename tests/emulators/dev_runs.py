"""One DuckDB run and two BigQuery runs over the same dev syndication feeds, shared by the test modules.

Cached per test process: tests/pipeline/test_bigquery_warehouse.py and test_saved_queries.py both
read these warehouses, and each whole-pipeline run costs 10-30 s on two cores.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

# The first three feeds of the dev split's index share about 30 stories between them; the fourth
# URL does not exist on the outlet's server, so the runs also land a dead letter.
FEED_LIMIT = 3
MISSING_FEED = "http://nationaldispatch.example/rss/no-such-feed.xml"
DATASET = "dev_batch"
_CACHE: dict = {}


def write_feeds(split_dir: Path, directory: Path) -> Path:
    import yaml

    from tests.support.corpus import syndication_feed_urls

    index = json.loads((Path(split_dir) / "feeds" / "index.json").read_text(encoding="utf-8"))
    names = {f["feed_url"]: f["name"] for f in index}
    feeds = [{"url": u, "name": names[u]} for u in syndication_feed_urls(split_dir)[:FEED_LIMIT]]
    feeds.append({"url": MISSING_FEED, "name": "The National Dispatch (moved feed)"})
    path = Path(directory) / "feeds.yaml"
    path.write_text(yaml.safe_dump(feeds, sort_keys=False), encoding="utf-8")
    return path


def _run(feeds: Path, warehouse: str, proxy: str) -> dict:
    from pipeline.run import run_pipeline

    started = time.monotonic()
    out = run_pipeline(["--feeds", str(feeds), "--warehouse", warehouse, "--proxy", proxy,
                        "--runner", "FnApiRunner"])
    out["elapsed_s"] = time.monotonic() - started
    return out


def bigquery_counts(bq, project: str, dataset: str) -> dict:
    q = lambda sql: [tuple(r.values()) for r in bq.query(sql).result()]  # noqa: E731
    ref = f"{project}.{dataset}"
    return {"articles": q(f"SELECT COUNT(*) FROM `{ref}.articles`")[0][0],
            "dead_letters": q(f"SELECT COUNT(*) FROM `{ref}.dead_letters`")[0][0],
            "stories": dict(q(f"SELECT article_id, story_id FROM `{ref}.articles`"))}


def dev_runs(emulator, server, split_dir: Path, tmp: Path) -> dict:
    """{'duckdb': path, 'bigquery': warehouse, 'runs': [...], 'after_first'/'after_rerun': counts}."""
    if "result" in _CACHE:
        return _CACHE["result"]
    feeds = write_feeds(split_dir, tmp)
    duck = tmp / "dev.duckdb"
    warehouse = f"bigquery:{emulator.project}.{DATASET}"
    runs = {"duckdb": _run(feeds, str(duck), server.url), "bigquery": _run(feeds, warehouse, server.url)}
    bq = emulator.client()
    try:
        after_first = bigquery_counts(bq, emulator.project, DATASET)
        # Forget the feeds' ETags, so the rerun re-reads every entry and must find them stored.
        bq.query(f"DELETE FROM `{emulator.project}.{DATASET}.feed_state` WHERE TRUE").result()
        runs["bigquery_rerun"] = _run(feeds, warehouse, server.url)
        after_rerun = bigquery_counts(bq, emulator.project, DATASET)
        tables = sorted(t.table_id for t in bq.list_tables(f"{emulator.project}.{DATASET}"))
    finally:
        bq.close()
    _CACHE["result"] = {"duckdb": duck, "bigquery": warehouse, "runs": runs, "after_first": after_first,
                        "after_rerun": after_rerun, "tables_after": tables}
    return _CACHE["result"]
