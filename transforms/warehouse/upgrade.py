"""Bring a warehouse to the current schema in place: new tables and columns, and story_index back-filled once.

Every column declared in schemas.types that a stored table lacks is added (columns.py), on every
start and whatever the recorded version; stored rows read NULL in it. A warehouse written before
schema version 2 has articles but no story_index. Upgrading signs each stored body once (the
only time a stored body is ever MinHashed), writes its index row with the article's own story id
and story agency, and records the version. No stored value of an article, dead letter or feed
state is changed, so every row and every story id stays as it was. The same check also
mends a story_index left short by a run that died between two batches, and drops index rows
whose article the warehouse refused: it runs whenever the two tables hold different numbers of
rows, and a count is cheap on both engines.
"""
from __future__ import annotations

import time
import typing

from schemas.settings import Settings
from schemas.warehouse import META_TABLE, SCHEMA_VERSION
from transforms.dedup.minhash import MinHasher
from transforms.dedup.stories import index_row, stored_member

# Articles signed and written per step: small enough that a crash loses little, large enough to
# keep per-statement overhead low.
STEP = 2000
_UTC = "strftime({} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S+00:00')"
_DUCKDB_SOURCE = (f"SELECT article_id, body, coalesce({_UTC.format('published_at')}, {_UTC.format('fetched_at')}), "
                  f"agency, coalesce(story_id, article_id), story_agency, content_hash FROM articles")
_NAMES = ("article_id", "body", "published_at", "agency", "story_id", "story_agency", "content_hash")


class Progress:
    """Prints 'upgrading …: n/total' lines at most every few seconds, and the last one always."""

    def __init__(self, what: str, total: int, say: typing.Callable[[str], None], every_s: float = 5.0):
        self.what, self.total, self.say, self.every_s = what, total, say, every_s
        self.done = 0
        self.started = self.last = time.monotonic()

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every_s or self.done >= self.total:
            rate = self.done / max(now - self.started, 1e-9)
            self.say(f"{self.what}: {self.done:,}/{self.total:,} articles signed ({rate:,.0f}/s)")
            self.last = now


def sign_rows(rows: list, settings: Settings, hasher: MinHasher) -> list:
    """story_index rows for stored articles given as dicts of _NAMES."""
    dedup = settings.dedup
    out = []
    for row in rows:
        member = stored_member(row, hasher, dedup)
        out.append(index_row(member, row.get("content_hash"), member.story_id, member.story_agency, dedup.bands))
    return out


