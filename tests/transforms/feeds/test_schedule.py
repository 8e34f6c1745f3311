"""PollSchedule: the one rule of the three polling loops (end, due feeds, wake time)."""
from __future__ import annotations

import dataclasses

from transforms.feeds import schedule
from transforms.feeds.schedule import PollSchedule


@dataclasses.dataclass
class Track:
    next_due: float
    polls: int = 0


def test_due_feeds_are_those_with_polls_left_whose_time_has_come():
    tracks = {"a": Track(10.0), "b": Track(30.0), "c": Track(5.0, polls=2)}
    plan = PollSchedule(started=0.0, max_polls=2, max_sleep_s=5.0)
    assert plan.pending(tracks) == ["a", "b"]
    assert plan.due(tracks, 10.0) == ["a"]
    assert not plan.finished(tracks, 10.0)
    assert plan.finished({"c": tracks["c"]}, 10.0)  # every feed has had its polls


def test_wake_is_the_next_due_feed_at_most_max_sleep_away_and_never_past_the_deadline():
    tracks = {"a": Track(100.0), "b": Track(30.0), "done": Track(12.0, polls=1)}
    assert PollSchedule(started=0.0, max_polls=1, max_sleep_s=5.0).wake(10.0, tracks) == 15.0
    assert PollSchedule(started=0.0, max_polls=1, max_sleep_s=60.0).wake(10.0, tracks) == 30.0  # not "done"
    assert PollSchedule(started=0.0, duration_s=20.0, max_sleep_s=60.0).wake(10.0, tracks) == 12.0
    assert PollSchedule(started=0.0, duration_s=11.0, max_sleep_s=60.0).wake(10.0, tracks) == 11.0
    assert PollSchedule(started=0.0, max_sleep_s=5.0).wake(10.0, {}) == 15.0


def test_duration_and_a_stop_request_end_every_loop():
    plan = PollSchedule(started=100.0, duration_s=10.0)
    assert not plan.stopping(109.9) and plan.stopping(110.0)
    schedule.request_stop()
    try:
        assert PollSchedule(started=0.0).stopping(0.0)
    finally:
        schedule.reset_stop()
    assert not PollSchedule(started=0.0).stopping(0.0)


def test_a_run_starts_once_per_process_until_forgotten():
    first = schedule.run_started("schedule-test")
    assert schedule.run_started("schedule-test") == first
    schedule.forget_runs()
    assert schedule.run_started("schedule-test") >= first
    schedule.forget_runs()
