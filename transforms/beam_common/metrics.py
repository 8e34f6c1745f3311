"""Beam counters named wiredesk.<stage>/<name>, mirrored to whoever listens in this process.

The application's live progress display (pipeline/progress.py) registers itself with
add_listener(); this package knows nothing of it, so the dependency points one way. Worker
processes that the local runner starts (multi_processing) inherit RELAY_ENV from it and send their
increments to the process that listens, over local UDP (`_Relay`).
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time

import apache_beam as beam

NAMESPACE = "wiredesk"
# "<pid>:<port>": the process that listens, and the 127.0.0.1 UDP port it reads increments on.
RELAY_ENV = "WIREDESK_COUNTER_RELAY"
_RELAY_EVERY_S = 0.25
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


class _Relay:
    """Sends this worker process's counter increments to the listening process, summed, every 0.25 s.

    A live display only: a lost datagram costs a moment of accuracy, and the run's end reads Beam's
    own metrics.
    """

    def __init__(self, port: int):
        self._address = ("127.0.0.1", port)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._lock = threading.Lock()
        self._pending: dict = {}
        threading.Thread(target=self._loop, name="wiredesk-counter-relay", daemon=True).start()

    def __call__(self, key: str, n: int) -> None:
        with self._lock:
            self._pending[key] = self._pending.get(key, 0) + n

    def _loop(self) -> None:
        while True:
            time.sleep(_RELAY_EVERY_S)
            with self._lock:
                pending, self._pending = self._pending, {}
            if pending:
                try:
                    self._socket.sendto(json.dumps(pending).encode("utf-8"), self._address)
                except OSError:
                    pass  # the listener has gone: the run is ending, and its summary reads Beam's metrics


def _relay_from_env() -> None:
    pid, _, port = os.environ.get(RELAY_ENV, "").partition(":")
    if pid.isdigit() and port.isdigit() and int(pid) != os.getpid():
        add_listener(_Relay(int(port)))


_relay_from_env()
