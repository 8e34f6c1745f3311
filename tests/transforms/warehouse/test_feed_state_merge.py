"""MergeFeedStates: a window of many feeds' states goes out in bounded MERGE statements (BigQuery emulator)."""
from __future__ import annotations

from schemas.types import FeedState
from tests.emulators.bqemulator import bigquery_emulator  # noqa: F401 - the session fixture
from transforms.warehouse import bigquery_store
from transforms.warehouse.beam_bigquery import MergeFeedStates


def _state(i: int, etag: str) -> FeedState:
    return FeedState(feed_url=f"https://outlet{i}.example/feed", etag=etag, last_modified=None,
                     last_polled_at="2026-03-05T10:00:00+00:00", last_status=200, consecutive_failures=0,
                     entries_seen=i)


def test_a_window_of_states_is_merged_in_statements_of_bounded_size(bigquery_emulator):  # noqa: F811
    target = bigquery_store.Target(bigquery_emulator.project, "merge_chunks")
    bq = bigquery_emulator.client()
    bigquery_store.ensure_schema(bq, target)
    merge = MergeFeedStates(target, bigquery_emulator.endpoint, per_statement=2)
    merge.setup()
    try:
        assert list(merge.process((None, [_state(i, '"a"') for i in range(5)]))) == [5]  # three statements
        assert list(merge.process((None, [_state(i, '"b"') for i in (1, 4)]))) == [2]  # updates, in place
        assert list(merge.process((None, []))) == []
    finally:
        merge.teardown()
    try:
        rows = sorted(tuple(r.values()) for r in bq.query(
            f"SELECT feed_url, etag, entries_seen FROM `{target.ref('feed_state')}`").result())
    finally:
        bq.close()
    assert rows == [(f"https://outlet{i}.example/feed", '"b"' if i in (1, 4) else '"a"', i) for i in range(5)]
