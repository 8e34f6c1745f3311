"""The BigQuery sink against the emulator: batch FILE_LOADS + MERGE, reruns, streaming inserts, rejects."""
from __future__ import annotations

import datetime as dt
import io
import json

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_stream import TestStream

from schemas import bigquery_ddl
from schemas.errors import ConfigError
from schemas.settings import Settings
from schemas.types import Article, DeadLetter, Evidence, FeedState
from tests.emulators.bqemulator import bigquery_emulator  # noqa: F401 - the session fixture
from tests.emulators.dev_runs import dev_runs
from tests.support.corpus import SYNDICATION_DEV
from transforms.warehouse import bigquery_store
from transforms.warehouse.beam_bigquery import ToJsonRows, WriteBigQueryStreaming
from transforms.warehouse.bigquery_lookup import BigQueryLookup
from transforms.warehouse.bigquery_rows import check_row, to_json_row

UTC = dt.timezone.utc
# Times that differ between two runs over the same pages by design.
RUN_TIMES = ("fetched_at", "ingested_at")
# What a warehouse dataset holds once a run is over: the tables, the stories view, no staging.
WAREHOUSE_TABLES = ["articles", "dead_letters", "feed_state", "stories", "story_index", "warehouse_meta"]


@pytest.fixture(scope="module")
def dev(bigquery_emulator, syndication_server, tmp_path_factory):  # noqa: F811
    return dev_runs(bigquery_emulator, syndication_server, SYNDICATION_DEV, tmp_path_factory.mktemp("dev"))


def _norm(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).replace(microsecond=0)
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    return value


def _comparable(row: dict) -> dict:
    row = {k: _norm(v) for k, v in row.items() if k not in RUN_TIMES}
    if row.get("published_at_source") == "fetch":
        row.pop("published_at")  # the fetch time is the only date such a page has
    return row


def duckdb_rows(path, sql: str) -> list:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        con.close()


def bigquery_rows(emulator, sql: str) -> list:
    bq = emulator.client()
    try:
        return [dict(r.items()) for r in bq.query(sql).result()]
    finally:
        bq.close()


def test_batch_run_lands_the_same_articles_as_duckdb(dev, bigquery_emulator):  # noqa: F811
    duck = {r["article_id"]: _comparable(r) for r in duckdb_rows(dev["duckdb"], "SELECT * FROM articles")}
    ref = bigquery_store.parse_target(dev["bigquery"]).ref("articles")
    bq = {r["article_id"]: _comparable(r) for r in bigquery_rows(bigquery_emulator, f"SELECT * FROM `{ref}`")}
    assert len({r["outlet"] for r in duck.values()}) >= 3
    assert len(duck) == dev["runs"]["bigquery"]["counters"]["dedup.articles"] > 100
    assert bq.keys() == duck.keys()
    for article_id, row in duck.items():
        assert bq[article_id] == row, article_id
    # Several outlets carry the same stories, so story ids were really exercised.
    assert sum(1 for r in duck.values() if r["duplicate_of"]) >= 20


def test_dead_letters_land_in_bigquery_too(dev, bigquery_emulator):  # noqa: F811
    cols = "dead_letter_id, stage, url, feed_url, error_class, attempt"
    duck = duckdb_rows(dev["duckdb"], f"SELECT {cols} FROM dead_letters ORDER BY 1")
    ref = bigquery_store.parse_target(dev["bigquery"]).ref("dead_letters")
    bq = bigquery_rows(bigquery_emulator, f"SELECT {cols} FROM `{ref}` ORDER BY 1")
    assert duck and [{**r, "attempt": None} for r in bq] == [{**r, "attempt": None} for r in duck]
    # The BigQuery warehouse saw a rerun, where the missing feed failed again: attempts add up.
    assert [r["attempt"] for r in bq] == [r["attempt"] + 1 for r in duck]


def test_rerun_adds_nothing_and_splits_no_story(dev):
    assert dev["after_rerun"]["articles"] == dev["after_first"]["articles"] > 100
    assert dev["after_rerun"]["stories"] == dev["after_first"]["stories"]
    assert dev["after_rerun"]["dead_letters"] == dev["after_first"]["dead_letters"]
    counters = dev["runs"]["bigquery_rerun"]["counters"]
    # Feed state was forgotten, so every entry was read again and recognised as stored.
    assert counters["read_feeds.entries"] >= dev["after_first"]["articles"]
    assert counters.get("fetch.requested", 0) == 0
    assert counters["write.articles.inserted"] == 0


def test_tables_are_partitioned_clustered_and_staging_is_gone(dev, bigquery_emulator):  # noqa: F811
    target = bigquery_store.parse_target(dev["bigquery"])
    bq = bigquery_emulator.client()
    try:
        articles = bq.get_table(target.ref("articles"))
        stories = bq.get_table(target.ref("stories"))
    finally:
        bq.close()
    assert articles.time_partitioning.field == "published_at"
    assert articles.clustering_fields == ["agency", "outlet"]
    assert [f.to_api_repr() for f in articles.schema] == bigquery_store.schema_fields("articles")
    assert stories.table_id == bigquery_ddl.STORIES_VIEW  # the emulator does not echo view_query back
    assert dev["tables_after"] == WAREHOUSE_TABLES


