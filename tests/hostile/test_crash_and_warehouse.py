"""Issue 5, pipeline: kill -9 halfway and rerun; a warehouse locked by another process; a full disk.

Every run here is the real `wiredesk run` command in a subprocess (through pipeline.cli.main), against
a slow local server reached with --proxy. A small bootstrap only shortens two limits (the warehouse
lock wait and the write batch size) so that the failures happen within seconds.
"""
from __future__ import annotations

import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from tests.hostile.web import article_html, check_balanced, rss, run
from tests.support.hostile_server import HostileServer, respond

REPO = Path(__file__).resolve().parents[2]
N = 20
FEED = "http://feeds.example/crash.xml"
BOOT = """
import sys
import pipeline.prepare as prepare
from schemas.settings import Settings, WarehouseSettings
prepare.Settings = lambda: Settings(warehouse=WarehouseSettings(lock_wait_s=1.0, batch_rows=4))
from pipeline.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _slow(body: bytes, delay: float):
    def action(ex):
        ex.sleep(delay)
        ex.send(200, body, {"Content-Type": "text/html; charset=utf-8"})
    return action


@pytest.fixture(scope="module")
def site():
    routes = {f"http://crash.example/s{i}": _slow(article_html(f"Crash story {i}", f"crash{i}").encode(), 0.1)
              for i in range(N)}
    routes[FEED] = respond(200, rss([{"title": f"s{i}", "link": f"http://crash.example/s{i}"} for i in range(N)]),
                           {"Content-Type": "application/rss+xml"})
    with HostileServer(routes) as server:
        yield server


def _cmd(server, warehouse) -> list:
    return [sys.executable, "-c", BOOT, "run", "--feeds", FEED, "--proxy", server.url, "--warehouse", str(warehouse),
            "--progress", "off"]


def _articles(warehouse) -> list:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "articles" not in tables:  # killed before the schema was committed
            return []
        return con.execute("SELECT article_id, url, title, body, word_count FROM articles").fetchall()
    finally:
        con.close()


def _page_hits(server) -> int:
    return sum(1 for r in server.requests if r.target.startswith("http://crash.example/s"))


def _assert_complete_once(warehouse):
    rows = _articles(warehouse)
    urls = [r[1] for r in rows]
    assert sorted(urls) == sorted(f"http://crash.example/s{i}" for i in range(N))  # each exactly once
    assert all(r[2] and r[3] and r[4] >= 30 for r in rows)  # no partial rows


def _kill_when(proc, condition, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.002)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def test_kill_minus_9_halfway_then_rerun_lands_every_article_once(site, tmp_path):
    warehouse = tmp_path / "crash.duckdb"
    # 1. Killed while fetching (half the pages served, nothing written yet).
    proc = subprocess.Popen(_cmd(site, warehouse), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    start = _page_hits(site)
    _kill_when(proc, lambda: _page_hits(site) - start >= N // 2)
    if warehouse.exists():  # whatever is there is whole
        assert all(r[2] and r[3] for r in _articles(warehouse))
    # 2. Killed while writing: batches of 4 rows, one transaction each; the kill lands just after
    #    the file appears, so some batches may be committed and the rest not.
    proc = subprocess.Popen(_cmd(site, warehouse), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _kill_when(proc, lambda: warehouse.exists() and (time.sleep(0.03) or True))
    if warehouse.exists():
        rows = _articles(warehouse)
        assert all(r[2] and r[3] for r in rows) and len(rows) <= N
    # 3. The rerun (in-process this time, to save a Beam start-up) completes the job: every article
    #    exactly once, no partial rows, all entries balanced.
    cons = check_balanced(run(tmp_path, [FEED], warehouse, proxy=site.url))
    assert cons["entries"] == N
    _assert_complete_once(warehouse)


def _error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.read()
"""


