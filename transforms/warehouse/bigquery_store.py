"""The BigQuery warehouse: target parsing, clients (real or emulator), schema, state reads, MERGE, queries.

The twin of transforms/duckdb_store.py. Tables come from the checked-in JSON schemas in
schemas/bigquery/, layout and view SQL from schemas/bigquery_ddl.py.

Emulator: set BIGQUERY_EMULATOR_HOST=127.0.0.1:PORT (tests do) and every client here talks to
that endpoint with anonymous credentials (Beam's WriteToBigQuery gets the client of
beam_bigquery_emulator.py). Without it, Application Default Credentials and the real API are used.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import uuid

from schemas import bigquery_ddl
from schemas.types import TABLES
from schemas.warehouse import BIGQUERY_DIR, META_SCHEMA_BIGQUERY, META_TABLE

PREFIX = "bigquery:"
EMULATOR_ENV = "BIGQUERY_EMULATOR_HOST"
SCHEMA_DIR = BIGQUERY_DIR
# Project ids: 6-30 chars (domain-scoped ids "example.com:proj" too); dataset ids: letters, digits, _.
_TARGET = re.compile(r"^bigquery:(?P<project>(?:[a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9])"
                     r"[.:](?P<dataset>[A-Za-z_][A-Za-z0-9_]{0,1023})$")


@dataclasses.dataclass(frozen=True)
class Target:
    """A BigQuery dataset that holds the warehouse tables."""

    project: str
    dataset: str

    def ref(self, table: str) -> str:
        return f"{self.project}.{self.dataset}.{table}"

    def beam_ref(self, table: str) -> str:
        return f"{self.project}:{self.dataset}.{table}"

    def __str__(self) -> str:
        return f"{PREFIX}{self.project}.{self.dataset}"


def is_bigquery(warehouse: str | None) -> bool:
    return bool(warehouse) and warehouse.startswith(PREFIX)


def parse_target(warehouse: str) -> Target:
    """'bigquery:PROJECT.DATASET' -> Target, or a ValueError that says what is accepted."""
    m = _TARGET.match(warehouse or "")
    if not m:
        raise ValueError(f"--warehouse {warehouse!r}: expected bigquery:PROJECT.DATASET, e.g. "
                         "bigquery:my-project.wiredesk (project id: 6-30 lowercase letters, digits, "
                         "hyphens; dataset: letters, digits, underscores)")
    return Target(m.group("project"), m.group("dataset"))


def emulator_endpoint(endpoint: str | None = None) -> str | None:
    """The emulator's base URL from the argument or BIGQUERY_EMULATOR_HOST; None for real BigQuery."""
    value = endpoint or os.environ.get(EMULATOR_ENV)
    if not value:
        return None
    return value if "://" in value else f"http://{value}"


def client(project: str, endpoint: str | None = None):
    """A google-cloud-bigquery Client for the project: the emulator's if one is configured."""
    from google.cloud import bigquery

    endpoint = emulator_endpoint(endpoint)
    if endpoint is None:
        return bigquery.Client(project=project)
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    return bigquery.Client(project=project, credentials=AnonymousCredentials(),
                           client_options=ClientOptions(api_endpoint=endpoint))


def schema_fields(table: str) -> list:
    """The checked-in JSON schema of a warehouse table (schemas/bigquery/<table>.json)."""
    return json.loads((SCHEMA_DIR / f"{table}.json").read_text(encoding="utf-8"))


def _schema(table: str) -> list:
    from google.cloud import bigquery

    return [bigquery.SchemaField.from_api_repr(f) for f in schema_fields(table)]


