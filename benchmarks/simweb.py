"""A simulated web for the scale benchmarks: one local forward proxy answering as many hosts and feeds.

`SimWeb(shape).start()` runs a threaded HTTP server in its own process (so the client's CPU time
is the client's alone) on 127.0.0.1. The fetcher reaches it with `--proxy`, as it reaches the
corpus server: requests arrive in absolute form (`GET http://h00042.sim.example/feeds/7.xml`).

- Feed i lives on host i % hosts. A share of feeds changes every `change_s` seconds (each with its
  own phase); the others never change. ETag and Last-Modified follow the feed's version, and a
  conditional GET of the current version answers 304.
- A share of hosts always fails (503), a share is slow (`slow_ms`), a share never answers within
  the client's read timeout (`hang_s`); every host serves robots.txt.
- Article pages `/a/<feed>/<n>.html` are news-shaped HTML of `page_kb` (about 60-100 KB): a body of
  real sentences from `sentences`, wrapped in navigation, inline scripts and footers.

The server records, per host, how many requests were in flight at once and the smallest gap
between one answer (its first byte) and the arrival of the next request; `stats()` returns them.
"""
from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import json
import multiprocessing
import random
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

DOMAIN = "sim.example"
STATS_PATH = "/__stats"


@dataclasses.dataclass(frozen=True)
class Shape:
    """What the simulated web looks like."""

    hosts: int = 10_000
    feeds: int = 100_000
    items_per_feed: int = 20
    changing_share: float = 0.1  # feeds that publish at all during a run
    change_s: float = 60.0  # ...each every change_s seconds
    fail_share: float = 0.01  # hosts answering 503
    slow_share: float = 0.02  # hosts answering after slow_ms
    hang_share: float = 0.002  # hosts answering after hang_s (past the client's read timeout)
    base_ms: float = 2.0  # every answer's latency (0..2x this)
    slow_ms: float = 300.0
    hang_s: float = 4.0
    page_kb: tuple = (60, 100)


def host_name(host: int) -> str:
    return f"h{host:05d}.{DOMAIN}"


def feed_url(shape: Shape, feed: int) -> str:
    return f"http://{host_name(feed % shape.hosts)}/feeds/{feed}.xml"


def _unit(*parts) -> float:
    """A stable number in [0, 1) for parts: the same host or feed behaves the same in every process."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def host_kind(shape: Shape, host: int) -> str:
    u = _unit("host", host)
    if u < shape.fail_share:
        return "fail"
    if u < shape.fail_share + shape.hang_share:
        return "hang"
    if u < shape.fail_share + shape.hang_share + shape.slow_share:
        return "slow"
    return "ok"


def feed_version(shape: Shape, feed: int, now: float) -> int:
    if _unit("changes", feed) >= shape.changing_share:
        return 0
    return int((now + _unit("phase", feed) * shape.change_s) // shape.change_s)


def feed_body(shape: Shape, feed: int, version: int) -> bytes:
    host = host_name(feed % shape.hosts)
    items = []
    for n in range((version + 1) * shape.items_per_feed - 1, version * shape.items_per_feed - 1, -1):
        link = f"http://{host}/a/{feed}/{n}.html"
        date = email.utils.formatdate(1_767_225_600 + n * 60, usegmt=True)
        items.append(f"<item><title>Story {feed}-{n}</title><link>{link}</link><guid>{link}</guid>"
                     f"<pubDate>{date}</pubDate><description>Summary of story {n} of feed {feed}.</description></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {feed}</title>'
            f"<link>http://{host}/</link><description>simulated</description>{''.join(items)}</channel></rss>"
            ).encode()


def page_body(shape: Shape, sentences: list, feed: int, n: int) -> bytes:
    """A news-shaped page: real sentences in paragraphs, inside the markup real outlets wrap them in."""
    rng = random.Random(feed * 1_000_003 + n)
    target = rng.randint(*shape.page_kb) * 1024
    words, paras = rng.randint(400, 1000), []
    while sum(len(p.split()) for p in paras) < words:
        paras.append(" ".join(rng.choice(sentences) for _ in range(rng.randint(2, 5))))
    title = " ".join(paras[0].split()[:10])
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(40))
    body = "".join(f"<p>{p}</p>" for p in paras)
    head = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
            f'<meta property="article:published_time" content="2026-01-01T{n % 24:02d}:00:00+00:00">'
            f"<style>{'.c{margin:0;padding:0}' * 40}</style></head><body><header><nav><ul>{nav}</ul></nav></header>"
            f'<article><h1>{title}</h1><p class="byline">By Staff Reporter</p>{body}</article>')
    filler = []
    size = len(head)
    while size < target - 200:  # tracking scripts and related-links blocks: the bulk of a real page's bytes
        block = f"<script>window.__data{len(filler)}={json.dumps({'k': rng.random(), 'v': 'x' * 900})};</script>"
        filler.append(block)
        size += len(block)
    return (head + "".join(filler) + "<footer>© Simulated Media</footer></body></html>").encode()


class _Tally:
    """Per-host in-flight counts and gaps, feeds' first requests, answers by status."""

    def __init__(self):
        self.lock = threading.Lock()
        self.inflight: dict = {}
        self.max_inflight: dict = {}
        self.last_end: dict = {}
        self.min_gap: dict = {}
        self.first_poll: dict = {}
        self.status: dict = {}
        self.robots = 0

    def begin(self, host: str, path: str, now: float) -> None:
        with self.lock:
            n = self.inflight.get(host, 0) + 1
            self.inflight[host] = n
            self.max_inflight[host] = max(n, self.max_inflight.get(host, 0))
            if host in self.last_end and n == 1:
                gap = now - self.last_end[host]
                self.min_gap[host] = min(gap, self.min_gap.get(host, gap))
            if path.startswith("/feeds/"):
                self.first_poll.setdefault(host + path, now)
            self.robots += path == "/robots.txt"

    def end(self, host: str, status: int, now: float) -> None:
        with self.lock:
            self.inflight[host] -= 1
            self.last_end[host] = now
            self.status[status] = self.status.get(status, 0) + 1

    def snapshot(self) -> dict:
        with self.lock:
            gaps = list(self.min_gap.values())
            return {"hosts_seen": len(self.max_inflight), "max_inflight": max(self.max_inflight.values(), default=0),
                    "hosts_over_1_inflight": sum(v > 1 for v in self.max_inflight.values()),
                    "min_gap_s": min(gaps) if gaps else None, "gaps": gaps, "robots": self.robots,
                    "first_poll": sorted(self.first_poll.values()), "status": self.status}