def test_warehouse_locked_in_the_middle_of_a_run_is_a_clear_error(tmp_path):
    """The lock is taken after the run has read its state, so the failure happens inside a Beam worker."""
    warehouse = tmp_path / "midrun.duckdb"
    duckdb.connect(str(warehouse)).close()  # an empty warehouse the run can read at start
    held: list = []
    lock_taken = threading.Event()

    def grab_then_serve(ex):
        if not held:
            held.append(duckdb.connect(str(warehouse)))  # this test process now holds the file
            lock_taken.set()
        ex.send(200, article_html("Mid-run story", f"mid{ex.hit}").encode(), {"Content-Type": "text/html"})

    routes = {"http://mid.example/a": grab_then_serve,
              "http://feeds.example/mid.xml": respond(200, rss([{"title": "a", "link": "http://mid.example/a"}]),
                                                      {"Content-Type": "application/rss+xml"})}
    with HostileServer(routes) as server:
        cmd = [sys.executable, "-c", BOOT, "run", "--feeds", "http://feeds.example/mid.xml", "--proxy", server.url,
               "--warehouse", str(warehouse), "--progress", "off"]
        try:
            done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
        finally:
            for con in held:
                con.close()
    assert lock_taken.is_set()
    assert done.returncode == 2, done.stderr[-2000:]
    line = _error_line(done.stderr)
    assert line.startswith("wiredesk: error:") and "locked by another process" in line, line
    assert "[while running" not in line


def _fsize_limit(limit: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_locked_or_full_warehouse_is_a_clear_error_and_earlier_rows_survive(tmp_path):
    warehouse = tmp_path / "full.duckdb"
    n = 12
    routes = {f"http://disk.example/{tag}{i}": respond(200, article_html(f"Disk {tag} {i}", f"{tag}{i}").encode(),
                                                       {"Content-Type": "text/html"})
              for tag in ("a", "b") for i in range(n)}
    for tag in ("a", "b"):
        routes[f"http://feeds.example/{tag}.xml"] = respond(
            200, rss([{"title": f"{tag}{i}", "link": f"http://disk.example/{tag}{i}"} for i in range(n)]),
            {"Content-Type": "application/rss+xml"})
    with HostileServer(routes) as server:
        def in_process(feed):
            return check_balanced(run(tmp_path, [feed], warehouse, proxy=server.url))

        def wiredesk(feed, limit=None):
            cmd = [sys.executable, "-c", BOOT, "run", "--feeds", feed, "--proxy", server.url,
                   "--warehouse", str(warehouse), "--progress", "off"]
            return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120,
                                  preexec_fn=_fsize_limit(limit) if limit else None)

        in_process("http://feeds.example/a.xml")
        before = sorted(_articles(warehouse))
        assert len(before) == n
        # Another process holds the file: a clear one-line error, exit 2, nothing changed.
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "locked"
            blocked = wiredesk("http://feeds.example/b.xml")
        finally:
            holder.stdin.close()
            holder.wait(timeout=30)
        assert blocked.returncode == 2
        line = _error_line(blocked.stderr)
        assert line.startswith("wiredesk: error:") and "locked by another process" in line, line
        assert sorted(_articles(warehouse)) == before
        # No file may grow past 16 KB: the write-ahead log of the new rows cannot be written.
        full = wiredesk("http://feeds.example/b.xml", limit=16 * 1024)
        assert full.returncode != 0
        line = _error_line(full.stderr)
        assert line.startswith("wiredesk: error: the warehouse could not be written"), full.stderr[-3000:]
        after = _articles(warehouse)
        assert set(before) <= set(after)  # nothing written earlier is lost or damaged
        assert all(r[2] and r[3] for r in after)  # and every row there is whole
        # With space again, the rerun completes: every article exactly once.
        in_process("http://feeds.example/b.xml")
        urls = sorted(r[1] for r in _articles(warehouse))
        assert urls == sorted(f"http://disk.example/{t}{i}" for t in ("a", "b") for i in range(n))
