"""Streaming deduplication: every article visits one stateful story index (`AssignStories`).

A new article is compared with the index before it joins it, so it learns its story from older
copies' final assignments: one pass, no cycle. The index (transforms/dedup/story_index.py) is
bounded by an event-time horizon; its Beam state is an append-only log compacted at
`state_log_slack` x live members, decoded once per process (beam_common/shared_cache.py). The
full story, and why no timers: ARCHITECTURE.md, "Deduplication with bounded state".
"""
from __future__ import annotations

import typing

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.transforms.window import GlobalWindows, TimestampedValue

from schemas.settings import Settings
from schemas.types import Article, StoryIndexRow
from transforms.beam_common.metrics import counter, skipped
from transforms.beam_common.shared_cache import new_scope, shared
from transforms.beam_common.state_log import StateLog, log_spec, version_spec
from transforms.dedup.beam_lookups import DropStoredArticles
from transforms.dedup.beam_sign import INDEX, STAGE, SignArticle
from transforms.dedup.stories import Member, event_ts, index_row, sign
from transforms.dedup.story_index import StoryIndex
from transforms.util.times import iso, utc_now

INDEX_KEY = "stories"
KEYED = typing.Tuple[str, typing.Tuple[Article, Member]]  # typed, so the state's key coder is deterministic
INDEX_STATS = "index_stats"  # optional output: the index's size after each article (tests, diagnostics)


@beam.typehints.with_input_types(KEYED)
class AssignStories(beam.DoFn):
    """Keyed (INDEX_KEY, (article, member)) in; Article rows with story id, duplicate_of and story agency out,
    each followed by its StoryIndexRow.

    `lookup` seeds an empty index with the stored story_index rows within one horizon of the
    newest stored article (signatures as stored, never re-computed), so a restarted stream keeps
    the stories it had. Every article's own story_index row leaves on the INDEX output.
    """

    LOG = log_spec("index_log")
    VERSION = version_spec("index_version")

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

    def _index(self, key, log, version) -> StateLog:
        dedup = self._settings.dedup
        state = StateLog(self._cache, key, log, version, lambda records: StoryIndex.from_records(records, dedup))
        if state.rebuilt and state.version == 0:
            index = StoryIndex(dedup)
            for member, content_hash in (self._lookup.recent_index() if self._lookup is not None else ()):
                if member.article_id not in index.members:
                    index.add(member, content_hash)
            counter(STAGE, "index_seeded").inc(len(index.members))
            index.prune(force=True)
            state.seed(index, index.live_records())
        elif state.rebuilt:
            counter(STAGE, "index_rebuilds").inc()
        return state

    def process(self, keyed, log=beam.DoFn.StateParam(LOG), version=beam.DoFn.StateParam(VERSION)):
        key, (article, member) = keyed
        state = self._index(key, log, version)
        index = state.value
        outcome = index.assign(member, article.content_hash)
        if outcome is None:
            # The same canonical URL again (a redelivered message, a link listed twice).
            skipped(STAGE, "repeated_canonical_url")
            state.keep()
            return
        story_id, duplicate_of, agency, joined = outcome
        expired = index.prune()
        if expired:
            counter(STAGE, "index_expired").inc(expired)
        if state.write(StoryIndex.record(*index.members[joined.article_id]), index.live_records,
                       len(index.members), self._settings.dedup.state_log_slack):
            counter(STAGE, "index_compactions").inc()
        beam.metrics.Metrics.gauge(f"wiredesk.{STAGE}", "index_members").set(len(index.members))
        if self._report_index:
            yield beam.pvalue.TaggedOutput(INDEX_STATS, dict(index.stats(), article_id=article.article_id,
                                                             expired=expired, version=state.version))
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


class DeduplicateStreaming(beam.PTransform):
    """Draft rows of a stream in; {'articles', 'story_index'} out, stories assigned by one stateful index.

    A stream has no end to group at, so the batch path's GroupByKey per band cannot serve; the
    builder picks this composite for --streaming runs, under the same 'Deduplicate' label.
    """

    def __init__(self, settings: Settings, lookup=None):
        super().__init__()
        self._settings = settings
        self._lookup = lookup

    def expand(self, drafts):
        settings = self._settings
        articles = drafts | "Take Articles" >> beam.Map(lambda d: d.article).with_output_types(Article)
        if self._lookup is not None:
            articles = articles | "Drop Stored Articles" >> beam.ParDo(DropStoredArticles(self._lookup))
        signed = (articles
                  | "Sign Articles" >> beam.ParDo(SignForIndex(settings.dedup)).with_output_types(KEYED)
                  # The index lives in the global window: a story spans any fixed window of arrival.
                  | "Window Index" >> beam.WindowInto(GlobalWindows()))
        out = (signed
               | "Assign Stories" >> beam.ParDo(AssignStories(settings, self._lookup))
               | "Split Index Rows" >> beam.ParDo(SplitIndexRows()).with_output_types(Article)
               .with_outputs(INDEX, main="articles"))
        return {"articles": out["articles"], INDEX: out[INDEX]}


class SplitIndexRows(beam.DoFn):
    """Assign Stories' output in; Article rows on the main output, story_index rows on INDEX."""

    def process(self, row):
        yield pvalue.TaggedOutput(INDEX, row) if isinstance(row, StoryIndexRow) else row
