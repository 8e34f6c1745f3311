"""Warehouse upgrades in place, and story_index rows that stay paired with their articles."""
import os

import duckdb

from schemas.settings import Settings
from schemas.types import Article
from schemas.warehouse import SCHEMA_VERSION
from tests.transforms.dedup.test_batch import OTHER, WIRE
from transforms.dedup.minhash import MinHasher
from transforms.dedup.stories import index_row, sign
from transforms.warehouse import duckdb_store
from transforms.warehouse.beam_duckdb import WriteDuckDBBatch
from transforms.warehouse.upgrade import upgrade_duckdb

SETTINGS = Settings()


def _article(aid, body, published="2026-03-05T10:00:00+00:00"):
    return Article(**{f: None for f in Article._fields})._replace(
        article_id=aid, url=f"https://x.example/{aid}", body=body, published_at=published, story_id=aid)


def _index(article):
    member = sign(MinHasher(SETTINGS.dedup.num_perm), SETTINGS.dedup, article.article_id, article.body, 1.0e9, None)
    return index_row(member, None, article.article_id, None, SETTINGS.dedup.bands)


def _count(path, table):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def test_an_article_the_warehouse_refuses_leaves_no_story_index_row(tmp_path):
    path = tmp_path / "w.duckdb"
    upgrade_duckdb(str(path), SETTINGS, say=lambda line: None)
    good, bad = _article("good", WIRE), _article("bad", OTHER, published="not a time")
    WriteDuckDBBatch(str(path), SETTINGS)._write(
        [("articles", bad), ("story_index", _index(bad)), ("articles", good), ("story_index", _index(good))])
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT article_id FROM articles").fetchall() == [("good",)]
        assert con.execute("SELECT article_id FROM story_index").fetchall() == [("good",)]
        assert con.execute("SELECT error_class FROM dead_letters").fetchall() == [("warehouse_rejected",)]
    finally:
        con.close()


def test_an_up_to_date_warehouse_is_not_written_at_start_up(tmp_path):
    path = tmp_path / "w.duckdb"
    first = upgrade_duckdb(str(path), SETTINGS, say=lambda line: None)
    assert first["from_version"] == 0 and first["to_version"] == SCHEMA_VERSION
    before = os.stat(path).st_mtime_ns, os.path.getsize(path)
    again = upgrade_duckdb(str(path), SETTINGS, say=lambda line: None)
    assert again == {"from_version": SCHEMA_VERSION, "to_version": SCHEMA_VERSION, "signed": 0, "added_columns": []}
    assert (os.stat(path).st_mtime_ns, os.path.getsize(path)) == before


def test_upgrade_signs_an_article_left_without_its_index_row(tmp_path):
    path = tmp_path / "w.duckdb"
    upgrade_duckdb(str(path), SETTINGS, say=lambda line: None)
    con = duckdb_store.connect(path)
    try:
        # A run that died between two write batches: the article landed, its index row did not.
        duckdb_store.write_batch(con, {"articles": [_article("kept", WIRE)]})
    finally:
        con.close()
    said = []
    assert upgrade_duckdb(str(path), SETTINGS, say=said.append)["signed"] == 1
    assert any("signing 1 stored articles" in line for line in said)
    assert _count(path, "articles") == _count(path, "story_index") == 1
    assert upgrade_duckdb(str(path), SETTINGS, say=said.append)["signed"] == 0


def test_upgrade_drops_index_rows_whose_article_never_landed(tmp_path):
    path = tmp_path / "w.duckdb"
    upgrade_duckdb(str(path), SETTINGS, say=lambda line: None)
    kept, lost = _article("kept", WIRE), _article("lost", OTHER)
    con = duckdb_store.connect(path)
    try:
        duckdb_store.write_batch(con, {"articles": [kept], "story_index": [_index(kept), _index(lost)]})
    finally:
        con.close()
    assert upgrade_duckdb(str(path), SETTINGS, say=lambda line: None)["signed"] == 0
    assert _count(path, "articles") == _count(path, "story_index") == 1
