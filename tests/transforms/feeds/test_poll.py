"""poll_feed and poll_track without Beam: a fake fetcher, the outcome, and the track it moves."""
from __future__ import annotations

from schemas.settings import Settings
from schemas.types import FeedSpec, FeedState
from transforms.feeds.poll import poll_feed
from transforms.feeds.tracks import new_track, poll_items, poll_track
from transforms.fetch.errors import FetchError, FetchResult

SPEC = FeedSpec(url="http://alpha.example/feed.xml")
RSS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
       b"<item><title>One</title><link>http://alpha.example/1</link><guid>1</guid></item>"
       b"<item><title>No link</title><guid isPermaLink=\"false\">2</guid></item></channel></rss>")


class FakeFetcher:
    def __init__(self, answer):
        self.answer, self.headers = answer, []

    def get(self, url, headers=None, max_bytes=None):
        self.headers.append(dict(headers or {}))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _response(status=200, body=RSS, headers=None) -> FetchResult:
    headers = {"content-type": "application/rss+xml", **(headers or {})}
    return FetchResult(url=SPEC.url, final_url=SPEC.url, status=status, headers=headers, body=body,
                       attempts=1, elapsed_s=0.0, charset=None, content_type="application/rss+xml")


def _state(**changes) -> FeedState:
    fields = {"feed_url": SPEC.url, "etag": '"v1"', "last_modified": "Mon, 02 Mar 2026 10:00:00 GMT",
              "last_polled_at": None, "last_status": 200, "consecutive_failures": 0, "entries_seen": 2}
    return FeedState(**{**fields, **changes})


def test_a_poll_gives_entries_entry_dead_letters_a_state_and_the_counts():
    out = poll_feed(SPEC, None, FakeFetcher(_response(headers={"etag": '"v2"'})), Settings())
    assert [e.url for e in out.entries] == ["http://alpha.example/1"]
    assert [d.error_class for d in out.dead] == ["missing_link"]
    assert (out.state.etag, out.state.last_status, out.state.entries_seen) == ('"v2"', 200, 2)
    assert out.counts == {"feeds_polled": 1, "entries": 2, "entries_invalid": 1, "dead_letters": 1,
                          "dead.missing_link": 1}


def test_a_conditional_get_answered_304_keeps_the_validators():
    fetcher = FakeFetcher(_response(status=304, body=b""))
    out = poll_feed(SPEC, _state(), fetcher, Settings())
    assert fetcher.headers == [{"If-None-Match": '"v1"', "If-Modified-Since": "Mon, 02 Mar 2026 10:00:00 GMT"}]
    assert (out.entries, out.dead, out.state.last_status, out.state.etag) == ((), (), 304, '"v1"')
    assert out.counts["feeds_unchanged"] == 1


def test_failures_are_dead_letters_and_a_failed_state_never_exceptions():
    refused = poll_feed(SPEC, _state(consecutive_failures=1), FakeFetcher(FetchError("http_503")), Settings())
    assert [d.error_class for d in refused.dead] == ["http_503"]
    assert (refused.state.consecutive_failures, refused.state.etag) == (2, '"v1"')
    broken = poll_feed(SPEC, None, FakeFetcher(ZeroDivisionError("boom")), Settings())
    assert [d.error_class for d in broken.dead] == ["unexpected_error"]
    assert broken.state.consecutive_failures == 1


def test_poll_track_drops_entries_seen_before_and_moves_the_interval():
    settings = Settings()
    track = new_track(SPEC, None, settings, 60.0, now=1000.0)
    first = poll_track(track, poll_feed(SPEC, None, FakeFetcher(_response()), settings), settings, 1000.0)
    assert [kind for kind, _ in poll_items(first)] == ["entry", "dead", "state"]
    assert first.counts["new_entries"] == 1 and track.polls == 1
    again = poll_track(track, poll_feed(SPEC, track.state, FakeFetcher(_response()), settings), settings, 1060.0)
    assert again.entries == () and again.counts["skip.seen_entry"] == 1 and again.counts["new_entries"] == 0
    assert track.interval_s > 60.0 and track.next_due == 1060.0 + track.interval_s  # quiet: it backs off
