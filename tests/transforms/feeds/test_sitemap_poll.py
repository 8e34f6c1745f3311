"""Polling sitemap sources over local HTTP: robots.txt discovery, indexes, gzip, broken files, later polls."""
import gzip

import pytest

from pipeline.corpus_server import CorpusServer, Route
from schemas.settings import Settings
from schemas.types import FeedSpec, FeedState
from transforms.feeds.poll import poll_feed
from transforms.fetch.client import Fetcher

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def _news(*items) -> bytes:
    urls = "".join(
        f"<url><loc>{loc}</loc><news:news><news:publication><news:name>Gazette</news:name>"
        f"<news:language>en</news:language></news:publication><news:publication_date>{date}</news:publication_date>"
        f"<news:title>{title}</news:title><news:keywords>a, b</news:keywords></news:news></url>"
        for loc, date, title in items)
    return f'<?xml version="1.0"?><urlset {NS}>{urls}</urlset>'.encode()


def _index(*children) -> bytes:
    body = "".join(f"<sitemap><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</sitemap>"
                   for loc, mod in children)
    return f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</sitemapindex>'.encode()


SITE = "http://gazette.example"
ROUTES = {
    f"{SITE}/robots.txt": Route(body=b"User-agent: *\nAllow: /\nSitemap: /index.xml\nSitemap: http://gazette.example/index.xml\n",
                               content_type="text/plain"),
    f"{SITE}/index.xml": Route(body=_index(("/news.xml", "2026-03-05T10:00:00Z"), ("/old.xml.gz", "2026-01-01"),
                                           ("/deeper.xml", None)), content_type="application/xml"),
    f"{SITE}/news.xml": Route(body=_news((f"{SITE}/a/1", "2026-03-05T09:00:00+01:00", "First"),
                                         (f"{SITE}/a/2", "2026-03-04", "Second")), content_type="application/xml"),
    f"{SITE}/old.xml.gz": Route(body=gzip.compress(
        f'<urlset {NS}><url><loc>{SITE}/a/0</loc><lastmod>2026-01-01</lastmod></url></urlset>'.encode()),
        content_type="application/octet-stream"),
    f"{SITE}/deeper.xml": Route(body=_index(("/deepest.xml", None)), content_type="application/xml"),
    f"{SITE}/deepest.xml": Route(body=_index(("/news.xml", None)), content_type="application/xml"),
    f"{SITE}/broken.xml": Route(body=(f'<urlset {NS}><url><loc>{SITE}/b/1</loc></url><url><loc>{SITE}/b/2</loc>'
                                      f'</url><url><loc>{SITE}/b/3<</loc></url>').encode(),
                                content_type="application/xml"),
    "http://nomap.example/sitemap.xml": Route(body=_news(("http://nomap.example/x", "2026-03-05", "X")),
                                              content_type="application/xml"),
}


@pytest.fixture(scope="module")
def server():
    with CorpusServer(ROUTES) as s:
        yield s


@pytest.fixture()
def fetcher(server):
    settings = Settings().with_fetch(proxy=server.url, respect_robots=False)
    with Fetcher(settings.fetch) as f:
        yield settings, f


def test_a_site_is_read_through_robots_txt_its_index_gzip_and_nested_indexes(fetcher):
    settings, f = fetcher
    out = poll_feed(FeedSpec(url=SITE + "/", kind="site"), None, f, settings, "2026-03-05T12:00:00+00:00")
    by_url = {e.url: e for e in out.entries}
    assert sorted(by_url) == [f"{SITE}/a/0", f"{SITE}/a/1", f"{SITE}/a/2"]
    first = by_url[f"{SITE}/a/1"]
    assert (first.title, first.published_at, first.source_kind) == ("First", "2026-03-05T08:00:00+00:00", "sitemap")
    assert (first.feed_name, first.categories, first.feed_url) == ("Gazette", ["a", "b"], SITE + "/")
    # index -> deeper -> deepest is one level more than max_sitemap_depth allows; news.xml was read once anyway.
    assert [d.error_class for d in out.dead] == ["sitemap_too_deep"]
    assert out.state.consecutive_failures == 0 and out.state.entries_seen == 3
    assert out.counts["entries"] == 3 and out.counts["sitemaps_read"] == 5


def test_a_site_without_sitemap_lines_falls_back_to_sitemap_xml(fetcher):
    settings, f = fetcher
    out = poll_feed(FeedSpec(url="http://nomap.example/", kind="site"), None, f, settings)
    assert [e.url for e in out.entries] == ["http://nomap.example/x"]


def test_a_later_poll_lists_only_what_is_newer_than_the_last_one(fetcher):
    settings, f = fetcher
    previous = FeedState(feed_url=SITE + "/index.xml", last_polled_at="2026-03-04T12:00:00+00:00",
                         last_status=200, consecutive_failures=0, entries_seen=3)
    out = poll_feed(FeedSpec(url=SITE + "/index.xml", kind="sitemap"), previous, f, settings)
    assert [e.url for e in out.entries] == [f"{SITE}/a/1"]
    assert out.counts["sitemap_entries_old"] == 1 and out.counts["sitemaps_not_modified"] == 1


def test_a_urlset_is_polled_with_conditional_get(fetcher, server):
    settings, f = fetcher
    spec = FeedSpec(url=SITE + "/news.xml", kind="sitemap")
    first = poll_feed(spec, None, f, settings)
    assert first.state.etag and len(first.entries) == 2
    second = poll_feed(spec, first.state, f, settings)
    assert second.entries == () and second.state.last_status == 304 and second.counts["feeds_unchanged"] == 1


def test_a_broken_sitemap_keeps_the_entries_before_the_break_and_says_why(fetcher):
    settings, f = fetcher
    out = poll_feed(FeedSpec(url=SITE + "/broken.xml", kind="sitemap"), None, f, settings)
    assert [e.url for e in out.entries][:2] == [f"{SITE}/b/1", f"{SITE}/b/2"]
    assert [d.error_class for d in out.dead if d.error_class != "bad_link"][:1] == ["sitemap_broken"]
    assert "line 1" in next(d.message for d in out.dead if d.error_class == "sitemap_broken")


def test_a_missing_sitemap_fails_the_source(fetcher):
    settings, f = fetcher
    out = poll_feed(FeedSpec(url=SITE + "/gone.xml", kind="sitemap"), None, f, settings)
    assert out.entries == () and out.state.consecutive_failures == 1
    assert [d.error_class for d in out.dead] == ["http_404"]
