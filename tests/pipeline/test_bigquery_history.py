"""A BigQuery warehouse with history, against the emulator: story_index, stored-story matching, upgrades.

The runs fetch real HTTP from the dev syndication corpus. One dataset goes through, in order:

1. a batch run over outlets A (plus a feed that does not exist, for a dead letter);
2. a rerun over A with feed state forgotten, so every entry is read again and must be found stored;
3. a run over outlets B, whose pages are mostly copies of stories stored from A: they must join the
   stored stories through BigQueryLookup.story_candidates (the DuckDB twin makes the same two runs,
   and both warehouses must give every article the same story);
4. story_index and warehouse_meta dropped, which is exactly the schema-version-1 layout, then a
   rerun over A and B that upgrades it in place, and one more rerun that must add nothing.
"""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from schemas.settings import Settings
from schemas.warehouse import SCHEMA_VERSION
from tests.emulators.bqemulator import bigquery_emulator  # noqa: F401 - the session fixture
from tests.emulators.dev_runs import MISSING_FEED
from tests.support.corpus import SYNDICATION_DEV
from transforms.warehouse import bigquery_store
from transforms.warehouse.bigquery_lookup import BigQueryLookup

# Whole-pipeline runs over a corpus, subprocesses or emulators: `pytest -m 'not slow'` leaves them out.
pytestmark = pytest.mark.slow

# Outlets of the dev split: B's 57 pages carry 47 of the stories A's 62 pages carry.
OUTLETS_A = ("usdailyreport", "arabiangazette")
OUTLETS_B = ("yondernews", "lakesideherald")
DATASET = "history"
TABLES = ("articles", "dead_letters", "feed_state", "story_index", "warehouse_meta")
INDEX_COLUMNS = ("article_id", "story_id", "story_agency", "agency", "published_at", "content_hash", "shingles",
                 "signature", "bands")
DEDUP = Settings().dedup


def _feeds_file(directory: Path, name: str, outlets, extra=()) -> Path:
    import yaml

    index = json.loads((SYNDICATION_DEV / "feeds" / "index.json").read_text(encoding="utf-8"))
    feeds = [{"url": f["feed_url"], "name": f["name"]} for f in index if f["outlet"] in outlets]
    assert len(feeds) == len(outlets)
    feeds.extend({"url": url, "name": "The National Dispatch (moved feed)"} for url in extra)
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(feeds, sort_keys=False), encoding="utf-8")
    return path


def _run(feeds: Path, warehouse: str, proxy: str) -> dict:
    from pipeline.run import run_pipeline

    return run_pipeline(["--feeds", str(feeds), "--warehouse", warehouse, "--proxy", proxy,
                         "--runner", "FnApiRunner"])["counters"]


def _rows(bq, sql: str) -> list:
    return [dict(r.items()) for r in bq.query(sql).result()]


def _snapshot(bq, target) -> dict:
    """Row counts of every table, each article's story, and the story index, as the dataset holds them."""
    present = bigquery_store.table_names(bq, target)
    counts = {t: _rows(bq, f"SELECT COUNT(*) AS n FROM `{target.ref(t)}`")[0]["n"] if t in present else None
              for t in TABLES}
    stories = {r["article_id"]: r["story_id"] for r in _rows(
        bq, f"SELECT article_id, story_id FROM `{target.ref('articles')}`")}
    index = ({r["article_id"]: r for r in _rows(
        bq, f"SELECT {', '.join(INDEX_COLUMNS)} FROM `{target.ref('story_index')}`")}
        if "story_index" in present else {})
    return {"counts": counts, "stories": stories, "index": index, "index_rows": counts["story_index"],
            "tables": sorted(present)}


def _forget_feed_state(bq, target) -> None:
    """So the next run reads every entry again and must recognise each as stored."""
    bq.query(f"DELETE FROM `{target.ref('feed_state')}` WHERE TRUE").result()


