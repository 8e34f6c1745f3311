"""The whole pipeline over the new sources: sitemaps, a site, an agency endpoint and a drop folder, into DuckDB.

A local origin serves an agency's ninjs item and two outlets' pages carrying its text (listed by a
sitemap and by a site's robots.txt), plus pages of the syndication corpus; a drop folder holds dpa
NewsML-G2 files and a broken one. The agency item must be the first copy of the story the outlets'
pages join, and syndication_lag must measure them against it.
"""
import json
import shutil

import duckdb
import pytest
import yaml

from pipeline.corpus_server import CorpusServer, Route
from pipeline.queries import run as run_query
from pipeline.run import run_pipeline
from pipeline.summary import conservation
from tests.hostile.web import article_html
from tests.support.corpus import SYNDICATION_DEV
from tests.support.sources import SOURCES

pytestmark = pytest.mark.slow
KEY = "wire-key-that-must-never-be-stored"
ITEM_URI = "urn:newsml:wire.example:20260305:harbour-1"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def _sitemap(entries) -> bytes:
    urls = "".join(f"<url><loc>{loc}</loc><news:news><news:publication><news:name>{name}</news:name>"
                   f"<news:language>en</news:language></news:publication>"
                   f"<news:publication_date>{date}</news:publication_date><news:title>{title}</news:title>"
                   f"</news:news></url>" for loc, name, date, title in entries)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{urls}</urlset>'.encode()


def _labels(n: int) -> list:
    rows = [json.loads(line) for line in (SYNDICATION_DEV / "labels.jsonl").read_text().splitlines() if line]
    return [r for r in rows if r["outlet"] == "arabiangazette"][:n]


def _story() -> tuple:
    """An agency story: a real article body from the corpus, as the agency's own ninjs item."""
    label = next(json.loads(line) for line in (SYNDICATION_DEV / "labels.jsonl").read_text().splitlines()
                 if json.loads(line)["outlet"] == "bayjournal")
    body = label["body"]
    item = {"uri": ITEM_URI, "type": "text", "version": "1", "versioncreated": "2026-03-05T08:00:00Z",
            "language": "en", "copyrightholder": "Reuters", "by": "Wire Staff",
            "headlines": [{"role": "main", "value": "Harbour story from the wire"}],
            "bodies": [{"role": "main", "contenttype": "text/plain", "value": body}]}
    return item, body


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sources")
    item, body = _story()
    pages = _labels(3)
    routes = {p["url"]: Route(path=SYNDICATION_DEV / p["path"], content_type="text/html; charset=utf-8")
              for p in pages}
    routes["http://arabiangazette.example/news-sitemap.xml"] = Route(body=_sitemap(
        [(p["url"], "Arabian Gazette", p["published_at"], p["title"]) for p in pages]
        + [("http://outlet-one.example/harbour", "Outlet One", "2026-03-05T09:30:00Z", "Harbour, from the wire")]),
        content_type="application/xml")
    routes["http://outlet-one.example/harbour"] = Route(body=article_html(
        "Harbour, as Outlet One tells it", body_text=body, published="2026-03-05T09:30:00+00:00").encode())
    routes["http://outlet-two.example/robots.txt"] = Route(body=b"User-agent: *\nSitemap: /sm.xml\n",
                                                          content_type="text/plain")
    routes["http://outlet-two.example/sm.xml"] = Route(body=_sitemap(
        [("http://outlet-two.example/harbour", "Outlet Two", "2026-03-05T11:00:00Z", "Harbour news")]),
        content_type="application/xml")
    routes["http://outlet-two.example/harbour"] = Route(body=article_html(
        "Harbour news at Outlet Two", body_text=body, published="2026-03-05T11:00:00+00:00").encode())
    routes["http://api.wire.example/v1/content"] = Route(body=json.dumps({"data": [{"item": item}]}).encode(),
                                                         content_type="application/json")
    drop = tmp / "drop"
    drop.mkdir()
    for name in ("dw-1.xml", "with_dateline.xml"):
        shutil.copy(SOURCES / "newsml-g2" / "dpa-digitalwires" / name, drop / name)
    shutil.copy(SOURCES / "newsml-g2" / "newsmlvalidator" / "NewsItem_with_NITF.xml", drop / "broken.xml")
    feeds = tmp / "feeds.yaml"
    feeds.write_text(yaml.safe_dump([
        {"url": "http://arabiangazette.example/news-sitemap.xml", "type": "sitemap"},
        {"site": "http://outlet-two.example"},
        {"url": "http://api.wire.example/v1/content", "format": "ninjs", "headers": {"X-Api-Key": {"env": "WIRE_KEY"}}},
        {"folder": str(drop), "format": "newsml-g2", "name": "dpa drop"},
    ], sort_keys=False))
    warehouse = tmp / "sources.duckdb"
    mp = pytest.MonkeyPatch()
    mp.setenv("WIRE_KEY", KEY)
    try:
        with CorpusServer(routes) as server:
            def again():
                return run_pipeline(["--feeds", str(feeds), "--warehouse", str(warehouse), "--proxy", server.url,
                                     "--runner", "FnApiRunner"])
            result = again()
            counts = _counts(warehouse)
            rerun = again()
    finally:
        mp.undo()
    return result, warehouse, (counts, _counts(warehouse), rerun)


