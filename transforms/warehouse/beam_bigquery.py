"""WriteBigQuery: land articles, dead letters and feed state in BigQuery, idempotently by primary key.

Batch (WriteBigQueryBatch): rows are checked against the declared schema (rows BigQuery would
reject become dead letters before any load), loaded with WriteToBigQuery FILE_LOADS into per-run
staging tables, then ONE MERGE per table on its key (staging rows deduplicated with ROW_NUMBER).
Load jobs are atomic and the MERGE inserts only missing keys, so a rerun or a retried bundle adds
nothing and never splits a story.

Streaming (WriteBigQueryStreaming): the first copy of each key per job (Beam state, event-time
TTL) goes out with STREAMING_INSERTS; Beam assigns insertIds before a reshuffle, so its own
retries reuse them. Rows BigQuery rejects come back as failed_rows_with_errors and become dead
letters; nothing is retried forever. Feed state is merged once per window.
See deploy/README.md, "Exactly-once and best-effort", for what is guaranteed where.
"""
from __future__ import annotations

import logging
import typing

import apache_beam as beam
from apache_beam.transforms import trigger, userstate
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.timestamp import Timestamp

from schemas.settings import Settings
from schemas.types import TABLES
from transforms.beam_common.dead_letters import DEAD
from transforms.beam_common.metrics import counter
from transforms.util.batches import chunks
from transforms.util.dead_letters import dead_letter
from transforms.warehouse import bigquery_store
from transforms.warehouse.beam_bigquery_emulator import beam_test_client
from transforms.warehouse.beam_duckdb import LABELS, STAGE
from transforms.warehouse.bigquery_rows import check_row, to_json_row

_LOG = logging.getLogger(__name__)
ROWS = "rows"
class ToJsonRows(beam.DoFn):
    """Declared rows in; BigQuery JSON rows out, or a dead letter for a row BigQuery would reject."""

    def __init__(self, table: str):
        self._table = table

    def process(self, row):
        counter(STAGE, f"{self._table}.received").inc()
        data = to_json_row(row)
        problem = check_row(self._table, data)
        if problem is None:
            yield data
            return
        counter(STAGE, f"{self._table}.rejected").inc()
        if self._table == "dead_letters":
            # A dead letter that cannot be stored is logged and counted, never looped back.
            counter(STAGE, "dead_letters_unwritable").inc()
            _LOG.error("dead letter %s cannot be written to BigQuery: %s", data.get("dead_letter_id"), problem)
            return
        counter(STAGE, "dead_letters").inc()
        counter(STAGE, "dead.warehouse_rejected").inc()
        yield beam.pvalue.TaggedOutput(DEAD, dead_letter(
            STAGE, "warehouse_rejected", f"{self._table}: {problem}", url=data.get("url"),
            feed_url=data.get("feed_url"), payload=repr(row)))


def _to_rows(tables: dict, label_prefix: str = "") -> tuple:
    """{table: declared rows} -> {table: JSON rows}; rejected article/feed rows join the dead letters."""
    rows, extra_dead = {}, []
    for table in ("articles", "feed_state", "story_index"):
        if table in tables:
            out = tables[table] | f"{label_prefix}To Rows {LABELS[table]}" >> beam.ParDo(
                ToJsonRows(table)).with_outputs(DEAD, main=ROWS)
            rows[table] = out[ROWS]
            extra_dead.append(out[DEAD])
    dead = [tables["dead_letters"]] if "dead_letters" in tables else []
    all_dead = (*dead, *extra_dead) | f"{label_prefix}Gather Dead Letters" >> beam.Flatten()
    rows["dead_letters"] = all_dead | f"{label_prefix}To Rows {LABELS['dead_letters']}" >> beam.ParDo(
        ToJsonRows("dead_letters"))
    return rows


