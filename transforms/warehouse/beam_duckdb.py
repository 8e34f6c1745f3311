"""WriteDuckDB: land every table's rows in the DuckDB file, idempotently, in batches of one transaction."""
from __future__ import annotations

import time

import apache_beam as beam
from apache_beam.coders import PickleCoder, VarIntCoder
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.window import GlobalWindow, GlobalWindows

from schemas.settings import Settings
from transforms.beam_common.metrics import counter
from transforms.util.dead_letters import dead_letter

STAGE = "write"
WRITER_KEY = "warehouse"
LABELS = {"articles": "Articles", "dead_letters": "Dead Letters", "feed_state": "Feed State",
          "story_index": "Story Index"}


class WriteDuckDBBatch(beam.DoFn):
    """Writes one batch of mixed-table rows in one DuckDB transaction; a rerun adds no rows.

    The connection is opened per batch and closed after it, so `wiredesk query` from another
    process gets in between batches and never sees half a batch.
    """

    def __init__(self, path: str, settings: Settings):
        self._path = path
        self._settings = settings
        self._schema_ready = False

    def process(self, keyed):
        _, rows = keyed
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) >= self._settings.warehouse.batch_rows:
                self._write(batch)
                batch = []
        if batch:
            self._write(batch)
        yield from ()

    def _write(self, rows):
        from transforms.warehouse import duckdb_store

        by_table: dict = {}
        for table, row in rows:
            by_table.setdefault(table, []).append(row)
        con = duckdb_store.connect(self._path, wait_s=self._settings.warehouse.lock_wait_s)
        try:
            if not self._schema_ready:
                duckdb_store.ensure_schema(con)
                self._schema_ready = True
            try:
                inserted = duckdb_store.write_batch(con, by_table)
            except duckdb_store.duckdb.Error:
                inserted = self._write_row_by_row(con, by_table)
        finally:
            con.close()
        for table, rows_of_table in by_table.items():
            counter(STAGE, f"{table}.received").inc(len(rows_of_table))
            counter(STAGE, f"{table}.inserted").inc(inserted.get(table, 0))

    def _write_row_by_row(self, con, by_table: dict) -> dict:
        """After a failed batch, find the bad rows; each becomes a dead letter instead."""
        from transforms.warehouse import duckdb_store

        inserted: dict = {}
        rejected = set()  # article ids refused: their story_index rows must not land either
        # Articles before their story_index rows, so a refused article's index row is known.
        for table in sorted(by_table, key=lambda t: t == "story_index"):
            rows = [r for r in by_table[table] if table != "story_index" or r.article_id not in rejected]
            for row in rows:
                try:
                    got = duckdb_store.write_batch(con, {table: [row]})
                    inserted[table] = inserted.get(table, 0) + got.get(table, 0)
                except duckdb_store.duckdb.Error as err:
                    if table == "dead_letters":
                        raise
                    if table == "articles":
                        rejected.add(row.article_id)
                    counter(STAGE, "dead_letters").inc()
                    counter(STAGE, "dead.warehouse_rejected").inc()
                    dead = dead_letter(STAGE, "warehouse_rejected", f"{table}: {err}",
                                       url=getattr(row, "url", None), feed_url=getattr(row, "feed_url", None),
                                       payload=repr(row))
                    got = duckdb_store.write_batch(con, {"dead_letters": [dead]})
                    inserted["dead_letters"] = inserted.get("dead_letters", 0) + got.get("dead_letters", 0)
        return inserted


