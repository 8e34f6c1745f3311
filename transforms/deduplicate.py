"""Deduplicate: one row per canonical URL, and every copy of a story under the story's first id."""
from __future__ import annotations

import collections
import typing

import apache_beam as beam
import numpy as np

from pipeline.settings import DedupSettings, Settings
from schemas.types import Article
from transforms.common import counter, iso, parse_iso, skipped, utc_now
from transforms.minhash import MinHasher, band_keys, shingle_hashes, similarity

STAGE = "dedup"
GENERIC_AGENCY = "Agencies"


class Member(typing.NamedTuple):
    """What near-duplicate detection needs of an article: id, time, signature and known story."""

    article_id: str
    published_ts: float
    signature: bytes
    size: int
    agency: typing.Optional[str]
    story_id: typing.Optional[str]  # set for articles already in the warehouse
    story_agency: typing.Optional[str]


def _ts(article) -> float:
    moment = parse_iso(article.published_at) or parse_iso(article.fetched_at)
    return moment.timestamp() if moment else 0.0


def sign(hasher: MinHasher, dedup: DedupSettings, article_id: str, body: str | None, published_ts: float,
         agency: str | None, story_id: str | None = None, story_agency: str | None = None) -> Member:
    """The Member of one text: its MinHash signature and shingle count, with what stories need of it."""
    hashes = shingle_hashes(body or "", dedup.shingle_words)
    return Member(article_id, published_ts, hasher.signature(hashes).tobytes(), int(hashes.size), agency,
                  story_id, story_agency)


class SignArticle(beam.DoFn):
    """Computes the MinHash signature of an article's body."""

    def __init__(self, dedup: DedupSettings):
        self._dedup = dedup
        self._hasher = None

    def setup(self):
        self._hasher = MinHasher(self._dedup.num_perm)

    def process(self, article):
        yield sign(self._hasher, self._dedup, article.article_id, article.body, _ts(article), article.agency,
                   article.story_id, article.story_agency)


def is_same_story(a: Member, b: Member, dedup: DedupSettings) -> bool:
    if abs(a.published_ts - b.published_ts) > dedup.horizon_hours * 3600:
        return False
    sig_a = np.frombuffer(a.signature, dtype=np.uint32)
    sig_b = np.frombuffer(b.signature, dtype=np.uint32)
    jaccard, containment = similarity(sig_a, sig_b, a.size, b.size)
    # Containment catches excerpts and condensed copies, whose Jaccard with the full text is low.
    return max(jaccard, containment) >= dedup.threshold


def compare_in_band(keyed, dedup: DedupSettings):
    """All matching pairs among the members that share one LSH band key."""
    _, members = keyed
    members = sorted(members, key=lambda m: (m.published_ts, m.article_id))
    for i, member in enumerate(members):
        for other in members[:i]:
            if member.story_id is not None and other.story_id is not None:
                continue  # two stored articles: their stories are settled
            if other.article_id != member.article_id and is_same_story(member, other, dedup):
                yield member.article_id, other.article_id


class ResolveStories(beam.DoFn):
    """Joins matched members into stories (union-find); the story id is its earliest member's."""

    def process(self, keyed):
        _, items = keyed
        nodes, edges = {}, []
        for kind, value in items:
            if kind == "node":
                nodes[value.article_id] = value
            else:
                edges.append(value)
        roots = union_roots(nodes, edges)
        groups = collections.defaultdict(list)
        for node in nodes:
            groups[roots[node]].append(nodes[node])
        for members in groups.values():
            yield from _assign(members)


def union_roots(ids, edges) -> dict:
    """{id: its component's root} for the graph of ids and edges (union-find; edges to unknown ids ignored)."""
    parent = {i: i for i in ids}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        if a in parent and b in parent:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return {i: find(i) for i in parent}


def _order(member: Member):
    return member.published_ts, member.article_id


def _assign(members: list):
    members = sorted(members, key=_order)
    stored = [m for m in members if m.story_id is not None]
    story_id = stored[0].story_id if stored else members[0].article_id
    agency = story_agency(members)
    for m in members:
        if m.story_id is not None:
            continue
        yield m.article_id, (story_id, None if m.article_id == story_id else story_id, agency)


def story_agency(members: list) -> str | None:
    """The agency most copies credit; a specific wire beats the generic 'Agencies' label."""
    votes = collections.Counter(m.agency for m in members if m.agency)
    votes.update(m.story_agency for m in members if m.story_id is not None and m.story_agency)
    specific = {a: n for a, n in votes.items() if a != GENERIC_AGENCY}
    pool = specific or votes
    if not pool:
        return None
    first_credit = {}
    for m in members:
        first_credit.setdefault(m.agency, _order(m))
    return max(pool, key=lambda a: (pool[a], -first_credit.get(a, (float("inf"), ""))[0]))


