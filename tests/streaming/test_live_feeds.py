"""Done-when 1 and 5: a streaming run against feeds that gain entries between polls writes every
new article exactly once, answers unchanged feeds with 304, and stops by itself (--max-polls); the
new articles land while the run goes on, readable from another process, and Ctrl-C stops it
cleanly."""
from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import threading
import time

import duckdb
import pytest
import yaml

from pipeline.corpus_server import CorpusServer, Route, route_key
from schemas.settings import Settings
from tests.support.corpus import SYNDICATION_DEV, feed_index, sliced_feed, syndication_routes

# Whole-pipeline runs over a corpus, subprocesses or emulators: `pytest -m 'not slow'` leaves them out.
pytestmark = pytest.mark.slow

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


# The local live source (what `wiredesk run --streaming` uses here), and the polling SDF that
# Dataflow runs, on the FnApiRunner (which lands its rows when the stream stops).
@pytest.fixture(scope="module", params=["local-live", "sdf-FnApiRunner"])
def live(request, tmp_path_factory, corpus):
    from pipeline.run import run_pipeline

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
        runner = ["--runner", "FnApiRunner"] if request.param == "sdf-FnApiRunner" else []
        outcome = run_pipeline(["--streaming", "--feeds", str(_write_feeds_file(tmp, feeds)),
                                "--warehouse", str(warehouse), "--proxy", server.url,
                                "--poll-interval", "1s", "--max-polls", "3", *runner], settings=settings)
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
            "batch": batch, "feeds": feeds, "reads": reads, "runner": request.param}


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


def _landed(warehouse) -> int:
    """Rows for entries (articles + entry dead letters), read by `wiredesk query` in another process."""
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "query", "--warehouse", str(warehouse),
                           "SELECT (SELECT count(*) FROM articles) + (SELECT count(*) FROM dead_letters "
                           "WHERE url IS NOT NULL) AS n"], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return -1
    found = re.search(r"\|\s*(\d+)\s*\|", proc.stdout)
    return int(found.group(1)) if found else -1


@pytest.fixture(scope="module")
def landing(tmp_path_factory, corpus):
    """`wiredesk run --streaming` in its own process; the feeds gain entries only once the previous
    ones are in the warehouse, and Ctrl-C (SIGINT) ends the run once the last ones are."""
    import signal

    tmp = tmp_path_factory.mktemp("landing")
    feeds = _feeds()
    server = CorpusServer(syndication_routes(SYNDICATION_DEV)).start()
    warehouse = tmp / "stream.duckdb"
    log = open(tmp / "run.log", "w+")
    proc = None
    try:
        _serve_stage(server, feeds, 0)
        proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", "--streaming",
                                 "--feeds", str(_write_feeds_file(tmp, feeds)), "--warehouse", str(warehouse),
                                 "--proxy", server.url, "--poll-interval", "1s", "--duration", "5m"],
                                stdout=log, stderr=subprocess.STDOUT)
        latencies, started = [], time.monotonic()
        for stage in range(3):
            served = sum(p[stage] for p in PLAN.values())
            shown = time.monotonic()
            while _landed(warehouse) < served:
                assert proc.poll() is None, "the streaming run ended early"
                assert time.monotonic() - shown < 120, f"stage {stage}: rows did not land within 120 s"
                time.sleep(0.2)
            latencies.append(time.monotonic() - shown)
            if stage < 2:
                _serve_stage(server, feeds, stage + 1)
        running_after_last = proc.poll() is None
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=120)
        stopped_in = time.monotonic() - started
        log.seek(0)
        output = log.read()
        streamed = _rows(warehouse)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        server.stop()
        log.close()
    return {"latencies": latencies, "running": running_after_last, "code": code, "output": output,
            "streamed": streamed, "elapsed": stopped_in}


def test_new_articles_land_while_the_stream_runs(landing):
    # Each wave of new entries was in the warehouse, seen from another process, while the run went on:
    # the feeds changed only after that, so a run that wrote only when it stopped could not pass.
    assert landing["running"]
    assert len(landing["latencies"]) == 3 and max(landing["latencies"]) < 120, landing["latencies"]
    print("landing latencies (s):", [round(x, 1) for x in landing["latencies"]])


def test_ctrl_c_stops_cleanly_and_every_entry_lands_once(landing):
    assert landing["code"] == 0, landing["output"][-3000:]
    assert "stopping" in landing["output"]
    streamed = landing["streamed"]
    assert len(streamed["urls"]) == len(set(streamed["urls"]))
    assert len(streamed["urls"]) + len(streamed["dead"]) == sum(p[-1] for p in PLAN.values())
    assert "[balanced]" in landing["output"], landing["output"][-3000:]


def test_robots_txt_is_read_once_per_fetcher_not_once_per_bundle(live):
    # The local streaming runner copies each DoFn per bundle; the fetcher (robots answers, host
    # gaps) is shared by the copies. Two fetchers touch each host: the poller's and the page fetcher's.
    robots = {}
    for host, path, _ in live["requests"]:
        if path == "/robots.txt":
            robots[host] = robots.get(host, 0) + 1
    assert robots and max(robots.values()) <= 2, robots


def test_duration_stops_a_live_stream_by_itself_and_flushes(tmp_path, corpus):
    from pipeline.run import run_pipeline

    feeds = {o: f for o, f in _feeds().items() if o == "bayjournal"}
    with CorpusServer(syndication_routes(SYNDICATION_DEV)) as server:
        server.set_route(feeds["bayjournal"]["feed_url"],
                         Route(body=sliced_feed(feeds["bayjournal"], 3), content_type=RSS))
        warehouse = tmp_path / "stream.duckdb"
        started = time.monotonic()
        outcome = run_pipeline(["--streaming", "--feeds", str(_write_feeds_file(tmp_path, feeds)),
                                "--warehouse", str(warehouse), "--proxy", server.url,
                                "--poll-interval", "1s", "--duration", "4s"])
        elapsed = time.monotonic() - started
    rows = _rows(warehouse)
    assert 4 <= elapsed < 60
    assert len(rows["urls"]) + len(rows["dead"]) == 3  # flushed at the end, none lost
    assert outcome["counters"]["read_feeds.feeds_polled"] >= 2
