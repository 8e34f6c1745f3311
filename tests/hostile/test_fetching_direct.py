"""Issue 5, fetching without a proxy: SSRF at connect time (DNS), TLS, connect failures, DNS failure.

Two pipeline runs, each with its rerun:
- without any opt-in, feed hosts whose names resolve to loopback (or rebind to it) are refused and
  the local server never sees a request;
- with the explicit --allow_private_networks opt-in (the only way tests reach loopback), TLS
  failures, a full accept queue, a refused port and an unresolvable name are each recorded.
"""
from __future__ import annotations

import os

import pytest

from tests.hostile.web import article_html, check_balanced, rss, two_runs
from tests.support.dns import FakeDNS
from tests.support.hostile_server import HostileServer, closed_port, full_accept_queue, respond, self_signed_tls

HTML = {"Content-Type": "text/html; charset=utf-8"}
# A global IPv6 address this machine has no route to: connecting fails without reaching anything.
UNROUTABLE_PUBLIC_V6 = "2001:4860:4860::8888"


@pytest.fixture(scope="module")
def unguarded(tmp_path_factory):
    """No proxy, no opt-in: every feed URL is an SSRF attempt at the read_feeds stage."""
    tmp = tmp_path_factory.mktemp("unguarded")
    with HostileServer() as server, FakeDNS() as dns:
        feed = rss([{"title": "x", "link": "http://news.example/a"}])
        server.route("/feed.xml", respond(200, feed, {"Content-Type": "application/rss+xml"}))
        port = server.port
        dns["loopback-name.example"] = ["127.0.0.1"]
        dns["mixed.example"] = ["93.184.216.34", "127.0.0.1"]  # one bad answer taints the name
        answers = iter([[UNROUTABLE_PUBLIC_V6]] + [["127.0.0.1"]] * 50)
        dns["rebind.example"] = lambda: next(answers)
        feeds = {
            "loopback-name": f"http://loopback-name.example:{port}/feed.xml",
            "mixed": f"http://mixed.example:{port}/feed.xml",
            "rebind": f"http://rebind.example:{port}/feed.xml",
            "literal": f"http://127.0.0.1:{port}/feed.xml",
            "gce": "http://metadata.google.internal/computeMetadata/v1/instance/",
            "aws": "http://169.254.169.254/latest/meta-data/",
        }
        runs = two_runs(tmp, list(feeds.values()))
        runs.update(server=server, feeds=feeds, dns=dns)
        yield runs


def test_names_resolving_to_loopback_are_refused_at_connect(unguarded):
    feeds, dead = unguarded["feeds"], unguarded["dead"]
    for name in ("loopback-name", "mixed", "literal", "gce", "aws"):
        assert dead[feeds[name]] == ("read_feeds", "ssrf_blocked"), name
    # Only the opt-in reaches loopback: the local server never saw a request.
    assert unguarded["server"].requests == []


def test_dns_rebinding_cannot_swap_the_checked_address(unguarded):
    # The first answer (public) was checked and connected to; the later loopback answers were never
    # used for that connection, and the next connection checked them and refused.
    stage, reason = unguarded["dead"][unguarded["feeds"]["rebind"]]
    assert stage == "read_feeds" and reason in ("connect_timeout", "connection_error", "ssrf_blocked")
    assert unguarded["server"].requests == []


def test_metadata_names_are_refused_without_even_resolving(unguarded):
    assert "metadata.google.internal" not in unguarded["dns"].calls


