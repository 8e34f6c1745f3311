"""ReadFeeds: poll each configured feed once (politely, conditionally) and emit its entries."""
from __future__ import annotations

import apache_beam as beam
from apache_beam import pvalue

from schemas.settings import Settings
from schemas.types import FeedEntry, FeedState
from transforms.beam_common.dead_letters import DEAD, emit_dead, guarded_pardo
from transforms.beam_common.metrics import counter, skipped
from transforms.util.times import iso, utc_now
from transforms.util.ids import stable_id
from transforms.feeds.parsing import NotAFeed, parse_feed
from transforms.fetch.stage import FetcherDoFn
from transforms.feeds.urls import BadLink, canonical_url, check_link, host_of

STAGE = "read_feeds"
STATE = "feed_state"


class FetchAndParseFeed(FetcherDoFn):
    """Fetches one feed with conditional GET, parses it, and emits entries, feed state and failures."""

    def process(self, spec, states=None):
        from transforms.fetch.client import FetchError

        previous = (states or {}).get(spec.url)
        polled_at = iso(utc_now())
        counter(STAGE, "feeds_polled").inc()
        headers = {}
        if previous is not None and previous.etag:
            headers["If-None-Match"] = previous.etag
        if previous is not None and previous.last_modified:
            headers["If-Modified-Since"] = previous.last_modified
        try:
            response = self._fetcher.get(spec.url, headers=headers, max_bytes=self._settings.fetch.max_feed_bytes)
        except FetchError as err:
            yield emit_dead(STAGE, err.reason, err.message, feed_url=spec.url, attempt=err.attempts)
            yield pvalue.TaggedOutput(STATE, _failed_state(spec.url, previous, polled_at, 0))
            return
        if response.status == 304:
            counter(STAGE, "feeds_unchanged").inc()
            yield pvalue.TaggedOutput(STATE, _ok_state(spec.url, previous, polled_at, 304,
                                                       previous.etag if previous else None,
                                                       previous.last_modified if previous else None,
                                                       previous.entries_seen if previous else 0))
            return
        try:
            feed = parse_feed(response.body, response.headers, base_url=response.final_url)
        except NotAFeed as err:
            yield emit_dead(STAGE, err.reason, str(err), feed_url=spec.url, payload=response.body,
                            attempt=response.attempts)
            yield pvalue.TaggedOutput(STATE, _failed_state(spec.url, previous, polled_at, response.status))
            return
        if feed["salvaged"]:
            counter(STAGE, "feeds_salvaged").inc()
        if not feed["entries"]:
            yield emit_dead(STAGE, "empty_feed", f"the feed ({feed['format']}) lists no entries",
                            feed_url=spec.url, payload=response.body, attempt=response.attempts)
        yield pvalue.TaggedOutput(STATE, _ok_state(
            spec.url, previous, polled_at, response.status, response.headers.get("etag"),
            response.headers.get("last-modified"), len(feed["entries"])))
        for index, raw in enumerate(feed["entries"]):
            counter(STAGE, "entries").inc()
            try:
                result = self._entry(spec, feed, raw, response.final_url, polled_at, index)
            except Exception as err:  # one odd entry must not take its feed's other entries with it
                counter(STAGE, "entries_invalid").inc()
                result = emit_dead(STAGE, "unexpected_error", f"{type(err).__name__}: {err}",
                                   feed_url=spec.url, payload=repr(raw), key=f"entry {index}")
            yield result

    def _entry(self, spec, feed, raw, base_url, polled_at, index=0):
        entry_key = raw.get("guid") or raw.get("link") or repr(sorted(raw.items()))
        try:
            link = check_link(raw.get("link"), base_url, self._settings.fetch.max_url_length)
        except BadLink as err:
            counter(STAGE, "entries_invalid").inc()
            # Keyed by position too: two link-less entries of one feed are two dead letters, not one.
            return emit_dead(STAGE, err.reason, str(err), url=(raw.get("link") or None), feed_url=spec.url,
                             payload=repr(raw), key=f"{entry_key}\x1f{index}")
        return FeedEntry(
            entry_id=stable_id(spec.url, entry_key),
            feed_url=spec.url,
            feed_name=spec.name or feed.get("title"),
            agency_hint=spec.agency,
            url=link,
            guid=raw.get("guid"),
            title=raw.get("title"),
            summary=raw.get("summary"),
            published_at=raw.get("published_at"),
            authors=list(raw.get("authors") or []),
            categories=list(raw.get("categories") or []),
            polled_at=polled_at,
        )


    def read_one(self, spec, states=None) -> list:
        """process() of one feed as a list; an unexpected error becomes its dead letter and failed state."""
        try:
            # This class's process(), also where a subclass's process() takes other elements.
            return list(FetchAndParseFeed.process(self, spec, states))
        except Exception as err:  # noqa: BLE001 - one poison feed must not take other feeds with it
            previous = (states or {}).get(spec.url)
            return [emit_dead(STAGE, "unexpected_error", f"{type(err).__name__}: {err}", feed_url=spec.url),
                    pvalue.TaggedOutput(STATE, _failed_state(spec.url, previous, iso(utc_now()), 0))]


