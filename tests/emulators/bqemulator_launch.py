"""Start bqemulator with its known gaps mended, so it behaves as BigQuery does for what wiredesk uses.

Run with the emulator's own python (its venv, see setup_bqemulator.sh), with the arguments of
`bqemulator`:  python tests/emulators/bqemulator_launch.py start --rest-port ... . It imports
nothing from wiredesk. tests/emulators/bqemulator.py starts the emulator this way.

Mended here, never in wiredesk's own code (which must stay right for BigQuery itself):

- NDJSON load jobs store a BYTES value's base64 text as the bytes. bqemulator 1.4.0 loads
  NEWLINE_DELIMITED_JSON with DuckDB's `COPY ... (FORMAT JSON)`, which casts the string to BLOB
  as it is. BigQuery decodes it ("BYTES values must be base64-encoded" in JSON loads), and so do
  the emulator's own insertAll and query paths. So for a table with top-level BYTES columns the
  load reads those columns as text and decodes them with from_base64. (No nested BYTES fields
  here: no wiredesk table has any.)
- A table update (tables.patch / tables.update, i.e. client.update_table) that appends fields
  changes only the emulator's catalog, not the DuckDB table behind it, so the new columns cannot
  be written or read. BigQuery adds them (NULL in stored rows), so the mend adds them to the
  DuckDB table too (ALTER TABLE ADD COLUMN, with the emulator's own type mapping).
"""
from __future__ import annotations

import os
import sys

# This file's directory holds tests/emulators/bqemulator.py, which would shadow the package.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def _patch_json_load() -> None:
    from bqemulator.jobs import executor

    original = executor._load_json

    def load_json(path: str, target_ref: str, ctx) -> None:
        described = ctx.engine.execute(f"DESCRIBE {target_ref}").fetchall()
        columns = [(row[0], row[1]) for row in described]
        blobs = [name for name, kind in columns if kind.upper() == "BLOB"]
        if not blobs:
            original(path, target_ref, ctx)
            return

        def quote(value: str, mark: str) -> str:
            return mark + value.replace(mark, mark * 2) + mark

        spec = ", ".join(f"{quote(name, chr(39))}: {quote('VARCHAR' if name in blobs else kind, chr(39))}"
                         for name, kind in columns)
        decode = ", ".join(f"from_base64({quote(name, chr(34))}) AS {quote(name, chr(34))}" for name in blobs)
        ctx.engine.execute(
            f"INSERT INTO {target_ref} BY NAME SELECT * REPLACE ({decode}) "
            f"FROM read_json(?, format = 'newline_delimited', columns = {{{spec}}})", [path])

    executor._load_json = load_json
    for fmt, handler in list(executor._LOAD_FORMAT_HANDLERS.items()):
        if handler is original:
            executor._LOAD_FORMAT_HANDLERS[fmt] = load_json


def _patch_schema_update() -> None:
    from bqemulator.api.routes.tables import _field_to_rest
    from bqemulator.catalog.duckdb_repository import DuckDBCatalogRepository
    from bqemulator.catalog.memory_repository import MemoryCatalogRepository
    from bqemulator.storage.sql_identifiers import quoted_table_ref
    from bqemulator.storage.type_map import bq_schema_to_duckdb_columns

    for repository in (DuckDBCatalogRepository, MemoryCatalogRepository):
        original = repository.update_table

        def update_table(self, table, _original=original):
            old = self.get_table(table.project_id, table.dataset_id, table.table_id)
            engine = getattr(self, "_engine", None)
            if old is not None and engine is not None and old.schema_ is not None and table.schema_ is not None:
                known = {f.name for f in old.schema_.fields}
                added = [_field_to_rest(f) for f in table.schema_.fields if f.name not in known]
                ref = quoted_table_ref(table.project_id, table.dataset_id, table.table_id)
                for name, kind in (bq_schema_to_duckdb_columns(added) if added else []):
                    engine.execute(f'ALTER TABLE {ref} ADD COLUMN "{name}" {kind}')
            return _original(self, table)

        repository.update_table = update_table


def main() -> None:
    _patch_json_load()
    _patch_schema_update()
    from bqemulator.cli import main as cli

    sys.argv[0] = "bqemulator"
    cli()


if __name__ == "__main__":
    main()
