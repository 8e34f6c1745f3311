"""Runs over a stored history: stored stories joined through story_index, in-place upgrades, a flat graph."""
import collections
import json
import shutil

import duckdb
import pytest

from benchmarks.syndication import write_feeds_file
from pipeline.run import run_pipeline
from pipeline.summary import conservation
from schemas.settings import Settings
from schemas.warehouse import SCHEMA_VERSION
from tests.support.corpus import SYNDICATION_DEV
from transforms.dedup.minhash import MinHasher, band_ints
from transforms.dedup.stories import assign_component, compare_in_band, sign, stored_member, union_roots
from transforms.util.times import ts_of

# Whole-pipeline runs over a corpus, subprocesses or emulators: `pytest -m 'not slow'` leaves them out.
pytestmark = pytest.mark.slow

_ISO = "strftime({} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S+00:00')"
ROWS_SQL = (f"SELECT article_id, body, coalesce({_ISO.format('published_at')}, {_ISO.format('fetched_at')}), agency, "
            f"story_id, story_agency FROM articles")
ROW_KEYS = ("article_id", "body", "published_at", "agency", "story_id", "story_agency")


def _feeds(tmp, name, urls):
    import yaml

    directory = tmp / name
    directory.mkdir()
    index = {f["feed_url"]: f["name"] for f in json.loads((SYNDICATION_DEV / "feeds" / "index.json").read_text())}
    path = directory / "feeds.yaml"
    path.write_text(yaml.safe_dump([{"url": u, "name": index[u]} for u in urls], sort_keys=False))
    return path


def _run(feeds, warehouse, server):
    return run_pipeline(["--feeds", str(feeds), "--warehouse", str(warehouse), "--proxy", server.url,
                         "--runner", "FnApiRunner"])


def _rows(warehouse) -> dict:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {r[0]: dict(zip(ROW_KEYS, r)) for r in con.execute(ROWS_SQL).fetchall()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def halves(tmp_path_factory, syndication_server):
    """The dev split's feeds in two runs: every other feed first, then the rest into the same warehouse."""
    tmp = tmp_path_factory.mktemp("halves")
    urls = [f["feed_url"] for f in json.loads((SYNDICATION_DEV / "feeds" / "index.json").read_text())]
    warehouse = tmp / "halves.duckdb"
    first = _run(_feeds(tmp, "first", urls[::2]), warehouse, syndication_server)
    after_first = _rows(warehouse)
    second = _run(_feeds(tmp, "second", urls[1::2]), warehouse, syndication_server)
    return {"tmp": tmp, "warehouse": warehouse, "first": first, "second": second,
            "after_first": after_first, "after_second": _rows(warehouse)}


def _stories_as_before(stored: list, new: list, settings: Settings) -> dict:
    """The second run's story ids as the launcher-side design gave them: every stored body re-signed."""
    dedup = settings.dedup
    hasher = MinHasher(dedup.num_perm)
    members = [stored_member(r, hasher, dedup) for r in stored]
    members += [sign(hasher, dedup, r["article_id"], r["body"], ts_of(r["published_at"]), r["agency"]) for r in new]
    buckets = collections.defaultdict(list)
    for m in members:
        for key in band_ints(m.signature, dedup.bands):
            buckets[key].append(m)
    edges = {edge for key, group in buckets.items() for edge in compare_in_band((key, group), dedup)}
    by_id = {m.article_id: m for m in members}
    roots = union_roots(by_id, edges)
    components = collections.defaultdict(list)
    for aid, root in roots.items():
        components[root].append(by_id[aid])
    return {aid: story for group in components.values() for aid, (story, _, _) in assign_component(group)}


def test_a_second_run_joins_stored_stories_with_the_ids_the_old_design_gave(halves):
    first, second = halves["after_first"], halves["after_second"]
    assert set(first) <= set(second)
    assert all(second[aid]["story_id"] == row["story_id"] for aid, row in first.items()), "stored rows changed"
    new = [row for aid, row in second.items() if aid not in first]
    expected = _stories_as_before(list(first.values()), new, Settings())
    got = {row["article_id"]: row["story_id"] for row in new}
    assert got == expected
    joined = [aid for aid, story in got.items() if story in first]
    # The split's wire stories run through both halves: many copies must find last run's story.
    assert len(joined) >= 50, len(joined)


def test_every_article_written_has_its_story_index_row(halves):
    con = duckdb.connect(str(halves["warehouse"]), read_only=True)
    try:
        missing = con.execute("SELECT count(*) FROM articles a ANTI JOIN story_index s USING (article_id)").fetchone()[0]
        differ = con.execute("SELECT count(*) FROM articles a JOIN story_index s USING (article_id) "
                             "WHERE a.story_id <> s.story_id OR len(s.bands) <> 32 "
                             "OR octet_length(s.signature) <> 512").fetchone()[0]
        version = con.execute("SELECT value FROM warehouse_meta WHERE key = 'schema_version'").fetchone()[0]
    finally:
        con.close()
    assert (missing, differ, version) == (0, 0, str(SCHEMA_VERSION))
    cons = conservation(halves["second"]["counters"])
    assert cons["balanced"] and cons["articles"] == len(halves["after_second"]) - len(halves["after_first"])


def test_an_old_warehouse_upgrades_in_place_keeping_every_row_and_story(halves, syndication_server, capsys):
    tmp = halves["tmp"]
    old = tmp / "old-format.duckdb"
    shutil.copy(halves["warehouse"], old)
    con = duckdb.connect(str(old))
    # A warehouse written before schema version 2 had neither table; the rest is the same.
    con.execute("DROP TABLE story_index")
    con.execute("DROP TABLE warehouse_meta")
    con.execute("DELETE FROM feed_state")  # so the rerun reads every entry again
    before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "dead_letters")}
    con.close()
    rows_before = _rows(old)
    rerun = _run(write_feeds_file(SYNDICATION_DEV, tmp), old, syndication_server)
    err = capsys.readouterr().err
    assert f"upgrading {old} to schema {SCHEMA_VERSION}: signing {len(rows_before):,} stored articles" in err
    assert f"{len(rows_before):,}/{len(rows_before):,} articles signed" in err
    assert _rows(old) == rows_before
    con = duckdb.connect(str(old), read_only=True)
    try:
        after = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "dead_letters")}
        index = dict(con.execute("SELECT article_id, story_id FROM story_index").fetchall())
        version = con.execute("SELECT value FROM warehouse_meta WHERE key = 'schema_version'").fetchone()[0]
    finally:
        con.close()
    assert after == before and version == str(SCHEMA_VERSION)
    assert index == {aid: row["story_id"] for aid, row in rows_before.items()}
    cons = conservation(rerun["counters"])
    assert cons["balanced"] and cons["articles"] == 0 and cons["entries"] == 517
    # Upgraded once: the next run signs nothing again.
    _run(write_feeds_file(SYNDICATION_DEV, tmp), old, syndication_server)
    assert "signing" not in capsys.readouterr().err


