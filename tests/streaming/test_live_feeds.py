"""Done-when 1: a streaming run against feeds that gain entries between polls writes every new
article exactly once, answers unchanged feeds with 304, and stops by itself (--max-polls)."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import time

import duckdb
import pytest
import yaml

from pipeline.settings import Settings
from pipeline.corpus_server import CorpusServer, Route, route_key, syndication_routes
from tests.conftest import SYNDICATION_DEV
from tests.streaming.conftest import feed_index, sliced_feed

RSS = "application/rss+xml; charset=utf-8"
# feed -> item counts served at its 1st, 2nd and 3rd poll.
PLAN = {"nationaldispatch": (4, 8, 10), "bayjournal": (4, 6, 6), "capitalchronicle": (4, 4, 4)}


def _feeds():
    return {f["outlet"]: f for f in feed_index() if f["outlet"] in PLAN}


def _write_feeds_file(tmp_path, feeds):
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump([{"url": f["feed_url"], "name": f["name"]} for f in feeds.values()]))
    return path


def _serve_stage(server, feeds, stage):
    for outlet, feed in feeds.items():
        server.set_route(feed["feed_url"], Route(body=sliced_feed(feed, PLAN[outlet][stage]), content_type=RSS))


def _feed_polls(server, feeds):
    keys = {route_key(f["feed_url"]): o for o, f in feeds.items()}
    counts = dict.fromkeys(feeds, 0)
    for host, path, _status in list(server.requests):
        if (host, path) in keys:
            counts[keys[(host, path)]] += 1
    return counts


def _rows(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            "urls": sorted(r[0] for r in con.execute("SELECT url FROM articles").fetchall()),
            "dead": sorted(con.execute("SELECT url, error_class FROM dead_letters WHERE url IS NOT NULL").fetchall()),
            "feed_state": {r[0]: r[1:] for r in con.execute(
                "SELECT feed_url, last_status, consecutive_failures, entries_seen FROM feed_state").fetchall()},
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory, corpus):
    from pipeline.cli import run_pipeline

    tmp = tmp_path_factory.mktemp("live")
    feeds = _feeds()
    server = CorpusServer(syndication_routes(SYNDICATION_DEV)).start()
    try:
        _serve_stage(server, feeds, 0)
        stop = threading.Event()

        def change_feeds():
            # Each feed gains entries once every feed has been polled (once, then twice).
            stage = 0
            while not stop.is_set() and stage < 2:
                if min(_feed_polls(server, feeds).values()) >= stage + 1:
                    stage += 1
                    _serve_stage(server, feeds, stage)
                time.sleep(0.02)

        changer = threading.Thread(target=change_feeds, daemon=True)
        changer.start()
        warehouse = tmp / "stream.duckdb"
        reads = []

        def query_while_running():
            # Done-when 5: `wiredesk query` from another process while the stream writes.
            while not stop.is_set():
                if warehouse.exists():
                    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "query", "--warehouse",
                                           str(warehouse), "SELECT count(*) AS n FROM articles"],
                                          capture_output=True, text=True, timeout=120)
                    reads.append((proc.returncode, proc.stdout, proc.stderr[-500:]))
                time.sleep(0.05)

        reader = threading.Thread(target=query_while_running, daemon=True)
        reader.start()
        settings = Settings()
        settings = dataclasses.replace(settings, warehouse=dataclasses.replace(settings.warehouse, batch_rows=4))
        started = time.monotonic()
        outcome = run_pipeline(["--streaming", "--feeds", str(_write_feeds_file(tmp, feeds)),
                                "--warehouse", str(warehouse), "--proxy", server.url,
                                "--poll-interval", "1s", "--max-polls", "3"], settings=settings)
        elapsed = time.monotonic() - started
        time.sleep(1.0)
        stop.set()
        changer.join(5)
        reader.join(130)
        requests = list(server.requests)
        streamed = _rows(warehouse)
        # The same feeds, as they stand at the end, through a batch run into a fresh warehouse.
        batch_wh = tmp / "batch.duckdb"
        run_pipeline(["--feeds", str(_write_feeds_file(tmp, feeds)), "--warehouse", str(batch_wh),
                      "--proxy", server.url])
        batch = _rows(batch_wh)
    finally:
        server.stop()
    return {"outcome": outcome, "elapsed": elapsed, "requests": requests, "streamed": streamed,
            "batch": batch, "feeds": feeds, "reads": reads}


def test_every_new_article_lands_exactly_once(live):
    counters = live["outcome"]["counters"]
    assert live["streamed"]["urls"] == live["batch"]["urls"]
    assert len(live["streamed"]["urls"]) + len(live["streamed"]["dead"]) == sum(p[-1] for p in PLAN.values())
    # Each new link was fetched once, and each article reached the writer once.
    assert counters["fetch.requested"] == sum(p[-1] for p in PLAN.values())
    assert counters["write.articles.received"] == counters["write.articles.inserted"] == len(live["streamed"]["urls"])
    assert counters["read_feeds.new_entries"] == sum(p[-1] for p in PLAN.values())


def test_unchanged_feeds_are_answered_304_and_counted(live):
    counters = live["outcome"]["counters"]
    feed_requests = [r for r in live["requests"] if r[1].endswith((".xml", ".rss", "/feed"))
                     or "rss" in r[1] or "feed" in r[1]]
    statuses = [status for _, _, status in feed_requests]
    # capitalchronicle never changes (2 x 304), bayjournal stops changing (1 x 304).
    assert statuses.count(304) == 3
    assert counters["read_feeds.feeds_unchanged"] == 3
    assert counters["read_feeds.feeds_polled"] == 9
    state = live["streamed"]["feed_state"]
    assert {v[0] for v in state.values()} <= {200, 304} and len(state) == 3


def test_the_run_stops_by_itself_after_max_polls(live):
    assert live["elapsed"] < 90
    counters = live["outcome"]["counters"]
    from pipeline.summary import conservation

    cons = conservation(counters)
    assert cons["balanced"], cons


def test_query_from_another_process_succeeds_while_the_stream_writes(live):
    reads = live["reads"]
    assert reads, "no concurrent query ran"
    assert all(code == 0 for code, _, _ in reads), [r for r in reads if r[0]]
    import re

    counts = [int(re.search(r"\|\s*(\d+)\s*\|", out).group(1)) for _, out, _ in reads]
    # Each batch is one transaction: readers see counts only grow, and end at the full count.
    assert counts == sorted(counts)
    assert counts[-1] == len(live["streamed"]["urls"])
    assert live["outcome"]["counters"]["write.batches"] >= 3
