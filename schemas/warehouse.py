"""Warehouse DDL and schema files generated from the row declarations in schemas.types."""
from __future__ import annotations

import json
from pathlib import Path

from schemas.declare import bigquery_fields, duckdb_comments, duckdb_ddl
from schemas.types import TABLES

BIGQUERY_DIR = Path(__file__).resolve().parent / "bigquery"

# 1: articles, dead_letters, feed_state. 2: + story_index, each article's signature stored once.
# 3: + the paywall columns of articles. Columns are added by name whatever the version says
# (transforms/warehouse/columns.py), so a field appended later needs no new number to arrive.
SCHEMA_VERSION = 3
# One key/value table records the schema version of a warehouse (both engines).
META_TABLE = "warehouse_meta"
META_DDL_DUCKDB = f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)"
META_SCHEMA_BIGQUERY = [
    {"name": "key", "type": "STRING", "mode": "REQUIRED", "description": "Setting name, e.g. schema_version."},
    {"name": "value", "type": "STRING", "mode": "NULLABLE", "description": "Its value."},
]

# The deduplicated news: one row per story, shown through its first-published copy.
STORIES_VIEW_DUCKDB = """
CREATE OR REPLACE VIEW stories AS
SELECT
  story_id,
  arg_min(article_id, (published_at, article_id)) AS first_article_id,
  arg_min(title, (published_at, article_id)) AS title,
  arg_min(url, (published_at, article_id)) AS first_url,
  arg_min(outlet, (published_at, article_id)) AS first_outlet,
  coalesce(max(story_agency), max(agency)) AS agency,
  count(*) AS copies,
  count(DISTINCT outlet) AS outlet_count,
  list(DISTINCT outlet ORDER BY outlet) AS outlets,
  min(published_at) AS first_published_at,
  max(published_at) AS last_published_at
FROM articles
GROUP BY story_id
""".strip()


def duckdb_statements() -> list:
    """Every statement that creates the DuckDB warehouse, in order; safe to run again."""
    stmts = []
    for table, (row_type, key) in TABLES.items():
        stmts.append(duckdb_ddl(table, row_type, key))
        stmts.extend(duckdb_comments(table, row_type))
    stmts.append(META_DDL_DUCKDB)
    stmts.append(STORIES_VIEW_DUCKDB)
    return stmts


def bigquery_schema(table: str) -> list:
    """The BigQuery JSON schema of a warehouse table, generated from the declaration."""
    return bigquery_fields(TABLES[table][0])


def write_bigquery_files(directory: Path = BIGQUERY_DIR) -> list:
    """(Re)write schemas/bigquery/<table>.json; the checked-in files must equal this output."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES:
        path = directory / f"{table}.json"
        path.write_text(json.dumps(bigquery_schema(table), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    path = directory / f"{META_TABLE}.json"
    path.write_text(json.dumps(META_SCHEMA_BIGQUERY, indent=2) + "\n", encoding="utf-8")
    written.append(path)
    return written


if __name__ == "__main__":
    for p in write_bigquery_files():
        print(p)
