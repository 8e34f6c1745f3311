"""Fetcher against real misbehaving HTTP servers on 127.0.0.1 (no network, no mocks of urllib3)."""
from __future__ import annotations

import email.utils
import pickle
import socket
import threading
import time

import pytest

from schemas.errors import Failure
from schemas.settings import FetchLimits
from transforms.fetch.client import FetchError, Fetcher, is_public_address, parse_ip_literal

from tests.hostile.dns import FakeDNS
from tests.hostile_server import (
    HostileServer,
    closed_port,
    compress,
    encoded,
    endless,
    endless_chunked,
    full_accept_queue,
    hang,
    lying_length,
    raw_response,
    redirect,
    respond,
    self_signed_tls,
    sequence,
    slow_headers,
    trickle,
    unframed,
)

# Small numbers keep the whole file fast; each test overrides what it exercises.
FAST = dict(
    allow_private_networks=True,
    respect_robots=False,
    connect_timeout_s=1.0,
    read_timeout_s=1.0,
    total_deadline_s=3.0,
    max_retries=2,
    backoff_base_s=0.01,
    backoff_cap_s=0.05,
    max_retry_after_s=2.0,
)


def limits(**changes) -> FetchLimits:
    return FetchLimits(**{**FAST, **changes})


@pytest.fixture
def server():
    with HostileServer() as srv:
        yield srv


@pytest.fixture
def fetcher_for():
    made = []

    def make(**changes) -> Fetcher:
        made.append(Fetcher(limits(**changes)))
        return made[-1]

    yield make
    for fetcher in made:
        fetcher.close()


@pytest.fixture
def fake_dns(monkeypatch):
    dns = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", dns.getaddrinfo)
    return dns


def fails(fetcher: Fetcher, url: str, **kwargs) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetcher.get(url, **kwargs)
    return info.value


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


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate", "br"])
def test_compressed_bodies_are_decoded(server, fetcher_for, encoding):
    payload = b"<p>wire story</p>" * 5000
    server.route("/c", encoded(payload, encoding))
    assert fetcher_for().get(server.url + "/c").body == payload


def test_unsupported_content_encoding_is_decode_error(server, fetcher_for):
    server.route("/z", respond(200, b"\x28\xb5\x2f\xfd", {"Content-Encoding": "zstd"}))
    err = fails(fetcher_for(), server.url + "/z")
    assert err.reason == "decode_error"


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


# --- SSRF guard -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "2130706433", "0x7f.1", "127.1", "[::ffff:127.0.0.1]", "0.0.0.0", "[::1]"],
)
def test_default_limits_block_loopback_in_every_spelling(server, host):
    with Fetcher(FetchLimits()) as fetcher:
        err = fails(fetcher, f"http://{host}:{server.port}/secret")
    assert err.reason == "ssrf_blocked"
    assert server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://240.0.0.1/",
    ],
)
def test_default_limits_block_private_and_metadata_targets(url):
    with Fetcher(FetchLimits()) as fetcher:
        assert fails(fetcher, url).reason == "ssrf_blocked"


def test_address_classification():
    assert parse_ip_literal("0x7f000001") == parse_ip_literal("127.0.0.1")
    assert parse_ip_literal("example.com") is None
    public = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:8.8.8.8"]
    assert all(is_public_address(parse_ip_literal(ip)) for ip in public)


@pytest.mark.parametrize("respect_robots", [True, False])
def test_name_resolving_to_loopback_is_blocked_at_connect(server, fake_dns, respect_robots):
    fake_dns["rebind.example"] = ["127.0.0.1"]
    fake_dns["mixed.example"] = ["93.184.216.34", "127.0.0.1"]
    with Fetcher(FetchLimits(respect_robots=respect_robots)) as fetcher:
        assert fails(fetcher, f"http://rebind.example:{server.port}/").reason == "ssrf_blocked"
        assert fails(fetcher, f"http://mixed.example:{server.port}/").reason == "ssrf_blocked"
    assert server.requests == []


def test_dns_rebinding_cannot_swap_the_address_after_the_check(server, fake_dns):
    # First answer public, later answers loopback: the fetcher must connect to what it checked.
    answers = iter([["93.184.216.34"]] + [["127.0.0.1"]] * 10)
    fake_dns["rebind.example"] = lambda: next(answers)
    with Fetcher(FetchLimits(connect_timeout_s=0.3, total_deadline_s=1.0, respect_robots=False)) as fetcher:
        err = fails(fetcher, f"http://rebind.example:{server.port}/")
    assert err.reason in ("connect_timeout", "connection_error", "timeout")
    assert fake_dns.calls.count("rebind.example") == 1
    assert server.requests == []


