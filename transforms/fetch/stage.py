"""FetchArticles: fetch every entry's page, one host at a time, honouring robots.txt and the caps."""
from __future__ import annotations

import apache_beam as beam

from schemas.settings import Settings
from schemas.types import FeedEntry, Page
from transforms.beam_common.dead_letters import emit_dead, guarded_pardo
from transforms.beam_common.metrics import counter, skipped
from transforms.beam_common.shared_cache import forget, new_scope, shared
from transforms.feeds.urls import host_of
from transforms.fetch.client import Fetcher
from transforms.fetch.errors import FetchError
from transforms.util.times import iso, utc_now

STAGE = "fetch"


class FetcherDoFn(beam.DoFn):
    """A DoFn whose copies in one process share a Fetcher: its connection pools, robots cache and host gaps."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._scope = new_scope()
        self._fetcher = None

    def setup(self):
        # Shared, not per copy: the local streaming runner makes a copy per bundle, and a fresh
        # fetcher would forget robots.txt and the host gaps between bundles.
        self._fetcher = shared(self._scope, "fetcher", lambda: Fetcher(self._settings.fetch))

    def close_shared(self) -> None:
        """Close the shared fetcher, for owners that run this DoFn outside a pipeline."""
        forget(self._scope)


class FetchHostBatch(FetcherDoFn):
    """Fetches one host's entries in sequence, so a host never sees parallel requests from us."""

    def process(self, keyed):
        _, entries = keyed
        for entry in sorted(entries, key=lambda e: e.url):
            counter(STAGE, "requested").inc()
            try:
                # get() reads robots.txt itself (cached per host) and spaces requests by Crawl-delay.
                response = self._fetcher.get(entry.url)
            except FetchError as err:
                if err.reason == "robots_disallowed":
                    skipped(STAGE, "robots_disallowed")
                else:
                    yield emit_dead(STAGE, err.reason, err.message, url=entry.url, feed_url=entry.feed_url,
                                    attempt=err.attempts)
                continue
            except Exception as err:  # noqa: BLE001 - a fetcher bug on one URL must not lose the host's batch
                # Beam's exception handling would drop the whole batch's outputs; keep it per entry.
                yield emit_dead(STAGE, "unexpected_error", f"{type(err).__name__}: {err}", url=entry.url,
                                feed_url=entry.feed_url)
                continue
            counter(STAGE, "pages").inc()
            yield Page(entry=entry, final_url=response.final_url, status=response.status,
                       content_type=response.content_type, charset=response.charset, body=response.body,
                       fetched_at=iso(utc_now()), attempts=response.attempts)


class FetchArticles(beam.PTransform):
    """FeedEntry rows in; Page rows out, plus a 'dead_letters' output. Robots skips are counted."""

    def __init__(self, settings: Settings):
        super().__init__()
        self._settings = settings

    def expand(self, entries):
        batches = (entries
                   | "Key By Host" >> beam.Map(lambda e: (host_of(e.url), e)).with_output_types(
                       beam.typehints.KV[str, FeedEntry])
                   | "Group By Host" >> beam.GroupByKey())
        return guarded_pardo(batches, "Fetch Pages", STAGE, FetchHostBatch(self._settings), main="pages")
