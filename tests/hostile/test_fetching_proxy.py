"""Issue 5, fetching: one pipeline run (and its rerun) through a local forward proxy that misbehaves.

Every hostile host here is a name (``*.example``) that only the proxy knows, as in production with
``--proxy``: the proxy resolves names, while literal private and metadata addresses and local names
are still refused by wiredesk before any request. Each test reads the same two runs.
"""
from __future__ import annotations

import gzip

import pytest

from tests.hostile.web import article_html, check_balanced, rss, two_runs
from tests.support.hostile_server import (
    HostileServer,
    compress,
    endless,
    endless_chunked,
    hang,
    lying_length,
    redirect,
    respond,
    sequence,
    slow_headers,
    trickle,
    unframed,
)

FEED = "http://feeds.example/fetch.xml"
HTML = {"Content-Type": "text/html; charset=utf-8"}

SSRF_LINKS = [
    "http://127.0.0.1/admin",
    "http://127.1/admin",
    "http://2130706433/admin",
    "http://0x7f.0.0.1/admin",
    "http://localhost/admin",
    "http://app.localhost/admin",
    "http://[::1]/admin",
    "http://10.1.2.3/admin",
    "http://172.16.5.4/admin",
    "http://192.168.0.1/admin",
    "http://100.64.0.1/admin",  # CGNAT
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://metadata.google.internal/computeMetadata/v1/instance/",
    "http://[fd00::1]/admin",  # ULA
    "http://[fe80::1]/admin",  # IPv6 link-local
    "http://[::ffff:127.0.0.1]/admin",  # IPv4-mapped IPv6
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://0.0.0.0/admin",
]

REDIRECTS = {
    "http://redir.example/to-metadata": ("http://169.254.169.254/latest/meta-data/", "ssrf_blocked"),
    "http://redir.example/to-localhost": ("http://localhost:8080/admin", "ssrf_blocked"),
    "http://redir.example/to-mapped": ("http://[::ffff:10.0.0.1]/admin", "ssrf_blocked"),
    "http://redir.example/to-gce": ("http://metadata.google.internal/computeMetadata/v1/", "ssrf_blocked"),
    "http://redir.example/to-file": ("file:///etc/passwd", "bad_scheme"),
    "http://redir.example/to-data": ("data:text/html,<h1>hi</h1>", "bad_scheme"),
    "http://redir.example/to-ftp": ("ftp://files.example/a.txt", "bad_scheme"),
    "http://redir.example/to-javascript": ("javascript:alert(1)", "bad_scheme"),
}

BOMB = b"\0" * (4 * 1024 * 1024)  # 4 MiB of zeros: a few KiB compressed, far over the 256 KiB decoded cap


def _page(url: str) -> bytes:
    return article_html(f"Story at {url}", url).encode("utf-8")


def _ok(url: str):
    return respond(200, _page(url), HTML)