def test_connects_to_resolved_address_keeping_host_header(server, fetcher_for, fake_dns):
    fake_dns["outlet.example"] = ["127.0.0.1"]
    server.route("/a", respond(200, b"ok"))
    result = fetcher_for().get(f"http://outlet.example:{server.port}/a")
    assert result.body == b"ok"
    assert server.requests[0].headers["Host"] == f"outlet.example:{server.port}"


# --- forward proxy --------------------------------------------------------------------------


def test_proxy_resolves_names_for_us_with_default_limits(server):
    server.route("http://outlet.example/a", respond(200, b"via proxy"))
    with Fetcher(FetchLimits(proxy=server.url, respect_robots=False)) as fetcher:
        result = fetcher.get("http://outlet.example/a")
    assert result.body == b"via proxy"
    assert server.requests[0].target == "http://outlet.example/a"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://2130706433/x",
        "http://localhost/x",
        "http://metadata.google.internal/x",
        "http://169.254.169.254/x",
        "http://[::1]/x",
    ],
)
def test_proxy_still_refuses_private_literals_and_local_names(server, url):
    with Fetcher(FetchLimits(proxy=server.url, respect_robots=False)) as fetcher:
        assert fails(fetcher, url).reason == "ssrf_blocked"
    assert server.requests == []


def test_every_redirect_hop_is_rechecked(server):
    server.route("http://outlet.example/r", redirect("http://169.254.169.254/latest/meta-data/"))
    with Fetcher(FetchLimits(proxy=server.url, respect_robots=False)) as fetcher:
        assert fails(fetcher, "http://outlet.example/r").reason == "ssrf_blocked"
    assert [r.target for r in server.requests] == ["http://outlet.example/r"]


# --- size caps ------------------------------------------------------------------------------


def test_honest_oversized_content_length_is_refused(server, fetcher_for):
    server.route("/big", respond(200, b"x" * 5000))
    err = fails(fetcher_for(max_body_bytes=1000), server.url + "/big")
    assert (err.reason, err.attempts) == ("body_too_large", 1)


@pytest.mark.parametrize("action", [endless(), endless_chunked()], ids=["no-length", "chunked"])
def test_endless_body_without_length_is_cut(server, fetcher_for, action):
    server.route("/big", action)
    assert fails(fetcher_for(max_body_bytes=200_000), server.url + "/big").reason == "body_too_large"


def test_max_bytes_argument_overrides_the_default(server, fetcher_for):
    server.route("/page", unframed(b"y" * 3000))
    fetcher = fetcher_for(max_body_bytes=10_000)
    assert len(fetcher.get(server.url + "/page").body) == 3000
    assert fails(fetcher, server.url + "/page", max_bytes=1000).reason == "body_too_large"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_decompression_bomb_is_refused(server, fetcher_for, encoding):
    bomb = compress(b"\0" * (20 * 1024 * 1024), encoding)
    server.route("/bomb", respond(200, bomb, {"Content-Encoding": encoding}))
    fetcher = fetcher_for(max_body_bytes=1024 * 1024, max_decoded_bytes=1024 * 1024)
    assert len(bomb) < 1024 * 1024
    assert fails(fetcher, server.url + "/bomb").reason == "body_too_large"


# --- truncation -----------------------------------------------------------------------------


def test_body_shorter_than_content_length_is_retried_then_data_loss(server, fetcher_for):
    server.route("/cut", lying_length(b"abc", 100))
    err = fails(fetcher_for(max_retries=2), server.url + "/cut")
    assert (err.reason, err.attempts) == ("data_loss", 3)
    assert server.hits("/cut") == 3


def test_truncation_recovers_on_retry(server, fetcher_for):
    server.route("/cut", sequence(lying_length(b"abc", 100), respond(200, b"whole body")))
    result = fetcher_for().get(server.url + "/cut")
    assert (result.body, result.attempts) == (b"whole body", 2)


