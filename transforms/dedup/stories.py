"""Stories, in plain Python: members, signing, matching, union-find, story agency, index rows.

Batch (beam_batch.py) and streaming (beam_streaming.py) both build on this module; neither
imports the other. A `Member` is what near-duplicate detection needs of one article. Stored
articles come back from the warehouse's story_index table as Members with their story fixed
(`member_of_index`), so nothing here ever reads a stored body again.
"""
from __future__ import annotations

import collections
import typing

import numpy as np

from schemas.settings import DedupSettings
from schemas.types import StoryIndexRow
from transforms.dedup.minhash import MinHasher, band_ints, shingle_hashes, similarity
from transforms.util.times import iso_of_ts, parse_iso, ts_of

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


def event_ts(article) -> float:
    """An article's event time: published_at, else fetched_at, else the epoch."""
    moment = parse_iso(article.published_at) or parse_iso(article.fetched_at)
    return moment.timestamp() if moment else 0.0


def order_key(member: Member) -> tuple:
    return member.published_ts, member.article_id


def sign(hasher: MinHasher, dedup: DedupSettings, article_id: str, body: str | None, published_ts: float,
         agency: str | None, story_id: str | None = None, story_agency: str | None = None) -> Member:
    """The Member of one text: its MinHash signature and shingle count, with what stories need of it."""
    hashes = shingle_hashes(body or "", dedup.shingle_words)
    return Member(article_id, published_ts, hasher.signature(hashes).tobytes(), int(hashes.size), agency,
                  story_id, story_agency)


def is_same_story(a: Member, b: Member, dedup: DedupSettings) -> bool:
    if abs(a.published_ts - b.published_ts) > dedup.horizon_hours * 3600:
        return False
    sig_a = np.frombuffer(a.signature, dtype=np.uint32)
    sig_b = np.frombuffer(b.signature, dtype=np.uint32)
    jaccard, containment = similarity(sig_a, sig_b, a.size, b.size)
    # Containment catches excerpts and condensed copies, whose Jaccard with the full text is low.
    return max(jaccard, containment) >= dedup.threshold


def compare_in_band(keyed, dedup: DedupSettings):
    """Edges that connect the members sharing one LSH band key into the groups all-pairs matching gives.

    A wire story republished by k outlets puts its k copies in the same buckets, where comparing every
    pair costs k²/2 per band. The union-find after needs one edge per join, not every matching pair:
    each member is compared with the members of each group already formed in the bucket only until one
    matches, so a story's copies cost about one comparison each. A member joins a group exactly when it
    matches one of its members, as with all pairs, so the groups, and the stories, are the same.
    """
    _, members = keyed
    groups: list[list[Member]] = []
    for member in sorted(members, key=lambda m: (m.published_ts, m.article_id)):
        joined = []
        for group in groups:
            match = next((other for other in group if _may_join(member, other)
                          and is_same_story(member, other, dedup)), None)
            if match is not None:
                yield member.article_id, match.article_id
                joined.append(group)
        if not joined:
            groups.append([member])
            continue
        # The member links every group it matched: they become one.
        first = joined[0]
        for group in joined[1:]:
            first.extend(group)
        groups = [g for g in groups if not any(g is j for j in joined[1:])]
        first.append(member)


def _may_join(member: Member, other: Member) -> bool:
    # Two stored articles are never compared: their stories are settled.
    return other.article_id != member.article_id and (member.story_id is None or other.story_id is None)


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


def assign_component(members: list):
    """(article_id, (story_id, duplicate_of, story_agency)) for each new member of one story.

    A stored member fixes the story id (the earliest stored one wins); otherwise the earliest
    new member names the story.
    """
    members = sorted(members, key=order_key)
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
        first_credit.setdefault(m.agency, order_key(m))
    return max(pool, key=lambda a: (pool[a], -first_credit.get(a, (float("inf"), ""))[0]))


def stored_member(row: dict, hasher: MinHasher, dedup: DedupSettings) -> Member:
    """A Member signed from a stored article's body: only for back-filling an old warehouse's story_index."""
    ts = ts_of(row.get("published_at"))
    return sign(hasher, dedup, row["article_id"], row.get("body"), ts if ts is not None else 0.0,
                row.get("agency"), row["story_id"] or row["article_id"], row.get("story_agency"))


def index_row(member: Member, content_hash: str | None, story_id: str | None, agency_of_story: str | None,
              bands: int) -> StoryIndexRow:
    """The story_index row of an article as it is written: its signature, band keys and final story."""
    return StoryIndexRow(
        article_id=member.article_id, story_id=story_id, story_agency=agency_of_story, agency=member.agency,
        published_at=iso_of_ts(member.published_ts), content_hash=content_hash, shingles=member.size,
        signature=member.signature, bands=band_ints(member.signature, bands))


def member_of_index(article_id, story_id, story_agency_, agency, published_ts, shingles, signature) -> Member:
    """A stored article as a Member, from its story_index columns; its story is settled."""
    return Member(article_id, float(published_ts or 0.0), bytes(signature), int(shingles or 0), agency,
                  story_id or article_id, story_agency_)
