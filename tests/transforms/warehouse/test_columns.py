"""Declared columns a stored table lacks are added in place (transforms.warehouse.columns), on DuckDB and BigQuery.

The checks run over every declared field of every table, not only the paywall columns of schema 3:
any column appended to schemas/types.py later is covered by the same mechanism.
"""
import dataclasses
import os

import duckdb
import pytest

from schemas.declare import KINDS, duckdb_ddl, duckdb_type
from schemas.errors import WarehouseError
from schemas.settings import Settings
from schemas.types import ARTICLE, TABLES, Article
from schemas.warehouse import META_DDL_DUCKDB, META_TABLE, SCHEMA_VERSION, STORIES_VIEW_DUCKDB
from tests.emulators.bqemulator import bigquery_emulator  # noqa: F401 - the session fixture
from transforms.warehouse import duckdb_store
from transforms.warehouse.upgrade import upgrade_duckdb

SETTINGS = Settings()
# The articles columns schema 3 added: the paywall flag and the kind of source an article came from.
PAYWALL = ("is_accessible_for_free", "paywall_evidence", "truncated", "truncated_reason", "source_kind")
QUIET = {"say": lambda line: None}
# What the stories view reads: an old warehouse lacking none of them had the view too.
STORIES_VIEW_COLUMNS = {"story_id", "article_id", "published_at", "title", "url", "outlet", "story_agency", "agency"}


def old_warehouse(path, without: dict, version: int = 2) -> None:
    """A DuckDB warehouse as a build that did not declare `without` ({table: names}) wrote it."""
    con = duckdb.connect(str(path))
    try:
        for table, (row_type, key) in TABLES.items():
            kept = tuple(f for f in row_type.fields if f.name not in without.get(table, ()))
            con.execute(duckdb_ddl(table, dataclasses.replace(row_type, fields=kept), key))
        con.execute(META_DDL_DUCKDB)
        con.execute(f"INSERT INTO {META_TABLE} VALUES ('schema_version', ?)", [str(version)])
        if STORIES_VIEW_COLUMNS.isdisjoint(without.get("articles", ())):
            con.execute(STORIES_VIEW_DUCKDB)
    finally:
        con.close()


def stored_columns(path, table="articles") -> list:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT column_name, data_type, comment FROM duckdb_columns() WHERE table_name = ? "
                           "ORDER BY column_index", [table]).fetchall()
    finally:
        con.close()


