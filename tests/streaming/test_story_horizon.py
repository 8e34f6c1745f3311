"""Done-when 2: out-of-order copies hours apart share a story id; after the horizon a copy starts a
new story and the expired index entries are gone from state (TestStream, BundleBasedDirectRunner)."""
from __future__ import annotations

import dataclasses
import datetime as dt

import apache_beam as beam
import numpy as np
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing import test_stream
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import GlobalWindows, TimestampedValue

from schemas.settings import Settings
from tests.transforms.dedup.test_batch import OTHER, WIRE, draft
from transforms.dedup.beam_streaming import INDEX_STATS, AssignStories, SignForIndex
from transforms.dedup.minhash import MinHasher, shingle_hashes
from transforms.dedup.stage import DeduplicateStreaming
from transforms.dedup.stories import Member
from transforms.dedup.story_index import StoryIndex

T0 = dt.datetime(2026, 3, 5, 10, 0, tzinfo=dt.timezone.utc)


def at(hours: float) -> str:
    return (T0 + dt.timedelta(hours=hours)).isoformat()


def stamped(aid, body, hours, agency=None):
    return TimestampedValue(draft(aid, body, at(hours), agency), (T0 + dt.timedelta(hours=hours)).timestamp())


def copy_of(text, n):
    return text.replace("Tuesday", f"Tuesday ({n})").replace("told reporters", "has told reporters")


def _stream():
    hour = 3600
    return (test_stream.TestStream()
            .advance_watermark_to(T0.timestamp())
            .add_elements([stamped("a", WIRE, 0, agency="PTI"), stamped("e", OTHER, 0.1)])
            .advance_watermark_to(T0.timestamp() + 4 * hour)
            .add_elements([stamped("b", copy_of(WIRE, 1), 4)])
            # Hours later, a copy published BEFORE the first one arrives (out of order, behind the watermark).
            .advance_watermark_to(T0.timestamp() + 9 * hour)
            .add_elements([stamped("c", copy_of(WIRE, 2), -1)])
            # 80 hours after the first copy: past the 72 h horizon, a new story.
            .advance_watermark_to(T0.timestamp() + 80 * hour)
            .add_elements([stamped("z", copy_of(WIRE, 3), 80)])
            # A finite time past everything before infinity (DESIGN.md §6).
            .advance_watermark_to(T0.timestamp() + 100 * hour)
            .advance_watermark_to_infinity())


def _streaming_pipeline():
    options = PipelineOptions(["--runner=BundleBasedDirectRunner"])
    options.view_as(StandardOptions).streaming = True
    return TestPipeline(options=options)


def test_out_of_order_copies_hours_apart_share_one_story_and_a_copy_past_the_horizon_starts_another():
    with _streaming_pipeline() as p:
        out = ((p | _stream() | DeduplicateStreaming(Settings()))["articles"]
               | beam.Map(lambda a: (a.article_id, a.story_id, a.duplicate_of, a.story_agency)))
        assert_that(out, equal_to([("a", "a", None, "PTI"), ("e", "e", None, None), ("b", "a", "a", "PTI"),
                                   ("c", "a", "a", "PTI"), ("z", "z", None, None)]))


def test_a_restarted_stream_seeds_its_index_from_the_stored_signatures(tmp_path):
    from tests.transforms.dedup.test_batch import _stored_warehouse
    from transforms.warehouse.duckdb_lookup import DuckDBLookup

    settings = Settings()
    warehouse = tmp_path / "w.duckdb"
    # Last week's wire story, stored with its signature; an older one beyond the horizon of the newest.
    stored = draft("stored", WIRE, at(-2), agency="PTI").article._replace(story_id="stored", story_agency="PTI")
    ancient = draft("ancient", OTHER, at(-200)).article._replace(story_id="ancient")
    _stored_warehouse(warehouse, settings, [stored, ancient])
    lookup = DuckDBLookup(str(warehouse), settings)
    assert [m.article_id for m, _ in lookup.recent_index()] == ["stored"]
    stream = (test_stream.TestStream()
              .advance_watermark_to(T0.timestamp())
              .add_elements([stamped("copy", copy_of(WIRE, 1), 1), stamped("again", copy_of(OTHER, 1), 1),
                             stamped("stored", WIRE, -2, agency="PTI")])
              .advance_watermark_to(T0.timestamp() + 10 * 3600)
              .advance_watermark_to_infinity())
    with _streaming_pipeline() as p:
        out = p | stream | DeduplicateStreaming(settings, lookup)
        rows = out["articles"] | beam.Map(lambda a: (a.article_id, a.story_id, a.duplicate_of, a.story_agency))
        # The stored article itself is skipped; the copy joins its stored story; OTHER's stored copy
        # is past the horizon of the newest stored article, so it was not seeded.
        assert_that(rows, equal_to([("copy", "stored", "stored", "PTI"), ("again", "again", None, None)]))
        index = out["story_index"] | "Index Rows" >> beam.Map(lambda r: (r.article_id, r.story_id, len(r.bands)))
        assert_that(index, equal_to([("copy", "stored", 32), ("again", "again", 32)]), label="index rows")