def _routes() -> dict:
    r: dict = {}
    # 2. redirects: to blocked addresses and schemes, loops and over-long chains.
    for url, (location, _) in REDIRECTS.items():
        r[url] = redirect(location)
    r["http://redir.example/loop-a"] = redirect("http://redir.example/loop-b")
    r["http://redir.example/loop-b"] = redirect("/loop-a")
    for i in range(10):
        r[f"http://redir.example/chain/{i}"] = redirect(f"http://redir.example/chain/{i + 1}", status=301)
    r["http://redir.example/chain/10"] = _ok("http://redir.example/chain/10")
    r["http://redir.example/two-hops"] = redirect("http://redir.example/hop")
    r["http://redir.example/hop"] = redirect("http://redir2.example/landing", status=307)
    r["http://redir2.example/landing"] = _ok("http://redir2.example/landing")
    # 3. oversized bodies and decompression bombs (64 KiB raw cap, 256 KiB decoded cap).
    big = b"<html><body>" + b"x" * (300 * 1024) + b"</body></html>"
    r["http://big.example/honest-length"] = respond(200, big, HTML)
    r["http://big.example/no-length"] = unframed(big, HTML)
    r["http://big.example/endless"] = endless(headers=HTML)
    r["http://big.example/endless-chunked"] = endless_chunked()
    r["http://big.example/false-length"] = lying_length(big, 1000, HTML)  # claims 1 KB, sends 300 KB
    for enc in ("gzip", "deflate", "br"):
        r[f"http://bomb.example/{enc}"] = respond(200, compress(BOMB, enc), {**HTML, "Content-Encoding": enc})
    # 4. truncation: retried, then data_loss; a flaky one recovers on retry.
    page = _page("http://trunc.example/short")
    r["http://trunc.example/short"] = lying_length(page[:500], len(page), HTML)
    cut = gzip.compress(_page("http://trunc.example/gzip-cut"))
    r["http://trunc.example/gzip-cut"] = respond(200, cut[: len(cut) // 2], {**HTML, "Content-Encoding": "gzip"})
    flaky = _page("http://trunc.example/flaky")
    r["http://trunc.example/flaky"] = sequence(lying_length(flaky[:300], len(flaky), HTML), respond(200, flaky, HTML))
    # 5. slow servers: silent (read timeout), trickling body and headers (total deadline).
    r["http://slow.example/hang"] = hang(5)
    r["http://slow.example/trickle"] = trickle(_page("http://slow.example/trickle")[:200], 0.2, HTML)
    r["http://slow2.example/slow-headers"] = slow_headers(0.05)
    # 6. statuses: Retry-After honoured, bounded retries, 5xx retried, 404/410 final.
    r["http://status.example/429-then-ok"] = sequence(respond(429, b"slow down", {"Retry-After": "1"}),
                                                      _ok("http://status.example/429-then-ok"))
    r["http://status.example/503-always"] = respond(503, b"busy", {"Retry-After": "0"})
    r["http://status.example/503-come-back-tomorrow"] = respond(503, b"busy", {"Retry-After": "86400"})
    r["http://status.example/500-502-then-ok"] = sequence(respond(500), respond(502),
                                                          _ok("http://status.example/500-502-then-ok"))
    r["http://status.example/404"] = respond(404, b"gone")
    r["http://status.example/410"] = respond(410, b"gone for good")
    # 7. a host that keeps failing: the breaker opens after 3 failed URLs.
    for i in range(6):
        r[f"http://down.example/story-{i}"] = respond(500, b"down")
    # 8. robots.txt.
    r["http://robots-dis.example/robots.txt"] = respond(200, b"User-agent: *\nDisallow: /private/\n")
    r["http://robots-dis.example/private/a"] = _ok("http://robots-dis.example/private/a")
    r["http://robots-dis.example/public/b"] = _ok("http://robots-dis.example/public/b")
    r["http://robots-5xx.example/robots.txt"] = respond(503, b"busy")
    r["http://robots-5xx.example/a"] = _ok("http://robots-5xx.example/a")
    r["http://robots-403.example/robots.txt"] = respond(403, b"forbidden")
    r["http://robots-403.example/a"] = _ok("http://robots-403.example/a")
    r["http://robots-404.example/a"] = _ok("http://robots-404.example/a")  # no robots route: 404
    huge = b"User-agent: *\nDisallow: /secret/\n" + b"# padding\n" * 4000 + b"User-agent: *\nDisallow: /\n"
    r["http://robots-huge.example/robots.txt"] = respond(200, huge, {"Content-Type": "text/plain"})
    r["http://robots-huge.example/secret/x"] = _ok("http://robots-huge.example/secret/x")
    r["http://robots-huge.example/open/y"] = _ok("http://robots-huge.example/open/y")
    r["http://robots-delay.example/robots.txt"] = respond(200, b"User-agent: *\nCrawl-delay: 30\n")
    for i in range(3):
        r[f"http://robots-delay.example/d{i}"] = _ok(f"http://robots-delay.example/d{i}")
    return r


def _feed_links() -> list:
    links = list(SSRF_LINKS) + list(REDIRECTS)
    links += ["http://redir.example/loop-a", "http://redir.example/chain/0", "http://redir.example/two-hops"]
    links += ["http://big.example/" + p for p in ("honest-length", "no-length", "endless", "endless-chunked",
                                                 "false-length")]
    links += [f"http://bomb.example/{enc}" for enc in ("gzip", "deflate", "br")]
    links += [f"http://trunc.example/{p}" for p in ("short", "gzip-cut", "flaky")]
    links += ["http://slow.example/hang", "http://slow.example/trickle", "http://slow2.example/slow-headers"]
    links += [f"http://status.example/{p}" for p in ("429-then-ok", "503-always", "503-come-back-tomorrow",
                                                    "500-502-then-ok", "404", "410")]
    links += [f"http://down.example/story-{i}" for i in range(6)]
    links += ["http://robots-dis.example/private/a", "http://robots-dis.example/public/b",
              "http://robots-5xx.example/a", "http://robots-403.example/a", "http://robots-404.example/a",
              "http://robots-huge.example/secret/x", "http://robots-huge.example/open/y"]
    links += [f"http://robots-delay.example/d{i}" for i in range(3)]
    return links


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("proxied")
    links = _feed_links()
    with HostileServer(_routes()) as proxy:
        proxy.route(FEED, respond(200, rss([{"title": f"item {i}", "link": link, "guid": f"g{i}"}
                                            for i, link in enumerate(links)]),
                                  {"Content-Type": "application/rss+xml"}))
        runs = two_runs(tmp, [FEED], proxy=proxy.url)
        runs["proxy"] = proxy
        runs["links"] = links
        yield runs


def _seen_targets(proxy) -> list:
    return [r.target for r in proxy.requests]


def test_every_entry_is_accounted_for_and_the_rerun_adds_nothing(proxied):
    first = check_balanced(proxied["first"])
    assert first["entries"] == len(proxied["links"])
    second = check_balanced(proxied["second"])
    assert second["entries"] == first["entries"]
    assert proxied["after_second"] == proxied["after_first"]
    # Every entry left exactly one trace: a row, a dead letter or a counted skip.
    assert first["articles"] == len(proxied["articles"])
    assert first["dead_letters"] == len(proxied["after_first"]["dead_letters"])


@pytest.mark.parametrize("link", SSRF_LINKS)
def test_private_loopback_and_metadata_targets_are_refused_before_connecting(proxied, link):
    assert proxied["dead"][link] == ("fetch", "ssrf_blocked")


def test_the_proxy_never_saw_a_blocked_target(proxied):
    blocked_hosts = ("127.", "localhost", "169.254", "metadata", "10.", "172.16", "192.168", "100.64",
                     "[", "0.0.0.0", "2130706433", "0x7f")
    for target in _seen_targets(proxied["proxy"]):
        host = target.split("://", 1)[-1]
        assert not host.startswith(blocked_hosts), target


@pytest.mark.parametrize("url,expected", [(u, r) for u, (_, r) in REDIRECTS.items()])
def test_redirects_to_blocked_addresses_and_schemes_are_refused(proxied, url, expected):
    assert proxied["dead"][url] == ("fetch", expected)


def test_redirect_loops_and_long_chains_are_too_many_redirects(proxied):
    assert proxied["dead"]["http://redir.example/loop-a"] == ("fetch", "too_many_redirects")
    assert proxied["dead"]["http://redir.example/chain/0"] == ("fetch", "too_many_redirects")
    # The cap (5) stops the chain: hop 6 is never requested.
    assert "http://redir.example/chain/6" not in _seen_targets(proxied["proxy"])
    # A short chain across hosts is fine.
    assert "http://redir.example/two-hops" in proxied["articles"]


@pytest.mark.parametrize("path", ["honest-length", "no-length", "endless", "endless-chunked"])
def test_oversized_bodies_are_aborted(proxied, path):
    assert proxied["dead"][f"http://big.example/{path}"] == ("fetch", "body_too_large")


def test_a_content_length_that_understates_the_body_reads_only_what_it_claims(proxied):
    # 1 KB of 'x' is read, the rest ignored; it is not an article, and that is recorded.
    stage, reason = proxied["dead"]["http://big.example/false-length"]
    assert stage in ("extract", "clean") and reason in ("no_article_text", "not_html", "empty_page")


@pytest.mark.parametrize("enc", ["gzip", "deflate", "br"])
def test_decompression_bombs_are_capped_after_decoding(proxied, enc):
    assert proxied["dead"][f"http://bomb.example/{enc}"] == ("fetch", "body_too_large")


def test_truncated_bodies_are_retried_then_data_loss(proxied):
    assert proxied["dead"]["http://trunc.example/short"] == ("fetch", "data_loss")
    assert proxied["dead"]["http://trunc.example/gzip-cut"] == ("fetch", "data_loss")
    attempts = dict(_attempts(proxied))
    assert attempts["http://trunc.example/short"] >= 3  # first run: 1 + 2 retries (a rerun adds its own)
    assert proxied["proxy"].hits("http://trunc.example/short") == 6  # 3 per run, two runs
    assert "http://trunc.example/flaky" in proxied["articles"]


def _attempts(proxied):
    from tests.hostile.web import table

    return table(proxied["warehouse"], "SELECT url, attempt FROM dead_letters WHERE url IS NOT NULL")


def test_silent_and_trickling_servers_time_out(proxied):
    assert proxied["dead"]["http://slow.example/hang"] == ("fetch", "read_timeout")
    assert proxied["dead"]["http://slow.example/trickle"] == ("fetch", "timeout")
    assert proxied["dead"]["http://slow2.example/slow-headers"][1] in ("timeout", "read_timeout")


def test_retry_after_is_honoured_and_retries_are_bounded(proxied):
    proxy, dead = proxied["proxy"], proxied["dead"]
    assert "http://status.example/429-then-ok" in proxied["articles"]
    times = [r.at for r in proxy.requests if r.target == "http://status.example/429-then-ok"]
    assert times[1] - times[0] >= 0.95  # Retry-After: 1
    assert dead["http://status.example/503-always"] == ("fetch", "http_503")
    assert proxy.hits("http://status.example/503-always") == 6  # 1 + 2 retries, per run
    # A Retry-After beyond what one fetch may wait is given up at once, for a later run.
    assert dead["http://status.example/503-come-back-tomorrow"] == ("fetch", "http_503")
    assert proxy.hits("http://status.example/503-come-back-tomorrow") == 2
    assert "http://status.example/500-502-then-ok" in proxied["articles"]


def test_not_found_and_gone_are_final(proxied):
    assert proxied["dead"]["http://status.example/404"] == ("fetch", "http_404")
    assert proxied["dead"]["http://status.example/410"] == ("fetch", "http_410")
    assert proxied["proxy"].hits("http://status.example/404") == 2  # once per run, never retried


def test_a_failing_host_trips_the_breaker_and_the_rest_is_host_unavailable(proxied):
    reasons = [proxied["dead"][f"http://down.example/story-{i}"][1] for i in range(6)]
    assert reasons == ["http_500"] * 3 + ["host_unavailable"] * 3
    for i in range(3, 6):
        assert proxied["proxy"].hits(f"http://down.example/story-{i}") == 0


def test_robots_disallow_is_a_counted_skip_and_allowed_pages_are_fetched(proxied):
    counters = proxied["first"]
    # private/a, robots-5xx (treated as disallow-all) and the huge file's /secret/.
    assert counters["fetch.skip.robots_disallowed"] == 3
    assert proxied["proxy"].hits("http://robots-dis.example/private/a") == 0
    assert "http://robots-dis.example/public/b" in proxied["articles"]
    assert "http://robots-dis.example/private/a" not in proxied["dead"]


def test_robots_5xx_disallows_and_403_or_404_allow(proxied):
    assert proxied["proxy"].hits("http://robots-5xx.example/a") == 0
    assert "http://robots-403.example/a" in proxied["articles"]
    assert "http://robots-404.example/a" in proxied["articles"]


def test_huge_robots_is_cut_at_the_cap(proxied):
    assert proxied["proxy"].hits("http://robots-huge.example/secret/x") == 0
    # The "Disallow: /" past the 16 KiB cap was never read.
    assert "http://robots-huge.example/open/y" in proxied["articles"]


def test_crawl_delay_is_honoured_up_to_the_cap(proxied):
    pages = [r.at for r in proxied["proxy"].requests if r.target.startswith("http://robots-delay.example/d")]
    assert len(pages) == 3  # first run only: the rerun finds them stored
    gaps = [b - a for a, b in zip(pages, pages[1:])]
    assert all(0.29 <= g < 3.0 for g in gaps), gaps  # Crawl-delay 30, capped at 0.3 s
