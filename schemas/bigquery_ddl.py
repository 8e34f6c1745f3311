"""BigQuery table layout, the stories view and the staging MERGE, generated from schemas.types.

The DuckDB twin of the stories view is schemas.warehouse.STORIES_VIEW_DUCKDB; a test runs both
over the same rows (tests/pipeline/test_bigquery_warehouse.py) and requires equal results.
"""
from __future__ import annotations

from schemas.types import TABLES

# Partitioning and clustering per table. deploy/terraform/bigquery.tf declares the same values;
# tests/deploy checks that both agree.
TABLE_LAYOUT = {
    "articles": {"partition_field": "published_at", "clustering": ["agency", "outlet"]},
    "dead_letters": {"partition_field": "failed_at", "clustering": ["stage", "error_class"]},
    "feed_state": {"partition_field": None, "clustering": []},
    # Story matching reads one dedup horizon of rows: partitions by day prune the rest.
    "story_index": {"partition_field": "published_at", "clustering": ["story_id"]},
}

STORIES_VIEW = "stories"

# One row per story through its first-published copy. ARRAY_AGG over a named STRUCT never meets
# a NULL element (BigQuery rejects arrays holding NULL), so a copy without a title still counts.
_STORIES_VIEW_BIGQUERY = """
SELECT
  story_id,
  first.article_id AS first_article_id,
  first.title AS title,
  first.url AS first_url,
  first.outlet AS first_outlet,
  agency,
  copies,
  outlet_count,
  outlets,
  first_published_at,
  last_published_at
FROM (
  SELECT
    story_id,
    ARRAY_AGG(STRUCT(article_id AS article_id, title AS title, url AS url, outlet AS outlet)
              ORDER BY published_at, article_id LIMIT 1)[OFFSET(0)] AS first,
    COALESCE(MAX(story_agency), MAX(agency)) AS agency,
    COUNT(*) AS copies,
    COUNT(DISTINCT outlet) AS outlet_count,
    ARRAY_AGG(DISTINCT COALESCE(outlet, '') ORDER BY COALESCE(outlet, '')) AS outlets,
    MIN(published_at) AS first_published_at,
    MAX(published_at) AS last_published_at
  FROM `{project}.{dataset}.articles`
  GROUP BY story_id
)
""".strip()


def stories_view_sql(project: str, dataset: str) -> str:
    """The stories view's SELECT for BigQuery, over PROJECT.DATASET.articles."""
    return _STORIES_VIEW_BIGQUERY.format(project=project, dataset=dataset)


def terraform_view_template() -> str:
    """The view as a Terraform templatefile() template (${project}, ${dataset} filled in by Terraform)."""
    return stories_view_sql("${project}", "${dataset}") + "\n"


def staging_table(table: str, run_id: str) -> str:
    """Name of the per-run staging table a batch load fills before the MERGE."""
    return f"_staging_{table}_{run_id}"


def _dedupe_staging(table: str, staging_ref: str) -> str:
    """The staging rows, one per primary key (a retried bundle may have loaded a row twice)."""
    row_type, key = TABLES[table]
    if table == "dead_letters":
        # Same failure several times in one run: keep the latest, add up the attempts (as DuckDB does).
        order, extra = "failed_at DESC", ", SUM(attempt) OVER (PARTITION BY dead_letter_id) AS _attempts"
    elif table == "feed_state":
        order, extra = "last_polled_at DESC", ""
    elif table == "story_index":
        order, extra = "published_at", ""
    else:
        order, extra = "ingested_at, fetched_at, url", ""
    return (f"SELECT * EXCEPT (_rn) FROM (\n"
            f"  SELECT *, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {order}) AS _rn{extra}\n"
            f"  FROM `{staging_ref}`\n"
            f") WHERE _rn = 1")


def merge_sql(project: str, dataset: str, table: str, staging: str) -> str:
    """ONE MERGE from a staging table into `table` on its primary key; running it twice adds nothing.

    articles: first row wins (a rerun or retry adds nothing, no story is split);
    dead_letters: attempts add up and the latest message stays; feed_state and story_index: the
    latest row wins.
    """
    row_type, key = TABLES[table]
    names = row_type.names
    target_ref = f"{project}.{dataset}.{table}"
    staging_ref = f"{project}.{dataset}.{staging}"
    source = _dedupe_staging(table, staging_ref)
    insert_values = ", ".join(
        "S._attempts" if (table == "dead_letters" and n == "attempt") else f"S.{n}" for n in names)
    insert = f"INSERT ({', '.join(names)}) VALUES ({insert_values})"
    if table == "articles":
        matched = ""
    elif table == "dead_letters":
        matched = ("WHEN MATCHED THEN UPDATE SET attempt = T.attempt + S._attempts, "
                   "failed_at = S.failed_at, message = S.message\n")
    else:
        matched = "WHEN MATCHED THEN UPDATE SET " + ", ".join(f"{n} = S.{n}" for n in names if n != key) + "\n"
    return (f"MERGE `{target_ref}` T\nUSING (\n{source}\n) S\nON T.{key} = S.{key}\n"
            f"{matched}WHEN NOT MATCHED THEN {insert}")