def test_a_v2_warehouse_upgrades_in_place_to_v3_keeping_its_rows(tmp_path):
    path = tmp_path / "v2.duckdb"
    old_warehouse(path, {"articles": PAYWALL}, version=2)
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO articles (article_id, url, outlet, title, body, word_count, published_at, story_id) "
                "VALUES ('a1', 'https://x.example/1', 'x.example', 'One', 'Body one of the first story here.', 7, "
                "TIMESTAMPTZ '2026-03-01 10:00:00+00', 'a1'), "
                "('a2', 'https://y.example/2', 'y.example', 'Two', 'Body two of another story there.', 6, "
                "TIMESTAMPTZ '2026-03-01 11:00:00+00', 'a2')")
    before = con.execute("SELECT * FROM articles ORDER BY article_id").fetchall()
    con.close()
    said = []
    result = upgrade_duckdb(str(path), SETTINGS, say=said.append)
    assert result == {"from_version": 2, "to_version": SCHEMA_VERSION, "signed": 2,
                      "added_columns": [f"articles.{name}" for name in PAYWALL]}
    assert any("added column(s) articles.is_accessible_for_free" in line for line in said)
    columns = stored_columns(path)
    assert [c[0] for c in columns] == ARTICLE.names  # declared order: the new ones were appended
    assert {c[0]: c[1] for c in columns}["is_accessible_for_free"] == "BOOLEAN"
    assert all(c[2] == ARTICLE.field(c[0]).description for c in columns)  # comments carried over
    # Current now: the next start only looks, and writes nothing.
    stamp = os.stat(path).st_mtime_ns, os.path.getsize(path)
    assert upgrade_duckdb(str(path), SETTINGS, **QUIET)["added_columns"] == []
    assert (os.stat(path).st_mtime_ns, os.path.getsize(path)) == stamp
    con = duckdb.connect(str(path))
    try:
        after = con.execute("SELECT * FROM articles ORDER BY article_id").fetchall()
        assert [row[:len(before[0])] for row in after] == before  # every stored value kept
        assert all(row[len(before[0]):] == (None,) * len(PAYWALL) for row in after)  # old rows read NULL
        assert con.execute("SELECT count(*) FROM story_index").fetchone()[0] == 2  # the v2 back-fill still runs
        assert con.execute(f"SELECT value FROM {META_TABLE}").fetchone()[0] == str(SCHEMA_VERSION)
        assert con.execute("SELECT count(*) FROM stories").fetchone()[0] == 2
        new = Article(**{f: None for f in Article._fields})._replace(
            article_id="a3", url="https://z.example/3", story_id="a3", is_accessible_for_free=False,
            paywall_evidence='jsonld:NewsArticle.isAccessibleForFree="False"', truncated=True,
            truncated_reason="paywalled_short: 90 words (isAccessibleForFree false)")
        duckdb_store.write_batch(con, {"articles": [new]})
        assert con.execute("SELECT is_accessible_for_free, paywall_evidence, truncated FROM articles "
                           "WHERE article_id = 'a3'").fetchone() == (False, new.paywall_evidence, True)
    finally:
        con.close()


def _nullable(table) -> list:
    return [f.name for f in TABLES[table][0].fields if not f.required]


def test_every_nullable_column_of_every_table_is_added_whatever_the_recorded_version(tmp_path):
    # Recorded as current: a column declared by another change (e.g. a later field) must still arrive.
    path, fresh = tmp_path / "bare.duckdb", tmp_path / "fresh.duckdb"
    old_warehouse(path, {table: _nullable(table) for table in TABLES}, version=SCHEMA_VERSION)
    upgrade_duckdb(str(fresh), SETTINGS, **QUIET)
    result = upgrade_duckdb(str(path), SETTINGS, **QUIET)
    assert result["added_columns"] == [f"{t}.{n}" for t in TABLES for n in _nullable(t)]
    for table in TABLES:
        columns = stored_columns(path, table)
        names = [c[0] for c in columns]
        # Required columns stayed first; every nullable one is back, in declared order, with its type.
        required = [f.name for f in TABLES[table][0].fields if f.required]
        assert names == required + _nullable(table), table
        # Types and comments as a warehouse created new has them.
        assert sorted(columns) == sorted(stored_columns(fresh, table)), table


def test_a_missing_required_column_stops_the_upgrade_with_a_message(tmp_path):
    path = tmp_path / "broken.duckdb"
    old_warehouse(path, {"dead_letters": ("stage",)})
    with pytest.raises(WarehouseError, match="dead_letters lacks the required column"):
        upgrade_duckdb(str(path), SETTINGS, **QUIET)


def test_every_declared_kind_can_be_added():
    # The mechanism relies on DuckDB accepting ADD COLUMN for every type the declarations use.
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE t (k VARCHAR PRIMARY KEY)")
    for i, (kind, (_, _, sql_type)) in enumerate(KINDS.items()):
        con.execute(f"ALTER TABLE t ADD COLUMN c{i} {sql_type}")
        con.execute(f"ALTER TABLE t ADD COLUMN r{i} {sql_type}[]")
    evidence = ARTICLE.field("agency_evidence")
    con.execute(f"ALTER TABLE t ADD COLUMN ev {duckdb_type(evidence)}")
    con.execute("INSERT INTO t (k) VALUES ('x')")
    assert con.execute("SELECT count(*) FROM t WHERE c0 IS NULL AND ev IS NULL").fetchone()[0] == 1


