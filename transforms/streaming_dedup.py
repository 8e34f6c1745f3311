"""Streaming deduplication: one stateful story index with an event-time horizon.

Batch resolves stories with a GroupByKey per LSH band and a global union-find (see
deduplicate.py). A stream has no "end" to group at, so here every article visits one stateful
`AssignStories` DoFn (a single key, "stories"), which holds the recent past as an index:

* members: article id -> (event time, MinHash signature, shingle count, agency, story id);
* LSH buckets: band key -> member ids (candidates, verified like batch with max(Jaccard,
  containment) >= threshold and |dt| <= horizon);
* exact copies: content hash -> member id;
* stories: story id -> live member ids (for the story agency vote).

A new article is compared with the index *before* it joins it, so it learns the story id of an
older copy from that copy's own, already final, assignment: no second pass, no cycle in the
graph. The story id is that of the earliest matched member's story (which, when copies arrive in
publication order, is the earliest member's id, as in batch); a copy that matches nothing starts
a story under its own id. Rows are never rewritten, so a copy that arrives *after* a later
published copy joins that story's id rather than re-rooting it.

Bounded state: the index keeps an event-time clock (the latest published_at seen) and drops a
member once the clock is a horizon past the later of the member's own time and the clock when it
arrived (so a backfill of old articles still meets its copies), and only once `min_keep_arrivals`
articles have arrived after it (so an article from today, arriving in the middle of a backfill,
does not expire the old stories whose copies are still arriving), checked when the clock has moved
on by `prune_step`, i.e. prune on access. Timers are not used: on the local FnApiRunner a
streaming source moves the watermark to the end at once, so event-time timers would fire early
(DESIGN.md §6). Expired members leave the
Beam state too: the state is an append-only bag of small records plus a version number, and it is
rewritten (compacted) to the live members when it holds `state_log_slack` (1.5) times as many
records as live members.

Speed: decoding the bag on every element would cost O(index) per article (and on the
FnApiRunner every state read computes a deep size). So the decoded index stays in memory, shared
by the DoFn's copies in the process (transforms/shared_cache.py) and tagged with the version it was
built from; an element reads only the version number, and rebuilds from the bag only when someone
else has written since (the version differs).
"""
from __future__ import annotations

import collections
import pickle

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.coders import BytesCoder, VarIntCoder
from apache_beam.transforms import userstate
from apache_beam.transforms.window import GlobalWindows, TimestampedValue

from pipeline.settings import DedupSettings, Settings
from schemas.types import Article, StoryIndexRow
from transforms.common import counter, iso, skipped, utc_now
from transforms.deduplicate import INDEX, STAGE, SignArticle
from transforms.minhash import band_ints  # noqa: F401 - also imported from here by older code
from transforms.shared_cache import new_scope, shared
from transforms.stories import Member, event_ts, index_row, is_same_story, order_key, sign, story_agency

INDEX_KEY = "stories"
INDEX_STATS = "index_stats"  # optional output: the index's size after each article (tests, diagnostics)
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

    def needs_compaction(self) -> bool:
        return self.records > self.dedup.state_log_slack * len(self.members) + 256

    def stats(self) -> dict:
        return {"members": len(self.members), "buckets": len(self.buckets), "stories": len(self.stories),
                "hashes": len(self.hashes), "records": self.records}


