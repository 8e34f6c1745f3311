"""FeedTrack remembers the entry ids of its feed's latest listing only, compactly (transforms/feeds/tracks.py)."""
from __future__ import annotations

import collections
import pickle

from schemas.settings import Settings
from schemas.types import FeedEntry, FeedSpec, FeedState
from transforms.feeds.poll import PollOutcome
from transforms.feeds.tracks import FeedTrack, SeenIds, copy_track, new_track, poll_track
from transforms.util.ids import stable_id

SPEC = FeedSpec(url="http://outlet.example/feed.xml")


def _entry(n: int) -> FeedEntry:
    return FeedEntry(entry_id=stable_id(SPEC.url, str(n)), feed_url=SPEC.url, feed_name=None, agency_hint=None,
                     url=f"http://outlet.example/{n}", guid=str(n), title=None, summary=None, published_at=None,
                     authors=[], categories=[], polled_at="2026-01-01T00:00:00+00:00")


def _outcome(numbers, status: int = 200) -> PollOutcome:
    state = FeedState(feed_url=SPEC.url, etag='"v"', last_modified=None, last_polled_at="2026-01-01T00:00:00+00:00",
                      last_status=status, consecutive_failures=0, entries_seen=len(numbers))
    return PollOutcome(tuple(_entry(n) for n in numbers), state, (), {})


def test_the_track_keeps_the_ids_of_the_latest_listing_and_skips_them_once_more():
    settings = Settings()
    track = new_track(SPEC, None, settings, 60.0, now=0.0)
    first = poll_track(track, _outcome(range(20)), settings, 0.0)
    assert len(first.entries) == 20 and len(track.seen) == 20
    moved = poll_track(track, _outcome(range(5, 25)), settings, 60.0)  # five new items, five fell off
    assert [e.guid for e in moved.entries] == [str(n) for n in range(20, 25)]
    assert moved.counts["skip.seen_entry"] == 15
    assert list(track.seen) == [_entry(n).entry_id for n in range(5, 25)]
    unchanged = poll_track(track, _outcome((), status=304), settings, 120.0)
    assert unchanged.entries == () and len(track.seen) == 20  # a 304 lists nothing and forgets nothing
    # The state a feed carries (pickled into the SDF restriction) stays under 2 KB with 20 ids.
    assert len(pickle.dumps(track, protocol=pickle.HIGHEST_PROTOCOL)) < 2048


def test_a_track_pickled_with_the_old_ordered_dict_still_polls():
    settings = Settings()
    old = FeedTrack(SPEC, None, 60.0, 60.0, 0.0, 1, collections.OrderedDict({_entry(1).entry_id: 5.0}))
    copied = copy_track(old)
    assert isinstance(copied.seen, SeenIds) and list(copied.seen) == [_entry(1).entry_id]
    out = poll_track(old, _outcome((1, 2)), settings, 60.0)
    assert [e.guid for e in out.entries] == ["2"] and isinstance(old.seen, SeenIds)
    again = pickle.loads(pickle.dumps(old))
    assert list(again.seen) == [_entry(1).entry_id, _entry(2).entry_id] and _entry(2).entry_id in again.seen
