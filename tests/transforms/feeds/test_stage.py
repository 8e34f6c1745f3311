"""ReadFeeds on real feeds over HTTP: RSS, Atom, JSON Feed, a salvaged feed, and what it cannot read."""
import json

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.corpus_server import CorpusServer, Route
from schemas.settings import Settings
from schemas.types import FeedSpec
from transforms.beam_common.dead_letters import DEAD
from transforms.feeds.stage import STATE, ReadFeeds

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>One</title><link>http://wire.example/a/1</link><guid>1</guid>
<pubDate>Thu, 05 Mar 2026 10:00:00 +0530</pubDate><category>India</category></item>
<item><title>Two</title><link>/a/2</link><guid>2</guid></item>
<item><title>No link</title><guid isPermaLink="false">3</guid></item>
<item><title>Script</title><link>javascript:alert(1)</link><guid>4</guid></item>
<item><title>One again</title><link>http://wire.example/a/1?utm_source=rss</link><guid>5</guid></item>
</channel></rss>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><title>Atom one</title><link href="http://atom.example/x"/><id>urn:x</id>
<updated>2026-03-05T04:30:00Z</updated></entry></feed>"""
JSON_FEED = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [
    {"id": "j1", "url": "http://json.example/j1", "title": "Json one", "date_published": "2026-03-05T10:00:00+08:00"}
]}).encode()
BROKEN_RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Broken & bad</title>
<item><title>Salvaged</title><link>http://wire.example/s</link></item>
<item><title>Unclosed<link>http://wire.example/t</link></item></channel>"""
LOGIN = b"<!DOCTYPE html><html><body><form><input name=password></form></body></html>"


@pytest.fixture(scope="module")
def feed_server():
    routes = {
        "http://wire.example/rss": Route(body=RSS, content_type="application/rss+xml"),
        "http://atom.example/atom": Route(body=ATOM, content_type="application/atom+xml"),
        "http://json.example/feed.json": Route(body=JSON_FEED, content_type="application/feed+json"),
        "http://wire.example/broken": Route(body=BROKEN_RSS, content_type="application/rss+xml"),
        "http://login.example/feed": Route(body=LOGIN, content_type="text/html"),
    }
    with CorpusServer(routes) as server:
        yield server


def test_read_feeds_parses_rss_atom_json_and_dead_letters_what_it_cannot(feed_server):
    settings = Settings().with_fetch(proxy=feed_server.url, respect_robots=False)
    specs = [FeedSpec(url=u) for u in ("http://wire.example/rss", "http://atom.example/atom",
                                       "http://json.example/feed.json", "http://wire.example/broken",
                                       "http://login.example/feed")]
    with TestPipeline() as p:
        read = p | beam.Create(specs) | ReadFeeds(settings)
        urls = read["entries"] | "Urls" >> beam.Map(lambda e: (e.url, e.published_at))
        dead = read[DEAD] | "Reasons" >> beam.Map(lambda d: (d.feed_url, d.error_class))
        states = read[STATE] | "States" >> beam.Map(lambda s: (s.feed_url, s.last_status, s.consecutive_failures))
        assert_that(urls, equal_to([
            ("http://wire.example/a/1", "2026-03-05T04:30:00+00:00"),
            ("http://wire.example/a/2", None),  # relative link resolved against the feed
            ("http://atom.example/x", "2026-03-05T04:30:00+00:00"),
            ("http://json.example/j1", "2026-03-05T02:00:00+00:00"),
            ("http://wire.example/s", None),  # salvaged from a broken feed
        ]), label="entries")
        assert_that(dead, equal_to([
            ("http://wire.example/rss", "missing_link"),
            ("http://wire.example/rss", "bad_link_scheme"),
            ("http://wire.example/broken", "missing_link"),  # the unclosed item keeps no link
            ("http://login.example/feed", "not_a_feed"),
        ]), label="dead")
        assert_that(states, equal_to([(s.url, 200, 1 if "login" in s.url else 0) for s in specs]), label="state")
