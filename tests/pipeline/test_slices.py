"""A local batch run over many feeds runs as slices, each stored before the next starts."""
import duckdb
import pytest
import yaml
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.corpus_server import CorpusServer
from pipeline.prepare import RunInputs
from pipeline.run import batch_slices, run_pipeline
from pipeline.summary import conservation
from schemas.settings import Settings
from tests.support.corpus import SYNDICATION_DEV, syndication_feed_urls, syndication_routes


def inputs(feeds: int, per_slice: int) -> RunInputs:
    settings = Settings()
    settings = settings.replace(warehouse=settings.warehouse.__class__(feeds_per_slice=per_slice))
    return RunInputs(settings=settings, specs=tuple(range(feeds)), registry_data=[], warehouse="x", lookup=None)


@pytest.mark.parametrize("argv, feeds, per_slice, sizes", [
    (["--runner", "FnApiRunner"], 250, 100, [100, 100, 50]),
    (["--runner", "FnApiRunner"], 100, 100, [100]),
    (["--runner", "FnApiRunner"], 250, 0, [250]),
    (["--runner", "DataflowRunner"], 250, 100, [250]),
    (["--runner", "BundleBasedDirectRunner", "--streaming"], 250, 100, [250]),
])
def test_only_a_local_batch_run_over_many_feeds_is_sliced(argv, feeds, per_slice, sizes):
    parts = batch_slices(PipelineOptions(argv), inputs(feeds, per_slice))
    assert [len(p.specs) for p in parts] == sizes
    assert [s for p in parts for s in p.specs] == list(range(feeds))


def pair_f1(got: dict, want: dict) -> float:
    def pairs(assign):
        groups = {}
        for article, story in assign.items():
            groups.setdefault(story, []).append(article)
        return {(a, b) for members in groups.values() for a in members for b in members if a < b}
    g, w = pairs(got), pairs(want)
    return 2 * len(g & w) / (len(g) + len(w)) if g or w else 1.0


def _stories(warehouse) -> tuple[dict, set]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("SELECT article_id, story_id, feed_url FROM articles").fetchall()
    finally:
        con.close()
    return {a: s for a, s, _ in rows}, {(s, f) for _, s, f in rows}


@pytest.mark.slow
def test_slices_store_as_they_go_and_join_each_others_stories(tmp_path):
    feeds = syndication_feed_urls(SYNDICATION_DEV)[:4]
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump([{"url": u} for u in feeds]), encoding="utf-8")
    with CorpusServer(syndication_routes(SYNDICATION_DEV)) as server:
        def run(name, per_slice):
            return run_pipeline(["--feeds", str(tmp_path / "feeds.yaml"), "--warehouse", str(tmp_path / name),
                                 "--proxy", server.url, "--feeds_per_slice", str(per_slice)])

        whole = run("whole.duckdb", 0)
        sliced = run("sliced.duckdb", 1)
        again = run("sliced.duckdb", 1)
    assert conservation(sliced["counters"])["balanced"] and conservation(whole["counters"])["balanced"]
    whole_ids, _ = _stories(tmp_path / "whole.duckdb")
    sliced_ids, story_feeds = _stories(tmp_path / "sliced.duckdb")
    assert sliced_ids.keys() == whole_ids.keys() and len(sliced_ids) > 100
    # Copies of one story in feeds of different slices share its id: the later slice met the stored story.
    spanning = {s for s, _ in story_feeds if sum(1 for t, _ in story_feeds if t == s) > 1}
    assert spanning
    # Stories agree with one whole run's, but for chains a whole run closes in one pass (A~B, B~C
    # with B in a later slice than C): a slice joins the stored story it matches, as a rerun does.
    assert pair_f1(sliced_ids, whole_ids) >= 0.95
    assert again["counters"].get("write.articles", 0) == 0 and _stories(tmp_path / "sliced.duckdb")[0] == sliced_ids
