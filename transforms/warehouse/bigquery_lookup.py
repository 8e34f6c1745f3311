"""Batched look-ups of stored rows in a BigQuery warehouse, made from inside the pipeline.

The twin of transforms/duckdb_lookup.py: one parameterised query per batch of this run's keys.
story_index is partitioned by day of published_at, so a candidate query reads one dedup horizon
of partitions, not the whole history.

Every query here is plain GoogleSQL that the BigQuery emulator (tests/emulators) also runs as
written, so the tests exercise the very text BigQuery gets: array parameters with `IN UNNEST(@keys)`
rather than string-built IN lists (no SQL escaping, and one cached query plan); the time window as
TIMESTAMP_MICROS of INT64 parameters (a constant expression, so BigQuery still prunes partitions);
and `EXISTS (... UNNEST(bands) ...)` over the stored band keys, which needs no join or DISTINCT.
"""
from __future__ import annotations

import math

from schemas.settings import Settings
from schemas.types import FeedState
from transforms.dedup.stories import member_of_index
from transforms.util.batches import chunks
from transforms.util.times import iso

# Array parameters stay far below BigQuery's request size limit at this many keys.
CHUNK = 10000
_INDEX_COLUMNS = ("article_id, story_id, story_agency, agency, UNIX_MICROS(published_at) / 1e6, shingles, "
                  "signature, content_hash")


class BigQueryLookup:
    """Answers 'is this stored?' questions for batches of keys against one BigQuery dataset."""

    def __init__(self, target, settings: Settings, endpoint: str | None = None):
        self.target = target
        self._endpoint = endpoint
        self._horizon_s = settings.dedup.horizon_hours * 3600.0
        self._seed_max = settings.dedup.seed_max_articles
        self._bq = None

    def __getstate__(self):
        return {**self.__dict__, "_bq": None}

    def _rows(self, sql: str, params: list) -> list:
        from google.cloud import bigquery

        from transforms.warehouse import bigquery_store

        if self._bq is None:
            self._bq = bigquery_store.client(self.target.project, self._endpoint)
        config = bigquery.QueryJobConfig(query_parameters=params)
        return [tuple(r.values()) for r in self._bq.query(sql, job_config=config).result()]

    @staticmethod
    def _array(name: str, kind: str, values):
        from google.cloud import bigquery

        return bigquery.ArrayQueryParameter(name, kind, list(values))

    @staticmethod
    def _scalar(name: str, kind: str, value):
        from google.cloud import bigquery

        return bigquery.ScalarQueryParameter(name, kind, value)

    def close(self) -> None:
        if self._bq is not None:
            self._bq.close()
            self._bq = None

    def stored_links(self, urls) -> set:
        found = set()
        table = self.target.ref("articles")
        for part in chunks(sorted({u for u in urls if u}), CHUNK):
            rows = self._rows(f"SELECT url FROM `{table}` WHERE url IN UNNEST(@keys) UNION DISTINCT "
                              f"SELECT canonical_url FROM `{table}` WHERE canonical_url IN UNNEST(@keys)",
                              [self._array("keys", "STRING", part)])
            found.update(r[0] for r in rows)
        return found

    def stored_ids(self, ids) -> set:
        found = set()
        for part in chunks(sorted(set(ids)), CHUNK):
            rows = self._rows(f"SELECT article_id FROM `{self.target.ref('articles')}` "
                              f"WHERE article_id IN UNNEST(@keys)", [self._array("keys", "STRING", part)])
            found.update(r[0] for r in rows)
        return found

    def feed_states(self, feed_urls) -> dict:
        states = {}
        for part in chunks(sorted(set(feed_urls)), CHUNK):
            rows = self._rows(f"SELECT feed_url, etag, last_modified, last_polled_at, last_status, "
                              f"consecutive_failures, entries_seen FROM `{self.target.ref('feed_state')}` "
                              f"WHERE feed_url IN UNNEST(@keys)", [self._array("keys", "STRING", part)])
            for r in rows:
                states[r[0]] = FeedState(r[0], r[1], r[2], iso(r[3], whole_seconds=True), r[4], r[5], r[6])
        return states

    def story_candidates(self, bands, lo_ts: float, hi_ts: float) -> list:
        keys = sorted(set(bands))
        found = {}
        for part in chunks(keys, CHUNK):
            rows = self._rows(
                f"SELECT {_INDEX_COLUMNS} FROM `{self.target.ref('story_index')}` "
                f"WHERE published_at BETWEEN TIMESTAMP_MICROS(@lo) AND TIMESTAMP_MICROS(@hi) "
                f"AND EXISTS (SELECT 1 FROM UNNEST(bands) AS band WHERE band IN UNNEST(@keys))",
                # Rounded outwards: BETWEEN is inclusive at both ends, as in the DuckDB twin.
                [self._array("keys", "INT64", part), self._scalar("lo", "INT64", math.floor(lo_ts * 1e6)),
                 self._scalar("hi", "INT64", math.ceil(hi_ts * 1e6))])
            for r in rows:
                found[r[0]] = (member_of_index(*r[:7]), r[7])
        return list(found.values())

    def recent_index(self) -> list:
        table = self.target.ref("story_index")
        # Two queries, not one with `>= (SELECT MAX(published_at) ...)`: BigQuery prunes partitions
        # only on constant filters (a parameter is one, a subquery is not), so the one-query form
        # would read every stored signature. The MAX reads the published_at column alone.
        newest = self._rows(f"SELECT UNIX_MICROS(MAX(published_at)) FROM `{table}`", [])[0][0]
        if newest is None:
            return []
        rows = self._rows(
            f"SELECT {_INDEX_COLUMNS} FROM `{table}` WHERE published_at >= TIMESTAMP_MICROS(@lo) "
            f"ORDER BY published_at DESC, article_id LIMIT @n",
            [self._scalar("lo", "INT64", int(newest) - math.ceil(self._horizon_s * 1e6)),
             self._scalar("n", "INT64", self._seed_max)])
        return [(member_of_index(*r[:7]), r[7]) for r in reversed(rows)]