def _no_arrival_floor() -> Settings:
    # Expiry by event time alone; the default also keeps the last min_keep_arrivals arrivals
    # (see test_the_arrival_floor_keeps_a_backfill_together).
    settings = Settings()
    return dataclasses.replace(settings, dedup=dataclasses.replace(settings.dedup, min_keep_arrivals=0))


def test_state_of_expired_entries_is_gone_after_the_horizon():
    settings = _no_arrival_floor()
    with _streaming_pipeline() as p:
        out = (p | _stream()
               | beam.Map(lambda d: d.article)
               | beam.ParDo(SignForIndex(settings.dedup))
               | beam.WindowInto(GlobalWindows())
               | beam.ParDo(AssignStories(settings, report_index=True))
               .with_outputs(INDEX_STATS, main="articles"))
        stats = out[INDEX_STATS] | beam.Map(
            lambda s: (s["article_id"], s["members"], s["stories"], s["hashes"], s["expired"]))
        # After z, a, b, c and e are gone from members, buckets, hashes and stories (and the log).
        assert_that(stats, equal_to([("a", 1, 1, 1, 0), ("e", 2, 2, 2, 0), ("b", 3, 2, 3, 0),
                                     ("c", 4, 2, 4, 0), ("z", 1, 1, 1, 4)]))


def _member(aid, body, hours, hasher):
    hashes = shingle_hashes(body, 4)
    return Member(aid, (T0 + dt.timedelta(hours=hours)).timestamp(), hasher.signature(hashes).tobytes(),
                  int(hashes.size), None, None, None)


def test_expired_members_leave_every_structure_and_the_state_log():
    settings = _no_arrival_floor()
    hasher = MinHasher(settings.dedup.num_perm)
    index = StoryIndex(settings.dedup)
    for i, hours in enumerate((0, 1, 2)):
        index.assign(_member(f"w{i}", copy_of(WIRE, i), hours, hasher), f"h{i}")
    index.assign(_member("o", OTHER, 3, hasher), "ho")
    assert index.stats()["members"] == 4 and index.stats()["stories"] == 2
    story, dup, _, _ = index.assign(_member("late", copy_of(WIRE, 9), 100, hasher), "hl")
    assert (story, dup) == ("late", None)
    assert index.prune() == 4
    assert index.stats() == {"members": 1, "buckets": 32, "stories": 1, "hashes": 1, "records": 0}
    assert set(index.members) == {"late"}
    # Rebuilt from the (compacted) log, the index is the same.
    again = StoryIndex.from_records(index.live_records(), settings.dedup)
    assert set(again.members) == {"late"} and again.stories == index.stories
    assert np.array_equal(np.frombuffer(again.members["late"][0].signature, np.uint32),
                          np.frombuffer(index.members["late"][0].signature, np.uint32))


def test_the_arrival_floor_keeps_a_backfill_together():
    # A first poll backfills years of articles in any order: an article from today arrives between
    # an old story and its copy. Event time alone would prune the old story before its copy came.
    hasher = MinHasher(Settings().dedup.num_perm)
    outcomes = {}
    for name, settings in (("floor", Settings()), ("no floor", _no_arrival_floor())):
        index = StoryIndex(settings.dedup, prune_step_s=0)
        index.assign(_member("old", WIRE, 0, hasher), "h1")
        index.assign(_member("today", OTHER, 24 * 400, hasher), "h2")
        index.prune()
        outcomes[name] = index.assign(_member("old-copy", copy_of(WIRE, 1), 2, hasher), "h3")[:2]
    assert outcomes == {"floor": ("old", "old"), "no floor": ("old-copy", None)}
    # The floor is bounded: once min_keep_arrivals articles have arrived after it, the old story goes.
    settings = Settings()
    small = dataclasses.replace(settings, dedup=dataclasses.replace(settings.dedup, min_keep_arrivals=3))
    index = StoryIndex(small.dedup, prune_step_s=0)
    index.assign(_member("old", WIRE, 0, hasher), "h1")
    for i in range(2):
        index.assign(_member(f"new{i}", copy_of(OTHER, i), 24 * 400 + i, hasher), f"n{i}")
        index.prune()
    assert "old" in index.members
    index.assign(_member("new2", copy_of(OTHER, 2), 24 * 400 + 2, hasher), "n2")  # the 3rd arrival after it
    index.prune()
    assert "old" not in index.members