def test_the_stories_view_twins_agree(dev, bigquery_emulator):  # noqa: F811
    target = bigquery_store.parse_target(dev["bigquery"])
    duck = [_norm(r) for r in duckdb_rows(dev["duckdb"], "SELECT * FROM stories ORDER BY story_id")]
    bq = [_norm(r) for r in bigquery_rows(bigquery_emulator,
                                          f"SELECT * FROM `{target.ref('stories')}` ORDER BY story_id")]
    assert list(duck[0]) == list(bq[0])
    assert len(bq) == len(duck) and sum(r["outlet_count"] > 1 for r in bq) >= 10
    for d, b in zip(duck, bq):
        d.pop("last_published_at"), b.pop("last_published_at")  # may be a fetch time
        d.pop("first_published_at"), b.pop("first_published_at")
        assert b == d


def _article(article_id: str, outlet: str = "example.com", **kw) -> Article:
    base = dict(article_id=article_id, url=f"https://{outlet}/{article_id}", canonical_url=f"https://{outlet}/{article_id}",
                outlet=outlet, title=f"Story {article_id}", body="Body text.", word_count=2,
                published_at="2026-03-05T10:00:00+00:00", published_at_source="meta",
                fetched_at="2026-03-05T10:05:00+00:00", ingested_at="2026-03-05T10:05:01+00:00",
                agency="IANS", agency_evidence=(Evidence("IANS", "dateline", "(IANS)"),), authors=("A. Writer",),
                story_id=article_id)
    base.update(kw)
    return Article(**base)


def test_merge_deduplicates_staging_and_a_second_merge_adds_nothing(bigquery_emulator):  # noqa: F811
    target = bigquery_store.Target(bigquery_emulator.project, "merge_unit")
    bq = bigquery_emulator.client()
    try:
        bigquery_store.ensure_schema(bq, target)
        rows = {"articles": [_article("a1"), _article("a1", title="retried copy"), _article("a2")],
                "dead_letters": [DeadLetter(dead_letter_id="d1", stage="fetch", error_class="http_404", attempt=1,
                                            failed_at="2026-03-05T10:00:00+00:00")] * 2}
        for round_ in range(2):
            staging = bigquery_store.create_staging(bq, target, f"unit{round_}")
            for table, table_rows in rows.items():
                data = "".join(json.dumps(to_json_row(r)) + "\n" for r in table_rows).encode()
                from google.cloud import bigquery

                bq.load_table_from_file(io.BytesIO(data), target.ref(staging[table]), job_config=bigquery.LoadJobConfig(
                    source_format="NEWLINE_DELIMITED_JSON")).result()
            bigquery_store.merge_staging(bq, target, staging)
        articles = [tuple(r.values()) for r in bq.query(
            f"SELECT article_id, title FROM `{target.ref('articles')}` ORDER BY 1").result()]
        dead = [tuple(r.values()) for r in bq.query(
            f"SELECT dead_letter_id, attempt FROM `{target.ref('dead_letters')}`").result()]
        left = sorted(t.table_id for t in bq.list_tables(f"{target.project}.{target.dataset}"))
    finally:
        bq.close()
    assert articles == [("a1", "Story a1"), ("a2", "Story a2")]
    assert dead == [("d1", 4)]  # two failures per run, two runs: attempts add up as in DuckDB
    assert left == WAREHOUSE_TABLES


def test_rows_bigquery_would_reject_become_dead_letters():
    good = to_json_row(_article("ok"))
    assert check_row("articles", good) is None
    assert "required" in check_row("articles", {**good, "article_id": None})
    assert "timestamp" in check_row("articles", {**good, "published_at": "yesterday"})
    assert "INT64" in check_row("articles", {**good, "word_count": "12"})
    assert "UTF-8" in check_row("articles", {**good, "title": "bad \udc80 surrogate"})
    assert "record" in check_row("articles", {**good, "agency_evidence": ["IANS"]})
    out = list(ToJsonRows("articles").process(_article("bad", published_at="yesterday")))
    assert len(out) == 1 and out[0].tag == "dead_letters"
    assert out[0].value.error_class == "warehouse_rejected" and out[0].value.stage == "write"


def test_warehouse_value_is_checked():
    assert bigquery_store.parse_target("bigquery:my-project.wiredesk") == bigquery_store.Target("my-project",
                                                                                                 "wiredesk")
    for bad in ("bigquery:wiredesk", "bigquery:p.d", "bigquery:My-Project.ds", "bigquery:my-project.bad-name"):
        with pytest.raises(ValueError, match="bigquery:PROJECT.DATASET"):
            bigquery_store.parse_target(bad)
    from pipeline.prepare import prepare

    with pytest.raises(ConfigError, match="bigquery:PROJECT.DATASET"):
        prepare(PipelineOptions(["--feeds", "https://example.com/feed.xml", "--warehouse", "bigquery:x"]))