def _counts(warehouse) -> tuple:
    return tuple(_query(warehouse, f"SELECT count(*) FROM {t}")[0][0] for t in ("articles", "dead_letters"))


def _query(warehouse, sql):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_source_kind_lands_and_every_entry_is_accounted_for(run):
    result, warehouse, _ = run
    kinds = dict(_query(warehouse, "SELECT source_kind, count(*) FROM articles GROUP BY 1"))
    assert kinds == {"sitemap": 5, "ninjs": 1, "newsml-g2": 2}
    assert conservation(result["counters"])["balanced"]
    dead = _query(warehouse, "SELECT stage, error_class, url FROM dead_letters")
    assert ("read_feeds", "not_xml", str(warehouse.parent / "drop" / "broken.xml")) in dead


def test_sitemap_hints_are_recorded_as_the_sitemaps(run):
    _, warehouse, _ = run
    rows = _query(warehouse, "SELECT published_at_source, count(*) FROM articles WHERE source_kind = 'sitemap' "
                             "GROUP BY 1")
    assert dict(rows) == {"sitemap": 5}


def test_agency_items_are_tagged_from_their_provider(run):
    _, warehouse, _ = run
    rows = _query(warehouse, "SELECT source_kind, agency, agency_evidence[1].kind FROM articles "
                             "WHERE source_kind <> 'sitemap' ORDER BY 1")
    assert rows == [("newsml-g2", "dpa", "provider"), ("newsml-g2", "dpa", "provider"),
                    ("ninjs", "Reuters", "provider")]


def test_the_agency_item_is_the_first_copy_and_lag_is_measured_against_it(run):
    _, warehouse, _ = run
    rows = _query(warehouse, "SELECT article_id, outlet, story_id, duplicate_of, source_kind FROM articles "
                             "WHERE story_id IN (SELECT story_id FROM articles WHERE source_kind = 'ninjs') "
                             "ORDER BY published_at")
    assert [r[1] for r in rows] == ["wire.example", "outlet-one.example", "outlet-two.example"]
    agency_id = rows[0][0]
    assert {r[2] for r in rows} == {agency_id} and rows[0][3] is None
    assert [r[3] for r in rows[1:]] == [agency_id, agency_id]
    columns, lag = run_query(str(warehouse), "syndication_lag")
    lags = {row[columns.index("outlet")]: row[columns.index("lag_minutes")] for row in lag
            if row[columns.index("first_outlet")] == "wire.example"}
    assert lags == {"outlet-one.example": 90.0, "outlet-two.example": 180.0}


def test_the_api_key_is_stored_nowhere(run):
    _, warehouse, _ = run
    assert KEY.encode() not in warehouse.read_bytes()


def test_a_rerun_over_the_same_sources_adds_no_rows(run):
    _, _, (before, after, rerun) = run
    assert after == before
    assert conservation(rerun["counters"])["balanced"]
