"""Batched look-ups of stored rows in a DuckDB warehouse, made from inside the pipeline.

Each call opens the file, asks about one batch of this run's keys and closes it again, so the
cost of a run follows what the run brings, not what the warehouse holds. The connection uses the
writer's configuration: in one process DuckDB shares one database instance between them.
"""
from __future__ import annotations

from schemas.settings import Settings
from schemas.types import FeedState
from transforms.dedup.stories import member_of_index
from transforms.util.batches import chunks

# Keys per query: long IN lists are fine for DuckDB, but keep memory per query flat.
CHUNK = 5000

_UTC_ISO = "strftime({col} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S+00:00')"
_INDEX_COLUMNS = ("article_id, story_id, story_agency, agency, epoch(published_at), shingles, signature, "
                  "content_hash")


class DuckDBLookup:
    """Answers 'is this stored?' questions for batches of keys against one DuckDB file."""

    def __init__(self, path: str, settings: Settings):
        self.path = str(path)
        self._wait_s = settings.warehouse.lock_wait_s
        self._horizon_s = settings.dedup.horizon_hours * 3600.0
        self._seed_max = settings.dedup.seed_max_articles

    def _rows(self, sql: str, params: list) -> list:
        from transforms.warehouse import duckdb_store

        con = duckdb_store.connect(self.path, wait_s=self._wait_s)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def stored_links(self, urls) -> set:
        """The given links that are already an article's url or canonical_url."""
        found = set()
        for part in chunks(sorted({u for u in urls if u}), CHUNK):
            found.update(r[0] for r in self._rows(
                "SELECT url FROM articles WHERE url IN (SELECT unnest($1)) "
                "UNION SELECT canonical_url FROM articles WHERE canonical_url IN (SELECT unnest($1))", [part]))
        return found

    def stored_ids(self, ids) -> set:
        """The given article ids that are already rows."""
        found = set()
        for part in chunks(sorted(set(ids)), CHUNK):
            found.update(r[0] for r in self._rows(
                "SELECT article_id FROM articles WHERE article_id IN (SELECT unnest($1))", [part]))
        return found

    def feed_states(self, feed_urls) -> dict:
        """{feed url: stored FeedState} for the given feeds."""
        states = {}
        cols = ("feed_url, etag, last_modified, " + _UTC_ISO.format(col="last_polled_at")
                + ", last_status, consecutive_failures, entries_seen")
        for part in chunks(sorted(set(feed_urls)), CHUNK):
            for row in self._rows(f"SELECT {cols} FROM feed_state WHERE feed_url IN (SELECT unnest($1))", [part]):
                states[row[0]] = FeedState(*row)
        return states

    def story_candidates(self, bands, lo_ts: float, hi_ts: float) -> list:
        """[(Member, content_hash)] of stored articles within [lo_ts, hi_ts] sharing a band key.

        The time filter lets DuckDB skip row groups outside the dedup horizon: rows arrive
        roughly in time order, so zone maps on published_at prune most of a long history.
        """
        keys = sorted(set(bands))
        if not keys:
            return []
        found = {}
        for part in chunks(keys, CHUNK):
            rows = self._rows(
                f"WITH recent AS (SELECT article_id, bands FROM story_index "
                f"  WHERE published_at BETWEEN to_timestamp($2) AND to_timestamp($3)), "
                f"hits AS (SELECT DISTINCT article_id FROM (SELECT article_id, unnest(bands) AS band FROM recent) "
                f"  WHERE band IN (SELECT unnest($1::BIGINT[]))) "
                f"SELECT {_INDEX_COLUMNS} FROM story_index WHERE article_id IN (SELECT article_id FROM hits)",
                [part, lo_ts, hi_ts])
            for row in rows:
                found[row[0]] = (member_of_index(*row[:7]), row[7])
        return list(found.values())

    def recent_index(self) -> list:
        """[(Member, content_hash)] within one horizon of the newest stored article: a stream's seed."""
        rows = self._rows(
            f"SELECT {_INDEX_COLUMNS} FROM story_index WHERE published_at >= "
            f"(SELECT max(published_at) FROM story_index) - to_seconds($1) "
            f"ORDER BY published_at DESC, article_id LIMIT $2", [self._horizon_s, self._seed_max])
        return [(member_of_index(*r[:7]), r[7]) for r in reversed(rows)]

    def close(self) -> None:
        """Nothing stays open between look-ups."""