def test_truncated_gzip_is_data_loss(server, fetcher_for):
    stream = compress(b"story " * 10000, "gzip")
    server.route("/gz", respond(200, stream[: len(stream) // 2], {"Content-Encoding": "gzip"}))
    err = fails(fetcher_for(max_retries=1), server.url + "/gz")
    assert (err.reason, err.attempts) == ("data_loss", 2)


def test_truncated_chunked_body_is_data_loss(server, fetcher_for):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    server.route("/ch", raw_response(head + b"5\r\nhello\r\n10\r\nonly"))
    assert fails(fetcher_for(max_retries=0), server.url + "/ch").reason == "data_loss"


# --- timeouts -------------------------------------------------------------------------------


def test_trickling_body_hits_the_total_deadline(server, fetcher_for):
    server.route("/slow", trickle(b"x" * 100, interval=0.2))
    started = time.monotonic()
    err = fails(fetcher_for(total_deadline_s=1.0, read_timeout_s=0.5), server.url + "/slow")
    assert err.reason == "timeout"
    assert time.monotonic() - started < 2.0


def test_trickling_headers_hit_the_total_deadline(server, fetcher_for):
    server.route("/slow", slow_headers(interval=0.05))
    started = time.monotonic()
    err = fails(fetcher_for(total_deadline_s=1.0, read_timeout_s=0.5), server.url + "/slow")
    assert err.reason == "timeout"
    assert time.monotonic() - started < 2.0


def test_silent_server_is_read_timeout(server, fetcher_for):
    server.route("/hang", hang(3))
    err = fails(fetcher_for(read_timeout_s=0.3), server.url + "/hang")
    assert (err.reason, err.attempts) == ("read_timeout", 1)


def test_full_accept_queue_is_connect_timeout(fetcher_for):
    port, sockets = full_accept_queue()
    try:
        err = fails(fetcher_for(connect_timeout_s=0.3), f"http://127.0.0.1:{port}/")
        assert err.reason == "connect_timeout"
    finally:
        for sock in sockets:
            sock.close()


def test_refused_connection_is_connection_error(fetcher_for):
    err = fails(fetcher_for(), f"http://127.0.0.1:{closed_port()}/")
    assert err.reason == "connection_error"


def test_unresolvable_name_is_dns_error(fetcher_for):
    assert fails(fetcher_for(), "http://no-such-host.invalid/").reason == "dns_error"


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


# --- TLS ------------------------------------------------------------------------------------


@pytest.fixture
def tls(tmp_path):
    return self_signed_tls(["outlet.example"], tmp_path)


def test_untrusted_certificate_is_tls_error_and_not_retried(tls, fetcher_for, fake_dns):
    context, _ = tls
    fake_dns["outlet.example"] = ["127.0.0.1"]
    with HostileServer({"/a": respond(200, b"secret")}, tls=context) as srv:
        err = fails(fetcher_for(), f"https://outlet.example:{srv.port}/a")
        assert (err.reason, err.attempts) == ("tls_error", 1)
        assert srv.requests == []


def test_tls_verifies_the_url_name_while_connecting_to_the_checked_ip(tls, fetcher_for, fake_dns, monkeypatch):
    context, ca_path = tls
    monkeypatch.setenv("SSL_CERT_FILE", ca_path)  # trust the throwaway CA, the way operators add a private CA
    sni: list = []
    context.sni_callback = lambda sock, name, ctx: sni.append(name)
    fake_dns["outlet.example"] = ["127.0.0.1"]
    fake_dns["other.example"] = ["127.0.0.1"]
    with HostileServer({"/a": respond(200, b"tls ok")}, tls=context) as srv:
        fetcher = fetcher_for()
        assert fetcher.get(f"https://outlet.example:{srv.port}/a").body == b"tls ok"
        assert sni[0] == "outlet.example"
        assert srv.requests[0].headers["Host"] == f"outlet.example:{srv.port}"
        # Same server, same IP, but the certificate does not name other.example.
        assert fails(fetcher, f"https://other.example:{srv.port}/a").reason == "tls_error"


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


# --- the error type -------------------------------------------------------------------------


def test_fetch_error_survives_pickling(server, fetcher_for):
    server.route("/busy", respond(503, b"", {"Retry-After": "999"}))
    err = fails(fetcher_for(), server.url + "/busy")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.reason, copy.message, copy.attempts, copy.status, copy.retry_after_s) == (
        err.reason,
        err.message,
        err.attempts,
        503,
        999.0,
    )


def test_fetch_error_is_a_failure_with_reason_and_message():
    err = FetchError("http_404", "HTTP 404", status=404)
    assert isinstance(err, Failure)
    assert (err.reason, err.message, err.status, err.attempts) == ("http_404", "HTTP 404", 404, 0)
    assert str(err) == "http_404: HTTP 404"
    assert FetchError("dns_error").message == "dns_error"  # the reason stands in for a missing message
