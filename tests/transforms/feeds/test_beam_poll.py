"""The polling SDF's restriction: it carries each feed's poll state, and splits only to checkpoint."""
from __future__ import annotations

import datetime as dt
import time

from schemas.settings import Settings
from schemas.types import FeedSpec, FeedState
from transforms.feeds.beam_poll import PollFeedFn, PollRange
from transforms.feeds.schedule import PollPlan
from transforms.feeds.tracks import new_track

SPEC = FeedSpec(url="http://alpha.example/feed.xml")


def _state(**changes) -> FeedState:
    fields = {"feed_url": SPEC.url, "etag": '"v1"', "last_modified": None, "last_polled_at": None,
              "last_status": 200, "consecutive_failures": 0, "entries_seen": 2}
    return FeedState(**{**fields, **changes})


def _fn(states=(), max_polls=None) -> PollFeedFn:
    return PollFeedFn(Settings(), PollPlan(run_id="t", specs=(SPEC,), states=tuple(states),
                                           poll_interval_s=60.0, max_polls=max_polls))


def test_the_initial_restriction_resumes_from_the_stored_feed_state():
    polled = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=20)).isoformat()
    fn = _fn([_state(last_polled_at=polled)], max_polls=3)
    restriction = fn.initial_restriction((SPEC, 3))
    assert (restriction.start, restriction.stop) == (0, 3)
    assert restriction.track.state.etag == '"v1"'
    # Polled 20 s ago on a 60 s interval: not due for about 40 s more.
    assert 30 < restriction.track.next_due - time.time() <= 40.5


def test_a_failing_feed_resumes_backed_off():
    track = new_track(SPEC, _state(consecutive_failures=3), Settings(), 60.0, now=1000.0)
    assert track.interval_s == 60.0 * Settings().stream.failure_backoff_base ** 3


def test_a_checkpoint_hands_the_runner_the_updated_track_and_keeps_it_apart():
    fn = _fn()
    tracker = fn.create_tracker(fn.initial_restriction((SPEC, None)))
    assert tracker.try_claim(0)
    track = tracker.current_restriction().track
    track.state = _state(etag='"v2"')
    track.seen["entry-1"] = 1.0
    primary, residual = tracker.try_split(0)
    assert (primary.start, primary.stop, residual.start) == (0, 1, 1)
    assert isinstance(residual, PollRange) and residual.track.state.etag == '"v2"'
    assert list(residual.track.seen) == ["entry-1"]
    track.seen["entry-2"] = 2.0  # the finished primary changing later does not reach the residual
    assert list(residual.track.seen) == ["entry-1"]


def test_the_runner_cannot_split_a_poll_loop_in_two():
    fn = _fn()
    tracker = fn.create_tracker(fn.initial_restriction((SPEC, None)))
    assert tracker.try_claim(0)
    assert tracker.try_split(0.5) is None


def test_the_restriction_survives_the_runners_coder():
    fn = _fn()
    restriction = fn.initial_restriction((SPEC, 5))
    restriction.track.state = _state(etag='"v3"')
    restriction.track.seen["entry-9"] = 9.0
    coder = fn.restriction_coder()
    back = coder.decode(coder.encode(restriction))
    assert (back.start, back.stop) == (0, 5)
    assert back.track.state.etag == '"v3"' and list(back.track.seen) == ["entry-9"]


def test_a_restriction_pickled_under_the_old_module_paths_still_loads():
    # Running Dataflow streams hold restrictions pickled before the layout change (see transforms/poll_feeds.py).
    import pickle

    restriction = _fn().initial_restriction((SPEC, 5))
    old = (pickle.dumps(restriction, protocol=0)
           .replace(b"transforms.feeds.beam_poll\nPollRange", b"transforms.poll_feeds\nPollRange")
           .replace(b"transforms.feeds.tracks\nFeedTrack", b"transforms.poll_feeds\nFeedTrack")
           .replace(b"schemas.types\nFeedSpec", b"pipeline.feeds_config\nFeedSpec"))
    assert all(name in old for name in (b"poll_feeds\nPollRange", b"poll_feeds\nFeedTrack", b"feeds_config\nFeedSpec"))
    back = pickle.loads(old)
    assert isinstance(back, PollRange) and (back.start, back.stop) == (0, 5) and back.track.spec == SPEC