# ---------------------------------------------------------------------------
# BigQuery (emulator)
# ---------------------------------------------------------------------------
def test_a_v2_bigquery_dataset_gains_the_columns_and_merges_rows_carrying_them(bigquery_emulator):  # noqa: F811
    from transforms.warehouse import bigquery_store
    from transforms.warehouse.upgrade import upgrade_bigquery

    bq = bigquery_emulator.client()
    target = bigquery_store.Target(bigquery_emulator.project, "paywall_upgrade")
    try:
        bigquery_store.ensure_schema(bq, target)
        # The articles table as schema 2 made it, one stored row, version 2 recorded.
        bq.delete_table(target.ref("articles"))
        old = bigquery_store.table_resource(target, "articles")
        old.schema = [f for f in old.schema if f.name not in PAYWALL]
        bq.create_table(old)
        bq.query(f"INSERT INTO `{target.ref('articles')}` (article_id, url, outlet, title, published_at, story_id) "
                 f"VALUES ('a1', 'https://x.example/1', 'x.example', 'Old', TIMESTAMP '2026-03-01 10:00:00+00', "
                 f"'a1')").result()
        bq.query(f"INSERT INTO `{target.ref(META_TABLE)}` (key, value) VALUES ('schema_version', '2')").result()
        said = []
        result = upgrade_bigquery(bq, target, SETTINGS, say=said.append)
        assert result["from_version"] == 2 and result["to_version"] == SCHEMA_VERSION
        assert result["added_columns"] == [f"articles.{name}" for name in PAYWALL]
        schema = bq.get_table(target.ref("articles")).schema
        assert [f.name for f in schema] == ARTICLE.names
        assert {f.name: (f.field_type, f.mode) for f in schema}["truncated"] == ("BOOL", "NULLABLE")
        rows = [tuple(r.values()) for r in bq.query(
            f"SELECT article_id, title, is_accessible_for_free, truncated FROM `{target.ref('articles')}`").result()]
        assert rows == [("a1", "Old", None, None)]
        # A run's staging table has the new shape; its MERGE carries the new columns in.
        staging = bigquery_store.create_staging(bq, target, "paywalltest")
        bq.query(f"INSERT INTO `{target.ref(staging['articles'])}` (article_id, url, outlet, title, published_at, "
                 f"story_id, ingested_at, is_accessible_for_free, paywall_evidence, truncated, truncated_reason) "
                 f"VALUES ('a2', 'https://y.example/2', 'y.example', 'New', TIMESTAMP '2026-03-01 11:00:00+00', "
                 f"'a2', TIMESTAMP '2026-03-01 11:05:00+00', FALSE, 'jsonld:NewsArticle.isAccessibleForFree=false', "
                 f"TRUE, 'paywalled_short: 90 words (isAccessibleForFree false)')").result()
        bigquery_store.merge_staging(bq, target, {"articles": staging["articles"]})
        for name in staging.values():
            bq.delete_table(target.ref(name), not_found_ok=True)
        rows = sorted(tuple(r.values()) for r in bq.query(
            f"SELECT article_id, is_accessible_for_free, truncated FROM `{target.ref('articles')}`").result())
        assert rows == [("a1", None, None), ("a2", False, True)]
        stories = list(bq.query(f"SELECT story_id FROM `{target.ref('stories')}` ORDER BY 1").result())
        assert [r[0] for r in stories] == ["a1", "a2"]
        # Current now: nothing more to add.
        again = upgrade_bigquery(bq, target, SETTINGS, say=said.append)
        assert again["added_columns"] == [] and again["from_version"] == SCHEMA_VERSION
    finally:
        bq.delete_dataset(f"{target.project}.{target.dataset}", delete_contents=True, not_found_ok=True)
        bq.close()
