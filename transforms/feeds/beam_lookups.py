"""Feed steps that ask the warehouse: stored feed state, and links already stored."""
from __future__ import annotations

from apache_beam.utils.windowed_value import WindowedValue

from transforms.beam_common.lookups import LookUpInBundles
from transforms.beam_common.metrics import skipped
from transforms.feeds.poll import STAGE
from transforms.feeds.urls import canonical_url


class DropStoredEntries(LookUpInBundles):
    """Skips feed entries whose link is already an article in the warehouse, so reruns fetch nothing twice."""

    def resolve(self, pending):
        links = {wv.value.url: canonical_url(wv.value.url) for wv in pending}
        stored = self._lookup.stored_links(set(links) | set(links.values()))
        for wv in pending:
            url = wv.value.url
            if url in stored or links[url] in stored:
                skipped(STAGE, "already_stored")
            else:
                yield wv


class LookUpFeedStates(LookUpInBundles):
    """FeedSpec rows in; (feed url, stored FeedState) out for the feeds the warehouse knows."""

    def resolve(self, pending):
        states = self._lookup.feed_states(wv.value.url for wv in pending)
        first = pending[0]
        for url, state in sorted(states.items()):
            yield WindowedValue((url, state), first.timestamp, first.windows)
