"""Every feed of the third-party feeds corpus goes through ReadFeeds over HTTP without a crash."""
import csv
from urllib.parse import quote

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that

from pipeline.corpus_server import CorpusServer, Route
from schemas.settings import Settings
from schemas.types import FeedSpec
from transforms.beam_common.dead_letters import DEAD, guarded_pardo
from transforms.feeds.stage import STAGE, STATE, FetchAndParseFeed

HOST = "http://feeds.example/"


def _routes(corpus):
    routes, urls, fp_entries = {}, [], {}
    with open(corpus / "feeds" / "manifest.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            url = HOST + quote(row["path"])
            header = row["simulated_http_headers"]
            ctype = header.split(":", 1)[1].strip() if header.lower().startswith("content-type:") else None
            routes[url] = Route(path=corpus / "feeds" / row["path"],
                                content_type=ctype or "application/octet-stream")
            urls.append(url)
            fp_entries[row["path"]] = int(row["fp_entries"] or 0)
    return routes, urls, fp_entries


def test_every_feed_yields_entries_or_a_reasoned_dead_letter(corpus):
    routes, urls, fp_entries = _routes(corpus)
    assert len(urls) == 2138
    settings = Settings().with_fetch(respect_robots=False, max_retries=0)
    with CorpusServer(routes) as server:
        settings = settings.with_fetch(proxy=server.url)
        with TestPipeline() as p:
            # ReadFeeds' own fetch-and-parse step, before links repeated across feeds are merged.
            specs = p | beam.Create([FeedSpec(url=u) for u in urls])
            read = guarded_pardo(specs, "Fetch And Parse Feeds", STAGE, FetchAndParseFeed(settings),
                                 main="entries", extra=(STATE,))
            entries = read["entries"] | "Entry Feeds" >> beam.Map(lambda e: ("entry", e.feed_url))
            dead = read[DEAD] | "Dead Feeds" >> beam.Map(
                lambda d: ("dead", d.feed_url, d.stage, d.error_class, d.url is not None or d.error_class in (
                    "missing_link", "relative_link", "bad_link_scheme", "link_too_long")))
            states = read[STATE] | "State Feeds" >> beam.Map(lambda s: ("state", s.feed_url))
            everything = ((entries, dead, states) | beam.Flatten()
                          | beam.combiners.ToList())

            def check(lists):
                (items,) = lists
                with_entries = {i[1] for i in items if i[0] == "entry"}
                dead_feeds = {i[1] for i in items if i[0] == "dead"}
                polled = {i[1] for i in items if i[0] == "state"}
                assert polled == set(urls), "every feed leaves a feed_state row"
                silent = set(urls) - with_entries - dead_feeds
                assert not silent, f"{len(silent)} feeds gave neither entries nor a dead letter: {sorted(silent)[:5]}"
                for item in items:
                    if item[0] == "dead":
                        assert item[2] == "read_feeds" and item[3], item
                # Feeds where feedparser itself finds entries (the manifest's record) must give us
                # entries too, each either a FeedEntry or an entry-level dead letter (no link, bad link).
                with_entry_dead = {i[1] for i in items if i[0] == "dead" and i[4]}
                expected = {HOST + quote(p) for p, n in fp_entries.items() if n > 0}
                missing = expected - with_entries - with_entry_dead
                assert not missing, f"{len(missing)} feeds lost their entries: {sorted(missing)[:5]}"

            assert_that(everything, check)
