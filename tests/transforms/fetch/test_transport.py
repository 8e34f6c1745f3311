"""Failing connections: deadlines (transforms/fetch/watchdog.py), timeouts, refusals, DNS and TLS errors."""
from __future__ import annotations

import time

import pytest

from tests.support.hostile_server import (
    HostileServer,
    closed_port,
    full_accept_queue,
    hang,
    respond,
    self_signed_tls,
    slow_headers,
    trickle,
)
from tests.transforms.fetch.conftest import fails

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