class FetchFeedsOfHost(FetchAndParseFeed):
    """All feeds of one host, one after another: a host never sees two feed requests from us at once.

    Without this, feeds of one host spread over workers were polled in parallel, each worker with
    its own politeness clock (found by the load test). A failure of one feed stays that feed's.
    """

    def process(self, keyed, states=None):
        _, specs = keyed
        for spec in sorted(specs, key=lambda s: s.url):
            yield from self.read_one(spec, states)


def _ok_state(url, previous, polled_at, status, etag, last_modified, entries):
    return FeedState(feed_url=url, etag=etag, last_modified=last_modified, last_polled_at=polled_at,
                     last_status=status, consecutive_failures=0, entries_seen=entries)


def _failed_state(url, previous, polled_at, status):
    return FeedState(
        feed_url=url,
        etag=previous.etag if previous else None,
        last_modified=previous.last_modified if previous else None,
        last_polled_at=polled_at,
        last_status=status,
        consecutive_failures=(previous.consecutive_failures or 0) + 1 if previous else 1,
        entries_seen=previous.entries_seen if previous else 0,
    )


def keep_first_entry(keyed):
    """One entry per link: an article listed in two feeds, or a repeated guid, is fetched once."""
    _, entries = keyed
    ordered = sorted(entries, key=lambda e: (e.feed_url, e.entry_id))
    for _ in ordered[1:]:
        skipped(STAGE, "repeated_link")
    yield ordered[0]


class ReadFeeds(beam.PTransform):
    """Feed specs in; FeedEntry rows out, plus 'dead_letters' and 'feed_state' outputs."""

    def __init__(self, settings: Settings, lookup=None, source=None):
        super().__init__()
        self._settings = settings
        # The warehouse's batched look-ups (feed state, links already stored); None: a fresh start.
        self._lookup = lookup
        # Streaming: a poll_feeds.PollPlan (poll forever) or a pubsub.PubSubSource; None polls once.
        self._source = source

    def expand(self, specs):
        if self._source is not None:
            from transforms.feeds.beam_poll import expand_streaming

            return expand_streaming(specs, self._settings, self._source, self._lookup)
        from transforms.feeds.beam_lookups import DropStoredEntries, LookUpFeedStates

        states = None
        if self._lookup is not None:
            stored = specs | "Look Up Feed States" >> beam.ParDo(LookUpFeedStates(self._lookup))
            states = beam.pvalue.AsDict(stored)
        by_host = (specs
                   | "Key Feeds By Host" >> beam.Map(lambda s: (host_of(s.url), s))
                   | "Group Feeds By Host" >> beam.GroupByKey())
        read = guarded_pardo(by_host, "Fetch And Parse Feeds", STAGE, FetchFeedsOfHost(self._settings),
                             states=states, main="entries", extra=(STATE,))
        entries = read["entries"]
        if self._lookup is not None:
            entries = entries | "Drop Known Entries" >> beam.ParDo(DropStoredEntries(self._lookup))
        unique = (entries
                  | "Key By Link" >> beam.Map(lambda e: (canonical_url(e.url), e))
                  | "Group By Link" >> beam.GroupByKey()
                  | "Keep First Entry" >> beam.FlatMap(keep_first_entry).with_output_types(FeedEntry))
        return {"entries": unique, DEAD: read[DEAD], STATE: read[STATE]}
