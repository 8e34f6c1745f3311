"""Done-when 3: `wiredesk poll --publish` + `wiredesk run --source pubsub` against the Pub/Sub
emulator lands the same rows as a batch run over the same feeds; redelivered messages add nothing."""
from __future__ import annotations

import collections
import dataclasses

import duckdb
import pytest
import yaml

from pipeline.corpus_server import CorpusServer, Route
from schemas.settings import Settings
from tests.support.corpus import SYNDICATION_DEV, feed_index, sliced_feed, syndication_routes

# Whole-pipeline runs over a corpus, subprocesses or emulators: `pytest -m 'not slow'` leaves them out.
pytestmark = pytest.mark.slow

PROJECT = "wiredesk-test"
TOPIC = f"projects/{PROJECT}/topics/entries"
SUBSCRIPTION = f"projects/{PROJECT}/subscriptions/wiredesk-run"
FEEDS = {"nationaldispatch": 10, "bayjournal": 10, "arabiangazette": 10}


def _rows(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT article_id, url, title, body, agency, content_hash, story_id, story_agency "
                           "FROM articles ORDER BY article_id").fetchall()
        dead = con.execute("SELECT dead_letter_id, stage, error_class FROM dead_letters "
                           "WHERE stage <> 'read_feeds' ORDER BY 1").fetchall()
    finally:
        con.close()
    stories = collections.defaultdict(set)
    for r in rows:
        stories[r[6]].add(r[0])
    return {"rows": [r[:6] for r in rows], "partition": sorted(sorted(s) for s in stories.values()),
            "story_ids": {r[0]: r[6] for r in rows}, "dead": dead}


@pytest.fixture(scope="module")
def landed(tmp_path_factory, pubsub_emulator, corpus):
    from google.cloud import pubsub_v1

    from pipeline.cli import main
    from pipeline.run import run_pipeline

    tmp = tmp_path_factory.mktemp("pubsub")
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    publisher.create_topic(name=TOPIC)
    subscriber.create_subscription(name=SUBSCRIPTION, topic=TOPIC)
    feeds = [f for f in feed_index() if f["outlet"] in FEEDS]
    feeds_file = tmp / "feeds.yaml"
    feeds_file.write_text(yaml.safe_dump([{"url": f["feed_url"], "name": f["name"]} for f in feeds]))
    with CorpusServer(syndication_routes(SYNDICATION_DEV)) as server:
        for f in feeds:
            server.set_route(f["feed_url"], Route(body=sliced_feed(f, FEEDS[f["outlet"]]),
                                                  content_type="application/rss+xml; charset=utf-8"))
        common = ["--feeds", str(feeds_file), "--proxy", server.url, "--max-polls", "1"]
        assert main(["poll", "--publish", TOPIC, "--warehouse", str(tmp / "poller.duckdb"), *common]) == 0
        # The same entries published again (a poller restarted without its state): a redelivery storm.
        assert main(["poll", "--publish", TOPIC, "--warehouse", str(tmp / "poller2.duckdb"), *common]) == 0
        fast = Settings()
        fast = dataclasses.replace(fast, stream=dataclasses.replace(fast.stream, window_s=1.0),
                                   warehouse=dataclasses.replace(fast.warehouse, batch_seconds=1.0))
        streamed = run_pipeline(["--streaming", "--source", "pubsub", "--subscription", SUBSCRIPTION,
                                 "--warehouse", str(tmp / "stream.duckdb"), "--proxy", server.url,
                                 "--duration", "8s"], settings=fast)
        run_pipeline(["--feeds", str(feeds_file), "--warehouse", str(tmp / "batch.duckdb"), "--proxy", server.url])
    return {"stream": _rows(tmp / "stream.duckdb"), "batch": _rows(tmp / "batch.duckdb"),
            "counters": streamed["counters"]}


def test_pubsub_stream_lands_the_same_rows_as_batch(landed):
    stream, batch = landed["stream"], landed["batch"]
    assert len(batch["rows"]) >= 25
    assert stream["rows"] == batch["rows"]
    assert stream["dead"] == batch["dead"]
    # Stories: the same clusters as batch. (Every multi-copy story here is a clique, so no copy can
    # bridge two stories, and the index's arrival floor keeps this out-of-order backfill together.)
    assert stream["partition"] == batch["partition"]
    # The story id is a member's own id; which member depends on arrival order (rows are never
    # rewritten: an earlier-published copy arriving later joins the story it finds).
    for members in stream["partition"]:
        assert {stream["story_ids"][aid] for aid in members} <= set(members) and \
            len({stream["story_ids"][aid] for aid in members}) == 1


def test_redelivered_messages_add_no_rows(landed):
    counters = landed["counters"]
    entries = sum(FEEDS.values())
    assert counters["read_feeds.entries"] == 2 * entries  # every entry arrived twice
    # A second copy is dropped as a repeated link, or, when it is read after the first copy was
    # written, as a link already stored (the look-up sees rows written during the run).
    assert counters.get("read_feeds.skip.repeated_link", 0) + counters.get("read_feeds.skip.already_stored", 0) \
        == entries
    assert counters["fetch.requested"] == entries
    assert counters["write.articles.received"] == counters["write.articles.inserted"] == len(landed["stream"]["rows"])
