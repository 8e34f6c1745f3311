"""ReadFeeds (batch: poll each feed once) and ReadFeedsStreaming (entries from a given source).

Both emit {'entries', 'items', 'dead_letters', 'feed_state'}: FeedEntry rows, one per canonical link,
not already stored, and the Drafts agency endpoints delivered (the Pub/Sub source has none). A poll
is `poll.poll_feed`; the streaming source (the Dataflow SDF, Pub/Sub, or the local live stream) is
a PTransform the builder chooses and hands in. See ARCHITECTURE.md.
"""
from __future__ import annotations

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.transforms.window import FixedWindows, GlobalWindows

from schemas.settings import Settings
from schemas.types import FeedEntry
from transforms.beam_common.dead_letters import DEAD, guarded_pardo
from transforms.beam_common.metrics import count_all, skipped
from transforms.feeds.beam_links import KEYED, LINKS_KEY, KeepFirstLink
from transforms.feeds.beam_lookups import DropStoredEntries, LookUpFeedStates
from transforms.feeds.poll import ITEMS, STAGE, STATE, poll_feed
from transforms.feeds.tracks import TICKS
from transforms.feeds.urls import canonical_url, host_of
from transforms.fetch.stage import FetcherDoFn


class FetchAndParseFeed(FetcherDoFn):
    """Polls one feed (conditional GET, parse) and emits its entries, feed state and dead letters."""

    def process(self, spec, states=None):
        yield from self._poll(spec, states)

    def _poll(self, spec, states):
        outcome = poll_feed(spec, (states or {}).get(spec.url), self._fetcher, self._settings)
        count_all(STAGE, outcome.counts)
        yield from outcome.entries
        for draft in outcome.items:
            yield pvalue.TaggedOutput(ITEMS, draft)
        for dead in outcome.dead:
            yield pvalue.TaggedOutput(DEAD, dead)
        yield pvalue.TaggedOutput(STATE, outcome.state)


class FetchFeedsOfHost(FetchAndParseFeed):
    """All feeds of one host, one after another: a host never sees two feed requests from us at once.

    Without this, feeds of one host spread over workers were polled in parallel, each worker with
    its own politeness clock (found by the load test). A failure of one feed stays that feed's.
    """

    def process(self, keyed, states=None):
        _, specs = keyed
        for spec in sorted(specs, key=lambda s: s.url):
            yield from self._poll(spec, states)


def keep_first_entry(keyed):
    """One entry per link: an article listed in two feeds, or a repeated guid, is fetched once."""
    _, entries = keyed
    ordered = sorted(entries, key=lambda e: (e.feed_url, e.entry_id))
    for _ in ordered[1:]:
        skipped(STAGE, "repeated_link")
    yield ordered[0]


class ReadFeeds(beam.PTransform):
    """Feed specs in; FeedEntry rows out, plus 'dead_letters' and 'feed_state' outputs."""

    def __init__(self, settings: Settings, lookup=None):
        super().__init__()
        self._settings = settings
        # The warehouse's batched look-ups (feed state, links already stored); None: a fresh start.
        self._lookup = lookup

    def expand(self, specs):
        states = None
        if self._lookup is not None:
            stored = specs | "Look Up Feed States" >> beam.ParDo(LookUpFeedStates(self._lookup))
            states = beam.pvalue.AsDict(stored)
        by_host = (specs
                   | "Key Feeds By Host" >> beam.Map(lambda s: (host_of(s.url), s))
                   | "Group Feeds By Host" >> beam.GroupByKey())
        read = guarded_pardo(by_host, "Fetch And Parse Feeds", STAGE, FetchFeedsOfHost(self._settings),
                             states=states, main="entries", extra=(STATE, ITEMS))
        entries = read["entries"]
        if self._lookup is not None:
            entries = entries | "Drop Known Entries" >> beam.ParDo(DropStoredEntries(self._lookup))
        unique = (entries
                  | "Key By Link" >> beam.Map(lambda e: (canonical_url(e.url), e))
                  | "Group By Link" >> beam.GroupByKey()
                  | "Keep First Entry" >> beam.FlatMap(keep_first_entry).with_output_types(FeedEntry))
        return {"entries": unique, ITEMS: read[ITEMS], DEAD: read[DEAD], STATE: read[STATE]}


class ReadFeedsStreaming(beam.PTransform):
    """Feed specs in; the source's entries, not stored and first of their link, in fixed windows.

    `source` is a labelled PTransform ("Poll Feeds" >> PollFeeds(...), the local live stream, or
    "Read Entry Messages" >> ReadEntriesFromPubSub(...)) applied to the specs; it returns
    {'entries', 'dead_letters', 'feed_state'} and maybe 'ticks'.
    """

    def __init__(self, settings: Settings, source: beam.PTransform, lookup=None):
        super().__init__()
        self._settings = settings
        self._source = source
        self._lookup = lookup

    def expand(self, specs):
        settings = self._settings
        read = specs | self._source
        entries = read["entries"]
        if self._lookup is not None:
            entries = entries | "Drop Known Entries" >> beam.ParDo(DropStoredEntries(self._lookup))

        # Micro-batches of arrival for the shuffles downstream (links, hosts): fixed windows of poll
        # (or, for Pub/Sub, arrival) time. Processing-time triggers would suit Pub/Sub better, but the
        # FnApiRunner has none and the local Pub/Sub reader holds processing time while a pull waits.
        def window():
            return beam.WindowInto(FixedWindows(settings.stream.window_s))

        unique = (entries
                  | "Window Links" >> beam.WindowInto(GlobalWindows())
                  | "Key By Link" >> beam.Map(lambda e: (LINKS_KEY, e)).with_output_types(KEYED)
                  | "Keep First Link" >> beam.ParDo(KeepFirstLink(settings.dedup.horizon_hours * 3600.0,
                                                                  settings.dedup.state_log_slack))
                  | "Window Entries" >> window().with_output_types(FeedEntry))
        out = {"entries": unique,
               DEAD: read[DEAD] | "Window Feed Dead Letters" >> window(),
               STATE: read[STATE] | "Window Feed State" >> window()}
        if ITEMS in read:
            out[ITEMS] = read[ITEMS] | "Window Items" >> window()
        if TICKS in read:
            out[TICKS] = read[TICKS]
        return out
