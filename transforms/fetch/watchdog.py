"""The total deadline of one fetch, enforced even in the middle of a blocked socket read.

Socket timeouts bound each recv, not a whole fetch: a server that trickles one byte per read
timeout would hold a worker forever. A :class:`Watchdog` is a timer per fetch that shuts the
socket of the connection in use when the deadline passes. Connections report themselves with
:func:`attach_to_watchdog` (the thread's current watchdog, if any), so the guarded connection
classes in :mod:`transforms.fetch.ssrf` need no reference to the fetch they serve.
"""
from __future__ import annotations

import socket
import threading
import time

_local = threading.local()


def attach_to_watchdog(conn) -> None:
    """Report conn (a urllib3 connection) to this thread's running watchdog, if there is one."""
    watchdog = getattr(_local, "watchdog", None)
    if watchdog is not None:
        watchdog.attach(conn)


class Watchdog:
    """Shuts the socket of a fetch that outlives its total deadline, even in the middle of a read."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.fired = False
        self._conn = None
        self._lock = threading.Lock()
        self._previous = None
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> "Watchdog":
        self._previous = getattr(_local, "watchdog", None)
        _local.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()
        self.detach()
        _local.watchdog = self._previous

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.fired or self.remaining() <= 0

    def attach(self, conn) -> None:
        with self._lock:
            self._conn = conn
            if self.fired:
                _shutdown_socket(conn)

    def detach(self) -> None:
        # Before the connection goes back to the pool, so a late timer cannot hit another fetch.
        with self._lock:
            self._conn = None

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._conn is not None:
                _shutdown_socket(self._conn)


def _shutdown_socket(conn) -> None:
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    try:
        # socket.socket's own shutdown, so an SSLSocket is cut at the TCP level without TLS bookkeeping.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the peer; the blocked read fails either way