class StreamWriteDuckDB(beam.DoFn):
    """Streaming: buffers (table, row) pairs in Beam state and writes micro-batches, each one transaction.

    A batch is written when it holds `batch_rows` rows, and whatever is left when the stream ends
    (an event-time timer at the end of the global window: a bounded run, --duration, --max-polls,
    Ctrl-C and a Dataflow drain all get there). `StreamWriteDuckDBTimed` also writes a batch
    `batch_seconds` after its first row (a processing-time timer): used when the run streams on
    the local BundleBasedDirectRunner (the Pub/Sub source and the live poll source). The SDF poll
    source on the FnApiRunner hands rows to the writer only when it ends, so it needs no timer.
    """

    ROWS = userstate.BagStateSpec("rows", PickleCoder())
    COUNT = userstate.ReadModifyWriteStateSpec("count", VarIntCoder())
    END = userstate.TimerSpec("end", TimeDomain.WATERMARK)

    def __init__(self, path: str, settings: Settings):
        self._path = path
        self._settings = settings
        self._writer = None

    def setup(self):
        self._writer = WriteDuckDBBatch(self._path, self._settings)

    def _add(self, row, rows, count, end) -> bool:
        """Buffer one row; True when the batch is full."""
        n = (count.read() or 0) + 1
        if n == 1:
            end.set(GlobalWindow().max_timestamp())
        rows.add(row)
        count.write(n)
        return n >= self._settings.warehouse.batch_rows

    def _flush(self, rows, count) -> None:
        batch = list(rows.read())
        if batch:
            self._writer._write(batch)
            counter(STAGE, "batches").inc()
        rows.clear()
        count.clear()

    def process(self, keyed, rows=beam.DoFn.StateParam(ROWS), count=beam.DoFn.StateParam(COUNT),
                end=beam.DoFn.TimerParam(END)):
        if self._add(keyed[1], rows, count, end):
            self._flush(rows, count)
        yield from ()

    @userstate.on_timer(END)
    def on_end(self, rows=beam.DoFn.StateParam(ROWS), count=beam.DoFn.StateParam(COUNT)):
        self._flush(rows, count)
        yield from ()


class StreamWriteDuckDBTimed(StreamWriteDuckDB):
    """StreamWriteDuckDB that also writes a batch batch_seconds after its first row."""

    # Timer specs are bound to one callback each, so this class declares its own.
    ROWS = userstate.BagStateSpec("rows", PickleCoder())
    COUNT = userstate.ReadModifyWriteStateSpec("count", VarIntCoder())
    END = userstate.TimerSpec("end", TimeDomain.WATERMARK)
    IDLE = userstate.TimerSpec("idle", TimeDomain.REAL_TIME)

    def process(self, keyed, rows=beam.DoFn.StateParam(ROWS), count=beam.DoFn.StateParam(COUNT),
                end=beam.DoFn.TimerParam(END), idle=beam.DoFn.TimerParam(IDLE)):
        if self._add(keyed[1], rows, count, end):
            self._flush(rows, count)
        elif (count.read() or 0) == 1:
            idle.set(time.time() + self._settings.warehouse.batch_seconds)
        yield from ()

    @userstate.on_timer(END)
    def on_end(self, rows=beam.DoFn.StateParam(ROWS), count=beam.DoFn.StateParam(COUNT)):
        self._flush(rows, count)
        yield from ()

    @userstate.on_timer(IDLE)
    def on_idle(self, rows=beam.DoFn.StateParam(ROWS), count=beam.DoFn.StateParam(COUNT)):
        self._flush(rows, count)
        yield from ()


class WriteDuckDB(beam.PTransform):
    """{table name: PCollection of rows} in; rows written to the DuckDB file at `path`.

    `streaming`: rows are written by StreamWriteDuckDB in micro-batches instead of one grouped
    pass; `timed_flush` adds its processing-time flush (StreamWriteDuckDBTimed).
    """

    def __init__(self, path: str, settings: Settings, streaming: bool = False, timed_flush: bool = False):
        super().__init__()
        self._path = path
        self._settings = settings
        self._streaming = streaming
        self._timed_flush = timed_flush

    def expand(self, tables: dict):
        if self._streaming:
            return self._expand_streaming(tables)
        tagged = [pcoll | f"Tag {LABELS[table]}" >> beam.Map(lambda row, t=table: (t, row))
                  for table, pcoll in tables.items()]
        # One key: DuckDB has one writer, so every batch goes through one DoFn call at a time.
        return (tagged
                | "Gather Rows" >> beam.Flatten()
                | "Key For Writer" >> beam.Map(lambda row: (WRITER_KEY, row))
                | "Group Rows" >> beam.GroupByKey()
                | "Write Batches" >> beam.ParDo(WriteDuckDBBatch(self._path, self._settings)))

    def _expand_streaming(self, tables: dict):
        # Every input into the global window first: articles carry their event time (published_at),
        # which may be days behind the watermark; fixed windows would call them late.
        tagged = [pcoll
                  | f"Tag {LABELS[table]}" >> beam.Map(lambda row, t=table: (t, row))
                  | f"Window {LABELS[table]}" >> beam.WindowInto(GlobalWindows())
                  for table, pcoll in tables.items()]
        writer = StreamWriteDuckDBTimed if self._timed_flush else StreamWriteDuckDB
        return (tagged
                | "Gather Rows" >> beam.Flatten()
                | "Key For Writer" >> beam.Map(lambda row: (WRITER_KEY, row))
                | "Write Batches" >> beam.ParDo(writer(self._path, self._settings)))
