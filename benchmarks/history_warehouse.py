"""Synthetic warehouses of a long-running deployment: N stored articles with their story_index rows.

Written straight into DuckDB with SQL, so a million articles take seconds, not the hours the
pipeline would need. Articles arrive at `per_hour` (600 an hour by default, the streaming
benchmark's rate), so the newest one is at `end` and the oldest N / per_hour hours before it.
The filler rows are realistic in size (about 2 KB of body each) and carry signatures and band
keys that no real text shares. `real` rows (article dicts with a body) are signed with the
pipeline's own code, so copies of them in a later run must join their stories.

Used by benchmarks/history_scaling.py and by the tests that build jobs over a large history.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from schemas.settings import Settings  # noqa: E402
from schemas.types import Article  # noqa: E402

_BODY = ("Officials said on the record that the measure would be reviewed again next month, and "
         "analysts expected the figures to move little before the end of the quarter. ")


def make_history(path, n: int, *, end: dt.datetime | None = None, per_hour: float = 600.0, real=(),
                 settings: Settings | None = None, feed_urls=()) -> dict:
    """Create (or extend) the DuckDB warehouse at path with n filler articles and the `real` ones."""
    from transforms.warehouse import duckdb_store
    from transforms.warehouse.upgrade import upgrade_duckdb

    settings = settings or Settings()
    end = end or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    upgrade_duckdb(str(path), settings, say=lambda line: None)
    step_s = 3600.0 / per_hour
    con = duckdb_store.connect(path)
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("BEGIN TRANSACTION")
        con.execute("""
            INSERT INTO articles (article_id, url, canonical_url, feed_url, outlet, title, description, authors,
                                  section, tags, language, body, word_count, published_at, published_at_source,
                                  fetched_at, ingested_at, agency, agency_evidence, story_agency, content_hash,
                                  story_id, duplicate_of, pipeline_version)
            SELECT id, link, link, 'https://outlet' || (i % 400) || '.example/feed.xml', 'outlet' || (i % 400) || '.example',
                   'Synthetic story number ' || i, 'A stored article of a long history.', ['Staff Reporter'],
                   'World', ['history'], 'en', repeat($1, 12) || i, 370, moment, 'jsonld', moment, moment,
                   CASE WHEN i % 5 = 0 THEN 'Reuters' ELSE NULL END, [],
                   CASE WHEN i % 5 = 0 THEN 'Reuters' ELSE NULL END, md5('body' || i), id, NULL, 'history'
            FROM (SELECT i, substr(md5('history-article-' || i), 1, 32) AS id,
                         'https://outlet' || (i % 400) || '.example/news/' || i || '.html' AS link,
                         to_timestamp($2 - (($3 - i) * $4)) AS moment
                  FROM range($3) t(i))
            ON CONFLICT DO NOTHING""", [_BODY, end.timestamp(), n, step_s])
        con.execute("""
            INSERT INTO story_index
            SELECT substr(md5('history-article-' || i), 1, 32), substr(md5('history-article-' || i), 1, 32),
                   CASE WHEN i % 5 = 0 THEN 'Reuters' ELSE NULL END, CASE WHEN i % 5 = 0 THEN 'Reuters' ELSE NULL END,
                   to_timestamp($1 - (($2 - i) * $3)), md5('body' || i), 330,
                   repeat(md5('signature-' || i), 16)::BLOB,
                   list_transform(range(32), lambda b: (b << 32) | (hash(i, b) & 4294967295)::BIGINT)
            FROM range($2) t(i)
            ON CONFLICT DO NOTHING""", [end.timestamp(), n, step_s])
        if feed_urls:
            con.executemany("INSERT INTO feed_state VALUES (?, ?, NULL, ?, 200, 0, 20) ON CONFLICT DO NOTHING",
                            [[u, f'"etag-{i}"', end.isoformat()] for i, u in enumerate(feed_urls)])
        con.execute("COMMIT")
        real_rows = [Article(**{f: None for f in Article._fields} | dict(r)) for r in real]
        if real_rows:
            duckdb_store.write_batch(con, {"articles": real_rows})
    finally:
        con.close()
    # The real articles get their index rows the way an old warehouse does: signed once, in place.
    upgraded = upgrade_duckdb(str(path), settings, say=lambda line: None)
    return {"articles": n + len(real_rows), "signed": upgraded["signed"], "end": end}