class MergeStaging(beam.DoFn):
    """After every load job of the run is done: one MERGE per table from staging, then drop staging."""

    def __init__(self, target, staging: dict, endpoint: str | None):
        self._target = target
        self._staging = staging
        self._endpoint = endpoint

    def process(self, _, load_jobs, copy_jobs):
        bq = bigquery_store.client(self._target.project, self._endpoint)
        try:
            for _dest, ref in list(load_jobs) + list(copy_jobs):
                job = bq.get_job(ref.jobId, project=ref.projectId, location=ref.location)
                job.result()  # raises if the job failed: then nothing is merged and staging stays
            before = self._counts(bq)
            bigquery_store.merge_staging(bq, self._target, self._staging)
            after = self._counts(bq)
        finally:
            bq.close()
        for table in self._staging:
            counter(STAGE, f"{table}.inserted").inc(after[table] - before[table])
            yield table, after[table] - before[table]

    def _counts(self, bq) -> dict:
        return {t: next(iter(bq.query(f"SELECT COUNT(*) FROM `{self._target.ref(t)}`").result()))[0]
                for t in self._staging}


class WriteBigQueryBatch(beam.PTransform):
    """{table: PCollection of declared rows} -> FILE_LOADS into staging -> one MERGE per table."""

    def __init__(self, target, staging: dict, *, endpoint: str | None = None, temp_location: str | None = None):
        super().__init__()
        self._target = target
        self._staging = staging
        self._endpoint = endpoint
        self._temp_location = temp_location

    def expand(self, tables: dict):
        from apache_beam.io.gcp.bigquery import BigQueryDisposition, WriteToBigQuery

        rows = _to_rows(tables)
        test_client = beam_test_client(self._target.project, self._endpoint)
        load_jobs, copy_jobs = [], []
        for table in rows:
            result = rows[table] | f"Load {LABELS[table]}" >> WriteToBigQuery(
                table=self._target.beam_ref(self._staging[table]),
                schema={"fields": bigquery_store.schema_fields(table)},
                method=WriteToBigQuery.Method.FILE_LOADS,
                create_disposition=BigQueryDisposition.CREATE_NEVER,
                write_disposition=BigQueryDisposition.WRITE_APPEND,
                custom_gcs_temp_location=self._temp_location,
                # The emulator reads load files from local disk; real runs validate the gs:// temp location.
                validate=test_client is None,
                test_client=test_client)
            load_jobs.append(result.destination_load_jobid_pairs)
            copy_jobs.append(result.destination_copy_jobid_pairs)
        loads = tuple(load_jobs) | "Gather Load Jobs" >> beam.Flatten()
        copies = tuple(copy_jobs) | "Gather Copy Jobs" >> beam.Flatten()
        return (loads.pipeline
                | "Start Merge" >> beam.Create([None])
                | "Merge Staging" >> beam.ParDo(MergeStaging(self._target, self._staging, self._endpoint),
                                                beam.pvalue.AsList(loads), beam.pvalue.AsList(copies)))


class FirstOfKey(beam.DoFn):
    """Passes the first element of each key and drops repeats until the key's TTL runs out.

    State is per key, so on Dataflow it is exactly-once and survives worker restarts. The TTL
    timer is event time: the key is forgotten `ttl_s` after the latest copy's timestamp, which
    bounds state for a job that runs for months.
    """

    SEEN = userstate.ReadModifyWriteStateSpec("seen", beam.coders.BooleanCoder())
    EXPIRY = userstate.TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, table: str, ttl_s: float):
        self._table = table
        self._ttl_s = ttl_s

    def process(self, keyed, timestamp=beam.DoFn.TimestampParam, seen=beam.DoFn.StateParam(SEEN),
                expiry=beam.DoFn.TimerParam(EXPIRY)):
        _, row = keyed
        # Articles carry their publication time, which may be days behind the watermark: count
        # the TTL from whichever is later, so an old article's key is not forgotten at once.
        expiry.set(max(timestamp, Timestamp.now()) + self._ttl_s)
        if seen.read():
            counter(STAGE, f"{self._table}.repeated").inc()
            return
        seen.write(True)
        yield row

    @userstate.on_timer(EXPIRY)
    def forget(self, seen=beam.DoFn.StateParam(SEEN)):
        seen.clear()


