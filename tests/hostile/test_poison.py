"""Issue 5, pipeline: poison elements and dead letters that could themselves be poison.

- Injected stage failures in a real pipeline run (read_feeds, fetch, extract): each poisoned entry
  becomes one unexpected_error dead letter, its neighbours are unharmed, conservation holds.
- guarded_pardo with a test-only DoFn under TestPipeline: a poisoned host batch gives one dead
  letter per entry; unrepr-able, huge and NUL/surrogate-laden payloads are cut and hashed, and
  the rows land in DuckDB through WriteDuckDB.
"""
from __future__ import annotations

import hashlib

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline

from schemas.settings import Settings
from schemas.types import FeedEntry
from tests.hostile.web import article_html, check_balanced, rss, table, two_runs
from tests.support.hostile_server import HostileServer, respond
from transforms.beam_common.dead_letters import DEAD, guarded_pardo
from transforms.warehouse.beam_duckdb import WriteDuckDB

HTML = {"Content-Type": "text/html; charset=utf-8"}
PAGES = "http://poison.example/"


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory):
    # read_page calls page.page_signals on the page's one parsed tree, so that is where the failure goes.
    import transforms.extract.page as page_signals_module
    import transforms.feeds.poll as read_feeds_module
    from transforms.fetch.client import Fetcher

    tmp = tmp_path_factory.mktemp("poisoned")
    real_signals, real_check, real_get = page_signals_module.page_signals, read_feeds_module.check_link, Fetcher.get

    def signals(tree, *a, **k):
        if "extract-bomb" in (tree.findtext(".//title") or ""):  # the page's title names it
            raise KeyError("injected failure in page_signals")
        return real_signals(tree, *a, **k)

    def check(link, *a, **k):
        if link and "feed-bomb" in link:
            raise ZeroDivisionError("injected failure reading an entry")
        return real_check(link, *a, **k)

    def get(self, url, *a, **k):
        if "fetch-bomb" in url:
            raise MemoryError("injected failure in the fetcher")
        return real_get(self, url, *a, **k)

    names = ["ok-1", "extract-bomb", "ok-2", "feed-bomb", "fetch-bomb", "ok-3"]
    routes = {PAGES + n: respond(200, article_html(f"Poison test {n}", n).encode(), HTML) for n in names}
    routes["http://feeds.example/poison.xml"] = respond(
        200, rss([{"title": n, "link": PAGES + n} for n in names]), {"Content-Type": "application/rss+xml"})
    page_signals_module.page_signals = signals
    read_feeds_module.check_link = check
    Fetcher.get = get
    try:
        with HostileServer(routes) as proxy:
            runs = two_runs(tmp, ["http://feeds.example/poison.xml"], proxy=proxy.url)
            runs["proxy"] = proxy
            yield runs
    finally:
        page_signals_module.page_signals = real_signals
        read_feeds_module.check_link = real_check
        Fetcher.get = real_get


def test_a_stage_failure_becomes_a_dead_letter_for_that_entry_only(poisoned):
    rows = table(poisoned["warehouse"], "SELECT stage, url, error_class, message FROM dead_letters")
    by_url = {url: (stage, reason, message) for stage, url, reason, message in rows}
    assert by_url[PAGES + "extract-bomb"][:2] == ("extract", "unexpected_error")
    assert "KeyError" in by_url[PAGES + "extract-bomb"][2]
    assert by_url[PAGES + "fetch-bomb"][:2] == ("fetch", "unexpected_error")
    assert "MemoryError" in by_url[PAGES + "fetch-bomb"][2]
    feed_bomb = [r for r in rows if r[0] == "read_feeds"]
    assert [(r[0], r[2]) for r in feed_bomb] == [("read_feeds", "unexpected_error")]
    assert "ZeroDivisionError" in feed_bomb[0][3]
    assert sorted(poisoned["articles"]) == [PAGES + "ok-1", PAGES + "ok-2", PAGES + "ok-3"]


def test_poison_keeps_conservation_and_a_rerun_adds_nothing(poisoned):
    cons = check_balanced(poisoned["first"])
    assert (cons["entries"], cons["articles"], cons["dead_letters"]) == (6, 3, 3)
    check_balanced(poisoned["second"])
    assert poisoned["after_second"] == poisoned["after_first"]


class Unprintable:
    url = "http://unprintable.example/x"
    feed_url = "http://feeds.example/f"

    def __repr__(self):
        raise RuntimeError("repr of a poison element is poison too")


class ExplodingDoFn(beam.DoFn):
    """Raises for every element, with a message as big as the element."""

    def process(self, element):
        if isinstance(element, tuple) and len(element) == 2 and isinstance(element[1], list):
            raise ValueError("a whole host batch failed")
        size = len(getattr(element, "body", b"")) or 10
        # (A lone surrogate in the exception's own text would break Beam's encoding of the failure
        # record itself; wiredesk keeps such text out at the sources: feeds and JSON are cleaned.)
        raise ValueError("boom \x00 " + "m" * size)
        yield element  # pragma: no cover


class BigPage:
    """A page-like element with a huge body and a lone surrogate in its url."""

    def __init__(self, body: bytes):
        self.body = body
        self.url = "http://huge.example/\udcff"
        self.feed_url = "http://feeds.example/f"


def _entry(url: str) -> FeedEntry:
    return FeedEntry(entry_id=url, feed_url="http://feeds.example/batch", feed_name=None, agency_hint=None,
                     url=url, guid=None, title=None, summary=None, published_at=None, authors=[], categories=[],
                     polled_at=None)


def test_odd_and_oversized_dead_letter_payloads_are_cut_hashed_and_stored(tmp_path):
    body = b"\x00\xff" * (768 * 1024)  # 1.5 MiB, NULs and invalid UTF-8
    batch = ("host.example", [_entry(f"http://host.example/{i}") for i in range(4)])
    warehouse = tmp_path / "dl.duckdb"
    with TestPipeline() as p:
        elements = p | beam.Create([Unprintable(), BigPage(body), batch], reshuffle=False)
        out = guarded_pardo(elements, "Explode", "extract", ExplodingDoFn())
        _ = ({"dead_letters": out[DEAD]} | WriteDuckDB(str(warehouse), Settings()))
    rows = table(warehouse, "SELECT url, error_class, length(message), length(payload_excerpt), payload_sha256, "
                            "stage FROM dead_letters ORDER BY url")
    by_url = {r[0]: r for r in rows}
    assert len(rows) == 6  # the batch of 4 gives 4 dead letters, one per entry
    assert {f"http://host.example/{i}" for i in range(4)} <= set(by_url)
    big = [r for r in rows if r[0] and r[0].startswith("http://huge.example/")][0]
    assert big[2] <= 2000 and big[3] <= 2000
    assert big[4] == hashlib.sha256(body).hexdigest()  # the hash is of the whole payload
    unprintable = by_url["http://unprintable.example/x"]
    assert unprintable[1] == "unexpected_error" and unprintable[3] <= 2000
    assert all(r[1] == "unexpected_error" and r[5] == "extract" for r in rows)
