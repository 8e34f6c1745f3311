"""A stand-in resolver for the pipeline's process: chosen names get chosen answers, others resolve for real."""
from __future__ import annotations

import socket


class FakeDNS:
    """Replaces socket.getaddrinfo while active; the FnApiRunner runs DoFns in this process."""

    def __init__(self):
        self.answers: dict = {}  # name -> list of addresses, or a callable returning one
        self.calls: list = []
        self._real = socket.getaddrinfo

    def __setitem__(self, name: str, answer) -> None:
        self.answers[name] = answer

    def getaddrinfo(self, host, port, *args, **kwargs):
        self.calls.append(host)
        answer = self.answers.get(host)
        if answer is None:
            return self._real(host, port, *args, **kwargs)
        addresses = answer() if callable(answer) else answer
        family = lambda a: socket.AF_INET6 if ":" in a else socket.AF_INET  # noqa: E731
        return [(family(a), socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    def __enter__(self) -> "FakeDNS":
        socket.getaddrinfo = self.getaddrinfo
        return self

    def __exit__(self, *exc) -> None:
        socket.getaddrinfo = self._real
