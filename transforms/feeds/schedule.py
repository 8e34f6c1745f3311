"""When polling loops run and when they end: the process-wide stop flag and run start times.

Pure Python, no Beam. `request_stop()` (Ctrl-C, --duration) ends every polling loop in this
process after its current poll; `run_started(run_id)` is the start of a run's --duration.
The application resets both between runs (`reset_stop()`, `forget_runs()`).
See ARCHITECTURE.md "Streaming".
"""
from __future__ import annotations

import threading
import time

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
