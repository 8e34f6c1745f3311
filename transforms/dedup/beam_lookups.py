"""Dedup steps that ask the warehouse: articles already stored, and stored stories to join."""
from __future__ import annotations

from apache_beam.utils.windowed_value import WindowedValue

from transforms.beam_common.lookups import LookUpInBundles
from transforms.beam_common.metrics import skipped
from transforms.dedup.beam_sign import STAGE
from transforms.dedup.minhash import band_ints


class DropStoredArticles(LookUpInBundles):
    """Skips articles whose canonical URL is already a row (reached through another link)."""

    def resolve(self, pending):
        stored = self._lookup.stored_ids(wv.value.article_id for wv in pending)
        for wv in pending:
            if wv.value.article_id in stored:
                skipped(STAGE, "already_stored")
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