def test_the_graph_a_run_builds_does_not_grow_with_stored_rows(tmp_path):
    from apache_beam.options.pipeline_options import PipelineOptions

    from benchmarks.history_warehouse import make_history
    from pipeline.builder import build_pipeline
    from pipeline.prepare import prepare

    feed = "https://feeds.example.com/world.xml"
    big = tmp_path / "big.duckdb"
    make_history(big, 50_000, feed_urls=[feed])
    sizes = {}
    for name, warehouse in (("empty", tmp_path / "empty.duckdb"), ("big", big)):
        for streaming in ([], ["--streaming", "--runner", "FnApiRunner"]):
            options = PipelineOptions(["--feeds", feed, "--warehouse", str(warehouse), *streaming])
            sizes[name, bool(streaming)] = build_pipeline(options, prepare(options)).to_runner_api().ByteSize()
    for streaming in (False, True):
        assert sizes["big", streaming] < 1_000_000
        assert abs(sizes["big", streaming] - sizes["empty", streaming]) < 300, sizes


def test_the_summary_agrees_with_the_stories_view_and_reads_only_this_runs_rows(halves):
    import datetime as dt

    from pipeline.summary import warehouse_facts

    con = duckdb.connect(str(halves["warehouse"]), read_only=True)
    try:
        every = warehouse_facts(con)
        view = con.execute("SELECT count(*), count(*) FILTER (WHERE outlet_count > 1) FROM stories").fetchone()
        widest = con.execute("SELECT outlet_count FROM stories ORDER BY outlet_count DESC LIMIT 5").fetchall()
        later = warehouse_facts(con, since=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))
    finally:
        con.close()
    assert (every["stories"], every["multi_outlet_stories"]) == view
    assert [n for _, n, _ in every["widest"]] == [n for (n,) in widest]
    assert every["run_articles"] == every["articles"] == len(halves["after_second"])
    assert (later["run_articles"], later["stories"], later["widest"], later["agencies"]) == (0, 0, [], [])
    assert later["articles"] == every["articles"]
