"""Live progress of a run: a process-local, thread-safe tally that wiredesk's counters mirror.

Why not Beam's own metrics? On the FnApiRunner `pipeline.run()` blocks until the job is done and
only then returns the result whose `metrics()` can be queried, so nothing can poll counters mid-run.
Instead every wiredesk counter's `inc()` (transforms/beam_common/metrics.py) reaches `record()` here, a
listener this module registers, while a
`reporting()` block is active (one global check and one lock otherwise, measured in
tests/pipeline/test_cli_ux.py). DoFns that run in this process (FnApiRunner, in-process or
multi-threaded) feed the display; local worker processes (multi_processing, the default on
several cores) send theirs over local UDP (`_receiving`); Dataflow workers do not. The end-of-run
summary reads Beam's metrics, and a batch run's final line is settled to them (`settle`).

The display: on a terminal one line on stderr, redrawn in place; elsewhere (CI, log files) a plain
`progress` log line every `interval` seconds and one when the run ends.
"""
from __future__ import annotations

import contextlib
import logging
import json
import os
import socket
import sys
import threading
import time

MODES = ("auto", "live", "log", "off")
DEFAULT_LIVE_INTERVAL_S = 0.25
DEFAULT_LOG_INTERVAL_S = 10.0

_lock = threading.Lock()
_counts: dict = {}
_active = False
_config = {"mode": "off", "interval": None, "stream": None}
_live_stream = None  # the stream a live line is drawn on, while one is shown

_SPINNER = "|/-\\"

log = logging.getLogger("wiredesk.progress")


def record(key: str, n: int = 1) -> None:
    """Add n to a counter ('stage.name'); a no-op unless a reporting() block is active."""
    if not _active:
        return
    with _lock:
        _counts[key] = _counts.get(key, 0) + n


def settle(counts: dict) -> None:
    """Replace the tally with a finished run's own counters (relayed increments can arrive late)."""
    with _lock:
        _counts.clear()
        _counts.update(counts)


def snapshot() -> dict:
    with _lock:
        return dict(_counts)


def reset() -> None:
    with _lock:
        _counts.clear()


def headline(counts: dict) -> dict:
    """The six numbers a person watches during a run, from 'stage.name' counters."""
    def total(pred):
        return sum(v for k, v in counts.items() if pred(k))
    return {
        "feeds_polled": counts.get("read_feeds.feeds_polled", 0),
        "entries": counts.get("read_feeds.entries", 0),
        "pages_fetched": counts.get("fetch.pages", 0),
        "articles_written": counts.get("write.articles.inserted", 0),
        # copies of a story already seen, plus links already stored or repeated
        "duplicates": counts.get("dedup.story_copies", 0) + total(
            lambda k: ".skip.already_stored" in k or ".skip.repeated_" in k),
        "dead_letters": total(lambda k: k.endswith(".dead_letters")),
        # streaming: polls answered 304, and entries not seen at an earlier poll
        "unchanged_304": counts.get("read_feeds.feeds_unchanged", 0),
        "new_entries": counts.get("read_feeds.new_entries", counts.get("read_feeds.entries", 0)),
    }


def format_live(numbers: dict, elapsed_s: float, spin: int = 0) -> str:
    return (f"{_SPINNER[spin % 4]} {elapsed_s:5.1f}s  feeds {numbers['feeds_polled']}  "
            f"(304 {numbers.get('unchanged_304', 0)})  "
            f"entries {numbers['entries']} (new {numbers.get('new_entries', numbers['entries'])})  "
            f"pages {numbers['pages_fetched']}  "
            f"articles written {numbers['articles_written']}  duplicates {numbers['duplicates']}  "
            f"dead letters {numbers['dead_letters']}")


def configure(mode: str = "auto", interval: float | None = None, stream=None) -> None:
    """Choose how reporting() shows progress; the CLI calls this, library use stays 'off'."""
    if mode not in MODES:
        raise ValueError(f"progress mode must be one of {', '.join(MODES)}")
    _config.update(mode=mode, interval=interval, stream=stream)


def resolved_mode(stream=None) -> str:
    mode = _config["mode"]
    if mode == "auto":
        stream = stream or _config["stream"] or sys.stderr
        isatty = getattr(stream, "isatty", None)
        return "live" if isatty and isatty() else "log"
    return mode


def clear_live_line() -> None:
    """Wipe the live line before something else writes to the terminal (it is redrawn next tick)."""
    stream = _live_stream
    if stream is not None:
        try:
            stream.write("\r\x1b[K")
            stream.flush()
        except (OSError, ValueError):
            pass


@contextlib.contextmanager
def reporting():
    """Count and show progress while the block runs a pipeline, with what local worker processes send."""
    with _receiving(), _reporting():
        yield


@contextlib.contextmanager
def _receiving():
    """While the block runs, count increments that local worker processes send (metrics.RELAY_ENV)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                data = sock.recv(65536)
            except OSError:  # timeout: look at stop again
                continue
            try:
                counts = json.loads(data)
            except ValueError:
                continue
            for key, n in counts.items():
                if isinstance(key, str) and isinstance(n, int):
                    record(key, n)

    previous = os.environ.get(RELAY_ENV)
    os.environ[RELAY_ENV] = f"{os.getpid()}:{sock.getsockname()[1]}"
    thread = threading.Thread(target=loop, name="wiredesk-progress-relay", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        sock.close()
        if previous is None:
            os.environ.pop(RELAY_ENV, None)
        else:
            os.environ[RELAY_ENV] = previous


@contextlib.contextmanager
def _reporting():
    """The tally and its display: a live line, periodic log lines, or nothing."""
    global _active, _live_stream
    mode = resolved_mode()
    stream = _config["stream"] or sys.stderr
    reset()
    _active = True
    if mode == "off":
        try:
            yield
        finally:
            _active = False
        return
    interval = _config["interval"] or (DEFAULT_LIVE_INTERVAL_S if mode == "live" else DEFAULT_LOG_INTERVAL_S)
    started = time.monotonic()
    stop = threading.Event()

    def show(final: bool = False, tick: int = 0):
        numbers = headline(snapshot())
        elapsed = time.monotonic() - started
        if mode == "live":
            try:
                stream.write("\r\x1b[K" + format_live(numbers, elapsed, tick) + ("\n" if final else ""))
                stream.flush()
            except (OSError, ValueError):
                pass
        else:
            fields = " ".join(f"{k}={v}" for k, v in numbers.items())
            log.info("progress %s", f"elapsed_s={elapsed:.1f} {fields}" + (" final=true" if final else ""),
                     extra={"wd_event": "progress",
                            "wd_fields": {"elapsed_s": round(elapsed, 1), **numbers,
                                          **({"final": True} if final else {})}})

    def loop():
        tick = 0
        while not stop.wait(interval):
            tick += 1
            show(tick=tick)

    if mode == "live":
        _live_stream = stream
    thread = threading.Thread(target=loop, name="wiredesk-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        _live_stream = None
        show(final=True)
        _active = False


# Counters live below the application; they reach the tally through the listener it registers.
from transforms.beam_common.metrics import RELAY_ENV, add_listener  # noqa: E402 - after record() exists

add_listener(record)
