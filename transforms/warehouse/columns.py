"""Columns declared in schemas.types but missing from a stored table, added in place on both engines.

A column appended to a row declaration reaches every existing warehouse this way, whatever the
schema version says: the check compares names, so a field added by any release (and a warehouse
upgraded by a build that did not know it yet) is still added. Stored rows read NULL in the new
columns. Only nullable and repeated columns can be added to rows that exist: a required one
cannot be filled in, so it stops the upgrade with a message.
"""
from __future__ import annotations

from schemas.declare import Field, bigquery_fields, duckdb_type
from schemas.errors import WarehouseError
from schemas.types import TABLES


def missing(stored: dict) -> dict:
    """{table: [declared Field missing from it]} for the tables in `stored` ({table: set of column names})."""
    out = {}
    for table, names in stored.items():
        row_type = TABLES[table][0]
        gone = [f for f in row_type.fields if f.name not in names]
        required = [f.name for f in gone if f.required]
        if required:
            raise WarehouseError(f"table {table} lacks the required column(s) {', '.join(required)}, which "
                                 f"cannot be added to stored rows: rebuild it or add them by hand")
        if gone:
            out[table] = gone
    return out


def describe(added: dict) -> str:
    """'articles.a, articles.b' for a {table: [Field]} mapping."""
    return ", ".join(f"{table}.{f.name}" for table, fields in added.items() for f in fields)


# -- DuckDB ---------------------------------------------------------------------------------------
def duckdb_stored(con) -> dict:
    """{table: set of column names} of the declared tables the DuckDB file holds."""
    rows = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                       "WHERE table_schema = current_schema()").fetchall()
    stored: dict = {}
    for table, column in rows:
        if table in TABLES:
            stored.setdefault(table, set()).add(column)
    return stored


def duckdb_missing(con) -> dict:
    return missing(duckdb_stored(con))


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


def duckdb_add(con, fields_by_table: dict) -> None:
    """ALTER TABLE ... ADD COLUMN for each field, in declaration order, each with its description."""
    for table, fields in fields_by_table.items():
        for f in fields:
            con.execute(f'ALTER TABLE {table} ADD COLUMN IF NOT EXISTS "{f.name}" {duckdb_type(f)}')
            con.execute(f"COMMENT ON COLUMN {table}.\"{f.name}\" IS '{_sql_str(f.description)}'")


# -- BigQuery -------------------------------------------------------------------------------------
def _bigquery_field(table: str, f: Field) -> dict:
    return next(entry for entry in bigquery_fields(TABLES[table][0]) if entry["name"] == f.name)


def bigquery_add_missing(bq, target) -> dict:
    """Append every missing declared column to the dataset's tables (client.update_table); returns them.

    BigQuery lets a table's schema gain NULLABLE and REPEATED fields at the end, which is exactly
    what an appended declaration is; existing rows read NULL (or an empty array).
    """
    from google.api_core.exceptions import NotFound
    from google.cloud import bigquery

    added = {}
    for table in TABLES:
        try:
            resource = bq.get_table(target.ref(table))
        except NotFound:
            continue
        gone = missing({table: {f.name for f in resource.schema}})
        if not gone:
            continue
        resource.schema = list(resource.schema) + [
            bigquery.SchemaField.from_api_repr(_bigquery_field(table, f)) for f in gone[table]]
        bq.update_table(resource, ["schema"])
        added.update(gone)
    return added
