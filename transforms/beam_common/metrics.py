"""Beam counters named wiredesk.<stage>/<name>, mirrored to whoever listens in this process.

The application's live progress display (pipeline/progress.py) registers itself with
add_listener(); this package knows nothing of it, so the dependency points one way.
"""
from __future__ import annotations

import apache_beam as beam

NAMESPACE = "wiredesk"
_LISTENERS: list = []


def add_listener(listener) -> None:
    """Call listener(key, n) with 'stage.name' and the increment on every counter inc() in this process."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


class _Counter:
    """A Beam counter that also feeds the listeners of this process."""

    def __init__(self, stage: str, name: str):
        self._beam = beam.metrics.Metrics.counter(f"{NAMESPACE}.{stage}", name)
        self._key = f"{stage}.{name}"

    def inc(self, n: int = 1) -> None:
        self._beam.inc(n)
        for listener in _LISTENERS:
            listener(self._key, n)

    def dec(self, n: int = 1) -> None:
        self.inc(-n)


_COUNTERS: dict = {}


def counter(stage: str, name: str) -> _Counter:
    # Beam's counter delegates to the metrics container current at inc() time, so one object per name
    # can be shared; caching it keeps the listeners cheaper than building a new counter per call.
    found = _COUNTERS.get((stage, name))
    if found is None:
        found = _COUNTERS.setdefault((stage, name), _Counter(stage, name))
    return found


def skipped(stage: str, reason: str) -> None:
    """Count a deliberate skip (robots.txt, already stored, repeated link)."""
    counter(stage, "skipped").inc()
    counter(stage, f"skip.{reason}").inc()


def count_all(stage: str, counts: dict) -> None:
    """Add {name: n} to the stage's counters (pure code returns its counts; Beam code adds them)."""
    for name, n in counts.items():
        counter(stage, name).inc(n)
