"""When the polling loops poll and when they end (pure Python, no Beam).

`PollSchedule` is the one rule of the three loops (the Dataflow SDF, the local live stream,
`wiredesk poll --publish`): stopped, past --duration, --max-polls reached, which feeds are due,
when to wake. `request_stop()` (Ctrl-C) ends every loop in this process after its current poll;
`run_started(run_id)` is the start of a run's --duration; the application resets both between
runs (`reset_stop()`, `forget_runs()`). See ARCHITECTURE.md "Streaming".
"""
from __future__ import annotations

import dataclasses
import threading
import time
import typing

_stop = threading.Event()
_STARTED: dict = {}
_STARTED_LOCK = threading.Lock()


def request_stop() -> None:
    """Ask every polling loop in this process to end after its current poll (Ctrl-C, --duration)."""
    _stop.set()


def reset_stop() -> None:
    _stop.clear()


def stop_requested() -> bool:
    return _stop.is_set()


def stop_event() -> threading.Event:
    """The event request_stop() sets, for loops that wait on it instead of sleeping."""
    return _stop


def run_started(run_id: str) -> float:
    """When this process first saw the run: the start of --duration."""
    with _STARTED_LOCK:
        return _STARTED.setdefault(run_id, time.time())


def forget_runs() -> None:
    """Forget the start times of finished runs (the application calls this after a stream)."""
    with _STARTED_LOCK:
        _STARTED.clear()


@dataclasses.dataclass(frozen=True)
class PollPlan:
    """What a streaming run polls and for how long; built once, before the graph, by prepare."""

    run_id: str
    specs: tuple
    states: tuple = ()  # FeedState rows: only for the local live service, which runs in the launcher
    poll_interval_s: typing.Optional[float] = None  # --poll-interval (else the feeds file, else default)
    duration_s: typing.Optional[float] = None
    max_polls: typing.Optional[int] = None


@dataclasses.dataclass(frozen=True)
class PollSchedule:
    """The one rule of every polling loop: when it ends, which feeds are due, when to wake.

    `tracks` arguments map feed url -> FeedTrack (anything with `polls` and `next_due`).
    """

    started: float
    duration_s: typing.Optional[float] = None
    max_polls: typing.Optional[int] = None
    max_sleep_s: float = 5.0

    @classmethod
    def of(cls, plan: PollPlan, max_sleep_s: float, started: float) -> "PollSchedule":
        return cls(started, plan.duration_s, plan.max_polls, max_sleep_s)

    @property
    def deadline(self) -> typing.Optional[float]:
        return None if self.duration_s is None else self.started + self.duration_s

    def stopping(self, now: float) -> bool:
        """Start no new poll: request_stop() was called, or --duration is over."""
        deadline = self.deadline
        return stop_requested() or (deadline is not None and now >= deadline)

    def pending(self, tracks: dict) -> list:
        """The feeds with polls left (--max-polls)."""
        if self.max_polls is None:
            return list(tracks)
        return [url for url, t in tracks.items() if t.polls < self.max_polls]

    def finished(self, tracks: dict, now: float) -> bool:
        """Stopping, or every feed has had its --max-polls polls."""
        return self.stopping(now) or not self.pending(tracks)

    def due(self, tracks: dict, now: float) -> list:
        """The feeds with polls left whose next poll is due by now."""
        # One pass, no second lookup: the loops call this over every feed on every wake (132 ms
        # at 100k feeds before, benchmarks/internet_scale.py).
        limit = self.max_polls
        return [url for url, t in tracks.items() if t.next_due <= now and (limit is None or t.polls < limit)]

    def wake(self, now: float, tracks: dict) -> float:
        """When to look again: the next due feed among tracks, at the latest now + max_sleep_s, or the deadline."""
        limit = self.max_polls
        times = [now + self.max_sleep_s] + [t.next_due for t in tracks.values() if limit is None or t.polls < limit]
        if self.deadline is not None:
            times.append(self.deadline)
        return min(times)