def _latest_state(states):
    return max(states, key=lambda s: (s.last_polled_at or "", s.consecutive_failures or 0))


# Feeds per MERGE statement: 7 scalar parameters each. A window of a 100k-feed stream holds about
# 6,700 feeds; one statement for all of them would pass BigQuery's limits on query parameters and
# query length (docs/capacity.md), so a window's states go out in statements of this many.
FEEDS_PER_MERGE = 1000


class MergeFeedStates(beam.DoFn):
    """MERGEs per window with the latest state of each feed (scalar query parameters), `per_statement` feeds each."""

    def __init__(self, target, endpoint: str | None, per_statement: int = FEEDS_PER_MERGE):
        self._target = target
        self._endpoint = endpoint
        self._per_statement = per_statement
        self._bq = None

    def setup(self):
        self._bq = bigquery_store.client(self._target.project, self._endpoint)

    def process(self, keyed):
        _, states = keyed
        states = list(states)
        for part in chunks(states, self._per_statement):
            self._merge(part)
        if states:
            yield len(states)

    def _merge(self, states: list) -> None:
        from google.cloud import bigquery

        row_type = TABLES["feed_state"][0]
        kinds = {"string": "STRING", "int": "INT64", "timestamp": "TIMESTAMP"}
        params, selects = [], []
        for i, state in enumerate(states):
            cols = []
            for f in row_type.fields:
                value = getattr(state, f.name)
                params.append(bigquery.ScalarQueryParameter(f"p{i}_{f.name}", kinds[f.kind], value))
                cols.append(f"@p{i}_{f.name} AS {f.name}")
            selects.append("SELECT " + ", ".join(cols))
        names = row_type.names
        sql = (f"MERGE `{self._target.ref('feed_state')}` T USING (\n" + "\nUNION ALL\n".join(selects)
               + "\n) S ON T.feed_url = S.feed_url\nWHEN MATCHED THEN UPDATE SET "
               + ", ".join(f"{n} = S.{n}" for n in names if n != "feed_url")
               + f"\nWHEN NOT MATCHED THEN INSERT ({', '.join(names)}) VALUES ({', '.join('S.' + n for n in names)})")
        self._bq.query(sql, job_config=bigquery.QueryJobConfig(query_parameters=params)).result()
        counter(STAGE, "feed_state.merged").inc(len(states))

    def teardown(self):
        if self._bq is not None:
            self._bq.close()


def _rejected_to_dead(failed, table: str):
    """(destination, row, errors) from failed_rows_with_errors -> a dead letter row."""
    _dest, row, errors = failed
    counter(STAGE, "dead_letters").inc()
    counter(STAGE, "dead.bigquery_rejected").inc()
    message = "; ".join(f"{e.get('reason')}: {e.get('message')}" for e in (errors or [])) or "rejected"
    return to_json_row(dead_letter(STAGE, "bigquery_rejected", f"{table}: {message}", url=row.get("url"),
                                   feed_url=row.get("feed_url"), payload=repr(row)))


