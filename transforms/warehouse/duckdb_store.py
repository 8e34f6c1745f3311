"""The DuckDB warehouse: schema, locked-file waits, idempotent batch writes and state reads."""
from __future__ import annotations

import time
from pathlib import Path

import duckdb

from schemas.declare import duckdb_type
from schemas.errors import WarehouseError
from schemas.types import TABLES
from schemas.warehouse import duckdb_statements
from transforms.warehouse import columns

# What a second write of the same key does: articles and dead letters keep the first row
# (a rerun adds nothing); feed_state always holds the latest poll; story_index the latest
# signature of an article (rows are only made for articles not yet stored).
_ON_CONFLICT = {
    "articles": "DO NOTHING",
    "dead_letters": "DO UPDATE SET attempt = dead_letters.attempt + EXCLUDED.attempt, "
                    "failed_at = EXCLUDED.failed_at, message = EXCLUDED.message",
    "feed_state": None,  # built from the columns below
    "story_index": None,
}


def connect(path: str | Path, *, read_only: bool = False, wait_s: float = 30.0):
    """Open the DuckDB file, waiting while another process holds its lock."""
    path = str(path)
    if read_only and not Path(path).exists():
        raise WarehouseError(f"{path}: no such warehouse file (run `wiredesk run` or `wiredesk demo` first)")
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(path, read_only=read_only)
            # A long query would otherwise draw DuckDB's progress bar over our own output.
            con.execute("SET enable_progress_bar = false")
            return con
        except duckdb.IOException as err:
            text = str(err)
            if "lock" not in text.lower():
                raise WarehouseError(f"{path}: cannot open warehouse: {text}") from None
            if time.monotonic() >= deadline:
                raise WarehouseError(
                    f"{path}: the warehouse is locked by another process for over {wait_s:.0f}s "
                    f"({text.splitlines()[0]}). Stop the other wiredesk or duckdb process, or use another file."
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def ensure_schema(con) -> dict:
    """Create what is missing, declared columns of stored tables included; returns {table: [Field added]}."""
    stmts = duckdb_statements()
    creates = [s for s in stmts if s.startswith("CREATE TABLE")]
    for stmt in creates:
        con.execute(stmt)
    # Before the comments: they name every declared column, new ones too.
    added = columns.duckdb_missing(con)
    columns.duckdb_add(con, added)
    for stmt in stmts:
        if stmt not in creates:
            con.execute(stmt)
    return added


def _insert_sql(table: str, source: str) -> str:
    """INSERT ... SELECT from a registered relation, cast to the table's types, with the table's conflict rule."""
    row_type, key = TABLES[table]
    names = row_type.names
    selects = []
    for f in row_type.fields:
        if f.record is not None or f.repeated or f.kind == "timestamp":
            selects.append(f'CAST("{f.name}" AS {duckdb_type(f)})')
        else:
            selects.append(f'"{f.name}"')
    conflict = _ON_CONFLICT[table]
    if conflict is None:
        conflict = "DO UPDATE SET " + ", ".join(f'"{n}" = EXCLUDED."{n}"' for n in names if n != key)
    cols = ", ".join(f'"{n}"' for n in names)
    return f"INSERT INTO {table} ({cols}) SELECT {', '.join(selects)} FROM {source} ON CONFLICT ({key}) {conflict}"


def _params(row) -> list:
    out = []
    for value in row:
        if isinstance(value, (list, tuple)) and value and hasattr(value[0], "_asdict"):
            value = [v._asdict() for v in value]
        elif isinstance(value, tuple) and not hasattr(value, "_asdict"):
            value = list(value)
        out.append(value)
    return out


def _one_per_key(table: str, rows: list) -> list:
    """The rows a sequence of single-row upserts would leave, one per key, in first-seen order.

    One INSERT may not touch a key twice, so repeats within a batch are folded here by the same
    rule _ON_CONFLICT applies across batches: articles keep the first row, feed_state the last,
    and a dead letter sums its attempts and keeps the latest failure.
    """
    key = TABLES[table][1]
    found: dict = {}
    for row in rows:
        k = getattr(row, key)
        if k not in found:
            found[k] = row
        elif table == "dead_letters":
            old = found[k]
            found[k] = old._replace(attempt=(old.attempt or 0) + (row.attempt or 0), failed_at=row.failed_at,
                                    message=row.message)
        elif table in ("feed_state", "story_index"):
            found[k] = row
        # articles: the first row stays
    return list(found.values())


def write_batch(con, rows_by_table: dict) -> dict:
    """Write rows of several tables in ONE transaction; returns {table: rows newly inserted}.

    Each table's rows go in with one INSERT ... SELECT over an Arrow table: row-at-a-time
    executemany cost about 7 ms a row, most of a 517-page run's write time.
    """
    import pyarrow as pa

    inserted = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for table, rows in rows_by_table.items():
            if not rows:
                continue
            rows = _one_per_key(table, rows)
            key = TABLES[table][1]
            names = TABLES[table][0].names
            keys = [getattr(r, key) for r in rows]
            # fetchall, not fetchone: DuckDB refuses new work while a result is still open.
            before = con.execute(f"SELECT count(*) FROM {table} WHERE {key} IN (SELECT unnest(?))",
                                 [keys]).fetchall()[0][0]
            staged = pa.Table.from_pylist([dict(zip(names, _params(r))) for r in rows])
            con.register("wiredesk_staged_rows", staged)
            try:
                con.execute(_insert_sql(table, "wiredesk_staged_rows"))
            finally:
                con.unregister("wiredesk_staged_rows")
            inserted[table] = len(keys) - before
        con.execute("COMMIT")
    except Exception:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            # A failed COMMIT (e.g. a full disk) has already ended the transaction; the error
            # worth reporting is the one being re-raised below, not "no transaction is active".
            pass
        raise
    return inserted