def _handler(shape: Shape, sentences: list, tally: _Tally, started: float):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path == STATS_PATH:
                return self._send(200, json.dumps(tally.snapshot()).encode(), "application/json")
            parts = urlsplit(self.path)
            host, path = parts.hostname or "", parts.path or "/"
            tally.begin(host, path, time.monotonic())
            self._host, self._ended = host, False
            try:
                self._answer(host, path)
            except OSError:  # the client gave up (its read timeout) and hung up
                if not self._ended:
                    tally.end(host, "hung_up", time.monotonic())

        def _answer(self, host: str, path: str) -> int:
            index = int(host[1:6]) if host.startswith("h") and host.endswith(DOMAIN) else -1
            kind = host_kind(shape, index)
            time.sleep(_unit("latency", host, path, time.monotonic()) * 2 * shape.base_ms / 1000)
            if kind == "slow":
                time.sleep(shape.slow_ms / 1000)
            elif kind == "hang":
                time.sleep(shape.hang_s)
            if path == "/robots.txt":
                return self._send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
            if kind == "fail":
                return self._send(503, b"unavailable", "text/plain")
            if path.startswith("/feeds/"):
                feed = int(path[len("/feeds/"):-len(".xml")])
                version = feed_version(shape, feed, time.time() - started)
                etag = f'"{feed}-{version}"'
                modified = email.utils.formatdate(1_767_225_600 + version * shape.change_s, usegmt=True)
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", None, {"ETag": etag, "Last-Modified": modified})
                return self._send(200, feed_body(shape, feed, version), "application/rss+xml; charset=utf-8",
                                  {"ETag": etag, "Last-Modified": modified})
            if path.startswith("/a/"):
                feed, n = path[len("/a/"):-len(".html")].split("/")
                return self._send(200, page_body(shape, sentences, int(feed), int(n)), "text/html; charset=utf-8")
            return self._send(404, b"not found", "text/plain")

        def _send(self, status: int, body: bytes, ctype, extra=None) -> int:
            if self.path != STATS_PATH:
                # Ended before the first byte goes out: the client cannot send its next request to
                # the host before it has this answer, so neither count can be off by a late thread.
                tally.end(self._host, status, time.monotonic())
                self._ended = True
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            return status

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass  # clients that time out and hang up are part of the simulation


def _serve(shape: Shape, sentences: list, conn) -> None:
    server = _Server(("127.0.0.1", 0), _handler(shape, sentences, _Tally(), time.time()))
    conn.send(server.server_address[1])
    server.serve_forever()


class SimWeb:
    """The simulated web, served from a child process; use as a context manager."""

    def __init__(self, shape: Shape, sentences: list):
        self.shape = shape
        self._sentences = sentences
        self._process = None
        self.port = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "SimWeb":
        parent, child = multiprocessing.get_context("fork").Pipe()
        self._process = multiprocessing.get_context("fork").Process(
            target=_serve, args=(self.shape, self._sentences, child), daemon=True)
        self._process.start()
        self.port = parent.recv()
        return self

    def stats(self) -> dict:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never an environment proxy
        with opener.open(self.url + STATS_PATH, timeout=60) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