# -- DuckDB ---------------------------------------------------------------------------------------
def duckdb_version(con) -> int:
    """The recorded schema version; 1 for a warehouse from before versions were recorded, 0 for none."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if META_TABLE in tables:
        found = con.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'").fetchall()
        if found:
            return int(found[0][0])
    return 1 if "articles" in tables else 0


def _duckdb_counts(con) -> tuple:
    """(articles, story_index rows)."""
    return con.execute("SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM story_index)").fetchall()[0]


def _duckdb_is_current(path: str, wait_s: float) -> bool:
    """True when the file is at SCHEMA_VERSION with a complete story_index: nothing to write.

    Looked at read-only, so a normal run writes nothing before its pipeline does (a failed write
    at start-up, e.g. on a full disk, must not be able to touch a healthy file).
    """
    from pathlib import Path

    from transforms.warehouse import columns, duckdb_store

    if not Path(path).exists():
        return False
    con = duckdb_store.connect(path, read_only=True, wait_s=wait_s)
    try:
        if duckdb_version(con) != SCHEMA_VERSION or columns.duckdb_missing(con):
            return False
        articles, indexed = _duckdb_counts(con)
        return articles == indexed
    finally:
        con.close()


def upgrade_duckdb(path: str, settings: Settings, say=print) -> dict:
    """Create missing tables, back-fill story_index, record the version; returns what it did."""
    from transforms.warehouse import columns, duckdb_store

    if _duckdb_is_current(path, settings.warehouse.lock_wait_s):
        return {"from_version": SCHEMA_VERSION, "to_version": SCHEMA_VERSION, "signed": 0, "added_columns": []}
    con = duckdb_store.connect(path, wait_s=settings.warehouse.lock_wait_s)
    try:
        before = duckdb_version(con)
        added = duckdb_store.ensure_schema(con)
        if added:
            say(f"wiredesk: upgrading {path} to schema {SCHEMA_VERSION}: added column(s) {columns.describe(added)} "
                f"(NULL in stored rows)")
        articles, indexed = _duckdb_counts(con)
        signed = 0
        if articles != indexed:
            missing = [r[0] for r in con.execute(
                "SELECT article_id FROM articles a WHERE NOT EXISTS "
                "(SELECT 1 FROM story_index s WHERE s.article_id = a.article_id) ORDER BY article_id").fetchall()]
            if missing:
                say(f"wiredesk: upgrading {path} to schema {SCHEMA_VERSION}: signing {len(missing):,} stored "
                    f"articles for the story index (once)")
            progress = Progress(f"wiredesk: upgrading {path}", len(missing), say)
            hasher = MinHasher(settings.dedup.num_perm)
            for i in range(0, len(missing), STEP):
                part = missing[i:i + STEP]
                rows = con.execute(f"{_DUCKDB_SOURCE} WHERE article_id IN (SELECT unnest($1))", [part]).fetchall()
                duckdb_store.write_batch(con, {"story_index": sign_rows([dict(zip(_NAMES, r)) for r in rows],
                                                                        settings, hasher)})
                signed += len(rows)
                progress.add(len(rows))
            # Index rows of articles that never landed (refused by the warehouse): they would keep
            # the counts apart, and this check running, for ever.
            con.execute("DELETE FROM story_index s WHERE NOT EXISTS "
                        "(SELECT 1 FROM articles a WHERE a.article_id = s.article_id)")
        con.execute(f"INSERT INTO {META_TABLE} VALUES ('schema_version', $1) "
                    f"ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", [str(SCHEMA_VERSION)])
        return {"from_version": before, "to_version": SCHEMA_VERSION, "signed": signed,
                "added_columns": _names(added)}
    finally:
        con.close()


def _names(added: dict) -> list:
    return [f"{table}.{f.name}" for table, fields in added.items() for f in fields]


# -- BigQuery -------------------------------------------------------------------------------------
def bigquery_version(bq, target) -> int:
    from transforms.warehouse import bigquery_store

    tables = bigquery_store.table_names(bq, target)
    if META_TABLE in tables:
        rows = list(bq.query(f"SELECT value FROM `{target.ref(META_TABLE)}` WHERE key = 'schema_version'").result())
        if rows:
            return int(rows[0][0])
    return 1 if "articles" in tables else 0


def upgrade_bigquery(bq, target, settings: Settings, say=print, before: int | None = None) -> dict:
    """The BigQuery twin of upgrade_duckdb (tables must exist: bigquery_store.ensure_schema first)."""
    import datetime as dt
    import io
    import json

    from google.cloud import bigquery

    from transforms.warehouse import columns
    from transforms.warehouse.bigquery_rows import to_json_row

    before = bigquery_version(bq, target) if before is None else before
    added = columns.bigquery_add_missing(bq, target)
    if added:
        say(f"wiredesk: upgrading {target} to schema {SCHEMA_VERSION}: added column(s) {columns.describe(added)} "
            f"(NULL in stored rows)")
    counts = list(bq.query(f"SELECT (SELECT COUNT(*) FROM `{target.ref('articles')}`), "
                           f"(SELECT COUNT(*) FROM `{target.ref('story_index')}`)").result())[0]
    if before == SCHEMA_VERSION and counts[0] == counts[1] and not added:
        # Current: a run's start-up reads the tables' schemas and two counts, and writes nothing.
        return {"from_version": before, "to_version": SCHEMA_VERSION, "signed": 0, "added_columns": []}
    signed = 0
    if counts[0] != counts[1]:
        job = bq.query(
            f"SELECT a.article_id, a.body, COALESCE(a.published_at, a.fetched_at), a.agency, "
            f"COALESCE(a.story_id, a.article_id), a.story_agency, a.content_hash "
            f"FROM `{target.ref('articles')}` a LEFT JOIN `{target.ref('story_index')}` s "
            f"ON s.article_id = a.article_id WHERE s.article_id IS NULL")
        result = job.result(page_size=STEP)
        total = result.total_rows or 0
        if total:
            say(f"wiredesk: upgrading {target} to schema {SCHEMA_VERSION}: signing {total:,} stored articles "
                f"for the story index (once)")
        progress = Progress(f"wiredesk: upgrading {target}", total, say)
        hasher = MinHasher(settings.dedup.num_perm)
        config = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
                                        write_disposition=bigquery.WriteDisposition.WRITE_APPEND)
        for page in result.pages:
            rows = []
            for r in page:
                values = list(r.values())
                if isinstance(values[2], dt.datetime):
                    values[2] = values[2].astimezone(dt.timezone.utc).isoformat()
                rows.append(dict(zip(_NAMES, values)))
            if not rows:
                continue
            lines = "".join(json.dumps(to_json_row(row)) + "\n" for row in sign_rows(rows, settings, hasher))
            bq.load_table_from_file(io.BytesIO(lines.encode("utf-8")), target.ref("story_index"),
                                    job_config=config).result()
            signed += len(rows)
            progress.add(len(rows))
        _drop_orphans(bq, target, say)
    bq.query(f"MERGE `{target.ref(META_TABLE)}` T USING (SELECT 'schema_version' AS key, @v AS value) S "
             f"ON T.key = S.key WHEN MATCHED THEN UPDATE SET value = S.value "
             f"WHEN NOT MATCHED THEN INSERT (key, value) VALUES (S.key, S.value)",
             job_config=bigquery.QueryJobConfig(query_parameters=[
                 bigquery.ScalarQueryParameter("v", "STRING", str(SCHEMA_VERSION))])).result()
    return {"from_version": before, "to_version": SCHEMA_VERSION, "signed": signed, "added_columns": _names(added)}


def _drop_orphans(bq, target, say) -> None:
    """Delete index rows whose article never landed (refused by BigQuery), as the DuckDB twin does.

    Rows still in the streaming buffer cannot be deleted for a while; then the next start tries again.
    """
    from google.api_core.exceptions import GoogleAPIError

    try:
        bq.query(f"DELETE FROM `{target.ref('story_index')}` s WHERE NOT EXISTS "
                 f"(SELECT 1 FROM `{target.ref('articles')}` a WHERE a.article_id = s.article_id)").result()
    except GoogleAPIError as err:
        say(f"wiredesk: {target}: story_index rows of refused articles stay until a later run: {err}")
