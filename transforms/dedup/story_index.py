"""The streaming story index: the recent past of a stream, in plain Python (no Beam here).

Members (article id -> event time, signature, shingle count, agency, story id), LSH buckets,
exact content hashes and story membership, bounded by an event-time horizon and an arrival
floor. ARCHITECTURE.md ("Deduplication with bounded state") tells why each rule exists;
transforms/dedup/beam_streaming.py keeps it in Beam state.
"""
from __future__ import annotations

import collections
import pickle

from schemas.settings import DedupSettings
from transforms.dedup.minhash import band_ints
from transforms.dedup.stories import Member, is_same_story, order_key, story_agency

_RECORD = 2  # record format version, first field of every pickled record (1: without arrival number)


class StoryIndex:
    """The recent past of the stream: members, LSH buckets, exact hashes and stories."""

    def __init__(self, dedup: DedupSettings, prune_step_s: float | None = None):
        self.dedup = dedup
        self.horizon_s = dedup.horizon_hours * 3600.0
        self.prune_step_s = prune_step_s if prune_step_s is not None else self.horizon_s / 48.0
        self.members: dict = {}
        self.hashes: dict = {}  # content hash -> article id
        self.buckets: dict = {}  # band int -> article id, or list of ids when shared
        self.stories: dict = collections.defaultdict(list)
        self.clock = float("-inf")  # event time: the latest published_at seen
        self.pruned_at = float("-inf")
        self.arrivals = 0  # members added so far; each member keeps its arrival number
        self.records = 0  # records in the Beam bag this index was built from / has written

    # -- building -------------------------------------------------------------------------
    def add(self, member: Member, content_hash: str | None, keep_from: float | None = None,
            arrived: int | None = None) -> None:
        # A member lives for `horizon` of event time after the later of its own time and the
        # stream's clock when it arrived: an old article arriving late (a backfill) still meets
        # its own copies, and memory stays bounded by what arrives within one horizon.
        self.clock = max(self.clock, member.published_ts)
        keep_from = max(member.published_ts, self.clock if keep_from is None else keep_from)
        self.arrivals = max(self.arrivals + 1, arrived or 0)
        self.members[member.article_id] = (member, content_hash, keep_from, arrived or self.arrivals)
        if content_hash:
            self.hashes.setdefault(content_hash, member.article_id)
        for key in band_ints(member.signature, self.dedup.bands):
            found = self.buckets.get(key)
            if found is None:
                self.buckets[key] = member.article_id
            elif isinstance(found, list):
                found.append(member.article_id)
            else:
                self.buckets[key] = [found, member.article_id]
        self.stories[member.story_id].append(member.article_id)

    @staticmethod
    def record(member: Member, content_hash: str | None, keep_from: float, arrived: int) -> bytes:
        return pickle.dumps((_RECORD, tuple(member), content_hash, keep_from, arrived),
                            protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_records(cls, records, dedup: DedupSettings, prune_step_s: float | None = None) -> "StoryIndex":
        index = cls(dedup, prune_step_s)
        for raw in records:
            version, fields, content_hash, keep_from, *rest = pickle.loads(raw)
            index.records += 1
            member = Member(*fields)
            if member.article_id not in index.members:
                # Version 1 records carry no arrival number: they count in log order.
                index.add(member, content_hash, keep_from, rest[0] if version >= 2 else None)
        index.prune()
        return index

    def live_records(self) -> list:
        return [self.record(*entry) for entry in self.members.values()]

    # -- the one operation --------------------------------------------------------------------
    def assign(self, member: Member, content_hash: str | None):
        """(story_id, duplicate_of, story_agency, new Member) for a new article; None for a repeat."""
        if member.article_id in self.members:
            return None
        candidates = set()
        if content_hash and content_hash in self.hashes:
            candidates.add(self.hashes[content_hash])
        for key in band_ints(member.signature, self.dedup.bands):
            found = self.buckets.get(key)
            if found is None:
                continue
            if isinstance(found, list):
                candidates.update(found)
            else:
                candidates.add(found)
        matches = [m for m in (self.members[c][0] for c in candidates) if is_same_story(member, m, self.dedup)]
        if matches:
            story_id = min(matches, key=order_key).story_id
            duplicate_of = story_id
        else:
            story_id, duplicate_of = member.article_id, None
        joined = member._replace(story_id=story_id, story_agency=None)
        voters = [self.members[i][0] for i in self.stories.get(story_id, ())] + [joined]
        agency = story_agency(voters)
        self.add(joined, content_hash)
        return story_id, duplicate_of, agency, joined

    def prune(self, force: bool = False) -> int:
        """Drop members older than clock - horizon that are also min_keep_arrivals arrivals old."""
        if not force and self.clock - self.pruned_at < self.prune_step_s:
            return 0
        self.pruned_at = self.clock
        cutoff = self.clock - self.horizon_s
        # The arrival floor: one new article far ahead in time (a backfill reaching today) must not
        # drop the old articles that arrived just before it, whose own copies are still arriving.
        settled = self.arrivals - self.dedup.min_keep_arrivals
        expired = [aid for aid, (_, _, keep_from, arrived) in self.members.items()
                   if keep_from < cutoff and arrived <= settled]
        for aid in expired:
            member, content_hash, _, _ = self.members.pop(aid)
            if content_hash and self.hashes.get(content_hash) == aid:
                del self.hashes[content_hash]
            for key in band_ints(member.signature, self.dedup.bands):
                found = self.buckets.get(key)
                if isinstance(found, list):
                    found.remove(aid)
                    if len(found) == 1:
                        self.buckets[key] = found[0]
                elif found == aid:
                    del self.buckets[key]
            ids = self.stories.get(member.story_id)
            if ids is not None:
                ids.remove(aid)
                if not ids:
                    del self.stories[member.story_id]
        return len(expired)

    def stats(self) -> dict:
        return {"members": len(self.members), "buckets": len(self.buckets), "stories": len(self.stories),
                "hashes": len(self.hashes), "records": self.records}