def table_resource(target: Target, table: str, *, staging_of: str | None = None, expire_s: float | None = None):
    """A bigquery.Table for a warehouse table (or a staging table shaped like one)."""
    from google.cloud import bigquery

    shape = staging_of or table
    row_type = TABLES[shape][0]
    t = bigquery.Table(target.ref(table), schema=_schema(shape))
    t.description = row_type.description
    layout = bigquery_ddl.TABLE_LAYOUT[shape]
    if staging_of is None and layout["partition_field"]:
        t.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY,
                                                        field=layout["partition_field"])
    if staging_of is None and layout["clustering"]:
        t.clustering_fields = list(layout["clustering"])
    if expire_s:
        t.expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=expire_s)
    return t


def ensure_schema(bq, target: Target, location: str | None = None) -> None:
    """Create the dataset, tables and stories view if missing; safe to run again."""
    from google.cloud import bigquery

    ds = bigquery.Dataset(f"{target.project}.{target.dataset}")
    if location:
        ds.location = location
    bq.create_dataset(ds, exists_ok=True)
    for table in TABLES:
        bq.create_table(table_resource(target, table), exists_ok=True)
    meta = bigquery.Table(target.ref(META_TABLE),
                          schema=[bigquery.SchemaField.from_api_repr(f) for f in META_SCHEMA_BIGQUERY])
    meta.description = "Settings of this warehouse, such as its schema_version."
    bq.create_table(meta, exists_ok=True)
    view = bigquery.Table(target.ref(bigquery_ddl.STORIES_VIEW))
    view.view_query = bigquery_ddl.stories_view_sql(target.project, target.dataset)
    view.description = "The deduplicated news: one row per story, shown through its first-published copy."
    bq.create_table(view, exists_ok=True)


def create_staging(bq, target: Target, run_id: str, expire_s: float = 7 * 24 * 3600) -> dict:
    """Empty per-run staging tables {table: staging name}; they expire on their own if a run dies."""
    names = {}
    for table in TABLES:
        name = bigquery_ddl.staging_table(table, run_id)
        bq.create_table(table_resource(target, name, staging_of=table, expire_s=expire_s), exists_ok=True)
        names[table] = name
    return names


def merge_staging(bq, target: Target, staging: dict, drop: bool = True) -> dict:
    """One MERGE per table from its staging table; returns {table: rows inserted or changed}."""
    affected = {}
    for table, name in staging.items():
        job = bq.query(bigquery_ddl.merge_sql(target.project, target.dataset, table, name))
        job.result()
        affected[table] = job.num_dml_affected_rows or 0
        if drop:
            bq.delete_table(target.ref(name), not_found_ok=True)
    return affected


def table_names(bq, target: Target) -> set:
    from google.api_core.exceptions import NotFound

    try:
        return {t.table_id for t in bq.list_tables(f"{target.project}.{target.dataset}")}
    except NotFound:
        return set()


class Connection:
    """A DB-API-like face over BigQuery, so summary code written for DuckDB runs unchanged.

    Unqualified table names resolve in the target dataset (default_dataset).
    """

    def __init__(self, target: Target, bq=None):
        self.target = target
        self._bq = bq or client(target.project)
        self.description = None
        self._rows = []

    def execute(self, sql: str, params=None):
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(default_dataset=f"{self.target.project}.{self.target.dataset}")
        if params:
            config.query_parameters = [_param(v) for v in params]
        result = self._bq.query(sql, job_config=config).result()
        self.description = [(f.name,) for f in result.schema] if result.schema else None
        self._rows = [tuple(r.values()) for r in result]
        return self

    def fetchall(self):
        return list(self._rows)

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def close(self):
        self._bq.close()


def _param(value):
    from google.cloud import bigquery

    kind = {bool: "BOOL", int: "INT64", float: "FLOAT64", dt.datetime: "TIMESTAMP"}.get(type(value), "STRING")
    return bigquery.ScalarQueryParameter(None, kind, value)


def connect(warehouse: str, endpoint: str | None = None) -> Connection:
    target = parse_target(warehouse)
    return Connection(target, client(target.project, endpoint))


def new_run_id() -> str:
    """A short id naming this run's staging tables."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S") + "_" + uuid.uuid4().hex[:8]
