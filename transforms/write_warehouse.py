"""WriteWarehouse: land articles, dead letters and feed state, idempotently, in batches of one transaction."""
from __future__ import annotations

import apache_beam as beam

from pipeline.settings import Settings
from transforms.common import counter, dead_letter

STAGE = "write"
WRITER_KEY = "warehouse"
LABELS = {"articles": "Articles", "dead_letters": "Dead Letters", "feed_state": "Feed State"}


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
        from transforms import duckdb_store

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
        from transforms import duckdb_store

        inserted: dict = {}
        for table, rows in by_table.items():
            for row in rows:
                try:
                    got = duckdb_store.write_batch(con, {table: [row]})
                    inserted[table] = inserted.get(table, 0) + got.get(table, 0)
                except duckdb_store.duckdb.Error as err:
                    if table == "dead_letters":
                        raise
                    counter(STAGE, "dead_letters").inc()
                    counter(STAGE, "dead.warehouse_rejected").inc()
                    dead = dead_letter(STAGE, "warehouse_rejected", f"{table}: {err}",
                                       url=getattr(row, "url", None), feed_url=getattr(row, "feed_url", None),
                                       payload=repr(row))
                    got = duckdb_store.write_batch(con, {"dead_letters": [dead]})
                    inserted["dead_letters"] = inserted.get("dead_letters", 0) + got.get("dead_letters", 0)
        return inserted


class WriteWarehouse(beam.PTransform):
    """{table name: PCollection of rows} in; rows written to the DuckDB file at `path`."""

    def __init__(self, path: str, settings: Settings):
        super().__init__()
        self._path = path
        self._settings = settings

    def expand(self, tables: dict):
        tagged = [pcoll | f"Tag {LABELS[table]}" >> beam.Map(lambda row, t=table: (t, row))
                  for table, pcoll in tables.items()]
        # One key: DuckDB has one writer, so every batch goes through one DoFn call at a time.
        return (tagged
                | "Gather Rows" >> beam.Flatten()
                | "Key For Writer" >> beam.Map(lambda row: (WRITER_KEY, row))
                | "Group Rows" >> beam.GroupByKey()
                | "Write Batches" >> beam.ParDo(WriteDuckDBBatch(self._path, self._settings)))