def test_unguarded_rerun_changes_nothing_but_the_rebound_name(unguarded):
    from tests.hostile.web import table

    check_balanced(unguarded["first"])
    check_balanced(unguarded["second"])
    assert len(unguarded["after_first"]["dead_letters"]) == len(unguarded["feeds"])
    # By the rerun the rebinding name answers loopback: that poll is refused, a new reason for the
    # same feed (dead letters are keyed by reason); every other row is unchanged.
    rebind = unguarded["feeds"]["rebind"]
    reasons = sorted(r[0] for r in table(unguarded["warehouse"],
                                         f"SELECT error_class FROM dead_letters WHERE feed_url = '{rebind}'"))
    assert reasons[-1] == "ssrf_blocked" and len(reasons) == 2
    assert set(unguarded["after_first"]["dead_letters"]) < set(unguarded["after_second"]["dead_letters"])
    assert len(unguarded["after_second"]["dead_letters"]) == len(unguarded["feeds"]) + 1


@pytest.fixture(scope="module")
def opted_in(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("opted_in")
    good_ctx, good_ca = self_signed_tls(["good.example"], _mkdir(tmp / "good"))
    expired_ctx, expired_ca = self_signed_tls(["expired.example"], _mkdir(tmp / "expired"), expired=True)
    rogue_ctx, _ = self_signed_tls(["selfsigned.example"], _mkdir(tmp / "rogue"))  # its CA is not trusted
    bundle = tmp / "trusted.pem"
    bundle.write_text(open(good_ca).read() + open(expired_ca).read())
    previous = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(bundle)  # the operator's private CAs; the rogue one is not among them
    port_full, sockets = full_accept_queue()
    page = lambda name: respond(200, article_html(f"TLS story {name}", name).encode(), HTML)  # noqa: E731
    try:
        with HostileServer() as feeds, FakeDNS() as dns, \
                HostileServer({"/a": page("good")}, tls=good_ctx) as good, \
                HostileServer({"/a": page("expired")}, tls=expired_ctx) as expired, \
                HostileServer({"/a": page("rogue")}, tls=rogue_ctx) as rogue:
            for name in ("good.example", "expired.example", "selfsigned.example"):
                dns[name] = ["127.0.0.1"]
            links = {
                "good": f"https://good.example:{good.port}/a",
                "expired": f"https://expired.example:{expired.port}/a",
                "self_signed": f"https://selfsigned.example:{rogue.port}/a",
                "connect_timeout": f"http://127.0.0.1:{port_full}/a",
                "refused": f"http://127.0.0.1:{closed_port()}/a",
                "dns": "http://no-such-host.invalid/a",
            }
            feeds.route("/feed.xml", respond(200, rss([{"title": k, "link": v} for k, v in links.items()]),
                                             {"Content-Type": "application/rss+xml"}))
            runs = two_runs(tmp, [feeds.url + "/feed.xml"], allow_private=True)
            runs.update(links=links, servers={"good": good, "expired": expired, "rogue": rogue})
            yield runs
    finally:
        for sock in sockets:
            sock.close()
        if previous is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = previous


def _mkdir(path):
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_expired_and_self_signed_certificates_are_tls_errors_never_retried(opted_in):
    links, dead = opted_in["links"], opted_in["dead"]
    assert dead[links["expired"]] == ("fetch", "tls_error")
    assert dead[links["self_signed"]] == ("fetch", "tls_error")
    # Not one HTTP request reached them: no retry without verification, no robots.txt either.
    assert opted_in["servers"]["expired"].requests == []
    assert opted_in["servers"]["rogue"].requests == []
    # The same TLS path with a trusted, valid certificate works.
    assert links["good"] in opted_in["articles"]


def test_connect_timeout_refused_port_and_dns_failure_are_recorded(opted_in):
    links, dead = opted_in["links"], opted_in["dead"]
    assert dead[links["connect_timeout"]] == ("fetch", "connect_timeout")
    assert dead[links["refused"]] == ("fetch", "connection_error")
    assert dead[links["dns"]] == ("fetch", "dns_error")


def test_opted_in_run_balances_and_rerun_changes_nothing(opted_in):
    cons = check_balanced(opted_in["first"])
    assert cons["entries"] == 6 and cons["articles"] == 1 and cons["dead_letters"] == 5
    check_balanced(opted_in["second"])
    assert opted_in["after_second"] == opted_in["after_first"]
