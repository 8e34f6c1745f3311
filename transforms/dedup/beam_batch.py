"""Batch deduplication: one row per canonical URL, and every copy of a story under the story's first id."""
from __future__ import annotations

import collections

import apache_beam as beam
from apache_beam import pvalue

from schemas.settings import Settings
from schemas.types import Article
from transforms.beam_common.metrics import counter, skipped
from transforms.dedup.beam_lookups import DropStoredArticles, FindStoredStories
from transforms.dedup.beam_sign import INDEX, STAGE, SignArticle
from transforms.dedup.minhash import band_ints
from transforms.dedup.stories import assign_component, compare_in_band, index_row, union_roots
from transforms.util.times import iso, utc_now


class ResolveStories(beam.DoFn):
    """Joins matched members into stories (union-find); the story id is its earliest member's."""

    def process(self, keyed):
        _, items = keyed
        nodes, edges = {}, []
        for kind, value in items:
            if kind == "node":
                # A new article and a stored row of the same id (left by a run that died before its
                # article row landed): the new one is the article being decided now.
                if value.story_id is None or value.article_id not in nodes:
                    nodes[value.article_id] = value
            else:
                edges.append(value)
        roots = union_roots(nodes, edges)
        groups = collections.defaultdict(list)
        for node in nodes:
            groups[roots[node]].append(nodes[node])
        for members in groups.values():
            yield from assign_component(members)


def keep_first_article(keyed):
    """One article per canonical URL (two feed links to one page): the earliest listed wins."""
    _, articles = keyed
    ordered = sorted(articles, key=lambda a: (a.published_at or "", a.url or "", a.feed_url or ""))
    for _ in ordered[1:]:
        skipped(STAGE, "repeated_canonical_url")
    yield ordered[0]


class FinishArticles(beam.DoFn):
    """Article, its story and its Member in; the final Article row out, plus its story_index row."""

    def __init__(self, version: str, bands: int):
        self._version = version
        self._bands = bands

    def process(self, joined):
        article_id, grouped = joined
        stories, members = list(grouped["stories"]), list(grouped["members"])
        story_id, duplicate_of, agency = stories[0] if stories else (article_id, None, None)
        for article in grouped["articles"]:
            counter(STAGE, "articles").inc()
            if duplicate_of:
                counter(STAGE, "story_copies").inc()
            yield article._replace(story_id=story_id, duplicate_of=duplicate_of, story_agency=agency,
                                   ingested_at=iso(utc_now()), pipeline_version=self._version)
            if members:
                yield pvalue.TaggedOutput(INDEX, index_row(members[0], article.content_hash, story_id, agency,
                                                           self._bands))


def keep_one(keyed):
    return next(iter(keyed[1]))


class DeduplicateBatch(beam.PTransform):
    """Draft rows in; {'articles': final Article rows, 'story_index': their signatures and stories} out.

    `lookup` (a DuckDBLookup or BigQueryLookup) lets a rerun skip stored articles and join the
    stored stories whose band keys this run's articles share, inside the dedup horizon. Without
    it, only this run's articles are compared. A stream uses DeduplicateStreaming instead.
    """

    def __init__(self, settings: Settings, lookup=None):
        super().__init__()
        self._settings = settings
        self._lookup = lookup

    def expand(self, drafts):
        dedup = self._settings.dedup
        articles = drafts | "Take Articles" >> beam.Map(lambda d: d.article).with_output_types(Article)
        if self._lookup is not None:
            articles = articles | "Drop Stored Articles" >> beam.ParDo(DropStoredArticles(self._lookup))
        unique = (articles
                  | "Key By Article" >> beam.Map(lambda a: (a.article_id, a))
                  | "Group By Article" >> beam.GroupByKey()
                  | "Keep First Article" >> beam.FlatMap(keep_first_article).with_output_types(Article))
        members = unique | "Sign Articles" >> beam.ParDo(SignArticle(dedup))
        every = members
        if self._lookup is not None:
            stored = (members
                      | "Find Stored Stories" >> beam.ParDo(FindStoredStories(self._lookup, dedup))
                      | "Key Stored Members" >> beam.Map(lambda m: (m.article_id, m))
                      | "Group Stored Members" >> beam.GroupByKey()
                      | "Keep One Stored Member" >> beam.Map(keep_one))
            every = (members, stored) | "Add Stored Members" >> beam.Flatten()
        edges = (every
                 | "Key By Band" >> beam.FlatMap(lambda m: [(k, m) for k in band_ints(m.signature, dedup.bands)])
                 | "Group By Band" >> beam.GroupByKey()
                 | "Compare In Band" >> beam.FlatMap(compare_in_band, dedup))
        nodes = every | "Tag Nodes" >> beam.Map(lambda m: (None, ("node", m)))
        tagged_edges = edges | "Tag Edges" >> beam.Map(lambda e: (None, ("edge", e)))
        stories = ((nodes, tagged_edges)
                   | "Gather Graph" >> beam.Flatten()
                   | "Group Graph" >> beam.GroupByKey()
                   | "Resolve Stories" >> beam.ParDo(ResolveStories()))
        keyed = unique | "Key Articles" >> beam.Map(lambda a: (a.article_id, a))
        signed = members | "Key Members" >> beam.Map(lambda m: (m.article_id, m))
        out = ({"articles": keyed, "stories": stories, "members": signed}
               | "Join Stories" >> beam.CoGroupByKey()
               | "Assign Stories" >> beam.ParDo(FinishArticles(self._settings.pipeline_version, dedup.bands))
               .with_output_types(Article).with_outputs(INDEX, main="articles"))
        return {"articles": out["articles"], INDEX: out[INDEX]}