def _index_row(article: Article):
    """The story_index row Deduplicate emits beside an article, signed from its body."""
    from transforms.dedup.minhash import MinHasher
    from transforms.dedup.stories import index_row, sign
    from transforms.util.times import parse_iso

    dedup = Settings().dedup
    member = sign(MinHasher(dedup.num_perm), dedup, article.article_id, article.body,
                  parse_iso(article.published_at).timestamp(), article.agency, article.story_id)
    return index_row(member, f"hash-{article.article_id}", article.story_id, article.agency, dedup.bands)


def reject_poison(row: dict):
    """Plays BigQuery rejecting a row (the emulator accepts everything it can store)."""
    return "no such field: poison" if row.get("title") == "POISON" else None


def test_streaming_inserts_land_every_article_exactly_once(bigquery_emulator):  # noqa: F811
    target = bigquery_store.Target(bigquery_emulator.project, "stream_unit")
    bq = bigquery_emulator.client()
    bigquery_store.ensure_schema(bq, target)
    a = [_article(f"s{i}", outlet=f"outlet{i % 3}.example",
                  body=f"Story number {i} was filed from outlet {i % 3} today by a wire desk reporter.")
         for i in range(6)]
    index = {r.article_id: _index_row(r) for r in a}
    # Each article travels with its story_index row, redeliveries included.
    both = lambda r, ts: [beam.window.TimestampedValue(("articles", r), ts),  # noqa: E731
                          beam.window.TimestampedValue(("story_index", index[r.article_id]), ts)]
    poison = _article("poison", title="POISON")
    dead = DeadLetter(dead_letter_id="dl1", stage="fetch", url="https://x.example/1", error_class="http_500",
                      attempt=3, failed_at="2026-03-05T10:00:00+00:00")
    base = 1_800_000_000
    stream = (TestStream()
              .add_elements([e for i, r in enumerate(a[:4]) for e in both(r, base + i)])
              .add_elements([beam.window.TimestampedValue(("dead_letters", dead), base + 5)])
              .advance_watermark_to(base + 10)
              # Redeliveries and a retry: the same articles again, in a later bundle, plus new ones.
              .add_elements([e for r in (a[1], a[3], a[4]) for e in both(r, base + 11)])
              .add_elements([beam.window.TimestampedValue(("articles", poison), base + 12),
                             beam.window.TimestampedValue(("dead_letters", dead), base + 12),
                             beam.window.TimestampedValue(("feed_state", FeedState(
                                 feed_url="https://x.example/feed", etag="e1", last_status=200,
                                 last_polled_at="2026-03-05T10:00:00+00:00", consecutive_failures=0,
                                 entries_seen=5)), base + 12)])
              .advance_watermark_to(base + 20)
              .add_elements([e for r in (a[5], a[0], a[5]) for e in both(r, base + 21)])
              .advance_watermark_to(base + 30)
              .advance_watermark_to_infinity())
    options = PipelineOptions(["--runner", "BundleBasedDirectRunner"])
    options.view_as(StandardOptions).streaming = True
    with beam.Pipeline(options=options) as p:
        events = p | stream
        tables = {t: events | f"Only {t}" >> beam.Filter(lambda e, t=t: e[0] == t) | f"Row {t}" >> beam.Values()
                  for t in ("articles", "dead_letters", "feed_state", "story_index")}
        _ = tables | WriteBigQueryStreaming(target, Settings(), endpoint=bigquery_emulator.endpoint,
                                            reject=reject_poison, feed_state_window_s=3600)
    try:
        ids = sorted(r[0] for r in bq.query(f"SELECT article_id FROM `{target.ref('articles')}`").result())
        dead_rows = sorted(tuple(r.values()) for r in bq.query(
            f"SELECT dead_letter_id, stage, error_class FROM `{target.ref('dead_letters')}`").result())
        states = [tuple(r.values()) for r in bq.query(
            f"SELECT feed_url, etag, entries_seen FROM `{target.ref('feed_state')}`").result()]
        indexed = [dict(r.items()) for r in bq.query(
            f"SELECT article_id, story_id, signature, bands FROM `{target.ref('story_index')}` "
            f"ORDER BY article_id").result()]
    finally:
        bq.close()
    lookup = BigQueryLookup(target, Settings(), bigquery_emulator.endpoint)
    try:
        seed = lookup.recent_index()
    finally:
        lookup.close()
    assert ids == sorted(r.article_id for r in a)
    assert [(s, e) for _, s, e in dead_rows] == [("fetch", "http_500"), ("write", "bigquery_rejected")]
    assert states == [("https://x.example/feed", "e1", 5)]
    # One story_index row per streamed article, however often it came; BYTES and ARRAY intact.
    assert [r["article_id"] for r in indexed] == sorted(index)
    for r in indexed:
        sent = index[r["article_id"]]
        assert (r["story_id"], r["signature"], r["bands"]) == (sent.story_id, sent.signature, list(sent.bands))
        assert len(r["signature"]) == 4 * Settings().dedup.num_perm and len(r["bands"]) == Settings().dedup.bands
    # A stream started on this dataset would seed its story index with exactly these articles.
    assert sorted((m.article_id, m.signature) for m, _ in seed) == sorted(
        (k, v.signature) for k, v in index.items())
