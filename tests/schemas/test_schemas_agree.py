"""The Beam types, the BigQuery schema files and the DuckDB tables all come from one declaration."""
import json
import typing

import apache_beam as beam
import duckdb
import pytest

from schemas.declare import KINDS
from schemas.types import ARTICLE, TABLES, Article, DeadLetter, Evidence, FeedState, StoryIndexRow
from schemas.warehouse import BIGQUERY_DIR, bigquery_schema, duckdb_statements

BEAM_TYPES = {"articles": Article, "dead_letters": DeadLetter, "feed_state": FeedState,
              "story_index": StoryIndexRow}
REQUIRED_ARTICLE_COLUMNS = [
    "article_id", "url", "canonical_url", "feed_url", "outlet", "title", "description", "authors", "section",
    "tags", "language", "body", "word_count", "published_at", "published_at_source", "fetched_at", "agency",
    "agency_evidence", "content_hash", "story_id", "duplicate_of"]


@pytest.fixture(scope="module")
def duck():
    con = duckdb.connect(":memory:")
    for stmt in duckdb_statements():
        con.execute(stmt)
    yield con
    con.close()


def test_articles_has_the_columns_outside_tools_read():
    assert set(REQUIRED_ARTICLE_COLUMNS) <= set(ARTICLE.names)


@pytest.mark.parametrize("table", list(TABLES))
def test_checked_in_bigquery_files_are_generated_from_the_declaration(table):
    on_disk = json.loads((BIGQUERY_DIR / f"{table}.json").read_text())
    assert on_disk == bigquery_schema(table), "run `python -m schemas.warehouse` to regenerate"


def _walk(fields):
    for f in fields:
        yield f
        yield from _walk(f.get("fields", []))


@pytest.mark.parametrize("table", list(TABLES))
def test_every_bigquery_field_has_a_description(table):
    for f in _walk(bigquery_schema(table)):
        assert f["description"].strip(), f["name"]


@pytest.mark.parametrize("table", list(TABLES))
def test_beam_duckdb_and_bigquery_have_the_same_columns_in_order(table, duck):
    beam_fields = list(BEAM_TYPES[table]._fields)
    bq_fields = [f["name"] for f in bigquery_schema(table)]
    duck_fields = [r[0] for r in duck.execute(f"DESCRIBE {table}").fetchall()]
    assert beam_fields == bq_fields == duck_fields


@pytest.mark.parametrize("table", list(TABLES))
def test_types_and_modes_agree(table, duck):
    row_type, key = TABLES[table]
    described = {r[0]: (r[1], r[2]) for r in duck.execute(f"DESCRIBE {table}").fetchall()}
    hints = typing.get_type_hints(BEAM_TYPES[table])
    for field, bq in zip(row_type.fields, bigquery_schema(table)):
        duck_type, nullable = described[field.name]
        if field.record is None:
            assert bq["type"] == KINDS[field.kind][1]
            base = duck_type[:-2] if field.repeated else duck_type
            assert base == {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}.get(KINDS[field.kind][2],
                                                                          KINDS[field.kind][2])
        else:
            assert bq["type"] == "RECORD" and duck_type.startswith("STRUCT(")
        assert (bq["mode"] == "REPEATED") == field.repeated == duck_type.endswith("[]")
        assert (bq["mode"] == "REQUIRED") == (nullable == "NO")
        hint = hints[field.name]
        if field.repeated:
            assert typing.get_origin(hint) in (typing.Sequence, __import__("collections.abc").abc.Sequence)
        elif not field.required:
            assert type(None) in typing.get_args(hint)


def test_article_row_round_trips_through_beam_row_coder_and_duckdb(duck):
    article = Article(article_id="a1", url="http://x.example/1", title="T", authors=["IANS"],
                      published_at="2019-04-11T19:42:00+00:00",
                      agency="IANS", agency_evidence=[Evidence("IANS", "credit_line", "IANS")])
    coder = beam.coders.registry.get_coder(Article)
    assert isinstance(coder, beam.coders.RowCoder)
    decoded = coder.decode(coder.encode(article))
    assert decoded.agency_evidence[0].kind == "credit_line"
    from transforms.warehouse.duckdb_store import write_batch
    assert write_batch(duck, {"articles": [decoded]}) == {"articles": 1}
    assert write_batch(duck, {"articles": [decoded]}) == {"articles": 0}
    row = duck.execute("SELECT agency_evidence[1].text, authors, published_at AT TIME ZONE 'UTC' "
                       "FROM articles").fetchone()
    assert row[0] == "IANS" and row[1] == ["IANS"] and str(row[2]) == "2019-04-11 19:42:00"
