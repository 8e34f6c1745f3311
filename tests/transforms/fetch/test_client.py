"""Fetcher: plain GETs, redirects, retries, politeness slots and the circuit breaker (transforms/fetch/client.py)."""
from __future__ import annotations

import email.utils
import threading
import time

import pytest

from schemas.settings import FetchLimits
from tests.support.hostile_server import HostileServer, redirect, respond, sequence
from tests.transforms.fetch.conftest import fails

# --- plain fetching -------------------------------------------------------------------------


def test_get_returns_body_headers_and_content_type(server, fetcher_for):
    server.route("/a", respond(200, b"hello", {"Content-Type": 'text/html; charset="ISO-8859-1"', "X-Thing": "1"}))
    result = fetcher_for().get(server.url + "/a")
    assert (result.status, result.body, result.attempts) == (200, b"hello", 1)
    assert result.final_url == result.url == server.url + "/a"
    assert result.content_type == "text/html" and result.charset == "iso-8859-1"
    assert result.headers["x-thing"] == "1" and all(name == name.lower() for name in result.headers)
    sent = server.requests[0].headers
    assert sent["User-Agent"] == FetchLimits().user_agent
    assert sent["Accept-Encoding"] == "gzip, deflate, br"



def test_conditional_get_returns_304(server, fetcher_for):
    def etagged(ex):
        if ex.handler.headers.get("If-None-Match") == '"v1"':
            ex.send(304, b"", {"ETag": '"v1"'})
        else:
            ex.send(200, b"feed", {"ETag": '"v1"'})

    server.route("/feed", etagged)
    fetcher = fetcher_for()
    first = fetcher.get(server.url + "/feed")
    second = fetcher.get(server.url + "/feed", headers={"If-None-Match": first.headers["etag"]})
    assert (first.status, second.status, second.body) == (200, 304, b"")


# --- redirects ------------------------------------------------------------------------------


def test_relative_and_absolute_redirects_are_followed(server, fetcher_for):
    server.route("/a", redirect("/b", 301))
    server.route("/b", redirect(server.url + "/c", 308))
    server.route("/c", respond(200, b"done"))
    result = fetcher_for().get(server.url + "/a")
    assert (result.body, result.final_url, result.url) == (b"done", server.url + "/c", server.url + "/a")


def test_too_many_redirects(server, fetcher_for):
    for i in range(10):
        server.route(f"/r{i}", redirect(f"/r{i + 1}"))
    err = fails(fetcher_for(max_redirects=3), server.url + "/r0")
    assert err.reason == "too_many_redirects"
    assert server.hits("/r3") == 1 and server.hits("/r4") == 0


def test_redirect_loop_is_detected(server, fetcher_for):
    server.route("/a", redirect("/b"))
    server.route("/b", redirect("/a"))
    err = fails(fetcher_for(max_redirects=20), server.url + "/a")
    assert err.reason == "too_many_redirects" and server.hits("/a") == 1


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "data:text/html,<p>x</p>", "ftp://example.com/x", "javascript:alert(1)"]
)
def test_redirect_to_non_http_scheme_is_bad_scheme(server, fetcher_for, location):
    server.route("/a", redirect(location))
    assert fails(fetcher_for(), server.url + "/a").reason == "bad_scheme"


def test_bad_scheme_and_overlong_url_are_refused_without_a_request(server, fetcher_for):
    fetcher = fetcher_for(max_url_length=100)
    assert fails(fetcher, "file:///etc/passwd").reason == "bad_scheme"
    long_url = server.url + "/" + "a" * 200
    err = fails(fetcher, long_url)
    assert (err.reason, err.attempts) == ("url_too_long", 0)
    assert server.requests == []


def test_credentials_are_dropped_on_cross_origin_redirect(fetcher_for):
    with HostileServer() as first, HostileServer() as second:
        second.route("/b", respond(200, b"ok"))
        first.route("/a", redirect(second.url + "/b"))
        fetcher_for().get(first.url + "/a", headers={"Authorization": "Bearer s3cret", "X-Keep": "1"})
        assert first.requests[0].headers["Authorization"] == "Bearer s3cret"
        assert "Authorization" not in second.requests[0].headers
        assert second.requests[0].headers["X-Keep"] == "1"



# --- retries --------------------------------------------------------------------------------


def test_503_retry_after_seconds_is_honoured(server, fetcher_for):
    server.route("/busy", sequence(respond(503, b"", {"Retry-After": "1"}), respond(200, b"ok")))
    result = fetcher_for().get(server.url + "/busy")
    first, second = server.requests
    assert (result.body, result.attempts) == (b"ok", 2)
    assert second.at - first.at >= 0.9


def test_429_retry_after_http_date_is_honoured(server, fetcher_for):
    soon = email.utils.formatdate(time.time() - 5, usegmt=True)  # already past: retry at once
    server.route("/busy", sequence(respond(429, b"", {"Retry-After": soon}), respond(200, b"ok")))
    assert fetcher_for().get(server.url + "/busy").attempts == 2