class WriteBigQueryStreaming(beam.PTransform):
    """{table: unbounded PCollection} -> STREAMING_INSERTS, first copy per key, rejects to dead_letters."""

    def __init__(self, target, settings: Settings, *, endpoint: str | None = None, reject=None,
                 feed_state_window_s: float = 60.0):
        super().__init__()
        self._target = target
        self._settings = settings
        self._endpoint = endpoint
        self._reject = reject
        self._window_s = feed_state_window_s

    def _insert(self, rows, label: str, table: str, retry: str, test_client):
        from apache_beam.io.gcp.bigquery import BigQueryDisposition, WriteToBigQuery

        return rows | label >> WriteToBigQuery(
            table=self._target.beam_ref(table),
            method=WriteToBigQuery.Method.STREAMING_INSERTS,
            create_disposition=BigQueryDisposition.CREATE_NEVER,
            write_disposition=BigQueryDisposition.WRITE_APPEND,
            insert_retry_strategy=retry,
            test_client=test_client)

    def expand(self, tables: dict):
        from apache_beam.io.gcp.bigquery_tools import RetryStrategy

        ttl_s = self._settings.dedup.horizon_hours * 3600
        test_client = beam_test_client(self._target.project, self._endpoint, self._reject)
        firsts = {}
        for table in ("articles", "dead_letters", "story_index"):
            if table not in tables:
                continue
            key = TABLES[table][1]
            firsts[table] = (tables[table]
                             | f"Window {LABELS[table]}" >> beam.WindowInto(beam.window.GlobalWindows())
                             # A typed str key: state is looked up by its encoding, which must be deterministic.
                             | f"Key {LABELS[table]}" >> beam.Map(lambda r, k=key: (getattr(r, k), r))
                             .with_output_types(typing.Tuple[str, typing.Any])
                             | f"First {LABELS[table]}" >> beam.ParDo(FirstOfKey(table, ttl_s)))
        rows = _to_rows(firsts)
        articles = self._insert(rows["articles"], "Insert Articles", "articles",
                                RetryStrategy.RETRY_ON_TRANSIENT_ERROR, test_client)
        rejected = articles.failed_rows_with_errors | "Rejected Articles" >> beam.Map(_rejected_to_dead, "articles")
        dead_rows = (rows["dead_letters"], rejected) | "Gather Dead Letter Rows" >> beam.Flatten()
        dead = self._insert(dead_rows, "Insert Dead Letters", "dead_letters", RetryStrategy.RETRY_NEVER,
                            test_client)
        _ = dead.failed_rows_with_errors | "Unwritable Dead Letters" >> beam.Map(
            lambda failed: counter(STAGE, "dead_letters_unwritable").inc())
        if "story_index" in rows:
            index = self._insert(rows["story_index"], "Insert Story Index", "story_index",
                                 RetryStrategy.RETRY_ON_TRANSIENT_ERROR, test_client)
            # An index row BigQuery refuses only costs a future copy its match; count it.
            _ = index.failed_rows_with_errors | "Unwritable Story Index" >> beam.Map(
                lambda failed: counter(STAGE, "story_index_unwritable").inc())
        if "feed_state" in tables:
            _ = (tables["feed_state"]
                 # One MERGE per feed_state_window_s of processing time, and a last one when the
                 # stream ends (drain): no state is ever late, whatever its timestamp.
                 | "Window Feed State" >> beam.WindowInto(
                     beam.window.GlobalWindows(),
                     trigger=trigger.AfterWatermark(early=trigger.AfterProcessingTime(int(self._window_s))),
                     accumulation_mode=trigger.AccumulationMode.DISCARDING)
                 | "Key Feed State" >> beam.Map(lambda s: (s.feed_url, s))
                 | "Latest Feed State" >> beam.CombinePerKey(_latest_state)
                 | "One Batch Per Window" >> beam.Map(lambda kv: (None, kv[1]))
                 | "Group Feed States" >> beam.GroupByKey()
                 | "Merge Feed State" >> beam.ParDo(MergeFeedStates(self._target, self._endpoint)))
        return articles


class WriteBigQuery(beam.PTransform):
    """The BigQuery writer behind 'Write Warehouse': batch (FILE_LOADS + MERGE) or streaming (STREAMING_INSERTS).

    pipeline/prepare.py creates the dataset, tables and view if missing and, for batch, this
    run's staging tables, before the graph is built.
    """

    def __init__(self, target, settings: Settings, *, streaming: bool = False, staging: dict | None = None,
                 endpoint: str | None = None, temp_location: str | None = None):
        super().__init__()
        self._target = target
        self._settings = settings
        self._streaming = streaming
        self._staging = staging
        self._endpoint = endpoint
        self._temp_location = temp_location

    def expand(self, tables: dict):
        if self._streaming:
            return tables | "Stream" >> WriteBigQueryStreaming(self._target, self._settings, endpoint=self._endpoint)
        return tables | "Batch" >> WriteBigQueryBatch(self._target, self._staging, endpoint=self._endpoint,
                                                      temp_location=self._temp_location)