class DropStoredArticles(beam.DoFn):
    """Skips articles whose canonical URL is already a row (reached through another link)."""

    def process(self, article, stored_ids):
        if article.article_id in stored_ids:
            skipped(STAGE, "already_stored")
            return
        yield article


def keep_first_article(keyed):
    """One article per canonical URL (two feed links to one page): the earliest listed wins."""
    _, articles = keyed
    ordered = sorted(articles, key=lambda a: (a.published_at or "", a.url or "", a.feed_url or ""))
    for _ in ordered[1:]:
        skipped(STAGE, "repeated_canonical_url")
    yield ordered[0]


def _finish(joined, version: str):
    article_id, grouped = joined
    articles, stories = grouped["articles"], grouped["stories"]
    story_id, duplicate_of, agency = stories[0] if stories else (article_id, None, None)
    for article in articles:
        counter(STAGE, "articles").inc()
        if duplicate_of:
            counter(STAGE, "story_copies").inc()
        yield article._replace(story_id=story_id, duplicate_of=duplicate_of, story_agency=agency,
                               ingested_at=iso(utc_now()), pipeline_version=version)


class Deduplicate(beam.PTransform):
    """Draft rows in; final Article rows out, with content hash, story id, duplicate_of and story agency.

    `stored_ids` is a one-element PCollection holding the set of article ids already in the warehouse;
    `stored_members` are Member rows of stored articles, so reruns keep the stories they had.
    With `streaming`, stories are assigned by the stateful index of transforms/streaming_dedup.py.
    """

    def __init__(self, settings: Settings, stored_ids=None, stored_members=None, streaming: bool = False):
        super().__init__()
        self._settings = settings
        self._stored_ids = stored_ids
        self._stored_members = stored_members
        self._streaming = streaming

    def expand(self, drafts):
        if self._streaming:
            # A stream has no end to group at: one stateful story index with an event-time horizon.
            from transforms.streaming_dedup import expand_streaming

            return expand_streaming(drafts, self._settings, self._stored_ids, self._stored_members)
        dedup = self._settings.dedup
        articles = drafts | "Take Articles" >> beam.Map(lambda d: d.article).with_output_types(Article)
        if self._stored_ids is not None:
            articles = articles | "Drop Stored Articles" >> beam.ParDo(
                DropStoredArticles(), beam.pvalue.AsSingleton(self._stored_ids))
        unique = (articles
                  | "Key By Article" >> beam.Map(lambda a: (a.article_id, a))
                  | "Group By Article" >> beam.GroupByKey()
                  | "Keep First Article" >> beam.FlatMap(keep_first_article).with_output_types(Article))
        members = unique | "Sign Articles" >> beam.ParDo(SignArticle(dedup))
        if self._stored_members is not None:
            members = (members, self._stored_members) | "Add Stored Members" >> beam.Flatten()
        edges = (members
                 | "Key By Band" >> beam.FlatMap(
                     lambda m: [(k, m) for k in band_keys(np.frombuffer(m.signature, dtype=np.uint32), dedup.bands)])
                 | "Group By Band" >> beam.GroupByKey()
                 | "Compare In Band" >> beam.FlatMap(compare_in_band, dedup))
        nodes = members | "Tag Nodes" >> beam.Map(lambda m: (None, ("node", m)))
        tagged_edges = edges | "Tag Edges" >> beam.Map(lambda e: (None, ("edge", e)))
        stories = ((nodes, tagged_edges)
                   | "Gather Graph" >> beam.Flatten()
                   | "Group Graph" >> beam.GroupByKey()
                   | "Resolve Stories" >> beam.ParDo(ResolveStories()))
        keyed = unique | "Key Articles" >> beam.Map(lambda a: (a.article_id, a))
        return ({"articles": keyed, "stories": stories}
                | "Join Stories" >> beam.CoGroupByKey()
                | "Assign Stories" >> beam.FlatMap(_finish, self._settings.pipeline_version).with_output_types(Article))


def stored_member(row: dict, hasher: MinHasher, dedup: DedupSettings) -> Member:
    """A Member for an article read back from the warehouse."""
    moment = parse_iso(row["published_at"]) if isinstance(row.get("published_at"), str) else row.get("published_at")
    return sign(hasher, dedup, row["article_id"], row.get("body"), moment.timestamp() if moment else 0.0,
                row.get("agency"), row["story_id"] or row["article_id"], row.get("story_agency"))
