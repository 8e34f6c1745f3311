"""The dev syndication split through the whole pipeline and the local proxy: quality, conservation, rerun."""
import json

import duckdb
import pytest

from benchmarks.syndication import evaluate, run_split
from pipeline.summary import conservation
from tests.support.corpus import SYNDICATION_DEV

# Whole-pipeline runs over a corpus, subprocesses or emulators: `pytest -m 'not slow'` leaves them out.
pytestmark = pytest.mark.slow


def _counts(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            "articles": con.execute("SELECT count(*) FROM articles").fetchone()[0],
            "dead_letters": con.execute("SELECT count(*) FROM dead_letters").fetchone()[0],
            "stories": dict(con.execute("SELECT article_id, story_id FROM articles").fetchall()),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def dev(tmp_path_factory, syndication_server):
    tmp = tmp_path_factory.mktemp("dev")
    warehouse = tmp / "dev.duckdb"
    first = run_split(SYNDICATION_DEV, warehouse, syndication_server.url, tmp, ["--runner", "FnApiRunner"])
    after_first = _counts(warehouse)
    metrics = evaluate(SYNDICATION_DEV, warehouse, tmp)
    second = run_split(SYNDICATION_DEV, warehouse, syndication_server.url, tmp, ["--runner", "FnApiRunner"])
    after_second = _counts(warehouse)
    # Forget the feeds' ETags, so the third run re-reads every entry and must recognise them as stored.
    con = duckdb.connect(str(warehouse))
    con.execute("DELETE FROM feed_state")
    con.close()
    third = run_split(SYNDICATION_DEV, warehouse, syndication_server.url, tmp, ["--runner", "FnApiRunner"])
    after_third = _counts(warehouse)
    return {"first": first, "second": second, "third": third, "metrics": metrics,
            "after_first": after_first, "after_second": after_second, "after_third": after_third}


def _feed_items():
    index = json.loads((SYNDICATION_DEV / "feeds" / "index.json").read_text())
    return sum(f["items"] for f in index)


def test_quality_floor_on_the_dev_split(dev):
    m = dev["metrics"]
    assert m["missing_predictions"] == 0 and m["unknown_urls"] == 0
    assert m["agency"]["f1"] >= 0.90
    assert m["cluster"]["ari"] >= 0.85
    assert m["body"]["f1"] >= 0.90
    assert m["hard_negative_false_positives"] <= 2


def test_every_entry_is_accounted_for(dev):
    counters = dev["first"]["counters"]
    cons = conservation(counters)
    assert cons["entries"] == _feed_items() == 517
    assert cons["balanced"], cons
    assert dev["after_first"]["articles"] == counters["dedup.articles"]
    assert dev["after_first"]["dead_letters"] == cons["dead_letters"]


def test_rerun_polls_politely_with_conditional_get(dev):
    counters = dev["second"]["counters"]
    assert counters["read_feeds.feeds_unchanged"] == counters["read_feeds.feeds_polled"] == 13
    assert counters.get("read_feeds.entries", 0) == 0 and counters.get("fetch.requested", 0) == 0
    assert dev["after_second"] == dev["after_first"]


def test_rerun_over_the_same_entries_adds_no_rows_and_keeps_story_ids(dev):
    assert dev["after_third"]["articles"] == dev["after_first"]["articles"]
    assert dev["after_third"]["dead_letters"] == dev["after_first"]["dead_letters"]
    assert dev["after_third"]["stories"] == dev["after_first"]["stories"]
    counters = dev["third"]["counters"]
    cons = conservation(counters)
    assert cons["entries"] == 517 and cons["balanced"] and cons["articles"] == 0
    # Every entry is either stored already or a repeat of a stored link; nothing is fetched again.
    assert counters.get("fetch.requested", 0) == 0
