"""The founding example: the IANS Trump-Kim story republished by an Indian outlet."""
import datetime as dt
import json
import re

import duckdb
import pytest

from pipeline.corpus_server import CorpusServer, Route
from pipeline.run import run_pipeline
from tests.support.corpus import SEED

FEED_URL = "http://seedworldnews.example/rss/world.xml"


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory, corpus):
    expected = json.loads((SEED / "seed-expected.json").read_text())
    routes = {FEED_URL: Route(path=SEED / "seed-feed.xml", content_type="application/rss+xml"),
              expected["url"]: Route(path=SEED / "seed-article.html", content_type="text/html; charset=utf-8")}
    tmp = tmp_path_factory.mktemp("seed")
    warehouse = tmp / "seed.duckdb"
    with CorpusServer(routes) as server:
        outcome = run_pipeline(["--runner", "FnApiRunner", "--feeds", FEED_URL, "--warehouse", str(warehouse),
                                "--proxy", server.url])
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute("SELECT title, section, agency, agency_evidence, body, description, url, "
                       "published_at AT TIME ZONE 'UTC', published_at_source, outlet, story_id, article_id "
                       "FROM articles").fetchall()
    con.close()
    return expected, rows, outcome


def _norm(text):
    return re.sub(r"\s+", " ", text).strip()


def test_exactly_one_article_row(seed_run):
    _, rows, outcome = seed_run
    assert len(rows) == 1
    assert outcome["counters"]["read_feeds.entries"] == 1


def test_title_section_description_and_date(seed_run):
    expected, rows, _ = seed_run
    title, section, _, _, _, description, url, published, source, outlet, story_id, article_id = rows[0]
    assert title == expected["title"]
    assert section == expected["section"] == "US"
    assert description == expected["description"]
    assert url == expected["url"]
    assert published == dt.datetime.fromisoformat(expected["published_at"]).replace(tzinfo=None)
    assert source == "feed"
    assert outlet == "seedworldnews.example"
    assert story_id == article_id  # the first copy of its story


def test_agency_is_ians_from_the_credit_line(seed_run):
    expected, rows, _ = seed_run
    agency, evidence = rows[0][2], rows[0][3]
    assert agency == expected["agency"] == "IANS"
    kinds = {(e["agency"], e["kind"]) for e in evidence}
    assert ("IANS", expected["agency_evidence_kind"]) in kinds
    credit = [e for e in evidence if e["kind"] == "credit_line"]
    assert any(e["text"].strip() == "IANS" for e in credit)


def test_cited_newspaper_is_not_an_agency(seed_run):
    expected, rows, _ = seed_run
    agency, evidence = rows[0][2], rows[0][3]
    for name in expected["not_agency"]:
        assert agency != name
        assert all(name not in (e["agency"] or "") for e in evidence)


def test_whole_body_and_no_boilerplate(seed_run):
    expected, rows, _ = seed_run
    body = rows[0][4]
    assert _norm(body) == _norm(expected["body"])
    for junk in expected["must_not_contain"]:
        assert junk not in body
    assert not any(line.strip() in ("X", "IANS") for line in body.splitlines())
