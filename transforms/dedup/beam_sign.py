"""Signing articles for story matching: the step batch and streaming dedup share."""
from __future__ import annotations

import apache_beam as beam

from schemas.settings import DedupSettings
from transforms.dedup.minhash import MinHasher
from transforms.dedup.stories import event_ts, sign

STAGE = "dedup"
INDEX = "story_index"  # the output tag of story_index rows


class SignArticle(beam.DoFn):
    """Computes the MinHash signature of an article's body."""

    def __init__(self, dedup: DedupSettings):
        self._dedup = dedup
        self._hasher = None

    def setup(self):
        self._hasher = MinHasher(self._dedup.num_perm)

    def process(self, article):
        yield sign(self._hasher, self._dedup, article.article_id, article.body, event_ts(article), article.agency,
                   article.story_id, article.story_agency)
