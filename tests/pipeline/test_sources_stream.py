"""The new sources in a stream: endpoints, sitemaps and folders polled by the local live stream, and
drop folders watched by fileio's MatchContinuously on the runner that runs the Dataflow graph."""
import json
import shutil

import apache_beam as beam
import duckdb
import pytest
import yaml
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.util import assert_that, equal_to

from pipeline.corpus_server import CorpusServer, Route
from pipeline.run import run_pipeline
from pipeline.summary import conservation
from schemas.settings import Settings
from schemas.types import FeedSpec
from tests.hostile.web import article_html
from tests.support.sources import SOURCES
from transforms.beam_common.dead_letters import DEAD
from transforms.deliveries.stage import ReadDropFolders
from transforms.feeds.poll import ITEMS

pytestmark = pytest.mark.slow
DPA = SOURCES / "newsml-g2" / "dpa-digitalwires"
TT = json.loads((SOURCES / "ninjs/3.x/tt_text_image_3.json").read_text(encoding="utf-8"))


def _drop(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(DPA / "dw-1.xml", drop / "dw-1.xml")
    (drop / "broken.xml").write_bytes(b"<newsMessage><itemSet><newsItem>")
    return drop


def test_a_stream_watches_a_drop_folder_with_match_continuously(tmp_path):
    drop = _drop(tmp_path)
    options = PipelineOptions(["--runner", "FnApiRunner"])
    options.view_as(StandardOptions).streaming = True
    spec = FeedSpec(url=str(drop), kind="folder", format="newsml-g2")
    with beam.Pipeline(options=options) as p:
        read = p | ReadDropFolders([spec], Settings(), streaming=True, stop_after_s=3.0)
        titles = read[ITEMS] | "Titles" >> beam.Map(lambda d: (d.article.title, d.article.source_kind, d.providers))
        reasons = read[DEAD] | "Reasons" >> beam.Map(lambda d: (d.error_class, d.url))
        assert_that(titles, equal_to([("«Mythos Jungfernhäutchen» - Zwischen Aufklärung und Kommerz",
                                       "newsml-g2", ["dpa"])]), label="Items")
        assert_that(reasons, equal_to([("not_xml", str(drop / "broken.xml"))]), label="Dead")


def test_the_local_live_stream_polls_sitemaps_endpoints_and_folders(tmp_path):
    drop = _drop(tmp_path)
    page = article_html("A sitemap-listed story", "stream-sitemap-story", published="2026-03-05T09:00:00+00:00")
    routes = {
        "http://wire.example/api": Route(body=json.dumps([TT]).encode(), content_type="application/json"),
        "http://outlet.example/sitemap.xml": Route(body=(
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://outlet.example/s/1</loc>'
            '</url></urlset>').encode(), content_type="application/xml"),
        "http://outlet.example/s/1": Route(body=page.encode()),
    }
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump([{"url": "http://wire.example/api", "format": "ninjs"},
                                     {"url": "http://outlet.example/sitemap.xml", "type": "sitemap"},
                                     {"folder": str(drop), "format": "newsml-g2"}]))
    warehouse = tmp_path / "stream.duckdb"
    with CorpusServer(routes) as server:
        result = run_pipeline(["--feeds", str(feeds), "--warehouse", str(warehouse), "--proxy", server.url,
                               "--streaming", "--max_polls", "1"])
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        kinds = dict(con.execute("SELECT source_kind, count(*) FROM articles GROUP BY 1").fetchall())
        dead = con.execute("SELECT error_class FROM dead_letters").fetchall()
    finally:
        con.close()
    assert kinds == {"ninjs": 1, "sitemap": 1, "newsml-g2": 1}
    assert dead == [("not_xml",)]
    assert conservation(result["counters"])["balanced"]


def test_the_dataflow_poll_loop_emits_an_endpoints_items(tmp_path):
    from transforms.feeds.beam_poll import PollFeeds
    from transforms.feeds.schedule import PollPlan

    spec = FeedSpec(url="http://wire.example/api", kind="endpoint", format="ninjs")
    routes = {"http://wire.example/api": Route(body=json.dumps({"items": [TT]}).encode(),
                                               content_type="application/json")}
    options = PipelineOptions(["--runner", "FnApiRunner"])
    options.view_as(StandardOptions).streaming = True
    with CorpusServer(routes) as server:
        settings = Settings().with_fetch(proxy=server.url, respect_robots=False)
        plan = PollPlan(run_id="sources-sdf", specs=(spec,), max_polls=1)
        with beam.Pipeline(options=options) as p:
            polled = p | beam.Create([spec]) | PollFeeds(settings, plan)
            titles = polled[ITEMS] | "Titles" >> beam.Map(lambda d: (d.article.title, d.article.source_kind))
            assert_that(titles, equal_to([("Militärövning i jätteformat hålls 2023", "ninjs")]))
