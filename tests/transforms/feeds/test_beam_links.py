"""KeepFirstLink: the first entry of each canonical link passes, within a horizon of poll time."""
from __future__ import annotations

import pickle

from schemas.types import FeedEntry
from tests.transforms.beam_common.test_state_log import Bag, Value
from transforms.feeds.beam_links import LINKS_KEY, KeepFirstLink


def _entry(url: str, polled_at: str) -> FeedEntry:
    return FeedEntry(entry_id=url, feed_url="http://feed.example/rss", url=url, polled_at=polled_at)


def test_a_link_passes_once_and_a_copy_of_the_dofn_knows_it():
    fn = KeepFirstLink(horizon_s=3600.0)
    fn.setup()
    copy = pickle.loads(pickle.dumps(fn))  # what the local streaming runner does per bundle
    copy.setup()
    log, version = Bag(), Value()

    def passed(dofn, url, at="2026-03-05T10:00:00+00:00"):
        return [e.url for e in dofn.process((LINKS_KEY, _entry(url, at)), log=log, version=version)]

    assert passed(fn, "http://a.example/1") == ["http://a.example/1"]
    assert passed(copy, "http://a.example/1?utm_source=rss") == []  # the same canonical link
    assert passed(copy, "http://a.example/2") == ["http://a.example/2"]
    assert log.reads == 0 and version.read() == 2


def test_links_older_than_the_horizon_are_pruned_from_the_log():
    fn = KeepFirstLink(horizon_s=3600.0)
    fn.setup()
    log, version = Bag(), Value()
    list(fn.process((LINKS_KEY, _entry("http://a.example/1", "2026-03-05T10:00:00+00:00")), log=log, version=version))
    list(fn.process((LINKS_KEY, _entry("http://a.example/2", "2026-03-05T12:00:00+00:00")), log=log, version=version))
    assert [pickle.loads(raw)[0] for raw in log.items] == ["http://a.example/2"]
    again = list(fn.process((LINKS_KEY, _entry("http://a.example/1", "2026-03-05T12:01:00+00:00")),
                            log=log, version=version))
    assert [e.url for e in again] == ["http://a.example/1"]  # past the horizon: fetched again
