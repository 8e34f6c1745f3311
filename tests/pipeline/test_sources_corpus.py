"""Every file of the corpus's sources/ through the pipeline: sitemaps through ReadFeeds over local HTTP,
agency files through drop folders in a whole run into DuckDB; every item and entry is accounted for."""
import shutil
from urllib.parse import urljoin

import apache_beam as beam
import duckdb
import pytest
import yaml
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.corpus_server import CorpusServer, Route
from pipeline.run import run_pipeline
from pipeline.summary import conservation
from schemas.settings import Settings
from schemas.types import FeedSpec
from tests.support.sources import SOURCES, manifest_rows, read
from transforms.beam_common.dead_letters import DEAD
from transforms.deliveries.delivery import parse_delivery
from transforms.deliveries.items import DeliveryError, to_draft
from transforms.feeds.sitemaps import SitemapError, parse_sitemap
from transforms.feeds.stage import ReadFeeds
from transforms.feeds.urls import BadLink, canonical_url, check_link

pytestmark = pytest.mark.slow
HOST = "http://sources.example/"
# tripadvisor's 50,000 urls cost 20 s here; the parser test reads that file, and this one the 39 others.
SITEMAPS = [r for r in manifest_rows("sitemaps/") if r["kind"] != "robots_txt" and "tripadvisor" not in r["path"]]
FORMATS = {"ninjs": "ninjs", "newsml-g2": "newsml-g2", "newsml-1.2": "newsml"}


def _expected_sitemaps():
    """What the parser makes of each file: the links its urlsets list, and the reason of each refused file."""
    links, reasons = set(), set()
    for row in SITEMAPS:
        url = HOST + row["path"]
        try:
            sitemap = parse_sitemap(read(row))
        except SitemapError as err:
            reasons.add((url, err.reason))
            continue
        if sitemap.problem:
            reasons.add((url, sitemap.problem[0]))
        for item in sitemap.urls:
            try:
                links.add(canonical_url(check_link(item.loc, url, 2048)))
            except BadLink:
                pass
    return links, reasons


def test_every_sitemap_goes_through_read_feeds():
    links, reasons = _expected_sitemaps()
    routes = {HOST + r["path"]: Route(body=read(r), content_type="application/xml") for r in SITEMAPS}
    specs = [FeedSpec(url=HOST + r["path"], kind="sitemap") for r in SITEMAPS]
    with CorpusServer(routes) as server:
        settings = Settings().with_fetch(proxy=server.url, respect_robots=False, max_retries=0)
        with TestPipeline(options=PipelineOptions(["--runner", "FnApiRunner"])) as p:
            read_ = p | beam.Create(specs) | ReadFeeds(settings)
            got = read_["entries"] | "Links" >> beam.Map(lambda e: canonical_url(e.url))
            refused = (read_[DEAD] | "Sitemap Reasons" >> beam.Filter(lambda d: d.url == d.feed_url)
                       | "Pairs" >> beam.Map(lambda d: (d.feed_url, d.error_class)))
            assert_that(got, equal_to(sorted(links)), label="Entries")
            assert_that(refused, equal_to(sorted(reasons)), label="Reasons")
    assert len(links) > 500 and {r for _, r in reasons} == {
        "not_a_sitemap", "gzip_corrupt", "empty_sitemap", "sitemap_broken"}


def test_every_agency_file_goes_through_a_drop_folder_into_the_warehouse(tmp_path):
    folders, expected_dead, accepted = {}, set(), set()
    for prefix, fmt in FORMATS.items():
        folder = tmp_path / prefix
        folder.mkdir()
        folders[fmt] = folder
        for row in manifest_rows(prefix + "/"):
            target = folder / row["path"].replace("/", "__")
            shutil.copy(SOURCES / row["path"], target)
            try:
                items = parse_delivery(read(row), fmt)
            except DeliveryError as err:
                expected_dead.add((err.reason, str(target)))
                continue
            for item in items:
                try:
                    accepted.add(to_draft(item, "x", "2026-03-05T10:00:00+00:00", "test").article.url)
                except DeliveryError as err:
                    expected_dead.add((err.reason, item.uri))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump([{"folder": str(f), "format": fmt} for fmt, f in folders.items()]))
    warehouse = tmp_path / "corpus.duckdb"
    result = run_pipeline(["--feeds", str(feeds), "--warehouse", str(warehouse), "--runner", "FnApiRunner"])
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        stored = {r[0] for r in con.execute("SELECT url FROM articles").fetchall()}
        dead = set(con.execute("SELECT error_class, url FROM dead_letters WHERE stage = 'read_feeds'").fetchall())
        later = {r[0] for r in con.execute("SELECT url FROM dead_letters WHERE stage <> 'read_feeds'").fetchall()}
    finally:
        con.close()
    assert dead == expected_dead
    # Each accepted item is an article, or was refused by cleaning (too short), or repeats a stored uri.
    assert accepted <= stored | later and stored <= accepted and len(stored) >= 20
    assert conservation(result["counters"])["balanced"]


def test_the_largest_sitemap_and_every_robots_txt_go_through_the_poll(tmp_path):
    # The read step's own poll (poll_feed) over local HTTP: tripadvisor's 50,000 urls, and each corpus
    # robots.txt as the robots.txt of a site whose listed sitemaps are then asked for.
    from schemas.types import FeedSpec as Spec
    from transforms.feeds.poll import poll_feed
    from transforms.feeds.sitemaps import robots_sitemaps
    from transforms.fetch.client import Fetcher

    big = next(r for r in manifest_rows("sitemaps/") if "tripadvisor" in r["path"])
    robots = [r for r in manifest_rows("sitemaps/") if r["kind"] == "robots_txt"]
    routes = {HOST + big["path"]: Route(body=read(big), content_type="application/octet-stream")}
    for i, row in enumerate(robots):
        routes[f"http://site{i}.example/robots.txt"] = Route(body=read(row), content_type="text/plain")
    with CorpusServer(routes) as server:
        settings = Settings().with_fetch(proxy=server.url, respect_robots=False, max_retries=0)
        with Fetcher(settings.fetch) as fetcher:
            out = poll_feed(Spec(url=HOST + big["path"], kind="sitemap"), None, fetcher, settings)
            assert out.counts["entries"] + out.counts.get("skip.bad_link", 0) == int(big["count"])
            assert out.entries[0].url == canonical_url(big["first_loc"])
            for i, row in enumerate(robots):
                site = poll_feed(Spec(url=f"http://site{i}.example/", kind="site"), None, fetcher, settings)
                listed = {urljoin(f"http://site{i}.example/", loc) for loc in robots_sitemaps(read(row).decode())}
                # The sitemaps it lists are asked for; none is served here, so each is a reasoned dead letter.
                assert site.dead and {d.url for d in site.dead} <= listed, row["path"]
                assert all(d.error_class and d.message for d in site.dead), row["path"]
