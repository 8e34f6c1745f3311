"""Beam steps that ask the warehouse about this run's keys, one batched query per bundle.

They replace the sets of every stored URL, id and story that used to be read in the launcher and
embedded in the job graph: the work now follows what a run brings. `lookup` is a picklable
DuckDBLookup or BigQueryLookup (pipeline/prepare.py picks it). Elements keep their own timestamp
and window, so these steps sit anywhere in a batch or a streaming graph.
"""
from __future__ import annotations

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from transforms.common import skipped
from transforms.minhash import band_ints
from transforms.urls import canonical_url


class LookUpInBundles(beam.DoFn):
    """Collects a bundle's elements and resolves them together with `resolve(pending)`."""

    # One query per this many elements at most, so a huge batch bundle stays a few queries.
    MAX_PENDING = 5000

    def __init__(self, lookup):
        self._lookup = lookup
        self._pending: list = []

    def start_bundle(self):
        self._pending = []

    def process(self, element, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        self._pending.append(WindowedValue(element, timestamp, (window,)))
        if len(self._pending) >= self.MAX_PENDING:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()

    def teardown(self):
        self._lookup.close()

    def _flush(self):
        pending, self._pending = self._pending, []
        if pending:
            yield from self.resolve(pending)

    def resolve(self, pending: list):
        raise NotImplementedError


class DropStoredEntries(LookUpInBundles):
    """Skips feed entries whose link is already an article in the warehouse, so reruns fetch nothing twice."""

    STAGE = "read_feeds"

    def resolve(self, pending):
        links = {wv.value.url: canonical_url(wv.value.url) for wv in pending}
        stored = self._lookup.stored_links(set(links) | set(links.values()))
        for wv in pending:
            url = wv.value.url
            if url in stored or links[url] in stored:
                skipped(self.STAGE, "already_stored")
            else:
                yield wv


class DropStoredArticles(LookUpInBundles):
    """Skips articles whose canonical URL is already a row (reached through another link)."""

    STAGE = "dedup"

    def resolve(self, pending):
        stored = self._lookup.stored_ids(wv.value.article_id for wv in pending)
        for wv in pending:
            if wv.value.article_id in stored:
                skipped(self.STAGE, "already_stored")
            else:
                yield wv


class FindStoredStories(LookUpInBundles):
    """This bundle's new Members in; the stored Members that share an LSH band with them out.

    Only stored articles within one dedup horizon of the new ones are read (is_same_story would
    refuse the others anyway). A stored member may come out of several bundles: the caller keeps
    one per article id.
    """

    def __init__(self, lookup, dedup):
        super().__init__(lookup)
        self._dedup = dedup

    def resolve(self, pending):
        horizon_s = self._dedup.horizon_hours * 3600.0
        bands, times = set(), []
        for wv in pending:
            bands.update(band_ints(wv.value.signature, self._dedup.bands))
            times.append(wv.value.published_ts)
        new_ids = {wv.value.article_id for wv in pending}
        first = pending[0]
        for member, _ in self._lookup.story_candidates(bands, min(times) - horizon_s, max(times) + horizon_s):
            if member.article_id not in new_ids:
                yield WindowedValue(member, first.timestamp, first.windows)


class LookUpFeedStates(LookUpInBundles):
    """FeedSpec rows in; (feed url, stored FeedState) out for the feeds the warehouse knows."""

    def resolve(self, pending):
        states = self._lookup.feed_states(wv.value.url for wv in pending)
        first = pending[0]
        for url, state in sorted(states.items()):
            yield WindowedValue((url, state), first.timestamp, first.windows)
