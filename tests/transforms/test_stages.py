"""Each stage's composite PTransform on real inputs, checked with TestPipeline and assert_that."""
import json

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.corpus_server import CorpusServer, Route
from schemas.settings import Settings
from schemas.types import FeedEntry, Page
from tests.support.corpus import SEED
from tests.transforms.feeds.test_stage import RSS
from transforms.beam_common.dead_letters import DEAD
from transforms.clean.stage import CleanArticles
from transforms.extract.stage import ExtractArticles
from transforms.fetch.stage import FetchArticles
from transforms.tag.registry import load_registry_data
from transforms.tag.stage import TagArticles


@pytest.fixture(scope="module")
def feed_server():
    with CorpusServer({"http://wire.example/rss": Route(body=RSS, content_type="application/rss+xml")}) as server:
        yield server


def _entry(url, feed="http://feed.example/rss"):
    return FeedEntry(entry_id=url, feed_url=feed, url=url)


def test_fetch_refuses_loopback_without_the_opt_in_and_records_404s(feed_server):
    blocked = Settings()  # default: no private networks, no proxy
    with TestPipeline() as p:
        out = (p | beam.Create([_entry(feed_server.url + "/secret")]) | FetchArticles(blocked))
        assert_that(out["pages"], equal_to([]), label="no pages")
        assert_that(out[DEAD] | beam.Map(lambda d: (d.stage, d.error_class)),
                    equal_to([("fetch", "ssrf_blocked")]), label="dead")
    proxied = Settings().with_fetch(proxy=feed_server.url)
    with TestPipeline() as p:
        out = (p | beam.Create([_entry("http://wire.example/rss"), _entry("http://wire.example/missing")])
               | FetchArticles(proxied))
        assert_that(out["pages"] | beam.Map(lambda pg: (pg.entry.url, pg.status, len(pg.body) > 100)),
                    equal_to([("http://wire.example/rss", 200, True)]), label="pages")
        assert_that(out[DEAD] | "Dead" >> beam.Map(lambda d: (d.url, d.error_class)),
                    equal_to([("http://wire.example/missing", "http_404")]), label="dead")


def _seed_page():
    expected = json.loads((SEED / "seed-expected.json").read_text())
    entry = FeedEntry(entry_id="seed", feed_url="http://seedworldnews.example/rss", url=expected["url"],
                      title=expected["title"], published_at="2019-04-11T19:42:00+00:00", categories=["US"])
    return expected, Page(entry=entry, final_url=expected["url"], status=200,
                          content_type="text/html; charset=utf-8", charset="utf-8",
                          body=(SEED / "seed-article.html").read_bytes(), fetched_at="2026-03-05T00:00:00+00:00",
                          attempts=1)


def test_extract_clean_and_tag_the_seed_page(corpus):
    expected, page = _seed_page()
    settings = Settings()
    with TestPipeline() as p:
        registry = p | "Registry" >> beam.Create([load_registry_data()])
        extracted = p | beam.Create([page]) | ExtractArticles(settings)
        cleaned = extracted["drafts"] | CleanArticles(settings)
        tagged = cleaned["drafts"] | TagArticles(registry)
        summary = tagged["drafts"] | beam.Map(lambda d: (
            d.article.title, d.article.section, d.article.agency,
            ("IANS", "credit_line", "IANS") in [tuple(e) for e in d.article.agency_evidence],
            "Advertisement" in d.article.body, "IANS" in d.removed_lines))
        assert_that(summary, equal_to([(expected["title"], "US", "IANS", True, False, True)]))
        for name, out in (("extract", extracted), ("clean", cleaned), ("tag", tagged)):
            assert_that(out[DEAD], equal_to([]), label=f"no dead letters in {name}")


def test_pages_without_an_article_become_dead_letters_not_rows():
    _, page = _seed_page()
    pdf = page._replace(body=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", content_type="application/pdf")
    empty = page._replace(body=b"", entry=page.entry._replace(url="http://seedworldnews.example/empty"))
    with TestPipeline() as p:
        out = p | beam.Create([pdf, empty]) | ExtractArticles(Settings())
        assert_that(out["drafts"], equal_to([]), label="no drafts")
        assert_that(out[DEAD] | beam.Map(lambda d: (d.url.rsplit("/", 1)[-1], d.stage, d.error_class)),
                    equal_to([(page.entry.url.rsplit("/", 1)[-1], "extract", "pdf"),
                              ("empty", "extract", "empty_page")]), label="dead")