class AssignStories(beam.DoFn):
    """Keyed (INDEX_KEY, (article, member)) in; Article rows with story id, duplicate_of and story agency out,
    each followed by its StoryIndexRow.

    `lookup` seeds an empty index with the stored story_index rows within one horizon of the
    newest stored article (signatures as stored, never re-computed), so a restarted stream keeps
    the stories it had. Every article's own story_index row leaves on the INDEX output.
    """

    LOG = userstate.BagStateSpec("index_log", BytesCoder())
    VERSION = userstate.ReadModifyWriteStateSpec("index_version", VarIntCoder())

    def __init__(self, settings: Settings, lookup=None, report_index: bool = False):
        self._settings = settings
        self._lookup = lookup
        self._report_index = report_index
        self._scope = new_scope()
        self._cache: dict = {}

    def setup(self):
        # key -> (version, StoryIndex), shared by this DoFn's copies in the process: the local
        # streaming runner makes a copy per bundle, and the version check catches state written
        # by anyone else (another worker, a retried bundle).
        self._cache = shared(self._scope, "index", dict)

    def _index(self, key, log, version):
        current = version.read() or 0
        cached = self._cache.get(key)
        if cached is not None and cached[0] == current:
            return current, cached[1]
        dedup = self._settings.dedup
        if current == 0:
            index = StoryIndex(dedup)
            for member, content_hash in (self._lookup.recent_index() if self._lookup is not None else ()):
                if member.article_id not in index.members:
                    index.add(member, content_hash)
            counter(STAGE, "index_seeded").inc(len(index.members))
            index.prune(force=True)
            for raw in index.live_records():
                log.add(raw)
            index.records = len(index.members)
        else:
            counter(STAGE, "index_rebuilds").inc()
            index = StoryIndex.from_records(log.read(), dedup)
        return current, index

    def process(self, keyed, log=beam.DoFn.StateParam(LOG), version=beam.DoFn.StateParam(VERSION)):
        key, (article, member) = keyed
        current, index = self._index(key, log, version)
        outcome = index.assign(member, article.content_hash)
        if outcome is None:
            # The same canonical URL again (a redelivered message, a link listed twice).
            skipped(STAGE, "repeated_canonical_url")
            self._cache[key] = (current, index)
            return
        story_id, duplicate_of, agency, joined = outcome
        expired = index.prune()
        if expired:
            counter(STAGE, "index_expired").inc(expired)
        if index.needs_compaction():
            log.clear()
            for raw in index.live_records():
                log.add(raw)
            index.records = len(index.members)
            counter(STAGE, "index_compactions").inc()
        else:
            log.add(StoryIndex.record(*index.members[joined.article_id]))
            index.records += 1
        version.write(current + 1)
        self._cache[key] = (current + 1, index)
        beam.metrics.Metrics.gauge(f"wiredesk.{STAGE}", "index_members").set(len(index.members))
        if self._report_index:
            yield beam.pvalue.TaggedOutput(INDEX_STATS, dict(index.stats(), article_id=article.article_id,
                                                             expired=expired, version=current + 1))
        counter(STAGE, "articles").inc()
        if duplicate_of:
            counter(STAGE, "story_copies").inc()
        yield TimestampedValue(
            article._replace(story_id=story_id, duplicate_of=duplicate_of, story_agency=agency,
                             ingested_at=iso(utc_now()), pipeline_version=self._settings.pipeline_version),
            member.published_ts)
        # On the main output too (split off after this step): a tagged output would nest the
        # stateful step one label deeper, and a running stream's state is found by that label.
        yield TimestampedValue(index_row(joined, article.content_hash, story_id, agency, self._settings.dedup.bands),
                               member.published_ts)


class SignForIndex(SignArticle):
    """Article -> (INDEX_KEY, (article, Member)), stamped with its event time (published_at, else fetched_at)."""

    def process(self, article):
        member = sign(self._hasher, self._dedup, article.article_id, article.body, event_ts(article),
                      article.agency)
        yield TimestampedValue((INDEX_KEY, (article, member)), member.published_ts)


def expand_streaming(drafts, settings: Settings, lookup=None) -> dict:
    """The body of Deduplicate when the pipeline streams (called from Deduplicate.expand)."""
    from transforms.beam_lookups import DropStoredArticles

    articles = drafts | "Take Articles" >> beam.Map(lambda d: d.article).with_output_types(Article)
    if lookup is not None:
        articles = articles | "Drop Stored Articles" >> beam.ParDo(DropStoredArticles(lookup))
    signed = (articles
              | "Sign Articles" >> beam.ParDo(SignForIndex(settings.dedup))
              # The index lives in the global window: a story spans any fixed window of arrival.
              | "Window Index" >> beam.WindowInto(GlobalWindows()))
    out = (signed
           | "Assign Stories" >> beam.ParDo(AssignStories(settings, lookup))
           | "Split Index Rows" >> beam.ParDo(SplitIndexRows()).with_output_types(Article)
           .with_outputs(INDEX, main="articles"))
    return {"articles": out["articles"], INDEX: out[INDEX]}


class SplitIndexRows(beam.DoFn):
    """Assign Stories' output in; Article rows on the main output, story_index rows on INDEX."""

    def process(self, row):
        yield pvalue.TaggedOutput(INDEX, row) if isinstance(row, StoryIndexRow) else row
