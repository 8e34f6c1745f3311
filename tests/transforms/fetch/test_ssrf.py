"""The SSRF guard: blocked names and addresses, DNS answers, and the proxy (transforms/fetch/ssrf.py)."""
from __future__ import annotations

import pytest

from schemas.settings import FetchLimits
from tests.support.hostile_server import redirect, respond
from tests.transforms.fetch.conftest import fails
from transforms.fetch.client import Fetcher
from transforms.fetch.errors import parse_ip_literal
from transforms.fetch.ssrf import is_public_address

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
