"""robots.txt: rules, crawl delay, failures read as allow or disallow, the cap (transforms/fetch/robots.py)."""
from __future__ import annotations

import logging
import socket

import pytest

from schemas.settings import FetchLimits
from tests.support.hostile_server import HostileServer, compress, redirect, respond, unframed
from tests.transforms.fetch.conftest import fails
from transforms.fetch import robots

# --- robots.txt -----------------------------------------------------------------------------

ROBOTS = b"""User-agent: *
Disallow: /

User-agent: wiredesk
Disallow: /private
Crawl-delay: 100
"""


def test_robots_rules_for_our_agent_are_cached_and_enforced(server, fetcher_for):
    server.route("/robots.txt", respond(200, ROBOTS, {"Content-Type": "text/plain"}))
    server.route("/news", respond(200, b"story"))
    fetcher = fetcher_for(respect_robots=True, max_crawl_delay_s=0.2)
    assert fetcher.robots(server.url + "/news") == (True, 0.2)
    assert fetcher.robots(server.url + "/private/x") == (False, 0.2)
    assert fetcher.get(server.url + "/news").body == b"story"
    err = fails(fetcher, server.url + "/private/x")
    assert err.reason == "robots_disallowed"
    assert server.hits("/robots.txt") == 1 and server.hits("/private/x") == 0
    assert server.requests[0].headers["User-Agent"] == FetchLimits().user_agent


def test_crawl_delay_spaces_requests(server, fetcher_for):
    server.route("/robots.txt", respond(200, b"User-agent: *\nCrawl-delay: 0.25\n"))
    server.route("/p", respond(200, b"ok"))
    fetcher = fetcher_for(respect_robots=True)
    for _ in range(3):
        fetcher.get(server.url + "/p")
    times = [r.at for r in server.requests if r.target == "/p"]
    assert all(b - a >= 0.23 for a, b in zip(times, times[1:]))


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_robots_client_error_allows_all(server, fetcher_for, status):
    server.route("/robots.txt", respond(status, b"nope"))
    assert fetcher_for(respect_robots=True).robots(server.url + "/any") == (True, 0.0)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_robots_server_error_disallows_all(server, fetcher_for, status):
    server.route("/robots.txt", respond(status, b"down"))
    fetcher = fetcher_for(respect_robots=True, max_retries=0)
    assert fetcher.robots(server.url + "/any") == (False, 0.0)
    assert fails(fetcher, server.url + "/any").reason == "robots_disallowed"


def test_robots_network_failure_disallows_all(fetcher_for):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    assert fetcher_for(respect_robots=True).robots(f"http://127.0.0.1:{port}/a") == (False, 0.0)


def test_robots_redirect_is_followed(server, fetcher_for):
    server.route("/robots.txt", redirect("/real-robots.txt", 301))
    server.route("/real-robots.txt", respond(200, b"User-agent: *\nDisallow: /x\n"))
    fetcher = fetcher_for(respect_robots=True)
    assert fetcher.robots(server.url + "/x") == (False, 0.0)
    assert fetcher.robots(server.url + "/y") == (True, 0.0)


def test_oversized_robots_is_cut_at_the_cap(server, fetcher_for):
    head = b"User-agent: *\nDisallow: /early\n"
    padding = b"# " + b"p" * 2000 + b"\n"
    body = head + padding + b"Disallow: /late\n"
    server.route("/robots.txt", unframed(compress(body, "gzip"), {"Content-Encoding": "gzip"}))
    fetcher = fetcher_for(respect_robots=True, max_robots_bytes=1024)
    assert fetcher.robots(server.url + "/early") == (False, 0.0)
    assert fetcher.robots(server.url + "/late") == (True, 0.0)


def test_robots_not_fetched_when_disabled(server, fetcher_for):
    assert fetcher_for(respect_robots=False).robots(server.url + "/a") == (True, 0.0)
    assert server.requests == []


def test_unreadable_robots_is_logged_once_per_origin(server, fetcher_for, caplog, monkeypatch):
    # The feed poller and the page fetcher each have a Fetcher, and each reads robots.txt itself.
    monkeypatch.setattr(robots, "_LOGGED_UNREADABLE", set())  # forget origins earlier tests logged
    caplog.set_level(logging.INFO, logger=robots.__name__)
    server.route("/robots.txt", respond(503, b"down"))
    poller, pages = (fetcher_for(respect_robots=True, max_retries=0) for _ in range(2))
    assert poller.robots(server.url + "/feed") == pages.robots(server.url + "/a") == (False, 0.0)
    assert pages.robots(server.url + "/b") == (False, 0.0)
    with HostileServer({"/robots.txt": respond(404, b"")}) as other:
        assert poller.robots(other.url + "/feed") == pages.robots(other.url + "/a") == (True, 0.0)
    # Each fetcher still reads robots.txt (the answers are per fetcher); only the log line is shared.
    assert server.hits("/robots.txt") == 2
    lines = [r.getMessage() for r in caplog.records if r.name == robots.__name__]
    assert lines == [f"robots.txt of {server.url} unreadable (http_503): disallow all",
                     f"robots.txt of {other.url} unreadable (http_404): allow all"]