def _duckdb_stories(path: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(con.execute("SELECT article_id, story_id FROM articles").fetchall())
    finally:
        con.close()


@pytest.fixture(scope="module")
def history(bigquery_emulator, syndication_server, tmp_path_factory):  # noqa: F811
    """Steps 1-3 on BigQuery, and the same runs over A then B on DuckDB."""
    tmp = tmp_path_factory.mktemp("history")
    feeds_a = _feeds_file(tmp, "a", OUTLETS_A, extra=(MISSING_FEED,))
    feeds_b = _feeds_file(tmp, "b", OUTLETS_B)
    target = bigquery_store.Target(bigquery_emulator.project, DATASET)
    warehouse, proxy = str(target), syndication_server.url
    out = {"target": target, "feeds": (feeds_a, feeds_b), "counters": {}}
    bq = bigquery_emulator.client()
    try:
        out["counters"]["a"] = _run(feeds_a, warehouse, proxy)
        out["a"] = _snapshot(bq, target)
        _forget_feed_state(bq, target)
        out["counters"]["rerun"] = _run(feeds_a, warehouse, proxy)
        out["rerun"] = _snapshot(bq, target)
        out["counters"]["b"] = _run(feeds_b, warehouse, proxy)
        out["b"] = _snapshot(bq, target)
    finally:
        bq.close()
    duck = tmp / "twin.duckdb"
    _run(feeds_a, str(duck), proxy)
    _run(feeds_b, str(duck), proxy)
    out["duckdb_stories"] = _duckdb_stories(duck)
    out["duckdb"] = duck
    return out


@pytest.fixture(scope="module")
def upgraded(history, bigquery_emulator, syndication_server, tmp_path_factory):  # noqa: F811
    """Step 4: the history dataset taken back to version 1, upgraded by a rerun, then rerun once more."""
    from transforms.warehouse import upgrade as warehouse_upgrade

    target = history["target"]
    everything = _feeds_file(tmp_path_factory.mktemp("upgrade"), "all", OUTLETS_A + OUTLETS_B, extra=(MISSING_FEED,))
    warehouse, proxy = str(target), syndication_server.url
    signed_pages = []
    sign_rows = warehouse_upgrade.sign_rows

    def counting_sign_rows(rows, *args, **kwargs):
        signed_pages.append(len(rows))
        return sign_rows(rows, *args, **kwargs)

    out = {"counters": {}}
    bq = bigquery_emulator.client()
    with pytest.MonkeyPatch.context() as mp:
        # Small pages, so the back-fill reads the stored bodies over several pages and load jobs.
        mp.setattr(warehouse_upgrade, "STEP", 50)
        mp.setattr(warehouse_upgrade, "sign_rows", counting_sign_rows)
        try:
            bq.delete_table(target.ref("story_index"))
            bq.delete_table(target.ref("warehouse_meta"))
            _forget_feed_state(bq, target)
            out["old"] = _snapshot(bq, target)
            out["version_before"] = warehouse_upgrade.bigquery_version(bq, target)
            said = io.StringIO()
            with contextlib.redirect_stderr(said):
                out["counters"]["upgrade"] = _run(everything, warehouse, proxy)
            out["said"] = said.getvalue()
            out["upgraded"] = _snapshot(bq, target)
            out["version_after"] = warehouse_upgrade.bigquery_version(bq, target)
            out["meta"] = _rows(bq, f"SELECT key, value FROM `{target.ref('warehouse_meta')}`")
            out["signed_pages"] = list(signed_pages)
            _forget_feed_state(bq, target)
            out["counters"]["again"] = _run(everything, warehouse, proxy)
            out["again"] = _snapshot(bq, target)
            out["signed_pages_again"] = signed_pages[len(out["signed_pages"]):]
        finally:
            bq.close()
    return out


def test_a_batch_run_writes_one_story_index_row_per_article(history):
    first = history["a"]
    assert len(first["stories"]) == history["counters"]["a"]["dedup.articles"] > 50
    assert first["counts"]["dead_letters"] == 1  # the missing feed
    assert first["index"].keys() == first["stories"].keys() and first["index_rows"] == len(first["stories"])
    from transforms.dedup.minhash import band_ints

    for article_id, row in first["index"].items():
        assert len(row["signature"]) == 4 * DEDUP.num_perm == 512, article_id
        assert len(row["bands"]) == DEDUP.bands == 32
        # BYTES came back as the bytes written (not their base64 text), so the band keys agree.
        assert row["bands"] == band_ints(row["signature"], DEDUP.bands)
        assert row["story_id"] == first["stories"][article_id]
        assert row["published_at"] is not None and row["shingles"] > 0 and row["content_hash"]
    # Outlets A share stories, so some index rows name a story other than their own article.
    assert sum(r["story_id"] != a for a, r in first["index"].items()) >= 10
    assert first["counts"]["warehouse_meta"] == 1


def test_a_rerun_adds_no_row_to_any_table(history):
    first, rerun, counters = history["a"], history["rerun"], history["counters"]["rerun"]
    assert rerun["counts"] == first["counts"]
    assert rerun["stories"] == first["stories"] and rerun["index"] == first["index"]
    # Every entry was read again (feed state was forgotten) and found stored through stored_links.
    assert counters["read_feeds.entries"] >= len(first["stories"])
    assert counters.get("fetch.requested", 0) == 0
    assert counters["write.articles.inserted"] == 0 and counters["write.story_index.inserted"] == 0


def test_copies_in_other_outlets_join_the_stored_stories(history):
    first, after = history["a"], history["b"]
    new = {a: s for a, s in after["stories"].items() if a not in first["stories"]}
    assert len(new) == history["counters"]["b"]["dedup.articles"] > 40
    # What was stored stays as it was, and every article got its index row.
    assert {a: after["stories"][a] for a in first["stories"]} == first["stories"]
    assert after["index"].keys() == after["stories"].keys()
    # Copies of stored stories took the stored story's id; their story_index rows say so too.
    stored_stories = set(first["stories"].values())
    joined = {a for a, s in new.items() if s in stored_stories}
    assert len(joined) >= 30
    assert all(after["index"][a]["story_id"] == new[a] for a in new)
    # The DuckDB twin, over the same two runs, puts every article in the same story.
    assert after["stories"] == history["duckdb_stories"]


def test_lookups_return_exactly_the_stored_subset(history, bigquery_emulator):  # noqa: F811
    target = history["target"]
    bq = bigquery_emulator.client()
    try:
        articles = _rows(bq, f"SELECT article_id, url, canonical_url FROM `{target.ref('articles')}` "
                             f"ORDER BY article_id LIMIT 25")
        feeds = [r["feed_url"] for r in _rows(bq, f"SELECT feed_url FROM `{target.ref('feed_state')}`")]
        some = next(iter(history["b"]["index"].values()))
    finally:
        bq.close()
    lookup = BigQueryLookup(target, Settings(), bigquery_emulator.endpoint)
    try:
        unknown_links = [f"http://unknown{i}.example/story" for i in range(5)]
        links = ([a["url"] for a in articles[:10]] + [a["canonical_url"] for a in articles[10:]]
                 + unknown_links + [""])
        stored_links = set(links[:len(articles)])
        assert lookup.stored_links(links) == stored_links
        assert lookup.stored_links(unknown_links) == set() and lookup.stored_links([]) == set()
        ids = [a["article_id"] for a in articles]
        assert lookup.stored_ids(ids + ["0" * 32, "no-such-id"]) == set(ids)
        assert lookup.stored_ids([]) == set()
        states = lookup.feed_states(feeds + ["http://unknown.example/feed.xml"])
        assert len(feeds) == 5 and sorted(states) == sorted(feeds)
        assert all(s.feed_url == url and s.last_polled_at for url, s in states.items())
        assert states[MISSING_FEED].consecutive_failures >= 1
        # story_candidates: a band key finds its article inside the time window, and only there.
        ts = some["published_at"].timestamp()
        found = lookup.story_candidates(some["bands"][:1], ts - 1, ts + 1)
        assert some["article_id"] in {m.article_id for m, _ in found}
        member = next(m for m, _ in found if m.article_id == some["article_id"])
        assert (member.signature, member.story_id, member.published_ts) == (some["signature"], some["story_id"], ts)
        assert some["article_id"] not in {m.article_id for m, _ in lookup.story_candidates(
            some["bands"][:1], ts + 1, ts + 3600)}
        assert lookup.story_candidates([], ts - 1, ts + 1) == []
    finally:
        lookup.close()


def _members(found: list) -> list:
    return sorted((m.article_id, m.story_id, m.story_agency, m.agency, m.published_ts, m.size, m.signature, h)
                  for m, h in found)


def test_story_lookups_agree_with_the_duckdb_twin(history, bigquery_emulator):  # noqa: F811
    import dataclasses

    from transforms.warehouse.duckdb_lookup import DuckDBLookup

    index = history["b"]["index"]
    times = sorted(r["published_at"].timestamp() for r in index.values())
    all_bands = {b for r in index.values() for b in r["bands"]}
    some_bands = sorted(all_bands)[::7]
    # A horizon of ten years takes in most of the corpus; the cap then picks the newest rows.
    settings = Settings().replace(dedup=dataclasses.replace(DEDUP, horizon_hours=10 * 365 * 24,
                                                            seed_max_articles=40))
    bigquery = BigQueryLookup(history["target"], settings, bigquery_emulator.endpoint)
    duckdb = DuckDBLookup(str(history["duckdb"]), settings)
    try:
        for bands, lo, hi in ((all_bands, times[0], times[-1]), (some_bands, times[0], times[-1]),
                              (all_bands, times[len(times) // 3], times[2 * len(times) // 3])):
            got = _members(bigquery.story_candidates(bands, lo, hi))
            assert got and got == _members(duckdb.story_candidates(bands, lo, hi))
        assert len(_members(bigquery.story_candidates(all_bands, times[0], times[-1]))) == len(index)
        seed = bigquery.recent_index()
        assert len(seed) == 40 and _members(seed) == _members(duckdb.recent_index())
        # Oldest first, as the stream's index is filled.
        assert [m.published_ts for m, _ in seed] == sorted(m.published_ts for m, _ in seed)
    finally:
        bigquery.close()
        duckdb.close()


def test_an_old_dataset_upgrades_in_place(history, upgraded):
    stored = history["b"]
    old, new, again = upgraded["old"], upgraded["upgraded"], upgraded["again"]
    # Dropping the two tables leaves exactly what a version-1 warehouse holds.
    assert old["tables"] == ["articles", "dead_letters", "feed_state", "stories"]
    assert upgraded["version_before"] == 1 and upgraded["version_after"] == SCHEMA_VERSION
    assert upgraded["meta"] == [{"key": "schema_version", "value": str(SCHEMA_VERSION)}]
    n = len(stored["stories"])
    assert f"signing {n} stored articles" in upgraded["said"]
    assert sum(upgraded["signed_pages"]) == n and len(upgraded["signed_pages"]) > 1
    # Every article row kept, every story id unchanged, nothing fetched or written again.
    assert new["stories"] == stored["stories"]
    assert new["counts"]["articles"] == stored["counts"]["articles"]
    assert new["counts"]["dead_letters"] == stored["counts"]["dead_letters"]
    assert upgraded["counters"]["upgrade"].get("fetch.requested", 0) == 0
    # The back-filled index is one row per article, equal to the rows the sink had written.
    assert new["index_rows"] == n and new["index"].keys() == stored["index"].keys()
    for article_id, row in new["index"].items():
        assert row == stored["index"][article_id], article_id
    # One more rerun: no table gains a row, nothing is signed again.
    assert again["counts"] == new["counts"] and again["stories"] == new["stories"]
    assert again["index"] == new["index"]
    assert upgraded["signed_pages_again"] == []


def test_the_summary_reads_the_same_facts_from_both_warehouses_and_only_this_runs(history, bigquery_emulator):  # noqa: F811
    import datetime as dt

    from pipeline.summary import warehouse_facts
    from transforms.warehouse import duckdb_store

    bq = bigquery_store.connect(str(history["target"]), bigquery_emulator.endpoint)
    duck = duckdb_store.connect(history["duckdb"], read_only=True)
    long_ago = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    tomorrow = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    try:
        for since in (None, long_ago, tomorrow):
            got = [warehouse_facts(con, since) for con in (bq, duck)]
            for facts in got:
                facts["agencies"] = sorted(map(tuple, facts["agencies"]))
                facts["dead_letters"] = sorted(map(tuple, facts["dead_letters"]))
                facts["widest"] = sorted(n for _, n, _ in facts["widest"])
            assert got[0] == got[1], since
        # A run that wrote nothing reads nothing back but the warehouse's size.
        assert got[1]["run_articles"] == got[1]["stories"] == 0 and got[1]["widest"] == []
        assert got[1]["articles"] > 0
    finally:
        bq.close()
        duck.close()