@pytest.mark.parametrize(
    "status,retry_after",
    [(429, "120"), (503, email.utils.formatdate(time.time() + 3600, usegmt=True))],
)
def test_retry_after_above_cap_gives_up_at_once(server, fetcher_for, status, retry_after):
    server.route("/busy", respond(status, b"", {"Retry-After": retry_after}))
    err = fails(fetcher_for(max_retry_after_s=5), server.url + "/busy")
    assert (err.reason, err.attempts) == (f"http_{status}", 1)
    assert err.retry_after_s > 5
    assert server.hits("/busy") == 1


def test_5xx_is_retried_with_growing_backoff(server, fetcher_for):
    server.route("/err", respond(500, b"oops"))
    err = fails(fetcher_for(max_retries=3, backoff_base_s=0.1, backoff_cap_s=1.0), server.url + "/err")
    assert (err.reason, err.attempts, err.status) == ("http_500", 4, 500)
    times = [r.at for r in server.requests]
    gaps = [b - a for a, b in zip(times, times[1:])]
    # Equal jitter: each wait lies in [ceiling/2, ceiling] with ceilings 0.1, 0.2, 0.4.
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2
    assert gaps[2] < 0.6


def test_5xx_then_success(server, fetcher_for):
    server.route("/flaky", sequence(respond(502), respond(504), respond(200, b"ok")))
    assert fetcher_for().get(server.url + "/flaky").attempts == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_4xx_is_final(server, fetcher_for, status):
    server.route("/gone", respond(status, b"no"))
    err = fails(fetcher_for(), server.url + "/gone")
    assert (err.reason, err.attempts) == (f"http_{status}", 1)
    assert server.hits("/gone") == 1



# --- politeness -----------------------------------------------------------------------------


def test_min_host_gap_spaces_requests(server, fetcher_for):
    server.route("/p", respond(200, b"ok"))
    fetcher = fetcher_for(min_host_gap_s=0.2)
    for _ in range(3):
        fetcher.get(server.url + "/p")
    times = [r.at for r in server.requests]
    assert all(b - a >= 0.18 for a, b in zip(times, times[1:]))


def test_host_gap_holds_across_threads(server, fetcher_for):
    server.route("/p", respond(200, b"ok"))
    fetcher = fetcher_for(min_host_gap_s=0.1)
    threads = [threading.Thread(target=fetcher.get, args=(server.url + "/p",)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = sorted(r.at for r in server.requests)
    assert len(times) == 5
    assert all(b - a >= 0.08 for a, b in zip(times, times[1:]))


def test_many_threads_share_one_fetcher(server, fetcher_for):
    for i in range(8):
        server.route(f"/t{i}", respond(200, b"body %d" % i))
    fetcher = fetcher_for()
    results: dict = {}

    def work(i: int) -> None:
        results[i] = [fetcher.get(f"{server.url}/t{i}").body for _ in range(5)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: [b"body %d" % i] * 5 for i in range(8)}


def test_circuit_breaker_opens_after_consecutive_failures(server, fetcher_for):
    server.route("/down", respond(500))
    fetcher = fetcher_for(max_retries=0, circuit_breaker_failures=3)
    reasons = [fails(fetcher, server.url + "/down").reason for _ in range(3)]
    assert reasons == ["http_500"] * 3
    err = fails(fetcher, server.url + "/other")
    assert (err.reason, err.attempts) == ("host_unavailable", 0)
    assert server.hits("/down") == 3 and server.hits("/other") == 0


def test_success_resets_the_circuit_breaker(server, fetcher_for):
    server.route("/down", respond(500))
    server.route("/up", respond(200, b"ok"))
    fetcher = fetcher_for(max_retries=0, circuit_breaker_failures=2)
    for _ in range(3):
        fails(fetcher, server.url + "/down")
        fetcher.get(server.url + "/up")  # never two failures in a row
    assert fails(fetcher, server.url + "/down").reason == "http_500"


def test_waiting_for_a_politeness_slot_does_not_trip_the_breaker(server, fetcher_for):
    server.route("/p", respond(200, b"ok"))
    fetcher = fetcher_for(min_host_gap_s=0.6, total_deadline_s=0.3, circuit_breaker_failures=1)
    fetcher.get(server.url + "/p")
    err = fails(fetcher, server.url + "/p")
    assert (err.reason, err.attempts) == ("timeout", 0)
    time.sleep(0.6)
    assert fetcher.get(server.url + "/p").status == 200


def test_not_found_does_not_trip_the_breaker(server, fetcher_for):
    fetcher = fetcher_for(circuit_breaker_failures=2)
    for _ in range(3):
        assert fails(fetcher, server.url + "/missing").reason == "http_404"
