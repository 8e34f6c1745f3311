"""SQL on the warehouse: `wiredesk query SQL` (run_sql) and the saved analyses (`--saved NAME`, run_saved).

Each analysis is NAME.sql (portable: runs unchanged on both engines) or a pair of tested
dialect twins NAME.duckdb.sql and NAME.bigquery.sql. Table names are unqualified: DuckDB reads
its file, BigQuery resolves them in the warehouse dataset (default_dataset). The first comment
line says what the analysis answers.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.summary import format_table
from schemas.errors import ConfigError, WarehouseError

DIR = Path(__file__).resolve().parent
DIALECTS = ("duckdb", "bigquery")


def names() -> list:
    """Every saved analysis, sorted."""
    found = set()
    for path in DIR.glob("*.sql"):
        stem = path.name[:-len(".sql")]
        found.add(stem.split(".", 1)[0])
    return sorted(found)


def path_of(name: str, dialect: str) -> Path:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    if name not in names():
        raise KeyError(f"no saved query {name!r}; saved queries: {', '.join(names())}")
    specific = DIR / f"{name}.{dialect}.sql"
    return specific if specific.exists() else DIR / f"{name}.sql"


def sql(name: str, dialect: str) -> str:
    """The statement of a saved analysis in one dialect, comments kept."""
    return path_of(name, dialect).read_text(encoding="utf-8").strip().rstrip(";")


def summary(name: str) -> str:
    """What the analysis answers: its first comment line."""
    first = path_of(name, "duckdb").read_text(encoding="utf-8").splitlines()[0]
    return first.lstrip("- ").strip()


def run(warehouse: str, name: str, bigquery_endpoint: str | None = None) -> tuple:
    """(column names, rows) of a saved analysis on the DuckDB file or bigquery:PROJECT.DATASET."""
    if warehouse.startswith("bigquery:"):
        from transforms.warehouse import bigquery_store

        con = bigquery_store.connect(warehouse, bigquery_endpoint)
        dialect = "bigquery"
    else:
        from transforms.warehouse import duckdb_store

        con = duckdb_store.connect(warehouse, read_only=True)
        # Days are UTC days on both engines (BigQuery's CAST(timestamp AS DATE) is UTC).
        con.execute("SET TimeZone = 'UTC'")
        dialect = "duckdb"
    try:
        cur = con.execute(sql(name, dialect))
        columns = [d[0] for d in cur.description] if cur.description else []
        return columns, cur.fetchall()
    finally:
        con.close()


def execute(warehouse: str, statement: str) -> tuple:
    """(column names, rows) of ad-hoc SQL on the DuckDB file (read-only) or bigquery:PROJECT.DATASET."""
    if warehouse.startswith("bigquery:"):
        from transforms.warehouse import bigquery_store

        con = bigquery_store.connect(warehouse)
        try:
            cur = con.execute(statement)
            return [d[0] for d in cur.description or []], cur.fetchall()
        finally:
            con.close()
    from transforms.warehouse import duckdb_store

    con = duckdb_store.connect(warehouse, read_only=True)
    try:
        try:
            cur = con.execute(statement)
            columns = [d[0] for d in cur.description] if cur.description else []
            return columns, cur.fetchall() if columns else []
        except duckdb_store.duckdb.Error as err:
            raise WarehouseError(f"query failed: {err}") from None
    finally:
        con.close()


def run_sql(warehouse: str, statement: str) -> str:
    """Ad-hoc SQL on either engine, as a printable table."""
    return _table(*execute(warehouse, statement))


def run_saved(warehouse: str, name: str) -> str:
    """A saved analysis on either engine, as a printable table; an unknown name is a ConfigError."""
    try:
        columns, rows = run(warehouse, name)
    except KeyError as err:
        raise ConfigError(err.args[0]) from None
    return _table(columns, rows)


def _table(columns: list, rows: list) -> str:
    return format_table(columns, rows) if columns else "(no result)"
