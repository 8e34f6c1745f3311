"""Load: many feeds and articles on a local server, some hosts slow and some failing, on the FnApiRunner.

CI runs a scaled-down version (40 feeds, 1,000 articles; well under a minute). The full size of
issue 5 (200 feeds, 10,000 articles) runs with WIREDESK_LOAD_FULL=1:

    WIREDESK_LOAD_FULL=1 python -m pytest tests/hostile/test_load.py -q -s
    WIREDESK_LOAD_WORKERS=2 python -m pytest tests/hostile/test_load.py -q -s   # two runner threads

Checked: the run completes, conservation holds, every good page is an article, every failure is a
dead letter with its reason, and per-host politeness holds at the server: never more than one
request in flight per host, and never two requests to one host closer than --min_host_gap.
"""
from __future__ import annotations

import os
import time

import pytest

from tests.hostile.web import FAST, article_html, check_balanced, rss, run, table
from tests.support.hostile_server import HostileServer, respond

FULL = os.environ.get("WIREDESK_LOAD_FULL", "") not in ("", "0")
# The full size takes well over pytest.ini's 10-minute default on one runner thread.
pytestmark = [pytest.mark.timeout(3600 if FULL else 600), pytest.mark.slow]
FEEDS, ARTICLES = (200, 10_000) if FULL else (40, 1_000)
HOSTS = 50 if FULL else 20
MIN_GAP = 0.01
SLOW_HOSTS = {1, 2}  # every page takes 50 ms
DOWN_HOSTS = {3}  # 503 always: the breaker opens after 3 URLs
MISSING_EVERY = 97  # every 97th page is a 404
# WIREDESK_LOAD_WORKERS=2 runs hosts concurrently on two FnApiRunner threads, which makes the in-flight
# check bite harder; it is off by default because Beam 2.77's multi-threaded FnApiRunner corrupted
# bundles at the full size here (KeyError 'bundle_NN', "Invalid PaneInfoEncoding"), a runner bug.
_WORKERS = int(os.environ.get("WIREDESK_LOAD_WORKERS", "1"))
WORKERS = ("--direct_num_workers", str(_WORKERS), "--direct_running_mode", "multi_threading") if _WORKERS > 1 else ()


def _host(i: int) -> str:
    return f"outlet{i % HOSTS}.example"


def _slow(body: bytes):
    def action(ex):
        ex.sleep(0.05)
        ex.send(200, body, {"Content-Type": "text/html; charset=utf-8"})
    return action


@pytest.fixture(scope="module")
def load(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("load")
    routes: dict = {}
    expected = {"article": set(), "http_404": set(), "down": set()}
    for i in range(ARTICLES):
        host_index = i % HOSTS
        url = f"http://{_host(i)}/news/{i}"
        if host_index in DOWN_HOSTS:
            routes[url] = respond(503, b"down", {"Retry-After": "0"})
            expected["down"].add(url)
        elif i % MISSING_EVERY == 0:
            expected["http_404"].add(url)  # no route: 404
        else:
            body = article_html(f"Load story {i}", f"load{i}").encode()
            routes[url] = _slow(body) if host_index in SLOW_HOSTS else respond(200, body, {"Content-Type": "text/html"})
            expected["article"].add(url)
    per_feed = ARTICLES // FEEDS
    feeds = []
    for f in range(FEEDS):
        url = f"http://feeds{f % 5}.example/feed-{f}.xml"
        items = [{"title": f"item {i}", "link": f"http://{_host(i)}/news/{i}", "guid": str(i)}
                 for i in range(f * per_feed, (f + 1) * per_feed)]
        routes[url] = respond(200, rss(items), {"Content-Type": "application/rss+xml"})
        feeds.append(url)
    settings = FAST.with_fetch(max_body_bytes=256 * 1024, max_decoded_bytes=1024 * 1024, max_feed_bytes=4 << 20)
    with HostileServer(routes) as proxy:
        started = time.monotonic()
        counters = run(tmp, feeds, tmp / "load.duckdb", proxy=proxy.url, settings=settings,
                       extra=("--min_host_gap", str(MIN_GAP), *WORKERS))
        elapsed = time.monotonic() - started
        yield {"counters": counters, "elapsed": elapsed, "proxy": proxy, "expected": expected,
               "warehouse": tmp / "load.duckdb"}
    events = sorted([(s, 1) for _, s, _ in proxy.spans] + [(e, -1) for _, _, e in proxy.spans])
    busy = peak = 0
    for _, step in events:
        busy += step
        peak = max(peak, busy)
    print(f"\nload: {FEEDS} feeds, {ARTICLES} articles on {HOSTS} hosts in {elapsed:.1f}s "
          f"({ARTICLES / elapsed:.0f} entries/s); requests={len(proxy.requests)}; "
          f"most requests in flight at once (all hosts)={peak}")


def test_load_run_completes_and_balances(load):
    cons = check_balanced(load["counters"])
    assert cons["entries"] == ARTICLES
    assert cons["articles"] == len(load["expected"]["article"])
    rows = dict(table(load["warehouse"], "SELECT url, error_class FROM dead_letters WHERE url IS NOT NULL"))
    assert {u for u, r in rows.items() if r == "http_404"} == load["expected"]["http_404"]
    down = {u: rows[u] for u in load["expected"]["down"]}
    assert sorted(set(down.values())) == ["host_unavailable", "http_503"]
    assert list(down.values()).count("http_503") == 3


def test_load_politeness_one_request_per_host_at_a_time_and_the_minimum_gap(load):
    proxy = load["proxy"]
    assert max(proxy.max_in_flight.values()) == 1, {h: n for h, n in proxy.max_in_flight.items() if n > 1}
    starts: dict = {}
    for host, start, _ in proxy.spans:
        starts.setdefault(host, []).append(start)
    tight = []
    for host, times in starts.items():
        times.sort()
        tight += [(host, b - a) for a, b in zip(times, times[1:]) if b - a < MIN_GAP * 0.9]
    assert not tight, tight[:5]
